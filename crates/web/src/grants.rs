//! A grant's page (`/grants/{id}`): the grant, its progress ("3 of 5 deliverables done, 1 of 2
//! reports submitted"), its reports with a button to mark one submitted (which stops its
//! reminders), its deliverables with their status, the engagements that fulfil them, and what
//! became of its report reminders. Coordinators and admins mark reports submitted and add or
//! change deliverables (`POST /grant-reports/{id}/submit`, `/grants/{id}/deliverables`,
//! `/deliverables/{id}`); a refused form comes back with the message beside it.
//!
//! The same actions as JSON under `/api/v1` ([`api_routes`]).

use std::sync::Arc;

use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use outreach_core::domain::DeliverableStatus;
use outreach_core::engagements::EngagementView;
use outreach_core::grants::{
    self, DeliverableChange, DeliverableInput, DeliverableView, GrantDetail, GrantReportView,
};
use outreach_scheduler::ledger::{self, LedgerLine};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::Body;
use crate::dashboard::enc;
use crate::routing::Routes;
use crate::{ApiResult, ApiUser, AppState, PageResult, Role, User};

pub fn routes() -> Routes {
    crate::page_routes! {
        "/grants/{id}" => get(grant_page),
        "/grants/{id}/deliverables" => post(add_deliverable),
        "/grant-reports/{id}/submit" => post(submit_report),
        "/deliverables/{id}" => post(update_deliverable),
    }
}

// ---------------------------------------------------------------------------------------------
// The page

#[derive(Debug, Default, Deserialize)]
struct PageQuery {
    done: Option<String>,
}

/// Everything the grant page shows; every field is present (strict templates).
#[derive(Debug, Serialize)]
pub struct GrantPage {
    grant: GrantFacts,
    progress: outreach_core::grants::Progress,
    reports: Vec<ReportRow>,
    deliverables: Vec<DeliverableRow>,
    engagements: Vec<EngagementRow>,
    reminders: Vec<ReminderRow>,
    /// Coordinators and admins may mark reports submitted and record deliverables.
    can_edit: bool,
    statuses: Vec<StatusChoice>,
    notice: Option<&'static str>,
    /// Why the "add a deliverable" form was refused, if it was.
    add_error: Option<String>,
    /// What was typed in the refused "add a deliverable" form (blank otherwise).
    add: DeliverableForm,
    log_link: String,
}

#[derive(Debug, Serialize)]
struct GrantFacts {
    id: String,
    short_id: String,
    organisation: String,
    iso3: String,
    programme: String,
    year: i32,
    amount: String,
    currency: String,
    purpose: Option<String>,
}

#[derive(Debug, Serialize)]
struct ReportRow {
    id: String,
    short_id: String,
    due_on: String,
    description: String,
    submitted: bool,
    submitted_on: Option<String>,
    submitted_by: Option<String>,
    overdue: bool,
    /// Why marking it submitted was refused, if it was.
    error: Option<String>,
}

#[derive(Debug, Serialize)]
struct DeliverableRow {
    id: String,
    short_id: String,
    what: String,
    due_on: String,
    status: String,
    status_label: String,
    overdue: bool,
    done: bool,
    updated_by: String,
    engagements: usize,
    statuses: Vec<StatusChoice>,
    log_link: String,
    /// Why a change to it was refused, if it was.
    error: Option<String>,
}

#[derive(Debug, Serialize)]
struct EngagementRow {
    date: String,
    kind: String,
    summary: String,
    outcome: Option<String>,
    withheld: bool,
    deliverable: String,
}

#[derive(Debug, Serialize)]
struct ReminderRow {
    rule: String,
    recipient: String,
    run_at: String,
    state: String,
    reason: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
struct StatusChoice {
    value: &'static str,
    label: String,
    selected: bool,
}

/// A refused form: which one and why.
#[derive(Debug)]
enum Refused {
    Submit {
        report: uuid::Uuid,
        message: String,
    },
    Add {
        message: String,
    },
    Update {
        deliverable: uuid::Uuid,
        message: String,
    },
}

impl Refused {
    fn submit(&self, id: uuid::Uuid) -> Option<String> {
        match self {
            Self::Submit { report, message } if *report == id => Some(message.clone()),
            _ => None,
        }
    }

