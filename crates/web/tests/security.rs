//! Who can see what, accounts that end, and what every answer carries, against a real server on
//! loopback, on SQLite and PostgreSQL: a route × role matrix (anonymous, staff, coordinator,
//! admin, disabled), restricted notes in pages, the API and the calendar feed, disabling an
//! account and resetting its password (sessions, API tokens and calendar URLs end), security
//! headers on every page, and control characters refused in every kind of input.

#![allow(clippy::unwrap_used)]

mod common;

use common::{PASSWORD, client, declared_routes, get, post_form, sign_in, signed_in, start};
use outreach_core::Actor;
use outreach_core::domain::IanaZone;
use outreach_core::engagements::{self, EngagementInput};
use outreach_testkit::{TestDb, db_test};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The text of the restricted note the tests log.
const SECRET: &str = "Chief of staff hinted at a stockpile review";

/// Logs a restricted military dialogue with Azerbaijan, as sam.
async fn log_restricted(db: &sea_orm::DatabaseConnection) {
    engagements::log(
        db,
        &Actor::new("sam", IanaZone::UTC).unwrap(),
        &EngagementInput {
            state: "AZE".into(),
            kind: "military-dialogue".into(),
            summary: Some(SECRET.into()),
            outcome: Some("Second round agreed".into()),
            ..EngagementInput::default()
        },
    )
    .await
    .unwrap();
}

