//! Diplomatic forms in each letter language: the salutation and closing a recipient's title
//! calls for, state names as each language writes them, and the words for treaty status and
//! engagement kinds. Tables, not a locale database: letters ship in English, French and Spanish.

use outreach_core::status::Status;
use outreach_mailer::locale::Lang;
use serde::Serialize;

/// Titles and offices addressed as "Excellency" (ambassadors, ministers, heads of state).
const EXCELLENCY_WORDS: &[&str] = &[
    "excellency",
    "h.e.",
    "his excellency",
    "her excellency",
    "ambassador",
    "minister",
    "president",
    "prime minister",
    "high commissioner",
    "secretary of state",
    "son excellence",
    "su excelencia",
    "ambassadeur",
    "ambassadrice",
    "ministre",
    "embajador",
    "embajadora",
    "ministro",
    "ministra",
];

/// How a recipient is addressed, as far as titles tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gender {
    Female,
    Male,
    Unknown,
}

/// The forms of address for one recipient in one language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Forms {
    /// "Your Excellency," / "Excellence," / "Excelentísimo Señor:" / "Dear Ms Demo,".
    pub salutation: String,
    /// The complimentary close before the signature.
    pub closing: String,
    /// How the body refers to the recipient: "Your Excellency", "Votre Excellence",
    /// "Vuestra Excelencia", or "you".
    pub address: String,
    /// Whether the recipient is addressed as an Excellency.
    pub excellency: bool,
}

fn words(s: &str) -> String {
    s.trim().to_lowercase()
}

/// Whether a title or position (`Ambassador`, `Minister for Foreign Affairs`) calls for
/// "Excellency". A deputy is not addressed so, nor is a ministry.
pub fn is_excellency(title: Option<&str>, position: Option<&str>) -> bool {
    [title, position].into_iter().flatten().any(|t| {
        let t = words(t);
        !t.contains("deputy")
            && !t.contains("ministry")
            && EXCELLENCY_WORDS
                .iter()
                .any(|w| t == *w || t.starts_with(&format!("{w} ")) || t.contains(&format!(" {w}")))
    })
}

/// The gender a courtesy title implies, if any.
pub fn gender(title: Option<&str>) -> Gender {
    match title.map(words).as_deref() {
        Some(
            "ms" | "ms." | "mrs" | "mrs." | "miss" | "madam" | "madame" | "mme" | "sra." | "sra"
            | "señora" | "her excellency",
        ) => Gender::Female,
        Some(
            "mr" | "mr." | "sir" | "monsieur" | "m." | "sr." | "sr" | "señor" | "his excellency",
        ) => Gender::Male,
        _ => Gender::Unknown,
    }
}

/// The family name: the last word of a name ("Asha Demo" -> "Demo").
fn surname(name: &str) -> &str {
    name.split_whitespace().last().unwrap_or(name)
}

/// The salutation, closing and form of address for a recipient.
pub fn forms(lang: Lang, name: &str, title: Option<&str>, position: Option<&str>) -> Forms {
    let excellency = is_excellency(title, position);
    let g = gender(title);
    let courtesy = title
        .map(str::trim)
        .filter(|t| !t.is_empty() && !is_excellency(Some(t), None));
    let last = surname(name);
    let (salutation, closing, address) = match (lang, excellency) {
        (Lang::En, true) => (
            "Your Excellency,".to_owned(),
            "Please accept, Your Excellency, the assurances of my highest consideration.".to_owned(),
            "Your Excellency".to_owned(),
        ),
        (Lang::En, false) => (
            match courtesy {
                Some(t) => format!("Dear {t} {last},"),
                None => format!("Dear {name},"),
            },
            "Yours sincerely,".to_owned(),
            "you".to_owned(),
        ),
        (Lang::Fr, true) => (
            "Excellence,".to_owned(),
            "Je vous prie d'agréer, Votre Excellence, l'assurance de ma très haute considération."
                .to_owned(),
            "Votre Excellence".to_owned(),
        ),
        (Lang::Fr, false) => {
            let who = match g {
                Gender::Female => "Madame",
                Gender::Male => "Monsieur",
                Gender::Unknown => "Madame, Monsieur",
            };
            (
                format!("{who},"),
                format!(
                    "Je vous prie d'agréer, {who}, l'expression de mes salutations distinguées."
                ),
                "vous".to_owned(),
            )
        }
        (Lang::Es, true) => (
            match g {
                Gender::Female => "Excelentísima Señora:",
                Gender::Male => "Excelentísimo Señor:",
                Gender::Unknown => "Excelentísimo/a Señor/a:",
            }
            .to_owned(),
            "Aprovecho la oportunidad para reiterar a Vuestra Excelencia las seguridades de mi más \
             alta consideración."
                .to_owned(),
            "Vuestra Excelencia".to_owned(),
        ),
        (Lang::Es, false) => (
            match g {
                Gender::Female => format!("Estimada Sra. {last}:"),
                Gender::Male => format!("Estimado Sr. {last}:"),
                Gender::Unknown => format!("Estimado/a {name}:"),
            },
            "Atentamente,".to_owned(),
            "usted".to_owned(),
        ),
    };
    Forms {
        salutation,
        closing,
        address,
        excellency,
    }
}