    fn update(&self, id: uuid::Uuid) -> Option<String> {
        match self {
            Self::Update {
                deliverable,
                message,
            } if *deliverable == id => Some(message.clone()),
            _ => None,
        }
    }

    fn add(&self) -> Option<String> {
        match self {
            Self::Add { message } => Some(message.clone()),
            _ => None,
        }
    }
}

fn label(s: &str) -> String {
    s.replace('_', " ")
}

fn statuses(selected: &str) -> Vec<StatusChoice> {
    DeliverableStatus::ALL
        .iter()
        .map(|s| StatusChoice {
            value: s.as_str(),
            label: label(s.as_str()),
            selected: s.as_str() == selected,
        })
        .collect()
}

fn engagement_row(e: &EngagementView, detail: &GrantDetail) -> EngagementRow {
    let deliverable = detail
        .deliverables
        .iter()
        .find(|d| Some(d.id) == e.deliverable_id)
        .map(|d| d.what.clone())
        .unwrap_or_default();
    EngagementRow {
        date: e.date.to_string(),
        kind: label(&e.kind),
        summary: e.summary.clone(),
        outcome: e.outcome.clone(),
        withheld: e.withheld,
        deliverable,
    }
}

fn reminder_row(l: &LedgerLine) -> ReminderRow {
    ReminderRow {
        rule: l.rule.clone().unwrap_or_default(),
        recipient: l.recipient.clone().unwrap_or_default(),
        run_at: l.run_at.format("%Y-%m-%d %H:%M UTC").to_string(),
        state: l.state.clone(),
        reason: l.reason.clone(),
    }
}

async fn render(
    app: &AppState,
    user: &User,
    id: &str,
    notice: Option<&'static str>,
    refused: Option<Refused>,
    add: DeliverableForm,
) -> PageResult<Response> {
    let detail = grants::show(&app.db, id, user.today(), &user.reader).await?;
    let g = &detail.grant;
    let reminders = ledger::for_subject(&app.db, "grant", &g.id.to_string()).await?;
    let log_link = format!("/engagements/new?state={}", enc(&g.iso3));
    let page = GrantPage {
        grant: GrantFacts {
            id: g.id.to_string(),
            short_id: outreach_core::ids::short(g.id),
            organisation: g.organisation.clone(),
            iso3: g.iso3.clone(),
            programme: g.programme.clone(),
            year: g.year,
            amount: g.amount.clone(),
            currency: g.currency.clone(),
            purpose: g.purpose.clone(),
        },
        progress: g.progress.clone(),
        reports: detail
            .reports
            .iter()
            .map(|r: &GrantReportView| ReportRow {
                id: r.id.to_string(),
                short_id: r.short_id.clone(),
                due_on: r.due_on.to_string(),
                description: r.description.clone(),
                submitted: r.submitted_on.is_some(),
                submitted_on: r.submitted_on.map(|d| d.to_string()),
                submitted_by: r.submitted_by.clone(),
                overdue: r.overdue,
                error: refused.as_ref().and_then(|f| f.submit(r.id)),
            })
            .collect(),
        deliverables: detail
            .deliverables
            .iter()
            .map(|d: &DeliverableView| DeliverableRow {
                id: d.id.to_string(),
                short_id: d.short_id.clone(),
                what: d.what.clone(),
                due_on: d.due_on.to_string(),
                status: d.status.clone(),
                status_label: label(&d.status),
                overdue: d.overdue,
                done: d.status == DeliverableStatus::Done.as_str(),
                updated_by: d.updated_by.clone(),
                engagements: detail
                    .engagements
                    .iter()
                    .filter(|e| e.deliverable_id == Some(d.id))
                    .count(),
                statuses: statuses(&d.status),
                log_link: format!("{log_link}&deliverable={}", d.short_id),
                error: refused.as_ref().and_then(|f| f.update(d.id)),
            })
            .collect(),
        engagements: detail
            .engagements
            .iter()
            .map(|e| engagement_row(e, &detail))
            .collect(),
        reminders: reminders.iter().map(reminder_row).collect(),
        can_edit: user.role >= Role::Coordinator,
        statuses: statuses(if add.status.is_empty() {
            DeliverableStatus::Planned.as_str()
        } else {
            add.status.as_str()
        }),
        notice,
        add_error: refused.as_ref().and_then(Refused::add),
        add,
        log_link,
    };
    Ok(app.render_page(user, &page))
}

impl crate::pages::Page for GrantPage {
    const TEMPLATE: &'static str = "grant";

