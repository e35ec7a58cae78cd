//! The web app's tables: sessions and API and calendar tokens. The schema is the migrations crate's; these are
//! this crate's SeaORM entities for them.

pub mod session;
pub mod token;
