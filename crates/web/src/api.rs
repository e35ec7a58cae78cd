//! The JSON API under `/api/v1`: what the pages do, for scripts. Authenticated by the session
//! cookie (writes then need `X-CSRF-Token`) or by `Authorization: Bearer TOKEN` (an API token made
//! on `/account`). Every handler calls the same library function the CLI calls, so a write is one
//! transaction with its audit record whichever way it comes in.
//!
//! Errors are `{"error": {"code", "message", "field"}}`; a body that is not JSON, or a field of the
//! wrong type, is a 400 with code `invalid` naming the field ([`Body`]). `/api/openapi.json`
//! describes every route (the file `crates/web/openapi.json`, compiled in).

use std::sync::Arc;

use axum::extract::{FromRequest, FromRequestParts, Path, Request, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use outreach_core::directory::{self, ContactInput, GrantInput, OrganisationInput};
use outreach_core::domain::parse_date;
use outreach_core::engagements::{self, EngagementInput};
use outreach_core::followups::{self, FollowUpInput};
use outreach_core::meetings::{self, MeetingInput};
use outreach_core::status::StatusFilter;
use outreach_core::{audit, states, views};
use outreach_letters::drafts::{self, DraftRequest};
use outreach_scheduler::planner;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::{ApiError, ApiResult, ApiUser, AppState, Role, WebError};

/// The OpenAPI 3.1 document, served at `/api/openapi.json`.
pub const OPENAPI: &str = include_str!("../openapi.json");

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/openapi.json", get(openapi))
        .route("/api/v1/states", get(api_states))
        .route("/api/v1/states/{state}", get(api_state))
        .route("/api/v1/attention", get(api_attention))
        .route(
            "/api/v1/engagements",
            get(list_engagements).post(log_engagement),
        )
        .route(
            "/api/v1/meetings",
            get(list_meetings).post(schedule_meeting),
        )
        .route("/api/v1/meetings/{id}", get(show_meeting))
        .route("/api/v1/meetings/{id}/reschedule", post(reschedule_meeting))
        .route("/api/v1/meetings/{id}/cancel", post(cancel_meeting))
        .route("/api/v1/meetings/{id}/held", post(meeting_held))
        .route(
            "/api/v1/follow-ups",
            get(list_follow_ups).post(add_follow_up),
        )
        .route("/api/v1/follow-ups/{id}/done", post(follow_up_done))
        .route("/api/v1/letters", get(list_letters).post(draft_letter))
        .route("/api/v1/letters/{id}", get(show_letter))
        .route("/api/v1/letters/{id}/submit", post(submit_letter))
        .route("/api/v1/letters/{id}/approve", post(approve_letter))
        .route("/api/v1/letters/{id}/edit", post(edit_letter))
        .route("/api/v1/letters/{id}/send", post(letter_sent))
        .route("/api/v1/letters/{id}/export", post(export_letter))
        .route("/api/v1/outbox", get(outbox))
        .route("/api/v1/outbox/{id}/requeue", post(requeue))
        .route("/api/v1/contacts", post(add_contact))
        .route("/api/v1/organisations", post(add_organisation))
        .route("/api/v1/grants", post(add_grant))
        .route("/api/v1/rules", get(api_rules))
        .route("/api/v1/audit", get(audit_log))
}

// ---------------------------------------------------------------------------------------------
// Extractors and error mapping

/// A JSON request body. Unlike axum's `Json`, a body that cannot be read answers in the API's
/// error shape: 400, code `invalid`, and the field at fault (`body` when the JSON itself is
/// broken or is not an object).
#[derive(Debug)]
pub struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| WebError::invalid("body", format!("cannot be read: {e}")))?;
        let text = if bytes.iter().all(u8::is_ascii_whitespace) {
            &b"{}"[..]
        } else {
            &bytes[..]
        };
        parse_body(text).map(Body)
    }
}

