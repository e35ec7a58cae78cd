//! The account page: who you are (handle, role, zone), changing your own password, API tokens for
//! scripts (created with their secret shown once, listed by the first 8 hex digits of their hash,
//! revoked), and the secret URL of your calendar feed (made or reset here; the old one stops
//! working).

use std::sync::Arc;

use axum::extract::{Form, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect};
use serde::{Deserialize, Serialize};

use crate::pages::{FieldErrors, Page};
use crate::routing::Routes;
use crate::{AppState, CsrfForm, PageResult, User, WebError, auth};

pub fn routes() -> Routes {
    crate::page_routes! {
        "/account" => get(account),
        "/account/password" => post(change_password),
        "/account/tokens" => post(create_token),
        "/account/tokens/{prefix}/revoke" => post(revoke_token),
        "/account/calendar" => post(reset_calendar),
    }
}

/// The longest token name accepted.
const MAX_NAME: usize = 100;

/// What the page shows besides the lists; every key is present (strict templates).
#[derive(Debug, Default)]
struct Extra {
    notice: Option<String>,
    new_token: Option<(String, String)>,
    calendar_url: Option<String>,
    errors: Vec<(&'static str, String)>,
    name: String,
}

async fn page(app: &AppState, user: &User, status: StatusCode, extra: Extra) -> PageResult {
    let fmt =
        |t: chrono::DateTime<chrono::Utc>| user.zone.local(t).format("%Y-%m-%d %H:%M").to_string();
    let tokens: Vec<TokenLine> = auth::tokens_of(&app.db, user.id, "api")
        .await?
        .into_iter()
        .map(|t| TokenLine {
            name: t.name,
            created: fmt(t.created_at),
            last_used: t.last_used_at.map(fmt),
            prefix: t.token_hash.get(..8).unwrap_or_default().to_owned(),
        })
        .collect();
    let calendar = auth::tokens_of(&app.db, user.id, "calendar")
        .await?
        .into_iter()
        .next()
        .map(|t| CalendarLine {
            created: fmt(t.created_at),
            last_used: t.last_used_at.map(fmt),
        });
    let mut errors = FieldErrors::new(FIELDS);
    for (field, message) in extra.errors {
        errors.set(field, message);
    }
    let data = AccountPage {
        zone: user.zone.name().to_owned(),
        tokens,
        calendar,
        notice: extra.notice,
        new_token: extra
            .new_token
            .map(|(name, secret)| NewToken { name, secret }),
        calendar_url: extra.calendar_url,
        errors,
        values: Values { name: extra.name },
    };
    let mut res = app.render_page(user, &data);
    *res.status_mut() = status;
    Ok(res)
}

/// The fields of the account page's forms that a message can stand beside.
const FIELDS: &[&str] = &["current", "new", "confirm", "name"];

/// Your account: your zone, API tokens and calendar URL (a new secret shown once), and the
/// password form's messages.
#[derive(Debug, Serialize)]
pub struct AccountPage {
    pub zone: String,
    pub tokens: Vec<TokenLine>,
    pub calendar: Option<CalendarLine>,
    pub notice: Option<String>,
    pub new_token: Option<NewToken>,
    pub calendar_url: Option<String>,
    pub errors: FieldErrors,
    pub values: Values,
}

/// An API token as the list shows it: never the secret, the first 8 digits of its hash to
/// name it.
#[derive(Debug, Serialize)]
pub struct TokenLine {
    pub name: String,
    pub created: String,
    pub last_used: Option<String>,
    pub prefix: String,
}

#[derive(Debug, Serialize)]
pub struct CalendarLine {
    pub created: String,
    pub last_used: Option<String>,
}

/// A token just made: its secret, shown this once.
#[derive(Debug, Serialize)]
pub struct NewToken {
    pub name: String,
    pub secret: String,
}

/// What was typed in the new token form.
#[derive(Debug, Serialize)]
pub struct Values {
    pub name: String,
}

impl Page for AccountPage {
    const TEMPLATE: &'static str = "account";
    fn sample() -> Self {
        let when = || "2026-12-07 10:00".to_owned();
        Self {
            zone: "Europe/Geneva".into(),
            tokens: vec![TokenLine {
                name: "reports".into(),
                created: when(),
                last_used: Some(when()),
                prefix: "0123abcd".into(),
            }],
            calendar: Some(CalendarLine {
                created: when(),
                last_used: Some(when()),
            }),
            notice: Some("Your password was changed".into()),
            new_token: Some(NewToken {
                name: "reports".into(),
                secret: "secret".into(),
            }),
            calendar_url: Some("http://127.0.0.1:8080/calendar/secret.ics".into()),
            errors: FieldErrors::sample(FIELDS),
            values: Values {
                name: "reports".into(),
            },
        }
    }
}

#[derive(Debug, Deserialize)]
struct Done {
    done: Option<String>,
}

async fn account(
    State(app): State<Arc<AppState>>,
    user: User,
    Query(q): Query<Done>,
) -> PageResult {
    let notice = match q.done.as_deref() {
        Some("password") => {
            Some("Your password was changed; your other sessions were signed out.".to_owned())
        }
        Some("revoked") => {
            Some("The token was revoked; scripts using it are now refused.".to_owned())
        }
        _ => None,
    };
    page(
        &app,
        &user,
        StatusCode::OK,
        Extra {
            notice,
            ..Extra::default()
        },
    )
    .await
}

#[derive(Debug, Deserialize)]
struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    /// Optional: when given it must match `new`.
    #[serde(default)]
    confirm: String,
}

