//! `edu_db`'s own tests, on SQLite and (when `EDUGRAPH_TEST_MYSQL_URL` is set) on MariaDB/MySQL:
//! each test gets a database of its own, dropped afterwards.
#![expect(clippy::unwrap_used, reason = "a test should fail loudly on an unexpected value")]

mod access;
mod audit;
mod migrations;
mod resets;
mod rows;
mod support;
mod sweep;
