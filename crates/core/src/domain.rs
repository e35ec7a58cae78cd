//! Validated domain values. Each is built only by a `parse` that returns a `Result` naming the
//! field, so the services below never see a raw, unchecked string.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use crate::error::{Error, Result};

/// Declares a closed set of values stored as snake_case text, parsed leniently (`embassy-visit`,
/// `Embassy visit` and `embassy_visit` are the same) and rejected with the list of valid values.
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident, $what:literal, { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Parses a value given by a user or read from the database.
            ///
            /// # Errors
            /// [`Error::Invalid`] naming `field` and listing the accepted values.
            pub fn parse(field: &str, given: &str) -> Result<Self> {
                let norm = given.trim().to_lowercase().replace(['-', ' '], "_");
                match norm.as_str() {
                    $($text => Ok($name::$variant),)+
                    _ => Err(Error::invalid(field, format!(
                        "'{given}' is not a known {}; use one of: {}",
                        $what,
                        Self::ALL.iter().map(|v| v.as_str().replace('_', "-")).collect::<Vec<_>>().join(", ")
                    ))),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self> {
                Self::parse(stringify!($name), s)
            }
        }
    };
}

string_enum!(
    /// What kind of engagement happened.
    EngagementKind, "engagement kind", {
        EmbassyVisit => "embassy_visit",
        CapitalMeeting => "capital_meeting",
        MilitaryDialogue => "military_dialogue",
        Statement => "statement",
        Letter => "letter",
        Call => "call",
        ObserverAttendance => "observer_attendance",
        Other => "other",
    }
);

string_enum!(
    /// The stance a state showed towards joining the treaty in an engagement.
    Stance, "stance", {
        Supportive => "supportive",
        Open => "open",
        Neutral => "neutral",
        Reluctant => "reluctant",
        Opposed => "opposed",
    }
);

string_enum!(
    /// Where a meeting is in its life.
    MeetingStatus, "meeting status", {
        Planned => "planned",
        Held => "held",
        Cancelled => "cancelled",
    }
);

string_enum!(
    /// Where a grant deliverable stands: `dropped` is given up (it counts neither done nor owed).
    DeliverableStatus, "deliverable status", {
        Planned => "planned",
        InProgress => "in_progress",
        Done => "done",
        Dropped => "dropped",
    }
);

string_enum!(
    /// A kind of signal about a state's distance from the treaty.
    SignalKind, "signal kind", {
        ObserverAttendance => "observer_attendance",
        UngaVote => "unga_vote",
        PolicyChange => "policy_change",
        ReportedUse => "reported_use",
        Stockpile => "stockpile",
        Condemnation => "condemnation",
    }
);

string_enum!(
    /// What an organisation is.
    OrganisationKind, "organisation kind", {
        IcblMember => "icbl_member",
        Ngo => "ngo",
        Ministry => "ministry",
        Embassy => "embassy",
        ArmedForces => "armed_forces",
        InternationalOrganisation => "international_organisation",
        Other => "other",
    }
);

string_enum!(
    /// A treaty action recorded in the reference data.
    TreatyEventKind, "treaty event", {
        Signature => "signature",
        Ratification => "ratification",
        Accession => "accession",
        Succession => "succession",
        EntryIntoForce => "entry_into_force",
        WithdrawalNotice => "withdrawal_notice",
        WithdrawalEffective => "withdrawal_effective",
        SuspensionNotice => "suspension_notice",
    }
);

string_enum!(
    /// Who may read an engagement's summary, outcome and follow-up text: `public` (may be cited
    /// in letters to third parties), `internal` (every signed-in staff member) or `restricted`
    /// (only staff members cleared for restricted notes; never in any letter, email or export).
    Sensitivity, "sensitivity", {
        Public => "public",
        Internal => "internal",
        Restricted => "restricted",
    }
);

impl Sensitivity {
    /// The sensitivity an engagement of `kind` gets when none is given: military dialogue is
    /// restricted, everything else internal (`[engagements] restricted_kinds` changes the list).
    pub fn default_for(kind: EngagementKind, restricted_kinds: &[String]) -> Self {
        if restricted_kinds.iter().any(|k| {
            EngagementKind::parse("restricted_kinds", k).is_ok_and(|parsed| parsed == kind)
        }) {
            Self::Restricted
        } else {
            Self::Internal
        }
    }
}

/// The engagement kinds restricted by default when `[engagements] restricted_kinds` is not set.
pub const DEFAULT_RESTRICTED_KINDS: &[&str] = &["military_dialogue"];

string_enum!(
    /// A staff member's role.
    Role, "role", {
        Staff => "staff",
        Coordinator => "coordinator",
        Admin => "admin",
    }
);

