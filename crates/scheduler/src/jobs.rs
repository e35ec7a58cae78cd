//! The job store: durable jobs in the `jobs` table, claimed in batches with a lease, completed in
//! the same transaction as their effect, retried with exponential backoff and jitter, and
//! dead-lettered with their last error when they keep failing.
//!
//! Claiming is one statement: `UPDATE ... WHERE id IN (SELECT ... LIMIT n [FOR UPDATE SKIP
//! LOCKED]) RETURNING *`. On PostgreSQL `SKIP LOCKED` lets any number of daemons claim side by
//! side without waiting on each other; on SQLite the statement runs under the database's single
//! write lock, which serialises claims between processes.

use std::time::Duration;

use crate::entities::job;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, FromQueryResult,
    QueryFilter, QueryOrder, QuerySelect, Statement, Value,
};
use serde::Serialize;
use uuid::Uuid;

use crate::error::Result;

/// Job statuses as stored.
pub mod status {
    pub const QUEUED: &str = "queued";
    pub const RUNNING: &str = "running";
    pub const DONE: &str = "done";
    /// Dead-lettered: gave up after its attempts, with `last_error`.
    pub const FAILED: &str = "failed";
    pub const CANCELLED: &str = "cancelled";
    /// Replaced by a newer plan (a rescheduled meeting's reminders).
    pub const SUPERSEDED: &str = "superseded";
    /// Never run: its time had already passed when it was first planned (see [`super::PASSED`]).
    pub const SKIPPED: &str = "skipped";
}

/// Why a job was recorded as skipped instead of planned.
pub const PASSED: &str = "not sent: its time had passed when it was planned";

/// The reason a grant report reminder whose report was marked submitted is recorded with.
pub const REPORT_SUBMITTED: &str = "not sent: the report was marked submitted";

/// The reason a reminder that ran only after its meeting began is recorded with.
pub const TOO_LATE: &str = "not sent: the meeting had begun when its turn came";

/// The PostgreSQL channel daemons listen on for jobs due now.
pub const NOTIFY_CHANNEL: &str = "outreach_jobs";

/// A job to plan.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub kind: String,
    pub payload: serde_json::Value,
    pub run_at: DateTime<Utc>,
    /// Unique; derived from what caused the job. Planning the same key twice inserts nothing.
    pub idempotency_key: String,
    pub max_attempts: i32,
    pub subject: Option<(String, String)>,
    pub rule: Option<String>,
    pub recipient: Option<String>,
}

impl NewJob {
    pub fn new(kind: &str, key: String, run_at: DateTime<Utc>, payload: serde_json::Value) -> Self {
        Self {
            kind: kind.to_owned(),
            payload,
            run_at,
            idempotency_key: key,
            max_attempts: crate::rules::DEFAULT_MAX_ATTEMPTS,
            subject: None,
            rule: None,
            recipient: None,
        }
    }

    /// A job whose payload is `payload` written as JSON.
    ///
    /// # Errors
    /// [`crate::Error::Payload`] if it cannot be written (never queued as `null`).
    pub fn serialised<T: serde::Serialize>(
        kind: &str,
        key: String,
        run_at: DateTime<Utc>,
        payload: &T,
    ) -> crate::Result<Self> {
        Ok(Self::new(kind, key, run_at, serde_json::to_value(payload)?))
    }
}

/// Plans a job inside the caller's transaction; returns whether a row was inserted (false when
/// the key exists). Listening PostgreSQL daemons are woken when the transaction commits, so a
/// job due now starts at once and a job due sooner than a daemon's timer resets the timer
/// (PostgreSQL folds identical notifications of one transaction into one).
///
/// # Errors
/// Database errors.
pub async fn enqueue<C: ConnectionTrait>(db: &C, new: NewJob) -> Result<bool> {
    let inserted = insert(db, new, None).await?;
    if inserted {
        notify(db).await?;
    }
    Ok(inserted)
}

