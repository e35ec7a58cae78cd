//! Cron schedules in an IANA zone, with an explicit daylight-saving policy:
//! - a wall-clock time that does not exist (clocks jump forward) runs at the next valid instant;
//! - a wall-clock time that happens twice (clocks go back) runs once, at its first occurrence;
//! - after downtime, missed slots collapse into one firing for the latest of them.
//!
//! The cron expression is evaluated on the zone's wall clock (treated as if it were UTC), and each
//! wall-clock slot is then mapped to an instant under the policy above.

use chrono::{DateTime, Duration, LocalResult, NaiveDateTime, TimeZone, Utc};
use outreach_core::domain::IanaZone;

/// The instant a wall-clock time stands for in `zone`, under the policy above.
pub fn instant_of(zone: IanaZone, wall: NaiveDateTime) -> DateTime<Utc> {
    let tz = zone.tz();
    let mut probe = wall;
    // A gap is at most a few hours wide; walk forward a minute at a time to its end.
    for _ in 0..(24 * 60) {
        match tz.from_local_datetime(&probe) {
            LocalResult::Single(t) => return t.with_timezone(&Utc),
            LocalResult::Ambiguous(first, _) => return first.with_timezone(&Utc),
            LocalResult::None => probe += Duration::minutes(1),
        }
    }
    Utc.from_utc_datetime(&wall)
}

/// Slots of `schedule` in `zone` that fall in `(after, until]`, in order, each once.
pub fn slots_between(
    schedule: &cron::Schedule,
    zone: IanaZone,
    after: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Vec<DateTime<Utc>> {
    let mut out: Vec<DateTime<Utc>> = Vec::new();
    if until <= after {
        return out;
    }
    // Start a little before `after` on the wall clock: a slot inside a gap maps to an instant
    // later than its wall time, and an offset change can move wall time backwards.
    let start_wall = zone.local(after).naive_local() - Duration::hours(3);
    let end_wall = zone.local(until).naive_local() + Duration::hours(3);
    for wall in schedule.after(&Utc.from_utc_datetime(&start_wall)) {
        let wall = wall.naive_utc();
        if wall > end_wall {
            break;
        }
        let at = instant_of(zone, wall);
        if at > after && at <= until && out.last() != Some(&at) && !out.contains(&at) {
            out.push(at);
        }
    }
    out.sort_unstable();
    out
}

/// The next slot strictly after `after`.
pub fn next_after(
    schedule: &cron::Schedule,
    zone: IanaZone,
    after: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let start_wall = zone.local(after).naive_local() - Duration::hours(3);
    schedule
        .after(&Utc.from_utc_datetime(&start_wall))
        .take(10_000)
        .map(|wall| instant_of(zone, wall.naive_utc()))
        .find(|at| *at > after)
}

/// The latest slot in `(after, now]`: what a daemon fires after downtime (once).
pub fn latest_due(
    schedule: &cron::Schedule,
    zone: IanaZone,
    after: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let mut latest = None;
    let mut cursor = after;
    while let Some(next) = next_after(schedule, zone, cursor) {
        if next > now {
            break;
        }
        latest = Some(next);
        cursor = next;
    }
    latest
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn paris() -> IanaZone {
        IanaZone::parse("tz", "Europe/Paris").unwrap()
    }

    #[test]
    fn eight_oclock_in_paris_is_six_utc_in_summer_and_seven_in_winter() {
        let s = cron::Schedule::from_str("0 0 8 * * *").unwrap();
        assert_eq!(
            next_after(&s, paris(), utc("2026-07-01T00:00:00Z")),
            Some(utc("2026-07-01T06:00:00Z"))
        );
        assert_eq!(
            next_after(&s, paris(), utc("2026-12-01T00:00:00Z")),
            Some(utc("2026-12-01T07:00:00Z"))
        );
    }

    #[test]
    fn a_slot_in_the_spring_gap_runs_once_at_the_next_valid_instant() {
        let s = cron::Schedule::from_str("0 30 2 * * *").unwrap();
        let slots = slots_between(
            &s,
            paris(),
            utc("2026-03-28T12:00:00Z"),
            utc("2026-03-30T12:00:00Z"),
        );
        // 29 March: 02:30 does not exist; 03:00 CEST (01:00 UTC) is the next valid instant.
        assert_eq!(
            slots,
            vec![utc("2026-03-29T01:00:00Z"), utc("2026-03-30T00:30:00Z")]
        );
    }

    #[test]
    fn a_repeated_hour_runs_once() {
        let s = cron::Schedule::from_str("0 30 2 * * *").unwrap();
        let slots = slots_between(
            &s,
            paris(),
            utc("2026-10-24T12:00:00Z"),
            utc("2026-10-25T12:00:00Z"),
        );
        assert_eq!(slots, vec![utc("2026-10-25T00:30:00Z")]);
        let every_15 = cron::Schedule::from_str("0 */15 * * * *").unwrap();
        let slots = slots_between(
            &every_15,
            paris(),
            utc("2026-10-25T00:00:00Z"),
            utc("2026-10-25T01:59:00Z"),
        );
        let mut dedup = slots.clone();
        dedup.dedup();
        assert_eq!(slots, dedup);
    }

    #[test]
    fn missed_slots_collapse_into_the_latest() {
        let s = cron::Schedule::from_str("0 0 * * * *").unwrap();
        let zone = IanaZone::parse("tz", "UTC").unwrap();
        assert_eq!(
            latest_due(
                &s,
                zone,
                utc("2026-05-01T08:00:00Z"),
                utc("2026-05-01T11:30:00Z")
            ),
            Some(utc("2026-05-01T11:00:00Z"))
        );
        assert_eq!(
            latest_due(
                &s,
                zone,
                utc("2026-05-01T08:00:00Z"),
                utc("2026-05-01T08:59:00Z")
            ),
            None
        );
    }
}
