//! Builds a letter's typed merge context from the database: the records are read once into a
//! [`Records`] snapshot (so a batch of a thousand letters costs a handful of queries), then each
//! context is assembled in memory in the letter's language.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate, Utc};
use outreach_core::domain::Sensitivity;
use outreach_core::entities::{
    contact, engagement, follow_up, grant, meeting, organisation, post, signal, state,
};
use outreach_core::status::{Status, TreatyRecord};
use outreach_mailer::locale::Lang;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::context::{
    CallToJoin, CallToSpeakOut, Common, FollowUpAfterMeeting, Item, JointApproach, LetterContext,
    MeetingItem, ObserverInvitation, Partner, Recipient, Sender, StateInfo, Thanks, is_present,
};
use crate::error::{Error, Result};
use crate::forms;
use crate::names::{NameForms, StateNames};

/// The Convention opened for signature in Ottawa on 3 December 1997; "years outside" counts
/// from then.
pub fn opened_for_signature() -> NaiveDate {
    NaiveDate::from_ymd_opt(1997, 12, 3).unwrap_or_default()
}

/// Whole years from `from` to `to`.
fn whole_years(from: NaiveDate, to: NaiveDate) -> i64 {
    let mut years = i64::from(to.year() - from.year());
    if (to.month(), to.day()) < (from.month(), from.day()) {
        years -= 1;
    }
    years.max(0)
}

/// The treaties a letter may cite as already joined: the Convention on Cluster Munitions and
/// CCW Protocol V (the Mine Ban Treaty's closest kin).
const RELATED_TREATIES: &[&str] = &["CCM", "CCW_P5"];

/// A related treaty's name as each template's sentence takes it (see
/// [`crate::context::StateInfo::also_party_to`]): French with "à" contracted, Spanish after
/// "en", English after "a party to".
fn related_treaty_name(lang: Lang, code: &str) -> &'static str {
    match (lang, code) {
        (Lang::Fr, "CCM") => "à la Convention sur les armes à sous-munitions",
        (Lang::Fr, _) => {
            "au Protocole relatif aux restes explosifs de guerre (Protocole V à la Convention sur \
             certaines armes classiques)"
        }
        (Lang::Es, "CCM") => "la Convención sobre Municiones en Racimo",
        (Lang::Es, _) => {
            "el Protocolo sobre los Restos Explosivos de Guerra (Protocolo V de la Convención \
             sobre Ciertas Armas Convencionales)"
        }
        (_, "CCM") => "the Convention on Cluster Munitions",
        _ => {
            "Protocol V on Explosive Remnants of War to the Convention on Certain Conventional \
             Weapons"
        }
    }
}

/// What the database knows, read once.
#[derive(Debug)]
pub struct Records {
    pub today: NaiveDate,
    pub states: HashMap<String, state::Model>,
    pub status: HashMap<String, TreatyRecord>,
    /// Each related treaty's records (CCM, CCW_P5), for "already a party to ...".
    pub related: Vec<(&'static str, HashMap<String, TreatyRecord>)>,
    pub organisations: HashMap<Uuid, organisation::Model>,
    pub contacts: Vec<contact::Model>,
    /// Every term of every post: who held which office when (`outreach_core::posts`).
    pub posts: Vec<post::Model>,
    /// Newest year first.
    pub grants: Vec<grant::Model>,
    /// Per state, newest first: `public` engagements only, the only ones a letter may cite.
    pub engagements: HashMap<String, Vec<engagement::Model>>,
    /// Per state, newest first.
    pub signals: HashMap<String, Vec<signal::Model>>,
    /// Planned meetings still ahead, per state, soonest first.
    pub meetings: HashMap<String, Vec<meeting::Model>>,
    /// Open follow-ups per state, soonest due first: only those made from a `public` engagement
    /// (directly, or through the held meeting they belong to).
    pub follow_ups: HashMap<String, Vec<follow_up::Model>>,
    /// States with a condemnation on record today, by core's one rule (`signals::spoken_up`).
    spoken_up: std::collections::HashSet<String>,
    states_parties: usize,
    /// State names in each language and each state's languages of correspondence.
    pub names: &'static StateNames,
    /// The signal the letters answer, when one was chosen ([`Records::serving`]): the policy
    /// step a `thanks` thanks for, the reported use a `call_to_speak_out` responds to.
    pub serves: Option<signal::Model>,
}

fn group<T>(rows: Vec<T>, key: impl Fn(&T) -> String) -> HashMap<String, Vec<T>> {
    let mut out: HashMap<String, Vec<T>> = HashMap::new();
    for r in rows {
        out.entry(key(&r)).or_default().push(r);
    }
    out
}

/// The signal kinds each template can answer, and what the letter does with it.
fn serves_kinds(template: &str) -> Option<&'static [&'static str]> {
    match template {
        "thanks" => Some(&[
            "policy_change",
            "condemnation",
            "observer_attendance",
            "unga_vote",
        ]),
        "call_to_speak_out" => Some(&["reported_use"]),
        _ => None,
    }
}

