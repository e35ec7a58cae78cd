//! The mailer's settings: the `[mail]` table (`OUTREACH_MAIL__*`), read with
//! `Settings::section::<MailSettings>()`.

use std::fmt;

use outreach_core::config::Section;
use serde::Deserialize;

/// How email is delivered.
#[derive(Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MailSettings {
    /// `file` (write .eml files to `file_dir`; the default, no server needed) or `smtp`.
    pub transport: String,
    /// Folder for the file transport, relative to the working folder.
    pub file_dir: String,
    /// The From header, such as `Campaign <outreach@example.org>`.
    pub from: String,
    /// Domain part of generated Message-IDs.
    pub message_id_domain: String,
    pub smtp_host: String,
    pub smtp_port: u16,
    /// `none` (plain, for a relay on loopback), `starttls` or `tls` (implicit TLS).
    pub smtp_security: String,
    /// A PEM file of certificate authorities to trust besides the public ones (a relay whose
    /// certificate comes from an organisation's own authority); empty for the public ones only.
    pub smtp_ca_file: String,
    pub smtp_username: String,
    pub smtp_password: String,
    /// Seconds before an SMTP conversation is abandoned.
    pub smtp_timeout_secs: u64,
    /// Connections kept open to the SMTP server.
    pub smtp_pool_size: u32,
    /// Messages per minute at most; 0 for no limit.
    pub rate_per_minute: u32,
    /// Attempts before a transient failure becomes a permanent one.
    pub max_attempts: i32,
    /// Folder of the email templates.
    pub templates_dir: String,
    /// Messages claimed per round trip of the delivery loop.
    pub batch_size: u32,
    /// Seconds a delivery loop holds a claimed message; after that another may take it over.
    pub lease_secs: u64,
    /// Seconds between polls of the delivery loop when nothing is due sooner.
    pub poll_secs: u64,
    /// Seconds before the first retry of a transient failure; doubled on each further attempt.
    pub retry_base_secs: u64,
    /// The longest wait between two attempts, in seconds.
    pub retry_max_secs: u64,
}

impl Default for MailSettings {
    fn default() -> Self {
        Self {
            transport: "file".into(),
            file_dir: "outbox".into(),
            from: "outreach <outreach@example.org>".into(),
            message_id_domain: "outreach.invalid".into(),
            smtp_host: "127.0.0.1".into(),
            smtp_port: 25,
            smtp_security: "none".into(),
            smtp_ca_file: String::new(),
            smtp_username: String::new(),
            smtp_password: String::new(),
            smtp_timeout_secs: 30,
            smtp_pool_size: 4,
            rate_per_minute: 0,
            max_attempts: 8,
            templates_dir: "templates".into(),
            batch_size: 16,
            lease_secs: 120,
            poll_secs: 10,
            retry_base_secs: 30,
            retry_max_secs: 3600,
        }
    }
}

impl fmt::Debug for MailSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MailSettings")
            .field("transport", &self.transport)
            .field("file_dir", &self.file_dir)
            .field("from", &self.from)
            .field("smtp_host", &self.smtp_host)
            .field("smtp_port", &self.smtp_port)
            .field("smtp_security", &self.smtp_security)
            .field("smtp_ca_file", &self.smtp_ca_file)
            .field("smtp_username", &self.smtp_username)
            .field(
                "smtp_password",
                &if self.smtp_password.is_empty() {
                    ""
                } else {
                    "***"
                },
            )
            .field("rate_per_minute", &self.rate_per_minute)
            .field("max_attempts", &self.max_attempts)
            .finish_non_exhaustive()
    }
}

impl Section for MailSettings {
    const KEY: &'static str = "mail";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_the_smtp_password() {
        let s = MailSettings {
            smtp_password: "swordfish".into(),
            ..MailSettings::default()
        };
        let shown = format!("{s:?}");
        assert!(
            !shown.contains("swordfish") && shown.contains("***"),
            "{shown}"
        );
    }
}
