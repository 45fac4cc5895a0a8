//! Group commit for SCORM commits: one task writes the commits of many learners in one
//! transaction per round (statements of up to 16 rows), and each caller is answered once
//! its round is committed. On SQLite, launches send their one write here too (opening a
//! session on an attempt, or starting an attempt with its session open), so that it shares
//! a round's transaction instead of taking the one writer's turn for itself (see
//! `CommitWriter::launch` for why PostgreSQL does not).
//!
//! Why: a commit is a single-row update, and on both engines the fixed cost of a statement
//! (a hand-off to SQLite's worker thread, a loopback round trip and a transaction on
//! PostgreSQL) is far larger than the row itself. Under load, commits that arrive while a
//! batch is being written wait for the next one, so the number of statements grows with the
//! number of batches, not of commits. At low load a batch holds one commit and nothing
//! waits: the writer picks it up at once.
//!
//! Each write is conditional on the attempt's `revision` (see migration 0005): the caller
//! validated the commit against the attempt as it was at that revision, and a write made
//! since by anyone else makes the commit "stale" rather than overwriting that write.

use std::collections::HashSet;
use std::sync::Arc;

use time::OffsetDateTime;
use tokio::sync::{mpsc, oneshot};

use super::start::{NewRow, MAX_NUMBER_RACES, NUMBER_RACES_LOST};
use super::{bind_insert, bind_open_session, insert_sql, new_launch_token, open_session_sql};
use super::{Attempt, NewAttempt, Summary, TrackingError};
use crate::db::{self, Db, Engine, StoreError};
use crate::on_db_writing;
use sqlx::Connection as _;

/// One validated commit, ready to store.
#[derive(Debug, Clone)]
pub struct CommitWrite {
    pub attempt_id: String,
    /// The revision the commit was validated against; the write applies only over it.
    pub expected_revision: i64,
    pub seq: i64,
    pub state_json: String,
    pub summary: Summary,
    /// The SCO terminated: the session closes and the attempt is finished.
    pub terminate: bool,
    /// Status or score changed: course progress needs a refresh (kept until it ran).
    pub progress_pending: bool,
}

/// A launch's write: what [`super::open_session`] or [`super::create_opened`] would write.
#[derive(Debug)]
enum LaunchWrite {
    OpenSession { attempt_id: String, expected_revision: i64, state_json: String, summary: Summary },
    CreateOpened { new: NewAttempt, state_json: String, summary: Summary },
}

enum Job {
    Commit { write: CommitWrite, answer: oneshot::Sender<Result<bool, TrackingError>> },
    Launch { write: LaunchWrite, answer: oneshot::Sender<Result<Option<Attempt>, TrackingError>> },
}

impl Job {
    /// The attempt a commit writes (launches are not limited to one per round: their
    /// statements are conditional on the attempt's revision or numbered afresh, so a second
    /// write of an attempt in the same round finds the first one's result).
    fn commit_attempt(&self) -> Option<&str> {
        match self {
            Job::Commit { write, .. } => Some(&write.attempt_id),
            Job::Launch { .. } => None,
        }
    }
}

/// Handle to the writer task. Cloning shares the task.
#[derive(Clone)]
pub struct CommitWriter {
    jobs: mpsc::Sender<Job>,
    db: Db,
}

/// Commits waiting for the writer at most; a caller beyond it waits for room (back
/// pressure) rather than growing memory without bound.
const QUEUE_CAPACITY: usize = 8_192;
/// Commits taken from the queue for one round of statements.
const MAX_ROUND: usize = 512;
/// Rows per statement, padded up to one of these sizes so that only three statement texts
/// exist (each prepared once per connection). Statements stay small on purpose: sqlx binds
/// SQLite's `$N` parameters by looking each name up, and SQLite finds a name by walking the
/// list of parameters, so binding costs grow with the square of the parameter count. At 64
/// rows (960 values) that lookup alone took 6 % of the server's CPU under load; at 16 rows
/// it is a quarter of that per row. On SQLite [`batch_sql`] therefore writes anonymous `?`
/// parameters, which have no names to look up.
const ROW_BUCKETS: [usize; 3] = [1, 4, 16];
const COLUMNS: usize = 15;
/// Writer tasks on PostgreSQL (see [`CommitWriter::start`]).
const POSTGRES_WRITERS: usize = 3;

