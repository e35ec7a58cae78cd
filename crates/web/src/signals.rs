//! Signals on the web: the list (`/signals`), newest first, filtered by kind and state, with the
//! count of States Parties that have spoken out against new use; a form to record one (`POST
//! /signals`; a refused form comes back with the message beside its field and what was typed);
//! and the "spoken up" view (`/spoken-up`): the States Parties with and without a condemnation on
//! record. The same as JSON under `/api/v1` ([`api_routes`]).

use std::sync::Arc;

use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use outreach_core::domain::{SignalKind, parse_date};
use outreach_core::signals::{self, SignalFilter, SignalInput, SignalView, SpokenUp};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::Body;
use crate::dashboard::{enc, message_of};
use crate::pages::{Choice, FieldErrors, Page};
use crate::routing::Routes;
use crate::{ApiResult, ApiUser, AppState, PageResult, User};

pub fn routes() -> Routes {
    crate::page_routes! {
        "/signals" => get(signals_page).post(add_signal),
        "/spoken-up" => get(spoken_up_page),
    }
}

/// The fields of the "record a signal" form, as the library names them.
const FIELDS: &[&str] = &["state", "kind", "date", "detail", "value", "source"];

fn words(s: &str) -> String {
    s.replace('_', " ")
}

#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    kind: Option<String>,
    state: Option<String>,
    added: Option<String>,
}

/// A signal to record, as typed; kept when the form is refused.
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
pub struct SignalForm {
    #[serde(default, skip_serializing)]
    csrf: String,
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub date: String,
    #[serde(default)]
    pub detail: String,
    #[serde(default)]
    pub value: String,
    #[serde(default)]
    pub source: String,
}

/// The signals page: the list, its filters, the spoken-up count and the form.
#[derive(Debug, Serialize)]
pub struct SignalsPage {
    pub kind_options: Vec<Choice>,
    /// The state filter as typed.
    pub state: String,
    pub filter_errors: FilterErrors,
    pub filtered: bool,
    /// The list as CSV, with the same filters.
    pub csv_href: String,
    pub count: usize,
    pub rows: Vec<SignalRow>,
    /// States Parties with a condemnation of new use on record, and without.
    pub spoken_with: usize,
    pub spoken_without: usize,
    pub notice: Option<String>,
    /// The form open when it was refused, with what was typed.
    pub add_open: bool,
    pub add: SignalForm,
    pub add_kinds: Vec<Choice>,
    pub add_errors: FieldErrors,
}

#[derive(Debug, Default, Serialize)]
pub struct FilterErrors {
    pub kind: Option<String>,
    pub state: Option<String>,
}

/// A signal (`signals::SignalView`) with its kind in words and whether its source is a link.
#[derive(Debug, Serialize)]
pub struct SignalRow {
    pub short_id: String,
    pub iso3: String,
    pub date: String,
    pub kind: String,
    pub detail: String,
    pub value: Option<String>,
    pub source: Option<String>,
    pub source_is_link: bool,
    /// "confirmed", "unconfirmed", or "recorded here".
    pub confidence: String,
    pub unconfirmed: bool,
    pub note: Option<String>,
}

impl SignalRow {
    fn of(s: SignalView) -> Self {
        let source_is_link = s
            .source
            .as_deref()
            .is_some_and(|u| u.starts_with("https://") || u.starts_with("http://"));
        Self {
            short_id: outreach_core::ids::short(s.id),
            unconfirmed: s.confidence.as_deref() == Some("unconfirmed"),
            confidence: s
                .confidence
                .clone()
                .unwrap_or_else(|| "recorded here".to_owned()),
            iso3: s.iso3,
            date: s.date.to_string(),
            kind: words(&s.kind),
            detail: s.detail,
            value: s.value,
            source: s.source,
            source_is_link,
            note: s.note,
        }
    }
}

