//! outreach letters: drafts of the campaign's letters (joint approaches, calls to join, calls to
//! speak out) made from templates in the recipient's language, with the right diplomatic forms,
//! reviewed, approved and exported.
//!
//! - [`templates`]: the template files with their front matter, checked the mailer's way.
//! - [`context`]: the typed merge context of each template; [`merge`] builds it from the
//!   database; [`forms`] holds salutations, closings and forms of address per language;
//!   [`names`] the state names with their articles and each state's language of correspondence.
//! - [`drafts`]: the lifecycle (draft, in review, approved, sent or exported) and versions;
//!   [`batch`]: one letter per member of an audience; [`export`]: Markdown, HTML and `.docx`.

pub mod batch;
pub mod context;
pub mod drafts;
pub mod entities;
pub mod error;
pub mod export;
pub mod forms;
pub mod merge;
pub mod names;
pub mod settings;
pub mod templates;

pub use drafts::{DraftRequest, LetterStatus, LetterView, Letters};
pub use error::{Error, Result};
pub use settings::LetterSettings;
pub use templates::LetterTemplates;
