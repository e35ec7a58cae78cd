//! Letters: drafts made from a template for a recipient, with their lifecycle (draft, in review,
//! approved, sent or exported) and every version of their text with its author.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn index(table: &str, columns: &[&str], unique: bool) -> IndexCreateStatement {
    let mut stmt = Index::create();
    stmt.name(format!("ix_{table}_{}", columns.join("_")))
        .table(table.to_owned());
    for column in columns {
        stmt.col((*column).to_owned());
    }
    if unique {
        stmt.unique();
    }
    stmt.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("letters")
                    .col(pk_uuid("id"))
                    .col(string("template"))
                    .col(string("language"))
                    .col(string("iso3"))
                    .col(uuid_null("recipient_contact_id"))
                    .col(string("recipient_name"))
                    .col(string_null("recipient_organisation"))
                    .col(string("status"))
                    .col(integer("current_version"))
                    .col(uuid_null("batch_id"))
                    .col(string_null("approved_by"))
                    .col(timestamp_with_time_zone_null("approved_at"))
                    .col(integer_null("approved_version"))
                    .col(timestamp_with_time_zone_null("sent_at"))
                    .col(timestamp_with_time_zone_null("exported_at"))
                    .col(string("created_by"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_letters_iso3")
                            .from("letters", "iso3")
                            .to("states", "iso3"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("letters", &["status"], false))
            .await?;
        manager
            .create_index(index("letters", &["iso3"], false))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("letter_versions")
                    .col(pk_uuid("id"))
                    .col(uuid("letter_id"))
                    .col(integer("version"))
                    .col(string("subject"))
                    .col(text("body"))
                    .col(string("author"))
                    .col(string("note"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_letter_versions_letter")
                            .from("letter_versions", "letter_id")
                            .to("letters", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("letter_versions", &["letter_id", "version"], true))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("letter_versions").to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table("letters").to_owned())
            .await?;
        Ok(())
    }
}
