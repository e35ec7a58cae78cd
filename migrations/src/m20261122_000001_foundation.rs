//! The foundation schema: reference data (states, treaties, treaty events), the people and
//! organisations the campaign works with, what happened (engagements), what is planned (meetings,
//! follow-ups), grants, staff identities and the audit log.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A foreign key from `table.column` to `to_table.to_column`.
fn fk(
    table: &str,
    column: &str,
    to_table: &str,
    to_column: &str,
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_{column}"))
        .from(table.to_owned(), column.to_owned())
        .to(to_table.to_owned(), to_column.to_owned())
        .on_delete(on_delete)
        .to_owned()
}

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

fn table(name: &str) -> TableCreateStatement {
    Table::create().table(name.to_owned()).to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use ForeignKeyAction::{Cascade, Restrict, SetNull};

        let tables = [
            table("states")
                .col(string("iso3").primary_key())
                .col(string_uniq("iso2"))
                .col(string("m49"))
                .col(string("name"))
                .col(string("official_name"))
                .col(string("entity_type"))
                .col(string("capital"))
                .col(string("capital_tz"))
                .col(string("un_region"))
                .col(string("un_subregion"))
                .col(string("un_intermediate_region"))
                .col(date_null("counted_from"))
                .col(text("note"))
                .to_owned(),
            table("treaties")
                .col(string("code").primary_key())
                .col(string("name"))
                .col(string("short_name"))
                .to_owned(),
            table("treaty_events")
                .col(pk_uuid("id"))
                .col(string("treaty"))
                .col(string("iso3"))
                .col(string("event"))
                .col(date("date"))
                .col(string("source"))
                .col(string("confidence"))
                .col(text("note"))
                .foreign_key(&mut fk(
                    "treaty_events",
                    "treaty",
                    "treaties",
                    "code",
                    Restrict,
                ))
                .foreign_key(&mut fk("treaty_events", "iso3", "states", "iso3", Restrict))
                .to_owned(),
            table("users")
                .col(pk_uuid("id"))
                .col(string_uniq("handle"))
                .col(string("name"))
                .col(string_null("email"))
                .col(string("time_zone"))
                .col(string("role"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
            table("signals")
                .col(pk_uuid("id"))
                .col(string("iso3"))
                .col(string("kind"))
                .col(date("observed_on"))
                .col(text("detail"))
                .col(string_null("value"))
                .col(string_null("source"))
                .col(string("created_by"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("signals", "iso3", "states", "iso3", Restrict))
                .to_owned(),
            table("organisations")
                .col(pk_uuid("id"))
                .col(string("name"))
                .col(string("kind"))
                .col(string_null("iso3"))
                .col(string_null("email"))
                .col(string_null("website"))
                .col(boolean("icbl_member"))
                .col(text_null("notes"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("organisations", "iso3", "states", "iso3", Restrict))
                .to_owned(),
            table("contacts")
                .col(pk_uuid("id"))
                .col(string("name"))
                .col(string_null("title"))
                .col(string_null("role"))
                .col(uuid_null("organisation_id"))
                .col(string_null("iso3"))
                .col(string_null("email"))
                .col(string("languages"))
                .col(string_null("time_zone"))
                .col(string_null("phone"))
                .col(text_null("notes"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk(
                    "contacts",
                    "organisation_id",
                    "organisations",
                    "id",
                    SetNull,
                ))
                .foreign_key(&mut fk("contacts", "iso3", "states", "iso3", Restrict))
                .to_owned(),
            table("grants")
                .col(pk_uuid("id"))
                .col(uuid("organisation_id"))
                .col(string("iso3"))
                .col(string("programme"))
                .col(integer("year"))
                .col(big_integer("amount_minor"))
                .col(string("currency"))
                .col(text_null("purpose"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk(
                    "grants",
                    "organisation_id",
                    "organisations",
                    "id",
                    Restrict,
                ))
                .foreign_key(&mut fk("grants", "iso3", "states", "iso3", Restrict))
                .to_owned(),
            table("grant_reports")
                .col(pk_uuid("id"))
                .col(uuid("grant_id"))
                .col(date("due_on"))
                .col(date_null("submitted_on"))
                .col(string("description"))
                .foreign_key(&mut fk(
                    "grant_reports",
                    "grant_id",
                    "grants",
                    "id",
                    Cascade,
                ))
                .to_owned(),
            table("meetings")
                .col(pk_uuid("id"))
                .col(string("iso3"))
                .col(string("title"))
                .col(timestamp_with_time_zone("starts_at"))
                .col(string("time_zone"))
                .col(integer("duration_minutes"))
                .col(string_null("place"))
                .col(string("status"))
                .col(integer("version"))
                .col(uuid("owner_id"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk("meetings", "iso3", "states", "iso3", Restrict))
                .foreign_key(&mut fk("meetings", "owner_id", "users", "id", Restrict))
                .to_owned(),
            table("meeting_participants")
                .col(pk_uuid("id"))
                .col(uuid("meeting_id"))
                .col(uuid_null("contact_id"))
                .col(uuid_null("user_id"))
                .foreign_key(&mut fk(
                    "meeting_participants",
                    "meeting_id",
                    "meetings",
                    "id",
                    Cascade,
                ))
                .foreign_key(&mut fk(
                    "meeting_participants",
                    "contact_id",
                    "contacts",
                    "id",
                    Cascade,
                ))
                .foreign_key(&mut fk(
                    "meeting_participants",
                    "user_id",
                    "users",
                    "id",
                    Cascade,
                ))
                .to_owned(),
            table("engagements")
                .col(pk_uuid("id"))
                .col(string("iso3"))
                .col(string("kind"))
                .col(date("occurred_on"))
                .col(text("summary"))
                .col(text_null("outcome"))
                .col(string_null("stance"))
                .col(uuid_null("meeting_id"))
                .col(string("created_by"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("engagements", "iso3", "states", "iso3", Restrict))
                .foreign_key(&mut fk(
                    "engagements",
                    "meeting_id",
                    "meetings",
                    "id",
                    SetNull,
                ))
                .to_owned(),
            table("engagement_participants")
                .col(pk_uuid("id"))
                .col(uuid("engagement_id"))
                .col(uuid_null("contact_id"))
                .col(uuid_null("user_id"))
                .foreign_key(&mut fk(
                    "engagement_participants",
                    "engagement_id",
                    "engagements",
                    "id",
                    Cascade,
                ))
                .foreign_key(&mut fk(
                    "engagement_participants",
                    "contact_id",
                    "contacts",
                    "id",
                    Cascade,
                ))
                .foreign_key(&mut fk(
                    "engagement_participants",
                    "user_id",
                    "users",
                    "id",
                    Cascade,
                ))
                .to_owned(),
            table("follow_ups")
                .col(pk_uuid("id"))
                .col(string("iso3"))
                .col(uuid_null("engagement_id"))
                .col(uuid_null("meeting_id"))
                .col(text("description"))
                .col(uuid("owner_id"))
                .col(date("due_on"))
                .col(timestamp_with_time_zone_null("done_at"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("follow_ups", "iso3", "states", "iso3", Restrict))
                .foreign_key(&mut fk(
                    "follow_ups",
                    "engagement_id",
                    "engagements",
                    "id",
                    SetNull,
                ))
                .foreign_key(&mut fk(
                    "follow_ups",
                    "meeting_id",
                    "meetings",
                    "id",
                    SetNull,
                ))
                .foreign_key(&mut fk("follow_ups", "owner_id", "users", "id", Restrict))
                .to_owned(),
            table("audit_log")
                .col(pk_uuid("id"))
                .col(timestamp_with_time_zone("at"))
                .col(string("actor"))
                .col(string("action"))
                .col(string("entity"))
                .col(string("entity_id"))
                .col(text("detail"))
                .to_owned(),
        ];
        for stmt in tables {
            manager.create_table(stmt).await?;
        }

        let indexes = [
            index("treaty_events", &["treaty", "iso3", "event"], true),
            index("treaty_events", &["iso3"], false),
            index("signals", &["iso3", "observed_on"], false),
            index("organisations", &["name", "iso3"], true),
            index("contacts", &["email"], true),
            index("contacts", &["organisation_id"], false),
            index("contacts", &["iso3"], false),
            index("grants", &["iso3", "year"], false),
            index("grant_reports", &["grant_id", "due_on"], false),
            index("meetings", &["iso3", "starts_at"], false),
            index("meetings", &["starts_at"], false),
            index("meeting_participants", &["meeting_id"], false),
            index("engagements", &["iso3", "occurred_on"], false),
            index("engagement_participants", &["engagement_id"], false),
            index("follow_ups", &["iso3", "due_on"], false),
            index("follow_ups", &["owner_id", "due_on"], false),
            index("audit_log", &["entity", "entity_id"], false),
            index("audit_log", &["at"], false),
        ];
        for stmt in indexes {
            manager.create_index(stmt).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for name in [
            "audit_log",
            "follow_ups",
            "engagement_participants",
            "engagements",
            "meeting_participants",
            "meetings",
            "grant_reports",
            "grants",
            "contacts",
            "organisations",
            "signals",
            "users",
            "treaty_events",
            "treaties",
            "states",
        ] {
            manager
                .drop_table(Table::drop().table(name.to_owned()).to_owned())
                .await?;
        }
        Ok(())
    }
}
