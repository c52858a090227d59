//! The one route table.

pub mod auth_local;
pub mod health;
pub mod me;
pub mod microsoft;

use actix_web::web;

/// Registers every route.
pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.service(health::healthz)
        .service(health::readyz)
        .service(health::metrics)
        .service(auth_local::get_csrf_token)
        .service(auth_local::register_local_account)
        .service(auth_local::login_local)
        .service(auth_local::logout)
        .service(auth_local::change_password)
        .service(me::get_me)
        .service(microsoft::microsoft_login)
        .service(microsoft::microsoft_callback)
        .service(microsoft::microsoft_consent)
        .service(microsoft::microsoft_onboard)
        .service(microsoft::microsoft_consent_callback)
        .service(microsoft::get_microsoft_account_hint);
}
