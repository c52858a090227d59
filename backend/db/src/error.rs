//! Storage errors.

/// What went wrong in the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The URL scheme is neither `mysql://` nor `sqlite:`.
    #[error("unsupported database URL: expected mysql://… or sqlite://…")]
    UnsupportedUrl,
    /// A unique key was violated (the name says which constraint, for the caller to map).
    #[error("a row with the same {0} already exists")]
    Conflict(&'static str),
    /// A stored value could not be turned back into a domain value.
    #[error("corrupt row in {table}: {detail}")]
    Corrupt {
        /// The table.
        table: &'static str,
        /// What was wrong.
        detail: String,
    },
    /// Any other database error.
    #[error(transparent)]
    Sqlx(#[from] sqlx::Error),
    /// A migration failed.
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl DbError {
    /// Maps a unique-violation into [`DbError::Conflict`] naming `what`; other errors pass through.
    pub(crate) fn unique_as(e: sqlx::Error, what: &'static str) -> Self {
        match &e {
            sqlx::Error::Database(d) if d.is_unique_violation() => Self::Conflict(what),
            _ => Self::Sqlx(e),
        }
    }
}
