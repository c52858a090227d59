//! The OpenAPI 3.1 document, served at `/api/openapi.json`, and the self-hosted docs page.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes::{
    account_recovery, admin_audit, admin_bulk, admin_directory, admin_exports, admin_groups, admin_jobs,
    admin_licenses, admin_local_accounts, admin_tenant, admin_users, assignments, auth_local, education, grading,
    health, linking, me, microsoft, people, self_service,
};

/// The API's OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "EduGraph API",
        description = "The EduGraph school portal API. Errors share one envelope: \
                       `{\"error\":{\"code\":\"snake_case\",\"message\":\"…\"}}`. State-changing requests need the \
                       `X-CSRF-Token` header (from `GET /api/me` or `GET /api/auth/csrf`) and a JSON body."
    ),
    paths(
        health::healthz,
        health::readyz,
        health::metrics,
        auth_local::get_csrf_token,
        auth_local::register_local_account,
        auth_local::login_local,
        auth_local::logout,
        auth_local::logout_everywhere,
        auth_local::change_password,
        account_recovery::forgot_password,
        account_recovery::reset_password,
        account_recovery::verify_email,
        me::get_me,
        microsoft::get_microsoft_account_hint,
        linking::create_local_account_for_microsoft_user,
        linking::link_existing_local_account,
        linking::unlink_microsoft_account,
        linking::set_favorite_color,
        linking::get_my_microsoft_profile,
        admin_tenant::get_admin_tenant,
        admin_tenant::unconsent_tenant,
        admin_tenant::list_linked_accounts,
        admin_tenant::unlink_account,
        admin_tenant::clear_token_cache,
        education::list_schools,
        education::list_school_people,
        education::list_classes,
        education::get_class,
        education::list_class_documents,
        education::list_class_conversations,
        education::get_seating,
        education::put_seating,
        people::get_person_photo,
        people::get_about_me,
        people::add_class_teacher,
        self_service::get_profile_fields,
        self_service::put_profile_fields,
        self_service::get_my_profile,
        self_service::update_my_profile,
        self_service::send_class_mail,
        assignments::list_assignments,
        assignments::create_assignment,
        assignments::add_assignment_link,
        assignments::publish_assignment,
        assignments::delete_assignment,
        assignments::list_submissions,
        assignments::list_submission_resources,
        assignments::submission_action,
        assignments::get_assignment,
        assignments::update_assignment,
        assignments::upload_assignment_file,
        assignments::upload_submission_file,
        grading::grade_submission,
        grading::excuse_submission,
        grading::return_graded,
        grading::get_class_job,
        grading::create_assignment_rubric,
        grading::get_assignment_rubric,
        grading::list_grading_categories,
        grading::get_gradebook,
        grading::get_my_assignments,
        admin_jobs::enable_user_access,
        admin_jobs::list_admin_jobs,
        admin_jobs::get_admin_job,
        admin_jobs::get_latest_user_access_job,
        // CSV exports and directory sync
        admin_exports::export_users_csv,
        admin_exports::export_groups_csv,
        admin_directory::get_directory_sync,
        admin_directory::list_directory_members,
        admin_directory::get_user_directory,
        admin_directory::get_sync_status,
        admin_directory::set_directory_sync_group,
        admin_directory::clear_directory_sync_group,
        // Tenant admin console.
        admin_users::list_admin_users,
        admin_users::create_admin_user,
        admin_users::get_admin_user,
        admin_users::update_admin_user,
        admin_users::enable_admin_user,
        admin_users::disable_admin_user,
        admin_licenses::list_admin_licenses,
        admin_licenses::assign_admin_user_licenses,
        admin_bulk::bulk_assign_admin_licenses,
        admin_groups::list_admin_groups,
        admin_groups::list_admin_group_members,
        admin_groups::get_admin_group,
        admin_groups::add_admin_group_member,
        admin_groups::remove_admin_group_member,
        admin_bulk::bulk_add_admin_group_members,
        admin_bulk::list_admin_job_items,
        admin_local_accounts::list_admin_local_accounts,
        admin_local_accounts::delete_admin_local_account,
        admin_audit::list_admin_audit,
    ),
    components(schemas(crate::error::ErrorBody, crate::error::ErrorDetail, crate::error::ErrorCode, edu_domain::Role)),
    modifiers(&SecuritySchemes, &StateChangingResponses),
    tags(
        (name = "account", description = "Local accounts, sessions, who am I"),
        (name = "ops", description = "Health, readiness, metrics"),
        (name = "linking", description = "Linking local and Microsoft accounts"),
        (name = "admin", description = "Tenant administration (tenant admins only)"),
        (name = "education", description = "Schools, classes, class details, seating charts"),
        (name = "assignments", description = "Assignments and submissions"),
    )
)]
pub struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "__Host-sid",
                "The session cookie set at sign-in (HttpOnly, Secure, SameSite=Lax).",
            ))),
        );
        components.add_security_scheme(
            "csrf",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-CSRF-Token",
                "The token from GET /api/me (signed in) or GET /api/auth/csrf (anonymous).",
            ))),
        );
    }
}

