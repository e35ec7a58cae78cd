//! outreach core: the domain of treaty universalization advocacy and its persistence.
//!
//! This crate knows states, treaties and their derived status, the people and organisations the
//! campaign works with, engagements, meetings, follow-ups and grants, and it keeps them in SQLite
//! or PostgreSQL through sea-orm. It knows nothing of HTTP, SMTP, timers or terminals: the
//! binaries and daemons that use it decide how and when.

pub mod access;
pub mod actor;
pub mod audit;
pub mod backup;
pub mod config;
pub mod db;
pub mod demo;
pub mod directory;
pub mod domain;
pub mod engagements;
pub mod entities;
pub mod error;
pub mod followups;
pub mod grants;
pub mod ids;
pub mod meetings;
pub mod posts;
pub mod refdata;
pub mod signals;
pub mod stance;
pub mod states;
pub mod status;
pub mod views;

pub use actor::Actor;
pub use error::{Error, ErrorKind, Remedy, Result};
