//! The typed merge context of each letter template, and one sample of each with every optional
//! field set and every list non-empty (the template check walks templates against it).
//!
//! Values are already in the letter's language: dates are written out ("22 novembre 2026"),
//! state names and status are translated, and the recipient's forms of address are chosen.

use serde::Serialize;

/// Who signs the letter.
#[derive(Debug, Clone, Serialize)]
pub struct Sender {
    pub name: String,
    pub title: String,
    pub organisation: String,
    pub place: String,
    pub email: String,
}

/// Who receives it, with the forms of address their title calls for.
#[derive(Debug, Clone, Serialize)]
pub struct Recipient {
    pub name: String,
    /// The name line of the address in the letter's language, with the title: "H.E. Jane Roe",
    /// "Son Excellence Jane Roe", "Su Excelencia Jane Roe", "Madame Ingrid Demo".
    pub addressee: String,
    /// Courtesy title or rank as recorded: "Ms", "Ambassador", "Colonel".
    pub title: Option<String>,
    /// Role or office: "Deputy Head of Mission".
    pub position: Option<String>,
    pub organisation: Option<String>,
    pub salutation: String,
    pub closing: String,
    /// How the body addresses them: "Your Excellency", "Votre Excellence", "you".
    pub address: String,
}

/// The state the letter is about.
#[derive(Debug, Clone, Serialize)]
pub struct StateInfo {
    pub iso3: String,
    /// In the letter's language, without an article: "États-Unis", "Mexique", "Nepal".
    pub name: String,
    /// With its article where the language puts one: "the United States", "la France",
    /// "México".
    pub the: String,
    /// The same at the start of a sentence: "The United States", "La France".
    #[serde(rename = "The")]
    pub the_start: String,
    /// After "of"/"de": "of the United States", "des États-Unis", "del Ecuador".
    pub of: String,
    /// After "to"/"à"/"a": "to the United States", "aux États-Unis", "al Ecuador".
    pub to: String,
    pub capital: String,
    /// party, withdrawing, signatory, not_party.
    pub status: String,
    /// In the letter's language: "État partie", "not party".
    pub status_label: String,
    /// Whole years since the Convention opened for signature, for a state that is not party.
    pub years_outside: Option<i64>,
    /// When it became a party, written out.
    pub party_since: Option<String>,
    /// The related treaties the state is already party to (the Convention on Cluster Munitions,
    /// CCW Protocol V), joined in the letter's language with the preposition each template's
    /// sentence takes: "the Convention on Cluster Munitions and Protocol V ..." (en, after
    /// "a party to"), "à la Convention sur les armes à sous-munitions et au Protocole ..." (fr,
    /// after "la participation des États-Unis"), "la Convención sobre Municiones en Racimo y el
    /// Protocolo ..." (es, after "la participación de México en"). None when it is party to
    /// neither.
    pub also_party_to: Option<String>,
}

/// The local ICBL member (often an Investing in Action grantee) and its contact.
#[derive(Debug, Clone, Serialize)]
pub struct Partner {
    pub organisation: String,
    pub contact: Option<String>,
    pub contact_email: Option<String>,
    /// The most recent Investing in Action grant year, if the partner is a grantee.
    pub grant_year: Option<i32>,
}

/// An engagement or a signal, written out.
#[derive(Debug, Clone, Serialize)]
pub struct Item {
    /// The date, written out.
    pub when: String,
    /// In words, in the letter's language.
    pub kind: String,
    pub summary: String,
    pub outcome: Option<String>,
}

/// A planned meeting.
#[derive(Debug, Clone, Serialize)]
pub struct MeetingItem {
    pub title: String,
    pub when: String,
    pub place: Option<String>,
}

