//! What each kind of job does. A handler runs inside the transaction that also marks its job
//! finished, so its effect (usually an outbox row) is committed exactly when the job is.

use std::collections::HashMap;
use std::sync::Arc;

use crate::entities::job;
use async_trait::async_trait;
use chrono::{DateTime, Datelike, Days, NaiveTime, Utc};
use outreach_core::domain::{EmailAddress, IanaZone, MeetingStatus};
use outreach_core::entities::{
    contact, engagement, follow_up, grant, grant_report, meeting, meeting_participant,
    organisation, state, user,
};
use outreach_mailer::context::{
    DigestFollowUp, DigestQuietState, FollowUpDue, GrantReportDue, OutcomeMissing, Recipient,
    WeeklyDigest,
};
use outreach_mailer::outbox::{self, NewEmail};
use sea_orm::{ColumnTrait, DatabaseTransaction, DbErr, EntityTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::jobs::{self, NewJob};
use crate::planner::{self, MEETING_REMINDER, ReminderPayload, language_of, user_recipient};
use crate::rules::Workflows;

/// How a job ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// The plan changed under it (meeting moved, follow-up done): nothing was sent.
    Superseded,
    Cancelled,
    /// Its moment passed before it ran (a daemon was down past a meeting's start): nothing was
    /// sent, as a reminder after the fact helps no one.
    TooLate,
    /// Not needed any more, for the reason given (a grant report already submitted): nothing
    /// was sent, and the job is recorded as skipped with the reason.
    Skipped(&'static str),
}

impl Outcome {
    pub fn status(self) -> &'static str {
        match self {
            Outcome::Done => jobs::status::DONE,
            Outcome::Superseded => jobs::status::SUPERSEDED,
            Outcome::Cancelled => jobs::status::CANCELLED,
            Outcome::TooLate | Outcome::Skipped(_) => jobs::status::SKIPPED,
        }
    }

    /// Why nothing was sent, where the status alone does not say it.
    pub fn reason(self) -> Option<&'static str> {
        match self {
            Outcome::TooLate => Some(jobs::TOO_LATE),
            Outcome::Skipped(reason) => Some(reason),
            _ => None,
        }
    }
}

/// Why a job failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum JobError {
    /// Worth retrying later.
    #[error("{0}")]
    Transient(String),
    /// Retrying cannot help; dead-letter now.
    #[error("{0}")]
    Permanent(String),
}

impl From<DbErr> for JobError {
    fn from(e: DbErr) -> Self {
        JobError::Transient(format!("database: {e}"))
    }
}

impl From<crate::error::Error> for JobError {
    fn from(e: crate::error::Error) -> Self {
        match e {
            crate::error::Error::Database(d) => JobError::Transient(format!("database: {d}")),
            other => JobError::Permanent(other.to_string()),
        }
    }
}

impl From<outreach_core::Error> for JobError {
    fn from(e: outreach_core::Error) -> Self {
        match e {
            outreach_core::Error::Database(d) => JobError::Transient(format!("database: {d}")),
            other => JobError::Permanent(other.to_string()),
        }
    }
}

/// What a handler may read besides the job.
#[derive(Debug, Clone)]
pub struct RunContext {
    pub workflows: Arc<Workflows>,
    pub now: DateTime<Utc>,
    /// Shared by the jobs of one claimed batch: what they read alike is read once.
    pub batch: Arc<BatchCache>,
}

/// What the jobs of one claimed batch share. A meeting's reminders to its participants come due
/// together, so a batch often holds dozens of jobs for one meeting: its details (title, place,
/// owner, participants' names) are read once per batch. Keyed by the meeting's version, which
/// grows on every change, so a job never sees another version's details; the batch lives for
/// the seconds its jobs take, as a snapshot read at claim time would.
#[derive(Debug, Default)]
pub struct BatchCache {
    meetings: std::sync::Mutex<HashMap<(Uuid, i32), outreach_mailer::context::MeetingInfo>>,
}

