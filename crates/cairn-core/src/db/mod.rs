//! Opens the database (SQLite or PostgreSQL, chosen by the URL scheme) and runs one SQL text on either.
//!
//! We keep an enum of the two pools instead of `sqlx::Any` (which loses dates and JSON) or
//! code generic over `sqlx::Database` (which the sqlx maintainers advise against). Every
//! query is written once with `$1` placeholders, which both engines accept, and the
//! [`on_db!`] macro expands it once per engine so each arm is checked by the compiler.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, Postgres, Sqlite, SqlitePool};

pub mod lender;

use lender::Lenders;

/// Runs the same expression against whichever pool the [`Db`] holds.
///
/// ```text
/// let n: i64 = on_db!(db, |pool| sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(pool).await)?;
/// ```
///
/// Both arms must produce the same type, so statements end in
/// `.execute(pool).await.map(|r| r.rows_affected())` rather than the engine's own result.
#[macro_export]
macro_rules! on_db {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite($pool, _) => $body,
            $crate::db::Db::Postgres($pool, _) => $body,
        }
    };
}

/// [`on_db!`] for the statements of the hot paths (the session's user, a launch's reads):
/// runs the body with `$conn`, a `&mut` connection from the engine's read
/// [`lender::Lender`], which keeps it for the next statement when the body succeeded
/// instead of handing it back to the pool (see `db::lender` for why). The body is a
/// `Result<_, sqlx::Error>` and must leave no transaction open when it succeeds.
#[macro_export]
macro_rules! on_db_conn {
    ($db:expr, |$conn:ident| $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite(_, side) => $crate::on_lent!(side.lenders().reads, |$conn| $body),
            $crate::db::Db::Postgres(_, lenders) => $crate::on_lent!(lenders.reads, |$conn| $body),
        }
    };
}

/// [`on_db!`] for a write: takes a connection, then this process's turn to write
/// ([`Db::write_turn`]), and runs the body with `$conn` (a `&mut` connection) while
/// holding both. The body is a `Result<_, sqlx::Error>`; the connection comes from the
/// engine's write [`lender::Lender`], kept as in [`on_db_conn!`], so a body that succeeds
/// must leave no transaction open.
///
/// The connection comes first so that the turn is held only while SQLite writes: a
/// writer that waited for a pool connection while holding the turn would make every other
/// writer wait for that connection too. A writer holds one connection and never asks for
/// a second, so writers waiting for their turn with a connection cannot starve it.
#[macro_export]
macro_rules! on_db_writing {
    ($db:expr, |$conn:ident| $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite(_, side) => {
                $crate::on_lent!(side.lenders().writes, turn: side.write_turn().await, |$conn| $body)
            }
            $crate::db::Db::Postgres(_, lenders) => $crate::on_lent!(lenders.writes, |$conn| $body),
        }
    };
}

/// The loan shared by [`on_db_conn!`] and [`on_db_writing!`]: borrows from `$lender`,
/// then takes `turn` if given (held until the body ends), runs the body and keeps the
/// connection when the body succeeded.
#[doc(hidden)]
#[macro_export]
macro_rules! on_lent {
    ($lender:expr, $(turn: $turn:expr,)? |$conn:ident| $body:expr) => {
        async {
            let mut lent = $lender.lend().await?;
            let result = {
                $(let _turn = $turn;)?
                let $conn = &mut *lent;
                $body
            };
            if result.is_ok() {
                lent.keep();
            }
            result
        }
        .await
    };
}

/// Errors from opening, migrating or querying the database.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://USER@HOST/DB")]
    UnsupportedUrl(String),
    #[error("could not open the database: {0}")]
    Open(#[source] sqlx::Error),
    #[error("could not apply database migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Query(#[from] sqlx::Error),
}

impl StoreError {
    /// True when the error is a unique-constraint violation, which callers turn into a
    /// "already exists" answer instead of a server error.
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, StoreError::Query(sqlx::Error::Database(e)) if e.is_unique_violation())
    }

    /// True when the database could not be reached (as opposed to a bad query), which the
    /// HTTP layer answers with 503 so clients retry.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            StoreError::Open(_)
                | StoreError::Query(sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_))
        )
    }
}