/// Records, instead of planning, a job whose time had already passed when it was first planned:
/// it is stored as `skipped` with [`PASSED`] as its reason, so `outreach jobs` and the reminder
/// ledger say why nothing was sent, and planning the same key again inserts nothing (a late
/// reminder is never sent). Returns whether a row was inserted.
///
/// # Errors
/// Database errors.
pub async fn skip_passed<C: ConnectionTrait>(db: &C, new: NewJob) -> Result<bool> {
    insert(db, new, Some(PASSED)).await
}

/// Plans many jobs inside the caller's transaction in one statement per few hundred (a meeting
/// with a hundred participants plans two hundred reminders), waking listening daemons once;
/// returns how many rows were inserted (keys that exist insert nothing).
///
/// # Errors
/// Database errors.
pub async fn enqueue_many<C: ConnectionTrait>(db: &C, new: Vec<NewJob>) -> Result<u64> {
    let inserted = insert_rows(db, new.into_iter().map(|n| row(n, None)).collect()).await?;
    if inserted > 0 {
        notify(db).await?;
    }
    Ok(inserted)
}

/// As [`skip_passed`], for many jobs in one statement per few hundred.
///
/// # Errors
/// Database errors.
pub async fn skip_passed_many<C: ConnectionTrait>(db: &C, new: Vec<NewJob>) -> Result<u64> {
    insert_rows(db, new.into_iter().map(|n| row(n, Some(PASSED))).collect()).await
}

async fn insert<C: ConnectionTrait>(db: &C, new: NewJob, skipped: Option<&str>) -> Result<bool> {
    Ok(insert_rows(db, vec![row(new, skipped)]).await? == 1)
}

/// Rows per insert statement: 19 columns each, well inside SQLite's 32,766 bound parameters.
const ROWS_PER_INSERT: usize = 500;

async fn insert_rows<C: ConnectionTrait>(db: &C, rows: Vec<job::ActiveModel>) -> Result<u64> {
    let mut inserted = 0;
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        inserted += job::Entity::insert_many(chunk.to_vec())
            .on_conflict(
                OnConflict::column(job::Column::IdempotencyKey)
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
    }
    Ok(inserted)
}

fn row(new: NewJob, skipped: Option<&str>) -> job::ActiveModel {
    let now = Utc::now();
    let (subject_kind, subject_id) = new.subject.unzip();
    job::ActiveModel {
        id: Set(Uuid::now_v7()),
        kind: Set(new.kind),
        payload: Set(new.payload.to_string()),
        run_at: Set(new.run_at),
        due_at: Set(Some(new.run_at)),
        status: Set(if skipped.is_some() {
            status::SKIPPED
        } else {
            status::QUEUED
        }
        .to_owned()),
        attempts: Set(0),
        max_attempts: Set(new.max_attempts.max(1)),
        lease_owner: Set(None),
        lease_expires_at: Set(None),
        idempotency_key: Set(new.idempotency_key),
        subject_kind: Set(subject_kind),
        subject_id: Set(subject_id),
        rule: Set(new.rule),
        recipient: Set(new.recipient),
        last_error: Set(skipped.map(str::to_owned)),
        created_at: Set(now),
        updated_at: Set(now),
        finished_at: Set(skipped.map(|_| now)),
    }
}

/// Wakes listening daemons when the surrounding transaction commits (PostgreSQL only).
///
/// # Errors
/// Database errors.
pub async fn notify<C: ConnectionTrait>(db: &C) -> Result<()> {
    if db.get_database_backend() == DbBackend::Postgres {
        db.execute_unprepared(&format!("NOTIFY {NOTIFY_CHANNEL}"))
            .await?;
    }
    Ok(())
}

