//! The reminder rules and schedules the scheduler follows, and a dry run of the meeting rules:
//! who each would remind, when, in which zone, and why (nothing is written). The rules live in
//! the workflows file (`config/workflows.toml` by default), which every scheduler reads at start;
//! the page says where, for coordinators who change them.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use outreach_scheduler::cronsched;
use outreach_scheduler::planner::{self, describe};
use outreach_scheduler::rules::Workflows;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{AppState, PageResult, Role, User, WebError};

pub fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/rules", get(rules_page))
}

#[derive(Debug, Default, Deserialize)]
struct RulesQuery {
    rule: Option<String>,
}

fn lower<T: std::fmt::Debug>(v: &T) -> String {
    format!("{v:?}").to_lowercase()
}

/// Every rule and schedule as the page and the API show them; times in `user`'s zone.
pub(crate) fn describe_rules(wf: &Workflows, user: &User) -> Value {
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
    json!({
        "meeting_reminders": wf.meeting_reminders.iter().map(|r| json!({
            "name": r.name, "before": describe(r.before), "anchor": lower(&r.anchor),
            "to": r.to.iter().map(lower).collect::<Vec<_>>().join(" and "),
            "effective_from": when(r.effective_from),
        })).collect::<Vec<_>>(),
        "lead_rules": leads.iter().filter_map(|(label, what, rule)| rule.as_ref().map(|r| json!({
            "label": label, "name": r.name, "lead": describe(r.lead), "what": what,
            "effective_from": when(r.effective_from),
        }))).collect::<Vec<_>>(),
        "schedules": wf.schedules.iter().map(|s| json!({
            "name": s.name, "cron": s.cron.source(), "time_zone": s.zone.name(),
            "job": lower(&s.job),
            "next": cronsched::next_after(&s.cron, s.zone, now.max(s.effective_from)).map(when),
            "effective_from": when(s.effective_from),
        })).collect::<Vec<_>>(),
    })
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
    let mut data = describe_rules(&app.workflows, &user);
    let extra = json!({
        "file": app.settings.scheduler.workflows_file,
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
