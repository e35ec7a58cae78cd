//! Engagements: what happened with a state (visits, meetings, dialogue, statements, letters,
//! calls), with participants, outcome and the stance it showed.

use std::collections::{HashMap, HashSet};

use chrono::{NaiveDate, Utc};
use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::Serialize;
use uuid::Uuid;

use crate::access::Reader;
use crate::actor::{Actor, ensure_user};
use crate::audit;
use crate::directory::resolve_contact;
use crate::domain::{EngagementKind, Sensitivity, Stance, parse_date};
use crate::entities::{contact, engagement, engagement_participant, user};
use crate::error::{Error, Result};

/// An engagement as a user gives it.
#[derive(Debug, Clone, Default)]
pub struct EngagementInput {
    pub state: String,
    pub kind: String,
    /// `YYYY-MM-DD`; today in the actor's zone when absent.
    pub date: Option<String>,
    pub summary: Option<String>,
    pub outcome: Option<String>,
    pub stance: Option<String>,
    /// Contacts by email, name or id.
    pub with: Vec<String>,
    /// The meeting this engagement records, if any (already resolved).
    pub meeting_id: Option<Uuid>,
    /// `public`, `internal` or `restricted`; when absent, restricted for the kinds in
    /// `restricted_kinds` and internal otherwise.
    pub sensitivity: Option<String>,
    /// The kinds restricted by default (`[engagements] restricted_kinds`); `None` for the
    /// built-in list (military dialogue).
    pub restricted_kinds: Option<Vec<String>>,
    /// The grant deliverable this engagement fulfils: its id or a unique end of it (a
    /// deliverable of a grant in the same state, not dropped).
    pub deliverable: Option<String>,
}

/// An engagement with its participants' names, for timelines and JSON.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EngagementView {
    pub id: Uuid,
    pub iso3: String,
    pub kind: String,
    pub date: NaiveDate,
    pub summary: String,
    pub outcome: Option<String>,
    pub stance: Option<String>,
    pub meeting_id: Option<Uuid>,
    pub participants: Vec<String>,
    pub logged_by: String,
    /// `public`, `internal` or `restricted`.
    pub sensitivity: String,
    /// True when the reader may not read this restricted engagement: its summary is a notice,
    /// its outcome and stance are left out.
    pub withheld: bool,
    /// The grant deliverable it fulfils, if any.
    pub deliverable_id: Option<Uuid>,
}

impl EngagementView {
    /// Blanks what `reader` may not read.
    fn for_reader(mut self, reader: &crate::access::Reader) -> Self {
        if !reader.may_read(&self.sensitivity) {
            self.summary = crate::access::WITHHELD_SUMMARY.to_owned();
            self.outcome = None;
            self.stance = None;
            self.withheld = true;
        }
        self
    }
}

