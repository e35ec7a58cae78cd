//! `GET /metrics`: what operators watch, in Prometheus' text format.
//!
//! - `outreach_jobs{state}` and `outreach_jobs_due`: the scheduler's jobs by status, and the
//!   queued ones whose time has come (read from the database at each scrape, so they cover every
//!   daemon on it);
//! - `outreach_outbox{status}`: emails queued, sending, sent, failed, cancelled (the same);
//! - `outreach_job_lateness_seconds{kind}`: how long after its time each job started, a
//!   histogram (jobs run by this process's daemon);
//! - `outreach_smtp_replies_total{class}`: the SMTP server's replies to this process's mailer
//!   by class (2xx, 4xx, 5xx, or none when the connection failed);
//! - `outreach_http_request_duration_seconds{method,route,status}`: request latency per route
//!   (the route as declared, e.g. `/states/{key}`, never a raw path), a histogram.
//!
//! Readable with an API token (`Authorization: Bearer TOKEN`), or without one from the machine
//! itself (a loopback peer, and no `Forwarded`/`X-Forwarded-For` header: a request a reverse
//! proxy on the same machine passes on is not a local one).

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::AppState;

/// Bucket bounds (seconds) of both histograms: from a few milliseconds up to ten minutes late.
const BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 600.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's metrics recorder, installed on first use (for the scheduler, mailer and web
/// parts of the process alike).
pub fn handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), BUCKETS)
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!(
                "another metrics recorder is installed; /metrics shows the database counts only"
            );
        }
        describe();
        handle
    })
}

fn describe() {
    metrics::describe_gauge!("outreach_jobs", "Scheduler jobs by status.");
    metrics::describe_gauge!(
        "outreach_jobs_due",
        "Queued jobs whose time has come and that no daemon has started yet."
    );
    metrics::describe_gauge!("outreach_outbox", "Emails in the outbox by status.");
    metrics::describe_histogram!(
        "outreach_job_lateness_seconds",
        metrics::Unit::Seconds,
        "How long after its time each job started."
    );
    metrics::describe_counter!(
        "outreach_smtp_replies_total",
        "Replies of the SMTP server by class (2xx, 4xx, 5xx; none: no reply)."
    );
    metrics::describe_histogram!(
        "outreach_http_request_duration_seconds",
        metrics::Unit::Seconds,
        "Time to answer a request, per declared route."
    );
}

/// Keeps the histograms' memory bounded between scrapes: runs every few seconds while the app
/// serves.
pub fn spawn_upkeep() -> tokio::task::JoinHandle<()> {
    let handle = handle();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        loop {
            tick.tick().await;
            handle.run_upkeep();
        }
    })
}

/// Middleware on the declared routes: records each answer's latency under its route.
pub async fn track(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    let method = req.method().as_str().to_owned();
    let started = Instant::now();
    let res = next.run(req).await;
    metrics::histogram!(
        "outreach_http_request_duration_seconds",
        "method" => method,
        "route" => route,
        "status" => res.status().as_u16().to_string(),
    )
    .record(started.elapsed().as_secs_f64());
    res
}

/// Whether the request may read the metrics: a valid API token, or a local request.
async fn allowed(app: &AppState, headers: &HeaderMap, peer: Option<SocketAddr>) -> bool {
    if let Some(secret) = crate::ctx::bearer(headers) {
        // A database that cannot say whether the token is valid does not let it in.
        return matches!(
            crate::ctx::from_token(app, "api", secret).await,
            Ok(Some(_))
        );
    }
    let forwarded =
        headers.contains_key(header::FORWARDED) || headers.contains_key("x-forwarded-for");
    !forwarded && peer.is_some_and(|p| p.ip().is_loopback())
}

/// `GET /metrics`.
pub async fn scrape(State(app): State<Arc<AppState>>, parts: Parts) -> Response {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    if !allowed(&app, &parts.headers, peer).await {
        return (
            StatusCode::FORBIDDEN,
            "The metrics are read with an API token (Authorization: Bearer TOKEN) or from this machine.\n",
        )
            .into_response();
    }
    if let Err(e) = record_counts(&app).await {
        tracing::error!(error = %e, "cannot count jobs and emails for /metrics");
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("The database cannot be read: {e}\n"),
        )
            .into_response();
    }
    let handle = handle();
    handle.run_upkeep();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    )
        .into_response()
}

/// Sets the gauges from the database; every known status is set, so one that empties shows 0.
async fn record_counts(app: &AppState) -> Result<(), String> {
    use outreach_scheduler::jobs::status as job_status;
    let (jobs, due) = outreach_scheduler::jobs::counts(&app.db)
        .await
        .map_err(|e| e.to_string())?;
    for state in [
        job_status::QUEUED,
        job_status::RUNNING,
        job_status::DONE,
        job_status::FAILED,
        job_status::CANCELLED,
        job_status::SUPERSEDED,
        job_status::SKIPPED,
    ] {
        let n = jobs.iter().find(|(s, _)| s == state).map_or(0, |(_, n)| *n);
        metrics::gauge!("outreach_jobs", "state" => state).set(n as f64);
    }
    metrics::gauge!("outreach_jobs_due").set(due as f64);
    let outbox = outreach_mailer::outbox::counts(&app.db)
        .await
        .map_err(|e| e.to_string())?;
    use outreach_mailer::outbox::status as mail_status;
    for status in [
        mail_status::QUEUED,
        mail_status::SENDING,
        mail_status::SENT,
        mail_status::FAILED,
        mail_status::CANCELLED,
    ] {
        let n = outbox
            .iter()
            .find(|(s, _)| s == status)
            .map_or(0, |(_, n)| *n);
        metrics::gauge!("outreach_outbox", "status" => status).set(n as f64);
    }
    Ok(())
}
