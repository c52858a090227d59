//! Typed identifiers. A `UserId` can never be passed where a `TenantId` is expected.

use std::fmt;

use crate::DomainError;

macro_rules! uuid_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(uuid::Uuid);

        impl $name {
            /// A new random, time-ordered (UUIDv7) identifier.
            #[must_use]
            pub fn new() -> Self {
                Self(uuid::Uuid::now_v7())
            }

            /// Parses the canonical hyphenated form.
            ///
            /// # Errors
            /// [`DomainError::InvalidId`] when `s` is not a UUID.
            pub fn parse(s: &str) -> Result<Self, DomainError> {
                uuid::Uuid::parse_str(s).map(Self).map_err(|_| DomainError::InvalidId)
            }

            /// The underlying UUID.
            #[must_use]
            pub fn as_uuid(&self) -> uuid::Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                // Always lower-case hyphenated: this is the form stored in CHAR(36) columns.
                write!(f, "{}", self.0.hyphenated())
            }
        }

        impl From<uuid::Uuid> for $name {
            fn from(u: uuid::Uuid) -> Self {
                Self(u)
            }
        }
    };
}

uuid_id!(
    /// A person known to EduGraph (with a local account, a Microsoft identity, or both).
    UserId
);
uuid_id!(
    /// EduGraph's own id of a school tenant (not the Microsoft tenant id).
    TenantId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_their_display_form() {
        let id = UserId::new();
        assert_eq!(UserId::parse(&id.to_string()), Ok(id));
    }

    #[test]
    fn malformed_ids_are_refused() {
        assert_eq!(TenantId::parse("1 OR 1=1"), Err(DomainError::InvalidId));
        assert_eq!(TenantId::parse(""), Err(DomainError::InvalidId));
    }
}
