//! The one route table.

pub mod account_recovery;
pub mod admin_audit;
pub mod admin_bulk;
pub mod admin_directory;
pub mod admin_exports;
pub mod admin_groups;
pub mod admin_jobs;
pub mod admin_licenses;
pub mod admin_local_accounts;
pub mod admin_tenant;
pub mod admin_users;
pub mod assignments;
pub mod auth_local;
pub mod education;
pub mod grading;
pub mod health;
pub mod linking;
pub mod me;
pub mod microsoft;
pub mod people;
pub mod self_service;

use actix_web::web;

/// Registers every route.
pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(health::healthz)
        .service(health::readyz)
        .service(auth_local::get_csrf_token)
        .service(auth_local::register_local_account)
        .service(auth_local::login_local)
        .service(auth_local::logout)
        .service(auth_local::logout_everywhere)
        .service(auth_local::change_password)
        .service(account_recovery::forgot_password)
        .service(account_recovery::reset_password)
        .service(account_recovery::verify_email)
        .service(me::get_me)
        .service(microsoft::microsoft_login)
        .service(microsoft::microsoft_callback)
        .service(microsoft::microsoft_consent)
        .service(microsoft::microsoft_onboard)
        .service(microsoft::microsoft_consent_callback)
        .service(microsoft::get_microsoft_account_hint)
        .service(linking::create_local_account_for_microsoft_user)
        .service(linking::link_existing_local_account)
        .service(linking::unlink_microsoft_account)
        .service(linking::set_favorite_color)
        .service(linking::get_my_microsoft_profile)
        .service(admin_tenant::get_admin_tenant)
        .service(admin_tenant::unconsent_tenant)
        .service(admin_tenant::list_linked_accounts)
        .service(admin_tenant::unlink_account)
        .service(admin_tenant::clear_token_cache)
        .service(education::list_schools)
        .service(education::list_school_people)
        .service(education::list_classes)
        .service(education::get_class)
        .service(education::list_class_documents)
        .service(education::list_class_conversations)
        .service(education::get_seating)
        .service(education::put_seating)
        .service(people::get_person_photo)
        .service(people::get_about_me)
        .service(people::add_class_teacher)
        .service(self_service::get_profile_fields)
        .service(self_service::put_profile_fields)
        .service(self_service::get_my_profile)
        .service(self_service::update_my_profile)
        .service(self_service::send_class_mail)
        .service(assignments::list_assignments)
        .service(assignments::create_assignment)
        .service(assignments::add_assignment_link)
        .service(assignments::publish_assignment)
        .service(assignments::delete_assignment)
        .service(assignments::get_assignment)
        .service(assignments::update_assignment)
        .service(assignments::upload_assignment_file)
        .service(assignments::list_submissions)
        .service(assignments::list_submission_resources)
        // Before `submission_action`, whose `{action}` segment would also match `files`.
        .service(assignments::upload_submission_file)
        // Grading (issue 15); `excuse` before `submission_action` too.
        .service(grading::excuse_submission)
        .service(grading::grade_submission)
        .service(grading::return_graded)
        .service(grading::get_class_job)
        .service(grading::create_assignment_rubric)
        .service(grading::get_assignment_rubric)
        .service(grading::list_grading_categories)
        .service(grading::get_gradebook)
        .service(grading::get_my_assignments)
        .service(assignments::submission_action)
        .service(admin_jobs::enable_user_access)
        .service(admin_jobs::get_latest_user_access_job)
        .service(admin_jobs::list_admin_jobs)
        .service(admin_jobs::get_admin_job)
        // CSV exports and directory sync
        .service(admin_exports::export_users_csv)
        .service(admin_exports::export_groups_csv)
        .service(admin_directory::list_directory_members)
        .service(admin_directory::get_directory_sync)
        .service(admin_directory::get_sync_status)
        .service(admin_directory::set_directory_sync_group)
        .service(admin_directory::clear_directory_sync_group)
        // Tenant admin console.
        .service(admin_users::list_admin_users)
        .service(admin_users::create_admin_user)
        .service(admin_directory::get_user_directory)
        .service(admin_users::get_admin_user)
        .service(admin_users::update_admin_user)
        .service(admin_users::enable_admin_user)
        .service(admin_users::disable_admin_user)
        .service(admin_licenses::assign_admin_user_licenses)
        .service(admin_licenses::list_admin_licenses)
        .service(admin_bulk::bulk_assign_admin_licenses)
        .service(admin_groups::list_admin_groups)
        .service(admin_bulk::bulk_add_admin_group_members)
        .service(admin_groups::list_admin_group_members)
        .service(admin_groups::get_admin_group)
        .service(admin_groups::add_admin_group_member)
        .service(admin_groups::remove_admin_group_member)
        .service(admin_bulk::list_admin_job_items)
        .service(admin_local_accounts::list_admin_local_accounts)
        .service(admin_local_accounts::delete_admin_local_account)
        .service(admin_audit::list_admin_audit);
}
