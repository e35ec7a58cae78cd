//! Meetings: the list (upcoming and recent), a calendar of one week, the form that schedules one,
//! and each meeting's page with its reminders and what became of them (planned, sent,
//! superseded, cancelled, failed and why), where it is rescheduled, cancelled or marked held.
//!
//! Writes go through the scheduler's planner, which plans the reminders in the same transaction
//! as the change; times are typed in the meeting's own zone and shown in it and in the user's.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use outreach_core::domain::{EngagementKind, IanaZone, MeetingStatus, Stance};
use outreach_core::entities::state;
use outreach_core::meetings::{self, MeetingInput, MeetingView};
use outreach_scheduler::{ledger, planner};
use serde::{Deserialize, Serialize};

use crate::pages::{Choice, FieldErrors, Page};
use crate::routing::Routes;
use crate::{AppState, PageResult, User, WebError};

pub fn routes() -> Routes {
    crate::page_routes! {
        "/meetings" => get(list).post(create),
        "/meetings/week" => get(week),
        "/meetings/new" => get(new_form),
        "/meetings/{id}" => get(show),
        "/meetings/{id}/reschedule" => post(reschedule),
        "/meetings/{id}/cancel" => post(cancel),
        "/meetings/{id}/held" => post(held),
    }
}

/// Time zones offered as suggestions in the forms (any IANA zone is accepted).
const COMMON_ZONES: &[&str] = &[
    "UTC",
    "Europe/Zurich",
    "Europe/Paris",
    "Europe/London",
    "Europe/Brussels",
    "Europe/Vienna",
    "America/New_York",
    "America/Bogota",
    "America/Sao_Paulo",
    "Africa/Nairobi",
    "Africa/Lagos",
    "Africa/Johannesburg",
    "Africa/Cairo",
    "Asia/Kathmandu",
    "Asia/Kolkata",
    "Asia/Bangkok",
    "Asia/Jakarta",
    "Asia/Tokyo",
    "Asia/Dubai",
    "Australia/Sydney",
    "Pacific/Auckland",
];

/// A scheduler error as the web answers it: the core error inside, so a bad field is a 400 that
/// names the field, not an internal error.
fn from_scheduler(e: outreach_scheduler::Error) -> WebError {
    match e {
        outreach_scheduler::Error::Core(c) => WebError::Core(c),
        other => WebError::Scheduler(other),
    }
}

/// The form field a library error is about, with the message to show beside it; `None` for
/// errors that are not the user's input (shown as an error page).
fn field_error(e: &WebError) -> Option<(String, String)> {
    use outreach_core::Error as C;
    let (field, message) = match e {
        WebError::Core(C::Invalid { field, message }) | WebError::Invalid { field, message } => {
            (field.as_str(), message.clone())
        }
        WebError::Core(C::UnknownState { .. }) => ("state", e.to_string()),
        WebError::Core(C::NotFound {
            what: "contact", ..
        })
        | WebError::Core(C::Ambiguous {
            what: "contact", ..
        }) => ("participants", e.to_string()),
        WebError::Core(C::Conflict(m)) => ("form", m.clone()),
        _ => return None,
    };
    let field = match field {
        "at" => "start",
        "tz" => "time_zone",
        "place" => "location",
        "with" => "participants",
        "date" => "form",
        other => other,
    };
    Some((field.to_owned(), message))
}

/// `{field: null}` for each field, with the given errors filled in (strict templates need every
/// key present).
fn errors_for(fields: &[&str], errors: &[(String, String)]) -> FieldErrors {
    let mut map = FieldErrors::new(fields);
    for (f, m) in errors {
        map.set(f, m.clone());
    }
    map
}

fn zone_of(name: &str) -> IanaZone {
    IanaZone::parse("time_zone", name).unwrap_or(IanaZone::UTC)
}

fn fmt_in(zone: IanaZone, at: DateTime<Utc>) -> String {
    zone.local(at).format("%Y-%m-%d %H:%M").to_string()
}