impl BatchCache {
    /// The details of meeting `m` at its current version, read through `tx` the first time.
    ///
    /// # Errors
    /// Database errors.
    pub async fn meeting_info(
        &self,
        tx: &DatabaseTransaction,
        m: &meeting::Model,
    ) -> Result<outreach_mailer::context::MeetingInfo, JobError> {
        let key = (m.id, m.version);
        if let Some(info) = self.lock().get(&key) {
            return Ok(info.clone());
        }
        let info = planner::meeting_info(tx, m).await?;
        self.lock().insert(key, info.clone());
        Ok(info)
    }

    /// Reads, in a few queries for the whole batch, the details of every meeting the batch's
    /// reminders and outcome nudges are about (as they are now, at their current versions), so
    /// its jobs find them here instead of reading them one meeting at a time. Best effort: a
    /// failure here only means each job reads its meeting itself.
    pub async fn prefill(&self, db: &sea_orm::DatabaseConnection, batch: &[job::Model]) {
        #[derive(Deserialize)]
        struct AboutMeeting {
            meeting_id: Uuid,
        }
        let ids: std::collections::BTreeSet<Uuid> = batch
            .iter()
            .filter(|j| j.kind == MEETING_REMINDER || j.kind == OUTCOME_MISSING)
            .filter_map(|j| serde_json::from_str::<AboutMeeting>(&j.payload).ok())
            .map(|p| p.meeting_id)
            .collect();
        if ids.is_empty() {
            return;
        }
        let read = async {
            let rows = meeting::Entity::find()
                .filter(meeting::Column::Id.is_in(ids))
                .all(db)
                .await?;
            planner::meeting_infos(db, rows).await
        };
        match read.await {
            Ok(infos) => {
                let mut cache = self.lock();
                for info in infos {
                    cache.insert((info.id, info.version), info);
                }
            }
            Err(e) => tracing::debug!(error = %e, "could not read the batch's meetings ahead"),
        }
    }

    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<(Uuid, i32), outreach_mailer::context::MeetingInfo>>
    {
        // A panic elsewhere while holding it leaves only a cache behind: still usable.
        self.meetings
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Runs one kind of job.
#[async_trait]
pub trait Handler: Send + Sync {
    async fn run(
        &self,
        ctx: &RunContext,
        tx: &DatabaseTransaction,
        job: &job::Model,
    ) -> Result<Outcome, JobError>;
}

/// Handlers by job kind.
#[derive(Clone, Default)]
pub struct Registry {
    handlers: HashMap<String, Arc<dyn Handler>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut kinds: Vec<&String> = self.handlers.keys().collect();
        kinds.sort();
        f.debug_struct("Registry").field("kinds", &kinds).finish()
    }
}

impl Registry {
    /// The handlers outreach ships.
    pub fn builtin() -> Self {
        let mut r = Self::default();
        r.register(NOOP, Arc::new(Noop));
        r.register(MEETING_REMINDER, Arc::new(MeetingReminderHandler));
        r.register(WEEKLY_DIGEST, Arc::new(WeeklyDigestHandler));
        r.register(SWEEP, Arc::new(SweepHandler));
        r.register(FOLLOW_UP_DUE, Arc::new(FollowUpDueHandler));
        r.register(GRANT_REPORT_DUE, Arc::new(GrantReportDueHandler));
        r.register(OUTCOME_MISSING, Arc::new(OutcomeMissingHandler));
        r
    }

    pub fn register(&mut self, kind: &str, handler: Arc<dyn Handler>) {
        self.handlers.insert(kind.to_owned(), handler);
    }

