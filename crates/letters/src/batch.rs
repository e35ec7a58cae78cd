//! Batches: one command drafts a letter for every member of an audience, in one transaction,
//! and reports what it drafted and what it skipped and why.

use outreach_core::actor::Actor;
use outreach_core::ids;
use outreach_core::status::StatusFilter;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde::Serialize;
use uuid::Uuid;

use crate::drafts::{LetterStatus, Letters, draft_in};
use crate::entities::letter;
use crate::error::{Error, Result};
use crate::merge::{self, Records, To};

/// Who a batch writes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// Every State Party with no condemnation of new use on record (no `condemnation` signal and
    /// no engagement of kind `statement`).
    StatesPartiesWithoutCondemnation,
    /// Every state not party (signatories included).
    StatesNotParty,
    /// Every contact at an embassy located in the state: the joint-approach audience.
    EmbassiesIn(String),
}

/// The audiences, for messages.
pub const AUDIENCES: &str = "states-parties-without-condemnation, states-not-party, embassies-in:ISO3 (e.g. embassies-in:NPL)";

impl Audience {
    /// # Errors
    /// [`outreach_core::Error::Invalid`] naming `--audience` and the audiences.
    pub fn parse(given: &str) -> outreach_core::Result<Self> {
        let g = given.trim().to_lowercase().replace('_', "-");
        if let Some(code) = g
            .strip_prefix("embassies-in:")
            .or_else(|| g.strip_prefix("embassies-in-"))
            .filter(|c| c.len() == 3 && c.bytes().all(|b| b.is_ascii_alphabetic()))
        {
            return Ok(Self::EmbassiesIn(code.to_uppercase()));
        }
        match g.as_str() {
            "states-parties-without-condemnation" => Ok(Self::StatesPartiesWithoutCondemnation),
            "states-not-party" => Ok(Self::StatesNotParty),
            _ => Err(outreach_core::Error::invalid(
                "--audience",
                format!("'{given}' is not an audience; audiences are {AUDIENCES}"),
            )),
        }
    }

    pub fn name(&self) -> String {
        match self {
            Self::StatesPartiesWithoutCondemnation => "states-parties-without-condemnation".into(),
            Self::StatesNotParty => "states-not-party".into(),
            Self::EmbassiesIn(c) => format!("embassies-in:{c}"),
        }
    }
}

/// A letter a batch drafted.
#[derive(Debug, Clone, Serialize)]
pub struct Drafted {
    pub id: Uuid,
    pub short_id: String,
    pub iso3: String,
    pub state: String,
    pub recipient: String,
    pub language: String,
}

/// A member of the audience a batch did not write to, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    pub iso3: String,
    pub state: String,
    pub recipient: Option<String>,
    pub reason: String,
}

/// What a batch did.
#[derive(Debug, Clone, Serialize)]
pub struct BatchReport {
    pub batch_id: Uuid,
    pub template: String,
    pub audience: String,
    pub drafted: Vec<Drafted>,
    pub skipped: Vec<Skipped>,
}