/// How a letter in `lang` writes "His or Her Excellency" before a name: never "H.E." inside
/// French or Spanish text.
pub fn excellency_title(lang: Lang) -> &'static str {
    outreach_mailer::locale::excellency(lang)
}

/// The name line of an address in `lang`: the title in the letter's language, then the name
/// ("H.E. Jane Roe", "Son Excellence Jane Roe", "Su Excelencia Jane Roe", "Madame Ingrid
/// Demo", "Sra. Ingrid Demo"). A title the tables do not know ("Dr", "Colonel") is kept as
/// recorded; an "H.E." written into the name itself is treated as the title.
pub fn addressee(lang: Lang, name: &str, title: Option<&str>) -> String {
    let (name, title) = match name.trim().strip_prefix("H.E. ") {
        Some(rest) => (rest.trim(), Some("H.E.")),
        None => (name.trim(), title.map(str::trim).filter(|t| !t.is_empty())),
    };
    let Some(t) = title else {
        return name.to_owned();
    };
    let prefix = if is_excellency(Some(t), None) {
        excellency_title(lang).to_owned()
    } else {
        match (lang, gender(Some(t))) {
            (Lang::Fr, Gender::Female) => "Madame".to_owned(),
            (Lang::Fr, Gender::Male) => "Monsieur".to_owned(),
            (Lang::Es, Gender::Female) => "Sra.".to_owned(),
            (Lang::Es, Gender::Male) => "Sr.".to_owned(),
            _ => t.to_owned(),
        }
    };
    format!("{prefix} {name}")
}

/// A treaty status in words: "a State Party", "not party".
pub fn status_label(lang: Lang, status: Status) -> &'static str {
    match (lang, status) {
        (Lang::En, Status::Party) => "State Party",
        (Lang::En, Status::Withdrawing) => "State Party with a withdrawal pending",
        (Lang::En, Status::Signatory) => "signatory that has not ratified",
        (Lang::En, Status::NotParty) => "not party",
        (Lang::En, Status::Withdrawn) => "former State Party that has withdrawn",
        (Lang::Fr, Status::Party) => "État partie",
        (Lang::Fr, Status::Withdrawing) => "État partie en cours de retrait",
        (Lang::Fr, Status::Signatory) => "signataire n'ayant pas ratifié",
        (Lang::Fr, Status::NotParty) => "non partie",
        (Lang::Fr, Status::Withdrawn) => "ancien État partie qui s'est retiré",
        (Lang::Es, Status::Party) => "Estado parte",
        (Lang::Es, Status::Withdrawing) => "Estado parte en proceso de retiro",
        (Lang::Es, Status::Signatory) => "signatario que no ha ratificado",
        (Lang::Es, Status::NotParty) => "no parte",
        (Lang::Es, Status::Withdrawn) => "antiguo Estado parte que se ha retirado",
    }
}

