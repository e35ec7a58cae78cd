//! End-to-end tests of the email commands: `mail test` through a real SMTP server on loopback,
//! `outbox` listing and requeueing, and `templates check` on a broken copy of the templates.

use std::path::Path;

use outreach_testkit::smtp::{Reply, SmtpServer};
use outreach_testkit::{TestDb, db_test};

use super::{fails, json, ok, outreach, stderr, write};

/// Points the mailer of the test's configuration at `port` on 127.0.0.1.
fn use_smtp(db: &TestDb, port: u16) {
    std::fs::create_dir_all(db.dir.path().join("config")).unwrap();
    write(
        &db.dir.path().join("config"),
        "development.toml",
        &format!(
            "time_zone = \"Europe/Madrid\"\n[mail]\ntransport = \"smtp\"\nsmtp_port = {port}\n\
             smtp_timeout_secs = 5\nmessage_id_domain = \"cli.outreach.test\"\n"
        ),
    );
}

/// Runs the binary off the async worker, so the SMTP server keeps answering meanwhile.
fn blocking<T>(f: impl FnOnce() -> T) -> T {
    tokio::task::block_in_place(f)
}

async fn mail_test_reports_the_reply_and_outbox_lists_and_requeues(db: &TestDb) {
    let smtp = SmtpServer::start().await;
    use_smtp(db, smtp.port());
    let out = blocking(|| {
        ok(
            db,
            &["mail", "test", "--to", "ana@example.org", "--lang", "fr"],
        )
    });
    assert!(out.contains("Server reply: 250 2.0.0 Ok"), "{out}");
    let got = smtp.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].rcpt_to, vec!["ana@example.org".to_owned()]);
    assert!(
        got[0].data.contains("@cli.outreach.test>"),
        "{}",
        got[0].data
    );

    smtp.script([Reply::RejectRecipient("550 5.1.1 No such user here".into())]);
    let err = blocking(|| fails(db, &["mail", "test", "--to", "gone@example.org"]));
    assert!(
        err.contains("not delivered: 550 5.1.1 No such user here"),
        "{err}"
    );

    let all = blocking(|| json(db, &["outbox"]));
    let rows = all.as_array().unwrap();
    assert_eq!(rows.len(), 2);
    let failed = blocking(|| json(db, &["outbox", "--status", "failed"]));
    assert_eq!(failed.as_array().unwrap().len(), 1);
    assert_eq!(failed[0]["recipient"], "gone@example.org");
    assert!(
        failed[0]["reason"]
            .as_str()
            .unwrap()
            .contains("No such user here")
    );
    let table = blocking(|| ok(db, &["outbox", "--status", "failed"]));
    assert!(
        table.contains("gone@example.org") && table.contains("No such user"),
        "{table}"
    );
    let marked = blocking(|| ok(db, &["outbox", "undeliverable"]));
    assert!(marked.contains("gone@example.org"), "{marked}");

    let id = failed[0]["id"].as_str().unwrap().to_owned();
    // Requeueing is for coordinators: the library checks the acting handle.
    let err = blocking(|| fails(db, &["outbox", "requeue", &id]));
    assert!(
        err.contains("only coordinators can requeue messages"),
        "{err}"
    );
    blocking(|| ok(db, &["user", "add", "tester", "--role", "coordinator"]));
    let out = blocking(|| ok(db, &["outbox", "requeue", &id[id.len() - 8..]]));
    assert!(
        out.contains("Requeued") && out.contains("no longer marked undeliverable"),
        "{out}"
    );
    let queued = blocking(|| json(db, &["outbox", "--status", "queued"]));
    assert_eq!(queued.as_array().unwrap().len(), 1);
    let err = blocking(|| fails(db, &["outbox", "requeue", &id]));
    assert!(
        err.contains("only failed messages can be requeued"),
        "{err}"
    );
    let err = blocking(|| fails(db, &["outbox", "--status", "lost"]));
    assert!(
        err.contains("--status") && err.contains("queued, sending, sent, failed"),
        "{err}"
    );
}
db_test!(
    mail_test_and_outbox,
    mail_test_reports_the_reply_and_outbox_lists_and_requeues
);

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

async fn templates_check_names_template_language_part_field_and_line(db: &TestDb) {
    let out = ok(db, &["templates", "check"]);
    assert!(
        out.contains("63 files of 7 templates checked, no problems"),
        "{out}"
    );

    let err = fails(db, &["templates", "check", "--dir", "nowhere"]);
    assert!(err.contains("--dir: nowhere has no email folder"), "{err}");

    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../templates/email");
    let dir = db.dir.path().join("custom");
    copy_dir(&shipped, &dir.join("email"));
    let file = dir.join("email/meeting_reminder/es/text.hbs");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        text.replace("{{meeting.owner}}", "{{meeting.organiser}}"),
    )
    .unwrap();
    let o = outreach(db, &["templates", "check", "--dir", dir.to_str().unwrap()]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains(
            "template meeting_reminder, language es, part text, line 14, column 17, field `meeting.organiser`"
        ),
        "{err}"
    );
    assert!(
        err.contains("not a field of the MeetingReminder context"),
        "{err}"
    );

    // The mailer refuses to start with such templates: `mail test` fails before sending.
    std::fs::create_dir_all(db.dir.path().join("config")).unwrap();
    write(
        &db.dir.path().join("config"),
        "development.toml",
        "[mail]\ntemplates_dir = \"custom\"\n",
    );
    let err = fails(db, &["mail", "test", "--to", "ana@example.org"]);
    assert!(
        err.contains("meeting.organiser") && err.contains("templates check"),
        "{err}"
    );
}
db_test!(
    templates_check,
    templates_check_names_template_language_part_field_and_line
);

async fn templates_check_also_checks_the_page_templates(db: &TestDb) {
    let out = ok(db, &["templates", "check"]);
    assert!(
        out.contains("Page templates (built-in page templates): 24 pages and 2 partials checked, no problems."),
        "{out}"
    );
    let report = json(db, &["templates", "check"]);
    assert_eq!(
        report["files"], 63,
        "the email report keeps its shape: {report}"
    );
    assert_eq!(
        report["pages"]["problems"],
        serde_json::json!([]),
        "{report}"
    );
    assert_eq!(report["pages"]["pages"].as_array().map(Vec::len), Some(24));

    // A copy of the templates with a page that names a field its context lacks.
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../templates");
    let dir = db.dir.path().join("custom");
    copy_dir(&shipped.join("email"), &dir.join("email"));
    copy_dir(&shipped.join("web"), &dir.join("web"));
    let file = dir.join("web/letters.hbs");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("{{recipient}}"));
    std::fs::write(&file, text.replace("{{recipient}}", "{{addressee}}")).unwrap();
    let o = outreach(db, &["templates", "check", "--dir", dir.to_str().unwrap()]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.contains("1 problem(s) in the page templates"), "{err}");
    assert!(
        err.contains("template letters, line") && err.contains("field `rows[].addressee`"),
        "{err}"
    );
    assert!(
        err.contains("not a field of the LettersPage context"),
        "{err}"
    );
}
db_test!(
    templates_check_pages,
    templates_check_also_checks_the_page_templates
);