/// What every letter has.
#[derive(Debug, Clone, Serialize)]
pub struct Common {
    /// The letter's date, written out. (Not `date`: that name is the mailer's date helper.)
    pub letter_date: String,
    /// How many states are party to the Convention today.
    pub states_parties: usize,
    /// The rendered subject line (empty while the subject itself is rendered).
    pub subject: String,
    pub sender: Sender,
    pub recipient: Recipient,
    pub state: StateInfo,
}

/// `joint_approach`: to a State Party's diplomat, about a state not party, with the local member.
#[derive(Debug, Clone, Serialize)]
pub struct JointApproach {
    #[serde(flatten)]
    pub common: Common,
    pub partner: Option<Partner>,
    /// Most recent first, at most three.
    pub engagements: Vec<Item>,
    pub next_meeting: Option<MeetingItem>,
}

/// `call_to_join`: to the authorities of a state not party, citing the record.
#[derive(Debug, Clone, Serialize)]
pub struct CallToJoin {
    #[serde(flatten)]
    pub common: Common,
    pub observer_attendance: Vec<Item>,
    pub unga_votes: Vec<Item>,
    pub policy_steps: Vec<Item>,
    pub engagements: Vec<Item>,
}

/// `call_to_speak_out`: to a State Party with no condemnation of new use on record.
#[derive(Debug, Clone, Serialize)]
pub struct CallToSpeakOut {
    #[serde(flatten)]
    pub common: Common,
    /// Reported new use anywhere, most recent first, at most three.
    pub reported_use: Vec<Item>,
}

/// `thanks`: commending a statement or a policy step.
#[derive(Debug, Clone, Serialize)]
pub struct Thanks {
    #[serde(flatten)]
    pub common: Common,
    /// The statement or policy step being commended: the most recent one on record.
    pub occasion: Option<Item>,
}

/// `observer_invitation`: inviting a state not party to attend the next Meeting of the States
/// Parties as an observer.
#[derive(Debug, Clone, Serialize)]
pub struct ObserverInvitation {
    #[serde(flatten)]
    pub common: Common,
    /// Its earlier attendance as an observer, most recent first, at most three.
    pub observer_attendance: Vec<Item>,
    /// The most recent public engagement, if any.
    pub engagements: Vec<Item>,
}

/// `follow_up_after_meeting`: after a meeting, restating what was agreed.
#[derive(Debug, Clone, Serialize)]
pub struct FollowUpAfterMeeting {
    #[serde(flatten)]
    pub common: Common,
    /// The most recent meeting or engagement with the state.
    pub meeting: Option<Item>,
    /// Open follow-ups for the state.
    pub follow_ups: Vec<String>,
}

/// One letter's merge context, by template.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum LetterContext {
    JointApproach(JointApproach),
    CallToJoin(CallToJoin),
    CallToSpeakOut(CallToSpeakOut),
    Thanks(Thanks),
    FollowUpAfterMeeting(FollowUpAfterMeeting),
    ObserverInvitation(ObserverInvitation),
}

impl LetterContext {
    pub fn common_mut(&mut self) -> &mut Common {
        match self {
            Self::JointApproach(c) => &mut c.common,
            Self::CallToJoin(c) => &mut c.common,
            Self::CallToSpeakOut(c) => &mut c.common,
            Self::Thanks(c) => &mut c.common,
            Self::FollowUpAfterMeeting(c) => &mut c.common,
            Self::ObserverInvitation(c) => &mut c.common,
        }
    }

    pub fn common(&self) -> &Common {
        match self {
            Self::JointApproach(c) => &c.common,
            Self::CallToJoin(c) => &c.common,
            Self::CallToSpeakOut(c) => &c.common,
            Self::Thanks(c) => &c.common,
            Self::FollowUpAfterMeeting(c) => &c.common,
            Self::ObserverInvitation(c) => &c.common,
        }
    }
}

/// The templates the letters crate knows, with the Rust type of their context.
pub const KNOWN: &[(&str, &str)] = &[
    ("joint_approach", "JointApproach"),
    ("call_to_join", "CallToJoin"),
    ("call_to_speak_out", "CallToSpeakOut"),
    ("thanks", "Thanks"),
    ("follow_up_after_meeting", "FollowUpAfterMeeting"),
    ("observer_invitation", "ObserverInvitation"),
];

