//! For admins: the audit log (newest first, by actor and action, 100 a page) and the accounts
//! (add a user, change a role or zone, set a password). Every change goes through the library,
//! which writes its audit record in the same transaction.

use std::sync::Arc;

use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use outreach_core::actor::{self, UserInput};
use outreach_core::{Error as CoreError, audit};
use serde::{Deserialize, Serialize};

use crate::dashboard::{enc, message_of};
use crate::pages::{Choice, FieldErrors, Page};
use crate::routing::Routes;
use crate::{AppState, PageResult, Role, User};

/// Audit records a page.
const PAGE: u64 = 100;

const ROLES: [&str; 3] = ["staff", "coordinator", "admin"];

pub fn routes() -> Routes {
    crate::page_routes! {
        "/audit" => get(audit_page),
        "/users" => get(users_page).post(save_user),
        "/users/password" => post(save_password),
        "/users/{handle}/disable" => post(disable_user),
        "/users/{handle}/enable" => post(enable_user),
        "/users/{handle}/tokens" => get(tokens_page),
        "/users/{handle}/tokens/revoke" => post(revoke_tokens),
    }
}

#[derive(Debug, Default, Deserialize)]
struct AuditQuery {
    actor: Option<String>,
    action: Option<String>,
    page: Option<String>,
}

async fn audit_page(
    State(app): State<Arc<AppState>>,
    user: User,
    Query(q): Query<AuditQuery>,
) -> PageResult<Response> {
    user.require(Role::Admin, "read the audit log")?;
    let actor_f = q.actor.unwrap_or_default().trim().to_owned();
    let action_f = q.action.unwrap_or_default().trim().to_owned();
    let page = q
        .page
        .as_deref()
        .and_then(|p| p.trim().parse::<u64>().ok())
        .filter(|p| *p >= 1)
        .unwrap_or(1);
    let (rows, total) = audit::search_for(
        &app.db,
        &user.actor,
        Some(&actor_f),
        Some(&action_f),
        (page - 1).saturating_mul(PAGE),
        PAGE,
    )
    .await?;
    let pages = total.div_ceil(PAGE).max(1);
    let link = |p: u64| {
        let mut parts = Vec::new();
        if !actor_f.is_empty() {
            parts.push(format!("actor={}", enc(&actor_f)));
        }
        if !action_f.is_empty() {
            parts.push(format!("action={}", enc(&action_f)));
        }
        parts.push(format!("page={p}"));
        format!("/audit?{}", parts.join("&"))
    };
    let page = AuditPage {
        prev: (page > 1).then(|| link(page - 1)),
        next: (page < pages).then(|| link(page + 1)),
        actor: actor_f.clone(),
        action: action_f.clone(),
        page,
        pages,
        total,
        rows: rows
            .into_iter()
            .map(|r| AuditLine {
                at: r.at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
                actor: r.actor,
                action: r.action,
                entity: r.entity,
                entity_id: r.entity_id,
                detail: r.detail,
            })
            .collect(),
    };
    Ok(app.render_page(&user, &page))
}

/// A page of the audit log, newest first, filtered by actor and action.
#[derive(Debug, Serialize)]
pub struct AuditPage {
    pub actor: String,
    pub action: String,
    pub page: u64,
    pub pages: u64,
    pub total: u64,
    pub prev: Option<String>,
    pub next: Option<String>,
    pub rows: Vec<AuditLine>,
}

/// An audit record (`audit::AuditEntry`) with its instant written out in UTC.
#[derive(Debug, Serialize)]
pub struct AuditLine {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub detail: String,
}

impl Page for AuditPage {
    const TEMPLATE: &'static str = "audit";
    fn sample() -> Self {
        Self {
            actor: "sam".into(),
            action: "engagement.log".into(),
            page: 2,
            pages: 3,
            total: 250,
            prev: Some("/audit?page=1".into()),
            next: Some("/audit?page=3".into()),
            rows: vec![AuditLine {
                at: "2026-12-07 10:00:00 UTC".into(),
                actor: "sam".into(),
                action: "engagement.log".into(),
                entity: "engagement".into(),
                entity_id: uuid::Uuid::nil().to_string(),
                detail: "{}".into(),
            }],
        }
    }
}