impl CommitWriter {
    /// Starts the writer tasks on the current Tokio runtime. They end when every handle is
    /// dropped and the queue is empty.
    ///
    /// SQLite has one writer at a time anyway, so it gets one task. PostgreSQL gets
    /// [`POSTGRES_WRITERS`]: while one round waits for its WAL flush, the next round's
    /// statements already run. Rounds never share an attempt (callers keep one write per
    /// attempt in flight), so concurrent rounds touch different rows and cannot deadlock.
    pub fn start(db: Db) -> CommitWriter {
        let (jobs, queue) = mpsc::channel(QUEUE_CAPACITY);
        let queue = Arc::new(tokio::sync::Mutex::new(queue));
        let writers = match db.engine() {
            crate::db::Engine::Sqlite => 1,
            crate::db::Engine::Postgres => POSTGRES_WRITERS,
        };
        for _ in 0..writers {
            tokio::spawn(run(db.clone(), queue.clone()));
        }
        CommitWriter { jobs, db }
    }

    /// Stores `write` and answers whether it applied: `false` when the attempt changed since
    /// `expected_revision` (or was reset, or a later `seq` is stored), so nothing was written.
    /// Answers only after the database committed the write.
    pub async fn write(&self, write: CommitWrite) -> Result<bool, TrackingError> {
        let (answer, answered) = oneshot::channel();
        self.jobs.send(Job::Commit { write, answer }).await.map_err(|_| writer_gone())?;
        answered.await.map_err(|_| writer_gone())?
    }

    /// [`super::open_session`] in the next round: the attempt as stored, or `None` when it
    /// is no longer at `expected_revision` (nothing was written). Where the write goes is
    /// explained at `CommitWriter::launch`.
    pub async fn open_session(
        &self,
        attempt_id: &str,
        expected_revision: i64,
        state_json: String,
        summary: Summary,
    ) -> Result<Option<Attempt>, TrackingError> {
        let write =
            LaunchWrite::OpenSession { attempt_id: attempt_id.to_string(), expected_revision, state_json, summary };
        self.launch(write).await
    }

    /// [`super::create_opened`] in the next round.
    pub async fn create_opened(
        &self,
        new: NewAttempt,
        state_json: String,
        summary: Summary,
    ) -> Result<Attempt, TrackingError> {
        let stored = self.launch(LaunchWrite::CreateOpened { new, state_json, summary }).await?;
        stored.ok_or_else(|| TrackingError::Batch(NUMBER_RACES_LOST.into()))
    }

    /// On SQLite the write joins the next round. On PostgreSQL it is a statement of its own,
    /// as before: its three writer tasks write rounds side by side, and a launch write could
    /// then lock an attempt in one round that a commit locks in another, in the opposite
    /// order to a second such pair (a deadlock, which fails a whole round). Commits alone
    /// cannot: a round holds one commit per attempt and callers keep one in flight.
    async fn launch(&self, write: LaunchWrite) -> Result<Option<Attempt>, TrackingError> {
        if self.db.engine() == crate::db::Engine::Postgres {
            return match write {
                LaunchWrite::OpenSession { attempt_id, expected_revision, state_json, summary } => {
                    super::open_session(&self.db, &attempt_id, expected_revision, &state_json, &summary).await
                }
                LaunchWrite::CreateOpened { new, state_json, summary } => {
                    super::create_opened(&self.db, new, &state_json, &summary).await.map(Some)
                }
            };
        }
        let (answer, answered) = oneshot::channel();
        self.jobs.send(Job::Launch { write, answer }).await.map_err(|_| writer_gone())?;
        answered.await.map_err(|_| writer_gone())?
    }
}

fn writer_gone() -> TrackingError {
    TrackingError::Store(StoreError::Query(sqlx::Error::PoolClosed))
}

async fn run(db: Db, queue: Arc<tokio::sync::Mutex<mpsc::Receiver<Job>>>) {
    let mut round = Vec::with_capacity(MAX_ROUND);
    loop {
        // One task at a time waits for work; the others are writing their rounds.
        let taken = queue.lock().await.recv_many(&mut round, MAX_ROUND).await;
        if taken == 0 {
            return;
        }
        // Two commits of one attempt in a round would make one statement match a row twice;
        // callers serialise the commits of an attempt, but a later one goes to a later round
        // all the same, to keep the rule local.
        let mut seen = HashSet::new();
        let (now, later): (Vec<Job>, Vec<Job>) =
            round.drain(..).partition(|job| job.commit_attempt().is_none_or(|id| seen.insert(id.to_string())));
        write_round(&db, now).await;
        for job in later {
            write_round(&db, vec![job]).await;
        }
    }
}

