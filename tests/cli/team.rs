//! How a team runs outreach: the web app and three scheduler daemons as separate processes on one
//! PostgreSQL database. Meetings scheduled through the API have their reminders sent by whichever
//! daemon claims them, and each reminder reaches the SMTP server (a real one on loopback) once.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::time::Duration;

use outreach_testkit::smtp::SmtpServer;
use outreach_testkit::{Backend, TestDb};
use sea_orm::ConnectionTrait as _;
use serde_json::{Value, json};

use super::{command, json as outreach_json, ok};

/// A process that is stopped (SIGTERM, then waited for) when the test ends, also on failure.
pub(super) struct Running(Option<Child>, &'static str);

impl Running {
    pub(super) fn new(child: Child, what: &'static str) -> Self {
        Self(Some(child), what)
    }

    /// Sends SIGTERM and waits; the process must exit cleanly.
    pub(super) fn stop(mut self) {
        let mut child = self.0.take().unwrap();
        terminate(&child);
        let status = child.wait().unwrap();
        assert!(status.success(), "{} stopped with {status}", self.1);
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            terminate(&child);
            let _ = child.wait();
        }
    }
}

/// An API token for the staff member `handle`, issued as they would from their Account page.
pub(super) async fn api_token(conn: &sea_orm::DatabaseConnection, handle: &str) -> String {
    let user = outreach_core::actor::find_user(conn, handle)
        .await
        .unwrap()
        .unwrap();
    outreach_web::auth::issue_token(
        conn,
        &outreach_core::Actor::new(handle, outreach_core::domain::IanaZone::UTC).unwrap(),
        user.id,
        "api",
        "team test",
    )
    .await
    .unwrap()
}

fn terminate(child: &Child) {
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
}

/// The settings that send a process's email to the test SMTP server on `port`.
fn smtp_on(port: &str) -> Vec<(&'static str, String)> {
    vec![
        ("OUTREACH_MAIL__TRANSPORT", "smtp".to_owned()),
        ("OUTREACH_MAIL__SMTP_HOST", "127.0.0.1".to_owned()),
        ("OUTREACH_MAIL__SMTP_PORT", port.to_owned()),
        ("OUTREACH_MAIL__SMTP_SECURITY", "none".to_owned()),
    ]
}