/// The add-or-change form, as typed.
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[serde(default)]
struct UserForm {
    #[serde(skip_serializing)]
    csrf: String,
    handle: String,
    name: String,
    email: String,
    role: String,
    time_zone: String,
    /// Cleared for restricted notes: "yes", "no", or empty to leave it as it is.
    cleared: String,
}

#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[serde(default)]
struct PasswordForm {
    #[serde(skip_serializing)]
    csrf: String,
    handle: String,
    #[serde(skip_serializing)]
    password: String,
}

#[derive(Debug, Default, Deserialize)]
struct UsersQuery {
    saved: Option<String>,
    password: Option<String>,
    disabled: Option<String>,
    enabled: Option<String>,
}

struct UsersForms {
    user_form: UserForm,
    password_form: PasswordForm,
    errors: FieldErrors,
    notice: Option<String>,
}

async fn render_users(app: &AppState, user: &User, p: UsersForms) -> PageResult<Response> {
    let accounts = actor::users(&app.db).await?;
    let page = UsersPage {
        user_form: p.user_form,
        password_form: p.password_form,
        errors: p.errors,
        notice: p.notice,
        roles: ROLES,
        accounts: accounts
            .into_iter()
            .map(|u| AccountLine {
                has_password: u.password_hash.is_some(),
                disabled: u.disabled_at.is_some(),
                disabled_on: u.disabled_at.map(|d| d.format("%Y-%m-%d").to_string()),
                is_me: u.handle == user.handle,
                roles: ROLES
                    .iter()
                    .map(|r| Choice::plain(r, *r == u.role))
                    .collect(),
                handle: u.handle,
                name: u.name,
                email: u.email,
                role: u.role,
                time_zone: u.time_zone,
                cleared: u.cleared,
            })
            .collect(),
    };
    Ok(app.render_page(user, &page))
}

/// The users page: every account, the form to add or change one and the form to set a
/// password (with what was typed when refused).
#[derive(Debug, Serialize)]
pub struct UsersPage {
    user_form: UserForm,
    password_form: PasswordForm,
    errors: FieldErrors,
    notice: Option<String>,
    roles: [&'static str; 3],
    accounts: Vec<AccountLine>,
}

/// An account as the users page lists it: no password hash, only whether one is set.
#[derive(Debug, Serialize)]
pub struct AccountLine {
    pub handle: String,
    pub name: String,
    pub email: Option<String>,
    pub role: String,
    pub time_zone: String,
    pub has_password: bool,
    pub cleared: bool,
    pub disabled: bool,
    pub disabled_on: Option<String>,
    pub is_me: bool,
    pub roles: Vec<Choice>,
}

impl Page for UsersPage {
    const TEMPLATE: &'static str = "users";
    fn sample() -> Self {
        Self {
            user_form: UserForm {
                handle: "kim".into(),
                name: "Kim Lee".into(),
                email: "kim@example.org".into(),
                role: "staff".into(),
                time_zone: "Europe/Geneva".into(),
                cleared: "yes".into(),
                ..UserForm::default()
            },
            password_form: PasswordForm {
                handle: "kim".into(),
                ..PasswordForm::default()
            },
            errors: FieldErrors::sample(USER_FIELDS),
            notice: Some("Saved kim.".into()),
            roles: ROLES,
            accounts: vec![AccountLine {
                handle: "kim".into(),
                name: "Kim Lee".into(),
                email: Some("kim@example.org".into()),
                role: "staff".into(),
                time_zone: "Europe/Geneva".into(),
                has_password: true,
                cleared: true,
                disabled: true,
                disabled_on: Some("2026-12-01".into()),
                is_me: false,
                roles: vec![Choice::sample()],
            }],
        }
    }
}

/// The fields of the users page's two forms that a message can stand beside.
const USER_FIELDS: &[&str] = &[
    "handle",
    "name",
    "email",
    "role",
    "time_zone",
    "password_handle",
    "password",
    "general",
];

fn no_errors() -> FieldErrors {
    FieldErrors::new(USER_FIELDS)
}

async fn users_page(
    State(app): State<Arc<AppState>>,
    user: User,
    Query(q): Query<UsersQuery>,
) -> PageResult<Response> {
    user.require(Role::Admin, "manage users")?;
    let notice = match (q.saved, q.password, q.disabled, q.enabled) {
        (Some(h), ..) => Some(format!("Saved {h}.")),
        (_, Some(h), ..) => Some(format!(
            "Password set for {h}; their sessions were ended and their API tokens and calendar URL revoked."
        )),
        (_, _, Some(h), _) => Some(format!(
            "Disabled {h}: signed out everywhere, API tokens and calendar URL revoked, no more reminders."
        )),
        (_, _, _, Some(h)) => Some(format!(
            "Enabled {h} again. Set a password for them if they need to sign in; their old tokens stay revoked."
        )),
        _ => None,
    };
    render_users(
        &app,
        &user,
        UsersForms {
            user_form: UserForm {
                role: "staff".into(),
                ..Default::default()
            },
            password_form: PasswordForm::default(),
            errors: no_errors(),
            notice,
        },
    )
    .await
}

fn user_field(e: &CoreError) -> &'static str {
    match e {
        CoreError::Invalid { field, .. } => match field.as_str() {
            "name" => "name",
            "email" => "email",
            "role" => "role",
            "time_zone" => "time_zone",
            _ => "handle",
        },
        _ => "general",
    }
}

