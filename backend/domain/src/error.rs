//! Validation errors of domain values.

/// Why a value from outside was refused. Each variant has a stable code that the
/// HTTP layer puts in its error envelope.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// The email address is not of the form `local@domain` or is too long.
    #[error("Enter a valid email address (at most 254 characters).")]
    InvalidEmail,
    /// The password is shorter than the minimum.
    #[error("The password must be at least {min} characters long.")]
    PasswordTooShort {
        /// The minimum length, in characters.
        min: usize,
    },
    /// The password is longer than the maximum we hash.
    #[error("The password must be at most {max} characters long.")]
    PasswordTooLong {
        /// The maximum length, in characters.
        max: usize,
    },
    /// The password is on the list of the most common passwords.
    #[error("This password is too common; choose a less predictable one.")]
    PasswordTooCommon,
    /// A favourite colour outside the palette and not a `#rrggbb` value.
    #[error("Choose a colour from the palette or a hex value like #1e90ff.")]
    InvalidColor,
    /// An identifier that is not a UUID.
    #[error("The identifier is not valid.")]
    InvalidId,
}

impl DomainError {
    /// The stable snake_case code of this error.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidEmail => "invalid_email",
            Self::PasswordTooShort { .. } => "password_too_short",
            Self::PasswordTooLong { .. } => "password_too_long",
            Self::PasswordTooCommon => "password_too_common",
            Self::InvalidColor => "invalid_color",
            Self::InvalidId => "invalid_id",
        }
    }
}
