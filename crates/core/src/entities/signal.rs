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
}

impl ActiveModelBehavior for ActiveModel {}
