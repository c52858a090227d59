//! Roles a person can hold inside a tenant.

use std::fmt;

/// A role inside one tenant. Admin comes from Microsoft directory roles, teacher
/// and student from the education profile; a person may hold none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The tenant's administrator (Global Administrator directory role).
    Admin,
    /// A teacher (education `primaryRole` = teacher).
    Teacher,
    /// A student (education `primaryRole` = student).
    Student,
}

impl Role {
    /// All roles, in a stable order.
    pub const ALL: [Role; 3] = [Role::Admin, Role::Teacher, Role::Student];

    /// The form stored in the database and sent in JSON.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Teacher => "teacher",
            Role::Student => "student",
        }
    }

    /// Parses the stored form; `None` for anything else.
    #[must_use]
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_through_their_stored_form() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("Admin"), None);
    }
}
