//! outreach web: the app campaign staff open every morning. Pages are server-rendered from
//! `templates/web/` (compiled in, HTML-escaped by handlebars); a JSON API under `/api/v1` serves
//! scripts. Every route but `/healthz`, `/readyz`, `/metrics` (token or loopback, see [`telemetry`]),
//! `/login` and the secret calendar feed requires
//! a session (pages redirect to `/login`, the API answers 401); every form carries a CSRF token;
//! passwords are argon2 hashes; sessions live in the database. `serve` runs the app beside the
//! scheduler and the mailer in one process.
//!
//! Each part of the app is a module with its own `routes()`: [`dashboard`], [`state`],
//! [`engagements`], [`meetings`], [`feed`], [`letters`], [`mail`], [`rules`], [`admin`],
//! [`settings`], [`account`], [`api`]. [`pages`] has the typed page contexts and their check.

#![recursion_limit = "256"]

pub mod account;
pub mod admin;
pub mod api;
pub mod auth;
pub mod ctx;
pub mod dashboard;
pub mod engagements;
pub mod entities;
pub mod error;
pub mod export;
pub mod feed;
pub mod grants;
pub mod input;
pub mod letters;
pub mod mail;
pub mod meetings;
pub mod my_work;
pub mod pages;
pub mod routing;
pub mod rules;
pub mod schema;
pub mod settings;
pub mod signals;
pub mod state;
pub mod telemetry;
pub mod web_settings;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use handlebars::Handlebars;
use outreach_core::config::Settings;
use outreach_mailer::MailSettings;
use outreach_scheduler::SchedulerSettings;

use outreach_scheduler::Workflows;
use sea_orm::DatabaseConnection;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;
pub use web_settings::WebSettings;

pub use auth::set_password;
pub use ctx::{ApiUser, Role, User};
pub use error::{ApiError, ApiResult, PageResult, WebError};

use auth::{LOGIN_COOKIE, SESSION_COOKIE};

pub(crate) mod compiled {
    include!(concat!(env!("OUT_DIR"), "/web_templates.rs"));
}

/// Errors of starting the web app.
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
    /// The default treaty (settings `treaty`).
    pub treaty: String,
    pub settings: Settings,
    /// The `[web]` table.
    pub web: WebSettings,
    /// The `[mail]` table (the From address and Message-ID domain of calendar invitations).
    pub mail: MailSettings,
    /// The `[scheduler]` table (where the workflows file is).
    pub scheduler: SchedulerSettings,
    /// The meeting and follow-up rules, as the scheduler reads them.
    pub workflows: Workflows,
    /// The folder `config/` and `templates/` are read from.
    pub base: PathBuf,
    /// The letter templates, letterhead and sender, loaded and checked once at start.
    pub letters: outreach_letters::drafts::Letters,
    /// The email templates, loaded and checked once at start (template previews).
    pub mail_templates: outreach_mailer::Templates,
    pages: Handlebars<'static>,
    limiter: auth::LoginLimiter,
    /// `http://ADDRESS` the app was bound to, for links when `web.public_url` is empty.
    bound: std::sync::OnceLock<String>,
}

impl AppState {
    /// # Errors
    /// [`Error::Templates`] if a page template does not parse, [`Error::Scheduler`] for a broken
    /// workflows file.
    pub fn new(db: DatabaseConnection, settings: &Settings, base: &Path) -> Result<Self> {
        let workflows = Workflows::from_settings(base, &settings.section::<SchedulerSettings>()?)?;
        Self::with_workflows(db, settings, base, workflows)
    }

