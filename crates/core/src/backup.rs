//! Backup and restore: every table of an outreach database in one portable, versioned archive.
//!
//! **The archive** is a text file of JSON lines:
//! 1. a header: `{"outreach_backup": 1, "created_at": ..., "backend": "sqlite", "migrations":
//!    [...], "tables": {"states": 197, ...}}`: the format version, the schema the rows belong to
//!    (the migrations applied, in order) and how many rows each table holds;
//! 2. for each table, a line `{"table": NAME, "columns": [...]}` and then one JSON array per row;
//! 3. a trailer `{"end": true, "rows": N}`, so a file cut short is refused, not half-restored.
//!
//! Values are written by the column's type, the same way on SQLite and PostgreSQL: integers and
//! booleans as JSON numbers and booleans, ids as hyphenated UUIDs, instants as RFC 3339 in UTC to
//! the microsecond (PostgreSQL's precision), dates as `YYYY-MM-DD`, text as strings. So an
//! archive written from either database restores into either.
//!
//! **Backup** reads every table inside one read-only transaction (repeatable read on
//! PostgreSQL; one snapshot on SQLite in WAL mode), so the archive is consistent while the web
//! app and the daemons go on writing. The tables are found in the database's own catalog, so
//! a table added by a later migration is backed up without a change here.
//!
//! **Restore** loads an archive into a database that holds nothing but what outreach fills in by
//! itself on first use (the shipped reference data), or into any database with `force`. It
//! rebuilds the schema the archive was written with (its migrations), loads the rows in one
//! transaction, parents before children, and then applies the migrations this version of
//! outreach has and the archive's did not: an older archive is migrated like an older database.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, Write};

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use outreach_migration::{Migrator, MigratorTrait};
use sea_orm::{
    AccessMode, ConnectionTrait, DatabaseConnection, DbBackend, IsolationLevel, QueryResult,
    Statement, TransactionTrait, Value,
};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use uuid::Uuid;

use crate::error::{Error, Result};

/// The archive format this version writes and reads.
pub const FORMAT: u32 = 1;

/// Rows read or written per statement.
const PAGE: usize = 2_000;

/// The table sea-orm keeps the applied migrations in; the archive's header carries them instead.
const MIGRATIONS_TABLE: &str = "seaql_migrations";

/// The archive's first line.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Header {
    pub outreach_backup: u32,
    pub created_at: DateTime<Utc>,
    /// `sqlite` or `postgres`: where the archive was written from.
    pub backend: String,
    /// The migrations applied to the database the rows come from, in order.
    pub migrations: Vec<String>,
    /// Rows per table.
    pub tables: BTreeMap<String, u64>,
}

/// What [`backup`] or [`restore`] did.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub tables: BTreeMap<String, u64>,
    pub rows: u64,
    /// The schema of the archive (its last migration).
    pub archive_schema: String,
    /// Migrations applied after the rows were loaded (an archive from an older outreach).
    pub migrated: Vec<String>,
}

/// Progress of a long backup or restore, for a front end to show.
#[derive(Debug, Clone)]
pub enum Progress<'a> {
    /// Starting on a table of `rows` rows.
    Table { name: &'a str, rows: u64 },
    /// `done` of the table's `rows` rows are written.
    Rows { name: &'a str, done: u64, rows: u64 },
}

/// How a column's values are read and written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Int32,
    Int64,
    Float,
    Bool,
    Text,
    Uuid,
    Instant,
    Date,
}

#[derive(Debug, Clone)]
struct Column {
    name: String,
    kind: Kind,
}

#[derive(Debug, Clone)]
struct Table {
    name: String,
    columns: Vec<Column>,
    /// The tables this one refers to.
    parents: BTreeSet<String>,
}

