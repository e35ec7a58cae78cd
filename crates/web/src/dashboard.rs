//! The dashboard: the states not party to a treaty as of a date, least recently engaged first,
//! sortable by column and filterable by name, code and status. A bad filter value is shown beside
//! its field and the page falls back to the default, so the dashboard always opens.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::response::Response;
use outreach_core::domain::Stance;
use outreach_core::domain::parse_date;
use outreach_core::stance::StanceFilter;
use outreach_core::status::Status;
use outreach_core::views::{AttentionRow, NextMeeting};
use outreach_core::{signals, states, views};
use serde::{Deserialize, Serialize};

use crate::pages::{Choice, Page};
use crate::routing::Routes;
use crate::{AppState, PageResult, User};

pub fn routes() -> Routes {
    crate::page_routes! {
        "/" => get(dashboard),
    }
}

#[derive(Debug, Default, Deserialize)]
struct DashboardQuery {
    sort: Option<String>,
    q: Option<String>,
    status: Option<String>,
    stance: Option<String>,
    treaty: Option<String>,
    at: Option<String>,
}

/// The columns the list can be sorted by, with their header labels.
const SORTS: &[(&str, &str)] = &[
    ("name", "State"),
    ("status", "Status"),
    ("days", "Days since engaged"),
    ("next", "Next meeting"),
    ("stance", "Stance"),
];

/// Percent-encodes a query-string value.
pub(crate) fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn status_filter(given: &str) -> Result<Option<Status>, String> {
    match given
        .trim()
        .to_lowercase()
        .replace(['-', ' '], "_")
        .as_str()
    {
        "" | "all" => Ok(None),
        "signatory" => Ok(Some(Status::Signatory)),
        "not_party" => Ok(Some(Status::NotParty)),
        "withdrawn" => Ok(Some(Status::Withdrawn)),
        _ => Err(format!(
            "'{given}' is not a status of a state not party; choose signatory, not party or withdrawn"
        )),
    }
}

fn sort_rows(rows: &mut [AttentionRow], sort: &str) {
    match sort {
        "name" => rows.sort_by(|a, b| a.name.cmp(&b.name)),
        "status" => rows.sort_by(|a, b| {
            a.status
                .label()
                .cmp(b.status.label())
                .then_with(|| a.name.cmp(&b.name))
        }),
        "next" => rows.sort_by(|a, b| {
            let key = |r: &AttentionRow| r.next_meeting.as_ref().map(|m| m.starts_at);
            match (key(a), key(b)) {
                (Some(x), Some(y)) => x.cmp(&y),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            }
            .then_with(|| a.name.cmp(&b.name))
        }),
        "stance" => views::AttentionSort::Stance.apply(rows),
        // "days": the core's order, never engaged and longest ago first.
        _ => {}
    }
}

