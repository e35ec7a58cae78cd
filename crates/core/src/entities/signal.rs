//! A signal about how close a state is to joining: observer attendance, UNGA votes, policy, use.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "signals")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub iso3: String,
    pub kind: String,
    pub observed_on: Date,
    #[sea_orm(column_type = "Text")]
    pub detail: String,
    pub value: Option<String>,
    pub source: Option<String>,
    pub created_by: String,
    pub created_at: DateTimeUtc,
    /// `confirmed` or `unconfirmed` for shipped rows (see data/reference/signals.md).
    pub confidence: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub note: Option<String>,
    /// Loaded from data/reference/signals.csv by `init` (and reloaded by it); user-recorded
    /// signals are never touched by a reload.
    pub shipped: bool,
}

impl ActiveModelBehavior for ActiveModel {}
