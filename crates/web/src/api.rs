//! The JSON API under `/api/v1`: what the pages do, for scripts. Authenticated by the session
//! cookie (writes then need `X-CSRF-Token`) or by `Authorization: Bearer TOKEN` (an API token made
//! on `/account`). Every handler calls the same library function the CLI calls, so a write is one
//! transaction with its audit record whichever way it comes in.
//!
//! Errors are `{"error": {"code", "message", "field"}}`; a body that is not JSON, or a field of the
//! wrong type, is a 400 with code `invalid` naming the field ([`Body`]). `/api/openapi.json`
//! describes every route: the document is derived from the handlers' `#[utoipa::path]`, their
//! input and view types and the router itself (utoipa-axum), so it cannot drift from the code.

use std::sync::Arc;

use axum::Json;
use axum::extract::{FromRequest, FromRequestParts, Path, Request, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use outreach_core::audit::AuditEntry;
use outreach_core::directory::{
    self, ContactInput, ContactRecord, GrantInput, GrantView, OrganisationInput, OrganisationRecord,
};
use outreach_core::domain::parse_date;
use outreach_core::engagements::{self, EngagementInput, EngagementView};
use outreach_core::followups::{self, FollowUpInput, FollowUpView};
use outreach_core::meetings::{self, MeetingInput, MeetingView};
use outreach_core::posts::{self, PostFilter, PostInput, PostRecord};
use outreach_core::stance::{
    self, StanceFilter, StanceHistory, StanceInput, StanceView, StatesSort,
};
use outreach_core::states::StateStatus;
use outreach_core::status::StatusFilter;
use outreach_core::views::{AttentionRow, StateProfile};
use outreach_core::{audit, states, views};
use outreach_letters::drafts::{self, DraftRequest, LetterView};
use outreach_mailer::ledger::{OutboxEntry, Requeued};
use outreach_scheduler::planner;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::rules::RulesView;
use crate::{ApiError, ApiResult, ApiUser, AppState, Role, WebError};

/// The API's routes, each from its handler's `#[utoipa::path]`, with the OpenAPI document they
/// make.
pub fn routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(openapi))
        .routes(routes!(api_states))
        .routes(routes!(api_state))
        .routes(routes!(api_attention))
        .routes(routes!(stance_history, set_stance))
        .routes(routes!(list_engagements, log_engagement))
        .routes(routes!(list_meetings, schedule_meeting))
        .routes(routes!(show_meeting))
        .routes(routes!(reschedule_meeting))
        .routes(routes!(cancel_meeting))
        .routes(routes!(meeting_held))
        .routes(routes!(list_follow_ups, add_follow_up))
        .routes(routes!(follow_up_done))
        .routes(routes!(list_letters, draft_letter))
        .routes(routes!(show_letter))
        .routes(routes!(submit_letter))
        .routes(routes!(approve_letter))
        .routes(routes!(edit_letter))
        .routes(routes!(letter_sent))
        .routes(routes!(export_letter))
        .routes(routes!(outbox))
        .routes(routes!(requeue))
        .routes(routes!(add_contact))
        .routes(routes!(add_organisation))
        .routes(routes!(add_grant))
        .routes(routes!(list_posts, add_post))
        .routes(routes!(end_post))
        .routes(routes!(api_rules))
        .routes(routes!(audit_log))
        .merge(crate::grants::api_routes())
        .merge(crate::signals::api_routes())
}

/// The document's frame: what the API is, how to authenticate, the error shape. The paths and
/// schemas are added by [`routes`].
#[derive(OpenApi)]
#[openapi(
    info(
        title = "outreach API",
        version = "1",
        description = "The JSON API of the outreach web app: everything the pages do, for scripts. \
            Authenticate with an API token made on /account (`Authorization: Bearer TOKEN`), or with \
            the session cookie of a signed-in browser, in which case every write (POST) must carry the \
            session's CSRF token in `X-CSRF-Token`. Errors are `{\"error\": {\"code\", \"message\", \
            \"field\"}}`. Ids may be given in full or by their last 8 characters."
    ),
    servers((url = "/")),
    components(schemas(ErrorBody, ErrorDetail, ErrorCode)),
    tags(
        (name = "states"), (name = "engagements"), (name = "directory"), (name = "meetings"),
        (name = "follow-ups"), (name = "letters"), (name = "mail"), (name = "rules"),
        (name = "audit"), (name = "meta")
    )
)]
struct ApiDoc;

/// What the derives cannot say, added once every route is in: the security schemes, and the
/// errors every operation may answer.
pub(crate) fn complete(doc: &mut utoipa::openapi::OpenApi) {
    {
        use utoipa::openapi::path::ParameterIn;
        use utoipa::openapi::security::{
            ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityRequirement, SecurityScheme,
        };
        let components = doc.components.get_or_insert_with(Default::default);
        let mut bearer = Http::new(HttpAuthScheme::Bearer);
        bearer.description =
            Some("An API token made on /account (shown once). Revoke it there.".into());
        components.add_security_scheme("bearerToken", SecurityScheme::Http(bearer));
        components.add_security_scheme(
            "sessionCookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::auth::SESSION_COOKIE,
                "The session cookie set by signing in on /login.",
            ))),
        );
        components.add_security_scheme(
            "csrfHeader",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-CSRF-Token",
                "With the session cookie, every write must send the session's CSRF token (the \
                 `csrf` hidden field of any page).",
            ))),
        );
        doc.security = Some(vec![
            SecurityRequirement::new("bearerToken", Vec::<String>::new()),
            SecurityRequirement::new("sessionCookie", Vec::<String>::new())
                .add("csrfHeader", Vec::<String>::new()),
        ]);
        for item in doc.paths.paths.values_mut() {
            for op in [
                item.get.as_mut(),
                item.post.as_mut(),
                item.put.as_mut(),
                item.patch.as_mut(),
                item.delete.as_mut(),
            ]
            .into_iter()
            .flatten()
            {
                for (status, what) in ERRORS {
                    op.responses
                        .responses
                        .entry((*status).to_owned())
                        .or_insert_with(|| error_response(what));
                }
                // A parameter whose schema is written by hand (`schema_with`) loses `required`
                // in the derive: a path parameter always is, and so is each in REQUIRED_QUERY.
                let id = op.operation_id.clone();
                for p in op.parameters.iter_mut().flatten() {
                    let utoipa::openapi::RefOr::T(p) = p else {
                        continue;
                    };
                    if p.parameter_in == ParameterIn::Path
                        || REQUIRED_QUERY.contains(&(id.as_deref(), p.name.as_str()))
                    {
                        p.required = utoipa::openapi::Required::True;
                    }
                }
            }
        }
    }
}

