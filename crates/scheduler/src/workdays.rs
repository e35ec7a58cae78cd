//! Working days: each state's weekend and public holidays, and counting working days back from a
//! date, for rules such as "2 working days before" a meeting.
//!
//! The calendars are `data/reference/weekends.csv` and `holidays.csv` (generated from
//! python-holidays, 2020 to 2035, see the folder's README), compiled in and read once. They are
//! checked as they are read, as `check_calendars.py` checks them: a bad row is refused with its
//! file, line and what to fix. After 2035 (or before 2020) only weekends are known, and a count
//! that reaches there says so.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::sync::OnceLock;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::error::Result;

const WEEKENDS_CSV: &str = include_str!("../../../data/reference/weekends.csv");
const HOLIDAYS_CSV: &str = include_str!("../../../data/reference/holidays.csv");

/// Day names as the data files and the dry run write them, Monday first.
pub const DAY_NAMES: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// The first and last day the calendars know holidays for.
pub fn covered() -> (NaiveDate, NaiveDate) {
    (
        NaiveDate::from_ymd_opt(2020, 1, 1).expect("a valid date"),
        NaiveDate::from_ymd_opt(2035, 12, 31).expect("a valid date"),
    )
}

/// A day a working-day count passed over, and why it is not a working day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SkippedDay {
    pub date: NaiveDate,
    /// "Fri".
    pub weekday: String,
    /// "weekend", the holiday's name ("Nowruz"), or both ("weekend; Eid al-Fitr Holiday").
    pub why: String,
}

impl fmt::Display for SkippedDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} ({})", self.weekday, self.date, self.why)
    }
}

/// What counting working days back found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counted {
    /// The working day reached.
    pub date: NaiveDate,
    /// The days passed over, latest first.
    pub skipped: Vec<SkippedDay>,
    /// Whether the count passed days outside 2020-2035, where holidays are not known.
    pub beyond_data: bool,
}

#[derive(Debug, Clone)]
enum Special {
    Holiday(String),
    WorkingWeekend,
}

/// One state's working week and public holidays.
#[derive(Debug, Clone)]
pub struct StateCalendar {
    /// The state's English name, for people reading a dry run.
    pub name: String,
    /// (from, until, weekend days by `num_days_from_monday`), in order, covering 2020-2035.
    periods: Vec<(NaiveDate, NaiveDate, [bool; 7])>,
    days: BTreeMap<NaiveDate, Special>,
}

impl StateCalendar {
    /// A calendar of Saturday-Sunday weekends and no holidays, for a state the data lacks.
    pub fn weekends_only(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            periods: Vec::new(),
            days: BTreeMap::new(),
        }
    }

    fn weekend_on(&self, d: NaiveDate) -> [bool; 7] {
        // Outside the data, the nearest period's weekend holds.
        self.periods
            .iter()
            .find(|p| p.0 <= d && d <= p.1)
            .or_else(|| {
                if self.periods.first().is_some_and(|p| d < p.0) {
                    self.periods.first()
                } else {
                    self.periods.last()
                }
            })
            .map_or([false, false, false, false, false, true, true], |p| p.2)
    }

    /// Why `d` is not a working day, or `None` when it is one.
    pub fn day_off(&self, d: NaiveDate) -> Option<String> {
        let weekday = usize::try_from(d.weekday().num_days_from_monday()).unwrap_or(0);
        let weekend = self.weekend_on(d)[weekday];
        match self.days.get(&d) {
            Some(Special::WorkingWeekend) => None,
            Some(Special::Holiday(name)) if weekend => Some(format!("weekend; {name}")),
            Some(Special::Holiday(name)) => Some(name.clone()),
            None if weekend => Some("weekend".to_owned()),
            None => None,
        }
    }

    /// The day `n` working days before `date` (`date` itself not counted), with the days passed
    /// over. `n = 0` gives `date`.
    pub fn working_days_before(&self, date: NaiveDate, n: u32) -> Counted {
        let (first, last) = covered();
        let mut d = date;
        let mut left = n;
        let mut skipped = Vec::new();
        let mut beyond_data = false;
        while left > 0 {
            let Some(prev) = d.pred_opt() else { break };
            d = prev;
            beyond_data |= d < first || d > last;
            match self.day_off(d) {
                Some(why) => skipped.push(SkippedDay {
                    date: d,
                    weekday: DAY_NAMES
                        [usize::try_from(d.weekday().num_days_from_monday()).unwrap_or(0)]
                    .to_owned(),
                    why,
                }),
                None => left -= 1,
            }
        }
        Counted {
            date: d,
            skipped,
            beyond_data,
        }
    }
}