/// Writes a round in one transaction and answers every caller. One transaction per round,
/// not per statement, because committing is the expensive part on PostgreSQL: each commit
/// waits for its WAL flush, and a writer that committed every 16 rows could not pass about
/// 5,000 commits/s however idle the processors were.
async fn write_round(db: &Db, jobs: Vec<Job>) {
    if jobs.is_empty() {
        return;
    }
    let (mut commits, mut launches) = (Vec::new(), Vec::new());
    for job in jobs {
        match job {
            Job::Commit { write, answer } => commits.push((write, answer)),
            Job::Launch { write, answer } => launches.push((write, answer)),
        }
    }
    let writes: Vec<&CommitWrite> = commits.iter().map(|(w, _)| w).collect();
    let launch_writes: Vec<&LaunchWrite> = launches.iter().map(|(w, _)| w).collect();
    let result = write_all(db, &writes, &launch_writes).await;
    let failed = |e: &sqlx::Error| TrackingError::Batch(e.to_string());
    for (write, answer) in commits {
        let _ = answer.send(match &result {
            Ok((applied, _)) => Ok(applied.contains(&write.attempt_id)),
            Err(e) => Err(failed(e)),
        });
    }
    for (i, (_, answer)) in launches.into_iter().enumerate() {
        let _ = answer.send(match &result {
            Ok((_, stored)) => Ok(stored[i].clone()),
            Err(e) => Err(failed(e)),
        });
    }
}

/// Rows per statement at most (the largest of [`ROW_BUCKETS`]).
pub(crate) const LARGEST_BUCKET: usize = ROW_BUCKETS[ROW_BUCKETS.len() - 1];

/// The smallest bucket that holds `rows`. Other multi-row statements (clearing progress
/// marks) pad their rows the same way, for the same reasons.
pub(crate) fn bucket(rows: usize) -> usize {
    ROW_BUCKETS.iter().copied().find(|b| *b >= rows).unwrap_or(ROW_BUCKETS[ROW_BUCKETS.len() - 1])
}

/// The statement for `rows` rows. `VALUES` columns are named column1, column2, ... by both
/// engines, which is what lets one text serve both.
///
/// The parameters are the only part that differs: PostgreSQL needs `$N`, while SQLite is
/// given anonymous `?`. Every value appears once, in the order it is bound, so `?` numbers
/// them as `$N` would; but sqlx binds a named SQLite parameter by asking SQLite for each
/// parameter's name, which SQLite finds by walking the statement's list of names, so with
/// `$N` binding a 240-value statement costs tens of thousands of steps, on the writer's
/// connection, inside the round that every commit waits for. Anonymous parameters have no
/// list to walk.
pub(crate) fn batch_sql(rows: usize, engine: Engine) -> String {
    let values: Vec<String> = (0..rows)
        .map(|r| {
            let cells: Vec<String> = (1..=COLUMNS)
                .map(|c| match engine {
                    Engine::Postgres => format!("${}", r * COLUMNS + c),
                    Engine::Sqlite => "?".to_string(),
                })
                .collect();
            format!("({})", cells.join(", "))
        })
        .collect();
    format!(
        "UPDATE attempts SET state_json = v.column3, completion = v.column4, success = v.column5, \
         score_scaled = v.column6, score_raw = v.column7, total_time_seconds = v.column8, total_time = v.column9, \
         location = v.column10, suspended = v.column11, last_seq = v.column12, updated_at = v.column13, \
         session_open = CASE WHEN v.column14 THEN FALSE ELSE attempts.session_open END, \
         finished_at = CASE WHEN v.column14 THEN v.column13 ELSE attempts.finished_at END, \
         progress_pending = (attempts.progress_pending OR v.column15), revision = attempts.revision + 1 \
         FROM (VALUES {}) AS v \
         WHERE attempts.id = v.column1 AND attempts.revision = v.column2 AND attempts.last_seq < v.column12 \
         AND attempts.voided_at IS NULL \
         RETURNING attempts.id",
        values.join(", ")
    )
}

