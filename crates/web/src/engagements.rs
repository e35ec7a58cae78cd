//! Logging an engagement in under a minute: one form with the state, kind, date, participants
//! (search as you type), summary, outcome, stance and an optional follow-up. The engagement, its
//! staff participants and its follow-up are written in one transaction; on a bad value nothing is
//! written and the form comes back with everything typed and the message beside its field.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use outreach_core::domain::{EngagementKind, Sensitivity, Stance, parse_date};
use outreach_core::engagements::{self, EngagementInput, FollowUpDraft, LogStep};
use outreach_core::{Error as CoreError, actor, directory, states};
use serde::{Deserialize, Serialize};

use crate::dashboard::{enc, message_of};
use crate::pages::{Choice, FieldErrors, Page};
use crate::routing::Routes;
use crate::{ApiResult, ApiUser, AppState, PageResult, User, WebError};

pub fn routes() -> Routes {
    crate::page_routes! {
        "/engagements/new" => get(new_form),
        "/engagements" => post(create),
        "/search/participants" => get(search_participants),
    }
}

/// The form's fields, as typed.
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[serde(default)]
struct EngagementForm {
    #[serde(skip_serializing)]
    csrf: String,
    state: String,
    kind: String,
    date: String,
    participants: String,
    summary: String,
    outcome: String,
    stance: String,
    /// Empty: the kind's default (restricted for military dialogue).
    sensitivity: String,
    follow_up: String,
    follow_up_due: String,
    follow_up_owner: String,
    /// The grant deliverable it fulfils: an id or its last 8 characters; empty for none.
    deliverable: String,
}

const FIELDS: &[&str] = &[
    "state",
    "kind",
    "date",
    "participants",
    "summary",
    "outcome",
    "stance",
    "sensitivity",
    "follow_up",
    "follow_up_due",
    "follow_up_owner",
    "deliverable",
];

