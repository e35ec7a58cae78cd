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
use serde_json::{Value, json};

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
    let mut data = serde_json::to_value(describe_rules(&app.workflows, &user))
        .map_err(|e| WebError::Internal(e.to_string()))?;
    let extra = json!({
        "file": app.scheduler.workflows_file,
        "can_manage": user.role >= Role::Coordinator,
        "chosen": chosen,
        "rule_choices": names.iter().map(|n| json!({
            "name": n, "selected": *n == chosen,
        })).collect::<Vec<_>>(),
        "dry_run": lines.iter().map(|l| json!({
            "rule": l.rule, "kind": l.kind, "meeting_id": l.meeting_id, "meeting": l.meeting,
            "subject": l.subject,
            "recipient": l.recipient, "email": l.email,
            "local_time": l.local_time, "time_zone": l.time_zone,
            "your_time": user.zone.local(l.fires_at).format("%Y-%m-%d %H:%M").to_string(),
            "would_fire": l.would_fire, "why": l.why,
        })).collect::<Vec<_>>(),
    });
    if let (Some(data), Value::Object(extra)) = (data.as_object_mut(), extra) {
        data.extend(extra);
    }
    Ok(app.render(&user, "rules", data))
}
