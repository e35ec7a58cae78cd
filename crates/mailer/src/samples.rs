//! A sample value of every context type, with every optional field set and every list holding
//! one item. The template check serializes these to learn which field paths a template may use,
//! so a field added to a context type is usable in templates at once.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use crate::context::{
    DigestFollowUp, DigestQuietState, FollowUpDue, GrantReportDue, MeetingCancelled, MeetingInfo,
    MeetingReminder, OutcomeMissing, Recipient, TestMessage, WeeklyDigest,
};

fn instant() -> DateTime<Utc> {
    DateTime::from_timestamp(1_796_271_300, 0).unwrap_or_default() // 2026-12-03 04:15 UTC
}

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 3).unwrap_or_default()
}

impl Recipient {
    /// A recipient in Kathmandu who reads English.
    pub fn sample() -> Self {
        Self {
            name: "Asha Sample".into(),
            email: "asha@example.org".into(),
            time_zone: "Asia/Kathmandu".into(),
            language: "en".into(),
        }
    }
}

impl MeetingInfo {
    /// A planned meeting in Kathmandu with a place and one participant.
    pub fn sample() -> Self {
        Self {
            id: Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001),
            version: 1,
            title: "Meeting at the ministry".into(),
            iso3: "NPL".into(),
            state: "Nepal".into(),
            starts_at: instant(),
            time_zone: "Asia/Kathmandu".into(),
            duration_minutes: 60,
            place: Some("Singha Durbar".into()),
            status: "planned".into(),
            owner: "maria".into(),
            participants: vec!["Asha Sample".into()],
        }
    }
}

impl MeetingReminder {
    pub fn sample() -> Self {
        Self {
            recipient: Recipient::sample(),
            meeting: MeetingInfo::sample(),
            rule: "meeting-1d".into(),
            lead_minutes: 1440,
        }
    }
}

impl MeetingCancelled {
    pub fn sample() -> Self {
        let mut meeting = MeetingInfo::sample();
        meeting.status = "cancelled".into();
        meeting.version = 2;
        Self {
            recipient: Recipient::sample(),
            meeting,
        }
    }
}

impl OutcomeMissing {
    pub fn sample() -> Self {
        Self {
            recipient: Recipient::sample(),
            meeting: MeetingInfo::sample(),
            days_since: 3,
        }
    }
}

impl FollowUpDue {
    pub fn sample() -> Self {
        Self {
            recipient: Recipient::sample(),
            follow_up_id: Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0002),
            iso3: "NPL".into(),
            state: "Nepal".into(),
            description: "Send the accession kit to the ministry".into(),
            due_on: day(),
        }
    }
}

impl GrantReportDue {
    pub fn sample() -> Self {
        Self {
            recipient: Recipient::sample(),
            organisation: "Nepal Campaign to Ban Landmines".into(),
            iso3: "NPL".into(),
            state: "Nepal".into(),
            year: 2026,
            due_on: day(),
            description: "Final narrative and financial report".into(),
        }
    }
}

impl WeeklyDigest {
    pub fn sample() -> Self {
        Self {
            recipient: Recipient::sample(),
            week_of: day(),
            meetings: vec![MeetingInfo::sample()],
            overdue_follow_ups: vec![DigestFollowUp {
                iso3: "NPL".into(),
                state: "Nepal".into(),
                description: "Send the accession kit to the ministry".into(),
                due_on: day(),
            }],
            quiet_states: vec![DigestQuietState {
                iso3: "IND".into(),
                state: "India".into(),
                days_since: Some(120),
            }],
        }
    }
}

impl TestMessage {
    pub fn sample() -> Self {
        Self {
            recipient: Recipient::sample(),
            sent_at: instant(),
        }
    }
}
