//! The delivery loop over the outbox (DESIGN invariants 2 and 5): claim due rows with a lease
//! in one statement (`FOR UPDATE SKIP LOCKED` on PostgreSQL, a conditional `UPDATE` on SQLite),
//! commit the claim, send, then record what happened. Sending is pipelined: up to
//! `smtp_pool_size` messages are in flight, the next batch is claimed while they are, and each
//! outcome is written as soon as its reply arrives, the replies that arrive during a commit
//! together in the next one, so a crash leaves at most the messages then in flight unrecorded.
//! Transient failures go back to the queue
//! with exponential backoff and jitter until `max_attempts`; permanent ones fail at once with
//! the server's reply and mark the refused address, so later messages to it fail without being
//! sent. A lease that expires (a crashed sender) makes the row claimable again; the resend
//! carries the same Message-ID.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use futures_util::stream::FuturesUnordered;
use futures_util::{FutureExt, StreamExt};
use sea_orm::sea_query::{Expr, LockBehavior, LockType, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, DatabaseConnection, DbBackend, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, QueryTrait,
};
use serde::Serialize;
use tokio::sync::Notify;
use uuid::Uuid;

use crate::entities::{outbox, undeliverable_address};
use crate::outbox::status;

use crate::error::Result;
use crate::mailer::Mailer;
use crate::transport::Outcome;

/// What one delivery attempt of one row came to, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attempt {
    pub id: Uuid,
    pub recipient: String,
    /// The row's status afterwards: sent, queued (to retry) or failed.
    pub status: String,
    /// The server's reply when sent; the reason otherwise.
    pub detail: String,
    /// When a retried row will be tried again.
    pub next_attempt_at: Option<DateTime<Utc>>,
}

fn due(now: DateTime<Utc>) -> Condition {
    Condition::any()
        .add(
            Condition::all()
                .add(outbox::Column::Status.eq(status::QUEUED))
                .add(outbox::Column::NextAttemptAt.lte(now)),
        )
        .add(
            Condition::all()
                .add(outbox::Column::Status.eq(status::SENDING))
                .add(outbox::Column::LeaseExpiresAt.lt(now)),
        )
}

/// Claims up to `limit` due rows (or the one row `only`) for this mailer, in one statement.
async fn claim(
    db: &DatabaseConnection,
    mailer: &Mailer,
    limit: u64,
    only: Option<Uuid>,
) -> Result<Vec<outbox::Model>> {
    let now = Utc::now();
    let lease = chrono::Duration::from_std(mailer.lease).unwrap_or(chrono::Duration::MAX);
    let mut ids = outbox::Entity::find()
        .select_only()
        .column(outbox::Column::Id)
        .filter(due(now))
        .order_by_asc(outbox::Column::NextAttemptAt)
        .order_by_asc(outbox::Column::Id)
        .limit(limit);
    if let Some(id) = only {
        ids = ids.filter(outbox::Column::Id.eq(id));
    }
    if db.get_database_backend() == DbBackend::Postgres {
        // Concurrent daemons skip each other's rows instead of waiting for them.
        ids = ids.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    let claimed = outbox::Entity::update_many()
        .col_expr(outbox::Column::Status, Expr::value(status::SENDING))
        .col_expr(
            outbox::Column::LeaseOwner,
            Expr::value(mailer.owner.clone()),
        )
        .col_expr(outbox::Column::LeaseExpiresAt, Expr::value(now + lease))
        .col_expr(outbox::Column::UpdatedAt, Expr::value(now))
        .filter(outbox::Column::Id.in_subquery(ids.into_query()))
        .exec_with_returning(db)
        .await?;
    Ok(claimed)
}

/// The wait before attempt `attempts + 1`: `base * 2^(attempts - 1)`, at most `max`, drawn
/// at random between half and all of it so that retries of many messages spread out.
pub fn backoff(attempts: i32, base: Duration, max: Duration) -> Duration {
    let exp = u32::try_from(attempts.saturating_sub(1).clamp(0, 30)).unwrap_or(0);
    let full = base.saturating_mul(1u32 << exp).min(max);
    let half = full / 2;
    half + full.saturating_sub(half).mul_f64(fastrand::f64())
}

/// How a claimed row ends this round.
enum Record {
    Sent(String),
    Retry(String),
    Fail { reason: String, refused: bool },
}

fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "an internal error".to_owned())
}

