//! Delivery through a real SMTP server on 127.0.0.1, on SQLite and PostgreSQL: what arrives, and
//! what the outbox records when the server is down, answers 451, or answers 550.

use std::time::Duration;

use chrono::Utc;
use outreach_mailer::context::{MeetingReminder, TestMessage};
use outreach_mailer::entities::{outbox, undeliverable_address};
use outreach_mailer::outbox::status;
use outreach_mailer::{deliver_once, ledger};
use outreach_testkit::TestDb;
use outreach_testkit::db_test;
use outreach_testkit::smtp::{Reply, SmtpServer, free_port};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter,
};

use crate::helpers::{
    WAIT, drain, drain_beside_others, info, mailer, open, parse, plan_meeting, queue, recipient,
    row, smtp_settings, test_message,
};

async fn a_reminder_reaches_the_server_with_text_html_local_time_and_an_invitation(db: &TestDb) {
    let conn = open(&db.url).await;
    let smtp = SmtpServer::start().await;
    let mailer = mailer(&smtp_settings(smtp.port()));
    let meeting = plan_meeting(&conn, "2026-12-03 10:00").await;
    let ctx = MeetingReminder {
        recipient: recipient("amelie@example.org", "Europe/Paris", "fr"),
        meeting: info(&meeting),
        rule: "meeting-1d".into(),
        lead_minutes: 1440,
    };
    let id = queue(&conn, "reminder:meeting-1d:m:1:amelie", &ctx).await;
    assert_eq!(drain(&conn, &mailer).await, 1);

    let got = smtp.wait_for(1, WAIT).await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].rcpt_to, vec!["amelie@example.org".to_owned()]);
    assert_eq!(got[0].mail_from, "outreach@example.org");
    let mail = parse(&got[0].data);
    assert!(mail.to.contains("amelie@example.org"), "{}", mail.to);
    assert_eq!(
        mail.subject,
        "Rappel : Accession briefing at the Ministry (Nepal), jeudi 3 décembre 2026, 05:15 (Europe/Paris)"
    );
    assert!(
        mail.text
            .contains("Quand : jeudi 3 décembre 2026, 05:15 (Europe/Paris)"),
        "{}",
        mail.text
    );
    assert!(
        mail.text.contains("10:00 (Asia/Kathmandu)"),
        "{}",
        mail.text
    );
    assert!(
        mail.text.contains("Lieu : Singha Durbar, Kathmandu"),
        "{}",
        mail.text
    );
    assert!(
        mail.html
            .contains("<strong>jeudi 3 décembre 2026, 05:15 (Europe/Paris)</strong>"),
        "{}",
        mail.html
    );
    let (content_type, ics) = mail.calendar.expect("a text/calendar part");
    assert_eq!(content_type, "text/calendar; method=REQUEST");
    assert!(
        ics.contains("DTSTART;TZID=Asia/Kathmandu:20261203T100000"),
        "{ics}"
    );
    assert!(
        ics.contains("DTEND;TZID=Asia/Kathmandu:20261203T113000"),
        "{ics}"
    );
    assert_eq!(
        crate::helpers::calendar_prop(&ics, "METHOD").as_deref(),
        Some("REQUEST")
    );
    assert_eq!(
        crate::helpers::event_prop(&ics, "UID"),
        Some(format!("{}@mail.outreach.test", meeting.id))
    );
    assert_eq!(
        crate::helpers::event_prop(&ics, "SEQUENCE").as_deref(),
        Some("1")
    );

    let sent = row(&conn, id).await;
    assert_eq!(sent.status, status::SENT);
    assert_eq!(sent.attempts, 1);
    assert!(sent.sent_at.is_some());
    assert!(
        sent.smtp_reply
            .as_deref()
            .unwrap_or_default()
            .starts_with("250 2.0.0 Ok"),
        "{sent:?}"
    );
    assert_eq!(
        mail.message_id,
        format!("<{}@mail.outreach.test>", sent.message_id)
    );
    assert_eq!(
        deliver_once(&conn, &mailer).await.unwrap(),
        0,
        "nothing is left to send"
    );
}
db_test!(
    a_reminder_reaches_the_server_with_text_html_local_time_and_an_invitation,
    a_reminder_reaches_the_server_with_text_html_local_time_and_an_invitation
);

