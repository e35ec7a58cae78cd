//! Signals about a state not party: observer attendance, UN General Assembly votes, policy
//! changes, reported use, stockpiles, condemnations of new use. They show how close a state is.

use chrono::{NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::Serialize;
use uuid::Uuid;

use crate::actor::Actor;
use crate::audit;
use crate::domain::{SignalKind, optional_text, parse_date};
use crate::entities::signal;
use crate::error::Result;

#[derive(Debug, Clone, Default)]
pub struct SignalInput {
    pub state: String,
    pub kind: String,
    pub date: String,
    pub detail: String,
    /// For a vote: yes, no, abstain, absent; free text otherwise.
    pub value: Option<String>,
    pub source: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SignalView {
    pub id: Uuid,
    pub iso3: String,
    pub kind: String,
    pub date: NaiveDate,
    pub detail: String,
    pub value: Option<String>,
    pub source: Option<String>,
    /// `confirmed` or `unconfirmed` for signals shipped with outreach; empty for recorded ones.
    pub confidence: Option<String>,
    pub note: Option<String>,
    /// Whether the signal came with outreach's reference data (`data/reference/signals.csv`).
    pub shipped: bool,
}

impl From<signal::Model> for SignalView {
    fn from(s: signal::Model) -> Self {
        Self {
            id: s.id,
            iso3: s.iso3,
            kind: s.kind,
            date: s.observed_on,
            detail: s.detail,
            value: s.value,
            source: s.source,
            confidence: s.confidence,
            note: s.note,
            shipped: s.shipped,
        }
    }
}

/// The signal `given` names: its id or the end of it (as listings show it).
///
/// # Errors
/// [`crate::Error::NotFound`] or [`crate::Error::Ambiguous`]; database errors.
pub async fn find<C: ConnectionTrait>(db: &C, given: &str) -> Result<signal::Model> {
    let found = crate::ids::candidates::<signal::Entity, _>(db, given).await?;
    let id = crate::ids::pick("signal", given, found)?;
    signal::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| crate::Error::not_found("signal", given, ""))
}

/// Records a signal.
///
/// # Errors
/// [`crate::Error::UnknownState`] or [`crate::Error::Invalid`] for a bad field.
pub async fn add(
    db: &DatabaseConnection,
    actor: &Actor,
    input: &SignalInput,
) -> Result<SignalView> {
    let tx = crate::db::begin(db).await?;
    let out = add_in(&tx, actor, input).await?;
    tx.commit().await?;
    Ok(out)
}

pub(crate) async fn add_in<C: ConnectionTrait>(
    tx: &C,
    actor: &Actor,
    input: &SignalInput,
) -> Result<SignalView> {
    let st = crate::states::resolve(tx, &input.state).await?;
    let kind = SignalKind::parse("kind", &input.kind)?;
    let date = parse_date("date", &input.date)?;
    let detail = crate::domain::required_paragraphs("detail", &input.detail, 2000)?;
    let value = optional_text("value", input.value.as_deref(), 100)?;
    let source = optional_text("source", input.source.as_deref(), 500)?;
    let model = signal::ActiveModel {
        id: Set(Uuid::now_v7()),
        iso3: Set(st.iso3),
        kind: Set(kind.as_str().to_owned()),
        observed_on: Set(date),
        detail: Set(detail),
        value: Set(value),
        source: Set(source),
        created_by: Set(actor.handle.clone()),
        created_at: Set(Utc::now()),
        confidence: Set(None),
        note: Set(None),
        shipped: Set(false),
    }
    .insert(tx)
    .await?;
    audit::record(
        tx,
        &actor.handle,
        "signal.add",
        "signal",
        &model.id.to_string(),
        serde_json::json!({ "iso3": model.iso3, "kind": model.kind, "date": model.observed_on }),
    )
    .await?;
    Ok(model.into())
}

/// A state's signals, newest first.
///
/// # Errors
/// Database errors.
pub async fn for_state<C: ConnectionTrait>(db: &C, iso3: &str) -> Result<Vec<SignalView>> {
    Ok(signal::Entity::find()
        .filter(signal::Column::Iso3.eq(iso3))
        .order_by_desc(signal::Column::ObservedOn)
        .all(db)
        .await?
        .into_iter()
        .map(Into::into)
        .collect())
}

/// Which signals [`list`] returns; every field narrows the list.
#[derive(Debug, Clone, Default)]
pub struct SignalFilter {
    /// A state, by code or name.
    pub state: Option<String>,
    /// A signal kind (`unga-vote`, `reported-use`, ...).
    pub kind: Option<String>,
}

/// Signals, newest first, narrowed by `filter`.
///
/// # Errors
/// [`crate::Error::UnknownState`] or [`crate::Error::Invalid`] naming `state` or `kind`.
pub async fn list<C: ConnectionTrait>(db: &C, filter: &SignalFilter) -> Result<Vec<SignalView>> {
    let mut query = signal::Entity::find();
    if let Some(state) = filter.state.as_deref().filter(|s| !s.trim().is_empty()) {
        let st = crate::states::resolve(db, state).await?;
        query = query.filter(signal::Column::Iso3.eq(st.iso3));
    }
    if let Some(kind) = filter.kind.as_deref().filter(|s| !s.trim().is_empty()) {
        let kind = SignalKind::parse("kind", kind)?;
        query = query.filter(signal::Column::Kind.eq(kind.as_str()));
    }
    Ok(query
        .order_by_desc(signal::Column::ObservedOn)
        .order_by_asc(signal::Column::Iso3)
        .all(db)
        .await?
        .into_iter()
        .map(Into::into)
        .collect())
}

/// Signals at a glance, per state: how many were observed up to `at`, and the latest one's
/// kind and date.
#[derive(Debug, Clone, Serialize)]
pub struct SignalGlance {
    pub count: usize,
    pub latest_kind: String,
    pub latest_date: NaiveDate,
}

/// Every state's [`SignalGlance`] as of `at`, by ISO3; states without signals are absent.
///
/// # Errors
/// Database errors.
pub async fn at_a_glance<C: ConnectionTrait>(
    db: &C,
    at: NaiveDate,
) -> Result<std::collections::HashMap<String, SignalGlance>> {
    let rows: Vec<(String, NaiveDate, String)> = signal::Entity::find()
        .select_only()
        .column(signal::Column::Iso3)
        .column(signal::Column::ObservedOn)
        .column(signal::Column::Kind)
        .filter(signal::Column::ObservedOn.lte(at))
        .into_tuple()
        .all(db)
        .await?;
    let mut out: std::collections::HashMap<String, SignalGlance> = std::collections::HashMap::new();
    for (iso3, date, kind) in rows {
        let g = out.entry(iso3).or_insert_with(|| SignalGlance {
            count: 0,
            latest_kind: kind.clone(),
            latest_date: date,
        });
        g.count += 1;
        if date > g.latest_date {
            g.latest_date = date;
            g.latest_kind = kind;
        }
    }
    Ok(out)
}

/// One state in the [`spoken_up`] view.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SpokenUpRow {
    pub iso3: String,
    pub name: String,
    /// The latest condemnation of new use on record up to the view's date: a `condemnation`
    /// signal or a `statement` engagement.
    pub latest: Option<NaiveDate>,
    /// What the latest one says (a signal's detail; for a statement, "statement logged").
    pub latest_detail: Option<String>,
}

