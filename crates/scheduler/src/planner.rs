//! Planning reminders in the same transaction as the change that calls for them.
//!
//! Scheduling a meeting plans its reminders; rescheduling supersedes the old version's unsent
//! reminders and plans the new version's; cancelling cancels them and tells those already
//! reminded. Every reminder job is keyed by (rule, meeting, version, recipient), so planning
//! twice inserts nothing.

use std::collections::{BTreeMap, HashMap};

use crate::entities::job;
use chrono::{DateTime, Utc};
use outreach_core::domain::{IanaZone, MeetingStatus};
use outreach_core::entities::{meeting, meeting_participant, user};
use outreach_core::meetings::{self, MeetingInput, MeetingView};
use outreach_core::{Actor, domain::EmailAddress};
use outreach_mailer::context::{MeetingCancelled, MeetingInfo, Recipient};
use outreach_mailer::outbox::{self, NewEmail};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::Result;
use crate::jobs::{self, NewJob, status};
use crate::rules::{Anchor, Audience, CalendarOf, MeetingRule, Workflows};
use crate::workdays::{Calendars, SkippedDay, StateCalendar};

/// Job kind of a meeting reminder.
pub const MEETING_REMINDER: &str = "meeting_reminder";

/// Languages the email templates are written in; a recipient reads the first of theirs that is.
pub const LANGUAGES: &[&str] = &["en", "fr", "es"];

/// The payload of a meeting reminder job.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReminderPayload {
    pub meeting_id: Uuid,
    pub version: i32,
    pub rule: String,
    pub lead_minutes: i64,
    pub recipient: Recipient,
}

/// The first of `languages` (comma-separated, preferred first) that templates exist in.
pub fn language_of(languages: &str) -> String {
    languages
        .split(',')
        .map(str::trim)
        .find(|l| LANGUAGES.contains(l))
        .unwrap_or("en")
        .to_owned()
}

/// Who a meeting's reminders can reach, by audience, each with an email address.
#[derive(Debug, Clone, Default)]
pub struct MeetingAudience {
    pub participants: Vec<Recipient>,
    pub owner: Option<Recipient>,
    /// The state on record of each contact that has one, by email address in lower case: the
    /// calendar of a working-day rule with `calendar = "recipient"`.
    pub states: HashMap<String, String>,
}

/// Loads a meeting's recipients: invited contacts and staff with an email address, and its owner.
///
/// # Errors
/// Database errors.
pub async fn audience<C: ConnectionTrait>(db: &C, m: &meeting::Model) -> Result<MeetingAudience> {
    let parts = meeting_participant::Entity::find()
        .filter(meeting_participant::Column::MeetingId.eq(m.id))
        .all(db)
        .await?;
    // The invited contacts and staff, each table read once by key.
    let contact_ids: Vec<Uuid> = parts.iter().filter_map(|p| p.contact_id).collect();
    let user_ids: Vec<Uuid> = parts
        .iter()
        .filter_map(|p| p.user_id)
        .filter(|u| *u != m.owner_id)
        .collect();
    let contacts = outreach_core::directory::contacts_by_id(db, contact_ids).await?;
    let users = outreach_core::actor::users_by_id(db, user_ids).await?;
    let mut participants = Vec::new();
    let mut states = HashMap::new();
    for p in &parts {
        if let Some(c) = p.contact_id.and_then(|id| contacts.get(&id))
            && let Some(email) = c.email.as_deref()
        {
            if let Some(iso3) = &c.iso3 {
                states.insert(email.to_lowercase(), iso3.clone());
            }
            let language = language_of(&c.languages);
            let lang = outreach_mailer::locale::Lang::parse(&language)
                .unwrap_or(outreach_mailer::locale::Lang::En);
            participants.push(Recipient {
                // "Bonjour Son Excellence ...", never "Bonjour H.E. ...".
                name: outreach_mailer::locale::titled_name(lang, c.title.as_deref(), &c.name),
                email: email.to_owned(),
                time_zone: c.time_zone.clone().unwrap_or_else(|| m.time_zone.clone()),
                language,
            });
        }
        if let Some(u) = p.user_id.and_then(|id| users.get(&id))
            && let Some(r) = user_recipient(u)
        {
            participants.push(r);
        }
    }
    let owner = user::Entity::find_by_id(m.owner_id)
        .one(db)
        .await?
        .and_then(|u| user_recipient(&u));
    Ok(MeetingAudience {
        participants,
        owner,
        states,
    })
}