/// An engagement or signal kind in words.
pub fn kind_label(lang: Lang, kind: &str) -> String {
    let (en, fr, es) = match kind {
        "embassy_visit" => (
            "embassy visit",
            "visite à l'ambassade",
            "visita a la embajada",
        ),
        "capital_meeting" => (
            "meeting in the capital",
            "réunion dans la capitale",
            "reunión en la capital",
        ),
        "military_dialogue" => (
            "military-to-military dialogue",
            "dialogue entre militaires",
            "diálogo entre militares",
        ),
        "statement" => ("statement", "déclaration", "declaración"),
        "letter" => ("letter", "lettre", "carta"),
        "call" => ("call", "appel", "llamada"),
        "observer_attendance" => (
            "attendance as an observer",
            "participation en tant qu'observateur",
            "participación como observador",
        ),
        "unga_vote" => (
            "vote at the UN General Assembly",
            "vote à l'Assemblée générale des Nations unies",
            "votación en la Asamblea General de las Naciones Unidas",
        ),
        "policy_change" => (
            "policy step",
            "évolution de la politique",
            "cambio de política",
        ),
        other => (other, other, other),
    };
    match lang {
        Lang::En => en,
        Lang::Fr => fr,
        Lang::Es => es,
    }
    .replace('_', " ")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn excellencies_are_addressed_as_such_in_each_language() {
        let en = forms(Lang::En, "Jane Roe", Some("Ambassador"), None);
        assert_eq!(en.salutation, "Your Excellency,");
        assert!(en.closing.contains("highest consideration"));
        let fr = forms(
            Lang::Fr,
            "Jane Roe",
            Some("H.E."),
            Some("Ambassador of Norway"),
        );
        assert_eq!(fr.salutation, "Excellence,");
        assert!(fr.closing.contains("Votre Excellence"));
        let es = forms(
            Lang::Es,
            "Jane Roe",
            Some("Ms"),
            Some("Minister for Foreign Affairs"),
        );
        assert_eq!(es.salutation, "Excelentísima Señora:");
        assert!(es.closing.contains("Vuestra Excelencia"));
    }

    #[test]
    fn others_are_addressed_by_courtesy_title() {
        let f = |lang, title| forms(lang, "Ingrid Demo", title, Some("Deputy Head of Mission"));
        assert_eq!(f(Lang::En, Some("Ms")).salutation, "Dear Ms Demo,");
        assert_eq!(f(Lang::Fr, Some("Ms")).salutation, "Madame,");
        assert_eq!(f(Lang::Fr, Some("Dr")).salutation, "Madame, Monsieur,");
        assert_eq!(f(Lang::Es, Some("Mr")).salutation, "Estimado Sr. Demo:");
        assert_eq!(f(Lang::En, None).salutation, "Dear Ingrid Demo,");
        assert!(!is_excellency(
            Some("Mr"),
            Some("Joint Secretary, Ministry of Foreign Affairs")
        ));
    }

    #[test]
    fn the_name_line_never_says_h_e_in_french_or_spanish() {
        let a = addressee;
        assert_eq!(a(Lang::En, "Test Amb", Some("H.E.")), "H.E. Test Amb");
        assert_eq!(
            a(Lang::Fr, "Test Amb", Some("H.E.")),
            "Son Excellence Test Amb"
        );
        assert_eq!(
            a(Lang::Es, "Test Amb", Some("H.E.")),
            "Su Excelencia Test Amb"
        );
        assert_eq!(
            a(Lang::Fr, "H.E. Test Amb", None),
            "Son Excellence Test Amb"
        );
        assert_eq!(
            a(Lang::Es, "Jane Roe", Some("Ambassador")),
            "Su Excelencia Jane Roe"
        );
        assert_eq!(a(Lang::Fr, "Ingrid Demo", Some("Ms")), "Madame Ingrid Demo");
        assert_eq!(a(Lang::Es, "Ingrid Demo", Some("Mr")), "Sr. Ingrid Demo");
        assert_eq!(a(Lang::En, "Ingrid Demo", Some("Ms")), "Ms Ingrid Demo");
        assert_eq!(a(Lang::Fr, "Ingrid Demo", Some("Dr")), "Dr Ingrid Demo");
        assert_eq!(a(Lang::Fr, "Ingrid Demo", None), "Ingrid Demo");
        assert!(forms(Lang::Es, "x", Some("Su Excelencia"), None).excellency);
    }
}