/// An API token for the signed-in client.
async fn api_token(c: &reqwest::Client, base: &str, csrf: &str) -> String {
    let (status, _, page) = post_form(
        c,
        base,
        "/account/tokens",
        &[("csrf", csrf), ("name", "script")],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let at = page.find("id=\"new-token\">").unwrap() + "id=\"new-token\">".len();
    page[at..at + 64].to_owned()
}

/// A calendar URL for the signed-in client.
async fn calendar_url(c: &reqwest::Client, base: &str, csrf: &str) -> String {
    let (status, _, page) = post_form(c, base, "/account/calendar", &[("csrf", csrf)]).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let at = page.find(&format!("{base}/calendar/")).unwrap();
    let end = page[at..].find(".ics").unwrap() + at + 4;
    page[at..end].to_owned()
}

async fn bearer(base: &str, token: &str, path: &str) -> (StatusCode, String) {
    let res = client()
        .get(format!("{base}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    (res.status(), res.text().await.unwrap())
}

async fn admin_post(c: &reqwest::Client, base: &str, csrf: &str, path: &str) -> StatusCode {
    post_form(c, base, path, &[("csrf", csrf)]).await.0
}

async fn restricted_notes_are_read_only_by_cleared_staff_and_every_read_is_audited(db: &TestDb) {
    let app = start(db).await;
    log_restricted(&app.db).await;
    let (sam, _) = signed_in(&app.base, "sam").await;
    let (ada, ada_csrf) = signed_in(&app.base, "ada").await;

    // Not cleared (even the admin is not, until cleared): the note exists, its text does not.
    for c in [&sam, &ada] {
        let (status, page) = get(c, &app.base, "/states/AZE").await;
        assert_eq!(status, StatusCode::OK);
        assert!(!page.contains(SECRET), "restricted text on the state page");
        assert!(!page.contains("Second round agreed"));
        assert!(page.contains("Restricted note"), "{page}");
        assert!(
            page.to_lowercase().contains("military dialogue"),
            "the kind still shows"
        );
    }
    let (status, api) = get(&sam, &app.base, "/api/v1/engagements?state=AZE").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!api.contains(SECRET), "{api}");
    let rows: Value = serde_json::from_str(&api).unwrap();
    let row = &rows.as_array().unwrap()[0];
    assert_eq!(row["withheld"], true);
    assert_eq!(row["sensitivity"], "restricted");
    assert_eq!(row["logged_by"], "sam", "who logged it still shows");
    let (_, profile) = get(&sam, &app.base, "/api/v1/states/AZE").await;
    assert!(!profile.contains(SECRET), "{profile}");

    // The admin clears maria; maria then reads it, and the read is in the audit log.
    let (status, _, page) = post_form(
        &ada,
        &app.base,
        "/users",
        &[
            ("csrf", ada_csrf.as_str()),
            ("handle", "maria"),
            ("cleared", "yes"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
    let (maria, _) = signed_in(&app.base, "maria").await;
    let (_, page) = get(&maria, &app.base, "/states/AZE").await;
    assert!(page.contains(SECRET), "a cleared reader sees the note");
    let (_, api) = get(&maria, &app.base, "/api/v1/engagements?state=AZE").await;
    assert!(api.contains(SECRET));
    let reads =
        outreach_core::audit::search(&app.db, Some("maria"), Some("restricted.read"), 0, 10)
            .await
            .unwrap();
    assert_eq!(reads.1, 2, "one audited read per page or API answer");
    // The audit log itself never carries the restricted text.
    let (_, audit) = get(&ada, &app.base, "/audit?action=engagement.log").await;
    assert!(!audit.contains("Second round agreed"), "{audit}");

    // The calendar feed leaves outreach: no engagement text in it.
    let (mc, mcsrf) = signed_in(&app.base, "maria").await;
    let feed = calendar_url(&mc, &app.base, &mcsrf).await;
    let ics = client()
        .get(&feed)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(ics.starts_with("BEGIN:VCALENDAR"), "{ics}");
    assert!(!ics.contains(SECRET));
}
db_test!(
    restricted_notes,
    restricted_notes_are_read_only_by_cleared_staff_and_every_read_is_audited
);

async fn a_disabled_account_loses_its_sessions_tokens_and_calendar_and_cannot_sign_in(db: &TestDb) {
    let app = start(db).await;
    let (sam, sam_csrf) = signed_in(&app.base, "sam").await;
    let token = api_token(&sam, &app.base, &sam_csrf).await;
    let feed = calendar_url(&sam, &app.base, &sam_csrf).await;
    assert_eq!(
        bearer(&app.base, &token, "/api/v1/states").await.0,
        StatusCode::OK
    );
    assert_eq!(
        client().get(&feed).send().await.unwrap().status(),
        StatusCode::OK
    );

    let (ada, ada_csrf) = signed_in(&app.base, "ada").await;
    // The tokens page lists both for the admin.
    let (status, page) = get(&ada, &app.base, "/users/sam/tokens").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains("API token") && page.contains("calendar URL"),
        "{page}"
    );
    // Staff cannot disable anyone; nobody disables themselves.
    assert_eq!(
        admin_post(&sam, &app.base, &sam_csrf, "/users/maria/disable").await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        admin_post(&ada, &app.base, &ada_csrf, "/users/ada/disable").await,
        StatusCode::CONFLICT
    );
    assert_eq!(
        admin_post(&ada, &app.base, &ada_csrf, "/users/sam/disable").await,
        StatusCode::SEE_OTHER
    );

    // Everything sam had stops at once.
    let home = sam.get(format!("{}/", app.base)).send().await.unwrap();
    assert_eq!(home.status(), StatusCode::SEE_OTHER, "the session ended");
    assert_eq!(
        bearer(&app.base, &token, "/api/v1/states").await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_ne!(
        client().get(&feed).send().await.unwrap().status(),
        StatusCode::OK
    );
    let again = sign_in(&client(), &app.base, "sam", PASSWORD).await;
    assert_eq!(
        again.status(),
        StatusCode::UNAUTHORIZED,
        "a disabled account cannot sign in"
    );
    let (_, page) = get(&ada, &app.base, "/users").await;
    assert!(page.contains("disabled"), "{page}");
    let sam_row = outreach_core::actor::find_user(&app.db, "sam")
        .await
        .unwrap()
        .unwrap();
    assert!(sam_row.disabled_at.is_some());

    // Enabled again: the password works, the old tokens stay revoked.
    assert_eq!(
        admin_post(&ada, &app.base, &ada_csrf, "/users/sam/enable").await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        sign_in(&client(), &app.base, "sam", PASSWORD)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        bearer(&app.base, &token, "/api/v1/states").await.0,
        StatusCode::UNAUTHORIZED
    );
}
db_test!(
    disabling,
    a_disabled_account_loses_its_sessions_tokens_and_calendar_and_cannot_sign_in
);

async fn an_admin_password_reset_revokes_tokens_and_an_admin_revokes_any_token(db: &TestDb) {
    let app = start(db).await;
    let (maria, csrf) = signed_in(&app.base, "maria").await;
    let token = api_token(&maria, &app.base, &csrf).await;
    let feed = calendar_url(&maria, &app.base, &csrf).await;
    let (ada, ada_csrf) = signed_in(&app.base, "ada").await;
    let (status, _, page) = post_form(
        &ada,
        &app.base,
        "/users/password",
        &[
            ("csrf", ada_csrf.as_str()),
            ("handle", "maria"),
            ("password", "orchard lantern copper tide"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
    assert_eq!(
        bearer(&app.base, &token, "/api/v1/states").await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_ne!(
        client().get(&feed).send().await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        maria
            .get(format!("{}/", app.base))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::SEE_OTHER
    );

    // An admin revokes one of sam's tokens by its prefix; sam's other token keeps working.
    let (sam, sam_csrf) = signed_in(&app.base, "sam").await;
    let first = api_token(&sam, &app.base, &sam_csrf).await;
    let second = api_token(&sam, &app.base, &sam_csrf).await;
    let prefix = outreach_web::auth::hash_token(&first)[..8].to_owned();
    let (status, _, page) = post_form(
        &ada,
        &app.base,
        "/users/sam/tokens/revoke",
        &[("csrf", ada_csrf.as_str()), ("token", prefix.as_str())],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("Revoked 1 token(s) of sam."), "{page}");
    assert_eq!(
        bearer(&app.base, &first, "/api/v1/states").await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        bearer(&app.base, &second, "/api/v1/states").await.0,
        StatusCode::OK
    );
    // Staff cannot see or revoke someone else's tokens.
    assert_eq!(
        get(&sam, &app.base, "/users/maria/tokens").await.0,
        StatusCode::FORBIDDEN
    );
}
db_test!(
    password_reset,
    an_admin_password_reset_revokes_tokens_and_an_admin_revokes_any_token
);

/// The least role a route needs; `None` for every signed-in user.
fn needs(method: &str, path: &str) -> Option<&'static str> {
    let admin = [
        ("get", "/audit"),
        ("get", "/users"),
        ("post", "/users"),
        ("post", "/users/password"),
        ("post", "/users/{handle}/disable"),
        ("post", "/users/{handle}/enable"),
        ("get", "/users/{handle}/tokens"),
        ("post", "/users/{handle}/tokens/revoke"),
        ("get", "/settings"),
        ("post", "/settings/test-mail"),
        ("get", "/api/v1/audit"),
        ("get", "/export/audit.csv"),
    ];
    let coordinator = [
        ("post", "/letters/{id}/approve"),
        ("post", "/states/{key}/grants"),
        ("post", "/outbox/{id}/requeue"),
        ("post", "/api/v1/letters/{id}/approve"),
        ("post", "/api/v1/grants"),
        ("post", "/api/v1/outbox/{id}/requeue"),
        ("post", "/grants/{id}/deliverables"),
        ("post", "/grant-reports/{id}/submit"),
        ("post", "/deliverables/{id}"),
        ("post", "/api/v1/grants/{id}/deliverables"),
        ("post", "/api/v1/grant-reports/{id}/submit"),
        ("post", "/api/v1/deliverables/{id}"),
        ("post", "/states/{key}/stance"),
        ("post", "/api/v1/states/{state}/stance"),
    ];
    if admin.contains(&(method, path)) {
        Some("admin")
    } else if coordinator.contains(&(method, path)) {
        Some("coordinator")
    } else {
        None
    }
}

fn rank(role: &str) -> u8 {
    match role {
        "admin" => 3,
        "coordinator" => 2,
        "staff" => 1,
        _ => 0,
    }
}

async fn every_route_answers_each_role_as_declared_and_carries_the_security_headers(db: &TestDb) {
    let app = start(db).await;
    // A disabled account whose session was open when it was disabled.
    let (disabled, disabled_csrf) = signed_in(&app.base, "sam").await;
    let (ada, ada_csrf) = signed_in(&app.base, "ada").await;
    assert_eq!(
        admin_post(&ada, &app.base, &ada_csrf, "/users/sam/disable").await,
        StatusCode::SEE_OTHER
    );
    // A second staff member, so "staff" is tested on an enabled account.
    let admin = Actor::new("ada", IanaZone::UTC).unwrap();
    outreach_core::actor::upsert_user(
        &app.db,
        &admin,
        &outreach_core::actor::UserInput {
            handle: "tomas".into(),
            role: Some("staff".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    outreach_web::set_password(&app.db, &admin, "tomas", PASSWORD)
        .await
        .unwrap();
    let (staff, staff_csrf) = signed_in(&app.base, "tomas").await;
    let (coordinator, coordinator_csrf) = signed_in(&app.base, "maria").await;
    let anonymous = client();
    let public = [
        "/healthz",
        "/readyz",
        "/metrics",
        "/login",
        "/favicon.ico",
        "/calendar/{file}",
    ];
    let routes = declared_routes();
    assert!(routes.len() >= 70, "{routes:?}");
    let mut checked = 0;
    for (method, path) in &routes {
        // Signing in and out change the client itself; the sign-in tests cover them.
        if path == "/login" && method == "post" || path == "/logout" {
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
                .replace("{handle}", "nobody")
                .replace("{file}", "nonsense.ics")
        );
        let api = path.starts_with("/api/") || path == "/search/participants";
        for (who, c, csrf) in [
            ("anonymous", &anonymous, ""),
            ("disabled", &disabled, disabled_csrf.as_str()),
            ("staff", &staff, staff_csrf.as_str()),
            ("coordinator", &coordinator, coordinator_csrf.as_str()),
            ("admin", &ada, ada_csrf.as_str()),
        ] {
            let req = if method == "get" {
                c.get(&url)
            } else if api {
                c.post(&url).header("x-csrf-token", csrf).json(&json!({}))
            } else {
                c.post(&url).form(&[("csrf", csrf)])
            };
            let res = req.send().await.unwrap();
            let status = res.status();
            let h = res.headers().clone();
            let body = res.text().await.unwrap();
            assert!(
                !status.is_server_error(),
                "{who} {method} {path}: {status} {body}"
            );
            let csp = h["content-security-policy"].to_str().unwrap();
            assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
            assert!(csp.contains("script-src 'self';"), "{path}: {csp}");
            assert_eq!(h["x-frame-options"], "DENY", "{path}");
            assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
            assert_eq!(h["referrer-policy"], "same-origin", "{path}");
            assert!(h.contains_key("cache-control"), "{who} {method} {path}");
            let to_login =
                status == StatusCode::SEE_OTHER && h.get("location").is_some_and(|l| l == "/login");
            let signed_out = matches!(who, "anonymous" | "disabled");
            if public.contains(&path.as_str()) {
                assert!(
                    !to_login && status != StatusCode::FORBIDDEN,
                    "{who} {method} {path}"
                );
            } else if signed_out {
                if api {
                    assert_eq!(status, StatusCode::UNAUTHORIZED, "{who} {method} {path}");
                } else {
                    assert!(to_login, "{who} {method} {path}: {status}");
                }
            } else if needs(method, path).is_some_and(|r| rank(who) < rank(r)) {
                // The API reads its JSON body before the handler checks the role, so the empty
                // body sent here may be refused as invalid first; either way nothing happens.
                let refused =
                    status == StatusCode::FORBIDDEN || api && status == StatusCode::BAD_REQUEST;
                assert!(refused, "{who} {method} {path}: {status} {body}");
            } else {
                assert!(
                    status != StatusCode::UNAUTHORIZED
                        && status != StatusCode::FORBIDDEN
                        && !to_login,
                    "{who} {method} {path}: {status} {body}"
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 350, "{checked}");
    // With a well-formed body the API's role check answers 403 too.
    let res = staff
        .post(format!("{}/api/v1/grants", app.base))
        .header("x-csrf-token", &staff_csrf)
        .json(
            &json!({"organisation": "Landmine Free Nepal (demo)", "year": 2026,
                      "amount": "1000", "currency": "USD"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // Pages are never cached; the scripts they load come from /assets, never inline.
    let res = coordinator
        .get(format!("{}/states/NPL", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["cache-control"], "no-store");
    let (status, js) = get(&coordinator, &app.base, "/assets/participants_search.js").await;
    assert_eq!(status, StatusCode::OK);
    assert!(js.contains("participants-list"));
    let (_, page) = get(&coordinator, &app.base, "/engagements/new").await;
    assert!(!page.contains("<script>"), "an inline script is left");
}
db_test!(
    route_role_matrix,
    every_route_answers_each_role_as_declared_and_carries_the_security_headers
);

async fn control_characters_are_refused_in_forms_queries_and_json_and_nothing_is_stored(
    db: &TestDb,
) {
    let app = start(db).await;
    let (c, csrf) = signed_in(&app.base, "maria").await;
    let (ada, _) = signed_in(&app.base, "ada").await;
    let before = engagements::count_for_state(&app.db, "NPL").await.unwrap();
    // A page form: NUL in the summary.
    let (status, _, page) = post_form(
        &c,
        &app.base,
        "/engagements",
        &[
            ("csrf", csrf.as_str()),
            ("state", "NPL"),
            ("kind", "call"),
            ("summary", "before\0after"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
    assert!(
        page.contains("summary: holds a control character (U+0000)"),
        "{page}"
    );
    // Other control characters in a one-line field; a line break in a one-line field.
    for (field, value) in [("name", "Asha\u{7}Demo"), ("name", "Asha\nDemo")] {
        let (status, _, page) = post_form(
            &c,
            &app.base,
            "/states/NPL/contacts",
            &[
                ("csrf", csrf.as_str()),
                (field, value),
                ("email", "a@example.org"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{field}: {page}");
        assert!(
            page.contains(&format!("{field}: holds a control character")),
            "{page}"
        );
    }
    // Tabs and line breaks are fine where text has several lines.
    let (status, _, page) = post_form(
        &c,
        &app.base,
        "/engagements",
        &[
            ("csrf", csrf.as_str()),
            ("state", "NPL"),
            ("kind", "call"),
            ("summary", "first line\r\n\tsecond line"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
    // A query parameter.
    let (status, page) = get(&ada, &app.base, "/audit?actor=%00").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
    assert!(page.contains("actor: holds a control character"), "{page}");
    // JSON, with the key's path as the field.
    let res = c
        .post(format!("{}/api/v1/engagements", app.base))
        .header("x-csrf-token", &csrf)
        .json(&json!({"state": "NPL", "kind": "call", "with": ["Ram\u{0}Demo"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["field"], "with", "{body}");
    assert_eq!(body["error"]["code"], "invalid");
    for path in [
        "/api/v1/contacts",
        "/api/v1/organisations",
        "/api/v1/follow-ups",
        "/api/v1/meetings",
    ] {
        let res = c
            .post(format!("{}{path}", app.base))
            .header("x-csrf-token", &csrf)
            .json(&json!({"state": "NPL", "name": "x\u{0}", "description": "x\u{0}", "title": "x\u{0}", "kind": "ngo", "at": "2030-01-01 10:00"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{path}");
    }
    // Every route that takes input refuses it before its handler runs, naming the field.
    for (method, path) in declared_routes() {
        if method != "post" || path == "/logout" {
            continue;
        }
        let url = format!(
            "{}{}",
            app.base,
            path.replace("{key}", "NPL")
                .replace("{state}", "NPL")
                .replace("{id}", "0000abcd")
                .replace("{prefix}", "abcdefgh")
                .replace("{handle}", "nobody")
        );
        let res = if path.starts_with("/api/") {
            c.post(&url)
                .header("x-csrf-token", &csrf)
                .json(&json!({ "note": "a\u{0}b" }))
                .send()
                .await
                .unwrap()
        } else {
            c.post(&url)
                .form(&[("csrf", csrf.as_str()), ("note", "a\0b")])
                .send()
                .await
                .unwrap()
        };
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "POST {path}");
        let body = res.text().await.unwrap();
        assert!(
            body.contains("note: holds a control character (U+0000)"),
            "POST {path}: {body}"
        );
    }
    // Only the one good engagement was stored.
    let after = engagements::count_for_state(&app.db, "NPL").await.unwrap();
    assert_eq!(after, before + 1);
}
db_test!(
    control_characters,
    control_characters_are_refused_in_forms_queries_and_json_and_nothing_is_stored
);

async fn behind_https_cookies_are_secure_and_links_never_come_from_request_headers(db: &TestDb) {
    let settings = common::settings()
        .with("web.public_url", "https://outreach.example.org/")
        .unwrap();
    let app = common::start_with(db, settings).await;
    let c = client();
    let page = c.get(format!("{}/login", app.base)).send().await.unwrap();
    let cookie = page.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.contains("; Secure"), "{cookie}");
    let res = sign_in(&c, &app.base, "maria", PASSWORD).await;
    let session = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with("outreach_session="))
        .unwrap();
    assert!(
        session.contains("HttpOnly") && session.contains("; Secure"),
        "{session}"
    );
    // A client cannot choose the host of the calendar URL it is shown.
    let home = c
        .get(format!("{}/", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = common::csrf_of(&home);
    let res = c
        .post(format!("{}/account/calendar", app.base))
        .header("x-forwarded-host", "evil.example.com")
        .header("x-forwarded-proto", "http")
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    let page = res.text().await.unwrap();
    assert!(!page.contains("evil.example.com"), "{page}");
    assert!(
        page.contains("https://outreach.example.org/calendar/"),
        "{page}"
    );
}
db_test!(
    https_behind_a_proxy,
    behind_https_cookies_are_secure_and_links_never_come_from_request_headers
);

async fn an_unknown_handle_is_refused_as_slowly_as_a_wrong_password(db: &TestDb) {
    // Without the decoy hash an unknown handle answered in 3 ms and a real one in 50 ms. The
    // margin here is wide (a quarter) so a busy machine cannot make it flaky; the difference it
    // guards against is more than tenfold.
    let conn = outreach_core::db::open(&db.url, "tester").await.unwrap();
    let admin = Actor::new("admin", IanaZone::UTC).unwrap();
    outreach_core::actor::upsert_user(
        &conn,
        &admin,
        &outreach_core::actor::UserInput {
            handle: "maria".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    outreach_web::set_password(&conn, &admin, "maria", PASSWORD)
        .await
        .unwrap();
    let median = |mut v: Vec<std::time::Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let mut real = Vec::new();
    let mut unknown = Vec::new();
    // Warm the decoy hash first (it is made once per process).
    let _ = outreach_web::auth::verify_password(&conn, "nobody", "x").await;
    for _ in 0..5 {
        let t = std::time::Instant::now();
        assert!(
            outreach_web::auth::verify_password(&conn, "maria", "wrong password")
                .await
                .unwrap()
                .is_none()
        );
        real.push(t.elapsed());
        let t = std::time::Instant::now();
        assert!(
            outreach_web::auth::verify_password(&conn, "nobody-here", "wrong password")
                .await
                .unwrap()
                .is_none()
        );
        unknown.push(t.elapsed());
    }
    let (real, unknown) = (median(real), median(unknown));
    assert!(unknown * 4 >= real, "unknown {unknown:?} vs real {real:?}");
}
db_test!(
    no_enumeration_by_time,
    an_unknown_handle_is_refused_as_slowly_as_a_wrong_password
);
