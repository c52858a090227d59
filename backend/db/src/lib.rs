//! All of EduGraph's SQL lives here.
//!
//! One schema runs on MySQL/MariaDB (production) and SQLite (demo, embedded) through
//! `sqlx::any`. The limits of that driver shape the schema (see `migrations/README.md`):
//! ids are `CHAR(36)`, times are unix milliseconds in `BIGINT`, booleans are integers,
//! long values are blobs. Every tenant-owned query takes a [`TenantId`](edu_domain::TenantId).
//!
//! Every function runs on an [`Exec`]: `&Db` (the pool), or the caller's transaction
//! ([`Db::begin`]) so that several writes and their [`audit::record`] commit together. Rows
//! are read into private `#[derive(sqlx::FromRow)]` structs (`…Row`) holding only what
//! `sqlx::any` decodes on both backends (`String`, `i64`, `Vec<u8>`, their `Option`s) and
//! turned into the public records (flags, parsed ids) in one `TryFrom` each. The three sync
//! streams (users, directory, roster) share one page-commit and sweep helper (`page`).

pub mod audit;
pub mod directory;
pub mod email_verifications;
pub mod error;
pub mod exports;
pub mod fleet;
pub mod identities;
pub mod jobs;
pub mod oidc;
mod page;
pub mod password_resets;
pub mod roster;
pub mod roster_cache;
pub mod roster_members;
pub mod seating;
pub mod sessions;
pub mod sync;
pub mod tenants;
pub mod throttle;
pub mod token_cache;
pub mod uploads;
pub mod users;

use std::ops::DerefMut;
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AnyPool, Executor as _, Transaction};

pub use error::DbError;

/// Which SQL dialect the pool speaks; the few statements that differ (upserts) branch on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// MySQL or MariaDB.
    MySql,
    /// SQLite (demo mode, tests).
    Sqlite,
}

impl Dialect {
    /// The dialect of a `mysql://…` or `sqlite:…` URL.
    ///
    /// # Errors
    /// [`DbError::UnsupportedUrl`] for any other scheme.
    pub fn of_url(url: &str) -> Result<Self, DbError> {
        if url.starts_with("mysql://") || url.starts_with("mariadb://") {
            Ok(Self::MySql)
        } else if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else {
            Err(DbError::UnsupportedUrl)
        }
    }
}

/// Where an `edu_db` function runs its statements: `&Db` (a connection from the pool for
/// the call, as before), or the caller's `&mut Transaction<'_, Any>` / `&mut AnyConnection`
/// / `&mut PoolConnection<Any>`, so that several writes — and their [`audit::record`] —
/// commit or roll back together. A function that needs a transaction of its own begins it
/// on that connection: a transaction on a pooled connection, a savepoint inside the
/// caller's transaction.
///
/// ```ignore
/// let mut tx = db.begin().await?;
/// edu_db::tenants::set_consented(&mut tx, tenant, scopes, by, now).await?;
/// edu_db::audit::record(&mut tx, &event).await?;
/// tx.commit().await?;
/// ```
///
/// (A trait of our own rather than `sqlx::Acquire<'c>`: its lifetime parameter makes the
/// futures of the callers fail `Send` checks in `tokio::spawn`, "implementation of
/// `Acquire` is not general enough".)
pub trait Exec: Send {
    /// The connection the statements run on.
    type Conn: DerefMut<Target = AnyConnection> + Send;

    /// A pooled connection, or the caller's.
    fn acquire(self) -> impl Future<Output = Result<Self::Conn, sqlx::Error>> + Send;
}

impl Exec for &Db {
    type Conn = PoolConnection<Any>;

    fn acquire(self) -> impl Future<Output = Result<Self::Conn, sqlx::Error>> + Send {
        self.pool.acquire()
    }
}

impl<'a> Exec for &'a mut Transaction<'_, Any> {
    type Conn = &'a mut AnyConnection;

    fn acquire(self) -> impl Future<Output = Result<Self::Conn, sqlx::Error>> + Send {
        std::future::ready(Ok(&mut **self))
    }
}

impl<'a> Exec for &'a mut AnyConnection {
    type Conn = &'a mut AnyConnection;

    fn acquire(self) -> impl Future<Output = Result<Self::Conn, sqlx::Error>> + Send {
        std::future::ready(Ok(self))
    }
}

impl<'a> Exec for &'a mut PoolConnection<Any> {
    type Conn = &'a mut AnyConnection;

    fn acquire(self) -> impl Future<Output = Result<Self::Conn, sqlx::Error>> + Send {
        std::future::ready(Ok(&mut **self))
    }
}

/// Begins a transaction on `conn`: a savepoint when `conn` is already in one.
pub(crate) async fn begin(conn: &mut AnyConnection) -> Result<Transaction<'_, Any>, DbError> {
    Ok(sqlx::Connection::begin(conn).await?)
}

/// The dialect of an open connection (the few dialect-specific statements branch on it).
pub(crate) fn dialect_of(conn: &AnyConnection) -> Dialect {
    if conn.backend_name().eq_ignore_ascii_case("sqlite") { Dialect::Sqlite } else { Dialect::MySql }
}

/// `?, ?, ?` with `n` placeholders, for a bounded `IN (…)` list (bound parameters only).
pub(crate) fn placeholders(n: usize) -> String {
    vec!["?"; n].join(",")
}

/// A connection pool and its dialect. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Db {
    pool: AnyPool,
    dialect: Dialect,
}

