//! What every web test shares: a real server on loopback over a fresh database (SQLite file or
//! PostgreSQL), three accounts, and a cookie-keeping client that signs in through the real form.
//!
//! Accounts (password `correct horse battery` for each): `maria` (coordinator), `sam` (staff),
//! `ada` (admin).

#![allow(dead_code, clippy::unwrap_used)]

use std::path::PathBuf;
use std::sync::Arc;

use outreach_core::Actor;
use outreach_core::actor::{UserInput, upsert_user};
use outreach_core::domain::IanaZone;
use outreach_testkit::TestDb;
use outreach_web::{AppState, bind, set_password};
use reqwest::redirect::Policy;
use sea_orm::DatabaseConnection;

pub const PASSWORD: &str = "correct horse battery";

pub struct Running {
    pub base: String,
    pub db: DatabaseConnection,
    pub stop: tokio::sync::watch::Sender<bool>,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// The repository's root, where `config/` and `templates/` are.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn settings() -> outreach_core::config::Settings {
    let dir = tempfile::tempdir().unwrap();
    outreach_core::config::Settings::load_from(dir.path(), "test", false).unwrap()
}

pub async fn start(db: &TestDb) -> Running {
    start_with(db, settings()).await
}

/// As [`start`], with these settings.
pub async fn start_with(db: &TestDb, settings: outreach_core::config::Settings) -> Running {
    let conn = outreach_core::db::open(&db.url, "tester").await.unwrap();
    let admin = Actor::new("admin", IanaZone::UTC).unwrap();
    for (handle, role) in [("maria", "coordinator"), ("sam", "staff"), ("ada", "admin")] {
        upsert_user(
            &conn,
            &admin,
            &UserInput {
                handle: handle.into(),
                role: Some(role.into()),
                email: Some(format!("{handle}@example.org")),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        set_password(&conn, &admin, handle, PASSWORD).await.unwrap();
    }
    let (stop, rx) = tokio::sync::watch::channel(false);
    let app = Arc::new(AppState::new(conn.clone(), &settings, &repo_root()).unwrap());
    let (addr, _) = bind(app, "127.0.0.1:0".parse().unwrap(), rx).await.unwrap();
    Running {
        base: format!("http://{addr}"),
        db: conn,
        stop,
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .build()
        .unwrap()
}

/// The CSRF token in a page's hidden field.
pub fn csrf_of(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").unwrap() + "name=\"csrf\" value=\"".len();
    html[at..at + 64].to_owned()
}

/// Posts the sign-in form as `handle`.
pub async fn sign_in(
    c: &reqwest::Client,
    base: &str,
    handle: &str,
    password: &str,
) -> reqwest::Response {
    let page = c
        .get(format!("{base}/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_of(&page);
    c.post(format!("{base}/login"))
        .form(&[
            ("handle", handle),
            ("password", password),
            ("csrf", csrf.as_str()),
        ])
        .send()
        .await
        .unwrap()
}

/// A client signed in as `handle`, and the session's CSRF token.
pub async fn signed_in(base: &str, handle: &str) -> (reqwest::Client, String) {
    let c = client();
    let res = sign_in(&c, base, handle, PASSWORD).await;
    assert_eq!(
        res.status(),
        reqwest::StatusCode::SEE_OTHER,
        "sign-in as {handle}"
    );
    let home = c
        .get(format!("{base}/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_of(&home);
    (c, csrf)
}

/// GETs `path` and returns status and body.
pub async fn get(c: &reqwest::Client, base: &str, path: &str) -> (reqwest::StatusCode, String) {
    let res = c.get(format!("{base}{path}")).send().await.unwrap();
    (res.status(), res.text().await.unwrap())
}

/// POSTs a form (pairs of name and value) to `path` and returns status, the Location header if
/// any, and body.
pub async fn post_form(
    c: &reqwest::Client,
    base: &str,
    path: &str,
    form: &[(&str, &str)],
) -> (reqwest::StatusCode, Option<String>, String) {
    let res = c
        .post(format!("{base}{path}"))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = res.status();
    let location = res
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (status, location, res.text().await.unwrap())
}

/// Owned form values as the pairs [`post_form`] takes.
pub fn pairs<'a>(form: &'a [(&'a str, String)]) -> Vec<(&'a str, &'a str)> {
    form.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// Every (method, path) the app serves, from the router's own table (`outreach_web::route_table`).
pub fn declared_routes() -> Vec<(String, String)> {
    outreach_web::route_table()
        .into_iter()
        .map(|r| (r.method, r.path))
        .collect()
}