    pub fn get(&self, kind: &str) -> Option<Arc<dyn Handler>> {
        self.handlers.get(kind).cloned()
    }
}

pub const NOOP: &str = "noop";
pub const WEEKLY_DIGEST: &str = "weekly_digest";
pub const SWEEP: &str = "sweep";
pub const FOLLOW_UP_DUE: &str = "follow_up_due";
pub const GRANT_REPORT_DUE: &str = "grant_report_due";
pub const OUTCOME_MISSING: &str = "outcome_missing";

/// Whether `recipient` is a staff member whose account was disabled after the email was planned:
/// a disabled account gets no reminders.
async fn recipient_disabled(
    tx: &DatabaseTransaction,
    recipient: &Recipient,
) -> Result<bool, JobError> {
    Ok(user::Entity::find()
        .filter(user::Column::Email.eq(recipient.email.to_lowercase()))
        .filter(user::Column::DisabledAt.is_not_null())
        .one(tx)
        .await?
        .is_some())
}

fn payload<T: for<'de> Deserialize<'de>>(job: &job::Model) -> Result<T, JobError> {
    serde_json::from_str(&job.payload).map_err(|e| {
        JobError::Permanent(format!(
            "the job's payload is not what a {} job needs: {e}",
            job.kind
        ))
    })
}

async fn queue_email(
    tx: &DatabaseTransaction,
    job: &job::Model,
    recipient: &Recipient,
    template: &str,
    context: serde_json::Value,
    subject: Option<(String, String)>,
) -> Result<(), JobError> {
    let address = EmailAddress::parse("email", &recipient.email)
        .map_err(|e| JobError::Permanent(e.to_string()))?;
    outbox::enqueue(
        tx,
        NewEmail {
            idempotency_key: job.idempotency_key.clone(),
            recipient: address,
            recipient_name: Some(recipient.name.clone()),
            template: template.to_owned(),
            language: recipient.language.clone(),
            context,
            send_at: Utc::now(),
            subject,
            job_id: Some(job.id),
        },
    )
    .await?;
    Ok(())
}

/// `noop`: does nothing (after `sleep_ms`, if given). For benchmarks and drills.
#[derive(Debug)]
pub struct Noop;

#[async_trait]
impl Handler for Noop {
    async fn run(
        &self,
        _: &RunContext,
        _: &DatabaseTransaction,
        job: &job::Model,
    ) -> Result<Outcome, JobError> {
        #[derive(Deserialize)]
        struct P {
            #[serde(default)]
            sleep_ms: u64,
        }
        let p: P = serde_json::from_str(&job.payload).unwrap_or(P { sleep_ms: 0 });
        if p.sleep_ms > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(p.sleep_ms)).await;
        }
        Ok(Outcome::Done)
    }
}

/// `meeting_reminder`: queues the reminder email, unless the meeting moved or was cancelled.
#[derive(Debug)]
pub struct MeetingReminderHandler;

