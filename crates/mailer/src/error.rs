//! The mailer's error type. Template and rendering errors say which template, language, part and
//! field; delivery errors are not errors here but outcomes recorded on the outbox row.

use crate::check::Problem;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The templates have problems; nothing is sent until they are fixed.
    #[error("the email templates in {origin} have {} problem(s); `outreach templates check` lists them:\n{}",
        problems.len(),
        problems.iter().map(|p| format!("  {p}")).collect::<Vec<_>>().join("\n"))]
    Templates {
        origin: String,
        problems: Vec<Problem>,
    },

    /// An outbox row cannot be turned into a message: unknown template, a context that does not
    /// match its type, a bad address. Permanent: retrying cannot help.
    #[error("{0}")]
    Render(String),

    /// The mail settings are unusable.
    #[error("mail settings: {0}")]
    Config(String),

    /// Writing a message with the file transport failed.
    #[error("cannot write {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },

    #[error(transparent)]
    Core(#[from] outreach_core::Error),

    #[error("database error: {0}")]
    Database(#[from] sea_orm::DbErr),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The core error this one carries, if any: its field and remedy are the front ends'.
    pub fn core(&self) -> Option<&outreach_core::Error> {
        match self {
            Self::Core(c) => Some(c),
            _ => None,
        }
    }

    /// The kind of this error, for the front ends (see [`outreach_core::ErrorKind`]).
    pub fn kind(&self) -> outreach_core::ErrorKind {
        use outreach_core::ErrorKind as K;
        match self {
            Self::Core(c) => c.kind(),
            Self::Templates { .. } | Self::Config(_) => K::Setup,
            Self::Database(e) => K::of_database(e),
            _ => K::Internal,
        }
    }
}