async fn a_server_down_at_first_gets_the_message_exactly_once_after_retries(db: &TestDb) {
    let conn = open(&db.url).await;
    let port = free_port();
    let mailer = mailer(&smtp_settings(port));
    let id = queue(&conn, "test:down", &test_message("ana@example.org")).await;

    for attempt in 1..=2 {
        assert_eq!(deliver_once(&conn, &mailer).await.unwrap(), 1);
        let r = row(&conn, id).await;
        assert_eq!((r.status.as_str(), r.attempts), (status::QUEUED, attempt));
        assert!(r.last_error.is_some(), "{r:?}");
    }
    let smtp = SmtpServer::start_on(port).await;
    assert_eq!(drain(&conn, &mailer).await, 1);
    assert_eq!(drain(&conn, &mailer).await, 0);
    let got = smtp.wait_for(1, WAIT).await;
    assert_eq!(got.len(), 1);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(smtp.received().len(), 1, "delivered exactly once");
    let r = row(&conn, id).await;
    assert_eq!((r.status.as_str(), r.attempts), (status::SENT, 3));
    assert_eq!(r.last_error, None);
    assert!(parse(&got[0].data).subject.contains("Mensaje de prueba"));
}
db_test!(
    a_server_down_at_first_gets_the_message_exactly_once_after_retries,
    a_server_down_at_first_gets_the_message_exactly_once_after_retries
);

async fn a_451_then_250_delivers_the_message_once(db: &TestDb) {
    let conn = open(&db.url).await;
    let smtp = SmtpServer::start().await;
    smtp.script([Reply::RejectData("451 4.3.0 Try again later".into())]);
    let mailer = mailer(&smtp_settings(smtp.port()));
    let id = queue(&conn, "test:451", &test_message("ana@example.org")).await;

    assert_eq!(deliver_once(&conn, &mailer).await.unwrap(), 1);
    let r = row(&conn, id).await;
    assert_eq!((r.status.as_str(), r.attempts), (status::QUEUED, 1));
    assert!(
        r.last_error
            .as_deref()
            .unwrap_or_default()
            .contains("451 4.3.0 Try again later"),
        "{r:?}"
    );
    assert_eq!(drain(&conn, &mailer).await, 1);
    let r = row(&conn, id).await;
    assert_eq!((r.status.as_str(), r.attempts), (status::SENT, 2));
    assert_eq!(smtp.received().len(), 1);
    let replies = smtp.replies();
    assert_eq!(replies.len(), 2, "{replies:?}");
    assert!(
        replies[0].starts_with("451") && replies[1].starts_with("250"),
        "{replies:?}"
    );
}
db_test!(
    a_451_then_250_delivers_the_message_once,
    a_451_then_250_delivers_the_message_once
);