/// How SQLite syncs its write-ahead log.
///
/// `Normal` (the default) keeps every committed transaction across a crash of the process,
/// including `kill -9`; only a power loss or kernel crash can drop the last few commits.
/// `Full` also survives those at the price of one fsync per commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SqliteSync {
    #[default]
    Normal,
    Full,
}

/// Pool settings that are not part of the URL.
#[derive(Debug, Clone)]
pub struct DbOptions {
    pub max_connections: u32,
    pub sqlite_synchronous: SqliteSync,
    pub busy_timeout: Duration,
}

impl Default for DbOptions {
    fn default() -> Self {
        Self { max_connections: 16, sqlite_synchronous: SqliteSync::Normal, busy_timeout: Duration::from_secs(5) }
    }
}

/// A connection pool on one of the two supported engines.
///
/// SQLite's pool serves every request; beside it the engine keeps a second pool for long
/// scans and this process's turn to write ([`SqliteSide`]).
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool, SqliteSide),
    /// The pool and the lenders of its hot paths ([`on_db_conn!`], [`on_db_writing!`]).
    Postgres(PgPool, Arc<Lenders<Postgres>>),
}

/// What a SQLite [`Db`] holds beside its pool.
#[derive(Clone, Debug)]
pub struct SqliteSide {
    /// The same file for the long read-only scans of rosters and the completion report
    /// ([`Db::for_scans`]); it differs in one setting, the memory map (see
    /// [`SCAN_MMAP_BYTES`]).
    scans: SqlitePool,
    /// One writer at a time in this process ([`Db::write_turn`]).
    writer: Arc<tokio::sync::Mutex<()>>,
    /// Connections of the request pool kept between hot statements ([`on_db_conn!`],
    /// [`on_db_writing!`]).
    lenders: Arc<Lenders<Sqlite>>,
}

impl SqliteSide {
    /// See [`Db::write_turn`].
    pub async fn write_turn(&self) -> tokio::sync::OwnedMutexGuard<()> {
        self.writer.clone().lock_owned().await
    }

    /// See [`on_db_conn!`].
    pub fn lenders(&self) -> &Lenders<Sqlite> {
        &self.lenders
    }
}

/// How much of a SQLite file the scan pool reads through a memory map.
///
/// Scans need the map: rosters and reports over a million enrolments spent a fifth of
/// their time copying pages into each connection's small private cache without it. The
/// map costs address space, not private memory. Requests must not use it: whenever
/// another connection has written, SQLite drops the whole map at the start of the next
/// read transaction and maps the file again, and every page touched faults in anew.
/// Under the commit benchmark that unmapping and faulting was about 15 % of the server's
/// CPU, and switching it off for requests raised commits/s by up to 40 %.
pub const SCAN_MMAP_BYTES: u64 = 256 * 1024 * 1024;

/// Connections lent to SQLite writers at once ([`lender::Lenders`]).
const SQLITE_WRITE_CONNECTIONS: usize = 2;
/// Connections lent to the hot paths' SQLite reads at once: one per processor core, from
/// two to eight.
///
/// Why so few: every write empties the page cache of every other connection (SQLite
/// notices the changed WAL at the start of each read transaction and drops all it had
/// cached), and reads of a file in the OS cache are bound by the processors, not the disk.
/// Spread over eight connections, nearly every read started cold, re-reading each B-tree
/// page with `pread` into freshly allocated cache slots; on two connections each one reads
/// several times between two writes. On the commit benchmark (two cores, SQLite), two
/// instead of eight made 5 % more commits per second at 100 learners in three interleaved
/// pairs and 14 % more at 1,000 in one run each (docs/PERFORMANCE.md). Other reads, which
/// do not use the lender, still have the rest of the pool.
fn sqlite_read_connections() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(2, 8)
}

/// Connections lent to PostgreSQL's hot-path reads at once: reads there wait on the
/// server, not on this process's processors, and its caches are shared.
const POSTGRES_READ_CONNECTIONS: usize = 8;

/// Connections lent to PostgreSQL writers at once: the group writer's three tasks, and
/// three for the launches' and progress refreshes' writes meanwhile.
const POSTGRES_WRITE_CONNECTIONS: usize = 6;

