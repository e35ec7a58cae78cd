//! Something that happened with a state: a visit, a meeting, a statement, a letter, a call.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "engagements")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub iso3: String,
    pub kind: String,
    pub occurred_on: Date,
    #[sea_orm(column_type = "Text")]
    pub summary: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub outcome: Option<String>,
    pub stance: Option<String>,
    pub meeting_id: Option<Uuid>,
    pub created_by: String,
    pub created_at: DateTimeUtc,
    /// `public`, `internal` or `restricted` (see `domain::Sensitivity`).
    pub sensitivity: String,
    /// The grant deliverable this engagement fulfils, if any.
    pub deliverable_id: Option<Uuid>,
}

impl ActiveModelBehavior for ActiveModel {}