/// Claims up to `limit` jobs that are due (or whose lease expired) for `owner`, holding them for
/// `lease`. Each claim counts as an attempt.
///
/// # Errors
/// Database errors.
pub async fn claim<C: ConnectionTrait>(
    db: &C,
    owner: &str,
    limit: u32,
    lease: Duration,
) -> Result<Vec<job::Model>> {
    let now = Utc::now();
    let expires = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::seconds(60));
    let backend = db.get_database_backend();
    let (p, lock) = match backend {
        DbBackend::Postgres => (["$1", "$2", "$3", "$4", "$5"], " FOR UPDATE SKIP LOCKED"),
        _ => (["?", "?", "?", "?", "?"], ""),
    };
    // Due queued jobs come from the (status, run_at) index in order; expired leases are rare
    // and found through the same index on status = 'running'.
    let sql = format!(
        "UPDATE jobs SET status = 'running', lease_owner = {o}, lease_expires_at = {e}, \
         attempts = attempts + 1, updated_at = {n1} \
         WHERE id IN (SELECT id FROM jobs WHERE \
           ((status = 'queued' AND run_at <= {n2}) OR (status = 'running' AND lease_expires_at < {n3})) \
           AND attempts < max_attempts \
           ORDER BY run_at LIMIT {lim}{lock}) \
         RETURNING *",
        o = p[0],
        e = p[1],
        n1 = p[2],
        n2 = p[3],
        n3 = p[4],
        lim = limit.max(1),
    );
    let values: Vec<Value> = vec![
        owner.into(),
        expires.into(),
        now.into(),
        now.into(),
        now.into(),
    ];
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    let mut jobs = rows
        .iter()
        .map(|r| job::Model::from_query_result(r, ""))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    jobs.sort_by_key(|j| (j.run_at, j.id));
    Ok(jobs)
}

/// The jobs `owner` holds: running under its lease. Every change a daemon makes to a job it
/// claimed is guarded by this, so a daemon that lost its lease changes nothing.
fn held_by(owner: &str) -> sea_orm::Condition {
    sea_orm::Condition::all()
        .add(job::Column::LeaseOwner.eq(owner))
        .add(job::Column::Status.eq(status::RUNNING))
}

/// Marks a running job finished with `final_status` (and `reason` as its last error, where the
/// status needs one), inside the transaction that holds its
/// effect. Returns false when the job is no longer ours (the lease expired and another daemon
/// took it): the caller must then roll its effect back.
///
/// # Errors
/// Database errors.
pub async fn finish<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    owner: &str,
    final_status: &str,
    reason: Option<&str>,
) -> Result<bool> {
    Ok(finish_many(db, &[id], owner, final_status, reason).await? == 1)
}

/// As [`finish`] for many jobs that ended the same way, in one statement; returns how many were
/// still ours. The caller rolls back when that is fewer than it gave.
///
/// # Errors
/// Database errors.
pub async fn finish_many<C: ConnectionTrait>(
    db: &C,
    ids: &[Uuid],
    owner: &str,
    final_status: &str,
    reason: Option<&str>,
) -> Result<u64> {
    let now = Utc::now();
    let mut written = 0;
    // Bounded IN lists: SQLite allows a few thousand parameters per statement.
    for chunk in ids.chunks(500) {
        let mut update = job::Entity::update_many();
        if let Some(reason) = reason {
            update = update.col_expr(job::Column::LastError, Some(reason.to_owned()).into());
        }
        written += update
            .col_expr(job::Column::Status, final_status.into())
            .col_expr(job::Column::FinishedAt, Some(now).into())
            .col_expr(job::Column::UpdatedAt, now.into())
            .col_expr(job::Column::LeaseOwner, Option::<String>::None.into())
            .col_expr(
                job::Column::LeaseExpiresAt,
                Option::<DateTime<Utc>>::None.into(),
            )
            .filter(job::Column::Id.is_in(chunk.iter().copied()))
            .filter(held_by(owner))
            .exec(db)
            .await?
            .rows_affected;
    }
    Ok(written)
}