/// A meeting as the pages show it.
fn meeting_data(m: &MeetingView, user: &User) -> MeetingDetail {
    let zone = zone_of(&m.time_zone);
    let end = m.starts_at + Duration::minutes(i64::from(m.duration_minutes));
    let other_zone = m.time_zone != user.zone.name();
    MeetingDetail {
        id: m.id.to_string(),
        short_id: outreach_core::ids::short(m.id),
        iso3: m.iso3.clone(),
        state: m.state.clone(),
        subject: m.title.clone(),
        status: m.status.clone(),
        is_planned: m.status == MeetingStatus::Planned.as_str(),
        version: m.version,
        time_zone: m.time_zone.clone(),
        local_start: m.local_start.clone(),
        local_end: fmt_in(zone, end),
        start_input: zone.local(m.starts_at).format("%Y-%m-%dT%H:%M").to_string(),
        user_start: other_zone.then(|| m.reader_start.clone()),
        user_end: other_zone.then(|| fmt_in(user.zone, end)),
        user_zone: user.zone.name().to_owned(),
        user_date: user.zone.local(m.starts_at).date_naive().to_string(),
        utc_start: m.starts_at.format("%Y-%m-%d %H:%M").to_string(),
        duration_minutes: m.duration_minutes,
        place: m.place.clone(),
        owner: m.owner.clone(),
        participants: m.participants.join(", "),
    }
}

/// A meeting (`meetings::MeetingView`) as its pages show it: the title as `subject`, its end,
/// its times in the reader's zone (only when that differs from the meeting's), in UTC and as
/// the value of a date-time field.
#[derive(Debug, Clone, Serialize)]
pub struct MeetingDetail {
    pub id: String,
    pub short_id: String,
    pub iso3: String,
    pub state: String,
    pub subject: String,
    pub status: String,
    pub is_planned: bool,
    pub version: i32,
    pub time_zone: String,
    pub local_start: String,
    pub local_end: String,
    pub start_input: String,
    pub user_start: Option<String>,
    pub user_end: Option<String>,
    pub user_zone: String,
    pub user_date: String,
    pub utc_start: String,
    pub duration_minutes: i32,
    pub place: Option<String>,
    pub owner: String,
    pub participants: String,
}

impl MeetingDetail {
    fn sample() -> Self {
        Self {
            id: uuid::Uuid::nil().to_string(),
            short_id: "0000".into(),
            iso3: "NPL".into(),
            state: "Nepal".into(),
            subject: "Meeting with the Foreign Ministry".into(),
            status: "planned".into(),
            is_planned: true,
            version: 2,
            time_zone: "Asia/Kathmandu".into(),
            local_start: "2026-12-10 10:00".into(),
            local_end: "2026-12-10 11:00".into(),
            start_input: "2026-12-10T10:00".into(),
            user_start: Some("2026-12-10 05:15".into()),
            user_end: Some("2026-12-10 06:15".into()),
            user_zone: "Europe/Geneva".into(),
            user_date: "2026-12-10".into(),
            utc_start: "2026-12-10 04:15".into(),
            duration_minutes: 60,
            place: Some("Singha Durbar".into()),
            owner: "sam".into(),
            participants: "Anita Sharma, sam".into(),
        }
    }
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    status: Option<String>,
}

async fn resolve_state(app: &AppState, given: Option<&str>) -> PageResult<Option<state::Model>> {
    match given.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => Ok(Some(outreach_core::states::resolve(&app.db, s).await?)),
        None => Ok(None),
    }
}