impl Page for SignalsPage {
    const TEMPLATE: &'static str = "signals";
    fn sample() -> Self {
        Self {
            kind_options: vec![Choice::sample()],
            state: "RUS".into(),
            filter_errors: FilterErrors {
                kind: Some("not a kind".into()),
                state: Some("not a state".into()),
            },
            filtered: true,
            csv_href: "/export/signals.csv?kind=reported_use".into(),
            count: 1,
            rows: vec![SignalRow {
                short_id: "0000abcd".into(),
                iso3: "RUS".into(),
                date: "2022-02-24".into(),
                kind: "reported use".into(),
                detail: "Landmine Monitor 2022: repeated use".into(),
                value: Some("yes".into()),
                source: Some("https://the-monitor.org/".into()),
                source_is_link: true,
                confidence: "confirmed".into(),
                unconfirmed: false,
                note: Some("a note".into()),
            }],
            spoken_with: 8,
            spoken_without: 156,
            notice: Some("Signal recorded.".into()),
            add_open: true,
            add: SignalForm::default(),
            add_kinds: vec![Choice::sample()],
            add_errors: FieldErrors::sample(FIELDS),
        }
    }
}

fn kind_choices(chosen: &str, any: Option<&str>) -> Vec<Choice> {
    let chosen = chosen.trim().replace('-', "_");
    any.map(|label| Choice::new("", label, chosen.is_empty()))
        .into_iter()
        .chain(
            SignalKind::ALL
                .iter()
                .map(|k| Choice::new(k.as_str(), words(k.as_str()), k.as_str() == chosen)),
        )
        .collect()
}

async fn signals_page(
    State(app): State<Arc<AppState>>,
    user: User,
    Query(q): Query<ListQuery>,
) -> PageResult<Response> {
    render(&app, &user, &q, None).await
}

