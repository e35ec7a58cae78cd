//! The outbox: emails waiting to be delivered, written in the same transaction as the decision
//! to send them (DESIGN invariant 1). Core only queues; the mailer renders and delivers.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbBackend, EntityTrait, sea_query::OnConflict};
use serde::Serialize;
use tokio::sync::Notify;
use uuid::Uuid;

use crate::entities::outbox;
use outreach_core::Result;
use outreach_core::domain::EmailAddress;

/// Where an outbox row is in its life.
pub mod status {
    pub const QUEUED: &str = "queued";
    pub const SENDING: &str = "sending";
    pub const SENT: &str = "sent";
    pub const FAILED: &str = "failed";
    pub const CANCELLED: &str = "cancelled";
}

/// An email to queue.
#[derive(Debug, Clone)]
pub struct NewEmail {
    /// Unique per message, derived from what caused it (e.g. `reminder:<rule>:<meeting>:<version>:<recipient>`).
    pub idempotency_key: String,
    pub recipient: EmailAddress,
    pub recipient_name: Option<String>,
    /// Template name under `templates/email/`.
    pub template: String,
    /// ISO 639-1 code of the language to render in.
    pub language: String,
    /// The template's merge context.
    pub context: serde_json::Value,
    /// Not before this instant.
    pub send_at: DateTime<Utc>,
    /// What the message is about, for the ledger: ("meeting", id), ("digest", handle)...
    pub subject: Option<(String, String)>,
    pub job_id: Option<Uuid>,
}

/// The stable Message-ID local part for an idempotency key: the same key always gives the same
/// id, so a resend after a crash is recognisable as the same message. The mailer adds `@domain`.
pub fn message_id_for(idempotency_key: &str) -> String {
    Uuid::new_v5(&Uuid::NAMESPACE_OID, idempotency_key.as_bytes())
        .simple()
        .to_string()
}

/// What `enqueue` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Enqueued {
    Queued(Uuid),
    /// A row with the same idempotency key exists; nothing was written.
    AlreadyQueued,
}

/// The PostgreSQL channel [`enqueue`] notifies, so delivery loops in other processes wake the
/// moment the row is committed (a NOTIFY is delivered at commit, never for a rolled-back row).
pub const NOTIFY_CHANNEL: &str = "outreach_outbox";

static COMMITTED: LazyLock<Notify> = LazyLock::new(Notify::new);

/// Tells the delivery loops of this process that outbox rows may have been committed. Call it
/// after committing a transaction that queued email; it costs nothing when no loop waits.
pub fn wake() {
    COMMITTED.notify_waiters();
}

/// The in-process wake-up [`wake`] sends. A loop makes the [`Notify::notified`] future and
/// enables it before it looks for due rows, so a commit in between is not missed.
pub fn wakeups() -> &'static Notify {
    &COMMITTED
}

/// Queues an email inside the caller's transaction. Queuing the same idempotency key twice
/// inserts nothing the second time. On PostgreSQL it also notifies [`NOTIFY_CHANNEL`].
///
/// # Errors
/// Database errors.
pub async fn enqueue<C: ConnectionTrait>(db: &C, email: NewEmail) -> Result<Enqueued> {
    let id = Uuid::now_v7();
    let now = Utc::now();
    let (subject_kind, subject_id) = email.subject.unzip();
    let row = outbox::ActiveModel {
        id: Set(id),
        message_id: Set(message_id_for(&email.idempotency_key)),
        idempotency_key: Set(email.idempotency_key),
        recipient_email: Set(email.recipient.as_str().to_owned()),
        recipient_name: Set(email.recipient_name),
        template: Set(email.template),
        language: Set(email.language),
        context: Set(email.context.to_string()),
        status: Set(status::QUEUED.to_owned()),
        attempts: Set(0),
        next_attempt_at: Set(email.send_at),
        lease_owner: Set(None),
        lease_expires_at: Set(None),
        last_error: Set(None),
        smtp_reply: Set(None),
        subject_kind: Set(subject_kind),
        subject_id: Set(subject_id),
        job_id: Set(email.job_id),
        created_at: Set(now),
        updated_at: Set(now),
        sent_at: Set(None),
    };
    let inserted = outbox::Entity::insert(row)
        .on_conflict(
            OnConflict::column(outbox::Column::IdempotencyKey)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    if inserted == 1 && db.get_database_backend() == DbBackend::Postgres {
        db.execute_unprepared(&format!("NOTIFY {NOTIFY_CHANNEL}"))
            .await?;
    }
    Ok(if inserted == 1 {
        Enqueued::Queued(id)
    } else {
        Enqueued::AlreadyQueued
    })
}

/// How many outbox rows there are in each status (for `/metrics`): one grouped count.
///
/// # Errors
/// Database errors.
pub async fn counts<C: ConnectionTrait>(db: &C) -> Result<Vec<(String, i64)>> {
    use sea_orm::{QuerySelect as _, sea_query::ExprTrait as _};
    Ok(outbox::Entity::find()
        .select_only()
        .column(outbox::Column::Status)
        .column_as(
            sea_orm::sea_query::Expr::col(outbox::Column::Id).count(),
            "n",
        )
        .group_by(outbox::Column::Status)
        .into_tuple::<(String, i64)>()
        .all(db)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_are_stable_per_key_and_differ_between_keys() {
        assert_eq!(message_id_for("a"), message_id_for("a"));
        assert_ne!(message_id_for("a"), message_id_for("b"));
        assert_eq!(message_id_for("a").len(), 32);
    }
}
