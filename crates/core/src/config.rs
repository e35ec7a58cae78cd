//! Layered configuration, typed once: the compiled-in `config/default.toml`, then
//! `config/default.toml` and `config/<environment>.toml` from the working folder, then
//! `OUTREACH_*` variables. Unknown keys fail at start-up.

use std::fmt;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use serde::Deserialize;

use crate::domain::IanaZone;
use crate::error::{Error, Result};

const DEFAULT_TOML: &str = include_str!("../../../config/default.toml");

/// Settings every outreach process reads.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// `sqlite://FILE` or `postgres://USER:PASSWORD@HOST/DB`.
    pub database_url: String,
    /// Handle of the person acting; empty for the login name.
    pub user: String,
    /// IANA zone of the person acting.
    pub time_zone: String,
    /// Default treaty code.
    pub treaty: String,
    /// Email rendering and delivery (the mailer).
    #[serde(default)]
    pub mail: MailSettings,
    /// The daemon: job claiming, leases, retries (the scheduler).
    #[serde(default)]
    pub scheduler: SchedulerSettings,
    /// Letter drafts: the sender and the letterhead of exports (the letters crate).
    #[serde(default)]
    pub letters: LetterSettings,
    /// Engagements: which kinds are restricted when logged without a sensitivity.
    #[serde(default)]
    pub engagements: EngagementSettings,
    /// The web app: the address users reach it at.
    #[serde(default)]
    pub web: WebSettings,
}

/// Which engagement kinds are `restricted` unless the person logging them says otherwise.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EngagementSettings {
    pub restricted_kinds: Vec<String>,
}

impl Default for EngagementSettings {
    fn default() -> Self {
        Self {
            restricted_kinds: crate::domain::DEFAULT_RESTRICTED_KINDS
                .iter()
                .map(|k| (*k).to_owned())
                .collect(),
        }
    }
}

/// The web app's own settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebSettings {
    /// The address users open, such as `https://outreach.example.org`; absolute links (the
    /// calendar URL) are made from it, never from request headers, and an `https` address marks
    /// cookies `Secure`. Empty: `http://127.0.0.1:PORT` of `outreach serve`.
    pub public_url: String,
}

/// Who signs letters and the letterhead their exports carry.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LetterSettings {
    /// The campaign letters are written on behalf of.
    pub organisation: String,
    /// Lines under the organisation's name at the top of every exported letter.
    pub letterhead: Vec<String>,
    /// The signatory; empty for the acting user's name.
    pub sender_name: String,
    pub sender_title: String,
    /// Where letters are written from: "Geneva, 22 November 2026".
    pub place: String,
    pub email: String,
    /// Letter templates are read from <templates_dir>/letters, or the built-in ones.
    pub templates_dir: String,
    /// Four eyes: nobody approves a version they wrote.
    pub four_eyes: bool,
}

impl Default for LetterSettings {
    fn default() -> Self {
        Self {
            organisation: "International Campaign to Ban Landmines (demo)".into(),
            letterhead: vec![
                "Rue de Lausanne 00, 1202 Geneva, Switzerland (demo)".into(),
                "outreach@example.org".into(),
            ],
            sender_name: String::new(),
            sender_title: "Universalization Officer".into(),
            place: "Geneva".into(),
            email: "outreach@example.org".into(),
            templates_dir: "templates".into(),
            four_eyes: true,
        }
    }
}

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

/// How the daemon claims and runs jobs.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SchedulerSettings {
    /// Jobs claimed per round trip.
    pub batch_size: u32,
    /// Concurrent job runners in one daemon.
    pub workers: u32,
    /// Jobs run in one transaction and completed together (a job that fails is taken out and
    /// the rest run again without it); 1 gives every job its own transaction.
    pub jobs_per_transaction: u32,
    /// Seconds a claim is held before another daemon may take the job over.
    pub lease_secs: u64,
    /// Attempts before a failing job is dead-lettered.
    pub max_attempts: i32,
    /// Seconds between safety-net polls when nothing wakes the daemon.
    pub poll_secs: u64,
    /// The reminder rules and digest schedules.
    pub workflows_file: String,
}

impl Default for SchedulerSettings {
    fn default() -> Self {
        Self {
            batch_size: 32,
            workers: 4,
            jobs_per_transaction: 16,
            lease_secs: 60,
            max_attempts: 5,
            poll_secs: 30,
            workflows_file: "config/workflows.toml".into(),
        }
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("database_url", &crate::db::redact(&self.database_url))
            .field("user", &self.user)
            .field("time_zone", &self.time_zone)
            .field("treaty", &self.treaty)
            .field("mail", &self.mail)
            .field("scheduler", &self.scheduler)
            .field("letters", &self.letters)
            .field("engagements", &self.engagements)
            .field("web", &self.web)
            .finish()
    }
}