/// Answers every state-changing operation (POST, PUT, PATCH, DELETE) can give before its
/// handler runs, documented once here so no operation forgets them: 403 `csrf_failed` (the CSRF
/// middleware), and for operations with a request body 400 (`invalid_json`, `invalid_body`),
/// 413 and 415 (the body extractors). Handlers document their own 404/409/422.
struct StateChangingResponses;

/// The status codes [`StateChangingResponses`] adds, and when.
pub const CSRF_RESPONSES: [&str; 1] = ["403"];
/// Added to state-changing operations that take a request body.
pub const BODY_RESPONSES: [&str; 3] = ["400", "413", "415"];

impl Modify for StateChangingResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
        let error = |description: &str| {
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content(
                        "application/json",
                        ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build(),
                    )
                    .build(),
            )
        };
        for item in openapi.paths.paths.values_mut() {
            for op in [&mut item.post, &mut item.put, &mut item.patch, &mut item.delete].into_iter().flatten() {
                let responses = &mut op.responses.responses;
                responses.entry("403".to_owned()).or_insert_with(|| {
                    error("`csrf_failed`: missing or wrong `X-CSRF-Token`, or a foreign `Origin`; or not allowed")
                });
                if op.request_body.is_some() {
                    responses
                        .entry("400".to_owned())
                        .or_insert_with(|| error("`invalid_json` / `invalid_body`: the body is not the expected JSON"));
                    responses
                        .entry("413".to_owned())
                        .or_insert_with(|| error("`payload_too_large`: the body is too large"));
                    responses
                        .entry("415".to_owned())
                        .or_insert_with(|| error("`unsupported_media_type`: the body has the wrong `Content-Type`"));
                }
            }
        }
    }
}

/// The methods the API serves at `path` (upper case; `HEAD` with `GET`), matching the
/// document's path templates segment by segment (`{id}` matches any one segment), or `None`
/// when no documented path matches.
#[must_use]
pub fn allowed_methods(path: &str) -> Option<Vec<&'static str>> {
    static TEMPLATES: std::sync::OnceLock<Vec<(Vec<String>, Vec<&'static str>)>> = std::sync::OnceLock::new();
    let templates = TEMPLATES.get_or_init(|| {
        let doc = ApiDoc::openapi();
        doc.paths
            .paths
            .iter()
            .map(|(p, item)| {
                let mut methods = Vec::new();
                for (name, op) in [
                    ("GET", item.get.is_some()),
                    ("HEAD", item.get.is_some()),
                    ("POST", item.post.is_some()),
                    ("PUT", item.put.is_some()),
                    ("PATCH", item.patch.is_some()),
                    ("DELETE", item.delete.is_some()),
                ] {
                    if op {
                        methods.push(name);
                    }
                }
                (p.split('/').map(str::to_owned).collect(), methods)
            })
            .collect()
    });
    let segs: Vec<&str> = path.split('/').collect();
    let mut found: Vec<&'static str> = Vec::new();
    for (template, methods) in templates {
        let matches = template.len() == segs.len()
            && template.iter().zip(&segs).all(|(t, s)| if t.starts_with('{') { !s.is_empty() } else { t == s });
        if matches {
            for m in methods {
                if !found.contains(m) {
                    found.push(m);
                }
            }
        }
    }
    (!found.is_empty()).then_some(found)
}