async fn a_550_fails_the_message_with_the_reply_and_marks_the_address(db: &TestDb) {
    let conn = open(&db.url).await;
    let smtp = SmtpServer::start().await;
    let refusal = "550 5.1.1 <gone@example.org>: Recipient address rejected: User unknown";
    smtp.script([Reply::RejectRecipient(refusal.into())]);
    let mailer = mailer(&smtp_settings(smtp.port()));
    let id = queue(&conn, "test:550", &test_message("gone@example.org")).await;

    assert_eq!(drain(&conn, &mailer).await, 1, "not retried");
    let r = row(&conn, id).await;
    assert_eq!((r.status.as_str(), r.attempts), (status::FAILED, 1));
    let reason = r.last_error.unwrap_or_default();
    assert!(
        reason.contains("550") && reason.contains("User unknown"),
        "{reason}"
    );
    assert!(smtp.received().is_empty());
    let mark = undeliverable_address::Entity::find_by_id("gone@example.org".to_owned())
        .one(&conn)
        .await
        .unwrap()
        .expect("the address is marked undeliverable");
    assert!(mark.reason.contains("User unknown"), "{mark:?}");

    // A later message to the same address fails at once, without talking to the server.
    let later = queue(&conn, "test:550:later", &test_message("Gone@Example.org")).await;
    let connections = smtp.connections();
    assert_eq!(drain(&conn, &mailer).await, 1);
    let r = row(&conn, later).await;
    assert_eq!(r.status, status::FAILED);
    assert!(
        r.last_error
            .unwrap_or_default()
            .contains("refused permanently")
    );
    assert_eq!(smtp.replies().len(), 1, "the server saw no second attempt");
    assert!(smtp.connections() <= connections + 1);

    // Requeueing is for coordinators, whichever front end asks.
    let err = ledger::requeue(&conn, "sam", &id.to_string())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("only coordinators can requeue messages"),
        "{err}"
    );
    let coordinator =
        outreach_core::Actor::new("maria", outreach_core::domain::IanaZone::UTC).unwrap();
    outreach_core::actor::upsert_user(
        &conn,
        &coordinator,
        &outreach_core::actor::UserInput {
            handle: "maria".into(),
            role: Some("coordinator".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    // A coordinator fixes the address on the server's side and requeues: it goes out and the
    // mark is lifted.
    let requeued = ledger::requeue(&conn, "maria", &id.to_string())
        .await
        .unwrap();
    assert_eq!(requeued.entry.status, status::QUEUED);
    assert_eq!(
        requeued.cleared_address.as_deref(),
        Some("gone@example.org")
    );
    assert_eq!(drain(&conn, &mailer).await, 1);
    assert_eq!(row(&conn, id).await.status, status::SENT);
    assert_eq!(smtp.received().len(), 1);
    let err = ledger::requeue(&conn, "maria", &id.to_string())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("is sent; only failed messages can be requeued"),
        "{err}"
    );
    let failed = ledger::list(&conn, Some("failed"), 10).await.unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].id, later);
}
db_test!(
    a_550_fails_the_message_with_the_reply_and_marks_the_address,
    a_550_fails_the_message_with_the_reply_and_marks_the_address
);

async fn transient_failures_give_up_after_max_attempts(db: &TestDb) {
    let conn = open(&db.url).await;
    let mut settings = smtp_settings(free_port());
    settings.max_attempts = 3;
    let mailer = mailer(&settings);
    let id = queue(&conn, "test:giveup", &test_message("ana@example.org")).await;
    assert_eq!(drain(&conn, &mailer).await, 3);
    let r = row(&conn, id).await;
    assert_eq!((r.status.as_str(), r.attempts), (status::FAILED, 3));
    assert!(
        r.last_error
            .unwrap_or_default()
            .starts_with("gave up after 3 attempts")
    );
}
db_test!(
    transient_failures_give_up_after_max_attempts,
    transient_failures_give_up_after_max_attempts
);

async fn expired_leases_are_reclaimed_and_live_ones_are_not(db: &TestDb) {
    let conn = open(&db.url).await;
    let smtp = SmtpServer::start().await;
    let mailer = mailer(&smtp_settings(smtp.port()));
    let crashed = queue(&conn, "test:crashed", &test_message("a@example.org")).await;
    let busy = queue(&conn, "test:busy", &test_message("b@example.org")).await;
    for (id, expires) in [
        (crashed, Utc::now() - chrono::Duration::seconds(5)),
        (busy, Utc::now() + chrono::Duration::minutes(5)),
    ] {
        let mut r = row(&conn, id).await.into_active_model();
        r.status = Set(status::SENDING.into());
        r.lease_owner = Set(Some("another-daemon".into()));
        r.lease_expires_at = Set(Some(expires));
        r.update(&conn).await.unwrap();
    }
    assert_eq!(drain(&conn, &mailer).await, 1);
    assert_eq!(row(&conn, crashed).await.status, status::SENT);
    assert_eq!(row(&conn, busy).await.status, status::SENDING);
    assert_eq!(smtp.received().len(), 1);
    assert_eq!(smtp.received()[0].rcpt_to, vec!["a@example.org".to_owned()]);
}
db_test!(
    expired_leases_are_reclaimed_and_live_ones_are_not,
    expired_leases_are_reclaimed_and_live_ones_are_not
);

