//! Follow-ups: actions owed after an engagement or meeting, each with an owner and a due date.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
};
use serde::Serialize;
use uuid::Uuid;

use crate::actor::{Actor, ensure_user, require_user};
use crate::audit;
use crate::domain::parse_date;
use crate::entities::{engagement, follow_up, user};
use crate::error::{Error, Result};
use crate::ids;

/// A follow-up as a user gives it.
#[derive(Debug, Clone, Default)]
pub struct FollowUpInput {
    /// The state; taken from the engagement or meeting when one is given.
    pub state: Option<String>,
    pub description: String,
    /// `YYYY-MM-DD`; a week from today when absent.
    pub due: Option<String>,
    /// Staff handle; the actor when absent.
    pub owner: Option<String>,
    pub engagement: Option<String>,
    pub meeting: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FollowUpView {
    pub id: Uuid,
    pub iso3: String,
    pub description: String,
    pub owner: String,
    pub due_on: NaiveDate,
    pub done_at: Option<DateTime<Utc>>,
    pub overdue: bool,
    pub engagement_id: Option<Uuid>,
    pub meeting_id: Option<Uuid>,
    /// True when it was made from a restricted engagement and the reader is not cleared: the
    /// description is a notice.
    pub withheld: bool,
}

impl FollowUpView {
    fn withhold(mut self) -> Self {
        self.description = crate::access::WITHHELD_FOLLOW_UP.to_owned();
        self.withheld = true;
        self
    }
}

fn view(f: follow_up::Model, owner: String, today: NaiveDate) -> FollowUpView {
    FollowUpView {
        overdue: f.done_at.is_none() && f.due_on < today,
        id: f.id,
        iso3: f.iso3,
        description: f.description,
        owner,
        due_on: f.due_on,
        done_at: f.done_at,
        engagement_id: f.engagement_id,
        meeting_id: f.meeting_id,
        withheld: false,
    }
}

/// Adds a follow-up.
///
/// # Errors
/// [`Error::Invalid`] for a bad field or when no state can be told, [`Error::NotFound`] for an
/// unknown owner, engagement or meeting; nothing is written then.
pub async fn add(
    db: &DatabaseConnection,
    actor: &Actor,
    input: &FollowUpInput,
) -> Result<FollowUpView> {
    let tx = crate::db::begin(db).await?;
    let out = add_in(&tx, actor, input).await?;
    tx.commit().await?;
    Ok(out)
}

/// Adds a follow-up inside the caller's transaction, with its audit record (the `*_in`
/// pattern): an engagement logged with its follow-up is written in one transaction.
///
/// # Errors
/// As [`add`].
pub async fn add_in(
    tx: &DatabaseTransaction,
    actor: &Actor,
    input: &FollowUpInput,
) -> Result<FollowUpView> {
    let description = crate::domain::required_paragraphs("description", &input.description, 2000)?;
    let due_on = match input.due.as_deref() {
        Some(d) => parse_date("due", d)?,
        None => actor.today() + chrono::Days::new(7),
    };
    let me = ensure_user(tx, &actor.handle, actor.zone).await?;
    let owner = match input
        .owner
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => me,
        Some(h) if h == actor.handle => me,
        Some(h) => require_user(tx, "--owner", h).await?,
    };
    let engagement = match input.engagement.as_deref() {
        None => None,
        Some(given) => {
            let found = ids::candidates::<engagement::Entity, _>(tx, given).await?;
            let id = ids::pick("engagement", given, found)?;
            engagement::Entity::find_by_id(id).one(tx).await?
        }
    };
    let meeting = match input.meeting.as_deref() {
        None => None,
        Some(given) => Some(crate::meetings::find(tx, given).await?),
    };
    let iso3 = match input
        .state
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(s) => crate::states::resolve(tx, s).await?.iso3,
        None => engagement
            .as_ref()
            .map(|e| e.iso3.clone())
            .or_else(|| meeting.as_ref().map(|m| m.iso3.clone()))
            .ok_or_else(|| Error::invalid("state", "say which state the follow-up is about"))?,
    };
    let model = follow_up::ActiveModel {
        id: Set(Uuid::now_v7()),
        iso3: Set(iso3),
        engagement_id: Set(engagement.map(|e| e.id)),
        meeting_id: Set(meeting.map(|m| m.id)),
        description: Set(description),
        owner_id: Set(owner.id),
        due_on: Set(due_on),
        done_at: Set(None),
        created_at: Set(Utc::now()),
    }
    .insert(tx)
    .await?;
    audit::record(
        tx,
        &actor.handle,
        "follow_up.add",
        "follow_up",
        &model.id.to_string(),
        serde_json::json!({ "iso3": model.iso3, "owner": owner.handle, "due_on": model.due_on }),
    )
    .await?;
    Ok(view(model, owner.handle, actor.today()))
}