#[async_trait]
impl Handler for MeetingReminderHandler {
    async fn run(
        &self,
        run: &RunContext,
        tx: &DatabaseTransaction,
        job: &job::Model,
    ) -> Result<Outcome, JobError> {
        let p: ReminderPayload = payload(job)?;
        let Some(m) = meeting::Entity::find_by_id(p.meeting_id).one(tx).await? else {
            return Ok(Outcome::Cancelled);
        };
        if m.status != MeetingStatus::Planned.as_str() {
            return Ok(Outcome::Cancelled);
        }
        if m.version != p.version {
            return Ok(Outcome::Superseded);
        }
        if recipient_disabled(tx, &p.recipient).await? {
            return Ok(Outcome::Cancelled);
        }
        // Reminders are for before a meeting: one whose turn came only after the meeting began
        // (the daemons were down) is recorded, not sent.
        if m.starts_at <= run.now {
            return Ok(Outcome::TooLate);
        }
        let ctx = outreach_mailer::context::MeetingReminder {
            recipient: p.recipient.clone(),
            meeting: planner::for_reader(run.batch.meeting_info(tx, &m).await?, &p.recipient),
            rule: p.rule,
            lead_minutes: p.lead_minutes,
        };
        let value = serde_json::to_value(&ctx).map_err(|e| JobError::Permanent(e.to_string()))?;
        queue_email(
            tx,
            job,
            &p.recipient,
            "meeting_reminder",
            value,
            Some(("meeting".into(), m.id.to_string())),
        )
        .await?;
        Ok(Outcome::Done)
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub struct CronPayload {
    pub schedule: String,
    pub slot: DateTime<Utc>,
}

/// States not party with no engagement for this many days appear in the digest.
pub const QUIET_DAYS: i64 = 180;

/// `weekly_digest`: one email per staff member with an address: their meetings this week (in
/// their zone), their overdue follow-ups, and states not party with no engagement in 180 days.
#[derive(Debug)]
pub struct WeeklyDigestHandler;

#[async_trait]
impl Handler for WeeklyDigestHandler {
    async fn run(
        &self,
        _: &RunContext,
        tx: &DatabaseTransaction,
        job: &job::Model,
    ) -> Result<Outcome, JobError> {
        let p: CronPayload = payload(job)?;
        let staff = user::Entity::find()
            .order_by_asc(user::Column::Handle)
            .all(tx)
            .await?;
        let quiet: Vec<DigestQuietState> = {
            let today = p.slot.date_naive();
            let rows = outreach_core::views::attention(
                tx,
                outreach_core::refdata::DEFAULT_TREATY,
                today,
                // An email leaves outreach: no restricted stance in it.
                &outreach_core::access::Reader::outside(),
            )
            .await?;
            rows.into_iter()
                .filter(|r| r.days_since_last_engagement.is_none_or(|d| d >= QUIET_DAYS))
                .map(|r| DigestQuietState {
                    iso3: r.iso3,
                    state: r.name,
                    days_since: r.days_since_last_engagement,
                })
                .collect()
        };
        let names: HashMap<String, String> = state::Entity::find()
            .all(tx)
            .await?
            .into_iter()
            .map(|s| (s.iso3, s.name))
            .collect();
        for u in staff {
            let Some(recipient) = user_recipient(&u) else {
                continue;
            };
            let zone =
                IanaZone::parse("time_zone", &u.time_zone).unwrap_or(IanaZone::parse("tz", "UTC")?);
            let local = zone.local(p.slot).date_naive();
            let monday = local - Days::new(u64::from(local.weekday().num_days_from_monday()));
            let week_start = zone
                .to_utc("week", monday.and_time(NaiveTime::MIN))
                .unwrap_or(p.slot);
            let week_end = week_start + chrono::Duration::days(7);
            let mine: Vec<Uuid> = meeting_participant::Entity::find()
                .filter(meeting_participant::Column::UserId.eq(u.id))
                .all(tx)
                .await?
                .into_iter()
                .map(|mp| mp.meeting_id)
                .collect();
            let mut meetings = Vec::new();
            for m in meeting::Entity::find()
                .filter(meeting::Column::Status.eq(MeetingStatus::Planned.as_str()))
                .filter(meeting::Column::StartsAt.gte(week_start))
                .filter(meeting::Column::StartsAt.lt(week_end))
                .order_by_asc(meeting::Column::StartsAt)
                .all(tx)
                .await?
            {
                if m.owner_id == u.id || mine.contains(&m.id) {
                    meetings.push(planner::meeting_info(tx, &m).await?);
                }
            }
            let mut overdue_follow_ups = Vec::new();
            for f in follow_up::Entity::find()
                .filter(follow_up::Column::OwnerId.eq(u.id))
                .filter(follow_up::Column::DoneAt.is_null())
                .filter(follow_up::Column::DueOn.lt(local))
                .order_by_asc(follow_up::Column::DueOn)
                .all(tx)
                .await?
            {
                // Restricted text never leaves outreach by email.
                let description =
                    if outreach_core::access::is_restricted(tx, f.engagement_id).await? {
                        outreach_core::access::WITHHELD_FOLLOW_UP.to_owned()
                    } else {
                        f.description
                    };
                overdue_follow_ups.push(DigestFollowUp {
                    state: names.get(&f.iso3).cloned().unwrap_or_default(),
                    iso3: f.iso3,
                    description,
                    due_on: f.due_on,
                });
            }
            let ctx = WeeklyDigest {
                recipient: recipient.clone(),
                week_of: monday,
                meetings,
                overdue_follow_ups,
                quiet_states: quiet.clone(),
            };
            let address = EmailAddress::parse("email", &recipient.email)
                .map_err(|e| JobError::Permanent(e.to_string()))?;
            outbox::enqueue(
                tx,
                NewEmail {
                    idempotency_key: format!(
                        "digest:{}:{}:{}",
                        p.schedule,
                        p.slot.to_rfc3339(),
                        u.handle
                    ),
                    recipient: address,
                    recipient_name: Some(recipient.name.clone()),
                    template: "weekly_digest".into(),
                    language: recipient.language.clone(),
                    context: serde_json::to_value(&ctx)
                        .map_err(|e| JobError::Permanent(e.to_string()))?,
                    send_at: Utc::now(),
                    subject: Some(("digest".into(), u.handle.clone())),
                    job_id: Some(job.id),
                },
            )
            .await?;
        }
        Ok(Outcome::Done)
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct FollowUpPayload {
    follow_up_id: Uuid,
    due_on: chrono::NaiveDate,
    recipient: Recipient,
}

#[derive(Debug, Serialize, Deserialize)]
struct GrantReportPayload {
    report_id: Uuid,
    due_on: chrono::NaiveDate,
    recipient: Recipient,
}

#[derive(Debug, Serialize, Deserialize)]
struct OutcomePayload {
    meeting_id: Uuid,
    version: i32,
    recipient: Recipient,
}

/// 09:00 on `date` in `zone`, as an instant.
fn nine_oclock(zone: IanaZone, date: chrono::NaiveDate) -> DateTime<Utc> {
    crate::cronsched::instant_of(
        zone,
        date.and_time(NaiveTime::from_hms_opt(9, 0, 0).unwrap_or(NaiveTime::MIN)),
    )
}

/// Plans a job, or records it as skipped when its time has already passed (a reminder is never
/// sent late; the ledger says why nothing was).
async fn plan_or_skip(
    tx: &DatabaseTransaction,
    j: NewJob,
    now: DateTime<Utc>,
) -> Result<bool, JobError> {
    Ok(if j.run_at <= now {
        jobs::skip_passed(tx, j).await?
    } else {
        jobs::enqueue(tx, j).await?
    })
}

/// `sweep`: plans what depends on dates rather than on a change: reminders of new rules for
/// meetings already planned, follow-up and grant-report reminders, and outcome nudges. All keyed,
/// so sweeping again plans nothing new.
#[derive(Debug)]
pub struct SweepHandler;

#[async_trait]
impl Handler for SweepHandler {
    async fn run(
        &self,
        ctx: &RunContext,
        tx: &DatabaseTransaction,
        _job: &job::Model,
    ) -> Result<Outcome, JobError> {
        let wf = &ctx.workflows;
        let now = ctx.now;
        for m in meeting::Entity::find()
            .filter(meeting::Column::Status.eq(MeetingStatus::Planned.as_str()))
            .filter(meeting::Column::StartsAt.gte(now))
            .all(tx)
            .await?
        {
            planner::plan_meeting(tx, wf, &m, now).await?;
        }
        for plan in sweep_plans(tx, wf, now).await? {
            plan_or_skip(tx, plan.job, now).await?;
        }
        Ok(Outcome::Done)
    }
}

/// A reminder one of the sweep's date rules (follow-ups, grant reports, outcome nudges) wants:
/// the job it plans, and what a dry run says of it.
#[derive(Debug)]
pub struct SweepPlan {
    pub job: NewJob,
    /// `follow_up_reminder`, `grant_report_reminder` or `outcome_nudge`.
    pub kind: &'static str,
    /// What it is about: the follow-up, the report, the meeting.
    pub subject: String,
    pub meeting: Option<(uuid::Uuid, String)>,
    pub recipient: Recipient,
    pub why: String,
}

/// What the sweep's date rules would plan now (rules' `effective_from` applied; a trigger
/// already past is still listed, and the sweep records it as skipped). The sweep plans these;
/// `outreach rules dry-run` shows them.
///
/// # Errors
/// Database errors and a stored time zone that no longer parses.
pub async fn sweep_plans<C: sea_orm::ConnectionTrait>(
    db: &C,
    wf: &Workflows,
    now: DateTime<Utc>,
) -> crate::error::Result<Vec<SweepPlan>> {
    let mut plans = Vec::new();
    if let Some(rule) = &wf.follow_up_reminder {
        for f in follow_up::Entity::find()
            .filter(follow_up::Column::DoneAt.is_null())
            .all(db)
            .await?
        {
            let Some(owner) = user::Entity::find_by_id(f.owner_id).one(db).await? else {
                continue;
            };
            let Some(recipient) = user_recipient(&owner) else {
                continue;
            };
            let zone = IanaZone::parse("tz", &owner.time_zone)?;
            let run_at = nine_oclock(zone, f.due_on)
                - chrono::Duration::from_std(rule.lead).unwrap_or_default();
            if run_at < rule.effective_from {
                continue;
            }
            let p = FollowUpPayload {
                follow_up_id: f.id,
                due_on: f.due_on,
                recipient: recipient.clone(),
            };
            let mut j = NewJob::serialised(
                FOLLOW_UP_DUE,
                format!("followup:{}:{}:{}", rule.name, f.id, f.due_on),
                run_at,
                &p,
            )?;
            j.max_attempts = wf.max_attempts;
            j.subject = Some(("follow_up".into(), f.id.to_string()));
            j.rule = Some(rule.name.clone());
            j.recipient = Some(recipient.email.clone());
            plans.push(SweepPlan {
                job: j,
                kind: "follow_up_reminder",
                // Not the description: a follow-up made from a restricted engagement keeps
                // its text to cleared readers, and a dry run is shown to all staff.
                subject: format!("follow-up due {}", f.due_on),
                meeting: None,
                recipient,
                why: format!(
                    "{} before the follow-up is due ({}), at 09:00 for its owner",
                    planner::describe(rule.lead),
                    f.due_on
                ),
            });
        }
    }
    if let Some(rule) = &wf.grant_report_reminder {
        for r in grant_report::Entity::find()
            .filter(grant_report::Column::SubmittedOn.is_null())
            .all(db)
            .await?
        {
            let Some(g) = grant::Entity::find_by_id(r.grant_id).one(db).await? else {
                continue;
            };
            for c in contact::Entity::find()
                .filter(contact::Column::OrganisationId.eq(g.organisation_id))
                .all(db)
                .await?
            {
                let Some(email) = c.email.clone() else {
                    continue;
                };
                let zone = c
                    .time_zone
                    .as_deref()
                    .and_then(|z| IanaZone::parse("tz", z).ok())
                    .unwrap_or(IanaZone::parse("tz", "UTC")?);
                let run_at = nine_oclock(zone, r.due_on)
                    - chrono::Duration::from_std(rule.lead).unwrap_or_default();
                if run_at < rule.effective_from {
                    continue;
                }
                let recipient = Recipient {
                    name: c.name.clone(),
                    email: email.clone(),
                    time_zone: zone.name().to_owned(),
                    language: language_of(&c.languages),
                };
                let p = GrantReportPayload {
                    report_id: r.id,
                    due_on: r.due_on,
                    recipient: recipient.clone(),
                };
                let mut j = NewJob::serialised(
                    GRANT_REPORT_DUE,
                    format!("grant_report:{}:{}:{}:{}", rule.name, r.id, r.due_on, email),
                    run_at,
                    &p,
                )?;
                j.max_attempts = wf.max_attempts;
                j.subject = Some(("grant".into(), g.id.to_string()));
                j.rule = Some(rule.name.clone());
                j.recipient = Some(email);
                plans.push(SweepPlan {
                        job: j,
                        kind: "grant_report_reminder",
                        subject: format!("grant report due {}", r.due_on),
                        meeting: None,
                        recipient,
                        why: format!(
                            "{} before the grant report is due ({}), at 09:00 for the grantee's contact",
                            planner::describe(rule.lead),
                            r.due_on
                        ),
                    });
            }
        }
    }
    if let Some(rule) = &wf.outcome_nudge {
        for m in meeting::Entity::find()
            .filter(meeting::Column::Status.ne(MeetingStatus::Cancelled.as_str()))
            .filter(meeting::Column::StartsAt.lt(now))
            .all(db)
            .await?
        {
            let end = m.starts_at + chrono::Duration::minutes(i64::from(m.duration_minutes));
            let run_at = end + chrono::Duration::from_std(rule.lead).unwrap_or_default();
            if run_at < rule.effective_from {
                continue;
            }
            let Some(owner) = user::Entity::find_by_id(m.owner_id).one(db).await? else {
                continue;
            };
            let Some(recipient) = user_recipient(&owner) else {
                continue;
            };
            let p = OutcomePayload {
                meeting_id: m.id,
                version: m.version,
                recipient: recipient.clone(),
            };
            let mut j = NewJob::serialised(
                OUTCOME_MISSING,
                format!("outcome:{}:{}:v{}", rule.name, m.id, m.version),
                run_at,
                &p,
            )?;
            j.max_attempts = wf.max_attempts;
            j.subject = Some(("meeting".into(), m.id.to_string()));
            j.rule = Some(rule.name.clone());
            j.recipient = Some(recipient.email.clone());
            plans.push(SweepPlan {
                job: j,
                kind: "outcome_nudge",
                subject: m.title.clone(),
                meeting: Some((m.id, m.title.clone())),
                recipient,
                why: format!(
                    "{} after the meeting ended with no outcome logged; owner",
                    planner::describe(rule.lead)
                ),
            });
        }
    }
    Ok(plans)
}

/// `follow_up_due`: reminds the owner, unless the follow-up was done or its date moved.
#[derive(Debug)]
pub struct FollowUpDueHandler;

#[async_trait]
impl Handler for FollowUpDueHandler {
    async fn run(
        &self,
        _: &RunContext,
        tx: &DatabaseTransaction,
        job: &job::Model,
    ) -> Result<Outcome, JobError> {
        let p: FollowUpPayload = payload(job)?;
        let Some(f) = follow_up::Entity::find_by_id(p.follow_up_id)
            .one(tx)
            .await?
        else {
            return Ok(Outcome::Cancelled);
        };
        if f.done_at.is_some() || f.due_on != p.due_on {
            return Ok(Outcome::Superseded);
        }
        if recipient_disabled(tx, &p.recipient).await? {
            return Ok(Outcome::Cancelled);
        }
        // An email leaves outreach: the text of a follow-up made from a restricted engagement
        // stays inside; the owner reads it on the state page.
        let description = if outreach_core::access::is_restricted(tx, f.engagement_id).await? {
            outreach_core::access::WITHHELD_FOLLOW_UP.to_owned()
        } else {
            f.description
        };
        let english = state::Entity::find_by_id(f.iso3.clone())
            .one(tx)
            .await?
            .map(|s| s.name)
            .unwrap_or_default();
        let state = planner::state_for(&p.recipient, &f.iso3, &english);
        let ctx = FollowUpDue {
            recipient: p.recipient.clone(),
            follow_up_id: f.id,
            iso3: f.iso3,
            state,
            description,
            due_on: f.due_on,
        };
        let value = serde_json::to_value(&ctx).map_err(|e| JobError::Permanent(e.to_string()))?;
        queue_email(
            tx,
            job,
            &p.recipient,
            "follow_up_due",
            value,
            Some(("follow_up".into(), f.id.to_string())),
        )
        .await?;
        Ok(Outcome::Done)
    }
}

/// `grant_report_due`: reminds a grantee contact, unless the report was submitted (then the job
/// is recorded as skipped, with [`jobs::REPORT_SUBMITTED`]).
#[derive(Debug)]
pub struct GrantReportDueHandler;

#[async_trait]
impl Handler for GrantReportDueHandler {
    async fn run(
        &self,
        _: &RunContext,
        tx: &DatabaseTransaction,
        job: &job::Model,
    ) -> Result<Outcome, JobError> {
        let p: GrantReportPayload = payload(job)?;
        let Some(r) = grant_report::Entity::find_by_id(p.report_id)
            .one(tx)
            .await?
        else {
            return Ok(Outcome::Cancelled);
        };
        if r.submitted_on.is_some() {
            return Ok(Outcome::Skipped(jobs::REPORT_SUBMITTED));
        }
        if r.due_on != p.due_on {
            return Ok(Outcome::Superseded);
        }
        let Some(g) = grant::Entity::find_by_id(r.grant_id).one(tx).await? else {
            return Ok(Outcome::Cancelled);
        };
        let org = organisation::Entity::find_by_id(g.organisation_id)
            .one(tx)
            .await?
            .map(|o| o.name)
            .unwrap_or_default();
        let english = state::Entity::find_by_id(g.iso3.clone())
            .one(tx)
            .await?
            .map(|s| s.name)
            .unwrap_or_default();
        let state = planner::state_for(&p.recipient, &g.iso3, &english);
        let ctx = GrantReportDue {
            recipient: p.recipient.clone(),
            organisation: org,
            iso3: g.iso3,
            state,
            year: g.year,
            due_on: r.due_on,
            description: r.description,
        };
        let value = serde_json::to_value(&ctx).map_err(|e| JobError::Permanent(e.to_string()))?;
        queue_email(
            tx,
            job,
            &p.recipient,
            "grant_report_due",
            value,
            Some(("grant".into(), g.id.to_string())),
        )
        .await?;
        Ok(Outcome::Done)
    }
}

/// `outcome_missing`: nudges the owner when a past meeting has no outcome logged.
#[derive(Debug)]
pub struct OutcomeMissingHandler;

#[async_trait]
impl Handler for OutcomeMissingHandler {
    async fn run(
        &self,
        ctx: &RunContext,
        tx: &DatabaseTransaction,
        job: &job::Model,
    ) -> Result<Outcome, JobError> {
        let p: OutcomePayload = payload(job)?;
        let Some(m) = meeting::Entity::find_by_id(p.meeting_id).one(tx).await? else {
            return Ok(Outcome::Cancelled);
        };
        if m.status == MeetingStatus::Cancelled.as_str() || m.version != p.version {
            return Ok(Outcome::Superseded);
        }
        let has_outcome = engagement::Entity::find()
            .filter(engagement::Column::MeetingId.eq(m.id))
            .filter(engagement::Column::Outcome.is_not_null())
            .one(tx)
            .await?
            .is_some();
        if has_outcome {
            return Ok(Outcome::Superseded);
        }
        if recipient_disabled(tx, &p.recipient).await? {
            return Ok(Outcome::Cancelled);
        }
        let end = m.starts_at + chrono::Duration::minutes(i64::from(m.duration_minutes));
        let c = OutcomeMissing {
            recipient: p.recipient.clone(),
            meeting: planner::for_reader(ctx.batch.meeting_info(tx, &m).await?, &p.recipient),
            days_since: (ctx.now - end).num_days(),
        };
        let value = serde_json::to_value(&c).map_err(|e| JobError::Permanent(e.to_string()))?;
        queue_email(
            tx,
            job,
            &p.recipient,
            "outcome_missing",
            value,
            Some(("meeting".into(), m.id.to_string())),
        )
        .await?;
        Ok(Outcome::Done)
    }
}