/// Validates and writes an engagement inside the caller's transaction.
pub(crate) async fn insert<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    input: &EngagementInput,
) -> Result<EngagementView> {
    let state = crate::states::resolve(db, &input.state).await?;
    let kind = EngagementKind::parse("kind", &input.kind)?;
    let sensitivity = match input
        .sensitivity
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(s) => Sensitivity::parse("sensitivity", s)?,
        None => match &input.restricted_kinds {
            Some(kinds) => Sensitivity::default_for(kind, kinds),
            None => Sensitivity::default_for(
                kind,
                &crate::domain::DEFAULT_RESTRICTED_KINDS
                    .iter()
                    .map(|k| (*k).to_owned())
                    .collect::<Vec<_>>(),
            ),
        },
    };
    let date = match input.date.as_deref() {
        Some(d) => parse_date("date", d)?,
        None => actor.today(),
    };
    let latest = actor.today() + chrono::Days::new(1);
    if date > latest {
        return Err(Error::invalid(
            "date",
            format!(
                "{date} is in the future; log what happened, and plan what will happen as a meeting"
            ),
        ));
    }
    let summary = crate::domain::optional_paragraphs("summary", input.summary.as_deref(), 4000)?
        .unwrap_or_default();
    let outcome = crate::domain::optional_paragraphs("outcome", input.outcome.as_deref(), 4000)?;
    let stance = match input
        .stance
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(s) => Some(Stance::parse("stance", s)?.as_str().to_owned()),
    };
    let mut contacts = Vec::new();
    for w in &input.with {
        // A contact that does not exist is a record not found (the API's 404), with the
        // directory's hint; the engagement form shows it beside the participants.
        let c = resolve_contact(db, w).await?;
        if !contacts.iter().any(|x: &contact::Model| x.id == c.id) {
            contacts.push(c);
        }
    }
    let deliverable = match input
        .deliverable
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(d) => Some(crate::grants::deliverable_for_engagement(db, d, &state.iso3).await?),
        None => None,
    };
    let me = ensure_user(db, &actor.handle, actor.zone).await?;
    let model = engagement::ActiveModel {
        id: Set(Uuid::now_v7()),
        iso3: Set(state.iso3.clone()),
        kind: Set(kind.as_str().to_owned()),
        occurred_on: Set(date),
        summary: Set(summary),
        outcome: Set(outcome),
        stance: Set(stance),
        meeting_id: Set(input.meeting_id),
        created_by: Set(actor.handle.clone()),
        created_at: Set(Utc::now()),
        sensitivity: Set(sensitivity.as_str().to_owned()),
        deliverable_id: Set(deliverable.as_ref().map(|d| d.id)),
    }
    .insert(db)
    .await?;
    engagement_participant::ActiveModel {
        id: Set(Uuid::now_v7()),
        engagement_id: Set(model.id),
        contact_id: Set(None),
        user_id: Set(Some(me.id)),
    }
    .insert(db)
    .await?;
    for c in &contacts {
        engagement_participant::ActiveModel {
            id: Set(Uuid::now_v7()),
            engagement_id: Set(model.id),
            contact_id: Set(Some(c.id)),
            user_id: Set(None),
        }
        .insert(db)
        .await?;
    }
    audit::record(
        db,
        &actor.handle,
        "engagement.log",
        "engagement",
        &model.id.to_string(),
        serde_json::json!({
            "iso3": model.iso3, "kind": model.kind, "date": model.occurred_on,
            "sensitivity": model.sensitivity,
            // Restricted text never reaches the audit log, which admins read without clearance.
            "outcome": if sensitivity == Sensitivity::Restricted { None } else { model.outcome.clone() },
            "stance": if sensitivity == Sensitivity::Restricted { None } else { model.stance.clone() },
            "contacts": contacts.iter().map(|c| c.id).collect::<Vec<_>>(),
            "deliverable": model.deliverable_id,
        }),
    )
    .await?;
    let mut participants = vec![me.handle];
    participants.extend(contacts.into_iter().map(|c| c.name));
    Ok(EngagementView {
        id: model.id,
        iso3: model.iso3,
        kind: model.kind,
        date: model.occurred_on,
        summary: model.summary,
        outcome: model.outcome,
        stance: model.stance,
        meeting_id: model.meeting_id,
        participants,
        logged_by: model.created_by,
        sensitivity: model.sensitivity,
        withheld: false,
        deliverable_id: model.deliverable_id,
    })
}

/// Logs an engagement in one transaction with its audit record.
///
/// # Errors
/// [`Error::UnknownState`], [`Error::Invalid`] for a bad field, [`Error::NotFound`] for an
/// unknown contact; nothing is written then.
pub async fn log(
    db: &DatabaseConnection,
    actor: &Actor,
    input: &EngagementInput,
) -> Result<EngagementView> {
    let tx = crate::db::begin(db).await?;
    let view = insert(&tx, actor, input).await?;
    tx.commit().await?;
    Ok(view)
}

/// A follow-up logged with an engagement (its state and engagement are the engagement's).
#[derive(Debug, Clone, Default)]
pub struct FollowUpDraft {
    pub description: String,
    pub due: Option<String>,
    pub owner: Option<String>,
}

/// Which part of [`log_with`] a refusal is about, so a form shows it beside the right field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogStep {
    Engagement,
    FollowUp,
}

/// Logs an engagement with staff members as participants (by handle) and, if given, a follow-up,
/// all in one transaction (the log form's one save): nothing is written when any part is refused.
///
/// # Errors
/// The refusal with the step it came from; as [`log`], [`add_staff_in`] and
/// [`crate::followups::add_in`].
pub async fn log_with(
    db: &DatabaseConnection,
    actor: &Actor,
    input: &EngagementInput,
    staff: &[String],
    follow_up: Option<FollowUpDraft>,
) -> std::result::Result<EngagementView, (LogStep, Error)> {
    let engagement = |e: Error| (LogStep::Engagement, e);
    let tx = crate::db::begin(db)
        .await
        .map_err(|e| engagement(e.into()))?;
    let logged = insert(&tx, actor, input).await.map_err(engagement)?;
    add_staff_in(&tx, actor, logged.id, staff)
        .await
        .map_err(engagement)?;
    if let Some(f) = follow_up {
        let f = crate::followups::FollowUpInput {
            state: Some(logged.iso3.clone()),
            description: f.description,
            due: f.due,
            owner: f.owner,
            engagement: Some(logged.id.to_string()),
            meeting: None,
        };
        crate::followups::add_in(&tx, actor, &f)
            .await
            .map_err(|e| (LogStep::FollowUp, e))?;
    }
    tx.commit().await.map_err(|e| engagement(e.into()))?;
    Ok(logged)
}