/// Extends the lease of a running job this daemon owns to `lease` from now; returns whether the
/// job was still ours to renew.
///
/// # Errors
/// Database errors.
pub async fn renew<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    owner: &str,
    lease: Duration,
) -> Result<bool> {
    let now = Utc::now();
    let expires = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::seconds(60));
    let res = job::Entity::update_many()
        .col_expr(job::Column::LeaseExpiresAt, Some(expires).into())
        .col_expr(job::Column::UpdatedAt, now.into())
        .filter(job::Column::Id.eq(id))
        .filter(held_by(owner))
        .exec(db)
        .await?;
    Ok(res.rows_affected == 1)
}

/// The delay before retry number `attempt` (1-based): `base * 2^(attempt-1)`, at most an hour,
/// with ±25% jitter so that jobs failing together do not retry together.
pub fn backoff(base: Duration, attempt: i32) -> Duration {
    let exp = u32::try_from(attempt.saturating_sub(1))
        .unwrap_or(0)
        .min(20);
    let raw = base
        .saturating_mul(2u32.saturating_pow(exp))
        .min(Duration::from_secs(3600));
    let jitter: f64 = rand::random_range(0.75..1.25);
    raw.mul_f64(jitter)
}

/// Records a failed attempt: back to the queue after a backoff while attempts remain and the
/// failure is transient, dead-lettered (`failed`) with the error otherwise. Returns the new
/// status, or `None` when the job is no longer ours.
///
/// # Errors
/// Database errors.
pub async fn fail<C: ConnectionTrait>(
    db: &C,
    job: &job::Model,
    owner: &str,
    error: &str,
    permanent: bool,
    retry_base: Duration,
) -> Result<Option<&'static str>> {
    let now = Utc::now();
    let dead = permanent || job.attempts >= job.max_attempts;
    let mut update = job::Entity::update_many()
        .col_expr(job::Column::LastError, Some(error.to_owned()).into())
        .col_expr(job::Column::UpdatedAt, now.into())
        .col_expr(job::Column::LeaseOwner, Option::<String>::None.into())
        .col_expr(
            job::Column::LeaseExpiresAt,
            Option::<DateTime<Utc>>::None.into(),
        );
    let new_status = if dead {
        update = update
            .col_expr(job::Column::Status, status::FAILED.into())
            .col_expr(job::Column::FinishedAt, Some(now).into());
        status::FAILED
    } else {
        let delay = chrono::Duration::from_std(backoff(retry_base, job.attempts))
            .unwrap_or(chrono::Duration::seconds(60));
        update = update
            .col_expr(job::Column::Status, status::QUEUED.into())
            .col_expr(job::Column::RunAt, (now + delay).into());
        status::QUEUED
    };
    let res = update
        .filter(job::Column::Id.eq(job.id))
        .filter(held_by(owner))
        .exec(db)
        .await?;
    Ok((res.rows_affected == 1).then_some(new_status))
}

/// Gives a job that lost a race for the database (SQLite's "database is locked" after the busy
/// timeout) back to the queue without counting the attempt and without moving its due time:
/// contention is the project's own doing, never the job's fault, so it can neither use up the
/// job's attempts nor dead-letter it. Returns whether the job was still ours.
///
/// # Errors
/// Database errors.
pub async fn postpone<C: ConnectionTrait>(db: &C, job: &job::Model, owner: &str) -> Result<bool> {
    Ok(release(db, &[job.id], owner).await? == 1)
}

/// Gives claimed jobs that were never started back to the queue (on shutdown), without
/// counting the attempt.
///
/// # Errors
/// Database errors.
pub async fn release<C: ConnectionTrait>(db: &C, ids: &[Uuid], owner: &str) -> Result<u64> {
    use sea_orm::sea_query::ExprTrait as _;
    if ids.is_empty() {
        return Ok(0);
    }
    let res = job::Entity::update_many()
        .col_expr(job::Column::Status, status::QUEUED.into())
        .col_expr(job::Column::LeaseOwner, Option::<String>::None.into())
        .col_expr(
            job::Column::LeaseExpiresAt,
            Option::<DateTime<Utc>>::None.into(),
        )
        .col_expr(
            job::Column::Attempts,
            sea_orm::sea_query::Expr::col(job::Column::Attempts).sub(1),
        )
        .col_expr(job::Column::UpdatedAt, Utc::now().into())
        .filter(job::Column::Id.is_in(ids.to_vec()))
        .filter(held_by(owner))
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}

