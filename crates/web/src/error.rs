//! How a failed request answers: pages get a short HTML page saying what went wrong and what to
//! do; the API gets `{"error": {"code", "message", "field"}}`. Internal errors are logged with
//! their detail and shown without it.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

/// A request that cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error(transparent)]
    Core(#[from] outreach_core::Error),
    #[error(transparent)]
    Scheduler(#[from] outreach_scheduler::Error),
    #[error("database error: {0}")]
    Database(#[from] sea_orm::DbErr),
    /// Signed in, but the role does not allow it.
    #[error("{0}")]
    Forbidden(String),
    /// A form or API write without its CSRF token.
    #[error("The form expired or was not sent from this site; reload the page and try again.")]
    Csrf,
    #[error("{0}")]
    NotFound(String),
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error("{0}")]
    Internal(String),
}

impl WebError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.to_owned(),
            message: message.into(),
        }
    }

    /// The HTTP status, a stable machine code, and the field at fault if there is one.
    pub fn parts(&self) -> (StatusCode, &'static str, Option<String>) {
        use outreach_core::Error as C;
        match self {
            Self::Core(C::Invalid { field, .. }) | Self::Invalid { field, .. } => {
                (StatusCode::BAD_REQUEST, "invalid", Some(field.clone()))
            }
            Self::Core(C::UnknownState { .. }) => (
                StatusCode::BAD_REQUEST,
                "unknown_state",
                Some("state".into()),
            ),
            // Well formed, but several records match: the request cannot be served as the
            // records stand (409), like a duplicate.
            Self::Core(C::Ambiguous { .. }) => (StatusCode::CONFLICT, "ambiguous", None),
            Self::Core(C::Csv { column, .. }) => {
                (StatusCode::BAD_REQUEST, "invalid_csv", Some(column.clone()))
            }
            Self::Core(C::NotFound { .. }) | Self::NotFound(_) => {
                (StatusCode::NOT_FOUND, "not_found", None)
            }
            Self::Core(C::Conflict(_)) => (StatusCode::CONFLICT, "conflict", None),
            Self::Forbidden(_) | Self::Core(C::Forbidden(_)) => {
                (StatusCode::FORBIDDEN, "forbidden", None)
            }
            Self::Csrf => (StatusCode::FORBIDDEN, "csrf", None),
            Self::Database(_) | Self::Core(C::Database(_)) | Self::Scheduler(_)
                if outreach_core::db::is_unreachable(&self.to_string()) =>
            {
                (StatusCode::SERVICE_UNAVAILABLE, "unavailable", None)
            }
            _ => (StatusCode::INTERNAL_SERVER_ERROR, "internal", None),
        }
    }

    /// What the user is told: the error itself, except for internal errors.
    pub fn public_message(&self) -> String {
        let status = self.parts().0;
        if status == StatusCode::SERVICE_UNAVAILABLE {
            // Logged once by the database watch (`watch_database`), not once per request.
            tracing::debug!(error = %self, "request failed: the database cannot be reached");
            return "The database cannot be reached just now, so nothing was read or saved. \
                    Try again in a minute; tell an admin if it lasts."
                .into();
        }
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(error = %self, "request failed");
            "Something went wrong on the server; try again, and tell an admin if it persists."
                .into()
        } else {
            self.to_string()
        }
    }

    /// The API's answer for this error.
    pub fn into_api(self) -> Response {
        ApiError(self).into_response()
    }
}

fn escape(s: &str) -> String {
    handlebars::html_escape(s)
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let (status, _, _) = self.parts();
        let message = self.public_message();
        let body = format!(
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{code} · outreach</title></head><body style=\"font-family:system-ui,sans-serif;padding:1rem\">\
             <h1>{code}</h1><p class=\"error\">{msg}</p><p><a href=\"/\">Dashboard</a></p></body></html>",
            code = status.canonical_reason().unwrap_or("Error"),
            msg = escape(&message),
        );
        (status, Html(body)).into_response()
    }
}

/// A [`WebError`] answered as JSON, for `/api/v1`.
#[derive(Debug)]
pub struct ApiError(pub WebError);

impl<E: Into<WebError>> From<E> for ApiError {
    fn from(e: E) -> Self {
        Self(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, field) = self.0.parts();
        let message = self.0.public_message();
        (
            status,
            Json(serde_json::json!({ "error": { "code": code, "message": message, "field": field } })),
        )
            .into_response()
    }
}

pub type PageResult<T = Response> = std::result::Result<T, WebError>;
pub type ApiResult<T = Response> = std::result::Result<T, ApiError>;
