//! CSV exports of the listings (`/export/*.csv`), for the spreadsheets staff keep: the states
//! and the attention list (with the dashboard's filters), a state's engagements, the contacts and
//! organisations, signals, letters, the outbox and the audit log. Each is read through the same
//! library call as its page, as the signed-in user may read it (a restricted note stays
//! withheld; the audit log is for admins).
//!
//! A cell that a spreadsheet would take for a formula (it starts with `=`, `+`, `-`, `@`, a tab
//! or a carriage return) is written with a leading apostrophe, so an exported value never runs
//! as a formula when the file is opened.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use outreach_core::domain::parse_date;
use outreach_core::signals::{self, SignalFilter};
use outreach_core::stance::{self, StanceFilter, StatesSort};
use outreach_core::status::StatusFilter;
use outreach_core::{directory, engagements, states, views};
use serde::Deserialize;

use crate::routing::Routes;
use crate::{AppState, PageResult, User, WebError};

/// How many outbox messages and audit records an export holds at most, newest first.
const LOG_LIMIT: u64 = 50_000;

pub fn routes() -> Routes {
    crate::page_routes! {
        "/export/states.csv" => get(states_csv),
        "/export/attention.csv" => get(attention_csv),
        "/export/engagements.csv" => get(engagements_csv),
        "/export/contacts.csv" => get(contacts_csv),
        "/export/organisations.csv" => get(organisations_csv),
        "/export/signals.csv" => get(signals_csv),
        "/export/letters.csv" => get(letters_csv),
        "/export/outbox.csv" => get(outbox_csv),
        "/export/audit.csv" => get(audit_csv),
    }
}

/// `value` as a spreadsheet will show it, never as a formula.
pub fn safe_cell(value: &str) -> String {
    match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{value}"),
        _ => value.to_owned(),
    }
}

/// A CSV file named `name` with `header` and `rows`, every cell made safe.
fn csv_file(name: &str, header: &[&str], rows: Vec<Vec<String>>) -> PageResult<Response> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let fail = |e: csv::Error| WebError::Internal(format!("writing {name}: {e}"));
    w.write_record(header).map_err(fail)?;
    for row in rows {
        w.write_record(row.iter().map(|c| safe_cell(c)))
            .map_err(fail)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| WebError::Internal(format!("writing {name}: {e}")))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

#[derive(Debug, Default, Deserialize)]
struct ListingQuery {
    treaty: Option<String>,
    status: Option<String>,
    at: Option<String>,
    stance: Option<String>,
    state: Option<String>,
    kind: Option<String>,
    /// The dashboard's name-or-code filter.
    q: Option<String>,
}

impl ListingQuery {
    fn at(&self, user: &User) -> Result<chrono::NaiveDate, WebError> {
        match self.at.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => Ok(user.today()),
            Some(d) => Ok(parse_date("at", d)?),
        }
    }

    async fn treaty(&self, app: &AppState) -> Result<String, WebError> {
        match self
            .treaty
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => Ok(app.treaty.clone()),
            Some(t) => Ok(states::resolve_treaty(&app.db, t).await?.code),
        }
    }

    /// The state of `?state=`, if one is given.
    async fn iso3(&self, app: &AppState) -> Result<Option<String>, WebError> {
        match self
            .state
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => Ok(None),
            Some(s) => Ok(Some(states::resolve(&app.db, s).await?.iso3)),
        }
    }

    fn stance(&self) -> Result<Option<StanceFilter>, WebError> {
        Ok(StanceFilter::parse(
            "stance",
            self.stance.as_deref().unwrap_or(""),
        )?)
    }
}

/// Every state with its status under a treaty on a date (the filters of `outreach states`).
async fn states_csv(
    State(app): State<Arc<AppState>>,
    user: User,
    Query(q): Query<ListingQuery>,
) -> PageResult<Response> {
    let filter = StatusFilter::parse(q.status.as_deref().unwrap_or("all"))
        .map_err(|e| outreach_core::Error::invalid("status", e.to_string()))?;
    let at = q.at(&user)?;
    let treaty = q.treaty(&app).await?;
    let rows = stance::listing(
        &app.db,
        &user.reader,
        &treaty,
        filter,
        at,
        &[],
        q.stance()?.as_ref(),
        StatesSort::Name,
    )
    .await?;
    csv_file(
        "states.csv",
        &[
            "iso3",
            "state",
            "treaty",
            "on",
            "status",
            "status_since",
            "party_since",
            "also_party_to",
            "stance",
            "capital",
        ],
        rows.into_iter()
            .map(|r| {
                vec![
                    r.iso3,
                    r.name,
                    r.treaty,
                    r.at.to_string(),
                    r.status.label().to_owned(),
                    opt(r.status_since),
                    opt(r.party_since),
                    r.also_party_to.join(" "),
                    r.stance.unwrap_or_default(),
                    r.capital,
                ]
            })
            .collect(),
    )
}

