//! Meetings: planned engagements with a start instant stored in UTC, the IANA zone of the place
//! they are held in, and a version that grows on every change (reschedule or cancellation), so
//! reminders and calendar invitations can tell one plan from the next.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
};
use serde::Serialize;
use uuid::Uuid;

use crate::actor::{Actor, ensure_user};
use crate::audit;
use crate::directory::resolve_contacts;
use crate::domain::{
    IanaZone, MeetingStatus, optional_text, parse_duration_minutes, parse_local_datetime,
    required_text,
};
use crate::engagements::{self, EngagementInput, EngagementView};
use crate::entities::{contact, meeting, meeting_participant, state};
use crate::error::{Error, Result};
use crate::ids;

/// A meeting as a user plans it.
#[derive(Debug, Clone, Default)]
pub struct MeetingInput {
    pub state: String,
    pub title: String,
    /// Local wall-clock time, `YYYY-MM-DD HH:MM`.
    pub at: String,
    /// IANA zone of `at`; the state's capital zone when absent.
    pub tz: Option<String>,
    /// `1h`, `90m`; one hour when absent.
    pub duration: Option<String>,
    pub place: Option<String>,
    /// Contacts by email, name or id.
    pub with: Vec<String>,
}

/// A meeting as people read it: times in its own zone and in the reader's.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MeetingView {
    pub id: Uuid,
    pub iso3: String,
    pub state: String,
    pub title: String,
    pub status: String,
    pub version: i32,
    /// The instant, UTC, RFC 3339.
    pub starts_at: DateTime<Utc>,
    pub time_zone: String,
    /// Wall-clock start where the meeting is held, `YYYY-MM-DD HH:MM`.
    pub local_start: String,
    /// Wall-clock start in the reader's zone.
    pub reader_start: String,
    pub reader_time_zone: String,
    pub duration_minutes: i32,
    pub place: Option<String>,
    pub owner: String,
    pub participants: Vec<String>,
}

/// Keys per `IN (...)` list: well inside SQLite's 32,766 bound parameters and PostgreSQL's 65,535.
const KEYS_PER_QUERY: usize = 1_000;

fn fmt_local(zone: IanaZone, at: DateTime<Utc>) -> String {
    zone.local(at).format("%Y-%m-%d %H:%M").to_string()
}

/// Builds views for `rows`, reading names in a few queries.
pub async fn views<C: ConnectionTrait>(
    db: &C,
    reader: IanaZone,
    rows: Vec<meeting::Model>,
) -> Result<Vec<MeetingView>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    // Only the names these meetings need, each table read by key: a reminder job builds one
    // meeting's view, and reading every contact, user and state for it made a burst of
    // reminders cost a table scan per job.
    let ids: Vec<Uuid> = rows.iter().map(|m| m.id).collect();
    let mut parts: HashMap<Uuid, Vec<meeting_participant::Model>> = HashMap::new();
    for chunk in ids.chunks(KEYS_PER_QUERY) {
        for p in meeting_participant::Entity::find()
            .filter(meeting_participant::Column::MeetingId.is_in(chunk.to_vec()))
            .order_by_asc(meeting_participant::Column::Id)
            .all(db)
            .await?
        {
            parts.entry(p.meeting_id).or_default().push(p);
        }
    }
    let contact_ids: BTreeSet<Uuid> = parts
        .values()
        .flatten()
        .filter_map(|p| p.contact_id)
        .collect();
    let user_ids: BTreeSet<Uuid> = parts
        .values()
        .flatten()
        .filter_map(|p| p.user_id)
        .chain(rows.iter().map(|m| m.owner_id))
        .collect();
    let iso3s: BTreeSet<String> = rows.iter().map(|m| m.iso3.clone()).collect();
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
    let states: HashMap<String, String> = state::Entity::find()
        .filter(state::Column::Iso3.is_in(iso3s))
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.iso3, s.name))
        .collect();
    rows.into_iter()
        .map(|m| {
            let zone = IanaZone::parse("time_zone", &m.time_zone)?;
            Ok(MeetingView {
                participants: parts
                    .get(&m.id)
                    .into_iter()
                    .flatten()
                    .filter_map(|p| {
                        p.user_id
                            .and_then(|u| users.get(&u).cloned())
                            .or_else(|| p.contact_id.and_then(|c| contacts.get(&c).cloned()))
                    })
                    .collect(),
                state: states.get(&m.iso3).cloned().unwrap_or_default(),
                owner: users.get(&m.owner_id).cloned().unwrap_or_default(),
                local_start: fmt_local(zone, m.starts_at),
                reader_start: fmt_local(reader, m.starts_at),
                reader_time_zone: reader.name().to_owned(),
                id: m.id,
                iso3: m.iso3,
                title: m.title,
                status: m.status,
                version: m.version,
                starts_at: m.starts_at,
                time_zone: m.time_zone,
                duration_minutes: m.duration_minutes,
                place: m.place,
            })
        })
        .collect()
}

