//! The JSON API, its OpenAPI document, API tokens and the account page, against a real server on
//! loopback, on SQLite and PostgreSQL: tokens made on /account drive the API without a cookie,
//! revoked tokens are refused, cookie writes need X-CSRF-Token, roles are enforced, bad input is a
//! 400 naming the field, and injection attempts are stored and returned as inert data.

#![allow(clippy::unwrap_used)]

mod common;

use common::{PASSWORD, client, get, post_form, signed_in, start};
use outreach_testkit::{TestDb, db_test};
use reqwest::StatusCode;
use serde_json::{Value, json};

const SCRIPT: &str = "<script>alert(1)</script>";
const DROP: &str = "'); DROP TABLE engagements; --";

/// The text of element `id` (`<code ... id="ID">TEXT</code>`).
fn code_text(html: &str, id: &str) -> Option<String> {
    let at = html.find(&format!("id=\"{id}\">"))? + id.len() + 6;
    let end = html[at..].find('<')?;
    Some(html[at..at + end].to_owned())
}

/// Creates an API token named `name` on /account as the signed-in client; returns its secret.
async fn make_token(c: &reqwest::Client, base: &str, csrf: &str, name: &str) -> String {
    let (status, _, page) = post_form(
        c,
        base,
        "/account/tokens",
        &[("csrf", csrf), ("name", name)],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let secret = code_text(&page, "new-token").expect("the new token is shown");
    assert_eq!(secret.len(), 64, "{secret}");
    secret
}

/// Calls the API with a bearer token only (no cookie); returns status and JSON.
async fn call(
    base: &str,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = client()
        .request(method, format!("{base}{path}"))
        .bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    let text = res.text().await.unwrap();
    let json = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"));
    (status, json)
}

async fn api_get(base: &str, token: &str, path: &str) -> (StatusCode, Value) {
    call(base, token, reqwest::Method::GET, path, None).await
}

async fn api_post(base: &str, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
    call(base, token, reqwest::Method::POST, path, Some(body)).await
}

/// Every path and method of the OpenAPI document.
fn operations(doc: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            out.push((method.clone(), path.clone()));
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------

async fn every_api_route_answers_401_without_auth_and_is_documented_check(db: &TestDb) {
    let app = start(db).await;
    let anon = client();
    let res = anon
        .get(format!("{}/api/openapi.json", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    let (c, _) = signed_in(&app.base, "sam").await;
    let (status, text) = get(&c, &app.base, "/api/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["bearerToken"]["scheme"], "bearer");
    assert_eq!(schemes["sessionCookie"]["in"], "cookie");
    assert_eq!(schemes["csrfHeader"]["name"], "X-CSRF-Token");
    assert!(doc["components"]["schemas"]["Error"].is_object());

    let ops = operations(&doc);
    assert!(ops.len() >= 20, "{ops:?}");
    for (method, path) in &ops {
        let url = format!(
            "{}{}",
            app.base,
            path.replace("{state}", "NPL").replace("{id}", "0000abcd")
        );
        let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let res = anon.request(m, &url).json(&json!({})).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{method} {path}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unauthenticated", "{method} {path}");
    }
    // Every route these tests call is documented, with its method.
    for (method, path) in [
        ("get", "/api/v1/states"),
        ("get", "/api/v1/states/{state}"),
        ("get", "/api/v1/attention"),
        ("get", "/api/v1/engagements"),
        ("post", "/api/v1/engagements"),
        ("get", "/api/v1/meetings"),
        ("post", "/api/v1/meetings"),
        ("get", "/api/v1/meetings/{id}"),
        ("post", "/api/v1/meetings/{id}/reschedule"),
        ("post", "/api/v1/meetings/{id}/cancel"),
        ("get", "/api/v1/follow-ups"),
        ("post", "/api/v1/follow-ups"),
        ("post", "/api/v1/follow-ups/{id}/done"),
        ("get", "/api/v1/letters"),
        ("post", "/api/v1/letters"),
        ("get", "/api/v1/letters/{id}"),
        ("post", "/api/v1/letters/{id}/submit"),
        ("post", "/api/v1/letters/{id}/approve"),
        ("post", "/api/v1/letters/{id}/edit"),
        ("post", "/api/v1/letters/{id}/send"),
        ("post", "/api/v1/letters/{id}/export"),
        ("post", "/api/v1/meetings/{id}/held"),
        ("get", "/api/v1/outbox"),
        ("post", "/api/v1/outbox/{id}/requeue"),
        ("get", "/api/v1/rules"),
        ("get", "/api/v1/audit"),
    ] {
        assert!(
            ops.iter().any(|(m, p)| m == method && p == path),
            "{method} {path} is not in the OpenAPI document"
        );
    }
    // A documented route that does not exist would answer 404 or 405 with a session; none does.
    let secret = make_token(
        &c,
        &app.base,
        &common::csrf_of(&get(&c, &app.base, "/account").await.1),
        "probe",
    )
    .await;
    for (method, path) in &ops {
        let url = format!(
            "{}{}",
            app.base,
            path.replace("{state}", "NPL").replace("{id}", "0000abcd")
        );
        let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let res = client()
            .request(m, &url)
            .bearer_auth(&secret)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert!(
            res.status() != StatusCode::METHOD_NOT_ALLOWED
                && (res.status() != StatusCode::NOT_FOUND || path.contains("{id}")),
            "{method} {path}: {}",
            res.status()
        );
        let body: Value = res.json().await.unwrap();
        assert!(body.is_array() || body.is_object(), "{method} {path}");
    }
}
db_test!(
    every_api_route_answers_401_without_auth_and_is_documented,
    every_api_route_answers_401_without_auth_and_is_documented_check
);

async fn a_token_made_on_the_account_page_drives_the_api_until_revoked_check(db: &TestDb) {
    let app = start(db).await;
    let (c, csrf) = signed_in(&app.base, "maria").await;
    let (status, page) = get(&c, &app.base, "/account").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("<dd id=\"handle\">maria</dd>"), "{page}");
    assert!(page.contains("<dd id=\"role\">coordinator</dd>"), "{page}");
    assert!(page.contains("id=\"no-tokens\""), "{page}");

    let secret = make_token(&c, &app.base, &csrf, "weekly report").await;

    // The token alone, without a cookie: list states, log an engagement, read it back.
    let (status, states) = api_get(&app.base, &secret, "/api/v1/states").await;
    assert_eq!(status, StatusCode::OK, "{states}");
    assert!(states.as_array().unwrap().len() > 100, "{states}");
    let (status, logged) = api_post(
        &app.base,
        &secret,
        "/api/v1/engagements",
        json!({"state": "Nepal", "kind": "embassy-visit", "summary": "Embassy visit on the APMBC",
               "stance": "supportive"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{logged}");
    assert_eq!(logged["iso3"], "NPL");
    assert_eq!(logged["logged_by"], "maria");
    let (status, profile) = api_get(&app.base, &secret, "/api/v1/states/NPL").await;
    assert_eq!(status, StatusCode::OK, "{profile}");
    let engagements = profile["engagements"].as_array().unwrap();
    assert!(
        engagements
            .iter()
            .any(|e| e["id"] == logged["id"] && e["summary"] == "Embassy visit on the APMBC"),
        "{profile}"
    );
    let (status, listed) = api_get(&app.base, &secret, "/api/v1/engagements?state=NPL").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed[0]["id"], logged["id"]);

    // The account page lists it by the first 8 hex digits of its hash, marked used.
    let (_, page) = get(&c, &app.base, "/account").await;
    assert!(page.contains("weekly report"), "{page}");
    assert!(!page.contains(&secret), "the secret is shown only once");
    let prefix = {
        let at = page.find("id=\"token-").unwrap() + "id=\"token-".len();
        page[at..at + 8].to_owned()
    };
    assert!(prefix.bytes().all(|b| b.is_ascii_hexdigit()), "{prefix}");
    assert!(!page.contains(">never<"), "last used is shown: {page}");

    // Someone else's form cannot revoke it without the CSRF token; the owner can.
    let (status, _, _) = post_form(
        &c,
        &app.base,
        &format!("/account/tokens/{prefix}/revoke"),
        &[("csrf", "forged")],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (sam, sam_csrf) = signed_in(&app.base, "sam").await;
    let (status, _, _) = post_form(
        &sam,
        &app.base,
        &format!("/account/tokens/{prefix}/revoke"),
        &[("csrf", &sam_csrf)],
    )
    .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "sam cannot revoke maria's token"
    );
    let (status, location, _) = post_form(
        &c,
        &app.base,
        &format!("/account/tokens/{prefix}/revoke"),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location.as_deref(), Some("/account?done=revoked"));
    let (status, body) = api_get(&app.base, &secret, "/api/v1/states").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["error"]["code"], "unauthenticated");
    let (_, page) = get(&c, &app.base, "/account").await;
    assert!(page.contains("id=\"no-tokens\""), "{page}");
    // Revoking it again: there is no such token.
    let (status, _, _) = post_form(
        &c,
        &app.base,
        &format!("/account/tokens/{prefix}/revoke"),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Both the creation and the revocation are in the audit log (admins only).
    let (ac, acsrf) = signed_in(&app.base, "ada").await;
    let admin = make_token(&ac, &app.base, &acsrf, "audit reader").await;
    let (status, audit) = api_get(&app.base, &admin, "/api/v1/audit?limit=100").await;
    assert_eq!(status, StatusCode::OK, "{audit}");
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    for wanted in ["token.api.create", "token.api.revoke", "engagement.log"] {
        assert!(
            actions.iter().any(|a| a.starts_with(wanted)),
            "{wanted} in {actions:?}"
        );
    }
    let coordinator = make_token(&c, &app.base, &csrf, "second").await;
    let (status, body) = api_get(&app.base, &coordinator, "/api/v1/audit").await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "coordinators do not read the audit log"
    );
    assert_eq!(body["error"]["code"], "forbidden");
}
db_test!(
    a_token_made_on_the_account_page_drives_the_api_until_revoked,
    a_token_made_on_the_account_page_drives_the_api_until_revoked_check
);

async fn cookie_writes_need_the_csrf_header_check(db: &TestDb) {
    let app = start(db).await;
    let (c, csrf) = signed_in(&app.base, "sam").await;
    let body = json!({"state": "NPL", "kind": "call", "summary": "Phone call"});
    let res = c
        .post(format!("{}/api/v1/engagements", app.base))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let err: Value = res.json().await.unwrap();
    assert_eq!(err["error"]["code"], "csrf");
    let res = c
        .post(format!("{}/api/v1/engagements", app.base))
        .header("X-CSRF-Token", "0".repeat(64))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // Nothing was written by the refused calls.
    let (_, listed) = get(&c, &app.base, "/api/v1/engagements?state=NPL").await;
    assert_eq!(listed.trim(), "[]");
    let res = c
        .post(format!("{}/api/v1/engagements", app.base))
        .header("X-CSRF-Token", &csrf)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    // Reads need no CSRF header.
    let (status, listed) = get(&c, &app.base, "/api/v1/engagements?state=NPL").await;
    assert_eq!(status, StatusCode::OK);
    assert!(listed.contains("Phone call"));
    // A page form without its token is refused too.
    let (status, _, _) = post_form(&c, &app.base, "/account/tokens", &[("name", "x")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = post_form(&c, &app.base, "/account/calendar", &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
db_test!(
    cookie_writes_need_the_csrf_header,
    cookie_writes_need_the_csrf_header_check
);

async fn staff_cannot_approve_a_letter_and_a_coordinator_can_check(db: &TestDb) {
    let app = start(db).await;
    let tester = outreach_core::Actor::new("tester", outreach_core::domain::IanaZone::UTC).unwrap();
    outreach_core::demo::load(&app.db, &tester).await.unwrap();
    let (sc, scsrf) = signed_in(&app.base, "sam").await;
    let sam = make_token(&sc, &app.base, &scsrf, "sam's script").await;
    let (mc, mcsrf) = signed_in(&app.base, "maria").await;
    let maria = make_token(&mc, &app.base, &mcsrf, "maria's script").await;

    let (status, letter) = api_post(
        &app.base,
        &sam,
        "/api/v1/letters",
        json!({"template": "joint_approach", "state": "NPL", "lang": "en"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{letter}");
    assert_eq!(letter["status"], "draft");
    let id = letter["short_id"].as_str().unwrap().to_owned();
    let (status, shown) = api_get(&app.base, &sam, &format!("/api/v1/letters/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(shown["versions"].as_array().unwrap().len(), 1);
    let (status, submitted) = api_post(
        &app.base,
        &sam,
        &format!("/api/v1/letters/{id}/submit"),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{submitted}");
    assert_eq!(submitted["status"], "in_review");

    let (status, refused) = api_post(
        &app.base,
        &sam,
        &format!("/api/v1/letters/{id}/approve"),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    assert_eq!(refused["error"]["code"], "forbidden");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("approve letters")
    );
    let (_, still) = api_get(&app.base, &sam, &format!("/api/v1/letters/{id}")).await;
    assert_eq!(still["status"], "in_review");

    let (status, approved) = api_post(
        &app.base,
        &maria,
        &format!("/api/v1/letters/{id}/approve"),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{approved}");
    assert_eq!(approved["status"], "approved");
    assert_eq!(approved["approved_by"], "maria");
    // Approving twice is a conflict, not a server error.
    let (status, again) = api_post(
        &app.base,
        &maria,
        &format!("/api/v1/letters/{id}/approve"),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");
    let (status, list) = api_get(&app.base, &sam, "/api/v1/letters?status=approved").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list.as_array().unwrap().len(), 1);

    // An edit makes a new version and sends the letter back to draft; an empty text is refused.
    let (status, empty) = api_post(
        &app.base,
        &sam,
        &format!("/api/v1/letters/{id}/edit"),
        json!({"body": "  "}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{empty}");
    assert_eq!(empty["error"]["field"], "body");
    let (status, edited) = api_post(
        &app.base,
        &sam,
        &format!("/api/v1/letters/{id}/edit"),
        json!({"body": format!("{}\n\nP.S. {SCRIPT}", approved["body"].as_str().unwrap()),
               "note": "added a postscript"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    assert_eq!(edited["status"], "draft");
    assert_eq!(edited["version"], 2);
    assert_eq!(
        edited["subject"], approved["subject"],
        "the subject is kept"
    );
    assert!(edited["body"].as_str().unwrap().ends_with(SCRIPT));
    for step in ["submit", "approve"] {
        let (status, v) = api_post(
            &app.base,
            &maria,
            &format!("/api/v1/letters/{id}/{step}"),
            json!({}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{step}: {v}");
    }
    // Export: a file with its name; an approved letter becomes exported.
    let res = client()
        .post(format!(
            "{}/api/v1/letters/{id}/export?format=html",
            app.base
        ))
        .bearer_auth(&sam)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let headers = res.headers().clone();
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains(&format!("letter-{id}.html"))
    );
    let html = res.text().await.unwrap();
    assert!(html.contains("P.S. &lt;script&gt;"), "{html}");
    let (status, bad) = api_post(
        &app.base,
        &sam,
        &format!("/api/v1/letters/{id}/export?format=pdf"),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(bad["error"]["field"], "format");
    let (_, shown) = api_get(&app.base, &sam, &format!("/api/v1/letters/{id}")).await;
    assert_eq!(shown["status"], "exported", "{shown}");
    let (status, sent) = api_post(
        &app.base,
        &sam,
        &format!("/api/v1/letters/{id}/send"),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{sent}");
    assert_eq!(sent["status"], "sent");
    assert!(sent["sent_at"].is_string());
    // A letter that left the office cannot be edited.
    let (status, refused) = api_post(
        &app.base,
        &sam,
        &format!("/api/v1/letters/{id}/edit"),
        json!({"body": "Something else"}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    // An unknown letter is a 404 in the error shape.
    let (status, missing) = api_get(&app.base, &sam, "/api/v1/letters/ffffffff").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{missing}");
    assert_eq!(missing["error"]["code"], "not_found");
}
db_test!(
    staff_cannot_approve_a_letter_and_a_coordinator_can,
    staff_cannot_approve_a_letter_and_a_coordinator_can_check
);

async fn bad_input_is_a_400_naming_the_field_and_writes_nothing_check(db: &TestDb) {
    let app = start(db).await;
    let (c, csrf) = signed_in(&app.base, "sam").await;
    let token = make_token(&c, &app.base, &csrf, "script").await;

    let res = client()
        .post(format!("{}/api/v1/engagements", app.base))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{\"state\": \"NPL\", \"kind\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let err: Value = res.json().await.unwrap();
    assert_eq!(err["error"]["code"], "invalid");
    assert_eq!(err["error"]["field"], "body");

    let cases = [
        (
            json!({"state": "Atlantis", "kind": "embassy-visit"}),
            "state",
        ),
        (json!({"state": "NPL"}), "kind"),
        (json!({"state": "NPL", "kind": 5}), "kind"),
        (json!({"state": "NPL", "kind": "dance"}), "kind"),
        (
            json!({"state": "NPL", "kind": "embassy-visit", "date": "31/12/2025"}),
            "date",
        ),
        (
            json!({"state": "NPL", "kind": "embassy-visit", "sumary": "typo"}),
            "sumary",
        ),
    ];
    for (body, field) in cases {
        let (status, err) = api_post(&app.base, &token, "/api/v1/engagements", body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {err}");
        assert_eq!(err["error"]["field"], field, "{body}: {err}");
        assert!(
            !err["error"]["message"].as_str().unwrap().is_empty(),
            "{err}"
        );
    }
    let (status, err) = api_post(
        &app.base,
        &token,
        "/api/v1/engagements",
        json!({"state": "Atlantis", "kind": "embassy-visit"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(["invalid", "unknown_state"].contains(&err["error"]["code"].as_str().unwrap()));
    // A meeting with a bad time, a follow-up without a description, a bad query.
    let (status, err) = api_post(
        &app.base,
        &token,
        "/api/v1/meetings",
        json!({"state": "NPL", "title": "Talk", "at": "tomorrow"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    assert_eq!(err["error"]["field"], "at", "{err}");
    let (status, err) = api_post(
        &app.base,
        &token,
        "/api/v1/follow-ups",
        json!({"state": "NPL"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(err["error"]["field"], "description");
    let (status, err) = api_get(&app.base, &token, "/api/v1/states?at=yesterday").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(err["error"]["field"], "at");
    let (status, err) = api_get(&app.base, &token, "/api/v1/engagements").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(err["error"]["field"], "state");
    let (status, err) = api_get(&app.base, &token, "/api/v1/states/Atlantis").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(err["error"]["field"], "state");
    let (status, err) = api_get(&app.base, &token, "/api/v1/outbox?status=lost").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{err}");
    assert_eq!(err["error"]["field"], "status");

    // Nothing was written.
    let (_, listed) = api_get(&app.base, &token, "/api/v1/engagements?state=NPL").await;
    assert_eq!(listed, json!([]));
    let (_, meetings) = api_get(&app.base, &token, "/api/v1/meetings").await;
    assert_eq!(meetings, json!([]));
}
db_test!(
    bad_input_is_a_400_naming_the_field_and_writes_nothing,
    bad_input_is_a_400_naming_the_field_and_writes_nothing_check
);

async fn injection_is_stored_and_returned_as_data_check(db: &TestDb) {
    let app = start(db).await;
    let (c, csrf) = signed_in(&app.base, "sam").await;
    let token = make_token(&c, &app.base, &csrf, "script").await;
    let summary = format!("{SCRIPT} {DROP}");
    let (status, logged) = api_post(
        &app.base,
        &token,
        "/api/v1/engagements",
        json!({"state": "NPL", "kind": "embassy-visit", "summary": summary, "outcome": DROP}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{logged}");
    assert_eq!(logged["summary"], summary);
    assert_eq!(logged["outcome"], DROP);
    let res = client()
        .get(format!("{}/api/v1/engagements?state=NPL", app.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let listed: Value = res.json().await.unwrap();
    assert_eq!(listed[0]["summary"], summary);
    // The table is still there: another engagement is logged and both are listed.
    let (status, _) = api_post(
        &app.base,
        &token,
        "/api/v1/engagements",
        json!({"state": "NPL", "kind": "call", "summary": DROP}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, listed) = api_get(&app.base, &token, "/api/v1/engagements?state=NPL").await;
    assert_eq!(listed.as_array().unwrap().len(), 2);

    // A token name with markup is shown escaped on the account page.
    let (_, page) = get(&c, &app.base, "/account").await;
    let csrf = common::csrf_of(&page);
    let (status, _, page) = post_form(
        &c,
        &app.base,
        "/account/tokens",
        &[("csrf", &csrf), ("name", &summary)],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(!page.contains(SCRIPT), "{page}");
    assert!(
        page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{page}"
    );
}
db_test!(
    injection_is_stored_and_returned_as_data,
    injection_is_stored_and_returned_as_data_check
);

async fn meetings_and_follow_ups_through_the_api_check(db: &TestDb) {
    let app = start(db).await;
    let (c, csrf) = signed_in(&app.base, "sam").await;
    let token = make_token(&c, &app.base, &csrf, "script").await;
    let day = (chrono::Utc::now() + chrono::Duration::days(10)).format("%Y-%m-%d");
    let (status, m) = api_post(
        &app.base,
        &token,
        "/api/v1/meetings",
        json!({"state": "NPL", "title": "Talk with the embassy", "at": format!("{day} 10:00"),
               "tz": "Asia/Kathmandu", "duration": "90m", "place": "Embassy"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{m}");
    assert_eq!(m["status"], "planned");
    assert_eq!(m["time_zone"], "Asia/Kathmandu");
    assert!(m["reminders"].is_array(), "{m}");
    assert!(m["plan"].is_object(), "{m}");
    let id = m["id"].as_str().unwrap().to_owned();
    let (status, shown) = api_get(&app.base, &token, &format!("/api/v1/meetings/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(shown["title"], "Talk with the embassy");
    let (_, listed) = api_get(
        &app.base,
        &token,
        "/api/v1/meetings?state=NPL&upcoming=true",
    )
    .await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    let (status, moved) = api_post(
        &app.base,
        &token,
        &format!("/api/v1/meetings/{id}/reschedule"),
        json!({"at": format!("{day} 14:30")}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    assert_eq!(moved["local_start"], format!("{day} 14:30"));
    assert_eq!(moved["version"], m["version"].as_i64().unwrap() + 1);
    let (status, cancelled) = api_post(
        &app.base,
        &token,
        &format!("/api/v1/meetings/{id}/cancel"),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{cancelled}");
    assert_eq!(cancelled["status"], "cancelled");
    // A cancelled meeting cannot be marked held; a planned one that has started can, which logs
    // its engagement.
    let (status, refused) = api_post(
        &app.base,
        &token,
        &format!("/api/v1/meetings/{id}/held"),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    let yesterday = (chrono::Utc::now() - chrono::Duration::days(1)).format("%Y-%m-%d");
    let (_, second) = api_post(
        &app.base,
        &token,
        "/api/v1/meetings",
        json!({"state": "NPL", "title": "Military dialogue", "at": format!("{yesterday} 09:00")}),
    )
    .await;
    let second_id = second["id"].as_str().unwrap().to_owned();
    let (status, bad) = api_post(
        &app.base,
        &token,
        &format!("/api/v1/meetings/{second_id}/held"),
        json!({"stance": "keen"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    assert_eq!(bad["error"]["field"], "stance", "{bad}");
    let (status, held) = api_post(
        &app.base,
        &token,
        &format!("/api/v1/meetings/{second_id}/held"),
        json!({"kind": "military-dialogue", "outcome": "Agreed to meet again", "stance": "open"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{held}");
    assert_eq!(held["status"], "held");
    assert_eq!(held["engagement"]["kind"], "military_dialogue", "{held}");
    assert_eq!(held["engagement"]["outcome"], "Agreed to meet again");
    assert!(held["reminders"].is_array(), "{held}");
    assert_eq!(held["engagement"]["sensitivity"], "restricted", "{held}");
    // Military dialogue is restricted by default: the timeline shows that it happened, and to a
    // reader without clearance not what was said.
    let (_, timeline) = api_get(&app.base, &token, "/api/v1/engagements?state=NPL").await;
    let dialogue = timeline
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "military_dialogue")
        .unwrap_or_else(|| panic!("{timeline}"));
    assert_eq!(dialogue["withheld"], true, "{dialogue}");
    assert_eq!(dialogue["outcome"], serde_json::Value::Null, "{dialogue}");
    assert!(
        !timeline.to_string().contains("Agreed to meet again"),
        "{timeline}"
    );
    // The newest only, on request; a bad limit names the field.
    let (_, older) = api_post(
        &app.base,
        &token,
        "/api/v1/engagements",
        json!({"state": "NPL", "kind": "call", "date": "2020-01-01", "summary": "Old call"}),
    )
    .await;
    assert_eq!(older["summary"], "Old call");
    let (_, all) = api_get(&app.base, &token, "/api/v1/engagements?state=NPL").await;
    assert_eq!(all.as_array().unwrap().len(), 2);
    let (status, newest) =
        api_get(&app.base, &token, "/api/v1/engagements?state=NPL&limit=1").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(newest.as_array().unwrap().len(), 1);
    assert_eq!(newest[0]["kind"], "military_dialogue");
    assert_eq!(newest[0]["withheld"], true);
    let (status, bad) = api_get(&app.base, &token, "/api/v1/engagements?state=NPL&limit=0").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(bad["error"]["field"], "limit");

    let (status, f) = api_post(
        &app.base,
        &token,
        "/api/v1/follow-ups",
        json!({"state": "NPL", "description": "Send the treaty text", "owner": "maria"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{f}");
    assert_eq!(f["owner"], "maria");
    let (_, open) = api_get(&app.base, &token, "/api/v1/follow-ups?owner=maria").await;
    assert_eq!(open.as_array().unwrap().len(), 1);
    let (_, mine) = api_get(&app.base, &token, "/api/v1/follow-ups?mine=true").await;
    assert_eq!(mine, json!([]));
    let fid = f["id"].as_str().unwrap();
    let (status, done) = api_post(
        &app.base,
        &token,
        &format!("/api/v1/follow-ups/{fid}/done"),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert!(done["done_at"].is_string());
    let (status, _) = api_post(
        &app.base,
        &token,
        &format!("/api/v1/follow-ups/{fid}/done"),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (_, open) = api_get(&app.base, &token, "/api/v1/follow-ups").await;
    assert_eq!(open, json!([]));

    let (status, attention) = api_get(&app.base, &token, "/api/v1/attention").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        attention
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["iso3"] == "NPL")
    );
    let (status, outbox) = api_get(&app.base, &token, "/api/v1/outbox?limit=10").await;
    assert_eq!(status, StatusCode::OK, "{outbox}");
    assert!(outbox.is_array());
}
db_test!(
    meetings_and_follow_ups_through_the_api,
    meetings_and_follow_ups_through_the_api_check
);

async fn the_account_page_changes_the_password_and_makes_a_calendar_url_check(db: &TestDb) {
    let app = start(db).await;
    let (c, csrf) = signed_in(&app.base, "sam").await;

    // Wrong current password, and a short new one: both named beside their fields, 422.
    let (status, _, page) = post_form(
        &c,
        &app.base,
        "/account/password",
        &[("csrf", &csrf), ("current", "wrong"), ("new", "short")],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"err-current\""), "{page}");
    assert!(page.contains("id=\"err-new\""), "{page}");
    let (status, _, page) = post_form(
        &c,
        &app.base,
        "/account/password",
        &[
            ("csrf", &csrf),
            ("current", PASSWORD),
            ("new", "a much longer one"),
            ("confirm", "a different one"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"err-confirm\""), "{page}");
    // Nothing changed: the old password still signs in.
    let probe = client();
    let res = common::sign_in(&probe, &app.base, "sam", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    let (status, location, _) = post_form(
        &c,
        &app.base,
        "/account/password",
        &[
            ("csrf", &csrf),
            ("current", PASSWORD),
            ("new", "a much longer one"),
            ("confirm", "a much longer one"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location.as_deref(), Some("/account?done=password"));
    // This browser stays signed in; the other session was ended; the new password works.
    let (status, page) = get(&c, &app.base, "/account?done=password").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("id=\"notice\""), "{page}");
    let (status, _) = get(&probe, &app.base, "/account").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let res = common::sign_in(&client(), &app.base, "sam", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = common::sign_in(&client(), &app.base, "sam", "a much longer one").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    // A token needs a name; the typed value is kept.
    let csrf = common::csrf_of(&page);
    let (status, _, page) = post_form(
        &c,
        &app.base,
        "/account/tokens",
        &[("csrf", &csrf), ("name", "  ")],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"err-name\""), "{page}");
    assert!(page.contains("id=\"no-tokens\""), "{page}");
    let long = "n".repeat(101);
    let (status, _, page) = post_form(
        &c,
        &app.base,
        "/account/tokens",
        &[("csrf", &csrf), ("name", &long)],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains(&format!("value=\"{long}\"")), "{page}");

    // The calendar URL: shown once; a reset replaces it.
    let (status, _, page) = post_form(&c, &app.base, "/account/calendar", &[("csrf", &csrf)]).await;
    assert_eq!(status, StatusCode::OK);
    let first = code_text(&page, "calendar-url").expect("the calendar URL is shown");
    assert!(
        first.starts_with(&format!("{}/calendar/", app.base)),
        "{first}"
    );
    assert!(first.ends_with(".ics"), "{first}");
    let (_, page) = get(&c, &app.base, "/account").await;
    assert!(!page.contains(&first), "shown only once");
    assert!(page.contains("id=\"calendar-since\""), "{page}");
    let (_, _, page) = post_form(&c, &app.base, "/account/calendar", &[("csrf", &csrf)]).await;
    let second = code_text(&page, "calendar-url").unwrap();
    assert_ne!(first, second);
    let sam = outreach_core::actor::require_user(&app.db, "handle", "sam")
        .await
        .unwrap();
    let calendars = outreach_web::auth::tokens_of(&app.db, sam.id, "calendar")
        .await
        .unwrap();
    assert_eq!(calendars.len(), 1, "the old calendar token was revoked");
    let secret = second.rsplit('/').next().unwrap().trim_end_matches(".ics");
    assert!(
        calendars[0]
            .token_hash
            .eq(&outreach_web::auth::hash_token(secret))
    );
}
db_test!(
    the_account_page_changes_the_password_and_makes_a_calendar_url,
    the_account_page_changes_the_password_and_makes_a_calendar_url_check
);

async fn contacts_organisations_and_grants_through_the_api_check(db: &TestDb) {
    let app = start(db).await;
    let (sc, scsrf) = signed_in(&app.base, "sam").await;
    let sam = make_token(&sc, &app.base, &scsrf, "sam's script").await;
    let (mc, mcsrf) = signed_in(&app.base, "maria").await;
    let maria = make_token(&mc, &app.base, &mcsrf, "maria's script").await;

    let (status, org) = api_post(
        &app.base,
        &sam,
        "/api/v1/organisations",
        json!({"name": "Nepal Campaign to Ban Landmines", "kind": "icbl-member", "state": "NPL"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{org}");
    assert_eq!(org["icbl_member"], true);
    assert_eq!(org["iso3"], "NPL");
    let (status, again) = api_post(
        &app.base,
        &sam,
        "/api/v1/organisations",
        json!({"name": "Nepal Campaign to Ban Landmines", "state": "NPL"}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");

    let (status, bad) = api_post(
        &app.base,
        &sam,
        "/api/v1/contacts",
        json!({"name": "Sita Sharma", "email": "nope", "organisation": "Nepal Campaign to Ban Landmines"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    assert_eq!(bad["error"]["field"], "email");
    let (status, contact) = api_post(
        &app.base,
        &sam,
        "/api/v1/contacts",
        json!({"name": "Sita Sharma", "email": "sita@example.org",
               "organisation": "Nepal Campaign to Ban Landmines", "languages": "en, ne"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{contact}");
    assert_eq!(contact["iso3"], "NPL", "the organisation's state");
    assert_eq!(contact["organisation_id"], org["id"]);

    let grant = json!({"organisation": "Nepal Campaign to Ban Landmines", "year": 2026,
                       "amount": "20,000", "currency": "usd", "reports_due": ["2027-06-30"]});
    let (status, refused) = api_post(&app.base, &sam, "/api/v1/grants", grant.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    let mut bad = grant.clone();
    bad["reports_due"] = json!(["2027-02-30"]);
    let (status, bad) = api_post(&app.base, &maria, "/api/v1/grants", bad).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    assert_eq!(bad["error"]["field"], "reports_due");
    let (status, g) = api_post(&app.base, &maria, "/api/v1/grants", grant).await;
    assert_eq!(status, StatusCode::CREATED, "{g}");
    assert_eq!(g["currency"], "USD");
    assert_eq!(g["reports_due"], json!(["2027-06-30"]));
    let (_, profile) = api_get(&app.base, &sam, "/api/v1/states/NPL").await;
    assert_eq!(profile["grants"].as_array().unwrap().len(), 1, "{profile}");
    assert_eq!(profile["contacts"][0]["name"], "Sita Sharma");
}
db_test!(
    contacts_organisations_and_grants_through_the_api,
    contacts_organisations_and_grants_through_the_api_check
);

/// A state's stance (issue 16 item 6) through the API, the dashboard and the state page: staff
/// read it, filter and sort by it; only coordinators set it, with a reason; a refused form comes
/// back with the message beside the field.
async fn stance_is_set_by_coordinators_and_filters_every_listing_check(db: &TestDb) {
    let app = start(db).await;
    let tester = outreach_core::Actor::new("tester", outreach_core::domain::IanaZone::UTC).unwrap();
    outreach_core::demo::load(&app.db, &tester).await.unwrap();
    let (sc, scsrf) = signed_in(&app.base, "sam").await;
    let sam = make_token(&sc, &app.base, &scsrf, "sam's script").await;
    let (mc, mcsrf) = signed_in(&app.base, "maria").await;
    let maria = make_token(&mc, &app.base, &mcsrf, "maria's script").await;

    // The demo's Nepal meetings recorded "open".
    let (status, h) = api_get(&app.base, &sam, "/api/v1/states/NPL/stance").await;
    assert_eq!(status, StatusCode::OK, "{h}");
    assert_eq!(h["current"]["stance"], "open");
    assert_eq!(h["current"]["source"], "engagement");

    let body = json!({"stance": "supportive", "reason": "The minister promised a cabinet paper", "on": "2025-12-01"});
    let (status, refused) =
        api_post(&app.base, &sam, "/api/v1/states/NPL/stance", body.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    let (status, bad) = api_post(
        &app.base,
        &maria,
        "/api/v1/states/NPL/stance",
        json!({"stance": "keen", "reason": "x"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    assert_eq!(bad["error"]["field"], "stance", "{bad}");
    let (status, set) = api_post(
        &app.base,
        &maria,
        "/api/v1/states/NPL/stance",
        json!({"stance": "supportive", "reason": "The minister promised a cabinet paper"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{set}");
    assert_eq!(set["set_by"], "maria");
    let (_, h) = api_get(&app.base, &sam, "/api/v1/states/NPL/stance").await;
    assert_eq!(h["current"]["stance"], "supportive");
    assert_eq!(h["history"][1]["stance"], "open", "{h}");

    // Listings: filter and sort.
    let (status, rows) = api_get(
        &app.base,
        &sam,
        "/api/v1/states?status=not-party&stance=supportive",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{rows}");
    let codes: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["iso3"].as_str().unwrap())
        .collect();
    assert_eq!(codes, vec!["NPL"]);
    let (_, rows) = api_get(&app.base, &sam, "/api/v1/attention?sort=stance").await;
    assert_eq!(rows[0]["iso3"], "NPL", "{}", rows[0]);
    assert_eq!(rows[0]["stance"], "supportive");
    let (status, bad) = api_get(&app.base, &sam, "/api/v1/attention?stance=keen").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    assert_eq!(bad["error"]["field"], "stance");

    // The dashboard filters by stance and shows it.
    let (status, page) = get(&sc, &app.base, "/?stance=supportive").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("id=\"row-NPL\""), "{page}");
    assert!(!page.contains("id=\"row-AZE\""), "{page}");
    assert!(page.contains("stance-supportive"), "{page}");
    let (_, page) = get(&sc, &app.base, "/?stance=keen").await;
    assert!(page.contains("id=\"err-stance\""), "{page}");

    // The state page: the stance, its history, and the form for coordinators only.
    let (_, page) = get(&sc, &app.base, "/states/NPL").await;
    assert!(page.contains("id=\"current-stance\""), "{page}");
    assert!(
        page.contains("The minister promised a cabinet paper"),
        "{page}"
    );
    assert!(!page.contains("id=\"set-stance\""), "staff see no form");
    let (_, page) = get(&mc, &app.base, "/states/AZE").await;
    assert!(page.contains("id=\"set-stance\""), "{page}");
    let (status, _, page) = post_form(
        &mc,
        &app.base,
        "/states/AZE/stance",
        &[
            ("csrf", mcsrf.as_str()),
            ("stance", "reluctant"),
            ("reason", " "),
            ("on", ""),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    assert!(page.contains("id=\"err-stance-reason\""), "{page}");
    let (status, _, page) = post_form(
        &mc,
        &app.base,
        "/states/AZE/stance",
        &[
            ("csrf", mcsrf.as_str()),
            ("stance", "reluctant"),
            ("reason", "Defence ruled out accession before a settlement"),
            ("on", ""),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{page}");
    let (_, page) = get(&mc, &app.base, "/states/AZE?added=stance").await;
    assert!(page.contains("Stance set."), "{page}");
    assert!(
        page.contains("Defence ruled out accession before a settlement"),
        "{page}"
    );
    let (status, _, _) = post_form(
        &sc,
        &app.base,
        "/states/AZE/stance",
        &[
            ("csrf", scsrf.as_str()),
            ("stance", "open"),
            ("reason", "x"),
            ("on", ""),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
db_test!(
    stance_is_set_by_coordinators_and_filters_every_listing,
    stance_is_set_by_coordinators_and_filters_every_listing_check
);

/// Signals on the web (issue 15 item 3): the list filters by kind and state and shows the
/// spoken-up count; staff record one through the form (a refused one comes back with the message
/// beside the field and nothing written) or the API; `/spoken-up` lists the States Parties with
/// and without a condemnation.
async fn signals_are_listed_recorded_and_counted_on_the_web_check(db: &TestDb) {
    let app = start(db).await;
    let (sc, scsrf) = signed_in(&app.base, "sam").await;
    let sam = make_token(&sc, &app.base, &scsrf, "sam's script").await;

    let (status, page) = get(&sc, &app.base, "/signals?kind=reported_use").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Landmine Monitor 2022"), "{page}");
    assert!(!page.contains("UNGA resolution 76/26"), "{page}");
    assert!(page.contains("id=\"spoken-up-count\""), "{page}");
    let (_, page) = get(&sc, &app.base, "/signals?state=Nowhere").await;
    assert!(page.contains("id=\"err-state\""), "{page}");

    let (_, rows) = api_get(&app.base, &sam, "/api/v1/signals?state=NPL").await;
    let before = rows.as_array().unwrap().len();
    let (status, _, page) = post_form(
        &sc,
        &app.base,
        "/signals",
        &[
            ("csrf", scsrf.as_str()),
            ("state", "NPL"),
            ("kind", "unga_vote"),
            ("date", "2026-13-01"),
            ("detail", "Voted for the annual resolution"),
            ("value", "yes"),
            ("source", ""),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    assert!(page.contains("id=\"err-signal-date\""), "{page}");
    assert!(page.contains("Voted for the annual resolution"), "{page}");
    let (_, rows) = api_get(&app.base, &sam, "/api/v1/signals?state=NPL").await;
    assert_eq!(rows.as_array().unwrap().len(), before);
    let (status, to, _) = post_form(
        &sc,
        &app.base,
        "/signals",
        &[
            ("csrf", scsrf.as_str()),
            ("state", "Nepal"),
            ("kind", "unga_vote"),
            ("date", "2026-12-02"),
            ("detail", "Voted for the annual resolution"),
            ("value", "yes"),
            ("source", ""),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = get(&sc, &app.base, &to.unwrap()).await;
    assert!(page.contains("Signal recorded."), "{page}");
    assert!(
        page.contains("Voted for the annual resolution (yes)"),
        "{page}"
    );

    let (status, made) = api_post(
        &app.base,
        &sam,
        "/api/v1/signals",
        json!({"state": "NOR", "kind": "condemnation", "date": "2025-06-18", "detail": "Condemned new use"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert_eq!(made["shipped"], false);
    let (status, bad) = api_post(
        &app.base,
        &sam,
        "/api/v1/signals",
        json!({"state": "NOR", "kind": "rumour", "date": "2025-06-18", "detail": "x"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    assert_eq!(bad["error"]["field"], "kind");
    let (_, spoken) = api_get(&app.base, &sam, "/api/v1/spoken-up").await;
    let with: Vec<&str> = spoken["parties_with"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["iso3"].as_str().unwrap())
        .collect();
    assert!(with.contains(&"NOR"), "{with:?}");
    assert_eq!(spoken["count_with"].as_u64().unwrap() as usize, with.len());
    let (status, page) = get(&sc, &app.base, "/spoken-up").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains(&format!("{} States Parties have spoken out", with.len())),
        "{page}"
    );
    assert!(page.contains("Norway"), "{page}");
}
db_test!(
    signals_are_listed_recorded_and_counted_on_the_web,
    signals_are_listed_recorded_and_counted_on_the_web_check
);

/// CSV exports of the listings (issue 15 item 3): each is a CSV attachment with a header row, read
/// as the user may read it (a restricted note stays withheld; the audit log is for admins), with
/// the dashboard's filters, and a value that would run as a formula is written as text.
async fn listings_export_as_csv_safe_from_formulas_check(db: &TestDb) {
    let app = start(db).await;
    let tester = outreach_core::Actor::new("tester", outreach_core::domain::IanaZone::UTC).unwrap();
    outreach_core::demo::load(&app.db, &tester).await.unwrap();
    let (sc, scsrf) = signed_in(&app.base, "sam").await;
    let sam = make_token(&sc, &app.base, &scsrf, "sam's script").await;
    // A contact whose name a spreadsheet would take for a formula.
    let (status, made) = api_post(
        &app.base,
        &sam,
        "/api/v1/contacts",
        json!({"name": "=HYPERLINK(\"http://evil.example.org\",\"x\")", "state": "NPL"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");

    let fetch = |path: &'static str| {
        let c = sc.clone();
        let base = app.base.clone();
        async move {
            let res = c.get(format!("{base}{path}")).send().await.unwrap();
            let status = res.status();
            let kind = res
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default();
            (status, kind, res.text().await.unwrap())
        }
    };
    for (path, header) in [
        ("/export/states.csv?status=not-party", "iso3,state,treaty"),
        ("/export/attention.csv", "iso3,state,status"),
        ("/export/engagements.csv?state=AZE", "date,iso3,kind"),
        ("/export/contacts.csv?state=NPL", "name,title,role"),
        ("/export/organisations.csv", "name,kind,state"),
        ("/export/signals.csv?kind=reported_use", "date,iso3,kind"),
        ("/export/letters.csv", "id,template"),
        ("/export/outbox.csv", "created,status"),
    ] {
        let (status, kind, body) = fetch(path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        assert!(kind.starts_with("text/csv"), "{path}: {kind}");
        assert!(body.starts_with(header), "{path}: {body}");
    }
    let (_, _, contacts) = fetch("/export/contacts.csv?state=NPL").await;
    assert!(
        contacts.contains("\"'=HYPERLINK(\"\"http://evil.example.org\"\",\"\"x\"\")\""),
        "{contacts}"
    );
    // The restricted military dialogue is withheld from staff who are not cleared.
    let (_, _, aze) = fetch("/export/engagements.csv?state=AZE").await;
    assert!(!aze.contains("clearance standards"), "{aze}");
    assert!(aze.contains("Restricted note"), "{aze}");
    // The dashboard's filters apply.
    let (_, _, one) = fetch("/export/attention.csv?q=nepal").await;
    assert_eq!(one.lines().count(), 2, "{one}");
    assert!(
        one.lines().nth(1).unwrap().starts_with("NPL,Nepal"),
        "{one}"
    );
    let (status, _, _) = fetch("/export/audit.csv").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, page) = get(&sc, &app.base, "/").await;
    assert!(page.contains("id=\"export-csv\""), "{page}");
}
db_test!(
    listings_export_as_csv_safe_from_formulas,
    listings_export_as_csv_safe_from_formulas_check
);

async fn posts_through_the_api_keep_the_history_and_name_the_holder_on_a_date_check(db: &TestDb) {
    let app = start(db).await;
    let (sc, scsrf) = signed_in(&app.base, "sam").await;
    let sam = make_token(&sc, &app.base, &scsrf, "sam's script").await;
    for (name, email) in [
        ("Anita Sharma", "anita@example.org"),
        ("Bikash Thapa", "bikash@example.org"),
    ] {
        let (status, c) = api_post(
            &app.base,
            &sam,
            "/api/v1/contacts",
            json!({"name": name, "email": email, "state": "NPL"}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{c}");
    }
    let minister = |who: &str, from: &str| {
        json!({"contact": who, "title": "Minister for Foreign Affairs", "state": "NPL",
               "from": from})
    };
    // Any signed-in staff member records posts, as they record contacts.
    let (status, first) = api_post(
        &app.base,
        &sam,
        "/api/v1/posts",
        minister("anita@example.org", "2021-07-15"),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_eq!(first["current"], true);
    let (status, second) = api_post(
        &app.base,
        &sam,
        "/api/v1/posts",
        minister("Bikash Thapa", "2025-03-01"),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{second}");
    let (status, rows) = api_get(&app.base, &sam, "/api/v1/posts?state=NPL&at=2025-02-28").await;
    assert_eq!(status, StatusCode::OK, "{rows}");
    assert_eq!(rows.as_array().unwrap().len(), 1, "{rows}");
    assert_eq!(rows[0]["contact"], "Anita Sharma");
    assert_eq!(rows[0]["to"], "2025-02-28");
    let (_, rows) = api_get(&app.base, &sam, "/api/v1/posts?state=NPL&at=2025-03-01").await;
    assert_eq!(rows[0]["contact"], "Bikash Thapa", "{rows}");
    let (_, history) = api_get(&app.base, &sam, "/api/v1/posts?state=NPL").await;
    assert_eq!(history.as_array().unwrap().len(), 2, "{history}");

    // Refusals: an overlap 409, an end before the start 400 naming `to`, an unknown contact 404.
    let (status, e) = api_post(
        &app.base,
        &sam,
        "/api/v1/posts",
        minister("Anita Sharma", "2024-01-01"),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{e}");
    let mut bad = minister("Anita Sharma", "2026-02-01");
    bad["title"] = json!("Ambassador");
    bad["to"] = json!("2026-01-01");
    // Two well-formed dates that disagree: a 409 (the document cannot order them), saying `to`.
    let (status, e) = api_post(&app.base, &sam, "/api/v1/posts", bad).await;
    assert_eq!(status, StatusCode::CONFLICT, "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("to: the term would end on 2026-01-01"),
        "{e}"
    );
    let (status, e) = api_post(
        &app.base,
        &sam,
        "/api/v1/posts",
        minister("nobody@example.org", "2026-01-01"),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{e}");

    let id = second["short_id"].as_str().unwrap();
    let (status, ended) = api_post(
        &app.base,
        &sam,
        &format!("/api/v1/posts/{id}/end"),
        json!({"on": "2026-06-30"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{ended}");
    assert_eq!(ended["to"], "2026-06-30");
    let (status, e) = api_post(
        &app.base,
        &sam,
        &format!("/api/v1/posts/{id}/end"),
        json!({"on": "2026-07-30"}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{e}");
    // The state's profile carries its posts, the holder on its date first.
    let (_, profile) = api_get(&app.base, &sam, "/api/v1/states/NPL?at=2024-01-01").await;
    assert_eq!(profile["posts"][0]["contact"], "Anita Sharma", "{profile}");
    assert_eq!(profile["posts"][0]["current"], true, "{profile}");
    // And the state page shows the office, its holder and, folded, the earlier holder.
    let (status, page) = get(&sc, &app.base, "/states/NPL?at=2025-06-01").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("<section id=\"posts\">"), "{page}");
    assert!(page.contains("<td>Bikash Thapa</td>"), "{page}");
    assert!(
        page.contains("<li>Anita Sharma, 2021-07-15 to 2025-02-28</li>"),
        "{page}"
    );
}
db_test!(
    posts_through_the_api,
    posts_through_the_api_keep_the_history_and_name_the_holder_on_a_date_check
);

/// API listings page (issue 15 item 4): a state's profile holds the newest 50 engagements by
/// default (`timeline` asks for more or fewer) while counting them all, and
/// `GET /api/v1/engagements` gives a page of 100 by default, `offset` the next, with the total
/// in `X-Total-Count`; a bad number names its field.
async fn api_listings_page_with_a_default_limit_check(db: &TestDb) {
    let app = start(db).await;
    let (sc, scsrf) = signed_in(&app.base, "sam").await;
    let sam = make_token(&sc, &app.base, &scsrf, "sam's script").await;
    let me = outreach_core::Actor::new("sam", outreach_core::domain::IanaZone::UTC).unwrap();
    for day in 0..130_u64 {
        outreach_core::engagements::log(
            &app.db,
            &me,
            &outreach_core::engagements::EngagementInput {
                state: "NPL".into(),
                kind: "call".into(),
                date: Some(
                    (chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap() + chrono::Days::new(day))
                        .to_string(),
                ),
                summary: Some(format!("Call number {day}")),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    }
    let (_, profile) = api_get(&app.base, &sam, "/api/v1/states/NPL").await;
    assert_eq!(profile["engagements"].as_array().unwrap().len(), 50);
    assert_eq!(profile["engagement_count"], 130);
    assert_eq!(profile["engagements"][0]["summary"], "Call number 129");
    let (_, few) = api_get(&app.base, &sam, "/api/v1/states/NPL?timeline=3").await;
    assert_eq!(few["engagements"].as_array().unwrap().len(), 3);
    let (status, bad) = api_get(&app.base, &sam, "/api/v1/states/NPL?timeline=0").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    assert_eq!(bad["error"]["field"], "timeline");

    let res = client()
        .get(format!("{}/api/v1/engagements?state=NPL", app.base))
        .bearer_auth(&sam)
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-total-count"], "130");
    let first: Value = res.json().await.unwrap();
    assert_eq!(first.as_array().unwrap().len(), 100);
    let (_, second) = api_get(&app.base, &sam, "/api/v1/engagements?state=NPL&offset=100").await;
    let second = second.as_array().unwrap();
    assert_eq!(second.len(), 30);
    assert_eq!(second[0]["summary"], "Call number 29");
    assert_eq!(second[29]["summary"], "Call number 0");
    let (status, bad) = api_get(&app.base, &sam, "/api/v1/engagements?state=NPL&offset=-1").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    assert_eq!(bad["error"]["field"], "offset");
}
db_test!(
    api_listings_page_with_a_default_limit,
    api_listings_page_with_a_default_limit_check
);
