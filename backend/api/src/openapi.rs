//! The OpenAPI 3.1 document, served at `/api/openapi.json`, and the self-hosted docs page.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes::{
    admin_audit, admin_bulk, admin_directory, admin_exports, admin_groups, admin_jobs, admin_licenses,
    admin_local_accounts, admin_tenant, admin_users, assignments, auth_local, education, grading, health, linking, me,
    microsoft, people, self_service,
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
    modifiers(&SecuritySchemes),
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
