//! The campaign's directory: organisations, contacts and Investing in Action grants, added one
//! at a time or imported from CSV (all rows or none).

use std::collections::{HashMap, HashSet};
use std::path::Path;

use chrono::{NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, QueryOrder,
};
use serde::Serialize;
use uuid::Uuid;

use crate::actor::Actor;
use crate::audit;
use crate::domain::{
    EmailAddress, IanaZone, OrganisationKind, optional_text, parse_date, required_text,
};
use crate::entities::{contact, grant, grant_report, organisation, state};
use crate::error::{Error, Result};
use crate::ids;

/// An organisation as given by a user or a CSV row, not yet checked.
#[derive(Debug, Clone, Default)]
pub struct OrganisationInput {
    pub name: String,
    pub kind: Option<String>,
    pub state: Option<String>,
    pub email: Option<String>,
    pub website: Option<String>,
    pub icbl_member: Option<String>,
    pub notes: Option<String>,
}

/// A contact as given by a user or a CSV row, not yet checked.
#[derive(Debug, Clone, Default)]
pub struct ContactInput {
    pub name: String,
    pub title: Option<String>,
    pub role: Option<String>,
    pub organisation: Option<String>,
    pub state: Option<String>,
    pub email: Option<String>,
    pub languages: Option<String>,
    pub time_zone: Option<String>,
    pub phone: Option<String>,
    pub notes: Option<String>,
}

/// A grant as given by a user, not yet checked.
#[derive(Debug, Clone, Default)]
pub struct GrantInput {
    pub organisation: String,
    pub state: Option<String>,
    pub year: i32,
    pub amount: String,
    pub currency: String,
    pub purpose: Option<String>,
    pub reports_due: Vec<String>,
}

fn parse_bool(field: &str, given: Option<&str>) -> Result<bool> {
    match given.map(|s| s.trim().to_lowercase()).as_deref() {
        None | Some("") => Ok(false),
        Some("yes" | "y" | "true" | "1") => Ok(true),
        Some("no" | "n" | "false" | "0") => Ok(false),
        Some(other) => Err(Error::invalid(field, format!("'{other}' is not yes or no"))),
    }
}

/// Comma- or semicolon-separated two-letter language codes, preferred first; `en` when empty.
fn parse_languages(given: Option<&str>) -> Result<String> {
    let raw = given.unwrap_or("").trim();
    if raw.is_empty() {
        return Ok("en".to_owned());
    }
    let mut out = Vec::new();
    for part in raw
        .split([',', ';', ' '])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let code = part.to_lowercase();
        if code.len() != 2 || !code.bytes().all(|b| b.is_ascii_lowercase()) {
            return Err(Error::invalid(
                "languages",
                format!(
                    "'{part}' is not a two-letter language code (ISO 639-1, such as en, fr, es)"
                ),
            ));
        }
        if !out.contains(&code) {
            out.push(code);
        }
    }
    Ok(out.join(","))
}

fn optional_email(given: Option<&str>) -> Result<Option<String>> {
    match given.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(e) => Ok(Some(
            EmailAddress::parse("email", e)?.as_str().to_lowercase(),
        )),
    }
}

async fn optional_state<C: ConnectionTrait>(
    db: &C,
    given: Option<&str>,
) -> Result<Option<state::Model>> {
    match given.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => crate::states::resolve(db, s).await.map(Some),
    }
}

/// What an import checks each row against: the states, the organisations and the contacts'
/// duplicate keys, read once at the start of the import (inside its transaction) and kept up
/// to date as its rows go in, so an import of 10,000 rows reads each table once instead of once
/// per row.
#[derive(Debug, Default)]
pub(crate) struct Known {
    states: Vec<state::Model>,
    orgs: Vec<organisation::Model>,
    contact_emails: HashSet<String>,
    /// (name in ASCII lower case, organisation) of every contact ...
    contact_names: HashSet<(String, Option<Uuid>)>,
    /// ... and of the contacts without an email address.
    contact_names_without_email: HashSet<(String, Option<Uuid>)>,
}

impl Known {
    /// Reads the directory once.
    pub(crate) async fn read<C: ConnectionTrait>(db: &C) -> Result<Self> {
        let mut known = Self {
            states: state::Entity::find().all(db).await?,
            orgs: organisation::Entity::find().all(db).await?,
            ..Self::default()
        };
        for c in contact::Entity::find().all(db).await? {
            known.add_contact(&c);
        }
        Ok(known)
    }

    fn add_contact(&mut self, c: &contact::Model) {
        let key = (c.name.to_ascii_lowercase(), c.organisation_id);
        match &c.email {
            Some(e) => {
                self.contact_emails.insert(e.clone());
            }
            None => {
                self.contact_names_without_email.insert(key.clone());
            }
        }
        self.contact_names.insert(key);
    }

