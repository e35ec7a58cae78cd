//! Letter drafting throughput for a batch of 1,000: drafts rendered per second in memory (the
//! merge context built from a records snapshot, then subject and body rendered, languages in
//! turn), and drafts written per second by `batch` (render, letter row, version row and audit
//! record for each, in one transaction) on SQLite and PostgreSQL.
//!
//! Run with `cargo bench -p outreach-letters --bench drafts`; `BENCH_LETTERS` sets the count
//! (default 1,000), `BENCH_PG=0` leaves PostgreSQL out.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::time::Instant;

use chrono::Utc;
use outreach_core::domain::IanaZone;
use outreach_core::entities::{contact, organisation};
use outreach_core::{Actor, db, demo};
use outreach_letters::LetterSettings;
use outreach_letters::LetterTemplates;
use outreach_letters::batch::{self, Audience};
use outreach_letters::context::Sender;
use outreach_letters::drafts::Letters;
use outreach_letters::merge::{self, Records, To};
use outreach_mailer::locale::Lang;
use outreach_testkit::{Backend, TestDb};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

fn letters() -> Letters {
    Letters {
        templates: LetterTemplates::embedded().unwrap(),
        settings: LetterSettings::default(),
        treaty: "APMBC".into(),
    }
}

async fn run(backend: Backend, n: usize) -> (f64, f64) {
    let tdb = TestDb::new(backend).await;
    let conn = db::open(&tdb.url, "bench").await.unwrap();
    let actor = Actor::new("bench", IanaZone::parse("tz", "UTC").unwrap()).unwrap();
    demo::load(&conn, &actor).await.unwrap();
    let embassy = organisation::Entity::find()
        .filter(organisation::Column::Kind.eq("embassy"))
        .filter(organisation::Column::Iso3.eq("NPL"))
        .one(&conn)
        .await
        .unwrap()
        .unwrap();
    // n diplomats at the embassy in Kathmandu: the joint-approach audience `embassies-in:NPL`
    // (the demo's own contact there makes n + 1; it is removed from the figures below).
    let tx = outreach_core::db::begin(&conn).await.unwrap();
    for i in 0..n {
        contact::ActiveModel {
            id: Set(Uuid::now_v7()),
            name: Set(format!("Diplomat {i} Bench")),
            title: Set(Some(["Ms", "Mr", "Ambassador"][i % 3].into())),
            role: Set(Some("Counsellor".into())),
            organisation_id: Set(Some(embassy.id)),
            iso3: Set(None),
            email: Set(Some(format!("d{i}@embassy-bench.example.org"))),
            languages: Set(["en", "fr", "es"][i % 3].into()),
            time_zone: Set(None),
            phone: Set(None),
            notes: Set(None),
            created_at: Set(Utc::now()),
        }
        .insert(&tx)
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    let l = letters();
    let info = l.templates.get("joint_approach").unwrap().clone();

    // In memory: context and rendering only.
    let records = Records::load(&conn, "APMBC", actor.today()).await.unwrap();
    let sender = Sender {
        name: "Bench".into(),
        title: "Officer".into(),
        organisation: "Campaign".into(),
        place: "Geneva".into(),
        email: "outreach@example.org".into(),
    };
    let targets: Vec<To> = records
        .contacts_at("embassy", "NPL")
        .into_iter()
        .take(n)
        .map(|c| To::contact(&records, c))
        .collect();
    let started = Instant::now();
    let mut bytes = 0;
    for (i, to) in targets.iter().enumerate() {
        let lang = [Lang::En, Lang::Fr, Lang::Es][i % 3];
        let mut ctx = merge::build(
            &records,
            &info.name,
            "NPL",
            Some(to),
            lang,
            &sender,
            &info.required,
        )
        .unwrap();
        let (subject, body) = l
            .templates
            .render(&info.name, lang.code(), &mut ctx)
            .unwrap();
        bytes += subject.len() + body.len();
    }
    let rendered = targets.len() as f64 / started.elapsed().as_secs_f64();
    assert!(bytes > targets.len() * 1000, "letters were rendered");

    // Through the database: the real batch command.
    let started = Instant::now();
    let report = batch::batch(
        &conn,
        &actor,
        &l,
        "joint_approach",
        &Audience::EmbassiesIn("NPL".into()),
        None,
        &mut |_, _| {},
    )
    .await
    .unwrap();
    let elapsed = started.elapsed().as_secs_f64();
    assert_eq!(report.drafted.len(), n + 1);
    let written = report.drafted.len() as f64 / elapsed;
    tdb.cleanup().await;
    (rendered, written)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n: usize = std::env::var("BENCH_LETTERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let mut backends = vec![("SQLite", Backend::Sqlite)];
    if std::env::var("BENCH_PG").map_or(true, |v| v != "0") {
        backends.push(("PostgreSQL", Backend::Postgres));
    }
    println!("letters: joint_approach for {n} recipients (en, fr, es in turn)");
    for (name, backend) in backends {
        let (rendered, written) = run(backend, n).await;
        println!(
            "{name:>10}: rendered in memory {rendered:>8.0} drafts/s; batch written {written:>7.0} drafts/s ({:.2} x in-memory)",
            written / rendered
        );
    }
}
