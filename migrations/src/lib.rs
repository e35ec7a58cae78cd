//! The outreach schema as an append-only list of migrations.
//!
//! A migration, once on main, is never edited: a change to the schema is a new migration. Every
//! migration must run on SQLite and PostgreSQL; the test suite runs them on both.

pub use sea_orm_migration::prelude::*;

mod m20261122_000001_foundation;
mod m20261122_000002_jobs_and_outbox;
mod m20261122_000005_letters;
mod m20261122_000006_accounts;
mod m20261201_000007_tokens;
mod m20261202_150000_signal_provenance;
mod m20261203_000001_access;
mod m20261204_000001_job_due_at;
mod m20261207_400001_grant_deliverables;
mod m20261208_000001_posts;
mod m20261208_000002_stance;

/// Applies the migrations in order.
#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_foundation::Migration),
            Box::new(m20261122_000002_jobs_and_outbox::Migration),
            Box::new(m20261122_000005_letters::Migration),
            Box::new(m20261122_000006_accounts::Migration),
            Box::new(m20261201_000007_tokens::Migration),
            Box::new(m20261202_150000_signal_provenance::Migration),
            Box::new(m20261203_000001_access::Migration),
            Box::new(m20261204_000001_job_due_at::Migration),
            Box::new(m20261207_400001_grant_deliverables::Migration),
            Box::new(m20261208_000001_posts::Migration),
            Box::new(m20261208_000002_stance::Migration),
        ]
    }
}
