//! A coordinator's judgement of a state's stance towards joining, with the reason and the day it
//! holds from (`stance_settings`). A state's current stance is derived on every read from these
//! and the stances recorded with engagements, whichever is the more recent.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("stance_settings".to_owned())
                    .col(pk_uuid("id"))
                    .col(string("iso3"))
                    .col(string("stance"))
                    .col(text("reason"))
                    .col(date("set_on"))
                    .col(string("set_by"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_stance_settings_iso3")
                            .from("stance_settings".to_owned(), "iso3".to_owned())
                            .to("states".to_owned(), "iso3".to_owned()),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_stance_settings_iso3_set_on")
                    .table("stance_settings".to_owned())
                    .col("iso3".to_owned())
                    .col("set_on".to_owned())
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("stance_settings".to_owned()).to_owned())
            .await?;
        Ok(())
    }
}