/// A staff member as a recipient, when they have an email address.
pub fn user_recipient(u: &user::Model) -> Option<Recipient> {
    if u.disabled_at.is_some() {
        return None;
    }
    u.email.as_ref().map(|email| Recipient {
        name: u.name.clone(),
        email: email.clone(),
        time_zone: u.time_zone.clone(),
        language: "en".to_owned(),
    })
}

/// A state's name in the recipient's language ("Népal" for a French reader).
pub fn state_for(recipient: &Recipient, iso3: &str, english: &str) -> String {
    let lang = outreach_mailer::locale::Lang::parse(&recipient.language)
        .unwrap_or(outreach_mailer::locale::Lang::En);
    outreach_mailer::locale::state_name(lang, iso3, english)
}

/// `info` as `recipient` reads it: the state named in their language.
pub fn for_reader(mut info: MeetingInfo, recipient: &Recipient) -> MeetingInfo {
    info.state = state_for(recipient, &info.iso3, &info.state);
    info
}

/// A meeting as emails show it.
///
/// # Errors
/// Database errors.
pub async fn meeting_info<C: ConnectionTrait>(db: &C, m: &meeting::Model) -> Result<MeetingInfo> {
    IanaZone::parse("time_zone", &m.time_zone)?;
    Ok(meeting_infos(db, vec![m.clone()])
        .await?
        .pop()
        .unwrap_or_else(|| info_from(m, None)))
}

/// As [`meeting_info`] for many meetings, in a few queries whatever their number.
///
/// # Errors
/// Database errors.
pub async fn meeting_infos<C: ConnectionTrait>(
    db: &C,
    rows: Vec<meeting::Model>,
) -> Result<Vec<MeetingInfo>> {
    // The reader's zone does not matter here: emails show times in the recipient's zone.
    let views: HashMap<Uuid, MeetingView> = meetings::views(db, IanaZone::UTC, rows.clone())
        .await?
        .into_iter()
        .map(|v| (v.id, v))
        .collect();
    Ok(rows
        .iter()
        .map(|m| info_from(m, views.get(&m.id)))
        .collect())
}

fn info_from(m: &meeting::Model, view: Option<&MeetingView>) -> MeetingInfo {
    MeetingInfo {
        id: m.id,
        version: m.version,
        title: m.title.clone(),
        iso3: m.iso3.clone(),
        state: view.map(|v| v.state.clone()).unwrap_or_default(),
        starts_at: m.starts_at,
        time_zone: m.time_zone.clone(),
        duration_minutes: m.duration_minutes,
        place: m.place.clone(),
        status: m.status.clone(),
        owner: view.map(|v| v.owner.clone()).unwrap_or_default(),
        participants: view.map(|v| v.participants.clone()).unwrap_or_default(),
    }
}

/// One reminder a meeting's current version calls for.
#[derive(Debug, Clone)]
struct Wanted {
    rule: MeetingRule,
    recipient: Recipient,
    fire_at: DateTime<Utc>,
    key: String,
    /// For a working-day rule: how the day was counted, for the dry run.
    counted: Option<WorkingDayCount>,
}

/// How a working-day rule found its day.
#[derive(Debug, Clone)]
struct WorkingDayCount {
    /// The state whose calendar was used, by name.
    state: String,
    /// Why that state's: empty for the meeting's, else a few words.
    whose: String,
    skipped: Vec<SkippedDay>,
    beyond_data: bool,
}

/// The instant of a wall-clock time in `zone`; a time the clocks skip that day (a
/// daylight-saving gap) moves to the first minute after the gap, one that happens twice takes
/// its first occurrence. Computed times, unlike times people type, need an answer.
fn instant_at(zone: IanaZone, local: chrono::NaiveDateTime) -> DateTime<Utc> {
    use chrono::TimeZone;
    let mut t = local;
    for _ in 0..=(24 * 60) {
        match zone.tz().from_local_datetime(&t) {
            chrono::LocalResult::Single(x) | chrono::LocalResult::Ambiguous(x, _) => {
                return x.with_timezone(&Utc);
            }
            chrono::LocalResult::None => t += chrono::Duration::minutes(1),
        }
    }
    // No zone has a gap of a day; read the wall clock as UTC rather than fail.
    local.and_utc()
}

