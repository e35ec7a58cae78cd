//! Signals keep their provenance: the confidence flag and note of the reference data they came
//! from, and whether the row was shipped with outreach (reloaded by `init`) or recorded by a user
//! (never touched by a reload).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite takes one added column per ALTER TABLE.
        for column in [
            string_null("confidence"),
            text_null("note"),
            boolean("shipped").default(false).take(),
        ] {
            let mut column = column;
            manager
                .alter_table(
                    Table::alter()
                        .table("signals".to_owned())
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("ix_signals_kind_observed_on")
                    .table("signals".to_owned())
                    .col("kind".to_owned())
                    .col("observed_on".to_owned())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_signals_kind_observed_on")
                    .table("signals".to_owned())
                    .to_owned(),
            )
            .await?;
        for column in ["shipped", "note", "confidence"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("signals".to_owned())
                        .drop_column(column.to_owned())
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