fn backend_name(db: &impl ConnectionTrait) -> &'static str {
    match db.get_database_backend() {
        DbBackend::Postgres => "postgres",
        DbBackend::Sqlite => "sqlite",
        _ => "other",
    }
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn kind_of(backend: DbBackend, table: &str, column: &str, declared: &str) -> Result<Kind> {
    let t = declared.trim().to_ascii_lowercase();
    let kind = match backend {
        DbBackend::Postgres => match t.as_str() {
            "integer" | "smallint" => Some(Kind::Int32),
            "bigint" => Some(Kind::Int64),
            "real" | "double precision" | "numeric" => Some(Kind::Float),
            "boolean" => Some(Kind::Bool),
            "text" | "character varying" | "character" => Some(Kind::Text),
            "uuid" => Some(Kind::Uuid),
            "timestamp with time zone" => Some(Kind::Instant),
            "date" => Some(Kind::Date),
            _ => None,
        },
        _ => match t.as_str() {
            "integer" | "int" | "smallint" => Some(Kind::Int32),
            "bigint" | "big_integer" => Some(Kind::Int64),
            "real" | "double" | "float" | "double precision" => Some(Kind::Float),
            "boolean" | "bool" => Some(Kind::Bool),
            "uuid_text" | "uuid" | "uuid_blob" => Some(Kind::Uuid),
            "timestamp_with_timezone_text" | "timestamptz_text" => Some(Kind::Instant),
            "date_text" | "date" => Some(Kind::Date),
            t if t.starts_with("varchar") || t == "text" || t.starts_with("char") => {
                Some(Kind::Text)
            }
            _ => None,
        },
    };
    kind.ok_or_else(|| {
        Error::Archive(format!(
            "column {table}.{column} has the type '{declared}', which backups cannot carry yet"
        ))
    })
}

/// The tables of the database (but the migrations table), with their columns and the tables
/// they refer to.
async fn catalog<C: ConnectionTrait>(db: &C) -> Result<Vec<Table>> {
    let backend = db.get_database_backend();
    let names_sql = match backend {
        DbBackend::Postgres => {
            "SELECT table_name::text AS name FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name"
        }
        _ => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
             ORDER BY name"
        }
    };
    let mut tables = Vec::new();
    for row in db
        .query_all_raw(Statement::from_string(backend, names_sql))
        .await?
    {
        let name: String = row.try_get("", "name")?;
        if name == MIGRATIONS_TABLE {
            continue;
        }
        // Each query answers `name, type` for the columns and `parent` for the references.
        let (columns, references) = match backend {
            DbBackend::Postgres => (
                Statement::from_sql_and_values(
                    backend,
                    "SELECT column_name::text AS name, data_type::text AS type \
                     FROM information_schema.columns \
                     WHERE table_schema = current_schema() AND table_name = $1 \
                     ORDER BY ordinal_position",
                    [Value::from(name.clone())],
                ),
                Statement::from_sql_and_values(
                    backend,
                    "SELECT DISTINCT ccu.table_name::text AS parent \
                     FROM information_schema.table_constraints tc \
                     JOIN information_schema.constraint_column_usage ccu \
                       ON tc.constraint_name = ccu.constraint_name \
                      AND tc.constraint_schema = ccu.constraint_schema \
                     WHERE tc.constraint_type = 'FOREIGN KEY' \
                       AND tc.table_schema = current_schema() AND tc.table_name = $1",
                    [Value::from(name.clone())],
                ),
            ),
            _ => (
                Statement::from_string(
                    backend,
                    format!(
                        "SELECT name, type FROM pragma_table_info({}) ORDER BY cid",
                        sql_text(&name)
                    ),
                ),
                Statement::from_string(
                    backend,
                    format!(
                        "SELECT DISTINCT \"table\" AS parent FROM pragma_foreign_key_list({})",
                        sql_text(&name)
                    ),
                ),
            ),
        };
        tables.push(describe(db, name, columns, references).await?);
    }
    order_parents_first(tables)
}

/// One table from the answers of its catalog queries (see [`catalog`]).
async fn describe<C: ConnectionTrait>(
    db: &C,
    name: String,
    columns: Statement,
    references: Statement,
) -> Result<Table> {
    let backend = db.get_database_backend();
    let mut cols = Vec::new();
    for c in db.query_all_raw(columns).await? {
        let cname: String = c.try_get("", "name")?;
        let ctype: String = c.try_get("", "type")?;
        cols.push(Column {
            kind: kind_of(backend, &name, &cname, &ctype)?,
            name: cname,
        });
    }
    let mut parents = BTreeSet::new();
    for r in db.query_all_raw(references).await? {
        parents.insert(r.try_get::<String>("", "parent")?);
    }
    Ok(Table {
        name,
        columns: cols,
        parents,
    })
}

