//! The outbox as staff see it: which messages are queued, sent or failed and why, the addresses
//! refused for good, and requeueing a failed message (which also lifts the refusal of its
//! address, since requeueing says the address is worth trying again).

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel, ModelTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use serde::Serialize;
use uuid::Uuid;

use crate::entities::{outbox, undeliverable_address};
use crate::outbox::{Enqueued, NewEmail, enqueue, status};
use outreach_core::domain::EmailAddress;
use outreach_core::{audit, ids};

use crate::context::{Recipient, TestMessage};
use crate::error::Result;
use crate::render::EmailContext;

/// Queues one test message to `to`, due now, with its audit record, in one transaction; the
/// delivery loop (or `deliver_now`) sends it through the configured transport. Each call is its
/// own message: the key is who asked and when, to the nanosecond.
///
/// # Errors
/// [`outreach_core::Error::Invalid`] for a language emails are not written in; database errors.
pub async fn queue_test(
    db: &DatabaseConnection,
    actor: &str,
    to: &EmailAddress,
    lang: &str,
    time_zone: &str,
) -> Result<Uuid> {
    let lang = lang.trim().to_lowercase();
    if crate::locale::Lang::parse(&lang).is_none() {
        return Err(outreach_core::Error::invalid(
            "lang",
            format!(
                "'{lang}' is not one of {}",
                crate::locale::LANGUAGES.join(", ")
            ),
        )
        .into());
    }
    let ctx = TestMessage {
        recipient: Recipient {
            name: to.as_str().split('@').next().unwrap_or("").to_owned(),
            email: to.as_str().to_owned(),
            time_zone: time_zone.to_owned(),
            language: lang.clone(),
        },
        sent_at: Utc::now(),
    };
    let tx = outreach_core::db::begin(db).await?;
    let queued = enqueue(
        &tx,
        NewEmail {
            idempotency_key: format!(
                "mail-test:{actor}:{}",
                Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
            ),
            recipient: to.clone(),
            recipient_name: None,
            template: TestMessage::TEMPLATE.to_owned(),
            language: lang,
            context: serde_json::to_value(&ctx).map_err(|e| crate::Error::Render(e.to_string()))?,
            send_at: Utc::now(),
            subject: Some(("user".to_owned(), actor.to_owned())),
            job_id: None,
        },
    )
    .await?;
    let Enqueued::Queued(id) = queued else {
        return Err(outreach_core::Error::Conflict(
            "the test message was already queued".to_owned(),
        )
        .into());
    };
    audit::record(
        &tx,
        actor,
        "mail.test",
        "outbox",
        &id.to_string(),
        serde_json::json!({ "to": to.as_str() }),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// One outbox message.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OutboxEntry {
    pub id: Uuid,
    pub status: String,
    pub recipient: String,
    pub template: String,
    pub language: String,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    /// The SMTP server's reply (or the file written).
    pub reply: Option<String>,
    /// Why the last attempt did not succeed.
    pub reason: Option<String>,
    pub message_id: String,
    pub idempotency_key: String,
    pub created_at: DateTime<Utc>,
}

impl From<outbox::Model> for OutboxEntry {
    fn from(m: outbox::Model) -> Self {
        Self {
            id: m.id,
            status: m.status,
            recipient: m.recipient_email,
            template: m.template,
            language: m.language,
            attempts: m.attempts,
            next_attempt_at: m.next_attempt_at,
            sent_at: m.sent_at,
            reply: m.smtp_reply,
            reason: m.last_error,
            message_id: m.message_id,
            idempotency_key: m.idempotency_key,
            created_at: m.created_at,
        }
    }
}

const STATUSES: [&str; 5] = [
    status::QUEUED,
    status::SENDING,
    status::SENT,
    status::FAILED,
    status::CANCELLED,
];

/// Messages with `status` (all when `None`), newest first, at most `limit`.
///
/// # Errors
/// [`outreach_core::Error::Invalid`] for an unknown status; database errors.
pub async fn list(
    db: &DatabaseConnection,
    status_filter: Option<&str>,
    limit: u64,
) -> Result<Vec<OutboxEntry>> {
    let mut query = outbox::Entity::find()
        .order_by_desc(outbox::Column::CreatedAt)
        .order_by_desc(outbox::Column::Id)
        .limit(limit);
    match status_filter.map(|s| s.trim().to_lowercase()) {
        None => {}
        Some(s) if s == "all" => {}
        Some(s) if STATUSES.contains(&s.as_str()) => {
            query = query.filter(outbox::Column::Status.eq(s));
        }
        Some(s) => {
            return Err(outreach_core::Error::invalid(
                "--status",
                format!(
                    "'{s}' is not a status; use one of {}, all",
                    STATUSES.join(", ")
                ),
            )
            .into());
        }
    }
    Ok(query.all(db).await?.into_iter().map(Into::into).collect())
}

/// Addresses refused permanently, most recent first.
///
/// # Errors
/// Database errors.
pub async fn undeliverable(db: &DatabaseConnection) -> Result<Vec<undeliverable_address::Model>> {
    Ok(undeliverable_address::Entity::find()
        .order_by_desc(undeliverable_address::Column::MarkedAt)
        .all(db)
        .await?)
}

/// What `requeue` did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Requeued {
    pub entry: OutboxEntry,
    /// The address whose permanent refusal was lifted, if it had one.
    pub cleared_address: Option<String>,
}

