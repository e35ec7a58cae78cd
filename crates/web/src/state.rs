//! A state's page: its status history with sources, signals, contacts and organisations,
//! grantees, the engagement timeline, meetings, open follow-ups and letters. A name or a
//! lower-case code redirects to the canonical `/states/{ISO3}`; an unknown one is a 404 that
//! suggests the nearest states.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use outreach_core::domain::parse_date;
use outreach_core::{meetings, states, views};
use serde::Deserialize;
use serde_json::json;

use crate::dashboard::{enc, message_of};
use crate::{AppState, PageResult, User, WebError};

/// How many engagements the state page shows, newest first.
const TIMELINE: u64 = 200;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/states/{key}", get(state_page))
}

#[derive(Debug, Default, Deserialize)]
struct StateQuery {
    at: Option<String>,
    treaty: Option<String>,
    logged: Option<String>,
}

fn words(s: &str) -> String {
    s.replace('_', " ")
}

async fn state_page(
    State(app): State<Arc<AppState>>,
    user: User,
    Path(key): Path<String>,
    Query(query): Query<StateQuery>,
    RawQuery(raw): RawQuery,
) -> PageResult<Response> {
    let st = match states::resolve(&app.db, &key).await {
        Ok(st) => st,
        Err(e @ outreach_core::Error::UnknownState { .. }) => {
            return Err(WebError::NotFound(e.to_string()));
        }
        Err(e) => return Err(e.into()),
    };
    if st.iso3 != key {
        let to = match raw.filter(|r| !r.is_empty()) {
            Some(r) => format!("/states/{}?{r}", enc(&st.iso3)),
            None => format!("/states/{}", enc(&st.iso3)),
        };
        return Ok(Redirect::to(&to).into_response());
    }
    let today = user.today();
    let mut errors = json!({ "at": null, "treaty": null });
    let at_given = query.at.clone().unwrap_or_default();
    let at = match at_given.trim() {
        "" => today,
        d => parse_date("at", d).unwrap_or_else(|e| {
            errors["at"] = json!(message_of(&e));
            today
        }),
    };
    let treaty = match query.treaty.as_deref().map(str::trim).unwrap_or_default() {
        "" => app.treaty.clone(),
        t => match states::resolve_treaty(&app.db, t).await {
            Ok(t) => t.code,
            Err(e) => {
                errors["treaty"] = json!(message_of(&e));
                app.treaty.clone()
            }
        },
    };
    let p = views::profile_with(&app.db, st, &treaty, at, user.zone, today, Some(TIMELINE)).await?;
    let all_meetings = meetings::list(&app.db, user.zone, false, Some(&p.iso3)).await?;
    let letters: Vec<_> = outreach_letters::drafts::list(&app.db, None)
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?
        .into_iter()
        .filter(|l| l.iso3 == p.iso3)
        .collect();

    let data = json!({
        "iso3": p.iso3, "iso2": p.iso2, "name": p.name, "official_name": p.official_name,
        "capital": p.capital, "capital_tz": p.capital_tz,
        "region": p.un_region, "subregion": p.un_subregion,
        "treaty": p.treaty, "at": p.at.to_string(),
        "at_value": if errors["at"].is_null() { at.to_string() } else { at_given },
        "errors": errors,
        "logged": query.logged.as_deref() == Some("1"),
        "status": p.status.label(), "status_key": p.status.as_str(),
        "in_force": p.in_force,
        "party_since": p.party_since.map(|d| d.to_string()),
        "last_engagement": p.last_engagement.map(|d| d.to_string()),
        "days": p.days_since_last_engagement.map(|d| d.to_string()),
        "treaties": p.treaties.iter().map(|t| json!({
            "treaty": t.treaty, "status": t.status.label(), "in_force": t.in_force,
            "party_since": t.party_since.map(|d| d.to_string()), "selected": t.treaty == p.treaty,
        })).collect::<Vec<_>>(),
        "status_history": p.status_history.iter().map(|e| json!({
            "event": words(&e.event), "date": e.date.to_string(), "source": e.source,
            "source_is_link": e.source.starts_with("https://") || e.source.starts_with("http://"),
            "confidence": e.confidence, "note": e.note,
        })).collect::<Vec<_>>(),
        "signals": p.signals.iter().map(|s| json!({
            "kind": words(&s.kind), "date": s.date.to_string(), "detail": s.detail,
            "value": s.value, "source": s.source,
        })).collect::<Vec<_>>(),
        "organisations": p.organisations.iter().map(|o| json!({
            "name": o.name, "kind": words(&o.kind), "icbl_member": o.icbl_member, "email": o.email,
        })).collect::<Vec<_>>(),
        "contacts": p.contacts.iter().map(|c| json!({
            "name": c.name, "title": c.title, "role": c.role, "organisation": c.organisation,
            "email": c.email, "languages": c.languages,
        })).collect::<Vec<_>>(),
        "grants": p.grants.iter().map(|g| json!({
            "organisation": g.organisation, "programme": g.programme, "year": g.year,
            "amount": g.amount, "currency": g.currency, "purpose": g.purpose,
            "reports_due": g.reports_due.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "),
        })).collect::<Vec<_>>(),
        "engagement_count": p.engagement_count,
        "shown": p.engagements.len(),
        "timeline_cut": p.engagement_count > p.engagements.len() as u64,
        "engagements": p.engagements.iter().map(|e| json!({
            "id": e.id, "date": e.date.to_string(), "kind": words(&e.kind),
            "participants": e.participants.join(", "), "summary": e.summary,
            "outcome": e.outcome, "stance": e.stance, "logged_by": e.logged_by,
        })).collect::<Vec<_>>(),
        "meetings": all_meetings.iter().rev().map(|m| json!({
            "id": m.id, "title": m.title, "status": m.status, "local_start": m.local_start,
            "time_zone": m.time_zone, "reader_start": m.reader_start,
            "reader_time_zone": m.reader_time_zone,
            "same_zone": m.time_zone == m.reader_time_zone,
            "place": m.place, "owner": m.owner,
        })).collect::<Vec<_>>(),
        "follow_ups": p.open_follow_ups.iter().map(|f| json!({
            "description": f.description, "owner": f.owner, "due_on": f.due_on.to_string(),
            "overdue": f.overdue,
        })).collect::<Vec<_>>(),
        "letters": letters.iter().map(|l| json!({
            "id": l.id, "short_id": l.short_id, "subject": l.subject, "recipient": l.recipient,
            "status": words(&l.status), "language": l.language, "template": l.template,
            "updated": l.updated_at.format("%Y-%m-%d").to_string(),
        })).collect::<Vec<_>>(),
    });
    Ok(app.render(&user, "state", data))
}
