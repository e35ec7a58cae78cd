//! Calendar invitations across a meeting's life, delivered through the SMTP server: a reschedule
//! grows SEQUENCE under the same UID, a cancellation sends METHOD:CANCEL.

use outreach_core::meetings;
use outreach_mailer::context::{MeetingCancelled, MeetingReminder};
use outreach_testkit::TestDb;
use outreach_testkit::db_test;
use outreach_testkit::smtp::SmtpServer;

use crate::helpers::{
    WAIT, actor, calendar_prop, drain, event_prop, info, mailer, open, parse, plan_meeting, queue,
    recipient, smtp_settings,
};

async fn rescheduling_grows_the_sequence_keeps_the_uid_and_cancelling_sends_cancel(db: &TestDb) {
    let conn = open(&db.url).await;
    let smtp = SmtpServer::start().await;
    let mailer = mailer(&smtp_settings(smtp.port()));
    let to = recipient("amelie@example.org", "Asia/Kathmandu", "en");
    let v1 = plan_meeting(&conn, "2026-12-03 10:00").await;
    let remind = |m: &meetings::MeetingView| MeetingReminder {
        recipient: to.clone(),
        meeting: info(m),
        rule: "meeting-1d".into(),
        lead_minutes: 1440,
    };
    queue(&conn, "reminder:v1", &remind(&v1)).await;
    let v2 = meetings::reschedule(
        &conn,
        &actor(),
        &v1.id.to_string(),
        "2026-12-04 15:30",
        None,
    )
    .await
    .unwrap();
    assert_eq!(v2.version, 2);
    queue(&conn, "reminder:v2", &remind(&v2)).await;
    drain(&conn, &mailer).await;
    let got = smtp.wait_for(2, WAIT).await;
    assert_eq!(got.len(), 2);
    let mut invites: Vec<String> = got
        .iter()
        .map(|r| parse(&r.data).calendar.expect("an invitation").1)
        .collect();
    invites.sort_by_key(|ics| event_prop(ics, "SEQUENCE"));
    let uid = format!("{}@mail.outreach.test", v1.id);
    assert_eq!(event_prop(&invites[0], "SEQUENCE").as_deref(), Some("1"));
    assert_eq!(event_prop(&invites[1], "SEQUENCE").as_deref(), Some("2"));
    assert_eq!(
        event_prop(&invites[0], "UID").as_deref(),
        Some(uid.as_str())
    );
    assert_eq!(
        event_prop(&invites[1], "UID").as_deref(),
        Some(uid.as_str())
    );
    assert!(
        invites[1].contains("DTSTART;TZID=Asia/Kathmandu:20261204T153000"),
        "{}",
        invites[1]
    );

    let cancelled = meetings::cancel(&conn, &actor(), &v1.id.to_string())
        .await
        .unwrap();
    queue(
        &conn,
        "cancelled:v3",
        &MeetingCancelled {
            recipient: to.clone(),
            meeting: info(&cancelled),
        },
    )
    .await;
    drain(&conn, &mailer).await;
    let got = smtp.wait_for(3, WAIT).await;
    assert_eq!(got.len(), 3);
    let mail = parse(&got[2].data);
    assert!(
        mail.subject.starts_with("Cancelled: Accession briefing"),
        "{}",
        mail.subject
    );
    let (content_type, ics) = mail.calendar.expect("a cancellation");
    assert_eq!(content_type, "text/calendar; method=CANCEL");
    assert_eq!(calendar_prop(&ics, "METHOD").as_deref(), Some("CANCEL"));
    assert_eq!(event_prop(&ics, "STATUS").as_deref(), Some("CANCELLED"));
    assert_eq!(event_prop(&ics, "UID").as_deref(), Some(uid.as_str()));
    assert_eq!(
        event_prop(&ics, "SEQUENCE"),
        Some(cancelled.version.to_string()),
        "a cancellation outranks every earlier invitation"
    );
    assert!(cancelled.version > 2);
}
db_test!(
    rescheduling_grows_the_sequence_keeps_the_uid_and_cancelling_sends_cancel,
    rescheduling_grows_the_sequence_keeps_the_uid_and_cancelling_sends_cancel
);