/// A string literal for SQLite's table-valued pragmas (names come from the catalog itself).
fn sql_text(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Sorts tables so every table comes after the tables it refers to.
fn order_parents_first(mut left: Vec<Table>) -> Result<Vec<Table>> {
    let mut done: BTreeSet<String> = BTreeSet::new();
    let mut ordered = Vec::with_capacity(left.len());
    while !left.is_empty() {
        let before = left.len();
        let mut i = 0;
        while i < left.len() {
            let ready = left[i]
                .parents
                .iter()
                .all(|p| p == &left[i].name || done.contains(p));
            if ready {
                let t = left.remove(i);
                done.insert(t.name.clone());
                ordered.push(t);
            } else {
                i += 1;
            }
        }
        if left.len() == before {
            let names: Vec<&str> = left.iter().map(|t| t.name.as_str()).collect();
            return Err(Error::Archive(format!(
                "the tables {} refer to each other in a circle; backups cannot order them",
                names.join(", ")
            )));
        }
    }
    Ok(ordered)
}

async fn applied_migrations<C: ConnectionTrait>(db: &C) -> Result<Vec<String>> {
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            format!("SELECT version FROM {MIGRATIONS_TABLE} ORDER BY version"),
        ))
        .await?;
    rows.iter()
        .map(|r| r.try_get::<String>("", "version").map_err(Error::from))
        .collect()
}

/// The migrations this version of outreach knows, in order.
pub fn known_migrations() -> Vec<String> {
    Migrator::migrations()
        .iter()
        .map(|m| m.name().to_owned())
        .collect()
}

fn read_value(row: &QueryResult, col: &Column) -> Result<Json> {
    let n = col.name.as_str();
    Ok(match col.kind {
        Kind::Int32 => row
            .try_get::<Option<i32>>("", n)?
            .map_or(Json::Null, Json::from),
        Kind::Int64 => row
            .try_get::<Option<i64>>("", n)?
            .map_or(Json::Null, Json::from),
        Kind::Float => row
            .try_get::<Option<f64>>("", n)?
            .map_or(Json::Null, Json::from),
        Kind::Bool => row
            .try_get::<Option<bool>>("", n)?
            .map_or(Json::Null, Json::from),
        Kind::Text => row
            .try_get::<Option<String>>("", n)?
            .map_or(Json::Null, Json::from),
        Kind::Uuid => row
            .try_get::<Option<Uuid>>("", n)?
            .map_or(Json::Null, |u| Json::from(u.hyphenated().to_string())),
        Kind::Instant => row
            .try_get::<Option<DateTime<Utc>>>("", n)?
            .map_or(Json::Null, |t| {
                Json::from(t.to_rfc3339_opts(SecondsFormat::Micros, true))
            }),
        Kind::Date => row
            .try_get::<Option<NaiveDate>>("", n)?
            .map_or(Json::Null, |d| Json::from(d.format("%Y-%m-%d").to_string())),
    })
}

