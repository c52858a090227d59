//! Microsoft identity: OpenID Connect discovery, ID-token validation, the delegated token
//! cache with refresh, and role detection.

pub mod id_token;
pub mod refresh_locks;
pub mod roles;
pub mod tokens;