/// The undeliverable marks of a batch's recipients, in one query.
async fn undeliverable(
    db: &DatabaseConnection,
    rows: &[outbox::Model],
) -> Result<HashMap<String, undeliverable_address::Model>> {
    let emails: Vec<String> = rows
        .iter()
        .map(|r| r.recipient_email.trim().to_lowercase())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    if emails.is_empty() {
        return Ok(HashMap::new());
    }
    let mut marks = HashMap::new();
    // Bounded IN lists: SQLite allows a few thousand parameters per statement.
    for chunk in emails.chunks(500) {
        for mark in undeliverable_address::Entity::find()
            .filter(undeliverable_address::Column::Email.is_in(chunk.iter().cloned()))
            .all(db)
            .await?
        {
            marks.insert(mark.email.clone(), mark);
        }
    }
    Ok(marks)
}

async fn attempt(
    mailer: &Mailer,
    mark: Option<&undeliverable_address::Model>,
    row: &outbox::Model,
) -> Record {
    if let Some(mark) = mark {
        return Record::Fail {
            reason: format!(
                "not sent: {} was refused permanently on {} ({}); `outreach outbox requeue` \
                 after the address is fixed",
                mark.email,
                mark.marked_at.format("%Y-%m-%d %H:%M UTC"),
                mark.reason
            ),
            refused: false,
        };
    }
    let message = match mailer
        .render(row)
        .and_then(|rendered| mailer.message(row, &rendered))
    {
        Ok(m) => m,
        Err(e) => {
            return Record::Fail {
                reason: format!("cannot render: {e}"),
                refused: false,
            };
        }
    };
    match mailer.transport.send(&message, &row.message_id).await {
        Outcome::Sent { reply } => Record::Sent(reply),
        Outcome::Transient { reason } => Record::Retry(reason),
        Outcome::Permanent {
            reason,
            address_refused,
        } => Record::Fail {
            reason,
            refused: address_refused,
        },
    }
}

/// One outcome, ready to be written with others in one transaction.
struct Planned {
    update: sea_orm::UpdateMany<outbox::Entity>,
    /// The address to mark undeliverable, if the server refused it for good.
    refused_address: Option<String>,
    attempt: Attempt,
}

/// The write that records `outcome` on `row`, conditional on this mailer still holding the lease.
fn plan(mailer: &Mailer, row: &outbox::Model, outcome: Record, now: DateTime<Utc>) -> Planned {
    let attempts = row.attempts + 1;
    let mut update = outbox::Entity::update_many()
        .col_expr(outbox::Column::Attempts, Expr::value(attempts))
        .col_expr(
            outbox::Column::LeaseOwner,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            outbox::Column::LeaseExpiresAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(outbox::Column::UpdatedAt, Expr::value(now))
        .filter(outbox::Column::Id.eq(row.id))
        .filter(outbox::Column::Status.eq(status::SENDING))
        .filter(outbox::Column::LeaseOwner.eq(mailer.owner.clone()));
    let mut refused_address = None;
    let (state, detail, next) = match outcome {
        Record::Sent(reply) => {
            update = update
                .col_expr(outbox::Column::Status, Expr::value(status::SENT))
                .col_expr(outbox::Column::SmtpReply, Expr::value(reply.clone()))
                .col_expr(outbox::Column::SentAt, Expr::value(now))
                .col_expr(
                    outbox::Column::LastError,
                    Expr::value(Option::<String>::None),
                );
            (status::SENT, reply, None)
        }
        Record::Retry(reason) if attempts < mailer.max_attempts => {
            let wait = backoff(attempts, mailer.retry_base, mailer.retry_max);
            let at = now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX);
            update = update
                .col_expr(outbox::Column::Status, Expr::value(status::QUEUED))
                .col_expr(outbox::Column::NextAttemptAt, Expr::value(at))
                .col_expr(outbox::Column::LastError, Expr::value(reason.clone()));
            (status::QUEUED, reason, Some(at))
        }
        Record::Retry(reason) => {
            let reason = format!("gave up after {attempts} attempts; last: {reason}");
            update = update
                .col_expr(outbox::Column::Status, Expr::value(status::FAILED))
                .col_expr(outbox::Column::LastError, Expr::value(reason.clone()));
            (status::FAILED, reason, None)
        }
        Record::Fail { reason, refused } => {
            if refused {
                refused_address = Some(row.recipient_email.trim().to_lowercase());
                // The server's reply is the permanent answer: keep it where a reply goes.
                update = update.col_expr(outbox::Column::SmtpReply, Expr::value(reason.clone()));
            }
            update = update
                .col_expr(outbox::Column::Status, Expr::value(status::FAILED))
                .col_expr(outbox::Column::LastError, Expr::value(reason.clone()));
            (status::FAILED, reason, None)
        }
    };
    Planned {
        update,
        refused_address,
        attempt: Attempt {
            id: row.id,
            recipient: row.recipient_email.clone(),
            status: state.to_owned(),
            detail,
            next_attempt_at: next,
        },
    }
}

