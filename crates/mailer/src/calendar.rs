//! Meeting invitations as iCalendar (RFC 5545 / iTIP RFC 5546): a `REQUEST` for a planned
//! meeting and a `CANCEL` for a cancelled one, with a UID that stays the same for the meeting's
//! whole life and a SEQUENCE that follows its version, so calendar clients update one entry
//! instead of adding another.

use std::fmt::Write as _;

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

/// A VTIMEZONE for `zone` describing every offset in force during the meeting's year (and the
/// one before it, so a January meeting is covered), computed from the zone database.
fn vtimezone(zone: Tz, year: i32) -> String {
    let start = NaiveDate::from_ymd_opt(year - 1, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc())
        .unwrap_or_default();
    let end = NaiveDate::from_ymd_opt(year + 1, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc())
        .unwrap_or_default();
    let crlf = "\r\n";
    let mut out = format!("BEGIN:VTIMEZONE{crlf}TZID:{}{crlf}", zone.name());
    let (first, first_dst) = offset_at(zone, start);
    let observance = |out: &mut String, dst: bool, local: String, from: i32, to: i32| {
        let kind = if dst { "DAYLIGHT" } else { "STANDARD" };
        let _ = write!(
            out,
            "BEGIN:{kind}{crlf}DTSTART:{local}{crlf}TZOFFSETFROM:{}{crlf}TZOFFSETTO:{}{crlf}END:{kind}{crlf}",
            offset_text(from),
            offset_text(to)
        );
    };
    observance(&mut out, first_dst, "19700101T000000".into(), first, first);
    let (mut prev, mut t) = (first, start);
    while t < end {
        let next = t + Duration::hours(1);
        let (now, _) = offset_at(zone, next);
        if now != prev {
            // Find the minute of the change within the hour.
            let mut at = t;
            while offset_at(zone, at).0 == prev {
                at += Duration::minutes(1);
            }
            let (to, dst) = offset_at(zone, at);
            let local = (at.naive_utc() + Duration::seconds(i64::from(prev)))
                .format("%Y%m%dT%H%M%S")
                .to_string();
            observance(&mut out, dst, local, prev, to);
            prev = to;
        }
        t = next;
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

    #[test]
    fn a_zone_with_summer_time_lists_both_changes_of_the_year() {
        let tz = vtimezone("Europe/Paris".parse().unwrap(), 2026);
        assert!(tz.contains("BEGIN:DAYLIGHT\r\nDTSTART:20260329T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200"), "{tz}");
        assert!(tz.contains("BEGIN:STANDARD\r\nDTSTART:20261025T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100"), "{tz}");
    }
}
