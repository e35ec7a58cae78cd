//! A state's stance towards joining the treaty: recorded with engagements ("open" after a
//! capital meeting) or set by a coordinator with a reason ("reluctant: the defence ministry
//! confirmed new production"). The current stance on a date is the most recent of these on or
//! before it, derived on every read, never stored; on one day a coordinator's setting counts
//! after the engagements of that day, as it is a judgement made of them.
//!
//! Stances follow the engagements' confidentiality: a restricted engagement's stance counts only
//! for readers cleared for restricted notes (`access::Reader`), so a reader who may not read the
//! note sees the stance as it stood without it.

use std::collections::HashMap;

use chrono::{NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, Statement,
};
use serde::Serialize;
use uuid::Uuid;

use crate::access::Reader;
use crate::actor::Actor;
use crate::audit;
use crate::domain::{Role, Sensitivity, Stance, parse_date, required_paragraphs};
use crate::entities::{engagement, stance_setting};
use crate::error::{Error, Result};

/// What a reason may hold at most.
const REASON_MAX: usize = 1000;

/// A stance as given by a coordinator, not yet checked.
#[derive(Debug, Clone, Default)]
pub struct StanceInput {
    /// ISO3 code or name.
    pub state: String,
    /// One of supportive, open, neutral, reluctant, opposed.
    pub stance: String,
    /// Why: what the coordinator knows that the engagements do not say.
    pub reason: String,
    /// The day it holds from, YYYY-MM-DD; today when absent. Not in the future.
    pub on: Option<String>,
}

/// A stance on record: the state's current one, or one step of its history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct StanceView {
    /// supportive, open, neutral, reluctant or opposed.
    pub stance: String,
    /// The day it was recorded (for a step of the history: the first day of that stance).
    pub since: NaiveDate,
    /// `engagement` (recorded with an engagement) or `coordinator` (set with a reason).
    pub source: String,
    /// The engagement it was recorded with.
    pub engagement_id: Option<Uuid>,
    /// That engagement's kind, such as `capital_meeting`.
    pub engagement_kind: Option<String>,
    /// The coordinator's reason.
    pub reason: Option<String>,
    /// The coordinator who set it.
    pub set_by: Option<String>,
}

/// A state's stance on a date with the changes before it: what `outreach stance show --json`
/// prints and the API answers.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StanceHistory {
    pub iso3: String,
    pub at: NaiveDate,
    /// The stance on `at`; `None` when none is on record.
    pub current: Option<StanceView>,
    /// Each change of stance up to `at`, newest first; the first is the current one.
    pub history: Vec<StanceView>,
}

/// Which stances a listing keeps: some stances, and/or the states with none on record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StanceFilter {
    pub stances: Vec<Stance>,
    pub none: bool,
}

impl StanceFilter {
    /// Parses `open,supportive` or `none` (no stance on record) or `any`/empty (every state).
    ///
    /// # Errors
    /// [`Error::Invalid`] naming `field` and the values it takes.
    pub fn parse(field: &str, given: &str) -> Result<Option<Self>> {
        let mut filter = Self::default();
        for part in given.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part.to_lowercase().as_str() {
                "any" | "all" => return Ok(None),
                "none" => filter.none = true,
                other => match Stance::parse(field, other) {
                    Ok(s) => {
                        if !filter.stances.contains(&s) {
                            filter.stances.push(s);
                        }
                    }
                    Err(_) => {
                        return Err(Error::invalid(
                            field,
                            format!(
                                "'{part}' is not a stance; choose supportive, open, neutral, reluctant, opposed or none (no stance on record), several separated by commas"
                            ),
                        ));
                    }
                },
            }
        }
        Ok((filter != Self::default()).then_some(filter))
    }

    /// Whether a state with this current stance (`None`: none on record) is kept.
    pub fn matches(&self, stance: Option<&str>) -> bool {
        match stance {
            None => self.none,
            Some(s) => self.stances.iter().any(|x| x.as_str() == s),
        }
    }
}

/// The order a list sorted by stance takes: the most promising first, the states with no stance
/// on record last.
pub fn rank(stance: Option<&str>) -> usize {
    stance
        .and_then(|s| Stance::ALL.iter().position(|x| x.as_str() == s))
        .unwrap_or(Stance::ALL.len())
}