impl Records {
    /// The same records, with letters answering `signal`: checked against `template` (a thanks
    /// answers a step of the state's own; a call to speak out, a reported use).
    ///
    /// # Errors
    /// [`outreach_core::Error::Invalid`] on `signal` saying which signals the template takes.
    pub fn serving(mut self, template: &str, signal: signal::Model) -> Result<Self> {
        let label = |k: &str| k.replace('_', " ");
        match serves_kinds(template) {
            None => {
                return Err(outreach_core::Error::invalid(
                    "signal",
                    format!(
                        "the {template} letter does not answer a chosen signal; leave the signal out (thanks and call_to_speak_out take one)"
                    ),
                )
                .into());
            }
            Some(kinds) if !kinds.contains(&signal.kind.as_str()) => {
                return Err(outreach_core::Error::invalid(
                    "signal",
                    format!(
                        "signal {} is a {} ({}, {}); a {template} letter answers a {}",
                        outreach_core::ids::short(signal.id),
                        label(&signal.kind),
                        signal.iso3,
                        signal.observed_on,
                        kinds
                            .iter()
                            .map(|k| label(k))
                            .collect::<Vec<_>>()
                            .join(", a "),
                    ),
                )
                .into());
            }
            Some(_) => {}
        }
        self.serves = Some(signal);
        Ok(self)
    }

    /// The related treaties `iso3` is party to today, joined for the letter's sentence.
    fn also_party_to(&self, lang: Lang, iso3: &str) -> Option<String> {
        let names: Vec<&str> = self
            .related
            .iter()
            .filter(|(_, records)| {
                records
                    .get(iso3)
                    .is_some_and(|r| r.status_at(self.today).status.is_party())
            })
            .map(|(code, _)| related_treaty_name(lang, code))
            .collect();
        let and = match lang {
            Lang::Fr => " et ",
            Lang::Es => " y ",
            _ => " and ",
        };
        (!names.is_empty()).then(|| names.join(and))
    }

