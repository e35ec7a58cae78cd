//! An email waiting to be delivered (or delivered, or failed), written in the same transaction as the decision to send it.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub idempotency_key: String,
    pub recipient_email: String,
    pub recipient_name: Option<String>,
    pub template: String,
    pub language: String,
    /// JSON merge context for the template.
    #[sea_orm(column_type = "Text")]
    pub context: String,
    /// queued, sending, sent, failed, cancelled.
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub smtp_reply: Option<String>,
    /// Derived from the idempotency key, so a resend carries the same Message-ID.
    pub message_id: String,
    pub subject_kind: Option<String>,
    pub subject_id: Option<String>,
    pub job_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
}

impl ActiveModelBehavior for ActiveModel {}
