//! The mailer's integration tests, one binary: rendering and the template check (no network),
//! and delivery through a real SMTP server on loopback, each database test on SQLite and
//! PostgreSQL.
#![allow(clippy::unwrap_used)]

mod check;
mod delivery;
mod helpers;
mod invitations;
mod render;
mod tls;
