//! Test-only: a fresh database per test and the macros that run a test on both backends.
//!
//! - SQLite always: a file in a temporary directory.
//! - MySQL/MariaDB when `EDUGRAPH_TEST_MYSQL_URL` is set (e.g. `mysql://root@127.0.0.1:3306`):
//!   a database of its own on that server, dropped at the end of the test.
//!
//! Whether the MySQL variants run is decided when the tests are built (see `build.rs`):
//! without the variable they are `#[ignore]`d, so `cargo nextest` and `cargo test` report them
//! as skipped rather than passed; with it they run, and fail when the server cannot be reached.

/// Why a MySQL variant did not run.
pub const SKIP_REASON: &str = "EDUGRAPH_TEST_MYSQL_URL is unset";

/// Whether the MySQL variants were built to run (`EDUGRAPH_TEST_MYSQL_URL` set at build time).
pub const MYSQL_ENABLED: bool = cfg!(edugraph_mysql);

/// Which database a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite in a temporary directory.
    Sqlite,
    /// A fresh database on the MySQL/MariaDB server at `EDUGRAPH_TEST_MYSQL_URL`.
    MySql,
}

/// Runs `async fn $name(backend: Backend)` against SQLite and MySQL, as the tests
/// `sqlite::$name` and `mysql::$name`. The MySQL variants are skipped (ignored) when the tests
/// were built without `EDUGRAPH_TEST_MYSQL_URL`.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { super::$name($crate::Backend::Sqlite).await } )*
        }
        mod mysql {
            $( $crate::__mysql_test!($name, super::$name($crate::Backend::MySql).await); )*
        }
    };
}

/// Runs `async fn $name()` (a test that needs MySQL only) as the test `mysql::$name`,
/// skipped (ignored) when the tests were built without `EDUGRAPH_TEST_MYSQL_URL`.
#[macro_export]
macro_rules! mysql_only {
    ($($name:ident),* $(,)?) => {
        mod mysql {
            $( $crate::__mysql_test!($name, super::$name().await); )*
        }
    };
}

/// One MySQL test function (built with `EDUGRAPH_TEST_MYSQL_URL`: runs).
#[cfg(edugraph_mysql)]
#[doc(hidden)]
#[macro_export]
macro_rules! __mysql_test {
    ($name:ident, $call:expr) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            $call
        }
    };
}

/// One MySQL test function (built without `EDUGRAPH_TEST_MYSQL_URL`: skipped).
#[cfg(not(edugraph_mysql))]
#[doc(hidden)]
#[macro_export]
macro_rules! __mysql_test {
    ($name:ident, $call:expr) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        #[ignore = "EDUGRAPH_TEST_MYSQL_URL is unset"]
        async fn $name() {
            $call
        }
    };
}

/// The MySQL server URL (without a database) the MySQL variants use.
///
/// # Panics
/// When `EDUGRAPH_TEST_MYSQL_URL` is unset or empty: a MySQL test that runs must not pass
/// without MySQL.
#[must_use]
pub fn mysql_server_url() -> String {
    match std::env::var("EDUGRAPH_TEST_MYSQL_URL") {
        Ok(v) if !v.trim().is_empty() => v.trim().trim_end_matches('/').to_owned(),
        _ => panic!(
            "EDUGRAPH_TEST_MYSQL_URL is unset, but a MySQL test is running (the tests were built with it set): \
             set it (e.g. mysql://root@127.0.0.1:3306) or rebuild without it to skip the MySQL variants"
        ),
    }
}

/// A per-test database, removed when dropped.
#[derive(Debug)]
pub enum TestDatabase {
    /// A temporary directory holding the SQLite file.
    Sqlite(tempfile::TempDir),
    /// A MySQL database name on the server.
    MySql {
        /// Server URL without a database.
        server: String,
        /// Database name.
        name: String,
    },
}

impl TestDatabase {
    /// Creates an empty database and returns it with its URL.
    ///
    /// # Panics
    /// When the database cannot be created (the test cannot run), including a MySQL server
    /// that cannot be reached.
    pub async fn create(backend: Backend) -> (Self, String) {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}/edugraph.db", dir.path().display());
                (Self::Sqlite(dir), url)
            }
            Backend::MySql => {
                let server = mysql_server_url();
                let name = format!("edugraph_t_{}", uuid::Uuid::new_v4().simple());
                if let Err(e) = edu_db::testing::create_mysql_database(&server, &name).await {
                    panic!("cannot create a MySQL test database on {server} (EDUGRAPH_TEST_MYSQL_URL): {e}");
                }
                let url = format!("{server}/{name}");
                (Self::MySql { server, name }, url)
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Self::MySql { server, name } = self {
            let (server, name) = (server.clone(), name.clone());
            // Drop runs inside the test's runtime; use a runtime of our own on another thread.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
                rt.block_on(async {
                    if let Err(e) = edu_db::testing::drop_mysql_database(&server, &name).await {
                        eprintln!("could not drop test database {name}: {e}");
                    }
                });
            })
            .join();
        }
    }
}