    fn sample() -> Self {
        let id = uuid::Uuid::nil().to_string();
        let choice = StatusChoice {
            value: DeliverableStatus::Planned.as_str(),
            label: "planned".into(),
            selected: true,
        };
        Self {
            grant: GrantFacts {
                id: id.clone(),
                short_id: "00000000".into(),
                organisation: "Landmine Free Nepal".into(),
                iso3: "NPL".into(),
                programme: "Investing in Action".into(),
                year: 2026,
                amount: "10000".into(),
                currency: "CHF".into(),
                purpose: Some("Advocacy for accession".into()),
            },
            progress: outreach_core::grants::Progress {
                deliverables_done: 1,
                deliverables_total: 2,
                deliverables_dropped: 1,
                reports_submitted: 0,
                reports_total: 1,
                summary: "1 of 2 deliverables done, 0 of 1 reports submitted".into(),
            },
            reports: vec![ReportRow {
                id: id.clone(),
                short_id: "00000000".into(),
                due_on: "2026-12-31".into(),
                description: "Narrative report".into(),
                submitted: true,
                submitted_on: Some("2026-12-01".into()),
                submitted_by: Some("sam".into()),
                overdue: true,
                error: Some("already submitted".into()),
            }],
            deliverables: vec![DeliverableRow {
                id: id.clone(),
                short_id: "00000000".into(),
                what: "Round table with parliamentarians".into(),
                due_on: "2026-10-01".into(),
                status: "planned".into(),
                status_label: "planned".into(),
                overdue: true,
                done: true,
                updated_by: "sam".into(),
                engagements: 1,
                statuses: vec![choice.clone()],
                log_link: "/engagements/new?state=NPL&deliverable=00000000".into(),
                error: Some("give a date".into()),
            }],
            engagements: vec![EngagementRow {
                date: "2026-09-01".into(),
                kind: "capital meeting".into(),
                summary: "Briefing".into(),
                outcome: Some("Agreed to a round table".into()),
                withheld: true,
                deliverable: "Round table with parliamentarians".into(),
            }],
            reminders: vec![ReminderRow {
                rule: "report due".into(),
                recipient: "sam".into(),
                run_at: "2026-12-24 09:00 UTC".into(),
                state: "skipped".into(),
                reason: Some("not sent: the report was marked submitted".into()),
            }],
            can_edit: true,
            statuses: vec![choice],
            notice: Some("Saved."),
            add_error: Some("what: say what is to be delivered".into()),
            add: DeliverableForm::default(),
            log_link: "/engagements/new?state=NPL".into(),
        }
    }
}

async fn grant_page(
    State(app): State<Arc<AppState>>,
    user: User,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> PageResult<Response> {
    let notice = match q.done.as_deref() {
        Some("submitted") => Some("Report marked submitted; its reminders stop."),
        Some("added") => Some("Deliverable added."),
        Some("updated") => Some("Deliverable updated."),
        _ => None,
    };
    render(&app, &user, &id, notice, None, DeliverableForm::default()).await
}

/// The grant page again, 422, with `form`'s refusal; errors no form owns pass on.
async fn refuse(
    app: &AppState,
    user: &User,
    grant: &str,
    form: impl FnOnce(String) -> Refused,
    add: DeliverableForm,
    e: outreach_core::Error,
) -> PageResult<Response> {
    use outreach_core::ErrorKind as K;
    if !matches!(e.kind(), K::Invalid | K::Conflict) {
        return Err(e.into());
    }
    let refused = form(e.to_string());
    let mut res = render(app, user, grant, None, Some(refused), add).await?;
    *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(res)
}

fn optional(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

#[derive(Debug, Default, Deserialize)]
struct SubmitForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    on: String,
}

/// `POST /grant-reports/{id}/submit`: marks a report submitted (coordinators and admins).
async fn submit_report(
    State(app): State<Arc<AppState>>,
    user: User,
    Path(id): Path<String>,
    Form(form): Form<SubmitForm>,
) -> PageResult<Response> {
    user.check_csrf(&form.csrf)?;
    user.require(Role::Coordinator, "mark grant reports submitted")?;
    match grants::submit_report(&app.db, &user.actor, &id, optional(&form.on).as_deref()).await {
        Ok(r) => Ok(
            Redirect::to(&format!("/grants/{}?done=submitted#reports", r.grant_id)).into_response(),
        ),
        Err(e) => {
            let (grant, report) = grants::report_grant(&app.db, &id).await?;
            refuse(
                &app,
                &user,
                &grant.to_string(),
                |message| Refused::Submit { report, message },
                DeliverableForm::default(),
                e,
            )
            .await
        }
    }
}

/// A deliverable to add, as typed; kept when the form is refused.
#[derive(Debug, Default, Deserialize, Serialize)]
struct DeliverableForm {
    #[serde(default, skip_serializing)]
    csrf: String,
    #[serde(default)]
    what: String,
    #[serde(default)]
    due: String,
    #[serde(default)]
    status: String,
}

/// `POST /grants/{id}/deliverables`: adds a deliverable (coordinators and admins).
async fn add_deliverable(
    State(app): State<Arc<AppState>>,
    user: User,
    Path(id): Path<String>,
    Form(form): Form<DeliverableForm>,
) -> PageResult<Response> {
    user.check_csrf(&form.csrf)?;
    user.require(Role::Coordinator, "record grant deliverables")?;
    let input = DeliverableInput {
        grant: id.clone(),
        what: form.what.clone(),
        due: form.due.clone(),
        status: optional(&form.status),
    };
    match grants::add_deliverable(&app.db, &user.actor, &input).await {
        Ok(d) => Ok(
            Redirect::to(&format!("/grants/{}?done=added#deliverables", d.grant_id))
                .into_response(),
        ),
        Err(e) => {
            refuse(
                &app,
                &user,
                &id,
                |message| Refused::Add { message },
                form,
                e,
            )
            .await
        }
    }
}

/// `POST /deliverables/{id}`: changes a deliverable's status, due date or text (coordinators
/// and admins).
async fn update_deliverable(
    State(app): State<Arc<AppState>>,
    user: User,
    Path(id): Path<String>,
    Form(form): Form<DeliverableForm>,
) -> PageResult<Response> {
    user.check_csrf(&form.csrf)?;
    user.require(Role::Coordinator, "change grant deliverables")?;
    let change = DeliverableChange {
        what: optional(&form.what),
        due: optional(&form.due),
        status: optional(&form.status),
    };
    match grants::update_deliverable(&app.db, &user.actor, &id, &change).await {
        Ok(d) => Ok(
            Redirect::to(&format!("/grants/{}?done=updated#deliverables", d.grant_id))
                .into_response(),
        ),
        Err(e) => {
            let d = grants::find_deliverable(&app.db, &id).await?;
            refuse(
                &app,
                &user,
                &d.grant_id.to_string(),
                |message| Refused::Update {
                    deliverable: d.id,
                    message,
                },
                DeliverableForm::default(),
                e,
            )
            .await
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The API

/// The grant routes of the JSON API, merged into [`crate::api::routes`].
pub fn api_routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(api_grant))
        .routes(routes!(api_deliverables, api_add_deliverable))
        .routes(routes!(api_update_deliverable))
        .routes(routes!(api_submit_report))
}

/// A record's id in the path.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
struct IdPath {
    #[param(schema_with = crate::schema::id)]
    id: String,
}

#[utoipa::path(
    get, path = "/api/v1/grants/{id}", tag = "directory", operation_id = "showGrant",
    summary = "A grant with its progress, reports, deliverables and the engagements that fulfil them (as `outreach grant show`).",
    params(IdPath),
    responses((status = 200, description = "The grant.", body = GrantDetail))
)]
async fn api_grant(
    ApiUser(user): ApiUser,
    State(app): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let detail = grants::show(&app.db, &id, user.today(), &user.reader).await?;
    Ok(axum::Json(detail).into_response())
}

#[utoipa::path(
    get, path = "/api/v1/grants/{id}/deliverables", tag = "directory",
    operation_id = "listDeliverables",
    summary = "A grant's deliverables, earliest due first (as `outreach grant deliverable list`).",
    params(IdPath),
    responses((status = 200, description = "The deliverables.", body = Vec<DeliverableView>))
)]
async fn api_deliverables(
    ApiUser(user): ApiUser,
    State(app): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let rows = grants::deliverables(&app.db, &id, user.today()).await?;
    Ok(axum::Json(rows).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewDeliverable {
    /// What the grantee will do.
    #[schema(schema_with = what)]
    what: String,
    /// When it is due, YYYY-MM-DD.
    #[schema(schema_with = due)]
    due: String,
    /// `planned` when absent.
    #[schema(schema_with = status)]
    status: Option<String>,
}

fn what() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    crate::schema::line(300)
}

fn optional_what() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    crate::schema::optional_line(300)
}