/// The query parameters without which an operation is refused.
const REQUIRED_QUERY: &[(Option<&str>, &str)] = &[(Some("listEngagements"), "state")];

/// The errors any operation may answer, with what each means.
const ERRORS: &[(&str, &str)] = &[
    (
        "400",
        "A bad field, named in `field` (codes `invalid`, `unknown_state`).",
    ),
    (
        "401",
        "No session cookie and no valid API token (code `unauthenticated`).",
    ),
    (
        "403",
        "Your role does not allow this (code `forbidden`), or a cookie-authenticated write \
         without `X-CSRF-Token` (code `csrf`).",
    ),
    ("404", "No such record (code `not_found`)."),
    (
        "409",
        "Not possible as the records stand: a duplicate, a record in the wrong state, a name \
         that matches several records (code `ambiguous`), a letter whose template needs what \
         the directory lacks (code `conflict`).",
    ),
    (
        "503",
        "The database cannot be reached just now; nothing was read or saved (code `unavailable`).",
    ),
];

fn error_response(
    description: &str,
) -> utoipa::openapi::RefOr<utoipa::openapi::response::Response> {
    utoipa::openapi::ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            utoipa::openapi::ContentBuilder::new()
                .schema(Some(utoipa::openapi::Ref::from_schema_name("Error")))
                .build(),
        )
        .build()
        .into()
}

/// Every error the API answers: `{"error": {"code", "message", "field"}}`.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    pub code: ErrorCode,
    /// What is wrong and how to fix it.
    pub message: String,
    /// The field at fault (a body field, a query parameter, `state`, or `body` for JSON that does
    /// not parse).
    pub field: Option<String>,
}

/// The stable machine code of an error.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    Invalid,
    UnknownState,
    Ambiguous,
    InvalidCsv,
    NotFound,
    Conflict,
    Forbidden,
    Csrf,
    Unauthenticated,
    Setup,
    Unavailable,
    Internal,
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
    number("limit", given, default, 1..=1000)
}

/// The ISO code of the state a listing is filtered by, if any.
async fn state_filter(app: &AppState, given: Option<&str>) -> Result<Option<String>, ApiError> {
    match given.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => Ok(Some(states::resolve(&app.db, s).await?.iso3)),
        None => Ok(None),
    }
}

async fn treaty_code(app: &AppState, given: Option<&str>) -> Result<String, ApiError> {
    let given = given
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or(&app.treaty);
    Ok(states::resolve_treaty(&app.db, given).await?.code)
}

#[utoipa::path(
    get, path = "/api/openapi.json", tag = "meta", operation_id = "openapi",
    summary = "This document: the API described in OpenAPI 3.1, derived from the code.",
    responses((status = 200, description = "The OpenAPI document.", body = Object))
)]
async fn openapi(ApiUser(_user): ApiUser, State(app): State<Arc<AppState>>) -> ApiResult<Response> {
    Ok(ok(document_for(&app)?))
}

/// The document as this server answers: the derived one, with the names this server's
/// configuration defines (its letter templates and reminder rules) as the values those fields
/// take.
fn document_for(app: &AppState) -> ApiResult<serde_json::Value> {
    static DOC: std::sync::OnceLock<Result<serde_json::Value, String>> = std::sync::OnceLock::new();
    let doc =
        DOC.get_or_init(|| serde_json::to_value(crate::app_routes().1).map_err(|e| e.to_string()));
    let mut doc = doc
        .clone()
        .map_err(|e| WebError::Internal(format!("the OpenAPI document: {e}")))?;
    let templates: Vec<String> = app
        .letters
        .templates
        .list()
        .into_iter()
        .map(|t| t.name)
        .collect();
    let template = &mut doc["components"]["schemas"]["NewLetter"]["properties"]["template"];
    template["enum"] = serde_json::json!(templates);
    let mut rules = vec![String::new()];
    rules.extend(planner::rule_names(&app.workflows));
    if let Some(params) = doc["paths"]["/api/v1/rules"]["get"]["parameters"].as_array_mut() {
        for p in params.iter_mut().filter(|p| p["name"] == "rule") {
            p["schema"]["enum"] = serde_json::json!(rules);
        }
    }
    Ok(doc)
}

// ---------------------------------------------------------------------------------------------
// States

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct StatesQuery {
    #[param(schema_with = crate::schema::treaty)]
    treaty: Option<String>,
    /// Which states: party (withdrawing included), not-party (signatories and withdrawn states
    /// included), signatory, withdrawing, withdrawn; default all.
    #[param(value_type = Option<StatusChoice>)]
    status: Option<String>,
    /// YYYY-MM-DD; today in your zone when absent.
    #[param(schema_with = crate::schema::date_param)]
    at: Option<String>,
    /// Only states party to at least one of these other treaties on that date, comma-separated,
    /// such as `CCM,CCW_P5`.
    #[param(schema_with = crate::schema::treaty_list)]
    party_to: Option<String>,
    /// Only states with these current stances, as the caller may know them.
    #[param(schema_with = crate::schema::stance_filter)]
    stance: Option<String>,
    /// `name` (the default) or `stance` (the most promising first, none on record last).
    #[param(schema_with = states_sort)]
    sort: Option<String>,
}

fn states_sort() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    crate::schema::one_of(
        &["", "name", "stance"],
        "name (the default) or stance.",
        false,
    )
}

fn attention_sort() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    crate::schema::one_of(
        &["", "days", "stance", "name"],
        "days (the default: never or least recently engaged first), stance or name.",
        false,
    )
}

/// A record in the path: its id, or its last 8 characters.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
struct IdPath {
    #[param(schema_with = crate::schema::id)]
    id: String,
}

/// A state in the path.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
struct StatePath {
    /// ISO3 code or name, e.g. NPL or Nepal.
    #[param(schema_with = crate::schema::state)]
    state: String,
}

/// A filter on treaty status.
#[derive(Debug, ToSchema)]
#[schema(rename_all = "kebab-case")]
#[allow(dead_code)]
enum StatusChoice {
    All,
    Party,
    NotParty,
    Signatory,
    Withdrawing,
    Withdrawn,
}

