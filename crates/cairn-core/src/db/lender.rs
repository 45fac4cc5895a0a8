//! Connections kept between the statements of the hot paths (sign-in checks, launches,
//! commits), so that they skip the check sqlx makes on every connection given back.
//!
//! Why: sqlx answers every connection that returns to its pool with a ping before it
//! lends it again (it cannot know whether the last user left a query or a rollback half
//! done). On PostgreSQL that is a round trip to the server, on SQLite one to the
//! connection's worker thread, and a statement run on the pool pays it every time. With
//! the ping taken out of every release, the commit benchmark on PostgreSQL made 13 % more
//! commits per second in two interleaved runs each (docs/PERFORMANCE.md).
//!
//! A lender hands out at most `capacity` connections at a time, in the order they were
//! asked for (a fair semaphore), and keeps at most as many. Without that bound, work
//! arriving later took a kept connection at once while earlier work queued at the pool
//! behind it: launches waited up to 2.9 s under load.
//!
//! A connection is kept only when the work on it ran to the end without an error: a
//! statement that finished leaves nothing behind. Work that failed or was cancelled (the
//! client went away mid-request) drops its connection, and sqlx checks and cleans it as
//! before. A connection kept longer than [`KEPT_AT_MOST`] goes back to sqlx unused, so an
//! idle PostgreSQL connection is checked again before its next statement, as sqlx would.

use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sqlx::pool::PoolConnection;
use sqlx::{Database, Pool};
use tokio::sync::{Semaphore, SemaphorePermit};

/// How long a kept connection may wait for its next statement. Under load connections
/// come back within milliseconds; after a quiet spell they go back to sqlx, which checks
/// them before lending them again (a PostgreSQL server may have closed them meanwhile).
pub const KEPT_AT_MOST: Duration = Duration::from_secs(2);

/// Lends connections of one pool, at most `capacity` at a time, and keeps them between
/// statements. A capacity of 0 lends straight from the pool and keeps nothing.
pub struct Lender<DB: Database> {
    pool: Pool<DB>,
    /// One permit per connection lent; waiting loans are served first come, first served. A
    /// loan takes a kept connection before a new one, so lent and kept together never
    /// exceed the capacity.
    permits: Semaphore,
    /// Kept connections with the moment they came back, the most recent last.
    kept: Mutex<Vec<(PoolConnection<DB>, Instant)>>,
    capacity: usize,
    fresh_for: Duration,
    /// Set by [`Lender::close`]: from then on connections go back to the pool.
    closed: AtomicBool,
}

impl<DB: Database> std::fmt::Debug for Lender<DB> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lender").field("capacity", &self.capacity).field("kept", &self.kept_count()).finish()
    }
}

/// The two lenders of a database: single-statement reads of the hot paths
/// ([`crate::on_db_conn!`]) and writes ([`crate::on_db_writing!`]). Writes have their own,
/// smaller capacity so that writers waiting for their turn (SQLite) or for a commit round
/// (PostgreSQL) never hold every connection the reads need.
#[derive(Debug)]
pub struct Lenders<DB: Database> {
    pub reads: Lender<DB>,
    pub writes: Lender<DB>,
}

impl<DB: Database> Lenders<DB> {
    /// Reads get `reads` connections (at most half of a pool of `max_connections`) and
    /// writes `writes` (at most three eighths), so the rest of the server always keeps an
    /// eighth. A pool of one (an in-memory database) is lent straight through.
    pub fn new(pool: &Pool<DB>, max_connections: u32, reads: usize, writes: usize) -> Lenders<DB> {
        let max = max_connections as usize;
        let reads = reads.min(max / 2);
        let writes = writes.min(max * 3 / 8);
        Lenders {
            reads: Lender::new(pool.clone(), reads, KEPT_AT_MOST),
            writes: Lender::new(pool.clone(), writes, KEPT_AT_MOST),
        }
    }

    /// Empties both lenders (see [`Lender::close`]).
    pub fn close(&self) {
        self.reads.close();
        self.writes.close();
    }
}

