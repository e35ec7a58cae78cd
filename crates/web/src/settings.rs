//! For admins: the settings this server runs with (read from `config/default.toml`,
//! `config/<OUTREACH_ENV>.toml` and `OUTREACH_*` variables at start; passwords never shown), and
//! a test email through the configured transport, queued like any other message so the outbox
//! shows whether it went.

use std::sync::Arc;

use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use outreach_core::domain::EmailAddress;
use outreach_mailer::locale::LANGUAGES;
use serde::{Deserialize, Serialize};

use crate::dashboard::message_of;
use crate::pages::Page;
use crate::routing::Routes;
use crate::{AppState, PageResult, Role, User};

pub fn routes() -> Routes {
    crate::page_routes! {
        "/settings" => get(settings_page),
        "/settings/test-mail" => post(test_mail),
    }
}

#[derive(Debug, Default, Deserialize)]
struct SettingsQuery {
    queued: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct TestMailForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    lang: String,
}

/// The settings as (group, [(name, value)]) rows; secrets are said to be set or not.
fn rows(app: &AppState) -> Vec<SettingsGroup> {
    let s = &app.settings;
    let m = &app.mail;
    let sched = &app.scheduler;
    let letters = &app.letters.settings;
    let set = |v: &str| {
        if v.is_empty() {
            "not set"
        } else {
            "set (hidden)"
        }
    };
    let group = |name: &'static str, items: Vec<(&'static str, String)>| SettingsGroup {
        name,
        items: items
            .into_iter()
            .map(|(key, value)| Setting { key, value })
            .collect(),
    };
    vec![
        group(
            "General",
            vec![
                ("database_url", outreach_core::db::redact(&s.database_url)),
                ("treaty", s.treaty.clone()),
                ("time_zone", s.time_zone.clone()),
            ],
        ),
        group(
            "Mail",
            vec![
                ("transport", m.transport.clone()),
                ("file_dir", m.file_dir.clone()),
                ("from", m.from.clone()),
                ("smtp_host", m.smtp_host.clone()),
                ("smtp_port", m.smtp_port.to_string()),
                ("smtp_security", m.smtp_security.clone()),
                ("smtp_username", m.smtp_username.clone()),
                ("smtp_password", set(&m.smtp_password).to_owned()),
                ("rate_per_minute", m.rate_per_minute.to_string()),
                ("max_attempts", m.max_attempts.to_string()),
            ],
        ),
        group(
            "Scheduler",
            vec![
                ("workers", sched.workers.to_string()),
                ("batch_size", sched.batch_size.to_string()),
                ("lease_secs", sched.lease_secs.to_string()),
                ("max_attempts", sched.max_attempts.to_string()),
                ("poll_secs", sched.poll_secs.to_string()),
                ("workflows_file", sched.workflows_file.clone()),
            ],
        ),
        group(
            "Letters",
            vec![
                ("organisation", letters.organisation.clone()),
                ("letterhead", letters.letterhead.join(" / ")),
                ("sender_name", letters.sender_name.clone()),
                ("sender_title", letters.sender_title.clone()),
                ("place", letters.place.clone()),
                ("email", letters.email.clone()),
                ("templates_dir", letters.templates_dir.clone()),
            ],
        ),
    ]
}

fn page(
    app: &AppState,
    user: &User,
    form: &TestMailForm,
    error: Option<(&str, String)>,
    notice: Option<String>,
) -> Response {
    let lang = if form.lang.trim().is_empty() {
        "en"
    } else {
        form.lang.trim()
    };
    let page = SettingsPage {
        groups: rows(app),
        notice,
        to: form.to.clone(),
        languages: LANGUAGES
            .iter()
            .map(|l| LanguageChoice {
                code: l,
                selected: *l == lang,
            })
            .collect(),
        errors: TestMailErrors {
            to: error
                .as_ref()
                .filter(|(f, _)| *f == "to")
                .map(|(_, m)| m.clone()),
            lang: error
                .as_ref()
                .filter(|(f, _)| *f == "lang")
                .map(|(_, m)| m.clone()),
        },
    };
    let mut res = app.render_page(user, &page);
    if error.is_some() {
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    res
}

/// The settings in force, grouped, secrets shown only as set or not; and the form to queue a
/// test email.
#[derive(Debug, Serialize)]
pub struct SettingsPage {
    pub groups: Vec<SettingsGroup>,
    pub notice: Option<String>,
    pub to: String,
    pub languages: Vec<LanguageChoice>,
    pub errors: TestMailErrors,
}

#[derive(Debug, Serialize)]
pub struct SettingsGroup {
    pub name: &'static str,
    pub items: Vec<Setting>,
}

#[derive(Debug, Serialize)]
pub struct Setting {
    pub key: &'static str,
    pub value: String,
}

#[derive(Debug, Serialize)]
pub struct LanguageChoice {
    pub code: &'static str,
    pub selected: bool,
}

#[derive(Debug, Serialize)]
pub struct TestMailErrors {
    pub to: Option<String>,
    pub lang: Option<String>,
}

impl Page for SettingsPage {
    const TEMPLATE: &'static str = "settings";
    fn sample() -> Self {
        Self {
            groups: vec![SettingsGroup {
                name: "Mail",
                items: vec![Setting {
                    key: "smtp_password",
                    value: "set (hidden)".into(),
                }],
            }],
            notice: Some("Test message 0000 queued".into()),
            to: "sam@example.org".into(),
            languages: vec![LanguageChoice {
                code: "en",
                selected: true,
            }],
            errors: TestMailErrors {
                to: Some("not an email address".into()),
                lang: Some("not a language".into()),
            },
        }
    }
}

async fn settings_page(
    State(app): State<Arc<AppState>>,
    user: User,
    Query(q): Query<SettingsQuery>,
) -> PageResult<Response> {
    user.require(Role::Admin, "see the settings")?;
    let me = outreach_core::actor::require_user(&app.db, "handle", &user.handle).await?;
    let form = TestMailForm {
        to: me.email.unwrap_or_default(),
        ..TestMailForm::default()
    };
    let notice = q.queued.filter(|s| !s.trim().is_empty()).map(|id| {
        format!("Test message {id} queued; the outbox shows when it is sent, or why it failed.")
    });
    Ok(page(&app, &user, &form, None, notice))
}

async fn test_mail(
    State(app): State<Arc<AppState>>,
    user: User,
    Form(form): Form<TestMailForm>,
) -> PageResult<Response> {
    user.check_csrf(&form.csrf)?;
    user.require(Role::Admin, "send test emails")?;
    let to = match EmailAddress::parse("to", form.to.trim()) {
        Ok(a) => a,
        Err(e) => return Ok(page(&app, &user, &form, Some(("to", message_of(&e))), None)),
    };
    let lang = if form.lang.trim().is_empty() {
        "en"
    } else {
        form.lang.trim()
    };
    match outreach_mailer::ledger::queue_test(&app.db, &user.handle, &to, lang, user.zone.name())
        .await
    {
        Ok(id) => Ok(Redirect::to(&format!(
            "/settings?queued={}",
            outreach_core::ids::short(id)
        ))
        .into_response()),
        Err(outreach_mailer::Error::Core(e @ outreach_core::Error::Invalid { .. })) => Ok(page(
            &app,
            &user,
            &form,
            Some(("lang", message_of(&e))),
            None,
        )),
        Err(e) => Err(crate::mail::mailer_error(e)),
    }
}
