//! The error type of the letters library: each variant names what is wrong and how to fix it.

use outreach_mailer::check::Problem;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Core(#[from] outreach_core::Error),

    /// The letter templates are broken; every problem is listed.
    #[error("letter templates in {origin} have {} problem(s):\n{}", .problems.len(), list(.problems))]
    Templates {
        origin: String,
        problems: Vec<Problem>,
    },

    /// The database lacks what a template requires; nothing was written.
    #[error(
        "cannot draft {template} for {state}: missing {}; nothing was written",
        .missing.iter().map(|(f, hint)| format!("{f} ({hint})")).collect::<Vec<_>>().join("; ")
    )]
    MissingFields {
        template: String,
        state: String,
        /// (field, how to supply it)
        missing: Vec<(String, String)>,
    },

    #[error("rendering {0}")]
    Render(String),

    #[error("export: {0}")]
    Export(String),

    #[error("database error: {0}")]
    Database(#[from] sea_orm::DbErr),
}

fn list(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| format!("  - {p}"))
        .collect::<Vec<_>>()
        .join("\n")
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
            // The directory lacks what the template needs: not possible as the records stand.
            Self::MissingFields { .. } => K::Conflict,
            Self::Templates { .. } => K::Setup,
            Self::Database(e) => K::of_database(e),
            _ => K::Internal,
        }
    }
}
