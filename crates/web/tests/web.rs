//! The web app's first slice against a real server on loopback, on SQLite and PostgreSQL:
//! everything but health and sign-in needs a session, forms need their CSRF token, failed
//! sign-ins are limited, and a signed-in user sees the dashboard and the states API.

#![allow(clippy::unwrap_used)]

mod common;

use common::{client, csrf_of, start};
use outreach_core::Actor;
use outreach_core::actor::{UserInput, upsert_user};
use outreach_core::domain::IanaZone;
use outreach_testkit::{TestDb, db_test};
use outreach_web::set_password;
use reqwest::StatusCode;

async fn sign_in(c: &reqwest::Client, base: &str, password: &str) -> reqwest::Response {
    common::sign_in(c, base, "maria", password).await
}

async fn every_route_but_health_and_login_needs_a_session(db: &TestDb) {
    let app = start(db).await;
    let c = client();
    assert_eq!(
        c.get(format!("{}/healthz", app.base))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        c.get(format!("{}/readyz", app.base))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let home = c.get(format!("{}/", app.base)).send().await.unwrap();
    assert_eq!(home.status(), StatusCode::SEE_OTHER);
    assert_eq!(home.headers()["location"], "/login");
    let api = c
        .get(format!("{}/api/v1/states", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), StatusCode::UNAUTHORIZED);
    let body: serde_json::Value = api.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthenticated");
    // A forged session cookie is no session.
    let forged = c
        .get(format!("{}/", app.base))
        .header("cookie", "outreach_session=00ff")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::SEE_OTHER);

    // Every route the app serves, listed by the router itself so a new one cannot be missed:
    // pages send the browser to /login, the API answers 401, and only the public ones answer.
    let routes = common::declared_routes();
    assert!(routes.len() >= 60, "{routes:?}");
    let public = [
        "/healthz",
        "/readyz",
        "/metrics",
        "/login",
        "/favicon.ico",
        "/calendar/{file}",
    ];
    // The API's routes are the OpenAPI document's operations: the table is built from it.
    let (_, doc) = outreach_web::app_routes();
    let doc = serde_json::to_value(doc).unwrap();
    let api: Vec<_> = routes
        .iter()
        .filter(|(_, p)| p.starts_with("/api/"))
        .collect();
    assert!(api.len() >= 30, "{api:?}");
    for (method, path) in &api {
        assert!(
            doc["paths"][path.as_str()][method.as_str()].is_object(),
            "{method} {path} is not in the OpenAPI document"
        );
    }
    for (method, path) in &routes {
        if public.contains(&path.as_str()) {
            continue;
        }
        let url = format!(
            "{}{}",
            app.base,
            path.replace("{key}", "NPL")
                .replace("{state}", "NPL")
                .replace("{id}", "0000abcd")
                .replace("{name}", "meeting_reminder")
                .replace("{prefix}", "abcdefgh")
                .replace("{handle}", "sam")
        );
        let req = match method.as_str() {
            "get" => c.get(&url),
            _ => c.post(&url).form(&[("csrf", "x"), ("name", "x")]),
        };
        let res = req.send().await.unwrap();
        // The suggestions behind search-as-you-type are JSON for the page's script, like the API.
        if path.starts_with("/api/") || path == "/search/participants" {
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{method} {path}");
        } else {
            assert_eq!(res.status(), StatusCode::SEE_OTHER, "{method} {path}");
            assert_eq!(res.headers()["location"], "/login", "{method} {path}");
        }
    }
    app.stop.send(true).unwrap();
}
db_test!(
    sessions_required,
    every_route_but_health_and_login_needs_a_session
);