async fn render(
    app: &AppState,
    user: &User,
    q: &ListQuery,
    refused: Option<(SignalForm, FieldErrors)>,
) -> PageResult<Response> {
    let mut filter_errors = FilterErrors::default();
    let kind = q.kind.clone().unwrap_or_default();
    let state = q.state.clone().unwrap_or_default();
    let kind_ok = match kind.trim() {
        "" => None,
        k => match SignalKind::parse("kind", k) {
            Ok(k) => Some(k.as_str().to_owned()),
            Err(e) => {
                filter_errors.kind = Some(message_of(&e));
                None
            }
        },
    };
    let state_ok = match state.trim() {
        "" => None,
        s => match outreach_core::states::resolve(&app.db, s).await {
            Ok(st) => Some(st.iso3),
            Err(e @ outreach_core::Error::UnknownState { .. }) => {
                filter_errors.state = Some(e.to_string());
                None
            }
            Err(e) => return Err(e.into()),
        },
    };
    let rows = signals::list(
        &app.db,
        &SignalFilter {
            state: state_ok,
            kind: kind_ok,
        },
    )
    .await?;
    let spoken = signals::spoken_up(&app.db, &app.treaty, user.today()).await?;
    let notice = q
        .added
        .as_deref()
        .filter(|a| !a.is_empty())
        .map(|_| "Signal recorded.".to_owned());
    let (add_open, add, add_errors) = match refused {
        Some((form, errors)) => (true, form, errors),
        None => (false, SignalForm::default(), FieldErrors::new(FIELDS)),
    };
    let page = SignalsPage {
        kind_options: kind_choices(&kind, Some("any")),
        filtered: !kind.trim().is_empty() || !state.trim().is_empty(),
        csv_href: format!(
            "/export/signals.csv?kind={}&state={}",
            enc(kind.trim()),
            enc(state.trim())
        ),
        state,
        filter_errors,
        count: rows.len(),
        rows: rows.into_iter().map(SignalRow::of).collect(),
        spoken_with: spoken.count_with,
        spoken_without: spoken.count_without,
        notice,
        add_open,
        add_kinds: kind_choices(&add.kind, None),
        add,
        add_errors,
    };
    let mut res = app.render_page(user, &page);
    if add_open {
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(res)
}

/// `POST /signals`: records a signal and shows the list of that state's signals.
async fn add_signal(
    State(app): State<Arc<AppState>>,
    user: User,
    Form(form): Form<SignalForm>,
) -> PageResult<Response> {
    user.check_csrf(&form.csrf)?;
    let input = SignalInput {
        state: form.state.clone(),
        kind: form.kind.clone(),
        date: form.date.clone(),
        detail: form.detail.clone(),
        value: Some(form.value.clone()).filter(|v| !v.trim().is_empty()),
        source: Some(form.source.clone()).filter(|v| !v.trim().is_empty()),
    };
    match signals::add(&app.db, &user.actor, &input).await {
        Ok(s) => Ok(Redirect::to(&format!(
            "/signals?state={}&added={}",
            enc(&s.iso3),
            outreach_core::ids::short(s.id)
        ))
        .into_response()),
        Err(e) => {
            let mut errors = FieldErrors::new(FIELDS);
            match &e {
                outreach_core::Error::Invalid { field, message }
                    if FIELDS.contains(&field.as_str()) =>
                {
                    errors.set(field, message.clone());
                }
                outreach_core::Error::UnknownState { .. } => errors.set("state", e.to_string()),
                _ => return Err(e.into()),
            }
            render(&app, &user, &ListQuery::default(), Some((form, errors))).await
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct SpokenQuery {
    at: Option<String>,
}

/// The "spoken up" page: States Parties with and without a condemnation of new use on record.
#[derive(Debug, Serialize)]
pub struct SpokenUpPage {
    pub at: String,
    pub at_error: Option<String>,
    pub treaty: String,
    pub count_with: usize,
    pub count_without: usize,
    pub parties_with: Vec<SpokenRow>,
    pub parties_without: Vec<SpokenRow>,
    pub others_with: Vec<SpokenRow>,
}

#[derive(Debug, Serialize)]
pub struct SpokenRow {
    pub iso3: String,
    pub name: String,
    pub latest: Option<String>,
    pub latest_detail: Option<String>,
}

impl Page for SpokenUpPage {
    const TEMPLATE: &'static str = "spoken_up";
    fn sample() -> Self {
        let row = || SpokenRow {
            iso3: "NOR".into(),
            name: "Norway".into(),
            latest: Some("2023-11-15".into()),
            latest_detail: Some("joined the joint statement".into()),
        };
        Self {
            at: "2026-12-07".into(),
            at_error: Some("not a date".into()),
            treaty: "APMBC".into(),
            count_with: 1,
            count_without: 1,
            parties_with: vec![row()],
            parties_without: vec![row()],
            others_with: vec![row()],
        }
    }
}

async fn spoken_up_page(
    State(app): State<Arc<AppState>>,
    user: User,
    Query(q): Query<SpokenQuery>,
) -> PageResult<Response> {
    let today = user.today();
    let (at, at_error) = match q.at.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => (today, None),
        Some(d) => match parse_date("at", d) {
            Ok(d) => (d, None),
            Err(e) => (today, Some(message_of(&e))),
        },
    };
    let s: SpokenUp = signals::spoken_up(&app.db, &app.treaty, at).await?;
    let rows = |v: Vec<signals::SpokenUpRow>| -> Vec<SpokenRow> {
        v.into_iter()
            .map(|r| SpokenRow {
                iso3: r.iso3,
                name: r.name,
                latest: r.latest.map(|d| d.to_string()),
                latest_detail: r.latest_detail,
            })
            .collect()
    };
    let page = SpokenUpPage {
        at: at.to_string(),
        at_error,
        treaty: s.treaty,
        count_with: s.count_with,
        count_without: s.count_without,
        parties_with: rows(s.parties_with),
        parties_without: rows(s.parties_without),
        others_with: rows(s.others_with),
    };
    Ok(app.render_page(&user, &page))
}

// ---------------------------------------------------------------------------------------------
// The API

pub fn api_routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(api_signals, api_add_signal))
        .routes(routes!(api_spoken_up))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct SignalsQuery {
    /// Only signals of this kind.
    #[param(schema_with = kind_filter)]
    kind: Option<String>,
    /// Only this state's signals: its ISO3 code (or name).
    #[param(schema_with = crate::schema::state_filter)]
    state: Option<String>,
}

fn kind_filter() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    let mut values: Vec<&str> = vec![""];
    values.extend(SignalKind::ALL.iter().map(|k| k.as_str()));
    crate::schema::one_of(&values, "A signal kind; empty or absent for all.", false)
}

fn kind_required() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    let values: Vec<&str> = SignalKind::ALL.iter().map(|k| k.as_str()).collect();
    crate::schema::one_of(&values, "What kind of signal.", false)
}