    /// As [`AppState::new`], with the workflows given.
    ///
    /// # Errors
    /// [`Error::Templates`] if a page, letter or email template does not parse.
    pub fn with_workflows(
        db: DatabaseConnection,
        settings: &Settings,
        base: &Path,
        workflows: Workflows,
    ) -> Result<Self> {
        let web: WebSettings = settings.section()?;
        let mail: MailSettings = settings.section()?;
        let scheduler: SchedulerSettings = settings.section()?;
        let letter_settings: outreach_letters::LetterSettings = settings.section()?;
        let pages = page_registry()?;
        let letters = outreach_letters::drafts::Letters {
            templates: outreach_letters::templates::LetterTemplates::load(
                &base.join(&letter_settings.templates_dir),
            )
            .map_err(|e| Error::Templates(e.to_string()))?,
            settings: letter_settings,
            treaty: settings.treaty.clone(),
        };
        let mail_templates = outreach_mailer::Templates::load(&base.join(&mail.templates_dir))
            .map_err(|e| Error::Templates(e.to_string()))?;
        Ok(Self {
            db,
            letters,
            mail_templates,
            treaty: settings.treaty.clone(),
            settings: settings.clone(),
            web,
            mail,
            scheduler,
            workflows,
            base: base.to_owned(),
            pages,
            limiter: auth::LoginLimiter::default(),
            bound: std::sync::OnceLock::new(),
        })
    }

    /// `scheme://host` of the app for absolute links (the calendar URL): `web.public_url`, else
    /// the address `serve` bound. Never taken from request headers, which a client chooses.
    pub fn origin(&self) -> String {
        let configured = self.web.public_url.trim().trim_end_matches('/');
        if configured.is_empty() {
            self.bound
                .get()
                .cloned()
                .unwrap_or_else(|| "http://127.0.0.1:8080".to_owned())
        } else {
            configured.to_owned()
        }
    }

    /// Whether users reach the app over https (`web.public_url`): cookies are then `Secure`.
    pub fn https(&self) -> bool {
        self.web.public_url.trim().starts_with("https://")
    }

    /// A `Set-Cookie` value: HttpOnly, SameSite=Lax, and Secure when the app is reached over
    /// https.
    pub fn cookie(&self, name: &str, value: &str, max_age_secs: i64) -> HeaderValue {
        let secure = if self.https() { "; Secure" } else { "" };
        HeaderValue::from_str(&format!(
            "{name}={value}; HttpOnly; SameSite=Lax; Path=/; Max-Age={max_age_secs}{secure}"
        ))
        .unwrap_or_else(|_| HeaderValue::from_static(""))
    }

    /// Renders `page` with its template, adding `me` (the user) for the layout.
    pub fn render_page<P: pages::Page>(&self, user: &User, page: &P) -> Response {
        let me = pages::Me::of(user);
        self.page(
            P::TEMPLATE,
            &pages::Framed {
                me: Some(&me),
                page,
            },
        )
    }

    /// Renders `page` for nobody signed in (`me` is null): the sign-in page.
    fn render_public<P: pages::Page>(&self, page: &P) -> Response {
        self.page(P::TEMPLATE, &pages::Framed { me: None, page })
    }

