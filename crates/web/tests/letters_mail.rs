//! Letters and mail pages against a real server on loopback, on SQLite and PostgreSQL: drafting
//! through the form, the review steps with approval kept to coordinators, validation with the
//! message beside its field, escaped text, export, the outbox with requeue, the template
//! previews, and CSRF on every form.

#![allow(clippy::unwrap_used)]

mod common;

use chrono::Utc;
use common::{get, pairs, post_form, signed_in, start};
use outreach_core::Actor;
use outreach_core::domain::{EmailAddress, IanaZone};
use outreach_mailer::entities::outbox;
use outreach_mailer::outbox::{Enqueued, NewEmail, enqueue};
use outreach_testkit::{TestDb, db_test};
use reqwest::StatusCode;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseConnection, EntityTrait};

async fn with_demo(db: &DatabaseConnection) {
    let actor = Actor::new("tester", IanaZone::UTC).unwrap();
    outreach_core::demo::load(db, &actor).await.unwrap();
}

/// The text of `<span id="letter-status" ...>...</span>`.
fn status_of(page: &str) -> String {
    let at = page
        .find("id=\"letter-status\"")
        .expect("a status on the page");
    let rest = &page[at..];
    let open = rest.find('>').unwrap() + 1;
    let close = rest.find("</span>").unwrap();
    rest[open..close].trim().to_owned()
}