/// The sensitivities `reader` may read, as an SQL list of literals (the values are the closed
/// set's own, never user input).
fn readable(reader: &Reader) -> String {
    Sensitivity::ALL
        .iter()
        .map(|s| s.as_str())
        .filter(|s| reader.may_read(s))
        .map(|s| format!("'{s}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One recorded stance, before the history is folded into steps.
#[derive(Debug, Clone)]
struct Point {
    date: NaiveDate,
    /// Engagements of a day before a coordinator's setting of that day.
    coordinator: bool,
    view: StanceView,
}

fn from_engagement(id: Uuid, date: NaiveDate, kind: String, stance: String) -> Point {
    Point {
        date,
        coordinator: false,
        view: StanceView {
            stance,
            since: date,
            source: "engagement".to_owned(),
            engagement_id: Some(id),
            engagement_kind: Some(kind),
            reason: None,
            set_by: None,
        },
    }
}

fn from_setting(s: stance_setting::Model) -> Point {
    Point {
        date: s.set_on,
        coordinator: true,
        view: StanceView {
            stance: s.stance,
            since: s.set_on,
            source: "coordinator".to_owned(),
            engagement_id: None,
            engagement_kind: None,
            reason: Some(s.reason),
            set_by: Some(s.set_by),
        },
    }
}

/// The later of two points by the rule of this module.
fn later(a: Point, b: Point) -> Point {
    if (b.date, b.coordinator) > (a.date, a.coordinator) {
        b
    } else {
        a
    }
}

/// Every state's current stance on `at` as `reader` may know it, by ISO3; states with none on
/// record are absent. Two short lookups per state through the `(iso3, date)` indexes.
///
/// # Errors
/// Database errors.
pub async fn current_all<C: ConnectionTrait>(
    db: &C,
    reader: &Reader,
    at: NaiveDate,
) -> Result<HashMap<String, StanceView>> {
    let sql = format!(
        "SELECT s.iso3 AS iso3, \
         (SELECT e.id FROM engagements e WHERE e.iso3 = s.iso3 AND e.stance IS NOT NULL \
          AND e.occurred_on <= '{at}' AND e.sensitivity IN ({}) \
          ORDER BY e.occurred_on DESC, e.id DESC LIMIT 1) AS engagement_id, \
         (SELECT x.id FROM stance_settings x WHERE x.iso3 = s.iso3 AND x.set_on <= '{at}' \
          ORDER BY x.set_on DESC, x.created_at DESC LIMIT 1) AS setting_id \
         FROM states s",
        readable(reader)
    );
    let rows = db
        .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?;
    let mut engagement_ids = Vec::new();
    let mut setting_ids = Vec::new();
    for r in rows {
        if let Some(id) = r.try_get::<Option<Uuid>>("", "engagement_id")? {
            engagement_ids.push(id);
        }
        if let Some(id) = r.try_get::<Option<Uuid>>("", "setting_id")? {
            setting_ids.push(id);
        }
    }
    let mut out: HashMap<String, Point> = HashMap::new();
    for chunk in engagement_ids.chunks(1_000) {
        for e in engagement::Entity::find()
            .filter(engagement::Column::Id.is_in(chunk.to_vec()))
            .all(db)
            .await?
        {
            if let Some(stance) = e.stance {
                out.insert(e.iso3, from_engagement(e.id, e.occurred_on, e.kind, stance));
            }
        }
    }
    for chunk in setting_ids.chunks(1_000) {
        for s in stance_setting::Entity::find()
            .filter(stance_setting::Column::Id.is_in(chunk.to_vec()))
            .all(db)
            .await?
        {
            let iso3 = s.iso3.clone();
            let p = from_setting(s);
            let p = match out.remove(&iso3) {
                Some(e) => later(e, p),
                None => p,
            };
            out.insert(iso3, p);
        }
    }
    Ok(out.into_iter().map(|(k, p)| (k, p.view)).collect())
}

/// One state's stance history on `at` as `reader` may know it, newest first: each step is a
/// change of stance, dated by the first record of it. The first step is the current stance.
///
/// # Errors
/// Database errors.
pub async fn history<C: ConnectionTrait>(
    db: &C,
    reader: &Reader,
    iso3: &str,
    at: NaiveDate,
) -> Result<Vec<StanceView>> {
    let sensitivities: Vec<&str> = Sensitivity::ALL
        .iter()
        .map(|s| s.as_str())
        .filter(|s| reader.may_read(s))
        .collect();
    let engagements = engagement::Entity::find()
        .filter(engagement::Column::Iso3.eq(iso3))
        .filter(engagement::Column::Stance.is_not_null())
        .filter(engagement::Column::OccurredOn.lte(at))
        .filter(engagement::Column::Sensitivity.is_in(sensitivities))
        .select_only()
        .columns([
            engagement::Column::Id,
            engagement::Column::OccurredOn,
            engagement::Column::Kind,
            engagement::Column::Stance,
        ])
        .into_tuple::<(Uuid, NaiveDate, String, Option<String>)>()
        .all(db)
        .await?;
    let settings = stance_setting::Entity::find()
        .filter(stance_setting::Column::Iso3.eq(iso3))
        .filter(stance_setting::Column::SetOn.lte(at))
        .order_by_asc(stance_setting::Column::CreatedAt)
        .all(db)
        .await?;
    let mut points: Vec<(Point, usize)> = Vec::with_capacity(engagements.len() + settings.len());
    for (id, date, kind, stance) in engagements {
        let Some(stance) = stance else { continue };
        // Ids are time-ordered (UUIDv7): on one day, the engagement logged last counts last.
        points.push((from_engagement(id, date, kind, stance), 0));
    }
    for (n, s) in settings.into_iter().enumerate() {
        points.push((from_setting(s), n));
    }
    points.sort_by(|(a, an), (b, bn)| {
        (a.date, a.coordinator)
            .cmp(&(b.date, b.coordinator))
            .then_with(|| {
                if a.coordinator {
                    an.cmp(bn)
                } else {
                    a.view.engagement_id.cmp(&b.view.engagement_id)
                }
            })
    });
    let mut steps: Vec<StanceView> = Vec::new();
    for (p, _) in points {
        if steps.last().is_some_and(|s| s.stance == p.view.stance) {
            continue;
        }
        steps.push(p.view);
    }
    steps.reverse();
    Ok(steps)
}

/// [`history`] with the current stance beside it.
///
/// # Errors
/// Database errors.
pub async fn of_state<C: ConnectionTrait>(
    db: &C,
    reader: &Reader,
    iso3: &str,
    at: NaiveDate,
) -> Result<StanceHistory> {
    let history = history(db, reader, iso3, at).await?;
    Ok(StanceHistory {
        iso3: iso3.to_owned(),
        at,
        current: history.first().cloned(),
        history,
    })
}

/// Sets a state's stance from a day on, with the reason; coordinators and admins only.
///
/// # Errors
/// [`Error::Forbidden`] for staff, [`Error::Invalid`] naming the field for a bad value.
pub async fn set(
    db: &DatabaseConnection,
    actor: &Actor,
    input: &StanceInput,
) -> Result<StanceView> {
    let tx = crate::db::begin(db).await?;
    crate::actor::require_role(&tx, actor, Role::Coordinator, "set a state's stance").await?;
    let st = crate::states::resolve(&tx, &input.state).await?;
    let stance = Stance::parse("stance", &input.stance)?;
    let reason = required_paragraphs("reason", &input.reason, REASON_MAX).map_err(|e| match e {
        Error::Invalid { field, message, .. } if input.reason.trim().is_empty() => Error::invalid(
            &field,
            format!(
                "{message}; say why, for example \"the defence ministry confirmed new production in a meeting\""
            ),
        ),
        other => other,
    })?;
    let today = actor.today();
    let on = match input.on.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => today,
        Some(d) => parse_date("on", d)?,
    };
    if on > today {
        return Err(Error::invalid(
            "on",
            format!(
                "{on} is in the future; a stance is what a state has shown, so date it today ({today}) or earlier"
            ),
        ));
    }
    let model = stance_setting::ActiveModel {
        id: Set(Uuid::now_v7()),
        iso3: Set(st.iso3.clone()),
        stance: Set(stance.as_str().to_owned()),
        reason: Set(reason),
        set_on: Set(on),
        set_by: Set(actor.handle.clone()),
        created_at: Set(Utc::now()),
    }
    .insert(&tx)
    .await?;
    audit::record(
        &tx,
        &actor.handle,
        "stance.set",
        "state",
        &st.iso3,
        serde_json::json!({ "stance": model.stance, "on": model.set_on, "reason": model.reason }),
    )
    .await?;
    tx.commit().await?;
    Ok(from_setting(model).view)
}

/// How a listing of states is sorted: by name (the default) or by stance, the most promising
/// first and the states with none on record last.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum StatesSort {
    #[default]
    Name,
    Stance,
}

impl StatesSort {
    /// Parses `name` or `stance`.
    ///
    /// # Errors
    /// [`Error::Invalid`] naming `field`.
    pub fn parse(field: &str, given: &str) -> Result<Self> {
        match given.trim().to_lowercase().as_str() {
            "" | "name" => Ok(Self::Name),
            "stance" => Ok(Self::Stance),
            other => Err(Error::invalid(
                field,
                format!("'{other}' is not a sort order here; choose name or stance"),
            )),
        }
    }
}

/// The states under `treaty` on `at` (as [`crate::states::by_status_party_to`]), each with its
/// current stance as `reader` may know it, kept by `stance` when given and sorted by `sort`.
///
/// # Errors
/// As [`crate::states::by_status_party_to`].
#[allow(clippy::too_many_arguments)]
pub async fn listing<C: ConnectionTrait>(
    db: &C,
    reader: &Reader,
    treaty: &str,
    filter: crate::status::StatusFilter,
    at: NaiveDate,
    party_to: &[String],
    stance: Option<&StanceFilter>,
    sort: StatesSort,
) -> Result<Vec<crate::states::StateStatus>> {
    let mut rows = crate::states::by_status_party_to(db, treaty, filter, at, party_to).await?;
    let mut current = current_all(db, reader, at).await?;
    for r in &mut rows {
        r.stance = current.remove(&r.iso3).map(|v| v.stance);
    }
    if let Some(f) = stance {
        rows.retain(|r| f.matches(r.stance.as_deref()));
    }
    if sort == StatesSort::Stance {
        // A stable sort: states of one stance stay in name order.
        rows.sort_by_key(|r| rank(r.stance.as_deref()));
    }
    Ok(rows)
}
