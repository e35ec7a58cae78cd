//! How a failed request answers: pages get a short HTML page saying what went wrong and what to
//! do; the API gets `{"error": {"code", "message", "field"}}`. Internal errors are logged with
//! their detail and shown without it.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use outreach_core::ErrorKind;

/// A request that cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error(transparent)]
    Core(#[from] outreach_core::Error),
    #[error(transparent)]
    Scheduler(#[from] outreach_scheduler::Error),
    #[error(transparent)]
    Letters(#[from] outreach_letters::Error),
    #[error(transparent)]
    Mailer(#[from] outreach_mailer::Error),
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
    /// A record in the address that does not exist, with where to look for the right one.
    #[error("{message}")]
    Missing {
        message: String,
        remedy: Option<outreach_core::Remedy>,
    },
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

    /// The kind of failure, as the libraries classify it.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Core(e) => e.kind(),
            Self::Scheduler(e) => e.kind(),
            Self::Letters(e) => e.kind(),
            Self::Mailer(e) => e.kind(),
            Self::Database(e) => ErrorKind::of_database(e),
            Self::Forbidden(_) | Self::Csrf => ErrorKind::Forbidden,
            Self::NotFound(_) | Self::Missing { .. } => ErrorKind::NotFound,
            Self::Invalid { .. } => ErrorKind::Invalid,
            Self::Internal(_) => ErrorKind::Internal,
        }
    }

    /// The core error this one carries, if any.
    fn core(&self) -> Option<&outreach_core::Error> {
        match self {
            Self::Core(e) => Some(e),
            Self::Scheduler(e) => e.core(),
            Self::Letters(e) => e.core(),
            Self::Mailer(e) => e.core(),
            _ => None,
        }
    }

    /// What the libraries say the user can do about it, if anything.
    pub fn remedy(&self) -> Option<outreach_core::Remedy> {
        match self {
            Self::Missing { remedy, .. } => *remedy,
            _ => self.core().and_then(outreach_core::Error::remedy),
        }
    }

    /// The HTTP status, a stable machine code, and the field at fault if there is one.
    pub fn parts(&self) -> (StatusCode, &'static str, Option<String>) {
        let kind = self.kind();
        let code = match self {
            Self::Csrf => "csrf",
            _ => kind.code(),
        };
        let field = match self {
            Self::Invalid { field, .. } => Some(field.clone()),
            _ => self.core().and_then(outreach_core::Error::field),
        };
        (status_of(kind), code, field)
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

/// The web app's one mapping from error kind to HTTP status. A request the records refuse though
/// it is well formed is 404 (a record it names does not exist) or 409 (a duplicate, a record in
/// the wrong state, a name matching several records); 400 means the request itself is wrong.
pub fn status_of(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::Invalid | ErrorKind::UnknownState | ErrorKind::InvalidCsv => {
            StatusCode::BAD_REQUEST
        }
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Conflict | ErrorKind::Ambiguous => StatusCode::CONFLICT,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Setup | ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The links of the layout's navigation that every signed-in user has.
const NAV: &[(&str, &str)] = &[
    ("/my-work", "My work"),
    ("/", "States"),
    ("/engagements/new", "Log engagement"),
    ("/signals", "Signals"),
    ("/meetings", "Meetings"),
    ("/letters", "Letters"),
    ("/outbox", "Mail"),
    ("/rules", "Rules"),
    ("/account", "Account"),
];

fn escape(s: &str) -> String {
    handlebars::html_escape(s)
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let (status, _, _) = self.parts();
        let message = self.public_message();
        // Where to look for the right record, as a link (the CLI names a command instead).
        let look = match self.remedy() {
            Some(outreach_core::Remedy::ListStates) => {
                "<p><a href=\"/\">See every state on the dashboard</a></p>"
            }
            Some(outreach_core::Remedy::ListMeetings) => {
                "<p><a href=\"/meetings\">See the meetings</a></p>"
            }
            Some(outreach_core::Remedy::ListStaff) => "<p><a href=\"/users\">See the staff</a></p>",
            _ => "",
        };
        // The app's navigation, so an error page is never a dead end (the page has no user to
        // tailor it to: the links every signed-in user has).
        let body = format!(
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{code} · outreach</title><style>.skip{{position:absolute;left:-999px;background:#fff;padding:.5rem}}\
             .skip:focus{{left:.5rem}}</style></head><body style=\"font-family:system-ui,sans-serif;margin:0\">\
             <a class=\"skip\" href=\"#main\">Skip to content</a>\
             <header style=\"background:#1d3b53;padding:.5rem 1rem\"><nav id=\"error-nav\" style=\"display:flex;flex-wrap:wrap;gap:.25rem .9rem\">\
             <strong style=\"color:#fff\">outreach</strong>{nav}</nav></header>\
             <main id=\"main\" style=\"padding:1rem\"><h1>{code}</h1><p class=\"error\" style=\"color:#a00\">{msg}</p>{look}</main></body></html>",
            code = status.canonical_reason().unwrap_or("Error"),
            msg = escape(&message),
            nav = NAV
                .iter()
                .map(|(href, label)| format!("<a style=\"color:#fff\" href=\"{href}\">{label}</a>"))
                .collect::<String>(),
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