/// Writes commits with one statement per [`ROW_BUCKETS`]-sized chunk, then the launches'
/// writes one statement each, all in one transaction; answers the ids of the commits that
/// applied and what each launch stored.
async fn write_all(
    db: &Db,
    writes: &[&CommitWrite],
    launches: &[&LaunchWrite],
) -> Result<(HashSet<String>, Vec<Option<Attempt>>), sqlx::Error> {
    let now = db::now();
    let (open_sql, insert_sql) = (open_session_sql(), insert_sql());
    let (applied, stored): (Vec<String>, Vec<Option<Attempt>>) = on_db_writing!(db, |conn| {
        async {
            let mut tx = conn.begin().await?;
            let mut applied = Vec::with_capacity(writes.len());
            for chunk in writes.chunks(LARGEST_BUCKET) {
                let rows = bucket(chunk.len());
                let sql = batch_sql(rows, db.engine());
                let mut query = sqlx::query_scalar::<_, String>(&sql);
                for write in chunk {
                    query = bind_row(query, Some(*write), now);
                }
                for _ in chunk.len()..rows {
                    query = bind_row(query, None, now);
                }
                applied.extend(query.fetch_all(&mut *tx).await?);
            }
            let mut stored = Vec::with_capacity(launches.len());
            for launch in launches {
                stored.push(match launch {
                    LaunchWrite::OpenSession { attempt_id, expected_revision, state_json, summary } => {
                        bind_open_session(
                            sqlx::query_as(&open_sql),
                            attempt_id,
                            *expected_revision,
                            state_json,
                            summary,
                            now,
                        )
                        .fetch_optional(&mut *tx)
                        .await?
                    }
                    LaunchWrite::CreateOpened { new, state_json, summary } => {
                        let id = db::new_id();
                        let mut inserted = None;
                        for _ in 0..MAX_NUMBER_RACES {
                            let token = new_launch_token();
                            let row = NewRow {
                                id: &id,
                                new,
                                state_json,
                                summary,
                                session_started_at: Some(now),
                                now,
                                launch_token: &token,
                            };
                            inserted = bind_insert(sqlx::query_as(&insert_sql), &row).fetch_optional(&mut *tx).await?;
                            if inserted.is_some() {
                                break;
                            }
                        }
                        inserted
                    }
                });
            }
            tx.commit().await?;
            Ok::<_, sqlx::Error>((applied, stored))
        }
        .await
    })?;
    Ok((applied.into_iter().collect(), stored))
}

/// Binds the fifteen values of one row; a padding row (`None`) is all NULL and matches no
/// attempt. Generic over the engine so that both arms of `on_db!` share it.
fn bind_row<'q, DB>(
    query: sqlx::query::QueryScalar<'q, DB, String, <DB as sqlx::Database>::Arguments<'q>>,
    write: Option<&'q CommitWrite>,
    now: OffsetDateTime,
) -> sqlx::query::QueryScalar<'q, DB, String, <DB as sqlx::Database>::Arguments<'q>>
where
    DB: sqlx::Database,
    Option<&'q str>: sqlx::Type<DB> + sqlx::Encode<'q, DB>,
    Option<i64>: sqlx::Type<DB> + sqlx::Encode<'q, DB>,
    Option<f64>: sqlx::Type<DB> + sqlx::Encode<'q, DB>,
    Option<bool>: sqlx::Type<DB> + sqlx::Encode<'q, DB>,
    Option<OffsetDateTime>: sqlx::Type<DB> + sqlx::Encode<'q, DB>,
{
    let s = write.map(|w| &w.summary);
    query
        .bind(write.map(|w| w.attempt_id.as_str()))
        .bind(write.map(|w| w.expected_revision))
        .bind(write.map(|w| w.state_json.as_str()))
        .bind(s.map(|s| s.completion.as_str()))
        .bind(s.map(|s| s.success.as_str()))
        .bind(s.and_then(|s| s.score_scaled))
        .bind(s.and_then(|s| s.score_raw))
        .bind(s.map(|s| s.total_time_seconds))
        .bind(s.and_then(|s| s.total_time.as_deref()))
        .bind(s.and_then(|s| s.location.as_deref()))
        .bind(s.map(|s| s.suspended))
        .bind(write.map(|w| w.seq))
        .bind(write.map(|_| now))
        .bind(write.map(|w| w.terminate))
        .bind(write.map(|w| w.progress_pending))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_hold_their_rows() {
        for (rows, expected) in [(1, 1), (2, 4), (4, 4), (5, 16), (16, 16)] {
            assert_eq!(bucket(rows), expected, "{rows} rows");
        }
    }

    #[test]
    fn statements_number_every_value_once() {
        let sql = batch_sql(4, Engine::Postgres);
        assert!(sql.contains("$1, $2") && sql.contains(&format!("${}", 4 * COLUMNS)));
        assert!(!sql.contains(&format!("${}", 4 * COLUMNS + 1)));
        // SQLite's text is the same statement with anonymous parameters, one per value.
        let sqlite = batch_sql(4, Engine::Sqlite);
        assert_eq!(sqlite.matches('?').count(), 4 * COLUMNS);
        assert!(!sqlite.contains('$'));
        let mut numbered = 0;
        let renumbered = sqlite
            .split('?')
            .enumerate()
            .map(|(i, part)| {
                if i == 0 {
                    part.to_string()
                } else {
                    numbered += 1;
                    format!("${numbered}{part}")
                }
            })
            .collect::<String>();
        assert_eq!(renumbered, sql);
    }
}