    /// The rule of [`contact_exists`], over what is known.
    fn has_contact(&self, name: &str, email: Option<&str>, org: Option<Uuid>) -> bool {
        let key = (name.to_ascii_lowercase(), org);
        match email {
            Some(e) => {
                self.contact_emails.contains(e) || self.contact_names_without_email.contains(&key)
            }
            None => self.contact_names.contains(&key),
        }
    }
}

/// Whether a contact counts as already present: one with the same email address, or (where
/// either has no address) one with the same name (any ASCII case) at the same organisation.
/// Looked up by key: the email index, then the organisation's contacts with that name.
async fn contact_exists<C: ConnectionTrait>(
    db: &C,
    name: &str,
    email: Option<&str>,
    org: Option<Uuid>,
) -> Result<bool> {
    use sea_orm::sea_query::{Expr, ExprTrait as _, Func};
    if let Some(e) = email
        && contact::Entity::find()
            .filter(contact::Column::Email.eq(e))
            .one(db)
            .await?
            .is_some()
    {
        return Ok(true);
    }
    let mut q = contact::Entity::find().filter(
        Expr::expr(Func::lower(Expr::col(contact::Column::Name)))
            .eq(Func::lower(Expr::val(name.to_owned()))),
    );
    q = match org {
        Some(o) => q.filter(contact::Column::OrganisationId.eq(o)),
        None => q.filter(contact::Column::OrganisationId.is_null()),
    };
    if email.is_some() {
        q = q.filter(contact::Column::Email.is_null());
    }
    // Both sides go through SQL's LOWER: SQLite's folds ASCII only, exactly the rule;
    // PostgreSQL's folds more, so the rule itself is checked here.
    Ok(q.all(db)
        .await?
        .iter()
        .any(|c| c.name.eq_ignore_ascii_case(name)))
}

/// Inserts an organisation inside the caller's transaction. Returns `None` when one with the same
/// name in the same state exists already (nothing is written then).
pub(crate) async fn insert_organisation<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    input: &OrganisationInput,
    known: Option<&mut Known>,
) -> Result<Option<organisation::Model>> {
    let name = required_text("name", &input.name, 200)?;
    let kind = match input
        .kind
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => OrganisationKind::Other,
        Some(k) => OrganisationKind::parse("kind", k)?,
    };
    let state = match &known {
        Some(k) => known_state(k, input.state.as_deref())?,
        None => optional_state(db, input.state.as_deref()).await?,
    };
    let email = optional_email(input.email.as_deref())?;
    let website = optional_text("website", input.website.as_deref(), 300)?;
    let icbl_member = parse_bool("icbl_member", input.icbl_member.as_deref())?
        || kind == OrganisationKind::IcblMember;
    let notes = crate::domain::optional_paragraphs("notes", input.notes.as_deref(), 4000)?;
    let iso3 = state.map(|s| s.iso3);
    let exists = match &known {
        Some(k) => exact_organisation_in(&k.orgs, &name, iso3.as_deref()).is_some(),
        None => find_organisation_exact(db, &name, iso3.as_deref())
            .await?
            .is_some(),
    };
    if exists {
        return Ok(None);
    }
    let model = organisation::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(name),
        kind: Set(kind.as_str().to_owned()),
        iso3: Set(iso3),
        email: Set(email),
        website: Set(website),
        icbl_member: Set(icbl_member),
        notes: Set(notes),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await?;
    audit::record(
        db,
        &actor.handle,
        "organisation.create",
        "organisation",
        &model.id.to_string(),
        serde_json::json!({ "name": model.name, "kind": model.kind, "iso3": model.iso3 }),
    )
    .await?;
    if let Some(k) = known {
        k.orgs.push(model.clone());
    }
    Ok(Some(model))
}

async fn find_organisation_exact<C: ConnectionTrait>(
    db: &C,
    name: &str,
    iso3: Option<&str>,
) -> Result<Option<organisation::Model>> {
    Ok(exact_organisation_in(&organisations_named(db, name).await?, name, iso3).cloned())
}

/// The organisation named `name` (any case) in state `iso3`, among `all`.
fn exact_organisation_in<'a>(
    all: &'a [organisation::Model],
    name: &str,
    iso3: Option<&str>,
) -> Option<&'a organisation::Model> {
    let lower = name.to_lowercase();
    all.iter()
        .find(|o| o.name.to_lowercase() == lower && o.iso3.as_deref() == iso3)
}

/// The organisations whose name may equal `name` in any case: found by SQL where that is exact
/// (an ASCII name: SQLite's LOWER folds ASCII only), else every organisation (a short table; the
/// caller's comparison decides).
async fn organisations_named<C: ConnectionTrait>(
    db: &C,
    name: &str,
) -> Result<Vec<organisation::Model>> {
    use sea_orm::sea_query::{Expr, ExprTrait as _, Func};
    let name = name.trim();
    let q = organisation::Entity::find();
    Ok(if name.is_ascii() {
        q.filter(
            Expr::expr(Func::lower(Expr::col(organisation::Column::Name))).eq(name.to_lowercase()),
        )
        .all(db)
        .await?
    } else {
        q.all(db).await?
    })
}