#[cfg(test)]
mod tests {
    use utoipa::OpenApi as _;

    use super::{ApiDoc, allowed_methods};

    #[test]
    fn allowed_methods_follow_the_documents_templates() {
        assert_eq!(allowed_methods("/api/me"), Some(vec!["GET", "HEAD"]));
        assert!(allowed_methods("/api/classes/abc/assignments").is_some_and(|m| m.contains(&"POST")));
        assert_eq!(allowed_methods("/api/nothing-here"), None);
        assert_eq!(allowed_methods("/api/classes//assignments"), None);
    }

    /// Operations that change state without a session (signing in, registering, signing out):
    /// they need the CSRF token alone.
    const ANONYMOUS: [&str; 6] =
        ["register_local_account", "login_local", "logout", "forgot_password", "reset_password", "verify_email"];
    /// JSON-body operations that check nothing beyond the body's types (a wrong value is a
    /// 401/404/409, never a 422). Every other one documents its 422.
    const NO_VALIDATION: [&str; 4] =
        ["login_local", "link_existing_local_account", "add_admin_group_member", "verify_email"];

    /// Issue 17 item 12, enforced for every endpoint added later: each state-changing operation
    /// needs the session AND the CSRF token in ONE security requirement object (not two
    /// alternatives), and documents 403, and 400/413/415 when it takes a body, and every
    /// error response uses the error envelope.
    #[test]
    fn state_changing_operations_require_session_and_csrf_and_document_their_errors() {
        let doc = serde_json::to_value(ApiDoc::openapi()).expect("the document serializes");
        let mut problems = Vec::new();
        let mut checked = 0;
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for (method, op) in item.as_object().expect("a path item") {
                let id = op["operationId"].as_str().unwrap_or(path);
                if let Some(responses) = op["responses"].as_object() {
                    for (status, r) in responses {
                        let is_error = status.starts_with('4') || status.starts_with('5');
                        if is_error && r["content"]["application/json"].is_null() && status != "401" {
                            // 401 and others may be bodiless only if declared so explicitly.
                            problems.push(format!("{method} {path} ({id}): {status} has no JSON error body"));
                        }
                    }
                }
                if !matches!(method.as_str(), "post" | "put" | "patch" | "delete") {
                    continue;
                }
                checked += 1;
                let security = op["security"].as_array().cloned().unwrap_or_default();
                let want: Vec<&str> = if ANONYMOUS.contains(&id) { vec!["csrf"] } else { vec!["csrf", "session"] };
                let ok = security.len() == 1
                    && security[0].as_object().is_some_and(|o| {
                        let mut keys: Vec<&str> = o.keys().map(String::as_str).collect();
                        keys.sort_unstable();
                        keys == want
                    });
                if !ok {
                    problems.push(format!(
                        "{method} {path} ({id}): security must be one object {{{}}}, got {security:?}",
                        want.join(", ")
                    ));
                }
                let responses = op["responses"].as_object().cloned().unwrap_or_default();
                let mut needed = vec!["403"];
                if !op["requestBody"].is_null() {
                    needed.extend(["400", "415"]);
                }
                if op["requestBody"]["content"]["application/json"].is_object() && !NO_VALIDATION.contains(&id) {
                    needed.push("422");
                }
                for status in needed {
                    if !responses.contains_key(status) {
                        problems.push(format!("{method} {path} ({id}): does not document {status}"));
                    }
                }
            }
        }
        assert!(checked > 20, "only {checked} state-changing operations found");
        assert!(problems.is_empty(), "{} OpenAPI convention problems:\n{}", problems.len(), problems.join("\n"));
    }
}