/// `OUTREACH_*` variables that are not settings: the ones that choose how a process starts
/// (`OUTREACH_ENV`, `OUTREACH_CONFIG_DIR`, `OUTREACH_LOG`, `OUTREACH_LOG_FORMAT`) and every variable of the tests
/// (`OUTREACH_TEST_*`) and benchmarks (`OUTREACH_BENCH_*`), so a developer's test setup never stops
/// the app from starting. `key` is the name without `OUTREACH_`, in any case.
pub fn is_process_variable(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    matches!(
        key.as_str(),
        "env" | "config_dir" | "log" | "log_format" | "chromium" | "chromedriver"
    ) || key.starts_with("test_")
        || key.starts_with("bench_")
}

impl Settings {
    /// Reads the layers from the process environment and the working folder.
    ///
    /// # Errors
    /// [`Error::Config`] naming the key or file that is wrong.
    pub fn load() -> Result<Self> {
        let env = std::env::var("OUTREACH_ENV").unwrap_or_else(|_| "development".to_owned());
        let dir = std::env::var_os("OUTREACH_CONFIG_DIR")
            .map_or_else(|| PathBuf::from("config"), PathBuf::from);
        Self::load_from(&dir, &env, true)
    }

    /// Reads the layers from `dir` for `environment`, with or without `OUTREACH_*` variables.
    ///
    /// # Errors
    /// [`Error::Config`] naming the key or file that is wrong.
    pub fn load_from(dir: &Path, environment: &str, with_env: bool) -> Result<Self> {
        let mut figment = Figment::new().merge(Toml::string(DEFAULT_TOML));
        for file in [
            dir.join("default.toml"),
            dir.join(format!("{environment}.toml")),
        ] {
            if file.is_file() {
                figment = figment.merge(Toml::file(file));
            }
        }
        if with_env {
            figment = figment.merge(
                Env::prefixed("OUTREACH_")
                    .filter(|key| !is_process_variable(key.as_str()))
                    .split("__"),
            );
        }
        let settings: Self = figment
            .extract()
            .map_err(|e| Error::Config(e.to_string()))?;
        IanaZone::parse("time_zone", &settings.time_zone)
            .map_err(|e| Error::Config(e.to_string()))?;
        for kind in &settings.engagements.restricted_kinds {
            crate::domain::EngagementKind::parse("engagements.restricted_kinds", kind)
                .map_err(|e| Error::Config(e.to_string()))?;
        }
        let url = settings.web.public_url.trim();
        let http = url.starts_with("http://") || url.starts_with("https://");
        if !url.is_empty() && (!http || url.contains(char::is_whitespace)) {
            return Err(Error::Config(format!(
                "web.public_url: '{url}' is not an http:// or https:// address such as https://outreach.example.org"
            )));
        }
        Ok(settings)
    }

    /// The acting user's handle: the configured one, else the login name, else "staff".
    pub fn actor(&self) -> String {
        let configured = self.user.trim();
        if !configured.is_empty() {
            return configured.to_owned();
        }
        std::env::var("USER")
            .or_else(|_| std::env::var("USERNAME"))
            .ok()
            .filter(|u| !u.trim().is_empty())
            .unwrap_or_else(|| "staff".to_owned())
    }

    /// The acting user's zone (checked at load).
    pub fn zone(&self) -> IanaZone {
        IanaZone::parse("time_zone", &self.time_zone).unwrap_or_else(|_| {
            IanaZone::parse("time_zone", "UTC").unwrap_or_else(|_| unreachable!("UTC is a zone"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_load_and_overlays_apply() {
        let dir = tempfile::tempdir().unwrap();
        let s = Settings::load_from(dir.path(), "test", false).unwrap();
        assert_eq!(s.database_url, "sqlite://outreach.db");
        std::fs::write(
            dir.path().join("test.toml"),
            "time_zone = \"Asia/Kathmandu\"\n",
        )
        .unwrap();
        let s = Settings::load_from(dir.path(), "test", false).unwrap();
        assert_eq!(s.zone().name(), "Asia/Kathmandu");
    }

    #[test]
    fn unknown_keys_and_bad_zones_fail() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("test.toml"), "databse_url = \"x\"\n").unwrap();
        let err = Settings::load_from(dir.path(), "test", false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("databse_url"), "{err}");
        std::fs::write(
            dir.path().join("test.toml"),
            "time_zone = \"Mars/Olympus\"\n",
        )
        .unwrap();
        let err = Settings::load_from(dir.path(), "test", false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("Mars/Olympus"), "{err}");
    }

    #[test]
    fn debug_output_hides_the_database_password() {
        let mut s = Settings::load_from(Path::new("/nonexistent"), "x", false).unwrap();
        s.database_url = "postgres://u:hunter2@db/outreach".into();
        s.mail.smtp_password = "swordfish".into();
        let shown = format!("{s:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("swordfish"),
            "{shown}"
        );
    }
}
