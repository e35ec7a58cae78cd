//! Posts: the offices contacts hold ("Ambassador to Switzerland", "Minister for Foreign
//! Affairs"), each with its term (from, to), so the directory keeps who held an office when and
//! letters and pages can name the holder on a given date.
//!
//! A post is one term of one holder. "The same post" is the same title (any case, spaces
//! trimmed) at the same organisation, or, for a post recorded without an organisation, in the
//! same state without one. Terms of the same post never overlap: recording a new holder from a
//! date closes the open term of the one before on the day before (the common case, "a new
//! ambassador took office"), and any other overlap is refused naming the other holder. A
//! contact's courtesy title (`contacts.title`, "Ms") is another thing and stays where it is.

use std::collections::HashMap;

use chrono::{Days, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait,
    DatabaseConnection, DatabaseTransaction, EntityTrait, IntoActiveModel, QueryFilter,
};
use serde::Serialize;
use uuid::Uuid;

use crate::actor::Actor;
use crate::audit;
use crate::domain::{parse_date, required_text};
use crate::entities::{contact, post};
use crate::error::{Error, Result};
use crate::ids;

/// What a post's title may hold at most.
const TITLE_MAX: usize = 200;

/// The titles the Minister for Foreign Affairs' post goes by, as letters look it up.
pub const FOREIGN_MINISTER_TITLES: &[&str] = &["Minister for Foreign Affairs", "Foreign Minister"];

/// A post as a user gives it: strings as typed, not yet checked.
#[derive(Debug, Clone, Default)]
pub struct PostInput {
    /// The holder: a contact's email, name or id.
    pub contact: String,
    /// The office: "Ambassador to Switzerland", "Minister for Foreign Affairs".
    pub title: String,
    /// The organisation's name or id.
    pub organisation: Option<String>,
    /// The state the post is in (code or name); else the organisation's, else the contact's.
    pub state: Option<String>,
    /// The first day of the term, `YYYY-MM-DD`; unknown when absent.
    pub from: Option<String>,
    /// The last day of the term, `YYYY-MM-DD`; still held when absent.
    pub to: Option<String>,
}

/// A post as every front end shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PostRecord {
    pub id: Uuid,
    /// The last 8 characters of the id, as listings show it.
    pub short_id: String,
    pub contact_id: Uuid,
    /// The holder's name.
    pub contact: String,
    pub organisation_id: Option<Uuid>,
    /// The organisation's name.
    pub organisation: Option<String>,
    pub iso3: Option<String>,
    /// The office, as recorded.
    pub title: String,
    /// The first day of the term; `null` when not known.
    pub from: Option<NaiveDate>,
    /// The last day of the term; `null` while still held.
    pub to: Option<NaiveDate>,
    /// Held on the date asked (today when none was).
    pub current: bool,
}

/// Who holds a post on a date: the post and its holder.
#[derive(Debug, Clone)]
pub struct PostHolder {
    pub post: PostRecord,
    pub contact: contact::Model,
}

/// Which posts to list.
#[derive(Debug, Clone, Default)]
pub struct PostFilter {
    /// A state's code or name.
    pub state: Option<String>,
    /// A contact's email, name or id.
    pub contact: Option<String>,
    /// An organisation's name or id.
    pub organisation: Option<String>,
    /// Only the posts held on this date.
    pub at: Option<NaiveDate>,
}

