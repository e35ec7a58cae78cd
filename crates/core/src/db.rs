//! Opening the database: SQLite (the embedded default, created on first use) or PostgreSQL;
//! migrations run on every open and reference data is loaded into an empty database.

use std::time::Duration;

use outreach_migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

use crate::error::{Error, Result};
use crate::refdata::{self, ReferenceData};

/// Connects to `url` and brings the schema up to date. A `sqlite:` file is created if missing.
///
/// # Errors
/// [`Error::Config`] for an unsupported URL, [`Error::Database`] when the server cannot be
/// reached or a migration fails.
pub async fn connect(url: &str) -> Result<DatabaseConnection> {
    connect_and_seed(url, None).await
}

/// Connects to `url` without touching the schema (for a restore, which builds the schema its
/// archive needs). A `sqlite:` file is created if missing.
///
/// # Errors
/// As [`connect`].
pub async fn connect_only(url: &str) -> Result<DatabaseConnection> {
    pool(&normalise_url(url)?).await
}

/// As [`connect`]; with `seed_as`, also loads the shipped reference data (as that actor) into a
/// database that has none.
async fn connect_and_seed(url: &str, seed_as: Option<&str>) -> Result<DatabaseConnection> {
    let url = normalise_url(url)?;
    let db = pool(&url).await?;
    if url.starts_with("sqlite:") {
        prepare(&db, seed_as).await?;
    } else {
        // Processes that start together (the web app and several daemons after an upgrade)
        // prepare the database one after the other: the first migrates and loads what is
        // missing, the others find nothing left to do.
        let lock = MigrationLock::take(&url).await?;
        let prepared = prepare(&db, seed_as).await;
        lock.release().await;
        prepared?;
    }
    Ok(db)
}

/// The connection pool for a normalised URL.
async fn pool(url: &str) -> Result<DatabaseConnection> {
    let url = url.to_owned();
    let mut opts = ConnectOptions::new(url.clone());
    opts.sqlx_logging(false)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(30));
    if url.starts_with("sqlite:") {
        // One writer at a time on SQLite: WAL lets readers run beside it, and a busy timeout
        // makes a second process wait for the lock instead of failing at once. In WAL mode
        // `synchronous = NORMAL` loses nothing when a process crashes (only a power cut can undo
        // the last commits) and spares a disk flush per commit.
        opts.max_connections(4).map_sqlx_sqlite_opts(|o| {
            o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(30))
                .foreign_keys(true)
                .create_if_missing(true)
        });
    } else {
        opts.max_connections(8);
    }
    let db = Database::connect(opts).await.map_err(|e| match e {
        sea_orm::DbErr::Conn(inner) => Error::Config(format!(
            "cannot open the database at {}: {inner}",
            redact(&url)
        )),
        other => Error::Database(other),
    })?;
    Ok(db)
}

/// Migrates, then loads the reference data if asked and none is there.
async fn prepare(db: &DatabaseConnection, seed_as: Option<&str>) -> Result<()> {
    Migrator::up(db, None).await?;
    if let Some(actor) = seed_as
        && !refdata::is_loaded(db).await?
    {
        tracing::info!("new database: loading reference data");
        refdata::load(db, &ReferenceData::embedded()?, actor).await?;
    }
    Ok(())
}

/// The PostgreSQL advisory lock held while a process migrates and seeds the database (any fixed
/// number; "outreach" in ASCII).
const MIGRATION_LOCK: i64 = 0x6f75_7472_6561_6368;

/// [`MIGRATION_LOCK`], held on a connection of its own (a session lock belongs to the
/// connection that took it) while the pool does the work.
struct MigrationLock(DatabaseConnection);

impl MigrationLock {
    async fn take(url: &str) -> Result<Self> {
        let mut opts = ConnectOptions::new(url.to_owned());
        opts.sqlx_logging(false)
            .max_connections(1)
            .connect_timeout(Duration::from_secs(10));
        let one = Database::connect(opts).await?;
        one.execute_unprepared(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))
            .await?;
        Ok(Self(one))
    }

    /// Releases the lock (closing the connection would too, even if this fails).
    async fn release(self) {
        let _ = self
            .0
            .execute_unprepared(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"))
            .await;
        let _ = self.0.close().await;
    }
}

