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
use serde::{Deserialize, Serialize};

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

/// Whose working days a "N working days" reminder counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CalendarOf {
    /// The weekend and holidays of the meeting's state, in the meeting's zone.
    #[default]
    Meeting,
    /// The weekend and holidays of each recipient's state (a contact's state on record; the
    /// meeting's state for staff and contacts without one), in the recipient's zone.
    Recipient,
}

/// A lead counted in working days rather than hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkingDays {
    pub days: u32,
    pub calendar: CalendarOf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReminder {
    name: String,
    before: String,
    #[serde(default)]
    anchor: Anchor,
    calendar: Option<CalendarOf>,
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
    /// How long before the anchor the reminder fires. For a rule in working days, the same
    /// number of whole days: the least the lead can be (the planner counts the real day).
    pub before: Duration,
    /// Set when the rule counts working days ("2 working days"): the day is found by passing
    /// over the weekend and holidays of the calendar named, at the anchor's local time of day.
    pub working_days: Option<WorkingDays>,
    pub anchor: Anchor,
    pub to: Vec<Audience>,
    pub effective_from: DateTime<Utc>,
}

impl MeetingRule {
    /// "7 days", "2 hours", "2 working days (the meeting's state)".
    pub fn describe_before(&self) -> String {
        match self.working_days {
            Some(w) => format!(
                "{} working day{} ({})",
                w.days,
                if w.days == 1 { "" } else { "s" },
                match w.calendar {
                    CalendarOf::Meeting => "the meeting's state",
                    CalendarOf::Recipient => "each recipient's state",
                }
            ),
            None => crate::planner::describe(self.before),
        }
    }
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
    if working_days(rule, field, given)?.is_some() {
        return Err(Error::Workflows(format!(
            "rule '{rule}': {field} = \"{given}\": working days are for meeting reminders only; \
             write this rule's lead as 7d, 1d, 2h or 30m"
        )));
    }
    humantime::parse_duration(given).map_err(|_| {
        Error::Workflows(format!(
            "rule '{rule}': {field} = \"{given}\" is not a duration; write it as 7d, 1d, 2h or 30m \
             (or, for a meeting reminder, \"2 working days\")"
        ))
    })
}

/// The most working days a rule may count back: a year's worth.
const MAX_WORKING_DAYS: u32 = 260;

/// `Some(n)` when `given` reads "N working days" (or "1 working day"; "before" may follow).
fn working_days(rule: &str, field: &str, given: &str) -> Result<Option<u32>> {
    let lower = given.to_lowercase();
    let words: Vec<&str> = lower.split_whitespace().collect();
    let words = match words.as_slice() {
        [rest @ .., "before"] => rest,
        all => all,
    };
    let [n, "working", "day" | "days"] = words else {
        return Ok(None);
    };
    match n.parse::<u32>() {
        Ok(n) if (1..=MAX_WORKING_DAYS).contains(&n) => Ok(Some(n)),
        _ => Err(Error::Workflows(format!(
            "rule '{rule}': {field} = \"{given}\": the number of working days must be a whole \
             number from 1 to {MAX_WORKING_DAYS}, as in \"2 working days\""
        ))),
    }
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
            let (before, working) = match working_days(&r.name, "before", &r.before)? {
                Some(days) => (
                    Duration::from_secs(u64::from(days) * 86_400),
                    Some(WorkingDays {
                        days,
                        calendar: r.calendar.unwrap_or_default(),
                    }),
                ),
                None => {
                    if let Some(c) = r.calendar {
                        let days = humantime::parse_duration(&r.before)
                            .ok()
                            .map(|d| d.as_secs() / 86_400)
                            .filter(|d| *d > 0)
                            .unwrap_or(2);
                        return Err(Error::Workflows(format!(
                            "rule '{}': calendar = \"{}\" applies to working days only; write \
                             before = \"{days} working days\", or remove calendar",
                            r.name,
                            if c == CalendarOf::Meeting {
                                "meeting"
                            } else {
                                "recipient"
                            },
                        )));
                    }
                    (duration(&r.name, "before", &r.before)?, None)
                }
            };
            if working.is_some() {
                // Checked now, so a broken calendar stops the scheduler at start, not a plan.
                crate::workdays::Calendars::builtin()?;
            }
            meeting_reminders.push(MeetingRule {
                before,
                working_days: working,
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

    fn reminder(before: &str, extra: &str) -> Result<Workflows> {
        Workflows::parse(&format!(
            "[[meeting_reminder]]\nname = \"w\"\nbefore = \"{before}\"\n{extra}to = [\"owner\"]\n\
             effective_from = \"2026-01-01T00:00:00Z\"\n"
        ))
    }

    #[test]
    fn working_days_are_read_with_their_calendar() {
        for (before, extra, days, calendar) in [
            ("2 working days", "", 2, CalendarOf::Meeting),
            ("1 working day", "", 1, CalendarOf::Meeting),
            (
                "3 Working Days before",
                "calendar = \"recipient\"\n",
                3,
                CalendarOf::Recipient,
            ),
            (
                "2 working days",
                "calendar = \"meeting\"\n",
                2,
                CalendarOf::Meeting,
            ),
        ] {
            let w = reminder(before, extra).unwrap();
            let r = &w.meeting_reminders[0];
            assert_eq!(
                r.working_days,
                Some(WorkingDays { days, calendar }),
                "{before}"
            );
            assert_eq!(r.before, Duration::from_secs(u64::from(days) * 86_400));
        }
        let w = reminder("2 working days", "").unwrap();
        assert_eq!(
            w.meeting_reminders[0].describe_before(),
            "2 working days (the meeting's state)"
        );
        let w = reminder("2d", "").unwrap();
        assert_eq!(w.meeting_reminders[0].working_days, None);
        assert_eq!(w.meeting_reminders[0].describe_before(), "2 days");
    }

    #[test]
    fn working_day_mistakes_say_how_to_write_them() {
        for (before, extra, expected) in [
            (
                "0 working days",
                "",
                "rule 'w': before = \"0 working days\": the number of working days must be a whole number from 1",
            ),
            (
                "two working days",
                "",
                "must be a whole number from 1 to 260",
            ),
            ("soon", "", "or, for a meeting reminder, \"2 working days\""),
            (
                "2d",
                "calendar = \"recipient\"\n",
                "calendar = \"recipient\" applies to working days only; write before = \"2 working days\"",
            ),
            ("2 working days", "calendar = \"embassy\"\n", "calendar"),
        ] {
            let err = reminder(before, extra).unwrap_err().to_string();
            assert!(err.contains(expected), "expected '{expected}' in: {err}");
        }
        let bad = "[follow_up_reminder]\nname = \"f\"\nbefore = \"2 working days\"\neffective_from = \"2026-01-01T00:00:00Z\"\n";
        let err = Workflows::parse(bad).unwrap_err().to_string();
        assert!(
            err.contains("working days are for meeting reminders only"),
            "{err}"
        );
    }
}