/// The dashboard's list: states not party, least recently engaged first.
async fn attention_csv(
    State(app): State<Arc<AppState>>,
    user: User,
    Query(q): Query<ListingQuery>,
) -> PageResult<Response> {
    let at = q.at(&user)?;
    let treaty = q.treaty(&app).await?;
    let stance = q.stance()?;
    let status = q
        .status
        .as_deref()
        .map(|s| s.trim().replace(['-', ' '], "_"))
        .filter(|s| !s.is_empty() && s != "all");
    let needle = q.q.as_deref().unwrap_or("").trim().to_lowercase();
    let mut rows = views::attention(&app.db, &treaty, at, &user.reader).await?;
    rows.retain(|r| {
        stance
            .as_ref()
            .is_none_or(|f| f.matches(r.stance.as_deref()))
            && status.as_deref().is_none_or(|s| r.status.as_str() == s)
            && (needle.is_empty()
                || r.name.to_lowercase().contains(&needle)
                || r.iso3.to_lowercase().contains(&needle))
    });
    csv_file(
        "attention.csv",
        &[
            "iso3",
            "state",
            "status",
            "last_engagement",
            "last_engagement_kind",
            "days_since_last_engagement",
            "next_meeting",
            "next_meeting_zone",
            "stance",
            "grantees",
            "open_follow_ups",
            "overdue_follow_ups",
        ],
        rows.into_iter()
            .map(|r| {
                vec![
                    r.iso3,
                    r.name,
                    r.status.label().to_owned(),
                    opt(r.last_engagement),
                    r.last_engagement_kind.unwrap_or_default(),
                    opt(r.days_since_last_engagement),
                    r.next_meeting
                        .as_ref()
                        .map(|m| m.local_start.clone())
                        .unwrap_or_default(),
                    r.next_meeting
                        .as_ref()
                        .map(|m| m.time_zone.clone())
                        .unwrap_or_default(),
                    r.stance.unwrap_or_default(),
                    r.grantees.join("; "),
                    r.open_follow_ups.to_string(),
                    r.overdue_follow_ups.to_string(),
                ]
            })
            .collect(),
    )
}

/// One state's engagements, newest first, as the user may read them.
async fn engagements_csv(
    State(app): State<Arc<AppState>>,
    user: User,
    Query(q): Query<ListingQuery>,
) -> PageResult<Response> {
    let given = q.state.as_deref().map(str::trim).unwrap_or_default();
    if given.is_empty() {
        return Err(outreach_core::Error::invalid(
            "state",
            "choose the state whose engagements to export, e.g. ?state=NPL",
        )
        .into());
    }
    let st = states::resolve(&app.db, given).await?;
    let rows = engagements::for_state(&app.db, &st.iso3, &user.reader).await?;
    csv_file(
        &format!("engagements-{}.csv", st.iso3),
        &[
            "date",
            "iso3",
            "kind",
            "summary",
            "outcome",
            "stance",
            "participants",
            "logged_by",
            "sensitivity",
        ],
        rows.into_iter()
            .map(|e| {
                vec![
                    e.date.to_string(),
                    e.iso3,
                    e.kind,
                    e.summary,
                    e.outcome.unwrap_or_default(),
                    e.stance.unwrap_or_default(),
                    e.participants.join("; "),
                    e.logged_by,
                    e.sensitivity,
                ]
            })
            .collect(),
    )
}

/// The directory's contacts (of one state with `?state=`).
async fn contacts_csv(
    State(app): State<Arc<AppState>>,
    _user: User,
    Query(q): Query<ListingQuery>,
) -> PageResult<Response> {
    let iso3 = q.iso3(&app).await?;
    let contacts = directory::contacts(&app.db, iso3.as_deref()).await?;
    let orgs =
        directory::organisation_names(&app.db, contacts.iter().filter_map(|c| c.organisation_id))
            .await?;
    csv_file(
        "contacts.csv",
        &[
            "name",
            "title",
            "role",
            "organisation",
            "state",
            "email",
            "languages",
            "time_zone",
            "phone",
        ],
        contacts
            .into_iter()
            .map(|c| {
                vec![
                    c.name,
                    c.title.unwrap_or_default(),
                    c.role.unwrap_or_default(),
                    c.organisation_id
                        .and_then(|o| orgs.get(&o).cloned())
                        .unwrap_or_default(),
                    c.iso3.unwrap_or_default(),
                    c.email.unwrap_or_default(),
                    c.languages,
                    c.time_zone.unwrap_or_default(),
                    c.phone.unwrap_or_default(),
                ]
            })
            .collect(),
    )
}

