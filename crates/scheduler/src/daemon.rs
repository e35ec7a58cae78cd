//! The daemon: claims due jobs in batches with a lease, runs each in the transaction that
//! completes it, fires cron schedules, and sleeps until the next job is due, a notification
//! arrives, or the safety-net poll comes round.
//!
//! Wake-ups: on PostgreSQL a job planned due now sends `NOTIFY outreach_jobs` with its
//! transaction, so a listening daemon starts it at once; a timer covers the nearest future job;
//! the poll is only a safety net. SQLite has no notifications between processes, so there the
//! daemon checks the (indexed) next due time every `sqlite_poll`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::entities::{cron_state, job};
use crate::settings::SchedulerSettings;
use chrono::{DateTime, Utc};
use futures_util::FutureExt as _;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter,
};
use tokio::sync::{Notify, Semaphore, watch};
use tokio::task::JoinSet;
use tracing::{debug, info, warn};
use uuid::Uuid;

use crate::cronsched;
use crate::error::Result;
use crate::handlers::{
    BatchCache, CronPayload, JobError, Outcome, Registry, RunContext, SWEEP, WEEKLY_DIGEST,
};
use crate::jobs::{self, NewJob};
use crate::rules::{ScheduledJob, Workflows};

/// How one daemon claims and runs jobs.
#[derive(Debug, Clone)]
pub struct DaemonConfig {
    /// Unique per daemon process; written as the lease owner.
    pub owner: String,
    pub batch_size: u32,
    pub workers: u32,
    /// Jobs run in one transaction and completed together; 1 for one transaction per job.
    pub jobs_per_transaction: u32,
    pub lease: Duration,
    pub poll: Duration,
    pub sqlite_poll: Duration,
    pub retry_base: Duration,
}

impl DaemonConfig {
    pub fn from_settings(s: &SchedulerSettings) -> Self {
        Self {
            owner: format!(
                "{}:{}:{}",
                hostname(),
                std::process::id(),
                Uuid::now_v7().simple()
            ),
            batch_size: s.batch_size.max(1),
            workers: s.workers.max(1),
            jobs_per_transaction: s.jobs_per_transaction.max(1),
            lease: Duration::from_secs(s.lease_secs.max(1)),
            poll: Duration::from_secs(s.poll_secs.max(1)),
            sqlite_poll: Duration::from_millis(100),
            retry_base: Duration::from_secs(2),
        }
    }
}

/// How many batches one round of claims may take before the loop comes round again.
const ROUND_BATCHES: usize = 16;

/// How late a digest may still go out: a Monday-morning digest sent by lunchtime is still news;
/// one a daemon reaches only the next day is recorded, not sent.
const DIGEST_GRACE: chrono::TimeDelta = chrono::TimeDelta::hours(12);

/// A task that stops when this is dropped: a job's lease renewal ends with the job, also when
/// the job's handler panics (a renewal that outlived it would keep the job "running" forever).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "host".to_owned())
}

/// One scheduler daemon. Any number may share a PostgreSQL database.
#[derive(Debug, Clone)]
pub struct Daemon {
    db: DatabaseConnection,
    cfg: DaemonConfig,
    registry: Arc<Registry>,
    workflows: Arc<Workflows>,
    wake: Arc<Notify>,
}

impl Daemon {
    pub fn new(
        db: DatabaseConnection,
        mut cfg: DaemonConfig,
        registry: Registry,
        workflows: Workflows,
    ) -> Self {
        // SQLite has one writer: jobs whose transactions overlap in one process would only
        // fail each other with "database is locked".
        if db.get_database_backend() == DbBackend::Sqlite {
            cfg.workers = 1;
        }
        Self {
            db,
            cfg,
            registry: Arc::new(registry),
            workflows: Arc::new(workflows),
            wake: Arc::new(Notify::new()),
        }
    }

    pub fn owner(&self) -> &str {
        &self.cfg.owner
    }

    pub fn workflows(&self) -> &Workflows {
        &self.workflows
    }

