//! A treaty the campaign follows (APMBC, CCM, CCW Protocol V, CRPD).

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "treaties")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub code: String,
    pub name: String,
    pub short_name: String,
}

impl ActiveModelBehavior for ActiveModel {}
