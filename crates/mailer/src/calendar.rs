//! Meeting invitations as iCalendar (RFC 5545 / iTIP RFC 5546): a `REQUEST` for a planned
//! meeting and a `CANCEL` for a cancelled one, with a UID that stays the same for the meeting's
//! whole life and a SEQUENCE that follows its version, so calendar clients update one entry
//! instead of adding another.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Arc, LazyLock, Mutex};

use chrono::{DateTime, Datelike, Duration, NaiveDate, Offset, TimeZone, Utc};
use chrono_tz::{OffsetComponents, Tz};
use icalendar::{Calendar, CalendarDateTime, Component, Event, EventLike, EventStatus, Property};

use crate::context::{MeetingInfo, Recipient};
use crate::error::{Error, Result};

/// What an invitation asks of the calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Request,
    Cancel,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Request => "REQUEST",
            Self::Cancel => "CANCEL",
        }
    }
}

/// The organiser of invitations: the From address of the mailer.
#[derive(Debug, Clone)]
pub struct Organizer {
    pub name: Option<String>,
    pub email: String,
}

/// The stable UID of a meeting's invitations: `<meeting id>@<domain>`.
pub fn uid(meeting: &MeetingInfo, domain: &str) -> String {
    format!("{}@{domain}", meeting.id)
}

fn offset_text(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let s = seconds.unsigned_abs();
    format!("{sign}{:02}{:02}", s / 3600, (s % 3600) / 60)
}

fn offset_at(zone: Tz, at: DateTime<Utc>) -> (i32, bool) {
    let off = zone.offset_from_utc_datetime(&at.naive_utc());
    (off.fix().local_minus_utc(), !off.dst_offset().is_zero())
}

/// Where no zone changes its offset twice: the step of the search for changes.
const STEP_SECS: i64 = 6 * 3600;