    /// Wakes this daemon (for enqueuers in the same process).
    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// Claims due jobs in batches and runs them until a claim comes back short (or
    /// `ROUND_BATCHES` batches were taken); returns how many jobs it claimed (0 when nothing was
    /// due), so tests and `--once` can drain the queue without sleeping.
    ///
    /// # Errors
    /// Database errors while claiming or recording results.
    pub async fn run_once(&self) -> Result<usize> {
        let stop = Arc::new(AtomicBool::new(false));
        self.run_batch(&stop).await
    }

    /// Claims a batch and runs it in groups spread over the workers. On PostgreSQL, while the
    /// groups run, the next batch is claimed as soon as fewer groups wait than there are workers
    /// (and the last claim came back full), so no worker sits idle between batches under a burst;
    /// on SQLite (one writer) the next claim follows the last group. Each batch shares one
    /// [`BatchCache`] among its jobs, read ahead at claim time.
    async fn run_batch(&self, stop: &Arc<AtomicBool>) -> Result<usize> {
        let workers = self.cfg.workers as usize;
        let permits = Arc::new(Semaphore::new(workers));
        // Groups spawned and not yet holding a worker.
        let waiting = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut set = JoinSet::new();
        // Which jobs each task runs, so a failure or a panic is logged with the job it concerns.
        let mut running = std::collections::HashMap::new();
        let mut claimed = 0;
        let mut more = true;
        let mut unstarted = Vec::new();
        let mut failed = None;
        loop {
            // On SQLite a claim made while a group's transaction holds the one write lock would
            // only sleep in SQLite's busy handler: there the next batch waits for the last.
            // At most `ROUND_BATCHES` claims a round, so a long backlog still lets the loop fire
            // cron schedules and bury abandoned jobs between rounds.
            if more
                && failed.is_none()
                && !stop.load(Ordering::SeqCst)
                && claimed < ROUND_BATCHES * self.cfg.batch_size as usize
                && waiting.load(Ordering::SeqCst) < workers
                && (set.is_empty() || self.db.get_database_backend() == DbBackend::Postgres)
            {
                let batch = match jobs::claim(
                    &self.db,
                    &self.cfg.owner,
                    self.cfg.batch_size,
                    self.cfg.lease,
                )
                .await
                {
                    Ok(batch) => batch,
                    Err(e) if claimed == 0 => return Err(e),
                    Err(e) => {
                        // Let what was claimed finish; the caller sees the error afterwards.
                        failed = Some(e);
                        continue;
                    }
                };
                more = batch.len() >= self.cfg.batch_size as usize;
                if batch.is_empty() {
                    continue;
                }
                claimed += batch.len();
                debug!(claimed = batch.len(), owner = %self.cfg.owner, "claimed jobs");
                let cache = Arc::new(BatchCache::default());
                cache.prefill(&self.db, &batch).await;
                self.spawn_groups(
                    batch,
                    cache,
                    &mut set,
                    &mut running,
                    &permits,
                    &waiting,
                    stop,
                );
                continue;
            }
            let Some(res) = set.join_next_with_id().await else {
                break;
            };
            match res {
                Ok((_, Ok(ids))) => unstarted.extend(ids),
                Ok((task, Err(e))) => {
                    let (job, kind) = running.get(&task).cloned().unwrap_or_default();
                    warn!(job = %job, kind = %kind, error = %e, "recording a job's result failed; its lease will expire and it will be retried")
                }
                Err(e) => {
                    let (job, kind) = running.get(&e.id()).cloned().unwrap_or_default();
                    warn!(job = %job, kind = %kind, error = %e, "a job panicked; its lease will expire and it will be retried")
                }
            }
        }
        if !unstarted.is_empty() {
            let n = self
                .patiently(|| jobs::release(&self.db, &unstarted, &self.cfg.owner))
                .await?;
            info!(released = n, "released claimed jobs that had not started");
        }
        match failed {
            Some(e) => Err(e),
            None => Ok(claimed),
        }
    }

