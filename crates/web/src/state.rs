//! A state's page: its status history with sources, signals, contacts and organisations,
//! grantees, the engagement timeline, meetings, open follow-ups and letters. A name or a
//! lower-case code redirects to the canonical `/states/{ISO3}`; an unknown one is a 404 that
//! suggests the nearest states.
//!
//! The page also takes what staff learn on the way: a contact or an organisation in the state
//! (`POST /states/{ISO3}/contacts`, `/organisations`; a refused form comes back with the message
//! beside its field and everything typed kept), an Investing in Action grant with its report dates
//! (`POST /states/{ISO3}/grants`, coordinators and admins), and a follow-up done
//! (`POST /follow-ups/{id}/done`).

use std::sync::Arc;

use axum::extract::{Form, Path, Query, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use outreach_core::directory::{self, ContactInput, GrantInput, OrganisationInput};
use outreach_core::domain::{OrganisationKind, Stance, parse_date};
use outreach_core::entities::state;
use outreach_core::followups::FollowUpView;
use outreach_core::meetings::MeetingView;
use outreach_core::posts::{self, PostInput};
use outreach_core::stance::{self, StanceInput};
use outreach_core::views::ContactView;
use outreach_core::{followups, meetings, states, views};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::dashboard::{enc, message_of};
use crate::pages::{Choice, FieldErrors, Page};
use crate::routing::Routes;
use crate::{AppState, CsrfForm, PageResult, Role, User, WebError};

/// How many engagements the state page shows, newest first.
const TIMELINE: u64 = 200;

pub fn routes() -> Routes {
    crate::page_routes! {
        "/states/{key}" => get(state_page),
        "/states/{key}/contacts" => post(add_contact),
        "/states/{key}/organisations" => post(add_organisation),
        "/states/{key}/grants" => post(add_grant),
        "/states/{key}/stance" => post(set_stance),
        "/states/{key}/posts" => post(add_post),
        "/follow-ups/{id}/done" => post(follow_up_done),
    }
}

#[derive(Debug, Default, Deserialize)]
struct StateQuery {
    at: Option<String>,
    treaty: Option<String>,
    logged: Option<String>,
    added: Option<String>,
    done: Option<String>,
}

/// A contact to add, as typed; kept when the form is refused.
#[derive(Debug, Default, Deserialize, Serialize)]
struct ContactForm {
    #[serde(default, skip_serializing)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    organisation: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    languages: String,
    #[serde(default)]
    phone: String,
}

/// An organisation to add, as typed; kept when the form is refused.
#[derive(Debug, Default, Deserialize, Serialize)]
struct OrganisationForm {
    #[serde(default, skip_serializing)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    website: String,
}

/// A grant to add, as typed; kept when the form is refused.
#[derive(Debug, Default, Deserialize, Serialize)]
struct GrantForm {
    #[serde(default, skip_serializing)]
    csrf: String,
    #[serde(default)]
    organisation: String,
    #[serde(default)]
    year: String,
    #[serde(default)]
    amount: String,
    #[serde(default)]
    currency: String,
    #[serde(default)]
    purpose: String,
    #[serde(default)]
    reports_due: String,
}

/// A stance to set, as typed; kept when the form is refused.
#[derive(Debug, Default, Deserialize, Serialize)]
struct StanceForm {
    #[serde(default, skip_serializing)]
    csrf: String,
    #[serde(default)]
    stance: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    on: String,
}

/// A post to record, as typed; kept when the form is refused.
#[derive(Debug, Default, Deserialize, Serialize)]
struct PostForm {
    #[serde(default, skip_serializing)]
    csrf: String,
    #[serde(default)]
    contact: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    organisation: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

/// A refused form to show again: which one, what was typed and the message beside its field.
struct Refused {
    form: &'static str,
    values: Value,
    field: String,
    message: String,
}

fn optional(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

fn words(s: &str) -> String {
    s.replace('_', " ")
}

/// The state `key` names (ISO3, ISO2 or name, any case); a 404 suggesting the nearest otherwise.
/// A form's values as JSON for the page (an error, a bug, is an error page, never empty fields).
fn to_json<T: Serialize>(form: &T) -> Result<Value, WebError> {
    serde_json::to_value(form).map_err(|e| WebError::Internal(format!("a form as JSON: {e}")))
}

async fn resolve(app: &AppState, key: &str) -> Result<state::Model, WebError> {
    match states::resolve(&app.db, key).await {
        Ok(st) => Ok(st),
        Err(e @ outreach_core::Error::UnknownState { .. }) => Err(WebError::Missing {
            message: e.to_string(),
            remedy: e.remedy(),
        }),
        Err(e) => Err(e.into()),
    }
}

async fn state_page(
    State(app): State<Arc<AppState>>,
    user: User,
    Path(key): Path<String>,
    Query(query): Query<StateQuery>,
    RawQuery(raw): RawQuery,
) -> PageResult<Response> {
    let st = resolve(&app, &key).await?;
    if st.iso3 != key {
        let to = match raw.filter(|r| !r.is_empty()) {
            Some(r) => format!("/states/{}?{r}", enc(&st.iso3)),
            None => format!("/states/{}", enc(&st.iso3)),
        };
        return Ok(Redirect::to(&to).into_response());
    }
    render(&app, &user, st, &query, None).await
}

async fn render(
    app: &AppState,
    user: &User,
    st: state::Model,
    query: &StateQuery,
    refused: Option<Refused>,
) -> PageResult<Response> {
    let today = user.today();
    let mut errors = DateErrors::default();
    let at_given = query.at.clone().unwrap_or_default();
    let at = match at_given.trim() {
        "" => today,
        d => parse_date("at", d).unwrap_or_else(|e| {
            errors.at = Some(message_of(&e));
            today
        }),
    };
    let treaty = match query.treaty.as_deref().map(str::trim).unwrap_or_default() {
        "" => app.treaty.clone(),
        t => match states::resolve_treaty(&app.db, t).await {
            Ok(t) => t.code,
            Err(e) => {
                errors.treaty = Some(message_of(&e));
                app.treaty.clone()
            }
        },
    };
    let p = views::profile_with(
        &app.db,
        st,
        &treaty,
        at,
        user.zone,
        today,
        Some(TIMELINE),
        &user.reader,
    )
    .await?;
    let all_meetings = meetings::list(&app.db, user.zone, false, Some(&p.iso3)).await?;
    let letters: Vec<_> = outreach_letters::drafts::list(&app.db, None)
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?
        .into_iter()
        .filter(|l| l.iso3 == p.iso3)
        .collect();

    let notice = match (query.added.as_deref(), query.done.as_deref()) {
        (Some("contact"), _) => Some("Contact added."),
        (Some("organisation"), _) => Some("Organisation added."),
        (Some("grant"), _) => {
            Some("Grant added; its report reminders are planned at the next sweep.")
        }
        (Some("stance"), _) => Some("Stance set."),
        (Some("post"), _) => Some("Post recorded."),
        (_, Some("1")) => Some("Follow-up marked done."),
        _ => None,
    };
    // Every field is present (strict templates): typed values and the message of a refused form.
    let form_of = |add: &AddForm, blank: Value| {
        let mut errors = FieldErrors::new(add.fields);
        match &refused {
            Some(r) if r.form == add.form => {
                errors.set(&r.field, r.message.clone());
                AddFormView {
                    open: true,
                    values: r.values.clone(),
                    errors,
                }
            }
            _ => AddFormView {
                open: false,
                values: blank,
                errors,
            },
        }
    };
    let add_contact = form_of(&CONTACT, to_json(&ContactForm::default())?);
    let add_organisation = form_of(&ORGANISATION, to_json(&OrganisationForm::default())?);
    let blank_grant = GrantForm {
        year: today.format("%Y").to_string(),
        ..GrantForm::default()
    };
    let add_grant = form_of(&GRANT, to_json(&blank_grant)?);
    let set_stance = form_of(&STANCE, to_json(&StanceForm::default())?);
    let add_post = form_of(&POST, to_json(&PostForm::default())?);
    let chosen_contact = add_post.values["contact"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let chosen_post_org = add_post.values["organisation"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let chosen_stance = set_stance.values["stance"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let chosen_org = add_contact.values["organisation"]
        .as_str()
        .or_else(|| add_grant.values["organisation"].as_str())
        .unwrap_or_default()
        .to_owned();
    let chosen_kind = add_organisation.values["kind"]
        .as_str()
        .unwrap_or_default()
        .replace('_', "-");
    let status_since = p
        .status_since
        .filter(|_| p.status != outreach_core::status::Status::Party)
        .map(|d| d.to_string());
    let page = StatePage {
        at_value: if errors.at.is_none() {
            at.to_string()
        } else {
            at_given
        },
        errors,
        logged: query.logged.as_deref() == Some("1"),
        status: p.status.label().to_owned(),
        status_key: p.status.as_str().to_owned(),
        status_since,
        in_force: p.in_force,
        party_since: p.party_since.map(|d| d.to_string()),
        last_engagement: p.last_engagement.map(|d| d.to_string()),
        days: p.days_since_last_engagement.map(|d| d.to_string()),
        treaties: p
            .treaties
            .iter()
            .map(|t| TreatyRow {
                treaty: t.treaty.clone(),
                status: t.status.label().to_owned(),
                in_force: t.in_force,
                party_since: t.party_since.map(|d| d.to_string()),
                selected: t.treaty == p.treaty,
            })
            .collect(),
        status_history: p
            .status_history
            .iter()
            .map(|e| EventRow {
                event: words(&e.event),
                date: e.date.to_string(),
                source_is_link: e.source.starts_with("https://") || e.source.starts_with("http://"),
                source: e.source.clone(),
                confidence: e.confidence.clone(),
                note: e.note.clone(),
            })
            .collect(),
        signals: p
            .signals
            .iter()
            .map(|s| SignalRow {
                kind: words(&s.kind),
                date: s.date.to_string(),
                detail: s.detail.clone(),
                value: s.value.clone(),
                source: s.source.clone(),
            })
            .collect(),
        organisations: p
            .organisations
            .iter()
            .map(|o| OrganisationRow {
                name: o.name.clone(),
                kind: words(&o.kind),
                icbl_member: o.icbl_member,
                email: o.email.clone(),
            })
            .collect(),
        organisation_kinds: OrganisationKind::ALL
            .iter()
            .map(|k| {
                let value = k.as_str().replace('_', "-");
                let selected = value == chosen_kind;
                Choice::new(value, words(k.as_str()), selected)
            })
            .collect(),
        organisation_choices: p
            .organisations
            .iter()
            .map(|o| OrganisationChoice {
                id: o.id.to_string(),
                name: o.name.clone(),
                selected: o.id.to_string() == chosen_org,
            })
            .collect(),
        grants: p
            .grants
            .iter()
            .map(|g| GrantRow {
                id: g.id.to_string(),
                progress: g.progress.summary.clone(),
                organisation: g.organisation.clone(),
                programme: g.programme.clone(),
                year: g.year,
                amount: g.amount.clone(),
                currency: g.currency.clone(),
                purpose: g.purpose.clone(),
                reports_due: g
                    .reports_due
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
            })
            .collect(),
        engagement_count: p.engagement_count,
        shown: p.engagements.len(),
        timeline_cut: p.engagement_count > p.engagements.len() as u64,
        engagements: p
            .engagements
            .iter()
            .map(|e| EngagementRow {
                id: e.id.to_string(),
                date: e.date.to_string(),
                kind: words(&e.kind),
                participants: e.participants.join(", "),
                summary: e.summary.clone(),
                outcome: e.outcome.clone(),
                stance: e.stance.clone(),
                logged_by: e.logged_by.clone(),
                sensitivity: e.sensitivity.clone(),
                withheld: e.withheld,
                restricted: e.sensitivity == "restricted",
                public: e.sensitivity == "public",
            })
            .collect(),
        meetings: all_meetings
            .into_iter()
            .rev()
            .map(|m| MeetingRow {
                same_zone: m.time_zone == m.reader_time_zone,
                meeting: m,
            })
            .collect(),
        letters: letters.iter().map(LetterRow::of).collect(),
        notice: notice.map(str::to_owned),
        add_contact,
        add_organisation,
        add_grant,
        can_add_grant: user.role >= Role::Coordinator,
        stance: p.stance.as_ref().map(StanceRow::of),
        stance_history: p.stance_history.iter().skip(1).map(StanceRow::of).collect(),
        stance_choices: Stance::ALL
            .iter()
            .map(|s| Choice::plain(s.as_str(), s.as_str() == chosen_stance))
            .collect(),
        set_stance,
        can_set_stance: user.role >= Role::Coordinator,
        add_post,
        contact_choices: p
            .contacts
            .iter()
            .map(|c| OrganisationChoice {
                id: c.id.to_string(),
                name: c.name.clone(),
                selected: c.id.to_string() == chosen_contact,
            })
            .collect(),
        post_organisation_choices: p
            .organisations
            .iter()
            .map(|o| OrganisationChoice {
                id: o.id.to_string(),
                name: o.name.clone(),
                selected: o.id.to_string() == chosen_post_org,
            })
            .collect(),
        follow_ups: p.open_follow_ups,
        posts: offices(&p.posts),
        contacts: p.contacts,
        iso3: p.iso3,
        iso2: p.iso2,
        name: p.name,
        official_name: p.official_name,
        capital: p.capital,
        capital_tz: p.capital_tz,
        region: p.un_region,
        subregion: p.un_subregion,
        treaty: p.treaty,
        at: p.at.to_string(),
    };
    let mut res = app.render_page(user, &page);
    if refused.is_some() {
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(res)
}

/// A state's page: its profile (`views::StateProfile`) with statuses, kinds and dates in words
/// for reading, its meetings and letters, and the forms that add to it. Contacts and open
/// follow-ups are the views' own.
#[derive(Debug, Serialize)]
pub struct StatePage {
    pub iso3: String,
    pub iso2: String,
    pub name: String,
    pub official_name: String,
    pub capital: String,
    pub capital_tz: String,
    pub region: String,
    pub subregion: String,
    pub treaty: String,
    pub at: String,
    /// What the date field shows: the date used, or what was typed when it was refused.
    pub at_value: String,
    pub errors: DateErrors,
    /// Just back from logging an engagement.
    pub logged: bool,
    pub status: String,
    pub status_key: String,
    /// The day the status began, unless the state is a party (then `party_since` says it).
    pub status_since: Option<String>,
    pub in_force: bool,
    pub party_since: Option<String>,
    pub last_engagement: Option<String>,
    pub days: Option<String>,
    pub treaties: Vec<TreatyRow>,
    pub status_history: Vec<EventRow>,
    pub signals: Vec<SignalRow>,
    pub organisations: Vec<OrganisationRow>,
    pub contacts: Vec<ContactView>,
    /// The state's posts: each office with its holder on the page's date and the other terms.
    pub posts: Vec<OfficeRow>,
    pub grants: Vec<GrantRow>,
    pub engagement_count: u64,
    pub shown: usize,
    /// More engagements exist than the timeline shows.
    pub timeline_cut: bool,
    pub engagements: Vec<EngagementRow>,
    pub meetings: Vec<MeetingRow>,
    pub follow_ups: Vec<FollowUpView>,
    pub letters: Vec<LetterRow>,
    pub notice: Option<String>,
    pub add_contact: AddFormView,
    pub add_organisation: AddFormView,
    pub add_grant: AddFormView,
    pub can_add_grant: bool,
    /// The current stance as the reader may know it.
    pub stance: Option<StanceRow>,
    /// The changes before it, newest first.
    pub stance_history: Vec<StanceRow>,
    pub stance_choices: Vec<Choice>,
    pub set_stance: AddFormView,
    pub can_set_stance: bool,
    /// The form to record who holds an office.
    pub add_post: AddFormView,
    /// The state's contacts, who may hold a post.
    pub contact_choices: Vec<OrganisationChoice>,
    pub post_organisation_choices: Vec<OrganisationChoice>,
    pub organisation_kinds: Vec<Choice>,
    pub organisation_choices: Vec<OrganisationChoice>,
}

#[derive(Debug, Default, Serialize)]
pub struct DateErrors {
    pub at: Option<String>,
    pub treaty: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct TreatyRow {
    pub treaty: String,
    pub status: String,
    pub in_force: bool,
    pub party_since: Option<String>,
    pub selected: bool,
}

/// A treaty event (`views::TreatyEventView`) with the event in words and whether its source is
/// a link to follow.
#[derive(Debug, Serialize)]
pub struct EventRow {
    pub event: String,
    pub date: String,
    pub source: String,
    pub source_is_link: bool,
    pub confidence: String,
    pub note: String,
}

/// A signal (`signals::SignalView`) with its kind in words.
#[derive(Debug, Serialize)]
pub struct SignalRow {
    pub kind: String,
    pub date: String,
    pub detail: String,
    pub value: Option<String>,
    pub source: Option<String>,
}

/// An organisation (`views::OrganisationView`) with its kind in words.
#[derive(Debug, Serialize)]
pub struct OrganisationRow {
    pub name: String,
    pub kind: String,
    pub icbl_member: bool,
    pub email: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct OrganisationChoice {
    pub id: String,
    pub name: String,
    pub selected: bool,
}

/// A grant (`directory::GrantView`) with its report dates in one line.
#[derive(Debug, Serialize)]
pub struct GrantRow {
    pub id: String,
    /// "1 of 2 deliverables done, 0 of 2 reports submitted" (`grants::Progress`).
    pub progress: String,
    pub organisation: String,
    pub programme: String,
    pub year: i32,
    pub amount: String,
    pub currency: String,
    pub purpose: Option<String>,
    pub reports_due: String,
}

/// An engagement (`engagements::EngagementView`) with its kind in words, its participants in
/// one line and its sensitivity as flags for the template.
#[derive(Debug, Serialize)]
pub struct EngagementRow {
    pub id: String,
    pub date: String,
    pub kind: String,
    pub participants: String,
    pub summary: String,
    pub outcome: Option<String>,
    pub stance: Option<String>,
    pub logged_by: String,
    pub sensitivity: String,
    pub withheld: bool,
    pub restricted: bool,
    pub public: bool,
}

/// A stance on record (`stance::StanceView`) with where it came from in words: "capital
/// meeting" or "set by ana: the defence ministry ruled it out".
#[derive(Debug, Serialize)]
pub struct StanceRow {
    pub stance: String,
    pub since: String,
    pub from: String,
    pub coordinator: bool,
}

impl StanceRow {
    fn of(v: &outreach_core::stance::StanceView) -> Self {
        let from = match (&v.engagement_kind, &v.set_by, &v.reason) {
            (Some(kind), _, _) => words(kind),
            (None, Some(by), Some(reason)) => format!("set by {by}: {reason}"),
            _ => v.source.clone(),
        };
        Self {
            stance: v.stance.clone(),
            since: v.since.to_string(),
            from,
            coordinator: v.source == "coordinator",
        }
    }
}

/// An office of the state (the posts of `posts::PostRecord` with one title at one
/// organisation): who holds it on the page's date, and the other terms, newest first.
#[derive(Debug, Serialize)]
pub struct OfficeRow {
    pub title: String,
    pub organisation: Option<String>,
    /// The holder on the page's date; `None` when the office is vacant then.
    pub holder: Option<String>,
    /// When the holder's term began, if known.
    pub since: Option<String>,
    pub others: Vec<TermRow>,
}

/// A term of office in words: "2021-07-15 to 2025-02-28" (`posts::term`).
#[derive(Debug, Serialize)]
pub struct TermRow {
    pub holder: String,
    pub term: String,
}

/// The profile's posts (held ones first, each group by title and newest term first) as offices:
/// one row per title and organisation, in the order the first of its terms comes.
fn offices(posts: &[outreach_core::posts::PostRecord]) -> Vec<OfficeRow> {
    let mut rows: Vec<(String, Option<uuid::Uuid>, OfficeRow)> = Vec::new();
    for p in posts {
        let key = outreach_core::posts::title_key(&p.title);
        let i = match rows
            .iter()
            .position(|(k, o, _)| *k == key && *o == p.organisation_id)
        {
            Some(i) => i,
            None => {
                rows.push((
                    key,
                    p.organisation_id,
                    OfficeRow {
                        title: p.title.clone(),
                        organisation: p.organisation.clone(),
                        holder: None,
                        since: None,
                        others: Vec::new(),
                    },
                ));
                rows.len() - 1
            }
        };
        let row = &mut rows[i].2;
        if p.current && row.holder.is_none() {
            row.holder = Some(p.contact.clone());
            row.since = p.from.map(|d| d.to_string());
        } else {
            row.others.push(TermRow {
                holder: p.contact.clone(),
                term: outreach_core::posts::term(p.from, p.to),
            });
        }
    }
    rows.into_iter().map(|(_, _, r)| r).collect()
}

/// A meeting (the view itself) and whether it is held in the reader's zone.
#[derive(Debug, Serialize)]
pub struct MeetingRow {
    #[serde(flatten)]
    pub meeting: MeetingView,
    pub same_zone: bool,
}

/// A letter (`drafts::LetterView`) as a line: status in words, the day it last changed.
#[derive(Debug, Clone, Serialize)]
pub struct LetterRow {
    pub id: String,
    pub short_id: String,
    pub subject: String,
    pub recipient: String,
    pub status: String,
    pub language: String,
    pub template: String,
    pub updated: String,
}

impl LetterRow {
    pub fn of(l: &outreach_letters::drafts::LetterView) -> Self {
        Self {
            id: l.id.to_string(),
            short_id: l.short_id.clone(),
            subject: l.subject.clone(),
            recipient: l.recipient.clone(),
            status: words(&l.status),
            language: l.language.clone(),
            template: l.template.clone(),
            updated: l.updated_at.format("%Y-%m-%d").to_string(),
        }
    }
}

/// One of the page's forms to add a record: open when it was refused, with what was typed
/// (the form's own fields, as JSON) and the message beside the field at fault.
#[derive(Debug, Serialize)]
pub struct AddFormView {
    pub open: bool,
    pub values: Value,
    pub errors: FieldErrors,
}

impl Page for StatePage {
    const TEMPLATE: &'static str = "state";
    fn sample() -> Self {
        let id = uuid::Uuid::nil();
        let form = |add: &AddForm, values: Value| AddFormView {
            open: true,
            values,
            errors: FieldErrors::sample(add.fields),
        };
        let some = |s: &str| Some(s.to_owned());
        Self {
            iso3: "NPL".into(),
            iso2: "NP".into(),
            name: "Nepal".into(),
            official_name: "Federal Democratic Republic of Nepal".into(),
            capital: "Kathmandu".into(),
            capital_tz: "Asia/Kathmandu".into(),
            region: "Asia".into(),
            subregion: "Southern Asia".into(),
            treaty: "APMBC".into(),
            at: "2026-12-07".into(),
            at_value: "2026-12-07".into(),
            errors: DateErrors {
                at: some("not a date"),
                treaty: some("no such treaty"),
            },
            logged: true,
            status: "not party".into(),
            status_key: "not_party".into(),
            status_since: some("1997-12-03"),
            in_force: true,
            party_since: some("1999-03-01"),
            last_engagement: some("2026-11-02"),
            days: some("35"),
            treaties: vec![TreatyRow {
                treaty: "APMBC".into(),
                status: "not party".into(),
                in_force: true,
                party_since: some("1999-03-01"),
                selected: true,
            }],
            status_history: vec![EventRow {
                event: "signature".into(),
                date: "1997-12-03".into(),
                source: "https://treaties.un.org/".into(),
                source_is_link: true,
                confidence: "high".into(),
                note: "a note".into(),
            }],
            signals: vec![SignalRow {
                kind: "unga vote".into(),
                date: "2026-11-05".into(),
                detail: "abstained".into(),
                value: some("abstain"),
                source: some("https://undocs.org/"),
            }],
            organisations: vec![OrganisationRow {
                name: "Nepal Campaign to Ban Landmines".into(),
                kind: "icbl member".into(),
                icbl_member: true,
                email: some("ncbl@example.org"),
            }],
            contacts: vec![ContactView {
                id,
                name: "Anita Sharma".into(),
                title: some("Ambassador"),
                role: some("head of mission"),
                organisation: some("Embassy of Nepal"),
                email: some("anita@example.org"),
                languages: "en, ne".into(),
            }],
            posts: vec![OfficeRow {
                title: "Minister for Foreign Affairs".into(),
                organisation: some("Ministry of Foreign Affairs"),
                holder: some("Anita Sharma"),
                since: some("2025-03-01"),
                others: vec![TermRow {
                    holder: "Ram Karki".into(),
                    term: "2021-07-15 to 2025-02-28".into(),
                }],
            }],
            grants: vec![GrantRow {
                id: uuid::Uuid::nil().to_string(),
                progress: "1 of 2 deliverables done, 0 of 1 reports submitted".into(),
                organisation: "Nepal Campaign to Ban Landmines".into(),
                programme: "Investing in Action".into(),
                year: 2026,
                amount: "5,000.00".into(),
                currency: "CHF".into(),
                purpose: some("advocacy"),
                reports_due: "2026-06-30, 2026-12-31".into(),
            }],
            engagement_count: 2,
            shown: 1,
            timeline_cut: true,
            engagements: vec![EngagementRow {
                id: id.to_string(),
                date: "2026-11-02".into(),
                kind: "embassy visit".into(),
                participants: "Anita Sharma, sam".into(),
                summary: "Discussed accession".into(),
                outcome: some("interested"),
                stance: some("positive"),
                logged_by: "sam".into(),
                sensitivity: "restricted".into(),
                withheld: true,
                restricted: true,
                public: true,
            }],
            meetings: vec![MeetingRow {
                meeting: MeetingView {
                    id,
                    iso3: "NPL".into(),
                    state: "Nepal".into(),
                    title: "Meeting with the Foreign Ministry".into(),
                    status: "planned".into(),
                    version: 1,
                    starts_at: chrono::DateTime::UNIX_EPOCH,
                    time_zone: "Asia/Kathmandu".into(),
                    local_start: "2026-12-10 10:00".into(),
                    reader_start: "2026-12-10 05:15".into(),
                    reader_time_zone: "Europe/Geneva".into(),
                    duration_minutes: 60,
                    place: some("Singha Durbar"),
                    owner: "sam".into(),
                    participants: vec!["Anita Sharma".into()],
                },
                same_zone: false,
            }],
            follow_ups: vec![FollowUpView {
                id,
                iso3: "NPL".into(),
                description: "Send the briefing".into(),
                owner: "sam".into(),
                due_on: chrono::NaiveDate::MIN,
                done_at: None,
                overdue: true,
                engagement_id: Some(id),
                meeting_id: None,
                withheld: false,
            }],
            letters: vec![LetterRow {
                id: id.to_string(),
                short_id: "0000".into(),
                subject: "Joining the Mine Ban Treaty".into(),
                recipient: "Anita Sharma".into(),
                status: "in review".into(),
                language: "en".into(),
                template: "joint_approach".into(),
                updated: "2026-12-01".into(),
            }],
            notice: some("Contact added."),
            add_contact: form(
                &CONTACT,
                to_json(&ContactForm::default()).expect("a form is strings"),
            ),
            add_organisation: form(
                &ORGANISATION,
                to_json(&OrganisationForm::default()).expect("a form is strings"),
            ),
            add_grant: form(
                &GRANT,
                to_json(&GrantForm::default()).expect("a form is strings"),
            ),
            can_add_grant: true,
            stance: Some(StanceRow {
                stance: "open".into(),
                since: "2026-11-02".into(),
                from: "capital meeting".into(),
                coordinator: false,
            }),
            stance_history: vec![StanceRow {
                stance: "reluctant".into(),
                since: "2025-03-01".into(),
                from: "set by ana: the ministry ruled it out".into(),
                coordinator: true,
            }],
            stance_choices: vec![Choice::sample()],
            set_stance: form(
                &STANCE,
                to_json(&StanceForm::default()).expect("a form is strings"),
            ),
            can_set_stance: true,
            add_post: form(
                &POST,
                to_json(&PostForm::default()).expect("a form is strings"),
            ),
            contact_choices: vec![OrganisationChoice {
                id: id.to_string(),
                name: "Ram Demo".into(),
                selected: true,
            }],
            post_organisation_choices: vec![OrganisationChoice {
                id: id.to_string(),
                name: "Ministry of Foreign Affairs".into(),
                selected: false,
            }],
            organisation_kinds: vec![Choice::sample()],
            organisation_choices: vec![OrganisationChoice {
                id: id.to_string(),
                name: "Nepal Campaign to Ban Landmines".into(),
                selected: true,
            }],
        }
    }
}

/// One of the state page's forms: its name, its fields and what a duplicate is told.
struct AddForm {
    form: &'static str,
    fields: &'static [&'static str],
    duplicate: &'static str,
}

const CONTACT: AddForm = AddForm {
    form: "contact",
    fields: &[
        "name",
        "title",
        "role",
        "organisation",
        "email",
        "languages",
        "phone",
    ],
    duplicate: "This contact is already recorded (the same email, or the same name at the same \
                organisation); see the list above.",
};

const ORGANISATION: AddForm = AddForm {
    form: "organisation",
    fields: &["name", "kind", "email", "website"],
    duplicate: "An organisation of this name is already recorded in this state; see the list above.",
};

const STANCE: AddForm = AddForm {
    form: "stance",
    fields: &["stance", "reason", "on"],
    duplicate: "",
};

const POST: AddForm = AddForm {
    form: "post",
    fields: &["contact", "title", "organisation", "from", "to"],
    duplicate: "",
};

const GRANT: AddForm = AddForm {
    form: "grant",
    fields: &[
        "organisation",
        "year",
        "amount",
        "currency",
        "purpose",
        "reports_due",
    ],
    duplicate: "",
};

/// Shows the state page again with the refused form open, or passes on an error no field owns.
async fn refuse(
    app: &AppState,
    user: &User,
    st: state::Model,
    add: &AddForm,
    values: Value,
    e: outreach_core::Error,
) -> PageResult<Response> {
    use outreach_core::Error as C;
    let (field, message) = match &e {
        C::Invalid { field, message } if field == "report-due" => {
            ("reports_due".to_owned(), message.clone())
        }
        C::Invalid { field, message } if add.fields.contains(&field.trim_start_matches('-')) => {
            (field.trim_start_matches('-').to_owned(), message.clone())
        }
        C::NotFound { what, .. } | C::Ambiguous { what, .. } if *what == "organisation" => {
            ("organisation".to_owned(), e.to_string())
        }
        // A term that overlaps another holder's: said beside the start of the term.
        C::Conflict(message) if add.form == "post" => ("from".to_owned(), message.clone()),
        C::NotFound { what, .. } | C::Ambiguous { what, .. } if *what == "contact" => {
            ("contact".to_owned(), e.to_string())
        }
        C::Conflict(_) if !add.duplicate.is_empty() => {
            ("name".to_owned(), add.duplicate.to_owned())
        }
        _ => return Err(e.into()),
    };
    let refused = Refused {
        form: add.form,
        values,
        field,
        message,
    };
    render(app, user, st, &StateQuery::default(), Some(refused)).await
}

async fn add_contact(
    State(app): State<Arc<AppState>>,
    user: User,
    Path(key): Path<String>,
    Form(form): Form<ContactForm>,
) -> PageResult<Response> {
    user.check_csrf(&form.csrf)?;
    let st = resolve(&app, &key).await?;
    let input = ContactInput {
        name: form.name.clone(),
        title: optional(&form.title),
        role: optional(&form.role),
        organisation: optional(&form.organisation),
        state: Some(st.iso3.clone()),
        email: optional(&form.email),
        languages: optional(&form.languages),
        phone: optional(&form.phone),
        ..ContactInput::default()
    };
    match directory::add_contact(&app.db, &user.actor, &input).await {
        Ok(_) => Ok(
            Redirect::to(&format!("/states/{}?added=contact#contacts", enc(&st.iso3)))
                .into_response(),
        ),
        Err(e) => {
            let values = to_json(&form)?;
            refuse(&app, &user, st, &CONTACT, values, e).await
        }
    }
}

async fn add_organisation(
    State(app): State<Arc<AppState>>,
    user: User,
    Path(key): Path<String>,
    Form(form): Form<OrganisationForm>,
) -> PageResult<Response> {
    user.check_csrf(&form.csrf)?;
    let st = resolve(&app, &key).await?;
    let input = OrganisationInput {
        name: form.name.clone(),
        kind: optional(&form.kind),
        state: Some(st.iso3.clone()),
        email: optional(&form.email),
        website: optional(&form.website),
        ..OrganisationInput::default()
    };
    match directory::add_organisation(&app.db, &user.actor, &input).await {
        Ok(_) => Ok(Redirect::to(&format!(
            "/states/{}?added=organisation#contacts",
            enc(&st.iso3)
        ))
        .into_response()),
        Err(e) => {
            let values = to_json(&form)?;
            refuse(&app, &user, st, &ORGANISATION, values, e).await
        }
    }
}

/// `POST /states/{ISO3}/grants`: an Investing in Action grant to one of the state's organisations,
/// with the dates its reports are due (coordinators and admins).
async fn add_grant(
    State(app): State<Arc<AppState>>,
    user: User,
    Path(key): Path<String>,
    Form(form): Form<GrantForm>,
) -> PageResult<Response> {
    user.check_csrf(&form.csrf)?;
    user.require(Role::Coordinator, "record grants")?;
    let st = resolve(&app, &key).await?;
    let values = to_json(&form)?;
    let refused =
        |field: &str, message: &str| outreach_core::Error::invalid(field, message.to_owned());
    let result = if form.organisation.trim().is_empty() {
        Err(refused(
            "organisation",
            "choose the organisation that receives the grant (add it above first if it is missing)",
        ))
    } else {
        match form.year.trim().parse::<i32>() {
            Err(_) => Err(refused(
                "year",
                &format!("'{}' is not a year; write it as 2026", form.year.trim()),
            )),
            Ok(year) => {
                let input = GrantInput {
                    organisation: form.organisation.trim().to_owned(),
                    state: Some(st.iso3.clone()),
                    year,
                    amount: form.amount.clone(),
                    currency: form.currency.clone(),
                    purpose: optional(&form.purpose),
                    reports_due: form
                        .reports_due
                        .split([',', ';', ' ', '\n'])
                        .map(str::trim)
                        .filter(|d| !d.is_empty())
                        .map(str::to_owned)
                        .collect(),
                };
                directory::add_grant(&app.db, &user.actor, &input)
                    .await
                    .map(|_| ())
            }
        }
    };
    match result {
        Ok(()) => Ok(
            Redirect::to(&format!("/states/{}?added=grant#grantees", enc(&st.iso3)))
                .into_response(),
        ),
        Err(e) => refuse(&app, &user, st, &GRANT, values, e).await,
    }
}

/// `POST /states/{ISO3}/stance`: sets the state's stance from a day on, with the reason
/// (coordinators and admins).
async fn set_stance(
    State(app): State<Arc<AppState>>,
    user: User,
    Path(key): Path<String>,
    Form(form): Form<StanceForm>,
) -> PageResult<Response> {
    user.check_csrf(&form.csrf)?;
    user.require(Role::Coordinator, "set a state's stance")?;
    let st = resolve(&app, &key).await?;
    let input = StanceInput {
        state: st.iso3.clone(),
        stance: form.stance.clone(),
        reason: form.reason.clone(),
        on: optional(&form.on),
    };
    match stance::set(&app.db, &user.actor, &input).await {
        Ok(_) => Ok(
            Redirect::to(&format!("/states/{}?added=stance#stance", enc(&st.iso3))).into_response(),
        ),
        Err(e) => {
            let values = to_json(&form)?;
            refuse(&app, &user, st, &STANCE, values, e).await
        }
    }
}

/// `POST /states/{ISO3}/posts`: records that one of the state's contacts holds an office, from a
/// day (and until one); a new holder ends the open term of the one before.
async fn add_post(
    State(app): State<Arc<AppState>>,
    user: User,
    Path(key): Path<String>,
    Form(form): Form<PostForm>,
) -> PageResult<Response> {
    user.check_csrf(&form.csrf)?;
    let st = resolve(&app, &key).await?;
    let result = if form.contact.trim().is_empty() {
        Err(outreach_core::Error::invalid(
            "contact",
            "choose who holds the post (add them above as a contact first if they are missing)",
        ))
    } else {
        let input = PostInput {
            contact: form.contact.trim().to_owned(),
            title: form.title.clone(),
            organisation: optional(&form.organisation),
            state: Some(st.iso3.clone()),
            from: optional(&form.from),
            to: optional(&form.to),
        };
        posts::add(&app.db, &user.actor, &input).await.map(|_| ())
    };
    match result {
        Ok(()) => Ok(
            Redirect::to(&format!("/states/{}?added=post#posts", enc(&st.iso3))).into_response(),
        ),
        Err(e) => {
            let values = to_json(&form)?;
            refuse(&app, &user, st, &POST, values, e).await
        }
    }
}

/// `POST /follow-ups/{id}/done`: marks a follow-up done and goes back to its state's page.
async fn follow_up_done(
    State(app): State<Arc<AppState>>,
    user: User,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> PageResult<Response> {
    user.check_csrf(&form.csrf)?;
    let f = followups::done(&app.db, &user.actor, &id).await?;
    Ok(Redirect::to(&format!("/states/{}?done=1#follow-ups", enc(&f.iso3))).into_response())
}
