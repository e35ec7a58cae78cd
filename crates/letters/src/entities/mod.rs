//! sea-orm entities of the letters tables, data only; behaviour lives in [`crate::drafts`].
pub mod letter;
pub mod letter_version;