/// The instant `rule` (in working days) fires for an anchor: the anchor's local day and time of
/// day in `zone`, moved back over `days` working days of `iso3`'s calendar.
fn working_day_fire_at(
    calendars: &Calendars,
    iso3: &str,
    zone: IanaZone,
    anchor: DateTime<Utc>,
    days: u32,
) -> (DateTime<Utc>, String, Vec<SkippedDay>, bool) {
    let local = zone.local(anchor).naive_local();
    // A state outside the reference data: Saturday and Sunday, no holidays, and said so.
    let fallback;
    let cal = match calendars.get(iso3) {
        Some(c) => c,
        None => {
            fallback = StateCalendar::weekends_only(iso3);
            &fallback
        }
    };
    let counted = cal.working_days_before(local.date(), days);
    let at = instant_at(zone, counted.date.and_time(local.time()));
    let beyond_data = counted.beyond_data || calendars.get(iso3).is_none();
    (at, cal.name.clone(), counted.skipped, beyond_data)
}

/// The reminder jobs a meeting's current version calls for, each with its key, whether or not
/// its time has passed.
fn wanted(m: &meeting::Model, rules: &[MeetingRule], aud: &MeetingAudience) -> Result<Vec<Wanted>> {
    let mut out = Vec::new();
    for rule in rules {
        let anchor = match rule.anchor {
            Anchor::Start => m.starts_at,
            Anchor::End => m.starts_at + chrono::Duration::minutes(i64::from(m.duration_minutes)),
        };
        let fire_at = anchor - chrono::Duration::from_std(rule.before).unwrap_or_default();
        let mut recipients: BTreeMap<String, Recipient> = BTreeMap::new();
        for who in &rule.to {
            match who {
                Audience::Participants => {
                    for r in &aud.participants {
                        recipients
                            .entry(r.email.to_lowercase())
                            .or_insert_with(|| r.clone());
                    }
                }
                Audience::Owner => {
                    if let Some(r) = &aud.owner {
                        recipients
                            .entry(r.email.to_lowercase())
                            .or_insert_with(|| r.clone());
                    }
                }
            }
        }
        for (email, r) in recipients {
            let key = format!("reminder:{}:{}:v{}:{email}", rule.name, m.id, m.version);
            let (fire_at, counted) = match rule.working_days {
                None => (fire_at, None),
                Some(w) => {
                    let calendars = Calendars::builtin()?;
                    let meeting_zone = IanaZone::parse("time_zone", &m.time_zone)?;
                    let (iso3, zone, whose) = match w.calendar {
                        CalendarOf::Meeting => (m.iso3.as_str(), meeting_zone, String::new()),
                        CalendarOf::Recipient => {
                            let zone =
                                IanaZone::parse("time_zone", &r.time_zone).unwrap_or(meeting_zone);
                            match aud.states.get(&email) {
                                Some(iso3) => (iso3.as_str(), zone, "the recipient's".to_owned()),
                                None => (
                                    m.iso3.as_str(),
                                    zone,
                                    "the meeting's: no state on record for the recipient"
                                        .to_owned(),
                                ),
                            }
                        }
                    };
                    let (at, state, skipped, beyond_data) =
                        working_day_fire_at(calendars, iso3, zone, anchor, w.days);
                    (
                        at,
                        Some(WorkingDayCount {
                            state,
                            whose,
                            skipped,
                            beyond_data,
                        }),
                    )
                }
            };
            out.push(Wanted {
                rule: rule.clone(),
                recipient: r,
                fire_at,
                key,
                counted,
            });
        }
    }
    Ok(out)
}

/// What planning did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PlanReport {
    pub planned: usize,
    /// Reminders not planned because their time had passed or came before the rule took effect.
    pub skipped_past: usize,
    pub superseded: u64,
    pub cancelled: u64,
}