/// Connections of the SQLite scan pool: a few roster pages and report downloads at once;
/// more wait for a connection rather than competing for the two cores.
pub const SCAN_CONNECTIONS: u32 = 4;

/// Which engine a [`Db`] runs on; used in logs and `/readyz`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    pub fn name(self) -> &'static str {
        match self {
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgres",
        }
    }
}

impl Db {
    /// Opens a pool for `url` (`sqlite:` or `postgres:`/`postgresql:`), creating a SQLite
    /// file and its folder when missing. Does not run migrations; see [`Db::migrate`].
    pub async fn connect(url: &str, options: &DbOptions) -> Result<Db, StoreError> {
        if url.starts_with("sqlite:") {
            let mut connect = SqliteConnectOptions::from_str(url)
                .map_err(StoreError::Open)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .foreign_keys(true)
                .busy_timeout(options.busy_timeout)
                .pragma("mmap_size", "0")
                .synchronous(match options.sqlite_synchronous {
                    SqliteSync::Normal => SqliteSynchronous::Normal,
                    SqliteSync::Full => SqliteSynchronous::Full,
                });
            let in_memory = url.contains(":memory:") || url.contains("mode=memory");
            if !in_memory {
                let path = connect.get_filename().to_path_buf();
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::create_dir_all(parent).map_err(|e| StoreError::Open(sqlx::Error::Io(e)))?;
                }
            } else {
                // Each connection to `:memory:` is its own database, so a pool must hold
                // exactly one connection that never expires.
                connect = connect.shared_cache(true);
            }
            let pool = sqlite_pool(if in_memory { 1 } else { options.max_connections.max(1) }, in_memory)
                .connect_with(connect.clone())
                .await
                .map_err(StoreError::Open)?;
            let scans = if in_memory {
                pool.clone()
            } else {
                // Lazily connected: a node that serves no roster never opens one.
                sqlite_pool(SCAN_CONNECTIONS, false)
                    .connect_lazy_with(connect.pragma("mmap_size", SCAN_MMAP_BYTES.to_string()))
            };
            // Writers take turns, so two connections for writes are enough: one writing and
            // the next one ready.
            let lent = if in_memory { 1 } else { options.max_connections.max(1) };
            let lenders = Arc::new(Lenders::new(&pool, lent, sqlite_read_connections(), SQLITE_WRITE_CONNECTIONS));
            Ok(Db::Sqlite(pool, SqliteSide { scans, writer: Arc::default(), lenders }))
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let connect = PgConnectOptions::from_str(url).map_err(StoreError::Open)?;
            let pool = PgPoolOptions::new()
                .max_connections(options.max_connections.max(1))
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(connect)
                .await
                .map_err(StoreError::Open)?;
            let lenders = Arc::new(Lenders::new(
                &pool,
                options.max_connections.max(1),
                POSTGRES_READ_CONNECTIONS,
                POSTGRES_WRITE_CONNECTIONS,
            ));
            Ok(Db::Postgres(pool, lenders))
        } else {
            Err(StoreError::UnsupportedUrl(redact_url(url)))
        }
    }

    /// Applies the embedded migrations of this engine. Safe to call on every start and from
    /// several nodes at once: sqlx takes an advisory lock on PostgreSQL.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self {
            Db::Sqlite(pool, _) => sqlx::migrate!("../../migrations/sqlite").run(pool).await?,
            Db::Postgres(pool, _) => sqlx::migrate!("../../migrations/postgres").run(pool).await?,
        }
        Ok(())
    }

    pub fn engine(&self) -> Engine {
        match self {
            Db::Sqlite(..) => Engine::Sqlite,
            Db::Postgres(..) => Engine::Postgres,
        }
    }

    /// A cheap round trip used by `/readyz`.
    pub async fn ping(&self) -> Result<(), StoreError> {
        let _: i32 = on_db!(self, |pool| sqlx::query_scalar("SELECT 1").fetch_one(pool).await)?;
        Ok(())
    }

    /// The same database for long read-only scans (roster pages, the completion report):
    /// on SQLite the scan pool, which reads through a memory map; on PostgreSQL the pool
    /// itself.
    pub fn for_scans(&self) -> Db {
        match self {
            Db::Sqlite(_, side) => Db::Sqlite(side.scans.clone(), side.clone()),
            Db::Postgres(pool, lenders) => Db::Postgres(pool.clone(), lenders.clone()),
        }
    }

    /// Waits for this process's turn to write to SQLite, and holds it until the guard is
    /// dropped; `None` at once on PostgreSQL, which locks rows, not the database. Writes
    /// take it through [`on_db_writing!`], never while holding it already.
    ///
    /// Why: SQLite lets one connection write at a time. A connection that finds the lock
    /// taken sleeps in SQLite's busy handler for 1, then 2, 5, 10 ms and more before it
    /// tries again, on its worker thread, however soon the lock is free. Under the commit
    /// benchmark the server slept that way about 1,900 times a second, the group writer
    /// among the sleepers. Waiting here instead hands the turn over the moment the
    /// previous write ends, in arrival order: the launch's p99 at 100 learners fell from
    /// about 120 ms to 22 ms. Writers in other processes (the `cairn` commands) still meet
    /// SQLite's own lock and busy timeout.
    pub async fn write_turn(&self) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        match self {
            Db::Sqlite(_, side) => Some(side.write_turn().await),
            Db::Postgres(..) => None,
        }
    }

    pub async fn close(&self) {
        match self {
            // The pool's `close` waits for every connection, kept ones included.
            Db::Sqlite(pool, side) => {
                side.lenders.close();
                pool.close().await;
                side.scans.close().await;
            }
            Db::Postgres(pool, lenders) => {
                lenders.close();
                pool.close().await;
            }
        }
    }
}

