//! Web app benchmark, on SQLite and on PostgreSQL: requests per second and latency (p50, p99, max)
//! of the dashboard (`/`) and a state page (`/states/NPL`) with 100,000 engagements in the
//! database, measured by a load generator on loopback, each route beside `/healthz` on the same
//! server in the same run (the baseline: the HTTP stack, no session, no database).
//!
//! Per database: a fresh database (a SQLite file in a temporary folder, or a new database on the
//! PostgreSQL server at OUTREACH_TEST_PG_URL) gets the schema and the reference data; 100,000
//! engagements with participants are inserted in batches, spread over the states not party to
//! the default treaty (a fifth of them for Nepal, two fifths for five more states, the rest over
//! all others); the app runs in-process on 127.0.0.1:0; each of N clients signs in through the
//! real form and then requests one route after another for a fixed time. Any answer but 200 stops
//! the bench.
//!
//! Run: `cargo bench -p outreach-web --bench web` (add `sqlite` or `postgresql` after `--` for
//! one database). Environment: OUTREACH_BENCH_ENGAGEMENTS (default 100000), OUTREACH_BENCH_SECONDS
//! per route (default 10), OUTREACH_BENCH_CLIENTS (default 8), OUTREACH_BENCH_ROUTES (default
//! `/,/states/NPL`; `/healthz` is always measured first).

#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{Days, NaiveDate, Utc};
use outreach_core::Actor;
use outreach_core::actor::{UserInput, upsert_user};
use outreach_core::domain::IanaZone;
use outreach_core::entities::{contact, engagement, engagement_participant, user};
use outreach_core::status::StatusFilter;
use outreach_testkit::{Backend, TestDb};
use outreach_web::{AppState, bind, set_password};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait,
    PaginatorTrait, QueryFilter,
};
use uuid::Uuid;

const HANDLE: &str = "bench";
const PASSWORD: &str = "correct horse battery";
const KINDS: [&str; 6] = [
    "embassy_visit",
    "capital_meeting",
    "statement",
    "letter",
    "call",
    "observer_attendance",
];
const STANCES: [&str; 5] = ["supportive", "open", "neutral", "reluctant", "opposed"];

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace(['_', ','], "").parse().ok())
        .unwrap_or(default)
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn settings() -> outreach_core::config::Settings {
    let dir = tempfile::tempdir().unwrap();
    outreach_core::config::Settings::load_from(dir.path(), "bench", false).unwrap()
}

/// Which state the `i`th engagement is with: 20 % Nepal, 8 % each for five more states, the
/// remaining 40 % round-robin over every state not party.
fn state_for<'a>(i: usize, npl: &'a str, busy: &'a [String], all: &'a [String]) -> &'a str {
    match i % 100 {
        0..20 => npl,
        x @ 20..60 => &busy[(x - 20) / 8],
        x => &all[(i / 100 * 40 + x - 60) % all.len()],
    }
}

