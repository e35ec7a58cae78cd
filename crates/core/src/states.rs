//! States: finding one from what a user typed, and listing them by derived treaty status.

use std::collections::HashMap;

use chrono::NaiveDate;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Serialize;

use crate::entities::{state, treaty, treaty_event};
use crate::error::{Error, Result, Suggestion};
use crate::refdata::records_from;
use crate::status::{Status, StatusAt, StatusFilter, TreatyRecord, counted_on};

/// Finds a state by ISO alpha-3 or alpha-2 code, or by its short or official name (any case).
///
/// # Errors
/// [`Error::UnknownState`] with up to three close matches.
pub async fn resolve<C: ConnectionTrait>(db: &C, given: &str) -> Result<state::Model> {
    let all = state::Entity::find().all(db).await?;
    resolve_in(&all, given).cloned()
}

/// As [`resolve`], over states already loaded.
///
/// # Errors
/// [`Error::UnknownState`] with up to three close matches.
pub fn resolve_in<'a>(all: &'a [state::Model], given: &str) -> Result<&'a state::Model> {
    let g = given.trim();
    let lower = g.to_lowercase();
    let found = all.iter().find(|s| {
        s.iso3.eq_ignore_ascii_case(g)
            || s.iso2.eq_ignore_ascii_case(g)
            || s.name.to_lowercase() == lower
            || s.official_name.to_lowercase() == lower
    });
    found.ok_or_else(|| Error::UnknownState {
        given: g.to_owned(),
        suggestions: suggest(all, g),
    })
}

/// Up to three states close to `given`: names that start with it first, then codes one letter
/// away, then names that look alike.
fn suggest(all: &[state::Model], given: &str) -> Vec<Suggestion> {
    let lower = given.to_lowercase();
    let upper = given.to_uppercase();
    let mut scored: Vec<(f64, &state::Model)> = all
        .iter()
        .map(|s| {
            let name = s.name.to_lowercase();
            let mut score = strsim::jaro_winkler(&lower, &name);
            if lower.len() >= 2 && name.starts_with(&lower) {
                score = score.max(1.5);
            }
            if given.len() == 3 && strsim::hamming(&upper, &s.iso3).is_ok_and(|d| d == 1) {
                score = score.max(1.2);
            }
            (score, s)
        })
        .filter(|(score, _)| *score >= 0.85)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.iso3.cmp(&b.1.iso3)));
    scored
        .into_iter()
        .take(3)
        .map(|(_, s)| Suggestion {
            iso3: s.iso3.clone(),
            name: s.name.clone(),
        })
        .collect()
}

