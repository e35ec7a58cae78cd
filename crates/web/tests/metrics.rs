//! `/metrics` scraped from a real server on loopback, on SQLite and PostgreSQL: after a job ran
//! late, an email went to a real SMTP server and a page was shown, the scrape shows the jobs and
//! the outbox by status, the job's lateness in the histogram, the SMTP reply class and the page's
//! latency under its declared route; a request passed on by a proxy needs an API token.

#![allow(clippy::unwrap_used)]

mod common;

use common::{get, signed_in, start_with};
use outreach_core::domain::EmailAddress;
use outreach_scheduler::jobs::{self, NewJob};
use outreach_testkit::{TestDb, db_test};
use reqwest::StatusCode;

/// The metrics live in one recorder per process: the SQLite and PostgreSQL runs take turns, so
/// each sees only its own changes between two scrapes.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The value of the sample of `name` whose labels include every one of `labels`
/// (`key="value"`), or 0 when there is none yet.
fn sample(text: &str, name: &str, labels: &[&str]) -> f64 {
    let found: Vec<f64> = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            let (metric, rest) = series.split_once('{').unwrap_or((series, ""));
            (metric == name && labels.iter().all(|want| rest.contains(want)))
                .then(|| value.parse().ok())
                .flatten()
        })
        .collect();
    assert!(found.len() <= 1, "{name} {labels:?} matches {found:?}");
    found.first().copied().unwrap_or(0.0)
}

async fn scrape(base: &str) -> String {
    let res = reqwest::get(format!("{base}/metrics")).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain"),
        "{:?}",
        res.headers()
    );
    res.text().await.unwrap()
}

async fn metrics_show_jobs_outbox_lateness_smtp_and_routes(db: &TestDb) {
    let _turn = ONE_AT_A_TIME.lock().await;
    let smtp = outreach_testkit::smtp::SmtpServer::start().await;
    let settings = common::settings()
        .with("mail.transport", "smtp")
        .and_then(|s| s.with("mail.smtp_host", "127.0.0.1"))
        .and_then(|s| s.with("mail.smtp_port", smtp.port()))
        .and_then(|s| s.with("mail.smtp_security", "none"))
        .unwrap();
    let app = start_with(db, settings.clone()).await;
    let before = scrape(&app.base).await;

    // A job two seconds late, and a test email, run and delivered by the daemon's parts.
    jobs::enqueue(
        &app.db,
        NewJob::new(
            outreach_scheduler::handlers::NOOP,
            format!("metrics-test:{}", uuid::Uuid::now_v7()),
            chrono::Utc::now() - chrono::Duration::seconds(2),
            serde_json::json!({}),
        ),
    )
    .await
    .unwrap();
    outreach_mailer::ledger::queue_test(
        &app.db,
        "ada",
        &EmailAddress::parse("to", "asha@example.org").unwrap(),
        "en",
        "UTC",
    )
    .await
    .unwrap();
    let (daemon, mailer) =
        outreach_scheduler::service::build(app.db.clone(), &settings, &common::repo_root())
            .unwrap();
    let pass = outreach_scheduler::service::run_once(&app.db, &daemon, &mailer)
        .await
        .unwrap();
    assert_eq!((pass.jobs_run, pass.emails_processed), (1, 1), "{pass:?}");
    assert_eq!(smtp.received().len(), 1);

    // A page, shown to a signed-in user.
    let (maria, _) = signed_in(&app.base, "maria").await;
    assert_eq!(
        get(&maria, &app.base, "/states/NPL").await.0,
        StatusCode::OK
    );

    let after = scrape(&app.base).await;
    for (name, labels, want) in [
        ("outreach_jobs", &["state=\"done\""][..], 1.0),
        ("outreach_jobs", &["state=\"queued\""], 0.0),
        ("outreach_jobs_due", &[], 0.0),
        ("outreach_outbox", &["status=\"sent\""], 1.0),
        ("outreach_outbox", &["status=\"queued\""], 0.0),
    ] {
        assert_eq!(
            sample(&after, name, labels),
            want,
            "{name} {labels:?}\n{after}"
        );
    }
    let delta =
        |name: &str, labels: &[&str]| sample(&after, name, labels) - sample(&before, name, labels);
    let noop = "kind=\"noop\"";
    assert_eq!(
        delta("outreach_job_lateness_seconds_count", &[noop]),
        1.0,
        "{after}"
    );
    // Two seconds late: in the 2.5 s bucket, not in the 1 s one.
    assert_eq!(
        delta("outreach_job_lateness_seconds_bucket", &[noop, "le=\"1\""]),
        0.0,
        "{after}"
    );
    assert_eq!(
        delta(
            "outreach_job_lateness_seconds_bucket",
            &[noop, "le=\"2.5\""]
        ),
        1.0,
        "{after}"
    );
    assert_eq!(
        delta("outreach_smtp_replies_total", &["class=\"2xx\""]),
        1.0,
        "{after}"
    );
    let state_page = [
        "method=\"GET\"",
        "route=\"/states/{key}\"",
        "status=\"200\"",
    ];
    assert_eq!(
        delta("outreach_http_request_duration_seconds_count", &state_page),
        1.0,
        "{after}"
    );
    // Routes are labelled as declared, never by the path asked for.
    assert!(!after.contains("route=\"/states/NPL\""), "{after}");
    for help in [
        "# HELP outreach_jobs ",
        "# HELP outreach_outbox ",
        "# TYPE outreach_job_lateness_seconds histogram",
        "# TYPE outreach_http_request_duration_seconds histogram",
        "# TYPE outreach_smtp_replies_total counter",
    ] {
        assert!(after.contains(help), "{help}\n{after}");
    }

    // Passed on by a proxy (even one on this machine): only with an API token.
    let c = reqwest::Client::new();
    let url = format!("{}/metrics", app.base);
    for header in ["x-forwarded-for", "forwarded"] {
        let res = c
            .get(&url)
            .header(header, "for=203.0.113.9")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{header}");
        assert!(res.text().await.unwrap().contains("API token"));
    }
    let wrong = c
        .get(&url)
        .header("x-forwarded-for", "203.0.113.9")
        .bearer_auth("not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    let admin = outreach_core::Actor::new("ada", outreach_core::domain::IanaZone::UTC).unwrap();
    let ada = outreach_core::actor::find_user(&app.db, "ada")
        .await
        .unwrap()
        .unwrap();
    let token = outreach_web::auth::issue_token(&app.db, &admin, ada.id, "api", "scraper")
        .await
        .unwrap();
    let res = c
        .get(&url)
        .header("x-forwarded-for", "203.0.113.9")
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("outreach_outbox{"));
}

db_test!(scrape, metrics_show_jobs_outbox_lateness_smtp_and_routes);
