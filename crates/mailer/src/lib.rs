//! outreach mailer: renders email templates from typed contexts and delivers the outbox.
//!
//! It knows nothing of jobs, rules or schedules: whoever decides to send writes an outbox row
//! (see `crate::outbox`) with a template name and a context; the mailer decides how the
//! message looks and how it is delivered.
//!
//! - [`templates`] and [`check`]: the template files, checked against their context types.
//! - [`render`]: from an outbox row to subject, text, HTML and invitation; [`calendar`] for the
//!   invitation, [`locale`] for dates in the reader's language and zone.
//! - [`mailer`], [`transport`], [`delivery`]: the delivery loop, SMTP and file transports.
//! - [`ledger`]: listing and requeueing outbox messages for staff.

pub mod calendar;
pub mod check;
pub mod context;
pub mod delivery;
pub mod entities;
pub mod error;
pub mod ledger;
pub mod locale;
pub mod mailer;
pub mod outbox;
pub mod render;
pub mod samples;
pub mod settings;
pub mod smtp;
pub mod templates;
pub mod transport;

pub use delivery::{Attempt, deliver_batch, deliver_now, deliver_once, run};
pub use error::{Error, Result};
pub use mailer::Mailer;
pub use render::{EmailContext, RenderedEmail};
pub use settings::MailSettings;
pub use templates::{CheckReport, Templates};
pub use transport::{Outcome, Transport};