    /// Reads everything a letter may cite.
    ///
    /// # Errors
    /// Database errors.
    pub async fn load<C: ConnectionTrait>(db: &C, treaty: &str, today: NaiveDate) -> Result<Self> {
        let now = Utc::now();
        let status = outreach_core::states::records(db, treaty).await?;
        let mut related = Vec::new();
        for code in RELATED_TREATIES {
            if *code != treaty {
                related.push((*code, outreach_core::states::records(db, code).await?));
            }
        }
        let states_parties = status
            .values()
            .filter(|r| r.status_at(today).status.is_party())
            .count();
        // Letters leave the campaign: they cite public engagements only, never internal or
        // restricted notes, and follow-ups only where their engagement is public.
        let public = engagement::Entity::find()
            .filter(engagement::Column::Sensitivity.eq(Sensitivity::Public.as_str()))
            .order_by_desc(engagement::Column::OccurredOn)
            .order_by_desc(engagement::Column::Id)
            .all(db)
            .await?;
        let public_ids: std::collections::HashSet<Uuid> = public.iter().map(|e| e.id).collect();
        let public_meetings: std::collections::HashSet<Uuid> =
            public.iter().filter_map(|e| e.meeting_id).collect();
        let citable = |f: &follow_up::Model| match (f.engagement_id, f.meeting_id) {
            (Some(e), _) => public_ids.contains(&e),
            (None, Some(m)) => public_meetings.contains(&m),
            (None, None) => false,
        };
        let spoken = outreach_core::signals::spoken_up(db, treaty, today).await?;
        let spoken_up = spoken
            .parties_with
            .iter()
            .chain(&spoken.others_with)
            .map(|r| r.iso3.clone())
            .collect();
        let names = StateNames::embedded().map_err(outreach_core::Error::ReferenceData)?;
        Ok(Self {
            names,
            serves: None,
            related,
            spoken_up,
            states_parties,
            today,
            states: state::Entity::find()
                .all(db)
                .await?
                .into_iter()
                .map(|s| (s.iso3.clone(), s))
                .collect(),
            status,
            organisations: organisation::Entity::find()
                .all(db)
                .await?
                .into_iter()
                .map(|o| (o.id, o))
                .collect(),
            contacts: contact::Entity::find()
                .order_by_asc(contact::Column::Id)
                .all(db)
                .await?,
            posts: post::Entity::find()
                .order_by_asc(post::Column::Id)
                .all(db)
                .await?,
            grants: grant::Entity::find()
                .order_by_desc(grant::Column::Year)
                .order_by_desc(grant::Column::Id)
                .all(db)
                .await?,
            engagements: group(public, |e| e.iso3.clone()),
            signals: group(
                signal::Entity::find()
                    .order_by_desc(signal::Column::ObservedOn)
                    .order_by_desc(signal::Column::Id)
                    .all(db)
                    .await?,
                |s| s.iso3.clone(),
            ),
            meetings: group(
                meeting::Entity::find()
                    .filter(meeting::Column::Status.eq("planned"))
                    .filter(meeting::Column::StartsAt.gte(now))
                    .order_by_asc(meeting::Column::StartsAt)
                    .all(db)
                    .await?,
                |m| m.iso3.clone(),
            ),
            follow_ups: group(
                follow_up::Entity::find()
                    .filter(follow_up::Column::DoneAt.is_null())
                    .order_by_asc(follow_up::Column::DueOn)
                    .all(db)
                    .await?
                    .into_iter()
                    .filter(citable)
                    .collect(),
                |f| f.iso3.clone(),
            ),
        })
    }

    /// The state's status under the treaty today.
    pub fn status_of(&self, iso3: &str) -> (Status, Option<NaiveDate>) {
        let s = self
            .status
            .get(iso3)
            .map(|r| r.status_at(self.today))
            .unwrap_or_else(|| TreatyRecord::new().status_at(self.today));
        (s.status, s.party_since)
    }

    /// How many states are party today (withdrawing ones included), derived from the events
    /// when the records were read.
    pub fn states_parties(&self) -> usize {
        self.states_parties
    }

    /// Whether a condemnation of new use is on record for the state: a `condemnation` signal or
    /// an engagement of kind `statement`.
    pub fn has_condemnation(&self, iso3: &str) -> bool {
        self.spoken_up.contains(iso3)
    }

    /// The post `contact` holds on the letter's date: one in `iso3` first, else any.
    pub fn post_of(&self, contact: Uuid, iso3: &str) -> Option<&post::Model> {
        let held: Vec<&post::Model> = self
            .posts
            .iter()
            .filter(|p| p.contact_id == contact && outreach_core::posts::held_on(p, self.today))
            .collect();
        held.iter()
            .find(|p| p.iso3.as_deref() == Some(iso3))
            .or_else(|| held.first())
            .copied()
    }

    /// Who holds the post of Minister for Foreign Affairs (or "Foreign Minister") of `iso3` on
    /// the letter's date, if the directory knows, with the post.
    pub fn foreign_minister(&self, iso3: &str) -> Option<(&contact::Model, &post::Model)> {
        let p = self
            .posts
            .iter()
            .filter(|p| {
                p.iso3.as_deref() == Some(iso3)
                    && outreach_core::posts::held_on(p, self.today)
                    && outreach_core::posts::FOREIGN_MINISTER_TITLES
                        .iter()
                        .any(|t| outreach_core::posts::same_title(&p.title, t))
            })
            .max_by_key(|p| p.starts_on)?;
        let c = self.contacts.iter().find(|c| c.id == p.contact_id)?;
        Some((c, p))
    }