#[utoipa::path(
    get, path = "/api/v1/states", tag = "states", operation_id = "listStates",
    summary = "States with their treaty status on a date (as `outreach states`).",
    params(StatesQuery),
    responses((status = 200, description = "The states.", body = Vec<StateStatus>))
)]
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
    let party_to: Vec<String> = q
        .party_to
        .as_deref()
        .unwrap_or_default()
        .split(',')
        .map(|c| c.trim().to_ascii_uppercase())
        .filter(|c| !c.is_empty())
        .collect();
    let stance_filter = StanceFilter::parse("stance", q.stance.as_deref().unwrap_or(""))?;
    let sort = StatesSort::parse("sort", q.sort.as_deref().unwrap_or(""))?;
    let rows = stance::listing(
        &app.db,
        &user.reader,
        &treaty,
        filter,
        at,
        &party_to,
        stance_filter.as_ref(),
        sort,
    )
    .await?;
    Ok(ok(rows))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct StateQuery {
    #[param(schema_with = crate::schema::treaty)]
    treaty: Option<String>,
    /// YYYY-MM-DD; today in your zone when absent.
    #[param(schema_with = crate::schema::date_param)]
    at: Option<String>,
    /// How many engagements the timeline holds, newest first (1 to 1000; default 50);
    /// `engagement_count` counts them all, and `GET /api/v1/engagements` pages through them.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    timeline: Option<String>,
}

#[utoipa::path(
    get, path = "/api/v1/states/{state}", tag = "states", operation_id = "getState",
    summary = "A state's profile: status history, signals, contacts, organisations, grants, engagements, meetings, open follow-ups (as `outreach state show`).",
    params(StatePath, StateQuery),
    responses((status = 200, description = "The state's profile.", body = StateProfile))
)]
async fn api_state(
    ApiUser(user): ApiUser,
    State(app): State<Arc<AppState>>,
    Path(state): Path<String>,
    Q(q): Q<StateQuery>,
) -> ApiResult<Response> {
    let st = states::resolve(&app.db, &state).await?;
    let treaty = treaty_code(&app, q.treaty.as_deref()).await?;
    let at = match q.at.as_deref() {
        Some(d) => parse_date("at", d)?,
        None => user.today(),
    };
    let timeline = number(
        "timeline",
        q.timeline.as_deref(),
        PROFILE_TIMELINE,
        1..=1000,
    )?;
    let profile = views::profile_with(
        &app.db,
        st,
        &treaty,
        at,
        user.zone,
        user.today(),
        Some(timeline),
        &user.reader,
    )
    .await?;
    Ok(ok(profile))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct AttentionQuery {
    #[param(schema_with = crate::schema::treaty)]
    treaty: Option<String>,
    /// Only states with these current stances, as the caller may know them.
    #[param(schema_with = crate::schema::stance_filter)]
    stance: Option<String>,
    #[param(schema_with = attention_sort)]
    sort: Option<String>,
}

#[utoipa::path(
    get, path = "/api/v1/attention", tag = "states", operation_id = "attention",
    summary = "States not party, least recently engaged first, each with its stance (as `outreach attention`).",
    params(AttentionQuery),
    responses((status = 200, description = "The states, least recently engaged first.", body = Vec<AttentionRow>))
)]
async fn api_attention(
    ApiUser(user): ApiUser,
    State(app): State<Arc<AppState>>,
    Q(q): Q<AttentionQuery>,
) -> ApiResult<Response> {
    let stance_filter = StanceFilter::parse("stance", q.stance.as_deref().unwrap_or(""))?;
    let sort = views::AttentionSort::parse("sort", q.sort.as_deref().unwrap_or(""))?;
    let treaty = treaty_code(&app, q.treaty.as_deref()).await?;
    let mut rows = views::attention(&app.db, &treaty, user.today(), &user.reader).await?;
    if let Some(f) = &stance_filter {
        rows.retain(|r| f.matches(r.stance.as_deref()));
    }
    sort.apply(&mut rows);
    Ok(ok(rows))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct AtQuery {
    /// YYYY-MM-DD; today in your zone when absent.
    #[param(schema_with = crate::schema::date_param)]
    at: Option<String>,
}

#[utoipa::path(
    get, path = "/api/v1/states/{state}/stance", tag = "states", operation_id = "stanceHistory",
    summary = "A state's current stance and each change before it, newest first, as you may know them (as `outreach stance show`).",
    params(StatePath, AtQuery),
    responses((status = 200, description = "The stance and its history.", body = StanceHistory))
)]
async fn stance_history(
    ApiUser(user): ApiUser,
    State(app): State<Arc<AppState>>,
    Path(state): Path<String>,
    Q(q): Q<AtQuery>,
) -> ApiResult<Response> {
    let st = states::resolve(&app.db, &state).await?;
    let at = match q.at.as_deref() {
        Some(d) => parse_date("at", d)?,
        None => user.today(),
    };
    Ok(ok(
        stance::of_state(&app.db, &user.reader, &st.iso3, at).await?
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewStance {
    #[schema(schema_with = fields::stance_required)]
    stance: String,
    /// Why: what you know that the engagements do not say.
    #[schema(schema_with = fields::paragraphs_1000)]
    reason: String,
    /// The day it holds from, YYYY-MM-DD, not in the future; today when absent.
    #[schema(schema_with = crate::schema::past_date)]
    on: Option<String>,
}

#[utoipa::path(
    post, path = "/api/v1/states/{state}/stance", tag = "states", operation_id = "setStance",
    summary = "Set a state's stance from a day on, with the reason (coordinators and admins; as `outreach stance set`).",
    params(StatePath),
    request_body = NewStance,
    responses((status = 201, description = "The stance as set.", body = StanceView))
)]
async fn set_stance(
    ApiUser(user): ApiUser,
    State(app): State<Arc<AppState>>,
    Path(state): Path<String>,
    Body(b): Body<NewStance>,
) -> ApiResult<Response> {
    user.require(Role::Coordinator, "set a state's stance")?;
    let v = stance::set(
        &app.db,
        &user.actor,
        &StanceInput {
            state,
            stance: b.stance,
            reason: b.reason,
            on: b.on,
        },
    )
    .await?;
    Ok(created(v))
}

// ---------------------------------------------------------------------------------------------
// Engagements

/// The values of the libraries' closed sets, for the document.
static ENGAGEMENT_KINDS: std::sync::LazyLock<Vec<&'static str>> = std::sync::LazyLock::new(|| {
    outreach_core::domain::EngagementKind::ALL
        .iter()
        .map(|k| k.as_str())
        .collect()
});
static STANCES: std::sync::LazyLock<Vec<&'static str>> = std::sync::LazyLock::new(|| {
    outreach_core::domain::Stance::ALL
        .iter()
        .map(|k| k.as_str())
        .collect()
});
static SENSITIVITIES: std::sync::LazyLock<Vec<&'static str>> = std::sync::LazyLock::new(|| {
    outreach_core::domain::Sensitivity::ALL
        .iter()
        .map(|k| k.as_str())
        .collect()
});
static ORGANISATION_KINDS: std::sync::LazyLock<Vec<&'static str>> =
    std::sync::LazyLock::new(|| {
        outreach_core::domain::OrganisationKind::ALL
            .iter()
            .map(|k| k.as_str())
            .collect()
    });

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct EngagementsQuery {
    /// The state: ISO3 code or name (required), e.g. NPL or Nepal.
    #[param(required = true, schema_with = crate::schema::state)]
    state: Option<String>,
    /// How many, newest first (1 to 1000; default 100).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    limit: Option<String>,
    /// How many to skip before the first (default 0): `offset=100` is the second page of 100.
    #[param(value_type = Option<u32>, minimum = 0, maximum = 1000000)]
    offset: Option<String>,
}

