//! Black-box tests of the API: the real app on port 0, a fresh database per test, each
//! test run on SQLite (`sqlite::…`) and on MySQL (`mysql::…`).
#![expect(clippy::unwrap_used, reason = "a test should fail loudly on an unexpected value")]

mod account_recovery;
mod account_security;
mod admin_console;
mod admin_tenant;
mod assignment_files;
mod assignments;
mod authz_matrix;
mod conventions;
mod csrf;
mod database_down;
mod directory_sync;
mod education;
mod exports;
mod grading;
mod id_token;
mod journeys;
mod linking;
mod local_accounts;
mod microsoft_signin;
mod ops;
mod people;
mod roster_budget;
mod schema_truth;
mod school_people;
mod self_service;
mod sessions;
mod spa;
mod throttling;
mod token_cache;
mod token_refresh;
mod user_access;
