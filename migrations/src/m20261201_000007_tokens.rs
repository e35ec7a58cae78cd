//! Secrets for scripts and calendars: API tokens (`Authorization: Bearer ...`) and per-user
//! calendar feed URLs. Only the SHA-256 of a token is stored; the token is shown once.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("tokens".to_owned())
                    .col(string("token_hash").primary_key())
                    .col(uuid("user_id"))
                    // "api" or "calendar".
                    .col(string("kind"))
                    .col(string("name"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone_null("last_used_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_tokens_user_id")
                            .from("tokens".to_owned(), "user_id".to_owned())
                            .to("users".to_owned(), "id".to_owned())
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_tokens_user_kind")
                    .table("tokens".to_owned())
                    .col("user_id".to_owned())
                    .col("kind".to_owned())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("tokens".to_owned()).to_owned())
            .await
    }
}