async fn dashboard(
    State(app): State<Arc<AppState>>,
    user: User,
    Query(query): Query<DashboardQuery>,
) -> PageResult<Response> {
    let today = user.today();
    let mut errors = Errors::default();

    let at_given = query.at.clone().unwrap_or_default();
    let at = match at_given.trim() {
        "" => today,
        d => match parse_date("at", d) {
            Ok(d) => d,
            Err(e) => {
                errors.at = Some(message_of(&e));
                today
            }
        },
    };

    let treaties = states::treaties(&app.db).await?;
    let treaty_given = query.treaty.clone().unwrap_or_default();
    let treaty = match treaty_given.trim() {
        "" => app.treaty.clone(),
        t => match states::resolve_treaty(&app.db, t).await {
            Ok(t) => t.code,
            Err(e) => {
                errors.treaty = Some(message_of(&e));
                app.treaty.clone()
            }
        },
    };

    let status_given = query.status.clone().unwrap_or_default();
    let status = status_filter(&status_given).unwrap_or_else(|m| {
        errors.status = Some(m);
        None
    });
    let sort = match query.sort.as_deref().map(str::trim) {
        Some(s @ ("name" | "status" | "next" | "days" | "stance")) => s.to_owned(),
        _ => "days".to_owned(),
    };
    let stance_given = query.stance.clone().unwrap_or_default();
    let stance_filter = StanceFilter::parse("stance", &stance_given).unwrap_or_else(|e| {
        errors.stance = Some(message_of(&e));
        None
    });
    let text = query.q.clone().unwrap_or_default();
    let needle = text.trim().to_lowercase();

    let mut rows = views::attention(&app.db, &treaty, at, &user.reader).await?;
    let glance = signals::at_a_glance(&app.db, at).await?;
    let total = rows.len();
    rows.retain(|r| {
        status.is_none_or(|s| r.status == s)
            && stance_filter
                .as_ref()
                .is_none_or(|f| f.matches(r.stance.as_deref()))
            && (needle.is_empty()
                || r.name.to_lowercase().contains(&needle)
                || r.iso3.to_lowercase().contains(&needle))
    });
    sort_rows(&mut rows, &sort);

    let keep = |sort: &str| {
        let mut parts = vec![format!("sort={sort}")];
        for (k, v) in [
            ("q", text.trim()),
            ("status", status_given.trim()),
            ("stance", stance_given.trim()),
            ("treaty", treaty_given.trim()),
            ("at", at_given.trim()),
        ] {
            if !v.is_empty() {
                parts.push(format!("{k}={}", enc(v)));
            }
        }
        format!("/?{}", parts.join("&"))
    };
    let column = |k: &str| {
        let label = SORTS
            .iter()
            .find(|(key, _)| *key == k)
            .map_or(k, |(_, l)| *l);
        Column {
            key: k.to_owned(),
            label: label.to_owned(),
            href: keep(k),
            active: k == sort,
        }
    };
    let choice =
        |value: &str, label: &str, s: Option<Status>| Choice::new(value, label, status == s);
    let treaty_for_csv = treaty.clone();
    let page = DashboardPage {
        today: today.to_string(),
        at: at.to_string(),
        at_value: if errors.at.is_none() {
            at.to_string()
        } else {
            at_given.clone()
        },
        treaties: treaties
            .iter()
            .map(|t| TreatyChoice {
                code: t.code.clone(),
                name: t.short_name.clone(),
                selected: t.code == treaty,
            })
            .collect(),
        treaty,
        q: text.clone(),
        status_options: vec![
            choice("", "any", None),
            choice("signatory", "signatory", Some(Status::Signatory)),
            choice("not_party", "not party", Some(Status::NotParty)),
            choice("withdrawn", "withdrawn", Some(Status::Withdrawn)),
        ],
        col_name: column("name"),
        col_status: column("status"),
        col_days: column("days"),
        col_next: column("next"),
        col_stance: column("stance"),
        stance_options: std::iter::once(("", "any"))
            .chain(Stance::ALL.iter().map(|s| (s.as_str(), s.as_str())))
            .chain(std::iter::once(("none", "none on record")))
            .map(|(value, label)| {
                let selected = stance_given.trim().eq_ignore_ascii_case(value);
                Choice::new(value, label, selected)
            })
            .collect(),
        sort: sort.clone(),
        errors,
        count: rows.len(),
        total,
        filtered: rows.len() != total,
        csv_href: format!(
            "/export/attention.csv?treaty={}&at={}&stance={}&status={}&q={}",
            enc(&treaty_for_csv),
            enc(&at.to_string()),
            enc(stance_given.trim()),
            enc(status.map_or("", |s| s.as_str())),
            enc(text.trim())
        ),
        rows: rows
            .into_iter()
            .map(|r| {
                let g = glance.get(&r.iso3);
                DashboardRow {
                    status: r.status.label().to_owned(),
                    status_key: r.status.as_str().to_owned(),
                    last_engagement: r.last_engagement.map(|d| d.to_string()),
                    last_kind: r.last_engagement_kind.as_ref().map(|k| k.replace('_', " ")),
                    days: r.days_since_last_engagement.map(|d| d.to_string()),
                    grantees: r.grantees.join(", "),
                    open_follow_ups: r.open_follow_ups,
                    overdue_follow_ups: r.overdue_follow_ups,
                    signals: g.map_or(0, |g| g.count),
                    latest_signal: g.map(|g| LatestSignal {
                        kind: g.latest_kind.replace('_', " "),
                        date: g.latest_date.to_string(),
                    }),
                    next_meeting: r.next_meeting,
                    stance: r.stance,
                    iso3: r.iso3,
                    name: r.name,
                }
            })
            .collect(),
    };
    Ok(app.render_page(&user, &page))
}