/// Checks a treaty code against the treaties in the database.
///
/// # Errors
/// [`Error::Invalid`] naming `--treaty` and the known codes.
pub async fn resolve_treaty<C: ConnectionTrait>(db: &C, given: &str) -> Result<treaty::Model> {
    let all = treaty::Entity::find().all(db).await?;
    let g = given.trim().to_uppercase().replace('-', "_");
    all.iter().find(|t| t.code == g).cloned().ok_or_else(|| {
        Error::invalid(
            "--treaty",
            format!(
                "'{given}' is not a treaty code; use one of {}",
                all.iter()
                    .map(|t| t.code.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    })
}

/// The treaties in the database, by code.
///
/// # Errors
/// Database errors.
pub async fn treaties<C: ConnectionTrait>(db: &C) -> Result<Vec<treaty::Model>> {
    Ok(treaty::Entity::find()
        .order_by_asc(treaty::Column::Code)
        .all(db)
        .await?)
}

/// One state with its derived status.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StateStatus {
    pub iso3: String,
    pub name: String,
    pub treaty: String,
    pub at: NaiveDate,
    pub status: Status,
    pub in_force: bool,
    pub party_since: Option<NaiveDate>,
    /// The day the status began (see [`crate::status::StatusAt::since`]).
    pub status_since: Option<NaiveDate>,
    pub capital: String,
    pub capital_tz: String,
    /// The other treaties (CCM, CCW_P5, CRPD) the state is party to on `at`, in the order
    /// outreach lists treaties: "already a party to the Convention on Cluster Munitions" is an
    /// argument in a letter.
    pub also_party_to: Vec<String>,
    /// The current stance on `at` as the reader may know it (filled by
    /// [`crate::stance::listing`]; `None` when none is on record).
    pub stance: Option<String>,
}

/// Every state's record under `treaty`, from the database.
///
/// # Errors
/// Database errors.
pub async fn records<C: ConnectionTrait>(
    db: &C,
    treaty: &str,
) -> Result<HashMap<String, TreatyRecord>> {
    let events = treaty_event::Entity::find()
        .filter(treaty_event::Column::Treaty.eq(treaty))
        .all(db)
        .await?;
    Ok(records_from(
        events
            .iter()
            .map(|e| (e.iso3.as_str(), e.event.as_str(), e.date)),
    ))
}

/// Every state, by name (for a form's list of states).
///
/// # Errors
/// Database errors.
pub async fn all_by_name<C: ConnectionTrait>(db: &C) -> Result<Vec<state::Model>> {
    Ok(state::Entity::find()
        .order_by_asc(state::Column::Name)
        .all(db)
        .await?)
}

/// States counted on `at`, with their status under `treaty`, filtered and sorted by name.
///
/// # Errors
/// Database errors.
pub async fn by_status<C: ConnectionTrait>(
    db: &C,
    treaty: &str,
    filter: StatusFilter,
    at: NaiveDate,
) -> Result<Vec<StateStatus>> {
    by_status_party_to(db, treaty, filter, at, &[]).await
}

/// As [`by_status`], keeping only the states party on `at` to at least one of `party_to` (other
/// treaties' codes; none keeps every state): "the states not party to the Mine Ban Treaty that
/// are party to the CCM or CCW Protocol V" is `by_status_party_to(db, "APMBC", NotParty, at,
/// &["CCM", "CCW_P5"])`.
///
/// # Errors
/// [`Error::Invalid`] on `party_to` naming an unknown treaty; database errors.
pub async fn by_status_party_to<C: ConnectionTrait>(
    db: &C,
    treaty: &str,
    filter: StatusFilter,
    at: NaiveDate,
    party_to: &[String],
) -> Result<Vec<StateStatus>> {
    let known: Vec<&str> = crate::refdata::TREATIES.iter().map(|t| t.0).collect();
    for code in party_to {
        if !known.contains(&code.as_str()) {
            return Err(Error::invalid(
                "party_to",
                format!(
                    "'{code}' is not a treaty outreach knows; use {}",
                    known.join(", ")
                ),
            ));
        }
    }
    // One read of every treaty's events: the status under `treaty` and under the others.
    let events = treaty_event::Entity::find().all(db).await?;
    let mut by_treaty: HashMap<&str, HashMap<String, TreatyRecord>> = HashMap::new();
    for code in &known {
        by_treaty.insert(
            code,
            records_from(
                events
                    .iter()
                    .filter(|e| e.treaty == *code)
                    .map(|e| (e.iso3.as_str(), e.event.as_str(), e.date)),
            ),
        );
    }
    let states = state::Entity::find()
        .order_by_asc(state::Column::Name)
        .all(db)
        .await?;
    let empty = TreatyRecord::new();
    let no_records = HashMap::new();
    let records = by_treaty.get(treaty).unwrap_or(&no_records);
    Ok(states
        .into_iter()
        .filter(|s| counted_on(s.counted_from, at))
        .filter_map(|s| {
            let StatusAt {
                status,
                in_force,
                party_since,
                since,
            } = records.get(&s.iso3).unwrap_or(&empty).status_at(at);
            if !filter.matches(status) {
                return None;
            }
            let also_party_to: Vec<String> = known
                .iter()
                .filter(|code| **code != treaty)
                .filter(|code| {
                    by_treaty
                        .get(*code)
                        .and_then(|r| r.get(&s.iso3))
                        .is_some_and(|r| r.status_at(at).status.is_party())
                })
                .map(|code| (*code).to_owned())
                .collect();
            let party_to_one = party_to.iter().any(|c| {
                if c == treaty {
                    status.is_party()
                } else {
                    also_party_to.contains(c)
                }
            });
            if !party_to.is_empty() && !party_to_one {
                return None;
            }
            Some(StateStatus {
                iso3: s.iso3,
                name: s.name,
                treaty: treaty.to_owned(),
                at,
                status,
                in_force,
                party_since,
                status_since: since,
                capital: s.capital,
                capital_tz: s.capital_tz,
                also_party_to,
                stance: None,
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(iso3: &str, iso2: &str, name: &str) -> state::Model {
        state::Model {
            iso3: iso3.into(),
            iso2: iso2.into(),
            m49: "000".into(),
            name: name.into(),
            official_name: format!("Republic of {name}"),
            entity_type: "un_member".into(),
            capital: "X".into(),
            capital_tz: "UTC".into(),
            un_region: String::new(),
            un_subregion: String::new(),
            un_intermediate_region: String::new(),
            counted_from: None,
            note: String::new(),
        }
    }

    #[test]
    fn states_resolve_by_code_name_and_suggest_on_a_miss() {
        let all = vec![
            st("NPL", "NP", "Nepal"),
            st("NER", "NE", "Niger"),
            st("IND", "IN", "India"),
        ];
        assert_eq!(resolve_in(&all, "npl").unwrap().iso3, "NPL");
        assert_eq!(resolve_in(&all, "NP").unwrap().iso3, "NPL");
        assert_eq!(resolve_in(&all, "nepal").unwrap().iso3, "NPL");
        assert_eq!(resolve_in(&all, "Republic of India").unwrap().iso3, "IND");
        let err = resolve_in(&all, "NEP").unwrap_err().to_string();
        assert!(
            err.starts_with("NEP is not a state code or name; did you mean NPL (Nepal)"),
            "{err}"
        );
        let err = resolve_in(&all, "Atlantis").unwrap_err();
        assert_eq!(err.remedy(), Some(crate::Remedy::ListStates));
        assert_eq!(err.to_string(), "Atlantis is not a state code or name");
    }
}
