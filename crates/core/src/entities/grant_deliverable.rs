//! Something a grantee promised to do under a grant, by a date: planned, in progress, done or
//! dropped.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "grant_deliverables")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub grant_id: Uuid,
    pub what: String,
    pub due_on: Date,
    /// `planned`, `in_progress`, `done` or `dropped` (see `domain::DeliverableStatus`).
    pub status: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// The handle of whoever added or last changed it.
    pub updated_by: String,
}

impl ActiveModelBehavior for ActiveModel {}
