//! The directory at size: importing 10,000 contacts from a CSV file, and scheduling a meeting
//! with 100 participants (its reminders planned in the same transaction), each beside a raw
//! insert baseline measured in the same run on the same database:
//!
//! - *import*: `directory::import_contacts` on a file of 10,000 contacts (an organisation and a
//!   state by name on each row, half with an email address), into a database that already holds
//!   10,000 contacts (target <= 5 s). Baseline: 10,000 single-row inserts into a scratch table
//!   of the same shape in one transaction.
//! - *meeting*: `planner::schedule_meeting` with 100 contacts given by email, median and max of
//!   20 meetings (target <= 100 ms). Baseline: one transaction of 100 single-row inserts.
//!
//! Run with `cargo bench -p outreach-cli --bench directory`; `BENCH_BACKENDS=sqlite` (or
//! `postgresql`) for one database. PostgreSQL is the server at `OUTREACH_TEST_PG_URL`.
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::expect_used)]

use std::time::Instant;

use outreach_core::domain::IanaZone;
use outreach_core::{Actor, directory};
use outreach_testkit::{Backend, TestDb};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, TransactionTrait};

const CONTACTS: usize = 10_000;
const PARTICIPANTS: usize = 100;
const MEETINGS: usize = 20;

fn csv(rows: usize, from: usize, orgs: usize) -> String {
    let mut out = String::from("name,title,organisation,state,email,languages,time_zone\n");
    for i in from..from + rows {
        let email = if i % 2 == 0 {
            format!("person{i}@example.org")
        } else {
            String::new()
        };
        out.push_str(&format!(
            "Person {i},Adviser,Bench organisation {},Nepal,{email},en,Asia/Kathmandu\n",
            i % orgs
        ));
    }
    out
}

/// Seconds for `n` single-row inserts into a scratch table in one transaction.
async fn raw_inserts(conn: &DatabaseConnection, n: usize) -> f64 {
    let backend = conn.get_database_backend();
    conn.execute_unprepared(
        "CREATE TABLE IF NOT EXISTS bench_rows (id TEXT PRIMARY KEY, name TEXT NOT NULL, \
         email TEXT, organisation TEXT, iso3 TEXT, created_at TEXT NOT NULL)",
    )
    .await
    .unwrap();
    let sql = match backend {
        DbBackend::Postgres => {
            "INSERT INTO bench_rows (id, name, email, organisation, iso3, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)"
        }
        _ => {
            "INSERT INTO bench_rows (id, name, email, organisation, iso3, created_at) \
             VALUES (?, ?, ?, ?, ?, ?)"
        }
    };
    let start = Instant::now();
    let tx = conn.begin().await.unwrap();
    for i in 0..n {
        tx.execute_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [
                uuid::Uuid::now_v7().to_string().into(),
                format!("Row {i}").into(),
                format!("row{i}@example.org").into(),
                "Bench organisation".into(),
                "NPL".into(),
                chrono::Utc::now().to_rfc3339().into(),
            ],
        ))
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    start.elapsed().as_secs_f64()
}

async fn bench(backend: Backend) {
    println!("\n{backend:?}");
    let db = TestDb::new(backend).await;
    let conn = outreach_core::db::open(&db.url, "bench").await.unwrap();
    let ada = Actor::new("ada", IanaZone::UTC).unwrap();
    let orgs = 50;
    let mut org_file = String::from("name,kind,state\n");
    for o in 0..orgs {
        org_file.push_str(&format!("Bench organisation {o},ngo,Nepal\n"));
    }
    let org_path = db.dir.path().join("orgs.csv");
    std::fs::write(&org_path, org_file).unwrap();
    directory::import_organisations(&conn, &ada, &org_path)
        .await
        .unwrap();

    // A directory that already holds 10,000 contacts, then the import.
    let first = db.dir.path().join("first.csv");
    std::fs::write(&first, csv(CONTACTS, 0, orgs)).unwrap();
    directory::import_contacts(&conn, &ada, &first)
        .await
        .unwrap();
    let second = db.dir.path().join("second.csv");
    std::fs::write(&second, csv(CONTACTS, CONTACTS, orgs)).unwrap();
    let start = Instant::now();
    let report = directory::import_contacts(&conn, &ada, &second)
        .await
        .unwrap();
    let import = start.elapsed().as_secs_f64();
    let base = raw_inserts(&conn, CONTACTS).await;
    println!(
        "  import of {CONTACTS} contacts ({} imported) beside {CONTACTS} already stored: {import:.2} s (target <= 5 s)",
        report.imported
    );
    println!(
        "    baseline: {CONTACTS} raw single-row inserts in one transaction {base:.3} s; import / baseline {:.1} x",
        import / base
    );

    // Meetings with 100 participants, given by email.
    let wf = outreach_scheduler::Workflows::builtin().unwrap();
    let with: Vec<String> = (0..PARTICIPANTS)
        .map(|i| format!("person{}@example.org", 2 * i))
        .collect();
    let day = (chrono::Utc::now() + chrono::Duration::days(30)).format("%Y-%m-%d");
    let mut took = Vec::new();
    let mut jobs = 0;
    for i in 0..MEETINGS {
        let input = outreach_core::meetings::MeetingInput {
            state: "NPL".into(),
            title: format!("Consultation {i}"),
            at: format!("{day} {:02}:00", 8 + i % 10),
            tz: Some("Asia/Kathmandu".into()),
            with: with.clone(),
            ..Default::default()
        };
        let start = Instant::now();
        let (_, report) = outreach_scheduler::planner::schedule_meeting(&conn, &wf, &ada, &input)
            .await
            .unwrap();
        took.push(start.elapsed().as_secs_f64() * 1000.0);
        jobs = report.planned;
    }
    took.sort_by(f64::total_cmp);
    let mut base: Vec<f64> = Vec::new();
    for _ in 0..MEETINGS {
        base.push(raw_inserts(&conn, PARTICIPANTS).await * 1000.0);
    }
    base.sort_by(f64::total_cmp);
    let median = took[took.len() / 2];
    let base_median = base[base.len() / 2];
    println!(
        "  schedule a meeting with {PARTICIPANTS} participants ({jobs} reminders planned): median {median:.1} ms, max {:.1} ms (target <= 100 ms)",
        took[took.len() - 1]
    );
    println!(
        "    baseline: {PARTICIPANTS} raw single-row inserts in one transaction, median {base_median:.2} ms; meeting / baseline {:.1} x",
        median / base_median
    );
    conn.close().await.ok();
    db.cleanup().await;
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let wanted = std::env::var("BENCH_BACKENDS").unwrap_or_else(|_| "sqlite,postgresql".into());
    for b in wanted.split(',') {
        match b.trim() {
            "sqlite" => bench(Backend::Sqlite).await,
            "postgresql" | "postgres" => bench(Backend::Postgres).await,
            other => println!("unknown backend {other}; use sqlite or postgresql"),
        }
    }
}
