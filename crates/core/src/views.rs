//! Read-side views built from the records: a state's profile and the attention list. Everything
//! here is derived on each read (status from treaty events, days since the last engagement), so a
//! late correction to any record corrects every view.

use std::collections::HashMap;

use chrono::{NaiveDate, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Statement};
use serde::Serialize;
use uuid::Uuid;

use crate::access::Reader;
use crate::directory::{self, GrantView};
use crate::domain::{IanaZone, MeetingStatus};
use crate::engagements::{self, EngagementView};
use crate::entities::{grant, meeting, state, treaty_event};
use crate::error::Result;
use crate::followups::{self, FollowUpView};
use crate::meetings::{self, MeetingView};
use crate::posts::PostRecord;
use crate::refdata::TREATIES;
use crate::signals::{self, SignalView};
use crate::stance::StanceView;
use crate::status::{Status, StatusFilter, TreatyRecord};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TreatyEventView {
    pub treaty: String,
    pub event: String,
    pub date: NaiveDate,
    pub source: String,
    pub confidence: String,
    pub note: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TreatyStatusView {
    pub treaty: String,
    pub status: Status,
    pub in_force: bool,
    pub party_since: Option<NaiveDate>,
    /// The day the status began (see [`crate::status::StatusAt::since`]).
    pub status_since: Option<NaiveDate>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ContactView {
    pub id: Uuid,
    pub name: String,
    pub title: Option<String>,
    pub role: Option<String>,
    pub organisation: Option<String>,
    pub email: Option<String>,
    pub languages: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrganisationView {
    pub id: Uuid,
    pub name: String,
    pub kind: String,
    pub icbl_member: bool,
    pub email: Option<String>,
}

/// Everything outreach knows about one state, as of one date.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StateProfile {
    pub iso3: String,
    pub iso2: String,
    pub name: String,
    pub official_name: String,
    pub capital: String,
    pub capital_tz: String,
    pub un_region: String,
    pub un_subregion: String,
    pub treaty: String,
    pub at: NaiveDate,
    pub status: Status,
    pub in_force: bool,
    pub party_since: Option<NaiveDate>,
    /// The day the status began: the withdrawal notice for a withdrawing state, the day the
    /// withdrawal took effect for a withdrawn one, the deposit for a party.
    pub status_since: Option<NaiveDate>,
    /// Status under every treaty the data covers.
    pub treaties: Vec<TreatyStatusView>,
    /// The selected treaty's events, oldest first, with sources.
    pub status_history: Vec<TreatyEventView>,
    pub signals: Vec<SignalView>,
    pub grants: Vec<GrantView>,
    pub organisations: Vec<OrganisationView>,
    pub contacts: Vec<ContactView>,
    /// The offices in the state and their holders: those held on `at` first, then the earlier
    /// (and later) terms, each group by title and newest term first.
    pub posts: Vec<PostRecord>,
    pub engagements: Vec<EngagementView>,
    /// Every engagement of the state, also those a shortened timeline leaves out.
    pub engagement_count: u64,
    pub last_engagement: Option<NaiveDate>,
    pub days_since_last_engagement: Option<i64>,
    pub next_meeting: Option<MeetingView>,
    pub upcoming_meetings: Vec<MeetingView>,
    pub open_follow_ups: Vec<FollowUpView>,
    /// The stance on `at` as the reader may know it (the first step of `stance_history`).
    pub stance: Option<StanceView>,
    /// Each change of stance up to `at`, newest first (see [`crate::stance::history`]).
    pub stance_history: Vec<StanceView>,
}

/// A state's profile under `treaty` as of `at`, with times shown in `reader`'s zone and the
/// engagements and follow-ups as `who` may read them.
///
/// # Errors
/// Database errors.
pub async fn profile<C: ConnectionTrait>(
    db: &C,
    st: state::Model,
    treaty: &str,
    at: NaiveDate,
    reader: IanaZone,
    today: NaiveDate,
    who: &Reader,
) -> Result<StateProfile> {
    profile_with(db, st, treaty, at, reader, today, None, who).await
}

/// As [`profile`], with at most `timeline` engagements (the newest) in the profile's timeline;
/// `engagement_count` still counts them all. A page uses this: a busy state has tens of
/// thousands.
///
/// # Errors
/// Database errors.
#[allow(clippy::too_many_arguments)]
pub async fn profile_with<C: ConnectionTrait>(
    db: &C,
    st: state::Model,
    treaty: &str,
    at: NaiveDate,
    reader: IanaZone,
    today: NaiveDate,
    timeline: Option<u64>,
    who: &Reader,
) -> Result<StateProfile> {
    let events = treaty_event::Entity::find()
        .filter(treaty_event::Column::Iso3.eq(st.iso3.clone()))
        .order_by_asc(treaty_event::Column::Date)
        .all(db)
        .await?;
    let mut records: HashMap<&str, TreatyRecord> = HashMap::new();
    for e in &events {
        if let Ok(kind) = crate::domain::TreatyEventKind::parse("event", &e.event) {
            records
                .entry(e.treaty.as_str())
                .or_default()
                .add(kind, e.date);
        }
    }
    let empty = TreatyRecord::new();
    let treaties: Vec<TreatyStatusView> = TREATIES
        .iter()
        .map(|(code, _, _)| {
            let s = records.get(code).unwrap_or(&empty).status_at(at);
            TreatyStatusView {
                treaty: (*code).to_owned(),
                status: s.status,
                in_force: s.in_force,
                party_since: s.party_since,
                status_since: s.since,
            }
        })
        .collect();
    let current = records.get(treaty).unwrap_or(&empty).status_at(at);
    let status_history = events
        .iter()
        .filter(|e| e.treaty == treaty)
        .map(|e| TreatyEventView {
            treaty: e.treaty.clone(),
            event: e.event.clone(),
            date: e.date,
            source: e.source.clone(),
            confidence: e.confidence.clone(),
            note: e.note.clone(),
        })
        .collect();

    let orgs = directory::organisations(db, Some(&st.iso3)).await?;
    let contacts = directory::contacts(db, Some(&st.iso3)).await?;
    let all_orgs =
        directory::organisation_names(db, contacts.iter().filter_map(|c| c.organisation_id))
            .await?;
    let contacts = contacts
        .into_iter()
        .map(|c| ContactView {
            organisation: c.organisation_id.and_then(|o| all_orgs.get(&o).cloned()),
            id: c.id,
            name: c.name,
            title: c.title,
            role: c.role,
            email: c.email,
            languages: c.languages,
        })
        .collect();
    let (engagements, engagement_count) = match timeline {
        Some(limit) => (
            engagements::newest_for_state(db, &st.iso3, Some(limit), who).await?,
            engagements::count_for_state(db, &st.iso3).await?,
        ),
        None => {
            let all = engagements::for_state(db, &st.iso3, who).await?;
            let n = all.len() as u64;
            (all, n)
        }
    };
    let last_engagement = engagements.iter().map(|e| e.date).max();
    let upcoming_meetings = meetings::list(db, reader, true, Some(&st.iso3)).await?;
    let stance_history = crate::stance::history(db, who, &st.iso3, at).await?;
    Ok(StateProfile {
        stance: stance_history.first().cloned(),
        stance_history,
        days_since_last_engagement: last_engagement.map(|d| (today - d).num_days()),
        last_engagement,
        next_meeting: upcoming_meetings.first().cloned(),
        upcoming_meetings,
        open_follow_ups: followups::list(db, today, false, Some(&st.iso3), None, who).await?,
        signals: signals::for_state(db, &st.iso3).await?,
        grants: directory::grants(db, Some(&st.iso3)).await?,
        organisations: orgs
            .into_iter()
            .map(|o| OrganisationView {
                id: o.id,
                name: o.name,
                kind: o.kind,
                icbl_member: o.icbl_member,
                email: o.email,
            })
            .collect(),
        contacts,
        posts: crate::posts::for_state(db, &st.iso3, at).await?,
        engagements,
        engagement_count,
        status: current.status,
        in_force: current.in_force,
        party_since: current.party_since,
        status_since: current.since,
        treaties,
        status_history,
        treaty: treaty.to_owned(),
        at,
        iso3: st.iso3,
        iso2: st.iso2,
        name: st.name,
        official_name: st.official_name,
        capital: st.capital,
        capital_tz: st.capital_tz,
        un_region: st.un_region,
        un_subregion: st.un_subregion,
    })
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NextMeeting {
    pub id: Uuid,
    pub title: String,
    pub starts_at: chrono::DateTime<Utc>,
    pub time_zone: String,
    pub local_start: String,
}

/// One line of the attention list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AttentionRow {
    pub iso3: String,
    pub name: String,
    pub status: Status,
    pub last_engagement: Option<NaiveDate>,
    pub last_engagement_kind: Option<String>,
    /// `None` when the state was never engaged.
    pub days_since_last_engagement: Option<i64>,
    pub next_meeting: Option<NextMeeting>,
    pub grantees: Vec<String>,
    pub open_follow_ups: usize,
    pub overdue_follow_ups: usize,
    /// The current stance as the reader may know it; `None` when none is on record.
    pub stance: Option<String>,
}

/// States not party under `treaty` on `today`, those engaged longest ago (or never) first, each
/// with its next planned meeting and its stance as `who` may know it.
///
/// # Errors
/// Database errors.
pub async fn attention<C: ConnectionTrait>(
    db: &C,
    treaty: &str,
    today: NaiveDate,
    who: &Reader,
) -> Result<Vec<AttentionRow>> {
    let outside = crate::states::by_status(db, treaty, StatusFilter::NotParty, today).await?;
    let mut last = last_engagements(db).await?;
    let mut next: HashMap<String, NextMeeting> = HashMap::new();
    let upcoming = meeting::Entity::find()
        .filter(meeting::Column::Status.eq(MeetingStatus::Planned.as_str()))
        .filter(meeting::Column::StartsAt.gte(Utc::now()))
        .order_by_asc(meeting::Column::StartsAt)
        .all(db)
        .await?;
    for m in upcoming {
        if next.contains_key(&m.iso3) {
            continue;
        }
        let local_start = IanaZone::parse("time_zone", &m.time_zone)
            .map(|z| z.local(m.starts_at).format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_default();
        next.insert(
            m.iso3.clone(),
            NextMeeting {
                id: m.id,
                title: m.title,
                starts_at: m.starts_at,
                time_zone: m.time_zone,
                local_start,
            },
        );
    }
    let grants = grant::Entity::find()
        .order_by_desc(grant::Column::Year)
        .all(db)
        .await?;
    let orgs = directory::organisation_names(db, grants.iter().map(|g| g.organisation_id)).await?;
    let mut grantees: HashMap<String, Vec<String>> = HashMap::new();
    for g in grants {
        if let Some(name) = orgs.get(&g.organisation_id) {
            let list = grantees.entry(g.iso3).or_default();
            if !list.contains(name) {
                list.push(name.clone());
            }
        }
    }
    let open = followups::list_unread(db, today, false, None, None).await?;
    let mut stances = crate::stance::current_all(db, who, today).await?;
    let mut out: Vec<AttentionRow> = outside
        .into_iter()
        .map(|s| {
            let l = last.remove(&s.iso3);
            AttentionRow {
                last_engagement: l.as_ref().map(|x| x.0),
                days_since_last_engagement: l.as_ref().map(|x| (today - x.0).num_days()),
                last_engagement_kind: l.map(|x| x.1),
                next_meeting: next.remove(&s.iso3),
                grantees: grantees.remove(&s.iso3).unwrap_or_default(),
                open_follow_ups: open.iter().filter(|f| f.iso3 == s.iso3).count(),
                overdue_follow_ups: open
                    .iter()
                    .filter(|f| f.iso3 == s.iso3 && f.overdue)
                    .count(),
                stance: stances.remove(&s.iso3).map(|v| v.stance),
                iso3: s.iso3,
                name: s.name,
                status: s.status,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        let key = |r: &AttentionRow| r.days_since_last_engagement.unwrap_or(i64::MAX);
        key(b).cmp(&key(a)).then_with(|| a.name.cmp(&b.name))
    });
    Ok(out)
}

/// Each engaged state's newest engagement date, with the kind of the engagement logged last on
/// that date. The database finds them through the `(iso3, occurred_on)` index, one short lookup
/// per state, instead of sending every engagement ever logged.
async fn last_engagements<C: ConnectionTrait>(
    db: &C,
) -> Result<HashMap<String, (NaiveDate, String)>> {
    let sql = "SELECT x.iso3 AS iso3, x.d AS d, \
         (SELECT e.kind FROM engagements e WHERE e.iso3 = x.iso3 AND e.occurred_on = x.d \
          ORDER BY e.id DESC LIMIT 1) AS kind \
         FROM (SELECT s.iso3 AS iso3, \
               (SELECT MAX(e.occurred_on) FROM engagements e WHERE e.iso3 = s.iso3) AS d \
               FROM states s) x \
         WHERE x.d IS NOT NULL";
    let rows = db
        .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await?;
    let mut out = HashMap::with_capacity(rows.len());
    for r in rows {
        let iso3: String = r.try_get("", "iso3")?;
        let date: NaiveDate = r.try_get("", "d")?;
        let kind: Option<String> = r.try_get("", "kind")?;
        out.insert(iso3, (date, kind.unwrap_or_default()));
    }
    Ok(out)
}

/// How the attention list is sorted: by days since the last engagement (the default: never
/// engaged and longest ago first), by stance (the most promising first, none on record last;
/// within one stance, the default order) or by name.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AttentionSort {
    #[default]
    Days,
    Stance,
    Name,
}

impl AttentionSort {
    /// Parses `days`, `stance` or `name`.
    ///
    /// # Errors
    /// [`crate::Error::Invalid`] naming `field`.
    pub fn parse(field: &str, given: &str) -> Result<Self> {
        match given.trim().to_lowercase().as_str() {
            "" | "days" => Ok(Self::Days),
            "stance" => Ok(Self::Stance),
            "name" => Ok(Self::Name),
            other => Err(crate::Error::invalid(
                field,
                format!("'{other}' is not a sort order here; choose days, stance or name"),
            )),
        }
    }

    /// Sorts rows that come in the default order (as [`attention`] returns them).
    pub fn apply(self, rows: &mut [AttentionRow]) {
        match self {
            Self::Days => {}
            // Stable: within one stance, the least recently engaged first.
            Self::Stance => rows.sort_by_key(|r| crate::stance::rank(r.stance.as_deref())),
            Self::Name => rows.sort_by(|a, b| a.name.cmp(&b.name)),
        }
    }
}