/// Dead-letters jobs whose lease expired after their last allowed attempt (their daemon died
/// on every try), so they show up in `outreach jobs` instead of waiting forever; returns them.
///
/// # Errors
/// Database errors.
pub async fn bury_abandoned<C: ConnectionTrait>(db: &C) -> Result<Vec<job::Model>> {
    use sea_orm::sea_query::ExprTrait as _;
    let now = Utc::now();
    let res = job::Entity::update_many()
        .col_expr(job::Column::Status, status::FAILED.into())
        .col_expr(
            job::Column::LastError,
            Some("the daemon running it stopped before it finished, on every attempt".to_owned())
                .into(),
        )
        .col_expr(job::Column::FinishedAt, Some(now).into())
        .col_expr(job::Column::LeaseOwner, Option::<String>::None.into())
        .col_expr(job::Column::UpdatedAt, now.into())
        .filter(job::Column::Status.eq(status::RUNNING))
        .filter(job::Column::LeaseExpiresAt.lt(now))
        .filter(
            sea_orm::sea_query::Expr::col(job::Column::Attempts)
                .gte(sea_orm::sea_query::Expr::col(job::Column::MaxAttempts)),
        )
        .exec_with_returning(db)
        .await?;
    Ok(res)
}

/// Supersedes (or cancels) the queued jobs about a subject, except those whose key is in
/// `keep`; returns how many changed.
///
/// # Errors
/// Database errors.
pub async fn retire_for_subject<C: ConnectionTrait>(
    db: &C,
    kind: &str,
    subject_kind: &str,
    subject_id: &str,
    new_status: &str,
    keep: &[String],
) -> Result<u64> {
    let now = Utc::now();
    let mut q = job::Entity::update_many()
        .col_expr(job::Column::Status, new_status.into())
        .col_expr(job::Column::FinishedAt, Some(now).into())
        .col_expr(job::Column::UpdatedAt, now.into())
        .filter(job::Column::Kind.eq(kind))
        .filter(job::Column::SubjectKind.eq(subject_kind))
        .filter(job::Column::SubjectId.eq(subject_id))
        .filter(job::Column::Status.eq(status::QUEUED));
    if !keep.is_empty() {
        q = q.filter(job::Column::IdempotencyKey.is_not_in(keep.to_vec()));
    }
    Ok(q.exec(db).await?.rows_affected)
}

/// The earliest run time of a queued job, to sleep until.
///
/// # Errors
/// Database errors.
pub async fn next_due<C: ConnectionTrait>(db: &C) -> Result<Option<DateTime<Utc>>> {
    Ok(job::Entity::find()
        .select_only()
        .column(job::Column::RunAt)
        .filter(job::Column::Status.eq(status::QUEUED))
        .order_by_asc(job::Column::RunAt)
        .limit(1)
        .into_tuple::<DateTime<Utc>>()
        .one(db)
        .await?)
}

/// A job as `outreach jobs` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct JobView {
    pub id: Uuid,
    pub kind: String,
    pub status: String,
    /// When it runs next (a retry's next attempt).
    pub run_at: DateTime<Utc>,
    /// When it was planned for; retries do not move it.
    pub due_at: Option<DateTime<Utc>>,
    pub attempts: i32,
    pub max_attempts: i32,
    pub idempotency_key: String,
    pub subject_kind: Option<String>,
    pub subject_id: Option<String>,
    pub rule: Option<String>,
    pub recipient: Option<String>,
    pub last_error: Option<String>,
    pub lease_owner: Option<String>,
    pub finished_at: Option<DateTime<Utc>>,
    /// What became of the emails the job queued (a reminder's one email): a job can be `done`
    /// while its email bounced, and this says so.
    pub emails: Vec<JobEmail>,
}

