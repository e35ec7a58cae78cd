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
use outreach_mailer::render::{RenderedEmail, Renderer, known_templates};
use serde::{Deserialize, Serialize};

use crate::pages::{Choice, Page};
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
    let page = OutboxPage {
        count: rows.len(),
        limit: OUTBOX_LIMIT,
        error: error.clone(),
        notice: (!requeued.is_empty())
            .then(|| format!("Message {requeued} is queued again; it is due now.")),
        statuses: STATUSES
            .iter()
            .map(|s| Choice::plain(s, filter == Some(*s)))
            .collect(),
        rows: rows
            .iter()
            .map(|r| OutboxLine {
                id: r.id.to_string(),
                short_id: short(r.id),
                status: r.status.clone(),
                recipient: r.recipient.clone(),
                template: r.template.clone(),
                language: r.language.clone(),
                attempts: r.attempts,
                created: at(r.created_at),
                next_attempt: at(r.next_attempt_at),
                sent: r.sent_at.map(at),
                reason: r.reason.clone(),
                reply: r.reply.clone(),
                failed: r.status == outreach_mailer::outbox::status::FAILED,
            })
            .collect(),
    };
    let mut res = app.render_page(&user, &page);
    if error.is_some() {
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(res)
}

/// The outbox: the newest messages (`ledger::OutboxEntry`) with their times in the reader's
/// zone.
#[derive(Debug, Serialize)]
pub struct OutboxPage {
    pub count: usize,
    pub limit: u64,
    pub error: Option<String>,
    pub notice: Option<String>,
    pub statuses: Vec<Choice>,
    pub rows: Vec<OutboxLine>,
}

#[derive(Debug, Serialize)]
pub struct OutboxLine {
    pub id: String,
    pub short_id: String,
    pub status: String,
    pub recipient: String,
    pub template: String,
    pub language: String,
    pub attempts: i32,
    pub created: String,
    pub next_attempt: String,
    pub sent: Option<String>,
    pub reason: Option<String>,
    pub reply: Option<String>,
    pub failed: bool,
}

impl Page for OutboxPage {
    const TEMPLATE: &'static str = "outbox";
    fn sample() -> Self {
        Self {
            count: 1,
            limit: OUTBOX_LIMIT,
            error: Some("not a message status".into()),
            notice: Some("Message 0000 is queued again; it is due now.".into()),
            statuses: vec![Choice::sample()],
            rows: vec![OutboxLine {
                id: uuid::Uuid::nil().to_string(),
                short_id: "0000".into(),
                status: "failed".into(),
                recipient: "sam@example.org".into(),
                template: "meeting_reminder".into(),
                language: "en".into(),
                attempts: 3,
                created: "2026-12-07 10:00".into(),
                next_attempt: "2026-12-07 10:05".into(),
                sent: Some("2026-12-07 10:01".into()),
                reason: Some("550 no such user".into()),
                reply: Some("250 OK".into()),
                failed: true,
            }],
        }
    }
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
    let page = MailTemplatesPage {
        origin: app.mail_templates.origin().to_owned(),
        templates: known_templates()
            .iter()
            .map(|(name, context, _)| TemplateLine {
                name,
                context,
                languages: LANGUAGES
                    .iter()
                    .map(|l| LanguageLink {
                        code: l,
                        current: false,
                        href: format!("/mail/templates/{name}?lang={l}"),
                    })
                    .collect(),
            })
            .collect(),
    };
    Ok(app.render_page(&user, &page))
}

/// The email templates, each with a preview link per language.
#[derive(Debug, Serialize)]
pub struct MailTemplatesPage {
    pub origin: String,
    pub templates: Vec<TemplateLine>,
}

#[derive(Debug, Serialize)]
pub struct TemplateLine {
    pub name: &'static str,
    /// The context type's name.
    pub context: &'static str,
    pub languages: Vec<LanguageLink>,
}

#[derive(Debug, Serialize)]
pub struct LanguageLink {
    pub code: &'static str,
    pub current: bool,
    pub href: String,
}

impl Page for MailTemplatesPage {
    const TEMPLATE: &'static str = "mail_templates";
    fn sample() -> Self {
        Self {
            origin: "built-in templates".into(),
            templates: vec![TemplateLine {
                name: "meeting_reminder",
                context: "MeetingReminder",
                languages: vec![LanguageLink {
                    code: "en",
                    current: true,
                    href: "/mail/templates/meeting_reminder?lang=en".into(),
                }],
            }],
        }
    }
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
    let page = MailTemplatePage {
        name,
        context,
        languages: LANGUAGES
            .iter()
            .map(|l| LanguageLink {
                code: l,
                current: *l == lang,
                href: format!("/mail/templates/{name}?lang={l}"),
            })
            .collect(),
        lang,
        email,
    };
    Ok(app.render_page(&user, &page))
}

/// An email template rendered with its context's sample (`render::RenderedEmail`, the mailer's
/// own), in one language.
#[derive(Debug, Serialize)]
pub struct MailTemplatePage {
    pub name: &'static str,
    pub context: &'static str,
    pub lang: String,
    pub languages: Vec<LanguageLink>,
    #[serde(flatten)]
    pub email: RenderedEmail,
}

impl Page for MailTemplatePage {
    const TEMPLATE: &'static str = "mail_template";
    fn sample() -> Self {
        Self {
            name: "meeting_invitation",
            context: "MeetingInvitation",
            lang: "en".into(),
            languages: vec![LanguageLink {
                code: "en",
                current: true,
                href: "/mail/templates/meeting_invitation?lang=en".into(),
            }],
            email: RenderedEmail {
                subject: "Invitation".into(),
                text: "You are invited".into(),
                html: "<p>You are invited</p>".into(),
                ics: Some("BEGIN:VCALENDAR".into()),
                ics_method: Some("REQUEST"),
            },
        }
    }
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
