//! The one error type of the core library. Every variant reads as a sentence a campaign officer
//! can act on: it names what was given, which field it came from and how to fix it.

use std::fmt;

/// A state suggested when a code or name is not recognised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    pub iso3: String,
    pub name: String,
}

impl fmt::Display for Suggestion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.iso3, self.name)
    }
}

fn did_you_mean(suggestions: &[Suggestion]) -> String {
    match suggestions {
        [] => String::new(),
        [one] => format!("; did you mean {one}?"),
        many => {
            let names: Vec<String> = many.iter().map(ToString::to_string).collect();
            format!("; did you mean {}?", names.join(" or "))
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A value given by the user is malformed or out of range.
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },

    /// A state code or name that matches no state.
    #[error("{given} is not a state code or name{}", did_you_mean(.suggestions))]
    UnknownState {
        given: String,
        suggestions: Vec<Suggestion>,
    },

    /// A record looked up by id or name that does not exist.
    #[error("no {what} matches '{given}'{hint}")]
    NotFound {
        what: &'static str,
        given: String,
        hint: String,
        /// Where to look for the right one, said by each front end its own way.
        remedy: Option<Remedy>,
    },

    /// A short id or name that matches more than one record.
    #[error(
        "'{given}' matches {count} {what}s: {candidates}; give more of the id or the full name"
    )]
    Ambiguous {
        what: &'static str,
        given: String,
        count: usize,
        candidates: String,
    },

    /// The request is well-formed but the record's state does not allow it.
    #[error("{0}")]
    Conflict(String),

    /// The acting user's role, clearance or account does not allow the command.
    #[error("{0}")]
    Forbidden(String),

    /// A CSV file with a bad row; nothing from the file was written.
    #[error("{file}, line {line}, column '{column}': {message}; nothing was imported")]
    Csv {
        file: String,
        line: u64,
        column: String,
        message: String,
    },

    /// The shipped or given reference data is inconsistent.
    #[error("reference data: {0}")]
    ReferenceData(String),

    /// A backup archive that cannot be written, read or restored here.
    #[error("backup archive: {0}")]
    Archive(String),

    /// The configuration cannot be read or has unknown or malformed keys.
    #[error("configuration: {0}")]
    Config(String),

    #[error("database error: {0}")]
    Database(#[from] sea_orm::DbErr),
}

impl Error {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn not_found(
        what: &'static str,
        given: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
        Self::NotFound {
            what,
            given: given.into(),
            hint: hint.into(),
            remedy: None,
        }
    }

    /// This error with what the user can do about it (kept by [`Error::NotFound`]; the other
    /// kinds say theirs in their message or have a fixed one, see [`Error::remedy`]).
    #[must_use]
    pub fn with_remedy(mut self, to: Remedy) -> Self {
        if let Self::NotFound { remedy, .. } = &mut self {
            *remedy = Some(to);
        }
        self
    }

    /// What the user can do about this error, if the libraries know: each front end says it its
    /// own way (the CLI names a command, a page links to the place). Core's messages name no
    /// command.
    pub fn remedy(&self) -> Option<Remedy> {
        match self {
            Self::NotFound { remedy, .. } => *remedy,
            Self::UnknownState { suggestions, .. } if suggestions.is_empty() => {
                Some(Remedy::ListStates)
            }
            _ => None,
        }
    }
}

/// Where to look when a record named is not found: the list of those records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Remedy {
    /// Every state with its code.
    ListStates,
    /// The staff and their handles.
    ListStaff,
    ListOrganisations,
    ListContacts,
    ListFollowUps,
    ListMeetings,
    /// The grants and their ids.
    ListGrants,
}

/// What kind of failure an error is, for the front ends: the API turns it into an HTTP status,
/// the CLI into an exit code, each by one mapping of its own (`outreach_web::error`,
/// `outreach_cli::exit_code`). Its serde name is the `code` of their JSON errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// A value given is malformed or out of range; the error names the field.
    Invalid,
    /// A state code or name that matches no state.
    UnknownState,
    /// A CSV file with a bad row.
    InvalidCsv,
    /// A record named that does not exist.
    NotFound,
    /// A name or short id that matches several records.
    Ambiguous,
    /// Well formed, but the records as they stand do not allow it.
    Conflict,
    /// The acting user's role or account does not allow it.
    Forbidden,
    /// The configuration or the reference data is wrong; nothing was done.
    Setup,
    /// The database cannot be reached just now.
    Unavailable,
    /// Anything else: a bug or a failure of the machine.
    Internal,
}

impl Error {
    /// The kind of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Invalid { .. } => ErrorKind::Invalid,
            Self::UnknownState { .. } => ErrorKind::UnknownState,
            Self::NotFound { .. } => ErrorKind::NotFound,
            Self::Ambiguous { .. } => ErrorKind::Ambiguous,
            Self::Conflict(_) => ErrorKind::Conflict,
            Self::Forbidden(_) => ErrorKind::Forbidden,
            Self::Csv { .. } => ErrorKind::InvalidCsv,
            Self::ReferenceData(_) | Self::Config(_) | Self::Archive(_) => ErrorKind::Setup,
            Self::Database(e) => ErrorKind::of_database(e),
        }
    }

    /// The field at fault, by the name every front end reports (a CLI flag's leading `--`
    /// dropped), if the error is about one.
    pub fn field(&self) -> Option<String> {
        match self {
            Self::Invalid { field, .. } => Some(field.trim_start_matches("--").to_owned()),
            Self::UnknownState { .. } => Some("state".to_owned()),
            Self::Csv { column, .. } => Some(column.clone()),
            _ => None,
        }
    }
}

impl ErrorKind {
    /// Its stable machine code (its serde name), the `code` of JSON errors.
    pub fn code(self) -> &'static str {
        match self {
            Self::Invalid => "invalid",
            Self::UnknownState => "unknown_state",
            Self::InvalidCsv => "invalid_csv",
            Self::NotFound => "not_found",
            Self::Ambiguous => "ambiguous",
            Self::Conflict => "conflict",
            Self::Forbidden => "forbidden",
            Self::Setup => "setup",
            Self::Unavailable => "unavailable",
            Self::Internal => "internal",
        }
    }

    /// [`ErrorKind::Unavailable`] for a database that cannot be reached, else
    /// [`ErrorKind::Internal`].
    pub fn of_database(e: &sea_orm::DbErr) -> Self {
        if crate::db::is_unreachable(&e.to_string()) {
            Self::Unavailable
        } else {
            Self::Internal
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
