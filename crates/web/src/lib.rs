//! outreach web: the app campaign staff open every morning. Pages are server-rendered from
//! `templates/web/` (compiled in, HTML-escaped by handlebars); a JSON API under `/api/v1` serves
//! scripts. Every route but `/healthz`, `/readyz` and `/login` requires a session; every form
//! carries a CSRF token; passwords are argon2 hashes; sessions live in the database.
//!
//! This is the first slice of the web app: accounts, sessions, the dashboard of states not party
//! and `/api/v1/states`. `serve` runs it beside the scheduler and the mailer in one process.

pub mod auth;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use handlebars::Handlebars;
use outreach_core::config::Settings;
use outreach_core::domain::parse_date;
use outreach_core::status::StatusFilter;
use outreach_core::{states, views};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde::Deserialize;
use tokio::sync::watch;

pub use auth::set_password;
use auth::{LOGIN_COOKIE, SESSION_COOKIE, SessionUser};

/// Errors of the web crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Core(#[from] outreach_core::Error),
    #[error("database error: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error("cannot serve on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("templates: {0}")]
    Templates(String),
    #[error(transparent)]
    Scheduler(#[from] outreach_scheduler::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What every request handler reads.
#[derive(Debug)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub treaty: String,
    pages: Handlebars<'static>,
    limiter: auth::LoginLimiter,
}

impl AppState {
    /// # Errors
    /// [`Error::Templates`] if a page template does not parse.
    pub fn new(db: DatabaseConnection, treaty: &str) -> Result<Self> {
        let mut pages = Handlebars::new();
        pages.set_strict_mode(true);
        for (name, text) in [
            ("login", include_str!("../../../templates/web/login.hbs")),
            (
                "dashboard",
                include_str!("../../../templates/web/dashboard.hbs"),
            ),
        ] {
            pages
                .register_template_string(name, text)
                .map_err(|e| Error::Templates(format!("{name}: {e}")))?;
        }
        Ok(Self {
            db,
            treaty: treaty.to_owned(),
            pages,
            limiter: auth::LoginLimiter::default(),
        })
    }

    fn page(&self, name: &str, data: &serde_json::Value) -> Response {
        match self.pages.render(name, data) {
            Ok(html) => Html(html).into_response(),
            Err(e) => {
                tracing::error!(page = name, error = %e, "a page failed to render");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the page could not be shown",
                )
                    .into_response()
            }
        }
    }
}

/// The routes of the app.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/", get(dashboard))
        .route("/api/v1/states", get(api_states))
        .with_state(state)
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(app): State<Arc<AppState>>) -> Response {
    match app.db.execute_unprepared("SELECT 1").await {
        Ok(_) => "ready".into_response(),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("database unavailable: {e}"),
        )
            .into_response(),
    }
}

fn cookie_header(name: &str, value: &str, max_age_secs: i64) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{name}={value}; HttpOnly; SameSite=Lax; Path=/; Max-Age={max_age_secs}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

async fn login_page(State(app): State<Arc<AppState>>) -> Response {
    let token = auth::random_token();
    let mut res = app.page(
        "login",
        &serde_json::json!({ "csrf": token, "handle": "", "error": null }),
    );
    res.headers_mut().append(
        header::SET_COOKIE,
        cookie_header(LOGIN_COOKIE, &token, 3600),
    );
    res
}

#[derive(Debug, Deserialize)]
struct LoginForm {
    handle: String,
    password: String,
    #[serde(default)]
    csrf: String,
}

async fn login(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let expected = auth::cookie(&headers, LOGIN_COOKIE);
    if expected
        .as_deref()
        .is_none_or(|t| !auth::same(t, &form.csrf))
    {
        return (
            StatusCode::FORBIDDEN,
            "The form expired or was not sent from this site; reload the sign-in page.",
        )
            .into_response();
    }
    let handle = form.handle.trim().to_owned();
    if app.limiter.blocked(&handle) {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            "Too many failed sign-ins for this handle; wait 15 minutes and try again.",
        )
            .into_response();
    }
    match auth::login(&app.db, &handle, &form.password).await {
        Ok(Some(token)) => {
            app.limiter.succeeded(&handle);
            let mut res = Redirect::to("/").into_response();
            res.headers_mut().append(
                header::SET_COOKIE,
                cookie_header(SESSION_COOKIE, &token, auth::SESSION_HOURS * 3600),
            );
            res.headers_mut()
                .append(header::SET_COOKIE, cookie_header(LOGIN_COOKIE, "", 0));
            res
        }
        Ok(None) => {
            app.limiter.failed(&handle);
            let mut res = app.page(
                "login",
                &serde_json::json!({
                    "csrf": form.csrf, "handle": handle,
                    "error": "The handle or the password is not right.",
                }),
            );
            *res.status_mut() = StatusCode::UNAUTHORIZED;
            res
        }
        Err(e) => {
            tracing::error!(error = %e, "sign-in failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Signing in failed; try again.",
            )
                .into_response()
        }
    }
}