/// The state named by `given` among the states an import read.
fn known_state(known: &Known, given: Option<&str>) -> Result<Option<state::Model>> {
    match given.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => crate::states::resolve_in(&known.states, s).map(|s| Some(s.clone())),
    }
}

/// Adds an organisation.
///
/// # Errors
/// [`Error::Invalid`] for a bad field, [`Error::Conflict`] if it exists already.
pub async fn add_organisation(
    db: &DatabaseConnection,
    actor: &Actor,
    input: &OrganisationInput,
) -> Result<organisation::Model> {
    let tx = crate::db::begin(db).await?;
    let model = insert_organisation(&tx, actor, input, None)
        .await?
        .ok_or_else(|| {
            Error::Conflict(format!(
                "an organisation named '{}' already exists{}",
                input.name.trim(),
                input
                    .state
                    .as_deref()
                    .map(|s| format!(" in {s}"))
                    .unwrap_or_default()
            ))
        })?;
    tx.commit().await?;
    Ok(model)
}

/// Finds an organisation by id (or its last characters) or by name (any case).
///
/// # Errors
/// [`Error::NotFound`] or [`Error::Ambiguous`].
pub async fn resolve_organisation<C: ConnectionTrait>(
    db: &C,
    given: &str,
) -> Result<organisation::Model> {
    let lower = given.trim().to_lowercase();
    let named = organisations_named(db, given).await?;
    if named.iter().any(|o| o.name.to_lowercase() == lower) {
        return resolve_organisation_in(&named, given).cloned();
    }
    // Not a name: an id (or its last characters), or nothing.
    let all = organisation::Entity::find().all(db).await?;
    resolve_organisation_in(&all, given).cloned()
}