/// The value to bind for `v` in a column of `kind`; `where_` names the row for errors.
fn bind_value(v: &Json, kind: Kind, where_: &dyn Fn() -> String) -> Result<Value> {
    let bad = |what: &str| Error::Archive(format!("{}: {what}, found {v}", where_()));
    Ok(match (kind, v) {
        (Kind::Int32, Json::Null) => Value::Int(None),
        (Kind::Int64, Json::Null) => Value::BigInt(None),
        (Kind::Float, Json::Null) => Value::Double(None),
        (Kind::Bool, Json::Null) => Value::Bool(None),
        (Kind::Text, Json::Null) => Value::String(None),
        (Kind::Uuid, Json::Null) => Value::Uuid(None),
        (Kind::Instant, Json::Null) => Value::ChronoDateTimeUtc(None),
        (Kind::Date, Json::Null) => Value::ChronoDate(None),
        (Kind::Int32, Json::Number(n)) => Value::from(
            n.as_i64()
                .and_then(|i| i32::try_from(i).ok())
                .ok_or_else(|| bad("expected a 32-bit integer"))?,
        ),
        (Kind::Int64, Json::Number(n)) => {
            Value::from(n.as_i64().ok_or_else(|| bad("expected an integer"))?)
        }
        (Kind::Float, Json::Number(n)) => {
            Value::from(n.as_f64().ok_or_else(|| bad("expected a number"))?)
        }
        (Kind::Bool, Json::Bool(b)) => Value::from(*b),
        // SQLite keeps booleans as 0 and 1; an archive may carry either form.
        (Kind::Bool, Json::Number(n)) => Value::from(n.as_i64().is_some_and(|i| i != 0)),
        (Kind::Text, Json::String(s)) => Value::from(s.clone()),
        (Kind::Uuid, Json::String(s)) => {
            Value::from(Uuid::parse_str(s).map_err(|_| bad("expected a UUID"))?)
        }
        (Kind::Instant, Json::String(s)) => Value::from(
            DateTime::parse_from_rfc3339(s)
                .map_err(|_| bad("expected an RFC 3339 instant"))?
                .with_timezone(&Utc),
        ),
        (Kind::Date, Json::String(s)) => Value::from(
            NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| bad("expected a date"))?,
        ),
        (kind, _) => return Err(bad(&format!("expected a value of kind {kind:?}"))),
    })
}

fn write_line(out: &mut dyn Write, v: &impl Serialize) -> Result<()> {
    let io = |e: std::io::Error| Error::Archive(format!("cannot write the archive: {e}"));
    serde_json::to_writer(&mut *out, v)
        .map_err(|e| Error::Archive(format!("cannot write the archive: {e}")))?;
    out.write_all(b"\n").map_err(io)
}