/// Puts a failed message back in the queue, due now, with its attempts reset; lifts the
/// refusal of its address; writes an audit record. One transaction. Coordinators and admins
/// only.
///
/// # Errors
/// [`outreach_core::Error::NotFound`]/`Ambiguous` for an id that names no or several
/// messages, `Conflict` for a message that is not failed; database errors.
pub async fn requeue(db: &DatabaseConnection, actor: &str, given: &str) -> Result<Requeued> {
    let tx = outreach_core::db::begin(db).await?;
    outreach_core::actor::require_role_of(
        &tx,
        actor,
        outreach_core::domain::Role::Coordinator,
        "requeue messages",
    )
    .await?;
    let found = ids::candidates::<outbox::Entity, _>(&tx, given).await?;
    let id = ids::pick("outbox message", given, found).map_err(|e| match e {
        outreach_core::Error::NotFound { what, given, .. } => outreach_core::Error::not_found(
            what,
            given,
            "; `outreach outbox --status failed` lists failed messages and their ids",
        ),
        other => other,
    })?;
    let row = outbox::Entity::find_by_id(id)
        .one(&tx)
        .await?
        .ok_or_else(|| outreach_core::Error::not_found("outbox message", given, ""))?;
    if row.status != status::FAILED {
        return Err(outreach_core::Error::Conflict(format!(
            "message {} is {}; only failed messages can be requeued",
            ids::short(row.id),
            row.status
        ))
        .into());
    }
    let email = row.recipient_email.trim().to_lowercase();
    let mark = undeliverable_address::Entity::find_by_id(email.clone())
        .one(&tx)
        .await?;
    let cleared_address = match mark {
        Some(m) => {
            m.delete(&tx).await?;
            Some(email)
        }
        None => None,
    };
    let now = Utc::now();
    let mut active = row.into_active_model();
    active.status = Set(status::QUEUED.to_owned());
    active.attempts = Set(0);
    active.next_attempt_at = Set(now);
    active.last_error = Set(None);
    active.smtp_reply = Set(None);
    active.lease_owner = Set(None);
    active.lease_expires_at = Set(None);
    active.updated_at = Set(now);
    let updated = outbox::Entity::update(active).exec(&tx).await?;
    audit::record(
        &tx,
        actor,
        "requeue",
        "outbox",
        &id.to_string(),
        serde_json::json!({
            "recipient": updated.recipient_email,
            "template": updated.template,
            "cleared_undeliverable": cleared_address,
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(Requeued {
        entry: updated.into(),
        cleared_address,
    })
}