async fn the_rate_limit_caps_messages_per_minute(db: &TestDb) {
    let conn = open(&db.url).await;
    let smtp = SmtpServer::start().await;
    let mut settings = smtp_settings(smtp.port());
    settings.rate_per_minute = 2;
    let mailer = mailer(&settings);
    for i in 0..3 {
        queue(
            &conn,
            &format!("test:rate:{i}"),
            &test_message("a@example.org"),
        )
        .await;
    }
    assert_eq!(deliver_once(&conn, &mailer).await.unwrap(), 2);
    assert_eq!(deliver_once(&conn, &mailer).await.unwrap(), 0);
    assert_eq!(smtp.received().len(), 2);
    let queued = ledger::list(&conn, Some("queued"), 10).await.unwrap();
    assert_eq!(queued.len(), 1);
}
db_test!(
    the_rate_limit_caps_messages_per_minute,
    the_rate_limit_caps_messages_per_minute
);

async fn pooled_connections_are_reused_and_per_message_ones_are_not(db: &TestDb) {
    let conn = open(&db.url).await;
    for (pool, expected) in [(1, 1), (0, 4)] {
        let smtp = SmtpServer::start().await;
        let mut settings = smtp_settings(smtp.port());
        settings.smtp_pool_size = pool;
        let mailer = mailer(&settings);
        for i in 0..4 {
            queue(
                &conn,
                &format!("test:pool{pool}:{i}"),
                &test_message("a@example.org"),
            )
            .await;
        }
        drain(&conn, &mailer).await;
        assert_eq!(smtp.wait_for(4, WAIT).await.len(), 4);
        assert_eq!(smtp.connections(), expected, "pool size {pool}");
    }
}
db_test!(
    pooled_connections_are_reused_and_per_message_ones_are_not,
    pooled_connections_are_reused_and_per_message_ones_are_not
);

async fn the_file_transport_writes_one_eml_per_message(db: &TestDb) {
    let conn = open(&db.url).await;
    let mut settings = smtp_settings(0);
    settings.transport = "file".into();
    settings.file_dir = db.dir.path().join("mail").display().to_string();
    let mailer = mailer(&settings);
    let id = queue(&conn, "test:file", &test_message("a@example.org")).await;
    assert_eq!(drain(&conn, &mailer).await, 1);
    let r = row(&conn, id).await;
    let path = db
        .dir
        .path()
        .join("mail")
        .join(format!("{}.eml", r.message_id));
    assert_eq!(r.status, status::SENT);
    assert!(
        r.smtp_reply
            .unwrap_or_default()
            .contains(&path.display().to_string())
    );
    let mail = parse(&std::fs::read_to_string(&path).unwrap());
    assert_eq!(mail.subject, "Mensaje de prueba de outreach");
}
db_test!(
    the_file_transport_writes_one_eml_per_message,
    the_file_transport_writes_one_eml_per_message
);

