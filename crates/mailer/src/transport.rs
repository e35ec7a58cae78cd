//! Where messages go: an SMTP server over our own connections (plain on loopback, STARTTLS or
//! implicit TLS, optional authentication, a pool of reused connections; see `smtp.rs`), or `.eml` files in a folder,
//! the embedded default that needs no server. Every outcome is classified here as sent,
//! transient (retry later) or permanent (give up), with the server's reply.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::settings::MailSettings;
use lettre::transport::smtp;

use crate::error::{Error, Result};
use crate::smtp::SmtpPool;

/// What a delivery attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Accepted; the server's reply (or where the file was written).
    Sent { reply: String },
    /// Worth another try later: the server could not be reached, dropped the connection, timed
    /// out, or answered 4xx.
    Transient { reason: String },
    /// Refused for good (5xx, or a message that cannot be sent at all).
    Permanent {
        reason: String,
        /// The refusal is about the recipient's address (5.1.x / 5.2.1, or 550/551/553
        /// without an enhanced code), so the address is marked undeliverable.
        address_refused: bool,
    },
}

/// How SMTP connections are secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// Plain text: only for a relay on this machine.
    None,
    StartTls,
    /// Implicit TLS (SMTPS), usually port 465.
    Tls,
}

impl Security {
    /// Reads `mail.smtp_security`.
    ///
    /// # Errors
    /// [`Error::Config`] naming the key and the accepted values.
    pub fn parse(given: &str) -> Result<Self> {
        match given.trim().to_ascii_lowercase().as_str() {
            "none" | "plain" => Ok(Self::None),
            "starttls" => Ok(Self::StartTls),
            "tls" | "ssl" | "smtps" => Ok(Self::Tls),
            other => Err(Error::Config(format!(
                "mail.smtp_security: `{other}` is not one of none, starttls, tls"
            ))),
        }
    }
}

/// A configured way of delivering messages.
#[derive(Clone, Debug)]
pub enum Transport {
    /// An SMTP server, over this process's own connections (see [`SmtpPool`]): up to
    /// `smtp_pool_size` are kept open and reused; with 0, each message gets its own.
    Smtp(Arc<SmtpPool>),
    /// Writes `<message-id>.eml` files into a folder.
    File(PathBuf),
}

impl Transport {
    /// Builds the transport `mail.transport` names. Relative folders are read from `base`.
    ///
    /// # Errors
    /// [`Error::Config`] naming the key that is wrong and what it accepts.
    pub fn from_settings(s: &MailSettings, base: &Path) -> Result<Self> {
        match s.transport.trim().to_ascii_lowercase().as_str() {
            "file" => {
                if s.file_dir.trim().is_empty() {
                    return Err(Error::Config(
                        "mail.file_dir is empty; name the folder .eml files go to".into(),
                    ));
                }
                Ok(Self::File(base.join(s.file_dir.trim())))
            }
            // Checked now, so a bad setting fails at start-up, not at the first message.
            "smtp" => Ok(Self::Smtp(Arc::new(SmtpPool::new(
                s,
                s.smtp_pool_size as usize,
                base,
            )?))),
            other => Err(Error::Config(format!(
                "mail.transport: `{other}` is not one of file, smtp"
            ))),
        }
    }

    /// A short description for people: `smtp 127.0.0.1:25 (...)` or `file ./outbox`.
    pub fn describe(&self) -> String {
        match self {
            Self::Smtp(pool) => format!("smtp {} ({pool:?})", pool.server()),
            Self::File(dir) => format!("file {}", dir.display()),
        }
    }

    /// Delivers one message.
    pub async fn send(&self, message: &lettre::Message, file_stem: &str) -> Outcome {
        match self {
            Self::Smtp(pool) => pool.send(message).await,
            Self::File(dir) => write_file(dir, file_stem, &message.formatted()).await,
        }
    }
}