/// As [`resolve_organisation`], among organisations already read.
///
/// # Errors
/// [`Error::NotFound`] or [`Error::Ambiguous`].
fn resolve_organisation_in<'a>(
    all: &'a [organisation::Model],
    given: &str,
) -> Result<&'a organisation::Model> {
    let lower = given.trim().to_lowercase();
    let by_name: Vec<&organisation::Model> = all
        .iter()
        .filter(|o| o.name.to_lowercase() == lower)
        .collect();
    match by_name.as_slice() {
        [one] => return Ok(one),
        [] => {}
        many => {
            return Err(Error::Ambiguous {
                what: "organisation",
                given: given.to_owned(),
                count: many.len(),
                candidates: many
                    .iter()
                    .map(|o| {
                        format!(
                            "{} ({})",
                            ids::short(o.id),
                            o.iso3.as_deref().unwrap_or("-")
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
    }
    let id = ids::pick("organisation", given, all.iter().map(|o| o.id)).map_err(|_| {
        Error::not_found("organisation", given, "").with_remedy(crate::Remedy::ListOrganisations)
    })?;
    all.iter()
        .find(|o| o.id == id)
        .ok_or_else(|| Error::not_found("organisation", given, ""))
}

/// Inserts a contact inside the caller's transaction; `None` when a contact with the same email
/// (or, without email, the same name and organisation) exists already.
pub(crate) async fn insert_contact<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    input: &ContactInput,
    known: Option<&mut Known>,
) -> Result<Option<contact::Model>> {
    let name = required_text("name", &input.name, 200)?;
    let title = optional_text("title", input.title.as_deref(), 100)?;
    let role = optional_text("role", input.role.as_deref(), 200)?;
    let email = optional_email(input.email.as_deref())?;
    let languages = parse_languages(input.languages.as_deref())?;
    let time_zone = match input
        .time_zone
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(z) => Some(IanaZone::parse("time_zone", z)?.name().to_owned()),
    };
    let phone = optional_text("phone", input.phone.as_deref(), 50)?;
    let notes = crate::domain::optional_paragraphs("notes", input.notes.as_deref(), 4000)?;
    let org = match input
        .organisation
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(o) => Some(
            match &known {
                Some(k) => resolve_organisation_in(&k.orgs, o).cloned(),
                None => resolve_organisation(db, o).await,
            }
            .map_err(|e| match e {
                // In a file, the row's column is named; a single contact's missing
                // organisation is a record not found (the API's 404).
                Error::NotFound { .. } if known.is_some() => Error::invalid(
                    "organisation",
                    format!("no organisation is named '{o}'; add it first or import organisations"),
                ),
                Error::NotFound { what, given, .. } => {
                    Error::not_found(what, given, "; add it first or import organisations")
                        .with_remedy(crate::Remedy::ListOrganisations)
                }
                other => other,
            })?,
        ),
    };
    let state = match &known {
        Some(k) => known_state(k, input.state.as_deref())?,
        None => optional_state(db, input.state.as_deref()).await?,
    };
    let iso3 = state
        .map(|s| s.iso3)
        .or_else(|| org.as_ref().and_then(|o| o.iso3.clone()));
    let org_id = org.map(|o| o.id);

    let duplicate = match &known {
        Some(k) => k.has_contact(&name, email.as_deref(), org_id),
        None => contact_exists(db, &name, email.as_deref(), org_id).await?,
    };
    if duplicate {
        return Ok(None);
    }
    let model = contact::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(name),
        title: Set(title),
        role: Set(role),
        organisation_id: Set(org_id),
        iso3: Set(iso3),
        email: Set(email),
        languages: Set(languages),
        time_zone: Set(time_zone),
        phone: Set(phone),
        notes: Set(notes),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await?;
    audit::record(
        db,
        &actor.handle,
        "contact.create",
        "contact",
        &model.id.to_string(),
        serde_json::json!({ "name": model.name, "email": model.email, "iso3": model.iso3 }),
    )
    .await?;
    if let Some(k) = known {
        k.add_contact(&model);
    }
    Ok(Some(model))
}

/// Adds a contact.
///
/// # Errors
/// [`Error::Invalid`] for a bad field, [`Error::Conflict`] if the contact exists already.
pub async fn add_contact(
    db: &DatabaseConnection,
    actor: &Actor,
    input: &ContactInput,
) -> Result<contact::Model> {
    let tx = crate::db::begin(db).await?;
    let model = insert_contact(&tx, actor, input, None)
        .await?
        .ok_or_else(|| {
            Error::Conflict(format!(
                "a contact '{}'{} already exists",
                input.name.trim(),
                input
                    .email
                    .as_deref()
                    .map(|e| format!(" <{}>", e.trim()))
                    .unwrap_or_default()
            ))
        })?;
    tx.commit().await?;
    Ok(model)
}

/// The contacts with these ids, by id, read by key (a thousand ids a query).
///
/// # Errors
/// Database errors.
pub async fn contacts_by_id<C: ConnectionTrait>(
    db: &C,
    ids: impl IntoIterator<Item = Uuid>,
) -> Result<HashMap<Uuid, contact::Model>> {
    let ids: Vec<Uuid> = ids.into_iter().collect();
    let mut out = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(1_000) {
        out.extend(
            contact::Entity::find()
                .filter(contact::Column::Id.is_in(chunk.to_vec()))
                .all(db)
                .await?
                .into_iter()
                .map(|c| (c.id, c)),
        );
    }
    Ok(out)
}

/// The names of the organisations with these ids, read by key (a thousand ids a query).
///
/// # Errors
/// Database errors.
pub async fn organisation_names<C: ConnectionTrait>(
    db: &C,
    ids: impl IntoIterator<Item = Uuid>,
) -> Result<HashMap<Uuid, String>> {
    let ids: Vec<Uuid> = ids
        .into_iter()
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let mut out = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(1_000) {
        out.extend(
            organisation::Entity::find()
                .filter(organisation::Column::Id.is_in(chunk.to_vec()))
                .all(db)
                .await?
                .into_iter()
                .map(|o| (o.id, o.name)),
        );
    }
    Ok(out)
}

/// Finds a contact by email, by name (any case) or by id (or its last characters).
///
/// # Errors
/// [`Error::NotFound`] (with close names) or [`Error::Ambiguous`].
pub async fn resolve_contact<C: ConnectionTrait>(db: &C, given: &str) -> Result<contact::Model> {
    use sea_orm::sea_query::{Expr, ExprTrait as _, Func};
    let g = given.trim();
    let lower = g.to_lowercase();
    // By key first: the email index, then (for an ASCII name, where SQL's LOWER is exact on
    // both databases for the comparison below) the contacts of that name.
    if let Some(c) = contact::Entity::find()
        .filter(contact::Column::Email.eq(lower.as_str()))
        .one(db)
        .await?
    {
        return Ok(c);
    }
    if g.is_ascii() && !g.is_empty() {
        let named: Vec<contact::Model> = contact::Entity::find()
            .filter(
                Expr::expr(Func::lower(Expr::col(contact::Column::Name)))
                    .eq(Func::lower(Expr::val(g.to_owned()))),
            )
            .all(db)
            .await?;
        if named.iter().any(|c| c.name.to_lowercase() == lower) {
            return resolve_contact_in(named, g);
        }
    }
    // An id (or its last characters), a name SQL cannot fold, or nothing: the careful way.
    resolve_contact_in(contact::Entity::find().all(db).await?, g)
}

/// As [`resolve_contact`] for each of `given`, in order: the email addresses among them are
/// looked up together in one query (a meeting's hundred participants are one read, not a
/// hundred), the rest one by one; the first that cannot be resolved is the error.
///
/// # Errors
/// As [`resolve_contact`].
pub async fn resolve_contacts<C: ConnectionTrait>(
    db: &C,
    given: &[String],
) -> Result<Vec<contact::Model>> {
    let emails: Vec<String> = given
        .iter()
        .map(|g| g.trim().to_lowercase())
        .filter(|g| g.contains('@'))
        .collect();
    let mut by_email: HashMap<String, contact::Model> = HashMap::new();
    for chunk in emails.chunks(1_000) {
        by_email.extend(
            contact::Entity::find()
                .filter(contact::Column::Email.is_in(chunk.to_vec()))
                .all(db)
                .await?
                .into_iter()
                .filter_map(|c| c.email.clone().map(|e| (e, c))),
        );
    }
    let mut out = Vec::with_capacity(given.len());
    for g in given {
        match by_email.get(&g.trim().to_lowercase()) {
            Some(c) => out.push(c.clone()),
            None => out.push(resolve_contact(db, g).await?),
        }
    }
    Ok(out)
}

/// As [`resolve_contact`], among contacts already read.
fn resolve_contact_in(all: Vec<contact::Model>, given: &str) -> Result<contact::Model> {
    let g = given.trim();
    let lower = g.to_lowercase();
    if let Some(c) = all
        .iter()
        .find(|c| c.email.as_deref() == Some(lower.as_str()))
    {
        return Ok(c.clone());
    }
    let by_name: Vec<&contact::Model> = all
        .iter()
        .filter(|c| c.name.to_lowercase() == lower)
        .collect();
    match by_name.as_slice() {
        [one] => return Ok((*one).clone()),
        [] => {}
        many => {
            return Err(Error::Ambiguous {
                what: "contact",
                given: g.to_owned(),
                count: many.len(),
                candidates: many
                    .iter()
                    .map(|c| c.email.clone().unwrap_or_else(|| ids::short(c.id)))
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
    }
    if let Ok(id) = ids::pick("contact", g, all.iter().map(|c| c.id)) {
        return Ok(all
            .into_iter()
            .find(|c| c.id == id)
            .unwrap_or_else(|| unreachable!()));
    }
    let mut near: Vec<(f64, &contact::Model)> = all
        .iter()
        .map(|c| (strsim::jaro_winkler(&lower, &c.name.to_lowercase()), c))
        .filter(|(s, _)| *s > 0.8)
        .collect();
    near.sort_by(|a, b| b.0.total_cmp(&a.0));
    let hint = if near.is_empty() {
        "; give a contact's email or name".to_owned()
    } else {
        format!(
            "; did you mean {}?",
            near.iter()
                .take(3)
                .map(|(_, c)| c.name.clone())
                .collect::<Vec<_>>()
                .join(" or ")
        )
    };
    Err(Error::not_found("contact", g, hint).with_remedy(crate::Remedy::ListContacts))
}

/// Parses an amount such as `20000`, `20,000` or `15000.50` into minor units.
fn parse_amount(given: &str) -> Result<i64> {
    let bad = || {
        Error::invalid(
            "amount",
            format!("'{given}' is not an amount; write it as 20000 or 20000.50"),
        )
    };
    let cleaned: String = given
        .trim()
        .chars()
        .filter(|c| *c != ',' && *c != '_')
        .collect();
    let (whole, frac) = cleaned.split_once('.').unwrap_or((&cleaned, ""));
    if whole.is_empty()
        || frac.len() > 2
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    let whole: i64 = whole.parse().map_err(|_| bad())?;
    let frac: i64 = format!("{frac:0<2}").parse().map_err(|_| bad())?;
    whole
        .checked_mul(100)
        .and_then(|w| w.checked_add(frac))
        .ok_or_else(bad)
}

/// A grant with its report deadlines.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct GrantView {
    pub id: Uuid,
    pub organisation: String,
    pub organisation_id: Uuid,
    pub iso3: String,
    pub programme: String,
    pub year: i32,
    pub amount: String,
    pub currency: String,
    pub purpose: Option<String>,
    pub reports_due: Vec<NaiveDate>,
    /// Deliverables done and reports submitted (`outreach grant show` has the detail).
    pub progress: crate::grants::Progress,
}

/// Formats minor units as `20,000.00`.
pub fn format_amount(minor: i64) -> String {
    let whole = (minor / 100).to_string();
    let mut grouped = String::new();
    for (i, ch) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    format!("{grouped}.{:02}", minor % 100)
}

/// Adds an Investing in Action grant with its report deadlines. Coordinators and admins only.
///
/// # Errors
/// [`Error::Invalid`] for a bad field; [`Error::NotFound`] for an unknown organisation;
/// [`Error::Forbidden`] for staff.
pub async fn add_grant(
    db: &DatabaseConnection,
    actor: &Actor,
    input: &GrantInput,
) -> Result<GrantView> {
    let tx = crate::db::begin(db).await?;
    crate::actor::require_role(
        &tx,
        actor,
        crate::domain::Role::Coordinator,
        "record grants",
    )
    .await?;
    let out = add_grant_in(&tx, actor, input).await?;
    tx.commit().await?;
    Ok(out)
}

pub(crate) async fn add_grant_in<C: ConnectionTrait>(
    tx: &C,
    actor: &Actor,
    input: &GrantInput,
) -> Result<GrantView> {
    let org = resolve_organisation(tx, &input.organisation).await?;
    let iso3 = match optional_state(tx, input.state.as_deref()).await? {
        Some(s) => s.iso3,
        None => org.iso3.clone().ok_or_else(|| {
            Error::invalid(
                "state",
                "the organisation has no state; say which state the grant is for",
            )
        })?,
    };
    if !(1997..=2100).contains(&input.year) {
        return Err(Error::invalid(
            "year",
            format!("{} is not a plausible grant year", input.year),
        ));
    }
    let amount_minor = parse_amount(&input.amount)?;
    let currency = input.currency.trim().to_uppercase();
    if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(Error::invalid(
            "currency",
            format!(
                "'{}' is not a currency code; use three letters such as USD or EUR",
                input.currency
            ),
        ));
    }
    let purpose = crate::domain::optional_paragraphs("purpose", input.purpose.as_deref(), 2000)?;
    let mut due = Vec::new();
    for d in &input.reports_due {
        due.push(parse_date("report-due", d)?);
    }
    due.sort_unstable();
    due.dedup();
    let model = grant::ActiveModel {
        id: Set(Uuid::now_v7()),
        organisation_id: Set(org.id),
        iso3: Set(iso3),
        programme: Set("Investing in Action".to_owned()),
        year: Set(input.year),
        amount_minor: Set(amount_minor),
        currency: Set(currency),
        purpose: Set(purpose),
        created_at: Set(Utc::now()),
    }
    .insert(tx)
    .await?;
    for d in &due {
        grant_report::ActiveModel {
            id: Set(Uuid::now_v7()),
            grant_id: Set(model.id),
            due_on: Set(*d),
            submitted_on: Set(None),
            submitted_by: Set(None),
            description: Set(format!("Report for the {} grant", model.year)),
        }
        .insert(tx)
        .await?;
    }
    audit::record(
        tx,
        &actor.handle,
        "grant.create",
        "grant",
        &model.id.to_string(),
        serde_json::json!({
            "organisation": org.name, "iso3": model.iso3, "year": model.year,
            "amount_minor": model.amount_minor, "currency": model.currency, "reports_due": due,
        }),
    )
    .await?;
    Ok(GrantView {
        id: model.id,
        organisation: org.name,
        organisation_id: org.id,
        iso3: model.iso3,
        programme: model.programme,
        year: model.year,
        amount: format_amount(model.amount_minor),
        currency: model.currency,
        purpose: model.purpose,
        progress: crate::grants::Progress::new_grant(due.len()),
        reports_due: due,
    })
}

/// Grants, optionally for one state, newest year first.
///
/// # Errors
/// Database errors.
pub async fn grants<C: ConnectionTrait>(db: &C, iso3: Option<&str>) -> Result<Vec<GrantView>> {
    let mut q = grant::Entity::find().order_by_desc(grant::Column::Year);
    if let Some(iso3) = iso3 {
        q = q.filter(grant::Column::Iso3.eq(iso3));
    }
    let grants = q.all(db).await?;
    grant_views(db, grants).await
}

/// The views of `grants`, in their order, with their organisations, report dates and progress
/// read by key.
///
/// # Errors
/// Database errors.
pub(crate) async fn grant_views<C: ConnectionTrait>(
    db: &C,
    grants: Vec<grant::Model>,
) -> Result<Vec<GrantView>> {
    let ids: Vec<Uuid> = grants.iter().map(|g| g.id).collect();
    let org_ids: HashSet<Uuid> = grants.iter().map(|g| g.organisation_id).collect();
    let orgs: HashMap<Uuid, String> = organisation::Entity::find()
        .filter(organisation::Column::Id.is_in(org_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect();
    let mut due: HashMap<Uuid, Vec<NaiveDate>> = HashMap::new();
    for chunk in ids.chunks(500) {
        for r in grant_report::Entity::find()
            .filter(grant_report::Column::GrantId.is_in(chunk.iter().copied()))
            .order_by_asc(grant_report::Column::DueOn)
            .all(db)
            .await?
        {
            due.entry(r.grant_id).or_default().push(r.due_on);
        }
    }
    let mut progress = crate::grants::progress_of(db, &ids).await?;
    Ok(grants
        .into_iter()
        .map(|g| GrantView {
            id: g.id,
            organisation: orgs.get(&g.organisation_id).cloned().unwrap_or_default(),
            organisation_id: g.organisation_id,
            reports_due: due.remove(&g.id).unwrap_or_default(),
            progress: progress.remove(&g.id).unwrap_or_default(),
            iso3: g.iso3,
            programme: g.programme,
            year: g.year,
            amount: format_amount(g.amount_minor),
            currency: g.currency,
            purpose: g.purpose,
        })
        .collect())
}

/// Organisations, optionally for one state, by name.
///
/// # Errors
/// Database errors.
pub async fn organisations<C: ConnectionTrait>(
    db: &C,
    iso3: Option<&str>,
) -> Result<Vec<organisation::Model>> {
    let mut q = organisation::Entity::find().order_by_asc(organisation::Column::Name);
    if let Some(iso3) = iso3 {
        q = q.filter(organisation::Column::Iso3.eq(iso3));
    }
    Ok(q.all(db).await?)
}

/// Contacts, optionally for one state, by name.
///
/// # Errors
/// Database errors.
pub async fn contacts<C: ConnectionTrait>(
    db: &C,
    iso3: Option<&str>,
) -> Result<Vec<contact::Model>> {
    let mut q = contact::Entity::find().order_by_asc(contact::Column::Name);
    if let Some(iso3) = iso3 {
        q = q.filter(contact::Column::Iso3.eq(iso3));
    }
    Ok(q.all(db).await?)
}

/// What an import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    pub rows: usize,
    pub imported: usize,
    pub already_present: usize,
}

const ORG_COLUMNS: &[&str] = &[
    "name",
    "kind",
    "state",
    "email",
    "website",
    "icbl_member",
    "notes",
];
const CONTACT_COLUMNS: &[&str] = &[
    "name",
    "title",
    "role",
    "organisation",
    "state",
    "email",
    "languages",
    "time_zone",
    "phone",
    "notes",
];

/// Reads a CSV file into rows of column -> value, checking the header against `allowed`.
fn read_rows(file: &Path, allowed: &[&str]) -> Result<Vec<(u64, HashMap<String, String>)>> {
    let display = file.display().to_string();
    let csv_err = |line: u64, column: &str, message: String| Error::Csv {
        file: display.clone(),
        line,
        column: column.to_owned(),
        message,
    };
    let bytes = std::fs::read(file)
        .map_err(|e| Error::invalid("file", format!("cannot read {display}: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|_| {
        Error::invalid(
            "file",
            format!("{display} is not UTF-8 text; save it as CSV UTF-8"),
        )
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| csv_err(1, "-", e.to_string()))?
        .iter()
        .map(|h| h.trim().to_lowercase().replace([' ', '-'], "_"))
        .collect();
    let mut seen = HashSet::new();
    for h in &headers {
        if !allowed.contains(&h.as_str()) {
            return Err(csv_err(
                1,
                h,
                format!("unknown column; the columns are {}", allowed.join(", ")),
            ));
        }
        if !seen.insert(h.clone()) {
            return Err(csv_err(1, h, "the column appears twice".into()));
        }
    }
    if !headers.iter().any(|h| h == "name") {
        return Err(csv_err(
            1,
            "name",
            "the required column 'name' is missing from the header".into(),
        ));
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, csv::Position::line);
            csv_err(line, "-", format!("{e}"))
        })?;
        let line = record.position().map_or(0, csv::Position::line);
        if record.iter().all(str::is_empty) {
            continue;
        }
        // Control characters are refused here, by line and column, before any lookup sees them.
        for (h, v) in headers.iter().zip(record.iter()) {
            if let Err(Error::Invalid { message, .. }) =
                crate::domain::check_controls(h, v, h == "notes")
            {
                return Err(csv_err(line, h, message));
            }
        }
        let row = headers
            .iter()
            .zip(record.iter())
            .map(|(h, v)| (h.clone(), v.to_owned()))
            .collect();
        rows.push((line, row));
    }
    Ok(rows)
}

fn at_line(file: &Path, line: u64, err: Error) -> Error {
    match err {
        Error::Invalid { field, message } => Error::Csv {
            file: file.display().to_string(),
            line,
            column: field,
            message,
        },
        Error::UnknownState { .. } => Error::Csv {
            file: file.display().to_string(),
            line,
            column: "state".into(),
            message: err.to_string(),
        },
        Error::NotFound { .. } | Error::Ambiguous { .. } => Error::Csv {
            file: file.display().to_string(),
            line,
            column: "organisation".into(),
            message: err.to_string(),
        },
        other => other,
    }
}

fn get(row: &HashMap<String, String>, key: &str) -> Option<String> {
    row.get(key).cloned().filter(|v| !v.trim().is_empty())
}

/// Imports organisations from a CSV file with a header (columns: name, kind, state, email,
/// website, icbl_member, notes). Rows already present are left alone; a bad row stops the whole
/// import and nothing is written.
///
/// # Errors
/// [`Error::Csv`] naming the line and column of the first bad value.
pub async fn import_organisations(
    db: &DatabaseConnection,
    actor: &Actor,
    file: &Path,
) -> Result<ImportReport> {
    let rows = read_rows(file, ORG_COLUMNS)?;
    let tx = crate::db::begin(db).await?;
    let mut known = Known::read(&tx).await?;
    let mut report = ImportReport {
        rows: rows.len(),
        ..ImportReport::default()
    };
    let mut in_file = HashSet::new();
    for (line, row) in &rows {
        let input = OrganisationInput {
            name: get(row, "name").unwrap_or_default(),
            kind: get(row, "kind"),
            state: get(row, "state"),
            email: get(row, "email"),
            website: get(row, "website"),
            icbl_member: get(row, "icbl_member"),
            notes: get(row, "notes"),
        };
        let key = (
            input.name.trim().to_lowercase(),
            input.state.clone().unwrap_or_default().to_uppercase(),
        );
        if !in_file.insert(key) {
            return Err(at_line(
                file,
                *line,
                Error::invalid("name", "the same organisation appears twice in the file"),
            ));
        }
        match insert_organisation(&tx, actor, &input, Some(&mut known))
            .await
            .map_err(|e| at_line(file, *line, e))?
        {
            Some(_) => report.imported += 1,
            None => report.already_present += 1,
        }
    }
    tx.commit().await?;
    Ok(report)
}

/// Imports contacts from a CSV file with a header (columns: name, title, role, organisation,
/// state, email, languages, time_zone, phone, notes). Rows already present (same email) are left
/// alone; a bad row stops the whole import and nothing is written.
///
/// # Errors
/// [`Error::Csv`] naming the line and column of the first bad value.
pub async fn import_contacts(
    db: &DatabaseConnection,
    actor: &Actor,
    file: &Path,
) -> Result<ImportReport> {
    let rows = read_rows(file, CONTACT_COLUMNS)?;
    let tx = crate::db::begin(db).await?;
    let mut known = Known::read(&tx).await?;
    let mut report = ImportReport {
        rows: rows.len(),
        ..ImportReport::default()
    };
    let mut emails = HashSet::new();
    for (line, row) in &rows {
        let input = ContactInput {
            name: get(row, "name").unwrap_or_default(),
            title: get(row, "title"),
            role: get(row, "role"),
            organisation: get(row, "organisation"),
            state: get(row, "state"),
            email: get(row, "email"),
            languages: get(row, "languages"),
            time_zone: get(row, "time_zone"),
            phone: get(row, "phone"),
            notes: get(row, "notes"),
        };
        if let Some(e) = &input.email
            && !emails.insert(e.trim().to_lowercase())
        {
            return Err(at_line(
                file,
                *line,
                Error::invalid("email", format!("{e} appears twice in the file")),
            ));
        }
        match insert_contact(&tx, actor, &input, Some(&mut known))
            .await
            .map_err(|e| at_line(file, *line, e))?
        {
            Some(_) => report.imported += 1,
            None => report.already_present += 1,
        }
    }
    tx.commit().await?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_parse_to_minor_units_and_format_back() {
        assert_eq!(parse_amount("20000").unwrap(), 2_000_000);
        assert_eq!(parse_amount("20,000.5").unwrap(), 2_000_050);
        assert!(parse_amount("-5").is_err());
        assert!(parse_amount("1.234").is_err());
        assert!(parse_amount("ten").is_err());
        assert_eq!(format_amount(2_000_050), "20,000.50");
        assert_eq!(format_amount(99), "0.99");
        assert_eq!(format_amount(12_345_678_900), "123,456,789.00");
    }

    #[test]
    fn languages_are_two_letter_codes() {
        assert_eq!(parse_languages(Some("FR, en;fr")).unwrap(), "fr,en");
        assert_eq!(parse_languages(None).unwrap(), "en");
        let err = parse_languages(Some("french")).unwrap_err().to_string();
        assert!(err.starts_with("languages: 'french'"), "{err}");
    }
}

/// A contact as the CLI's `--json` and the API show it: one shape for every front end.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ContactRecord {
    pub id: Uuid,
    pub name: String,
    pub title: Option<String>,
    pub role: Option<String>,
    pub organisation_id: Option<Uuid>,
    pub iso3: Option<String>,
    pub email: Option<String>,
    /// ISO 639-1 codes, preferred first.
    pub languages: Vec<String>,
    pub time_zone: Option<String>,
    pub phone: Option<String>,
}

impl From<&contact::Model> for ContactRecord {
    fn from(c: &contact::Model) -> Self {
        Self {
            id: c.id,
            name: c.name.clone(),
            title: c.title.clone(),
            role: c.role.clone(),
            organisation_id: c.organisation_id,
            iso3: c.iso3.clone(),
            email: c.email.clone(),
            languages: c
                .languages
                .split(',')
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect(),
            time_zone: c.time_zone.clone(),
            phone: c.phone.clone(),
        }
    }
}

/// An organisation as the CLI's `--json` and the API show it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrganisationRecord {
    pub id: Uuid,
    pub name: String,
    pub kind: String,
    pub iso3: Option<String>,
    pub email: Option<String>,
    pub website: Option<String>,
    pub icbl_member: bool,
    pub notes: Option<String>,
}

impl From<&organisation::Model> for OrganisationRecord {
    fn from(o: &organisation::Model) -> Self {
        Self {
            id: o.id,
            name: o.name.clone(),
            kind: o.kind.clone(),
            iso3: o.iso3.clone(),
            email: o.email.clone(),
            website: o.website.clone(),
            icbl_member: o.icbl_member,
            notes: o.notes.clone(),
        }
    }
}