fn parse_body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        WebError::invalid(
            "body",
            format!("is not valid JSON ({e}); send a JSON object such as {{\"state\": \"NPL\"}}"),
        )
    })?;
    if !value.is_object() {
        return Err(WebError::invalid("body", "must be a JSON object").into());
    }
    let mut track = serde_path_to_error::Track::new();
    match T::deserialize(serde_path_to_error::Deserializer::new(value, &mut track)) {
        Ok(v) => Ok(v),
        Err(e) => {
            let path = track.path().to_string();
            let message = e.to_string();
            let field = if path.is_empty() || path == "." {
                field_in_message(&message).unwrap_or_else(|| "body".to_owned())
            } else {
                path
            };
            Err(WebError::invalid(&field, message).into())
        }
    }
}

/// The field serde names in "missing field `x`" or "unknown field `x`".
fn field_in_message(message: &str) -> Option<String> {
    let start = message.find('`')? + 1;
    let len = message[start..].find('`')?;
    Some(message[start..start + len].to_owned())
}

/// A query string, rejected in the API's error shape.
#[derive(Debug)]
pub struct Q<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Q<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Q(q.0))
            .map_err(|e| WebError::invalid("query", e.body_text()).into())
    }
}

/// A core error with the CLI's `--flag` field names turned into the API's.
fn core(e: outreach_core::Error) -> ApiError {
    match e {
        outreach_core::Error::Invalid { field, message } => {
            ApiError(WebError::Core(outreach_core::Error::Invalid {
                field: field.trim_start_matches("--").to_owned(),
                message,
            }))
        }
        other => ApiError(WebError::Core(other)),
    }
}

/// A scheduler error: its core errors keep their status (400, 404, 409...).
fn sched(e: outreach_scheduler::Error) -> ApiError {
    match e {
        outreach_scheduler::Error::Core(c) => core(c),
        outreach_scheduler::Error::Mailer(m) => mailer(m),
        other => ApiError(WebError::Scheduler(other)),
    }
}

fn mailer(e: outreach_mailer::Error) -> ApiError {
    match e {
        outreach_mailer::Error::Core(c) => core(c),
        outreach_mailer::Error::Database(d) => ApiError(WebError::Database(d)),
        other => ApiError(WebError::Internal(other.to_string())),
    }
}

fn letters_err(e: outreach_letters::Error) -> ApiError {
    match e {
        outreach_letters::Error::Core(c) => core(c),
        outreach_letters::Error::Database(d) => ApiError(WebError::Database(d)),
        outreach_letters::Error::MissingFields { ref missing, .. } => {
            let field = missing
                .first()
                .map_or_else(|| "state".to_owned(), |(f, _)| f.clone());
            ApiError(WebError::invalid(&field, e.to_string()))
        }
        other => ApiError(WebError::Internal(other.to_string())),
    }
}

fn created<T: serde::Serialize>(value: T) -> Response {
    (StatusCode::CREATED, Json(value)).into_response()
}

fn ok<T: serde::Serialize>(value: T) -> Response {
    Json(value).into_response()
}

/// `true`/`false` (also `1`/`0`, `yes`/`no`) in a query string; `default` when absent.
fn flag(field: &str, given: Option<&str>, default: bool) -> Result<bool, ApiError> {
    match given.map(|s| s.trim().to_lowercase()).as_deref() {
        None | Some("") => Ok(default),
        Some("true" | "1" | "yes") => Ok(true),
        Some("false" | "0" | "no") => Ok(false),
        Some(other) => {
            Err(WebError::invalid(field, format!("'{other}' is not true or false")).into())
        }
    }
}

fn limit(given: Option<&str>, default: u64) -> Result<u64, ApiError> {
    match given.map(str::trim) {
        None | Some("") => Ok(default),
        Some(s) => match s.parse::<u64>() {
            Ok(n) if (1..=1000).contains(&n) => Ok(n),
            _ => Err(
                WebError::invalid("limit", format!("'{s}' is not a number from 1 to 1000")).into(),
            ),
        },
    }
}