/// An ISO 3166-1 alpha-3 code, upper case. Well-formed only: whether the state exists is
/// checked against the database by the state resolver.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct StateCode(String);

impl StateCode {
    /// # Errors
    /// [`Error::Invalid`] unless `given` is three ASCII letters.
    pub fn parse(given: &str) -> Result<Self> {
        let code = given.trim().to_ascii_uppercase();
        if code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()) {
            Ok(Self(code))
        } else {
            Err(Error::invalid(
                "state",
                format!("'{given}' is not an ISO 3166 alpha-3 code (three letters, such as NPL)"),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for StateCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An IANA time zone such as `Asia/Kathmandu`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IanaZone(Tz);

impl IanaZone {
    /// Coordinated Universal Time, the zone of an account that set none.
    pub const UTC: Self = Self(Tz::UTC);

    /// # Errors
    /// [`Error::Invalid`] naming `field`, with the closest zone names when there are any.
    pub fn parse(field: &str, given: &str) -> Result<Self> {
        let trimmed = given.trim();
        if let Ok(tz) = trimmed.parse::<Tz>() {
            return Ok(Self(tz));
        }
        let lower = trimmed.to_lowercase();
        let mut near: Vec<(f64, &str)> = chrono_tz::TZ_VARIANTS
            .iter()
            .map(|tz| {
                let name = tz.name();
                let city = name.rsplit('/').next().unwrap_or(name).to_lowercase();
                let score = strsim::jaro_winkler(&lower, &name.to_lowercase())
                    .max(strsim::jaro_winkler(&lower, &city));
                (score, name)
            })
            .filter(|(score, _)| *score > 0.85)
            .collect();
        near.sort_by(|a, b| b.0.total_cmp(&a.0));
        let hint = if near.is_empty() {
            "use an IANA name such as Europe/Paris or Asia/Kathmandu".to_owned()
        } else {
            let names: Vec<&str> = near.iter().take(3).map(|(_, n)| *n).collect();
            format!("did you mean {}?", names.join(" or "))
        };
        Err(Error::invalid(
            field,
            format!("'{given}' is not a known time zone; {hint}"),
        ))
    }

    pub fn tz(self) -> Tz {
        self.0
    }

    pub fn name(self) -> &'static str {
        self.0.name()
    }

    /// The UTC instant of a wall-clock time in this zone.
    ///
    /// # Errors
    /// [`Error::Invalid`] when the local time does not exist (clocks jump forward) or happens
    /// twice (clocks go back) in this zone.
    pub fn to_utc(self, field: &str, local: NaiveDateTime) -> Result<DateTime<Utc>> {
        match self.0.from_local_datetime(&local) {
            LocalResult::Single(t) => Ok(t.with_timezone(&Utc)),
            LocalResult::None => Err(Error::invalid(
                field,
                format!(
                    "{} does not exist in {}: the clocks jump forward at that hour (daylight \
                     saving time); choose a time outside the gap",
                    local.format("%Y-%m-%d %H:%M"),
                    self.name()
                ),
            )),
            LocalResult::Ambiguous(a, b) => Err(Error::invalid(
                field,
                format!(
                    "{} happens twice in {} (UTC{} and UTC{}): the clocks go back at that hour; \
                     choose a time outside the repeated hour",
                    local.format("%Y-%m-%d %H:%M"),
                    self.name(),
                    a.format("%:z"),
                    b.format("%:z"),
                ),
            )),
        }
    }

    /// The wall-clock time of an instant in this zone.
    pub fn local(self, instant: DateTime<Utc>) -> DateTime<Tz> {
        instant.with_timezone(&self.0)
    }
}

impl fmt::Display for IanaZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A syntactically valid email address.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct EmailAddress(String);

impl EmailAddress {
    /// # Errors
    /// [`Error::Invalid`] naming `field` when the address is malformed.
    pub fn parse(field: &str, given: &str) -> Result<Self> {
        let trimmed = given.trim();
        match email_address::EmailAddress::from_str(trimmed) {
            Ok(addr) if addr.domain().contains('.') => Ok(Self(addr.as_str().to_owned())),
            _ => Err(Error::invalid(
                field,
                format!("'{given}' is not a valid email address (expected name@example.org)"),
            )),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The first day a user may give (in any field, from any front end).
pub const EARLIEST_DATE: NaiveDate = NaiveDate::from_ymd_opt(1900, 1, 1).expect("a date");
/// The last day a user may give. Bounded so that every date the project derives from one
/// (reminders days before, invitations, time zones) stays far inside what the date library
/// and both databases handle, and SQLite's text timestamps sort as instants.
pub const LATEST_DATE: NaiveDate = NaiveDate::from_ymd_opt(2199, 12, 31).expect("a date");

/// Refuses a date outside [`EARLIEST_DATE`]..=[`LATEST_DATE`], naming the field.
///
/// # Errors
/// [`Error::Invalid`] naming `field`.
pub fn check_date_range(field: &str, given: &str, date: NaiveDate) -> Result<NaiveDate> {
    if (EARLIEST_DATE..=LATEST_DATE).contains(&date) {
        Ok(date)
    } else {
        Err(Error::invalid(
            field,
            format!(
                "'{}' is outside the dates outreach accepts; give a date between {EARLIEST_DATE} and {LATEST_DATE}",
                given.trim()
            ),
        ))
    }
}

/// Parses `YYYY-MM-DD`, between 1900-01-01 and 2199-12-31.
///
/// # Errors
/// [`Error::Invalid`] naming `field`.
pub fn parse_date(field: &str, given: &str) -> Result<NaiveDate> {
    let date = NaiveDate::parse_from_str(given.trim(), "%Y-%m-%d").map_err(|_| {
        Error::invalid(
            field,
            format!("'{given}' is not a date; write it as YYYY-MM-DD, for example 2026-03-14"),
        )
    })?;
    check_date_range(field, given, date)
}

/// Parses a wall-clock time `YYYY-MM-DD HH:MM` (a `T` between date and time is accepted), on a
/// day between 1900-01-01 and 2199-12-31.
///
/// # Errors
/// [`Error::Invalid`] naming `field`.
pub fn parse_local_datetime(field: &str, given: &str) -> Result<NaiveDateTime> {
    let s = given.trim();
    ["%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"]
        .iter()
        .find_map(|fmt| NaiveDateTime::parse_from_str(s, fmt).ok())
        .ok_or_else(|| {
            Error::invalid(
                field,
                format!(
                    "'{given}' is not a local date and time; write it as \"YYYY-MM-DD HH:MM\", \
                     for example \"2026-03-14 10:00\""
                ),
            )
        })
        .and_then(|t| check_date_range(field, given, t.date()).map(|_| t))
}

/// Parses a meeting length such as `1h`, `90m` or `1h 30m` into whole minutes (1 minute to
/// 24 hours).
///
/// # Errors
/// [`Error::Invalid`] naming `field`.
pub fn parse_duration_minutes(field: &str, given: &str) -> Result<i32> {
    let bad = || {
        Error::invalid(
            field,
            format!("'{given}' is not a duration between 1m and 24h; write it as 45m, 1h or 1h30m"),
        )
    };
    let d = humantime::parse_duration(given.trim()).map_err(|_| bad())?;
    let minutes = d.as_secs() / 60;
    if !d.as_secs().is_multiple_of(60) || !(1..=24 * 60).contains(&minutes) {
        return Err(bad());
    }
    i32::try_from(minutes).map_err(|_| bad())
}

/// Checks and trims text: no control characters (tabs and line breaks only when `multi_line`,
/// with `\r\n` made `\n`), not empty, at most `max` characters.
fn checked_text(field: &str, given: &str, max: usize, multi_line: bool) -> Result<String> {
    check_controls(field, given, multi_line)?;
    let t = if multi_line {
        given.replace("\r\n", "\n").replace('\r', "\n")
    } else {
        given.to_owned()
    };
    let t = t.trim();
    if t.is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    if t.chars().count() > max {
        return Err(Error::invalid(
            field,
            format!("is longer than {max} characters; shorten it"),
        ));
    }
    Ok(t.to_owned())
}

/// As [`checked_text`], `None` when absent or blank (controls are refused even in blank text).
fn optional_checked(
    field: &str,
    given: Option<&str>,
    max: usize,
    multi_line: bool,
) -> Result<Option<String>> {
    match given {
        None => Ok(None),
        Some(g) => {
            check_controls(field, g, multi_line)?;
            if g.trim().is_empty() {
                Ok(None)
            } else {
                checked_text(field, g, max, multi_line).map(Some)
            }
        }
    }
}

/// Text a user must give: one line, trimmed, not empty, at most `max` characters.
///
/// # Errors
/// [`Error::Invalid`] naming `field`.
pub fn required_text(field: &str, given: &str, max: usize) -> Result<String> {
    checked_text(field, given, max, false)
}

/// Optional text: `None` when absent or blank.
///
/// # Errors
/// [`Error::Invalid`] naming `field` when longer than `max` characters or holding a control
/// character.
pub fn optional_text(field: &str, given: Option<&str>, max: usize) -> Result<Option<String>> {
    optional_checked(field, given, max, false)
}

/// Text of several lines (a summary, notes, a description): as [`required_text`], but tabs and
/// line breaks are kept (a `\r\n` becomes `\n`).
///
/// # Errors
/// As [`required_text`].
pub fn required_paragraphs(field: &str, given: &str, max: usize) -> Result<String> {
    checked_text(field, given, max, true)
}

/// Optional text of several lines: `None` when absent or blank.
///
/// # Errors
/// As [`required_paragraphs`].
pub fn optional_paragraphs(field: &str, given: Option<&str>, max: usize) -> Result<Option<String>> {
    optional_checked(field, given, max, true)
}

/// The first control character in `given` that a field may not hold: every C0 character
/// (U+0000 to U+001F) and DEL, except tab and line breaks where `multi_line` allows them.
pub fn forbidden_control(given: &str, multi_line: bool) -> Option<char> {
    given.chars().find(|&c| {
        (c.is_ascii_control() || ('\u{80}'..='\u{9f}').contains(&c))
            && !(multi_line && matches!(c, '\t' | '\n' | '\r'))
    })
}

/// Refuses text holding a control character (see [`forbidden_control`]), naming the field.
///
/// # Errors
/// [`Error::Invalid`] naming `field`, the character and where it is.
pub fn check_controls(field: &str, given: &str, multi_line: bool) -> Result<()> {
    match forbidden_control(given, multi_line) {
        None => Ok(()),
        Some(c) => {
            let at = given.chars().take_while(|&x| x != c).count() + 1;
            let allowed = if multi_line {
                "; only tabs and line breaks are allowed"
            } else {
                "; this field takes one line of plain text"
            };
            Err(Error::invalid(
                field,
                format!(
                    "holds a control character (U+{:04X}) at character {at}{allowed}: remove it",
                    u32::from(c)
                ),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kathmandu_ten_oclock_is_quarter_past_four_utc() {
        let zone = IanaZone::parse("tz", "Asia/Kathmandu").unwrap();
        let local = parse_local_datetime("at", "2026-03-14 10:00").unwrap();
        let utc = zone.to_utc("at", local).unwrap();
        assert_eq!(utc.to_rfc3339(), "2026-03-14T04:15:00+00:00");
        assert_eq!(zone.local(utc).naive_local(), local);
    }

    #[test]
    fn a_time_in_the_spring_gap_is_refused_with_a_reason() {
        let zone = IanaZone::parse("tz", "Europe/Paris").unwrap();
        let local = parse_local_datetime("at", "2026-03-29 02:30").unwrap();
        let err = zone.to_utc("at", local).unwrap_err().to_string();
        assert!(err.contains("does not exist in Europe/Paris"), "{err}");
    }

    #[test]
    fn a_time_in_the_autumn_overlap_is_refused_as_ambiguous() {
        let zone = IanaZone::parse("tz", "Europe/Paris").unwrap();
        let local = parse_local_datetime("at", "2026-10-25 02:30").unwrap();
        let err = zone.to_utc("at", local).unwrap_err().to_string();
        assert!(err.contains("happens twice"), "{err}");
    }

    #[test]
    fn unknown_zone_suggests_close_names() {
        let err = IanaZone::parse("tz", "Asia/Khatmandoo")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("tz: "), "{err}");
        assert!(err.contains("Asia/Kathmandu"), "{err}");
    }

    #[test]
    fn durations_parse_to_minutes_and_reject_nonsense() {
        let check = |s: &str, want: Option<i32>| {
            assert_eq!(parse_duration_minutes("duration", s).ok(), want, "{s}");
        };
        check("1h", Some(60));
        check("90m", Some(90));
        check("1h 30m", Some(90));
        check("1h30m", Some(90));
        check("0m", None);
        check("25h", None);
        check("30s", None);
        check("soon", None);
    }

    #[test]
    fn enum_parsing_is_lenient_about_separators_and_strict_about_values() {
        assert_eq!(
            EngagementKind::parse("kind", "Embassy-Visit").unwrap(),
            EngagementKind::EmbassyVisit
        );
        let err = EngagementKind::parse("kind", "lunch")
            .unwrap_err()
            .to_string();
        assert!(err.contains("embassy-visit"), "{err}");
    }

    #[test]
    fn email_addresses_are_checked() {
        assert!(EmailAddress::parse("email", "a.person@example.org").is_ok());
        for bad in ["", "no-at-sign", "x@", "a b@example.org", "x@localhost"] {
            let err = EmailAddress::parse("email", bad).unwrap_err().to_string();
            assert!(err.starts_with("email: "), "{err}");
        }
    }

    #[test]
    fn dates_must_be_iso() {
        assert!(parse_date("date", "2026-02-30").is_err());
        assert!(parse_date("date", "14/03/2026").is_err());
        assert_eq!(
            parse_date("date", "2026-03-14").unwrap(),
            NaiveDate::from_ymd_opt(2026, 3, 14).unwrap()
        );
    }
}