/// `GET /meetings`: upcoming meetings first (soonest first), then recent ones (latest first).
async fn list(
    State(app): State<Arc<AppState>>,
    user: User,
    Query(q): Query<ListQuery>,
) -> PageResult {
    let st = resolve_state(&app, q.state.as_deref()).await?;
    let status = match q.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => Some(MeetingStatus::parse("status", s)?.as_str()),
        None => None,
    };
    let rows = meetings::list(
        &app.db,
        user.zone,
        false,
        st.as_ref().map(|s| s.iso3.as_str()),
    )
    .await?;
    let now = Utc::now();
    let recent_from = now - Duration::days(90);
    let rows: Vec<&MeetingView> = rows
        .iter()
        .filter(|m| status.is_none_or(|s| m.status == s))
        .collect();
    let upcoming: Vec<MeetingDetail> = rows
        .iter()
        .filter(|m| m.starts_at >= now)
        .map(|m| meeting_data(m, &user))
        .collect();
    let recent: Vec<MeetingDetail> = rows
        .iter()
        .rev()
        .filter(|m| m.starts_at < now && m.starts_at >= recent_from)
        .map(|m| meeting_data(m, &user))
        .collect();
    let statuses: Vec<Choice> = MeetingStatus::ALL
        .iter()
        .map(|s| Choice::plain(s.as_str(), Some(s.as_str()) == status))
        .collect();
    Ok(app.render_page(
        &user,
        &MeetingsPage {
            upcoming,
            recent,
            filter_state: st.as_ref().map(|s| s.iso3.clone()).unwrap_or_default(),
            filter_state_name: st.as_ref().map(|s| s.name.clone()),
            statuses,
            filtered: st.is_some() || status.is_some(),
        },
    ))
}

/// The meetings page: upcoming meetings and those of the last 90 days.
#[derive(Debug, Serialize)]
pub struct MeetingsPage {
    pub upcoming: Vec<MeetingDetail>,
    pub recent: Vec<MeetingDetail>,
    pub filter_state: String,
    pub filter_state_name: Option<String>,
    pub statuses: Vec<Choice>,
    pub filtered: bool,
}

impl Page for MeetingsPage {
    const TEMPLATE: &'static str = "meetings";
    fn sample() -> Self {
        Self {
            upcoming: vec![MeetingDetail::sample()],
            recent: vec![MeetingDetail::sample()],
            filter_state: "NPL".into(),
            filter_state_name: Some("Nepal".into()),
            statuses: vec![Choice::sample()],
            filtered: true,
        }
    }
}

#[derive(Debug, Deserialize)]
struct WeekQuery {
    #[serde(default)]
    start: Option<String>,
}

/// `GET /meetings/week`: the week holding `start` (default today), Monday first, each meeting
/// on the day it starts in the user's zone.
async fn week(
    State(app): State<Arc<AppState>>,
    user: User,
    Query(q): Query<WeekQuery>,
) -> PageResult {
    let day = match q.start.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => outreach_core::domain::parse_date("start", s)?,
        None => user.today(),
    };
    let monday = day - Duration::days(i64::from(day.weekday().num_days_from_monday()));
    let sunday = monday + Duration::days(6);
    let rows = meetings::list(&app.db, user.zone, false, None).await?;
    let mut by_day: BTreeMap<NaiveDate, Vec<WeekMeeting>> = BTreeMap::new();
    for m in &rows {
        let local = user.zone.local(m.starts_at);
        let d = local.date_naive();
        if d >= monday && d <= sunday {
            by_day.entry(d).or_default().push(WeekMeeting {
                meeting: meeting_data(m, &user),
                time: local.format("%H:%M").to_string(),
            });
        }
    }
    let today = user.today();
    let days: Vec<WeekDay> = (0..7)
        .map(|i| {
            let d = monday + Duration::days(i);
            WeekDay {
                date: d.to_string(),
                label: d.format("%a %-d %b").to_string(),
                is_today: d == today,
                meetings: by_day.remove(&d).unwrap_or_default(),
            }
        })
        .collect();
    Ok(app.render_page(
        &user,
        &WeekPage {
            monday: monday.to_string(),
            sunday: sunday.to_string(),
            prev: (monday - Duration::days(7)).to_string(),
            next: (monday + Duration::days(7)).to_string(),
            this_week: today.to_string(),
            days,
        },
    ))
}