/// Writes atomically (a temporary file renamed into place), named by the Message-ID so a
/// second delivery of the same message replaces the first instead of adding a copy.
async fn write_file(dir: &Path, stem: &str, bytes: &[u8]) -> Outcome {
    let path = dir.join(format!("{stem}.eml"));
    let tmp = dir.join(format!(".{stem}.eml.tmp"));
    let result = async {
        tokio::fs::create_dir_all(dir).await?;
        tokio::fs::write(&tmp, bytes).await?;
        tokio::fs::rename(&tmp, &path).await
    }
    .await;
    match result {
        Ok(()) => Outcome::Sent {
            reply: format!("written to {}", path.display()),
        },
        Err(e) => Outcome::Transient {
            reason: format!("cannot write {}: {e}", path.display()),
        },
    }
}

fn reply_text(code: Option<smtp::response::Code>, e: &smtp::Error) -> String {
    let detail = std::error::Error::source(e).map(ToString::to_string);
    match (code, detail) {
        (Some(code), Some(detail)) => format!("{code} {detail}"),
        (Some(code), None) => code.to_string(),
        (None, _) => e.to_string(),
    }
}

/// Whether a permanent refusal is about the recipient's address rather than the message or
/// the sender: enhanced status 5.1.x (address) or 5.2.1 (mailbox disabled), or, without an enhanced
/// code, 550, 551 or 553.
pub fn refuses_address(reply: &str) -> bool {
    let mut words = reply.split_whitespace();
    let basic = words.next().unwrap_or_default();
    match words.next() {
        Some(enhanced) if enhanced.starts_with("5.") && enhanced.matches('.').count() == 2 => {
            enhanced.starts_with("5.1.") || enhanced == "5.2.1"
        }
        _ => matches!(basic, "550" | "551" | "553"),
    }
}

pub(crate) fn classify(
    result: std::result::Result<smtp::response::Response, smtp::Error>,
) -> Outcome {
    // The SMTP reply classes operators watch (`outreach_smtp_replies_total` on `/metrics`):
    // 2xx accepted, 4xx deferred, 5xx refused, or no reply (connection, TLS, timeout).
    let class = match &result {
        Ok(_) => "2xx",
        Err(e) if e.is_permanent() => "5xx",
        Err(e) if e.is_transient() => "4xx",
        Err(_) => "none",
    };
    metrics::counter!("outreach_smtp_replies_total", "class" => class).increment(1);
    match result {
        Ok(response) => {
            let lines: Vec<&str> = response.message().collect();
            Outcome::Sent {
                reply: format!("{} {}", response.code(), lines.join(" "))
                    .trim()
                    .to_owned(),
            }
        }
        Err(e) if e.is_permanent() => {
            let reason = reply_text(e.status(), &e);
            Outcome::Permanent {
                address_refused: refuses_address(&reason),
                reason,
            }
        }
        // Everything else is about the connection or the server's abilities (refused, dropped,
        // timed out, 4xx, TLS, STARTTLS not offered, no usable AUTH): an operator can fix those,
        // so the message waits with backoff and fails visibly only after `max_attempts`.
        Err(e) => Outcome::Transient {
            reason: if e.is_transient() {
                reply_text(e.status(), &e)
            } else {
                e.to_string()
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_refusals_are_told_from_other_refusals() {
        assert!(refuses_address(
            "550 5.1.1 <x@example.org>: Recipient address rejected"
        ));
        assert!(refuses_address("550 5.2.1 Mailbox disabled"));
        assert!(!refuses_address("552 5.2.2 Mailbox full"));
        assert!(refuses_address("550 No such user"));
        assert!(!refuses_address("554 5.7.1 Message rejected as spam"));
        assert!(!refuses_address("552 Message size exceeds fixed limit"));
    }

    #[test]
    fn bad_settings_name_their_key() {
        let mut s = MailSettings {
            transport: "pigeon".into(),
            ..MailSettings::default()
        };
        let err = Transport::from_settings(&s, Path::new("."))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("mail.transport") && err.contains("pigeon"),
            "{err}"
        );
        s.transport = "smtp".into();
        s.smtp_security = "maybe".into();
        let err = Transport::from_settings(&s, Path::new("."))
            .unwrap_err()
            .to_string();
        assert!(err.contains("mail.smtp_security"), "{err}");
    }
}
