//! An action owed after an engagement or meeting, with an owner and a due date.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "follow_ups")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub iso3: String,
    pub engagement_id: Option<Uuid>,
    pub meeting_id: Option<Uuid>,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    pub owner_id: Uuid,
    pub due_on: Date,
    pub done_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
