//! State names as letters write them in running text, and the language a state is written to
//! in when a letter is addressed to an office: `data/reference/state_names.csv`, compiled in.
//!
//! Each name carries its article and its contractions after a preposition ("les États-Unis",
//! "des États-Unis", "aux États-Unis"; "el Ecuador", "del Ecuador"), so templates never build
//! grammar. The file's rules are checked here as they are by `check_state_names.py`: a
//! contraction that does not follow from the name is refused, not repaired.

use std::collections::HashMap;
use std::sync::OnceLock;

use outreach_mailer::locale::Lang;
use serde::Deserialize;

const STATE_NAMES_CSV: &str = include_str!("../../../data/reference/state_names.csv");

/// One row of `state_names.csv`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NameRow {
    pub iso3: String,
    pub en: String,
    pub fr: String,
    pub fr_de: String,
    pub fr_a: String,
    pub es: String,
    pub es_de: String,
    pub es_a: String,
    pub names_source: String,
    pub names_confidence: String,
    pub languages: String,
    pub languages_basis: String,
    pub languages_source: String,
    pub languages_confidence: String,
    pub note: String,
}

/// A state's name in one language, in the forms a sentence needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameForms {
    /// Without an article, for lists and headings: "États-Unis", "Mexique", "United States".
    pub name: String,
    /// With its article where the language puts one: "the United States", "la France",
    /// "México".
    pub the: String,
    /// The same at the start of a sentence: "The United States", "La France".
    pub the_start: String,
    /// After "of"/"de": "of the United States", "des États-Unis", "del Ecuador".
    pub of: String,
    /// After "to"/"à"/"a": "to the United States", "aux États-Unis", "al Ecuador".
    pub to: String,
}

/// The checked table, by ISO3 code.
#[derive(Debug, Clone)]
pub struct StateNames {
    rows: HashMap<String, NameRow>,
}

/// "de" + a French name with its article: du, des, de la, de l', d' (before a vowel or a mute
/// h), de.
pub fn fr_de(fr: &str) -> String {
    if let Some(rest) = fr.strip_prefix("le ") {
        format!("du {rest}")
    } else if let Some(rest) = fr.strip_prefix("les ") {
        format!("des {rest}")
    } else if fr.starts_with("la ") || fr.starts_with("l'") {
        format!("de {fr}")
    } else if fr.starts_with(|c: char| "AEIOUYÀÂÉÈÊËÎÏÔÖÛÜH".contains(c)) {
        format!("d'{fr}")
    } else {
        format!("de {fr}")
    }
}

/// "à" + a French name with its article: au, aux, à la, à l', à.
pub fn fr_a(fr: &str) -> String {
    if let Some(rest) = fr.strip_prefix("le ") {
        format!("au {rest}")
    } else if let Some(rest) = fr.strip_prefix("les ") {
        format!("aux {rest}")
    } else {
        format!("à {fr}")
    }
}

/// "de" + a Spanish name: "del" before the lower-case article "el" (but "de El Salvador").
pub fn es_de(es: &str) -> String {
    es.strip_prefix("el ")
        .map_or_else(|| format!("de {es}"), |rest| format!("del {rest}"))
}

/// "a" + a Spanish name: "al" before the lower-case article "el".
pub fn es_a(es: &str) -> String {
    es.strip_prefix("el ")
        .map_or_else(|| format!("a {es}"), |rest| format!("al {rest}"))
}

/// The name without its lower-case article: "les États-Unis" -> "États-Unis", "l'Équateur" ->
/// "Équateur", "El Salvador" stays.
fn bare(name: &str) -> &str {
    for article in ["the ", "les ", "le ", "la ", "l'", "los ", "las ", "el "] {
        if let Some(rest) = name.strip_prefix(article) {
            return rest;
        }
    }
    name
}

/// The first letter in upper case.
fn sentence_start(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map_or_else(String::new, |c| {
        c.to_uppercase().chain(chars).collect::<String>()
    })
}

