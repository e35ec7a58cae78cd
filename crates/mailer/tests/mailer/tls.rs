//! Encrypted and authenticated delivery against the test kit's SMTP server speaking TLS with a
//! certificate from an authority made for the test: STARTTLS and implicit TLS, AUTH, a wrong
//! password, and a certificate nobody vouches for. Nothing is ever sent in plain text when TLS
//! is asked for.

use std::path::Path;

use outreach_mailer::MailSettings;
use outreach_mailer::outbox::status;
use outreach_mailer::{Transport, deliver_now, deliver_once};
use outreach_testkit::TestDb;
use outreach_testkit::db_test;
use outreach_testkit::smtp::{Options, Security, SmtpServer};

use crate::helpers::{mailer, open, queue, row, smtp_settings, test_message};

const USER: &str = "campaign-relay";
const PASSWORD: &str = "correct horse battery staple";

async fn server(security: Security) -> SmtpServer {
    SmtpServer::start_with(Options {
        security,
        login: Some((USER.into(), PASSWORD.into())),
    })
    .await
}

/// Settings for `smtp`, trusting its authority through `mail.smtp_ca_file` in `dir`.
fn settings(smtp: &SmtpServer, security: &str, dir: &Path) -> MailSettings {
    let ca = dir.join("relay-ca.pem");
    std::fs::write(&ca, smtp.ca_pem().expect("a TLS server has an authority")).unwrap();
    MailSettings {
        smtp_security: security.into(),
        smtp_ca_file: ca.display().to_string(),
        smtp_username: USER.into(),
        smtp_password: PASSWORD.into(),
        ..smtp_settings(smtp.port())
    }
}

async fn starttls_with_a_login_delivers_encrypted_and_authenticated(db: &TestDb) {
    let conn = open(&db.url).await;
    let smtp = server(Security::StartTls).await;
    let dir = tempfile::tempdir().unwrap();
    let mut s = settings(&smtp, "starttls", dir.path());
    // The certificate names localhost and 127.0.0.1; checking the name is part of the test.
    s.smtp_host = "localhost".into();
    let mailer = mailer(&s);
    let id = queue(&conn, "test:starttls-auth", &test_message("a@example.org")).await;
    assert_eq!(deliver_once(&conn, &mailer).await.unwrap(), 1);
    let r = row(&conn, id).await;
    assert_eq!(r.status, status::SENT, "{:?}", r.last_error);
    let got = smtp.received();
    assert_eq!(got.len(), 1);
    assert!(got[0].encrypted, "sent after STARTTLS");
    assert_eq!(got[0].authenticated_as.as_deref(), Some(USER));
}
db_test!(
    starttls_with_a_login_delivers_encrypted_and_authenticated,
    starttls_with_a_login_delivers_encrypted_and_authenticated
);

async fn implicit_tls_with_a_login_delivers_encrypted_and_authenticated(db: &TestDb) {
    let conn = open(&db.url).await;
    let smtp = server(Security::Tls).await;
    let dir = tempfile::tempdir().unwrap();
    let mut s = settings(&smtp, "tls", dir.path());
    s.smtp_pool_size = 1;
    let mailer = mailer(&s);
    for i in 0..3 {
        queue(
            &conn,
            &format!("test:tls-auth:{i}"),
            &test_message(&format!("r{i}@example.org")),
        )
        .await;
    }
    assert_eq!(deliver_once(&conn, &mailer).await.unwrap(), 3);
    let got = smtp.received();
    assert_eq!(got.len(), 3);
    assert!(got.iter().all(|m| m.encrypted), "all over TLS");
    assert!(
        got.iter()
            .all(|m| m.authenticated_as.as_deref() == Some(USER))
    );
    // One connection carried the three messages: TLS and AUTH happen once per connection.
    assert_eq!(smtp.connections(), 1);
}
db_test!(
    implicit_tls_with_a_login_delivers_encrypted_and_authenticated,
    implicit_tls_with_a_login_delivers_encrypted_and_authenticated
);

/// A refused login is the operator's to fix: the message waits (transient) with the server's
/// answer, and nothing is sent.
async fn a_wrong_password_keeps_the_message_queued_with_the_servers_answer(db: &TestDb) {
    let conn = open(&db.url).await;
    let smtp = server(Security::StartTls).await;
    let dir = tempfile::tempdir().unwrap();
    let mut s = settings(&smtp, "starttls", dir.path());
    s.smtp_password = "wrong".into();
    let mailer = mailer(&s);
    let id = queue(&conn, "test:bad-login", &test_message("a@example.org")).await;
    assert_eq!(deliver_once(&conn, &mailer).await.unwrap(), 1);
    let r = row(&conn, id).await;
    assert_eq!((r.status.as_str(), r.attempts), (status::QUEUED, 1));
    let reason = r.last_error.unwrap_or_default();
    assert!(
        reason.contains("AUTH") && reason.contains("535"),
        "{reason}"
    );
    assert!(smtp.received().is_empty());
}
db_test!(
    a_wrong_password_keeps_the_message_queued_with_the_servers_answer,
    a_wrong_password_keeps_the_message_queued_with_the_servers_answer
);

/// Without `mail.smtp_ca_file` the test authority is unknown: the connection is refused before
/// anything is sent, by STARTTLS and by implicit TLS alike, and the reason says why.
async fn a_certificate_nobody_vouches_for_is_refused_before_anything_is_sent(db: &TestDb) {
    let conn = open(&db.url).await;
    for (security, setting) in [(Security::StartTls, "starttls"), (Security::Tls, "tls")] {
        let smtp = server(security).await;
        let dir = tempfile::tempdir().unwrap();
        let mut s = settings(&smtp, setting, dir.path());
        s.smtp_ca_file = String::new();
        let mailer = mailer(&s);
        let id = queue(
            &conn,
            &format!("test:untrusted:{setting}"),
            &test_message("a@example.org"),
        )
        .await;
        let tried = deliver_now(&conn, &mailer, id).await.unwrap();
        assert!(tried.is_some(), "{setting}: the message was due");
        let r = row(&conn, id).await;
        assert_eq!((r.status.as_str(), r.attempts), (status::QUEUED, 1));
        let reason = r.last_error.unwrap_or_default().to_lowercase();
        assert!(reason.contains("certificate"), "{setting}: {reason}");
        assert!(smtp.received().is_empty(), "{setting}");
    }
}
db_test!(
    a_certificate_nobody_vouches_for_is_refused_before_anything_is_sent,
    a_certificate_nobody_vouches_for_is_refused_before_anything_is_sent
);

#[test]
fn a_bad_ca_file_is_named_at_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = MailSettings {
        transport: "smtp".into(),
        smtp_security: "starttls".into(),
        smtp_ca_file: "no-such-ca.pem".into(),
        ..MailSettings::default()
    };
    let err = Transport::from_settings(&s, dir.path())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("mail.smtp_ca_file") && err.contains("no-such-ca.pem"),
        "{err}"
    );
    std::fs::write(dir.path().join("empty.pem"), "not a certificate\n").unwrap();
    s.smtp_ca_file = "empty.pem".into();
    let err = Transport::from_settings(&s, dir.path())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("mail.smtp_ca_file") && err.contains("no certificate"),
        "{err}"
    );
}
