//! The reference data shipped with outreach (states, capitals, zones, treaty events with their
//! sources and confidence flags) and its idempotent loading into the database.
//!
//! The files live in `data/reference/` at the repository root and are compiled into the binary,
//! so `outreach init` works anywhere; `outreach init --data DIR` loads a newer copy instead.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use chrono::NaiveDate;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DatabaseConnection, EntityTrait,
    QueryOrder,
};
use serde::{Deserialize, Serialize};

use crate::audit;
use crate::domain::{IanaZone, SignalKind, TreatyEventKind};
use crate::entities::{signal, state, treaty, treaty_event};
use crate::error::{Error, Result};
use crate::status::TreatyRecord;

const STATES_CSV: &str = include_str!("../../../data/reference/states.csv");
const EVENTS_CSV: &str = include_str!("../../../data/reference/treaty_events.csv");
const SIGNALS_CSV: &str = include_str!("../../../data/reference/signals.csv");

/// The treaties the reference data covers: code, full name, short name.
pub const TREATIES: &[(&str, &str, &str)] = &[
    (
        "APMBC",
        "Convention on the Prohibition of the Use, Stockpiling, Production and Transfer of \
         Anti-Personnel Mines and on their Destruction",
        "Mine Ban Treaty",
    ),
    (
        "CCM",
        "Convention on Cluster Munitions",
        "Cluster Munition Convention",
    ),
    (
        "CCW_P5",
        "Protocol on Explosive Remnants of War (Protocol V to the CCW)",
        "CCW Protocol V",
    ),
    (
        "CRPD",
        "Convention on the Rights of Persons with Disabilities",
        "Disability Rights Convention",
    ),
];

/// The treaty every view defaults to.
pub const DEFAULT_TREATY: &str = "APMBC";

/// One row of `states.csv`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StateRow {
    pub iso2: String,
    pub iso3: String,
    pub m49: String,
    pub name: String,
    pub official_name: String,
    pub entity_type: String,
    pub capital: String,
    pub capital_tz: String,
    pub un_region: String,
    pub un_subregion: String,
    pub un_intermediate_region: String,
    pub counted_from: Option<NaiveDate>,
    pub note: String,
}

/// One row of `treaty_events.csv`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EventRow {
    pub treaty: String,
    pub iso3: String,
    pub event: String,
    pub date: NaiveDate,
    pub source: String,
    pub confidence: String,
    pub note: String,
}

/// One row of `signals.csv`: a sourced fact about a state (see `data/reference/signals.md`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SignalRow {
    pub iso3: String,
    pub kind: String,
    pub date: NaiveDate,
    pub detail: String,
    pub source: String,
    pub confidence: String,
    pub note: String,
}

impl SignalRow {
    /// The row's id in the database, the same on every load: a reload updates the row in place
    /// and a row the data no longer has can be found and removed.
    pub fn id(&self) -> uuid::Uuid {
        let key = format!("{}|{}|{}|{}", self.iso3, self.kind, self.date, self.detail);
        uuid::Uuid::new_v5(&SIGNAL_NAMESPACE, key.as_bytes())
    }
}

/// The namespace of shipped signals' ids (a fixed random UUID).
const SIGNAL_NAMESPACE: uuid::Uuid =
    uuid::Uuid::from_u128(0x6d1b_2f0c_8a4e_4c27_9f3e_51a0_d2c4_7b19);

/// A checked set of reference data.
#[derive(Debug, Clone)]
pub struct ReferenceData {
    pub states: Vec<StateRow>,
    pub events: Vec<EventRow>,
    /// `None` when a folder given to `init --data` has no `signals.csv`: the signals in the
    /// database are then left as they are.
    pub signals: Option<Vec<SignalRow>>,
}