async fn a_signed_in_coordinator_sees_the_dashboard_and_the_states_api(db: &TestDb) {
    let app = start(db).await;
    let c = client();
    let wrong = sign_in(&c, &app.base, "not the password").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(
        wrong
            .text()
            .await
            .unwrap()
            .contains("The handle or the password is not right.")
    );

    let ok = sign_in(&c, &app.base, "correct horse battery").await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER, "{:?}", ok.text().await);
    let page = c.get(format!("{}/", app.base)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("<a href=\"/states/NPL\">Nepal</a> (NPL)"),
        "{html}"
    );
    assert!(html.contains("states not party to the APMBC"), "{html}");
    assert!(html.contains("maria (coordinator)"));

    let states: serde_json::Value = c
        .get(format!(
            "{}/api/v1/states?status=not-party&at=2022-06-20",
            app.base
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(states.as_array().unwrap().len(), 33);
    let bad = c
        .get(format!("{}/api/v1/states?at=yesterday", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = bad.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid");
    assert_eq!(body["error"]["field"], "at");

    // Signing out needs the session's CSRF token.
    let refused = c
        .post(format!("{}/logout", app.base))
        .form(&[("csrf", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let csrf = csrf_of(&html);
    let out = c
        .post(format!("{}/logout", app.base))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        c.get(format!("{}/", app.base))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::SEE_OTHER
    );
    app.stop.send(true).unwrap();
}
db_test!(
    dashboard,
    a_signed_in_coordinator_sees_the_dashboard_and_the_states_api
);

async fn a_sign_in_without_its_token_or_after_failures_waits_but_another_client_signs_in(
    db: &TestDb,
) {
    let app = start(db).await;
    let c = client();
    let no_token = c
        .post(format!("{}/login", app.base))
        .form(&[("handle", "maria"), ("password", "correct horse battery")])
        .send()
        .await
        .unwrap();
    assert_eq!(no_token.status(), StatusCode::FORBIDDEN);
    for _ in 0..3 {
        assert_eq!(
            sign_in(&c, &app.base, "guess").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    // From this client the handle now waits, even with the right password...
    let held = sign_in(&c, &app.base, "correct horse battery").await;
    assert_eq!(held.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = held.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&wait), "{wait}");
    // ... but maria, signing in from her own machine (another loopback address), is not locked
    // out by someone else's guesses.
    let elsewhere = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .local_address(Some("127.0.0.2".parse().unwrap()))
        .build()
        .unwrap();
    let ok = sign_in(&elsewhere, &app.base, "correct horse battery").await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    app.stop.send(true).unwrap();
}
db_test!(
    login_limits,
    a_sign_in_without_its_token_or_after_failures_waits_but_another_client_signs_in
);

async fn short_passwords_and_unknown_handles_are_refused(db: &TestDb) {
    let conn = outreach_core::db::open(&db.url, "tester").await.unwrap();
    let admin = Actor::new("admin", IanaZone::parse("tz", "UTC").unwrap()).unwrap();
    let err = set_password(&conn, &admin, "nobody", "long enough password")
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("no staff member matches 'nobody'"), "{err}");
    upsert_user(
        &conn,
        &admin,
        &UserInput {
            handle: "ana".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let err = set_password(&conn, &admin, "ana", "short")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("password: is shorter than 12 characters"),
        "{err}"
    );
    // Long but easy to guess: refused with the strength checker's reason.
    for weak in [
        "password1234",
        "123456789012",
        "            ",
        "anaanaanaana",
    ] {
        let err = set_password(&conn, &admin, "ana", weak)
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("password: is too easy to guess (strength "),
            "{weak:?}: {err}"
        );
    }
    set_password(&conn, &admin, "ana", "lantern quarry velvet morning")
        .await
        .unwrap();
}
db_test!(passwords, short_passwords_and_unknown_handles_are_refused);

async fn a_fresh_database_gets_one_first_admin_who_can_sign_in(db: &TestDb) {
    let conn = outreach_core::db::open(&db.url, "tester").await.unwrap();
    let me = Actor::new("lead", IanaZone::UTC).unwrap();
    let password = outreach_web::auth::first_admin(&conn, &me)
        .await
        .unwrap()
        .expect("a fresh database gets a first admin");
    assert_eq!(password.len(), 20);
    // Once an account can sign in, nobody else is made admin.
    let other = Actor::new("someone", IanaZone::UTC).unwrap();
    assert!(
        outreach_web::auth::first_admin(&conn, &other)
            .await
            .unwrap()
            .is_none()
    );
    let token = outreach_web::auth::login(&conn, "lead", &password)
        .await
        .unwrap();
    assert!(token.is_some(), "the printed password signs in");
    let users = outreach_core::actor::users(&conn).await.unwrap();
    let lead = users.iter().find(|u| u.handle == "lead").unwrap();
    assert_eq!(lead.role, "admin");
    assert!(!users.iter().any(|u| u.handle == "someone"));
}
db_test!(
    first_admin,
    a_fresh_database_gets_one_first_admin_who_can_sign_in
);