/// Pool settings shared by the two SQLite pools.
fn sqlite_pool(max_connections: u32, in_memory: bool) -> SqlitePoolOptions {
    SqlitePoolOptions::new()
        .max_connections(max_connections)
        .min_connections(if in_memory { 1 } else { 0 })
        .idle_timeout(if in_memory { None } else { Some(Duration::from_secs(600)) })
        .max_lifetime(if in_memory { None } else { Some(Duration::from_secs(3600)) })
        .acquire_timeout(Duration::from_secs(10))
        // sqlx pings a connection before lending it, which suits a server across a network
        // that may have dropped it. A SQLite connection lives in this process and cannot be
        // dropped from outside, and the ping is a round trip to the connection's worker
        // thread: two context switches per statement for nothing (the commit benchmark
        // counted about a fifth fewer context switches per commit without it). sqlx still
        // checks a connection when it is given back, except the connections the hot paths
        // keep between statements (`db::lender`).
        .test_before_acquire(false)
}

/// Hides the password of a database URL so it can be logged.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.find(':') {
                Some(colon) => format!("{}{}:***{}", &url[..scheme_end + 3], &credentials[..colon], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// A LIKE pattern that finds `search` anywhere, case-folded, with `%`, `_` and the
/// backslash taken literally (the query names the backslash as its ESCAPE character);
/// `None` for an empty search.
pub fn contains_pattern(search: Option<&str>) -> Option<String> {
    let search = search.map(str::trim).filter(|s| !s.is_empty())?;
    let escaped = search.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    Some(format!("%{escaped}%"))
}

/// A new random identifier for a row. Ids are made by the application so that the same
/// SQL works on both engines and rows can be created before they are inserted.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The current time, truncated to microseconds because PostgreSQL stores no more; without
/// this a value read back would differ from the one written.
pub fn now() -> time::OffsetDateTime {
    let now = time::OffsetDateTime::now_utc();
    now.replace_nanosecond(now.nanosecond() / 1_000 * 1_000).unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords_only() {
        let cases = [
            ("postgres://app:secret@db:5432/cairn", "postgres://app:***@db:5432/cairn"),
            ("postgres://app@db/cairn", "postgres://app@db/cairn"),
            ("sqlite://data/cairn.db", "sqlite://data/cairn.db"),
            ("mysql://u:p@h/d", "mysql://u:***@h/d"),
        ];
        for (input, expected) in cases {
            assert_eq!(redact_url(input), expected, "{input}");
        }
    }
}