/// Asks the database for an answer (`SELECT 1`): the readiness check and the web app's watch.
///
/// # Errors
/// Database errors, a server that cannot be reached among them.
pub async fn ping(db: &DatabaseConnection) -> Result<(), DbErr> {
    db.execute_unprepared("SELECT 1").await.map(|_| ())
}

/// Begins a write transaction: `BEGIN IMMEDIATE` on SQLite, a plain `BEGIN` on PostgreSQL.
///
/// Every transaction in outreach that may write starts here. SQLite's default (deferred)
/// transaction takes the write lock only at its first write; when another connection holds it by
/// then, SQLite cannot wait (the reader's snapshot would go stale) and fails at once with
/// "database is locked", whatever the busy timeout. Taking the lock at `BEGIN` makes a second
/// writer wait out the busy timeout instead, so our own concurrency never fails a write.
///
/// # Errors
/// Database errors, including a lock still held when the busy timeout runs out.
pub async fn begin(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
}

/// Whether an error (or its message) is SQLite's lock contention: "database is locked" or
/// "database table is locked" after the busy timeout ran out. Such a failure is about this
/// project's own concurrency, never about the work that hit it, so callers retry it without
/// counting it against the work's attempts.
pub fn is_busy(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("database is locked")
        || m.contains("database table is locked")
        || m.contains("sqlite_busy")
        || m.contains("sqlite_locked")
}

/// Whether an error (or its message) says the database server cannot be reached: refused or
/// dropped connections, a pool that could not get one, a server shutting down or starting up.
/// Such a failure is about the server, not the request or the job that met it.
pub fn is_unreachable(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    [
        "connection refused",
        "connection reset",
        "broken pipe",
        "pool timed out",
        "connection acquire",
        "failed to acquire connection",
        "error communicating with database",
        "terminating connection",
        "the database system is shutting down",
        "the database system is starting up",
        "server closed the connection",
        "unexpected end of file",
        "connection closed",
    ]
    .iter()
    .any(|needle| m.contains(needle))
}

/// Connects, migrates, and loads the shipped reference data if the database has none yet, so a
/// new user's first command works on a fresh file.
///
/// # Errors
/// As [`connect`], and [`Error::ReferenceData`] if the shipped data cannot be read.
pub async fn open(url: &str, actor: &str) -> Result<DatabaseConnection> {
    connect_and_seed(url, Some(actor)).await
}

/// Accepts `sqlite:path`, `sqlite://path`, `postgres://...` and `postgresql://...`; a bare file
/// path is taken as a SQLite file.
///
/// # Errors
/// [`Error::Config`] for any other scheme.
pub fn normalise_url(url: &str) -> Result<String> {
    let url = url.trim();
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(url.to_owned());
    }
    if let Some(rest) = url.strip_prefix("sqlite:") {
        let rest = rest.trim_start_matches("//");
        return Ok(format!("sqlite://{rest}"));
    }
    if url.contains("://") {
        return Err(Error::Config(format!(
            "database URL '{}' is not supported; use sqlite://FILE or postgres://USER@HOST/DB",
            redact(url)
        )));
    }
    Ok(format!("sqlite://{url}"))
}

/// The URL with any password replaced, for messages and logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Which database family a connection talks to.
pub fn backend_name(db: &DatabaseConnection) -> &'static str {
    match db.get_database_backend() {
        DbBackend::Postgres => "postgresql",
        DbBackend::Sqlite => "sqlite",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_normalised_and_passwords_redacted() {
        assert_eq!(
            normalise_url("outreach.db").unwrap(),
            "sqlite://outreach.db"
        );
        assert_eq!(normalise_url("sqlite:x.db").unwrap(), "sqlite://x.db");
        assert_eq!(
            normalise_url("sqlite:///tmp/x.db").unwrap(),
            "sqlite:///tmp/x.db"
        );
        assert!(normalise_url("mysql://root@localhost/x").is_err());
        assert_eq!(
            redact("postgres://user:secret@host/db"),
            "postgres://user:***@host/db"
        );
        assert_eq!(redact("postgres://user@host/db"), "postgres://user@host/db");
    }
}