fn item(kind: &str) -> Item {
    Item {
        when: "3 December 2026".into(),
        kind: kind.into(),
        summary: "Summary".into(),
        outcome: Some("Outcome".into()),
    }
}

fn common() -> Common {
    Common {
        letter_date: "22 November 2026".into(),
        states_parties: 165,
        subject: "Subject".into(),
        sender: Sender {
            name: "Sender".into(),
            title: "Universalization Officer".into(),
            organisation: "Campaign".into(),
            place: "Geneva".into(),
            email: "outreach@example.org".into(),
        },
        recipient: Recipient {
            name: "Recipient".into(),
            addressee: "H.E. Recipient".into(),
            title: Some("Ms".into()),
            position: Some("Ambassador".into()),
            organisation: Some("Embassy".into()),
            salutation: "Your Excellency,".into(),
            closing: "Yours sincerely,".into(),
            address: "Your Excellency".into(),
        },
        state: StateInfo {
            iso3: "NPL".into(),
            name: "Nepal".into(),
            the: "Nepal".into(),
            the_start: "Nepal".into(),
            of: "of Nepal".into(),
            to: "to Nepal".into(),
            capital: "Kathmandu".into(),
            status: "not_party".into(),
            status_label: "not party".into(),
            years_outside: Some(28),
            party_since: Some("1 March 1999".into()),
            also_party_to: Some("the Convention on Cluster Munitions".into()),
        },
    }
}

/// A sample of the template's context with everything set, as JSON; `None` for an unknown name.
pub fn sample(template: &str) -> Option<serde_json::Value> {
    let ctx = match template {
        "joint_approach" => LetterContext::JointApproach(JointApproach {
            common: common(),
            partner: Some(Partner {
                organisation: "Partner".into(),
                contact: Some("Contact".into()),
                contact_email: Some("contact@example.org".into()),
                grant_year: Some(2026),
            }),
            engagements: vec![item("embassy visit")],
            next_meeting: Some(MeetingItem {
                title: "Meeting".into(),
                when: "3 December 2026".into(),
                place: Some("Kathmandu".into()),
            }),
        }),
        "call_to_join" => LetterContext::CallToJoin(CallToJoin {
            common: common(),
            observer_attendance: vec![item("observer")],
            unga_votes: vec![item("vote")],
            policy_steps: vec![item("policy")],
            engagements: vec![item("call")],
        }),
        "call_to_speak_out" => LetterContext::CallToSpeakOut(CallToSpeakOut {
            common: common(),
            reported_use: vec![item("reported use")],
        }),
        "thanks" => LetterContext::Thanks(Thanks {
            common: common(),
            occasion: Some(item("statement")),
        }),
        "follow_up_after_meeting" => LetterContext::FollowUpAfterMeeting(FollowUpAfterMeeting {
            common: common(),
            meeting: Some(item("meeting")),
            follow_ups: vec!["Send the treaty text".into()],
        }),
        "observer_invitation" => LetterContext::ObserverInvitation(ObserverInvitation {
            common: common(),
            observer_attendance: vec![item("observer")],
            engagements: vec![item("call")],
        }),
        _ => return None,
    };
    serde_json::to_value(ctx).ok()
}

/// Whether `path` (`partner.contact`, `engagements`) is present and not empty in `value`.
pub fn is_present(value: &serde_json::Value, path: &str) -> bool {
    let mut v = value;
    for seg in path.split('.') {
        match v.get(seg) {
            Some(next) => v = next,
            None => return false,
        }
    }
    match v {
        serde_json::Value::Null => false,
        serde_json::Value::String(s) => !s.trim().is_empty(),
        serde_json::Value::Array(a) => !a.is_empty(),
        _ => true,
    }
}
