//! Test support: a fresh, empty database per test, on SQLite (a file in a temporary folder) or
//! on PostgreSQL (a new database named by a random UUID on the server at `OUTREACH_TEST_PG_URL`,
//! default `postgres://postgres@127.0.0.1:5432/postgres`).
//!
//! A PostgreSQL test whose server is unreachable fails with a message that says how to start it;
//! it is never skipped.
//!
//! [`smtp`] is a real SMTP server on loopback for tests that deliver mail; [`pg_cluster`] a
//! PostgreSQL cluster of a test's own, for tests that stop the database.

pub mod pg_cluster;
pub mod smtp;

use std::path::PathBuf;

use sea_orm::{ConnectionTrait, Database, Statement};

/// Which database family a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh database; dropped (PostgreSQL) or deleted with its folder (SQLite) by [`TestDb::cleanup`]
/// or when the value is dropped.
#[derive(Debug)]
pub struct TestDb {
    pub backend: Backend,
    /// The URL to hand to the code under test.
    pub url: String,
    /// The working folder of the test (also holds the SQLite file).
    pub dir: tempfile::TempDir,
    pg_name: Option<String>,
}

/// The PostgreSQL server tests use.
pub fn pg_admin_url() -> String {
    std::env::var("OUTREACH_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

fn with_database(admin: &str, name: &str) -> String {
    match admin.rfind('/') {
        Some(i) if i > admin.find("://").map_or(0, |s| s + 2) => format!("{}/{name}", &admin[..i]),
        _ => format!("{admin}/{name}"),
    }
}

impl TestDb {
    /// Creates an empty database on `backend`.
    ///
    /// # Panics
    /// When the temporary folder or the PostgreSQL database cannot be created: the test fails.
    pub async fn new(backend: Backend) -> Self {
        let dir = tempfile::tempdir().expect("create a temporary folder");
        match backend {
            Backend::Sqlite => {
                let file: PathBuf = dir.path().join("outreach.db");
                Self {
                    backend,
                    url: format!("sqlite://{}", file.display()),
                    dir,
                    pg_name: None,
                }
            }
            Backend::Postgres => {
                let admin = pg_admin_url();
                let name = format!("outreach_test_{}", uuid::Uuid::now_v7().simple());
                let conn = Database::connect(&admin).await.unwrap_or_else(|e| {
                    panic!(
                        "PostgreSQL is needed for this test and is not reachable at {admin}: {e}\n\
                         Start it (pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start) \
                         or set OUTREACH_TEST_PG_URL."
                    )
                });
                conn.execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
                conn.close().await.ok();
                Self {
                    backend,
                    url: with_database(&admin, &name),
                    dir,
                    pg_name: Some(name),
                }
            }
        }
    }

    /// Drops the PostgreSQL database. Call it at the end of a test; a failed test leaves its
    /// database behind for inspection (`.ci/run` clears old ones).
    pub async fn cleanup(self) {
        if let Some(name) = &self.pg_name
            && let Ok(conn) = Database::connect(&pg_admin_url()).await
        {
            let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
            conn.execute_raw(Statement::from_string(conn.get_database_backend(), sql))
                .await
                .ok();
            conn.close().await.ok();
        }
    }
}

/// Runs an async test function on SQLite and on PostgreSQL: `db_test!(name, check)`, with
/// `async fn check(db: &TestDb)`, expands to a module `name` with two tests, `on_sqlite` and
/// `on_postgres`, each on a fresh database that is dropped when the check passes.
#[macro_export]
macro_rules! db_test {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_sqlite() {
                let db = $crate::TestDb::new($crate::Backend::Sqlite).await;
                $body(&db).await;
                db.cleanup().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn on_postgres() {
                let db = $crate::TestDb::new($crate::Backend::Postgres).await;
                $body(&db).await;
                db.cleanup().await;
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_name_replaces_the_admin_database() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "t1"),
            "postgres://postgres@127.0.0.1:5432/t1"
        );
        assert_eq!(
            with_database("postgres://h:5432", "t1"),
            "postgres://h:5432/t1"
        );
    }
}
