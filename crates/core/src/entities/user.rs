//! A staff identity: who acts, who owns meetings and follow-ups, whose zone a reminder uses.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub handle: String,
    pub name: String,
    pub email: Option<String>,
    pub time_zone: String,
    pub role: String,
    /// argon2 PHC string; `None` until a password is set (the account cannot log in).
    pub password_hash: Option<String>,
    pub created_at: DateTimeUtc,
    /// Cleared by an admin to read `restricted` engagements.
    pub cleared: bool,
    /// When an admin disabled the account: it cannot sign in, its tokens are gone, and it gets
    /// no reminders or digests.
    pub disabled_at: Option<DateTimeUtc>,
}

impl ActiveModelBehavior for ActiveModel {}