/// The bench account, one contact per state not party, and `n` engagements with participants
/// (the account on each; a contact of the state on every other one). Returns the state codes
/// and how many engagements Nepal got.
async fn seed(conn: &DatabaseConnection, treaty: &str, n: usize) -> (Vec<String>, usize) {
    let admin = Actor::new("admin", IanaZone::UTC).unwrap();
    upsert_user(
        conn,
        &admin,
        &UserInput {
            handle: HANDLE.into(),
            role: Some("coordinator".into()),
            email: Some("bench@example.org".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    set_password(conn, &admin, HANDLE, PASSWORD).await.unwrap();
    let me = user::Entity::find()
        .filter(user::Column::Handle.eq(HANDLE))
        .one(conn)
        .await
        .unwrap()
        .unwrap();

    let today = Utc::now().date_naive();
    let outside: Vec<String> =
        outreach_core::states::by_status(conn, treaty, StatusFilter::NotParty, today)
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.iso3)
            .collect();
    assert!(
        outside.iter().any(|s| s == "NPL"),
        "Nepal is expected among the states not party to {treaty}"
    );
    assert!(outside.len() > 6, "too few states not party: {outside:?}");
    let busy: Vec<String> = outside
        .iter()
        .filter(|s| *s != "NPL")
        .take(5)
        .cloned()
        .collect();

    let now = Utc::now();
    let contacts: Vec<contact::ActiveModel> = outside
        .iter()
        .map(|iso3| contact::ActiveModel {
            id: Set(Uuid::now_v7()),
            name: Set(format!("Desk officer {iso3}")),
            title: Set(Some("Ambassador".into())),
            role: Set(None),
            organisation_id: Set(None),
            iso3: Set(Some(iso3.clone())),
            email: Set(Some(format!("desk.{}@example.org", iso3.to_lowercase()))),
            languages: Set("en".into()),
            time_zone: Set(None),
            phone: Set(None),
            notes: Set(None),
            created_at: Set(now),
        })
        .collect();
    let contact_of: std::collections::HashMap<String, Uuid> = contacts
        .iter()
        .map(|c| (c.iso3.clone().unwrap().unwrap(), c.id.clone().unwrap()))
        .collect();
    contact::Entity::insert_many(contacts)
        .exec(conn)
        .await
        .unwrap();

    let start = Instant::now();
    let mut nepal = 0;
    let batch = 1000;
    let mut i = 0;
    while i < n {
        let end = (i + batch).min(n);
        let mut engagements = Vec::with_capacity(end - i);
        let mut participants = Vec::with_capacity(2 * (end - i));
        for k in i..end {
            let iso3 = state_for(k, "NPL", &busy, &outside);
            if iso3 == "NPL" {
                nepal += 1;
            }
            let id = Uuid::now_v7();
            // Spread over the last five years, so every state's newest engagement is recent.
            let date: NaiveDate = today - Days::new(((k * 7919) % 1826) as u64);
            engagements.push(engagement::ActiveModel {
                id: Set(id),
                iso3: Set(iso3.to_owned()),
                kind: Set(KINDS[k % KINDS.len()].into()),
                occurred_on: Set(date),
                summary: Set(format!(
                    "Met the desk officer about the treaty; engagement {k} of the benchmark."
                )),
                outcome: Set((k % 3 == 0).then(|| "Will report to the capital.".to_owned())),
                stance: Set((k % 2 == 0).then(|| STANCES[k % STANCES.len()].to_owned())),
                meeting_id: Set(None),
                created_by: Set(HANDLE.into()),
                created_at: Set(now),
                sensitivity: Set("internal".into()),
                deliverable_id: Set(None),
            });
            participants.push(engagement_participant::ActiveModel {
                id: Set(Uuid::now_v7()),
                engagement_id: Set(id),
                contact_id: Set(None),
                user_id: Set(Some(me.id)),
            });
            if k % 2 == 1 {
                participants.push(engagement_participant::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    engagement_id: Set(id),
                    contact_id: Set(Some(contact_of[iso3])),
                    user_id: Set(None),
                });
            }
        }
        let tx = outreach_core::db::begin(conn).await.unwrap();
        engagement::Entity::insert_many(engagements)
            .exec(&tx)
            .await
            .unwrap();
        engagement_participant::Entity::insert_many(participants)
            .exec(&tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        i = end;
    }
    if conn.get_database_backend() == DbBackend::Postgres {
        // What autovacuum would have done by the time a real database held this many rows.
        conn.execute_unprepared("ANALYZE").await.unwrap();
    }
    let stored = engagement::Entity::find().count(conn).await.unwrap() as usize;
    assert_eq!(stored, n, "engagements stored");
    println!(
        "  seeded {n} engagements ({nepal} for NPL, 8% each for {}) in {:.1} s",
        busy.join(", "),
        start.elapsed().as_secs_f64()
    );
    (outside, nepal)
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(1)
        .build()
        .unwrap()
}

/// A client signed in through the real form: GET /login for the CSRF field and its cookie, then
/// POST /login.
async fn signed_in(base: &str) -> reqwest::Client {
    let c = client();
    let page = c
        .get(format!("{base}/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let marker = "name=\"csrf\" value=\"";
    let at = page
        .find(marker)
        .expect("the sign-in form has a csrf field")
        + marker.len();
    let end = at + page[at..].find('"').unwrap();
    let csrf = &page[at..end];
    let res = c
        .post(format!("{base}/login"))
        .form(&[("handle", HANDLE), ("password", PASSWORD), ("csrf", csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        reqwest::StatusCode::SEE_OTHER,
        "signing in through the form"
    );
    c
}

/// One request; panics on anything but 200. Returns the latency in ms and the body size.
async fn fetch(c: &reqwest::Client, url: &str) -> (f64, usize) {
    let start = Instant::now();
    let res = c
        .get(url)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = res.status();
    let body = res.bytes().await.unwrap();
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    if status != reqwest::StatusCode::OK {
        let text = String::from_utf8_lossy(&body);
        panic!(
            "GET {url} answered {status}, not 200: {}",
            text.chars().take(300).collect::<String>()
        );
    }
    (ms, body.len())
}

#[derive(Debug, Clone, Copy)]
struct Figures {
    requests: usize,
    rps: f64,
    p50: f64,
    p99: f64,
    max: f64,
    bytes: usize,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

/// `clients` concurrent clients request `url` one request after another for `seconds` (after a
/// short warm-up that is not counted).
async fn load(clients: &[reqwest::Client], url: &str, seconds: f64) -> Figures {
    for c in clients {
        fetch(c, url).await;
    }
    let start = Instant::now();
    let until = start + Duration::from_secs_f64(seconds);
    let mut tasks = Vec::new();
    for c in clients {
        let c = c.clone();
        let url = url.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut times = Vec::new();
            let mut bytes = 0;
            while Instant::now() < until {
                let (ms, size) = fetch(&c, &url).await;
                times.push(ms);
                bytes = size;
            }
            (times, bytes)
        }));
    }
    let mut times = Vec::new();
    let mut bytes = 0;
    for t in tasks {
        let (mut v, b) = t.await.unwrap();
        times.append(&mut v);
        bytes = b;
    }
    let elapsed = start.elapsed().as_secs_f64();
    times.sort_by(f64::total_cmp);
    Figures {
        requests: times.len(),
        rps: times.len() as f64 / elapsed,
        p50: percentile(&times, 0.5),
        p99: percentile(&times, 0.99),
        max: *times.last().unwrap(),
        bytes,
    }
}

/// The median of five timed calls of `f`, in milliseconds; every call must succeed.
async fn median_ms<F, Fut, T, E>(mut f: F) -> f64
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, E>>,
    E: std::fmt::Debug,
{
    let mut ms = Vec::new();
    for _ in 0..5 {
        let start = Instant::now();
        std::hint::black_box(f().await.unwrap());
        ms.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    ms.sort_by(f64::total_cmp);
    percentile(&ms, 0.5)
}

async fn run(backend: Backend, n: usize, seconds: f64, clients: usize, routes: &[String]) {
    let name = match backend {
        Backend::Sqlite => "SQLite",
        Backend::Postgres => "PostgreSQL",
    };
    println!("\n== {name}");
    let db = TestDb::new(backend).await;
    let settings = settings();
    let conn = outreach_core::db::open(&db.url, "bench").await.unwrap();
    let (_, nepal) = seed(&conn, &settings.treaty, n).await;

    // The state profile as the library computes it, timed beside the HTTP figures so a slow
    // state page can be told from a slow query.
    let npl = outreach_core::states::resolve(&conn, "NPL").await.unwrap();
    let today = Utc::now().date_naive();
    let reader = outreach_core::access::Reader {
        handle: None,
        cleared: false,
    };
    let profile = || {
        outreach_core::views::profile(
            &conn,
            npl.clone(),
            &settings.treaty,
            today,
            IanaZone::UTC,
            today,
            &reader,
        )
    };
    // What the state page asks for: the newest 200 engagements and the count.
    let page_profile = || {
        outreach_core::views::profile_with(
            &conn,
            npl.clone(),
            &settings.treaty,
            today,
            IanaZone::UTC,
            today,
            Some(200),
            &reader,
        )
    };
    assert_eq!(profile().await.unwrap().engagements.len(), nepal);
    assert_eq!(
        page_profile().await.unwrap().engagements.len(),
        nepal.min(200)
    );
    let profile_ms = median_ms(profile).await;
    let page_profile_ms = median_ms(page_profile).await;
    let outside = outreach_core::access::Reader::outside();
    let attention_ms =
        median_ms(|| outreach_core::views::attention(&conn, &settings.treaty, today, &outside))
            .await;
    println!(
        "  library calls (median of 5): views::attention {attention_ms:.1} ms, \
         views::profile(NPL, all {nepal} engagements) {profile_ms:.1} ms, \
         views::profile_with(NPL, newest 200) {page_profile_ms:.1} ms"
    );

    let (stop, rx) = tokio::sync::watch::channel(false);
    let app = Arc::new(AppState::new(conn.clone(), &settings, &repo_root()).unwrap());
    let (addr, server) = bind(app, "127.0.0.1:0".parse().unwrap(), rx).await.unwrap();
    let base = format!("http://{addr}");
    let mut signed = Vec::new();
    for _ in 0..clients {
        signed.push(signed_in(&base).await);
    }

    println!(
        "  {clients} clients, {seconds} s per route\n  {:<14} {:>9} {:>9} {:>9} {:>9} {:>9} {:>10} {:>14}",
        "route", "requests", "req/s", "p50 ms", "p99 ms", "max ms", "body KiB", "p99/baseline"
    );
    let baseline = load(&signed, &format!("{base}/healthz"), seconds).await;
    let line = |route: &str, f: &Figures| {
        println!(
            "  {:<14} {:>9} {:>9.0} {:>9.2} {:>9.2} {:>9.2} {:>10.1} {:>13.1}x",
            route,
            f.requests,
            f.rps,
            f.p50,
            f.p99,
            f.max,
            f.bytes as f64 / 1024.0,
            f.p99 / baseline.p99
        );
    };
    line("/healthz", &baseline);
    for route in routes {
        let f = load(&signed, &format!("{base}{route}"), seconds).await;
        line(route, &f);
    }

    stop.send(true).unwrap();
    drop(signed);
    let _ = tokio::time::timeout(Duration::from_secs(10), server).await;
    conn.close().await.ok();
    db.cleanup().await;
}

fn main() {
    let which: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let n = env_usize("OUTREACH_BENCH_ENGAGEMENTS", 100_000);
    let seconds = std::env::var("OUTREACH_BENCH_SECONDS")
        .ok()
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(10.0);
    let clients = env_usize("OUTREACH_BENCH_CLIENTS", 8).max(1);
    let routes: Vec<String> = std::env::var("OUTREACH_BENCH_ROUTES")
        .unwrap_or_else(|_| "/,/states/NPL".into())
        .split(',')
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_owned)
        .collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    println!(
        "web bench: {n} engagements, {clients} clients, {seconds} s per route, routes /healthz (baseline), {}",
        routes.join(", ")
    );
    for (backend, key) in [
        (Backend::Sqlite, "sqlite"),
        (Backend::Postgres, "postgresql"),
    ] {
        if which.is_empty() || which.iter().any(|w| w == key) {
            rt.block_on(run(backend, n, seconds, clients, &routes));
        }
    }
}
