//! Grantee deliverables and reports: what a grant promises (`grant_deliverables`: what, due,
//! status), who marked a report submitted (`grant_reports.submitted_by`), and the deliverable an
//! engagement fulfils (`engagements.deliverable_id`, nullable).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("grant_deliverables".to_owned())
                    .col(pk_uuid("id"))
                    .col(uuid("grant_id"))
                    .col(string("what"))
                    .col(date("due_on"))
                    .col(string("status").default("planned"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .col(string("updated_by"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_grant_deliverables_grant_id")
                            .from("grant_deliverables".to_owned(), "grant_id".to_owned())
                            .to("grants".to_owned(), "id".to_owned())
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_grant_deliverables_grant_id_due_on")
                    .table("grant_deliverables".to_owned())
                    .col("grant_id".to_owned())
                    .col("due_on".to_owned())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("grant_reports".to_owned())
                    .add_column(string_null("submitted_by"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("engagements".to_owned())
                    .add_column(uuid_null("deliverable_id"))
                    .to_owned(),
            )
            .await?;
        // SQLite cannot add a foreign key to an existing table; there the command that links an
        // engagement checks the deliverable exists (it does on both), and deliverables are never
        // deleted (a deliverable given up is `dropped`).
        if manager.get_database_backend() == sea_orm_migration::sea_orm::DatabaseBackend::Postgres {
            manager
                .alter_table(
                    Table::alter()
                        .table("engagements".to_owned())
                        .add_foreign_key(
                            TableForeignKey::new()
                                .name("fk_engagements_deliverable_id")
                                .from_tbl("engagements".to_owned())
                                .from_col("deliverable_id".to_owned())
                                .to_tbl("grant_deliverables".to_owned())
                                .to_col("id".to_owned())
                                .on_delete(ForeignKeyAction::SetNull),
                        )
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("ix_engagements_deliverable_id")
                    .table("engagements".to_owned())
                    .col("deliverable_id".to_owned())
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_engagements_deliverable_id")
                    .table("engagements".to_owned())
                    .to_owned(),
            )
            .await?;
        if manager.get_database_backend() == sea_orm_migration::sea_orm::DatabaseBackend::Postgres {
            manager
                .alter_table(
                    Table::alter()
                        .table("engagements".to_owned())
                        .drop_foreign_key("fk_engagements_deliverable_id".to_owned())
                        .to_owned(),
                )
                .await?;
        }
        for (table, column) in [
            ("engagements", "deliverable_id"),
            ("grant_reports", "submitted_by"),
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
        manager
            .drop_table(
                Table::drop()
                    .table("grant_deliverables".to_owned())
                    .to_owned(),
            )
            .await
    }
}