fn read_csv<T: for<'de> Deserialize<'de>>(file: &str, text: &str) -> Result<Vec<T>> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| Error::ReferenceData(format!("{file}: {e}")))?
        .clone();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| Error::ReferenceData(format!("{file}: {e}")))?;
        let line = record.position().map_or(0, csv::Position::line);
        // The csv crate cannot say which column a value parser rejected, so dates are checked
        // here first, by name.
        for (column, value) in headers.iter().zip(record.iter()) {
            if (column == "date" || column == "counted_from")
                && !value.is_empty()
                && NaiveDate::parse_from_str(value, "%Y-%m-%d").is_err()
            {
                return Err(Error::ReferenceData(format!(
                    "{file}, line {line}, column '{column}': '{value}' is not a YYYY-MM-DD date"
                )));
            }
        }
        let row: T = record.deserialize(Some(&headers)).map_err(|e| {
            let column = match e.kind() {
                csv::ErrorKind::Deserialize { err, .. } => err
                    .field()
                    .and_then(|i| headers.get(usize::try_from(i).ok()?))
                    .unwrap_or("?")
                    .to_owned(),
                _ => "?".to_owned(),
            };
            Error::ReferenceData(format!("{file}, line {line}, column '{column}': {e}"))
        })?;
        rows.push(row);
    }
    // An empty file (or one with only its header) is a broken copy, never "remove everything".
    if rows.is_empty() {
        return Err(Error::ReferenceData(format!(
            "{file} has no rows{}; a reference data folder needs every row (the shipped files are in data/reference/)",
            if headers.is_empty() {
                ""
            } else {
                " under its header"
            }
        )));
    }
    Ok(rows)
}

impl ReferenceData {
    /// The data compiled into this build.
    ///
    /// # Errors
    /// Only if the shipped files are broken, which the test suite rules out.
    pub fn embedded() -> Result<Self> {
        Self::parse(STATES_CSV, EVENTS_CSV)?.with_signals(SIGNALS_CSV)
    }

    /// Reads `states.csv` and `treaty_events.csv` from a folder.
    ///
    /// # Errors
    /// [`Error::ReferenceData`] naming the file, line and column of the first problem.
    pub fn from_dir(dir: &Path) -> Result<Self> {
        let read = |name: &str| {
            std::fs::read_to_string(dir.join(name)).map_err(|e| {
                Error::ReferenceData(format!("cannot read {}: {e}", dir.join(name).display()))
            })
        };
        let data = Self::parse(&read("states.csv")?, &read("treaty_events.csv")?)?;
        if dir.join("signals.csv").exists() {
            data.with_signals(&read("signals.csv")?)
        } else {
            Ok(data)
        }
    }

    /// Adds `signals.csv`, checked against the states.
    ///
    /// # Errors
    /// [`Error::ReferenceData`] naming the line and what is wrong.
    pub fn with_signals(mut self, signals_csv: &str) -> Result<Self> {
        let rows: Vec<SignalRow> = read_csv("signals.csv", signals_csv)?;
        let iso3s: HashSet<&str> = self.states.iter().map(|s| s.iso3.as_str()).collect();
        let mut keys = HashSet::new();
        for (i, r) in rows.iter().enumerate() {
            let line = i + 2;
            let at = |msg: String| {
                Error::ReferenceData(format!(
                    "signals.csv, line {line} ({} {} {}): {msg}",
                    r.iso3, r.kind, r.date
                ))
            };
            if !iso3s.contains(r.iso3.as_str()) {
                return Err(at("iso3 is not in states.csv".into()));
            }
            SignalKind::parse("kind", &r.kind).map_err(|err| at(err.to_string()))?;
            check_confidence(&r.confidence).map_err(at)?;
            if r.detail.trim().is_empty() {
                return Err(at("detail is empty".into()));
            }
            if !(r.source.starts_with("http://") || r.source.starts_with("https://")) {
                return Err(at(format!(
                    "source '{}' must be an http(s) address",
                    r.source
                )));
            }
            if !keys.insert(r.id()) {
                return Err(at("the same signal appears twice".into()));
            }
        }
        self.signals = Some(rows);
        Ok(self)
    }