async fn the_daemon_loop_delivers_and_stops_on_shutdown(db: &TestDb) {
    let conn = open(&db.url).await;
    let smtp = SmtpServer::start().await;
    let mut settings = smtp_settings(smtp.port());
    settings.poll_secs = 1;
    let mailer = std::sync::Arc::new(mailer(&settings));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let loop_db = conn.clone();
    let loop_mailer = std::sync::Arc::clone(&mailer);
    let daemon = tokio::spawn(async move {
        outreach_mailer::run(&loop_db, &loop_mailer, async {
            let _ = stopped.await;
        })
        .await
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    queue(&conn, "test:daemon", &test_message("a@example.org")).await;
    assert_eq!(smtp.wait_for(1, Duration::from_secs(10)).await.len(), 1);
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), daemon)
        .await
        .expect("the loop stops on shutdown")
        .unwrap()
        .unwrap();
    let all = outbox::Entity::find().all(&conn).await.unwrap();
    assert!(all.iter().all(|r| r.status == status::SENT), "{all:?}");
}
db_test!(
    the_daemon_loop_delivers_and_stops_on_shutdown,
    the_daemon_loop_delivers_and_stops_on_shutdown
);

async fn two_mailers_draining_together_send_each_message_once(db: &TestDb) {
    let conn = open(&db.url).await;
    let smtp = SmtpServer::start().await;
    let n = 24;
    // A relay that takes 50 ms a message: while one mailer waits on its round, the other claims
    // (with an instant relay, one mailer could drain the outbox before the other's first claim
    // on a loaded machine).
    smtp.script((0..n).map(|_| Reply::AcceptAfter(Duration::from_millis(50))));
    let mut settings = smtp_settings(smtp.port());
    settings.batch_size = 3;
    let (a, b) = (mailer(&settings), mailer(&settings));
    for i in 0..n {
        queue(
            &conn,
            &format!("test:pair:{i}"),
            &test_message(&format!("r{i}@example.org")),
        )
        .await;
    }
    let (ra, rb) = tokio::join!(
        drain_beside_others(&conn, &a),
        drain_beside_others(&conn, &b)
    );
    assert!(
        ra > 0 && rb > 0,
        "both mailers took part: {ra} and {rb} rounds"
    );
    let got = smtp.wait_for(n, WAIT).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut to: Vec<String> = smtp
        .received()
        .iter()
        .map(|r| r.rcpt_to[0].clone())
        .collect();
    to.sort();
    to.dedup();
    assert_eq!((got.len(), to.len()), (n, n), "every message exactly once");
    let sent = ledger::list(&conn, Some("sent"), 100).await.unwrap();
    assert_eq!(sent.len(), n);
    assert!(sent.iter().all(|r| r.attempts == 1));
}
db_test!(
    two_mailers_draining_together_send_each_message_once,
    two_mailers_draining_together_send_each_message_once
);

async fn starttls_required_never_falls_back_to_plain_text(db: &TestDb) {
    let conn = open(&db.url).await;
    // The test server offers no STARTTLS: the message must wait, not go out unencrypted.
    let smtp = SmtpServer::start().await;
    let mut settings = smtp_settings(smtp.port());
    settings.smtp_security = "starttls".into();
    settings.smtp_host = "localhost".into();
    let mailer = mailer(&settings);
    let id = queue(&conn, "test:starttls", &test_message("a@example.org")).await;
    assert_eq!(deliver_once(&conn, &mailer).await.unwrap(), 1);
    let r = row(&conn, id).await;
    assert_eq!((r.status.as_str(), r.attempts), (status::QUEUED, 1));
    assert!(
        r.last_error.unwrap_or_default().contains("STARTTLS"),
        "the reason names STARTTLS"
    );
    assert!(smtp.received().is_empty());
}
db_test!(
    starttls_required_never_falls_back_to_plain_text,
    starttls_required_never_falls_back_to_plain_text
);

