//! One version of a letter's text, with its author; versions are never changed or removed.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "letter_versions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub letter_id: Uuid,
    pub version: i32,
    pub subject: String,
    #[sea_orm(column_type = "Text")]
    pub body: String,
    pub author: String,
    /// Why this version exists: "drafted from joint_approach", or the editor's note.
    pub note: String,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
