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
}

impl From<sea_orm::sqlx::Error> for Error {
    fn from(e: sea_orm::sqlx::Error) -> Self {
        Self::Database(sea_orm::DbErr::Custom(e.to_string()))
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
