//! The scheduler's settings: the `[scheduler]` table (`OUTREACH_SCHEDULER__*`), read with
//! `Settings::section::<SchedulerSettings>()`.

use outreach_core::config::Section;
use serde::Deserialize;

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

impl Section for SchedulerSettings {
    const KEY: &'static str = "scheduler";
}
