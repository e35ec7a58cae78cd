//! The scheduler's tables: jobs and the state of recurring schedules. The schema is the migrations crate's; these are
//! this crate's SeaORM entities for them.

pub mod cron_state;
pub mod job;