    /// Splits a claimed batch into groups of `jobs_per_transaction`, spread over the workers (a
    /// small batch is not put in one group while other workers sit idle), and spawns each; a
    /// group that finds the daemon stopping gives its jobs back unstarted.
    #[allow(clippy::too_many_arguments)]
    fn spawn_groups(
        &self,
        batch: Vec<job::Model>,
        cache: Arc<BatchCache>,
        set: &mut JoinSet<Result<Vec<Uuid>>>,
        running: &mut std::collections::HashMap<tokio::task::Id, (Uuid, String)>,
        permits: &Arc<Semaphore>,
        waiting: &Arc<std::sync::atomic::AtomicUsize>,
        stop: &Arc<AtomicBool>,
    ) {
        let per_group = (self.cfg.jobs_per_transaction as usize)
            .min(batch.len().div_ceil(self.cfg.workers as usize))
            .max(1);
        let mut batch = batch.into_iter().peekable();
        while batch.peek().is_some() {
            let group: Vec<job::Model> = batch.by_ref().take(per_group).collect();
            let this = self.clone();
            let (permits, waiting, stop, cache) = (
                permits.clone(),
                waiting.clone(),
                stop.clone(),
                cache.clone(),
            );
            let about = (
                group[0].id,
                group
                    .iter()
                    .map(|j| j.kind.as_str())
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .collect::<Vec<_>>()
                    .join(","),
            );
            waiting.fetch_add(1, Ordering::SeqCst);
            let task = set.spawn(async move {
                let _permit = permits.acquire_owned().await;
                waiting.fetch_sub(1, Ordering::SeqCst);
                if stop.load(Ordering::SeqCst) {
                    return Ok(group.iter().map(|j| j.id).collect());
                }
                if group.len() == 1 {
                    let job = group.into_iter().next().expect("one job");
                    this.run_job(job, &cache).await.map(|()| Vec::new())
                } else {
                    this.run_group(group, &cache).await.map(|()| Vec::new())
                }
            });
            running.insert(task.id(), about);
        }
    }