impl<DB: Database> Lender<DB> {
    /// Keeps up to `capacity` connections, each for at most `fresh_for` ([`KEPT_AT_MOST`]
    /// in the server).
    pub fn new(pool: Pool<DB>, capacity: usize, fresh_for: Duration) -> Lender<DB> {
        Lender {
            pool,
            permits: Semaphore::new(capacity),
            kept: Mutex::new(Vec::with_capacity(capacity)),
            capacity,
            fresh_for,
            closed: AtomicBool::new(false),
        }
    }

    /// A connection, once a permit is free: the one kept most recently if it is fresh,
    /// else one from the pool.
    pub async fn lend(&self) -> Result<Lent<'_, DB>, sqlx::Error> {
        if self.capacity == 0 {
            let connection = self.pool.acquire().await?;
            return Ok(Lent { lender: self, connection: Some(connection), _permit: None });
        }
        let permit = self.permits.acquire().await.map_err(|_| sqlx::Error::PoolClosed)?;
        let connection = match self.take_kept() {
            Some(connection) => connection,
            None => self.pool.acquire().await?,
        };
        Ok(Lent { lender: self, connection: Some(connection), _permit: Some(permit) })
    }

    fn take_kept(&self) -> Option<PoolConnection<DB>> {
        let mut kept = self.kept.lock().expect("kept connections lock");
        match kept.pop() {
            Some((connection, since)) if since.elapsed() <= self.fresh_for => Some(connection),
            Some(stale) => {
                // The most recent is stale, so are all below it: they go back to sqlx,
                // which checks each before it lends it again.
                drop(stale);
                kept.clear();
                None
            }
            None => None,
        }
    }

    fn keep(&self, connection: PoolConnection<DB>) {
        let mut kept = self.kept.lock().expect("kept connections lock");
        // Checked under the lock, so that no connection is kept after `close` emptied the list.
        if kept.len() < self.capacity && !self.closed.load(Ordering::Acquire) {
            kept.push((connection, Instant::now()));
        }
        // Otherwise the connection is dropped here, back to the pool.
    }

    /// Connections kept right now (for tests and diagnostics).
    pub fn kept_count(&self) -> usize {
        self.kept.lock().expect("kept connections lock").len()
    }

    /// Gives every kept connection back to the pool and keeps none from now on. Must come
    /// before the pool's `close`, which waits for every connection to come back.
    pub fn close(&self) {
        let mut kept = self.kept.lock().expect("kept connections lock");
        self.closed.store(true, Ordering::Release);
        kept.clear();
    }
}

impl<DB: Database> Drop for Lender<DB> {
    fn drop(&mut self) {
        // Giving a connection back spawns a task on the runtime, and the last handle may be
        // dropped where there is none (after a test's runtime ended): the connections are
        // detached from the pool and closed instead.
        let kept = std::mem::take(self.kept.get_mut().unwrap_or_else(|e| e.into_inner()));
        for (connection, _) in kept {
            drop(connection.detach());
        }
    }
}

/// A lent connection. [`Lent::keep`] after work that ended well; dropped otherwise, it
/// goes back to the pool the usual way.
pub struct Lent<'a, DB: Database> {
    lender: &'a Lender<DB>,
    connection: Option<PoolConnection<DB>>,
    /// Given back when the loan ends, after the connection was kept or dropped (fields
    /// drop in order).
    _permit: Option<SemaphorePermit<'a>>,
}

impl<DB: Database> Lent<'_, DB> {
    /// The work on this connection finished without an error: keep it for the next one.
    pub fn keep(mut self) {
        if let Some(connection) = self.connection.take() {
            self.lender.keep(connection);
        }
    }
}

impl<DB: Database> Deref for Lent<'_, DB> {
    type Target = DB::Connection;

    fn deref(&self) -> &DB::Connection {
        self.connection.as_ref().expect("a lent connection until kept")
    }
}

impl<DB: Database> DerefMut for Lent<'_, DB> {
    fn deref_mut(&mut self) -> &mut DB::Connection {
        self.connection.as_mut().expect("a lent connection until kept")
    }
}