/// Writes a group of outcomes in one transaction (one commit for however many replies arrived
/// meanwhile), each only if this mailer still holds the row's lease.
async fn record_group(
    db: &DatabaseConnection,
    mailer: &Mailer,
    group: Vec<(outbox::Model, Record)>,
) -> Result<Vec<Attempt>> {
    let now = Utc::now();
    let planned: Vec<Planned> = group
        .into_iter()
        .map(|(row, outcome)| plan(mailer, &row, outcome, now))
        .collect();
    let tx = outreach_core::db::begin(db).await?;
    let mut done = Vec::with_capacity(planned.len());
    for p in planned {
        let written = p.update.exec(&tx).await?.rows_affected;
        if written == 1
            && let Some(email) = p.refused_address
        {
            undeliverable_address::Entity::insert(undeliverable_address::ActiveModel {
                email: Set(email),
                reason: Set(p.attempt.detail.clone()),
                marked_at: Set(now),
            })
            .on_conflict(
                OnConflict::column(undeliverable_address::Column::Email)
                    .update_columns([
                        undeliverable_address::Column::Reason,
                        undeliverable_address::Column::MarkedAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(&tx)
            .await?;
        }
        done.push((p.attempt, written));
    }
    tx.commit().await?;
    Ok(done
        .into_iter()
        .map(|(a, written)| {
            if written == 0 {
                tracing::warn!(id = %a.id, "the lease on this message expired while sending; another sender owns it now");
            }
            match a.status.as_str() {
                status::SENT => {
                    tracing::info!(id = %a.id, to = %a.recipient, reply = %a.detail, "sent");
                }
                status::QUEUED => {
                    tracing::warn!(id = %a.id, to = %a.recipient, reason = %a.detail, "will retry");
                }
                _ => tracing::warn!(id = %a.id, to = %a.recipient, reason = %a.detail, "failed"),
            }
            a
        })
        .collect())
}

/// A claimed row and its recipient's undeliverable mark, if there is one.
type Claimed = (outbox::Model, Option<undeliverable_address::Model>);

/// Outcomes written per transaction at most.
const GROUP: usize = 64;

/// Sends one claimed row; a bug that panics on it fails that row alone, with its reason.
async fn send_one(mailer: &Mailer, (row, mark): Claimed) -> (outbox::Model, Record) {
    let outcome = std::panic::AssertUnwindSafe(attempt(mailer, mark.as_ref(), &row))
        .catch_unwind()
        .await
        .unwrap_or_else(|panic| Record::Fail {
            reason: format!(
                "not sent: the mailer failed on this message ({}); the other messages go on",
                panic_text(panic.as_ref())
            ),
            refused: false,
        });
    (row, outcome)
}

/// Takes rate-limit slots for claimed rows (giving back the rows it has none for) and looks up
/// their recipients' undeliverable marks in one query.
async fn with_marks(
    db: &DatabaseConnection,
    mailer: &Mailer,
    rows: Vec<outbox::Model>,
) -> Result<Vec<Claimed>> {
    let mut allowed = Vec::with_capacity(rows.len());
    for row in rows {
        if mailer.limiter.take() {
            allowed.push(row);
        } else {
            release(db, mailer, row.id).await?;
        }
    }
    attach_marks(db, allowed).await
}

/// Each row with its recipient's undeliverable mark, looked up for all of them in one query.
async fn attach_marks(db: &DatabaseConnection, rows: Vec<outbox::Model>) -> Result<Vec<Claimed>> {
    let marks = undeliverable(db, &rows).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let mark = marks
                .get(&row.recipient_email.trim().to_lowercase())
                .cloned();
            (row, mark)
        })
        .collect())
}

