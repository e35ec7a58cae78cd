//! The scheduler's promises, each checked on SQLite and PostgreSQL: jobs run exactly once across
//! daemons, survive a daemon killed mid-batch, retry with growing delays, dead-letter with their
//! error; reminders follow reschedules; new rules never fire for the past; cron schedules keep
//! their local time across daylight-saving changes and fire once after downtime.

#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use outreach_core::Actor;
use outreach_core::domain::IanaZone;
use outreach_core::entities::audit_log;
use outreach_core::meetings::MeetingInput;
use outreach_mailer::entities::outbox;
use outreach_scheduler::entities::job;
use outreach_scheduler::handlers::{JobError, Outcome, Registry, RunContext};
use outreach_scheduler::jobs::{self, NewJob};
use outreach_scheduler::{Daemon, DaemonConfig, Workflows, planner};
use outreach_testkit::{TestDb, db_test};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    PaginatorTrait, QueryFilter,
};
use uuid::Uuid;

fn config(owner: &str) -> DaemonConfig {
    DaemonConfig {
        owner: owner.to_owned(),
        batch_size: 50,
        workers: 4,
        jobs_per_transaction: 16,
        lease: Duration::from_secs(30),
        poll: Duration::from_millis(200),
        sqlite_poll: Duration::from_millis(50),
        retry_base: Duration::from_millis(50),
    }
}

fn actor() -> Actor {
    Actor::new("tester", IanaZone::parse("tz", "UTC").unwrap()).unwrap()
}

/// Records every run in the audit log, inside the job's own transaction: if a job ran twice
/// (and both runs committed), it would appear twice.
struct Recorder;

#[async_trait]
impl outreach_scheduler::handlers::Handler for Recorder {
    async fn run(
        &self,
        _: &RunContext,
        tx: &DatabaseTransaction,
        job: &job::Model,
    ) -> Result<Outcome, JobError> {
        outreach_core::audit::record(
            tx,
            "daemon",
            "test.run",
            "job",
            &job.id.to_string(),
            serde_json::json!({}),
        )
        .await
        .map_err(|e| JobError::Transient(e.to_string()))?;
        Ok(Outcome::Done)
    }
}

async fn insert_jobs(
    db: &DatabaseConnection,
    kind: &str,
    n: usize,
    run_at: DateTime<Utc>,
    payload: serde_json::Value,
) {
    let now = Utc::now();
    let rows: Vec<job::ActiveModel> = (0..n)
        .map(|i| job::ActiveModel {
            id: Set(Uuid::now_v7()),
            kind: Set(kind.to_owned()),
            payload: Set(payload.to_string()),
            run_at: Set(run_at),
            due_at: Set(Some(run_at)),
            status: Set("queued".into()),
            attempts: Set(0),
            max_attempts: Set(5),
            lease_owner: Set(None),
            lease_expires_at: Set(None),
            idempotency_key: Set(format!("test:{kind}:{i}:{}", Uuid::now_v7())),
            subject_kind: Set(None),
            subject_id: Set(None),
            rule: Set(None),
            recipient: Set(None),
            last_error: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            finished_at: Set(None),
        })
        .collect();
    for chunk in rows.chunks(500) {
        job::Entity::insert_many(chunk.to_vec())
            .exec(db)
            .await
            .unwrap();
    }
}

async fn count_status(db: &DatabaseConnection, status: &str) -> u64 {
    job::Entity::find()
        .filter(job::Column::Status.eq(status))
        .count(db)
        .await
        .unwrap()
}

async fn three_daemons_drain_5000_jobs_and_run_each_exactly_once(db: &TestDb) {
    let seed = outreach_core::db::open(&db.url, "tester").await.unwrap();
    insert_jobs(&seed, "record", 5000, Utc::now(), serde_json::json!({})).await;
    let mut registry = Registry::builtin();
    registry.register("record", Arc::new(Recorder));
    let mut handles = Vec::new();
    for i in 0..3 {
        let conn = outreach_core::db::connect(&db.url).await.unwrap();
        let daemon = Daemon::new(
            conn,
            config(&format!("daemon-{i}")),
            registry.clone(),
            Workflows::parse("").unwrap(),
        );
        handles.push(tokio::spawn(async move {
            let mut claimed = 0;
            loop {
                let n = daemon.run_once().await.unwrap();
                if n == 0 {
                    break claimed;
                }
                claimed += n;
            }
        }));
    }
    let mut per_daemon = Vec::new();
    for h in handles {
        per_daemon.push(h.await.unwrap());
    }
    assert_eq!(per_daemon.iter().sum::<usize>(), 5000, "{per_daemon:?}");
    assert_eq!(count_status(&seed, "done").await, 5000);
    let runs = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("test.run"))
        .all(&seed)
        .await
        .unwrap();
    assert_eq!(runs.len(), 5000);
    let distinct: std::collections::HashSet<&str> =
        runs.iter().map(|r| r.entity_id.as_str()).collect();
    assert_eq!(distinct.len(), 5000, "some job ran twice");
}
db_test!(
    three_daemons,
    three_daemons_drain_5000_jobs_and_run_each_exactly_once
);