/// Every state's calendar.
#[derive(Debug, Clone)]
pub struct Calendars {
    states: HashMap<String, StateCalendar>,
}

#[derive(Debug, Deserialize)]
struct WeekendRow {
    iso3: String,
    valid_from: String,
    valid_until: String,
    weekend: String,
    source: String,
    confidence: String,
    #[allow(dead_code)]
    note: String,
}

#[derive(Debug, Deserialize)]
struct HolidayRow {
    iso3: String,
    date: String,
    kind: String,
    name: String,
    source: String,
}

fn bad(file: &str, line: u64, what: &str, msg: impl fmt::Display) -> crate::Error {
    outreach_core::Error::ReferenceData(format!(
        "{file}, line {line} ({what}): {msg}; the shipped file is regenerated by \
         data/reference/generate_calendars.py and checked by check_calendars.py"
    ))
    .into()
}

fn rows<T: for<'de> Deserialize<'de>>(file: &str, text: &str) -> Result<Vec<(u64, T)>> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| outreach_core::Error::ReferenceData(format!("{file}: {e}")))?
        .clone();
    let mut out = Vec::new();
    for record in reader.records() {
        let record =
            record.map_err(|e| outreach_core::Error::ReferenceData(format!("{file}: {e}")))?;
        let line = record.position().map_or(0, csv::Position::line);
        let row: T = record
            .deserialize(Some(&headers))
            .map_err(|e| bad(file, line, "row", e))?;
        out.push((line, row));
    }
    if out.is_empty() {
        return Err(outreach_core::Error::ReferenceData(format!("{file} has no rows")).into());
    }
    Ok(out)
}

fn date_in_range(
    file: &str,
    line: u64,
    what: &str,
    column: &str,
    given: &str,
) -> Result<NaiveDate> {
    let (first, last) = covered();
    let d = NaiveDate::parse_from_str(given, "%Y-%m-%d").map_err(|_| {
        bad(
            file,
            line,
            what,
            format!("{column} '{given}' is not a YYYY-MM-DD date"),
        )
    })?;
    if d < first || d > last {
        return Err(bad(
            file,
            line,
            what,
            format!("{column} {d} is outside {first} to {last}"),
        ));
    }
    Ok(d)
}

fn weekend_days(given: &str) -> std::result::Result<[bool; 7], String> {
    let mut mask = [false; 7];
    let mut last = None;
    let names: Vec<&str> = given.split_whitespace().collect();
    if names.is_empty() || names.len() > 3 {
        return Err(format!(
            "weekend '{given}' must name one to three days, such as \"Sat Sun\" or \"Fri Sat\""
        ));
    }
    for n in names {
        let Some(i) = DAY_NAMES.iter().position(|d| *d == n) else {
            return Err(format!(
                "weekend '{given}': '{n}' is not a day; use {}",
                DAY_NAMES.join(" ")
            ));
        };
        if last.is_some_and(|l| l >= i) {
            return Err(format!(
                "weekend '{given}' must name each day once, in week order (Mon first)"
            ));
        }
        last = Some(i);
        mask[i] = true;
    }
    Ok(mask)
}

impl Calendars {
    /// The calendars compiled into this build, read and checked once.
    ///
    /// # Errors
    /// Only if the shipped files are broken, which the tests rule out.
    pub fn builtin() -> Result<&'static Self> {
        static BUILTIN: OnceLock<std::result::Result<Calendars, String>> = OnceLock::new();
        BUILTIN
            .get_or_init(|| {
                let states = outreach_core::refdata::ReferenceData::embedded()
                    .map_err(|e| e.to_string())?
                    .states
                    .into_iter()
                    .map(|s| (s.iso3, s.name))
                    .collect::<Vec<_>>();
                Self::parse(WEEKENDS_CSV, HOLIDAYS_CSV, &states).map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|e| outreach_core::Error::ReferenceData(e.clone()).into())
    }