    fn org_of(&self, c: &contact::Model) -> Option<&organisation::Model> {
        c.organisation_id.and_then(|id| self.organisations.get(&id))
    }

    /// Contacts at organisations of `kind` located in `iso3`.
    pub fn contacts_at(&self, kind: &str, iso3: &str) -> Vec<&contact::Model> {
        self.contacts
            .iter()
            .filter(|c| {
                self.org_of(c)
                    .is_some_and(|o| o.kind == kind && o.iso3.as_deref() == Some(iso3))
            })
            .collect()
    }

    /// The local partner: the most recent grantee in the state, else an ICBL member there; with
    /// its first contact.
    fn partner(&self, iso3: &str) -> Option<Partner> {
        let (org, year) = match self.grants.iter().find(|g| g.iso3 == iso3) {
            Some(g) => (self.organisations.get(&g.organisation_id)?, Some(g.year)),
            None => (
                self.organisations.values().find(|o| {
                    o.iso3.as_deref() == Some(iso3) && (o.icbl_member || o.kind == "icbl_member")
                })?,
                None,
            ),
        };
        let contact = self
            .contacts
            .iter()
            .find(|c| c.organisation_id == Some(org.id));
        Some(Partner {
            organisation: org.name.clone(),
            contact: contact.map(|c| c.name.clone()),
            contact_email: contact.and_then(|c| c.email.clone()),
            grant_year: year,
        })
    }
}

/// Who a letter goes to: a contact, or an office when the directory has nobody.
#[derive(Debug, Clone)]
pub struct To {
    pub contact_id: Option<Uuid>,
    pub name: String,
    pub title: Option<String>,
    pub position: Option<String>,
    pub organisation: Option<String>,
    /// The contact's preferred languages, best first.
    pub languages: Vec<String>,
    /// The name line of the address when it is not the title and the name (an office).
    pub addressee: Option<String>,
}

impl To {
    /// A contact from the directory.
    pub fn contact(records: &Records, c: &contact::Model) -> Self {
        Self {
            contact_id: Some(c.id),
            name: c.name.clone(),
            title: c.title.clone(),
            position: c.role.clone(),
            organisation: records.org_of(c).map(|o| o.name.clone()),
            languages: c
                .languages
                .split(',')
                .map(|l| l.trim().to_lowercase())
                .filter(|l| !l.is_empty())
                .collect(),
            addressee: None,
        }
    }

    /// The holder of the post of Minister for Foreign Affairs on the letter's date, addressed by
    /// name as an Excellency, with the office as their position in the letter's language (the
    /// office's words are the letter's, not the post's title as recorded). Still a letter to
    /// the office: written in the state's language of correspondence, with no contact as its
    /// recipient.
    fn foreign_minister_holder(lang: Lang, state: &NameForms, c: &contact::Model) -> Self {
        let office = Self::foreign_minister(lang, state);
        let position = match (lang, forms::gender(c.title.as_deref())) {
            (Lang::En, _) => "Minister for Foreign Affairs",
            (Lang::Fr, _) => "Ministre des Affaires étrangères",
            (Lang::Es, forms::Gender::Female) => "Ministra de Relaciones Exteriores",
            (Lang::Es, forms::Gender::Male) => "Ministro de Relaciones Exteriores",
            (Lang::Es, forms::Gender::Unknown) => "Ministro/a de Relaciones Exteriores",
        };
        Self {
            contact_id: None,
            name: c.name.clone(),
            // The courtesy title tells the forms whom they address ("Excelentísima Señora");
            // the position makes them an Excellency.
            title: c.title.clone(),
            position: Some(position.to_owned()),
            organisation: office.organisation,
            languages: office.languages,
            addressee: Some(forms::addressee(lang, &c.name, Some("H.E."))),
        }
    }