fn due() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    crate::schema::required_date()
}

fn optional_due() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    crate::schema::date()
}

fn status() -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    let values: Vec<&str> = DeliverableStatus::ALL.iter().map(|s| s.as_str()).collect();
    crate::schema::one_of(&values, "planned, in_progress, done or dropped.", true)
}

/// Adds a deliverable to a grant (coordinators and admins).
#[utoipa::path(
    post, path = "/api/v1/grants/{id}/deliverables", tag = "directory",
    operation_id = "addDeliverable",
    summary = "Add a deliverable to a grant (coordinators and admins; as `outreach grant deliverable add`).",
    params(IdPath),
    request_body = NewDeliverable,
    responses((status = 201, description = "The deliverable as stored.", body = DeliverableView))
)]
async fn api_add_deliverable(
    ApiUser(user): ApiUser,
    State(app): State<Arc<AppState>>,
    Path(id): Path<String>,
    Body(b): Body<NewDeliverable>,
) -> ApiResult<Response> {
    user.require(Role::Coordinator, "record grant deliverables")?;
    let d = grants::add_deliverable(
        &app.db,
        &user.actor,
        &DeliverableInput {
            grant: id,
            what: b.what,
            due: b.due,
            status: b.status,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(d)).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct DeliverableUpdate {
    /// A new description.
    #[schema(schema_with = optional_what)]
    what: Option<String>,
    /// A new due date, YYYY-MM-DD.
    #[schema(schema_with = optional_due)]
    due: Option<String>,
    #[schema(schema_with = status)]
    status: Option<String>,
}

/// Changes a deliverable (coordinators and admins).
#[utoipa::path(
    post, path = "/api/v1/deliverables/{id}", tag = "directory",
    operation_id = "updateDeliverable",
    summary = "Change a deliverable's status, due date or description; the fields given replace the stored ones (coordinators and admins; as `outreach grant deliverable update`).",
    params(IdPath),
    request_body = DeliverableUpdate,
    responses((status = 200, description = "The deliverable as changed.", body = DeliverableView))
)]
async fn api_update_deliverable(
    ApiUser(user): ApiUser,
    State(app): State<Arc<AppState>>,
    Path(id): Path<String>,
    Body(b): Body<DeliverableUpdate>,
) -> ApiResult<Response> {
    user.require(Role::Coordinator, "change grant deliverables")?;
    let d = grants::update_deliverable(
        &app.db,
        &user.actor,
        &id,
        &DeliverableChange {
            what: b.what,
            due: b.due,
            status: b.status,
        },
    )
    .await?;
    Ok(axum::Json(d).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ReportSubmitted {
    /// The day it came in, YYYY-MM-DD; today in your zone when absent.
    #[schema(schema_with = crate::schema::past_date)]
    on: Option<String>,
}

/// Marks a report submitted: its reminders stop (coordinators and admins).
#[utoipa::path(
    post, path = "/api/v1/grant-reports/{id}/submit", tag = "directory",
    operation_id = "submitGrantReport",
    summary = "Mark a grant report submitted, which stops its reminders (coordinators and admins; as `outreach grant report submit`).",
    params(IdPath),
    request_body = ReportSubmitted,
    responses((status = 200, description = "The report, submitted.", body = GrantReportView))
)]
async fn api_submit_report(
    ApiUser(user): ApiUser,
    State(app): State<Arc<AppState>>,
    Path(id): Path<String>,
    Body(b): Body<ReportSubmitted>,
) -> ApiResult<Response> {
    user.require(Role::Coordinator, "mark grant reports submitted")?;
    let r = grants::submit_report(&app.db, &user.actor, &id, b.on.as_deref()).await?;
    Ok(axum::Json(r).into_response())
}
