//! Dates, times and durations in the reader's language and zone. A small table of weekday and
//! month names for the languages the templates ship in keeps this free of a locale database.

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Timelike, Utc, Weekday};
use chrono_tz::Tz;

/// The languages every email template exists in.
pub const LANGUAGES: [&str; 3] = ["en", "fr", "es"];

/// A language the mailer can write dates in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Fr,
    Es,
}

impl Lang {
    /// The language for an ISO 639-1 code, if the templates ship in it.
    pub fn parse(code: &str) -> Option<Self> {
        match code.trim().to_ascii_lowercase().as_str() {
            "en" => Some(Self::En),
            "fr" => Some(Self::Fr),
            "es" => Some(Self::Es),
            _ => None,
        }
    }

    fn weekday(self, day: Weekday) -> &'static str {
        let i = day.num_days_from_monday() as usize;
        match self {
            Self::En => [
                "Monday",
                "Tuesday",
                "Wednesday",
                "Thursday",
                "Friday",
                "Saturday",
                "Sunday",
            ][i],
            Self::Fr => [
                "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
            ][i],
            Self::Es => [
                "lunes",
                "martes",
                "miércoles",
                "jueves",
                "viernes",
                "sábado",
                "domingo",
            ][i],
        }
    }

    fn month(self, month0: u32) -> &'static str {
        let i = month0 as usize;
        match self {
            Self::En => [
                "January",
                "February",
                "March",
                "April",
                "May",
                "June",
                "July",
                "August",
                "September",
                "October",
                "November",
                "December",
            ][i],
            Self::Fr => [
                "janvier",
                "février",
                "mars",
                "avril",
                "mai",
                "juin",
                "juillet",
                "août",
                "septembre",
                "octobre",
                "novembre",
                "décembre",
            ][i],
            Self::Es => [
                "enero",
                "febrero",
                "marzo",
                "abril",
                "mayo",
                "junio",
                "julio",
                "agosto",
                "septiembre",
                "octubre",
                "noviembre",
                "diciembre",
            ][i],
        }
    }

    /// A calendar date: "Thursday 3 December 2026", "jeudi 3 décembre 2026",
    /// "jueves 3 de diciembre de 2026".
    pub fn date(self, d: NaiveDate) -> String {
        let (wd, day, month, year) = (
            self.weekday(d.weekday()),
            d.day(),
            self.month(d.month0()),
            d.year(),
        );
        match self {
            Self::En | Self::Fr => format!("{wd} {day} {month} {year}"),
            Self::Es => format!("{wd} {day} de {month} de {year}"),
        }
    }

    /// A date without its weekday, as letters are dated: "22 November 2026", "22 novembre 2026",
    /// "22 de noviembre de 2026".
    pub fn long_date(self, d: NaiveDate) -> String {
        let (day, month, year) = (d.day(), self.month(d.month0()), d.year());
        match self {
            Self::En | Self::Fr => format!("{day} {month} {year}"),
            Self::Es => format!("{day} de {month} de {year}"),
        }
    }

    /// The ISO 639-1 code of the language.
    pub fn code(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Fr => "fr",
            Self::Es => "es",
        }
    }

    /// An instant in `zone`, with the zone named: "Thursday 3 December 2026, 10:00 (Asia/Kathmandu)".
    pub fn date_time(self, at: DateTime<Utc>, zone: Tz) -> String {
        let local = zone.from_utc_datetime(&at.naive_utc());
        format!(
            "{}, {:02}:{:02} ({})",
            self.date(local.date_naive()),
            local.hour(),
            local.minute(),
            zone.name()
        )
    }

    /// A length of time in whole minutes: "1 day 2 hours", "1 jour 2 heures", "90 minutes" is
    /// shown as "1 hour 30 minutes".
    pub fn duration(self, minutes: i64) -> String {
        let minutes = minutes.max(0);
        let (days, hours, mins) = (minutes / 1440, (minutes % 1440) / 60, minutes % 60);
        let unit =
            |n: i64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        let (d, h, m) = match self {
            Self::En => (("day", "days"), ("hour", "hours"), ("minute", "minutes")),
            Self::Fr => (
                ("jour", "jours"),
                ("heure", "heures"),
                ("minute", "minutes"),
            ),
            Self::Es => (("día", "días"), ("hora", "horas"), ("minuto", "minutos")),
        };
        let mut parts = Vec::new();
        if days > 0 {
            parts.push(unit(days, d.0, d.1));
        }
        if hours > 0 {
            parts.push(unit(hours, h.0, h.1));
        }
        if mins > 0 || parts.is_empty() {
            parts.push(unit(mins, m.0, m.1));
        }
        parts.join(" ")
    }
}

