//! outreach mailer: renders email templates from typed contexts and delivers the outbox.
//!
//! It knows nothing of jobs, rules or schedules: whoever decides to send writes an outbox row
//! (see `outreach_core::outbox`) with a template name and a context; the mailer decides how the
//! message looks and how it is delivered.

pub mod context;
