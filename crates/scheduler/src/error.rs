//! Errors of the scheduler library.

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Core(#[from] outreach_core::Error),

    #[error("database error: {0}")]
    Database(#[from] sea_orm::DbErr),

    #[error(transparent)]
    Mailer(#[from] outreach_mailer::Error),

    /// The workflows file is missing, malformed or names something unknown.
    #[error("workflows: {0}")]
    Workflows(String),

    /// A job's payload or an email's context that cannot be written as JSON: a bug, reported
    /// rather than queued as `null`.
    #[error("cannot write a job payload as JSON: {0}")]
    Payload(#[from] serde_json::Error),
}

impl From<sea_orm::sqlx::Error> for Error {
    fn from(e: sea_orm::sqlx::Error) -> Self {
        Self::Database(sea_orm::DbErr::Custom(e.to_string()))
    }
}

impl Error {
    /// The core error this one carries, if any: its field and remedy are the front ends'.
    pub fn core(&self) -> Option<&outreach_core::Error> {
        match self {
            Self::Core(c) => Some(c),
            Self::Mailer(m) => m.core(),
            _ => None,
        }
    }

    /// The kind of this error, for the front ends (see [`outreach_core::ErrorKind`]).
    pub fn kind(&self) -> outreach_core::ErrorKind {
        use outreach_core::ErrorKind as K;
        match self {
            Self::Core(c) => c.kind(),
            Self::Mailer(m) => m.kind(),
            Self::Database(e) => K::of_database(e),
            Self::Workflows(_) => K::Setup,
            Self::Payload(_) => K::Internal,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
