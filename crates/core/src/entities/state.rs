//! A state that can join treaties, keyed by ISO 3166-1 alpha-3.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "states")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub iso3: String,
    pub iso2: String,
    pub m49: String,
    pub name: String,
    pub official_name: String,
    pub entity_type: String,
    pub capital: String,
    pub capital_tz: String,
    pub un_region: String,
    pub un_subregion: String,
    pub un_intermediate_region: String,
    pub counted_from: Option<Date>,
    #[sea_orm(column_type = "Text")]
    pub note: String,
}

impl ActiveModelBehavior for ActiveModel {}
