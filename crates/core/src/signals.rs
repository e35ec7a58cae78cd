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
use crate::domain::{SignalKind, optional_text, parse_date, required_text};
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

#[derive(Debug, Clone, Serialize)]
pub struct SignalView {
    pub id: Uuid,
    pub iso3: String,
    pub kind: String,
    pub date: NaiveDate,
    pub detail: String,
    pub value: Option<String>,
    pub source: Option<String>,
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
        }
    }
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
    let detail = required_text("detail", &input.detail, 2000)?;
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
