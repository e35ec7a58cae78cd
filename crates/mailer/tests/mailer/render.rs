//! Rendering without delivery: every template in every language, dates in the reader's zone and
//! language, HTML escaping, one-line subjects, and rows that can never render.

use outreach_mailer::context::{
    FollowUpDue, GrantReportDue, MeetingCancelled, MeetingReminder, OutcomeMissing, TestMessage,
    WeeklyDigest,
};
use outreach_mailer::entities::outbox;
use outreach_mailer::locale::LANGUAGES;
use outreach_mailer::{Error, Mailer};

use crate::helpers::{mailer, smtp_settings};

/// A mailer that is never asked to deliver (the file transport needs no runtime).
fn file_mailer() -> Mailer {
    let mut settings = smtp_settings(25);
    settings.transport = "file".into();
    mailer(&settings)
}

#[test]
fn every_shipped_template_renders_in_every_language() {
    let m = file_mailer();
    for lang in LANGUAGES {
        let mut rendered = vec![
            m.render_context(lang, &MeetingReminder::sample()).unwrap(),
            m.render_context(lang, &MeetingCancelled::sample()).unwrap(),
            m.render_context(lang, &OutcomeMissing::sample()).unwrap(),
            m.render_context(lang, &FollowUpDue::sample()).unwrap(),
            m.render_context(lang, &GrantReportDue::sample()).unwrap(),
            m.render_context(lang, &WeeklyDigest::sample()).unwrap(),
            m.render_context(lang, &TestMessage::sample()).unwrap(),
        ];
        for r in &mut rendered {
            assert!(
                !r.subject.is_empty() && !r.subject.contains('\n'),
                "{lang}: {r:?}"
            );
            assert!(r.text.contains("Asha Sample"), "{lang}: {}", r.text);
            assert!(r.html.starts_with("<!DOCTYPE html>"), "{lang}: {}", r.html);
            assert!(
                !r.text.contains("{{") && !r.html.contains("{{"),
                "{lang}: {r:?}"
            );
        }
        assert_eq!(rendered[0].ics_method, Some("REQUEST"));
        assert_eq!(rendered[1].ics_method, Some("CANCEL"));
        assert!(rendered[2..].iter().all(|r| r.ics.is_none()));
    }
}

#[test]
fn meeting_times_are_shown_in_the_readers_zone_and_language_with_the_zone_named() {
    let m = file_mailer();
    let mut ctx = MeetingReminder::sample();
    let en = m.render_context("en", &ctx).unwrap();
    assert!(
        en.text
            .contains("When: Thursday 3 December 2026, 10:00 (Asia/Kathmandu)"),
        "{}",
        en.text
    );
    ctx.recipient.time_zone = "Europe/Paris".into();
    let fr = m.render_context("fr", &ctx).unwrap();
    assert!(
        fr.text
            .contains("Quand : jeudi 3 décembre 2026, 05:15 (Europe/Paris)"),
        "{}",
        fr.text
    );
    assert!(
        fr.text
            .contains("jeudi 3 décembre 2026, 10:00 (Asia/Kathmandu)"),
        "the local time where the meeting is held is shown too: {}",
        fr.text
    );
    assert!(fr.text.contains("Durée : 1 heure"), "{}", fr.text);
    let es = m.render_context("es", &ctx).unwrap();
    assert!(
        es.subject
            .contains("jueves 3 de diciembre de 2026, 05:15 (Europe/Paris)"),
        "{}",
        es.subject
    );
}

#[test]
fn html_is_escaped_and_text_is_not_and_subjects_stay_on_one_line() {
    let m = file_mailer();
    let mut ctx = MeetingReminder::sample();
    ctx.meeting.title =
        "Talks <script>alert(1)</script> & \"more\"\r\nBcc: victim@example.org".into();
    let r = m.render_context("en", &ctx).unwrap();
    assert!(
        r.html
            .contains("Talks &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;more&quot;"),
        "{}",
        r.html
    );
    assert!(!r.html.contains("<script>"), "{}", r.html);
    assert!(
        r.text
            .contains("Talks <script>alert(1)</script> & \"more\""),
        "{}",
        r.text
    );
    assert!(
        !r.subject.contains('\r') && !r.subject.contains('\n'),
        "{:?}",
        r.subject
    );
    assert!(
        r.subject.contains("\"more\" Bcc: victim@example.org"),
        "{:?}",
        r.subject
    );
}

#[test]
fn optional_fields_and_empty_lists_render_without_blanks() {
    let m = file_mailer();
    let mut ctx = MeetingReminder::sample();
    ctx.meeting.place = None;
    ctx.meeting.participants.clear();
    let r = m.render_context("en", &ctx).unwrap();
    assert!(
        !r.text.contains("Where:") && !r.text.contains("With:"),
        "{}",
        r.text
    );
    let mut digest = WeeklyDigest::sample();
    digest.meetings.clear();
    digest.quiet_states[0].days_since = None;
    let r = m.render_context("en", &digest).unwrap();
    assert!(r.text.contains("Meetings:\n- none\n"), "{}", r.text);
    assert!(r.text.contains("India (IND): never engaged"), "{}", r.text);
    let r = m.render_context("en", &WeeklyDigest::sample()).unwrap();
    assert!(
        r.text.contains("- Thursday 3 December 2026, 10:00 (Asia/Kathmandu): Meeting at the ministry (Nepal), Singha Durbar"),
        "times inside #each use the reader's zone: {}",
        r.text
    );
}

fn row(template: &str, language: &str, context: &str) -> outbox::Model {
    let now = chrono::Utc::now();
    outbox::Model {
        id: uuid::Uuid::now_v7(),
        idempotency_key: "k".into(),
        recipient_email: "asha@example.org".into(),
        recipient_name: None,
        template: template.into(),
        language: language.into(),
        context: context.into(),
        status: "queued".into(),
        attempts: 0,
        next_attempt_at: now,
        lease_owner: None,
        lease_expires_at: None,
        last_error: None,
        smtp_reply: None,
        message_id: "abc".into(),
        subject_kind: None,
        subject_id: None,
        job_id: None,
        created_at: now,
        updated_at: now,
        sent_at: None,
    }
}

#[test]
fn rows_that_cannot_render_say_why() {
    let m = file_mailer();
    let ctx = serde_json::to_string(&TestMessage::sample()).unwrap();
    let err = |r: outbox::Model| match m.render(&r) {
        Err(Error::Render(reason)) => reason,
        other => panic!("expected a render error, got {other:?}"),
    };
    let reason = err(row("birthday_card", "en", &ctx));
    assert!(
        reason.contains("unknown template `birthday_card`") && reason.contains("test_message"),
        "{reason}"
    );
    let reason = err(row("meeting_reminder", "en", &ctx));
    assert!(
        reason.contains("does not match its type") && reason.contains("meeting"),
        "{reason}"
    );
    let reason = err(row("test_message", "de", &ctx));
    assert!(
        reason.contains("no de version") && reason.contains("en, fr, es"),
        "{reason}"
    );
    assert!(m.render(&row("test_message", "fr", &ctx)).is_ok());
}