    async fn run_job(&self, job: job::Model, cache: &Arc<BatchCache>) -> Result<()> {
        let ctx = RunContext {
            workflows: self.workflows.clone(),
            now: Utc::now(),
            batch: cache.clone(),
        };
        // How long after its time the job started (`outreach_job_lateness_seconds` on
        // `/metrics`); a job started early counts as on time.
        let late = (ctx.now - job.run_at).num_milliseconds().max(0) as f64 / 1000.0;
        metrics::histogram!("outreach_job_lateness_seconds", "kind" => job.kind.clone())
            .record(late);
        let Some(handler) = self.registry.get(&job.kind) else {
            return self.dead_letter_unknown_kind(&job).await;
        };
        let tx = match outreach_core::db::begin(&self.db).await {
            Ok(tx) => tx,
            Err(e) if outreach_core::db::is_busy(&e.to_string()) => {
                self.postpone(&job, &e.to_string()).await?;
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        };
        let heartbeat = self.renew_while_running(vec![job.id]);
        let result = handler.run(&ctx, &tx, &job).await;
        drop(heartbeat);
        match result {
            Ok(outcome) => {
                if jobs::finish(
                    &tx,
                    job.id,
                    &self.cfg.owner,
                    outcome.status(),
                    outcome.reason(),
                )
                .await?
                {
                    tx.commit().await?;
                    // Whatever email the job queued is committed now: wake the delivery loop.
                    outreach_mailer::outbox::wake();
                } else {
                    // The lease expired and another daemon owns the job now: undo our effect.
                    tx.rollback().await?;
                    warn!(job = %job.id, "lost the lease before finishing; the effect was rolled back");
                }
            }
            Err(err) if outreach_core::db::is_busy(&err.to_string()) => {
                tx.rollback().await?;
                self.postpone(&job, &err.to_string()).await?;
            }
            Err(err) => {
                tx.rollback().await?;
                self.record_failure(&job, &err).await?;
            }
        }
        Ok(())
    }

    /// Renews the leases of `ids` while they run, so a job that takes longer than the lease is
    /// not claimed and run again by another daemon. (On SQLite the job's transaction holds the
    /// only write lock, so renewals wait; no other daemon can claim meanwhile either.) Stops
    /// when dropped.
    fn renew_while_running(&self, ids: Vec<Uuid>) -> AbortOnDrop {
        let (db, owner, lease) = (self.db.clone(), self.cfg.owner.clone(), self.cfg.lease);
        AbortOnDrop(tokio::spawn(async move {
            let every = (lease / 3).max(Duration::from_millis(100));
            let mut ids = ids;
            loop {
                tokio::time::sleep(every).await;
                let mut held = Vec::with_capacity(ids.len());
                for id in ids {
                    match jobs::renew(&db, id, &owner, lease).await {
                        Ok(true) => {
                            debug!(job = %id, "renewed the lease");
                            held.push(id);
                        }
                        Ok(false) => {}
                        Err(e) => {
                            debug!(job = %id, error = %e, "could not renew the lease yet");
                            held.push(id);
                        }
                    }
                }
                if held.is_empty() {
                    break;
                }
                ids = held;
            }
        }))
    }

    /// Runs one of the daemon's own bookkeeping writes outside a job's transaction (give a job
    /// back, record a failure), waiting out SQLite's write lock held by someone else's long
    /// write: giving up would leave the job claimed until its lease ran out, and the next claim
    /// would count an attempt the job never had. Tries until the lease would have run out.
    async fn patiently<T, F, Fut>(&self, mut write: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T>>,
    {
        let deadline = std::time::Instant::now() + self.cfg.lease;
        let mut pause = Duration::from_millis(10);
        loop {
            match write().await {
                Err(e)
                    if outreach_core::db::is_busy(&e.to_string())
                        && std::time::Instant::now() < deadline =>
                {
                    debug!(error = %e, "the database is busy; trying the write again");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_millis(500));
                }
                other => return other,
            }
        }
    }

    /// Dead-letters a job no handler of this daemon knows (a kind from a newer version, or a typo
    /// in a test), with the reason in its `last_error`.
    async fn dead_letter_unknown_kind(&self, job: &job::Model) -> Result<()> {
        let msg = format!("no handler for job kind '{}'", job.kind);
        warn!(job = %job.id, kind = %job.kind, "job dead-lettered: no handler for its kind");
        self.patiently(|| {
            jobs::fail(
                &self.db,
                job,
                &self.cfg.owner,
                &msg,
                true,
                self.cfg.retry_base,
            )
        })
        .await?;
        Ok(())
    }

    /// Gives a job back to the queue without counting its attempt: the database was busy.
    async fn postpone(&self, job: &job::Model, error: &str) -> Result<()> {
        self.patiently(|| jobs::postpone(&self.db, job, &self.cfg.owner))
            .await?;
        info!(job = %job.id, kind = %job.kind, error = %error, "the database was busy; the job goes back to the queue, no attempt counted");
        Ok(())
    }

    /// Records a failed job (retry with backoff, or dead letter) and logs it.
    async fn record_failure(&self, job: &job::Model, err: &JobError) -> Result<()> {
        let permanent = matches!(err, JobError::Permanent(_));
        let reason = err.to_string();
        let status = self
            .patiently(|| {
                jobs::fail(
                    &self.db,
                    job,
                    &self.cfg.owner,
                    &reason,
                    permanent,
                    self.cfg.retry_base,
                )
            })
            .await?;
        match status {
            Some(jobs::status::FAILED) => {
                warn!(job = %job.id, kind = %job.kind, attempt = job.attempts, max_attempts = job.max_attempts, error = %err, "job dead-lettered")
            }
            Some(_) => {
                info!(job = %job.id, kind = %job.kind, attempt = job.attempts, max_attempts = job.max_attempts, error = %err, "job will be retried")
            }
            None => {
                warn!(job = %job.id, kind = %job.kind, error = %err, "job failed after its lease passed to another daemon")
            }
        }
        Ok(())
    }

    /// Runs a group of claimed jobs in one transaction and completes them with one statement per
    /// outcome: one commit for the group instead of one per job. A job whose handler fails (or
    /// panics) must not take its neighbours' work with it: the transaction is rolled back, that
    /// job is recorded as failed, and the rest run again without it in a new transaction. If the
    /// completion finds a job no longer ours (its lease expired and another daemon took it),
    /// everything is rolled back and the jobs run one transaction each, which sorts out which.
    async fn run_group(&self, group: Vec<job::Model>, cache: &Arc<BatchCache>) -> Result<()> {
        let mut remaining = Vec::with_capacity(group.len());
        for job in group {
            let late = (Utc::now() - job.run_at).num_milliseconds().max(0) as f64 / 1000.0;
            metrics::histogram!("outreach_job_lateness_seconds", "kind" => job.kind.clone())
                .record(late);
            if self.registry.get(&job.kind).is_some() {
                remaining.push(job);
            } else {
                self.dead_letter_unknown_kind(&job).await?;
            }
        }
        let heartbeat = self.renew_while_running(remaining.iter().map(|j| j.id).collect());
        'group: while !remaining.is_empty() {
            let tx = match outreach_core::db::begin(&self.db).await {
                Ok(tx) => tx,
                Err(e) if outreach_core::db::is_busy(&e.to_string()) => {
                    let ids: Vec<Uuid> = remaining.iter().map(|j| j.id).collect();
                    self.patiently(|| jobs::release(&self.db, &ids, &self.cfg.owner))
                        .await?;
                    info!(jobs = ids.len(), error = %e, "the database was busy; the jobs go back to the queue, no attempt counted");
                    return Ok(());
                }
                Err(e) => return Err(e.into()),
            };
            let mut outcomes: Vec<(Outcome, Vec<Uuid>)> = Vec::new();
            for (i, job) in remaining.iter().enumerate() {
                let Some(handler) = self.registry.get(&job.kind) else {
                    continue;
                };
                let ctx = RunContext {
                    workflows: self.workflows.clone(),
                    now: Utc::now(),
                    batch: cache.clone(),
                };
                let result = std::panic::AssertUnwindSafe(handler.run(&ctx, &tx, job))
                    .catch_unwind()
                    .await
                    .unwrap_or_else(|panic| {
                        Err(JobError::Permanent(format!(
                            "the job failed with an internal error ({}); the other jobs go on",
                            panic_text(panic.as_ref())
                        )))
                    });
                match result {
                    Ok(outcome) => match outcomes.iter_mut().find(|(o, _)| *o == outcome) {
                        Some((_, ids)) => ids.push(job.id),
                        None => outcomes.push((outcome, vec![job.id])),
                    },
                    Err(err) => {
                        tx.rollback().await?;
                        let job = remaining.remove(i);
                        if outreach_core::db::is_busy(&err.to_string()) {
                            self.postpone(&job, &err.to_string()).await?;
                        } else {
                            self.record_failure(&job, &err).await?;
                        }
                        continue 'group;
                    }
                }
            }
            let mut finished = 0;
            for (outcome, ids) in &outcomes {
                finished += jobs::finish_many(
                    &tx,
                    ids,
                    &self.cfg.owner,
                    outcome.status(),
                    outcome.reason(),
                )
                .await?;
            }
            if finished as usize == remaining.len() {
                tx.commit().await?;
                outreach_mailer::outbox::wake();
                break;
            }
            tx.rollback().await?;
            drop(heartbeat);
            warn!(
                jobs = remaining.len(),
                "a job of the group lost its lease; running the group one job at a time"
            );
            for job in remaining {
                self.run_job(job, cache).await?;
            }
            return Ok(());
        }
        drop(heartbeat);
        Ok(())
    }

