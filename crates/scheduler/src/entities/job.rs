//! A durable unit of work for the scheduler: what, when, with a lease while it runs and a unique idempotency key.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "jobs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub kind: String,
    /// JSON.
    #[sea_orm(column_type = "Text")]
    pub payload: String,
    /// When the job is next to run: its due instant at first, a retry's next attempt later.
    pub run_at: DateTimeUtc,
    /// The instant it was planned for, which retries do not move (a reminder's own moment).
    pub due_at: Option<DateTimeUtc>,
    /// queued, running, done, failed (dead-lettered), cancelled, superseded.
    pub status: String,
    pub attempts: i32,
    pub max_attempts: i32,
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<DateTimeUtc>,
    #[sea_orm(unique)]
    pub idempotency_key: String,
    /// What the job is about, e.g. ("meeting", id), for the reminder ledger.
    pub subject_kind: Option<String>,
    pub subject_id: Option<String>,
    pub rule: Option<String>,
    pub recipient: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
}

impl ActiveModelBehavior for ActiveModel {}
