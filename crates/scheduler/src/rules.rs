//! The workflows: reminder rules and cron schedules, read from `config/workflows.toml`.
//!
//! Every rule has an `effective_from` instant: it never fires for a trigger that was already in
//! the past when the rule came into effect, so adding a rule does not mail everyone whose date
//! has gone by.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use crate::settings::SchedulerSettings;
use chrono::{DateTime, Utc};
use outreach_core::domain::IanaZone;
use serde::Deserialize;

use crate::error::{Error, Result};

const DEFAULT_WORKFLOWS: &str = include_str!("../../../config/workflows.toml");

/// Who a meeting reminder goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// The contacts and staff invited to the meeting (those with an email address).
    Participants,
    /// The staff member who owns the meeting.
    Owner,
}

/// Which end of a meeting a reminder counts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Anchor {
    #[default]
    Start,
    End,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReminder {
    name: String,
    before: String,
    #[serde(default)]
    anchor: Anchor,
    to: Vec<Audience>,
    effective_from: DateTime<Utc>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLead {
    name: String,
    #[serde(alias = "after")]
    before: String,
    effective_from: DateTime<Utc>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSchedule {
    name: String,
    cron: String,
    time_zone: String,
    job: String,
    effective_from: DateTime<Utc>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWorkflows {
    #[serde(default)]
    meeting_reminder: Vec<RawReminder>,
    outcome_nudge: Option<RawLead>,
    follow_up_reminder: Option<RawLead>,
    grant_report_reminder: Option<RawLead>,
    #[serde(default)]
    schedule: Vec<RawSchedule>,
}

/// A reminder relative to a meeting's start or end.
#[derive(Debug, Clone)]
pub struct MeetingRule {
    pub name: String,
    /// How long before the anchor the reminder fires.
    pub before: Duration,
    pub anchor: Anchor,
    pub to: Vec<Audience>,
    pub effective_from: DateTime<Utc>,
}

/// A rule that fires a fixed time before (or after) a date: follow-ups, grant reports, outcome nudges.
#[derive(Debug, Clone)]
pub struct LeadRule {
    pub name: String,
    pub lead: Duration,
    pub effective_from: DateTime<Utc>,
}

/// What a cron schedule enqueues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScheduledJob {
    /// The weekly digest for every staff member with an email address.
    WeeklyDigest,
    /// Plans reminders for new rules and dates: follow-ups, grant reports, outcome nudges.
    Sweep,
}

/// A cron schedule in an IANA zone.
#[derive(Debug, Clone)]
pub struct CronRule {
    pub name: String,
    pub cron: cron::Schedule,
    pub zone: IanaZone,
    pub job: ScheduledJob,
    pub effective_from: DateTime<Utc>,
}

/// All rules and schedules.
#[derive(Debug, Clone)]
pub struct Workflows {
    pub meeting_reminders: Vec<MeetingRule>,
    pub outcome_nudge: Option<LeadRule>,
    pub follow_up_reminder: Option<LeadRule>,
    pub grant_report_reminder: Option<LeadRule>,
    pub schedules: Vec<CronRule>,
    /// Attempts every job planned under these workflows gets before it is dead-lettered
    /// (`scheduler.max_attempts`; 5 when the workflows are read on their own).
    pub max_attempts: i32,
}

fn duration(rule: &str, field: &str, given: &str) -> Result<Duration> {
    humantime::parse_duration(given).map_err(|_| {
        Error::Workflows(format!(
            "rule '{rule}': {field} = \"{given}\" is not a duration; write it as 7d, 1d, 2h or 30m"
        ))
    })
}

fn lead(raw: Option<RawLead>) -> Result<Option<LeadRule>> {
    raw.map(|r| {
        Ok(LeadRule {
            lead: duration(&r.name, "before", &r.before)?,
            name: r.name,
            effective_from: r.effective_from,
        })
    })
    .transpose()
}

/// Attempts a job gets when no setting says otherwise.
pub const DEFAULT_MAX_ATTEMPTS: i32 = 5;

impl Workflows {
    /// The workflows file the scheduler settings name (relative to `base`), with the settings'
    /// `max_attempts` for every job planned under them.
    ///
    /// # Errors
    /// [`Error::Workflows`] naming the rule and field at fault, or `scheduler.max_attempts`.
    pub fn from_settings(base: &Path, settings: &SchedulerSettings) -> Result<Self> {
        if settings.max_attempts < 1 {
            return Err(Error::Workflows(format!(
                "scheduler.max_attempts = {} gives a job no attempt; use 1 or more (the default is 5)",
                settings.max_attempts
            )));
        }
        let mut w = Self::load(&base.join(&settings.workflows_file))?;
        w.max_attempts = settings.max_attempts;
        Ok(w)
    }

    /// The workflows shipped with outreach (`config/workflows.toml`).
    ///
    /// # Errors
    /// Only if the shipped file is broken, which the tests rule out.
    pub fn builtin() -> Result<Self> {
        Self::parse(DEFAULT_WORKFLOWS)
    }

    /// Reads the workflows file at `path`, or the shipped one when there is no such file.
    ///
    /// # Errors
    /// [`Error::Workflows`] naming the rule and field at fault.
    pub fn load(path: &Path) -> Result<Self> {
        if path.is_file() {
            let text = std::fs::read_to_string(path)
                .map_err(|e| Error::Workflows(format!("cannot read {}: {e}", path.display())))?;
            Self::parse(&text).map_err(|e| Error::Workflows(format!("{}: {e}", path.display())))
        } else {
            Self::builtin()
        }
    }

    /// # Errors
    /// [`Error::Workflows`] naming the rule and field at fault.
    pub fn parse(text: &str) -> Result<Self> {
        use figment::providers::Format;
        let raw: RawWorkflows = figment::Figment::from(figment::providers::Toml::string(text))
            .extract()
            .map_err(|e| Error::Workflows(e.to_string()))?;
        let mut names = std::collections::HashSet::new();
        let mut meeting_reminders = Vec::new();
        for r in raw.meeting_reminder {
            if !names.insert(r.name.clone()) {
                return Err(Error::Workflows(format!(
                    "two rules are named '{}'",
                    r.name
                )));
            }
            if r.to.is_empty() {
                return Err(Error::Workflows(format!(
                    "rule '{}': to = [] reminds nobody; use [\"participants\", \"owner\"]",
                    r.name
                )));
            }
            meeting_reminders.push(MeetingRule {
                before: duration(&r.name, "before", &r.before)?,
                name: r.name,
                anchor: r.anchor,
                to: r.to,
                effective_from: r.effective_from,
            });
        }
        let mut schedules = Vec::new();
        for s in raw.schedule {
            if !names.insert(s.name.clone()) {
                return Err(Error::Workflows(format!(
                    "two rules are named '{}'",
                    s.name
                )));
            }
            let cron = cron::Schedule::from_str(&s.cron).map_err(|e| {
                Error::Workflows(format!(
                    "schedule '{}': cron = \"{}\" is not a cron expression ({e}); \
                     write seconds first, e.g. \"0 0 8 * * Mon\" for Mondays at 08:00",
                    s.name, s.cron
                ))
            })?;
            let zone = IanaZone::parse("time_zone", &s.time_zone)
                .map_err(|e| Error::Workflows(format!("schedule '{}': {e}", s.name)))?;
            let job = match s.job.as_str() {
                "weekly_digest" => ScheduledJob::WeeklyDigest,
                "sweep" => ScheduledJob::Sweep,
                other => {
                    return Err(Error::Workflows(format!(
                        "schedule '{}': job = \"{other}\" is unknown; use weekly_digest or sweep",
                        s.name
                    )));
                }
            };
            schedules.push(CronRule {
                name: s.name,
                cron,
                zone,
                job,
                effective_from: s.effective_from,
            });
        }
        Ok(Self {
            meeting_reminders,
            outcome_nudge: lead(raw.outcome_nudge)?,
            follow_up_reminder: lead(raw.follow_up_reminder)?,
            grant_report_reminder: lead(raw.grant_report_reminder)?,
            schedules,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_workflows_parse() {
        let w = Workflows::builtin().unwrap();
        assert!(w.meeting_reminders.len() >= 3);
        assert!(
            w.schedules
                .iter()
                .any(|s| s.job == ScheduledJob::WeeklyDigest)
        );
        assert!(w.schedules.iter().any(|s| s.job == ScheduledJob::Sweep));
    }

    #[test]
    fn mistakes_name_the_rule_and_field() {
        let bad = "[[meeting_reminder]]\nname = \"x\"\nbefore = \"soon\"\nto = [\"owner\"]\neffective_from = \"2026-01-01T00:00:00Z\"\n";
        let err = Workflows::parse(bad).unwrap_err().to_string();
        assert!(err.contains("rule 'x': before = \"soon\""), "{err}");
        let bad = "[[schedule]]\nname = \"d\"\ncron = \"every monday\"\ntime_zone = \"Europe/Paris\"\njob = \"weekly_digest\"\neffective_from = \"2026-01-01T00:00:00Z\"\n";
        let err = Workflows::parse(bad).unwrap_err().to_string();
        assert!(err.contains("schedule 'd': cron"), "{err}");
        let bad = "[[meeting_reminder]]\nname = \"x\"\nbefore = \"1d\"\nto = [\"owner\"]\n";
        let err = Workflows::parse(bad).unwrap_err().to_string();
        assert!(err.contains("effective_from"), "{err}");
    }
}