fn detail() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    crate::schema::paragraphs(2000)
}

fn value() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    crate::schema::optional_line(100)
}

fn source() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    crate::schema::optional_line(500)
}

#[utoipa::path(
    get, path = "/api/v1/signals", tag = "states", operation_id = "listSignals",
    summary = "Signals, newest first: those shipped with outreach (with source and confidence) and those recorded here (as `outreach signals`).",
    params(SignalsQuery),
    responses((status = 200, description = "The signals.", body = Vec<SignalView>))
)]
async fn api_signals(
    ApiUser(_user): ApiUser,
    State(app): State<Arc<AppState>>,
    crate::api::Q(q): crate::api::Q<SignalsQuery>,
) -> ApiResult<Response> {
    let rows = signals::list(
        &app.db,
        &SignalFilter {
            state: q.state,
            kind: q.kind,
        },
    )
    .await?;
    Ok(axum::Json(rows).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewSignal {
    #[schema(schema_with = crate::schema::state)]
    state: String,
    #[schema(schema_with = kind_required)]
    kind: String,
    /// When it was observed, YYYY-MM-DD.
    #[schema(schema_with = crate::schema::required_date)]
    date: String,
    /// What was observed.
    #[schema(schema_with = detail)]
    detail: String,
    /// For a vote: yes, no, abstain or absent.
    #[schema(schema_with = value)]
    value: Option<String>,
    /// Where it is documented (an address).
    #[schema(schema_with = source)]
    source: Option<String>,
}

#[utoipa::path(
    post, path = "/api/v1/signals", tag = "states", operation_id = "addSignal",
    summary = "Record a signal about a state (as `outreach signal add`).",
    request_body = NewSignal,
    responses((status = 201, description = "The signal as stored.", body = SignalView))
)]
async fn api_add_signal(
    ApiUser(user): ApiUser,
    State(app): State<Arc<AppState>>,
    Body(b): Body<NewSignal>,
) -> ApiResult<Response> {
    let s = signals::add(
        &app.db,
        &user.actor,
        &SignalInput {
            state: b.state,
            kind: b.kind,
            date: b.date,
            detail: b.detail,
            value: b.value,
            source: b.source,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(s)).into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct SpokenUpQuery {
    /// YYYY-MM-DD; today in your zone when absent.
    #[param(schema_with = crate::schema::date_param)]
    at: Option<String>,
}

#[utoipa::path(
    get, path = "/api/v1/spoken-up", tag = "states", operation_id = "spokenUp",
    summary = "The States Parties with and without a condemnation of new use on record, with the counts (as `outreach spoken-up`).",
    params(SpokenUpQuery),
    responses((status = 200, description = "The view.", body = SpokenUp))
)]
async fn api_spoken_up(
    ApiUser(user): ApiUser,
    State(app): State<Arc<AppState>>,
    crate::api::Q(q): crate::api::Q<SpokenUpQuery>,
) -> ApiResult<Response> {
    let at = match q.at.as_deref() {
        Some(d) => parse_date("at", d)?,
        None => user.today(),
    };
    let view = signals::spoken_up(&app.db, &app.treaty, at).await?;
    Ok(axum::Json(view).into_response())
}
