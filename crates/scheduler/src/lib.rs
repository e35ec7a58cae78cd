//! outreach scheduler: durable jobs, reminder rules and cron schedules.
//!
//! The scheduler decides *when*: it plans reminder jobs in the same transaction as the change
//! that calls for them, claims due jobs with a lease, and turns each into outbox rows that the
//! mailer delivers. It never talks to a mail server itself.

pub mod cronsched;
pub mod daemon;
pub mod entities;
pub mod error;
pub mod handlers;
pub mod jobs;
pub mod ledger;
pub mod logging;
pub mod planner;
pub mod rules;
pub mod service;
pub mod settings;
pub mod workdays;

pub use daemon::{Daemon, DaemonConfig};
pub use error::{Error, Result};
pub use rules::Workflows;
pub use settings::SchedulerSettings;