/// One state's engagements, newest first, a page at a time (`limit`, default 100, and
/// `offset`); the `X-Total-Count` header says how many there are in all.
#[utoipa::path(
    get, path = "/api/v1/engagements", tag = "engagements", operation_id = "listEngagements",
    summary = "One state's engagements, newest first, a page at a time.",
    params(EngagementsQuery),
    responses((status = 200, description = "The engagements, newest first.", body = Vec<EngagementView>,
        headers(("x-total-count" = u64, description = "How many engagements the state has in all."))))
)]
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
    let n = limit(q.limit.as_deref(), ENGAGEMENTS_PAGE)?;
    let offset = number("offset", q.offset.as_deref(), 0, 0..=1_000_000)?;
    let rows = engagements::page_for_state(&app.db, &iso3, Some(n), offset, &user.reader).await?;
    let total = engagements::count_for_state(&app.db, &iso3).await?;
    let mut res = ok(rows);
    res.headers_mut()
        .insert("x-total-count", axum::http::HeaderValue::from(total));
    Ok(res)
}

/// How many engagements a page of `GET /api/v1/engagements` holds by default.
const ENGAGEMENTS_PAGE: u64 = 100;
/// How many engagements a state's profile in the API holds by default.
const PROFILE_TIMELINE: u64 = 50;

/// A whole number in `range` given as `field`, `default` when absent.
fn number(
    field: &str,
    given: Option<&str>,
    default: u64,
    range: std::ops::RangeInclusive<u64>,
) -> Result<u64, ApiError> {
    match given.map(str::trim) {
        None | Some("") => Ok(default),
        Some(s) => match s.parse::<u64>() {
            Ok(n) if range.contains(&n) => Ok(n),
            _ => Err(WebError::invalid(
                field,
                format!(
                    "'{s}' is not a number from {} to {}",
                    range.start(),
                    range.end()
                ),
            )
            .into()),
        },
    }
}

/// Contacts by email, name or id: a list, or one string.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
enum Names {
    One(String),
    Many(Vec<String>),
}

impl Names {
    fn into_vec(names: Option<Self>) -> Vec<String> {
        match names {
            None => Vec::new(),
            Some(Self::One(s)) => vec![s],
            Some(Self::Many(v)) => v,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewEngagement {
    #[schema(schema_with = crate::schema::state)]
    state: String,
    #[schema(schema_with = fields::engagement_kind)]
    kind: String,
    #[schema(schema_with = crate::schema::past_date)]
    date: Option<String>,
    #[schema(schema_with = fields::optional_paragraphs_4000)]
    summary: Option<String>,
    #[schema(schema_with = fields::optional_paragraphs_4000)]
    outcome: Option<String>,
    #[schema(schema_with = fields::stance)]
    stance: Option<String>,
    /// Contacts by email, name or id: one, or a list.
    #[schema(schema_with = crate::schema::contacts)]
    with: Option<Names>,
    /// `public`, `internal` or `restricted`; default by kind.
    #[schema(schema_with = fields::sensitivity)]
    sensitivity: Option<String>,
    /// The grant deliverable it fulfils (a deliverable of a grant in the same state): its id
    /// or last 8 characters.
    #[schema(schema_with = crate::schema::optional_id)]
    deliverable: Option<String>,
}

#[utoipa::path(
    post, path = "/api/v1/engagements", tag = "engagements", operation_id = "logEngagement",
    summary = "Log an engagement (as `outreach log`).",
    request_body = NewEngagement,
    responses((status = 201, description = "The engagement as logged.", body = EngagementView))
)]
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
            with: Names::into_vec(b.with),
            meeting_id: None,
            sensitivity: b.sensitivity,
            restricted_kinds: Some(app.settings.engagements.restricted_kinds.clone()),
            deliverable: b.deliverable,
        },
    )
    .await?;
    Ok(created(view))
}

// ---------------------------------------------------------------------------------------------
// Meetings

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct MeetingsQuery {
    /// The state: ISO3 code or name.
    #[param(schema_with = crate::schema::state_filter)]
    state: Option<String>,
    /// true: only planned meetings from now on.
    #[param(value_type = Option<bool>)]
    upcoming: Option<String>,
}

#[utoipa::path(
    get, path = "/api/v1/meetings", tag = "meetings", operation_id = "listMeetings",
    summary = "Meetings by start time.",
    params(MeetingsQuery),
    responses((status = 200, description = "The meetings.", body = Vec<MeetingView>))
)]
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

/// A meeting with its reminders (planned, superseded, sent, failed...), what planning did when
/// it was just scheduled, moved or cancelled, and the engagement logged when it was marked held.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeetingWithReminders {
    #[serde(flatten)]
    pub meeting: meetings::MeetingView,
    pub reminders: Vec<outreach_scheduler::ledger::LedgerLine>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<planner::PlanReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub engagement: Option<engagements::EngagementView>,
}

async fn meeting_with_reminders(
    app: &AppState,
    meeting: meetings::MeetingView,
    plan: Option<planner::PlanReport>,
) -> ApiResult<MeetingWithReminders> {
    let reminders =
        outreach_scheduler::ledger::for_subject(&app.db, "meeting", &meeting.id.to_string())
            .await?;
    Ok(MeetingWithReminders {
        meeting,
        reminders,
        plan,
        engagement: None,
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewMeeting {
    #[schema(schema_with = crate::schema::state)]
    state: String,
    #[schema(schema_with = fields::line_200)]
    title: String,
    #[schema(schema_with = crate::schema::local_time)]
    at: String,
    /// The time zone of `at`; the capital's when absent.
    #[schema(schema_with = crate::schema::time_zone)]
    tz: Option<String>,
    #[schema(schema_with = crate::schema::duration)]
    duration: Option<String>,
    #[schema(schema_with = fields::optional_line_300)]
    place: Option<String>,
    /// Contacts by email, name or id: one, or a list.
    #[schema(schema_with = crate::schema::contacts)]
    with: Option<Names>,
}

#[utoipa::path(
    post, path = "/api/v1/meetings", tag = "meetings", operation_id = "scheduleMeeting",
    summary = "Schedule a meeting and plan its reminders (as `outreach meeting schedule`).",
    request_body = NewMeeting,
    responses((status = 201, description = "The meeting, what planning did and its reminders.", body = MeetingWithReminders))
)]
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
            with: Names::into_vec(b.with),
        },
    )
    .await?;
    Ok(created(
        meeting_with_reminders(&app, view, Some(plan)).await?,
    ))
}

