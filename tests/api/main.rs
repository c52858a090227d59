//! Black-box tests of the API: the real app on port 0, a fresh database per test, each
#![expect(
    clippy::unwrap_used,
    reason = "a test should fail loudly on an unexpected value"
)]
//! test run on SQLite (`sqlite::…`) and on MySQL (`mysql::…`).

mod conventions;
mod csrf;
mod local_accounts;
mod ops;
mod sessions;
mod throttling;
