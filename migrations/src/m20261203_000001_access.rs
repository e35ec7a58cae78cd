//! Who may read what, and accounts that end: a sensitivity on every engagement (`public`,
//! `internal`, `restricted`; existing rows become `internal`, military dialogue `restricted`),
//! a clearance for restricted notes on staff members, and a time an account was disabled.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("engagements".to_owned())
                    .add_column(string("sensitivity").default("internal"))
                    .to_owned(),
            )
            .await?;
        // Notes of military dialogue written before sensitivity existed were never meant for
        // everyone: they start restricted, as new ones do.
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE engagements SET sensitivity = 'restricted' WHERE kind = 'military_dialogue'",
            )
            .await?;
        // SQLite takes one added column per ALTER TABLE.
        for column in [
            boolean("cleared").default(false).take(),
            timestamp_with_time_zone_null("disabled_at"),
        ] {
            let mut column = column;
            manager
                .alter_table(
                    Table::alter()
                        .table("users".to_owned())
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, column) in [
            ("users", "disabled_at"),
            ("users", "cleared"),
            ("engagements", "sensitivity"),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(table.to_owned())
                        .drop_column(column.to_owned())
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
