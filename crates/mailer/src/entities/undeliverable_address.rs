//! An address a mail server refused permanently, so staff see it and nothing more is sent to it.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "undeliverable_addresses")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub email: String,
    #[sea_orm(column_type = "Text")]
    pub reason: String,
    pub marked_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
