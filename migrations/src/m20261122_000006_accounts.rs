//! Accounts for the web app: a password hash (argon2) on staff members, and sessions kept in the
//! database so any number of app processes share them.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("users".to_owned())
                    .add_column(string_null("password_hash"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("sessions".to_owned())
                    // SHA-256 of the cookie's token, hex: the token itself is never stored.
                    .col(string("token_hash").primary_key())
                    .col(uuid("user_id"))
                    .col(string("csrf_token"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("expires_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_sessions_user_id")
                            .from("sessions".to_owned(), "user_id".to_owned())
                            .to("users".to_owned(), "id".to_owned())
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("sessions".to_owned()).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("users".to_owned())
                    .drop_column("password_hash".to_owned())
                    .to_owned(),
            )
            .await
    }
}
