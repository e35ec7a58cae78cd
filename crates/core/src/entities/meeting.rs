//! A planned engagement: start instant (UTC), the IANA zone it is held in, and a version that grows on every reschedule.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "meetings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub iso3: String,
    pub title: String,
    pub starts_at: DateTimeUtc,
    pub time_zone: String,
    pub duration_minutes: i32,
    pub place: Option<String>,
    pub status: String,
    pub version: i32,
    pub owner_id: Uuid,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