/// Brings a meeting's reminder jobs in line with its current version, inside the caller's
/// transaction: plans what is missing, supersedes what belongs to older versions, cancels
/// everything queued when the meeting is no longer planned.
///
/// # Errors
/// Database errors.
pub async fn plan_meeting<C: ConnectionTrait>(
    db: &C,
    wf: &Workflows,
    m: &meeting::Model,
    now: DateTime<Utc>,
) -> Result<PlanReport> {
    let mut report = PlanReport::default();
    let id = m.id.to_string();
    if m.status != MeetingStatus::Planned.as_str() {
        report.cancelled =
            jobs::retire_for_subject(db, MEETING_REMINDER, "meeting", &id, status::CANCELLED, &[])
                .await?;
        return Ok(report);
    }
    let aud = audience(db, m).await?;
    let wanted = wanted(m, &wf.meeting_reminders, &aud)?;
    let keep: Vec<String> = wanted.iter().map(|w| w.key.clone()).collect();
    report.superseded = jobs::retire_for_subject(
        db,
        MEETING_REMINDER,
        "meeting",
        &id,
        status::SUPERSEDED,
        &keep,
    )
    .await?;
    // Planned together: two statements however many participants.
    let (mut planned, mut passed) = (Vec::new(), Vec::new());
    for Wanted {
        rule,
        recipient,
        fire_at,
        key,
        ..
    } in wanted
    {
        if fire_at < rule.effective_from {
            report.skipped_past += 1;
            continue;
        }
        let payload = ReminderPayload {
            meeting_id: m.id,
            version: m.version,
            rule: rule.name.clone(),
            // The real lead: for a working-day rule, what the calendar made of it.
            lead_minutes: match rule.anchor {
                Anchor::Start => (m.starts_at - fire_at).num_minutes(),
                Anchor::End => {
                    (m.starts_at - fire_at).num_minutes() + i64::from(m.duration_minutes)
                }
            },
            recipient: recipient.clone(),
        };
        let mut job = NewJob::serialised(MEETING_REMINDER, key, fire_at, &payload)?;
        job.max_attempts = wf.max_attempts;
        job.subject = Some(("meeting".to_owned(), id.clone()));
        job.rule = Some(rule.name.clone());
        job.recipient = Some(recipient.email.clone());
        if fire_at <= now {
            // Recorded, not sent: the ledger says its time had passed.
            passed.push(job);
            report.skipped_past += 1;
        } else {
            planned.push(job);
        }
    }
    jobs::skip_passed_many(db, passed).await?;
    report.planned = usize::try_from(jobs::enqueue_many(db, planned).await?).unwrap_or(usize::MAX);
    Ok(report)
}

/// Queues a cancellation (with a calendar CANCEL) for everyone already sent a reminder.
async fn notify_cancelled<C: ConnectionTrait>(db: &C, m: &meeting::Model) -> Result<usize> {
    let reminded = job::Entity::find()
        .filter(job::Column::Kind.eq(MEETING_REMINDER))
        .filter(job::Column::SubjectKind.eq("meeting"))
        .filter(job::Column::SubjectId.eq(m.id.to_string()))
        .filter(job::Column::Status.eq(status::DONE))
        .all(db)
        .await?;
    let mut recipients: HashMap<String, Recipient> = HashMap::new();
    for j in reminded {
        if let Ok(p) = serde_json::from_str::<ReminderPayload>(&j.payload) {
            recipients
                .entry(p.recipient.email.to_lowercase())
                .or_insert(p.recipient);
        }
    }
    let info = meeting_info(db, m).await?;
    let mut queued = 0;
    for (email, recipient) in recipients {
        let Ok(address) = EmailAddress::parse("email", &email) else {
            continue;
        };
        let ctx = MeetingCancelled {
            recipient: recipient.clone(),
            meeting: for_reader(info.clone(), &recipient),
        };
        let sent = outbox::enqueue(
            db,
            NewEmail {
                idempotency_key: format!("cancel:{}:v{}:{email}", m.id, m.version),
                recipient: address,
                recipient_name: Some(recipient.name.clone()),
                template: "meeting_cancelled".to_owned(),
                language: recipient.language.clone(),
                context: serde_json::to_value(&ctx)?,
                send_at: Utc::now(),
                subject: Some(("meeting".to_owned(), m.id.to_string())),
                job_id: None,
            },
        )
        .await?;
        if matches!(sent, outbox::Enqueued::Queued(_)) {
            queued += 1;
        }
    }
    Ok(queued)
}

async fn load_meeting<C: ConnectionTrait>(db: &C, id: uuid::Uuid) -> Result<meeting::Model> {
    meeting::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| outreach_core::Error::not_found("meeting", id.to_string(), "").into())
}

/// Schedules a meeting and plans its reminders, in one transaction.
///
/// # Errors
/// As [`outreach_core::meetings::schedule`].
pub async fn schedule_meeting(
    db: &DatabaseConnection,
    wf: &Workflows,
    actor: &Actor,
    input: &MeetingInput,
) -> Result<(MeetingView, PlanReport)> {
    schedule_meeting_for(db, wf, actor, None, input).await
}

