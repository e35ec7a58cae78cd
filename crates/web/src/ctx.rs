//! Who is asking: the signed-in [`User`] of a page (no session: redirect to `/login`), the
//! [`ApiUser`] of an API call (a session cookie, or `Authorization: Bearer` with an API token;
//! neither: 401), their [`Role`], and the CSRF check every form and cookie-authenticated API write
//! goes through.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use outreach_core::Actor;
use outreach_core::domain::IanaZone;
use outreach_core::entities::user;
use uuid::Uuid;

use crate::AppState;
use crate::auth;
use crate::error::{ApiError, WebError};

/// What an account may do. Staff log and schedule; coordinators also approve letters and
/// manage rules; admins also manage users and settings and read the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Staff,
    Coordinator,
    Admin,
}

impl Role {
    /// An unknown role string counts as staff, the least privileged.
    pub fn parse(s: &str) -> Self {
        match s {
            "admin" => Self::Admin,
            "coordinator" => Self::Coordinator,
            _ => Self::Staff,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Staff => "staff",
            Self::Coordinator => "coordinator",
            Self::Admin => "admin",
        }
    }
}

/// The signed-in user of a request.
#[derive(Debug, Clone)]
pub struct User {
    pub id: Uuid,
    pub handle: String,
    pub role: Role,
    pub zone: IanaZone,
    /// The session's CSRF token; empty for API-token requests, which carry no cookie.
    pub csrf: String,
    pub actor: Actor,
    /// What the user may read: restricted notes only when an admin cleared them.
    pub reader: outreach_core::access::Reader,
}

impl User {
    /// Refuses the request unless the user's role is at least `role`; `what` says what was tried.
    ///
    /// # Errors
    /// [`WebError::Forbidden`].
    pub fn require(&self, role: Role, what: &str) -> Result<(), WebError> {
        if self.role >= role {
            Ok(())
        } else {
            Err(WebError::Forbidden(format!(
                "Only {}s can {what}; you are signed in as {} ({}). Ask a coordinator or an admin.",
                role.as_str(),
                self.handle,
                self.role.as_str()
            )))
        }
    }

    /// Checks a form's CSRF token against the session's.
    ///
    /// # Errors
    /// [`WebError::Csrf`].
    pub fn check_csrf(&self, given: &str) -> Result<(), WebError> {
        if auth::same(&self.csrf, given) {
            Ok(())
        } else {
            Err(WebError::Csrf)
        }
    }

    /// The user's today, in their own zone.
    pub fn today(&self) -> chrono::NaiveDate {
        self.zone.local(Utc::now()).date_naive()
    }
}

fn zone_of(u: &user::Model) -> IanaZone {
    IanaZone::parse("time_zone", &u.time_zone).unwrap_or(IanaZone::UTC)
}

/// The request's user, unless the account is disabled (a disabled account has no sessions and
/// no tokens left; this is the second lock on the door).
fn user_from(u: user::Model, csrf: String) -> Option<User> {
    if u.disabled_at.is_some() {
        return None;
    }
    let zone = zone_of(&u);
    let actor = Actor::new(&u.handle, zone).ok()?;
    Some(User {
        reader: outreach_core::access::Reader {
            handle: Some(u.handle.clone()),
            cleared: u.cleared,
        },
        id: u.id,
        role: Role::parse(&u.role),
        handle: u.handle,
        zone,
        csrf,
        actor,
    })
}

/// The user the request's session cookie signs in, if any.
///
/// # Errors
/// Database errors (answered 503 while the database is unreachable), never "not signed in".
async fn from_session(app: &AppState, parts: &Parts) -> Result<Option<User>, WebError> {
    let Some(s) = auth::session(&app.db, &parts.headers).await? else {
        return Ok(None);
    };
    let Some(u) = outreach_core::actor::user_by_id(&app.db, s.user_id).await? else {
        return Ok(None);
    };
    Ok(user_from(u, s.csrf_token))
}

/// The secret of an `Authorization: Bearer TOKEN` header, if the request has one.
pub fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
}

/// The user a token of `kind` acts for, marking the token used.
///
/// # Errors
/// Database errors, never "unknown token".
pub async fn from_token(
    app: &AppState,
    kind: &str,
    secret: &str,
) -> Result<Option<User>, WebError> {
    let Some(u) = auth::token_account(&app.db, kind, secret).await? else {
        return Ok(None);
    };
    Ok(user_from(u, String::new()))
}

impl FromRequestParts<Arc<AppState>> for User {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        match from_session(app, parts).await {
            Ok(Some(user)) => Ok(user),
            Ok(None) => Err(Redirect::to("/login").into_response()),
            Err(e) => Err(e.into_response()),
        }
    }
}

/// The user of an API call. A write authenticated by the session cookie must carry the session's
/// CSRF token in the `X-CSRF-Token` header; token-authenticated calls carry no cookie and need none.
#[derive(Debug, Clone)]
pub struct ApiUser(pub User);

impl FromRequestParts<Arc<AppState>> for ApiUser {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        if let Some(secret) = bearer(&parts.headers).map(str::to_owned) {
            return match from_token(app, "api", &secret).await {
                Ok(Some(u)) => Ok(Self(u)),
                Ok(None) => Err(unauthenticated("the API token is unknown or was revoked")),
                Err(e) => Err(ApiError(e).into_response()),
            };
        }
        let Some(u) = from_session(app, parts)
            .await
            .map_err(|e| ApiError(e).into_response())?
        else {
            return Err(unauthenticated(
                "sign in, or send an API token as `Authorization: Bearer TOKEN`",
            ));
        };
        let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if !safe {
            let given = parts
                .headers
                .get("x-csrf-token")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            if !auth::same(&u.csrf, given) {
                return Err(ApiError(WebError::Csrf).into_response());
            }
        }
        Ok(Self(u))
    }
}

fn unauthenticated(message: &str) -> Response {
    (
        StatusCode::UNAUTHORIZED,
        axum::Json(serde_json::json!({ "error": { "code": "unauthenticated", "message": message, "field": null } })),
    )
        .into_response()
}