/// A committed row wakes an idle delivery loop at once: with `mail.poll_secs` at its default
/// (10 s), an email queued from another connection (as another process would: NOTIFY on
/// PostgreSQL, the 100 ms look on SQLite) and one queued in this process (the in-process wake)
/// each reach the server within a second.
async fn a_committed_row_wakes_the_idle_loop_well_before_the_poll_interval(db: &TestDb) {
    let conn = open(&db.url).await;
    let smtp = SmtpServer::start().await;
    let settings = smtp_settings(smtp.port());
    assert_eq!(
        settings.poll_secs,
        outreach_mailer::MailSettings::default().poll_secs
    );
    assert!(settings.poll_secs >= 10, "the test needs the default poll");
    let mailer = std::sync::Arc::new(mailer(&settings));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let loop_db = conn.clone();
    let loop_mailer = std::sync::Arc::clone(&mailer);
    let daemon = tokio::spawn(async move {
        outreach_mailer::run(&loop_db, &loop_mailer, async {
            let _ = stopped.await;
        })
        .await
    });
    let other = open(&db.url).await;
    let bound = Duration::from_secs(1);
    let mut lags = Vec::new();
    for i in 0..3 {
        // Long enough for the loop to have found nothing and gone to sleep.
        tokio::time::sleep(Duration::from_millis(400)).await;
        let queued = std::time::Instant::now();
        queue(
            &other,
            &format!("test:wake:other:{i}"),
            &test_message("a@example.org"),
        )
        .await;
        assert_eq!(smtp.wait_for(2 * i + 1, bound * 5).await.len(), 2 * i + 1);
        lags.push(("another connection", queued.elapsed()));

        tokio::time::sleep(Duration::from_millis(400)).await;
        let queued = std::time::Instant::now();
        let tx = outreach_core::db::begin(&conn).await.unwrap();
        queue_in(&tx, &format!("test:wake:here:{i}"), "b@example.org").await;
        tx.commit().await.unwrap();
        outreach_mailer::outbox::wake();
        assert_eq!(smtp.wait_for(2 * i + 2, bound * 5).await.len(), 2 * i + 2);
        lags.push(("this process", queued.elapsed()));
    }
    for (how, lag) in &lags {
        assert!(
            *lag < bound,
            "an email queued from {how} took {lag:?} to reach the server: {lags:?}"
        );
    }
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), daemon)
        .await
        .expect("the loop stops on shutdown")
        .unwrap()
        .unwrap();
}
db_test!(
    a_committed_row_wakes_the_idle_loop,
    a_committed_row_wakes_the_idle_loop_well_before_the_poll_interval
);

async fn queue_in<C: sea_orm::ConnectionTrait>(db: &C, key: &str, to: &str) {
    let ctx = test_message(to);
    let r = outreach_mailer::EmailContext::recipient(&ctx);
    outreach_mailer::outbox::enqueue(
        db,
        outreach_mailer::outbox::NewEmail {
            idempotency_key: key.into(),
            recipient: outreach_core::domain::EmailAddress::parse("to", &r.email).unwrap(),
            recipient_name: Some(r.name.clone()),
            template: <TestMessage as outreach_mailer::EmailContext>::TEMPLATE.into(),
            language: r.language.clone(),
            context: serde_json::to_value(&ctx).unwrap(),
            send_at: chrono::Utc::now(),
            subject: None,
            job_id: None,
        },
    )
    .await
    .unwrap();
}

