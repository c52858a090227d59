//! Roles from Microsoft, refreshed at every sign-in: admin from directory role template ids
//! (the `wids` claim; never from display names), teacher/student from the education profile's
//! `primaryRole`. A tenant without Education, or a person without an education profile,
//! signs in with no role.

use edu_domain::Role;
use edu_msgraph::models::PrimaryRole;
use edu_msgraph::{GraphAuth, GraphClient, GraphError};

/// Global Administrator directory role template id.
pub const GLOBAL_ADMIN_TEMPLATE: &str = "62e90394-69f5-4237-9190-012177145e10";

/// Whether the `wids` claim names the Global Administrator role.
#[must_use]
pub fn is_tenant_admin(wids: &[String]) -> bool {
    wids.iter().any(|w| w.eq_ignore_ascii_case(GLOBAL_ADMIN_TEMPLATE))
}

/// The person's roles. One Graph call (`GET /education/me`); a missing education profile
/// (404/403, or a tenant without Education) means no teacher/student role, never an error.
///
/// # Errors
/// Graph failures other than "no education profile" (throttling after retries, outages).
pub async fn detect(graph: &GraphClient, auth: &GraphAuth, wids: &[String]) -> Result<Vec<Role>, GraphError> {
    let mut roles = Vec::new();
    if is_tenant_admin(wids) {
        roles.push(Role::Admin);
    }
    match graph.education_me(auth, &["id", "primaryRole"]).await {
        Ok(me) => match me.primary_role {
            PrimaryRole::Teacher => roles.push(Role::Teacher),
            PrimaryRole::Student => roles.push(Role::Student),
            PrimaryRole::None | PrimaryRole::Unknown => {}
        },
        Err(GraphError::NotFound(_) | GraphError::Forbidden(_)) => {}
        Err(e) => return Err(e),
    }
    Ok(roles)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_global_admin_template_id_makes_an_admin() {
        assert!(is_tenant_admin(&["62E90394-69F5-4237-9190-012177145E10".into()]));
        assert!(!is_tenant_admin(&["fe930be7-5e62-47db-91af-98c3a49a38b1".into()]));
        assert!(!is_tenant_admin(&["Global Administrator".into()]));
        assert!(!is_tenant_admin(&[]));
    }
}
