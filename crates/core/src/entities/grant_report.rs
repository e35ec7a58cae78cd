//! A report a grantee owes by a deadline.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "grant_reports")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub grant_id: Uuid,
    pub due_on: Date,
    pub submitted_on: Option<Date>,
    /// The handle of whoever marked it submitted.
    pub submitted_by: Option<String>,
    pub description: String,
}

impl ActiveModelBehavior for ActiveModel {}