    /// Parses and checks both files.
    ///
    /// # Errors
    /// [`Error::ReferenceData`] naming the file, line and what is wrong.
    pub fn parse(states_csv: &str, events_csv: &str) -> Result<Self> {
        let states: Vec<StateRow> = read_csv("states.csv", states_csv)?;
        let events: Vec<EventRow> = read_csv("treaty_events.csv", events_csv)?;
        let mut iso3s = HashSet::new();
        for (i, s) in states.iter().enumerate() {
            let line = i + 2;
            if crate::domain::StateCode::parse(&s.iso3).map(|c| c.as_str() != s.iso3)? {
                return Err(Error::ReferenceData(format!(
                    "states.csv, line {line}: iso3 '{}' must be upper case",
                    s.iso3
                )));
            }
            IanaZone::parse("capital_tz", &s.capital_tz).map_err(|e| {
                Error::ReferenceData(format!("states.csv, line {line} ({}): {e}", s.iso3))
            })?;
            if !iso3s.insert(s.iso3.clone()) {
                return Err(Error::ReferenceData(format!(
                    "states.csv, line {line}: {} appears twice",
                    s.iso3
                )));
            }
        }
        let treaties: HashSet<&str> = TREATIES.iter().map(|t| t.0).collect();
        let mut keys = HashSet::new();
        for (i, e) in events.iter().enumerate() {
            let line = i + 2;
            let at = |msg: String| {
                Error::ReferenceData(format!(
                    "treaty_events.csv, line {line} ({} {} {}): {msg}",
                    e.treaty, e.iso3, e.event
                ))
            };
            if !treaties.contains(e.treaty.as_str()) {
                return Err(at("unknown treaty".into()));
            }
            if !iso3s.contains(&e.iso3) {
                return Err(at("iso3 is not in states.csv".into()));
            }
            TreatyEventKind::parse("event", &e.event).map_err(|err| at(err.to_string()))?;
            check_confidence(&e.confidence).map_err(at)?;
            if !keys.insert((e.treaty.clone(), e.iso3.clone(), e.event.clone())) {
                return Err(at("duplicate event".into()));
            }
        }
        Ok(Self {
            states,
            events,
            signals: None,
        })
    }

    /// Each state's record under `treaty`, for computing status in memory.
    pub fn records(&self, treaty: &str) -> HashMap<String, TreatyRecord> {
        records_from(
            self.events
                .iter()
                .filter(|e| e.treaty == treaty)
                .map(|e| (e.iso3.as_str(), e.event.as_str(), e.date)),
        )
    }
}

/// The confidence flag every reference row carries (see data/reference/README.md).
fn check_confidence(given: &str) -> std::result::Result<(), String> {
    if given == "confirmed" || given == "unconfirmed" {
        Ok(())
    } else {
        Err(format!(
            "confidence '{given}' must be confirmed or unconfirmed"
        ))
    }
}

/// Groups `(iso3, event, date)` triples into per-state records; unknown event names are skipped
/// (they were rejected when the data was loaded).
pub fn records_from<'a>(
    events: impl Iterator<Item = (&'a str, &'a str, NaiveDate)>,
) -> HashMap<String, TreatyRecord> {
    let mut out: HashMap<String, TreatyRecord> = HashMap::new();
    for (iso3, event, date) in events {
        if let Ok(kind) = TreatyEventKind::parse("event", event) {
            out.entry(iso3.to_owned()).or_default().add(kind, date);
        }
    }
    out
}

/// How many rows a load inserted, updated, left alone or removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub inserted: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub removed: usize,
}

impl Counts {
    pub fn changed(&self) -> usize {
        self.inserted + self.updated + self.removed
    }
}

/// What a load did, per table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct LoadReport {
    pub treaties: Counts,
    pub states: Counts,
    pub treaty_events: Counts,
    /// Shipped signals only; signals users recorded are never touched.
    pub signals: Counts,
}

impl LoadReport {
    pub fn changed(&self) -> usize {
        self.treaties.changed()
            + self.states.changed()
            + self.treaty_events.changed()
            + self.signals.changed()
    }
}

fn state_model(r: &StateRow) -> state::Model {
    state::Model {
        iso3: r.iso3.clone(),
        iso2: r.iso2.clone(),
        m49: r.m49.clone(),
        name: r.name.clone(),
        official_name: r.official_name.clone(),
        entity_type: r.entity_type.clone(),
        capital: r.capital.clone(),
        capital_tz: r.capital_tz.clone(),
        un_region: r.un_region.clone(),
        un_subregion: r.un_subregion.clone(),
        un_intermediate_region: r.un_intermediate_region.clone(),
        counted_from: r.counted_from,
        note: r.note.clone(),
    }
}

fn state_active(m: state::Model) -> state::ActiveModel {
    state::ActiveModel {
        iso3: Set(m.iso3),
        iso2: Set(m.iso2),
        m49: Set(m.m49),
        name: Set(m.name),
        official_name: Set(m.official_name),
        entity_type: Set(m.entity_type),
        capital: Set(m.capital),
        capital_tz: Set(m.capital_tz),
        un_region: Set(m.un_region),
        un_subregion: Set(m.un_subregion),
        un_intermediate_region: Set(m.un_intermediate_region),
        counted_from: Set(m.counted_from),
        note: Set(m.note),
    }
}

