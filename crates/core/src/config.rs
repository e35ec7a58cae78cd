//! Layered configuration, typed once: the compiled-in `config/default.toml`, then
//! `config/default.toml` and `config/<environment>.toml` from the working folder, then
//! `OUTREACH_*` variables. Unknown keys fail at start-up.

use std::fmt;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use serde::Deserialize;
use serde::de::{DeserializeOwned, IgnoredAny};

use crate::domain::IanaZone;
use crate::error::{Error, Result};

const DEFAULT_TOML: &str = include_str!("../../../config/default.toml");

/// A top-level table of the settings read by the crate that owns it: the mailer `[mail]`, the
/// scheduler `[scheduler]`, the letters crate `[letters]`, the web app `[web]`. Core layers the
/// files and variables and knows each table's name, never its keys.
pub trait Section: DeserializeOwned + Default {
    /// The table's name in the files, and `OUTREACH_<KEY>__` in variables.
    const KEY: &'static str;

    /// Checks beyond the types (an address's form, say). The message starts with the key it is
    /// about, without the table's name: `public_url: ...`.
    ///
    /// # Errors
    /// The message naming the key and the fix.
    fn check(&self) -> std::result::Result<(), String> {
        Ok(())
    }
}

/// The names of the tables other crates own (see [`Section`]); any other top-level table is an
/// unknown key.
pub const SECTIONS: &[&str] = &["mail", "scheduler", "letters", "web"];

/// Settings every outreach process reads: core's own, and the layers the other crates read
/// their tables from with [`Settings::section`].
#[derive(Clone)]
pub struct Settings {
    /// `sqlite://FILE` or `postgres://USER:PASSWORD@HOST/DB`.
    pub database_url: String,
    /// Handle of the person acting; empty for the login name.
    pub user: String,
    /// IANA zone of the person acting.
    pub time_zone: String,
    /// Default treaty code.
    pub treaty: String,
    /// Engagements: which kinds are restricted when logged without a sensitivity.
    pub engagements: EngagementSettings,
    layers: Figment,
}

/// Core's keys as the files spell them; the other crates' tables are only named here, so an
/// unknown top-level key still fails at start-up.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CoreKeys {
    database_url: String,
    user: String,
    time_zone: String,
    treaty: String,
    #[serde(default)]
    engagements: EngagementSettings,
    #[serde(default)]
    mail: Option<IgnoredAny>,
    #[serde(default)]
    scheduler: Option<IgnoredAny>,
    #[serde(default)]
    letters: Option<IgnoredAny>,
    #[serde(default)]
    web: Option<IgnoredAny>,
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

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The layers are not shown: they hold the other crates' secrets (passwords).
        f.debug_struct("Settings")
            .field("database_url", &crate::db::redact(&self.database_url))
            .field("user", &self.user)
            .field("time_zone", &self.time_zone)
            .field("treaty", &self.treaty)
            .field("engagements", &self.engagements)
            .finish_non_exhaustive()
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
        Self::from_layers(figment)
    }

    fn from_layers(layers: Figment) -> Result<Self> {
        let keys: CoreKeys = layers.extract().map_err(|e| Error::Config(e.to_string()))?;
        // The other crates' tables are read by their owners (`section`); here they are only
        // allowed names.
        let _ = (&keys.mail, &keys.scheduler, &keys.letters, &keys.web);
        IanaZone::parse("time_zone", &keys.time_zone).map_err(|e| Error::Config(e.to_string()))?;
        for kind in &keys.engagements.restricted_kinds {
            crate::domain::EngagementKind::parse("engagements.restricted_kinds", kind)
                .map_err(|e| Error::Config(e.to_string()))?;
        }
        Ok(Self {
            database_url: keys.database_url,
            user: keys.user,
            time_zone: keys.time_zone,
            treaty: keys.treaty,
            engagements: keys.engagements,
            layers,
        })
    }

    /// The table `T::KEY`, read and checked by the type of the crate that owns it; its
    /// defaults where no layer sets it.
    ///
    /// # Errors
    /// [`Error::Config`] naming the key (`mail.smtp_port`) and what is wrong with it.
    pub fn section<T: Section>(&self) -> Result<T> {
        let value = if self.layers.contains(T::KEY) {
            self.layers
                .extract_inner::<T>(T::KEY)
                .map_err(|e| Error::Config(e.to_string()))?
        } else {
            T::default()
        };
        value
            .check()
            .map_err(|message| Error::Config(format!("{}.{message}", T::KEY)))?;
        Ok(value)
    }

    /// These settings with `key` (a dotted path such as `mail.smtp_port`) set to `value`, as
    /// one more layer on top: for tests and tools that start a process with one thing changed.
    ///
    /// # Errors
    /// [`Error::Config`] if the result is not valid settings.
    pub fn with(self, key: &str, value: impl serde::Serialize) -> Result<Self> {
        // Core's fields may have been changed in place (`--database`, `--as`): they go first.
        let layers = self
            .layers
            .merge(("database_url", self.database_url))
            .merge(("user", self.user))
            .merge(("time_zone", self.time_zone))
            .merge(("treaty", self.treaty))
            .merge((key, value));
        Self::from_layers(layers)
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
        let mut s = Settings::load_from(Path::new("/nonexistent"), "x", false)
            .unwrap()
            .with("mail.any_secret", "swordfish")
            .unwrap();
        s.database_url = "postgres://u:hunter2@db/outreach".into();
        let shown = format!("{s:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("swordfish"),
            "{shown}"
        );
    }
}