#[utoipa::path(
    get, path = "/api/v1/meetings/{id}", tag = "meetings", operation_id = "getMeeting",
    summary = "One meeting with its reminders and their states.",
    params(IdPath),
    responses((status = 200, description = "The meeting and its reminders.", body = MeetingWithReminders))
)]
async fn show_meeting(
    ApiUser(user): ApiUser,
    State(app): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let view = meetings::show(&app.db, user.zone, &id).await?;
    Ok(ok(meeting_with_reminders(&app, view, None).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Reschedule {
    #[schema(schema_with = crate::schema::local_time)]
    at: String,
    /// The time zone of `at`; the meeting's when absent.
    #[schema(schema_with = crate::schema::time_zone)]
    tz: Option<String>,
}

#[utoipa::path(
    post, path = "/api/v1/meetings/{id}/reschedule", tag = "meetings", operation_id = "rescheduleMeeting",
    summary = "Move a meeting; its old reminders are superseded and new ones planned.",
    params(IdPath),
    request_body = Reschedule,
    responses((status = 200, description = "The meeting, what planning did and its reminders.", body = MeetingWithReminders))
)]
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
    .await?;
    Ok(ok(meeting_with_reminders(&app, view, Some(plan)).await?))
}

#[utoipa::path(
    post, path = "/api/v1/meetings/{id}/cancel", tag = "meetings", operation_id = "cancelMeeting",
    summary = "Cancel a meeting and its reminders (no body).",
    params(IdPath),
    responses((status = 200, description = "The cancelled meeting and its reminders.", body = MeetingWithReminders))
)]
async fn cancel_meeting(
    ApiUser(user): ApiUser,
    State(app): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let (view, plan) = planner::cancel_meeting(&app.db, &app.workflows, &user.actor, &id).await?;
    Ok(ok(meeting_with_reminders(&app, view, Some(plan)).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Held {
    #[schema(schema_with = fields::engagement_kind_or_default)]
    kind: Option<String>,
    #[schema(schema_with = fields::optional_paragraphs_4000)]
    outcome: Option<String>,
    #[schema(schema_with = fields::stance)]
    stance: Option<String>,
    #[schema(schema_with = fields::sensitivity)]
    sensitivity: Option<String>,
}

/// Marks a meeting held (once it has started) and logs its engagement (a capital meeting unless
/// `kind` says otherwise); a reminder still waiting is not sent (its job finds the meeting held).
#[utoipa::path(
    post, path = "/api/v1/meetings/{id}/held", tag = "meetings", operation_id = "meetingHeld",
    summary = "Mark a planned meeting held and log its engagement with the outcome (as `outreach meeting held`); only once it has started; a reminder still waiting is not sent.",
    params(IdPath),
    request_body = Held,
    responses((status = 200, description = "The meeting, its reminders and the engagement logged.", body = MeetingWithReminders))
)]
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
    .await?;
    let mut v = meeting_with_reminders(&app, view, None).await?;
    v.engagement = Some(engagement);
    Ok(ok(v))
}

// ---------------------------------------------------------------------------------------------
// Contacts, organisations and grants

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewContact {
    #[schema(schema_with = fields::line_200)]
    name: String,
    #[schema(schema_with = crate::schema::optional_state)]
    state: Option<String>,
    #[schema(schema_with = fields::optional_line_100)]
    title: Option<String>,
    #[schema(schema_with = fields::optional_line_200)]
    role: Option<String>,
    /// The organisation, by name or id.
    #[schema(schema_with = fields::optional_line_200)]
    organisation: Option<String>,
    #[schema(schema_with = crate::schema::email)]
    email: Option<String>,
    #[schema(schema_with = crate::schema::languages)]
    languages: Option<String>,
    #[schema(schema_with = crate::schema::time_zone)]
    time_zone: Option<String>,
    #[schema(schema_with = fields::optional_line_50)]
    phone: Option<String>,
    #[schema(schema_with = fields::optional_paragraphs_4000)]
    notes: Option<String>,
}

#[utoipa::path(
    post, path = "/api/v1/contacts", tag = "directory", operation_id = "addContact",
    summary = "Add a contact (as `outreach contact add`); a contact with the same email, or the same name at the same organisation, is a 409.",
    request_body = NewContact,
    responses((status = 201, description = "The contact as stored.", body = ContactRecord))
)]
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
    .await?;
    Ok(created(ContactRecord::from(&c)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewOrganisation {
    #[schema(schema_with = fields::line_200)]
    name: String,
    #[schema(schema_with = fields::organisation_kind)]
    kind: Option<String>,
    #[schema(schema_with = crate::schema::optional_state)]
    state: Option<String>,
    #[schema(schema_with = crate::schema::email)]
    email: Option<String>,
    #[schema(schema_with = fields::optional_line_300)]
    website: Option<String>,
    icbl_member: Option<bool>,
    #[schema(schema_with = fields::optional_paragraphs_4000)]
    notes: Option<String>,
}

#[utoipa::path(
    post, path = "/api/v1/organisations", tag = "directory", operation_id = "addOrganisation",
    summary = "Add an organisation (as `outreach org add`); the same name in the same state is a 409.",
    request_body = NewOrganisation,
    responses((status = 201, description = "The organisation as stored.", body = OrganisationRecord))
)]
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
    .await?;
    Ok(created(OrganisationRecord::from(&o)))
}

/// A whole number, also when written as 2009.0 (JSON has one kind of number).
fn whole_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i32, D::Error> {
    let n = serde_json::Number::deserialize(d)?;
    n.as_i64()
        .or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 1e15)
                .map(|f| f as i64)
        })
        .and_then(|i| i32::try_from(i).ok())
        .ok_or_else(|| serde::de::Error::custom(format!("{n} is not a whole number")))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewGrant {
    /// The grantee organisation, by name or id.
    #[schema(schema_with = fields::line_200)]
    organisation: String,
    #[schema(schema_with = crate::schema::optional_state)]
    state: Option<String>,
    #[schema(minimum = 1997, maximum = 2100)]
    #[serde(deserialize_with = "whole_number")]
    year: i32,
    /// 20000 or 20000.50.
    #[schema(pattern = r"^[1-9][0-9]{0,9}(\.[0-9]{1,2})?$")]
    amount: String,
    /// Three letters, such as USD or EUR.
    #[schema(pattern = "^[A-Z]{3}$")]
    currency: String,
    #[schema(schema_with = fields::optional_paragraphs_2000)]
    purpose: Option<String>,
    #[serde(default)]
    #[schema(schema_with = crate::schema::dates)]
    reports_due: Vec<String>,
}