/// State names as French and Spanish write them, by ISO3 code; English uses the reference
/// data's name. States missing here fall back to that English name.
const STATE_NAMES: &[(&str, &str, &str)] = &[
    // (iso3, French, Spanish)
    ("ARM", "Arménie", "Armenia"),
    ("AZE", "Azerbaïdjan", "Azerbaiyán"),
    ("BHR", "Bahreïn", "Baréin"),
    ("CHN", "Chine", "China"),
    ("CUB", "Cuba", "Cuba"),
    ("EGY", "Égypte", "Egipto"),
    ("EST", "Estonie", "Estonia"),
    ("FIN", "Finlande", "Finlandia"),
    ("FRA", "France", "Francia"),
    ("GEO", "Géorgie", "Georgia"),
    ("DEU", "Allemagne", "Alemania"),
    ("IND", "Inde", "India"),
    ("IRN", "Iran", "Irán"),
    ("ISR", "Israël", "Israel"),
    ("KAZ", "Kazakhstan", "Kazajistán"),
    ("KGZ", "Kirghizistan", "Kirguistán"),
    ("KOR", "République de Corée", "República de Corea"),
    (
        "PRK",
        "République populaire démocratique de Corée",
        "República Popular Democrática de Corea",
    ),
    (
        "LAO",
        "République démocratique populaire lao",
        "República Democrática Popular Lao",
    ),
    ("LVA", "Lettonie", "Letonia"),
    ("LBN", "Liban", "Líbano"),
    ("LBY", "Libye", "Libia"),
    ("LTU", "Lituanie", "Lituania"),
    ("FSM", "Micronésie", "Micronesia"),
    ("MNG", "Mongolie", "Mongolia"),
    ("MAR", "Maroc", "Marruecos"),
    ("MMR", "Myanmar", "Myanmar"),
    ("NPL", "Népal", "Nepal"),
    ("NOR", "Norvège", "Noruega"),
    ("PAK", "Pakistan", "Pakistán"),
    ("POL", "Pologne", "Polonia"),
    ("RUS", "Fédération de Russie", "Federación de Rusia"),
    ("SAU", "Arabie saoudite", "Arabia Saudita"),
    ("SGP", "Singapour", "Singapur"),
    ("SYR", "République arabe syrienne", "República Árabe Siria"),
    ("TON", "Tonga", "Tonga"),
    ("ARE", "Émirats arabes unis", "Emiratos Árabes Unidos"),
    ("UKR", "Ukraine", "Ucrania"),
    ("GBR", "Royaume-Uni", "Reino Unido"),
    ("USA", "États-Unis d'Amérique", "Estados Unidos de América"),
    ("UZB", "Ouzbékistan", "Uzbekistán"),
    ("VNM", "Viet Nam", "Viet Nam"),
    ("CAN", "Canada", "Canadá"),
    ("CHE", "Suisse", "Suiza"),
    ("BEL", "Belgique", "Bélgica"),
    ("NLD", "Pays-Bas", "Países Bajos"),
    ("ESP", "Espagne", "España"),
    ("ITA", "Italie", "Italia"),
    ("JPN", "Japon", "Japón"),
    ("MEX", "Mexique", "México"),
    ("SWE", "Suède", "Suecia"),
    ("DNK", "Danemark", "Dinamarca"),
    ("AUT", "Autriche", "Austria"),
    ("IRL", "Irlande", "Irlanda"),
    ("NZL", "Nouvelle-Zélande", "Nueva Zelandia"),
    ("AUS", "Australie", "Australia"),
];

