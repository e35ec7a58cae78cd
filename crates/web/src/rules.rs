//! The reminder rules and schedules the scheduler follows, and a dry run of the meeting rules:
//! who each would remind, when, in which zone, and why (nothing is written). The rules live in
//! the workflows file (`config/workflows.toml` by default), which every scheduler reads at start;
//! the page says where, for coordinators who change them.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::response::Response;
use outreach_scheduler::cronsched;
use outreach_scheduler::planner::{self, describe};
use outreach_scheduler::rules::Workflows;
use serde::{Deserialize, Serialize};

use crate::pages::Page;
use crate::routing::Routes;
use crate::{AppState, PageResult, Role, User, WebError};

pub fn routes() -> Routes {
    crate::page_routes! {
        "/rules" => get(rules_page),
    }
}

#[derive(Debug, Default, Deserialize)]
struct RulesQuery {
    rule: Option<String>,
}

fn lower<T: std::fmt::Debug>(v: &T) -> String {
    format!("{v:?}").to_lowercase()
}

/// A meeting reminder rule: how long before which moment, and to whom.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MeetingRuleView {
    pub name: String,
    /// "1 day", "2 hours"...
    pub before: String,
    /// What the lead is counted from: `start` of the meeting.
    pub anchor: String,
    /// Who is reminded: "owner", "participants", "owner and participants".
    pub to: String,
    /// From when the rule applies, in the reader's zone (YYYY-MM-DD HH:MM).
    pub effective_from: String,
}

/// A rule with a lead time of its own: the outcome nudge, follow-up and grant report reminders.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LeadRuleView {
    pub label: String,
    pub name: String,
    pub lead: String,
    pub what: String,
    pub effective_from: String,
}

/// A recurring job (digests, sweeps) and when it runs next, in the reader's zone.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ScheduleView {
    pub name: String,
    pub cron: String,
    /// The cron expression in words: "every Monday at 08:00", "every 15 minutes".
    pub when: String,
    pub time_zone: String,
    pub job: String,
    pub next: Option<String>,
    pub effective_from: String,
}

/// The rules and schedules the scheduler follows; with the API, the dry run of the meeting rules.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RulesView {
    pub meeting_reminders: Vec<MeetingRuleView>,
    pub lead_rules: Vec<LeadRuleView>,
    pub schedules: Vec<ScheduleView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dry_run: Option<Vec<planner::DryRunLine>>,
}

/// Every rule and schedule as the page and the API show them; times in `user`'s zone.
pub(crate) fn describe_rules(wf: &Workflows, user: &User) -> RulesView {
    let when = |at: chrono::DateTime<chrono::Utc>| {
        user.zone.local(at).format("%Y-%m-%d %H:%M").to_string()
    };
    let now = chrono::Utc::now();
    let leads = [
        (
            "Outcome nudge",
            "after a meeting with no outcome logged",
            &wf.outcome_nudge,
        ),
        (
            "Follow-up reminder",
            "before a follow-up is due",
            &wf.follow_up_reminder,
        ),
        (
            "Grant report reminder",
            "before a grant report is due",
            &wf.grant_report_reminder,
        ),
    ];
    RulesView {
        meeting_reminders: wf
            .meeting_reminders
            .iter()
            .map(|r| MeetingRuleView {
                name: r.name.clone(),
                before: r.describe_before(),
                anchor: lower(&r.anchor),
                to: r.to.iter().map(lower).collect::<Vec<_>>().join(" and "),
                effective_from: when(r.effective_from),
            })
            .collect(),
        lead_rules: leads
            .iter()
            .filter_map(|(label, what, rule)| {
                rule.as_ref().map(|r| LeadRuleView {
                    label: (*label).to_owned(),
                    name: r.name.clone(),
                    lead: describe(r.lead),
                    what: (*what).to_owned(),
                    effective_from: when(r.effective_from),
                })
            })
            .collect(),
        schedules: wf
            .schedules
            .iter()
            .map(|s| ScheduleView {
                name: s.name.clone(),
                cron: s.cron.source().to_owned(),
                when: cron_in_words(s.cron.source()),
                time_zone: s.zone.name().to_owned(),
                job: lower(&s.job),
                next: cronsched::next_after(&s.cron, s.zone, now.max(s.effective_from)).map(when),
                effective_from: when(s.effective_from),
            })
            .collect(),
        dry_run: None,
    }
}

