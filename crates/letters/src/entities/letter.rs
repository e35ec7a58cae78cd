//! A letter: one draft made from a template in a language for a recipient, and where it stands.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "letters")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub template: String,
    pub language: String,
    /// The state the letter is about (the state not party, or the State Party asked to speak out).
    pub iso3: String,
    pub recipient_contact_id: Option<Uuid>,
    pub recipient_name: String,
    pub recipient_organisation: Option<String>,
    /// draft, in_review, approved, sent, exported.
    pub status: String,
    pub current_version: i32,
    pub batch_id: Option<Uuid>,
    pub approved_by: Option<String>,
    pub approved_at: Option<DateTimeUtc>,
    pub approved_version: Option<i32>,
    pub sent_at: Option<DateTimeUtc>,
    pub exported_at: Option<DateTimeUtc>,
    pub created_by: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
