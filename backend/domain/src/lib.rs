//! EduGraph's pure domain: typed identifiers, roles and validated values.
//!
//! Nothing here knows about HTTP, SQL or Microsoft Graph. Values that come from
//! outside (request bodies, Graph payloads) become domain types only through the
//! fallible `parse` constructors, so a `Email` or a `Password` in hand is valid.

pub mod csv;
pub mod error;
pub mod ids;
pub mod role;
pub mod values;

pub use error::DomainError;
pub use ids::{TenantId, UserId};
pub use role::Role;
pub use values::{Email, FavoriteColor, Password};