/// The fate of one email a job queued.
#[derive(Debug, Clone, Serialize)]
pub struct JobEmail {
    pub to: String,
    /// `sent`, `retrying` (queued again after a failed attempt), `queued`, `sending`, `failed`
    /// or `cancelled`.
    pub status: String,
    /// The server's reply when sent or refused, the reason of the last failure otherwise.
    pub detail: Option<String>,
    pub attempts: i32,
}

impl From<outreach_mailer::entities::outbox::Model> for JobEmail {
    fn from(m: outreach_mailer::entities::outbox::Model) -> Self {
        let status = if m.status == outreach_mailer::outbox::status::QUEUED && m.attempts > 0 {
            "retrying".to_owned()
        } else {
            m.status.clone()
        };
        let detail = match m.status.as_str() {
            outreach_mailer::outbox::status::SENT => m.smtp_reply,
            _ => m.last_error.or(m.smtp_reply),
        };
        Self {
            to: m.recipient_email,
            status,
            detail,
            attempts: m.attempts,
        }
    }
}

impl JobEmail {
    /// One line for people: `sent`, `retrying: 451 ...`, `failed: 550 ...`.
    pub fn summary(&self) -> String {
        match &self.detail {
            Some(d) if self.status != "sent" => format!("{}: {d}", self.status),
            _ => self.status.clone(),
        }
    }
}

impl From<job::Model> for JobView {
    fn from(j: job::Model) -> Self {
        Self {
            id: j.id,
            kind: j.kind,
            status: j.status,
            run_at: j.run_at,
            due_at: j.due_at,
            attempts: j.attempts,
            max_attempts: j.max_attempts,
            idempotency_key: j.idempotency_key,
            subject_kind: j.subject_kind,
            subject_id: j.subject_id,
            rule: j.rule,
            recipient: j.recipient,
            last_error: j.last_error,
            lease_owner: j.lease_owner,
            finished_at: j.finished_at,
            emails: Vec::new(),
        }
    }
}

/// Jobs, newest plan first, filtered by status and kind.
///
/// # Errors
/// Database errors.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    status_filter: Option<&str>,
    kind: Option<&str>,
    limit: u64,
) -> Result<Vec<JobView>> {
    let mut q = job::Entity::find().order_by_desc(job::Column::Id);
    if let Some(s) = status_filter {
        q = q.filter(job::Column::Status.eq(s));
    }
    if let Some(k) = kind {
        q = q.filter(job::Column::Kind.eq(k));
    }
    let mut views: Vec<JobView> = q
        .limit(limit)
        .all(db)
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    let ids: Vec<Uuid> = views.iter().map(|v| v.id).collect();
    let mut emails: std::collections::HashMap<Uuid, Vec<JobEmail>> =
        std::collections::HashMap::new();
    for chunk in ids.chunks(500) {
        use outreach_mailer::entities::outbox;
        for m in outbox::Entity::find()
            .filter(outbox::Column::JobId.is_in(chunk.iter().copied()))
            .order_by_asc(outbox::Column::Id)
            .all(db)
            .await?
        {
            if let Some(job) = m.job_id {
                emails.entry(job).or_default().push(m.into());
            }
        }
    }
    for v in &mut views {
        v.emails = emails.remove(&v.id).unwrap_or_default();
    }
    Ok(views)
}

/// The job `given` names (its id or the end of it), found by key.
async fn pick_job<C: ConnectionTrait>(db: &C, given: &str) -> Result<job::Model> {
    let found = outreach_core::ids::candidates::<job::Entity, _>(db, given).await?;
    let id = outreach_core::ids::pick("job", given, found).map_err(|e| match e {
        outreach_core::Error::NotFound { what, given, .. } => outreach_core::Error::not_found(
            what,
            given,
            "; `outreach jobs` lists jobs and their ids",
        ),
        other => other,
    })?;
    Ok(job::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| outreach_core::Error::not_found("job", given, ""))?)
}

