//! The mailer's tables: the outbox and the addresses that bounced. The schema is the migrations crate's; these are
//! this crate's SeaORM entities for them.

pub mod outbox;
pub mod undeliverable_address;
