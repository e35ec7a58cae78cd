//! Delivery throughput: messages per second from the outbox to a real SMTP server on loopback
//! (the test kit's), with pooled connections and with one connection per message, and the share
//! of the time spent rendering. Run with `cargo bench -p outreach-mailer --bench delivery`;
//! `BENCH_MESSAGES` sets the count (default 400), `BENCH_PG=1` adds a PostgreSQL run.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::Utc;
use outreach_core::config::MailSettings;
use outreach_core::domain::EmailAddress;
use outreach_core::outbox::{NewEmail, enqueue};
use outreach_mailer::context::MeetingReminder;
use outreach_mailer::{EmailContext, Mailer, Templates, Transport, deliver_once};
use outreach_testkit::smtp::SmtpServer;
use outreach_testkit::{Backend, TestDb};
use sea_orm::{DatabaseConnection, EntityTrait};

fn settings(port: u16, pool: u32) -> MailSettings {
    MailSettings {
        transport: "smtp".into(),
        smtp_host: "127.0.0.1".into(),
        smtp_port: port,
        smtp_pool_size: pool,
        batch_size: 32,
        // Connections are used in parallel up to the pool size; the batch bounds them too.
        message_id_domain: "bench.outreach.test".into(),
        ..MailSettings::default()
    }
}

fn reminder(i: usize) -> MeetingReminder {
    let mut ctx = MeetingReminder::sample();
    ctx.recipient.email = format!("r{i}@example.org");
    ctx.recipient.language = ["en", "fr", "es"][i % 3].into();
    ctx.recipient.time_zone = ["Europe/Paris", "America/Bogota", "Asia/Kathmandu"][i % 3].into();
    ctx
}

async fn fill(db: &DatabaseConnection, run: &str, n: usize) {
    for i in 0..n {
        let ctx = reminder(i);
        enqueue(
            db,
            NewEmail {
                idempotency_key: format!("bench:{run}:{i}"),
                recipient: EmailAddress::parse("to", &ctx.recipient.email).unwrap(),
                recipient_name: Some(ctx.recipient.name.clone()),
                template: MeetingReminder::TEMPLATE.into(),
                language: ctx.recipient.language.clone(),
                context: serde_json::to_value(&ctx).unwrap(),
                send_at: Utc::now(),
                subject: None,
                job_id: None,
            },
        )
        .await
        .unwrap();
    }
}

struct Run {
    label: String,
    elapsed: Duration,
    connections: usize,
}

async fn deliver(db: &DatabaseConnection, label: &str, pool: u32, n: usize) -> Run {
    let smtp = SmtpServer::start().await;
    let s = settings(smtp.port(), pool);
    let transport = Transport::from_settings(&s, Path::new(".")).unwrap();
    let mailer = Mailer::new(&s, Templates::embedded().unwrap(), transport).unwrap();
    fill(db, label, n).await;
    let start = Instant::now();
    while deliver_once(db, &mailer).await.unwrap() > 0 {}
    let elapsed = start.elapsed();
    assert_eq!(smtp.wait_for(n, Duration::from_secs(30)).await.len(), n);
    Run {
        label: label.to_owned(),
        elapsed,
        connections: smtp.connections(),
    }
}

/// Rendering and building the MIME message, as the delivery loop does for each row.
async fn render(db: &DatabaseConnection, n: usize) -> Duration {
    let mut s = settings(25, 1);
    s.transport = "file".into();
    let mailer = Mailer::new(
        &s,
        Templates::embedded().unwrap(),
        Transport::from_settings(&s, Path::new(".")).unwrap(),
    )
    .unwrap();
    let rows = outreach_core::entities::outbox::Entity::find()
        .all(db)
        .await
        .unwrap();
    let rows: Vec<_> = rows.into_iter().take(n).collect();
    let start = Instant::now();
    for row in &rows {
        let rendered = mailer.render(row).unwrap();
        let message = mailer.message(row, &rendered).unwrap();
        std::hint::black_box(message.formatted());
    }
    start.elapsed().mul_f64(n as f64 / rows.len() as f64)
}

fn rate(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n: usize = std::env::var("BENCH_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(400);
    let mut backends = vec![Backend::Sqlite];
    if std::env::var("BENCH_PG").is_ok_and(|v| v == "1") {
        backends.push(Backend::Postgres);
    }
    println!(
        "Delivering {n} meeting reminders (text, HTML and .ics; en/fr/es) to a local SMTP server"
    );
    for backend in backends {
        let tdb = TestDb::new(backend).await;
        let db = outreach_core::db::open(&tdb.url, "bench").await.unwrap();
        let runs = vec![
            deliver(&db, "pooled (16 connections)", 16, n).await,
            deliver(&db, "pooled (4 connections)", 4, n).await,
            deliver(&db, "pooled (1 connection)", 1, n).await,
            deliver(&db, "one connection per message", 0, n).await,
        ];
        let rendering = render(&db, n).await;
        println!("\n{backend:?}:");
        for r in &runs {
            println!(
                "  {:<28} {:>8.0} messages/s  ({:>6.0} ms, {} SMTP connections; rendering {:>4.1}% of the time)",
                r.label,
                rate(n, r.elapsed),
                r.elapsed.as_secs_f64() * 1000.0,
                r.connections,
                100.0 * rendering.as_secs_f64() / r.elapsed.as_secs_f64()
            );
        }
        println!(
            "  {:<28} {:>8.0} messages/s  ({:>6.0} ms; render + MIME build only)",
            "rendering alone",
            rate(n, rendering),
            rendering.as_secs_f64() * 1000.0
        );
        db.close().await.ok();
        tdb.cleanup().await;
    }
}
