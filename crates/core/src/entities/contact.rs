//! A person the campaign deals with, with role, languages, email and time zone.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "contacts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    pub title: Option<String>,
    pub role: Option<String>,
    pub organisation_id: Option<Uuid>,
    pub iso3: Option<String>,
    pub email: Option<String>,
    /// Comma-separated ISO 639-1 codes, preferred first.
    pub languages: String,
    pub time_zone: Option<String>,
    pub phone: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub notes: Option<String>,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