/// Logs an engagement inside the caller's transaction, with its audit record (the `*_in`
/// pattern): a letter marked sent records its engagement in the same transaction.
///
/// # Errors
/// As [`log`].
pub async fn log_in(
    tx: &DatabaseTransaction,
    actor: &Actor,
    input: &EngagementInput,
) -> Result<EngagementView> {
    insert(tx, actor, input).await
}

/// Adds staff members (by handle) as participants of an engagement inside the caller's
/// transaction, with an audit record; the logging actor, already a participant, is skipped.
///
/// # Errors
/// [`Error::Invalid`] naming `participants` for an unknown handle; nothing is written then.
pub async fn add_staff_in(
    tx: &DatabaseTransaction,
    actor: &Actor,
    engagement_id: Uuid,
    handles: &[String],
) -> Result<Vec<String>> {
    let mut added: Vec<user::Model> = Vec::new();
    for h in handles {
        let h = h.trim();
        if h.is_empty() || h == actor.handle || added.iter().any(|u| u.handle == h) {
            continue;
        }
        let u = crate::actor::find_user(tx, h).await?.ok_or_else(|| {
            Error::invalid(
                "participants",
                format!("no contact or staff member matches '{h}'"),
            )
        })?;
        added.push(u);
    }
    if added.is_empty() {
        return Ok(Vec::new());
    }
    for u in &added {
        engagement_participant::ActiveModel {
            id: Set(Uuid::now_v7()),
            engagement_id: Set(engagement_id),
            contact_id: Set(None),
            user_id: Set(Some(u.id)),
        }
        .insert(tx)
        .await?;
    }
    let handles: Vec<String> = added.into_iter().map(|u| u.handle).collect();
    audit::record(
        tx,
        &actor.handle,
        "engagement.participants",
        "engagement",
        &engagement_id.to_string(),
        serde_json::json!({ "staff": handles }),
    )
    .await?;
    Ok(handles)
}

/// A state's engagements, newest first, as `reader` may read them.
///
/// # Errors
/// Database errors.
pub async fn for_state<C: ConnectionTrait>(
    db: &C,
    iso3: &str,
    reader: &Reader,
) -> Result<Vec<EngagementView>> {
    newest_for_state(db, iso3, None, reader).await
}

/// How many engagements a state has (for "N more" under a shortened timeline).
///
/// # Errors
/// Database errors.
pub async fn count_for_state<C: ConnectionTrait>(db: &C, iso3: &str) -> Result<u64> {
    Ok(engagement::Entity::find()
        .filter(engagement::Column::Iso3.eq(iso3))
        .count(db)
        .await?)
}

/// A state's newest `limit` engagements (all of them with `None`), newest first, with their
/// participants' names, as `reader` may read them (restricted ones withheld unless the reader
/// is cleared; a cleared reader's read is audited).
///
/// # Errors
/// Database errors.
pub async fn newest_for_state<C: ConnectionTrait>(
    db: &C,
    iso3: &str,
    limit: Option<u64>,
    reader: &Reader,
) -> Result<Vec<EngagementView>> {
    page_for_state(db, iso3, limit, 0, reader).await
}

