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
use outreach_core::domain::{OrganisationKind, parse_date};
use outreach_core::entities::state;
use outreach_core::{followups, meetings, states, views};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::dashboard::{enc, message_of};
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
    let mut errors = json!({ "at": null, "treaty": null });
    let at_given = query.at.clone().unwrap_or_default();
    let at = match at_given.trim() {
        "" => today,
        d => parse_date("at", d).unwrap_or_else(|e| {
            errors["at"] = json!(message_of(&e));
            today
        }),
    };
    let treaty = match query.treaty.as_deref().map(str::trim).unwrap_or_default() {
        "" => app.treaty.clone(),
        t => match states::resolve_treaty(&app.db, t).await {
            Ok(t) => t.code,
            Err(e) => {
                errors["treaty"] = json!(message_of(&e));
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
        (_, Some("1")) => Some("Follow-up marked done."),
        _ => None,
    };
    // Every field is present (strict templates): typed values and the message of a refused form.
    let form_of = |add: &AddForm, blank: Value| {
        let mut errors = serde_json::Map::new();
        for f in add.fields {
            errors.insert((*f).to_owned(), Value::Null);
        }
        match &refused {
            Some(r) if r.form == add.form => {
                errors.insert(r.field.clone(), json!(r.message));
                json!({ "open": true, "values": r.values, "errors": errors })
            }
            _ => json!({ "open": false, "values": blank, "errors": errors }),
        }
    };
    let add_contact = form_of(&CONTACT, to_json(&ContactForm::default())?);
    let add_organisation = form_of(&ORGANISATION, to_json(&OrganisationForm::default())?);
    let blank_grant = GrantForm {
        year: today.format("%Y").to_string(),
        ..GrantForm::default()
    };
    let add_grant = form_of(&GRANT, to_json(&blank_grant)?);
    let chosen_org = add_contact["values"]["organisation"]
        .as_str()
        .or_else(|| add_grant["values"]["organisation"].as_str())
        .unwrap_or_default()
        .to_owned();
    let chosen_kind = add_organisation["values"]["kind"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let organisation_kinds: Vec<Value> = OrganisationKind::ALL
        .iter()
        .map(|k| {
            let value = k.as_str().replace('_', "-");
            let selected = value == chosen_kind.replace('_', "-");
            json!({ "value": value, "label": words(k.as_str()), "selected": selected })
        })
        .collect();
    let organisation_choices: Vec<Value> = p
        .organisations
        .iter()
        .map(|o| json!({ "id": o.id, "name": o.name, "selected": o.id.to_string() == chosen_org }))
        .collect();
    let forms = json!({
        "notice": notice,
        "add_contact": add_contact,
        "add_organisation": add_organisation,
        "add_grant": add_grant,
        "can_add_grant": user.role >= Role::Coordinator,
        "organisation_kinds": organisation_kinds,
        "organisation_choices": organisation_choices,
    });
    let mut data = json!({
        "iso3": p.iso3, "iso2": p.iso2, "name": p.name, "official_name": p.official_name,
        "capital": p.capital, "capital_tz": p.capital_tz,
        "region": p.un_region, "subregion": p.un_subregion,
        "treaty": p.treaty, "at": p.at.to_string(),
        "at_value": if errors["at"].is_null() { at.to_string() } else { at_given },
        "errors": errors,
        "logged": query.logged.as_deref() == Some("1"),
        "status": p.status.label(), "status_key": p.status.as_str(),
        "in_force": p.in_force,
        "party_since": p.party_since.map(|d| d.to_string()),
        "last_engagement": p.last_engagement.map(|d| d.to_string()),
        "days": p.days_since_last_engagement.map(|d| d.to_string()),
        "treaties": p.treaties.iter().map(|t| json!({
            "treaty": t.treaty, "status": t.status.label(), "in_force": t.in_force,
            "party_since": t.party_since.map(|d| d.to_string()), "selected": t.treaty == p.treaty,
        })).collect::<Vec<_>>(),
        "status_history": p.status_history.iter().map(|e| json!({
            "event": words(&e.event), "date": e.date.to_string(), "source": e.source,
            "source_is_link": e.source.starts_with("https://") || e.source.starts_with("http://"),
            "confidence": e.confidence, "note": e.note,
        })).collect::<Vec<_>>(),
        "signals": p.signals.iter().map(|s| json!({
            "kind": words(&s.kind), "date": s.date.to_string(), "detail": s.detail,
            "value": s.value, "source": s.source,
        })).collect::<Vec<_>>(),
        "organisations": p.organisations.iter().map(|o| json!({
            "name": o.name, "kind": words(&o.kind), "icbl_member": o.icbl_member, "email": o.email,
        })).collect::<Vec<_>>(),
        "contacts": p.contacts.iter().map(|c| json!({
            "name": c.name, "title": c.title, "role": c.role, "organisation": c.organisation,
            "email": c.email, "languages": c.languages,
        })).collect::<Vec<_>>(),
        "grants": p.grants.iter().map(|g| json!({
            "id": g.id, "progress": g.progress.summary,
            "organisation": g.organisation, "programme": g.programme, "year": g.year,
            "amount": g.amount, "currency": g.currency, "purpose": g.purpose,
            "reports_due": g.reports_due.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "),
        })).collect::<Vec<_>>(),
        "engagement_count": p.engagement_count,
        "shown": p.engagements.len(),
        "timeline_cut": p.engagement_count > p.engagements.len() as u64,
        "engagements": p.engagements.iter().map(|e| json!({
            "id": e.id, "date": e.date.to_string(), "kind": words(&e.kind),
            "participants": e.participants.join(", "), "summary": e.summary,
            "outcome": e.outcome, "stance": e.stance, "logged_by": e.logged_by,
            "sensitivity": e.sensitivity, "withheld": e.withheld,
            "restricted": e.sensitivity == "restricted", "public": e.sensitivity == "public",
        })).collect::<Vec<_>>(),
        "meetings": all_meetings.iter().rev().map(|m| json!({
            "id": m.id, "title": m.title, "status": m.status, "local_start": m.local_start,
            "time_zone": m.time_zone, "reader_start": m.reader_start,
            "reader_time_zone": m.reader_time_zone,
            "same_zone": m.time_zone == m.reader_time_zone,
            "place": m.place, "owner": m.owner,
        })).collect::<Vec<_>>(),
        "follow_ups": p.open_follow_ups.iter().map(|f| json!({
            "id": f.id, "description": f.description, "owner": f.owner, "due_on": f.due_on.to_string(),
            "overdue": f.overdue,
        })).collect::<Vec<_>>(),
        "letters": letters.iter().map(|l| json!({
            "id": l.id, "short_id": l.short_id, "subject": l.subject, "recipient": l.recipient,
            "status": words(&l.status), "language": l.language, "template": l.template,
            "updated": l.updated_at.format("%Y-%m-%d").to_string(),
        })).collect::<Vec<_>>(),
    });
    // Kept out of the json! above, which is at the macro's recursion limit.
    data["status_since"] = json!(
        p.status_since
            .filter(|_| p.status != outreach_core::status::Status::Party)
            .map(|d| d.to_string())
    );
    if let (Some(data), Value::Object(forms)) = (data.as_object_mut(), forms) {
        data.extend(forms);
    }
    let mut res = app.render(user, "state", data);
    if refused.is_some() {
        *res.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(res)
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