/// An Investing in Action grant with its report dates (coordinators and admins).
#[utoipa::path(
    post, path = "/api/v1/grants", tag = "directory", operation_id = "addGrant",
    summary = "Record an Investing in Action grant with the dates its reports are due (coordinators and admins; as `outreach grant add`). Report reminders are planned by the next sweep.",
    request_body = NewGrant,
    responses((status = 201, description = "The grant as stored.", body = GrantView))
)]
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
            outreach_core::Error::Invalid {
                field: "reports_due".into(),
                message,
            }
        }
        other => other,
    })?;
    Ok(created(g))
}

// ---------------------------------------------------------------------------------------------
// Posts

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct PostsQuery {
    /// Only posts in this state: ISO3 code or name.
    #[param(schema_with = crate::schema::state_filter)]
    state: Option<String>,
    /// Only this contact's posts: their email, name or id.
    #[param(schema_with = fields::line_param_200)]
    contact: Option<String>,
    /// Only posts at this organisation: its name or id.
    #[param(schema_with = fields::line_param_200)]
    organisation: Option<String>,
    /// Only the posts held on this date (YYYY-MM-DD): who held which office then.
    #[param(schema_with = crate::schema::date_param)]
    at: Option<String>,
}

/// Posts and their holders over time: by title, the newest term first.
#[utoipa::path(
    get, path = "/api/v1/posts", tag = "directory", operation_id = "listPosts",
    summary = "Posts and who held them: by title, the newest term first; with `at`, only those held on that date (as `outreach posts`).",
    params(PostsQuery),
    responses((status = 200, description = "The posts.", body = Vec<PostRecord>))
)]
async fn list_posts(
    ApiUser(user): ApiUser,
    State(app): State<Arc<AppState>>,
    Q(q): Q<PostsQuery>,
) -> ApiResult<Response> {
    let blank = |s: Option<String>| s.filter(|s| !s.trim().is_empty());
    let at = match blank(q.at) {
        Some(d) => Some(parse_date("at", &d)?),
        None => None,
    };
    let rows = posts::posts(
        &app.db,
        &PostFilter {
            state: blank(q.state),
            contact: blank(q.contact),
            organisation: blank(q.organisation),
            at,
        },
        user.today(),
    )
    .await?;
    Ok(ok(rows))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewPost {
    /// The holder: a contact's email, name or id.
    #[schema(schema_with = fields::line_200)]
    contact: String,
    /// The office: "Ambassador to Switzerland", "Minister for Foreign Affairs".
    #[schema(schema_with = fields::line_200)]
    title: String,
    /// The organisation the post is at, by name or id.
    #[schema(schema_with = fields::optional_line_200)]
    organisation: Option<String>,
    /// The state the post is in; the organisation's, else the contact's, when absent.
    #[schema(schema_with = crate::schema::optional_state)]
    state: Option<String>,
    /// The first day in office; unknown when absent.
    #[schema(schema_with = crate::schema::date)]
    from: Option<String>,
    /// The last day in office, on or after `from`; still held when absent.
    #[schema(schema_with = crate::schema::date)]
    to: Option<String>,
}

/// Records that a contact holds a post; the open term of someone else in the same post that
/// began earlier ends the day before.
#[utoipa::path(
    post, path = "/api/v1/posts", tag = "directory", operation_id = "addPost",
    summary = "Record that a contact holds a post (as `outreach post add`). Someone else still in the same post (same title at the same organisation, or in the same state) since an earlier day leaves it the day before `from`; any other overlap of terms is a 409 naming the other holder.",
    request_body = NewPost,
    responses((status = 201, description = "The post as stored.", body = PostRecord))
)]
async fn add_post(
    ApiUser(user): ApiUser,
    State(app): State<Arc<AppState>>,
    Body(b): Body<NewPost>,
) -> ApiResult<Response> {
    // Two well-formed dates that disagree: the document cannot say one must follow the other,
    // so the request is valid by it and answered as one the API refuses as it stands (409),
    // as a term ended before it began is on `/end`; the CLI and the page name `to` (400).
    if let (Some(Ok(from)), Some(Ok(to))) = (
        b.from.as_deref().map(|d| parse_date("from", d)),
        b.to.as_deref().map(|d| parse_date("to", d)),
    ) && to < from
    {
        return Err(outreach_core::Error::Conflict(format!(
            "to: the term would end on {to}, before it starts on {from}; give an end on or after the start"
        ))
        .into());
    }
    let p = posts::add(
        &app.db,
        &user.actor,
        &PostInput {
            contact: b.contact,
            title: b.title,
            organisation: b.organisation,
            state: b.state,
            from: b.from,
            to: b.to,
        },
    )
    .await?;
    Ok(created(p))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct PostEnded {
    /// The last day in office, YYYY-MM-DD, not before the term began.
    #[schema(schema_with = crate::schema::required_date)]
    on: String,
}

/// Records the last day of a term still open.
#[utoipa::path(
    post, path = "/api/v1/posts/{id}/end", tag = "directory", operation_id = "endPost",
    summary = "Record the last day of a term still open (as `outreach post end`); a term ended already, or one that began after `on`, is a 409.",
    params(IdPath),
    request_body = PostEnded,
    responses((status = 200, description = "The post, ended.", body = PostRecord))
)]
async fn end_post(
    ApiUser(user): ApiUser,
    State(app): State<Arc<AppState>>,
    Path(id): Path<String>,
    Body(b): Body<PostEnded>,
) -> ApiResult<Response> {
    Ok(ok(posts::end(&app.db, &user.actor, &id, &b.on).await?))
}

// ---------------------------------------------------------------------------------------------
// Follow-ups

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct FollowUpsQuery {
    /// The state: ISO3 code or name.
    #[param(schema_with = crate::schema::state_filter)]
    state: Option<String>,
    /// A staff handle.
    #[param(schema_with = fields::handle)]
    owner: Option<String>,
    /// true: yours only.
    #[param(value_type = Option<bool>)]
    mine: Option<String>,
    /// true: done ones too.
    #[param(value_type = Option<bool>)]
    all: Option<String>,
}