/// Marks a follow-up done.
///
/// # Errors
/// [`Error::NotFound`], [`Error::Conflict`] when it is done already.
pub async fn done(db: &DatabaseConnection, actor: &Actor, id: &str) -> Result<FollowUpView> {
    let tx = crate::db::begin(db).await?;
    let found = ids::candidates::<follow_up::Entity, _>(&tx, id).await?;
    let given = id;
    let id = ids::pick("follow-up", id, found).map_err(|e| match e {
        Error::NotFound { what, given, .. } => {
            Error::not_found(what, given, "").with_remedy(crate::Remedy::ListFollowUps)
        }
        other => other,
    })?;
    let f = follow_up::Entity::find_by_id(id)
        .one(&tx)
        .await?
        .ok_or_else(|| Error::not_found("follow-up", given, ""))?;
    if let Some(at) = f.done_at {
        return Err(Error::Conflict(format!(
            "follow-up {} was already done on {}",
            ids::short(f.id),
            at.format("%Y-%m-%d")
        )));
    }
    let owner_id = f.owner_id;
    let mut active = f.into_active_model();
    active.done_at = Set(Some(Utc::now()));
    let model = active.update(&tx).await?;
    audit::record(
        &tx,
        &actor.handle,
        "follow_up.done",
        "follow_up",
        &model.id.to_string(),
        serde_json::json!({}),
    )
    .await?;
    let owner = user::Entity::find_by_id(owner_id)
        .one(&tx)
        .await?
        .map(|u| u.handle)
        .unwrap_or_default();
    let withhold = crate::access::is_restricted(&tx, model.engagement_id).await?
        && !crate::access::Reader::of(&tx, &actor.handle).await?.cleared;
    tx.commit().await?;
    let v = view(model, owner, actor.today());
    Ok(if withhold { v.withhold() } else { v })
}

/// Follow-ups by due date: open ones only unless `all`; one state's or one owner's when given;
/// as `reader` may read them (the text of one made from a restricted engagement is withheld
/// unless the reader is cleared, and a cleared reader's read is audited).
///
/// # Errors
/// Database errors.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    today: NaiveDate,
    all: bool,
    iso3: Option<&str>,
    owner: Option<&str>,
    reader: &crate::access::Reader,
) -> Result<Vec<FollowUpView>> {
    let rows = list_unread(db, today, all, iso3, owner).await?;
    let from: Vec<Uuid> = rows.iter().filter_map(|f| f.engagement_id).collect();
    let restricted = crate::access::restricted_among(db, &from).await?;
    let is_restricted = |f: &FollowUpView| f.engagement_id.is_some_and(|e| restricted.contains(&e));
    if reader.cleared {
        let read: Vec<Uuid> = rows
            .iter()
            .filter(|f| is_restricted(f))
            .map(|f| f.id)
            .collect();
        crate::access::record_reads(db, reader, &[], &read).await?;
        return Ok(rows);
    }
    Ok(rows
        .into_iter()
        .map(|f| if is_restricted(&f) { f.withhold() } else { f })
        .collect())
}

/// As [`list`] for counting only (the attention list): the text is read by nobody.
pub(crate) async fn list_unread<C: ConnectionTrait>(
    db: &C,
    today: NaiveDate,
    all: bool,
    iso3: Option<&str>,
    owner: Option<&str>,
) -> Result<Vec<FollowUpView>> {
    let users: HashMap<Uuid, String> = user::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u.handle))
        .collect();
    let mut q = follow_up::Entity::find().order_by_asc(follow_up::Column::DueOn);
    if !all {
        q = q.filter(follow_up::Column::DoneAt.is_null());
    }
    if let Some(iso3) = iso3 {
        q = q.filter(follow_up::Column::Iso3.eq(iso3));
    }
    Ok(q.all(db)
        .await?
        .into_iter()
        .map(|f| {
            let owner = users.get(&f.owner_id).cloned().unwrap_or_default();
            view(f, owner, today)
        })
        .filter(|f| owner.is_none_or(|o| o == f.owner))
        .collect())
}