/// Claims up to a batch of due rows, no more than the rate limit allows now.
async fn claim_batch(db: &DatabaseConnection, mailer: &Mailer) -> Result<Vec<Claimed>> {
    let slots = mailer.limiter.available();
    if slots == 0 {
        return Ok(Vec::new());
    }
    let limit = mailer
        .batch_size
        .min(u64::try_from(slots).unwrap_or(u64::MAX));
    let rows = claim(db, mailer, limit, None).await?;
    with_marks(db, mailer, rows).await
}

/// What [`pump`] did.
#[derive(Default)]
struct Pumped {
    /// Outcomes recorded.
    recorded: usize,
    /// The outcomes themselves, when asked for.
    attempts: Vec<Attempt>,
    /// The stop signal came: no more claims, and rows not yet sent were given back.
    stopped: bool,
    /// The first database error; the rows it concerns keep their lease and are sent again
    /// after it expires.
    error: Option<crate::error::Error>,
}

/// Delivers `first` with up to `mailer.concurrency` messages in flight and records each outcome
/// as its reply arrives: on SQLite, replies that come in while a commit is under way are written
/// together by the next one (at most [`GROUP`] per transaction); on PostgreSQL each commits at
/// once beside the others. With `refill`, the next batch is claimed while this one is still in
/// flight (whenever fewer than a batch of rows wait for a connection), until a claim finds
/// nothing or `stop` completes; then the rows claimed and not yet sent are given back and what is
/// in flight is finished and recorded. A claimed row whose lease is half gone is not sent: it
/// stays claimed until its lease expires and goes out on a later claim.
async fn pump<F>(
    db: &DatabaseConnection,
    mailer: &Mailer,
    first: Vec<Claimed>,
    refill: bool,
    mut stop: Option<Pin<&mut F>>,
    keep_attempts: bool,
) -> Pumped
where
    F: Future<Output = ()>,
{
    let batch = usize::try_from(mailer.batch_size)
        .unwrap_or(usize::MAX)
        .max(1);
    let mut waiting: VecDeque<Claimed> = first.into();
    let mut sending = FuturesUnordered::new();
    let mut replies: Vec<(outbox::Model, Record)> = Vec::new();
    let mut committing = FuturesUnordered::new();
    // SQLite has one writer: a second commit would only wait for the first (and its busy
    // handler sleeps). PostgreSQL commits side by side, so a reply never waits for another's.
    let commits_at_once = if db.get_database_backend() == DbBackend::Postgres {
        mailer.concurrency
    } else {
        1
    };
    let mut claiming: Option<BoxFuture<'_, Result<Vec<Claimed>>>> = None;
    let mut exhausted = !refill;
    let mut out = Pumped::default();
    let mut in_commit = 0;
    let margin = chrono::Duration::from_std(mailer.lease / 2).unwrap_or(chrono::Duration::MAX);
    loop {
        // Messages the server may have accepted and whose outcome is not committed yet are what a
        // crash sends twice: at most `concurrency` of them at any moment, so a slow commit holds
        // back new sends rather than letting replies pile up unrecorded.
        while sending.len() + replies.len() + in_commit < mailer.concurrency {
            let Some(claimed) = waiting.pop_front() else {
                break;
            };
            // A row whose lease is running out would be claimed again (by anyone, this loop
            // too) while it is being sent: leave it to that claim instead.
            let lease_left = claimed
                .0
                .lease_expires_at
                .map_or(chrono::Duration::zero(), |at| at - Utc::now());
            if lease_left < margin {
                tracing::debug!(id = %claimed.0.id, "claimed too long ago to send now; it goes out on a later claim");
                continue;
            }
            sending.push(send_one(mailer, claimed));
        }
        // Claim ahead while fewer than a batch wait for a connection, holding at most one
        // batch beyond what is being sent.
        if !exhausted
            && claiming.is_none()
            && waiting.len() < batch
            && waiting.len() + sending.len() < mailer.concurrency + batch
        {
            claiming = Some(claim_batch(db, mailer).boxed());
        }
        while committing.len() < commits_at_once && !replies.is_empty() {
            let take = replies.len().min(GROUP);
            let group: Vec<_> = replies.drain(..take).collect();
            in_commit += group.len();
            let size = group.len();
            committing.push(record_group(db, mailer, group).map(move |r| (size, r)));
        }
        if sending.is_empty() && waiting.is_empty() && committing.is_empty() && claiming.is_none() {
            return out;
        }
        let may_stop = stop.is_some() && !out.stopped;
        tokio::select! {
            Some(reply) = sending.next(), if !sending.is_empty() => replies.push(reply),
            Some((size, written)) = committing.next(), if !committing.is_empty() => {
                in_commit -= size;
                match written {
                    Ok(attempts) => {
                        out.recorded += attempts.len();
                        if keep_attempts {
                            out.attempts.extend(attempts);
                        }
                    }
                    Err(e) => {
                        exhausted = true;
                        out.error.get_or_insert(e);
                    }
                }
            }
            claimed = async { claiming.as_mut().expect("a claim").await }, if claiming.is_some() => {
                claiming = None;
                match claimed {
                    Ok(rows) if rows.is_empty() => exhausted = true,
                    Ok(rows) => waiting.extend(rows),
                    Err(e) => {
                        exhausted = true;
                        out.error.get_or_insert(e);
                    }
                }
            }
            () = async {
                if let Some(stop) = stop.as_mut() {
                    stop.as_mut().await;
                }
            }, if may_stop => {
                out.stopped = true;
                exhausted = true;
                for (row, _) in waiting.drain(..) {
                    if let Err(e) = release(db, mailer, row.id).await {
                        out.error.get_or_insert(e);
                    }
                }
            }
        }
    }
}