impl StateNames {
    /// Parses and checks the text of `state_names.csv`.
    ///
    /// # Errors
    /// A message naming the line, the column and what it must be.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let mut rows = HashMap::new();
        for (i, record) in reader.deserialize::<NameRow>().enumerate() {
            let line = i + 2;
            let r = record.map_err(|e| format!("state_names.csv, line {line}: {e}"))?;
            let at = |msg: String| format!("state_names.csv, line {line} ({}): {msg}", r.iso3);
            for (column, value) in [("en", &r.en), ("fr", &r.fr), ("es", &r.es)] {
                if value.trim().is_empty() || value.trim() != value {
                    return Err(at(format!("{column} is empty or has spaces around it")));
                }
            }
            for (column, given, want) in [
                ("fr_de", &r.fr_de, fr_de(&r.fr)),
                ("fr_a", &r.fr_a, fr_a(&r.fr)),
                ("es_de", &r.es_de, es_de(&r.es)),
                ("es_a", &r.es_a, es_a(&r.es)),
            ] {
                if *given != want {
                    return Err(at(format!(
                        "{column} is '{given}'; from the name with its article it must be '{want}'"
                    )));
                }
            }
            let langs: Vec<&str> = r.languages.split('|').collect();
            if langs.iter().any(|l| Lang::parse(l).is_none())
                || (1..langs.len()).any(|k| langs[..k].contains(&langs[k]))
            {
                return Err(at(format!(
                    "languages '{}' must be a '|'-separated list of en, fr, es without repeats",
                    r.languages
                )));
            }
            for (column, value) in [
                ("names_confidence", &r.names_confidence),
                ("languages_confidence", &r.languages_confidence),
            ] {
                if value != "high" && value != "medium" {
                    return Err(at(format!("{column} '{value}' must be high or medium")));
                }
            }
            for (column, value) in [
                ("names_source", &r.names_source),
                ("languages_source", &r.languages_source),
            ] {
                if !(value.starts_with("https://") || value.starts_with("http://")) {
                    return Err(at(format!("{column} '{value}' must be an http(s) address")));
                }
            }
            if let Some(old) = rows.insert(r.iso3.clone(), r) {
                return Err(format!(
                    "state_names.csv, line {line}: {} appears twice",
                    old.iso3
                ));
            }
        }
        if rows.is_empty() {
            return Err("state_names.csv has no rows".to_owned());
        }
        Ok(Self { rows })
    }

    /// The table compiled into this build, parsed once.
    ///
    /// # Errors
    /// Only if the shipped file is broken, which the tests rule out.
    pub fn embedded() -> Result<&'static Self, String> {
        static NAMES: OnceLock<Result<StateNames, String>> = OnceLock::new();
        NAMES
            .get_or_init(|| Self::parse(STATE_NAMES_CSV))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The row of a state, if the table has one.
    pub fn row(&self, iso3: &str) -> Option<&NameRow> {
        self.rows.get(iso3)
    }

    /// How many states the table names.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the table is empty (never, once parsed).
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The state's name in `lang` in every form a sentence needs. A state the table lacks (a
    /// newer states file) is named by `english`, its name in the records, without an article.
    pub fn forms(&self, lang: Lang, iso3: &str, english: &str) -> NameForms {
        let (name, the, of, to) = match (lang, self.rows.get(iso3)) {
            (Lang::En, Some(r)) => (
                english.to_owned(),
                r.en.clone(),
                format!("of {}", r.en),
                format!("to {}", r.en),
            ),
            (Lang::Fr, Some(r)) => (
                bare(&r.fr).to_owned(),
                r.fr.clone(),
                r.fr_de.clone(),
                r.fr_a.clone(),
            ),
            (Lang::Es, Some(r)) => (
                bare(&r.es).to_owned(),
                r.es.clone(),
                r.es_de.clone(),
                r.es_a.clone(),
            ),
            (lang, None) => {
                let (of, to) = match lang {
                    Lang::En => ("of", "to"),
                    Lang::Fr => ("de", "à"),
                    Lang::Es => ("de", "a"),
                };
                (
                    english.to_owned(),
                    english.to_owned(),
                    format!("{of} {english}"),
                    format!("{to} {english}"),
                )
            }
        };
        NameForms {
            the_start: sentence_start(&the),
            name,
            the,
            of,
            to,
        }
    }

    /// The languages a letter to the state's authorities is written in, best first: the
    /// table's, else English.
    pub fn languages(&self, iso3: &str) -> Vec<Lang> {
        self.rows
            .get(iso3)
            .map(|r| r.languages.split('|').filter_map(Lang::parse).collect())
            .filter(|v: &Vec<Lang>| !v.is_empty())
            .unwrap_or_else(|| vec![Lang::En])
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const HEADER: &str = "iso3,en,fr,fr_de,fr_a,es,es_de,es_a,names_source,names_confidence,\
                          languages,languages_basis,languages_source,languages_confidence,note\n";

    fn one(row: &str) -> Result<StateNames, String> {
        StateNames::parse(&format!("{HEADER}{row}\n"))
    }

    #[test]
    fn the_shipped_table_names_every_state_of_the_reference_data() {
        let names = StateNames::embedded().unwrap();
        let states = outreach_core::refdata::ReferenceData::embedded().unwrap();
        assert_eq!(names.len(), states.states.len());
        for s in &states.states {
            assert!(names.row(&s.iso3).is_some(), "{} has no names", s.iso3);
        }
    }

    #[test]
    fn names_carry_their_articles_and_contractions() {
        let n = StateNames::embedded().unwrap();
        let usa = n.forms(Lang::Fr, "USA", "United States");
        assert_eq!(
            (usa.name.as_str(), usa.the.as_str(), usa.of.as_str()),
            ("États-Unis", "les États-Unis", "des États-Unis")
        );
        assert_eq!(usa.to, "aux États-Unis");
        assert_eq!(usa.the_start, "Les États-Unis");
        assert_eq!(
            n.forms(Lang::En, "USA", "United States").of,
            "of the United States"
        );
        assert_eq!(
            n.forms(Lang::Es, "USA", "United States").the,
            "los Estados Unidos"
        );
        assert_eq!(n.forms(Lang::Fr, "FRA", "France").of, "de la France");
        assert_eq!(n.forms(Lang::Fr, "MEX", "Mexico").to, "au Mexique");
        assert_eq!(n.forms(Lang::Fr, "HTI", "Haiti").of, "d'Haïti");
        assert_eq!(n.forms(Lang::Es, "MEX", "Mexico").the, "México");
        assert_eq!(n.forms(Lang::Es, "ECU", "Ecuador").of, "del Ecuador");
        assert_eq!(n.forms(Lang::Es, "SLV", "El Salvador").of, "de El Salvador");
        assert_eq!(n.forms(Lang::Fr, "ECU", "Ecuador").name, "Équateur");
        assert_eq!(n.forms(Lang::En, "NPL", "Nepal").the_start, "Nepal");
    }

    #[test]
    fn offices_are_written_to_in_the_states_language() {
        let n = StateNames::embedded().unwrap();
        assert_eq!(n.languages("FRA"), [Lang::Fr]);
        assert_eq!(n.languages("SEN"), [Lang::Fr]);
        assert_eq!(n.languages("MEX"), [Lang::Es]);
        assert_eq!(n.languages("ARG"), [Lang::Es]);
        assert_eq!(n.languages("CAN"), [Lang::En, Lang::Fr]);
        assert_eq!(n.languages("NPL"), [Lang::En]);
        assert_eq!(n.languages("XXX"), [Lang::En]);
    }

    #[test]
    fn a_state_missing_from_the_table_is_named_by_its_english_name() {
        let n = StateNames::embedded().unwrap();
        let f = n.forms(Lang::Fr, "XXX", "Newland");
        assert_eq!((f.the.as_str(), f.of.as_str()), ("Newland", "de Newland"));
    }

    #[test]
    fn a_row_whose_contraction_does_not_follow_from_its_article_is_refused() {
        let src = "https://unterm.un.org/unterm2/en/country";
        let good = format!(
            "MEX,Mexico,le Mexique,du Mexique,au Mexique,México,de México,a México,{src},high,es,\
             Spanish,{src},high,"
        );
        assert!(one(&good).is_ok());
        let bad = good.replace("du Mexique", "de le Mexique");
        let err = one(&bad).unwrap_err();
        assert!(err.contains("line 2 (MEX)"), "{err}");
        assert!(
            err.contains("fr_de") && err.contains("'du Mexique'"),
            "{err}"
        );
        let err = one(&good.replace(",es,Spanish", ",de,Spanish")).unwrap_err();
        assert!(err.contains("languages 'de'"), "{err}");
        let err = one(&good.replace(",high,es", ",sure,es")).unwrap_err();
        assert!(err.contains("names_confidence"), "{err}");
    }
}
