//! What grantees owe and do under an Investing in Action grant: reports (due, submitted on, by
//! whom), deliverables (what, due, status) and the engagements that fulfil them, with the grant's
//! progress ("3 of 5 deliverables done, 1 of 2 reports submitted"), derived on every read.
//!
//! A report marked submitted gets no more reminders: the scheduler's sweep plans reminders for
//! unsubmitted reports only, and a reminder already planned checks the report when its turn
//! comes and is recorded as skipped. Recording grants, their deliverables and their reports is
//! for coordinators and admins, as adding a grant is.

use std::collections::HashMap;

use chrono::{NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
};
use serde::Serialize;
use uuid::Uuid;

use crate::access::Reader;
use crate::actor::Actor;
use crate::audit;
use crate::domain::{DeliverableStatus, Role, parse_date, required_text};
use crate::engagements::EngagementView;
use crate::entities::{grant, grant_deliverable, grant_report};
use crate::error::{Error, Remedy, Result};
use crate::ids;

/// What a deliverable's `what` may hold at most.
const WHAT_MAX: usize = 300;

/// How far a grant has come: deliverables done of those still owed or done (dropped ones count
/// in neither), reports submitted of those due.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Progress {
    pub deliverables_done: u32,
    /// Deliverables not dropped.
    pub deliverables_total: u32,
    pub deliverables_dropped: u32,
    pub reports_submitted: u32,
    pub reports_total: u32,
    /// In words: "3 of 5 deliverables done, 1 of 2 reports submitted".
    pub summary: String,
}

impl Progress {
    fn of<'a>(
        deliverables: impl IntoIterator<Item = &'a str>,
        reports: impl IntoIterator<Item = bool>,
    ) -> Self {
        let mut p = Self::default();
        for status in deliverables {
            match DeliverableStatus::parse("status", status) {
                Ok(DeliverableStatus::Dropped) => p.deliverables_dropped += 1,
                Ok(DeliverableStatus::Done) => {
                    p.deliverables_done += 1;
                    p.deliverables_total += 1;
                }
                _ => p.deliverables_total += 1,
            }
        }
        for submitted in reports {
            p.reports_total += 1;
            p.reports_submitted += u32::from(submitted);
        }
        let plural = |n: u32, one: &str, many: &str| if n == 1 { one } else { many }.to_owned();
        p.summary = format!(
            "{} of {} {} done, {} of {} {} submitted",
            p.deliverables_done,
            p.deliverables_total,
            plural(p.deliverables_total, "deliverable", "deliverables"),
            p.reports_submitted,
            p.reports_total,
            plural(p.reports_total, "report", "reports"),
        );
        p
    }

    /// A grant with report deadlines only (nothing submitted, no deliverables yet).
    pub(crate) fn new_grant(reports: usize) -> Self {
        Self::of([], std::iter::repeat_n(false, reports))
    }
}

/// The progress of each of `grant_ids`, read by key.
///
/// # Errors
/// Database errors.
pub(crate) async fn progress_of<C: ConnectionTrait>(
    db: &C,
    grant_ids: &[Uuid],
) -> Result<HashMap<Uuid, Progress>> {
    let mut deliverables: HashMap<Uuid, Vec<String>> = HashMap::new();
    let mut reports: HashMap<Uuid, Vec<bool>> = HashMap::new();
    for chunk in grant_ids.chunks(500) {
        for d in grant_deliverable::Entity::find()
            .filter(grant_deliverable::Column::GrantId.is_in(chunk.iter().copied()))
            .all(db)
            .await?
        {
            deliverables.entry(d.grant_id).or_default().push(d.status);
        }
        for r in grant_report::Entity::find()
            .filter(grant_report::Column::GrantId.is_in(chunk.iter().copied()))
            .all(db)
            .await?
        {
            reports
                .entry(r.grant_id)
                .or_default()
                .push(r.submitted_on.is_some());
        }
    }
    Ok(grant_ids
        .iter()
        .map(|id| {
            let d = deliverables.remove(id).unwrap_or_default();
            let r = reports.remove(id).unwrap_or_default();
            (*id, Progress::of(d.iter().map(String::as_str), r))
        })
        .collect())
}

/// A report a grantee owes, and whether it came in.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct GrantReportView {
    pub id: Uuid,
    /// The last 8 characters of the id, as listings show it.
    pub short_id: String,
    pub grant_id: Uuid,
    pub due_on: NaiveDate,
    pub description: String,
    pub submitted_on: Option<NaiveDate>,
    /// The handle of whoever marked it submitted.
    pub submitted_by: Option<String>,
    /// Not submitted and past its due date.
    pub overdue: bool,
}