async fn view_one<C: ConnectionTrait>(
    db: &C,
    reader: IanaZone,
    m: meeting::Model,
) -> Result<MeetingView> {
    views(db, reader, vec![m])
        .await?
        .pop()
        .ok_or_else(|| Error::Conflict("meeting vanished while reading it".into()))
}

/// Finds a meeting by full id or the last characters of it.
///
/// # Errors
/// [`Error::NotFound`], [`Error::Ambiguous`] or [`Error::Invalid`].
pub async fn find<C: ConnectionTrait>(db: &C, given: &str) -> Result<meeting::Model> {
    let found = ids::candidates::<meeting::Entity, _>(db, given).await?;
    let id = ids::pick("meeting", given, found).map_err(|e| match e {
        Error::NotFound { what, given, .. } => {
            Error::not_found(what, given, "").with_remedy(crate::Remedy::ListMeetings)
        }
        other => other,
    })?;
    meeting::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("meeting", given, ""))
}

/// Plans a meeting inside the caller's transaction. The local time is read in `tz` (or the
/// capital's zone) and stored as a UTC instant; a time that does not exist or is ambiguous there
/// is refused.
///
/// Meetings are scheduled, moved and cancelled by the scheduler's planner
/// (`outreach_scheduler::planner`), which plans their reminders in the same transaction: these
/// building blocks take a transaction, so no front end can change a meeting without it.
///
/// # Errors
/// [`Error::UnknownState`], [`Error::Invalid`] for a bad field; nothing is written then.
pub async fn schedule_in(
    tx: &DatabaseTransaction,
    actor: &Actor,
    input: &MeetingInput,
) -> Result<MeetingView> {
    schedule_for_in(tx, actor, None, input).await
}

/// As [`schedule_in`], with the meeting owned by the staff member `owner` (a handle; the actor
/// when absent or empty), who must exist.
///
/// # Errors
/// As [`schedule_in`]; [`Error::Invalid`] on `owner` for an unknown handle.
pub async fn schedule_for_in(
    tx: &DatabaseTransaction,
    actor: &Actor,
    owner: Option<&str>,
    input: &MeetingInput,
) -> Result<MeetingView> {
    let st = crate::states::resolve(tx, &input.state).await?;
    let title = required_text("title", &input.title, 200)?;
    let zone = match input.tz.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(z) => IanaZone::parse("tz", z)?,
        None => IanaZone::parse("tz", &st.capital_tz)?,
    };
    let local = parse_local_datetime("at", &input.at)?;
    let starts_at = zone.to_utc("at", local)?;
    let duration = match input.duration.as_deref() {
        Some(d) => parse_duration_minutes("duration", d)?,
        None => 60,
    };
    let place = optional_text("place", input.place.as_deref(), 300)?;
    let mut contacts = Vec::new();
    for c in resolve_contacts(tx, &input.with).await? {
        if !contacts.iter().any(|x: &contact::Model| x.id == c.id) {
            contacts.push(c);
        }
    }
    let owner = match owner.map(str::trim).filter(|h| !h.is_empty() && *h != actor.handle) {
        Some(handle) => crate::actor::find_user(tx, handle).await?.ok_or_else(|| {
            Error::invalid(
                "owner",
                format!("no staff member has the handle '{handle}'; give a staff handle, or leave it empty to own the meeting yourself"),
            )
        })?,
        None => ensure_user(tx, &actor.handle, actor.zone).await?,
    };
    let now = Utc::now();
    let model = meeting::ActiveModel {
        id: Set(Uuid::now_v7()),
        iso3: Set(st.iso3.clone()),
        title: Set(title),
        starts_at: Set(starts_at),
        time_zone: Set(zone.name().to_owned()),
        duration_minutes: Set(duration),
        place: Set(place),
        status: Set(MeetingStatus::Planned.as_str().to_owned()),
        version: Set(1),
        owner_id: Set(owner.id),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(tx)
    .await?;
    // The owner and the invited contacts, in one statement per thousand.
    let rows: Vec<meeting_participant::ActiveModel> = std::iter::once((None, Some(owner.id)))
        .chain(contacts.iter().map(|c| (Some(c.id), None)))
        .map(|(contact_id, user_id)| meeting_participant::ActiveModel {
            id: Set(Uuid::now_v7()),
            meeting_id: Set(model.id),
            contact_id: Set(contact_id),
            user_id: Set(user_id),
        })
        .collect();
    for chunk in rows.chunks(KEYS_PER_QUERY) {
        meeting_participant::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(tx)
            .await?;
    }
    audit::record(
        tx,
        &actor.handle,
        "meeting.schedule",
        "meeting",
        &model.id.to_string(),
        serde_json::json!({
            "iso3": model.iso3, "title": model.title, "starts_at": model.starts_at,
            "time_zone": model.time_zone, "local_start": local.format("%Y-%m-%d %H:%M").to_string(),
            "duration_minutes": model.duration_minutes, "version": 1,
        }),
    )
    .await?;
    let view = view_one(tx, actor.zone, model).await?;
    Ok(view)
}

