//! The delivery loop over the outbox (DESIGN invariants 2 and 5): claim due rows with a lease
//! in one statement (`FOR UPDATE SKIP LOCKED` on PostgreSQL, a conditional `UPDATE` on SQLite),
//! commit the claim, send, then record what happened. Transient failures go back to the queue
//! with exponential backoff and jitter until `max_attempts`; permanent ones fail at once with
//! the server's reply and mark the refused address, so later messages to it fail without being
//! sent. A lease that expires (a crashed sender) makes the row claimable again; the resend
//! carries the same Message-ID.

use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use sea_orm::sea_query::{Expr, LockBehavior, LockType, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, DatabaseConnection, DbBackend, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, QueryTrait,
};
use serde::Serialize;
use uuid::Uuid;

use outreach_core::entities::{outbox, undeliverable_address};
use outreach_core::outbox::status;

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

async fn undeliverable(
    db: &DatabaseConnection,
    email: &str,
) -> Result<Option<undeliverable_address::Model>> {
    Ok(
        undeliverable_address::Entity::find_by_id(email.trim().to_lowercase())
            .one(db)
            .await?,
    )
}

async fn attempt(db: &DatabaseConnection, mailer: &Mailer, row: &outbox::Model) -> Result<Record> {
    if let Some(mark) = undeliverable(db, &row.recipient_email).await? {
        return Ok(Record::Fail {
            reason: format!(
                "not sent: {} was refused permanently on {} ({}); `outreach outbox requeue` \
                 after the address is fixed",
                mark.email,
                mark.marked_at.format("%Y-%m-%d %H:%M UTC"),
                mark.reason
            ),
            refused: false,
        });
    }
    let message = match mailer
        .render(row)
        .and_then(|rendered| mailer.message(row, &rendered))
    {
        Ok(m) => m,
        Err(e) => {
            return Ok(Record::Fail {
                reason: format!("cannot render: {e}"),
                refused: false,
            });
        }
    };
    Ok(
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
        },
    )
}

/// Writes the outcome, only if this mailer still holds the lease.
async fn record(
    db: &DatabaseConnection,
    mailer: &Mailer,
    row: &outbox::Model,
    outcome: Record,
) -> Result<Attempt> {
    let now = Utc::now();
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
    let tx = outreach_core::db::begin(db).await?;
    let written = update.exec(&tx).await?.rows_affected;
    if written == 1
        && let Some(email) = refused_address
    {
        undeliverable_address::Entity::insert(undeliverable_address::ActiveModel {
            email: Set(email),
            reason: Set(detail.clone()),
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
    tx.commit().await?;
    if written == 0 {
        tracing::warn!(id = %row.id, "the lease on this message expired while sending; another sender owns it now");
    }
    match state {
        status::SENT => {
            tracing::info!(id = %row.id, to = %row.recipient_email, reply = %detail, "sent")
        }
        status::QUEUED => {
            tracing::warn!(id = %row.id, to = %row.recipient_email, reason = %detail, "will retry")
        }
        _ => tracing::warn!(id = %row.id, to = %row.recipient_email, reason = %detail, "failed"),
    }
    Ok(Attempt {
        id: row.id,
        recipient: row.recipient_email.clone(),
        status: state.to_owned(),
        detail,
        next_attempt_at: next,
    })
}

async fn process(
    db: &DatabaseConnection,
    mailer: &Mailer,
    rows: Vec<outbox::Model>,
) -> Result<Vec<Attempt>> {
    let results: Vec<Result<Attempt>> = futures_util::stream::iter(rows)
        .map(|row| async move {
            let outcome = attempt(db, mailer, &row).await?;
            record(db, mailer, &row, outcome).await
        })
        .buffer_unordered(mailer.concurrency)
        .collect()
        .await;
    results.into_iter().collect()
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
    let slots = mailer.limiter.available();
    if slots == 0 {
        return Ok(Vec::new());
    }
    let limit = mailer
        .batch_size
        .min(u64::try_from(slots).unwrap_or(u64::MAX));
    let rows = claim(db, mailer, limit, None).await?;
    let mut allowed = Vec::with_capacity(rows.len());
    for row in rows {
        if mailer.limiter.take() {
            allowed.push(row);
        } else {
            release(db, mailer, row.id).await?;
        }
    }
    process(db, mailer, allowed).await
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
    mailer.limiter.take();
    Ok(process(db, mailer, rows).await?.pop())
}

/// How long the loop may sleep: until the next queued row is due or a lease expires, at most
/// `mail.poll_secs`, and not before the rate limit frees a slot.
async fn idle_wait(db: &DatabaseConnection, mailer: &Mailer) -> Result<Duration> {
    let now = Utc::now();
    let next_queued = outbox::Entity::find()
        .filter(outbox::Column::Status.eq(status::QUEUED))
        .order_by_asc(outbox::Column::NextAttemptAt)
        .one(db)
        .await?
        .map(|r| r.next_attempt_at);
    let next_lease = outbox::Entity::find()
        .filter(outbox::Column::Status.eq(status::SENDING))
        .order_by_asc(outbox::Column::LeaseExpiresAt)
        .one(db)
        .await?
        .and_then(|r| r.lease_expires_at);
    let mut wait = mailer.poll;
    for at in [next_queued, next_lease].into_iter().flatten() {
        let until = (at - now).to_std().unwrap_or(Duration::ZERO);
        wait = wait.min(until);
    }
    Ok(wait
        .max(mailer.limiter.wait())
        .max(Duration::from_millis(50)))
}

/// The delivery loop of the daemon: delivers while messages are due, sleeps until the next one
/// is (or `mail.poll_secs`), and returns when `shutdown` completes. A round that is under way
/// finishes first, so no claimed message is left to wait for its lease to expire.
///
/// # Errors
/// None in practice: a database error is logged and the loop retries after a poll interval.
pub async fn run<F>(db: &DatabaseConnection, mailer: &Mailer, shutdown: F) -> Result<()>
where
    F: Future<Output = ()>,
{
    tokio::pin!(shutdown);
    loop {
        let wait = match deliver_once(db, mailer).await {
            Ok(0) => idle_wait(db, mailer).await.unwrap_or(mailer.poll),
            Ok(_) => Duration::ZERO,
            Err(e) => {
                tracing::error!(error = %e, "delivery round failed; retrying after the poll interval");
                mailer.poll
            }
        };
        tokio::select! {
            biased;
            () = &mut shutdown => return Ok(()),
            () = tokio::time::sleep(wait) => {}
        }
    }
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