/// Drafts `template` for every member of `audience`. `progress(done, total)` is called after
/// each member. Everything is written in one transaction: all the drafts or none.
///
/// # Errors
/// An unknown template or language; database errors. A member the records cannot support (a
/// missing field, a letter already open) is skipped and reported, not an error.
pub async fn batch(
    db: &DatabaseConnection,
    actor: &Actor,
    letters: &Letters,
    template: &str,
    audience: &Audience,
    lang: Option<&str>,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<BatchReport> {
    batch_serving(db, actor, letters, template, audience, lang, None, progress).await
}

/// As [`batch`], every letter answering `signal` (its id or the end of it; see
/// [`crate::drafts::DraftRequest::signal`]): "call to speak out" to the States Parties without a
/// condemnation, responding to one reported use.
///
/// # Errors
/// As [`batch`]; an unknown signal, or one the template cannot answer.
#[allow(clippy::too_many_arguments)]
pub async fn batch_serving(
    db: &DatabaseConnection,
    actor: &Actor,
    letters: &Letters,
    template: &str,
    audience: &Audience,
    lang: Option<&str>,
    signal: Option<&str>,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<BatchReport> {
    let info = letters.templates.get(template)?.clone();
    if let Some(code) = lang {
        merge::choose_language(Some(code), None, &[])?;
    }
    let tx = outreach_core::db::begin(db).await?;
    let today = actor.today();
    let sender = letters.sender(&tx, actor).await?;
    let mut records = Records::load(&tx, &letters.treaty, today).await?;
    if let Some(given) = signal.map(str::trim).filter(|s| !s.is_empty()) {
        let s = outreach_core::signals::find(&tx, given).await?;
        records = records.serving(&info.name, s)?;
    }
    let mut skipped = Vec::new();
    let name_of = |iso3: &str| {
        records
            .states
            .get(iso3)
            .map_or_else(|| iso3.to_owned(), |s| s.name.clone())
    };
    let mut targets: Vec<(String, Option<To>)> = Vec::new();
    match audience {
        Audience::StatesPartiesWithoutCondemnation | Audience::StatesNotParty => {
            let filter = if *audience == Audience::StatesNotParty {
                StatusFilter::NotParty
            } else {
                StatusFilter::Party
            };
            for s in outreach_core::states::by_status(&tx, &letters.treaty, filter, today).await? {
                if *audience == Audience::StatesPartiesWithoutCondemnation
                    && records.has_condemnation(&s.iso3)
                {
                    skipped.push(Skipped {
                        iso3: s.iso3.clone(),
                        state: s.name.clone(),
                        recipient: None,
                        reason: "a condemnation is on record".into(),
                    });
                    continue;
                }
                let to = merge::default_recipient(&records, &info.name, &s.iso3);
                targets.push((s.iso3, to));
            }
        }
        Audience::EmbassiesIn(code) => {
            let st = outreach_core::states::resolve(&tx, code).await?;
            for c in records.contacts_at("embassy", &st.iso3) {
                targets.push((st.iso3.clone(), Some(To::contact(&records, c))));
            }
            if targets.is_empty() {
                skipped.push(Skipped {
                    iso3: st.iso3.clone(),
                    state: st.name.clone(),
                    recipient: None,
                    reason: format!(
                        "no contact at an embassy in {}; add one with `outreach org add --kind embassy --state {}` and `outreach contact add`",
                        st.iso3, st.iso3
                    ),
                });
            }
        }
    }
    let open: Vec<letter::Model> = letter::Entity::find()
        .filter(letter::Column::Template.eq(info.name.clone()))
        .filter(
            letter::Column::Status
                .is_not_in([LetterStatus::Sent.as_str(), LetterStatus::Exported.as_str()]),
        )
        .all(&tx)
        .await?;
    let batch_id = Uuid::now_v7();
    let mut drafted = Vec::new();
    let total = targets.len();
    for (i, (iso3, to)) in targets.into_iter().enumerate() {
        let recipient = to.as_ref().map(|t| t.name.clone());
        if let Some(existing) = open.iter().find(|l| {
            l.iso3 == iso3 && l.recipient_contact_id == to.as_ref().and_then(|t| t.contact_id)
        }) {
            skipped.push(Skipped {
                state: name_of(&iso3),
                iso3,
                recipient,
                reason: format!(
                    "letter {} ({}) is already open for this recipient",
                    ids::short(existing.id),
                    existing.status.replace('_', " ")
                ),
            });
            progress(i + 1, total);
            continue;
        }
        match draft_in(
            &tx,
            actor,
            letters,
            &records,
            &sender,
            &info.name,
            &iso3,
            to.as_ref(),
            lang,
            Some(batch_id),
        )
        .await
        {
            Ok(l) => drafted.push(Drafted {
                short_id: ids::short(l.id),
                id: l.id,
                state: name_of(&iso3),
                iso3,
                recipient: l.recipient_name,
                language: l.language,
            }),
            Err(e @ Error::MissingFields { .. }) => skipped.push(Skipped {
                state: name_of(&iso3),
                iso3,
                recipient,
                reason: e.to_string(),
            }),
            Err(e) => return Err(e),
        }
        progress(i + 1, total);
    }
    outreach_core::audit::record(
        &tx,
        &actor.handle,
        "letter.batch",
        "letter_batch",
        &batch_id.to_string(),
        serde_json::json!({
            "template": info.name, "audience": audience.name(),
            "drafted": drafted.len(), "skipped": skipped.len(),
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(BatchReport {
        batch_id,
        template: info.name,
        audience: audience.name(),
        drafted,
        skipped,
    })
}
