//! Mail: the outbox as staff see it (queued, sent and failed messages with the reason and the
//! attempts; coordinators requeue a failed one), and the email templates previewed with sample
//! data in every language. Everything goes through `outreach_mailer` (`ledger`, `Renderer`), as
//! the CLI does.

use std::sync::Arc;

use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use outreach_core::ids::short;
use outreach_mailer::calendar::Organizer;
use outreach_mailer::ledger;
use outreach_mailer::locale::LANGUAGES;
use outreach_mailer::render::{Renderer, known_templates};
use serde::Deserialize;
use serde_json::json;

use crate::routing::Routes;
use crate::{AppState, CsrfForm, PageResult, Role, User, WebError};

pub fn routes() -> Routes {
    crate::page_routes! {
        "/outbox" => get(outbox),
        "/outbox/{id}/requeue" => post(requeue),
        "/mail/templates" => get(templates),
        "/mail/templates/{name}" => get(preview),
    }
}

/// A mailer error as the web app answers it.
pub(crate) fn mailer_error(e: outreach_mailer::Error) -> WebError {
    use outreach_mailer::Error as M;
    match e {
        M::Core(c) => c.into(),
        M::Database(d) => d.into(),
        other => WebError::Internal(other.to_string()),
    }
}

/// How many messages the outbox page shows, newest first.
const OUTBOX_LIMIT: u64 = 200;

const STATUSES: [&str; 5] = ["queued", "sending", "sent", "failed", "cancelled"];

#[derive(Debug, Default, Deserialize)]
struct OutboxQuery {
    #[serde(default)]
    status: String,
    /// The short id of a message just requeued, for the notice.
    #[serde(default)]
    requeued: String,
}

async fn outbox(
    State(app): State<Arc<AppState>>,
    user: User,
    Query(q): Query<OutboxQuery>,
) -> PageResult {
    let wanted = q.status.trim().to_lowercase();
    let filter = (!wanted.is_empty() && wanted != "all").then_some(wanted.as_str());
    let (rows, error) = match filter {
        Some(s) if !STATUSES.contains(&s) => (
            Vec::new(),
            Some(format!(
                "'{}' is not a message status; choose one of {}, or all",
                q.status.trim(),
                STATUSES.join(", ")
            )),
        ),
        _ => (
            ledger::list(&app.db, filter, OUTBOX_LIMIT)
                .await
                .map_err(mailer_error)?,
            None,
        ),
    };
    let at =
        |t: chrono::DateTime<chrono::Utc>| user.zone.local(t).format("%Y-%m-%d %H:%M").to_string();
    let requeued = q.requeued.trim();
    let data = json!({
        "count": rows.len(), "limit": OUTBOX_LIMIT,
        "error": error,
        "notice": (!requeued.is_empty()).then(|| format!("Message {requeued} is queued again; it is due now.")),
        "statuses": STATUSES.iter().map(|s| json!({ "value": s, "selected": filter == Some(*s) })).collect::<Vec<_>>(),
        "rows": rows.iter().map(|r| json!({
            "id": r.id.to_string(), "short_id": short(r.id), "status": r.status,
            "recipient": r.recipient, "template": r.template, "language": r.language,
            "attempts": r.attempts,
            "created": at(r.created_at),
            "next_attempt": at(r.next_attempt_at),
            "sent": r.sent_at.map(at),
            "reason": r.reason, "reply": r.reply,
            "failed": r.status == outreach_mailer::outbox::status::FAILED,
        })).collect::<Vec<_>>(),
    });
    let mut res = app.render(&user, "outbox", data);
    if error.is_some() {
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(res)
}

async fn requeue(
    State(app): State<Arc<AppState>>,
    user: User,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    user.require(Role::Coordinator, "requeue messages")?;
    let done = ledger::requeue(&app.db, &user.actor.handle, &id)
        .await
        .map_err(mailer_error)?;
    Ok(Redirect::to(&format!("/outbox?requeued={}", short(done.entry.id))).into_response())
}

async fn templates(State(app): State<Arc<AppState>>, user: User) -> PageResult {
    let data = json!({
        "origin": app.mail_templates.origin(),
        "templates": known_templates().iter().map(|(name, context, _)| json!({
            "name": name, "context": context,
            "languages": LANGUAGES.iter().map(|l| json!({ "code": l, "href": format!("/mail/templates/{name}?lang={l}") })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    });
    Ok(app.render(&user, "mail_templates", data))
}

#[derive(Debug, Default, Deserialize)]
struct PreviewQuery {
    #[serde(default)]
    lang: String,
}

/// The organiser shown in previewed invitations: the configured From address, read loosely.
fn organizer(from: &str) -> Organizer {
    match (from.find('<'), from.rfind('>')) {
        (Some(a), Some(b)) if a < b => Organizer {
            name: Some(from[..a].trim().trim_matches('"').to_owned()).filter(|n| !n.is_empty()),
            email: from[a + 1..b].trim().to_owned(),
        },
        _ => Organizer {
            name: None,
            email: from.trim().to_owned(),
        },
    }
}

async fn preview(
    State(app): State<Arc<AppState>>,
    user: User,
    Path(name): Path<String>,
    Query(q): Query<PreviewQuery>,
) -> PageResult {
    let all = known_templates();
    let Some((name, context, _)) = all.iter().find(|(n, _, _)| *n == name) else {
        return Err(WebError::NotFound(format!(
            "There is no email template '{name}'; the templates are {}.",
            all.iter()
                .map(|(n, _, _)| *n)
                .collect::<Vec<_>>()
                .join(", ")
        )));
    };
    let lang = if q.lang.trim().is_empty() {
        "en".to_owned()
    } else {
        q.lang.trim().to_lowercase()
    };
    if !LANGUAGES.contains(&lang.as_str()) {
        return Err(WebError::invalid(
            "lang",
            format!(
                "'{}' is not a language of the email templates; use one of {}",
                q.lang.trim(),
                LANGUAGES.join(", ")
            ),
        ));
    }
    let organizer = organizer(&app.mail.from);
    let renderer = Renderer {
        templates: &app.mail_templates,
        domain: &app.mail.message_id_domain,
        organizer: &organizer,
    };
    let email = renderer.preview(name, &lang).map_err(mailer_error)?;
    let data = json!({
        "name": name, "context": context, "lang": lang,
        "languages": LANGUAGES.iter().map(|l| json!({ "code": l, "current": *l == lang, "href": format!("/mail/templates/{name}?lang={l}") })).collect::<Vec<_>>(),
        "subject": email.subject, "text": email.text, "html": email.html,
        "ics": email.ics, "ics_method": email.ics_method,
    });
    Ok(app.render(&user, "mail_template", data))
}

#[cfg(test)]
mod tests {
    use super::organizer;

    #[test]
    fn the_organizer_is_read_from_the_from_address() {
        let o = organizer("Campaign <office@example.org>");
        assert_eq!(o.name.as_deref(), Some("Campaign"));
        assert_eq!(o.email, "office@example.org");
        let bare = organizer("office@example.org");
        assert_eq!(bare.name, None);
        assert_eq!(bare.email, "office@example.org");
    }
}
