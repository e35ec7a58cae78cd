//! A job keeps the instant it was planned for (`due_at`) beside `run_at`, which a retry moves to
//! its next attempt: the reminder's own moment stays visible after any number of retries. Existing
//! jobs take their `run_at` as their due instant.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("jobs".to_owned())
                    .add_column(timestamp_with_time_zone_null("due_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared("UPDATE jobs SET due_at = run_at WHERE due_at IS NULL")
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("jobs".to_owned())
                    .drop_column("due_at".to_owned())
                    .to_owned(),
            )
            .await
    }
}
