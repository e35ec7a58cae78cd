//! `outreach backup` and `outreach restore`, end to end with the real binary: the demo data and a
//! generated load (10,000 engagements, meetings with planned reminders, queued and sent email,
//! letters with versions, users with passwords and tokens) go SQLite -> PostgreSQL -> SQLite with
//! every row of every table equal; the restored database serves the same users and sends the
//! queued reminders once; a non-empty database is refused; an archive from before the access
//! migration is migrated after loading.

use std::path::Path;
use std::time::Duration;

use outreach_core::backup::rows_by_table;
use outreach_testkit::{Backend, TestDb};
use sea_orm::{ConnectionTrait as _, DatabaseConnection, EntityTrait as _};
use serde_json::Value;

use super::{fails, json as outreach_json, ok, stderr, write};

const PASSWORD: &str = "a long enough passphrase";

/// The demo data, and on top of it the load a team builds up over months.
async fn fill(db: &TestDb) -> (String, usize) {
    ok(db, &["demo"]);
    ok(db, &["user", "add", "lead", "--role", "coordinator"]);
    add_user_with_password(db, "ines", "ines@example.org");
    // Meetings three weeks ahead with reminders planned for their participants and owner.
    let day = (chrono::Utc::now() + chrono::Duration::days(21)).format("%Y-%m-%d");
    let mut planned = 0;
    for i in 0..5 {
        let m = outreach_json(
            db,
            &[
                "meeting",
                "schedule",
                "--state",
                "NPL",
                "--title",
                &format!("Ministry meeting {i}"),
                "--at",
                &format!("{day} 1{i}:00"),
                "--with",
                "Asha Demo",
                "--as",
                "ines",
            ],
        );
        planned += m["reminders"]["planned"].as_u64().unwrap() as usize;
    }
    // A letter with two versions.
    let d = outreach_json(db, &["letter", "draft", "joint_approach", "--state", "NPL"]);
    let id = d["short_id"].as_str().unwrap().to_owned();
    let file = write(
        db.dir.path(),
        "edited.md",
        &format!("{}\nP.S. With thanks.\n", d["body"].as_str().unwrap()),
    );
    ok(db, &["letter", "edit", &id, "--file", &file]);
    // One email sent (to files), and one queued.
    ok(
        db,
        &["mail", "test", "--to", "sent@example.org", "--as", "ines"],
    );
    let conn = outreach_core::db::open(&db.url, "tester").await.unwrap();
    outreach_mailer::ledger::queue_test(
        &conn,
        "tester",
        &outreach_core::domain::EmailAddress::parse("to", "queued@example.org").unwrap(),
        "fr",
        "Europe/Paris",
    )
    .await
    .unwrap();
    // An API token for ines.
    let ines = outreach_core::actor::find_user(&conn, "ines")
        .await
        .unwrap()
        .unwrap();
    let token = outreach_web::auth::issue_token(
        &conn,
        &outreach_core::Actor::new("ines", outreach_core::domain::IanaZone::UTC).unwrap(),
        ines.id,
        "api",
        "backup test",
    )
    .await
    .unwrap();
    // 10,000 engagements, some of them restricted.
    engagements(&conn, 10_000).await;
    conn.close().await.ok();
    (token, planned)
}

fn add_user_with_password(db: &TestDb, handle: &str, email: &str) {
    use std::io::Write as _;
    let mut child = super::command(
        db,
        &[],
        &[
            "user",
            "add",
            handle,
            "--email",
            email,
            "--role",
            "admin",
            "--password-stdin",
        ],
    )
    .stdin(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped())
    .stdout(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{PASSWORD}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}

async fn engagements(conn: &DatabaseConnection, n: usize) {
    use outreach_core::entities::engagement;
    use sea_orm::ActiveValue::Set;
    let states = ["NPL", "IND", "AZE", "USA", "CHN", "PAK", "EGY", "MAR"];
    let kinds = [
        "embassy_visit",
        "capital_meeting",
        "military_dialogue",
        "call",
    ];
    let start = chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap();
    let rows: Vec<engagement::ActiveModel> = (0..n)
        .map(|i| {
            let kind = kinds[i % kinds.len()];
            engagement::ActiveModel {
                id: Set(uuid::Uuid::now_v7()),
                iso3: Set(states[i % states.len()].to_owned()),
                kind: Set(kind.to_owned()),
                occurred_on: Set(start + chrono::Duration::days((i % 2000) as i64)),
                summary: Set(format!(
                    "Engagement {i}: \"quoted\", accents é, line\nbreak"
                )),
                outcome: Set((i % 3 == 0).then(|| format!("Outcome {i}"))),
                stance: Set((i % 5 == 0).then(|| "open".to_owned())),
                meeting_id: Set(None),
                created_by: Set("tester".to_owned()),
                created_at: Set(chrono::Utc::now()),
                sensitivity: Set(if kind == "military_dialogue" {
                    "restricted".to_owned()
                } else {
                    "internal".to_owned()
                }),
                deliverable_id: Set(None),
            }
        })
        .collect();
    let tx = outreach_core::db::begin(conn).await.unwrap();
    for chunk in rows.chunks(500) {
        engagement::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&tx)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
}

async fn rows_of(url: &str) -> std::collections::BTreeMap<String, Vec<String>> {
    let conn = outreach_core::db::connect_only(url).await.unwrap();
    let rows = rows_by_table(&conn).await.unwrap();
    conn.close().await.ok();
    rows
}

fn assert_same_rows(
    a: &std::collections::BTreeMap<String, Vec<String>>,
    b: &std::collections::BTreeMap<String, Vec<String>>,
    what: &str,
) {
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        b.keys().collect::<Vec<_>>(),
        "{what}: tables"
    );
    for (table, rows) in a {
        let other = &b[table];
        assert_eq!(rows.len(), other.len(), "{what}: rows of {table}");
        if let Some((x, y)) = rows.iter().zip(other).find(|(x, y)| x != y) {
            panic!("{what}: a row of {table} differs:\n{x}\n{y}");
        }
    }
}