fn report_view(r: grant_report::Model, today: NaiveDate) -> GrantReportView {
    GrantReportView {
        id: r.id,
        short_id: ids::short(r.id),
        grant_id: r.grant_id,
        overdue: r.submitted_on.is_none() && r.due_on < today,
        due_on: r.due_on,
        description: r.description,
        submitted_on: r.submitted_on,
        submitted_by: r.submitted_by,
    }
}

/// A deliverable of a grant.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DeliverableView {
    pub id: Uuid,
    /// The last 8 characters of the id, as listings show it.
    pub short_id: String,
    pub grant_id: Uuid,
    pub what: String,
    pub due_on: NaiveDate,
    /// `planned`, `in_progress`, `done` or `dropped`.
    pub status: String,
    /// Planned or in progress, and past its due date.
    pub overdue: bool,
    /// The handle of whoever added or last changed it.
    pub updated_by: String,
}

fn deliverable_view(d: grant_deliverable::Model, today: NaiveDate) -> DeliverableView {
    let open = matches!(
        DeliverableStatus::parse("status", &d.status),
        Ok(DeliverableStatus::Planned | DeliverableStatus::InProgress)
    );
    DeliverableView {
        id: d.id,
        short_id: ids::short(d.id),
        grant_id: d.grant_id,
        overdue: open && d.due_on < today,
        what: d.what,
        due_on: d.due_on,
        status: d.status,
        updated_by: d.updated_by,
    }
}

/// A grant with everything that shows its progress: its reports, its deliverables and the
/// engagements linked to them.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct GrantDetail {
    pub grant: crate::directory::GrantView,
    pub reports: Vec<GrantReportView>,
    pub deliverables: Vec<DeliverableView>,
    /// The engagements that fulfil one of its deliverables (each names it in `deliverable_id`),
    /// newest first, as the reader may read them.
    pub engagements: Vec<EngagementView>,
}

/// The grant `given` names: its full id or a unique end of it.
///
/// # Errors
/// [`Error::Invalid`] for text that is no id, [`Error::NotFound`] (with the list of grants as
/// the remedy), [`Error::Ambiguous`].
pub async fn find<C: ConnectionTrait>(db: &C, given: &str) -> Result<grant::Model> {
    let found = ids::candidates::<grant::Entity, _>(db, given).await?;
    let id = ids::pick("grant", given, found).map_err(with_grants_remedy)?;
    grant::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("grant", given, "").with_remedy(Remedy::ListGrants))
}

fn with_grants_remedy(e: Error) -> Error {
    e.with_remedy(Remedy::ListGrants)
}

async fn find_report<C: ConnectionTrait>(db: &C, given: &str) -> Result<grant_report::Model> {
    let found = ids::candidates::<grant_report::Entity, _>(db, given).await?;
    let id = ids::pick("grant report", given, found).map_err(with_grants_remedy)?;
    grant_report::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("grant report", given, "").with_remedy(Remedy::ListGrants))
}

/// The ids of the grant the report `given` names belongs to, and of the report (a page goes
/// back to the grant).
///
/// # Errors
/// As [`find`], for reports.
pub async fn report_grant<C: ConnectionTrait>(db: &C, given: &str) -> Result<(Uuid, Uuid)> {
    let r = find_report(db, given).await?;
    Ok((r.grant_id, r.id))
}

/// The deliverable `given` names: its full id or a unique end of it.
///
/// # Errors
/// As [`find`], for deliverables.
pub async fn find_deliverable<C: ConnectionTrait>(
    db: &C,
    given: &str,
) -> Result<grant_deliverable::Model> {
    let found = ids::candidates::<grant_deliverable::Entity, _>(db, given).await?;
    let id = ids::pick("deliverable", given, found).map_err(with_grants_remedy)?;
    grant_deliverable::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("deliverable", given, "").with_remedy(Remedy::ListGrants))
}

/// One grant with its reports, deliverables and linked engagements. `today` decides what is
/// overdue; `reader` what of the engagements may be read.
///
/// # Errors
/// As [`find`]; database errors.
pub async fn show<C: ConnectionTrait>(
    db: &C,
    given: &str,
    today: NaiveDate,
    reader: &Reader,
) -> Result<GrantDetail> {
    let g = find(db, given).await?;
    let mut views = crate::directory::grant_views(db, vec![g]).await?;
    let grant = views
        .pop()
        .ok_or_else(|| Error::not_found("grant", given, "").with_remedy(Remedy::ListGrants))?;
    let reports = grant_report::Entity::find()
        .filter(grant_report::Column::GrantId.eq(grant.id))
        .order_by_asc(grant_report::Column::DueOn)
        .order_by_asc(grant_report::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|r| report_view(r, today))
        .collect();
    let deliverables = deliverables_of(db, grant.id, today).await?;
    let ids: Vec<Uuid> = deliverables.iter().map(|d| d.id).collect();
    let engagements = crate::engagements::for_deliverables(db, &ids, reader).await?;
    Ok(GrantDetail {
        grant,
        reports,
        deliverables,
        engagements,
    })
}