/// Puts a dead-lettered (or cancelled) job back in the queue, due now, with fresh attempts.
///
/// # Errors
/// [`outreach_core::Error::NotFound`], or [`outreach_core::Error::Conflict`] when the job is not
/// failed or cancelled.
pub async fn retry<C: ConnectionTrait>(db: &C, actor: &str, given: &str) -> Result<JobView> {
    let j = pick_job(db, given).await?;
    if j.status != status::FAILED && j.status != status::CANCELLED {
        return Err(outreach_core::Error::Conflict(format!(
            "job {} is {}; only a failed or cancelled job can be retried",
            outreach_core::ids::short(j.id),
            j.status
        ))
        .into());
    }
    let now = Utc::now();
    job::Entity::update_many()
        .col_expr(job::Column::Status, status::QUEUED.into())
        .col_expr(job::Column::Attempts, 0.into())
        .col_expr(job::Column::RunAt, now.into())
        .col_expr(
            job::Column::FinishedAt,
            Option::<DateTime<Utc>>::None.into(),
        )
        .col_expr(job::Column::UpdatedAt, now.into())
        .filter(job::Column::Id.eq(j.id))
        .exec(db)
        .await?;
    outreach_core::audit::record(
        db,
        actor,
        "job.retry",
        "job",
        &j.id.to_string(),
        serde_json::json!({"previous_error": j.last_error}),
    )
    .await?;
    notify(db).await?;
    let fresh = job::Entity::find_by_id(j.id).one(db).await?.unwrap_or(j);
    Ok(fresh.into())
}

/// Cancels a queued job.
///
/// # Errors
/// [`outreach_core::Error::NotFound`], or [`outreach_core::Error::Conflict`] when it is not queued.
pub async fn cancel<C: ConnectionTrait>(db: &C, actor: &str, given: &str) -> Result<JobView> {
    let j = pick_job(db, given).await?;
    let now = Utc::now();
    let res = job::Entity::update_many()
        .col_expr(job::Column::Status, status::CANCELLED.into())
        .col_expr(job::Column::FinishedAt, Some(now).into())
        .col_expr(job::Column::UpdatedAt, now.into())
        .filter(job::Column::Id.eq(j.id))
        .filter(job::Column::Status.eq(status::QUEUED))
        .exec(db)
        .await?;
    if res.rows_affected != 1 {
        return Err(outreach_core::Error::Conflict(format!(
            "job {} is {}; only a queued job can be cancelled",
            outreach_core::ids::short(j.id),
            j.status
        ))
        .into());
    }
    outreach_core::audit::record(
        db,
        actor,
        "job.cancel",
        "job",
        &j.id.to_string(),
        serde_json::json!({}),
    )
    .await?;
    let fresh = job::Entity::find_by_id(j.id).one(db).await?.unwrap_or(j);
    Ok(fresh.into())
}

/// How many jobs there are in each status, and how many queued jobs are due now (for
/// `/metrics`): two grouped counts, no rows read.
///
/// # Errors
/// Database errors.
pub async fn counts<C: ConnectionTrait>(db: &C) -> Result<(Vec<(String, i64)>, i64)> {
    use sea_orm::{PaginatorTrait as _, sea_query::ExprTrait as _};
    let by_status = job::Entity::find()
        .select_only()
        .column(job::Column::Status)
        .column_as(sea_orm::sea_query::Expr::col(job::Column::Id).count(), "n")
        .group_by(job::Column::Status)
        .into_tuple::<(String, i64)>()
        .all(db)
        .await?;
    let due = job::Entity::find()
        .filter(job::Column::Status.eq(status::QUEUED))
        .filter(job::Column::RunAt.lte(Utc::now()))
        .count(db)
        .await?;
    Ok((by_status, i64::try_from(due).unwrap_or(i64::MAX)))
}