async fn a_daemon_killed_mid_batch_loses_no_job(db: &TestDb) {
    let seed = outreach_core::db::open(&db.url, "tester").await.unwrap();
    insert_jobs(
        &seed,
        "noop",
        40,
        Utc::now(),
        serde_json::json!({ "sleep_ms": 150 }),
    )
    .await;
    let spawn = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_outreach-scheduler"))
            .current_dir(db.dir.path())
            .env("OUTREACH_DATABASE_URL", &db.url)
            .env("OUTREACH_CONFIG_DIR", db.dir.path())
            .env("OUTREACH_SCHEDULER__LEASE_SECS", "2")
            .env("OUTREACH_SCHEDULER__BATCH_SIZE", "8")
            .env("OUTREACH_SCHEDULER__WORKERS", "2")
            .env("OUTREACH_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    let mut first = spawn();
    // Wait until the daemon is in the middle of its work: some done, some claimed.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let done = count_status(&seed, "done").await;
        let running = count_status(&seed, "running").await;
        if done >= 4 && running > 0 {
            break;
        }
        assert!(
            first.try_wait().unwrap().is_none(),
            "the daemon exited early"
        );
        assert!(
            std::time::Instant::now() < deadline,
            "the daemon did not start working"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    first.kill().unwrap(); // SIGKILL: no chance to release its claims.
    first.wait().unwrap();
    let stranded = count_status(&seed, "running").await;
    assert!(stranded > 0, "the kill should leave claimed jobs behind");

    let mut second = spawn();
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    while count_status(&seed, "done").await < 40 {
        assert!(
            std::time::Instant::now() < deadline,
            "jobs were lost after the restart"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // SIGTERM: a graceful stop exits 0.
    let pid = second.id().to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    let status = second.wait().unwrap();
    assert!(
        status.success(),
        "graceful shutdown should exit 0, got {status}"
    );
    assert_eq!(count_status(&seed, "failed").await, 0);
}
db_test!(killed_daemon, a_daemon_killed_mid_batch_loses_no_job);

/// Fails its first two runs, then succeeds; remembers when each run happened.
struct Flaky(Arc<Mutex<Vec<DateTime<Utc>>>>);

#[async_trait]
impl outreach_scheduler::handlers::Handler for Flaky {
    async fn run(
        &self,
        _: &RunContext,
        _: &DatabaseTransaction,
        _: &job::Model,
    ) -> Result<Outcome, JobError> {
        let mut runs = self.0.lock().unwrap();
        runs.push(Utc::now());
        if runs.len() <= 2 {
            Err(JobError::Transient(format!(
                "connection reset (run {})",
                runs.len()
            )))
        } else {
            Ok(Outcome::Done)
        }
    }
}

struct Broken;

#[async_trait]
impl outreach_scheduler::handlers::Handler for Broken {
    async fn run(
        &self,
        _: &RunContext,
        _: &DatabaseTransaction,
        _: &job::Model,
    ) -> Result<Outcome, JobError> {
        Err(JobError::Transient(
            "the directory server answered 503".into(),
        ))
    }
}

async fn drain_for(daemon: &Daemon, how_long: Duration) {
    let until = std::time::Instant::now() + how_long;
    while std::time::Instant::now() < until {
        daemon.run_once().await.unwrap();
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn transient_failures_retry_with_growing_delays_and_persistent_ones_are_dead_lettered(
    db: &TestDb,
) {
    let conn = outreach_core::db::open(&db.url, "tester").await.unwrap();
    let runs = Arc::new(Mutex::new(Vec::new()));
    let mut registry = Registry::builtin();
    registry.register("flaky", Arc::new(Flaky(runs.clone())));
    registry.register("broken", Arc::new(Broken));
    let mut cfg = config("retrier");
    cfg.retry_base = Duration::from_millis(200);
    let daemon = Daemon::new(conn.clone(), cfg, registry, Workflows::parse("").unwrap());
    let mut flaky = NewJob::new(
        "flaky",
        "test:flaky".into(),
        Utc::now(),
        serde_json::json!({}),
    );
    flaky.max_attempts = 5;
    jobs::enqueue(&conn, flaky).await.unwrap();
    let mut broken = NewJob::new(
        "broken",
        "test:broken".into(),
        Utc::now(),
        serde_json::json!({}),
    );
    broken.max_attempts = 3;
    jobs::enqueue(&conn, broken).await.unwrap();
    // Until both have ended (done, or dead-lettered), however loaded the machine: a fixed
    // window failed once when the whole suite ran beside it.
    let until = std::time::Instant::now() + Duration::from_secs(30);
    while std::time::Instant::now() < until
        && count_status(&conn, "done").await + count_status(&conn, "failed").await < 2
    {
        daemon.run_once().await.unwrap();
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // A moment more: a job that ran again after ending would show here.
    drain_for(&daemon, Duration::from_millis(500)).await;

    let runs = runs.lock().unwrap().clone();
    assert_eq!(runs.len(), 3, "{runs:?}");
    let first_gap = runs[1] - runs[0];
    let second_gap = runs[2] - runs[1];
    assert!(
        first_gap >= chrono::Duration::milliseconds(140),
        "{first_gap}"
    );
    assert!(
        second_gap > first_gap,
        "delays should grow: {first_gap} then {second_gap}"
    );
    let all = jobs::list(&conn, None, None, 10).await.unwrap();
    let f = all.iter().find(|j| j.kind == "flaky").unwrap();
    assert_eq!((f.status.as_str(), f.attempts), ("done", 3));
    // The retries moved run_at; the instant it was due for stays.
    let due = f.due_at.expect("a planned job has its due instant");
    assert!(
        f.run_at > due + chrono::Duration::milliseconds(140),
        "{f:?}"
    );
    assert!(due <= runs[0], "due {due} before the first run {}", runs[0]);
    let b = all.iter().find(|j| j.kind == "broken").unwrap();
    assert_eq!((b.status.as_str(), b.attempts), ("failed", 3));
    assert_eq!(
        b.last_error.as_deref(),
        Some("the directory server answered 503")
    );
}
db_test!(
    retries,
    transient_failures_retry_with_growing_delays_and_persistent_ones_are_dead_lettered
);

fn workflows(effective_from: &str) -> Workflows {
    Workflows::parse(&format!(
        "[[meeting_reminder]]\nname = \"m-1d\"\nbefore = \"1d\"\nto = [\"participants\", \"owner\"]\neffective_from = \"{effective_from}\"\n\
         [[meeting_reminder]]\nname = \"m-7d\"\nbefore = \"7d\"\nto = [\"participants\"]\neffective_from = \"{effective_from}\"\n"
    ))
    .unwrap()
}

async fn setup_people(conn: &DatabaseConnection) {
    let a = actor();
    outreach_core::actor::upsert_user(
        conn,
        &a,
        &outreach_core::actor::UserInput {
            handle: "tester".into(),
            email: Some("tester@example.org".into()),
            time_zone: Some("Europe/Paris".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    outreach_core::directory::add_contact(
        conn,
        &a,
        &outreach_core::directory::ContactInput {
            name: "Asha".into(),
            email: Some("asha@example.org".into()),
            languages: Some("fr,en".into()),
            time_zone: Some("Asia/Kathmandu".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
}

fn local_in(days: i64) -> String {
    (Utc::now() + chrono::Duration::days(days))
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

async fn make_everything_due(conn: &DatabaseConnection) {
    job::Entity::update_many()
        .col_expr(job::Column::RunAt, Utc::now().into())
        .filter(job::Column::Status.eq("queued"))
        .exec(conn)
        .await
        .unwrap();
}

async fn only_the_latest_versions_reminders_are_sent_each_once(db: &TestDb) {
    let conn = outreach_core::db::open(&db.url, "tester").await.unwrap();
    setup_people(&conn).await;
    let wf = workflows("2026-01-01T00:00:00Z");
    let input = MeetingInput {
        state: "NPL".into(),
        title: "Ministry meeting".into(),
        at: local_in(10),
        tz: Some("UTC".into()),
        with: vec!["asha@example.org".into()],
        ..Default::default()
    };
    let (m, plan) = planner::schedule_meeting(&conn, &wf, &actor(), &input)
        .await
        .unwrap();
    // Two rules; the 1d rule reminds Asha and the owner, the 7d rule Asha only.
    assert_eq!(plan.planned, 3);
    let id = m.id.to_string();
    let (_, plan2) = planner::reschedule_meeting(&conn, &wf, &actor(), &id, &local_in(12), None)
        .await
        .unwrap();
    assert_eq!((plan2.planned, plan2.superseded), (3, 3));
    let (m3, plan3) = planner::reschedule_meeting(&conn, &wf, &actor(), &id, &local_in(14), None)
        .await
        .unwrap();
    assert_eq!((plan3.planned, plan3.superseded), (3, 3));
    assert_eq!(m3.version, 3);
    // Planning the same version again inserts nothing.
    let again = {
        let tx = outreach_core::db::begin(&conn).await.unwrap();
        let model = outreach_core::entities::meeting::Entity::find_by_id(m.id)
            .one(&tx)
            .await
            .unwrap()
            .unwrap();
        let r = planner::plan_meeting(&tx, &wf, &model, Utc::now())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        r
    };
    assert_eq!((again.planned, again.superseded), (0, 0));

    make_everything_due(&conn).await;
    let daemon = Daemon::new(conn.clone(), config("d"), Registry::builtin(), wf);
    while daemon.run_once().await.unwrap() > 0 {}
    let mails = outbox::Entity::find().all(&conn).await.unwrap();
    assert_eq!(mails.len(), 3, "{mails:?}");
    for mail in &mails {
        assert!(
            mail.idempotency_key.contains(":v3:"),
            "{}",
            mail.idempotency_key
        );
        assert_eq!(mail.template, "meeting_reminder");
        let ctx: outreach_mailer::context::MeetingReminder =
            serde_json::from_str(&mail.context).unwrap();
        assert_eq!(ctx.meeting.version, 3);
    }
    let asha_fr = mails
        .iter()
        .find(|m| m.recipient_email == "asha@example.org" && m.idempotency_key.contains("m-1d"))
        .unwrap();
    assert_eq!(asha_fr.language, "fr");
    let fr: outreach_mailer::context::MeetingReminder =
        serde_json::from_str(&asha_fr.context).unwrap();
    assert_eq!(
        fr.meeting.state, "Népal",
        "a French reader reads the state's French name"
    );
    let owner = mails
        .iter()
        .find(|m| m.recipient_email == "tester@example.org")
        .unwrap();
    let en: outreach_mailer::context::MeetingReminder =
        serde_json::from_str(&owner.context).unwrap();
    assert_eq!(en.meeting.state, "Nepal");
    let ledger = outreach_scheduler::ledger::for_subject(&conn, "meeting", &id)
        .await
        .unwrap();
    assert_eq!(ledger.iter().filter(|l| l.state == "superseded").count(), 6);
    assert_eq!(
        ledger
            .iter()
            .filter(|l| l.state.starts_with("queued"))
            .count(),
        3,
        "{ledger:?}"
    );

    // Running again sends nothing more.
    make_everything_due(&conn).await;
    while daemon.run_once().await.unwrap() > 0 {}
    assert_eq!(outbox::Entity::find().count(&conn).await.unwrap(), 3);

    // Cancelling cancels what is left and tells those already reminded.
    let (_, cancel) = planner::cancel_meeting(&conn, daemon.workflows(), &actor(), &id)
        .await
        .unwrap();
    assert_eq!(cancel.cancelled, 0);
    let cancels = outbox::Entity::find()
        .filter(outbox::Column::Template.eq("meeting_cancelled"))
        .count(&conn)
        .await
        .unwrap();
    assert_eq!(cancels, 2, "Asha and the owner were reminded");
}
db_test!(
    reschedules,
    only_the_latest_versions_reminders_are_sent_each_once
);

async fn a_rule_added_today_does_not_fire_for_reminder_times_already_past(db: &TestDb) {
    let conn = outreach_core::db::open(&db.url, "tester").await.unwrap();
    setup_people(&conn).await;
    // The meeting was planned before any rule existed.
    let none = Workflows::parse("").unwrap();
    let input = MeetingInput {
        state: "NPL".into(),
        title: "Meeting in three days".into(),
        at: local_in(3),
        tz: Some("UTC".into()),
        with: vec!["asha@example.org".into()],
        ..Default::default()
    };
    let (m, plan) = planner::schedule_meeting(&conn, &none, &actor(), &input)
        .await
        .unwrap();
    assert_eq!(plan.planned, 0);
    // Today both rules are added: the 7-day reminder's time is already past, the 1-day one is not.
    let today = workflows(&Utc::now().to_rfc3339());
    let lines = planner::dry_run(&conn, &today, None, Utc::now())
        .await
        .unwrap();
    assert!(
        lines.iter().any(|l| l.rule == "m-7d" && !l.would_fire),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.rule == "m-1d" && l.would_fire && l.time_zone == "Asia/Kathmandu"),
        "{lines:?}"
    );
    let mut sweep = NewJob::new(
        "sweep",
        "test:sweep".into(),
        Utc::now(),
        serde_json::json!({}),
    );
    sweep.max_attempts = 1;
    jobs::enqueue(&conn, sweep).await.unwrap();
    let daemon = Daemon::new(conn.clone(), config("d"), Registry::builtin(), today);
    while daemon.run_once().await.unwrap() > 0 {}
    let planned = job::Entity::find()
        .filter(job::Column::Kind.eq("meeting_reminder"))
        .filter(job::Column::SubjectId.eq(m.id.to_string()))
        .all(&conn)
        .await
        .unwrap();
    assert_eq!(planned.len(), 2, "{planned:?}");
    assert!(planned.iter().all(|j| j.rule.as_deref() == Some("m-1d")));
    assert!(planned.iter().all(|j| j.run_at > Utc::now()));
}
db_test!(
    new_rules,
    a_rule_added_today_does_not_fire_for_reminder_times_already_past
);

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

async fn cron_jobs(conn: &DatabaseConnection) -> Vec<DateTime<Utc>> {
    let mut v: Vec<DateTime<Utc>> = job::Entity::find()
        .filter(job::Column::SubjectKind.eq("schedule"))
        .all(conn)
        .await
        .unwrap()
        .into_iter()
        .map(|j| j.run_at)
        .collect();
    v.sort();
    v
}

async fn digests_keep_local_time_across_dst_and_fire_once_after_downtime(db: &TestDb) {
    let conn = outreach_core::db::open(&db.url, "tester").await.unwrap();
    let wf = Workflows::parse(
        "[[schedule]]\nname = \"digest\"\ncron = \"0 0 8 * * *\"\ntime_zone = \"Europe/Paris\"\njob = \"weekly_digest\"\neffective_from = \"2026-01-01T00:00:00Z\"\n\
         [[schedule]]\nname = \"night\"\ncron = \"0 30 2 * * *\"\ntime_zone = \"Europe/Paris\"\njob = \"sweep\"\neffective_from = \"2026-01-01T00:00:00Z\"\n",
    )
    .unwrap();
    let a = Daemon::new(conn.clone(), config("a"), Registry::builtin(), wf.clone());
    let b = Daemon::new(
        outreach_core::db::connect(&db.url).await.unwrap(),
        config("b"),
        Registry::builtin(),
        wf,
    );

    // First sight of the schedules: nothing fires for the past.
    assert_eq!(a.fire_cron(utc("2026-03-28T12:00:00Z")).await.unwrap(), 0);
    // The spring-forward night: 02:30 does not exist in Paris; it runs once, at 03:00 CEST.
    assert_eq!(a.fire_cron(utc("2026-03-29T00:59:00Z")).await.unwrap(), 0);
    assert_eq!(a.fire_cron(utc("2026-03-29T01:00:30Z")).await.unwrap(), 1);
    assert_eq!(
        b.fire_cron(utc("2026-03-29T01:00:40Z")).await.unwrap(),
        0,
        "a second daemon must not fire it again"
    );
    // 08:00 Paris is 06:00 UTC in summer...
    assert_eq!(a.fire_cron(utc("2026-03-29T06:00:10Z")).await.unwrap(), 1);
    assert_eq!(
        cron_jobs(&conn).await,
        vec![utc("2026-03-29T01:00:00Z"), utc("2026-03-29T06:00:00Z")]
    );
    // ...and, after three days down, the missed slots fire once each schedule, for the latest slot.
    assert_eq!(b.fire_cron(utc("2026-04-01T07:00:00Z")).await.unwrap(), 2);
    let fired = cron_jobs(&conn).await;
    assert_eq!(fired.len(), 4);
    assert!(fired.contains(&utc("2026-04-01T06:00:00Z")));
    assert!(fired.contains(&utc("2026-04-01T00:30:00Z")));
    // In winter 08:00 Paris is 07:00 UTC.
    // (Months down: each schedule's latest missed slot is taken once; the sweep runs, the
    // digest, a day late, is recorded as not sent: its time had passed.)
    assert_eq!(a.fire_cron(utc("2026-12-01T06:59:00Z")).await.unwrap(), 1);
    assert!(
        cron_jobs(&conn)
            .await
            .contains(&utc("2026-11-30T07:00:00Z"))
    );
    let late_digest = job::Entity::find()
        .filter(job::Column::SubjectKind.eq("schedule"))
        .filter(job::Column::RunAt.eq(utc("2026-11-30T07:00:00Z")))
        .one(&conn)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(late_digest.status, "skipped");
    assert_eq!(late_digest.last_error.as_deref(), Some(jobs::PASSED));
    assert_eq!(a.fire_cron(utc("2026-12-01T07:00:01Z")).await.unwrap(), 1);
    assert!(
        cron_jobs(&conn)
            .await
            .contains(&utc("2026-12-01T07:00:00Z"))
    );
}
db_test!(
    cron_dst,
    digests_keep_local_time_across_dst_and_fire_once_after_downtime
);

async fn the_weekly_digest_lists_each_persons_week_in_their_zone(db: &TestDb) {
    let conn = outreach_core::db::open(&db.url, "tester").await.unwrap();
    setup_people(&conn).await;
    let wf = Workflows::parse("").unwrap();
    let starts = Utc::now() + chrono::Duration::hours(30);
    let soon = starts.format("%Y-%m-%d %H:%M").to_string();
    let input = MeetingInput {
        state: "NPL".into(),
        title: "Ministry meeting".into(),
        at: soon,
        tz: Some("UTC".into()),
        ..Default::default()
    };
    planner::schedule_meeting(&conn, &wf, &actor(), &input)
        .await
        .unwrap();
    outreach_core::followups::add(
        &conn,
        &actor(),
        &outreach_core::followups::FollowUpInput {
            state: Some("IND".into()),
            description: "Send the profile".into(),
            due: Some(
                (Utc::now() - chrono::Duration::days(3))
                    .format("%Y-%m-%d")
                    .to_string(),
            ),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let payload = serde_json::json!({ "schedule": "weekly-digest", "slot": Utc::now() });
    jobs::enqueue(
        &conn,
        NewJob::new("weekly_digest", "test:digest".into(), Utc::now(), payload),
    )
    .await
    .unwrap();
    let daemon = Daemon::new(conn.clone(), config("d"), Registry::builtin(), wf);
    while daemon.run_once().await.unwrap() > 0 {}
    let digests = outbox::Entity::find()
        .filter(outbox::Column::Template.eq("weekly_digest"))
        .all(&conn)
        .await
        .unwrap();
    assert_eq!(digests.len(), 1, "one staff member has an email address");
    let ctx: outreach_mailer::context::WeeklyDigest =
        serde_json::from_str(&digests[0].context).unwrap();
    assert_eq!(ctx.recipient.time_zone, "Europe/Paris");
    assert_eq!(ctx.overdue_follow_ups.len(), 1);
    assert_eq!(ctx.overdue_follow_ups[0].iso3, "IND");
    assert!(
        ctx.quiet_states
            .iter()
            .any(|s| s.iso3 == "CHN" && s.days_since.is_none())
    );
    // The meeting is in the digest when it falls in the recipient's current week.
    let week_end = ctx.week_of + chrono::Days::new(7);
    let paris = IanaZone::parse("tz", "Europe/Paris").unwrap();
    let meeting_day = paris.local(starts).date_naive();
    assert_eq!(
        ctx.meetings.len(),
        usize::from(meeting_day < week_end),
        "{ctx:?}"
    );
}
db_test!(
    digest,
    the_weekly_digest_lists_each_persons_week_in_their_zone
);

async fn a_meeting_rescheduled_twice_reaches_the_mail_server_once_per_reminder_as_version_3(
    db: &TestDb,
) {
    use outreach_mailer::MailSettings;
    let conn = outreach_core::db::open(&db.url, "tester").await.unwrap();
    setup_people(&conn).await;
    let wf = workflows("2026-01-01T00:00:00Z");
    let input = MeetingInput {
        state: "NPL".into(),
        title: "Ministry meeting".into(),
        at: local_in(10),
        tz: Some("Asia/Kathmandu".into()),
        with: vec!["asha@example.org".into()],
        ..Default::default()
    };
    let (m, _) = planner::schedule_meeting(&conn, &wf, &actor(), &input)
        .await
        .unwrap();
    let id = m.id.to_string();
    planner::reschedule_meeting(&conn, &wf, &actor(), &id, &local_in(12), None)
        .await
        .unwrap();
    planner::reschedule_meeting(&conn, &wf, &actor(), &id, &local_in(14), None)
        .await
        .unwrap();
    make_everything_due(&conn).await;

    let server = outreach_testkit::smtp::SmtpServer::start().await;
    let settings = MailSettings {
        transport: "smtp".into(),
        smtp_host: "127.0.0.1".into(),
        smtp_port: server.port(),
        smtp_security: "none".into(),
        message_id_domain: "mail.outreach.test".into(),
        ..MailSettings::default()
    };
    let mailer =
        outreach_mailer::Mailer::from_settings(&settings, std::path::Path::new(".")).unwrap();
    let daemon = Daemon::new(conn.clone(), config("d"), Registry::builtin(), wf);
    let first = outreach_scheduler::service::run_once(&conn, &daemon, &mailer)
        .await
        .unwrap();
    assert_eq!(
        (first.jobs_run, first.emails_processed),
        (3, 3),
        "{first:?}"
    );
    let received = server.wait_for(3, Duration::from_secs(10)).await;
    assert_eq!(received.len(), 3);
    for r in &received {
        assert!(r.data.contains("SEQUENCE:3"), "{}", r.data);
        assert!(!r.data.contains("SEQUENCE:1") && !r.data.contains("SEQUENCE:2"));
    }
    let mut rcpts: Vec<String> = received.iter().flat_map(|r| r.rcpt_to.clone()).collect();
    rcpts.sort();
    assert_eq!(
        rcpts,
        ["asha@example.org", "asha@example.org", "tester@example.org"]
    );
    // Another pass, even with everything made due again, sends nothing more.
    make_everything_due(&conn).await;
    let again = outreach_scheduler::service::run_once(&conn, &daemon, &mailer)
        .await
        .unwrap();
    assert_eq!((again.jobs_run, again.emails_processed), (0, 0));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(server.received().len(), 3);
}
db_test!(
    delivered_once,
    a_meeting_rescheduled_twice_reaches_the_mail_server_once_per_reminder_as_version_3
);

/// Never stale: a reminder whose time has passed when it is first planned is recorded as
/// skipped ("not sent: its time had passed"), never sent, for meeting rules and the sweeps'
/// follow-up reminders alike; sweeping again plans nothing new; and every job planned gets
/// `scheduler.max_attempts`.
async fn triggers_already_past_are_recorded_as_skipped_and_never_sent(db: &TestDb) {
    let conn = outreach_core::db::open(&db.url, "tester").await.unwrap();
    setup_people(&conn).await;
    let mut wf = Workflows::parse(
        "[[meeting_reminder]]\nname = \"m-1d\"\nbefore = \"1d\"\nto = [\"participants\"]\neffective_from = \"2026-01-01T00:00:00Z\"\n\
         [[meeting_reminder]]\nname = \"m-7d\"\nbefore = \"7d\"\nto = [\"participants\"]\neffective_from = \"2026-01-01T00:00:00Z\"\n\
         [follow_up_reminder]\nname = \"f-5d\"\nbefore = \"5d\"\neffective_from = \"2026-01-01T00:00:00Z\"\n",
    )
    .unwrap();
    wf.max_attempts = 3;
    let input = MeetingInput {
        state: "NPL".into(),
        title: "Meeting in three days".into(),
        at: local_in(3),
        tz: Some("UTC".into()),
        with: vec!["asha@example.org".into()],
        ..Default::default()
    };
    let (m, plan) = planner::schedule_meeting(&conn, &wf, &actor(), &input)
        .await
        .unwrap();
    assert_eq!((plan.planned, plan.skipped_past), (1, 1));
    // A follow-up due in two days: its "5 days before" reminder was due three days ago.
    let tomorrow2 = (Utc::now() + chrono::Duration::days(2))
        .format("%Y-%m-%d")
        .to_string();
    outreach_core::followups::add(
        &conn,
        &actor(),
        &outreach_core::followups::FollowUpInput {
            state: Some("NPL".into()),
            description: "Send the ministry the treaty text in Nepali".into(),
            due: Some(tomorrow2),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let daemon = Daemon::new(conn.clone(), config("d"), Registry::builtin(), wf);
    for round in 0..2 {
        let mut sweep = NewJob::new(
            "sweep",
            format!("test:sweep:{round}"),
            Utc::now(),
            serde_json::json!({}),
        );
        sweep.max_attempts = 1;
        jobs::enqueue(&conn, sweep).await.unwrap();
        make_everything_due(&conn).await;
        while daemon.run_once().await.unwrap() > 0 {}
    }
    let all = job::Entity::find().all(&conn).await.unwrap();
    let skipped: Vec<&job::Model> = all.iter().filter(|j| j.status == "skipped").collect();
    let rules: std::collections::BTreeSet<&str> =
        skipped.iter().filter_map(|j| j.rule.as_deref()).collect();
    assert_eq!(
        rules,
        ["f-5d", "m-7d"].into_iter().collect(),
        "one skipped job per past trigger, however often it is swept: {all:#?}"
    );
    assert_eq!(skipped.len(), 2, "{all:#?}");
    assert!(
        skipped
            .iter()
            .all(|j| j.last_error.as_deref() == Some(jobs::PASSED) && j.attempts == 0)
    );
    // The one reminder still ahead ran (make_everything_due) and is the only email.
    let mails = outbox::Entity::find().all(&conn).await.unwrap();
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert!(mails[0].idempotency_key.contains("m-1d"));
    let ledger = outreach_scheduler::ledger::for_subject(&conn, "meeting", &m.id.to_string())
        .await
        .unwrap();
    let line = ledger
        .iter()
        .find(|l| l.rule.as_deref() == Some("m-7d"))
        .unwrap();
    assert_eq!(line.state, "skipped");
    assert!(
        line.reason
            .as_deref()
            .unwrap_or_default()
            .contains("its time had passed"),
        "{line:?}"
    );
    // scheduler.max_attempts reached every job the rules planned.
    assert!(
        all.iter()
            .filter(|j| j.kind != "sweep")
            .all(|j| j.max_attempts == 3),
        "{all:#?}"
    );
}
db_test!(
    never_stale,
    triggers_already_past_are_recorded_as_skipped_and_never_sent
);

#[test]
fn max_attempts_comes_from_the_settings_and_zero_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = outreach_scheduler::SchedulerSettings {
        max_attempts: 2,
        ..Default::default()
    };
    let wf = Workflows::from_settings(dir.path(), &settings).unwrap();
    assert_eq!(wf.max_attempts, 2);
    settings.max_attempts = 0;
    let err = Workflows::from_settings(dir.path(), &settings)
        .unwrap_err()
        .to_string();
    assert!(err.contains("scheduler.max_attempts"), "{err}");
}

/// One place says what happened: a reminder job is `done` once it queued its email, and
/// `outreach jobs` (the job list) shows that email's fate beside it: sent with the server's
/// reply, or failed with the refusal.
async fn the_job_list_shows_what_became_of_each_reminders_email(db: &TestDb) {
    use outreach_mailer::MailSettings;
    use outreach_testkit::smtp::{Reply, SmtpServer};
    let conn = outreach_core::db::open(&db.url, "tester").await.unwrap();
    setup_people(&conn).await;
    let wf = Workflows::parse(
        "[[meeting_reminder]]\nname = \"m-1d\"\nbefore = \"1d\"\nto = [\"participants\", \"owner\"]\neffective_from = \"2026-01-01T00:00:00Z\"\n",
    )
    .unwrap();
    let input = MeetingInput {
        state: "NPL".into(),
        title: "Ministry meeting".into(),
        at: local_in(5),
        tz: Some("UTC".into()),
        with: vec!["asha@example.org".into()],
        ..Default::default()
    };
    planner::schedule_meeting(&conn, &wf, &actor(), &input)
        .await
        .unwrap();
    make_everything_due(&conn).await;
    let server = SmtpServer::start().await;
    let settings = MailSettings {
        transport: "smtp".into(),
        smtp_host: "127.0.0.1".into(),
        smtp_port: server.port(),
        smtp_security: "none".into(),
        smtp_pool_size: 1,
        message_id_domain: "mail.outreach.test".into(),
        ..MailSettings::default()
    };
    let mailer =
        outreach_mailer::Mailer::from_settings(&settings, std::path::Path::new(".")).unwrap();
    let daemon = Daemon::new(conn.clone(), config("d"), Registry::builtin(), wf);
    while daemon.run_once().await.unwrap() > 0 {}
    // The first message the server sees is refused, the second accepted.
    server.script([
        Reply::RejectRecipient("550 5.1.1 No such user".into()),
        Reply::Accept,
    ]);
    while outreach_mailer::deliver_once(&conn, &mailer).await.unwrap() > 0 {}
    let accepted: Vec<String> = server
        .wait_for(1, Duration::from_secs(10))
        .await
        .iter()
        .flat_map(|r| r.rcpt_to.clone())
        .collect();
    assert_eq!(accepted.len(), 1);
    let listed = jobs::list(&conn, None, Some("meeting_reminder"), 10)
        .await
        .unwrap();
    assert_eq!(listed.len(), 2);
    for j in &listed {
        assert_eq!(j.status, "done");
        assert_eq!(j.emails.len(), 1, "{j:?}");
        let email = &j.emails[0];
        if email.to == accepted[0] {
            assert_eq!(email.status, "sent", "{j:?}");
        } else {
            assert_eq!(email.status, "failed", "{j:?}");
            assert!(
                email.summary().contains("550 5.1.1"),
                "the refusal is shown: {j:?}"
            );
        }
    }
}
db_test!(
    job_list_email_results,
    the_job_list_shows_what_became_of_each_reminders_email
);

async fn no_email_carries_restricted_text_and_a_disabled_account_gets_no_reminders(db: &TestDb) {
    const SECRET: &str = "Ask the general about the stockpile audit";
    let conn = outreach_core::db::open(&db.url, "tester").await.unwrap();
    setup_people(&conn).await;
    let wf = Workflows::parse(
        "[[meeting_reminder]]\nname = \"m-1d\"\nbefore = \"1d\"\nto = [\"participants\", \"owner\"]\neffective_from = \"2026-01-01T00:00:00Z\"\n\
         [follow_up_reminder]\nname = \"f-1d\"\nbefore = \"1d\"\neffective_from = \"2026-01-01T00:00:00Z\"\n",
    )
    .unwrap();
    // A restricted military dialogue, and a follow-up made from it (overdue, so in the digest,
    // and another due in two days, so its reminder is planned).
    let dialogue = outreach_core::engagements::log(
        &conn,
        &actor(),
        &outreach_core::engagements::EngagementInput {
            state: "AZE".into(),
            kind: "military-dialogue".into(),
            summary: Some("Dialogue with the general staff".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(dialogue.sensitivity, "restricted");
    for days in [-3, 2] {
        outreach_core::followups::add(
            &conn,
            &actor(),
            &outreach_core::followups::FollowUpInput {
                description: SECRET.into(),
                due: Some(
                    (Utc::now() + chrono::Duration::days(days))
                        .format("%Y-%m-%d")
                        .to_string(),
                ),
                engagement: Some(dialogue.id.to_string()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    }
    let daemon = Daemon::new(conn.clone(), config("d"), Registry::builtin(), wf.clone());
    let digest = serde_json::json!({ "schedule": "weekly-digest", "slot": Utc::now() });
    jobs::enqueue(
        &conn,
        NewJob::new("weekly_digest", "test:digest:1".into(), Utc::now(), digest),
    )
    .await
    .unwrap();
    jobs::enqueue(
        &conn,
        NewJob::new(
            "sweep",
            "test:sweep:1".into(),
            Utc::now(),
            serde_json::json!({}),
        ),
    )
    .await
    .unwrap();
    while daemon.run_once().await.unwrap() > 0 {}
    make_everything_due(&conn).await;
    while daemon.run_once().await.unwrap() > 0 {}
    let mails = outbox::Entity::find().all(&conn).await.unwrap();
    let templates: std::collections::BTreeSet<&str> =
        mails.iter().map(|m| m.template.as_str()).collect();
    assert!(
        templates.contains("weekly_digest") && templates.contains("follow_up_due"),
        "{templates:?}"
    );
    for m in &mails {
        assert!(
            !m.context.contains(SECRET),
            "{} carries restricted text: {}",
            m.template,
            m.context
        );
        assert!(
            m.context
                .contains(outreach_core::access::WITHHELD_FOLLOW_UP),
            "{}: {}",
            m.template,
            m.context
        );
    }

    // tester plans a meeting (a reminder for them as owner), then an admin disables them: the
    // planned reminder is not sent and the next digest skips them.
    let input = MeetingInput {
        state: "NPL".into(),
        title: "Ministry meeting".into(),
        at: local_in(5),
        tz: Some("UTC".into()),
        ..Default::default()
    };
    planner::schedule_meeting(&conn, &wf, &actor(), &input)
        .await
        .unwrap();
    let admin = Actor::new("ada", IanaZone::UTC).unwrap();
    outreach_core::actor::upsert_user(
        &conn,
        &admin,
        &outreach_core::actor::UserInput {
            handle: "ada".into(),
            role: Some("admin".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let before = outbox::Entity::find().all(&conn).await.unwrap().len();
    outreach_core::entities::user::Entity::update_many()
        .col_expr(
            outreach_core::entities::user::Column::DisabledAt,
            Utc::now().into(),
        )
        .filter(outreach_core::entities::user::Column::Handle.eq("tester"))
        .exec(&conn)
        .await
        .unwrap();
    let digest = serde_json::json!({ "schedule": "weekly-digest", "slot": Utc::now() });
    jobs::enqueue(
        &conn,
        NewJob::new("weekly_digest", "test:digest:2".into(), Utc::now(), digest),
    )
    .await
    .unwrap();
    make_everything_due(&conn).await;
    while daemon.run_once().await.unwrap() > 0 {}
    let after = outbox::Entity::find().all(&conn).await.unwrap();
    assert_eq!(
        after.len(),
        before,
        "a disabled account gets no reminder and no digest: {:?}",
        &after[before..]
    );
    let cancelled = job::Entity::find()
        .filter(job::Column::Kind.eq("meeting_reminder"))
        .all(&conn)
        .await
        .unwrap();
    assert!(
        cancelled.iter().all(|j| j.status == "cancelled"),
        "{cancelled:#?}"
    );
}
db_test!(
    confidentiality,
    no_email_carries_restricted_text_and_a_disabled_account_gets_no_reminders
);

/// Counts how often it started, then takes its time.
struct Slow {
    started: Arc<std::sync::atomic::AtomicUsize>,
    takes: Duration,
}

#[async_trait]
impl outreach_scheduler::handlers::Handler for Slow {
    async fn run(
        &self,
        _: &RunContext,
        _: &DatabaseTransaction,
        _: &job::Model,
    ) -> Result<Outcome, JobError> {
        self.started
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        tokio::time::sleep(self.takes).await;
        Ok(Outcome::Done)
    }
}

/// A job that runs three times longer than its lease keeps renewing it, so a second daemon
/// looking for expired leases the whole time never takes it over: it starts once.
async fn a_job_three_times_longer_than_its_lease_runs_once(db: &TestDb) {
    let seed = outreach_core::db::open(&db.url, "tester").await.unwrap();
    insert_jobs(&seed, "slow", 1, Utc::now(), serde_json::json!({})).await;
    let started = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let lease = Duration::from_secs(1);
    let mut registry = Registry::builtin();
    registry.register(
        "slow",
        Arc::new(Slow {
            started: started.clone(),
            takes: lease * 3,
        }),
    );
    let daemon = |owner: &str, conn: DatabaseConnection| {
        Daemon::new(
            conn,
            DaemonConfig {
                lease,
                ..config(owner)
            },
            registry.clone(),
            Workflows::parse("").unwrap(),
        )
    };
    let first = daemon("first", outreach_core::db::connect(&db.url).await.unwrap());
    let second = daemon("second", outreach_core::db::connect(&db.url).await.unwrap());
    let running = tokio::spawn(async move { first.run_once().await.unwrap() });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let deadline = std::time::Instant::now() + lease * 4;
    let mut taken_over = 0;
    while std::time::Instant::now() < deadline {
        taken_over += second.run_once().await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(running.await.unwrap(), 1);
    assert_eq!(taken_over, 0, "the second daemon took the job over");
    assert_eq!(started.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(count_status(&seed, "done").await, 1);
}
db_test!(
    lease_renewal,
    a_job_three_times_longer_than_its_lease_runs_once
);

/// The daemons were down past a meeting's start: its reminders, due before it, run only after
/// it began. None is sent; each is recorded as skipped with the reason.
async fn a_reminder_whose_meeting_has_begun_is_recorded_not_sent(db: &TestDb) {
    let conn = outreach_core::db::open(&db.url, "tester").await.unwrap();
    setup_people(&conn).await;
    let wf = workflows("2026-01-01T00:00:00Z");
    let input = MeetingInput {
        state: "NPL".into(),
        title: "Ministry meeting".into(),
        at: local_in(10),
        tz: Some("UTC".into()),
        with: vec!["asha@example.org".into()],
        ..Default::default()
    };
    let (m, plan) = planner::schedule_meeting(&conn, &wf, &actor(), &input)
        .await
        .unwrap();
    assert_eq!(plan.planned, 3);
    // Ten days later, an hour after the meeting began, the daemon is back.
    outreach_core::entities::meeting::Entity::update_many()
        .col_expr(
            outreach_core::entities::meeting::Column::StartsAt,
            (Utc::now() - chrono::Duration::hours(1)).into(),
        )
        .filter(outreach_core::entities::meeting::Column::Id.eq(m.id))
        .exec(&conn)
        .await
        .unwrap();
    make_everything_due(&conn).await;
    let daemon = Daemon::new(conn.clone(), config("d"), Registry::builtin(), wf);
    assert_eq!(daemon.run_once().await.unwrap(), 3);
    assert_eq!(outbox::Entity::find().count(&conn).await.unwrap(), 0);
    let skipped = job::Entity::find()
        .filter(job::Column::Status.eq("skipped"))
        .all(&conn)
        .await
        .unwrap();
    assert_eq!(skipped.len(), 3);
    for j in &skipped {
        assert_eq!(j.last_error.as_deref(), Some(jobs::TOO_LATE), "{j:?}");
    }
}
db_test!(
    meeting_begun,
    a_reminder_whose_meeting_has_begun_is_recorded_not_sent
);

/// A PostgreSQL outage of five seconds in the middle of a run, on a cluster of the test's own:
/// the daemon rides it out, resumes soon after the server is back, and every job runs exactly
/// once, those due during the outage included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_five_second_postgres_outage_loses_and_doubles_nothing() {
    let cluster = outreach_testkit::pg_cluster::PgCluster::start();
    cluster.create("outreach");
    let url = cluster.url("outreach");
    let seed = outreach_core::db::open(&url, "tester").await.unwrap();
    // 300 jobs due over the next eight seconds: some before, many during, some after the outage.
    let start = Utc::now();
    for i in 0..8 {
        insert_jobs(
            &seed,
            "record",
            300 / 8,
            start + chrono::Duration::seconds(i),
            serde_json::json!({}),
        )
        .await;
    }
    let total = (300 / 8) * 8;
    let mut registry = Registry::builtin();
    registry.register("record", Arc::new(Recorder));
    let daemon = Daemon::new(
        outreach_core::db::connect(&url).await.unwrap(),
        DaemonConfig {
            poll: Duration::from_secs(30),
            ..config("d")
        },
        registry,
        Workflows::parse("").unwrap(),
    );
    let (stop, rx) = tokio::sync::watch::channel(false);
    let running = tokio::spawn(async move { daemon.run(rx).await });
    seed.close().await.ok();

    tokio::time::sleep(Duration::from_millis(1500)).await;
    cluster.stop();
    tokio::time::sleep(Duration::from_secs(5)).await;
    cluster.resume();
    let back = std::time::Instant::now();

    let check = outreach_core::db::connect(&url).await.unwrap();
    let deadline = back + Duration::from_secs(30);
    loop {
        let done = count_status(&check, "done").await;
        if done == total as u64 || std::time::Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let drained = back.elapsed();
    let _ = stop.send(true);
    running.await.unwrap().unwrap();
    println!("all jobs done {drained:?} after the server came back");
    assert_eq!(count_status(&check, "done").await, total as u64);
    let runs = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("test.run"))
        .all(&check)
        .await
        .unwrap();
    let distinct: std::collections::HashSet<&str> =
        runs.iter().map(|r| r.entity_id.as_str()).collect();
    assert_eq!(
        (runs.len(), distinct.len()),
        (total, total),
        "a job ran twice or not at all"
    );
    // The last jobs fall due about half a second after the server is back; a wide bound, as
    // this machine is shared (the figure is printed above).
    assert!(drained < Duration::from_secs(10), "{drained:?}");
    check.close().await.ok();
}

/// Writes its run to the audit log, then fails (`"fail"`) or panics (`"panic"`): neither write
/// may survive.
struct WritesThenBreaks(&'static str);

#[async_trait]
impl outreach_scheduler::handlers::Handler for WritesThenBreaks {
    async fn run(
        &self,
        _: &RunContext,
        tx: &DatabaseTransaction,
        job: &job::Model,
    ) -> Result<Outcome, JobError> {
        outreach_core::audit::record(
            tx,
            "daemon",
            "test.run",
            "job",
            &job.id.to_string(),
            serde_json::json!({ "breaks": self.0 }),
        )
        .await
        .map_err(|e| JobError::Transient(e.to_string()))?;
        if self.0 == "panic" {
            panic!("a bug in the handler");
        }
        Err(JobError::Transient("the relay said 421, try later".into()))
    }
}

/// Jobs run together in one transaction: a job that fails after writing, and one that panics
/// after writing, have their own writes rolled back and are recorded with their reasons; their
/// neighbours run again without them and their effects and completions commit.
async fn a_failing_job_in_a_group_rolls_back_alone(db: &TestDb) {
    let conn = outreach_core::db::open(&db.url, "tester").await.unwrap();
    let mut registry = Registry::builtin();
    registry.register("record", Arc::new(Recorder));
    registry.register("fails", Arc::new(WritesThenBreaks("fail")));
    registry.register("panics", Arc::new(WritesThenBreaks("panic")));
    let now = Utc::now();
    insert_jobs(&conn, "record", 3, now, serde_json::json!({})).await;
    insert_jobs(&conn, "fails", 1, now, serde_json::json!({})).await;
    insert_jobs(&conn, "panics", 1, now, serde_json::json!({})).await;
    insert_jobs(&conn, "record", 3, now, serde_json::json!({})).await;
    // One worker and groups of 16: all six jobs in one transaction.
    let daemon = Daemon::new(
        conn.clone(),
        DaemonConfig {
            workers: 1,
            retry_base: Duration::from_secs(60),
            ..config("grouped")
        },
        registry,
        Workflows::parse("").unwrap(),
    );
    assert_eq!(daemon.run_once().await.unwrap(), 8);
    let runs = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("test.run"))
        .all(&conn)
        .await
        .unwrap();
    assert_eq!(runs.len(), 6, "only the six good jobs' writes remain");
    assert!(
        runs.iter().all(|r| !r.detail.contains("breaks")),
        "{runs:?}"
    );
    let all = jobs::list(&conn, None, None, 20).await.unwrap();
    assert_eq!(all.iter().filter(|j| j.status == "done").count(), 6);
    let failing = all.iter().find(|j| j.kind == "fails").unwrap();
    assert_eq!((failing.status.as_str(), failing.attempts), ("queued", 1));
    assert_eq!(
        failing.last_error.as_deref(),
        Some("the relay said 421, try later")
    );
    let panicking = all.iter().find(|j| j.kind == "panics").unwrap();
    assert_eq!(panicking.status, "failed");
    assert!(
        panicking
            .last_error
            .as_deref()
            .unwrap_or_default()
            .contains("a bug in the handler"),
        "{:?}",
        panicking.last_error
    );
}
db_test!(group_failure, a_failing_job_in_a_group_rolls_back_alone);

/// SQLite's write lock held again and again by another connection for longer than the daemon's
/// busy timeout (as a long import or a backup would): every claim, begin and bookkeeping write
/// of the daemon meets "database is locked" many times. None of that may cost a job an attempt
/// or fail it: every job runs once, on its first attempt. (SQLite only: PostgreSQL has no lock
/// on the whole database.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_sqlite_database_costs_no_job_an_attempt() {
    use sea_orm::sqlx::{Connection as _, Executor as _};
    let db = TestDb::new(outreach_testkit::Backend::Sqlite).await;
    let seed = outreach_core::db::open(&db.url, "tester").await.unwrap();
    let total = 200;
    insert_jobs(&seed, "record", total, Utc::now(), serde_json::json!({})).await;
    seed.close().await.ok();

    // The daemon waits only 20 ms for the lock, so it is refused, not merely slowed.
    let mut opts = sea_orm::ConnectOptions::new(db.url.clone());
    opts.sqlx_logging(false)
        .max_connections(4)
        .map_sqlx_sqlite_opts(|o| {
            o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .busy_timeout(Duration::from_millis(20))
                .foreign_keys(true)
        });
    let impatient = sea_orm::Database::connect(opts).await.unwrap();
    let mut registry = Registry::builtin();
    registry.register("record", Arc::new(Recorder));
    let daemon = Daemon::new(
        impatient,
        DaemonConfig {
            batch_size: 20,
            jobs_per_transaction: 4,
            ..config("impatient")
        },
        registry,
        Workflows::parse("").unwrap(),
    );

    // The other writer: holds the lock 150 ms, lets go for 15 ms, for three seconds.
    let path = db.url.trim_start_matches("sqlite://").to_owned();
    let holder = tokio::spawn(async move {
        let mut c = sea_orm::sqlx::SqliteConnection::connect(&format!("sqlite://{path}"))
            .await
            .unwrap();
        let until = std::time::Instant::now() + Duration::from_secs(3);
        let mut held = 0;
        while std::time::Instant::now() < until {
            c.execute("BEGIN IMMEDIATE").await.unwrap();
            held += 1;
            tokio::time::sleep(Duration::from_millis(150)).await;
            c.execute("COMMIT").await.unwrap();
            tokio::time::sleep(Duration::from_millis(15)).await;
        }
        held
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    let (stop, rx) = tokio::sync::watch::channel(false);
    let running = tokio::spawn(async move { daemon.run(rx).await });

    let check = outreach_core::db::connect(&db.url).await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while count_status(&check, "done").await < total as u64 && std::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let held = holder.await.unwrap();
    let _ = stop.send(true);
    running.await.unwrap().unwrap();
    assert!(
        held >= 15,
        "the other writer held the lock only {held} times"
    );

    let all = job::Entity::find().all(&check).await.unwrap();
    let not_first_try: Vec<_> = all
        .iter()
        .filter(|j| j.status != "done" || j.attempts != 1)
        .map(|j| (j.status.clone(), j.attempts, j.last_error.clone()))
        .collect();
    assert!(
        not_first_try.is_empty(),
        "{} of {total} jobs were not done on their first attempt: {not_first_try:?}",
        not_first_try.len()
    );
    let runs = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("test.run"))
        .count(&check)
        .await
        .unwrap();
    assert_eq!(runs, total as u64, "each job's effect is committed once");
    check.close().await.ok();
    db.cleanup().await;
}

/// Issue 16 item 4: a report marked submitted gets no reminder. Two reports of one grant have
/// their reminders planned by the sweep; one is marked submitted; when both reminders fall due,
/// a real SMTP server receives the other one only, and the submitted report's job is recorded
/// as skipped with the reason. Sweeping again plans nothing for it.
async fn a_submitted_grant_reports_reminder_is_not_sent_and_its_job_says_why(db: &TestDb) {
    use outreach_core::directory::{self, GrantInput, OrganisationInput};
    use outreach_core::grants;
    use outreach_mailer::MailSettings;
    let conn = outreach_core::db::open(&db.url, "tester").await.unwrap();
    let lead = Actor::new("lead", IanaZone::UTC).unwrap();
    outreach_core::actor::upsert_user(
        &conn,
        &actor(),
        &outreach_core::actor::UserInput {
            handle: "lead".into(),
            role: Some("coordinator".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    directory::add_organisation(
        &conn,
        &lead,
        &OrganisationInput {
            name: "Landmine Free Nepal".into(),
            kind: Some("icbl-member".into()),
            state: Some("NPL".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    directory::add_contact(
        &conn,
        &lead,
        &outreach_core::directory::ContactInput {
            name: "Asha".into(),
            organisation: Some("Landmine Free Nepal".into()),
            email: Some("asha@example.org".into()),
            time_zone: Some("Asia/Kathmandu".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let day = |days: i64| {
        (Utc::now() + chrono::Duration::days(days))
            .format("%Y-%m-%d")
            .to_string()
    };
    let g = directory::add_grant(
        &conn,
        &lead,
        &GrantInput {
            organisation: "Landmine Free Nepal".into(),
            year: 2026,
            amount: "20000".into(),
            currency: "USD".into(),
            reports_due: vec![day(30), day(60)],
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let wf = Workflows::parse(
        "[grant_report_reminder]\nname = \"report-14d\"\nbefore = \"14d\"\neffective_from = \"2026-01-01T00:00:00Z\"\n",
    )
    .unwrap();
    let daemon = Daemon::new(conn.clone(), config("d"), Registry::builtin(), wf);
    let sweep = |round: u32| {
        let mut j = NewJob::new(
            "sweep",
            format!("test:sweep:{round}"),
            Utc::now(),
            serde_json::json!({}),
        );
        j.max_attempts = 1;
        j
    };
    jobs::enqueue(&conn, sweep(0)).await.unwrap();
    while daemon.run_once().await.unwrap() > 0 {}
    let planned = job::Entity::find()
        .filter(job::Column::Kind.eq("grant_report_due"))
        .all(&conn)
        .await
        .unwrap();
    assert_eq!(planned.len(), 2, "one reminder per report: {planned:#?}");
    assert!(planned.iter().all(|j| j.status == "queued"), "{planned:#?}");

    // The first report comes in; the coordinator marks it submitted.
    let detail = grants::show(
        &conn,
        &g.id.to_string(),
        lead.today(),
        &outreach_core::access::Reader::outside(),
    )
    .await
    .unwrap();
    let first = &detail.reports[0];
    let submitted = grants::submit_report(&conn, &lead, &first.short_id, None)
        .await
        .unwrap();
    assert_eq!(submitted.submitted_on, Some(lead.today()));
    assert_eq!(submitted.submitted_by.as_deref(), Some("lead"));

    // Both reminders fall due; the daemon runs them and the mailer delivers over SMTP.
    make_everything_due(&conn).await;
    let server = outreach_testkit::smtp::SmtpServer::start().await;
    let settings = MailSettings {
        transport: "smtp".into(),
        smtp_host: "127.0.0.1".into(),
        smtp_port: server.port(),
        smtp_security: "none".into(),
        message_id_domain: "mail.outreach.test".into(),
        ..MailSettings::default()
    };
    let mailer =
        outreach_mailer::Mailer::from_settings(&settings, std::path::Path::new(".")).unwrap();
    let pass = outreach_scheduler::service::run_once(&conn, &daemon, &mailer)
        .await
        .unwrap();
    assert_eq!((pass.jobs_run, pass.emails_processed), (2, 1), "{pass:?}");
    let received = server.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].rcpt_to, ["asha@example.org"]);
    let mails = outbox::Entity::find().all(&conn).await.unwrap();
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert!(
        mails[0]
            .idempotency_key
            .contains(&detail.reports[1].id.to_string()),
        "the email is the unsubmitted report's: {}",
        mails[0].idempotency_key
    );

    // The submitted report's job says why nothing was sent, in the ledger too.
    let jobs_now = job::Entity::find()
        .filter(job::Column::Kind.eq("grant_report_due"))
        .all(&conn)
        .await
        .unwrap();
    let skipped: Vec<&job::Model> = jobs_now.iter().filter(|j| j.status == "skipped").collect();
    assert_eq!(skipped.len(), 1, "{jobs_now:#?}");
    assert!(skipped[0].payload.contains(&first.id.to_string()));
    assert_eq!(
        skipped[0].last_error.as_deref(),
        Some(jobs::REPORT_SUBMITTED)
    );
    assert_eq!(
        jobs_now.iter().filter(|j| j.status == "done").count(),
        1,
        "{jobs_now:#?}"
    );
    let ledger = outreach_scheduler::ledger::for_subject(&conn, "grant", &g.id.to_string())
        .await
        .unwrap();
    assert!(
        ledger
            .iter()
            .any(|l| l.state == "skipped" && l.reason.as_deref() == Some(jobs::REPORT_SUBMITTED)),
        "{ledger:#?}"
    );

    // Sweeping again plans nothing new, and nothing more reaches the server.
    jobs::enqueue(&conn, sweep(1)).await.unwrap();
    make_everything_due(&conn).await;
    let again = outreach_scheduler::service::run_once(&conn, &daemon, &mailer)
        .await
        .unwrap();
    assert_eq!(
        (again.jobs_run, again.emails_processed),
        (1, 0),
        "{again:?}"
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(server.received().len(), 1);
}
db_test!(
    grant_report_submitted,
    a_submitted_grant_reports_reminder_is_not_sent_and_its_job_says_why
);