    /// Reads `weekends.csv` and `holidays.csv` against the states (iso3, name) they must cover.
    ///
    /// # Errors
    /// [`outreach_core::Error::ReferenceData`] naming the file, line and what to fix: an
    /// unknown iso3, a date that is not one or lies outside 2020-2035, a weekend that is not one
    /// to three day names, an unknown confidence or kind, an empty name or source, a state twice
    /// on one date, periods with a gap or an overlap, a state without weekend rows.
    pub fn parse(
        weekends_csv: &str,
        holidays_csv: &str,
        states: &[(String, String)],
    ) -> Result<Self> {
        const W: &str = "weekends.csv";
        const H: &str = "holidays.csv";
        let (first, last) = covered();
        let names: HashMap<&str, &str> = states
            .iter()
            .map(|(iso3, name)| (iso3.as_str(), name.as_str()))
            .collect();
        let mut cals: HashMap<String, StateCalendar> = HashMap::new();
        for (line, r) in rows::<WeekendRow>(W, weekends_csv)? {
            let what = r.iso3.clone();
            let Some(name) = names.get(r.iso3.as_str()) else {
                return Err(bad(W, line, &what, "iso3 is not in states.csv"));
            };
            let from = date_in_range(W, line, &what, "valid_from", &r.valid_from)?;
            let until = date_in_range(W, line, &what, "valid_until", &r.valid_until)?;
            if until < from {
                return Err(bad(
                    W,
                    line,
                    &what,
                    format!("valid_until {until} is before valid_from {from}"),
                ));
            }
            let mask = weekend_days(&r.weekend).map_err(|m| bad(W, line, &what, m))?;
            if r.source.trim().is_empty() {
                return Err(bad(
                    W,
                    line,
                    &what,
                    "source is empty; say where the weekend comes from",
                ));
            }
            if r.confidence != "stated" && r.confidence != "default" {
                return Err(bad(
                    W,
                    line,
                    &what,
                    format!("confidence '{}' must be stated or default", r.confidence),
                ));
            }
            let cal = cals.entry(r.iso3.clone()).or_insert_with(|| StateCalendar {
                name: (*name).to_owned(),
                periods: Vec::new(),
                days: BTreeMap::new(),
            });
            if let Some(prev) = cal.periods.last()
                && from != prev.1 + chrono::Duration::days(1)
            {
                return Err(bad(
                    W,
                    line,
                    &what,
                    format!(
                        "this period starts {from} but the state's previous one ends {}; \
                         periods must follow one another, in order, without gap or overlap",
                        prev.1
                    ),
                ));
            }
            cal.periods.push((from, until, mask));
        }
        for (iso3, _) in states {
            let Some(cal) = cals.get(iso3) else {
                return Err(outreach_core::Error::ReferenceData(format!(
                    "{W}: {iso3} (in states.csv) has no weekend row; every state needs one"
                ))
                .into());
            };
            if cal.periods.first().is_none_or(|p| p.0 != first)
                || cal.periods.last().is_none_or(|p| p.1 != last)
            {
                return Err(outreach_core::Error::ReferenceData(format!(
                    "{W}: {iso3}'s periods must run from {first} to {last}"
                ))
                .into());
            }
        }
        let mut seen = HashSet::new();
        for (line, r) in rows::<HolidayRow>(H, holidays_csv)? {
            let what = format!("{} {}", r.iso3, r.date);
            let d = date_in_range(H, line, &what, "date", &r.date)?;
            let Some(cal) = cals.get_mut(&r.iso3) else {
                return Err(bad(H, line, &what, "iso3 is not in states.csv"));
            };
            if r.name.trim().is_empty() {
                return Err(bad(
                    H,
                    line,
                    &what,
                    "name is empty; every day off needs its name",
                ));
            }
            if r.source.trim().is_empty() {
                return Err(bad(
                    H,
                    line,
                    &what,
                    "source is empty; say where the day comes from",
                ));
            }
            if !seen.insert((r.iso3.clone(), d)) {
                return Err(bad(
                    H,
                    line,
                    &what,
                    "this state and date appear twice; one row per state and date (join names with \"; \")",
                ));
            }
            let special = match r.kind.as_str() {
                "holiday" => Special::Holiday(r.name),
                "working_weekend" => Special::WorkingWeekend,
                other => {
                    return Err(bad(
                        H,
                        line,
                        &what,
                        format!("kind '{other}' must be holiday or working_weekend"),
                    ));
                }
            };
            cal.days.insert(d, special);
        }
        Ok(Self { states: cals })
    }