/// The share of the stored treaty events (or shipped signals) a load may remove unless removals
/// are allowed: 5 %.
pub const MAX_REMOVAL_SHARE: f64 = 0.05;

/// Loads `data` into the database in one transaction: inserts what is new, updates what changed,
/// removes treaty events the data no longer has, and leaves the rest alone, so that running it
/// twice changes nothing. States are never removed (records refer to them). A load that would
/// remove more than 5 % of the stored treaty events or shipped signals is refused (see
/// [`load_with`]).
///
/// # Errors
/// Database errors, [`Error::Conflict`] for a load that would remove too much; nothing is
/// written then.
pub async fn load(
    db: &DatabaseConnection,
    data: &ReferenceData,
    actor: &str,
) -> Result<LoadReport> {
    load_with(db, data, actor, false).await
}

/// What a refused load would have removed, for the error message.
fn too_many_removals(what: &str, removed: &[String], stored: usize) -> Error {
    let shown: Vec<&str> = removed.iter().take(10).map(String::as_str).collect();
    let more = removed.len().saturating_sub(shown.len());
    Error::Conflict(format!(
        "this load would remove {} of the {stored} {what} in the database (more than 5 %): {}{}; \
         nothing was changed. Check that the data folder is complete; if the removals are intended, \
         load it again with --allow-removals",
        removed.len(),
        shown.join("; "),
        if more > 0 {
            format!("; and {more} more")
        } else {
            String::new()
        }
    ))
}

fn removes_too_much(removed: usize, stored: usize) -> bool {
    #[allow(clippy::cast_precision_loss)]
    let share = removed as f64 / stored.max(1) as f64;
    removed > 0 && share > MAX_REMOVAL_SHARE
}

