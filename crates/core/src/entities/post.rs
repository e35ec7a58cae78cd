//! An office a contact holds or held ("Ambassador to Switzerland", "Minister for Foreign
//! Affairs"), at an organisation or in a state, with its term.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "posts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub contact_id: Uuid,
    pub organisation_id: Option<Uuid>,
    /// The state the post is in: given, else the organisation's, else the contact's.
    pub iso3: Option<String>,
    /// The office, as recorded.
    pub title: String,
    /// `None`: the start is not known.
    pub starts_on: Option<Date>,
    /// `None`: still held. The last day of the term.
    pub ends_on: Option<Date>,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