/// `(name, value)` pairs as [`command`] takes them.
fn pairs<'a>(vars: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    vars.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// Schedules `n` meetings three weeks ahead, owned by ada, with `with`, through the planner;
/// returns how many reminders they planned.
async fn schedule_meetings(
    conn: &sea_orm::DatabaseConnection,
    n: usize,
    state: &str,
    tz: &str,
    with: &[&str],
) -> usize {
    let wf = outreach_scheduler::Workflows::builtin().unwrap();
    let ada = outreach_core::Actor::new("ada", outreach_core::domain::IanaZone::UTC).unwrap();
    let day = (chrono::Utc::now() + chrono::Duration::days(21)).format("%Y-%m-%d");
    let mut planned = 0;
    for i in 0..n {
        let (_, plan) = outreach_scheduler::planner::schedule_meeting(
            conn,
            &wf,
            &ada,
            &outreach_core::meetings::MeetingInput {
                state: state.into(),
                title: format!("Meeting {i}"),
                at: format!("{day} {:02}:{:02}", 8 + i / 10, i % 10),
                tz: Some(tz.into()),
                with: with.iter().map(|c| (*c).to_owned()).collect(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        planned += plan.planned;
    }
    planned
}

#[tokio::test]
async fn a_web_app_and_three_daemons_on_one_postgres_send_each_reminder_once() {
    let db = TestDb::new(Backend::Postgres).await;
    let smtp = SmtpServer::start().await;
    let settings = smtp_on(&smtp.port().to_string());
    let mail = pairs(&settings);
    ok(&db, &["init"]);
    ok(
        &db,
        &[
            "user",
            "add",
            "ada",
            "--role",
            "coordinator",
            "--email",
            "ada@example.org",
        ],
    );
    let contacts = ["Asha Gurung", "Bikash Rai", "Chandra Thapa"];
    for (i, name) in contacts.iter().enumerate() {
        ok(
            &db,
            &[
                "contact",
                "add",
                "--name",
                name,
                "--email",
                &format!("contact{i}@example.org"),
                "--time-zone",
                "Asia/Kathmandu",
            ],
        );
    }
    let conn = outreach_core::db::open(&db.url, "tester").await.unwrap();
    let token = api_token(&conn, "ada").await;

    // The web app alone, and three daemons: four processes on one database.
    let mut web = command(&db, &mail, &["serve", "--without-scheduler", "--port", "0"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(web.stderr.take().unwrap()).lines();
    let base = loop {
        let line = lines.next().expect("serve printed its address").unwrap();
        if let Some(at) = line.find("http://") {
            break line[at..].split_whitespace().next().unwrap().to_owned();
        }
    };
    // Keep reading the web app's log so it never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    let web = Running::new(web, "the web app");
    let daemons: Vec<Running> = (0..3)
        .map(|_| {
            let child = command(&db, &mail, &["scheduler"])
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            Running::new(child, "a scheduler daemon")
        })
        .collect();

    // Ten meetings three weeks ahead, through the API: each plans 7-day and 1-day reminders for
    // the three participants and the owner, and a 2-hour one for the owner.
    let client = reqwest::Client::new();
    let day = (chrono::Utc::now() + chrono::Duration::days(21)).format("%Y-%m-%d");
    let mut planned = 0;
    for i in 0..10 {
        let res = client
            .post(format!("{base}/api/v1/meetings"))
            .bearer_auth(&token)
            .json(&json!({
                "state": "NPL",
                "title": format!("Ministry meeting {i}"),
                "at": format!("{day} 10:{i:02}"),
                "tz": "Asia/Kathmandu",
                "with": contacts,
            }))
            .send()
            .await
            .unwrap();
        let status = res.status();
        let body: Value = res.json().await.unwrap();
        assert_eq!(status, reqwest::StatusCode::CREATED, "{body}");
        planned += body["plan"]["planned"]
            .as_i64()
            .unwrap_or_else(|| panic!("no reminders planned: {body}"));
    }
    assert_eq!(planned, 90);

    // Bring every planned reminder's time forward to now, and tell the daemons.
    use sea_orm::ConnectionTrait as _;
    conn.execute_unprepared(
        "UPDATE jobs SET run_at = now() WHERE status = 'queued' AND kind = 'meeting_reminder'; \
         NOTIFY outreach_jobs",
    )
    .await
    .unwrap();

    let got = smtp.wait_for(90, Duration::from_secs(120)).await;
    assert_eq!(got.len(), 90, "{} of 90 reminders arrived", got.len());
    // Give a second copy time to arrive, if one were coming.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let got = smtp.received();
    let mut per_message: BTreeMap<String, usize> = BTreeMap::new();
    for m in &got {
        let id = m
            .data
            .lines()
            .find_map(|l| l.strip_prefix("Message-ID: "))
            .unwrap_or_else(|| panic!("no Message-ID in\n{}", m.data))
            .to_owned();
        *per_message.entry(id).or_default() += 1;
    }
    let twice: Vec<_> = per_message.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "sent more than once: {twice:?}");
    assert_eq!(per_message.len(), 90);

    // Every reminder job is done and every email sent.
    let jobs = outreach_json(
        &db,
        &["jobs", "--kind", "meeting_reminder", "--limit", "500"],
    );
    let jobs = jobs.as_array().unwrap();
    assert_eq!(jobs.len(), 90);
    assert!(jobs.iter().all(|j| j["status"] == "done"), "{jobs:?}");
    let outbox = conn
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT COUNT(*) AS n FROM outbox WHERE status = 'sent'",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(outbox.try_get::<i64>("", "n").unwrap(), 90);
    conn.close().await.ok();

    for d in daemons {
        d.stop();
    }
    web.stop();
    db.cleanup().await;
}

/// After an upgrade the web app and the daemons start together: they migrate one at a time on
/// PostgreSQL, so none fails on a table another one is creating.
#[tokio::test]
async fn processes_starting_together_on_a_fresh_postgres_database_all_start() {
    let db = TestDb::new(Backend::Postgres).await;
    let children: Vec<_> = (0..4)
        .map(|_| {
            command(&db, &[], &["--json", "states"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "a process starting beside others failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let states: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(states.as_array().unwrap().len() > 190);
    }
    db.cleanup().await;
}

/// The real daemon, killed with SIGKILL at five moments while it sends 270 reminders, and
/// restarted each time: every reminder reaches the SMTP server, and any sent twice (a kill
/// between the server's reply and the outbox commit) carries the same Message-ID both times.
async fn a_daemon_killed_five_times_loses_no_reminder(db: &TestDb) {
    let smtp = SmtpServer::start().await;
    let mut settings = smtp_on(&smtp.port().to_string());
    // Short leases, so work a killed daemon held is taken over within seconds.
    settings.push(("OUTREACH_MAIL__LEASE_SECS", "2".to_owned()));
    settings.push(("OUTREACH_SCHEDULER__LEASE_SECS", "2".to_owned()));
    let vars = pairs(&settings);
    ok(db, &["user", "add", "ada", "--email", "ada@example.org"]);
    let contacts = ["Asha Gurung", "Bikash Rai", "Chandra Thapa"];
    for (i, name) in contacts.iter().enumerate() {
        ok(
            db,
            &[
                "contact",
                "add",
                "--name",
                name,
                "--email",
                &format!("c{i}@example.org"),
            ],
        );
    }
    let conn = outreach_core::db::open(&db.url, "tester").await.unwrap();
    let planned = schedule_meetings(&conn, 30, "NPL", "Asia/Kathmandu", &contacts).await;
    assert_eq!(planned, 270);
    {
        use outreach_scheduler::entities::job;
        use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _};
        job::Entity::update_many()
            .col_expr(job::Column::RunAt, chrono::Utc::now().into())
            .filter(job::Column::Status.eq("queued"))
            .exec(&conn)
            .await
            .unwrap();
    }

    let distinct = || {
        let mut ids = std::collections::BTreeMap::<String, usize>::new();
        for m in smtp.received() {
            let id = m
                .data
                .lines()
                .find_map(|l| l.strip_prefix("Message-ID: "))
                .unwrap_or_default()
                .to_owned();
            *ids.entry(id).or_default() += 1;
        }
        ids
    };
    for k in 0..5u64 {
        let mut daemon = command(db, &vars, &["scheduler"])
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Moments spread over the run: before, during and after the first deliveries.
        tokio::time::sleep(Duration::from_millis(300 + (k * 211) % 500)).await;
        daemon.kill().unwrap();
        daemon.wait().unwrap();
    }
    let last = Running::new(
        command(db, &vars, &["scheduler"])
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
        "the last daemon",
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    while distinct().len() < 270 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    last.stop();
    let ids = distinct();
    let twice: usize = ids.values().map(|n| n - 1).sum();
    println!(
        "{:?}: {} messages for 270 reminders over 5 kills ({twice} sent again after a kill)",
        db.backend,
        smtp.received().len()
    );
    assert_eq!(ids.len(), 270, "reminders missing after the kills");
    assert!(!ids.contains_key(""), "a message without a Message-ID");
    let pending = conn
        .query_one_raw(sea_orm::Statement::from_string(
            conn.get_database_backend(),
            "SELECT COUNT(*) AS n FROM outbox WHERE status <> 'sent'",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(pending.try_get::<i64>("", "n").unwrap(), 0);
    conn.close().await.ok();
}
outreach_testkit::db_test!(sigkill_chaos, a_daemon_killed_five_times_loses_no_reminder);

/// SQLite, one daemon sending reminders that fall due over twenty seconds, while a colleague's
/// loop of CLI commands schedules meetings and logs visits: no command fails and no job fails
/// ("database is locked" was the failure once).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_commands_beside_a_busy_sqlite_daemon_never_fail() {
    let db = TestDb::new(Backend::Sqlite).await;
    let smtp = SmtpServer::start().await;
    let settings = smtp_on(&smtp.port().to_string());
    let vars = pairs(&settings);
    ok(&db, &["user", "add", "ada", "--email", "ada@example.org"]);
    ok(
        &db,
        &[
            "contact",
            "add",
            "--name",
            "Asha Gurung",
            "--email",
            "asha@example.org",
        ],
    );
    let conn = outreach_core::db::open(&db.url, "tester").await.unwrap();
    let planned = schedule_meetings(&conn, 40, "IND", "Asia/Kolkata", &["Asha Gurung"]).await;
    // Spread the reminders over the next twenty seconds.
    conn.execute_unprepared(
        "UPDATE jobs SET run_at = strftime('%Y-%m-%dT%H:%M:%S', 'now', \
         '+' || (abs(random()) % 20) || ' seconds') || '+00:00' WHERE status = 'queued'",
    )
    .await
    .unwrap();
    let daemon = Running::new(
        command(&db, &vars, &["scheduler"])
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
        "the daemon",
    );
    let later = (chrono::Utc::now() + chrono::Duration::days(30)).format("%Y-%m-%d");
    let mut commands = 0;
    let started = std::time::Instant::now();
    while started.elapsed() < Duration::from_secs(20) {
        let title = format!("Capital visit {commands}");
        let at = format!("{later} 10:{:02}", commands % 60);
        let out = super::outreach_with_env(
            &db,
            &vars,
            &[
                "meeting", "schedule", "--state", "NPL", "--title", &title, "--at", &at,
            ],
        );
        assert!(
            out.status.success(),
            "command {commands} failed:\n{}",
            super::stderr(&out)
        );
        let out = super::outreach_with_env(
            &db,
            &vars,
            &["log", "call", "--state", "NPL", "--summary", &title],
        );
        assert!(
            out.status.success(),
            "command {commands} failed:\n{}",
            super::stderr(&out)
        );
        commands += 2;
    }
    let got = smtp.wait_for(planned, Duration::from_secs(30)).await;
    daemon.stop();
    println!(
        "{commands} commands beside the daemon, {} emails",
        got.len()
    );
    assert!(got.len() >= planned, "{} of {planned} reminders", got.len());
    let failed = outreach_json(&db, &["jobs", "--status", "failed"]);
    assert_eq!(failed, serde_json::json!([]), "{failed}");
    conn.close().await.ok();
    db.cleanup().await;
}

/// The web app on a PostgreSQL cluster of the test's own, stopped for five seconds while it
/// serves: it logs the loss once at warn and the return once at info, within a second or two of
/// each; a write sent during the outage is either refused with 503 or stored once, never lost
/// after being accepted, never twice; afterwards the API answers as before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_web_app_rides_out_a_postgres_outage_and_says_so_once() {
    let cluster = outreach_testkit::pg_cluster::PgCluster::start();
    cluster.create("outreach");
    let url = cluster.url("outreach");
    let dir = tempfile::tempdir().unwrap();
    let mut web = std::process::Command::new(env!("CARGO_BIN_EXE_outreach"))
        .current_dir(dir.path())
        .env("OUTREACH_CONFIG_DIR", dir.path().join("config"))
        .env("OUTREACH_USER", "tester")
        .env("OUTREACH_LOG", "info")
        .env_remove("OUTREACH_DATABASE_URL")
        .env_remove("OUTREACH_ENV")
        .args([
            "--database",
            &url,
            "serve",
            "--without-scheduler",
            "--port",
            "0",
        ])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(web.stderr.take().unwrap()).lines();
    let base = loop {
        let line = lines.next().expect("serve printed its address").unwrap();
        if let Some(at) = line.find("http://") {
            break line[at..].split_whitespace().next().unwrap().to_owned();
        }
    };
    // Every later line, with when it came.
    let log: std::sync::Arc<std::sync::Mutex<Vec<(std::time::Instant, String)>>> =
        std::sync::Arc::default();
    let sink = log.clone();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            sink.lock().unwrap().push((std::time::Instant::now(), line));
        }
    });
    let web = Running::new(web, "the web app");

    let conn = outreach_core::db::connect(&url).await.unwrap();
    let token = api_token(&conn, "tester").await;
    conn.close().await.ok();
    let client = reqwest::Client::new();
    let attention = client
        .get(format!("{base}/api/v1/attention"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(attention.status(), 200);

    cluster.stop();
    let stopped = std::time::Instant::now();
    // A write sent one second into the outage.
    let during = {
        let (client, base, token) = (client.clone(), base.clone(), token.clone());
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let res = client
                .post(format!("{base}/api/v1/engagements"))
                .bearer_auth(&token)
                .json(&json!({"state": "NPL", "kind": "call",
                              "summary": "Call logged during the outage"}))
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            (status, res.text().await.unwrap_or_default())
        })
    };
    tokio::time::sleep(Duration::from_secs(5)).await;
    cluster.resume();
    let back = std::time::Instant::now();
    let (status, body) = during.await.unwrap();
    assert!(
        status == 201 || status == 503,
        "a write during the outage got {status}: {body}"
    );

    // The return is logged within a second or so (a wide bound: this machine is shared).
    let deadline = back + Duration::from_secs(10);
    let returned = loop {
        let found = log
            .lock()
            .unwrap()
            .iter()
            .find(|(_, l)| l.contains("the database answers again"))
            .map(|(at, _)| *at);
        if let Some(at) = found {
            break at;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{:#?}",
            log.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let after = client
        .get(format!("{base}/api/v1/attention"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), 200);
    web.stop();

    let lines: Vec<(std::time::Instant, String)> = log.lock().unwrap().clone();
    let text: Vec<&str> = lines.iter().map(|(_, l)| l.as_str()).collect();
    let lost: Vec<&(std::time::Instant, String)> = lines
        .iter()
        .filter(|(_, l)| l.contains("the database cannot be reached"))
        .collect();
    assert_eq!(lost.len(), 1, "the loss is logged once: {text:#?}");
    assert!(lost[0].1.contains("WARN"), "{}", lost[0].1);
    assert!(
        lost[0].0.duration_since(stopped) < Duration::from_secs(4),
        "noticed {:?} after the stop",
        lost[0].0.duration_since(stopped)
    );
    let noticed_back = returned.saturating_duration_since(back);
    println!("the web app logged the database's return {noticed_back:?} after it came back");
    assert!(noticed_back < Duration::from_secs(3), "{noticed_back:?}");
    assert_eq!(
        text.iter()
            .filter(|l| l.contains("the database answers again"))
            .count(),
        1,
        "{text:#?}"
    );
    assert!(
        !text.iter().any(|l| l.contains("ERROR")),
        "no request logged an error of its own: {text:#?}"
    );

    // Nothing accepted was lost, nothing stored twice.
    let check = outreach_core::db::connect(&url).await.unwrap();
    let stored = check
        .query_all_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT id FROM engagements WHERE summary = 'Call logged during the outage'",
        ))
        .await
        .unwrap()
        .len();
    assert_eq!(stored, usize::from(status == 201), "answered {status}");
    check.close().await.ok();
}