#[utoipa::path(
    get, path = "/api/v1/follow-ups", tag = "follow-ups", operation_id = "listFollowUps",
    summary = "Follow-ups by due date (open ones unless all=true).",
    params(FollowUpsQuery),
    responses((status = 200, description = "The follow-ups.", body = Vec<FollowUpView>))
)]
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

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewFollowUp {
    /// The state it is about (optional in a request that names its engagement or meeting).
    #[schema(schema_with = crate::schema::state, required = true)]
    state: Option<String>,
    #[schema(schema_with = fields::paragraphs_2000)]
    description: String,
    /// YYYY-MM-DD; in a week when absent.
    #[schema(schema_with = crate::schema::date)]
    due: Option<String>,
    /// A staff handle; you when absent.
    #[schema(schema_with = fields::optional_line_100)]
    owner: Option<String>,
    /// The engagement it follows, by id.
    #[schema(schema_with = crate::schema::optional_id)]
    engagement: Option<String>,
    /// The meeting it follows, by id.
    #[schema(schema_with = crate::schema::optional_id)]
    meeting: Option<String>,
}

#[utoipa::path(
    post, path = "/api/v1/follow-ups", tag = "follow-ups", operation_id = "addFollowUp",
    summary = "Add a follow-up (as `outreach follow-up add`).",
    request_body = NewFollowUp,
    responses((status = 201, description = "The follow-up as stored.", body = FollowUpView))
)]
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
    .await?;
    Ok(created(f))
}

#[utoipa::path(
    post, path = "/api/v1/follow-ups/{id}/done", tag = "follow-ups", operation_id = "followUpDone",
    summary = "Mark a follow-up done (no body).",
    params(IdPath),
    responses((status = 200, description = "The follow-up, done.", body = FollowUpView))
)]
async fn follow_up_done(
    ApiUser(user): ApiUser,
    State(app): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    Ok(ok(followups::done(&app.db, &user.actor, &id).await?))
}

// ---------------------------------------------------------------------------------------------
// Letters

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct LettersQuery {
    /// draft, in_review, approved, exported or sent.
    #[param(schema_with = fields::letter_status)]
    status: Option<String>,
}

#[utoipa::path(
    get, path = "/api/v1/letters", tag = "letters", operation_id = "listLetters",
    summary = "Letters, most recently changed first.",
    params(LettersQuery),
    responses((status = 200, description = "The letters.", body = Vec<LetterView>))
)]
async fn list_letters(
    ApiUser(_user): ApiUser,
    State(app): State<Arc<AppState>>,
    Q(q): Q<LettersQuery>,
) -> ApiResult<Response> {
    let status = q.status.filter(|s| !s.trim().is_empty());
    Ok(ok(drafts::list(&app.db, status.as_deref()).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewLetter {
    /// The letter template, by name (`GET /api/openapi.json` lists this server's).
    template: String,
    #[schema(schema_with = crate::schema::state)]
    state: String,
    /// The recipient: a contact by email, name or id; the foreign minister by office when absent.
    #[schema(schema_with = fields::optional_line_200)]
    to: Option<String>,
    #[schema(schema_with = fields::letter_language)]
    lang: Option<String>,
    /// The signal the letter answers, by id: the policy step or condemnation a `thanks` letter
    /// thanks for (one of the state's own), the reported use a `call_to_speak_out` responds to.
    #[schema(schema_with = crate::schema::optional_id)]
    signal: Option<String>,
}

#[utoipa::path(
    post, path = "/api/v1/letters", tag = "letters", operation_id = "draftLetter",
    summary = "Draft a letter from a template (as `outreach letter draft`).",
    request_body = NewLetter,
    responses((status = 201, description = "The draft.", body = LetterView))
)]
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
            signal: b.signal,
        },
    )
    .await?;
    Ok(created(view))
}

#[utoipa::path(
    get, path = "/api/v1/letters/{id}", tag = "letters", operation_id = "getLetter",
    summary = "One letter with every version.",
    params(IdPath),
    responses((status = 200, description = "The letter.", body = LetterView))
)]
async fn show_letter(
    ApiUser(_user): ApiUser,
    State(app): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    Ok(ok(drafts::show(&app.db, &id).await?))
}

#[utoipa::path(
    post, path = "/api/v1/letters/{id}/submit", tag = "letters", operation_id = "submitLetter",
    summary = "Submit a draft for review (no body).",
    params(IdPath),
    responses((status = 200, description = "The letter, in review.", body = LetterView))
)]
async fn submit_letter(
    ApiUser(user): ApiUser,
    State(app): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    Ok(ok(drafts::submit(&app.db, &user.actor, &id).await?))
}

#[utoipa::path(
    post, path = "/api/v1/letters/{id}/approve", tag = "letters", operation_id = "approveLetter",
    summary = "Approve a letter in review (coordinators and admins; staff get 403).",
    params(IdPath),
    responses((status = 200, description = "The letter, approved.", body = LetterView))
)]
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
    .await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct LetterEdit {
    #[schema(schema_with = fields::optional_line_300)]
    subject: Option<String>,
    #[schema(schema_with = fields::paragraphs_100_000)]
    body: String,
    #[schema(schema_with = fields::optional_line_300)]
    note: Option<String>,
}

/// A new version of the letter's text (the whole text; the subject is kept when absent).
#[utoipa::path(
    post, path = "/api/v1/letters/{id}/edit", tag = "letters", operation_id = "editLetter",
    summary = "Save a new version of a letter's text (the whole text); a letter in review or approved goes back to draft.",
    params(IdPath),
    request_body = LetterEdit,
    responses((status = 200, description = "The letter with its new version.", body = LetterView))
)]
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
    .await?))
}