/// The offset changes of `zone` from `start` to `end`, read off the zone database: the offset is
/// looked up every six hours, and each step where it differs is halved down to the second at which
/// the new offset starts. Each change is (first instant of the new offset, offset before, offset
/// after, whether the new one is summer time). About 1,500 lookups for two years, once per zone
/// and year (see [`vtimezone`]), where walking the years hour by hour and then minute by minute
/// took 17,500 for every message.
fn transitions(
    zone: Tz,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Vec<(DateTime<Utc>, i32, i32, bool)> {
    let mut changes = Vec::new();
    let (mut t, mut before) = (start, offset_at(zone, start).0);
    while t < end {
        let next = (t + Duration::seconds(STEP_SECS)).min(end);
        let after = offset_at(zone, next).0;
        if after != before {
            let (mut old, mut new) = (t, next);
            while (new - old).num_seconds() > 1 {
                let mid = old + Duration::seconds((new - old).num_seconds() / 2);
                if offset_at(zone, mid).0 == before {
                    old = mid;
                } else {
                    new = mid;
                }
            }
            let (to, dst) = offset_at(zone, new);
            changes.push((new, before, to, dst));
        }
        (t, before) = (next, after);
    }
    changes
}

/// A VTIMEZONE for `zone` describing every offset in force during the meeting's year (and the
/// one before it, so a January meeting is covered), one observance per real change of offset
/// (see [`transitions`]). Built once per zone and year and kept for the life of the process.
fn vtimezone(zone: Tz, year: i32) -> Arc<str> {
    type Built = HashMap<(Tz, i32), Arc<str>>;
    static BUILT: LazyLock<Mutex<Built>> = LazyLock::new(|| Mutex::new(HashMap::new()));
    let built = || {
        BUILT
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    };
    if let Some(text) = built().get(&(zone, year)) {
        return Arc::clone(text);
    }
    let text: Arc<str> = build_vtimezone(zone, year).into();
    built().insert((zone, year), Arc::clone(&text));
    text
}

fn build_vtimezone(zone: Tz, year: i32) -> String {
    let new_year = |y: i32| {
        NaiveDate::from_ymd_opt(y, 1, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|d| d.and_utc())
            .unwrap_or_default()
    };
    let (start, end) = (new_year(year - 1), new_year(year + 1));
    let crlf = "\r\n";
    let mut out = format!("BEGIN:VTIMEZONE{crlf}TZID:{}{crlf}", zone.name());
    let observance = |out: &mut String, dst: bool, local: String, from: i32, to: i32| {
        let kind = if dst { "DAYLIGHT" } else { "STANDARD" };
        let _ = write!(
            out,
            "BEGIN:{kind}{crlf}DTSTART:{local}{crlf}TZOFFSETFROM:{}{crlf}TZOFFSETTO:{}{crlf}END:{kind}{crlf}",
            offset_text(from),
            offset_text(to)
        );
    };
    let (first, first_dst) = offset_at(zone, start);
    observance(&mut out, first_dst, "19700101T000000".into(), first, first);
    for (at, from, to, dst) in transitions(zone, start, end) {
        // RFC 5545: an observance starts at the local time of the offset it replaces.
        let local = (at.naive_utc() + Duration::seconds(i64::from(from)))
            .format("%Y%m%dT%H%M%S")
            .to_string();
        observance(&mut out, dst, local, from, to);
    }
    let _ = write!(out, "END:VTIMEZONE{crlf}");
    out
}

/// The iCalendar text of an invitation (`Method::Request`) or its withdrawal (`Method::Cancel`).
///
/// # Errors
/// [`Error::Render`] if the meeting's zone is not an IANA zone.
pub fn invitation(
    meeting: &MeetingInfo,
    method: Method,
    domain: &str,
    organizer: &Organizer,
    attendee: &Recipient,
) -> Result<String> {
    let zone: Tz = meeting.time_zone.parse().map_err(|_| {
        Error::Render(format!(
            "meeting.time_zone: `{}` is not an IANA time zone such as Asia/Kathmandu",
            meeting.time_zone
        ))
    })?;
    let local = zone.from_utc_datetime(&meeting.starts_at.naive_utc());
    let end = local + Duration::minutes(i64::from(meeting.duration_minutes.max(0)));
    let tzid = zone.name().to_owned();
    let mut event = Event::new();
    event
        .uid(&uid(meeting, domain))
        .sequence(u32::try_from(meeting.version.max(0)).unwrap_or_default())
        .timestamp(Utc::now())
        .summary(&meeting.title)
        .starts(CalendarDateTime::WithTimezone {
            date_time: local.naive_local(),
            tzid: tzid.clone(),
        })
        .ends(CalendarDateTime::WithTimezone {
            date_time: end.naive_local(),
            tzid,
        })
        .description(&format!("{} ({})", meeting.state, meeting.iso3));
    if let Some(place) = &meeting.place {
        event.location(place);
    }
    let mut organizer_prop = Property::new("ORGANIZER", format!("mailto:{}", organizer.email));
    if let Some(name) = &organizer.name {
        organizer_prop.add_parameter("CN", name);
    }
    event.append_property(organizer_prop);
    let mut attendee_prop = Property::new("ATTENDEE", format!("mailto:{}", attendee.email));
    attendee_prop
        .add_parameter("CN", &attendee.name)
        .add_parameter("ROLE", "REQ-PARTICIPANT");
    if method == Method::Request {
        attendee_prop
            .add_parameter("PARTSTAT", "NEEDS-ACTION")
            .add_parameter("RSVP", "FALSE");
    }
    event.append_property(attendee_prop);
    match method {
        Method::Request => event.status(EventStatus::Confirmed),
        Method::Cancel => event.status(EventStatus::Cancelled),
    };
    let mut calendar = Calendar::new();
    calendar
        .append_property(Property::new("METHOD", method.as_str()))
        .push(event.done());
    let text = calendar.done().to_string();
    // icalendar has no VTIMEZONE component; it goes before the event it describes.
    let tz = vtimezone(zone, local.year());
    Ok(match text.find("BEGIN:VEVENT") {
        Some(i) => format!("{}{tz}{}", &text[..i], &text[i..]),
        None => text,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn organizer() -> Organizer {
        Organizer {
            name: Some("outreach".into()),
            email: "outreach@example.org".into(),
        }
    }

    #[test]
    fn a_request_names_its_zone_uid_and_sequence_and_parses_back() {
        let m = MeetingInfo::sample();
        let ics = invitation(
            &m,
            Method::Request,
            "ex.org",
            &organizer(),
            &Recipient::sample(),
        )
        .unwrap();
        assert!(ics.contains("METHOD:REQUEST"), "{ics}");
        assert!(
            ics.contains("DTSTART;TZID=Asia/Kathmandu:20261203T100000"),
            "{ics}"
        );
        assert!(
            ics.contains("DTEND;TZID=Asia/Kathmandu:20261203T110000"),
            "{ics}"
        );
        assert!(ics.contains("TZOFFSETTO:+0545"), "{ics}");
        let unfolded = icalendar::parser::unfold(&ics);
        let cal = icalendar::parser::read_calendar(&unfolded).unwrap();
        let event = cal.components.iter().find(|c| c.name == "VEVENT").unwrap();
        assert_eq!(
            event.find_prop("UID").unwrap().val.as_str(),
            format!("{}@ex.org", m.id)
        );
        assert_eq!(event.find_prop("SEQUENCE").unwrap().val.as_str(), "1");
    }

    /// Every change found is a real one (the offset differs one second before and at it), and
    /// none is missed (between two changes the offset is the same at every hour).
    #[test]
    fn changes_are_found_to_the_second_and_none_is_missed() {
        for name in [
            "Europe/Paris",
            "America/Santiago",
            "Australia/Lord_Howe",
            "Asia/Kathmandu",
            "America/Havana",
            "Africa/Casablanca",
        ] {
            let zone: Tz = name.parse().unwrap();
            let start = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();
            let end = Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap();
            let changes = transitions(zone, start, end);
            for (at, from, to, _) in &changes {
                assert_eq!(
                    offset_at(zone, *at - Duration::seconds(1)).0,
                    *from,
                    "{name} {at}"
                );
                assert_eq!(offset_at(zone, *at).0, *to, "{name} {at}");
            }
            let mut bounds = vec![start];
            bounds.extend(changes.iter().map(|c| c.0));
            bounds.push(end);
            for pair in bounds.windows(2) {
                let expected = offset_at(zone, pair[0]).0;
                let mut t = pair[0];
                while t < pair[1] {
                    assert_eq!(
                        offset_at(zone, t).0,
                        expected,
                        "{name}: a change near {t} was missed"
                    );
                    t += Duration::hours(1);
                }
            }
        }
        // Lord Howe moves by half an hour, Kathmandu not at all.
        let lord_howe = vtimezone("Australia/Lord_Howe".parse().unwrap(), 2026);
        assert!(
            lord_howe.contains("TZOFFSETFROM:+1030\r\nTZOFFSETTO:+1100"),
            "{lord_howe}"
        );
        let kathmandu = vtimezone("Asia/Kathmandu".parse().unwrap(), 2026);
        assert_eq!(
            kathmandu.matches("BEGIN:STANDARD").count(),
            1,
            "{kathmandu}"
        );
        assert!(!kathmandu.contains("DAYLIGHT"));
    }

    #[test]
    fn a_zone_with_summer_time_lists_both_changes_of_the_year() {
        let tz = vtimezone("Europe/Paris".parse().unwrap(), 2026);
        assert!(tz.contains("BEGIN:DAYLIGHT\r\nDTSTART:20260329T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200"), "{tz}");
        assert!(tz.contains("BEGIN:STANDARD\r\nDTSTART:20261025T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100"), "{tz}");
    }
}
