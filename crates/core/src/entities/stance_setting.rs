//! A coordinator's judgement of a state's stance, with the reason and the day it holds from.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "stance_settings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub iso3: String,
    /// One of `domain::Stance`.
    pub stance: String,
    #[sea_orm(column_type = "Text")]
    pub reason: String,
    pub set_on: Date,
    /// The handle of the coordinator or admin who set it.
    pub set_by: String,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