/// As [`load`]; with `allow_removals` a load may remove any share of the events and signals.
///
/// # Errors
/// As [`load`].
pub async fn load_with(
    db: &DatabaseConnection,
    data: &ReferenceData,
    actor: &str,
    allow_removals: bool,
) -> Result<LoadReport> {
    let tx = crate::db::begin(db).await?;
    let mut report = LoadReport::default();

    let existing_treaties: HashMap<String, treaty::Model> = treaty::Entity::find()
        .all(&tx)
        .await?
        .into_iter()
        .map(|t| (t.code.clone(), t))
        .collect();
    for (code, name, short) in TREATIES {
        let want = treaty::Model {
            code: (*code).to_owned(),
            name: (*name).to_owned(),
            short_name: (*short).to_owned(),
        };
        let active = treaty::ActiveModel {
            code: Set(want.code.clone()),
            name: Set(want.name.clone()),
            short_name: Set(want.short_name.clone()),
        };
        match existing_treaties.get(*code) {
            None => {
                active.insert(&tx).await?;
                report.treaties.inserted += 1;
            }
            Some(have) if *have != want => {
                active.update(&tx).await?;
                report.treaties.updated += 1;
            }
            Some(_) => report.treaties.unchanged += 1,
        }
    }

    let existing_states: HashMap<String, state::Model> = state::Entity::find()
        .all(&tx)
        .await?
        .into_iter()
        .map(|s| (s.iso3.clone(), s))
        .collect();
    let mut new_states = Vec::new();
    for row in &data.states {
        let want = state_model(row);
        match existing_states.get(&row.iso3) {
            None => new_states.push(state_active(want)),
            Some(have) if *have != want => {
                state_active(want).update(&tx).await?;
                report.states.updated += 1;
            }
            Some(_) => report.states.unchanged += 1,
        }
    }
    report.states.inserted = new_states.len();
    for chunk in new_states.chunks(100) {
        state::Entity::insert_many(chunk.to_vec()).exec(&tx).await?;
    }

    type Key = (String, String, String);
    let existing_events: BTreeMap<Key, treaty_event::Model> = treaty_event::Entity::find()
        .order_by_asc(treaty_event::Column::Id)
        .all(&tx)
        .await?
        .into_iter()
        .map(|e| ((e.treaty.clone(), e.iso3.clone(), e.event.clone()), e))
        .collect();
    let mut seen = HashSet::new();
    let mut new_events = Vec::new();
    for row in &data.events {
        let key = (row.treaty.clone(), row.iso3.clone(), row.event.clone());
        seen.insert(key.clone());
        match existing_events.get(&key) {
            None => new_events.push(treaty_event::ActiveModel {
                id: Set(uuid::Uuid::now_v7()),
                treaty: Set(row.treaty.clone()),
                iso3: Set(row.iso3.clone()),
                event: Set(row.event.clone()),
                date: Set(row.date),
                source: Set(row.source.clone()),
                confidence: Set(row.confidence.clone()),
                note: Set(row.note.clone()),
            }),
            Some(have) => {
                let same = have.date == row.date
                    && have.source == row.source
                    && have.confidence == row.confidence
                    && have.note == row.note;
                if same {
                    report.treaty_events.unchanged += 1;
                } else {
                    treaty_event::ActiveModel {
                        id: Set(have.id),
                        treaty: Set(row.treaty.clone()),
                        iso3: Set(row.iso3.clone()),
                        event: Set(row.event.clone()),
                        date: Set(row.date),
                        source: Set(row.source.clone()),
                        confidence: Set(row.confidence.clone()),
                        note: Set(row.note.clone()),
                    }
                    .update(&tx)
                    .await?;
                    report.treaty_events.updated += 1;
                }
            }
        }
    }
    report.treaty_events.inserted = new_events.len();
    for chunk in new_events.chunks(100) {
        treaty_event::Entity::insert_many(chunk.to_vec())
            .exec(&tx)
            .await?;
    }
    let gone: Vec<String> = existing_events
        .keys()
        .filter(|k| !seen.contains(*k))
        .map(|(t, i, e)| format!("{t} {i} {e}"))
        .collect();
    if !allow_removals && removes_too_much(gone.len(), existing_events.len()) {
        return Err(too_many_removals(
            "treaty events",
            &gone,
            existing_events.len(),
        ));
    }
    for (key, have) in &existing_events {
        if !seen.contains(key) {
            treaty_event::Entity::delete_by_id(have.id)
                .exec(&tx)
                .await?;
            report.treaty_events.removed += 1;
        }
    }

    if let Some(rows) = &data.signals {
        report.signals = load_signals(&tx, rows, actor, allow_removals).await?;
    }

    if report.changed() > 0 {
        audit::record(
            &tx,
            actor,
            "reference_data.load",
            "reference_data",
            "states+treaty_events",
            serde_json::to_value(report)
                .map_err(|e| Error::ReferenceData(format!("cannot record the load: {e}")))?,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(report)
}

/// Brings the shipped signals in line with `rows`, keeping each row's source, confidence and
/// note; signals recorded by users are left alone.
async fn load_signals<C: ConnectionTrait>(
    tx: &C,
    rows: &[SignalRow],
    actor: &str,
    allow_removals: bool,
) -> Result<Counts> {
    use sea_orm::{ColumnTrait, QueryFilter};
    let mut counts = Counts::default();
    let existing: HashMap<uuid::Uuid, signal::Model> = signal::Entity::find()
        .filter(signal::Column::Shipped.eq(true))
        .all(tx)
        .await?
        .into_iter()
        .map(|s| (s.id, s))
        .collect();
    let mut seen = HashSet::new();
    let mut new_rows = Vec::new();
    for row in rows {
        let id = row.id();
        seen.insert(id);
        let want = |created_by: String, created_at| signal::ActiveModel {
            id: Set(id),
            iso3: Set(row.iso3.clone()),
            kind: Set(row.kind.clone()),
            observed_on: Set(row.date),
            detail: Set(row.detail.clone()),
            value: Set(None),
            source: Set(Some(row.source.clone())),
            created_by: Set(created_by),
            created_at: Set(created_at),
            confidence: Set(Some(row.confidence.clone())),
            note: Set((!row.note.is_empty()).then(|| row.note.clone())),
            shipped: Set(true),
        };
        match existing.get(&id) {
            None => new_rows.push(want(actor.to_owned(), chrono::Utc::now())),
            Some(have) => {
                let same = have.source.as_deref() == Some(row.source.as_str())
                    && have.confidence.as_deref() == Some(row.confidence.as_str())
                    && have.note.as_deref().unwrap_or("") == row.note;
                if same {
                    counts.unchanged += 1;
                } else {
                    want(have.created_by.clone(), have.created_at)
                        .update(tx)
                        .await?;
                    counts.updated += 1;
                }
            }
        }
    }
    counts.inserted = new_rows.len();
    for chunk in new_rows.chunks(100) {
        signal::Entity::insert_many(chunk.to_vec()).exec(tx).await?;
    }
    let gone: Vec<String> = existing
        .values()
        .filter(|s| !seen.contains(&s.id))
        .map(|s| format!("{} {} {}", s.iso3, s.kind, s.observed_on))
        .collect();
    if !allow_removals && removes_too_much(gone.len(), existing.len()) {
        return Err(too_many_removals("shipped signals", &gone, existing.len()));
    }
    for id in existing.keys() {
        if !seen.contains(id) {
            signal::Entity::delete_by_id(*id).exec(tx).await?;
            counts.removed += 1;
        }
    }
    Ok(counts)
}

/// Whether the database already holds reference data.
///
/// # Errors
/// Database errors.
pub async fn is_loaded<C: ConnectionTrait>(db: &C) -> Result<bool> {
    use sea_orm::PaginatorTrait;
    Ok(state::Entity::find().count(db).await? > 0)
}

#[cfg(test)]
mod tests {
    //! The counts `data/reference/check.py` reproduces, derived here by the engine's own rules.
    use super::*;
    use crate::status::counted_on;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    /// (universe, parties, in force, not party) for APMBC on a date.
    fn apmbc_counts(data: &ReferenceData, on: NaiveDate) -> (usize, usize, usize, usize) {
        let records = data.records("APMBC");
        let empty = TreatyRecord::new();
        let mut out = (0, 0, 0, 0);
        for s in data
            .states
            .iter()
            .filter(|s| counted_on(s.counted_from, on))
        {
            let at = records.get(&s.iso3).unwrap_or(&empty).status_at(on);
            out.0 += 1;
            if at.status.is_party() {
                out.1 += 1;
            } else {
                out.3 += 1;
            }
            if at.in_force {
                out.2 += 1;
            }
        }
        out
    }

    #[test]
    fn the_shipped_data_parses_and_is_complete() {
        let data = ReferenceData::embedded().unwrap();
        assert_eq!(data.states.len(), 197);
        assert_eq!(data.events.len(), 1557);
        assert_eq!(
            data.events.iter().filter(|e| e.treaty == "APMBC").count(),
            476
        );
        let signals = data.signals.as_ref().expect("signals.csv is compiled in");
        assert_eq!(signals.len(), 40);
        assert_eq!(
            signals
                .iter()
                .filter(|s| s.confidence == "confirmed")
                .count(),
            26
        );
    }

    #[test]
    fn apmbc_counts_match_the_campaign_figures() {
        let data = ReferenceData::embedded().unwrap();
        let check = |on: &str, want| assert_eq!(apmbc_counts(&data, d(on)), want, "{on}");
        check("1999-03-01", (193, 67, 45, 126));
        check("2009-03-02", (195, 156, 156, 39));
        check("2022-06-20", (197, 164, 164, 33));
        check("2026-02-20", (197, 161, 161, 36));
    }

    #[test]
    fn the_33_states_not_party_in_june_2022_are_the_campaigns_list() {
        let data = ReferenceData::embedded().unwrap();
        let records = data.records("APMBC");
        let empty = TreatyRecord::new();
        let on = d("2022-06-20");
        let mut got: Vec<&str> = data
            .states
            .iter()
            .filter(|s| counted_on(s.counted_from, on))
            .filter(|s| {
                !records
                    .get(&s.iso3)
                    .unwrap_or(&empty)
                    .status_at(on)
                    .status
                    .is_party()
            })
            .map(|s| s.iso3.as_str())
            .collect();
        got.sort_unstable();
        let want = [
            "ARE", "ARM", "AZE", "BHR", "CHN", "CUB", "EGY", "FSM", "GEO", "IND", "IRN", "ISR",
            "KAZ", "KGZ", "KOR", "LAO", "LBN", "LBY", "MAR", "MHL", "MMR", "MNG", "NPL", "PAK",
            "PRK", "RUS", "SAU", "SGP", "SYR", "TON", "USA", "UZB", "VNM",
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn a_broken_event_row_is_refused_with_its_line() {
        let states = "iso2,iso3,m49,name,official_name,entity_type,capital,capital_tz,un_region,un_subregion,un_intermediate_region,counted_from,note\n\
                      NP,NPL,524,Nepal,Federal Democratic Republic of Nepal,un_member,Kathmandu,Asia/Kathmandu,Asia,Southern Asia,,,\n";
        let events = "treaty,iso3,event,date,source,confidence,note\n\
                      APMBC,NPL,accession,2031-02-30,https://example.org,confirmed,\n";
        let err = ReferenceData::parse(states, events)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("treaty_events.csv, line 2, column 'date'"),
            "{err}"
        );
    }
}