fn label(s: &str) -> String {
    let words = s.replace('_', " ");
    let mut c = words.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// Messages by field, `_general` for one no field owns.
type Errors = std::collections::BTreeMap<String, String>;

fn render_form(app: &AppState, user: &User, form: &EngagementForm, errors: &Errors) -> Response {
    let mut errs = FieldErrors::new(FIELDS);
    for (field, message) in errors {
        if FIELDS.contains(&field.as_str()) {
            errs.set(field, message.clone());
        }
    }
    let kind = EngagementKind::parse("kind", &form.kind).ok();
    let stance = Stance::parse("stance", &form.stance).ok();
    let sensitivity = Sensitivity::parse("sensitivity", &form.sensitivity).ok();
    let page = EngagementFormPage {
        form: form.clone(),
        errors: errs,
        has_errors: !errors.is_empty(),
        general: errors.get("_general").cloned(),
        today: user.today().to_string(),
        kinds: EngagementKind::ALL
            .iter()
            .map(|k| Choice::new(k.as_str(), label(k.as_str()), Some(*k) == kind))
            .collect(),
        stances: Stance::ALL
            .iter()
            .map(|s| Choice::new(s.as_str(), label(s.as_str()), Some(*s) == stance))
            .collect(),
        no_stance: stance.is_none(),
        sensitivities: Sensitivity::ALL
            .iter()
            .map(|s| Choice::new(s.as_str(), label(s.as_str()), Some(*s) == sensitivity))
            .collect(),
        default_sensitivity: form.sensitivity.trim().is_empty(),
        restricted_kinds: app
            .settings
            .engagements
            .restricted_kinds
            .iter()
            .map(|k| label(k))
            .collect::<Vec<_>>()
            .join(", "),
    };
    app.render_page(user, &page)
}

/// The form to log an engagement: what was typed, and the message beside each field refused.
#[derive(Debug, Serialize)]
pub struct EngagementFormPage {
    form: EngagementForm,
    errors: FieldErrors,
    has_errors: bool,
    /// A refusal no field owns.
    general: Option<String>,
    today: String,
    kinds: Vec<Choice>,
    stances: Vec<Choice>,
    no_stance: bool,
    sensitivities: Vec<Choice>,
    default_sensitivity: bool,
    /// The kinds that are restricted unless said otherwise, in words.
    restricted_kinds: String,
}

impl Page for EngagementFormPage {
    const TEMPLATE: &'static str = "engagement_form";
    fn sample() -> Self {
        Self {
            form: EngagementForm {
                state: "NPL".into(),
                kind: "embassy_visit".into(),
                date: "2026-12-07".into(),
                participants: "Anita Sharma, sam".into(),
                summary: "Discussed accession".into(),
                outcome: "interested".into(),
                stance: "positive".into(),
                sensitivity: "internal".into(),
                follow_up: "Send the briefing".into(),
                follow_up_due: "2026-12-14".into(),
                follow_up_owner: "sam".into(),
                ..EngagementForm::default()
            },
            errors: FieldErrors::sample(FIELDS),
            has_errors: true,
            general: Some("Something went wrong".into()),
            today: "2026-12-07".into(),
            kinds: vec![Choice::sample()],
            stances: vec![Choice::sample()],
            no_stance: true,
            sensitivities: vec![Choice::sample()],
            default_sensitivity: true,
            restricted_kinds: "Military dialogue".into(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct NewQuery {
    state: Option<String>,
    /// A grant deliverable to link, from a grant's page.
    deliverable: Option<String>,
}

async fn new_form(
    State(app): State<Arc<AppState>>,
    user: User,
    Query(q): Query<NewQuery>,
) -> PageResult<Response> {
    let mut form = EngagementForm {
        date: user.today().to_string(),
        follow_up_owner: user.handle.clone(),
        deliverable: q.deliverable.clone().unwrap_or_default(),
        ..Default::default()
    };
    let mut errors = Errors::new();
    if let Some(given) = q.state.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        match states::resolve(&app.db, given).await {
            Ok(st) => form.state = st.iso3,
            Err(e) => {
                form.state = given.to_owned();
                errors.insert("state".into(), message_of(&e));
            }
        }
    }
    Ok(render_form(&app, &user, &form, &errors))
}

/// Which form field a core error is about, given the step that raised it.
fn field_of(e: &CoreError, follow_up_step: bool) -> &'static str {
    let field = match e {
        CoreError::UnknownState { .. } => "state",
        CoreError::Invalid { field, .. } => field.as_str(),
        CoreError::NotFound { what, .. } if *what == "staff member" => "follow_up_owner",
        CoreError::NotFound { what, .. } | CoreError::Ambiguous { what, .. }
            if *what == "deliverable" =>
        {
            "deliverable"
        }
        CoreError::Conflict(m) if m.starts_with("deliverable ") => "deliverable",
        CoreError::NotFound { .. } | CoreError::Ambiguous { .. } => "participants",
        _ => "_general",
    };
    match (field, follow_up_step) {
        ("state", _) => "state",
        ("kind", false) => "kind",
        ("date", false) => "date",
        ("summary", false) => "summary",
        ("outcome", false) => "outcome",
        ("stance", false) => "stance",
        ("sensitivity", false) => "sensitivity",
        ("deliverable", false) => "deliverable",
        ("with" | "participants", _) => "participants",
        ("description", true) => "follow_up",
        ("due", true) => "follow_up_due",
        ("follow_up_owner" | "--owner" | "owner", _) => "follow_up_owner",
        (_, true) => "follow_up",
        _ => "_general",
    }
}

fn split_participants(s: &str) -> Vec<String> {
    s.split([',', ';', '\n'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Checks what can be checked before writing, so every bad field is named at once.
async fn precheck(app: &AppState, form: &EngagementForm) -> Result<Errors, WebError> {
    let mut errors = Errors::new();
    let mut put = |f: &str, m: String| {
        errors.entry(f.to_owned()).or_insert(m);
    };
    if form.state.trim().is_empty() {
        put(
            "state",
            "Say which state: type its name or ISO3 code, e.g. Nepal or NPL.".into(),
        );
    } else if let Err(e) = states::resolve(&app.db, &form.state).await {
        match e {
            CoreError::UnknownState { .. } => put("state", e.to_string()),
            other => return Err(other.into()),
        }
    }
    if form.kind.trim().is_empty() {
        put("kind", "Choose what kind of engagement it was.".into());
    } else if let Err(e) = EngagementKind::parse("kind", &form.kind) {
        put("kind", message_of(&e));
    }
    if !form.date.trim().is_empty()
        && let Err(e) = parse_date("date", form.date.trim())
    {
        put("date", message_of(&e));
    }
    if !form.sensitivity.trim().is_empty()
        && let Err(e) = Sensitivity::parse("sensitivity", &form.sensitivity)
    {
        put("sensitivity", message_of(&e));
    }
    if !form.stance.trim().is_empty()
        && let Err(e) = Stance::parse("stance", &form.stance)
    {
        put("stance", message_of(&e));
    }
    let has_follow_up = !form.follow_up.trim().is_empty();
    if !has_follow_up && !form.follow_up_due.trim().is_empty() {
        put(
            "follow_up",
            "Say what the follow-up is, or clear its due date.".into(),
        );
    }
    if has_follow_up {
        if !form.follow_up_due.trim().is_empty()
            && let Err(e) = parse_date("follow_up_due", form.follow_up_due.trim())
        {
            put("follow_up_due", message_of(&e));
        }
        let owner = form.follow_up_owner.trim();
        if !owner.is_empty() && actor::find_user(&app.db, owner).await?.is_none() {
            put(
                "follow_up_owner",
                format!(
                    "No staff member has the handle '{owner}'; give a handle from the Users page, or leave it empty for yourself."
                ),
            );
        }
    }
    Ok(errors)
}

async fn create(
    State(app): State<Arc<AppState>>,
    user: User,
    Form(form): Form<EngagementForm>,
) -> PageResult<Response> {
    user.check_csrf(&form.csrf)?;
    let unprocessable = |errors: &Errors| {
        let mut res = render_form(&app, &user, &form, errors);
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        res
    };
    let errors = precheck(&app, &form).await?;
    if !errors.is_empty() {
        return Ok(unprocessable(&errors));
    }
    // Participants: staff handles become staff participants, the rest must be contacts.
    let mut staff = Vec::new();
    let mut contacts = Vec::new();
    for p in split_participants(&form.participants) {
        let handle = p.trim_start_matches('@');
        if actor::find_user(&app.db, handle).await?.is_some() {
            staff.push(handle.to_owned());
        } else {
            contacts.push(p);
        }
    }
    let some = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    let input = EngagementInput {
        state: form.state.trim().to_owned(),
        kind: form.kind.trim().to_owned(),
        date: some(&form.date),
        summary: some(&form.summary),
        outcome: some(&form.outcome),
        stance: some(&form.stance),
        with: contacts,
        meeting_id: None,
        sensitivity: some(&form.sensitivity),
        restricted_kinds: Some(app.settings.engagements.restricted_kinds.clone()),
        deliverable: some(&form.deliverable),
    };
    let follow_up = some(&form.follow_up).map(|description| FollowUpDraft {
        description,
        due: some(&form.follow_up_due),
        owner: some(&form.follow_up_owner),
    });
    let logged = match engagements::log_with(&app.db, &user.actor, &input, &staff, follow_up).await
    {
        Ok(v) => v,
        Err((step, e)) => {
            return core_failure(e, step == LogStep::FollowUp, unprocessable);
        }
    };
    Ok(Redirect::to(&format!("/states/{}?logged=1", enc(&logged.iso3))).into_response())
}

/// A core error from a write: a bad value re-renders the form (the transaction is dropped, so
/// nothing is written); anything else is a server error.
fn core_failure(
    e: CoreError,
    follow_up_step: bool,
    unprocessable: impl Fn(&Errors) -> Response,
) -> PageResult<Response> {
    if matches!(e, CoreError::Database(_)) {
        return Err(e.into());
    }
    let field = field_of(&e, follow_up_step);
    let message = match (&e, field) {
        (CoreError::UnknownState { .. }, _) => e.to_string(),
        (CoreError::Invalid { .. }, _) => message_of(&e),
        _ => e.to_string(),
    };
    let mut errors = Errors::new();
    errors.insert(field.to_owned(), message);
    Ok(unprocessable(&errors))
}

#[derive(Debug, Default, Deserialize)]
struct SearchQuery {
    #[serde(default)]
    q: String,
    /// `contacts` leaves staff out (meeting participants are contacts).
    #[serde(default)]
    only: String,
}

#[derive(Debug, Serialize, PartialEq, Eq)]
struct Suggestion {
    label: String,
    value: String,
}

/// Contacts and staff whose name, email or handle contains `q`: at most 10, JSON
/// `[{"label", "value"}]`; `value` is what the participants field accepts.
async fn search_participants(
    State(app): State<Arc<AppState>>,
    ApiUser(_user): ApiUser,
    Query(q): Query<SearchQuery>,
) -> ApiResult<Response> {
    let needle = q.q.trim().trim_start_matches('@').to_lowercase();
    let mut out: Vec<Suggestion> = Vec::new();
    if needle.is_empty() {
        return Ok(Json(out).into_response());
    }
    let staff = q.only.trim() != "contacts";
    for u in actor::users(&app.db).await?.into_iter().filter(|_| staff) {
        if out.len() >= 10 {
            break;
        }
        if u.handle.to_lowercase().contains(&needle) || u.name.to_lowercase().contains(&needle) {
            out.push(Suggestion {
                label: format!("{} ({}, staff)", u.name, u.handle),
                value: u.handle,
            });
        }
    }
    for c in directory::contacts(&app.db, None).await? {
        if out.len() >= 10 {
            break;
        }
        let email = c.email.clone().unwrap_or_default();
        if c.name.to_lowercase().contains(&needle) || email.to_lowercase().contains(&needle) {
            let mut label = c.name.clone();
            if let Some(t) = c.title.as_deref().filter(|t| !t.is_empty()) {
                label.push_str(&format!(", {t}"));
            }
            if let Some(iso3) = c.iso3.as_deref() {
                label.push_str(&format!(" ({iso3})"));
            }
            out.push(Suggestion {
                label,
                value: if email.is_empty() { c.name } else { email },
            });
        }
    }
    Ok(Json(out).into_response())
}