async fn deliverables_of<C: ConnectionTrait>(
    db: &C,
    grant_id: Uuid,
    today: NaiveDate,
) -> Result<Vec<DeliverableView>> {
    Ok(grant_deliverable::Entity::find()
        .filter(grant_deliverable::Column::GrantId.eq(grant_id))
        .order_by_asc(grant_deliverable::Column::DueOn)
        .order_by_asc(grant_deliverable::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|d| deliverable_view(d, today))
        .collect())
}

/// A grant's deliverables, earliest due first.
///
/// # Errors
/// As [`find`]; database errors.
pub async fn deliverables<C: ConnectionTrait>(
    db: &C,
    grant: &str,
    today: NaiveDate,
) -> Result<Vec<DeliverableView>> {
    let g = find(db, grant).await?;
    deliverables_of(db, g.id, today).await
}

/// Marks a report submitted on `on` (`YYYY-MM-DD`; today in the actor's zone when absent), by
/// the actor: its reminders stop. Coordinators and admins only.
///
/// # Errors
/// [`Error::Forbidden`] for staff; [`Error::NotFound`] for an unknown report; [`Error::Invalid`]
/// naming `on` for a bad or future date; [`Error::Conflict`] when it was submitted already.
/// Nothing is written then.
pub async fn submit_report(
    db: &DatabaseConnection,
    actor: &Actor,
    report: &str,
    on: Option<&str>,
) -> Result<GrantReportView> {
    let tx = crate::db::begin(db).await?;
    let view = submit_report_in(&tx, actor, report, on).await?;
    tx.commit().await?;
    Ok(view)
}

/// As [`submit_report`], inside the caller's transaction.
///
/// # Errors
/// As [`submit_report`].
pub async fn submit_report_in(
    tx: &DatabaseTransaction,
    actor: &Actor,
    report: &str,
    on: Option<&str>,
) -> Result<GrantReportView> {
    crate::actor::require_role(tx, actor, Role::Coordinator, "mark grant reports submitted")
        .await?;
    let r = find_report(tx, report).await?;
    let on = match on.map(str::trim).filter(|s| !s.is_empty()) {
        Some(d) => parse_date("on", d)?,
        None => actor.today(),
    };
    if on > actor.today() + chrono::Days::new(1) {
        return Err(Error::invalid(
            "on",
            format!("{on} is in the future; give the date the report came in"),
        ));
    }
    if let Some(when) = r.submitted_on {
        return Err(Error::Conflict(format!(
            "the report due {} was already marked submitted on {when}{}",
            r.due_on,
            r.submitted_by
                .as_deref()
                .map(|by| format!(" by {by}"))
                .unwrap_or_default()
        )));
    }
    let mut m = r.into_active_model();
    m.submitted_on = Set(Some(on));
    m.submitted_by = Set(Some(actor.handle.clone()));
    let r = m.update(tx).await?;
    audit::record(
        tx,
        &actor.handle,
        "grant_report.submit",
        "grant_report",
        &r.id.to_string(),
        serde_json::json!({ "grant": r.grant_id, "due_on": r.due_on, "submitted_on": on }),
    )
    .await?;
    Ok(report_view(r, actor.today()))
}

/// A deliverable as a user gives it.
#[derive(Debug, Clone, Default)]
pub struct DeliverableInput {
    /// The grant: its id or a unique end of it.
    pub grant: String,
    pub what: String,
    /// `YYYY-MM-DD`.
    pub due: String,
    /// `planned` when absent.
    pub status: Option<String>,
}

/// Adds a deliverable to a grant. Coordinators and admins only.
///
/// # Errors
/// [`Error::Forbidden`] for staff; [`Error::NotFound`] for an unknown grant; [`Error::Invalid`]
/// naming `what`, `due` or `status`. Nothing is written then.
pub async fn add_deliverable(
    db: &DatabaseConnection,
    actor: &Actor,
    input: &DeliverableInput,
) -> Result<DeliverableView> {
    let tx = crate::db::begin(db).await?;
    crate::actor::require_role(&tx, actor, Role::Coordinator, "record grant deliverables").await?;
    let g = find(&tx, &input.grant).await?;
    let what = required_text("what", &input.what, WHAT_MAX)?;
    let due = parse_date("due", &input.due)?;
    let status = match input
        .status
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(s) => DeliverableStatus::parse("status", s)?,
        None => DeliverableStatus::Planned,
    };
    let now = Utc::now();
    let d = grant_deliverable::ActiveModel {
        id: Set(Uuid::now_v7()),
        grant_id: Set(g.id),
        what: Set(what),
        due_on: Set(due),
        status: Set(status.as_str().to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
        updated_by: Set(actor.handle.clone()),
    }
    .insert(&tx)
    .await?;
    audit::record(
        &tx,
        &actor.handle,
        "deliverable.create",
        "grant_deliverable",
        &d.id.to_string(),
        serde_json::json!({ "grant": g.id, "what": d.what, "due_on": d.due_on, "status": d.status }),
    )
    .await?;
    tx.commit().await?;
    Ok(deliverable_view(d, actor.today()))
}

