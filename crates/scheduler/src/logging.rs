//! How every outreach process logs: one default level (info), plain text without colour codes
//! unless stderr is a terminal (and `NO_COLOR` is unset), or one JSON object per line.
//!
//! - `OUTREACH_LOG` takes `tracing` directives (`debug`, `warn,outreach_mailer=debug`, ...).
//! - `OUTREACH_LOG_FORMAT=json` writes JSON lines (with the request or job span they belong to);
//!   `text` (the default) writes text.
//!
//! Both variables belong to the process, not to the settings (see
//! `outreach_core::config::is_process_variable`).

use std::io::IsTerminal;

/// The level when `OUTREACH_LOG` is unset: info for outreach's own crates and the request log,
/// warnings only from the libraries below them.
pub const DEFAULT_FILTER: &str = "info,sqlx=warn,sea_orm=warn,sea_orm_migration=warn,lettre=warn,hyper=warn,hyper_util=warn,rustls=warn,h2=warn";

/// The log formats `OUTREACH_LOG_FORMAT` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

impl Format {
    /// Reads `OUTREACH_LOG_FORMAT`; anything but `json` (any case) is text, with a warning
    /// for values that are neither.
    fn from_env() -> (Self, Option<String>) {
        match std::env::var("OUTREACH_LOG_FORMAT") {
            Ok(v) if v.trim().eq_ignore_ascii_case("json") => (Self::Json, None),
            Ok(v) if v.trim().is_empty() || v.trim().eq_ignore_ascii_case("text") => {
                (Self::Text, None)
            }
            Ok(v) => (Self::Text, Some(v)),
            Err(_) => (Self::Text, None),
        }
    }
}

/// Installs the process's log subscriber (once; later calls do nothing). Writes to stderr.
pub fn init() {
    let (filter, bad_filter) = match std::env::var("OUTREACH_LOG") {
        Ok(v) if !v.trim().is_empty() => match tracing_subscriber::EnvFilter::try_new(v.trim()) {
            Ok(f) => (f, None),
            Err(e) => (
                tracing_subscriber::EnvFilter::new(DEFAULT_FILTER),
                Some(format!("{v:?} ({e})")),
            ),
        },
        _ => (tracing_subscriber::EnvFilter::new(DEFAULT_FILTER), None),
    };
    let (format, bad_format) = Format::from_env();
    let installed = match format {
        Format::Json => tracing_subscriber::fmt()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .try_init()
            .is_ok(),
        Format::Text => {
            let colour = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            tracing_subscriber::fmt()
                .with_ansi(colour)
                .with_env_filter(filter)
                .with_writer(std::io::stderr)
                .try_init()
                .is_ok()
        }
    };
    if installed {
        if let Some(v) = bad_filter {
            tracing::warn!(
                "OUTREACH_LOG={v} is not a log filter; logging at the default level. Examples: OUTREACH_LOG=debug, OUTREACH_LOG=warn,outreach_mailer=debug"
            );
        }
        if let Some(v) = bad_format {
            tracing::warn!(
                "OUTREACH_LOG_FORMAT={v:?} is not a log format; writing text. Use OUTREACH_LOG_FORMAT=json or text"
            );
        }
    }
}