    /// The calendar of the state `iso3`.
    pub fn get(&self, iso3: &str) -> Option<&StateCalendar> {
        self.states.get(iso3)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn states() -> Vec<(String, String)> {
        vec![
            ("SAU".to_owned(), "Saudi Arabia".to_owned()),
            ("FRA".to_owned(), "France".to_owned()),
        ]
    }

    const WEEKENDS: &str = "iso3,valid_from,valid_until,weekend,source,confidence,note\n\
        SAU,2020-01-01,2035-12-31,Fri Sat,test,stated,\n\
        FRA,2020-01-01,2035-12-31,Sat Sun,test,default,the default\n";

    fn parse(weekends: &str, holidays: &str) -> Result<Calendars> {
        Calendars::parse(weekends, holidays, &states())
    }

    fn check(iso3: &str, holidays: &str, date: &str, n: u32, expected: &str, skipped: &[&str]) {
        let cals = parse(WEEKENDS, holidays).unwrap();
        let c = cals.get(iso3).unwrap().working_days_before(d(date), n);
        assert_eq!(c.date, d(expected), "{iso3} {n} working days before {date}");
        let got: Vec<String> = c.skipped.iter().map(ToString::to_string).collect();
        assert_eq!(got, skipped);
    }

    const NO_HOLIDAYS: &str =
        "iso3,date,kind,name,source\nFRA,2026-07-14,holiday,Bastille Day,test\n";

    #[test]
    fn counting_working_days_skips_the_states_weekend() {
        // Sunday 2026-03-29: in a Friday-Saturday country Thursday is one working day before,
        // Wednesday two.
        check(
            "SAU",
            NO_HOLIDAYS,
            "2026-03-29",
            1,
            "2026-03-26",
            &["Sat 2026-03-28 (weekend)", "Fri 2026-03-27 (weekend)"],
        );
        check(
            "SAU",
            NO_HOLIDAYS,
            "2026-03-29",
            2,
            "2026-03-25",
            &["Sat 2026-03-28 (weekend)", "Fri 2026-03-27 (weekend)"],
        );
        // The same Sunday in a Saturday-Sunday country: Friday, then Thursday.
        check(
            "FRA",
            NO_HOLIDAYS,
            "2026-03-29",
            2,
            "2026-03-26",
            &["Sat 2026-03-28 (weekend)"],
        );
        // Monday 2026-03-30 in France: Friday and Thursday, the weekend passed over.
        check(
            "FRA",
            NO_HOLIDAYS,
            "2026-03-30",
            1,
            "2026-03-27",
            &["Sun 2026-03-29 (weekend)", "Sat 2026-03-28 (weekend)"],
        );
        // Zero working days is the day itself.
        check("FRA", NO_HOLIDAYS, "2026-03-29", 0, "2026-03-29", &[]);
    }

    #[test]
    fn holidays_are_skipped_with_their_name_and_worked_weekends_count() {
        // Wednesday 2026-07-15: Tuesday the 14th is Bastille Day, so one working day before is
        // Monday the 13th.
        check(
            "FRA",
            NO_HOLIDAYS,
            "2026-07-15",
            1,
            "2026-07-13",
            &["Tue 2026-07-14 (Bastille Day)"],
        );
        let holidays = "iso3,date,kind,name,source\n\
            SAU,2026-03-19,holiday,Eid al-Fitr Holiday,test\n\
            SAU,2026-03-20,holiday,Eid al-Fitr Holiday,test\n\
            FRA,2026-03-28,working_weekend,working day moved to a weekend,test\n";
        // Sunday 2026-03-22 in Saudi Arabia: Sat (weekend), Fri (weekend and Eid), Thu (Eid),
        // then Wed and Tue count.
        check(
            "SAU",
            holidays,
            "2026-03-22",
            2,
            "2026-03-17",
            &[
                "Sat 2026-03-21 (weekend)",
                "Fri 2026-03-20 (weekend; Eid al-Fitr Holiday)",
                "Thu 2026-03-19 (Eid al-Fitr Holiday)",
            ],
        );
        // A Saturday worked in France counts as a working day.
        check(
            "FRA",
            holidays,
            "2026-03-30",
            1,
            "2026-03-28",
            &["Sun 2026-03-29 (weekend)"],
        );
    }

    #[test]
    fn a_count_beyond_2035_knows_weekends_only_and_says_so() {
        let cals = parse(WEEKENDS, NO_HOLIDAYS).unwrap();
        let c = cals
            .get("SAU")
            .unwrap()
            .working_days_before(d("2036-01-06"), 1);
        assert_eq!(c.date, d("2036-01-03"));
        assert!(c.beyond_data);
        let c = cals
            .get("SAU")
            .unwrap()
            .working_days_before(d("2035-06-03"), 1);
        assert!(!c.beyond_data);
    }

    #[test]
    fn bad_rows_are_refused_with_file_line_and_fix() {
        let cases = [
            (
                WEEKENDS.replace("SAU,2020", "SAX,2020"),
                NO_HOLIDAYS.to_owned(),
                "weekends.csv, line 2 (SAX): iso3 is not in states.csv",
            ),
            (
                WEEKENDS.replace("Fri Sat", "Fri Funday"),
                NO_HOLIDAYS.to_owned(),
                "'Funday' is not a day",
            ),
            (
                WEEKENDS.replace("Fri Sat", "Sat Fri"),
                NO_HOLIDAYS.to_owned(),
                "in week order",
            ),
            (
                WEEKENDS.replace("2035-12-31,Fri", "2036-12-31,Fri"),
                NO_HOLIDAYS.to_owned(),
                "valid_until 2036-12-31 is outside",
            ),
            (
                WEEKENDS.replace("stated", "sure"),
                NO_HOLIDAYS.to_owned(),
                "confidence 'sure'",
            ),
            (
                WEEKENDS.replace(
                    "FRA,2020-01-01,2035-12-31,Sat Sun,test,default,the default\n",
                    "",
                ),
                NO_HOLIDAYS.to_owned(),
                "FRA (in states.csv) has no weekend row",
            ),
            (
                WEEKENDS.replace("SAU,2020-01-01", "SAU,2021-01-01"),
                NO_HOLIDAYS.to_owned(),
                "SAU's periods must run from 2020-01-01",
            ),
            (
                WEEKENDS.to_owned(),
                format!("{NO_HOLIDAYS}FRA,2026-07-14,holiday,Again,test\n"),
                "holidays.csv, line 3 (FRA 2026-07-14): this state and date appear twice",
            ),
            (
                WEEKENDS.to_owned(),
                NO_HOLIDAYS.replace("2026-07-14", "2026-07-32"),
                "date '2026-07-32' is not a YYYY-MM-DD date",
            ),
            (
                WEEKENDS.to_owned(),
                NO_HOLIDAYS.replace("holiday,", "party,"),
                "kind 'party'",
            ),
            (
                WEEKENDS.to_owned(),
                NO_HOLIDAYS.replace("Bastille Day", ""),
                "name is empty",
            ),
            (
                WEEKENDS.to_owned(),
                NO_HOLIDAYS.replace(",test", ","),
                "source is empty",
            ),
        ];
        for (weekends, holidays, expected) in cases {
            let err = parse(&weekends, &holidays).unwrap_err().to_string();
            assert!(err.contains(expected), "expected '{expected}' in: {err}");
        }
    }

    #[test]
    fn the_shipped_calendars_cover_every_state() {
        let cals = Calendars::builtin().unwrap();
        let states = outreach_core::refdata::ReferenceData::embedded()
            .unwrap()
            .states;
        assert_eq!(states.len(), 197);
        for s in &states {
            assert!(cals.get(&s.iso3).is_some(), "{}", s.iso3);
        }
        // Saudi Arabia rests on Friday and Saturday; the Emirates moved to Saturday-Sunday in 2022.
        let sau = cals.get("SAU").unwrap();
        assert_eq!(sau.day_off(d("2026-03-27")).as_deref(), Some("weekend"));
        assert_eq!(sau.day_off(d("2026-03-29")), None);
        let are = cals.get("ARE").unwrap();
        assert_eq!(are.day_off(d("2021-03-26")).as_deref(), Some("weekend"));
        assert_eq!(are.day_off(d("2022-03-25")), None);
        assert_eq!(
            cals.get("FRA").unwrap().day_off(d("2026-07-14")).as_deref(),
            Some("National Day")
        );
    }
}