#[derive(Debug, Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn logout(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    let Some(user) = auth::session(&app.db, &headers).await else {
        return Redirect::to("/login").into_response();
    };
    if !auth::same(&user.csrf_token, &form.csrf) {
        return (
            StatusCode::FORBIDDEN,
            "The form was not sent from this site.",
        )
            .into_response();
    }
    if let Err(e) = auth::logout(&app.db, &headers).await {
        tracing::error!(error = %e, "sign-out failed");
    }
    let mut res = Redirect::to("/login").into_response();
    res.headers_mut()
        .append(header::SET_COOKIE, cookie_header(SESSION_COOKIE, "", 0));
    res
}

async fn dashboard(State(app): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let Some(user) = auth::session(&app.db, &headers).await else {
        return Redirect::to("/login").into_response();
    };
    match dashboard_page(&app, &user).await {
        Ok(res) => res,
        Err(e) => {
            tracing::error!(error = %e, "dashboard failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "The dashboard could not be built; try again.",
            )
                .into_response()
        }
    }
}

async fn dashboard_page(app: &AppState, user: &SessionUser) -> Result<Response> {
    let today = user.zone.local(chrono::Utc::now()).date_naive();
    let rows = views::attention(&app.db, &app.treaty, today).await?;
    let data = serde_json::json!({
        "user": user.handle, "role": user.role, "csrf": user.csrf_token,
        "treaty": app.treaty, "today": today.to_string(), "count": rows.len(),
        "rows": rows.iter().map(|r| serde_json::json!({
            "iso3": r.iso3, "name": r.name, "status": r.status.label(),
            "last_engagement": r.last_engagement.map(|d| d.to_string()),
            "days": r.days_since_last_engagement,
            "next_meeting": r.next_meeting.as_ref().map(|m| format!("{} {} ({})", m.local_start, m.time_zone, m.title)),
            "grantees": r.grantees.join(", "),
            "open_follow_ups": r.open_follow_ups,
        })).collect::<Vec<_>>(),
    });
    Ok(app.page("dashboard", &data))
}

#[derive(Debug, Deserialize)]
struct StatesQuery {
    treaty: Option<String>,
    status: Option<String>,
    at: Option<String>,
}

fn api_error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(serde_json::json!({ "error": { "code": code, "message": message } })),
    )
        .into_response()
}

async fn api_states(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<StatesQuery>,
) -> Response {
    let Some(user) = auth::session(&app.db, &headers).await else {
        return api_error(StatusCode::UNAUTHORIZED, "unauthenticated", "sign in first");
    };
    let filter = match StatusFilter::parse(q.status.as_deref().unwrap_or("all")) {
        Ok(f) => f,
        Err(e) => return api_error(StatusCode::BAD_REQUEST, "invalid_status", &e.to_string()),
    };
    let at = match q.at.as_deref() {
        Some(d) => match parse_date("at", d) {
            Ok(d) => d,
            Err(e) => return api_error(StatusCode::BAD_REQUEST, "invalid_date", &e.to_string()),
        },
        None => user.zone.local(chrono::Utc::now()).date_naive(),
    };
    let treaty =
        match states::resolve_treaty(&app.db, q.treaty.as_deref().unwrap_or(&app.treaty)).await {
            Ok(t) => t,
            Err(e) => return api_error(StatusCode::BAD_REQUEST, "invalid_treaty", &e.to_string()),
        };
    match states::by_status(&app.db, &treaty.code, filter, at).await {
        Ok(rows) => Json(rows).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "states query failed");
            api_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "the query failed; try again",
            )
        }
    }
}

/// Serves the app on `addr` until `shutdown` turns true; returns the address it bound.
///
/// # Errors
/// [`Error::Bind`] when the address is taken or not allowed.
pub async fn bind(
    app: Arc<AppState>,
    addr: SocketAddr,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| Error::Bind {
            addr: addr.to_string(),
            source,
        })?;
    let local = listener.local_addr().map_err(|source| Error::Bind {
        addr: addr.to_string(),
        source,
    })?;
    let handle = tokio::spawn(async move {
        let server = axum::serve(listener, router(app)).with_graceful_shutdown(async move {
            let _ = shutdown.wait_for(|v| *v).await;
        });
        if let Err(e) = server.await {
            tracing::error!(error = %e, "the web server stopped");
        }
    });
    Ok((local, handle))
}

/// `outreach serve`: the web app, the scheduler and the mailer in one process on one database,
/// until SIGINT or SIGTERM.
///
/// # Errors
/// Start-up errors (address taken, broken templates or workflows).
pub async fn serve(db: DatabaseConnection, settings: &Settings, addr: SocketAddr) -> Result<()> {
    let shutdown = outreach_scheduler::daemon::shutdown_on_signals();
    let (daemon, mailer) =
        outreach_scheduler::service::build(db.clone(), settings, std::path::Path::new("."))?;
    let app = Arc::new(AppState::new(db.clone(), &settings.treaty)?);
    let (local, web) = bind(app, addr, shutdown.clone()).await?;
    eprintln!("outreach is serving on http://{local} (Ctrl-C to stop)");
    outreach_scheduler::service::run(db, daemon, mailer, shutdown).await?;
    let _ = web.await;
    Ok(())
}
