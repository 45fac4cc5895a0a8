//! Throw-away databases for the test suites: SQLite always, PostgreSQL when configured.
//!
//! `CAIRN_TEST_DATABASE_URL` points at a PostgreSQL server where the tests may create and
//! drop databases. Each [`TestDb`] gets a database of its own, dropped when it goes away,
//! so tests never see each other's rows.

use std::path::PathBuf;

use sqlx::{Connection, Executor, PgConnection};

use crate::db::{Db, DbOptions};

/// The PostgreSQL server URL for tests, if the environment provides one.
pub fn postgres_url() -> Option<String> {
    std::env::var("CAIRN_TEST_DATABASE_URL").ok().filter(|u| !u.trim().is_empty())
}

/// Says on the terminal that part of a suite did not run, so a green run without
/// PostgreSQL, Redis or a browser is never mistaken for a full one. It writes to stderr
/// directly because the test harness captures `eprintln!` output of passing tests.
pub fn note_not_run(what: &str, how_to_run: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "NOTE: {what} NOT RUN ({how_to_run})");
}

/// Notes, once per process, that the PostgreSQL half of a suite did not run.
pub fn note_postgres_skipped(suite: &str) {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        note_not_run(&format!("{suite}: PostgreSQL suite"), "set CAIRN_TEST_DATABASE_URL to run it; .ci/run does")
    });
}

/// A migrated, empty database that is deleted on drop.
pub struct TestDb {
    pub db: Db,
    /// The URL the database can be reached at (for spawning servers on it).
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl TestDb {
    /// A fresh SQLite database in a temporary folder.
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temporary folder for a test database");
        let path: PathBuf = dir.path().join("cairn.db");
        let url = format!("sqlite://{}", path.display());
        let db = Db::connect(&url, &DbOptions::default()).await.expect("open test SQLite database");
        db.migrate().await.expect("migrate test SQLite database");
        TestDb { db, url, cleanup: Cleanup::Sqlite(dir) }
    }

    /// A fresh database on the PostgreSQL server at `admin_url`.
    pub async fn postgres(admin_url: &str) -> TestDb {
        let name = format!("cairn_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::connect(admin_url)
            .await
            .unwrap_or_else(|e| panic!("connect to CAIRN_TEST_DATABASE_URL: {e}"));
        admin.execute(format!("CREATE DATABASE {name}").as_str()).await.expect("create test database");
        admin.close().await.ok();
        let url = replace_database(admin_url, &name);
        let options = DbOptions { max_connections: 4, ..DbOptions::default() };
        let db = Db::connect(&url, &options).await.expect("open test PostgreSQL database");
        db.migrate().await.expect("migrate test PostgreSQL database");
        TestDb { db, url, cleanup: Cleanup::Postgres { admin_url: admin_url.to_string(), name } }
    }

    /// Every engine the environment offers: SQLite, plus PostgreSQL when configured.
    pub async fn all(suite: &str) -> Vec<TestDb> {
        let mut dbs = vec![TestDb::sqlite().await];
        match postgres_url() {
            Some(url) => dbs.push(TestDb::postgres(&url).await),
            None => note_postgres_skipped(suite),
        }
        dbs
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Cleanup::Postgres { admin_url, name } = &self.cleanup {
            // Drop runs outside any async context we can rely on, so the clean-up gets a
            // small runtime of its own on a plain thread.
            let (admin_url, name) = (admin_url.clone(), name.clone());
            let _ = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
                runtime.block_on(async {
                    let mut admin = PgConnection::connect(&admin_url).await.ok()?;
                    admin.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str()).await.ok()?;
                    Some(())
                })
            })
            .join();
        }
    }
}

/// The number of rows in `table`, for tests that check nothing was written.
pub async fn count_rows(db: &Db, table: &str) -> i64 {
    assert!(table.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "a plain table name");
    let sql = format!("SELECT COUNT(*) FROM {table}");
    crate::on_db!(db, |pool| sqlx::query_scalar(&sql).fetch_one(pool).await).expect("count rows")
}

/// Replaces the database name in a PostgreSQL URL, keeping any query string.
pub fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let path_start = base[scheme_end..].find('/').map(|i| i + scheme_end);
    let host = match path_start {
        Some(i) => &base[..i],
        None => base,
    };
    match query {
        Some(q) => format!("{host}/{name}?{q}"),
        None => format!("{host}/{name}"),
    }
}
