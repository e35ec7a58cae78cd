//! A grant (Investing in Action) to a member organisation working in a state.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "grants")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub iso3: String,
    pub programme: String,
    pub year: i32,
    /// Amount in the currency's minor unit (cents).
    pub amount_minor: i64,
    pub currency: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub purpose: Option<String>,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