    /// Fires every cron schedule whose slot has come since it last fired, once per schedule
    /// (missed slots collapse into the latest). A schedule seen for the first time starts from
    /// `now` (or its `effective_from`, if later): it never fires for slots before it existed.
    /// Returns how many firings it enqueued.
    ///
    /// # Errors
    /// Database errors.
    pub async fn fire_cron(&self, now: DateTime<Utc>) -> Result<usize> {
        let mut fired = 0;
        for rule in &self.workflows.schedules {
            let tx = outreach_core::db::begin(&self.db).await?;
            let state = cron_state::Entity::find_by_id(rule.name.clone())
                .one(&tx)
                .await?;
            let Some(state) = state else {
                let start = now.max(rule.effective_from);
                cron_state::Entity::insert(cron_state::ActiveModel {
                    schedule: Set(rule.name.clone()),
                    last_fired_for: Set(start),
                    updated_at: Set(now),
                })
                .on_conflict(
                    OnConflict::column(cron_state::Column::Schedule)
                        .do_nothing()
                        .to_owned(),
                )
                .exec_without_returning(&tx)
                .await?;
                tx.commit().await?;
                continue;
            };
            let from = state.last_fired_for.max(rule.effective_from);
            let Some(slot) = cronsched::latest_due(&rule.cron, rule.zone, from, now) else {
                tx.rollback().await?;
                continue;
            };
            // Compare-and-set: only one daemon moves the schedule past this slot.
            let moved = cron_state::Entity::update_many()
                .col_expr(cron_state::Column::LastFiredFor, slot.into())
                .col_expr(cron_state::Column::UpdatedAt, now.into())
                .filter(cron_state::Column::Schedule.eq(rule.name.clone()))
                .filter(cron_state::Column::LastFiredFor.eq(state.last_fired_for))
                .exec(&tx)
                .await?;
            if moved.rows_affected != 1 {
                tx.rollback().await?;
                continue;
            }
            let kind = match rule.job {
                ScheduledJob::WeeklyDigest => WEEKLY_DIGEST,
                ScheduledJob::Sweep => SWEEP,
            };
            let payload = CronPayload {
                schedule: rule.name.clone(),
                slot,
            };
            let mut job = NewJob::serialised(
                kind,
                format!("cron:{}:{}", rule.name, slot.to_rfc3339()),
                slot,
                &payload,
            )?;
            job.max_attempts = self.workflows.max_attempts;
            job.subject = Some(("schedule".to_owned(), rule.name.clone()));
            job.rule = Some(rule.name.clone());
            // A digest is news about its week: one whose slot passed long before any daemon got
            // to it (they were all down) is recorded as not sent, like every stale reminder. The
            // sweep is housekeeping and always runs.
            let stale = matches!(rule.job, ScheduledJob::WeeklyDigest) && now - slot > DIGEST_GRACE;
            if stale {
                jobs::skip_passed(&tx, job).await?;
                tx.commit().await?;
                info!(schedule = %rule.name, slot = %slot, "cron slot not fired: its time had passed long before a daemon ran");
                continue;
            }
            if jobs::enqueue(&tx, job).await? {
                fired += 1;
            }
            tx.commit().await?;
            info!(schedule = %rule.name, slot = %slot, "cron schedule fired");
        }
        Ok(fired)
    }