    fn page<T: serde::Serialize>(&self, name: &str, data: &T) -> Response {
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

/// The page templates compiled in, registered in a strict registry that escapes HTML: each
/// `NAME.hbs` as template (and partial) `NAME`.
///
/// # Errors
/// [`Error::Templates`] if a page template does not parse.
pub fn page_registry() -> Result<Handlebars<'static>> {
    let mut pages = Handlebars::new();
    pages.set_strict_mode(true);
    for (name, text) in compiled::TEMPLATES {
        pages
            .register_template_string(name, *text)
            .map_err(|e| Error::Templates(format!("templates/web/{name}.hbs: {e}")))?;
    }
    Ok(pages)
}

/// Every route of the app (pages and API) and the API's OpenAPI document, built from the same
/// declarations: the router serves them, tests walk the table, `/api/openapi.json` serves the
/// document.
pub fn app_routes() -> (routing::Routes, utoipa::openapi::OpenApi) {
    let pages = crate::page_routes! {
        "/healthz" => get(healthz),
        "/readyz" => get(readyz),
        "/metrics" => get(telemetry::scrape),
        // Browsers ask for it on every page; answered without a session so the request is not
        // redirected to the sign-in page (which would replace the sign-in form's token).
        "/favicon.ico" => get(|| async { StatusCode::NO_CONTENT }),
        "/login" => get(login_page).post(login),
        "/logout" => post(logout),
        "/assets/{name}" => get(asset),
    }
    .merge(dashboard::routes())
    .merge(state::routes())
    .merge(grants::routes())
    .merge(signals::routes())
    .merge(my_work::routes())
    .merge(export::routes())
    .merge(engagements::routes())
    .merge(meetings::routes())
    .merge(feed::routes())
    .merge(letters::routes())
    .merge(mail::routes())
    .merge(admin::routes())
    .merge(rules::routes())
    .merge(settings::routes())
    .merge(account::routes());
    let (routes, mut doc) = pages.merge_api(api::routes());
    api::complete(&mut doc);
    (routes, doc)
}

/// Every route the app serves, with its method: what the tests walk.
pub fn route_table() -> Vec<routing::Route> {
    let (routes, _) = app_routes();
    let mut table = routes.table().to_vec();
    table.sort();
    table
}

/// The routes of the app.
pub fn router(state: Arc<AppState>) -> Router {
    // Installed before the first request, so every part of the process records from the start.
    telemetry::handle();
    let (routes, _) = app_routes();
    let (routes, _) = routes.into_parts();
    let routes = routes
        // Latency per declared route; the fallback's answers (unknown paths) are not counted,
        // so a scan of random paths cannot grow the metrics without bound.
        .route_layer(axum::middleware::from_fn(telemetry::track))
        .fallback(not_found);
    with_security_headers(routes.layer(axum::middleware::from_fn(
        input::refuse_control_characters,
    )))
    .layer(
            tower_http::trace::TraceLayer::new_for_http()
                .make_span_with(|req: &axum::http::Request<_>| {
                    tracing::info_span!("request", method = %req.method(), path = %logged_path(req.uri().path()))
                })
                .on_response(
                    tower_http::trace::DefaultOnResponse::new()
                        .level(tracing::Level::INFO)
                        .latency_unit(tower_http::LatencyUnit::Millis),
                ),
        )
        .with_state(state)
}

/// The path as request logs show it: the secret of a calendar feed URL is never logged.
fn logged_path(path: &str) -> String {
    match path.strip_prefix("/calendar/") {
        Some(_) => "/calendar/[secret].ics".to_owned(),
        None => path.to_owned(),
    }
}

/// Headers on every answer: a Content-Security-Policy without inline script (scripts come from
/// `/assets/`), no framing, no referrer to other sites, no MIME sniffing; and `Cache-Control:
/// no-store` unless a handler set its own (pages show records and, once, new tokens).
fn with_security_headers<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    use tower_http::set_header::SetResponseHeaderLayer as Set;
    router
        .layer(Set::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ))
        .layer(Set::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(Set::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(Set::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(Set::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
}

/// The Content-Security-Policy of every answer.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; \
    base-uri 'none'";

/// The app's scripts, compiled in.
const ASSETS: &[(&str, &str)] = &[
    (
        "participants_search.js",
        include_str!("../assets/participants_search.js"),
    ),
    ("meeting_new.js", include_str!("../assets/meeting_new.js")),
];

/// `GET /assets/NAME`: one of the app's scripts, for signed-in users.
async fn asset(_user: User, axum::extract::Path(name): axum::extract::Path<String>) -> Response {
    match ASSETS.iter().find(|(n, _)| *n == name) {
        Some((_, body)) => (
            [
                (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
                (header::CACHE_CONTROL, "private, max-age=3600"),
            ],
            *body,
        )
            .into_response(),
        None => WebError::NotFound("There is no such file.".into()).into_response(),
    }
}

async fn not_found(_user: User) -> Response {
    WebError::NotFound("There is no such page.".into()).into_response()
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(app): State<Arc<AppState>>) -> Response {
    match outreach_core::db::ping(&app.db).await {
        Ok(_) => "ready".into_response(),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("database unavailable: {e}"),
        )
            .into_response(),
    }
}

async fn login_page(State(app): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    // Keep the token of a sign-in page already open in another tab (or one the browser loaded
    // again behind the user's back), so submitting that page still works.
    let token = auth::cookie(&headers, LOGIN_COOKIE)
        .filter(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()))
        .unwrap_or_else(auth::random_token);
    let mut res = app.render_public(&LoginPage {
        csrf: token.clone(),
        handle: String::new(),
        error: None,
    });
    res.headers_mut()
        .append(header::SET_COOKIE, app.cookie(LOGIN_COOKIE, &token, 3600));
    res
}

/// The sign-in page: the form's token, the handle typed and why signing in failed.
#[derive(Debug, Serialize)]
pub struct LoginPage {
    pub csrf: String,
    pub handle: String,
    pub error: Option<String>,
}

impl pages::Page for LoginPage {
    const TEMPLATE: &'static str = "login";
    fn sample() -> Self {
        Self {
            csrf: "0123abcd".into(),
            handle: "sam".into(),
            error: Some("The handle or the password is not right.".into()),
        }
    }
}

#[derive(Debug, Deserialize)]
struct LoginForm {
    handle: String,
    password: String,
    #[serde(default)]
    csrf: String,
}

/// The address a request came from (the peer of its TCP connection; a proxy in front shows as
/// itself), or "unknown" where the server was not started with connection info (tests).
#[derive(Debug)]
pub struct ClientAddr(pub String);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> std::result::Result<Self, Self::Rejection> {
        Ok(Self(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<SocketAddr>>()
                .map_or_else(|| "unknown".to_owned(), |c| c.0.ip().to_string()),
        ))
    }
}

async fn login(
    State(app): State<Arc<AppState>>,
    ClientAddr(client): ClientAddr,
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
    if let Some(wait) = app.limiter.wait(&handle, &client) {
        let secs = wait.as_secs().max(1);
        let mut res = (
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "Too many failed sign-ins from here; wait {} and try again.",
                if secs < 90 {
                    format!("{secs} seconds")
                } else {
                    format!("{} minutes", secs.div_ceil(60))
                }
            ),
        )
            .into_response();
        if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return res;
    }
    if handle.chars().any(char::is_control) || form.password.contains('\0') {
        app.limiter.failed(&handle, &client);
        let mut res = app.render_public(&LoginPage {
            csrf: form.csrf,
            handle: String::new(),
            error: Some("The handle holds a control character; type it again.".into()),
        });
        *res.status_mut() = StatusCode::UNAUTHORIZED;
        return res;
    }
    match auth::login(&app.db, &handle, &form.password).await {
        Ok(Some(token)) => {
            app.limiter.succeeded(&handle, &client);
            let mut res = Redirect::to("/").into_response();
            res.headers_mut().append(
                header::SET_COOKIE,
                app.cookie(SESSION_COOKIE, &token, auth::SESSION_HOURS * 3600),
            );
            res.headers_mut()
                .append(header::SET_COOKIE, app.cookie(LOGIN_COOKIE, "", 0));
            res
        }
        Ok(None) => {
            app.limiter.failed(&handle, &client);
            let mut res = app.render_public(&LoginPage {
                csrf: form.csrf,
                handle,
                error: Some("The handle or the password is not right.".into()),
            });
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

/// A form whose only field is its CSRF token (buttons that act on the URL's record).
#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub csrf: String,
}

async fn logout(
    State(app): State<Arc<AppState>>,
    user: User,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    if let Err(e) = auth::logout(&app.db, &headers).await {
        tracing::error!(error = %e, "sign-out failed");
    }
    let mut res = Redirect::to("/login").into_response();
    res.headers_mut()
        .append(header::SET_COOKIE, app.cookie(SESSION_COOKIE, "", 0));
    Ok(res)
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
    let _ = app.bound.set(format!("http://{local}"));
    let watch = tokio::spawn(watch_database(app.db.clone()));
    let handle = tokio::spawn(async move {
        let upkeep = telemetry::spawn_upkeep();
        let server = axum::serve(
            listener,
            router(app).into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = shutdown.wait_for(|v| *v).await;
        });
        if let Err(e) = server.await {
            tracing::error!(error = %e, "the web server stopped");
        }
        upkeep.abort();
        watch.abort();
    });
    Ok((local, handle))
}

/// How often [`watch_database`] asks the database whether it answers.
const WATCH_EVERY: Duration = Duration::from_secs(1);

/// Asks a PostgreSQL server every second whether it answers, while the app serves. A lost
/// server is logged once at warn (requests meanwhile answer 503 and log nothing of their own),
/// its return once at info. The probe has a connection of its own, so a pool busy with requests
/// is never taken for an outage; on the server's return it also asks through the app's pool,
/// which then opens fresh connections before the next request needs them. (A SQLite file does
/// not go away the way a server does: nothing to watch.)
async fn watch_database(db: DatabaseConnection) {
    if db.get_database_backend() != sea_orm::DbBackend::Postgres {
        return;
    }
    let options = (*db.get_postgres_connection_pool().connect_options()).clone();
    let probe = sea_orm::sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .min_connections(0)
        .acquire_timeout(WATCH_EVERY)
        .connect_lazy_with(options);
    let mut lost: Option<std::time::Instant> = None;
    loop {
        tokio::time::sleep(WATCH_EVERY).await;
        let answer = tokio::time::timeout(
            WATCH_EVERY,
            sea_orm::sqlx::query("SELECT 1").execute(&probe),
        )
        .await;
        match (answer, lost) {
            (Ok(Ok(_)), Some(since)) => {
                let _ = tokio::time::timeout(WATCH_EVERY, outreach_core::db::ping(&db)).await;
                tracing::info!(
                    down_secs = since.elapsed().as_secs(),
                    "the database answers again; pages and the API work as before"
                );
                lost = None;
            }
            (Ok(Ok(_)), None) => {}
            (failed, None) => {
                let error = match failed {
                    Ok(Err(e)) => e.to_string(),
                    _ => format!("no answer within {} s", WATCH_EVERY.as_secs()),
                };
                tracing::warn!(
                    error = %error,
                    "the database cannot be reached; pages and the API answer 503 until it is back"
                );
                lost = Some(std::time::Instant::now());
            }
            (_, Some(_)) => {}
        }
    }
}

/// `outreach serve`: the web app, the scheduler and the mailer in one process on one database,
/// until SIGINT or SIGTERM; with `with_scheduler` false, the web app alone (a team runs the
/// scheduler daemons as processes of their own). On a fresh database the acting handle becomes
/// the first admin, with a password printed once.
///
/// # Errors
/// Start-up errors (address taken, broken templates or workflows).
pub async fn serve(
    db: DatabaseConnection,
    settings: &Settings,
    actor: &outreach_core::Actor,
    addr: SocketAddr,
    with_scheduler: bool,
) -> Result<()> {
    let shutdown = outreach_scheduler::daemon::shutdown_on_signals();
    let base = Path::new(".");
    if let Some(password) = auth::first_admin(&db, actor).await? {
        eprintln!(
            "No account could sign in yet, so '{handle}' is now an admin.\n\
             Sign in as '{handle}' with the password {password}\n\
             (shown once; change it on the Account page, and add your colleagues on the Users page).",
            handle = actor.handle
        );
    }
    let app = Arc::new(AppState::new(db.clone(), settings, base)?);
    if with_scheduler {
        let (daemon, mailer) = outreach_scheduler::service::build(db.clone(), settings, base)?;
        let (local, web) = bind(app, addr, shutdown.clone()).await?;
        eprintln!("outreach is serving on http://{local} (Ctrl-C to stop)");
        outreach_scheduler::service::run(db, daemon, mailer, shutdown).await?;
        let _ = web.await;
    } else {
        let (local, web) = bind(app, addr, shutdown).await?;
        eprintln!(
            "outreach is serving on http://{local} without the scheduler: reminders and email go out \
             only while `outreach scheduler` runs on this database (Ctrl-C to stop)"
        );
        let _ = web.await;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_calendar_secret_never_reaches_a_log_line() {
        assert_eq!(
            super::logged_path("/calendar/3fa2b9c1d0e1f2a3b4c5d6e7f8091a2b.ics"),
            "/calendar/[secret].ics"
        );
        assert_eq!(super::logged_path("/states/NPL"), "/states/NPL");
    }
}
