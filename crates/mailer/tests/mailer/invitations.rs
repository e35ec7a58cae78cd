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
    let tx = outreach_core::db::begin(&conn).await.unwrap();
    let v2 = meetings::reschedule_in(&tx, &actor(), &v1.id.to_string(), "2026-12-04 15:30", None)
        .await
        .unwrap();
    tx.commit().await.unwrap();
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

    let tx = outreach_core::db::begin(&conn).await.unwrap();
    let cancelled = meetings::cancel_in(&tx, &actor(), &v1.id.to_string())
        .await
        .unwrap();
    tx.commit().await.unwrap();
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

    // An independent parser (Python's icalendar) reads the same invitations the same way.
    let second = python_ical(&invites[1]);
    assert_eq!(second["method"], "REQUEST", "{second}");
    assert_eq!(second["uid"], uid.as_str());
    assert_eq!(second["sequence"], 2);
    assert_eq!(second["dtstart"], "2026-12-04T15:30:00+05:45");
    assert_eq!(second["tzid"], "Asia/Kathmandu");
    assert_eq!(second["timezones"], serde_json::json!(["Asia/Kathmandu"]));
    let cancel = python_ical(&ics);
    assert_eq!(cancel["method"], "CANCEL", "{cancel}");
    assert_eq!(cancel["status"], "CANCELLED");
    assert_eq!(cancel["uid"], uid.as_str());
    assert_eq!(cancel["sequence"], i64::from(cancelled.version));
}

/// Parses an invitation with Python's icalendar package (the interpreter at
/// `OUTREACH_TEST_PYTHON`, which `./test` sets up, else `python3`) and returns what it read.
fn python_ical(ics: &str) -> serde_json::Value {
    use std::io::Write;
    let python = std::env::var("OUTREACH_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = r#"
import json, sys
import icalendar
cal = icalendar.Calendar.from_ical(sys.stdin.buffer.read())
ev = next(c for c in cal.walk("VEVENT"))
start = ev.decoded("DTSTART")
print(json.dumps({
    "method": str(cal.get("METHOD")),
    "uid": str(ev.get("UID")),
    "sequence": int(ev.get("SEQUENCE")),
    "status": str(ev.get("STATUS")) if ev.get("STATUS") else None,
    "dtstart": start.isoformat(),
    "tzid": ev["DTSTART"].params.get("TZID"),
    "timezones": [str(t.get("TZID")) for t in cal.walk("VTIMEZONE")],
}))
"#;
    let mut child = std::process::Command::new(&python)
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot run {python}: {e}; `./test --setup-only` makes .venv-test with icalendar and OUTREACH_TEST_PYTHON points at it")
        });
    child
        .stdin
        .take()
        .unwrap()
        .write_all(ics.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "Python's icalendar could not read the invitation (is it installed for {python}? \
         `./test --setup-only` sets it up):\n{}\n{ics}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}
db_test!(
    rescheduling_grows_the_sequence_keeps_the_uid_and_cancelling_sends_cancel,
    rescheduling_grows_the_sequence_keeps_the_uid_and_cancelling_sends_cancel
);