/// The delivery loop claims the next batch while the current one is still in flight: with
/// batches of 2 and 4 connections, a slow server sees more than 2 messages waiting for their
/// reply at once, which one batch at a time could never reach.
async fn the_loop_claims_the_next_batch_while_one_is_in_flight(db: &TestDb) {
    let conn = open(&db.url).await;
    let smtp = SmtpServer::start().await;
    let n = 8;
    smtp.script((0..n).map(|_| Reply::AcceptAfter(Duration::from_millis(400))));
    let mut settings = smtp_settings(smtp.port());
    settings.batch_size = 2;
    settings.smtp_pool_size = 4;
    for i in 0..n {
        queue(
            &conn,
            &format!("test:pipeline:{i}"),
            &test_message(&format!("p{i}@example.org")),
        )
        .await;
    }
    let mailer = std::sync::Arc::new(mailer(&settings));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (loop_db, loop_mailer) = (conn.clone(), std::sync::Arc::clone(&mailer));
    let daemon = tokio::spawn(async move {
        outreach_mailer::run(&loop_db, &loop_mailer, async {
            let _ = stopped.await;
        })
        .await
    });
    assert_eq!(smtp.wait_for(n, WAIT).await.len(), n);
    let sent = async {
        loop {
            let rows = ledger::list(&conn, Some("sent"), 100).await.unwrap();
            if rows.len() == n {
                return rows;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    let sent = tokio::time::timeout(WAIT, sent)
        .await
        .expect("all recorded");
    assert!(sent.iter().all(|r| r.attempts == 1));
    stop.send(()).unwrap();
    daemon.await.unwrap().unwrap();
    assert!(
        smtp.max_in_flight() > 2,
        "at most {} messages were in flight at once with batches of 2",
        smtp.max_in_flight()
    );
}
db_test!(
    the_loop_claims_the_next_batch_while_one_is_in_flight,
    the_loop_claims_the_next_batch_while_one_is_in_flight
);

/// An outcome is written as soon as its reply arrives, not when the whole batch is done: a fast
/// message of a batch is recorded as sent while a slow one beside it still waits for its reply.
async fn each_outcome_is_recorded_as_its_reply_arrives(db: &TestDb) {
    let conn = open(&db.url).await;
    let smtp = SmtpServer::start().await;
    smtp.script([Reply::AcceptAfter(Duration::from_secs(3)), Reply::Accept]);
    let mut settings = smtp_settings(smtp.port());
    settings.batch_size = 2;
    settings.smtp_pool_size = 2;
    let a = queue(&conn, "test:fast-slow:a", &test_message("a@example.org")).await;
    let b = queue(&conn, "test:fast-slow:b", &test_message("b@example.org")).await;
    let mailer = std::sync::Arc::new(mailer(&settings));
    let (round_db, round_mailer) = (conn.clone(), std::sync::Arc::clone(&mailer));
    let round = tokio::spawn(async move { deliver_once(&round_db, &round_mailer).await });
    let one_sent = async {
        loop {
            // Both rows in one query, one snapshot: read one after the other, the round could
            // claim and send both between the two reads, and a row read before the claim would
            // look untouched beside one already sent.
            let rows = outbox::Entity::find()
                .filter(outbox::Column::Id.is_in([a, b]))
                .all(&conn)
                .await
                .unwrap();
            let ra = rows.iter().find(|r| r.id == a).unwrap().clone();
            let rb = rows.iter().find(|r| r.id == b).unwrap().clone();
            if ra.status == status::SENT || rb.status == status::SENT {
                return (ra, rb);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    let (ra, rb) = tokio::time::timeout(Duration::from_secs(2), one_sent)
        .await
        .expect("the fast message is recorded before the slow one is answered");
    let mut statuses = [ra.status.as_str(), rb.status.as_str()];
    statuses.sort_unstable();
    assert_eq!(
        statuses,
        [status::SENDING, status::SENT],
        "{:?} {:?} {:?} / {:?} {:?} {:?}; received {:?}",
        ra.last_error,
        ra.smtp_reply,
        ra.lease_owner,
        rb.last_error,
        rb.smtp_reply,
        rb.lease_owner,
        smtp.received()
            .iter()
            .map(|m| m.rcpt_to.clone())
            .collect::<Vec<_>>()
    );
    assert_eq!(
        smtp.in_flight(),
        1,
        "the slow one is still waiting for its reply"
    );
    assert_eq!(round.await.unwrap().unwrap(), 2);
    assert_eq!(row(&conn, a).await.status, status::SENT);
    assert_eq!(row(&conn, b).await.status, status::SENT);
}
db_test!(
    each_outcome_is_recorded_as_its_reply_arrives,
    each_outcome_is_recorded_as_its_reply_arrives
);