async fn save_user(
    State(app): State<Arc<AppState>>,
    user: User,
    Form(form): Form<UserForm>,
) -> PageResult<Response> {
    user.check_csrf(&form.csrf)?;
    user.require(Role::Admin, "manage users")?;
    let opt = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    let input = UserInput {
        handle: form.handle.trim().to_owned(),
        name: opt(&form.name),
        email: opt(&form.email),
        time_zone: opt(&form.time_zone),
        role: opt(&form.role),
        cleared: match form.cleared.trim() {
            "yes" => Some(true),
            "no" => Some(false),
            _ => None,
        },
    };
    match actor::upsert_user(&app.db, &user.actor, &input).await {
        Ok(u) => Ok(Redirect::to(&format!("/users?saved={}", enc(&u.handle))).into_response()),
        Err(CoreError::Database(e)) => Err(e.into()),
        Err(e) => {
            let mut errors = no_errors();
            errors.set(user_field(&e), message_of(&e));
            let mut res = render_users(
                &app,
                &user,
                UsersForms {
                    user_form: form,
                    password_form: PasswordForm::default(),
                    errors,
                    notice: None,
                },
            )
            .await?;
            *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(res)
        }
    }
}

async fn save_password(
    State(app): State<Arc<AppState>>,
    user: User,
    Form(form): Form<PasswordForm>,
) -> PageResult<Response> {
    user.check_csrf(&form.csrf)?;
    user.require(Role::Admin, "set passwords")?;
    let handle = form.handle.trim().to_owned();
    match crate::set_password(&app.db, &user.actor, &handle, &form.password).await {
        Ok(()) => Ok(Redirect::to(&format!("/users?password={}", enc(&handle))).into_response()),
        Err(CoreError::Database(e)) => Err(e.into()),
        Err(e) => {
            let mut errors = no_errors();
            let field = match &e {
                CoreError::Invalid { field, .. } if field == "password" => "password",
                _ => "password_handle",
            };
            let message = match &e {
                CoreError::Invalid { .. } => format!("The password {}", message_of(&e)),
                other => other.to_string(),
            };
            errors.set(field, message);
            let mut res = render_users(
                &app,
                &user,
                UsersForms {
                    user_form: UserForm {
                        role: "staff".into(),
                        ..Default::default()
                    },
                    password_form: form,
                    errors,
                    notice: None,
                },
            )
            .await?;
            *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(res)
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct RevokeForm {
    #[serde(default)]
    csrf: String,
    /// The first 8 hex digits of one token; empty for all of them.
    #[serde(default)]
    token: String,
}

async fn set_disabled(
    app: &AppState,
    user: &User,
    handle: &str,
    csrf: &str,
    disabled: bool,
) -> PageResult<Response> {
    user.check_csrf(csrf)?;
    user.require(Role::Admin, "disable or enable accounts")?;
    let (u, _) = crate::auth::set_disabled(&app.db, &user.actor, handle, disabled).await?;
    let key = if disabled { "disabled" } else { "enabled" };
    Ok(Redirect::to(&format!("/users?{key}={}", enc(&u.handle))).into_response())
}

/// `POST /users/{handle}/disable`: ends the account's sessions, revokes its tokens, stops its
/// reminders.
async fn disable_user(
    State(app): State<Arc<AppState>>,
    user: User,
    axum::extract::Path(handle): axum::extract::Path<String>,
    Form(form): Form<crate::CsrfForm>,
) -> PageResult<Response> {
    set_disabled(&app, &user, &handle, &form.csrf, true).await
}

async fn enable_user(
    State(app): State<Arc<AppState>>,
    user: User,
    axum::extract::Path(handle): axum::extract::Path<String>,
    Form(form): Form<crate::CsrfForm>,
) -> PageResult<Response> {
    set_disabled(&app, &user, &handle, &form.csrf, false).await
}

async fn tokens_view(
    app: &AppState,
    user: &User,
    handle: &str,
    notice: Option<String>,
) -> PageResult<Response> {
    user.require(Role::Admin, "see other users' tokens")?;
    let u = actor::require_user(&app.db, "handle", handle).await?;
    let fmt =
        |t: chrono::DateTime<chrono::Utc>| user.zone.local(t).format("%Y-%m-%d %H:%M").to_string();
    let tokens = crate::auth::all_tokens_of(&app.db, u.id).await?;
    let page = UserTokensPage {
        title: format!("Tokens of {}", u.handle),
        handle: u.handle,
        notice,
        tokens: tokens
            .iter()
            .map(|t| TokenLine {
                kind: if t.kind == "calendar" {
                    "calendar URL"
                } else {
                    "API token"
                },
                name: t.name.clone(),
                prefix: t.token_hash.get(..8).unwrap_or_default().to_owned(),
                created: fmt(t.created_at),
                last_used: t.last_used_at.map(fmt),
            })
            .collect(),
    };
    Ok(app.render_page(user, &page))
}

/// Another user's API tokens and calendar URL, for an admin to revoke.
#[derive(Debug, Serialize)]
pub struct UserTokensPage {
    pub title: String,
    pub handle: String,
    pub notice: Option<String>,
    pub tokens: Vec<TokenLine>,
}

/// A token as its lists show it: never the secret, the first 8 digits of its hash to name it.
#[derive(Debug, Serialize)]
pub struct TokenLine {
    pub kind: &'static str,
    pub name: String,
    pub prefix: String,
    pub created: String,
    pub last_used: Option<String>,
}

impl Page for UserTokensPage {
    const TEMPLATE: &'static str = "user_tokens";
    fn sample() -> Self {
        Self {
            title: "Tokens of kim".into(),
            handle: "kim".into(),
            notice: Some("Revoked 1 token(s) of kim.".into()),
            tokens: vec![TokenLine {
                kind: "API token",
                name: "reports".into(),
                prefix: "0123abcd".into(),
                created: "2026-12-01 10:00".into(),
                last_used: Some("2026-12-07 10:00".into()),
            }],
        }
    }
}

/// `GET /users/{handle}/tokens`: an account's API tokens and calendar URL, for admins.
async fn tokens_page(
    State(app): State<Arc<AppState>>,
    user: User,
    axum::extract::Path(handle): axum::extract::Path<String>,
) -> PageResult<Response> {
    tokens_view(&app, &user, &handle, None).await
}

/// `POST /users/{handle}/tokens/revoke`: one token (by its prefix) or all of them.
async fn revoke_tokens(
    State(app): State<Arc<AppState>>,
    user: User,
    axum::extract::Path(handle): axum::extract::Path<String>,
    Form(form): Form<RevokeForm>,
) -> PageResult<Response> {
    user.check_csrf(&form.csrf)?;
    user.require(Role::Admin, "revoke other users' tokens")?;
    let u = actor::require_user(&app.db, "handle", &handle).await?;
    let prefix = Some(form.token.trim()).filter(|p| !p.is_empty());
    let n = match crate::auth::revoke_any_tokens(&app.db, &user.actor, u.id, prefix).await {
        Ok(n) => n,
        Err(CoreError::NotFound { .. }) => {
            return Err(crate::WebError::NotFound(format!(
                "{} has no token {}; the list below shows theirs.",
                u.handle,
                prefix.unwrap_or_default()
            )));
        }
        Err(e) => return Err(e.into()),
    };
    tokens_view(
        &app,
        &user,
        &u.handle,
        Some(format!("Revoked {n} token(s) of {}.", u.handle)),
    )
    .await
}
