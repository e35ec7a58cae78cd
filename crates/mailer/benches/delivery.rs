//! Delivery throughput: messages per second from the outbox to a real SMTP server on loopback,
//! through the daemon's delivery loop (`outreach_mailer::run`) with the shipped mail settings,
//! beside the same server's ceiling measured in the same run by a minimal SMTP client (one
//! message after another on open connections, each write whole, `TCP_NODELAY`), and the time
//! spent rendering.
//!
//! Run with `cargo bench -p outreach-mailer --bench delivery`. The server is Postfix's
//! `smtp-sink` when it is installed (`apt-get install postfix`; it is looked for in /usr/sbin and
//! on the PATH), else the test kit's SMTP server. Both databases run: SQLite in a temporary file
//! and PostgreSQL at `OUTREACH_TEST_PG_URL` (`BENCH_BACKENDS=sqlite` for one). `BENCH_MESSAGES`
//! sets the count (default 2,000).
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use outreach_core::domain::EmailAddress;
use outreach_mailer::MailSettings;
use outreach_mailer::context::MeetingReminder;
use outreach_mailer::entities::outbox;
use outreach_mailer::outbox::{NewEmail, enqueue, status};
use outreach_mailer::{EmailContext, Mailer, Templates, Transport};
use outreach_testkit::smtp::{SmtpServer, free_port};
use outreach_testkit::{Backend, TestDb};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// The shipped mail settings (pool of 4, batches of 16), pointed at the server.
fn settings(port: u16) -> MailSettings {
    MailSettings {
        transport: "smtp".into(),
        smtp_host: "127.0.0.1".into(),
        smtp_port: port,
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

/// The SMTP server the figures are measured against.
enum Server {
    Sink(Child, u16),
    Testkit(SmtpServer),
}

impl Server {
    async fn start() -> Self {
        let sink = ["/usr/sbin/smtp-sink", "/usr/lib/postfix/sbin/smtp-sink"]
            .iter()
            .map(PathBuf::from)
            .find(|p| p.exists())
            .or_else(|| {
                std::env::var_os("PATH").and_then(|paths| {
                    std::env::split_paths(&paths)
                        .map(|d| d.join("smtp-sink"))
                        .find(|p| p.exists())
                })
            });
        if let Some(sink) = sink {
            let port = free_port();
            let mut cmd = Command::new(&sink);
            // As root smtp-sink drops to a user of its own; postfix's is there when it is.
            if is_root() {
                cmd.args(["-u", "postfix"]);
            }
            let child = cmd
                .arg(format!("127.0.0.1:{port}"))
                .arg("1000")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start smtp-sink");
            // Owned at once, so a failure below still stops it (see Drop).
            let server = Self::Sink(child, port);
            for _ in 0..100 {
                if TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                    return server;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            panic!("smtp-sink did not listen on {port}");
        }
        Self::Testkit(SmtpServer::start().await)
    }

    fn port(&self) -> u16 {
        match self {
            Self::Sink(_, port) => *port,
            Self::Testkit(s) => s.port(),
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Self::Sink(..) => "Postfix smtp-sink",
            Self::Testkit(_) => "the test kit's SMTP server (install postfix for smtp-sink)",
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Self::Sink(child, _) = self {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

/// Reads one SMTP reply (all its lines) and checks its code class.
async fn expect(reader: &mut BufReader<TcpStream>, class: u8) {
    let mut line = String::new();
    loop {
        line.clear();
        assert!(
            reader.read_line(&mut line).await.unwrap() > 0,
            "server closed"
        );
        if line.as_bytes().get(3) != Some(&b'-') {
            break;
        }
    }
    assert_eq!(line.as_bytes()[0], class, "unexpected reply {line}");
}

/// The ceiling: a minimal client sends `n` copies of `message` over `connections` connections
/// in parallel, one message after another on each, every command written whole.
async fn ceiling(port: u16, message: Arc<Vec<u8>>, n: usize, connections: usize) -> Duration {
    let start = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..connections {
        let message = Arc::clone(&message);
        let share = n / connections + usize::from(c < n % connections);
        tasks.push(tokio::spawn(async move {
            let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
            tcp.set_nodelay(true).unwrap();
            let mut io = BufReader::new(tcp);
            expect(&mut io, b'2').await;
            io.get_mut().write_all(b"EHLO bench\r\n").await.unwrap();
            expect(&mut io, b'2').await;
            for i in 0..share {
                io.get_mut()
                    .write_all(b"MAIL FROM:<outreach@example.org>\r\n")
                    .await
                    .unwrap();
                expect(&mut io, b'2').await;
                let rcpt = format!("RCPT TO:<c{c}m{i}@example.org>\r\n");
                io.get_mut().write_all(rcpt.as_bytes()).await.unwrap();
                expect(&mut io, b'2').await;
                io.get_mut().write_all(b"DATA\r\n").await.unwrap();
                expect(&mut io, b'3').await;
                io.get_mut().write_all(&message).await.unwrap();
                expect(&mut io, b'2').await;
            }
            io.get_mut().write_all(b"QUIT\r\n").await.unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    start.elapsed()
}

/// One formatted reminder, dot-stuffed and terminated, as it goes on the wire after DATA.
async fn wire_message(db: &DatabaseConnection, mailer: &Mailer) -> Vec<u8> {
    let row = outbox::Entity::find().one(db).await.unwrap().unwrap();
    let rendered = mailer.render(&row).unwrap();
    let formatted = mailer.message(&row, &rendered).unwrap().formatted();
    let text = String::from_utf8(formatted).unwrap();
    let mut wire = text.replace("\r\n.", "\r\n..");
    if !wire.ends_with("\r\n") {
        wire.push_str("\r\n");
    }
    wire.push_str(".\r\n");
    wire.into_bytes()
}

async fn sent(db: &DatabaseConnection) -> u64 {
    outbox::Entity::find()
        .filter(outbox::Column::Status.eq(status::SENT))
        .count(db)
        .await
        .unwrap()
}

/// The daemon's delivery loop drains `n` queued reminders; the time until the last outcome is
/// committed.
async fn through_the_loop(db: &DatabaseConnection, mailer: Arc<Mailer>, n: usize) -> Duration {
    let before = sent(db).await;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (loop_db, loop_mailer) = (db.clone(), Arc::clone(&mailer));
    let start = Instant::now();
    let daemon = tokio::spawn(async move {
        outreach_mailer::run(&loop_db, &loop_mailer, async {
            let _ = stopped.await;
        })
        .await
    });
    while sent(db).await < before + n as u64 {
        assert!(start.elapsed() < Duration::from_secs(600), "not drained");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let elapsed = start.elapsed();
    stop.send(()).unwrap();
    daemon.await.unwrap().unwrap();
    elapsed
}

/// Rendering and building the MIME message, as the delivery loop does for each row.
async fn render(db: &DatabaseConnection, mailer: &Mailer, n: usize) -> Duration {
    let rows = outbox::Entity::find().all(db).await.unwrap();
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
        .unwrap_or(2000);
    let wanted = std::env::var("BENCH_BACKENDS").unwrap_or_else(|_| "sqlite,postgresql".into());
    let backends: Vec<Backend> = wanted
        .split(',')
        .filter_map(|b| match b.trim() {
            "sqlite" => Some(Backend::Sqlite),
            "postgresql" | "postgres" => Some(Backend::Postgres),
            _ => None,
        })
        .collect();
    let server = Server::start().await;
    let defaults = MailSettings::default();
    println!(
        "{n} meeting reminders (text, HTML and .ics; en/fr/es) to {} on 127.0.0.1:{}",
        server.name(),
        server.port()
    );
    println!(
        "shipped settings: smtp_pool_size = {}, batch_size = {}",
        defaults.smtp_pool_size, defaults.batch_size
    );
    for backend in backends {
        let tdb = TestDb::new(backend).await;
        let db = outreach_core::db::open(&tdb.url, "bench").await.unwrap();
        let s = settings(server.port());
        let mailer = Arc::new(
            Mailer::new(
                &s,
                Templates::embedded().unwrap(),
                Transport::from_settings(&s, Path::new(".")).unwrap(),
            )
            .unwrap(),
        );
        fill(&db, "warm", 50).await;
        through_the_loop(&db, Arc::clone(&mailer), 50).await;
        fill(&db, "run", n).await;
        let message = Arc::new(wire_message(&db, &mailer).await);
        let pool = defaults.smtp_pool_size.max(1) as usize;
        let ceiling_pool = ceiling(server.port(), Arc::clone(&message), n, pool).await;
        let ceiling_one = ceiling(server.port(), Arc::clone(&message), n, 1).await;
        let looped = through_the_loop(&db, Arc::clone(&mailer), n).await;
        let rendering = render(&db, &mailer, n).await;
        let (ours, top) = (rate(n, looped), rate(n, ceiling_pool));
        println!("\n{backend:?} ({} bytes a message):", message.len());
        println!(
            "  ceiling, minimal client, {pool} connections  {:>8.0} messages/s",
            top
        );
        println!(
            "  ceiling, minimal client, 1 connection   {:>8.0} messages/s",
            rate(n, ceiling_one)
        );
        println!(
            "  outbox to server, the delivery loop     {:>8.0} messages/s  ({:.2} x the {pool}-connection ceiling; {:.0} ms for {n}, last outcome committed)",
            ours,
            ours / top,
            looped.as_secs_f64() * 1000.0
        );
        println!(
            "  rendering alone (render + MIME build)   {:>8.0} messages/s  ({:.0} % of the loop's time)",
            rate(n, rendering),
            100.0 * rendering.as_secs_f64() / looped.as_secs_f64()
        );
        db.close().await.ok();
        tdb.cleanup().await;
    }
}
