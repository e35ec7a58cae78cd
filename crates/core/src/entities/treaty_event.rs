//! A dated, sourced treaty action by one state: signature, ratification, withdrawal...

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "treaty_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub treaty: String,
    pub iso3: String,
    pub event: String,
    pub date: Date,
    pub source: String,
    pub confidence: String,
    #[sea_orm(column_type = "Text")]
    pub note: String,
}

impl ActiveModelBehavior for ActiveModel {}