/// The directory's organisations (of one state with `?state=`), in the import's columns.
async fn organisations_csv(
    State(app): State<Arc<AppState>>,
    _user: User,
    Query(q): Query<ListingQuery>,
) -> PageResult<Response> {
    let iso3 = q.iso3(&app).await?;
    let orgs = directory::organisations(&app.db, iso3.as_deref()).await?;
    csv_file(
        "organisations.csv",
        &[
            "name",
            "kind",
            "state",
            "email",
            "website",
            "icbl_member",
            "notes",
        ],
        orgs.into_iter()
            .map(|o| {
                vec![
                    o.name,
                    o.kind,
                    o.iso3.unwrap_or_default(),
                    o.email.unwrap_or_default(),
                    o.website.unwrap_or_default(),
                    if o.icbl_member { "yes" } else { "no" }.to_owned(),
                    o.notes.unwrap_or_default(),
                ]
            })
            .collect(),
    )
}

/// Signals, newest first (the signals page's filters).
async fn signals_csv(
    State(app): State<Arc<AppState>>,
    _user: User,
    Query(q): Query<ListingQuery>,
) -> PageResult<Response> {
    let rows = signals::list(
        &app.db,
        &SignalFilter {
            state: q.state.clone(),
            kind: q.kind.clone(),
        },
    )
    .await?;
    csv_file(
        "signals.csv",
        &[
            "date",
            "iso3",
            "kind",
            "detail",
            "value",
            "source",
            "confidence",
            "note",
        ],
        rows.into_iter()
            .map(|s| {
                vec![
                    s.date.to_string(),
                    s.iso3,
                    s.kind,
                    s.detail,
                    s.value.unwrap_or_default(),
                    s.source.unwrap_or_default(),
                    s.confidence.unwrap_or_else(|| "recorded here".to_owned()),
                    s.note.unwrap_or_default(),
                ]
            })
            .collect(),
    )
}

/// Letters, newest first, without their text.
async fn letters_csv(State(app): State<Arc<AppState>>, user: User) -> PageResult<Response> {
    let rows = outreach_letters::drafts::list(&app.db, None)
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?;
    let at =
        |t: chrono::DateTime<chrono::Utc>| user.zone.local(t).format("%Y-%m-%d %H:%M").to_string();
    csv_file(
        "letters.csv",
        &[
            "id",
            "template",
            "language",
            "iso3",
            "state",
            "recipient",
            "subject",
            "status",
            "version",
            "approved_by",
            "updated",
        ],
        rows.into_iter()
            .map(|l| {
                vec![
                    l.short_id,
                    l.template,
                    l.language,
                    l.iso3,
                    l.state,
                    l.recipient,
                    l.subject,
                    l.status,
                    l.version.to_string(),
                    l.approved_by.unwrap_or_default(),
                    at(l.updated_at),
                ]
            })
            .collect(),
    )
}

/// The outbox, newest first.
async fn outbox_csv(State(app): State<Arc<AppState>>, user: User) -> PageResult<Response> {
    let rows = outreach_mailer::ledger::list(&app.db, None, LOG_LIMIT)
        .await
        .map_err(crate::mail::mailer_error)?;
    let at =
        |t: chrono::DateTime<chrono::Utc>| user.zone.local(t).format("%Y-%m-%d %H:%M").to_string();
    csv_file(
        "outbox.csv",
        &[
            "created",
            "status",
            "recipient",
            "template",
            "language",
            "attempts",
            "sent",
            "reason",
        ],
        rows.into_iter()
            .map(|m| {
                vec![
                    at(m.created_at),
                    m.status,
                    m.recipient,
                    m.template,
                    m.language,
                    m.attempts.to_string(),
                    m.sent_at.map(at).unwrap_or_default(),
                    m.reason.unwrap_or_default(),
                ]
            })
            .collect(),
    )
}

/// The audit log, newest first (admins).
async fn audit_csv(State(app): State<Arc<AppState>>, user: User) -> PageResult<Response> {
    let rows = outreach_core::audit::recent_for(&app.db, &user.actor, LOG_LIMIT).await?;
    let at = |t: chrono::DateTime<chrono::Utc>| {
        user.zone.local(t).format("%Y-%m-%d %H:%M:%S").to_string()
    };
    csv_file(
        "audit.csv",
        &["at", "who", "action", "record", "record_id", "detail"],
        rows.into_iter()
            .map(|r| vec![at(r.at), r.actor, r.action, r.entity, r.entity_id, r.detail])
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::safe_cell;

    #[test]
    fn a_cell_a_spreadsheet_would_run_is_written_as_text() {
        for (given, written) in [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("+1", "'+1"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("Nepal", "Nepal"),
            ("", ""),
            ("a=b", "a=b"),
        ] {
            assert_eq!(safe_cell(given), written, "{given}");
        }
    }
}