/// A week's meetings, day by day in the reader's zone.
#[derive(Debug, Serialize)]
pub struct WeekPage {
    pub monday: String,
    pub sunday: String,
    pub prev: String,
    pub next: String,
    pub this_week: String,
    pub days: Vec<WeekDay>,
}

#[derive(Debug, Serialize)]
pub struct WeekDay {
    pub date: String,
    pub label: String,
    pub is_today: bool,
    pub meetings: Vec<WeekMeeting>,
}

/// A meeting on the week page, with its start in the reader's zone.
#[derive(Debug, Serialize)]
pub struct WeekMeeting {
    #[serde(flatten)]
    pub meeting: MeetingDetail,
    pub time: String,
}

impl Page for WeekPage {
    const TEMPLATE: &'static str = "meetings_week";
    fn sample() -> Self {
        Self {
            monday: "2026-12-07".into(),
            sunday: "2026-12-13".into(),
            prev: "2026-11-30".into(),
            next: "2026-12-14".into(),
            this_week: "2026-12-07".into(),
            days: vec![WeekDay {
                date: "2026-12-10".into(),
                label: "Thu 10 Dec".into(),
                is_today: true,
                meetings: vec![WeekMeeting {
                    meeting: MeetingDetail::sample(),
                    time: "05:15".into(),
                }],
            }],
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
struct MeetingForm {
    #[serde(default, skip_serializing)]
    csrf: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    start: String,
    #[serde(default)]
    time_zone: String,
    #[serde(default)]
    duration: String,
    #[serde(default)]
    location: String,
    #[serde(default)]
    participants: String,
    #[serde(default)]
    owner: String,
}

const MEETING_FIELDS: &[&str] = &[
    "form",
    "state",
    "title",
    "start",
    "time_zone",
    "duration",
    "location",
    "participants",
    "owner",
];

async fn meeting_form(
    app: &AppState,
    user: &User,
    form: &MeetingForm,
    errors: &[(String, String)],
) -> PageResult {
    let states = outreach_core::states::all_by_name(&app.db).await?;
    let chosen = outreach_core::states::resolve_in(&states, &form.state).ok();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let mut res = app.render_page(
        user,
        &MeetingNewPage {
            form: form.clone(),
            errors: errors_for(MEETING_FIELDS, errors),
            states: states
                .iter()
                .map(|s| StateZone {
                    iso3: s.iso3.clone(),
                    name: s.name.clone(),
                    zone: s.capital_tz.clone(),
                    capital: s.capital.clone(),
                })
                .collect(),
            default_zone: chosen.map(|s| DefaultZone {
                zone: s.capital_tz.clone(),
                capital: s.capital.clone(),
                state: s.name.clone(),
            }),
            zones: COMMON_ZONES,
        },
    );
    *res.status_mut() = status;
    Ok(res)
}

/// The form to schedule a meeting: what was typed, the states with their capitals' zones
/// (the script proposes the zone of the state chosen) and the message beside each field refused.
#[derive(Debug, Serialize)]
pub struct MeetingNewPage {
    form: MeetingForm,
    errors: FieldErrors,
    states: Vec<StateZone>,
    default_zone: Option<DefaultZone>,
    zones: &'static [&'static str],
}

#[derive(Debug, Serialize)]
pub struct StateZone {
    pub iso3: String,
    pub name: String,
    pub zone: String,
    pub capital: String,
}

#[derive(Debug, Serialize)]
pub struct DefaultZone {
    pub zone: String,
    pub capital: String,
    pub state: String,
}

impl Page for MeetingNewPage {
    const TEMPLATE: &'static str = "meeting_new";
    fn sample() -> Self {
        Self {
            form: MeetingForm {
                state: "NPL".into(),
                title: "Meeting with the Foreign Ministry".into(),
                start: "2026-12-10T10:00".into(),
                time_zone: "Asia/Kathmandu".into(),
                duration: "1h".into(),
                location: "Singha Durbar".into(),
                participants: "Anita Sharma".into(),
                owner: "sam".into(),
                ..MeetingForm::default()
            },
            errors: FieldErrors::sample(MEETING_FIELDS),
            states: vec![StateZone {
                iso3: "NPL".into(),
                name: "Nepal".into(),
                zone: "Asia/Kathmandu".into(),
                capital: "Kathmandu".into(),
            }],
            default_zone: Some(DefaultZone {
                zone: "Asia/Kathmandu".into(),
                capital: "Kathmandu".into(),
                state: "Nepal".into(),
            }),
            zones: COMMON_ZONES,
        }
    }
}

#[derive(Debug, Deserialize)]
struct NewQuery {
    #[serde(default)]
    state: Option<String>,
}

/// `GET /meetings/new[?state=ISO3]`.
async fn new_form(
    State(app): State<Arc<AppState>>,
    user: User,
    Query(q): Query<NewQuery>,
) -> PageResult {
    let form = MeetingForm {
        state: q.state.unwrap_or_default().trim().to_uppercase(),
        duration: "1h".into(),
        owner: user.handle.clone(),
        ..MeetingForm::default()
    };
    meeting_form(&app, &user, &form, &[]).await
}

fn optional(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

/// `POST /meetings`: schedules the meeting and plans its reminders, then shows it.
async fn create(
    State(app): State<Arc<AppState>>,
    user: User,
    Form(form): Form<MeetingForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    let mut missing = Vec::new();
    if form.state.trim().is_empty() {
        missing.push((
            "state".to_owned(),
            "Choose the state the meeting is with, by name or ISO3 code (such as NPL).".to_owned(),
        ));
    }
    if form.title.trim().is_empty() {
        missing.push((
            "title".to_owned(),
            "Give the meeting a title, such as \"Meeting with the Foreign Ministry\".".to_owned(),
        ));
    }
    if form.start.trim().is_empty() {
        missing.push((
            "start".to_owned(),
            "Give the date and time the meeting starts, in its own time zone.".to_owned(),
        ));
    }
    if !missing.is_empty() {
        return meeting_form(&app, &user, &form, &missing).await;
    }
    let input = MeetingInput {
        state: form.state.trim().to_owned(),
        title: form.title.clone(),
        at: form.start.clone(),
        tz: optional(&form.time_zone),
        duration: optional(&form.duration),
        place: optional(&form.location),
        with: form
            .participants
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
    };
    let owner = optional(&form.owner);
    match planner::schedule_meeting_for(
        &app.db,
        &app.workflows,
        &user.actor,
        owner.as_deref(),
        &input,
    )
    .await
    .map_err(from_scheduler)
    {
        Ok((m, _)) => Ok(Redirect::to(&format!("/meetings/{}", m.id)).into_response()),
        Err(e) => match field_error(&e) {
            Some(fe) => meeting_form(&app, &user, &form, &[fe]).await,
            None => Err(e),
        },
    }
}

/// What the meeting page's forms carry.
#[derive(Debug, Default, Deserialize, Serialize)]
struct ActionForm {
    #[serde(default, skip_serializing)]
    csrf: String,
    #[serde(default)]
    start: String,
    #[serde(default)]
    time_zone: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    stance: String,
    #[serde(default)]
    sensitivity: String,
}

const ACTION_FIELDS: &[&str] = &[
    "form",
    "start",
    "time_zone",
    "kind",
    "outcome",
    "stance",
    "sensitivity",
];

/// The meeting page; `typed` and `errors` when a form on it came back with an error.
async fn meeting_page(
    app: &AppState,
    user: &User,
    id: &str,
    typed: Option<&ActionForm>,
    errors: &[(String, String)],
) -> PageResult {
    let m = meetings::show(&app.db, user.zone, id).await?;
    let data = meeting_data(&m, user);
    let zone = zone_of(&m.time_zone);
    let lines = ledger::for_subject(&app.db, "meeting", &m.id.to_string())
        .await
        .map_err(from_scheduler)?;
    let reminders: Vec<ReminderRow> = lines
        .iter()
        .map(|l| {
            let rz = l.time_zone.as_deref().map_or(zone, zone_of);
            ReminderRow {
                rule: l.rule.clone().unwrap_or_else(|| l.kind.replace('_', " ")),
                recipient: l.recipient.clone(),
                due_local: fmt_in(rz, l.run_at),
                due_zone: rz.name().to_owned(),
                due_utc: l.run_at.format("%Y-%m-%d %H:%M").to_string(),
                state: l.state.clone(),
                reason: l.reason.clone(),
                attempts: l.attempts,
            }
        })
        .collect();
    let form = match typed {
        Some(f) => ActionValues {
            start: f.start.clone(),
            time_zone: f.time_zone.clone(),
            kind: f.kind.clone(),
            outcome: f.outcome.clone(),
            stance: f.stance.clone(),
        },
        None => ActionValues {
            start: data.start_input.clone(),
            time_zone: m.time_zone.clone(),
            kind: EngagementKind::CapitalMeeting.as_str().to_owned(),
            outcome: String::new(),
            stance: String::new(),
        },
    };
    let kind_sel = EngagementKind::parse("kind", &form.kind).ok();
    let stance_sel = Stance::parse("stance", &form.stance).ok();
    let mut res = app.render_page(
        user,
        &MeetingPage {
            m: data,
            reminders,
            form,
            errors: errors_for(ACTION_FIELDS, errors),
            zones: COMMON_ZONES,
            kinds: EngagementKind::ALL
                .iter()
                .map(|k| {
                    Choice::new(
                        k.as_str(),
                        k.as_str().replace('_', " "),
                        Some(*k) == kind_sel,
                    )
                })
                .collect(),
            stances: Stance::ALL
                .iter()
                .map(|s| Choice::plain(s.as_str(), Some(*s) == stance_sel))
                .collect(),
            started: m.starts_at <= Utc::now(),
        },
    );
    if !errors.is_empty() {
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(res)
}

/// A meeting's page: the meeting, its reminder jobs, and the forms to reschedule it, cancel it
/// or mark it held (with what was typed when one was refused).
#[derive(Debug, Serialize)]
pub struct MeetingPage {
    pub m: MeetingDetail,
    pub reminders: Vec<ReminderRow>,
    pub form: ActionValues,
    pub errors: FieldErrors,
    pub zones: &'static [&'static str],
    pub kinds: Vec<Choice>,
    pub stances: Vec<Choice>,
    /// The meeting has begun: it can be marked held.
    pub started: bool,
}

/// A reminder job of the meeting (`ledger::for_subject`), due in the zone it is sent in.
#[derive(Debug, Serialize)]
pub struct ReminderRow {
    pub rule: String,
    pub recipient: Option<String>,
    pub due_local: String,
    pub due_zone: String,
    pub due_utc: String,
    pub state: String,
    pub reason: Option<String>,
    pub attempts: i32,
}

/// What the reschedule and held forms show.
#[derive(Debug, Serialize)]
pub struct ActionValues {
    pub start: String,
    pub time_zone: String,
    pub kind: String,
    pub outcome: String,
    pub stance: String,
}

impl Page for MeetingPage {
    const TEMPLATE: &'static str = "meeting";
    fn sample() -> Self {
        Self {
            m: MeetingDetail::sample(),
            reminders: vec![ReminderRow {
                rule: "week before".into(),
                recipient: Some("sam@example.org".into()),
                due_local: "2026-12-03 09:00".into(),
                due_zone: "Europe/Geneva".into(),
                due_utc: "2026-12-03 08:00".into(),
                state: "queued".into(),
                reason: Some("not sent: the meeting had begun".into()),
                attempts: 1,
            }],
            form: ActionValues {
                start: "2026-12-10T10:00".into(),
                time_zone: "Asia/Kathmandu".into(),
                kind: "capital_meeting".into(),
                outcome: "interested".into(),
                stance: "positive".into(),
            },
            errors: FieldErrors::sample(ACTION_FIELDS),
            zones: COMMON_ZONES,
            kinds: vec![Choice::sample()],
            stances: vec![Choice::sample()],
            started: true,
        }
    }
}

async fn show(State(app): State<Arc<AppState>>, user: User, Path(id): Path<String>) -> PageResult {
    meeting_page(&app, &user, &id, None, &[]).await
}

/// The answer to a form on the meeting page: back to the page, or the page again with the error
/// beside its field.
async fn after_action<T>(
    app: &AppState,
    user: &User,
    id: &str,
    form: &ActionForm,
    done: Result<T, WebError>,
) -> PageResult {
    match done {
        Ok(_) => {
            let m = meetings::find(&app.db, id).await?;
            Ok(Redirect::to(&format!("/meetings/{}", m.id)).into_response())
        }
        Err(e) => match field_error(&e) {
            Some(fe) => meeting_page(app, user, id, Some(form), &[fe]).await,
            None => Err(e),
        },
    }
}

/// `POST /meetings/{id}/reschedule`: a new local start (in `time_zone`, or the meeting's zone).
async fn reschedule(
    State(app): State<Arc<AppState>>,
    user: User,
    Path(id): Path<String>,
    Form(form): Form<ActionForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    let done = if form.start.trim().is_empty() {
        Err(WebError::invalid(
            "start",
            "Give the new date and time the meeting starts, in its own time zone.",
        ))
    } else {
        planner::reschedule_meeting(
            &app.db,
            &app.workflows,
            &user.actor,
            &id,
            &form.start,
            optional(&form.time_zone).as_deref(),
        )
        .await
        .map_err(from_scheduler)
    };
    after_action(&app, &user, &id, &form, done).await
}

/// `POST /meetings/{id}/cancel`: cancels the meeting and its reminders.
async fn cancel(
    State(app): State<Arc<AppState>>,
    user: User,
    Path(id): Path<String>,
    Form(form): Form<ActionForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    let done = planner::cancel_meeting(&app.db, &app.workflows, &user.actor, &id)
        .await
        .map_err(from_scheduler);
    after_action(&app, &user, &id, &form, done).await
}

/// `POST /meetings/{id}/held`: marks it held and logs the engagement with its outcome.
async fn held(
    State(app): State<Arc<AppState>>,
    user: User,
    Path(id): Path<String>,
    Form(form): Form<ActionForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    let kind = optional(&form.kind)
        .unwrap_or_else(|| EngagementKind::CapitalMeeting.as_str().to_owned())
        .replace('_', "-");
    let done = meetings::held(
        &app.db,
        &user.actor,
        &id,
        &meetings::HeldInput {
            kind,
            outcome: optional(&form.outcome),
            stance: optional(&form.stance),
            sensitivity: optional(&form.sensitivity),
            restricted_kinds: Some(app.settings.engagements.restricted_kinds.clone()),
        },
    )
    .await
    .map_err(WebError::from);
    after_action(&app, &user, &id, &form, done).await
}

#[cfg(test)]
mod tests {
    use super::COMMON_ZONES;

    /// Every zone the forms suggest is one the forms accept (Geneva's is Europe/Zurich: the IANA
    /// database has no Europe/Geneva).
    #[test]
    fn every_suggested_zone_is_accepted() {
        for z in COMMON_ZONES {
            assert!(
                outreach_core::domain::IanaZone::parse("tz", z).is_ok(),
                "{z} is suggested but refused"
            );
        }
    }
}