static SQLITE_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations/sqlite");

impl Db {
    /// Opens a pool. SQLite files are created when missing and put in WAL mode.
    ///
    /// # Errors
    /// An unsupported URL or a database that cannot be reached.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, DbError> {
        Self::connect_with_timeout(url, max_connections, Duration::from_secs(10)).await
    }

    /// [`Db::connect`] with how long a query may wait for a connection (when the database is
    /// down, every query fails after this long with `PoolTimedOut`).
    ///
    /// # Errors
    /// An unsupported URL or a database that cannot be reached.
    pub async fn connect_with_timeout(
        url: &str,
        max_connections: u32,
        acquire_timeout: Duration,
    ) -> Result<Self, DbError> {
        install_default_drivers();
        let dialect = Dialect::of_url(url)?;
        let url = match dialect {
            // `mariadb://` is an alias people use; sqlx only knows `mysql://`.
            Dialect::MySql => url.replacen("mariadb://", "mysql://", 1),
            Dialect::Sqlite if !url.contains("mode=") && !url.contains(":memory:") => {
                let sep = if url.contains('?') { '&' } else { '?' };
                format!("{url}{sep}mode=rwc")
            }
            Dialect::Sqlite => url.to_owned(),
        };
        let pool = AnyPoolOptions::new()
            // At least two: migrations on MySQL hold a lock on one connection while running on another.
            .max_connections(max_connections.max(2))
            .acquire_timeout(acquire_timeout)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    match dialect {
                        Dialect::Sqlite => {
                            conn.execute(
                                "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;",
                            )
                            .await?;
                        }
                        Dialect::MySql => {
                            // Unix-millisecond times and utf8mb4 everywhere; UTC so nothing depends on the server zone.
                            conn.execute("SET time_zone = '+00:00', NAMES utf8mb4").await?;
                        }
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await?;
        Ok(Self { pool, dialect })
    }

    /// Applies the pending migrations of this dialect (`migrations/mysql` or `migrations/sqlite`).
    ///
    /// Several instances may start at once against one database. On MySQL/MariaDB we take a
    /// named lock of our own on a dedicated connection first: sqlx's own lock uses
    /// `GET_LOCK(name, -1)`, which MariaDB refuses (warning 1411), so it never locks there and
    /// two instances would apply the same migration.
    ///
    /// # Errors
    /// A migration that fails or was changed after it was applied; the lock not granted in 10 minutes.
    pub async fn migrate(&self) -> Result<(), DbError> {
        match self.dialect {
            Dialect::Sqlite => {
                SQLITE_MIGRATOR.run(&self.pool).await?;
            }
            Dialect::MySql => {
                let mut lock_conn = self.pool.acquire().await?;
                let got: Option<i64> =
                    sqlx::query_scalar("SELECT GET_LOCK('edugraph_migrate', 600)").fetch_one(&mut *lock_conn).await?;
                if got != Some(1) {
                    return Err(DbError::Corrupt {
                        table: "migrations",
                        detail: "could not take the migration lock within 10 minutes".into(),
                    });
                }
                let mut migrator = sqlx::migrate!("../../migrations/mysql");
                migrator.set_locking(false);
                let result = migrator.run(&self.pool).await;
                let _ = sqlx::query("SELECT RELEASE_LOCK('edugraph_migrate')").execute(&mut *lock_conn).await;
                result?;
            }
        }
        Ok(())
    }

    /// A cheap round trip, for readiness checks.
    ///
    /// # Errors
    /// The database is unreachable.
    pub async fn ping(&self) -> Result<(), DbError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// The dialect of this pool.
    #[must_use]
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Starts a transaction that callers pass (as `&mut tx`) to several `edu_db` functions,
    /// so that their writes and audit events commit or roll back together.
    ///
    /// # Errors
    /// The database is unreachable.
    pub async fn begin(&self) -> Result<Transaction<'static, Any>, DbError> {
        Ok(self.pool.begin().await?)
    }

    /// The pool, for this crate's modules.
    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Closes the pool, waiting for connections to be returned.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Reads a boolean stored as an integer (sqlx Any cannot decode BOOLEAN on both backends).
pub(crate) fn flag(v: i64) -> bool {
    v != 0
}

/// Creating and dropping whole databases, for test harnesses that give each test its own
/// MySQL database.
pub mod testing {
    use sqlx::Connection as _;

    use crate::DbError;

    /// Creates database `name` on the server at `server_url` (`mysql://user@host:port`).
    /// `name` must be `[a-z0-9_]+` (it cannot be a bound parameter).
    ///
    /// # Errors
    /// An invalid name or a database error.
    pub async fn create_mysql_database(server_url: &str, name: &str) -> Result<(), DbError> {
        check_name(name)?;
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(server_url).await?;
        sqlx::query(&format!("CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"))
            .execute(&mut conn)
            .await?;
        conn.close().await?;
        Ok(())
    }

    /// Drops database `name` if it exists.
    ///
    /// # Errors
    /// An invalid name or a database error.
    pub async fn drop_mysql_database(server_url: &str, name: &str) -> Result<(), DbError> {
        check_name(name)?;
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(server_url).await?;
        sqlx::query(&format!("DROP DATABASE IF EXISTS `{name}`")).execute(&mut conn).await?;
        conn.close().await?;
        Ok(())
    }

    fn check_name(name: &str) -> Result<(), DbError> {
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') {
            return Err(DbError::UnsupportedUrl);
        }
        Ok(())
    }
}