    /// The Minister for Foreign Affairs of a state, addressed by office in the letter's language
    /// ("Ministry of Foreign Affairs of the United States", "Ministère des Affaires étrangères
    /// de la France", "Ministerio de Relaciones Exteriores de México").
    fn foreign_minister(lang: Lang, state: &NameForms) -> Self {
        let (name, addressee, org) = match lang {
            Lang::En => (
                "The Minister for Foreign Affairs",
                "His or Her Excellency the Minister for Foreign Affairs",
                format!("Ministry of Foreign Affairs {}", state.of),
            ),
            Lang::Fr => (
                "Monsieur le Ministre / Madame la Ministre des Affaires étrangères",
                "Son Excellence Monsieur le Ministre / Madame la Ministre des Affaires étrangères",
                format!("Ministère des Affaires étrangères {}", state.of),
            ),
            Lang::Es => (
                "Ministro/a de Relaciones Exteriores",
                "Su Excelencia el Ministro / la Ministra de Relaciones Exteriores",
                format!("Ministerio de Relaciones Exteriores {}", state.of),
            ),
        };
        Self {
            contact_id: None,
            name: name.to_owned(),
            // Addressed as an Excellency; the office is already the name, so no position line.
            title: Some(forms::excellency_title(lang).to_owned()),
            position: None,
            organisation: Some(org),
            languages: vec![lang.code().to_owned()],
            addressee: Some(addressee.to_owned()),
        }
    }
}

/// The default recipient of `template` for a state, when none is given.
pub fn default_recipient(records: &Records, template: &str, iso3: &str) -> Option<To> {
    let first = |kind: &str| {
        records
            .contacts_at(kind, iso3)
            .first()
            .map(|c| To::contact(records, c))
    };
    match template {
        "joint_approach" => first("embassy"),
        _ => first("ministry"),
    }
}

/// The language of a letter: the one asked for, else the recipient's first language the
/// templates exist in, else English; a letter addressed by office (no recipient) is written in
/// the state's first language of correspondence (`office`, from `state_names.csv`).
///
/// # Errors
/// [`outreach_core::Error::Invalid`] for a language letters are not written in.
pub fn choose_language(asked: Option<&str>, to: Option<&To>, office: &[Lang]) -> Result<Lang> {
    if let Some(code) = asked {
        return Lang::parse(code).ok_or_else(|| {
            outreach_core::Error::invalid(
                "--lang",
                format!("letters are written in en, fr or es, not '{code}'"),
            )
            .into()
        });
    }
    Ok(match to {
        Some(t) => t.languages.iter().find_map(|l| Lang::parse(l)),
        None => office.first().copied(),
    }
    .unwrap_or(Lang::En))
}

/// How to supply a missing field, for the error message.
fn hint(field: &str, iso3: &str) -> String {
    match field {
        "recipient.name" => format!(
            "give --to CONTACT, or add a contact at an embassy or ministry in {iso3} with `outreach contact add`"
        ),
        "partner.organisation" => format!(
            "record the local ICBL member or Investing in Action grantee in {iso3}: `outreach org add --kind icbl-member --state {iso3}` or `outreach grant add`"
        ),
        "partner.contact" => {
            "add a contact at the partner organisation: `outreach contact add --organisation ...`"
                .to_owned()
        }
        "engagements" => format!(
            "letters cite public engagements only: log one with {iso3} marked public (`outreach log <kind> --state {iso3} --sensitivity public ...`)"
        ),
        "state.years_outside" => {
            format!("{iso3} is already party; a call to join is for states not party")
        }
        "state.party_since" => {
            format!("{iso3} is not a State Party; this letter is for States Parties")
        }
        "meeting" => format!(
            "log the meeting with {iso3} first, marked public as letters cite public engagements only (`outreach meeting held ... --sensitivity public` or `outreach log ... --sensitivity public`)"
        ),
        "occasion" => format!(
            "record the statement (marked public: `outreach log statement --state {iso3} --sensitivity public ...`) or the policy step (`outreach signal add`) of {iso3} first"
        ),
        other => format!("the records of {iso3} have no {other}"),
    }
}

fn item(lang: Lang, date: NaiveDate, kind: &str, summary: &str, outcome: Option<&str>) -> Item {
    Item {
        when: lang.long_date(date),
        kind: forms::kind_label(lang, kind),
        summary: summary.to_owned(),
        outcome: outcome.map(str::to_owned),
    }
}