/// A title as posts compare it: trimmed, inner spaces collapsed, any case.
pub fn title_key(title: &str) -> String {
    title
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Whether two titles name the same office (any case, spaces trimmed).
pub fn same_title(a: &str, b: &str) -> bool {
    title_key(a) == title_key(b)
}

/// Whether the post's term covers `on` (an unknown start covers every day before its end).
pub fn held_on(p: &post::Model, on: NaiveDate) -> bool {
    p.starts_on.is_none_or(|s| s <= on) && p.ends_on.is_none_or(|e| on <= e)
}

/// Whether two terms share a day.
fn overlaps(
    a: (Option<NaiveDate>, Option<NaiveDate>),
    b: (Option<NaiveDate>, Option<NaiveDate>),
) -> bool {
    let starts_before_end = |s: Option<NaiveDate>, e: Option<NaiveDate>| match (s, e) {
        (Some(s), Some(e)) => s <= e,
        _ => true,
    };
    starts_before_end(a.0, b.1) && starts_before_end(b.0, a.1)
}

/// A term in words: "since 2024-03-01", "2019-05-01 to 2024-02-29", "until 2020-01-31".
pub fn term(from: Option<NaiveDate>, to: Option<NaiveDate>) -> String {
    match (from, to) {
        (Some(f), Some(t)) => format!("{f} to {t}"),
        (Some(f), None) => format!("since {f}"),
        (None, Some(t)) => format!("until {t}"),
        (None, None) => "with no dates recorded".to_owned(),
    }
}

/// The records of `posts`, in their order, with their holders' and organisations' names read
/// by key; `current` says whether each is held on `on`.
async fn records_of<C: ConnectionTrait>(
    db: &C,
    posts: Vec<post::Model>,
    on: NaiveDate,
) -> Result<Vec<PostRecord>> {
    let contacts = crate::directory::contacts_by_id(db, posts.iter().map(|p| p.contact_id)).await?;
    let orgs =
        crate::directory::organisation_names(db, posts.iter().filter_map(|p| p.organisation_id))
            .await?;
    Ok(posts
        .into_iter()
        .map(|p| record(&p, &contacts, &orgs, on))
        .collect())
}

fn record(
    p: &post::Model,
    contacts: &HashMap<Uuid, contact::Model>,
    orgs: &HashMap<Uuid, String>,
    on: NaiveDate,
) -> PostRecord {
    PostRecord {
        id: p.id,
        short_id: ids::short(p.id),
        contact_id: p.contact_id,
        contact: contacts
            .get(&p.contact_id)
            .map(|c| c.name.clone())
            .unwrap_or_default(),
        organisation_id: p.organisation_id,
        organisation: p.organisation_id.and_then(|o| orgs.get(&o).cloned()),
        iso3: p.iso3.clone(),
        title: p.title.clone(),
        from: p.starts_on,
        to: p.ends_on,
        current: held_on(p, on),
    }
}

/// The history order: by title (any case), then the newest term first (an unknown start last).
fn sort_history(posts: &mut [post::Model]) {
    posts.sort_by(|a, b| {
        title_key(&a.title)
            .cmp(&title_key(&b.title))
            .then_with(|| b.starts_on.cmp(&a.starts_on))
            .then_with(|| b.id.cmp(&a.id))
    });
}

/// The posts of the same office as a new one: the same title at the same organisation, or,
/// without an organisation, in the same state without one. Read by key (the organisation's or
/// the state's posts), compared by title here.
async fn same_post<C: ConnectionTrait>(
    db: &C,
    title: &str,
    organisation: Option<Uuid>,
    iso3: Option<&str>,
) -> Result<Vec<post::Model>> {
    let q = post::Entity::find();
    let q = match (organisation, iso3) {
        (Some(o), _) => q.filter(post::Column::OrganisationId.eq(o)),
        (None, Some(s)) => q
            .filter(post::Column::Iso3.eq(s))
            .filter(post::Column::OrganisationId.is_null()),
        (None, None) => return Ok(Vec::new()),
    };
    Ok(q.all(db)
        .await?
        .into_iter()
        .filter(|p| same_title(&p.title, title))
        .collect())
}

/// Records that a contact holds a post. Any staff member may, as they may add contacts.
///
/// When the post (see the module's note) is held by someone else in a term still open that
/// began before `from`, that term is closed on the day before `from`, with its own audit
/// record.
///
/// # Errors
/// [`Error::Invalid`] naming `title`, `from` or `to` (an end before the start); an unknown
/// contact, organisation or state; [`Error::Conflict`] when the term overlaps another holder's
/// term of the same post in any other way, naming them and their dates. Nothing is written
/// then.
pub async fn add(db: &DatabaseConnection, actor: &Actor, input: &PostInput) -> Result<PostRecord> {
    let tx = crate::db::begin(db).await?;
    let out = add_in(&tx, actor, input).await?;
    tx.commit().await?;
    Ok(out)
}

fn given(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

/// As [`add`], inside the caller's transaction.
///
/// # Errors
/// As [`add`].
pub async fn add_in(
    tx: &DatabaseTransaction,
    actor: &Actor,
    input: &PostInput,
) -> Result<PostRecord> {
    let title = required_text("title", &input.title, TITLE_MAX)?;
    let from = given(input.from.as_deref())
        .map(|d| parse_date("from", d))
        .transpose()?;
    let to = given(input.to.as_deref())
        .map(|d| parse_date("to", d))
        .transpose()?;
    let holder = crate::directory::resolve_contact(tx, &input.contact).await?;
    let org = match given(input.organisation.as_deref()) {
        None => None,
        Some(o) => Some(crate::directory::resolve_organisation(tx, o).await?),
    };
    let iso3 = match given(input.state.as_deref()) {
        Some(s) => Some(crate::states::resolve(tx, s).await?.iso3),
        None => org
            .as_ref()
            .and_then(|o| o.iso3.clone())
            .or_else(|| holder.iso3.clone()),
    };
    let org_id = org.as_ref().map(|o| o.id);
    // Checked once the records named are found: a term that ends before it starts.
    if let (Some(f), Some(t)) = (from, to)
        && t < f
    {
        return Err(Error::invalid(
            "to",
            format!(
                "the term would end on {t}, before it starts on {f}; give an end on or after \
                 the start"
            ),
        ));
    }

    // Every check before the first write: which terms to close, and that nothing else overlaps.
    let others = same_post(tx, &title, org_id, iso3.as_deref()).await?;
    let mut to_close = Vec::new();
    let mut conflict = None;
    for p in &others {
        if !overlaps((p.starts_on, p.ends_on), (from, to)) {
            continue;
        }
        // A new holder from a day after the open term began: the hand-over.
        let hands_over = from.filter(|f| {
            p.contact_id != holder.id && p.ends_on.is_none() && p.starts_on.is_none_or(|s| s < *f)
        });
        if let Some(f) = hands_over {
            to_close.push((p.clone(), f));
        } else if conflict.is_none() {
            conflict = Some(p.clone());
        }
    }
    if let Some(p) = conflict {
        let who = crate::directory::contacts_by_id(tx, [p.contact_id]).await?;
        let name = who
            .get(&p.contact_id)
            .map_or_else(|| ids::short(p.contact_id), |c| c.name.clone());
        return Err(Error::Conflict(format!(
            "{name} holds the post '{}' {} (post {}), which overlaps the term given ({}); \
             give dates that do not overlap, or correct that term first",
            p.title,
            term(p.starts_on, p.ends_on),
            ids::short(p.id),
            term(from, to),
        )));
    }

    for (p, f) in to_close {
        let day_before = f
            .checked_sub_days(Days::new(1))
            .ok_or_else(|| Error::invalid("from", format!("{f} is too early")))?;
        close_in(tx, actor, p, day_before, "post.end", Some(f)).await?;
    }

    let model = post::ActiveModel {
        id: Set(Uuid::now_v7()),
        contact_id: Set(holder.id),
        organisation_id: Set(org_id),
        iso3: Set(iso3),
        title: Set(title),
        starts_on: Set(from),
        ends_on: Set(to),
        created_at: Set(Utc::now()),
    }
    .insert(tx)
    .await?;
    audit::record(
        tx,
        &actor.handle,
        "post.create",
        "post",
        &model.id.to_string(),
        serde_json::json!({
            "contact": holder.id, "title": model.title, "organisation": model.organisation_id,
            "iso3": model.iso3, "from": model.starts_on, "to": model.ends_on,
        }),
    )
    .await?;
    let orgs: HashMap<Uuid, String> = org.map(|o| (o.id, o.name)).into_iter().collect();
    let contacts = HashMap::from([(holder.id, holder)]);
    Ok(record(&model, &contacts, &orgs, actor.today()))
}

/// Closes a term on `on`, with its audit record (`succeeded_from`: the start of the term that
/// closed it, when a new holder did).
async fn close_in(
    tx: &DatabaseTransaction,
    actor: &Actor,
    p: post::Model,
    on: NaiveDate,
    action: &str,
    succeeded_from: Option<NaiveDate>,
) -> Result<post::Model> {
    let mut m = p.into_active_model();
    m.ends_on = Set(Some(on));
    let p = m.update(tx).await?;
    audit::record(
        tx,
        &actor.handle,
        action,
        "post",
        &p.id.to_string(),
        serde_json::json!({
            "contact": p.contact_id, "title": p.title, "to": on,
            "successor_from": succeeded_from,
        }),
    )
    .await?;
    Ok(p)
}

/// The post `given` names: its full id or a unique end of it.
///
/// # Errors
/// [`Error::Invalid`] for text that is no id, [`Error::NotFound`], [`Error::Ambiguous`].
pub async fn find<C: ConnectionTrait>(db: &C, given: &str) -> Result<post::Model> {
    let found = ids::candidates::<post::Entity, _>(db, given).await?;
    let id = ids::pick("post", given, found)?;
    post::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("post", given, ""))
}

/// Records the last day of a term still open. Any staff member may.
///
/// # Errors
/// [`Error::NotFound`] for an unknown post; [`Error::Invalid`] naming `on` for a bad date;
/// [`Error::Conflict`] when the term has ended already or began after `on`. Nothing is written
/// then.
pub async fn end(db: &DatabaseConnection, actor: &Actor, id: &str, on: &str) -> Result<PostRecord> {
    let tx = crate::db::begin(db).await?;
    let p = find(&tx, id).await?;
    let on = parse_date("on", on)?;
    if let Some(to) = p.ends_on {
        return Err(Error::Conflict(format!(
            "the post '{}' (post {}) ended on {to} already",
            p.title,
            ids::short(p.id)
        )));
    }
    // A well-formed date the record refuses: the term as recorded began later (a conflict with
    // the record, as a term ended already is, not a malformed request).
    if let Some(from) = p.starts_on
        && on < from
    {
        return Err(Error::Conflict(format!(
            "the post '{}' (post {}) began on {from}; its last day cannot be {on}, before that",
            p.title,
            ids::short(p.id)
        )));
    }
    let p = close_in(&tx, actor, p, on, "post.end", None).await?;
    let out = records_of(&tx, vec![p], actor.today()).await?;
    tx.commit().await?;
    out.into_iter()
        .next()
        .ok_or_else(|| Error::not_found("post", id, ""))
}

/// Who holds the post titled `title` (any case) in the state `iso3` on `on`, if anyone: read
/// by key (the state's posts).
///
/// # Errors
/// Database errors.
pub async fn holder<C: ConnectionTrait>(
    db: &C,
    iso3: &str,
    title: &str,
    on: NaiveDate,
) -> Result<Option<PostHolder>> {
    let mut found: Vec<post::Model> = post::Entity::find()
        .filter(post::Column::Iso3.eq(iso3))
        .all(db)
        .await?
        .into_iter()
        .filter(|p| same_title(&p.title, title) && held_on(p, on))
        .collect();
    // Terms of one post never overlap; if the same title is recorded at two organisations,
    // the term that began last wins.
    found.sort_by_key(|p| std::cmp::Reverse(p.starts_on));
    let Some(p) = found.into_iter().next() else {
        return Ok(None);
    };
    let mut contacts = crate::directory::contacts_by_id(db, [p.contact_id]).await?;
    let orgs = crate::directory::organisation_names(db, p.organisation_id).await?;
    let post = record(&p, &contacts, &orgs, on);
    Ok(contacts
        .remove(&p.contact_id)
        .map(|contact| PostHolder { post, contact }))
}

/// Posts, as `filter` says, by title then the newest term first: the directory's history.
/// `today` decides `current` when no date is asked.
///
/// # Errors
/// An unknown state, contact or organisation; database errors.
pub async fn posts<C: ConnectionTrait>(
    db: &C,
    filter: &PostFilter,
    today: NaiveDate,
) -> Result<Vec<PostRecord>> {
    let mut q = post::Entity::find();
    if let Some(s) = given(filter.state.as_deref()) {
        q = q.filter(post::Column::Iso3.eq(crate::states::resolve(db, s).await?.iso3));
    }
    if let Some(c) = given(filter.contact.as_deref()) {
        q = q
            .filter(post::Column::ContactId.eq(crate::directory::resolve_contact(db, c).await?.id));
    }
    if let Some(o) = given(filter.organisation.as_deref()) {
        q = q.filter(
            post::Column::OrganisationId
                .eq(crate::directory::resolve_organisation(db, o).await?.id),
        );
    }
    if let Some(at) = filter.at {
        q = q
            .filter(
                Condition::any()
                    .add(post::Column::StartsOn.is_null())
                    .add(post::Column::StartsOn.lte(at)),
            )
            .filter(
                Condition::any()
                    .add(post::Column::EndsOn.is_null())
                    .add(post::Column::EndsOn.gte(at)),
            );
    }
    let mut rows = q.all(db).await?;
    sort_history(&mut rows);
    records_of(db, rows, filter.at.unwrap_or(today)).await
}

/// A state's posts as of `at`: those held then first, then the earlier and later terms, each
/// group by title and newest term first.
///
/// # Errors
/// Database errors.
pub async fn for_state<C: ConnectionTrait>(
    db: &C,
    iso3: &str,
    at: NaiveDate,
) -> Result<Vec<PostRecord>> {
    let mut rows = post::Entity::find()
        .filter(post::Column::Iso3.eq(iso3))
        .all(db)
        .await?;
    sort_history(&mut rows);
    let mut out = records_of(db, rows, at).await?;
    out.sort_by_key(|p| !p.current);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Option<NaiveDate> {
        Some(NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("a date"))
    }

    #[test]
    fn titles_match_in_any_case_with_spaces_trimmed() {
        assert!(same_title(
            "  Minister for  Foreign Affairs ",
            "minister for foreign affairs"
        ));
        assert!(!same_title(
            "Minister for Foreign Affairs",
            "Minister of Defence"
        ));
    }

    #[test]
    fn terms_overlap_when_they_share_a_day_and_open_ends_reach_forever() {
        let t = |a: &str, b: &str| (d(a), d(b));
        assert!(overlaps(
            t("2020-01-01", "2020-12-31"),
            t("2020-12-31", "2021-06-30")
        ));
        assert!(!overlaps(
            t("2020-01-01", "2020-12-30"),
            t("2020-12-31", "2021-06-30")
        ));
        assert!(overlaps((d("2020-01-01"), None), (d("2030-01-01"), None)));
        assert!(overlaps((None, d("2020-01-01")), (None, None)));
        assert!(!overlaps((None, d("2019-12-31")), (d("2020-01-01"), None)));
        assert_eq!(term(d("2020-01-01"), None), "since 2020-01-01");
    }
}