/// Who has spoken out against new use: the States Parties with a condemnation on record and
/// those without, and the states outside the treaty that have spoken out too.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SpokenUp {
    pub treaty: String,
    pub at: NaiveDate,
    pub parties_with: Vec<SpokenUpRow>,
    pub parties_without: Vec<SpokenUpRow>,
    pub count_with: usize,
    pub count_without: usize,
    /// States not party with a condemnation on record.
    pub others_with: Vec<SpokenUpRow>,
}

/// The "spoken up" view on `at` under `treaty`: derived on every read from signals and
/// engagements, never stored, so a condemnation recorded today shows at once.
///
/// # Errors
/// Database errors.
pub async fn spoken_up<C: ConnectionTrait>(
    db: &C,
    treaty: &str,
    at: NaiveDate,
) -> Result<SpokenUp> {
    use crate::entities::engagement;
    use std::collections::HashMap;
    let mut latest: HashMap<String, (NaiveDate, String)> = HashMap::new();
    let mut note = |iso3: String, date: NaiveDate, detail: String| {
        let entry = latest.entry(iso3).or_insert((date, detail.clone()));
        if date > entry.0 {
            *entry = (date, detail);
        }
    };
    let condemnations: Vec<(String, NaiveDate, String)> = signal::Entity::find()
        .select_only()
        .column(signal::Column::Iso3)
        .column(signal::Column::ObservedOn)
        .column(signal::Column::Detail)
        .filter(signal::Column::Kind.eq(SignalKind::Condemnation.as_str()))
        .filter(signal::Column::ObservedOn.lte(at))
        .into_tuple()
        .all(db)
        .await?;
    for (iso3, date, detail) in condemnations {
        note(iso3, date, detail);
    }
    let statements: Vec<(String, NaiveDate)> = engagement::Entity::find()
        .select_only()
        .column(engagement::Column::Iso3)
        .column(engagement::Column::OccurredOn)
        .filter(engagement::Column::Kind.eq(crate::domain::EngagementKind::Statement.as_str()))
        .filter(engagement::Column::OccurredOn.lte(at))
        .into_tuple()
        .all(db)
        .await?;
    for (iso3, date) in statements {
        note(iso3, date, "statement logged".to_owned());
    }
    let states = crate::states::by_status(db, treaty, crate::status::StatusFilter::All, at).await?;
    let mut out = SpokenUp {
        treaty: treaty.to_owned(),
        at,
        parties_with: Vec::new(),
        parties_without: Vec::new(),
        count_with: 0,
        count_without: 0,
        others_with: Vec::new(),
    };
    for s in states {
        let found = latest.get(&s.iso3).cloned();
        let row = SpokenUpRow {
            iso3: s.iso3,
            name: s.name,
            latest: found.as_ref().map(|f| f.0),
            latest_detail: found.map(|f| f.1),
        };
        match (s.status.is_party(), row.latest.is_some()) {
            (true, true) => out.parties_with.push(row),
            (true, false) => out.parties_without.push(row),
            (false, true) => out.others_with.push(row),
            (false, false) => {}
        }
    }
    out.count_with = out.parties_with.len();
    out.count_without = out.parties_without.len();
    Ok(out)
}