async fn rules_page(
    State(app): State<Arc<AppState>>,
    user: User,
    Query(q): Query<RulesQuery>,
) -> PageResult<Response> {
    let chosen = q.rule.unwrap_or_default().trim().to_owned();
    let names = planner::rule_names(&app.workflows);
    if !chosen.is_empty() && !names.contains(&chosen) {
        return Err(WebError::invalid(
            "rule",
            format!(
                "'{chosen}' is not a reminder rule; the rules are {}",
                names.join(", ")
            ),
        ));
    }
    let lines = planner::dry_run(
        &app.db,
        &app.workflows,
        (!chosen.is_empty()).then_some(chosen.as_str()),
        chrono::Utc::now(),
    )
    .await
    .map_err(WebError::Scheduler)?;
    let page = RulesPage {
        rules: describe_rules(&app.workflows, &user),
        file: app.scheduler.workflows_file.clone(),
        can_manage: user.role >= Role::Coordinator,
        rule_choices: names
            .iter()
            .map(|n| RuleChoice {
                name: n.clone(),
                selected: *n == chosen,
            })
            .collect(),
        chosen,
        dry_run: lines
            .into_iter()
            .map(|l| DryRunRow {
                your_time: user
                    .zone
                    .local(l.fires_at)
                    .format("%Y-%m-%d %H:%M")
                    .to_string(),
                line: l,
            })
            .collect(),
    };
    Ok(app.render_page(&user, &page))
}

/// The rules page: the rules as the API describes them (`RulesView`), the workflows file they
/// come from, and the dry run of the meeting rules with each time also in the reader's zone.
#[derive(Debug, Serialize)]
pub struct RulesPage {
    #[serde(flatten)]
    pub rules: RulesView,
    pub file: String,
    pub can_manage: bool,
    pub chosen: String,
    pub rule_choices: Vec<RuleChoice>,
    pub dry_run: Vec<DryRunRow>,
}

#[derive(Debug, Serialize)]
pub struct RuleChoice {
    pub name: String,
    pub selected: bool,
}

/// A line of the dry run (`planner::DryRunLine`) and when it fires in the reader's zone.
#[derive(Debug, Serialize)]
pub struct DryRunRow {
    #[serde(flatten)]
    pub line: planner::DryRunLine,
    pub your_time: String,
}

impl Page for RulesPage {
    const TEMPLATE: &'static str = "rules";
    fn sample() -> Self {
        let when = "2026-12-07 10:00".to_owned();
        Self {
            rules: RulesView {
                meeting_reminders: vec![MeetingRuleView {
                    name: "week before".into(),
                    before: "7 days".into(),
                    anchor: "start".into(),
                    to: "owner and participants".into(),
                    effective_from: when.clone(),
                }],
                lead_rules: vec![LeadRuleView {
                    label: "Outcome nudge".into(),
                    name: "outcome".into(),
                    lead: "1 day".into(),
                    what: "after a meeting with no outcome logged".into(),
                    effective_from: when.clone(),
                }],
                schedules: vec![ScheduleView {
                    name: "digest".into(),
                    cron: "0 8 * * MON".into(),
                    when: "every Monday at 08:00".into(),
                    time_zone: "Europe/Geneva".into(),
                    job: "digest".into(),
                    next: Some(when.clone()),
                    effective_from: when.clone(),
                }],
                dry_run: None,
            },
            file: "config/workflows.toml".into(),
            can_manage: true,
            chosen: "week before".into(),
            rule_choices: vec![RuleChoice {
                name: "week before".into(),
                selected: true,
            }],
            dry_run: vec![DryRunRow {
                line: planner::DryRunLine {
                    rule: "week before".into(),
                    kind: "meeting_reminder".into(),
                    meeting_id: Some(uuid::Uuid::nil()),
                    meeting: "Meeting with the Foreign Ministry".into(),
                    subject: "Reminder".into(),
                    recipient: "sam".into(),
                    email: "sam@example.org".into(),
                    fires_at: chrono::DateTime::UNIX_EPOCH,
                    local_time: when.clone(),
                    time_zone: "Asia/Kathmandu".into(),
                    would_fire: true,
                    why: "due".into(),
                    skipped: vec![outreach_scheduler::workdays::SkippedDay {
                        date: chrono::NaiveDate::from_ymd_opt(2026, 12, 5).unwrap_or_default(),
                        weekday: "Sat".into(),
                        why: "weekend".into(),
                    }],
                },
                your_time: when,
            }],
        }
    }
}