/// Claims the due messages (at most `mail.batch_size`, and no more than the rate limit allows
/// now), delivers them and records each outcome. Returns how many rows it processed: 0 means
/// nothing was due, so tests can drain the outbox deterministically.
///
/// # Errors
/// Database errors. Delivery failures are not errors: they are recorded on their rows.
pub async fn deliver_once(db: &DatabaseConnection, mailer: &Mailer) -> Result<usize> {
    Ok(deliver_batch(db, mailer).await?.len())
}

/// As [`deliver_once`], returning what happened to each row.
///
/// # Errors
/// Database errors.
pub async fn deliver_batch(db: &DatabaseConnection, mailer: &Mailer) -> Result<Vec<Attempt>> {
    let first = claim_batch(db, mailer).await?;
    finish(pump::<std::future::Ready<()>>(db, mailer, first, false, None, true).await)
}

fn finish(pumped: Pumped) -> Result<Vec<Attempt>> {
    match pumped.error {
        Some(e) => Err(e),
        None => Ok(pumped.attempts),
    }
}

/// Gives a claimed row back untouched (the rate limit filled up meanwhile).
async fn release(db: &DatabaseConnection, mailer: &Mailer, id: Uuid) -> Result<()> {
    outbox::Entity::update_many()
        .col_expr(outbox::Column::Status, Expr::value(status::QUEUED))
        .col_expr(
            outbox::Column::LeaseOwner,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            outbox::Column::LeaseExpiresAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(outbox::Column::Id.eq(id))
        .filter(outbox::Column::LeaseOwner.eq(mailer.owner.clone()))
        .exec(db)
        .await?;
    Ok(())
}

/// Delivers one message now, if it is due (what `outreach mail test` does after queuing).
/// `None` when the row is not due or another sender holds it.
///
/// # Errors
/// Database errors.
pub async fn deliver_now(
    db: &DatabaseConnection,
    mailer: &Mailer,
    id: Uuid,
) -> Result<Option<Attempt>> {
    let rows = claim(db, mailer, 1, Some(id)).await?;
    // Asked for by a person: sent even when the rate limit is full (it still counts).
    mailer.limiter.take();
    let first = attach_marks(db, rows).await?;
    Ok(finish(pump::<std::future::Ready<()>>(db, mailer, first, false, None, true).await)?.pop())
}

/// How long until something needs the loop: the next queued row coming due or a lease
/// expiring, at most `mail.poll_secs`, and not before the rate limit frees a slot. Zero when a
/// row is due now. Two indexed reads; no write, so on SQLite it never takes the write lock.
async fn idle_wait(db: &DatabaseConnection, mailer: &Mailer) -> Result<Duration> {
    let now = Utc::now();
    let next_queued = outbox::Entity::find()
        .select_only()
        .column(outbox::Column::NextAttemptAt)
        .filter(outbox::Column::Status.eq(status::QUEUED))
        .order_by_asc(outbox::Column::NextAttemptAt)
        .into_tuple::<DateTime<Utc>>()
        .one(db)
        .await?;
    let next_lease = outbox::Entity::find()
        .select_only()
        .column(outbox::Column::LeaseExpiresAt)
        .filter(outbox::Column::Status.eq(status::SENDING))
        .order_by_asc(outbox::Column::LeaseExpiresAt)
        .into_tuple::<Option<DateTime<Utc>>>()
        .one(db)
        .await?
        .flatten();
    let mut wait = mailer.poll;
    for at in [next_queued, next_lease].into_iter().flatten() {
        let until = (at - now).to_std().unwrap_or(Duration::ZERO);
        wait = wait.min(until);
    }
    Ok(wait.max(mailer.limiter.wait()))
}

/// On SQLite nothing tells this process that another one committed a row, so an idle loop
/// looks (two indexed reads) at least this often.
const SQLITE_CHECK: Duration = Duration::from_millis(100);

/// The shortest nap, so rows another daemon holds locked for an instant do not make the loop spin.
const MIN_NAP: Duration = Duration::from_millis(5);

/// Listens on [`crate::outbox::NOTIFY_CHANNEL`] and wakes `wake` for every
/// notification. A lost connection is logged once, retried every second, and counts as a
/// wake-up when it comes back (notifications sent meanwhile were missed).
async fn listen(db: DatabaseConnection, wake: Arc<Notify>) {
    use sea_orm::sqlx::postgres::PgListener;
    let pool = db.get_postgres_connection_pool().clone();
    let mut down = false;
    loop {
        let listener = async {
            let mut l = PgListener::connect_with(&pool).await?;
            l.listen(crate::outbox::NOTIFY_CHANNEL).await?;
            Ok::<_, sea_orm::sqlx::Error>(l)
        }
        .await;
        let mut listener = match listener {
            Ok(l) => l,
            Err(e) => {
                if !down {
                    tracing::warn!(error = %e, "cannot listen for new email on PostgreSQL; looking every poll interval until it is back");
                    down = true;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if down {
            tracing::info!("listening for new email on PostgreSQL again");
        }
        wake.notify_one();
        loop {
            match listener.recv().await {
                Ok(_) => wake.notify_one(),
                Err(e) => {
                    tracing::warn!(error = %e, "lost the PostgreSQL connection that listens for new email; reconnecting");
                    down = true;
                    break;
                }
            }
        }
    }
}

/// The delivery loop of the daemon: delivers while messages are due; when none is, sleeps until
/// the next one is, `mail.poll_secs` at most, and wakes at once when a row is committed: through
/// [`crate::outbox::wake`] in this process, PostgreSQL's LISTEN/NOTIFY across processes,
/// and on SQLite by looking every 100 ms. It returns when `shutdown` completes: messages being
/// sent are finished and recorded, and claimed ones not yet sent are given back, so none waits
/// for its lease to expire (except one whose lease was already half gone when its turn came).
///
/// # Errors
/// None in practice: a database error is logged and the loop retries after a poll interval.
pub async fn run<F>(db: &DatabaseConnection, mailer: &Mailer, shutdown: F) -> Result<()>
where
    F: Future<Output = ()>,
{
    tokio::pin!(shutdown);
    let postgres = db.get_database_backend() == DbBackend::Postgres;
    let notified = Arc::new(Notify::new());
    let listener = postgres.then(|| tokio::spawn(listen(db.clone(), notified.clone())));
    let check = if postgres { mailer.poll } else { SQLITE_CHECK };
    let mut failing = false;
    'deliver: loop {
        let round = match claim_batch(db, mailer).await {
            Ok(first) if first.is_empty() => Ok(0),
            Ok(first) => {
                let pumped = pump(db, mailer, first, true, Some(shutdown.as_mut()), false).await;
                if pumped.stopped {
                    // The shutdown future has completed: it must not be polled again.
                    if let Some(e) = pumped.error {
                        tracing::warn!(error = %e, "a delivery round failed while stopping; its messages are sent again after their lease");
                    }
                    break 'deliver;
                }
                match pumped.error {
                    Some(e) => Err(e),
                    None => Ok(pumped.recorded),
                }
            }
            Err(e) => Err(e),
        };
        match round {
            Ok(0) => {}
            Ok(_) => continue,
            Err(e) => {
                if !failing {
                    tracing::warn!(error = %e, "a delivery round failed; retrying every second");
                    failing = true;
                }
                tokio::select! {
                    biased;
                    () = &mut shutdown => break 'deliver,
                    () = tokio::time::sleep(Duration::from_secs(1)) => continue,
                }
            }
        }
        // Idle: read (never write) until something is due or a commit wakes the loop.
        loop {
            // A commit from now on wakes the loop, also while it is still reading.
            let woken = crate::outbox::wakeups().notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            let wait = match idle_wait(db, mailer).await {
                Ok(wait) => {
                    if failing {
                        tracing::info!("the outbox can be read and written again; delivering");
                        failing = false;
                    }
                    wait
                }
                Err(e) => {
                    if !failing {
                        tracing::warn!(error = %e, "cannot read the outbox; retrying every second");
                        failing = true;
                    }
                    Duration::from_secs(1)
                }
            };
            if wait.is_zero() {
                // Due now; if the last claim found nothing, another sender holds it an instant.
                tokio::select! {
                    biased;
                    () = &mut shutdown => break 'deliver,
                    () = tokio::time::sleep(MIN_NAP) => continue 'deliver,
                }
            }
            let nap = wait.min(check).max(MIN_NAP);
            tokio::select! {
                biased;
                () = &mut shutdown => break 'deliver,
                () = &mut woken => continue 'deliver,
                () = notified.notified() => continue 'deliver,
                () = tokio::time::sleep(nap) => {
                    if nap >= wait && !failing {
                        continue 'deliver;
                    }
                }
            }
        }
    }
    if let Some(l) = listener {
        l.abort();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_within_jitter_and_stops_at_the_maximum() {
        let base = Duration::from_secs(30);
        let max = Duration::from_secs(3600);
        for _ in 0..100 {
            let first = backoff(1, base, max);
            assert!(
                first >= Duration::from_secs(15) && first <= base,
                "{first:?}"
            );
            let third = backoff(3, base, max);
            assert!(
                third >= Duration::from_secs(60) && third <= Duration::from_secs(120),
                "{third:?}"
            );
            let late = backoff(30, base, max);
            assert!(late >= max / 2 && late <= max, "{late:?}");
        }
        assert_eq!(backoff(5, Duration::ZERO, max), Duration::ZERO);
    }
}