/// As [`schedule_meeting`], with the meeting owned by the staff member `owner` (a handle; the
/// actor when absent).
///
/// # Errors
/// As [`outreach_core::meetings::schedule_for_in`].
pub async fn schedule_meeting_for(
    db: &DatabaseConnection,
    wf: &Workflows,
    actor: &Actor,
    owner: Option<&str>,
    input: &MeetingInput,
) -> Result<(MeetingView, PlanReport)> {
    let tx = outreach_core::db::begin(db).await?;
    let view = meetings::schedule_for_in(&tx, actor, owner, input).await?;
    let m = load_meeting(&tx, view.id).await?;
    let report = plan_meeting(&tx, wf, &m, Utc::now()).await?;
    tx.commit().await?;
    outbox::wake();
    Ok((view, report))
}

/// Reschedules a meeting, supersedes its old reminders and plans the new ones, in one transaction.
///
/// # Errors
/// As [`outreach_core::meetings::reschedule`].
pub async fn reschedule_meeting(
    db: &DatabaseConnection,
    wf: &Workflows,
    actor: &Actor,
    id: &str,
    at: &str,
    tz: Option<&str>,
) -> Result<(MeetingView, PlanReport)> {
    let tx = outreach_core::db::begin(db).await?;
    let view = meetings::reschedule_in(&tx, actor, id, at, tz).await?;
    let m = load_meeting(&tx, view.id).await?;
    let report = plan_meeting(&tx, wf, &m, Utc::now()).await?;
    tx.commit().await?;
    outbox::wake();
    Ok((view, report))
}

/// Cancels a meeting and its reminders, and tells those already reminded, in one transaction.
///
/// # Errors
/// As [`outreach_core::meetings::cancel`].
pub async fn cancel_meeting(
    db: &DatabaseConnection,
    wf: &Workflows,
    actor: &Actor,
    id: &str,
) -> Result<(MeetingView, PlanReport)> {
    let tx = outreach_core::db::begin(db).await?;
    let view = meetings::cancel_in(&tx, actor, id).await?;
    let m = load_meeting(&tx, view.id).await?;
    let report = plan_meeting(&tx, wf, &m, Utc::now()).await?;
    notify_cancelled(&tx, &m).await?;
    tx.commit().await?;
    outbox::wake();
    Ok((view, report))
}

/// One line of a dry run: who a rule would remind, when, in which zone, and why.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DryRunLine {
    pub rule: String,
    /// `meeting_reminder`, `follow_up_reminder`, `grant_report_reminder` or `outcome_nudge`.
    pub kind: String,
    /// The meeting a meeting reminder or an outcome nudge is about.
    pub meeting_id: Option<uuid::Uuid>,
    /// Its title; empty for the other kinds.
    pub meeting: String,
    /// What the reminder is about: the meeting's title, "follow-up due DATE", "grant report due
    /// DATE".
    pub subject: String,
    pub recipient: String,
    pub email: String,
    pub fires_at: DateTime<Utc>,
    pub local_time: String,
    pub time_zone: String,
    pub would_fire: bool,
    pub why: String,
    /// For a rule in working days: the days passed over (weekends, holidays), latest first.
    pub skipped: Vec<SkippedDay>,
}