/// The state's name in `lang`: the table above for French and Spanish, the reference data's
/// English name otherwise and as the fallback. Emails use it (reminder subjects and bodies);
/// letters use the fuller table of `data/reference/state_names.csv` (`outreach_letters::names`),
/// which also gives each name's article and contractions.
pub fn state_name(lang: Lang, iso3: &str, english: &str) -> String {
    let found = STATE_NAMES.iter().find(|(code, _, _)| *code == iso3);
    match (lang, found) {
        (Lang::Fr, Some((_, fr, _))) => (*fr).to_owned(),
        (Lang::Es, Some((_, _, es))) => (*es).to_owned(),
        _ => english.to_owned(),
    }
}

/// How a message in `lang` writes "His or Her Excellency" before a name. "H.E." is English
/// only: French text says "Son Excellence", Spanish "Su Excelencia".
pub fn excellency(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "H.E.",
        Lang::Fr => "Son Excellence",
        Lang::Es => "Su Excelencia",
    }
}

/// A contact's name after their recorded title, as a message in `lang` writes it: an
/// Excellency's title ("H.E.", "His Excellency", "S.E.") in the message's language, any other
/// title as recorded ("Dr Asha Demo"), or the name alone.
pub fn titled_name(lang: Lang, title: Option<&str>, name: &str) -> String {
    const EXCELLENCIES: &[&str] = &[
        "h.e.",
        "he",
        "his excellency",
        "her excellency",
        "excellency",
        "s.e.",
        "son excellence",
        "su excelencia",
    ];
    match title.map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) if EXCELLENCIES.contains(&t.to_lowercase().as_str()) => {
            format!("{} {name}", excellency(lang))
        }
        Some(t) => format!("{t} {name}"),
        None => name.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn dates_read_naturally_in_each_language() {
        let at = "2026-12-03T04:15:00Z".parse::<DateTime<Utc>>().unwrap();
        let ktm: Tz = "Asia/Kathmandu".parse().unwrap();
        assert_eq!(
            Lang::En.date_time(at, ktm),
            "Thursday 3 December 2026, 10:00 (Asia/Kathmandu)"
        );
        assert_eq!(
            Lang::Fr.date_time(at, ktm),
            "jeudi 3 décembre 2026, 10:00 (Asia/Kathmandu)"
        );
        assert_eq!(
            Lang::Es.date_time(at, ktm),
            "jueves 3 de diciembre de 2026, 10:00 (Asia/Kathmandu)"
        );
        let ny: Tz = "America/New_York".parse().unwrap();
        assert_eq!(
            Lang::En.date_time(at, ny),
            "Wednesday 2 December 2026, 23:15 (America/New_York)"
        );
    }

    #[test]
    fn letter_dates_have_no_weekday() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
        assert_eq!(Lang::En.long_date(d), "22 November 2026");
        assert_eq!(Lang::Fr.long_date(d), "22 novembre 2026");
        assert_eq!(Lang::Es.long_date(d), "22 de noviembre de 2026");
    }

    #[test]
    fn durations_spell_their_units() {
        assert_eq!(Lang::En.duration(90), "1 hour 30 minutes");
        assert_eq!(Lang::Fr.duration(1440), "1 jour");
        assert_eq!(Lang::Es.duration(2 * 1440 + 120), "2 días 2 horas");
        assert_eq!(Lang::En.duration(0), "0 minutes");
    }

    #[test]
    fn an_excellency_is_never_h_e_in_french_or_spanish() {
        assert_eq!(
            titled_name(Lang::En, Some("H.E."), "Test Amb"),
            "H.E. Test Amb"
        );
        assert_eq!(
            titled_name(Lang::Fr, Some("H.E."), "Test Amb"),
            "Son Excellence Test Amb"
        );
        assert_eq!(
            titled_name(Lang::Es, Some("His Excellency"), "Test Amb"),
            "Su Excelencia Test Amb"
        );
        assert_eq!(
            titled_name(Lang::Fr, Some("Dr"), "Asha Demo"),
            "Dr Asha Demo"
        );
        assert_eq!(titled_name(Lang::Fr, None, "Asha Demo"), "Asha Demo");
    }

    #[test]
    fn only_shipped_languages_parse() {
        assert_eq!(Lang::parse("FR"), Some(Lang::Fr));
        assert_eq!(Lang::parse("de"), None);
    }
}