fn unprocessable(errors: Vec<(&'static str, String)>) -> Extra {
    Extra {
        errors,
        ..Extra::default()
    }
}

async fn change_password(
    State(app): State<Arc<AppState>>,
    user: User,
    Form(form): Form<PasswordForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    let current_ok = auth::verify_password(&app.db, &user.handle, &form.current)
        .await?
        .is_some();
    let mut errors = Vec::new();
    if !current_ok {
        errors.push((
            "current",
            "This is not your current password; type the one you signed in with.".to_owned(),
        ));
    }
    if form.new.chars().count() < auth::MIN_PASSWORD {
        errors.push((
            "new",
            format!(
                "The new password is shorter than {} characters; choose a longer one.",
                auth::MIN_PASSWORD
            ),
        ));
    } else if !form.confirm.is_empty() && form.confirm != form.new {
        errors.push((
            "confirm",
            "The two new passwords differ; type the same one twice.".to_owned(),
        ));
    }
    if !errors.is_empty() {
        return page(
            &app,
            &user,
            StatusCode::UNPROCESSABLE_ENTITY,
            unprocessable(errors),
        )
        .await;
    }
    match auth::set_password(&app.db, &user.actor, &user.handle, &form.new).await {
        Ok(()) => {}
        Err(outreach_core::Error::Invalid { message, .. }) => {
            return page(
                &app,
                &user,
                StatusCode::UNPROCESSABLE_ENTITY,
                unprocessable(vec![("new", format!("The new password {message}."))]),
            )
            .await;
        }
        Err(e) => return Err(e.into()),
    }
    // Changing the password ended every session; open a new one for this browser.
    let mut res = Redirect::to("/account?done=password").into_response();
    if let Some(token) = auth::login(&app.db, &user.handle, &form.new).await? {
        res.headers_mut().append(
            header::SET_COOKIE,
            app.cookie(auth::SESSION_COOKIE, &token, auth::SESSION_HOURS * 3600),
        );
    }
    Ok(res)
}

#[derive(Debug, Deserialize)]
struct TokenForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
}

async fn create_token(
    State(app): State<Arc<AppState>>,
    user: User,
    Form(form): Form<TokenForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    let name = form.name.trim().to_owned();
    let problem = if name.is_empty() {
        Some("Give the token a name that says what uses it, such as \"weekly report script\".")
    } else if name.chars().count() > MAX_NAME {
        Some("The name is longer than 100 characters; shorten it.")
    } else {
        None
    };
    if let Some(message) = problem {
        return page(
            &app,
            &user,
            StatusCode::UNPROCESSABLE_ENTITY,
            Extra {
                errors: vec![("name", message.to_owned())],
                name: form.name,
                ..Extra::default()
            },
        )
        .await;
    }
    let secret = auth::issue_token(&app.db, &user.actor, user.id, "api", &name).await?;
    page(
        &app,
        &user,
        StatusCode::OK,
        Extra {
            notice: Some(format!(
                "API token \"{name}\" created. Copy it now: it is shown only once."
            )),
            new_token: Some((name, secret)),
            ..Extra::default()
        },
    )
    .await
}

async fn revoke_token(
    State(app): State<Arc<AppState>>,
    user: User,
    Path(prefix): Path<String>,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    match auth::revoke_tokens(&app.db, &user.actor, user.id, "api", Some(&prefix)).await {
        Ok(_) => Ok(Redirect::to("/account?done=revoked").into_response()),
        Err(outreach_core::Error::NotFound { .. }) => Err(WebError::NotFound(format!(
            "You have no API token {prefix}; the account page lists yours."
        ))),
        Err(e) => Err(e.into()),
    }
}

async fn reset_calendar(
    State(app): State<Arc<AppState>>,
    user: User,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    let (had, secret) = auth::reset_calendar(&app.db, &user.actor, user.id).await?;
    let notice = if had > 0 {
        "Your calendar feed has a new URL; the old one no longer works. Copy it now: it is shown only once."
    } else {
        "Your calendar feed is ready. Copy its URL now: it is shown only once."
    };
    page(
        &app,
        &user,
        StatusCode::OK,
        Extra {
            notice: Some(notice.to_owned()),
            calendar_url: Some(format!("{}/calendar/{secret}.ics", app.origin())),
            ..Extra::default()
        },
    )
    .await
}
