//! The typed merge context of each email template. Whoever queues an email builds one of these
//! and stores it as the outbox row's JSON context; the mailer parses it back into the same type
//! before rendering, so a template can only use fields that exist here.
//!
//! Instants are UTC; the mailer shows them in the recipient's zone and language.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Who a message is for, and how they read dates and times.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recipient {
    pub name: String,
    pub email: String,
    /// IANA zone the recipient reads times in.
    pub time_zone: String,
    /// ISO 639-1 language of the message (en, fr, es).
    pub language: String,
}

/// A meeting as a message shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeetingInfo {
    pub id: Uuid,
    /// Grows on every reschedule and on cancellation; the invitation's SEQUENCE.
    pub version: i32,
    pub title: String,
    pub iso3: String,
    pub state: String,
    pub starts_at: DateTime<Utc>,
    /// IANA zone the meeting is held in.
    pub time_zone: String,
    pub duration_minutes: i32,
    pub place: Option<String>,
    /// planned, held, cancelled.
    pub status: String,
    /// Staff handle of the owner.
    pub owner: String,
    /// Names of the participants.
    pub participants: Vec<String>,
}

/// `meeting_reminder`: a meeting is coming up. Carries an invitation (METHOD:REQUEST).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeetingReminder {
    pub recipient: Recipient,
    pub meeting: MeetingInfo,
    /// The rule that planned it, such as `meeting-1d`.
    pub rule: String,
    /// How long before the start the reminder was planned, in minutes.
    pub lead_minutes: i64,
}

/// `meeting_cancelled`: a planned meeting was cancelled. Carries METHOD:CANCEL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeetingCancelled {
    pub recipient: Recipient,
    pub meeting: MeetingInfo,
}

/// `outcome_missing`: a meeting was held (or its time passed) and no outcome is logged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutcomeMissing {
    pub recipient: Recipient,
    pub meeting: MeetingInfo,
    pub days_since: i64,
}

/// `follow_up_due`: a follow-up the recipient owns is due soon or overdue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FollowUpDue {
    pub recipient: Recipient,
    pub follow_up_id: Uuid,
    pub iso3: String,
    pub state: String,
    pub description: String,
    pub due_on: NaiveDate,
}

/// `grant_report_due`: a grantee's report deadline is near.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrantReportDue {
    pub recipient: Recipient,
    pub organisation: String,
    pub iso3: String,
    pub state: String,
    pub year: i32,
    pub due_on: NaiveDate,
    pub description: String,
}

/// One overdue follow-up in a digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DigestFollowUp {
    pub iso3: String,
    pub state: String,
    pub description: String,
    pub due_on: NaiveDate,
}

/// One state not party with no recent engagement, in a digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DigestQuietState {
    pub iso3: String,
    pub state: String,
    /// `None` when never engaged.
    pub days_since: Option<i64>,
}

/// `weekly_digest`: a staff member's week.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeeklyDigest {
    pub recipient: Recipient,
    /// Monday of the week, in the recipient's zone.
    pub week_of: NaiveDate,
    pub meetings: Vec<MeetingInfo>,
    pub overdue_follow_ups: Vec<DigestFollowUp>,
    pub quiet_states: Vec<DigestQuietState>,
}

/// `test_message`: what `outreach mail test` sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestMessage {
    pub recipient: Recipient,
    pub sent_at: DateTime<Utc>,
}