    /// The earliest instant something is due: a queued job or a cron slot.
    async fn next_wake(&self, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>> {
        let mut next = jobs::next_due(&self.db).await?;
        for rule in &self.workflows.schedules {
            if let Some(slot) =
                cronsched::next_after(&rule.cron, rule.zone, now.max(rule.effective_from))
            {
                next = Some(next.map_or(slot, |n| n.min(slot)));
            }
        }
        Ok(next)
    }

    fn listen(&self) {
        if self.db.get_database_backend() != DbBackend::Postgres {
            return;
        }
        let pool = self.db.get_postgres_connection_pool().clone();
        let wake = self.wake.clone();
        tokio::spawn(async move {
            loop {
                match sea_orm::sqlx::postgres::PgListener::connect_with(&pool).await {
                    Ok(mut listener) => {
                        if let Err(e) = listener.listen(jobs::NOTIFY_CHANNEL).await {
                            warn!(error = %e, "LISTEN failed; relying on the poll");
                        } else {
                            loop {
                                match listener.recv().await {
                                    Ok(_) => wake.notify_one(),
                                    Err(e) => {
                                        warn!(error = %e, "notification connection lost; reconnecting");
                                        break;
                                    }
                                }
                            }
                        }
                    }
                    Err(e) => {
                        warn!(error = %e, "cannot open a notification connection; relying on the poll")
                    }
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
    }

    /// Runs until `shutdown` turns true: then stops claiming, lets running jobs finish,
    /// releases claimed jobs that had not started, and returns.
    ///
    /// # Errors
    /// Only for errors it cannot ride out; database hiccups are logged and retried.
    pub async fn run(&self, mut shutdown: watch::Receiver<bool>) -> Result<()> {
        info!(owner = %self.cfg.owner, backend = ?self.db.get_database_backend(), "scheduler started");
        self.listen();
        let stop = Arc::new(AtomicBool::new(false));
        let bound = if self.db.get_database_backend() == DbBackend::Postgres {
            self.cfg.poll
        } else {
            self.cfg.sqlite_poll.min(self.cfg.poll)
        };
        let mut last_bury = std::time::Instant::now() - self.cfg.poll;
        // Whether the database has been failing: logged once at warn when it starts, once at
        // info when it answers again; meanwhile the daemon tries every second.
        let mut failing = false;
        while !*shutdown.borrow() {
            let now = Utc::now();
            if let Err(e) = self.fire_cron(now).await {
                if failing || outreach_core::db::is_busy(&e.to_string()) {
                    debug!(error = %e, "firing cron schedules failed again");
                } else {
                    warn!(error = %e, "firing cron schedules failed; will try again");
                }
            }
            if last_bury.elapsed() >= self.cfg.poll {
                last_bury = std::time::Instant::now();
                if let Ok(buried) = jobs::bury_abandoned(&self.db).await {
                    for job in buried {
                        warn!(job = %job.id, kind = %job.kind, attempts = job.attempts, "job dead-lettered: the daemon running it stopped before it finished, on every attempt");
                    }
                }
            }
            let stop_flag = stop.clone();
            let mut watcher = shutdown.clone();
            let stopper = tokio::spawn(async move {
                if watcher.changed().await.is_ok() && *watcher.borrow() {
                    stop_flag.store(true, Ordering::SeqCst);
                }
            });
            let ran = self.run_batch(&stop).await;
            stopper.abort();
            match ran {
                Ok(n) => {
                    if failing {
                        info!("the database answers again; running due jobs");
                        failing = false;
                    }
                    if n >= self.cfg.batch_size as usize {
                        continue;
                    }
                }
                Err(e) if outreach_core::db::is_busy(&e.to_string()) => {
                    // Someone else's long write holds SQLite's lock: not an outage.
                    debug!(error = %e, "the database is busy; claiming again shortly");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
                Err(e) => {
                    if failing {
                        debug!(error = %e, "claiming jobs failed again");
                    } else {
                        warn!(error = %e, "cannot claim jobs (is the database down?); trying every second");
                        failing = true;
                    }
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    // Not the usual wait: that could be a whole poll interval once it is back.
                    continue;
                }
            }
            if *shutdown.borrow() {
                break;
            }
            let now = Utc::now();
            let wait = match self.next_wake(now).await {
                Ok(Some(at)) if at <= now => Duration::ZERO,
                Ok(Some(at)) => (at - now).to_std().unwrap_or(bound).min(bound),
                _ => bound,
            };
            if wait.is_zero() {
                continue;
            }
            tokio::select! {
                () = self.wake.notified() => {}
                () = tokio::time::sleep(wait) => {}
                _ = shutdown.changed() => {}
            }
        }
        info!(owner = %self.cfg.owner, "scheduler stopped");
        Ok(())
    }
}

/// A watch channel that turns true on SIGINT or SIGTERM.
pub fn shutdown_on_signals() -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let mut term = match signal(SignalKind::terminate()) {
                Ok(s) => s,
                Err(e) => {
                    warn!(error = %e, "cannot listen for SIGTERM");
                    let _ = tokio::signal::ctrl_c().await;
                    let _ = tx.send(true);
                    return;
                }
            };
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        info!("shutting down: finishing running jobs");
        let _ = tx.send(true);
    });
    rx
}

fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".to_owned())
}