/// The dashboard: the states not party under a treaty on a date, filtered and sorted.
#[derive(Debug, Serialize)]
pub struct DashboardPage {
    pub today: String,
    pub at: String,
    /// What the date field shows: the date used, or what was typed when it was refused.
    pub at_value: String,
    pub treaty: String,
    pub treaties: Vec<TreatyChoice>,
    pub q: String,
    pub status_options: Vec<Choice>,
    pub stance_options: Vec<Choice>,
    pub sort: String,
    pub col_name: Column,
    pub col_status: Column,
    pub col_days: Column,
    pub col_next: Column,
    pub col_stance: Column,
    pub errors: Errors,
    pub count: usize,
    pub total: usize,
    pub filtered: bool,
    /// The list as CSV, with the same filters.
    pub csv_href: String,
    pub rows: Vec<DashboardRow>,
}

#[derive(Debug, Default, Serialize)]
pub struct Errors {
    pub at: Option<String>,
    pub treaty: Option<String>,
    pub status: Option<String>,
    pub stance: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct TreatyChoice {
    pub code: String,
    pub name: String,
    pub selected: bool,
}

/// A column heading that sorts the table, keeping the filters.
#[derive(Debug, Serialize)]
pub struct Column {
    pub key: String,
    pub label: String,
    pub href: String,
    pub active: bool,
}

/// A row of the attention list (`views::AttentionRow`) as the dashboard shows it: status and
/// kinds in words, the signals at a glance beside it. The next meeting is the view's own.
#[derive(Debug, Serialize)]
pub struct DashboardRow {
    pub iso3: String,
    pub name: String,
    pub status: String,
    pub status_key: String,
    pub last_engagement: Option<String>,
    pub last_kind: Option<String>,
    pub days: Option<String>,
    pub next_meeting: Option<NextMeeting>,
    pub grantees: String,
    pub open_follow_ups: usize,
    pub overdue_follow_ups: usize,
    pub signals: usize,
    pub latest_signal: Option<LatestSignal>,
    /// The current stance as the reader may know it.
    pub stance: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct LatestSignal {
    pub kind: String,
    pub date: String,
}

impl Page for DashboardPage {
    const TEMPLATE: &'static str = "dashboard";
    fn sample() -> Self {
        let column = |key: &str| Column {
            key: key.into(),
            label: "State".into(),
            href: "/?sort=name".into(),
            active: true,
        };
        Self {
            today: "2026-12-07".into(),
            at: "2026-12-07".into(),
            at_value: "2026-12-07".into(),
            treaty: "APMBC".into(),
            treaties: vec![TreatyChoice {
                code: "APMBC".into(),
                name: "Mine Ban Treaty".into(),
                selected: true,
            }],
            q: "nep".into(),
            status_options: vec![Choice::sample()],
            stance_options: vec![Choice::sample()],
            sort: "name".into(),
            col_name: column("name"),
            col_status: column("status"),
            col_days: column("days"),
            col_next: column("next"),
            col_stance: column("stance"),
            errors: Errors {
                at: Some("not a date".into()),
                treaty: Some("no such treaty".into()),
                status: Some("not a status".into()),
                stance: Some("not a stance".into()),
            },
            count: 1,
            total: 2,
            filtered: true,
            csv_href: "/export/attention.csv?treaty=APMBC".into(),
            rows: vec![DashboardRow {
                iso3: "NPL".into(),
                name: "Nepal".into(),
                status: "not party".into(),
                status_key: "not_party".into(),
                last_engagement: Some("2026-11-02".into()),
                last_kind: Some("embassy visit".into()),
                days: Some("35".into()),
                next_meeting: Some(NextMeeting {
                    id: uuid::Uuid::nil(),
                    title: "Meeting with the Foreign Ministry".into(),
                    starts_at: chrono::DateTime::UNIX_EPOCH,
                    time_zone: "Asia/Kathmandu".into(),
                    local_start: "2026-12-10 10:00".into(),
                }),
                grantees: "Nepal Campaign to Ban Landmines".into(),
                open_follow_ups: 2,
                overdue_follow_ups: 1,
                signals: 3,
                latest_signal: Some(LatestSignal {
                    kind: "unga vote".into(),
                    date: "2026-11-05".into(),
                }),
                stance: Some("open".into()),
            }],
        }
    }
}

/// The message of a core error without the field name the page already shows beside it.
pub(crate) fn message_of(e: &outreach_core::Error) -> String {
    match e {
        outreach_core::Error::Invalid { message, .. } => message.clone(),
        other => other.to_string(),
    }
}