/// A cron expression (seconds first, as the workflows file writes them; five fields are read as
/// starting at minutes) in words staff read: "every day at 08:00", "every Monday at 08:00",
/// "every weekday at 07:30", "every 15 minutes". What it cannot say simply it gives as written.
pub fn cron_in_words(source: &str) -> String {
    let fields: Vec<&str> = source.split_whitespace().collect();
    let (sec, min, hour, dom, mon, dow) = match fields.as_slice() {
        [s, m, h, d, mo, w] => (*s, *m, *h, *d, *mo, *w),
        [m, h, d, mo, w] => ("0", *m, *h, *d, *mo, *w),
        _ => return format!("on the schedule {source}"),
    };
    let fallback = || format!("on the schedule {source}");
    let number = |f: &str, max: u32| f.parse::<u32>().ok().filter(|n| *n <= max);
    let day = |d: &str| -> Option<&'static str> {
        Some(match d.to_lowercase().as_str() {
            "0" | "7" | "sun" | "sunday" => "Sunday",
            "1" | "mon" | "monday" => "Monday",
            "2" | "tue" | "tuesday" => "Tuesday",
            "3" | "wed" | "wednesday" => "Wednesday",
            "4" | "thu" | "thursday" => "Thursday",
            "5" | "fri" | "friday" => "Friday",
            "6" | "sat" | "saturday" => "Saturday",
            _ => return None,
        })
    };
    if sec != "0" || dom != "*" || mon != "*" {
        return fallback();
    }
    // "every N minutes" / "every minute".
    if hour == "*" && dow == "*" {
        if min == "*" {
            return "every minute".to_owned();
        }
        if let Some(n) = min.strip_prefix("*/").and_then(|n| number(n, 59)) {
            return format!("every {n} minutes");
        }
        if let Some(m) = number(min, 59) {
            return format!("every hour at {m} minutes past");
        }
        return fallback();
    }
    let (Some(h), Some(m)) = (number(hour, 23), number(min, 59)) else {
        return fallback();
    };
    let at = format!("{h:02}:{m:02}");
    let days = match dow.to_lowercase().as_str() {
        "*" => "every day".to_owned(),
        "mon-fri" | "1-5" => "every weekday".to_owned(),
        "sat,sun" | "sun,sat" | "0,6" | "6,0" => "every weekend day".to_owned(),
        list => {
            let names: Option<Vec<&str>> = list.split(',').map(day).collect();
            match names.as_deref() {
                Some([one]) => format!("every {one}"),
                Some(many) if !many.is_empty() => {
                    let (last, rest) = many.split_last().unwrap_or((&"", &[]));
                    format!("every {} and {last}", rest.join(", "))
                }
                _ => return fallback(),
            }
        }
    };
    format!("{days} at {at}")
}

#[cfg(test)]
mod words {
    use super::cron_in_words;

    #[test]
    fn cron_expressions_read_in_words() {
        for (cron, words) in [
            ("0 0 8 * * Mon", "every Monday at 08:00"),
            ("0 */15 * * * *", "every 15 minutes"),
            ("0 30 7 * * Mon-Fri", "every weekday at 07:30"),
            ("0 0 9 * * *", "every day at 09:00"),
            ("0 0 9 * * Mon,Thu", "every Monday and Thursday at 09:00"),
            ("0 5 * * * *", "every hour at 5 minutes past"),
            ("0 8 * * MON", "every Monday at 08:00"),
            ("0 0 8 1 * *", "on the schedule 0 0 8 1 * *"),
            ("nonsense", "on the schedule nonsense"),
        ] {
            assert_eq!(cron_in_words(cron), words, "{cron}");
        }
    }
}