/// Drafts through the form as the signed-in client and returns the letter's path.
async fn draft_nepal(c: &reqwest::Client, base: &str, csrf: &str) -> String {
    let (status, location, body) = post_form(
        c,
        base,
        "/letters",
        &[
            ("csrf", csrf),
            ("template", "joint-approach"),
            ("state", "NPL"),
            ("to", ""),
            ("lang", "en"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let location = location.unwrap();
    assert!(location.starts_with("/letters/"), "{location}");
    location
}

async fn a_coordinator_drafts_submits_and_approves(db: &TestDb) {
    let app = start(db).await;
    with_demo(&app.db).await;
    let (c, csrf) = signed_in(&app.base, "maria").await;

    let (status, form) = get(&c, &app.base, "/letters/new?state=NPL").await;
    assert_eq!(status, StatusCode::OK);
    assert!(form.contains("id=\"letter-form\""));
    assert!(form.contains("value=\"joint-approach\""), "{form}");
    assert!(form.contains("id=\"lang\""));
    assert!(form.contains("<option value=\"fr\""));
    assert!(form.contains("id=\"state\" name=\"state\" value=\"NPL\""));
    assert!(form.contains("id=\"letter-submit\""));
    // The state's contacts are offered as recipients.
    assert!(form.contains("ingrid@embassy-demo.example.org"), "{form}");

    let letter = draft_nepal(&c, &app.base, &csrf).await;
    let (status, page) = get(&c, &app.base, &letter).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(status_of(&page), "draft");
    assert!(page.contains("Nepal"));
    assert!(page.contains("id=\"letter-submit-review\""));
    assert!(!page.contains("id=\"letter-approve\""));
    assert!(page.contains("id=\"letter-edit-form\""));
    assert!(
        page.contains("drafted from joint_approach"),
        "history shows v1"
    );

    let (status, location, _) = post_form(
        &c,
        &app.base,
        &format!("{letter}/submit"),
        &[("csrf", csrf.as_str())],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location.as_deref(), Some(letter.as_str()));
    let (_, page) = get(&c, &app.base, &letter).await;
    assert_eq!(status_of(&page), "in_review");
    // Four eyes: maria wrote it, so she is not offered the approval, and cannot force it.
    assert!(!page.contains("id=\"letter-approve\""));
    assert!(page.contains("id=\"letter-awaits\""));
    let (status, _, body) = post_form(
        &c,
        &app.base,
        &format!("{letter}/approve"),
        &[("csrf", csrf.as_str())],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("four eyes: maria wrote version 1"), "{body}");

    let (ada, ada_csrf) = signed_in(&app.base, "ada").await;
    let (_, page) = get(&ada, &app.base, &letter).await;
    assert!(page.contains("id=\"letter-approve\""));
    let (status, _, _) = post_form(
        &ada,
        &app.base,
        &format!("{letter}/approve"),
        &[("csrf", ada_csrf.as_str())],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = get(&c, &app.base, &letter).await;
    assert_eq!(status_of(&page), "approved");
    assert!(page.contains("Approved by ada"));
    assert!(page.contains("id=\"letter-mark-sent\""));

    // Approving twice is a conflict, said plainly.
    let (status, _, body) = post_form(
        &ada,
        &app.base,
        &format!("{letter}/approve"),
        &[("csrf", ada_csrf.as_str())],
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        body.contains("only a letter in review can be approved"),
        "{body}"
    );

    // The list shows it, and filters by status and state.
    let (_, list) = get(&c, &app.base, "/letters").await;
    assert!(list.contains(&letter), "{list}");
    let (_, approved) = get(&c, &app.base, "/letters?status=approved&state=Nepal").await;
    assert!(approved.contains(&letter));
    let (_, drafts) = get(&c, &app.base, "/letters?status=draft").await;
    assert!(!drafts.contains(&letter));
    let (status, bad) = get(&c, &app.base, "/letters?status=lost").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.contains("id=\"err-status\""));

    // Marking it sent.
    let (status, _, _) = post_form(
        &c,
        &app.base,
        &format!("{letter}/send"),
        &[("csrf", csrf.as_str())],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = get(&c, &app.base, &letter).await;
    assert_eq!(status_of(&page), "sent");
    assert!(!page.contains("id=\"letter-edit-form\""));
}
db_test!(
    coordinator_approves,
    a_coordinator_drafts_submits_and_approves
);

async fn staff_cannot_approve(db: &TestDb) {
    let app = start(db).await;
    with_demo(&app.db).await;
    let (sam, sam_csrf) = signed_in(&app.base, "sam").await;
    let letter = draft_nepal(&sam, &app.base, &sam_csrf).await;
    let (status, _, _) = post_form(
        &sam,
        &app.base,
        &format!("{letter}/submit"),
        &[("csrf", sam_csrf.as_str())],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = get(&sam, &app.base, &letter).await;
    assert_eq!(status_of(&page), "in_review");
    assert!(!page.contains("id=\"letter-approve\""));
    assert!(!page.contains(&format!("{letter}/approve")));

    let (status, _, body) = post_form(
        &sam,
        &app.base,
        &format!("{letter}/approve"),
        &[("csrf", sam_csrf.as_str())],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        body.contains("Only coordinators can approve letters"),
        "{body}"
    );
    let (_, page) = get(&sam, &app.base, &letter).await;
    assert_eq!(status_of(&page), "in_review");

    // The same letter is approvable by a coordinator.
    let (maria, csrf) = signed_in(&app.base, "maria").await;
    let (_, page) = get(&maria, &app.base, &letter).await;
    assert!(page.contains("id=\"letter-approve\""));
    let (status, _, _) = post_form(
        &maria,
        &app.base,
        &format!("{letter}/approve"),
        &[("csrf", csrf.as_str())],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
}
db_test!(staff_refused, staff_cannot_approve);

/// Posts the drafting form: template, state, to and language; returns the status and the page.
async fn draft(
    c: &reqwest::Client,
    base: &str,
    csrf: &str,
    [template, state, to, lang]: [&str; 4],
) -> (StatusCode, String) {
    let form = [
        ("csrf", csrf),
        ("template", template),
        ("state", state),
        ("to", to),
        ("lang", lang),
    ];
    let (status, _, page) = post_form(c, base, "/letters", &form).await;
    (status, page)
}

async fn bad_input_is_refused_beside_its_field(db: &TestDb) {
    let app = start(db).await;
    with_demo(&app.db).await;
    let (c, csrf) = signed_in(&app.base, "maria").await;

    let (status, page) = draft(
        &c,
        &app.base,
        &csrf,
        [
            "begging-letter",
            "NPL",
            "ingrid@embassy-demo.example.org",
            "fr",
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"err-template\""), "{page}");
    assert!(page.contains("there is no letter template"));
    assert!(page.contains("value=\"NPL\""), "the state typed is kept");
    assert!(page.contains("value=\"ingrid@embassy-demo.example.org\""));

    let (status, page) = draft(&c, &app.base, &csrf, ["call-to-join", "Atlantis", "", "es"]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"err-state\""), "{page}");
    assert!(page.contains("Atlantis is not a state code or name"));
    assert!(page.contains("value=\"Atlantis\""));
    assert!(page.contains("<option value=\"call-to-join\" selected"));
    assert!(page.contains("<option value=\"es\" selected"));

    let (status, page) = draft(&c, &app.base, &csrf, ["joint-approach", "", "", ""]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"err-state\""));

    // A state whose records lack what the template needs: the message says what to add, in the
    // web app's words, not the command line's.
    let (status, page) = draft(&c, &app.base, &csrf, ["joint-approach", "EGY", "", "en"]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    let at = page.find("id=\"err-state\"").unwrap();
    let message = &page[at..at + page[at..].find("</").unwrap()];
    assert!(
        message.contains("Cannot draft joint approach for Egypt"),
        "{message}"
    );
    assert!(message.contains("Add a contact"), "{message}");
    assert!(message.contains("Add an organisation"), "{message}");
    assert!(message.contains("Log an engagement"), "{message}");
    assert!(!message.contains("outreach "), "{message}");

    let (status, page) = draft(
        &c,
        &app.base,
        &csrf,
        ["joint-approach", "NPL", "nobody-at-all", ""],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"err-to\""), "{page}");

    // Nothing was written.
    let written = outreach_letters::drafts::list(&app.db, None).await.unwrap();
    assert!(written.is_empty(), "{written:?}");
}
db_test!(validation, bad_input_is_refused_beside_its_field);

async fn edited_text_is_shown_escaped_and_exports(db: &TestDb) {
    let app = start(db).await;
    with_demo(&app.db).await;
    let (c, csrf) = signed_in(&app.base, "maria").await;
    let letter = draft_nepal(&c, &app.base, &csrf).await;

    let res = c
        .post(format!("{}{letter}/export", app.base))
        .form(&[("csrf", csrf.as_str()), ("format", "md")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/markdown")
    );
    let disposition = res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(disposition.contains("filename=\"letter-") && disposition.ends_with(".md\""));
    let md = res.text().await.unwrap();
    assert!(md.contains("Nepal"), "{md}");

    // An empty body is refused beside the field, the typed subject kept.
    let (status, _, page) = post_form(
        &c,
        &app.base,
        &format!("{letter}/edit"),
        &[
            ("csrf", csrf.as_str()),
            ("subject", "A subject I typed"),
            ("body", "   "),
            ("note", ""),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"err-body\""));
    assert!(page.contains("value=\"A subject I typed\""));

    let nasty = "Dear Minister,\n<script>alert(1)</script>\n'); DROP TABLE engagements; --\n";
    let (status, _, _) = post_form(
        &c,
        &app.base,
        &format!("{letter}/edit"),
        &[
            ("csrf", csrf.as_str()),
            ("subject", "<b>Subject</b>"),
            ("body", nasty),
            ("note", "<i>note</i>"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = get(&c, &app.base, &letter).await;
    assert!(
        page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{page}"
    );
    assert!(!page.contains("<script>alert(1)"));
    assert!(!page.contains("<b>Subject</b>"));
    assert!(!page.contains("<i>note</i>"));
    assert!(page.contains("DROP TABLE engagements"));
    assert!(page.contains("2 (current)"), "a second version");
    // The engagements table is still there.
    assert!(
        outreach_core::engagements::for_state(
            &app.db,
            "NPL",
            &outreach_core::access::Reader {
                handle: None,
                cleared: true
            }
        )
        .await
        .is_ok()
    );

    let res = c
        .post(format!("{}{letter}/export", app.base))
        .form(&[("csrf", csrf.as_str()), ("format", "docx")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()["content-type"],
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    );
    assert!(res.bytes().await.unwrap().starts_with(b"PK"));

    let res = c
        .post(format!("{}{letter}/export", app.base))
        .form(&[("csrf", csrf.as_str()), ("format", "html")])
        .send()
        .await
        .unwrap();
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = res.text().await.unwrap();
    assert!(!html.contains("<script>alert(1)"), "{html}");

    // An export changes the letter's state: never a GET a prefetch could follow.
    let (status, _) = get(&c, &app.base, &format!("{letter}/export?format=md")).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    let (status, _, page) = post_form(
        &c,
        &app.base,
        &format!("{letter}/export"),
        &[("csrf", csrf.as_str()), ("format", "pdf")],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("use md, html or docx"));
}
db_test!(
    escaped_and_exported,
    edited_text_is_shown_escaped_and_exports
);

async fn queue(db: &DatabaseConnection, key: &str, to: &str) -> uuid::Uuid {
    let ctx = outreach_mailer::context::TestMessage::sample();
    let done = enqueue(
        db,
        NewEmail {
            idempotency_key: key.into(),
            recipient: EmailAddress::parse("to", to).unwrap(),
            recipient_name: None,
            template: "test_message".into(),
            language: "en".into(),
            context: serde_json::to_value(&ctx).unwrap(),
            send_at: Utc::now(),
            subject: None,
            job_id: None,
        },
    )
    .await
    .unwrap();
    let Enqueued::Queued(id) = done else {
        panic!("not queued")
    };
    id
}

async fn the_outbox_lists_and_requeues(db: &TestDb) {
    let app = start(db).await;
    let queued = queue(&app.db, "web-test:1", "queued@example.org").await;
    let failed = queue(&app.db, "web-test:2", "broken@example.org").await;
    let row = outbox::Entity::find_by_id(failed)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let mut active: outbox::ActiveModel = row.into();
    active.status = Set("failed".into());
    active.attempts = Set(5);
    active.last_error = Set(Some("550 <mailbox> unavailable".into()));
    active.update(&app.db).await.unwrap();
    let failed_short = outreach_core::ids::short(failed);
    let queued_short = outreach_core::ids::short(queued);

    let (maria, csrf) = signed_in(&app.base, "maria").await;
    let (status, page) = get(&maria, &app.base, "/outbox").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("queued@example.org"));
    assert!(page.contains("broken@example.org"));
    assert!(page.contains("550 &lt;mailbox&gt; unavailable"), "{page}");
    assert!(page.contains(&format!("id=\"requeue-{failed_short}\"")));
    assert!(!page.contains(&format!("id=\"requeue-{queued_short}\"")));

    let (_, only_failed) = get(&maria, &app.base, "/outbox?status=failed").await;
    assert!(only_failed.contains("broken@example.org"));
    assert!(!only_failed.contains("queued@example.org"));
    let (status, bad) = get(&maria, &app.base, "/outbox?status=lost").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.contains("id=\"err-status\""));

    // Staff see no requeue button, and their POST is refused.
    let (sam, sam_csrf) = signed_in(&app.base, "sam").await;
    let (_, page) = get(&sam, &app.base, "/outbox").await;
    assert!(!page.contains("id=\"requeue-"));
    let (status, _, body) = post_form(
        &sam,
        &app.base,
        &format!("/outbox/{failed}/requeue"),
        &[("csrf", sam_csrf.as_str())],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("requeue messages"));

    let (status, location, _) = post_form(
        &maria,
        &app.base,
        &format!("/outbox/{failed}/requeue"),
        &[("csrf", csrf.as_str())],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = get(&maria, &app.base, &location.unwrap()).await;
    assert!(page.contains("id=\"outbox-notice\""));
    let row = outbox::Entity::find_by_id(failed)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.status, "queued");
    assert_eq!(row.attempts, 0);

    // A queued message cannot be requeued: a conflict, said plainly.
    let (status, _, body) = post_form(
        &maria,
        &app.base,
        &format!("/outbox/{queued}/requeue"),
        &[("csrf", csrf.as_str())],
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body.contains("only failed messages can be requeued"));

    // The same through the API (a cookie session, so with the CSRF header): staff are refused,
    // a coordinator puts the message back in the queue.
    let row = outbox::Entity::find_by_id(failed)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let mut active: outbox::ActiveModel = row.into();
    active.status = Set("failed".into());
    active.update(&app.db).await.unwrap();
    let url = format!("{}/api/v1/outbox/{failed_short}/requeue", app.base);
    let res = sam
        .post(&url)
        .header("X-CSRF-Token", &sam_csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = maria
        .post(&url)
        .header("X-CSRF-Token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let done: serde_json::Value = res.json().await.unwrap();
    assert_eq!(done["entry"]["status"], "queued", "{done}");
    let row = outbox::Entity::find_by_id(failed)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.status, "queued");
}
db_test!(outbox_requeue, the_outbox_lists_and_requeues);

async fn every_template_previews_in_every_language(db: &TestDb) {
    let app = start(db).await;
    let (c, _) = signed_in(&app.base, "sam").await;
    let (status, list) = get(&c, &app.base, "/mail/templates").await;
    assert_eq!(status, StatusCode::OK);
    let templates = outreach_mailer::render::known_templates();
    assert!(templates.len() >= 7);
    for (name, _, _) in &templates {
        for lang in outreach_mailer::locale::LANGUAGES {
            let href = format!("/mail/templates/{name}?lang={lang}");
            // Handlebars escapes `=` in attributes; browsers read it back.
            let listed = format!("/mail/templates/{name}?lang&#x3D;{lang}");
            assert!(list.contains(&listed), "{href} listed");
            let (status, page) = get(&c, &app.base, &href).await;
            assert_eq!(status, StatusCode::OK, "{href}: {page}");
            let at = page.find("id=\"mail-subject\">").unwrap() + "id=\"mail-subject\">".len();
            let subject = &page[at..at + page[at..].find("</p>").unwrap()];
            assert!(!subject.trim().is_empty(), "{href} has a subject");
            // The HTML part is inside a sandboxed iframe's srcdoc, escaped.
            let frame = page.find("<iframe").unwrap();
            let frame = &page[frame..frame + page[frame..].find("</iframe>").unwrap()];
            assert!(frame.contains("sandbox srcdoc=\""), "{frame}");
            assert!(frame.contains("&lt;"), "{frame}");
            assert!(!frame[8..].contains('<'), "nothing unescaped in {frame}");
        }
    }
    let (status, _) = get(&c, &app.base, "/mail/templates/meeting_reminder?lang=de").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = get(&c, &app.base, "/mail/templates/no_such_thing").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
db_test!(previews, every_template_previews_in_every_language);

async fn posts_without_the_csrf_token_are_refused(db: &TestDb) {
    let app = start(db).await;
    with_demo(&app.db).await;
    let (c, csrf) = signed_in(&app.base, "maria").await;
    let (status, _, _) = post_form(
        &c,
        &app.base,
        "/letters",
        &[("template", "joint-approach"), ("state", "NPL")],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        outreach_letters::drafts::list(&app.db, None)
            .await
            .unwrap()
            .is_empty()
    );
    let letter = draft_nepal(&c, &app.base, &csrf).await;
    for step in ["submit", "approve", "send", "edit"] {
        let (status, _, _) = post_form(
            &c,
            &app.base,
            &format!("{letter}/{step}"),
            &[("csrf", "forged"), ("body", "x")],
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{step}");
    }
    let (_, page) = get(&c, &app.base, &letter).await;
    assert_eq!(status_of(&page), "draft");
    let id = queue(&app.db, "web-test:csrf", "someone@example.org").await;
    let (status, _, _) = post_form(&c, &app.base, &format!("/outbox/{id}/requeue"), &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
db_test!(csrf_required, posts_without_the_csrf_token_are_refused);

async fn admins_see_the_settings_and_send_a_test_email(db: &TestDb) {
    use sea_orm::{ColumnTrait, QueryFilter};
    let app = start(db).await;
    // Only admins.
    for handle in ["sam", "maria"] {
        let (c, _) = signed_in(&app.base, handle).await;
        let (status, _) = get(&c, &app.base, "/settings").await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{handle}");
    }
    let (ada, csrf) = signed_in(&app.base, "ada").await;
    let (status, page) = get(&ada, &app.base, "/settings").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("id=\"setting-Mail-transport\""), "{page}");
    assert!(page.contains("id=\"setting-Scheduler-workflows_file\">config/workflows.toml<"));
    // The test form is addressed to the admin by default.
    assert!(page.contains("value=\"ada@example.org\""), "{page}");
    assert!(page.contains("id=\"setting-Mail-smtp_password\">not set<"));
    assert!(page.contains("id=\"setting-General-database_url\""));
    // A bad address comes back beside its field; nothing is queued.
    let send = |form: Vec<(&'static str, String)>| {
        let (ada, base) = (ada.clone(), app.base.clone());
        async move { post_form(&ada, &base, "/settings/test-mail", &pairs(&form)).await }
    };
    let (status, _, page) = send(vec![
        ("csrf", csrf.clone()),
        ("to", "not an address".into()),
        ("lang", "fr".into()),
    ])
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"err-to\""), "{page}");
    assert!(page.contains("value=\"not an address\""));
    assert!(page.contains("<option value=\"fr\" selected"));
    let tests = || {
        outbox::Entity::find()
            .filter(outbox::Column::Template.eq("test_message"))
            .all(&app.db)
    };
    assert!(tests().await.unwrap().is_empty());
    // Without the token: refused.
    let (status, _, _) = send(vec![("to", "ada@example.org".into())]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, location, _) = send(vec![
        ("csrf", csrf.clone()),
        ("to", "ops@example.org".into()),
        ("lang", "es".into()),
    ])
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = get(&ada, &app.base, &location.unwrap()).await;
    assert!(page.contains("id=\"notice\""), "{page}");
    let queued = tests().await.unwrap();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].recipient_email, "ops@example.org");
    assert_eq!(queued[0].language, "es");
    let audit = outreach_core::audit::recent(&app.db, 5).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|r| r.action == "mail.test" && r.actor == "ada"),
        "{audit:?}"
    );
}
db_test!(settings, admins_see_the_settings_and_send_a_test_email);
