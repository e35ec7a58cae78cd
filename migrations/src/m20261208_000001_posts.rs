//! Posts: the offices contacts hold, with their terms (`posts`: contact, organisation, state,
//! title, from, to), so the directory keeps who was ambassador when.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("posts".to_owned())
                    .col(pk_uuid("id"))
                    .col(uuid("contact_id"))
                    .col(uuid_null("organisation_id"))
                    .col(string_null("iso3"))
                    .col(string("title"))
                    // Unknown start; still held.
                    .col(date_null("starts_on"))
                    .col(date_null("ends_on"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_posts_contact_id")
                            .from("posts".to_owned(), "contact_id".to_owned())
                            .to("contacts".to_owned(), "id".to_owned())
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_posts_organisation_id")
                            .from("posts".to_owned(), "organisation_id".to_owned())
                            .to("organisations".to_owned(), "id".to_owned())
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_posts_iso3")
                            .from("posts".to_owned(), "iso3".to_owned())
                            .to("states".to_owned(), "iso3".to_owned())
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            ("ix_posts_iso3_title", &["iso3", "title"][..]),
            ("ix_posts_contact_id", &["contact_id"][..]),
            ("ix_posts_organisation_id", &["organisation_id"][..]),
        ] {
            let mut ix = Index::create();
            ix.name(name).table("posts".to_owned());
            for c in cols {
                ix.col((*c).to_owned());
            }
            manager.create_index(ix.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("posts".to_owned()).to_owned())
            .await
    }
}