/// A page of a state's engagements, newest first: `limit` of them after skipping `offset`, as
/// `reader` may read them (a list that pages through tens of thousands).
///
/// # Errors
/// Database errors.
pub async fn page_for_state<C: ConnectionTrait>(
    db: &C,
    iso3: &str,
    limit: Option<u64>,
    offset: u64,
    reader: &Reader,
) -> Result<Vec<EngagementView>> {
    let rows = engagement::Entity::find()
        .filter(engagement::Column::Iso3.eq(iso3))
        .order_by_desc(engagement::Column::OccurredOn)
        .order_by_desc(engagement::Column::Id)
        .offset((offset > 0).then_some(offset))
        .limit(limit)
        .all(db)
        .await?;
    // The participants of exactly these engagements: by their ids when there are few, else by
    // the state (a list of tens of thousands of ids would pass the databases' parameter limits).
    let parts = engagement_participant::Entity::find();
    let parts = if rows.len() <= 1000 {
        parts.filter(engagement_participant::Column::EngagementId.is_in(rows.iter().map(|e| e.id)))
    } else {
        parts.filter(
            engagement_participant::Column::EngagementId.in_subquery(
                Query::select()
                    .column(engagement::Column::Id)
                    .from(engagement::Entity)
                    .and_where(engagement::Column::Iso3.eq(iso3))
                    .to_owned(),
            ),
        )
    };
    views_of(db, rows, parts, reader).await
}

/// The engagements linked to any of `deliverables`, newest first, as `reader` may read them
/// (a grant's page lists them under its deliverables).
///
/// # Errors
/// Database errors.
pub async fn for_deliverables<C: ConnectionTrait>(
    db: &C,
    deliverables: &[Uuid],
    reader: &Reader,
) -> Result<Vec<EngagementView>> {
    if deliverables.is_empty() {
        return Ok(Vec::new());
    }
    let rows = engagement::Entity::find()
        .filter(engagement::Column::DeliverableId.is_in(deliverables.iter().copied()))
        .order_by_desc(engagement::Column::OccurredOn)
        .order_by_desc(engagement::Column::Id)
        .all(db)
        .await?;
    let parts = engagement_participant::Entity::find().filter(
        engagement_participant::Column::EngagementId.in_subquery(
            Query::select()
                .column(engagement::Column::Id)
                .from(engagement::Entity)
                .and_where(engagement::Column::DeliverableId.is_in(deliverables.iter().copied()))
                .to_owned(),
        ),
    );
    views_of(db, rows, parts, reader).await
}

/// `rows` as views with their participants (`parts`, the participants of at least these rows),
/// as `reader` may read them; a cleared reader's read of restricted ones is audited.
async fn views_of<C: ConnectionTrait>(
    db: &C,
    rows: Vec<engagement::Model>,
    parts: sea_orm::Select<engagement_participant::Entity>,
    reader: &Reader,
) -> Result<Vec<EngagementView>> {
    let mut by_engagement: HashMap<Uuid, Vec<engagement_participant::Model>> = HashMap::new();
    for p in parts
        .order_by_asc(engagement_participant::Column::Id)
        .all(db)
        .await?
    {
        by_engagement.entry(p.engagement_id).or_default().push(p);
    }
    // The names of exactly these participants, read by key.
    let contact_ids: HashSet<Uuid> = by_engagement
        .values()
        .flatten()
        .filter_map(|p| p.contact_id)
        .collect();
    let user_ids: HashSet<Uuid> = by_engagement
        .values()
        .flatten()
        .filter_map(|p| p.user_id)
        .collect();
    let contacts: HashMap<Uuid, String> = crate::directory::contacts_by_id(db, contact_ids)
        .await?
        .into_iter()
        .map(|(id, c)| (id, c.name))
        .collect();
    let users: HashMap<Uuid, String> = crate::actor::users_by_id(db, user_ids)
        .await?
        .into_iter()
        .map(|(id, u)| (id, u.handle))
        .collect();
    let read: Vec<Uuid> = rows
        .iter()
        .filter(|e| e.sensitivity == Sensitivity::Restricted.as_str() && reader.cleared)
        .map(|e| e.id)
        .collect();
    crate::access::record_reads(db, reader, &read, &[]).await?;
    Ok(rows
        .into_iter()
        .map(|e| EngagementView {
            participants: by_engagement
                .remove(&e.id)
                .unwrap_or_default()
                .into_iter()
                .filter_map(|p| {
                    p.user_id
                        .and_then(|u| users.get(&u).cloned())
                        .or_else(|| p.contact_id.and_then(|c| contacts.get(&c).cloned()))
                })
                .collect(),
            id: e.id,
            iso3: e.iso3,
            kind: e.kind,
            date: e.occurred_on,
            summary: e.summary,
            outcome: e.outcome,
            stance: e.stance,
            meeting_id: e.meeting_id,
            logged_by: e.created_by,
            sensitivity: e.sensitivity,
            withheld: false,
            deliverable_id: e.deliverable_id,
        })
        .map(|v| v.for_reader(reader))
        .collect())
}
