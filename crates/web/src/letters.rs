//! Letters: the list of drafts, drafting one from a template for a state, reading a letter with
//! its versions, editing it, the review steps (submit, approve: coordinators and admins only,
//! mark sent) and export to Markdown, HTML or Word. Everything goes through
//! `outreach_letters::drafts` and `outreach_letters::export`, as the CLI does.

use std::sync::Arc;

use axum::extract::{Form, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use outreach_core::status::StatusFilter;
use outreach_letters::drafts::{self, DraftRequest, LetterStatus, LetterView};
use outreach_letters::export::{self, Format};
use serde::{Deserialize, Serialize};

use crate::pages::{Choice, FieldErrors, Page};
use crate::routing::Routes;
use crate::{AppState, CsrfForm, PageResult, Role, User, WebError};

pub fn routes() -> Routes {
    crate::page_routes! {
        "/letters" => get(list).post(create),
        "/letters/new" => get(new_form),
        "/letters/{id}" => get(show),
        "/letters/{id}/edit" => post(edit),
        "/letters/{id}/submit" => post(submit),
        "/letters/{id}/approve" => post(approve),
        "/letters/{id}/send" => post(mark_sent),
        "/letters/{id}/export" => post(export_letter),
    }
}

/// The form field a drafting error belongs to, if it belongs to one.
fn draft_field(e: &outreach_letters::Error) -> Option<&'static str> {
    use outreach_core::Error as C;
    use outreach_letters::Error as L;
    match e {
        L::MissingFields { .. } | L::Core(C::UnknownState { .. }) => Some("state"),
        L::Core(C::NotFound { what, .. } | C::Ambiguous { what, .. }) if *what == "contact" => {
            Some("to")
        }
        L::Core(C::Invalid { field, .. }) => match field.trim_start_matches('-') {
            "template" => Some("template"),
            "lang" | "language" => Some("lang"),
            "state" => Some("state"),
            "to" | "contact" | "recipient" => Some("to"),
            _ => None,
        },
        _ => None,
    }
}

/// The message of a drafting error without the field prefix the CLI shows, and with what is
/// missing said in terms of the web app's pages rather than commands.
fn draft_message(e: &outreach_letters::Error) -> String {
    match e {
        outreach_letters::Error::Core(outreach_core::Error::Invalid { message, .. }) => {
            message.clone()
        }
        outreach_letters::Error::MissingFields {
            template,
            state,
            missing,
        } => format!(
            "Cannot draft {} for {state}: {}. Nothing was written.",
            template.replace('_', " "),
            missing
                .iter()
                .map(|(field, hint)| web_hint(field, hint))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        other => other.to_string(),
    }
}

/// How to supply a field a letter template needs, from the web app.
fn web_hint(field: &str, cli_hint: &str) -> String {
    match field {
        "recipient.name" => "there is nobody to write to: choose a contact under To, or add a \
            contact at the embassy or ministry on the state's page (Add a contact)"
            .to_owned(),
        "partner.organisation" => "no local partner is recorded: add the local ICBL member on the \
            state's page (Add an organisation, kind icbl member)"
            .to_owned(),
        "partner.contact" => "nobody is recorded at the local partner: add a contact at the \
            partner organisation on the state's page (Add a contact)"
            .to_owned(),
        "engagements" => {
            "no engagement is logged yet: log one first (Log an engagement)".to_owned()
        }
        "meeting" => "no meeting with the state is recorded: mark the meeting held on its page, \
            or log it as an engagement"
            .to_owned(),
        "occasion" => "no statement or policy step is recorded: log it first as an engagement of \
            kind statement"
            .to_owned(),
        _ => format!("{field} ({cli_hint})"),
    }
}

/// A template's title from its front matter ("Call to speak out"), for pages; its name when
/// this server no longer has it.
fn template_title(app: &AppState, name: &str) -> String {
    app.letters
        .templates
        .get(name)
        .map_or_else(|_| name.replace('_', " "), |t| t.title.clone())
}

fn when(user: &User, at: chrono::DateTime<chrono::Utc>) -> String {
    user.zone.local(at).format("%Y-%m-%d %H:%M").to_string()
}

fn template_value(name: &str) -> String {
    name.replace('_', "-")
}

fn same_template(given: &str, name: &str) -> bool {
    given.trim().to_lowercase().replace('-', "_") == name
}

const STATUSES: [&str; 5] = ["draft", "in_review", "approved", "sent", "exported"];

#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    state: String,
}

