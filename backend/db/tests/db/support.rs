//! A fresh, migrated database per test.

use edu_db::Db;

/// Which database a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file in a temporary directory.
    Sqlite,
    /// A uniquely named database on the server at `EDUGRAPH_TEST_MYSQL_URL`.
    MySql,
}

/// Runs each `async fn name(backend)` as `sqlite::name` and `mysql::name`.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { super::$name($crate::support::Backend::Sqlite).await } )*
        }
        mod mysql {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() {
                   if !$crate::support::mysql_available(stringify!($name)) { return; }
                   super::$name($crate::support::Backend::MySql).await
               } )*
        }
    };
}

/// The MySQL server URL, if the MySQL variants run.
pub fn mysql_url() -> Option<String> {
    std::env::var("EDUGRAPH_TEST_MYSQL_URL").ok().filter(|v| !v.is_empty()).map(|v| v.trim_end_matches('/').to_owned())
}

/// Whether the MySQL variant can run; prints a notice when it cannot.
pub fn mysql_available(test: &str) -> bool {
    if mysql_url().is_some() {
        return true;
    }
    eprintln!("NOTICE: EDUGRAPH_TEST_MYSQL_URL is not set: the MySQL variant of `{test}` did not run.");
    false
}

/// A test database; the MySQL one is dropped with it.
pub struct TestDb {
    /// The pool.
    pub db: Db,
    /// The URL the pool was opened with.
    pub url: String,
    _guard: Guard,
}

enum Guard {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    MySql { server: String, name: String },
}

impl TestDb {
    /// An empty database (not migrated).
    pub async fn empty(backend: Backend) -> Self {
        let (url, guard) = match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                (format!("sqlite://{}/edu_db.db", dir.path().display()), Guard::Sqlite(dir))
            }
            Backend::MySql => {
                let server = mysql_url().expect("EDUGRAPH_TEST_MYSQL_URL");
                let name = format!("edudb_t_{}", edu_domain::UserId::new().to_string().replace('-', ""));
                edu_db::testing::create_mysql_database(&server, &name).await.expect("create the test database");
                (format!("{server}/{name}"), Guard::MySql { server, name })
            }
        };
        let db = Db::connect(&url, 4).await.expect("connect");
        Self { db, url, _guard: guard }
    }

    /// A migrated database.
    pub async fn migrated(backend: Backend) -> Self {
        let t = Self::empty(backend).await;
        t.db.migrate().await.expect("migrate");
        t
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Self::MySql { server, name } = self {
            let (server, name) = (server.clone(), name.clone());
            // Drop runs inside the test's runtime: use a runtime of our own on another thread.
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

/// A consented tenant (Microsoft tenant `ms`).
pub async fn consented_tenant(db: &Db, ms: &str) -> edu_domain::TenantId {
    let t = edu_db::tenants::upsert_by_ms_id(db, ms, "School", 1).await.expect("tenant");
    edu_db::tenants::set_consented(db, t, "User.Read.All", None, 2).await.expect("consent");
    t
}
