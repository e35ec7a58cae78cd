//! The dashboard: the states not party to a treaty as of a date, least recently engaged first,
//! sortable by column and filterable by name, code and status. A bad filter value is shown beside
//! its field and the page falls back to the default, so the dashboard always opens.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::response::Response;
use outreach_core::domain::parse_date;
use outreach_core::status::Status;
use outreach_core::views::AttentionRow;
use outreach_core::{signals, states, views};
use serde::Deserialize;
use serde_json::json;

use crate::routing::Routes;
use crate::{AppState, PageResult, User};

pub fn routes() -> Routes {
    crate::page_routes! {
        "/" => get(dashboard),
    }
}

#[derive(Debug, Default, Deserialize)]
struct DashboardQuery {
    sort: Option<String>,
    q: Option<String>,
    status: Option<String>,
    treaty: Option<String>,
    at: Option<String>,
}

/// The columns the list can be sorted by, with their header labels.
const SORTS: &[(&str, &str)] = &[
    ("name", "State"),
    ("status", "Status"),
    ("days", "Days since engaged"),
    ("next", "Next meeting"),
];

/// Percent-encodes a query-string value.
pub(crate) fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn status_filter(given: &str) -> Result<Option<Status>, String> {
    match given
        .trim()
        .to_lowercase()
        .replace(['-', ' '], "_")
        .as_str()
    {
        "" | "all" => Ok(None),
        "signatory" => Ok(Some(Status::Signatory)),
        "not_party" => Ok(Some(Status::NotParty)),
        "withdrawn" => Ok(Some(Status::Withdrawn)),
        _ => Err(format!(
            "'{given}' is not a status of a state not party; choose signatory, not party or withdrawn"
        )),
    }
}

fn sort_rows(rows: &mut [AttentionRow], sort: &str) {
    match sort {
        "name" => rows.sort_by(|a, b| a.name.cmp(&b.name)),
        "status" => rows.sort_by(|a, b| {
            a.status
                .label()
                .cmp(b.status.label())
                .then_with(|| a.name.cmp(&b.name))
        }),
        "next" => rows.sort_by(|a, b| {
            let key = |r: &AttentionRow| r.next_meeting.as_ref().map(|m| m.starts_at);
            match (key(a), key(b)) {
                (Some(x), Some(y)) => x.cmp(&y),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            }
            .then_with(|| a.name.cmp(&b.name))
        }),
        // "days": the core's order, never engaged and longest ago first.
        _ => {}
    }
}

async fn dashboard(
    State(app): State<Arc<AppState>>,
    user: User,
    Query(query): Query<DashboardQuery>,
) -> PageResult<Response> {
    let today = user.today();
    let mut errors = json!({ "at": null, "treaty": null, "status": null });

    let at_given = query.at.clone().unwrap_or_default();
    let at = match at_given.trim() {
        "" => today,
        d => match parse_date("at", d) {
            Ok(d) => d,
            Err(e) => {
                errors["at"] = json!(message_of(&e));
                today
            }
        },
    };

    let treaties = states::treaties(&app.db).await?;
    let treaty_given = query.treaty.clone().unwrap_or_default();
    let treaty = match treaty_given.trim() {
        "" => app.treaty.clone(),
        t => match states::resolve_treaty(&app.db, t).await {
            Ok(t) => t.code,
            Err(e) => {
                errors["treaty"] = json!(message_of(&e));
                app.treaty.clone()
            }
        },
    };

    let status_given = query.status.clone().unwrap_or_default();
    let status = status_filter(&status_given).unwrap_or_else(|m| {
        errors["status"] = json!(m);
        None
    });
    let sort = match query.sort.as_deref().map(str::trim) {
        Some(s @ ("name" | "status" | "next" | "days")) => s.to_owned(),
        _ => "days".to_owned(),
    };
    let text = query.q.clone().unwrap_or_default();
    let needle = text.trim().to_lowercase();

    let mut rows = views::attention(&app.db, &treaty, at).await?;
    let glance = signals::at_a_glance(&app.db, at).await?;
    let total = rows.len();
    rows.retain(|r| {
        status.is_none_or(|s| r.status == s)
            && (needle.is_empty()
                || r.name.to_lowercase().contains(&needle)
                || r.iso3.to_lowercase().contains(&needle))
    });
    sort_rows(&mut rows, &sort);

    let keep = |sort: &str| {
        let mut parts = vec![format!("sort={sort}")];
        for (k, v) in [
            ("q", text.trim()),
            ("status", status_given.trim()),
            ("treaty", treaty_given.trim()),
            ("at", at_given.trim()),
        ] {
            if !v.is_empty() {
                parts.push(format!("{k}={}", enc(v)));
            }
        }
        format!("/?{}", parts.join("&"))
    };
    let columns: Vec<_> = SORTS
        .iter()
        .map(|(key, label)| json!({ "key": key, "label": label, "href": keep(key), "active": *key == sort }))
        .collect();
    let column = |k: &str| columns.iter().find(|c| c["key"] == k).cloned();

    let data = json!({
        "today": today.to_string(),
        "at": at.to_string(),
        "at_value": if errors["at"].is_null() { at.to_string() } else { at_given.clone() },
        "treaty": treaty,
        "treaties": treaties.iter().map(|t| json!({
            "code": t.code, "name": t.short_name, "selected": t.code == treaty,
        })).collect::<Vec<_>>(),
        "q": text,
        "status_options": [
            { "value": "", "label": "any", "selected": status.is_none() },
            { "value": "signatory", "label": "signatory", "selected": status == Some(Status::Signatory) },
            { "value": "not_party", "label": "not party", "selected": status == Some(Status::NotParty) },
            { "value": "withdrawn", "label": "withdrawn", "selected": status == Some(Status::Withdrawn) },
        ],
        "sort": sort,
        "col_name": column("name"), "col_status": column("status"),
        "col_days": column("days"), "col_next": column("next"),
        "errors": errors,
        "count": rows.len(),
        "total": total,
        "filtered": rows.len() != total,
        "rows": rows.iter().map(|r| {
            let g = glance.get(&r.iso3);
            json!({
                "iso3": r.iso3, "name": r.name, "status": r.status.label(),
                "status_key": r.status.as_str(),
                "last_engagement": r.last_engagement.map(|d| d.to_string()),
                "last_kind": r.last_engagement_kind.as_ref().map(|k| k.replace('_', " ")),
                "days": r.days_since_last_engagement.map(|d| d.to_string()),
                "next_meeting": r.next_meeting.as_ref().map(|m| json!({
                    "id": m.id, "title": m.title, "local_start": m.local_start, "time_zone": m.time_zone,
                })),
                "grantees": r.grantees.join(", "),
                "open_follow_ups": r.open_follow_ups,
                "overdue_follow_ups": r.overdue_follow_ups,
                "signals": g.map_or(0, |g| g.count),
                "latest_signal": g.map(|g| json!({ "kind": g.latest_kind.replace('_', " "), "date": g.latest_date.to_string() })),
            })
        }).collect::<Vec<_>>(),
    });
    Ok(app.render(&user, "dashboard", data))
}

/// The message of a core error without the field name the page already shows beside it.
pub(crate) fn message_of(e: &outreach_core::Error) -> String {
    match e {
        outreach_core::Error::Invalid { message, .. } => message.clone(),
        other => other.to_string(),
    }
}