async fn list(
    State(app): State<Arc<AppState>>,
    user: User,
    Query(q): Query<ListQuery>,
) -> PageResult {
    let mut errors = ListErrors::default();
    let status = if q.status.trim().is_empty() || q.status.trim() == "all" {
        None
    } else {
        match LetterStatus::parse("status", &q.status) {
            Ok(s) => Some(s),
            Err(e) => {
                errors.status = Some(invalid_message(&e));
                None
            }
        }
    };
    let state = if q.state.trim().is_empty() {
        None
    } else {
        match outreach_core::states::resolve(&app.db, &q.state).await {
            Ok(s) => Some(s.iso3),
            Err(e @ outreach_core::Error::UnknownState { .. }) => {
                errors.state = Some(e.to_string());
                None
            }
            Err(e) => return Err(e.into()),
        }
    };
    let failed = errors.status.is_some() || errors.state.is_some();
    let rows = if failed {
        Vec::new()
    } else {
        drafts::list(&app.db, status.map(LetterStatus::as_str))
            .await?
            .into_iter()
            .filter(|l| state.as_deref().is_none_or(|s| l.iso3 == s))
            .collect()
    };
    let chosen = status.map_or("", LetterStatus::as_str);
    let page = LettersPage {
        count: rows.len(),
        filter_status: q.status,
        filter_state: q.state,
        errors,
        statuses: STATUSES
            .iter()
            .map(|s| Choice::plain(s, *s == chosen))
            .collect(),
        rows: rows
            .iter()
            .map(|l| LetterLine {
                id: l.id.to_string(),
                short_id: l.short_id.clone(),
                status: l.status.clone(),
                template: template_title(&app, &l.template),
                language: l.language.clone(),
                iso3: l.iso3.clone(),
                state: l.state.clone(),
                recipient: l.recipient.clone(),
                version: l.version,
                updated: when(&user, l.updated_at),
            })
            .collect(),
    };
    let mut res = app.render_page(&user, &page);
    if failed {
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(res)
}

/// The letters page: every letter (`drafts::LetterView`) as a line, with when it last changed
/// in the reader's zone.
#[derive(Debug, Serialize)]
pub struct LettersPage {
    pub count: usize,
    pub filter_status: String,
    pub filter_state: String,
    pub errors: ListErrors,
    pub statuses: Vec<Choice>,
    pub rows: Vec<LetterLine>,
}

#[derive(Debug, Default, Serialize)]
pub struct ListErrors {
    pub status: Option<String>,
    pub state: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct LetterLine {
    pub id: String,
    pub short_id: String,
    pub status: String,
    pub template: String,
    pub language: String,
    pub iso3: String,
    pub state: String,
    pub recipient: String,
    pub version: i32,
    pub updated: String,
}

impl Page for LettersPage {
    const TEMPLATE: &'static str = "letters";
    fn sample() -> Self {
        Self {
            count: 1,
            filter_status: "draft".into(),
            filter_state: "NPL".into(),
            errors: ListErrors {
                status: Some("not a status".into()),
                state: Some("no such state".into()),
            },
            statuses: vec![Choice::sample()],
            rows: vec![LetterLine {
                id: uuid::Uuid::nil().to_string(),
                short_id: "0000".into(),
                status: "draft".into(),
                template: "joint_approach".into(),
                language: "en".into(),
                iso3: "NPL".into(),
                state: "Nepal".into(),
                recipient: "Anita Sharma".into(),
                version: 1,
                updated: "2026-12-07 10:00".into(),
            }],
        }
    }
}

fn invalid_message(e: &outreach_core::Error) -> String {
    match e {
        outreach_core::Error::Invalid { message, .. } => message.clone(),
        other => other.to_string(),
    }
}

/// What the drafting form was given (all kept on an error).
#[derive(Debug, Default, Deserialize)]
struct DraftForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    template: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    lang: String,
}

#[derive(Debug, Default, Deserialize)]
struct NewQuery {
    #[serde(default)]
    state: String,
    #[serde(default)]
    template: String,
}

async fn new_form(
    State(app): State<Arc<AppState>>,
    user: User,
    Query(q): Query<NewQuery>,
) -> PageResult {
    let form = DraftForm {
        template: q.template,
        state: q.state,
        ..DraftForm::default()
    };
    form_page(&app, &user, &form, None, None).await
}

/// The drafting form with `form`'s values and, if given, the error beside `field`.
async fn form_page(
    app: &AppState,
    user: &User,
    form: &DraftForm,
    field: Option<&str>,
    message: Option<String>,
) -> PageResult {
    let templates = app.letters.templates.list();
    let chosen = templates
        .iter()
        .find(|t| same_template(&form.template, &t.name))
        .or_else(|| templates.first());
    let languages = chosen.map(|t| t.languages.clone()).unwrap_or_default();
    let lang = form.lang.trim().to_lowercase();
    // The contacts of the state typed, when it is one: the recipient list to pick from.
    let contacts = match outreach_core::states::resolve(&app.db, &form.state).await {
        Ok(s) => outreach_core::directory::contacts(&app.db, Some(&s.iso3)).await?,
        Err(_) => Vec::new(),
    };
    let states =
        outreach_core::states::by_status(&app.db, &app.treaty, StatusFilter::All, user.today())
            .await?;
    let mut errors = FieldErrors::new(&["template", "state", "to", "lang", "form"]);
    if let Some(m) = message {
        errors.set(field.unwrap_or("form"), m);
    }
    let page = LetterNewPage {
        templates: templates
            .iter()
            .map(|t| TemplateChoice {
                value: template_value(&t.name),
                title: t.title.clone(),
                description: t.description.clone(),
                audience: t.audience.clone(),
                languages: t.languages.join(", "),
                selected: chosen.is_some_and(|c| c.name == t.name),
            })
            .collect(),
        languages: languages
            .iter()
            .map(|l| Choice::plain(l, *l == lang))
            .collect(),
        state: form.state.clone(),
        to: form.to.clone(),
        states: states
            .iter()
            .map(|s| StateChoice {
                iso3: s.iso3.clone(),
                name: s.name.clone(),
            })
            .collect(),
        contacts: contacts
            .iter()
            .map(|c| ContactChoice {
                value: c.email.clone().unwrap_or_else(|| c.name.clone()),
                label: match (&c.title, &c.role) {
                    (Some(t), _) | (None, Some(t)) => format!("{} ({t})", c.name),
                    (None, None) => c.name.clone(),
                },
            })
            .collect(),
        errors,
    };
    let form_error = page.errors.get("form").is_some();
    let mut res = app.render_page(user, &page);
    if field.is_some() || form_error {
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(res)
}

/// The form to draft a letter: the templates with their titles, the state's contacts to write
/// to, and the message beside the field refused.
#[derive(Debug, Serialize)]
pub struct LetterNewPage {
    pub errors: FieldErrors,
    pub templates: Vec<TemplateChoice>,
    pub languages: Vec<Choice>,
    pub state: String,
    pub to: String,
    pub states: Vec<StateChoice>,
    pub contacts: Vec<ContactChoice>,
}

/// A letter template (`templates::TemplateInfo`) as an option: its value as the form sends it,
/// its languages in one line.
#[derive(Debug, Serialize)]
pub struct TemplateChoice {
    pub value: String,
    pub title: String,
    pub description: String,
    pub audience: String,
    pub languages: String,
    pub selected: bool,
}

#[derive(Debug, Serialize)]
pub struct StateChoice {
    pub iso3: String,
    pub name: String,
}

#[derive(Debug, Serialize)]
pub struct ContactChoice {
    pub value: String,
    pub label: String,
}

impl Page for LetterNewPage {
    const TEMPLATE: &'static str = "letter_new";
    fn sample() -> Self {
        Self {
            errors: FieldErrors::sample(&["template", "state", "to", "lang", "form"]),
            templates: vec![TemplateChoice {
                value: "joint-approach".into(),
                title: "Joint approach".into(),
                description: "With the local campaign".into(),
                audience: "embassies".into(),
                languages: "en, fr, es".into(),
                selected: true,
            }],
            languages: vec![Choice::sample()],
            state: "NPL".into(),
            to: "anita@example.org".into(),
            states: vec![StateChoice {
                iso3: "NPL".into(),
                name: "Nepal".into(),
            }],
            contacts: vec![ContactChoice {
                value: "anita@example.org".into(),
                label: "Anita Sharma (Ambassador)".into(),
            }],
        }
    }
}

async fn create(
    State(app): State<Arc<AppState>>,
    user: User,
    Form(form): Form<DraftForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    // Checked here first so the message names the field even before the database is asked.
    let empty = [
        ("template", form.template.trim(), "choose a letter template"),
        (
            "state",
            form.state.trim(),
            "give the state the letter is about: its ISO3 code (NPL) or its name (Nepal)",
        ),
    ];
    if let Some((field, _, message)) = empty.iter().find(|(_, v, _)| v.is_empty()) {
        return form_page(&app, &user, &form, Some(field), Some((*message).to_owned())).await;
    }
    let optional = |s: &str| {
        let s = s.trim();
        (!s.is_empty()).then(|| s.to_owned())
    };
    let req = DraftRequest {
        template: form.template.trim().to_owned(),
        state: form.state.trim().to_owned(),
        to: optional(&form.to),
        lang: optional(&form.lang),
        signal: None,
    };
    match drafts::draft(&app.db, &user.actor, &app.letters, &req).await {
        Ok(view) => Ok(Redirect::to(&format!("/letters/{}", view.id)).into_response()),
        Err(e) => match draft_field(&e) {
            Some(field) => {
                form_page(&app, &user, &form, Some(field), Some(draft_message(&e))).await
            }
            None => Err(e.into()),
        },
    }
}

/// The values of the edit form, kept when it is refused.
#[derive(Debug, Default, Deserialize)]
struct EditForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    note: String,
}

fn letter_page(
    app: &AppState,
    user: &User,
    l: &LetterView,
    edit: Option<&EditForm>,
    body_error: Option<String>,
) -> Response {
    let status = LetterStatus::parse("status", &l.status).ok();
    let editable = !matches!(status, Some(LetterStatus::Sent | LetterStatus::Exported));
    // Four eyes: the author of the version in review does not approve it.
    let wrote_it = app.letters.settings.four_eyes
        && l.versions
            .iter()
            .find(|v| v.version == l.version)
            .is_some_and(|v| v.author == user.handle);
    let in_review = status == Some(LetterStatus::InReview);
    let page = LetterPage {
        id: l.id.to_string(),
        short_id: l.short_id.clone(),
        template: template_title(app, &l.template),
        language: l.language.clone(),
        iso3: l.iso3.clone(),
        state: l.state.clone(),
        recipient: l.recipient.clone(),
        organisation: l.recipient_organisation.clone(),
        status: l.status.clone(),
        version: l.version,
        subject: l.subject.clone(),
        body: l.body.clone(),
        created_by: l.created_by.clone(),
        created: when(user, l.created_at),
        updated: when(user, l.updated_at),
        approved: l.approved_by.as_ref().map(|by| Approval {
            by: by.clone(),
            at: l.approved_at.map(|a| when(user, a)).unwrap_or_default(),
            version: l.approved_version,
        }),
        sent: l.sent_at.map(|a| when(user, a)),
        exported: l.exported_at.map(|a| when(user, a)),
        can_edit: editable,
        can_submit: status == Some(LetterStatus::Draft),
        can_approve: in_review && user.role >= Role::Coordinator && !wrote_it,
        awaits_approval: in_review && (user.role < Role::Coordinator || wrote_it),
        can_send: matches!(
            status,
            Some(LetterStatus::Approved | LetterStatus::Exported)
        ),
        edit: EditValues {
            subject: edit
                .map_or(l.subject.as_str(), |e| e.subject.as_str())
                .to_owned(),
            body: edit.map_or(l.body.as_str(), |e| e.body.as_str()).to_owned(),
            note: edit.map_or("", |e| e.note.as_str()).to_owned(),
        },
        errors: BodyError {
            body: body_error.clone(),
        },
        versions: l
            .versions
            .iter()
            .rev()
            .map(|v| VersionLine {
                version: v.version,
                author: v.author.clone(),
                note: v.note.clone(),
                when: when(user, v.created_at),
                subject: v.subject.clone(),
                body: v.body.clone(),
                current: v.version == l.version,
            })
            .collect(),
    };
    let mut res = app.render_page(user, &page);
    if body_error.is_some() {
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    res
}

/// A letter's page: the letter (`drafts::LetterView`) with its times in the reader's zone,
/// what the reader may do with it, the edit form and every version.
#[derive(Debug, Serialize)]
pub struct LetterPage {
    pub id: String,
    pub short_id: String,
    pub template: String,
    pub language: String,
    pub iso3: String,
    pub state: String,
    pub recipient: String,
    pub organisation: Option<String>,
    pub status: String,
    pub version: i32,
    pub subject: String,
    pub body: String,
    pub created_by: String,
    pub created: String,
    pub updated: String,
    pub approved: Option<Approval>,
    pub sent: Option<String>,
    pub exported: Option<String>,
    pub can_edit: bool,
    pub can_submit: bool,
    pub can_approve: bool,
    pub awaits_approval: bool,
    pub can_send: bool,
    pub edit: EditValues,
    pub errors: BodyError,
    pub versions: Vec<VersionLine>,
}

#[derive(Debug, Serialize)]
pub struct Approval {
    pub by: String,
    pub at: String,
    pub version: Option<i32>,
}

#[derive(Debug, Serialize)]
pub struct EditValues {
    pub subject: String,
    pub body: String,
    pub note: String,
}

#[derive(Debug, Serialize)]
pub struct BodyError {
    pub body: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct VersionLine {
    pub version: i32,
    pub author: String,
    pub note: String,
    pub when: String,
    pub subject: String,
    pub body: String,
    pub current: bool,
}

impl Page for LetterPage {
    const TEMPLATE: &'static str = "letter";
    fn sample() -> Self {
        let some = |s: &str| Some(s.to_owned());
        Self {
            id: uuid::Uuid::nil().to_string(),
            short_id: "0000".into(),
            template: "joint_approach".into(),
            language: "en".into(),
            iso3: "NPL".into(),
            state: "Nepal".into(),
            recipient: "Anita Sharma".into(),
            organisation: some("Embassy of Nepal"),
            status: "approved".into(),
            version: 2,
            subject: "Joining the Mine Ban Treaty".into(),
            body: "Excellency, ...".into(),
            created_by: "sam".into(),
            created: "2026-12-01 10:00".into(),
            updated: "2026-12-02 10:00".into(),
            approved: Some(Approval {
                by: "kim".into(),
                at: "2026-12-03 10:00".into(),
                version: Some(2),
            }),
            sent: some("2026-12-04 10:00"),
            exported: some("2026-12-04 09:00"),
            can_edit: true,
            can_submit: true,
            can_approve: true,
            awaits_approval: true,
            can_send: true,
            edit: EditValues {
                subject: "Joining the Mine Ban Treaty".into(),
                body: "Excellency, ...".into(),
                note: "shorter".into(),
            },
            errors: BodyError {
                body: some("The text is empty"),
            },
            versions: vec![VersionLine {
                version: 2,
                author: "sam".into(),
                note: "shorter".into(),
                when: "2026-12-02 10:00".into(),
                subject: "Joining the Mine Ban Treaty".into(),
                body: "Excellency, ...".into(),
                current: true,
            }],
        }
    }
}

async fn show(State(app): State<Arc<AppState>>, user: User, Path(id): Path<String>) -> PageResult {
    let l = drafts::show(&app.db, &id).await?;
    Ok(letter_page(&app, &user, &l, None, None))
}

async fn edit(
    State(app): State<Arc<AppState>>,
    user: User,
    Path(id): Path<String>,
    Form(form): Form<EditForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    fn optional(s: &str) -> Option<&str> {
        let s = s.trim();
        (!s.is_empty()).then_some(s)
    }
    match drafts::edit(
        &app.db,
        &user.actor,
        &id,
        optional(&form.subject),
        &form.body,
        optional(&form.note),
    )
    .await
    {
        Ok(l) => Ok(Redirect::to(&format!("/letters/{}", l.id)).into_response()),
        Err(outreach_letters::Error::Core(outreach_core::Error::Invalid { field, .. }))
            if field == "body" =>
        {
            let l = drafts::show(&app.db, &id).await?;
            Ok(letter_page(
                &app,
                &user,
                &l,
                Some(&form),
                Some(
                    "The text is empty; write the whole letter (it replaces the current version)."
                        .into(),
                ),
            ))
        }
        Err(e) => Err(e.into()),
    }
}

async fn submit(
    State(app): State<Arc<AppState>>,
    user: User,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    let l = drafts::submit(&app.db, &user.actor, &id).await?;
    Ok(Redirect::to(&format!("/letters/{}", l.id)).into_response())
}

async fn approve(
    State(app): State<Arc<AppState>>,
    user: User,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    user.require(Role::Coordinator, "approve letters")?;
    let l = drafts::approve(&app.db, &user.actor, &id, app.letters.settings.four_eyes).await?;
    Ok(Redirect::to(&format!("/letters/{}", l.id)).into_response())
}

async fn mark_sent(
    State(app): State<Arc<AppState>>,
    user: User,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> PageResult {
    user.check_csrf(&form.csrf)?;
    let l = drafts::mark_sent(&app.db, &user.actor, &id).await?;
    Ok(Redirect::to(&format!("/letters/{}", l.id)).into_response())
}

#[derive(Debug, Default, Deserialize)]
struct ExportForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    format: String,
}

fn content_type(format: Format) -> &'static str {
    match format {
        Format::Markdown => "text/markdown; charset=utf-8",
        Format::Html => "text/html; charset=utf-8",
        Format::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    }
}

/// The letter's current version as a file; an approved letter becomes exported (as with
/// `outreach letter export`), other letters keep their status (an export of a draft is a preview).
/// `POST /letters/{id}/export`: a form post (it records the export and moves an approved
/// letter to exported, so it is never a link a prefetch could follow).
async fn export_letter(
    State(app): State<Arc<AppState>>,
    user: User,
    Path(id): Path<String>,
    Form(f): Form<ExportForm>,
) -> PageResult {
    user.check_csrf(&f.csrf)?;
    export_file(&app, &user.actor, &id, &f.format).await
}

/// Renders letter `id` in the format `given` (md when empty) and records the export; the page
/// and the API both answer with this.
pub(crate) async fn export_file(
    app: &AppState,
    actor: &outreach_core::Actor,
    id: &str,
    given: &str,
) -> Result<Response, WebError> {
    let given = match given.trim() {
        "" => "md",
        g => g,
    };
    let format = Format::parse(given).map_err(|_| {
        WebError::invalid(
            "format",
            format!("'{given}' is not an export format; use md, html or docx"),
        )
    })?;
    // Render first: an export that cannot be produced leaves the letter as it was.
    let current = drafts::show(&app.db, id).await?;
    let bytes = export::render(&current, &app.letters.settings, format)?;
    drafts::record_export(&app.db, actor, id, format.extension()).await?;
    let file = format!("letter-{}.{}", current.short_id, format.extension());
    Ok((
        [
            (header::CONTENT_TYPE, content_type(format).to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}\""),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        ],
        bytes,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drafting_errors_name_their_form_field() {
        let lang: outreach_letters::Error =
            outreach_core::Error::invalid("--lang", "letters are written in en, fr or es").into();
        assert_eq!(draft_field(&lang), Some("lang"));
        assert_eq!(draft_message(&lang), "letters are written in en, fr or es");
        let contact: outreach_letters::Error =
            outreach_core::Error::not_found("contact", "nobody", "").into();
        assert_eq!(draft_field(&contact), Some("to"));
    }

    #[test]
    fn missing_records_are_explained_without_commands() {
        let missing = outreach_letters::Error::MissingFields {
            template: "joint_approach".into(),
            state: "Nepal (NPL)".into(),
            missing: [
                "recipient.name",
                "partner.organisation",
                "partner.contact",
                "engagements",
                "meeting",
                "occasion",
            ]
            .iter()
            .map(|f| ((*f).to_owned(), format!("run `outreach something` for {f}")))
            .collect(),
        };
        assert_eq!(draft_field(&missing), Some("state"));
        let message = draft_message(&missing);
        assert!(message.starts_with("Cannot draft joint approach for Nepal (NPL): "));
        assert!(message.contains("Add a contact"), "{message}");
        assert!(!message.contains("outreach "), "{message}");
        let other = outreach_letters::Error::MissingFields {
            template: "call_to_join".into(),
            state: "Finland (FIN)".into(),
            missing: vec![("state.years_outside".into(), "FIN is already party".into())],
        };
        assert!(draft_message(&other).contains("state.years_outside (FIN is already party)"));
    }
}