/// The ISO code of the state a listing is filtered by, if any.
async fn state_filter(app: &AppState, given: Option<&str>) -> Result<Option<String>, ApiError> {
    match given.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => Ok(Some(states::resolve(&app.db, s).await.map_err(core)?.iso3)),
        None => Ok(None),
    }
}

async fn treaty_code(app: &AppState, given: Option<&str>) -> Result<String, ApiError> {
    let given = given
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or(&app.treaty);
    Ok(states::resolve_treaty(&app.db, given)
        .await
        .map_err(core)?
        .code)
}

async fn openapi(ApiUser(_user): ApiUser) -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        OPENAPI,
    )
        .into_response()
}

// ---------------------------------------------------------------------------------------------
// States

#[derive(Debug, Deserialize)]
struct StatesQuery {
    treaty: Option<String>,
    status: Option<String>,
    at: Option<String>,
}

async fn api_states(
    ApiUser(user): ApiUser,
    State(app): State<Arc<AppState>>,
    Q(q): Q<StatesQuery>,
) -> ApiResult<Response> {
    let filter = StatusFilter::parse(q.status.as_deref().unwrap_or("all"))
        .map_err(|e| WebError::invalid("status", e.to_string()))?;
    let at = match q.at.as_deref() {
        Some(d) => parse_date("at", d)?,
        None => user.today(),
    };
    let treaty = treaty_code(&app, q.treaty.as_deref()).await?;
    let rows = states::by_status(&app.db, &treaty, filter, at).await?;
    Ok(ok(rows))
}

#[derive(Debug, Deserialize)]
struct StateQuery {
    treaty: Option<String>,
    at: Option<String>,
}

async fn api_state(
    ApiUser(user): ApiUser,
    State(app): State<Arc<AppState>>,
    Path(state): Path<String>,
    Q(q): Q<StateQuery>,
) -> ApiResult<Response> {
    let st = states::resolve(&app.db, &state).await.map_err(core)?;
    let treaty = treaty_code(&app, q.treaty.as_deref()).await?;
    let at = match q.at.as_deref() {
        Some(d) => parse_date("at", d)?,
        None => user.today(),
    };
    let profile = views::profile(
        &app.db,
        st,
        &treaty,
        at,
        user.zone,
        user.today(),
        &user.reader,
    )
    .await?;
    Ok(ok(profile))
}

#[derive(Debug, Deserialize)]
struct TreatyQuery {
    treaty: Option<String>,
}

async fn api_attention(
    ApiUser(user): ApiUser,
    State(app): State<Arc<AppState>>,
    Q(q): Q<TreatyQuery>,
) -> ApiResult<Response> {
    let treaty = treaty_code(&app, q.treaty.as_deref()).await?;
    Ok(ok(views::attention(&app.db, &treaty, user.today()).await?))
}

// ---------------------------------------------------------------------------------------------
// Engagements

#[derive(Debug, Deserialize)]
struct EngagementsQuery {
    state: Option<String>,
    limit: Option<String>,
}

/// One state's engagements, newest first: all of them, or with `?limit=N` the newest N (a state
/// with tens of thousands is then quick to read).
async fn list_engagements(
    ApiUser(user): ApiUser,
    State(app): State<Arc<AppState>>,
    Q(q): Q<EngagementsQuery>,
) -> ApiResult<Response> {
    let Some(iso3) = state_filter(&app, q.state.as_deref()).await? else {
        return Err(WebError::invalid(
            "state",
            "is required: list one state's engagements with ?state=ISO3 (for example ?state=NPL)",
        )
        .into());
    };
    if q.limit.as_deref().is_some_and(|l| !l.trim().is_empty()) {
        let n = limit(q.limit.as_deref(), 50)?;
        return Ok(ok(engagements::newest_for_state(
            &app.db,
            &iso3,
            Some(n),
            &user.reader,
        )
        .await?));
    }
    Ok(ok(
        engagements::for_state(&app.db, &iso3, &user.reader).await?
    ))
}