/// A change to a deliverable: each field given replaces the stored one.
#[derive(Debug, Clone, Default)]
pub struct DeliverableChange {
    pub what: Option<String>,
    /// `YYYY-MM-DD`.
    pub due: Option<String>,
    pub status: Option<String>,
}

/// Changes a deliverable's text, due date or status. Coordinators and admins only.
///
/// # Errors
/// [`Error::Forbidden`] for staff; [`Error::NotFound`] for an unknown deliverable;
/// [`Error::Invalid`] naming the bad field, or `status` when nothing is to change. Nothing is
/// written then.
pub async fn update_deliverable(
    db: &DatabaseConnection,
    actor: &Actor,
    deliverable: &str,
    change: &DeliverableChange,
) -> Result<DeliverableView> {
    let tx = crate::db::begin(db).await?;
    crate::actor::require_role(&tx, actor, Role::Coordinator, "change grant deliverables").await?;
    let d = find_deliverable(&tx, deliverable).await?;
    let given = |s: &Option<String>| {
        s.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let what = given(&change.what)
        .map(|w| required_text("what", &w, WHAT_MAX))
        .transpose()?;
    let due = given(&change.due)
        .map(|d| parse_date("due", &d))
        .transpose()?;
    let status = given(&change.status)
        .map(|s| DeliverableStatus::parse("status", &s))
        .transpose()?;
    if what.is_none() && due.is_none() && status.is_none() {
        return Err(Error::invalid(
            "status",
            "nothing to change; give a new status, due date or description",
        ));
    }
    let before = (d.what.clone(), d.due_on, d.status.clone());
    let mut m = d.into_active_model();
    if let Some(w) = what {
        m.what = Set(w);
    }
    if let Some(d) = due {
        m.due_on = Set(d);
    }
    if let Some(s) = status {
        m.status = Set(s.as_str().to_owned());
    }
    m.updated_at = Set(Utc::now());
    m.updated_by = Set(actor.handle.clone());
    let d = m.update(&tx).await?;
    audit::record(
        &tx,
        &actor.handle,
        "deliverable.update",
        "grant_deliverable",
        &d.id.to_string(),
        serde_json::json!({
            "before": { "what": before.0, "due_on": before.1, "status": before.2 },
            "after": { "what": d.what, "due_on": d.due_on, "status": d.status },
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(deliverable_view(d, actor.today()))
}

/// The deliverable an engagement with `iso3` is to be linked to: it must exist, belong to a
/// grant in the same state, and not be dropped.
///
/// # Errors
/// [`Error::NotFound`] for an unknown deliverable; [`Error::Conflict`] for one of a grant in
/// another state or one dropped.
pub(crate) async fn deliverable_for_engagement<C: ConnectionTrait>(
    db: &C,
    given: &str,
    iso3: &str,
) -> Result<grant_deliverable::Model> {
    let d = find_deliverable(db, given).await?;
    let g = grant::Entity::find_by_id(d.grant_id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("grant", d.grant_id.to_string(), ""))?;
    if g.iso3 != iso3 {
        return Err(Error::Conflict(format!(
            "deliverable {} (\"{}\") belongs to a grant in {}; an engagement with {iso3} cannot \
             fulfil it",
            ids::short(d.id),
            d.what,
            g.iso3
        )));
    }
    if d.status == DeliverableStatus::Dropped.as_str() {
        return Err(Error::Conflict(format!(
            "deliverable {} (\"{}\") was dropped; change its status first if the work goes on",
            ids::short(d.id),
            d.what
        )));
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_counts_done_of_what_is_not_dropped_and_says_it_in_words() {
        let p = Progress::of(
            ["done", "done", "done", "planned", "in_progress", "dropped"],
            [true, false],
        );
        assert_eq!(
            (
                p.deliverables_done,
                p.deliverables_total,
                p.deliverables_dropped
            ),
            (3, 5, 1)
        );
        assert_eq!((p.reports_submitted, p.reports_total), (1, 2));
        assert_eq!(
            p.summary,
            "3 of 5 deliverables done, 1 of 2 reports submitted"
        );
        assert_eq!(
            Progress::new_grant(1).summary,
            "0 of 0 deliverables done, 0 of 1 report submitted"
        );
    }
}