fn require_planned(m: &meeting::Model, doing: &str) -> Result<()> {
    if m.status == MeetingStatus::Planned.as_str() {
        Ok(())
    } else {
        Err(Error::Conflict(format!(
            "meeting {} is {}; only a planned meeting can be {doing}",
            ids::short(m.id),
            m.status
        )))
    }
}

/// Moves a planned meeting to a new local time (in `tz`, or the zone it already has) inside the
/// caller's transaction; its version grows by one.
///
/// # Errors
/// [`Error::NotFound`], [`Error::Invalid`] for a bad time, [`Error::Conflict`] if it is not
/// planned; nothing is written then.
pub async fn reschedule_in(
    tx: &DatabaseTransaction,
    actor: &Actor,
    id: &str,
    at: &str,
    tz: Option<&str>,
) -> Result<MeetingView> {
    let m = find(tx, id).await?;
    require_planned(&m, "rescheduled")?;
    let zone = match tz.map(str::trim).filter(|s| !s.is_empty()) {
        Some(z) => IanaZone::parse("tz", z)?,
        None => IanaZone::parse("tz", &m.time_zone)?,
    };
    let local = parse_local_datetime("at", at)?;
    let starts_at = zone.to_utc("at", local)?;
    let (old_start, old_zone, old_version) = (m.starts_at, m.time_zone.clone(), m.version);
    let mut active = m.into_active_model();
    active.starts_at = Set(starts_at);
    active.time_zone = Set(zone.name().to_owned());
    active.version = Set(old_version + 1);
    active.updated_at = Set(Utc::now());
    let model = active.update(tx).await?;
    audit::record(
        tx,
        &actor.handle,
        "meeting.reschedule",
        "meeting",
        &model.id.to_string(),
        serde_json::json!({
            "from": { "starts_at": old_start, "time_zone": old_zone, "version": old_version },
            "to": { "starts_at": model.starts_at, "time_zone": model.time_zone, "version": model.version },
        }),
    )
    .await?;
    let view = view_one(tx, actor.zone, model).await?;
    Ok(view)
}

/// Cancels a planned meeting inside the caller's transaction; its version grows by one so
/// calendar clients see the change.
///
/// # Errors
/// [`Error::NotFound`], [`Error::Conflict`] if it is not planned.
pub async fn cancel_in(tx: &DatabaseTransaction, actor: &Actor, id: &str) -> Result<MeetingView> {
    let m = find(tx, id).await?;
    require_planned(&m, "cancelled")?;
    let version = m.version + 1;
    let mut active = m.into_active_model();
    active.status = Set(MeetingStatus::Cancelled.as_str().to_owned());
    active.version = Set(version);
    active.updated_at = Set(Utc::now());
    let model = active.update(tx).await?;
    audit::record(
        tx,
        &actor.handle,
        "meeting.cancel",
        "meeting",
        &model.id.to_string(),
        serde_json::json!({ "version": version }),
    )
    .await?;
    let view = view_one(tx, actor.zone, model).await?;
    Ok(view)
}

/// How a held meeting's engagement is logged.
#[derive(Debug, Clone, Default)]
pub struct HeldInput {
    /// The engagement kind, such as `capital-meeting`.
    pub kind: String,
    pub outcome: Option<String>,
    pub stance: Option<String>,
    /// As [`EngagementInput::sensitivity`].
    pub sensitivity: Option<String>,
    /// As [`EngagementInput::restricted_kinds`].
    pub restricted_kinds: Option<Vec<String>>,
}