/// Contacts by email, name or id: a list, or one string.
#[derive(Debug, Default, Deserialize)]
#[serde(untagged)]
enum Names {
    #[default]
    None,
    One(String),
    Many(Vec<String>),
}

impl Names {
    fn into_vec(self) -> Vec<String> {
        match self {
            Self::None => Vec::new(),
            Self::One(s) => vec![s],
            Self::Many(v) => v,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewEngagement {
    state: String,
    kind: String,
    date: Option<String>,
    summary: Option<String>,
    outcome: Option<String>,
    stance: Option<String>,
    #[serde(default)]
    with: Names,
    /// `public`, `internal` or `restricted`; default by kind.
    sensitivity: Option<String>,
}

async fn log_engagement(
    ApiUser(user): ApiUser,
    State(app): State<Arc<AppState>>,
    Body(b): Body<NewEngagement>,
) -> ApiResult<Response> {
    let view = engagements::log(
        &app.db,
        &user.actor,
        &EngagementInput {
            state: b.state,
            kind: b.kind,
            date: b.date,
            summary: b.summary,
            outcome: b.outcome,
            stance: b.stance,
            with: b.with.into_vec(),
            meeting_id: None,
            sensitivity: b.sensitivity,
            restricted_kinds: Some(app.settings.engagements.restricted_kinds.clone()),
        },
    )
    .await
    .map_err(core)?;
    Ok(created(view))
}

// ---------------------------------------------------------------------------------------------
// Meetings

#[derive(Debug, Deserialize)]
struct MeetingsQuery {
    state: Option<String>,
    upcoming: Option<String>,
}

async fn list_meetings(
    ApiUser(user): ApiUser,
    State(app): State<Arc<AppState>>,
    Q(q): Q<MeetingsQuery>,
) -> ApiResult<Response> {
    let upcoming = flag("upcoming", q.upcoming.as_deref(), false)?;
    let iso3 = state_filter(&app, q.state.as_deref()).await?;
    Ok(ok(meetings::list(
        &app.db,
        user.zone,
        upcoming,
        iso3.as_deref(),
    )
    .await?))
}

/// A meeting with what planning did and its reminders (planned, superseded, sent, failed...).
async fn meeting_with_reminders(
    app: &AppState,
    view: &meetings::MeetingView,
    plan: Option<planner::PlanReport>,
) -> ApiResult<serde_json::Value> {
    let reminders =
        outreach_scheduler::ledger::for_subject(&app.db, "meeting", &view.id.to_string())
            .await
            .map_err(sched)?;
    let mut v = serde_json::to_value(view).map_err(|e| WebError::Internal(e.to_string()))?;
    if let Some(obj) = v.as_object_mut() {
        obj.insert(
            "reminders".into(),
            serde_json::to_value(reminders).unwrap_or_default(),
        );
        if let Some(plan) = plan {
            obj.insert(
                "plan".into(),
                serde_json::to_value(plan).unwrap_or_default(),
            );
        }
    }
    Ok(v)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewMeeting {
    state: String,
    title: String,
    at: String,
    tz: Option<String>,
    duration: Option<String>,
    place: Option<String>,
    #[serde(default)]
    with: Names,
}

async fn schedule_meeting(
    ApiUser(user): ApiUser,
    State(app): State<Arc<AppState>>,
    Body(b): Body<NewMeeting>,
) -> ApiResult<Response> {
    let (view, plan) = planner::schedule_meeting(
        &app.db,
        &app.workflows,
        &user.actor,
        &MeetingInput {
            state: b.state,
            title: b.title,
            at: b.at,
            tz: b.tz,
            duration: b.duration,
            place: b.place,
            with: b.with.into_vec(),
        },
    )
    .await
    .map_err(sched)?;
    Ok(created(
        meeting_with_reminders(&app, &view, Some(plan)).await?,
    ))
}

async fn show_meeting(
    ApiUser(user): ApiUser,
    State(app): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let view = meetings::show(&app.db, user.zone, &id)
        .await
        .map_err(core)?;
    Ok(ok(meeting_with_reminders(&app, &view, None).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Reschedule {
    at: String,
    tz: Option<String>,
}

async fn reschedule_meeting(
    ApiUser(user): ApiUser,
    State(app): State<Arc<AppState>>,
    Path(id): Path<String>,
    Body(b): Body<Reschedule>,
) -> ApiResult<Response> {
    let (view, plan) = planner::reschedule_meeting(
        &app.db,
        &app.workflows,
        &user.actor,
        &id,
        &b.at,
        b.tz.as_deref(),
    )
    .await
    .map_err(sched)?;
    Ok(ok(meeting_with_reminders(&app, &view, Some(plan)).await?))
}

async fn cancel_meeting(
    ApiUser(user): ApiUser,
    State(app): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let (view, plan) = planner::cancel_meeting(&app.db, &app.workflows, &user.actor, &id)
        .await
        .map_err(sched)?;
    Ok(ok(meeting_with_reminders(&app, &view, Some(plan)).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Held {
    kind: Option<String>,
    outcome: Option<String>,
    stance: Option<String>,
    sensitivity: Option<String>,
}

/// Marks a meeting held (once it has started) and logs its engagement (a capital meeting unless
/// `kind` says otherwise); a reminder still waiting is not sent (its job finds the meeting held).
async fn meeting_held(
    ApiUser(user): ApiUser,
    State(app): State<Arc<AppState>>,
    Path(id): Path<String>,
    Body(b): Body<Held>,
) -> ApiResult<Response> {
    let kind = b
        .kind
        .filter(|k| !k.trim().is_empty())
        .unwrap_or_else(|| "capital-meeting".to_owned());
    let (view, engagement) = meetings::held(
        &app.db,
        &user.actor,
        &id,
        &meetings::HeldInput {
            kind,
            outcome: b.outcome,
            stance: b.stance,
            sensitivity: b.sensitivity,
            restricted_kinds: Some(app.settings.engagements.restricted_kinds.clone()),
        },
    )
    .await
    .map_err(core)?;
    let mut v = meeting_with_reminders(&app, &view, None).await?;
    if let Some(obj) = v.as_object_mut() {
        obj.insert(
            "engagement".into(),
            serde_json::to_value(engagement).unwrap_or_default(),
        );
    }
    Ok(ok(v))
}

// ---------------------------------------------------------------------------------------------
// Contacts, organisations and grants

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewContact {
    name: String,
    state: Option<String>,
    title: Option<String>,
    role: Option<String>,
    organisation: Option<String>,
    email: Option<String>,
    languages: Option<String>,
    time_zone: Option<String>,
    phone: Option<String>,
    notes: Option<String>,
}

async fn add_contact(
    ApiUser(user): ApiUser,
    State(app): State<Arc<AppState>>,
    Body(b): Body<NewContact>,
) -> ApiResult<Response> {
    let c = directory::add_contact(
        &app.db,
        &user.actor,
        &ContactInput {
            name: b.name,
            title: b.title,
            role: b.role,
            organisation: b.organisation,
            state: b.state,
            email: b.email,
            languages: b.languages,
            time_zone: b.time_zone,
            phone: b.phone,
            notes: b.notes,
        },
    )
    .await
    .map_err(core)?;
    Ok(created(serde_json::json!({
        "id": c.id, "name": c.name, "title": c.title, "role": c.role,
        "organisation_id": c.organisation_id, "iso3": c.iso3, "email": c.email,
        "languages": c.languages, "time_zone": c.time_zone, "phone": c.phone,
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewOrganisation {
    name: String,
    kind: Option<String>,
    state: Option<String>,
    email: Option<String>,
    website: Option<String>,
    icbl_member: Option<bool>,
    notes: Option<String>,
}

async fn add_organisation(
    ApiUser(user): ApiUser,
    State(app): State<Arc<AppState>>,
    Body(b): Body<NewOrganisation>,
) -> ApiResult<Response> {
    let o = directory::add_organisation(
        &app.db,
        &user.actor,
        &OrganisationInput {
            name: b.name,
            kind: b.kind,
            state: b.state,
            email: b.email,
            website: b.website,
            icbl_member: b.icbl_member.map(|m| m.to_string()),
            notes: b.notes,
        },
    )
    .await
    .map_err(core)?;
    Ok(created(serde_json::json!({
        "id": o.id, "name": o.name, "kind": o.kind, "iso3": o.iso3, "email": o.email,
        "website": o.website, "icbl_member": o.icbl_member,
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewGrant {
    organisation: String,
    state: Option<String>,
    year: i32,
    amount: String,
    currency: String,
    purpose: Option<String>,
    #[serde(default)]
    reports_due: Vec<String>,
}

/// An Investing in Action grant with its report dates (coordinators and admins).
async fn add_grant(
    ApiUser(user): ApiUser,
    State(app): State<Arc<AppState>>,
    Body(b): Body<NewGrant>,
) -> ApiResult<Response> {
    user.require(Role::Coordinator, "record grants")?;
    let g = directory::add_grant(
        &app.db,
        &user.actor,
        &GrantInput {
            organisation: b.organisation,
            state: b.state,
            year: b.year,
            amount: b.amount,
            currency: b.currency,
            purpose: b.purpose,
            reports_due: b.reports_due,
        },
    )
    .await
    .map_err(|e| match e {
        outreach_core::Error::Invalid { field, message } if field == "report-due" => {
            core(outreach_core::Error::Invalid {
                field: "reports_due".into(),
                message,
            })
        }
        other => core(other),
    })?;
    Ok(created(g))
}

// ---------------------------------------------------------------------------------------------
// Follow-ups

#[derive(Debug, Deserialize)]
struct FollowUpsQuery {
    state: Option<String>,
    owner: Option<String>,
    mine: Option<String>,
    all: Option<String>,
}

async fn list_follow_ups(
    ApiUser(user): ApiUser,
    State(app): State<Arc<AppState>>,
    Q(q): Q<FollowUpsQuery>,
) -> ApiResult<Response> {
    let all = flag("all", q.all.as_deref(), false)?;
    let mine = flag("mine", q.mine.as_deref(), false)?;
    let iso3 = state_filter(&app, q.state.as_deref()).await?;
    let owner = if mine {
        Some(user.handle.clone())
    } else {
        q.owner.filter(|o| !o.trim().is_empty())
    };
    Ok(ok(followups::list(
        &app.db,
        user.today(),
        all,
        iso3.as_deref(),
        owner.as_deref(),
        &user.reader,
    )
    .await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewFollowUp {
    state: Option<String>,
    description: String,
    due: Option<String>,
    owner: Option<String>,
    engagement: Option<String>,
    meeting: Option<String>,
}

async fn add_follow_up(
    ApiUser(user): ApiUser,
    State(app): State<Arc<AppState>>,
    Body(b): Body<NewFollowUp>,
) -> ApiResult<Response> {
    let f = followups::add(
        &app.db,
        &user.actor,
        &FollowUpInput {
            state: b.state,
            description: b.description,
            due: b.due,
            owner: b.owner,
            engagement: b.engagement,
            meeting: b.meeting,
        },
    )
    .await
    .map_err(core)?;
    Ok(created(f))
}

async fn follow_up_done(
    ApiUser(user): ApiUser,
    State(app): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    Ok(ok(followups::done(&app.db, &user.actor, &id)
        .await
        .map_err(core)?))
}

// ---------------------------------------------------------------------------------------------
// Letters

#[derive(Debug, Deserialize)]
struct LettersQuery {
    status: Option<String>,
}

async fn list_letters(
    ApiUser(_user): ApiUser,
    State(app): State<Arc<AppState>>,
    Q(q): Q<LettersQuery>,
) -> ApiResult<Response> {
    let status = q.status.filter(|s| !s.trim().is_empty());
    Ok(ok(drafts::list(&app.db, status.as_deref())
        .await
        .map_err(letters_err)?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewLetter {
    template: String,
    state: String,
    to: Option<String>,
    lang: Option<String>,
}

async fn draft_letter(
    ApiUser(user): ApiUser,
    State(app): State<Arc<AppState>>,
    Body(b): Body<NewLetter>,
) -> ApiResult<Response> {
    let view = drafts::draft(
        &app.db,
        &user.actor,
        &app.letters,
        &DraftRequest {
            template: b.template,
            state: b.state,
            to: b.to,
            lang: b.lang,
        },
    )
    .await
    .map_err(letters_err)?;
    Ok(created(view))
}

async fn show_letter(
    ApiUser(_user): ApiUser,
    State(app): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    Ok(ok(drafts::show(&app.db, &id).await.map_err(letters_err)?))
}

async fn submit_letter(
    ApiUser(user): ApiUser,
    State(app): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    Ok(ok(drafts::submit(&app.db, &user.actor, &id)
        .await
        .map_err(letters_err)?))
}

async fn approve_letter(
    ApiUser(user): ApiUser,
    State(app): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    user.require(Role::Coordinator, "approve letters")?;
    Ok(ok(drafts::approve(
        &app.db,
        &user.actor,
        &id,
        app.letters.settings.four_eyes,
    )
    .await
    .map_err(letters_err)?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LetterEdit {
    subject: Option<String>,
    body: String,
    note: Option<String>,
}

/// A new version of the letter's text (the whole text; the subject is kept when absent).
async fn edit_letter(
    ApiUser(user): ApiUser,
    State(app): State<Arc<AppState>>,
    Path(id): Path<String>,
    Body(b): Body<LetterEdit>,
) -> ApiResult<Response> {
    let subject = b
        .subject
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let note = b.note.as_deref().map(str::trim).filter(|s| !s.is_empty());
    Ok(ok(drafts::edit(
        &app.db,
        &user.actor,
        &id,
        subject,
        &b.body,
        note,
    )
    .await
    .map_err(letters_err)?))
}

async fn letter_sent(
    ApiUser(user): ApiUser,
    State(app): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    Ok(ok(drafts::mark_sent(&app.db, &user.actor, &id)
        .await
        .map_err(letters_err)?))
}

#[derive(Debug, Deserialize)]
struct ExportQuery {
    #[serde(default)]
    format: String,
}

/// The letter's current version as a file (Markdown unless `?format=` says html or docx). An
/// approved letter becomes exported; other letters keep their status (a preview). A POST, since it
/// is recorded.
async fn export_letter(
    ApiUser(user): ApiUser,
    State(app): State<Arc<AppState>>,
    Path(id): Path<String>,
    Q(q): Q<ExportQuery>,
) -> ApiResult<Response> {
    Ok(crate::letters::export_file(&app, &user.actor, &id, &q.format).await?)
}

// ---------------------------------------------------------------------------------------------
// Mail and audit

#[derive(Debug, Deserialize)]
struct OutboxQuery {
    status: Option<String>,
    limit: Option<String>,
}

async fn outbox(
    ApiUser(_user): ApiUser,
    State(app): State<Arc<AppState>>,
    Q(q): Q<OutboxQuery>,
) -> ApiResult<Response> {
    let limit = limit(q.limit.as_deref(), 50)?;
    let status = q.status.filter(|s| !s.trim().is_empty());
    Ok(ok(outreach_mailer::ledger::list(
        &app.db,
        Some(status.as_deref().unwrap_or("all")),
        limit,
    )
    .await
    .map_err(mailer)?))
}

/// Puts a failed message back in the queue (coordinators and admins).
async fn requeue(
    ApiUser(user): ApiUser,
    State(app): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    user.require(Role::Coordinator, "requeue messages")?;
    Ok(ok(outreach_mailer::ledger::requeue(
        &app.db,
        &user.actor.handle,
        &id,
    )
    .await
    .map_err(mailer)?))
}

#[derive(Debug, Deserialize)]
struct RulesQuery {
    rule: Option<String>,
}

/// The rules and schedules, and the dry run of the rules (one rule's with `?rule=`).
async fn api_rules(
    ApiUser(user): ApiUser,
    State(app): State<Arc<AppState>>,
    Q(q): Q<RulesQuery>,
) -> ApiResult<Response> {
    let rule = q.rule.as_deref().map(str::trim).filter(|r| !r.is_empty());
    let names = planner::rule_names(&app.workflows);
    if let Some(r) = rule
        && !names.iter().any(|n| n == r)
    {
        return Err(WebError::invalid(
            "rule",
            format!(
                "'{r}' is not a reminder rule; the rules are {}",
                names.join(", ")
            ),
        )
        .into());
    }
    let dry_run = planner::dry_run(&app.db, &app.workflows, rule, chrono::Utc::now())
        .await
        .map_err(sched)?;
    let mut v = crate::rules::describe_rules(&app.workflows, &user);
    if let Some(obj) = v.as_object_mut() {
        obj.insert(
            "dry_run".into(),
            serde_json::to_value(dry_run).unwrap_or_default(),
        );
    }
    Ok(ok(v))
}

#[derive(Debug, Deserialize)]
struct AuditQuery {
    limit: Option<String>,
}

async fn audit_log(
    ApiUser(user): ApiUser,
    State(app): State<Arc<AppState>>,
    Q(q): Q<AuditQuery>,
) -> ApiResult<Response> {
    user.require(Role::Admin, "read the audit log")?;
    let limit = limit(q.limit.as_deref(), 50)?;
    let rows = audit::recent_for(&app.db, &user.actor, limit).await?;
    Ok(ok(rows
        .into_iter()
        .map(|r| {
            let detail = serde_json::from_str::<serde_json::Value>(&r.detail)
                .unwrap_or(serde_json::Value::String(r.detail));
            serde_json::json!({
                "id": r.id, "at": r.at, "actor": r.actor, "action": r.action,
                "entity": r.entity, "entity_id": r.entity_id, "detail": detail,
            })
        })
        .collect::<Vec<_>>()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct T {
        state: String,
        n: Option<u32>,
    }

    fn field_of(body: &str) -> String {
        match parse_body::<T>(body.as_bytes()) {
            Ok(_) => "ok".into(),
            Err(ApiError(e)) => e.parts().2.unwrap_or_default(),
        }
    }

    #[test]
    fn a_bad_body_names_its_field() {
        assert_eq!(field_of(r#"{"state":"NPL"}"#), "ok");
        assert_eq!(field_of(r#"{"state":"NPL""#), "body");
        assert_eq!(field_of("[1]"), "body");
        assert_eq!(field_of(r#"{"n":1}"#), "state");
        assert_eq!(field_of(r#"{"state":5}"#), "state");
        assert_eq!(field_of(r#"{"state":"x","n":"many"}"#), "n");
        assert_eq!(field_of(r#"{"state":"x","sumary":"typo"}"#), "sumary");
    }

    #[test]
    fn the_openapi_document_parses() {
        let doc: serde_json::Value = serde_json::from_str(OPENAPI).unwrap_or_default();
        assert_eq!(doc["openapi"], "3.1.0");
    }
}