/// Builds the context of `template` for the state `iso3` and recipient `to` in `lang`, and checks
/// that every field in `required` is present.
///
/// # Errors
/// [`Error::MissingFields`] listing every missing field with how to supply it.
pub fn build(
    records: &Records,
    template: &str,
    iso3: &str,
    to: Option<&To>,
    lang: Lang,
    sender: &Sender,
    required: &[String],
) -> Result<LetterContext> {
    let st = records
        .states
        .get(iso3)
        .ok_or_else(|| outreach_core::Error::UnknownState {
            given: iso3.to_owned(),
            suggestions: Vec::new(),
        })?;
    let (status, party_since) = records.status_of(iso3);
    let names = records.names;
    let state_name = names.forms(lang, iso3, &st.name);
    let office;
    let to = match to {
        Some(t) => Some(t),
        None if template != "joint_approach" => {
            office = match records.foreign_minister(iso3) {
                Some((c, _)) => To::foreign_minister_holder(lang, &state_name, c),
                None => To::foreign_minister(lang, &state_name),
            };
            Some(&office)
        }
        None => None,
    };
    let recipient = to.map_or_else(
        || Recipient {
            name: String::new(),
            addressee: String::new(),
            title: None,
            position: None,
            organisation: None,
            salutation: String::new(),
            closing: String::new(),
            address: String::new(),
        },
        |t| {
            // A contact's position is the post they hold on the letter's date, else their role.
            let position = t
                .contact_id
                .and_then(|id| records.post_of(id, iso3))
                .map(|p| p.title.clone())
                .or_else(|| t.position.clone());
            let f = forms::forms(lang, &t.name, t.title.as_deref(), position.as_deref());
            Recipient {
                addressee: t
                    .addressee
                    .clone()
                    .unwrap_or_else(|| forms::addressee(lang, &t.name, t.title.as_deref())),
                name: t.name.clone(),
                title: t.title.clone(),
                position,
                organisation: t.organisation.clone(),
                salutation: f.salutation,
                closing: f.closing,
                address: f.address,
            }
        },
    );
    let common = Common {
        states_parties: records.states_parties(),
        letter_date: lang.long_date(records.today),
        subject: String::new(),
        sender: sender.clone(),
        recipient,
        state: StateInfo {
            iso3: iso3.to_owned(),
            name: state_name.name,
            the: state_name.the,
            the_start: state_name.the_start,
            of: state_name.of,
            to: state_name.to,
            capital: st.capital.clone(),
            status: status.as_str().to_owned(),
            status_label: forms::status_label(lang, status).to_owned(),
            years_outside: (!status.is_party())
                .then(|| whole_years(opened_for_signature(), records.today)),
            party_since: party_since
                .filter(|_| status.is_party())
                .map(|d| lang.long_date(d)),
            also_party_to: records.also_party_to(lang, iso3),
        },
    };
    let no_engagements = Vec::new();
    let engagements = records.engagements.get(iso3).unwrap_or(&no_engagements);
    let recent = |n: usize| -> Vec<Item> {
        engagements
            .iter()
            .take(n)
            .map(|e| {
                item(
                    lang,
                    e.occurred_on,
                    &e.kind,
                    &e.summary,
                    e.outcome.as_deref(),
                )
            })
            .collect()
    };
    let no_signals = Vec::new();
    let signals = records.signals.get(iso3).unwrap_or(&no_signals);
    let signals_of = |kind: &str, n: usize| -> Vec<Item> {
        signals
            .iter()
            .filter(|s| s.kind == kind)
            .take(n)
            .map(|s| {
                let summary = match &s.value {
                    Some(v) if kind == "unga_vote" => format!("{} ({v})", s.detail),
                    _ => s.detail.clone(),
                };
                item(lang, s.observed_on, &s.kind, &summary, None)
            })
            .collect()
    };
    let ctx = match template {
        "joint_approach" => {
            LetterContext::JointApproach(JointApproach {
                common,
                partner: records.partner(iso3),
                engagements: recent(3),
                next_meeting: records.meetings.get(iso3).and_then(|m| m.first()).map(|m| {
                    MeetingItem {
                        title: m.title.clone(),
                        when: lang.long_date(m.starts_at.date_naive()),
                        place: m.place.clone(),
                    }
                }),
            })
        }
        "observer_invitation" => LetterContext::ObserverInvitation(ObserverInvitation {
            common,
            observer_attendance: signals_of("observer_attendance", 3),
            engagements: recent(1),
        }),
        "call_to_join" => LetterContext::CallToJoin(CallToJoin {
            common,
            observer_attendance: signals_of("observer_attendance", 3),
            unga_votes: signals_of("unga_vote", 3),
            policy_steps: signals_of("policy_change", 3),
            engagements: recent(1),
        }),
        "call_to_speak_out" => {
            // The reported use chosen for the letter, else the three most recent on record.
            let mut used: Vec<&signal::Model> = match &records.serves {
                Some(s) => vec![s],
                None => records
                    .signals
                    .values()
                    .flatten()
                    .filter(|s| s.kind == "reported_use")
                    .collect(),
            };
            used.sort_by_key(|s| std::cmp::Reverse(s.observed_on));
            LetterContext::CallToSpeakOut(CallToSpeakOut {
                common,
                reported_use: used
                    .into_iter()
                    .take(3)
                    .map(|s| {
                        let name = records
                            .states
                            .get(&s.iso3)
                            .map_or(s.iso3.as_str(), |x| x.name.as_str());
                        let name = names.forms(lang, &s.iso3, name).name;
                        item(
                            lang,
                            s.observed_on,
                            &s.kind,
                            // French puts a space before a colon.
                            &match lang {
                                Lang::Fr => format!("{name} : {}", s.detail),
                                Lang::En | Lang::Es => format!("{name}: {}", s.detail),
                            },
                            None,
                        )
                    })
                    .collect(),
            })
        }
        "thanks" => LetterContext::Thanks(Thanks {
            common,
            occasion: match &records.serves {
                // The step chosen for the letter: the state's own.
                Some(s) if s.iso3 != iso3 => {
                    return Err(outreach_core::Error::invalid(
                        "signal",
                        format!(
                            "signal {} is about {}; a thanks letter to {} thanks it for a step of its own: choose one of its signals (`outreach signals --state {iso3}`)",
                            outreach_core::ids::short(s.id),
                            s.iso3,
                            st.name
                        ),
                    )
                    .into());
                }
                Some(s) => Some(item(lang, s.observed_on, &s.kind, &s.detail, None)),
                None => engagements
                    .iter()
                    .find(|e| e.kind == "statement")
                    .map(|e| {
                        item(
                            lang,
                            e.occurred_on,
                            &e.kind,
                            &e.summary,
                            e.outcome.as_deref(),
                        )
                    })
                    // A condemnation on record before a policy step: a "policy change" may be a step
                    // back (the United States' 2025 row reports transfers), a condemnation never is.
                    .or_else(|| {
                        ["condemnation", "policy_change"].iter().find_map(|kind| {
                            signals
                                .iter()
                                .find(|s| s.kind == *kind)
                                .map(|s| item(lang, s.observed_on, &s.kind, &s.detail, None))
                        })
                    }),
            },
        }),
        "follow_up_after_meeting" => LetterContext::FollowUpAfterMeeting(FollowUpAfterMeeting {
            common,
            meeting: recent(1).into_iter().next(),
            follow_ups: records
                .follow_ups
                .get(iso3)
                .map(|v| v.iter().map(|f| f.description.clone()).collect())
                .unwrap_or_default(),
        }),
        other => {
            return Err(outreach_core::Error::invalid(
                "template",
                format!("there is no letter template '{other}'"),
            )
            .into());
        }
    };
    let value = serde_json::to_value(&ctx).map_err(|e| Error::Render(e.to_string()))?;
    let missing: Vec<(String, String)> = required
        .iter()
        .filter(|f| !is_present(&value, f))
        .map(|f| (f.clone(), hint(f, iso3)))
        .collect();
    if !missing.is_empty() {
        return Err(Error::MissingFields {
            template: template.to_owned(),
            state: format!("{} ({iso3})", st.name),
            missing,
        });
    }
    Ok(ctx)
}