/// Marks a planned meeting as held and logs the engagement it was, with its outcome, in one
/// transaction.
///
/// # Errors
/// [`Error::NotFound`], [`Error::Conflict`] if it is not planned or has not started yet,
/// [`Error::Invalid`] for a bad field.
pub async fn held(
    db: &DatabaseConnection,
    actor: &Actor,
    id: &str,
    input: &HeldInput,
) -> Result<(MeetingView, EngagementView)> {
    let tx = crate::db::begin(db).await?;
    let m = find(&tx, id).await?;
    require_planned(&m, "marked held")?;
    if m.starts_at > Utc::now() {
        return Err(Error::Conflict(format!(
            "meeting {} starts at {} UTC, in the future; it can be marked held once it has started",
            ids::short(m.id),
            m.starts_at.format("%Y-%m-%d %H:%M")
        )));
    }
    let zone = IanaZone::parse("time_zone", &m.time_zone)?;
    let contacts: Vec<String> = meeting_participant::Entity::find()
        .filter(meeting_participant::Column::MeetingId.eq(m.id))
        .all(&tx)
        .await?
        .into_iter()
        .filter_map(|p| p.contact_id.map(|c| c.to_string()))
        .collect();
    let engagement = engagements::insert(
        &tx,
        actor,
        &EngagementInput {
            state: m.iso3.clone(),
            kind: input.kind.clone(),
            date: Some(zone.local(m.starts_at).date_naive().to_string()),
            summary: Some(m.title.clone()),
            outcome: input.outcome.clone(),
            stance: input.stance.clone(),
            with: contacts,
            meeting_id: Some(m.id),
            sensitivity: input.sensitivity.clone(),
            restricted_kinds: input.restricted_kinds.clone(),
            deliverable: None,
        },
    )
    .await?;
    let mut active = m.into_active_model();
    active.status = Set(MeetingStatus::Held.as_str().to_owned());
    active.updated_at = Set(Utc::now());
    let model = active.update(&tx).await?;
    audit::record(
        &tx,
        &actor.handle,
        "meeting.held",
        "meeting",
        &model.id.to_string(),
        serde_json::json!({ "engagement_id": engagement.id }),
    )
    .await?;
    let view = view_one(&tx, actor.zone, model).await?;
    tx.commit().await?;
    Ok((view, engagement))
}

/// Meetings by start time; only planned ones from now on when `upcoming`; one state's when given.
///
/// # Errors
/// Database errors.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    reader: IanaZone,
    upcoming: bool,
    iso3: Option<&str>,
) -> Result<Vec<MeetingView>> {
    let mut q = meeting::Entity::find().order_by_asc(meeting::Column::StartsAt);
    if upcoming {
        q = q
            .filter(meeting::Column::StartsAt.gte(Utc::now()))
            .filter(meeting::Column::Status.eq(MeetingStatus::Planned.as_str()));
    }
    if let Some(iso3) = iso3 {
        q = q.filter(meeting::Column::Iso3.eq(iso3));
    }
    views(db, reader, q.all(db).await?).await
}

/// One meeting.
///
/// # Errors
/// [`Error::NotFound`], [`Error::Ambiguous`] or [`Error::Invalid`].
pub async fn show<C: ConnectionTrait>(db: &C, reader: IanaZone, id: &str) -> Result<MeetingView> {
    let m = find(db, id).await?;
    view_one(db, reader, m).await
}

/// The meetings a staff member owns or takes part in, starting at `since` or later, by start time.
///
/// # Errors
/// Database errors.
pub async fn for_user<C: ConnectionTrait>(
    db: &C,
    user_id: Uuid,
    since: DateTime<Utc>,
) -> Result<Vec<meeting::Model>> {
    let taking_part: Vec<Uuid> = meeting_participant::Entity::find()
        .filter(meeting_participant::Column::UserId.eq(user_id))
        .all(db)
        .await?
        .into_iter()
        .map(|p| p.meeting_id)
        .collect();
    Ok(meeting::Entity::find()
        .filter(meeting::Column::StartsAt.gte(since))
        .filter(
            sea_orm::Condition::any()
                .add(meeting::Column::OwnerId.eq(user_id))
                .add(meeting::Column::Id.is_in(taking_part)),
        )
        .order_by_asc(meeting::Column::StartsAt)
        .all(db)
        .await?)
}