#[utoipa::path(
    post, path = "/api/v1/letters/{id}/send", tag = "letters", operation_id = "letterSent",
    summary = "Record that an approved (or exported) letter was sent.",
    params(IdPath),
    responses((status = 200, description = "The letter, sent.", body = LetterView))
)]
async fn letter_sent(
    ApiUser(user): ApiUser,
    State(app): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    Ok(ok(drafts::mark_sent(&app.db, &user.actor, &id).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ExportQuery {
    /// md (the default), html or docx.
    #[serde(default)]
    #[param(value_type = Option<ExportFormat>)]
    format: String,
}

/// The file an export makes.
#[derive(Debug, ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
enum ExportFormat {
    Md,
    Html,
    Docx,
}

/// The letter's current version as a file (Markdown unless `?format=` says html or docx). An
/// approved letter becomes exported; other letters keep their status (a preview). A POST, since it
/// is recorded.
#[utoipa::path(
    post, path = "/api/v1/letters/{id}/export", tag = "letters", operation_id = "exportLetter",
    summary = "The letter's current version as a file. An approved letter becomes exported; a letter not yet approved keeps its status (a preview). A POST because the export is recorded.",
    params(IdPath, ExportQuery),
    responses((status = 200, description = "The file.", content(
        (String = "text/markdown"),
        (String = "text/html"),
        (Vec<u8> = "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    )))
)]
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

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct OutboxQuery {
    /// queued, sending, sent, failed, cancelled or all (the default).
    #[param(schema_with = fields::outbox_status)]
    status: Option<String>,
    /// 1 to 1000; default 50.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    limit: Option<String>,
}

#[utoipa::path(
    get, path = "/api/v1/outbox", tag = "mail", operation_id = "outbox",
    summary = "Outgoing email, newest first (as `outreach outbox`).",
    params(OutboxQuery),
    responses((status = 200, description = "The messages, newest first.", body = Vec<OutboxEntry>))
)]
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
    .await?))
}

/// Puts a failed message back in the queue (coordinators and admins).
#[utoipa::path(
    post, path = "/api/v1/outbox/{id}/requeue", tag = "mail", operation_id = "requeueMessage",
    summary = "Put a failed message back in the queue, due now (coordinators and admins; as `outreach mail requeue`).",
    params(IdPath),
    responses((status = 200, description = "The message, queued again.", body = Requeued))
)]
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
    .await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct RulesQuery {
    /// Only this meeting reminder rule's dry run (e.g. meeting-1d).
    rule: Option<String>,
}

/// The rules and schedules, and the dry run of the rules (one rule's with `?rule=`).
#[utoipa::path(
    get, path = "/api/v1/rules", tag = "rules", operation_id = "rules",
    summary = "The reminder rules and schedules the scheduler follows (times in your zone), and a dry run of the meeting rules: who each would remind, when, in which zone and why. Nothing is written.",
    params(RulesQuery),
    responses((status = 200, description = "The rules, the schedules and the dry run.", body = RulesView))
)]
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
    let dry_run = planner::dry_run(&app.db, &app.workflows, rule, chrono::Utc::now()).await?;
    let mut v = crate::rules::describe_rules(&app.workflows, &user);
    v.dry_run = Some(dry_run);
    Ok(ok(v))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct AuditQuery {
    /// 1 to 1000; default 50.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    limit: Option<String>,
}

#[utoipa::path(
    get, path = "/api/v1/audit", tag = "audit", operation_id = "audit",
    summary = "The most recent audit records (admins only).",
    params(AuditQuery),
    responses((status = 200, description = "The records, newest first.", body = Vec<AuditEntry>))
)]
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
        .map(AuditEntry::from)
        .collect::<Vec<_>>()))
}

/// The schemas of single input fields, for `schema_with`.
mod fields {
    use utoipa::openapi::{RefOr, Schema};

    use super::{ENGAGEMENT_KINDS, ORGANISATION_KINDS, SENSITIVITIES, STANCES};

    pub(super) fn letter_status() -> RefOr<Schema> {
        crate::schema::one_of(
            &["", "draft", "in_review", "approved", "exported", "sent"],
            "Only letters with this status.",
            false,
        )
    }

    pub(super) fn outbox_status() -> RefOr<Schema> {
        crate::schema::one_of(
            &[
                "",
                "queued",
                "sending",
                "sent",
                "failed",
                "cancelled",
                "all",
            ],
            "Only messages with this status; all when absent.",
            false,
        )
    }

    pub(super) fn handle() -> RefOr<Schema> {
        crate::schema::line_param(100)
    }

    pub(super) fn engagement_kind() -> RefOr<Schema> {
        crate::schema::one_of(&ENGAGEMENT_KINDS, "What kind of engagement.", false)
    }

    pub(super) fn engagement_kind_or_default() -> RefOr<Schema> {
        crate::schema::one_of(
            &ENGAGEMENT_KINDS,
            "What kind of engagement; capital_meeting when absent.",
            true,
        )
    }

    pub(super) fn letter_language() -> RefOr<Schema> {
        crate::schema::one_of(
            &["en", "fr", "es"],
            "The letter's language; the recipient's when absent.",
            true,
        )
    }

    pub(super) fn line_param_200() -> RefOr<Schema> {
        crate::schema::line_param(200)
    }

    pub(super) fn line_200() -> RefOr<Schema> {
        crate::schema::line(200)
    }

    pub(super) fn optional_line_100() -> RefOr<Schema> {
        crate::schema::optional_line(100)
    }

    pub(super) fn optional_line_200() -> RefOr<Schema> {
        crate::schema::optional_line(200)
    }

    pub(super) fn optional_line_300() -> RefOr<Schema> {
        crate::schema::optional_line(300)
    }

    pub(super) fn optional_line_50() -> RefOr<Schema> {
        crate::schema::optional_line(50)
    }

    pub(super) fn optional_paragraphs_2000() -> RefOr<Schema> {
        crate::schema::optional_paragraphs(2000)
    }

    pub(super) fn optional_paragraphs_4000() -> RefOr<Schema> {
        crate::schema::optional_paragraphs(4000)
    }

    pub(super) fn organisation_kind() -> RefOr<Schema> {
        crate::schema::one_of(
            &ORGANISATION_KINDS,
            "What kind of organisation; other when absent.",
            true,
        )
    }

    pub(super) fn paragraphs_100_000() -> RefOr<Schema> {
        crate::schema::paragraphs(100_000)
    }

    pub(super) fn paragraphs_2000() -> RefOr<Schema> {
        crate::schema::paragraphs(2000)
    }

    pub(super) fn sensitivity() -> RefOr<Schema> {
        crate::schema::one_of(
            &SENSITIVITIES,
            "Who may read it: public, internal or restricted; by kind when absent.",
            true,
        )
    }

    pub(super) fn stance_required() -> RefOr<Schema> {
        crate::schema::one_of(
            &STANCES,
            "supportive, open, neutral, reluctant or opposed.",
            false,
        )
    }

    pub(super) fn paragraphs_1000() -> RefOr<Schema> {
        crate::schema::paragraphs(1000)
    }

    pub(super) fn stance() -> RefOr<Schema> {
        crate::schema::one_of(
            &STANCES,
            "The state's stance as the engagement showed it.",
            true,
        )
    }
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
    fn the_openapi_document_is_openapi_3_1() {
        let doc = crate::app_routes().1;
        let json: serde_json::Value =
            serde_json::from_str(&doc.to_json().expect("serialises")).expect("parses");
        assert_eq!(json["openapi"], "3.1.0");
    }
}