fn restore(db: &TestDb, file: &Path) -> Value {
    outreach_json(db, &["restore", file.to_str().unwrap()])
}

fn backup(db: &TestDb, file: &Path) -> Value {
    let out = super::outreach(db, &["--json", "backup", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    // Progress goes to stderr, the report to stdout.
    assert!(
        stderr(&out).contains("backing up engagements: 10"),
        "{}",
        stderr(&out)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test]
async fn a_backup_goes_sqlite_to_postgres_to_sqlite_with_every_row_equal_and_serves() {
    let first = TestDb::new(Backend::Sqlite).await;
    let (token, planned) = fill(&first).await;
    assert!(planned >= 10, "{planned}");
    let file_a = first.dir.path().join("first.backup");
    let report = backup(&first, &file_a);
    assert!(
        report["report"]["rows"].as_u64().unwrap() > 10_000,
        "{report}"
    );
    assert!(
        report["report"]["tables"]["engagements"].as_u64().unwrap() > 10_000,
        "{report}"
    );
    assert!(!first.dir.path().join("first.backup.partial").exists());

    let pg = TestDb::new(Backend::Postgres).await;
    let restored = restore(&pg, &file_a);
    assert_eq!(restored["report"]["rows"], report["report"]["rows"]);
    assert_eq!(restored["report"]["migrated"], serde_json::json!([]));
    let file_b = pg.dir.path().join("pg.backup");
    backup(&pg, &file_b);
    let last = TestDb::new(Backend::Sqlite).await;
    restore(&last, &file_b);

    let a = rows_of(&first.url).await;
    let b = rows_of(&pg.url).await;
    let c = rows_of(&last.url).await;
    assert!(a.len() >= 20, "{:?}", a.keys());
    assert_same_rows(&a, &b, "SQLite -> PostgreSQL");
    assert_same_rows(&a, &c, "SQLite -> PostgreSQL -> SQLite");

    // A database that holds records is refused, and keeps them; --force replaces them.
    let err = fails(&pg, &["restore", file_a.to_str().unwrap()]);
    assert!(
        err.contains("already holds records") && err.contains("--force"),
        "{err}"
    );
    assert_same_rows(&a, &rows_of(&pg.url).await, "after a refused restore");
    let forced = outreach_json(&pg, &["restore", "--force", file_a.to_str().unwrap()]);
    assert_eq!(forced["report"]["rows"], report["report"]["rows"]);
    assert_same_rows(&a, &rows_of(&pg.url).await, "after a forced restore");

    // The restored PostgreSQL database: the same users sign in, their tokens work.
    let conn = outreach_core::db::open(&pg.url, "tester").await.unwrap();
    let settings = {
        let dir = tempfile::tempdir().unwrap();
        outreach_core::config::Settings::load_from(dir.path(), "test", false).unwrap()
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let app =
        std::sync::Arc::new(outreach_web::AppState::new(conn.clone(), &settings, &root).unwrap());
    let (stop, rx) = tokio::sync::watch::channel(false);
    let (addr, _) = outreach_web::bind(app, "127.0.0.1:0".parse().unwrap(), rx)
        .await
        .unwrap();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let states = client
        .get(format!("http://{addr}/api/v1/states"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(states.status(), reqwest::StatusCode::OK);
    let page = client
        .get(format!("http://{addr}/login"))
        .send()
        .await
        .unwrap();
    let cookie = page.headers()["set-cookie"].to_str().unwrap().to_owned();
    let html = page.text().await.unwrap();
    let at = html.find("name=\"csrf\" value=\"").unwrap() + "name=\"csrf\" value=\"".len();
    let csrf = &html[at..at + 64];
    let signed = client
        .post(format!("http://{addr}/login"))
        .header("cookie", cookie.split(';').next().unwrap())
        .form(&[("handle", "ines"), ("password", PASSWORD), ("csrf", csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(
        signed.status(),
        reqwest::StatusCode::SEE_OTHER,
        "ines signs in"
    );
    let _ = stop.send(true);

    // Its queued reminders go out once: brought forward to now, run twice.
    let smtp = outreach_testkit::smtp::SmtpServer::start().await;
    let settings = settings
        .with("mail.transport", "smtp")
        .and_then(|s| s.with("mail.smtp_host", "127.0.0.1"))
        .and_then(|s| s.with("mail.smtp_port", smtp.port()))
        .and_then(|s| s.with("mail.smtp_security", "none"))
        .unwrap();
    conn.execute_unprepared(
        "UPDATE jobs SET run_at = now() WHERE status = 'queued' AND kind = 'meeting_reminder' \
         AND subject_id IN (SELECT id::text FROM meetings WHERE title LIKE 'Ministry meeting %')",
    )
    .await
    .unwrap();
    let (daemon, mailer) =
        outreach_scheduler::service::build(conn.clone(), &settings, &root).unwrap();
    outreach_scheduler::service::run_once(&conn, &daemon, &mailer)
        .await
        .unwrap();
    let about_them = |got: &[outreach_testkit::smtp::Received]| {
        got.iter()
            .filter(|m| m.data.contains("Ministry meeting"))
            .count()
    };
    let got = smtp.wait_for(planned + 1, Duration::from_secs(30)).await;
    assert_eq!(about_them(&got), planned);
    // The test email that was queued before the backup went too.
    assert!(
        got.iter()
            .any(|m| m.rcpt_to.iter().any(|r| r.contains("queued@example.org"))),
        "{} messages",
        got.len()
    );
    let before = smtp.received().len();
    outreach_scheduler::service::run_once(&conn, &daemon, &mailer)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(smtp.received().len(), before, "nothing is sent twice");
    assert_eq!(about_them(&smtp.received()), planned);
    conn.close().await.ok();
    for db in [first, pg, last] {
        db.cleanup().await;
    }
}

/// An archive written before the access migration (no sensitivity on engagements, no clearance
/// on users) is loaded into that older schema and then migrated: military dialogue becomes
/// restricted, as it does in an upgraded database.
#[tokio::test]
async fn an_archive_from_an_older_outreach_is_migrated_after_loading() {
    let source = TestDb::new(Backend::Sqlite).await;
    // The demo data and meetings with planned reminders (jobs).
    fill(&source).await;
    let file = source.dir.path().join("now.backup");
    ok(&source, &["backup", file.to_str().unwrap()]);
    let text = std::fs::read_to_string(&file).unwrap();
    // An archive from before the latest migrations.
    let old = older_archive(
        &text,
        &[
            "m20261203_000001_access",
            "m20261204_000001_job_due_at",
            "m20261207_400001_grant_deliverables",
            "m20261208_000001_posts",
            "m20261208_000002_stance",
        ],
        &[
            ("engagements", "sensitivity"),
            ("users", "cleared"),
            ("users", "disabled_at"),
            ("jobs", "due_at"),
            ("engagements", "deliverable_id"),
            ("grant_reports", "submitted_by"),
        ],
        &["grant_deliverables", "posts", "stance_settings"],
    );
    let old_file = source.dir.path().join("old.backup");
    std::fs::write(&old_file, old).unwrap();

    for backend in [Backend::Sqlite, Backend::Postgres] {
        let target = TestDb::new(backend).await;
        let restored = restore(&target, &old_file);
        assert_eq!(
            restored["report"]["migrated"],
            serde_json::json!([
                "m20261203_000001_access",
                "m20261204_000001_job_due_at",
                "m20261207_400001_grant_deliverables",
                "m20261208_000001_posts",
                "m20261208_000002_stance"
            ]),
            "{restored}"
        );
        let human = ok(&target, &["restore", "--force", old_file.to_str().unwrap()]);
        assert!(
            human.contains("brought up to date with 5 migration"),
            "{human}"
        );
        let conn = outreach_core::db::connect(&target.url).await.unwrap();
        let all = outreach_core::entities::engagement::Entity::find()
            .all(&conn)
            .await
            .unwrap();
        assert!(!all.is_empty());
        for e in &all {
            let want = if e.kind == "military_dialogue" {
                "restricted"
            } else {
                "internal"
            };
            assert_eq!(e.sensitivity, want, "{e:?}");
        }
        // Jobs restored from before `due_at` take their run_at as their due instant.
        let jobs = outreach_scheduler::entities::job::Entity::find()
            .all(&conn)
            .await
            .unwrap();
        assert!(!jobs.is_empty());
        assert!(jobs.iter().all(|j| j.due_at == Some(j.run_at)), "{jobs:?}");
        conn.close().await.ok();
        target.cleanup().await;
    }

    // A file cut short, and one that is not a backup, are refused by name and change nothing.
    let target = TestDb::new(Backend::Sqlite).await;
    let cut = source.dir.path().join("cut.backup");
    std::fs::write(&cut, &text[..text.len() / 2]).unwrap();
    let err = fails(&target, &["restore", cut.to_str().unwrap()]);
    assert!(err.contains("cut.backup cannot be restored"), "{err}");
    let err = fails(&target, &["restore", "no-such.backup"]);
    assert!(err.contains("cannot read no-such.backup"), "{err}");
    source.cleanup().await;
    target.cleanup().await;
}

/// `archive` as an outreach without `migration` would have written it: without that migration in
/// the header and without the columns it added.
fn older_archive(
    archive: &str,
    migrations: &[&str],
    added: &[(&str, &str)],
    new_tables: &[&str],
) -> String {
    let mut out = Vec::new();
    let mut drop: Vec<usize> = Vec::new();
    let mut skipping = false;
    let mut skipped_rows = 0_u64;
    for (i, line) in archive.lines().enumerate() {
        let mut v: Value = serde_json::from_str(line).unwrap();
        if i == 0 {
            let m = v["migrations"].as_array_mut().unwrap();
            m.retain(|x| !migrations.iter().any(|gone| x == gone));
            if let Some(tables) = v["tables"].as_object_mut() {
                tables.retain(|name, _| !new_tables.contains(&name.as_str()));
            }
        } else if let Some(table) = v.get("table").and_then(Value::as_str).map(str::to_owned) {
            skipping = new_tables.contains(&table.as_str());
            if skipping {
                continue;
            }
            let cols = v["columns"].as_array_mut().unwrap();
            drop = cols
                .iter()
                .enumerate()
                .filter(|(_, c)| added.contains(&(table.as_str(), c.as_str().unwrap())))
                .map(|(j, _)| j)
                .collect();
            for j in drop.iter().rev() {
                cols.remove(*j);
            }
        } else if let Some(row) = v.as_array_mut() {
            if skipping {
                skipped_rows += 1;
                continue;
            }
            for j in drop.iter().rev() {
                row.remove(*j);
            }
        } else if v.get("end").is_some() {
            let rows = v["rows"].as_u64().unwrap() - skipped_rows;
            v["rows"] = rows.into();
        }
        out.push(serde_json::to_string(&v).unwrap());
    }
    out.join("\n") + "\n"
}

/// A backup taken while another process writes is one snapshot: the archive's header counts
/// match the rows it holds (they would not if the tables were read at different moments), the
/// writer is never refused ("database is locked"), and the snapshot lies between the counts
/// before and after.
async fn a_backup_while_writes_go_on_is_one_consistent_snapshot(db: &TestDb) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    ok(db, &["demo"]);
    let conn = outreach_core::db::open(&db.url, "tester").await.unwrap();
    engagements(&conn, 5_000).await;
    let count = |conn: DatabaseConnection| async move {
        use sea_orm::PaginatorTrait as _;
        outreach_core::entities::engagement::Entity::find()
            .count(&conn)
            .await
            .unwrap()
    };
    let before = count(conn.clone()).await;
    let stop = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicUsize::new(0));
    let writer = {
        let (conn, stop, written) = (conn.clone(), stop.clone(), written.clone());
        tokio::spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                engagements(&conn, 20).await;
                written.fetch_add(20, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };
    let file = db.dir.path().join("live.backup");
    let args = ["--json", "backup", file.to_str().unwrap()];
    let out = super::outreach(db, &args);
    let during = written.load(Ordering::SeqCst);
    stop.store(true, Ordering::SeqCst);
    writer.await.expect("the writer was never refused");
    assert!(out.status.success(), "{}", stderr(&out));
    let after = count(conn.clone()).await;
    assert!(during > 0, "nothing was written while the backup ran");

    let archive = outreach_core::backup::Archive::read(&mut std::io::BufReader::new(
        std::fs::File::open(&file).unwrap(),
    ))
    .expect("the archive is whole and its counts match its rows");
    let in_archive = archive.header.tables["engagements"];
    assert!(
        (before..=after).contains(&in_archive),
        "{before} <= {in_archive} <= {after}"
    );
    conn.close().await.ok();
}
outreach_testkit::db_test!(
    live_backup,
    a_backup_while_writes_go_on_is_one_consistent_snapshot
);