/// What the rules would do, without writing anything: the meeting rules for every planned
/// meeting, and the date rules (follow-up, grant-report reminders, outcome nudges) for every
/// open follow-up, unsubmitted report and meeting without an outcome.
///
/// # Errors
/// Database errors.
pub async fn dry_run<C: ConnectionTrait>(
    db: &C,
    wf: &Workflows,
    rule_name: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Vec<DryRunLine>> {
    let planned = meeting::Entity::find()
        .filter(meeting::Column::Status.eq(MeetingStatus::Planned.as_str()))
        .filter(meeting::Column::StartsAt.gte(now))
        .all(db)
        .await?;
    let rules: Vec<MeetingRule> = wf
        .meeting_reminders
        .iter()
        .filter(|r| rule_name.is_none_or(|n| n == r.name))
        .cloned()
        .collect();
    let mut out = Vec::new();
    for m in planned {
        let aud = audience(db, &m).await?;
        for Wanted {
            rule,
            recipient,
            fire_at,
            counted,
            ..
        } in wanted(&m, &rules, &aud)?
        {
            let zone = IanaZone::parse("time_zone", &recipient.time_zone)
                .unwrap_or(IanaZone::parse("time_zone", "UTC")?);
            let (would_fire, why) = if fire_at < rule.effective_from {
                (
                    false,
                    format!(
                        "before the rule took effect ({})",
                        rule.effective_from.format("%Y-%m-%d %H:%M UTC")
                    ),
                )
            } else if fire_at <= now {
                (false, "its time has already passed".to_owned())
            } else {
                let who = if aud
                    .owner
                    .as_ref()
                    .is_some_and(|o| o.email == recipient.email)
                {
                    "owner"
                } else {
                    "participant"
                };
                let lead = match &counted {
                    None => describe(rule.before),
                    Some(c) => rule.working_days.map_or_else(
                        || describe(rule.before),
                        |w| {
                            format!(
                                "{} working day{} in the calendar of {}{}",
                                w.days,
                                if w.days == 1 { "" } else { "s" },
                                c.state,
                                if c.whose.is_empty() {
                                    String::new()
                                } else {
                                    format!(" ({})", c.whose)
                                }
                            )
                        },
                    ),
                };
                let end = match rule.anchor {
                    Anchor::Start => "starts",
                    Anchor::End => "ends",
                };
                (true, format!("{lead} before the meeting {end}; {who}"))
            };
            let why = match &counted {
                None => why,
                Some(c) => {
                    let mut why = why;
                    if !c.skipped.is_empty() {
                        let days: Vec<String> = c.skipped.iter().map(ToString::to_string).collect();
                        why.push_str(&format!("; skipped {}", days.join(", ")));
                    }
                    if c.beyond_data {
                        why.push_str(
                            "; holidays are not known here (the calendars cover the states \
                             on record, 2020 to 2035): weekends only",
                        );
                    }
                    why
                }
            };
            out.push(DryRunLine {
                rule: rule.name.clone(),
                kind: "meeting_reminder".to_owned(),
                meeting_id: Some(m.id),
                meeting: m.title.clone(),
                subject: m.title.clone(),
                recipient: recipient.name.clone(),
                email: recipient.email.clone(),
                fires_at: fire_at,
                local_time: zone.local(fire_at).format("%Y-%m-%d %H:%M").to_string(),
                time_zone: zone.name().to_owned(),
                would_fire,
                why,
                skipped: counted.map(|c| c.skipped).unwrap_or_default(),
            });
        }
    }
    for plan in crate::handlers::sweep_plans(db, wf, now).await? {
        let Some(rule) = plan.job.rule.clone() else {
            continue;
        };
        if rule_name.is_some_and(|n| n != rule) {
            continue;
        }
        let zone = IanaZone::parse("time_zone", &plan.recipient.time_zone)
            .unwrap_or(IanaZone::parse("time_zone", "UTC")?);
        let fire_at = plan.job.run_at;
        let (would_fire, why) = if fire_at <= now {
            (false, "its time has already passed".to_owned())
        } else {
            (true, plan.why)
        };
        let (meeting_id, meeting) = plan.meeting.unzip();
        out.push(DryRunLine {
            rule,
            kind: plan.kind.to_owned(),
            meeting_id,
            meeting: meeting.unwrap_or_default(),
            subject: plan.subject,
            recipient: plan.recipient.name.clone(),
            email: plan.recipient.email.clone(),
            fires_at: fire_at,
            local_time: zone.local(fire_at).format("%Y-%m-%d %H:%M").to_string(),
            time_zone: zone.name().to_owned(),
            would_fire,
            why,
            skipped: Vec::new(),
        });
    }
    out.sort_by_key(|l| l.fires_at);
    Ok(out)
}

/// Every rule name `dry_run` knows: the meeting rules and the sweep's date rules.
pub fn rule_names(wf: &Workflows) -> Vec<String> {
    let mut names: Vec<String> = wf
        .meeting_reminders
        .iter()
        .map(|r| r.name.clone())
        .collect();
    names.extend(wf.follow_up_reminder.iter().map(|r| r.name.clone()));
    names.extend(wf.grant_report_reminder.iter().map(|r| r.name.clone()));
    names.extend(wf.outcome_nudge.iter().map(|r| r.name.clone()));
    names
}

/// "7 days", "1 day", "2 hours", "90 minutes".
pub fn describe(d: std::time::Duration) -> String {
    let minutes = d.as_secs() / 60;
    let (n, unit) = if minutes.is_multiple_of(24 * 60) && minutes > 0 {
        (minutes / (24 * 60), "day")
    } else if minutes.is_multiple_of(60) && minutes > 0 {
        (minutes / 60, "hour")
    } else {
        (minutes, "minute")
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}