/// Writes every table of `db` to `out` as one consistent snapshot; `progress` hears of each
/// table and every [`PAGE`] rows.
///
/// # Errors
/// Database errors, a column type the format cannot carry, and write errors.
pub async fn backup(
    db: &DatabaseConnection,
    out: &mut dyn Write,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<Report> {
    let tx = match db.get_database_backend() {
        DbBackend::Postgres => {
            db.begin_with_config(
                Some(IsolationLevel::RepeatableRead),
                Some(AccessMode::ReadOnly),
            )
            .await?
        }
        // A deferred transaction: its first read fixes the snapshot every later read sees (WAL),
        // without holding SQLite's write lock, so the daemon and the web app keep writing.
        _ => db.begin().await?,
    };
    let backend = tx.get_database_backend();
    let migrations = applied_migrations(&tx).await?;
    let tables = catalog(&tx).await?;
    let mut counts = BTreeMap::new();
    for t in &tables {
        let row = tx
            .query_one_raw(Statement::from_string(
                backend,
                format!("SELECT COUNT(*) AS n FROM {}", quote(&t.name)),
            ))
            .await?
            .ok_or_else(|| Error::Archive(format!("cannot count the rows of {}", t.name)))?;
        let n: i64 = row.try_get("", "n")?;
        counts.insert(t.name.clone(), u64::try_from(n).unwrap_or(0));
    }
    write_line(
        out,
        &Header {
            outreach_backup: FORMAT,
            created_at: Utc::now(),
            backend: backend_name(&tx).to_owned(),
            migrations: migrations.clone(),
            tables: counts.clone(),
        },
    )?;
    let mut total = 0;
    for t in &tables {
        let rows = counts.get(&t.name).copied().unwrap_or(0);
        progress(Progress::Table {
            name: &t.name,
            rows,
        });
        let names: Vec<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
        write_line(
            out,
            &serde_json::json!({ "table": t.name, "columns": names }),
        )?;
        let select = t
            .columns
            .iter()
            .map(|c| quote(&c.name))
            .collect::<Vec<_>>()
            .join(", ");
        // Every column in the order, so pages are stable whatever the table's key.
        let order = (1..=t.columns.len())
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let mut done: u64 = 0;
        loop {
            let page = tx
                .query_all_raw(Statement::from_string(
                    backend,
                    format!(
                        "SELECT {select} FROM {} ORDER BY {order} LIMIT {PAGE} OFFSET {done}",
                        quote(&t.name)
                    ),
                ))
                .await?;
            for row in &page {
                let values = t
                    .columns
                    .iter()
                    .map(|c| read_value(row, c))
                    .collect::<Result<Vec<_>>>()?;
                write_line(out, &values)?;
            }
            done += page.len() as u64;
            if page.len() < PAGE {
                break;
            }
            progress(Progress::Rows {
                name: &t.name,
                done,
                rows,
            });
        }
        total += done;
    }
    write_line(out, &serde_json::json!({ "end": true, "rows": total }))?;
    out.flush()
        .map_err(|e| Error::Archive(format!("cannot write the archive: {e}")))?;
    tx.commit().await?;
    Ok(Report {
        tables: counts,
        rows: total,
        archive_schema: migrations.last().cloned().unwrap_or_default(),
        migrated: Vec::new(),
    })
}

/// The tables outreach fills in by itself on first use; a database holding rows only there
/// counts as empty for [`restore`].
const FILLED_ON_FIRST_USE: &[&str] = &[
    "states",
    "treaties",
    "treaty_events",
    "signals",
    "audit_log",
    "users",
];

/// What in `db` is more than a fresh installation holds: (table, rows) for each such table.
async fn holdings<C: ConnectionTrait>(db: &C, tables: &[Table]) -> Result<Vec<(String, i64)>> {
    let backend = db.get_database_backend();
    let mut held = Vec::new();
    for t in tables {
        let filter = match t.name.as_str() {
            // Users without a password and shipped signals come with a fresh installation (the
            // acting handle and the reference data); anything else is a team's own.
            "users" => " WHERE password_hash IS NOT NULL",
            "signals" if t.columns.iter().any(|c| c.name == "shipped") => " WHERE shipped = FALSE",
            "audit_log" if t.columns.iter().any(|c| c.name == "action") => {
                " WHERE action NOT IN ('reference_data.load', 'user.create')"
            }
            name if FILLED_ON_FIRST_USE.contains(&name) => continue,
            _ => "",
        };
        let row = db
            .query_one_raw(Statement::from_string(
                backend,
                format!("SELECT COUNT(*) AS n FROM {}{filter}", quote(&t.name)),
            ))
            .await?;
        let n: i64 = match row {
            Some(r) => r.try_get("", "n")?,
            None => 0,
        };
        if n > 0 {
            held.push((t.name.clone(), n));
        }
    }
    Ok(held)
}

/// One table of an archive: its name, its columns and its rows (values in column order).
#[derive(Debug)]
struct ArchivedTable {
    name: String,
    columns: Vec<String>,
    rows: Vec<Vec<Json>>,
}

/// A parsed archive: its header and, per table, its columns and rows.
#[derive(Debug)]
pub struct Archive {
    pub header: Header,
    tables: Vec<ArchivedTable>,
}

impl Archive {
    /// Reads and checks an archive: its format, that it is whole (the trailer and every table's
    /// count), and that every row has as many values as its table has columns.
    ///
    /// # Errors
    /// [`Error::Archive`] naming the line that is wrong.
    pub fn read(input: &mut dyn BufRead) -> Result<Self> {
        let mut lines = input.lines().enumerate();
        let mut next = || -> Result<Option<(usize, Json)>> {
            match lines.next() {
                None => Ok(None),
                Some((i, line)) => {
                    let line = line
                        .map_err(|e| Error::Archive(format!("cannot read line {}: {e}", i + 1)))?;
                    let v = serde_json::from_str(&line)
                        .map_err(|e| Error::Archive(format!("line {} is not JSON ({e})", i + 1)))?;
                    Ok(Some((i + 1, v)))
                }
            }
        };
        let Some((_, first)) = next()? else {
            return Err(Error::Archive("the file is empty".into()));
        };
        let format = first.get("outreach_backup").and_then(Json::as_u64);
        match format {
            None => {
                return Err(Error::Archive(
                    "this is not an outreach backup (its first line has no \"outreach_backup\")"
                        .into(),
                ));
            }
            Some(f) if f > u64::from(FORMAT) => {
                return Err(Error::Archive(format!(
                    "the archive is in format {f}, newer than this outreach reads ({FORMAT}); \
                     restore it with a newer outreach"
                )));
            }
            Some(_) => {}
        }
        let header: Header = serde_json::from_value(first)
            .map_err(|e| Error::Archive(format!("line 1, the header: {e}")))?;
        let mut tables: Vec<ArchivedTable> = Vec::new();
        let mut ended = None;
        while let Some((at, v)) = next()? {
            if ended.is_some() {
                return Err(Error::Archive(format!(
                    "line {at} comes after the end of the archive"
                )));
            }
            match v {
                Json::Array(values) => {
                    let Some(table) = tables.last_mut() else {
                        return Err(Error::Archive(format!(
                            "line {at} is a row before any table"
                        )));
                    };
                    if values.len() != table.columns.len() {
                        return Err(Error::Archive(format!(
                            "line {at}: a row of {} has {} values for {} columns",
                            table.name,
                            values.len(),
                            table.columns.len()
                        )));
                    }
                    table.rows.push(values);
                }
                Json::Object(o) if o.contains_key("table") => {
                    let name = o["table"].as_str().unwrap_or_default().to_owned();
                    let columns: Vec<String> = o
                        .get("columns")
                        .and_then(Json::as_array)
                        .map(|a| {
                            a.iter()
                                .filter_map(|c| c.as_str().map(str::to_owned))
                                .collect()
                        })
                        .unwrap_or_default();
                    if name.is_empty() || columns.is_empty() {
                        return Err(Error::Archive(format!(
                            "line {at}: a table line needs a name and its columns"
                        )));
                    }
                    tables.push(ArchivedTable {
                        name,
                        columns,
                        rows: Vec::new(),
                    });
                }
                Json::Object(o) if o.get("end") == Some(&Json::Bool(true)) => {
                    ended = Some(o.get("rows").and_then(Json::as_u64).unwrap_or(0));
                }
                _ => {
                    return Err(Error::Archive(format!(
                        "line {at} is neither a table, a row nor the end"
                    )));
                }
            }
        }
        let total: u64 = tables.iter().map(|t| t.rows.len() as u64).sum();
        match ended {
            None => {
                return Err(Error::Archive(format!(
                    "the archive stops before its end line (after {total} rows): the file is incomplete"
                )));
            }
            Some(n) if n != total => {
                return Err(Error::Archive(format!(
                    "the archive announces {n} rows and holds {total}"
                )));
            }
            Some(_) => {}
        }
        for t in &tables {
            let want = header.tables.get(&t.name).copied().unwrap_or(0);
            if want != t.rows.len() as u64 {
                return Err(Error::Archive(format!(
                    "table {}: the header announces {want} rows, the archive holds {}",
                    t.name,
                    t.rows.len()
                )));
            }
        }
        Ok(Self { header, tables })
    }

    /// The rows of every table, as written: (table, columns, rows).
    pub fn tables(&self) -> impl Iterator<Item = (&str, &[String], &[Vec<Json>])> {
        self.tables
            .iter()
            .map(|t| (t.name.as_str(), t.columns.as_slice(), t.rows.as_slice()))
    }
}

/// Loads `archive` into `db`: refuses a database that holds more than a fresh installation
/// unless `force` (and then replaces everything in it), rebuilds the archive's schema, loads
/// every row in one transaction and migrates to this version's schema.
///
/// # Errors
/// [`Error::Conflict`] for a database that is not empty (without `force`); [`Error::Archive`]
/// for an archive from a newer outreach or with a value that does not fit its column; database
/// errors. When loading fails, no row is loaded.
pub async fn restore(
    db: &DatabaseConnection,
    archive: &Archive,
    force: bool,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<Report> {
    let known = known_migrations();
    let wanted = &archive.header.migrations;
    if let Some(unknown) = wanted.iter().find(|m| !known.contains(m)) {
        return Err(Error::Archive(format!(
            "the archive was written by a newer outreach (its schema has the migration {unknown}, \
             which this version does not know); restore it with that version or a newer one"
        )));
    }
    if known.iter().take(wanted.len()).ne(wanted.iter()) {
        return Err(Error::Archive(
            "the archive's migrations are not those of this outreach, in order; it cannot be restored here"
                .into(),
        ));
    }
    let backend = db.get_database_backend();
    let existing = catalog(db).await?;
    if !force {
        let held = holdings(db, &existing).await?;
        if !held.is_empty() {
            let list: Vec<String> = held.iter().map(|(t, n)| format!("{t}: {n}")).collect();
            return Err(Error::Conflict(format!(
                "the database already holds records ({}); restore into an empty database, or \
                 pass --force to replace everything in it with the archive",
                list.join(", ")
            )));
        }
    }
    // Start from nothing: drop every table, children first, and rebuild the archive's schema.
    for t in existing.iter().rev() {
        db.execute_unprepared(&format!("DROP TABLE IF EXISTS {}", quote(&t.name)))
            .await?;
    }
    db.execute_unprepared(&format!("DROP TABLE IF EXISTS {MIGRATIONS_TABLE}"))
        .await?;
    Migrator::up(db, Some(u32::try_from(wanted.len()).unwrap_or(u32::MAX))).await?;
    let schema = catalog(db).await?;
    let by_name: BTreeMap<&str, &ArchivedTable> = archive
        .tables
        .iter()
        .map(|t| (t.name.as_str(), t))
        .collect();
    if let Some(extra) = archive
        .tables
        .iter()
        .find(|a| !schema.iter().any(|t| t.name == a.name))
    {
        return Err(Error::Archive(format!(
            "the archive has a table {} that its own schema does not",
            extra.name
        )));
    }
    let tx = crate::db::begin(db).await?;
    let mut counts = BTreeMap::new();
    let mut total = 0;
    for table in &schema {
        let Some(archived) = by_name.get(table.name.as_str()).copied() else {
            continue;
        };
        let (name, columns, rows) = (&archived.name, &archived.columns, &archived.rows);
        let kinds = columns
            .iter()
            .map(|c| {
                table
                    .columns
                    .iter()
                    .find(|tc| &tc.name == c)
                    .map(|tc| tc.kind)
                    .ok_or_else(|| {
                        Error::Archive(format!(
                            "the archive has a column {name}.{c} that its own schema does not"
                        ))
                    })
            })
            .collect::<Result<Vec<_>>>()?;
        progress(Progress::Table {
            name,
            rows: rows.len() as u64,
        });
        let cols = columns
            .iter()
            .map(|c| quote(c))
            .collect::<Vec<_>>()
            .join(", ");
        // PostgreSQL takes at most 65,535 parameters per statement.
        let per_statement = (30_000 / columns.len().max(1)).clamp(1, 500);
        let mut done = 0usize;
        for chunk in rows.chunks(per_statement) {
            let mut values = Vec::with_capacity(chunk.len() * columns.len());
            let mut tuples = Vec::with_capacity(chunk.len());
            for (i, row) in chunk.iter().enumerate() {
                let mut marks = Vec::with_capacity(columns.len());
                for (j, v) in row.iter().enumerate() {
                    let where_ =
                        || format!("table {name}, row {}, column {}", done + i + 1, columns[j]);
                    values.push(bind_value(v, kinds[j], &where_)?);
                    marks.push(match backend {
                        DbBackend::Postgres => format!("${}", values.len()),
                        _ => "?".to_owned(),
                    });
                }
                tuples.push(format!("({})", marks.join(", ")));
            }
            tx.execute_raw(Statement::from_sql_and_values(
                backend,
                format!(
                    "INSERT INTO {} ({cols}) VALUES {}",
                    quote(name),
                    tuples.join(", ")
                ),
                values,
            ))
            .await?;
            done += chunk.len();
            if rows.len() > PAGE {
                progress(Progress::Rows {
                    name,
                    done: done as u64,
                    rows: rows.len() as u64,
                });
            }
        }
        counts.insert(name.to_owned(), rows.len() as u64);
        total += rows.len() as u64;
    }
    tx.commit().await?;
    let missing: Vec<String> = known.iter().skip(wanted.len()).cloned().collect();
    if !missing.is_empty() {
        Migrator::up(db, None).await?;
    }
    Ok(Report {
        tables: counts,
        rows: total,
        archive_schema: wanted.last().cloned().unwrap_or_default(),
        migrated: missing,
    })
}

/// Every row of every table of `db`, by table, in the archive's canonical form and sorted: for
/// comparing two databases (a restored one with its source).
///
/// # Errors
/// Database errors.
pub async fn rows_by_table(db: &DatabaseConnection) -> Result<BTreeMap<String, Vec<String>>> {
    let mut out = Vec::new();
    backup(db, &mut out, &mut |_| {}).await?;
    let archive = Archive::read(&mut out.as_slice())?;
    let mut tables = BTreeMap::new();
    for (name, columns, rows) in archive.tables() {
        let mut lines: Vec<String> = rows
            .iter()
            .map(|r| {
                let named: BTreeMap<&str, &Json> =
                    columns.iter().map(String::as_str).zip(r.iter()).collect();
                serde_json::to_string(&named)
                    .map_err(|e| Error::Archive(format!("cannot write a row of {name}: {e}")))
            })
            .collect::<Result<_>>()?;
        lines.sort();
        tables.insert(name.to_owned(), lines);
    }
    Ok(tables)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cut_archive_is_refused_with_what_is_missing() {
        let whole = "{\"outreach_backup\":1,\"created_at\":\"2026-12-03T10:00:00Z\",\"backend\":\"sqlite\",\"migrations\":[],\"tables\":{\"t\":1}}\n{\"table\":\"t\",\"columns\":[\"a\"]}\n[1]\n{\"end\":true,\"rows\":1}\n";
        assert!(Archive::read(&mut whole.as_bytes()).is_ok());
        let cut = &whole[..whole.rfind("{\"end\"").unwrap_or(0)];
        let err = Archive::read(&mut cut.as_bytes()).unwrap_err().to_string();
        assert!(err.contains("incomplete"), "{err}");
        let short_row = whole.replace("[1]", "[1,2]");
        let err = Archive::read(&mut short_row.as_bytes())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("line 3") && err.contains("2 values for 1 columns"),
            "{err}"
        );
        let newer = whole.replace("\"outreach_backup\":1", "\"outreach_backup\":9");
        let err = Archive::read(&mut newer.as_bytes())
            .unwrap_err()
            .to_string();
        assert!(err.contains("newer"), "{err}");
        let err = Archive::read(&mut "hello\n".as_bytes())
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 1 is not JSON"), "{err}");
    }

    #[test]
    fn values_are_bound_by_their_column_and_wrong_ones_named() {
        let at = || "table t, row 1, column c".to_owned();
        assert!(matches!(
            bind_value(
                &Json::from("2026-12-03T10:00:00.123456Z"),
                Kind::Instant,
                &at
            ),
            Ok(Value::ChronoDateTimeUtc(Some(_)))
        ));
        let err = bind_value(&Json::from("soon"), Kind::Instant, &at)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("table t, row 1, column c") && err.contains("RFC 3339"),
            "{err}"
        );
        assert!(bind_value(&Json::from(5_000_000_000_i64), Kind::Int32, &at).is_err());
        assert!(matches!(
            bind_value(&Json::Null, Kind::Uuid, &at),
            Ok(Value::Uuid(None))
        ));
    }

    #[test]
    fn parents_come_before_children() {
        let t = |name: &str, parents: &[&str]| Table {
            name: name.into(),
            columns: vec![],
            parents: parents.iter().map(|p| (*p).to_owned()).collect(),
        };
        let ordered = order_parents_first(vec![
            t("c", &["b"]),
            t("b", &["a"]),
            t("a", &[]),
            t("s", &["s"]),
        ])
        .unwrap();
        let names: Vec<&str> = ordered.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["a", "s", "b", "c"]);
        assert!(order_parents_first(vec![t("x", &["y"]), t("y", &["x"])]).is_err());
    }
}
