//! Durable work: the scheduler's jobs (with leases and idempotency keys), the state of cron
//! schedules, and the outbox of emails waiting to be delivered.

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
                    .table("jobs")
                    .col(pk_uuid("id"))
                    .col(string("kind"))
                    .col(text("payload"))
                    .col(timestamp_with_time_zone("run_at"))
                    .col(string("status"))
                    .col(integer("attempts"))
                    .col(integer("max_attempts"))
                    .col(string_null("lease_owner"))
                    .col(timestamp_with_time_zone_null("lease_expires_at"))
                    .col(string_uniq("idempotency_key"))
                    .col(string_null("subject_kind"))
                    .col(string_null("subject_id"))
                    .col(string_null("rule"))
                    .col(string_null("recipient"))
                    .col(text_null("last_error"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .col(timestamp_with_time_zone_null("finished_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("cron_state")
                    .col(string("schedule").primary_key())
                    .col(timestamp_with_time_zone("last_fired_for"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("outbox")
                    .col(pk_uuid("id"))
                    .col(string_uniq("idempotency_key"))
                    .col(string("recipient_email"))
                    .col(string_null("recipient_name"))
                    .col(string("template"))
                    .col(string("language"))
                    .col(text("context"))
                    .col(string("status"))
                    .col(integer("attempts"))
                    .col(timestamp_with_time_zone("next_attempt_at"))
                    .col(string_null("lease_owner"))
                    .col(timestamp_with_time_zone_null("lease_expires_at"))
                    .col(text_null("last_error"))
                    .col(text_null("smtp_reply"))
                    .col(string("message_id"))
                    .col(string_null("subject_kind"))
                    .col(string_null("subject_id"))
                    .col(uuid_null("job_id"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .col(timestamp_with_time_zone_null("sent_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("undeliverable_addresses")
                    .col(string("email").primary_key())
                    .col(text("reason"))
                    .col(timestamp_with_time_zone("marked_at"))
                    .to_owned(),
            )
            .await?;
        for stmt in [
            index("jobs", &["status", "run_at"], false),
            index("jobs", &["subject_kind", "subject_id"], false),
            index("jobs", &["lease_expires_at"], false),
            index("outbox", &["status", "next_attempt_at"], false),
            index("outbox", &["subject_kind", "subject_id"], false),
        ] {
            manager.create_index(stmt).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for name in ["undeliverable_addresses", "outbox", "cron_state", "jobs"] {
            manager
                .drop_table(Table::drop().table(name.to_owned()).to_owned())
                .await?;
        }
        Ok(())
    }
}
