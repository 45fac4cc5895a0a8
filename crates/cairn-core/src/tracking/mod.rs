//! SCORM tracking: attempts per learner and course item, their data-model document, and
//! the idempotent commits that update them. The rules (what a value may be, how status is
//! evaluated) live in `cairn_scorm::runtime`; this module stores their results.

use serde::Serialize;
use sqlx::FromRow;
use time::OffsetDateTime;

use crate::db::{self, Db, StoreError};
use crate::packages::PackageItem;
use crate::{on_db, on_db_conn, on_db_writing};

mod listing;
mod start;
mod writer;
pub use listing::{of_course, AttemptQuery, LearnerAttempt, LearnerAttemptPage, MAX_ATTEMPTS_PAGE};
pub(crate) use start::{bind_insert, insert_sql, new_launch_token};
pub use start::{create, create_opened, NewAttempt};
pub(crate) use writer::{bucket as row_bucket, LARGEST_BUCKET};
pub use writer::{CommitWrite, CommitWriter};

/// One attempt of one learner at one item of a course.
#[derive(Debug, Clone, PartialEq, Serialize, FromRow)]
pub struct Attempt {
    pub id: String,
    pub user_id: String,
    pub course_id: String,
    /// The package version the attempt runs on; it keeps running there after new imports.
    pub package_id: String,
    pub item_identifier: String,
    pub number: i64,
    /// `1.2` or `2004`.
    pub scorm_version: String,
    pub completion: String,
    pub success: String,
    pub score_scaled: Option<f64>,
    pub score_raw: Option<f64>,
    pub total_time_seconds: f64,
    pub total_time: Option<String>,
    pub location: Option<String>,
    pub suspended: bool,
    /// Whether a launch started a session that has not terminated yet.
    pub session_open: bool,
    /// The data model as a JSON object of element → value.
    pub state_json: String,
    /// The highest commit sequence number applied.
    pub last_seq: i64,
    /// Grows by one with every write; commits from memory write only over the revision
    /// they read (see the migration 0005 note).
    pub revision: i64,
    /// A commit changed status or score and the course progress has not been refreshed
    /// since.
    pub progress_pending: bool,
    /// A random secret the player sends with its commits (see the migration's note).
    #[serde(skip)]
    pub launch_token: String,
    pub session_started_at: Option<OffsetDateTime>,
    pub started_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub finished_at: Option<OffsetDateTime>,
    pub voided_at: Option<OffsetDateTime>,
}

const ATTEMPT_COLUMNS: &str =
    "id, user_id, course_id, package_id, item_identifier, number, scorm_version, completion, \
     success, score_scaled, score_raw, total_time_seconds, total_time, location, suspended, session_open, state_json, \
     last_seq, revision, progress_pending, launch_token, session_started_at, started_at, updated_at, finished_at, voided_at";

#[derive(Debug, thiserror::Error)]
pub enum TrackingError {
    #[error("no such attempt")]
    NotFound,
    /// The statement that carried this commit together with others failed; the commit
    /// was not stored and may be sent again.
    #[error("the database refused the batch holding this commit: {0}")]
    Batch(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for TrackingError {
    fn from(e: sqlx::Error) -> Self {
        TrackingError::Store(e.into())
    }
}

/// What the rules derived from an attempt's data, stored alongside it for reports.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub completion: String,
    pub success: String,
    pub score_scaled: Option<f64>,
    pub score_raw: Option<f64>,
    pub total_time_seconds: f64,
    pub total_time: Option<String>,
    pub location: Option<String>,
    pub suspended: bool,
}

impl Attempt {
    /// Whether `token` is this attempt's launch token (compared in constant time).
    pub fn launch_token_matches(&self, token: &str) -> bool {
        let (a, b) = (self.launch_token.as_bytes(), token.as_bytes());
        !a.is_empty() && a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

/// An attempt with its learner's display name.
#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct AttemptWithLearner {
    #[sqlx(flatten)]
    pub attempt: Attempt,
    pub learner_name: String,
}

/// An attempt and its learner's name in one query: the commit path needs both, and there
/// every round trip to the database counts.
pub async fn find_with_learner(db: &Db, id: &str) -> Result<Option<AttemptWithLearner>, TrackingError> {
    let columns: Vec<String> = ATTEMPT_COLUMNS.split(',').map(|c| format!("a.{}", c.trim())).collect();
    let sql = format!(
        "SELECT {}, u.name AS learner_name FROM attempts a JOIN users u ON u.id = a.user_id WHERE a.id = $1",
        columns.join(", ")
    );
    Ok(on_db_conn!(db, |conn| sqlx::query_as(&sql).bind(id).fetch_optional(conn).await)?)
}

/// The learner's latest attempt at an item that has not been reset.
pub async fn latest(db: &Db, user_id: &str, course_id: &str, item: &str) -> Result<Option<Attempt>, TrackingError> {
    let sql = format!(
        "SELECT {ATTEMPT_COLUMNS} FROM attempts WHERE user_id = $1 AND course_id = $2 AND item_identifier = $3 \
         AND voided_at IS NULL ORDER BY number DESC LIMIT 1"
    );
    Ok(on_db_conn!(db, |conn| {
        sqlx::query_as(&sql).bind(user_id).bind(course_id).bind(item).fetch_optional(conn).await
    })?)
}

pub async fn find(db: &Db, id: &str) -> Result<Option<Attempt>, TrackingError> {
    let sql = format!("SELECT {ATTEMPT_COLUMNS} FROM attempts WHERE id = $1");
    Ok(on_db!(db, |pool| sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)?)
}

/// Opens a new session on an attempt, storing the data as it stands at launch (a previous
/// session closed by the caller) and when the session started, for measured time. Returns
/// the attempt as stored (the same statement reads it back), or `None` when the attempt is
/// no longer at `expected_revision`, the revision the caller read it at: then nothing is
/// written, and the caller reads it again. Without that condition a commit stored between
/// the launch's read and this write (the beacon of the page being reloaded, say) would be
/// overwritten with the older data, although it was acknowledged.
pub async fn open_session(
    db: &Db,
    attempt_id: &str,
    expected_revision: i64,
    state_json: &str,
    summary: &Summary,
) -> Result<Option<Attempt>, TrackingError> {
    let (sql, now) = (open_session_sql(), db::now());
    let stored: Option<Attempt> = on_db_writing!(db, |conn| {
        bind_open_session(sqlx::query_as(&sql), attempt_id, expected_revision, state_json, summary, now)
            .fetch_optional(conn)
            .await
    })?;
    Ok(stored)
}

/// The statement of [`open_session`], which the group writer runs too
/// ([`CommitWriter::open_session`]).
pub(crate) fn open_session_sql() -> String {
    format!(
        "UPDATE attempts SET state_json = $1, completion = $2, success = $3, score_scaled = $4, score_raw = $5, \
         total_time_seconds = $6, total_time = $7, location = $8, suspended = $9, session_open = TRUE, \
         session_started_at = $10, updated_at = $10, revision = revision + 1 WHERE id = $11 AND revision = $12 \
         RETURNING {ATTEMPT_COLUMNS}"
    )
}

/// Binds the values of [`open_session_sql`]. Generic over the engine so that both arms of
/// the `on_db` macros share it.
pub(crate) fn bind_open_session<'q, DB>(
    query: sqlx::query::QueryAs<'q, DB, Attempt, <DB as sqlx::Database>::Arguments<'q>>,
    attempt_id: &'q str,
    expected_revision: i64,
    state_json: &'q str,
    summary: &'q Summary,
    now: OffsetDateTime,
) -> sqlx::query::QueryAs<'q, DB, Attempt, <DB as sqlx::Database>::Arguments<'q>>
where
    DB: sqlx::Database,
    &'q str: sqlx::Type<DB> + sqlx::Encode<'q, DB>,
    Option<&'q str>: sqlx::Type<DB> + sqlx::Encode<'q, DB>,
    i64: sqlx::Type<DB> + sqlx::Encode<'q, DB>,
    f64: sqlx::Type<DB> + sqlx::Encode<'q, DB>,
    Option<f64>: sqlx::Type<DB> + sqlx::Encode<'q, DB>,
    bool: sqlx::Type<DB> + sqlx::Encode<'q, DB>,
    OffsetDateTime: sqlx::Type<DB> + sqlx::Encode<'q, DB>,
{
    bind_summary(query.bind(state_json), summary).bind(now).bind(attempt_id).bind(expected_revision)
}

/// Binds an attempt's summary columns in the order both the session update and the new
/// attempt's insert number them: completion, success, score scaled and raw, total time in
/// seconds and as written, location, suspended.
pub(crate) fn bind_summary<'q, DB>(
    query: sqlx::query::QueryAs<'q, DB, Attempt, <DB as sqlx::Database>::Arguments<'q>>,
    summary: &'q Summary,
) -> sqlx::query::QueryAs<'q, DB, Attempt, <DB as sqlx::Database>::Arguments<'q>>
where
    DB: sqlx::Database,
    &'q str: sqlx::Type<DB> + sqlx::Encode<'q, DB>,
    Option<&'q str>: sqlx::Type<DB> + sqlx::Encode<'q, DB>,
    f64: sqlx::Type<DB> + sqlx::Encode<'q, DB>,
    Option<f64>: sqlx::Type<DB> + sqlx::Encode<'q, DB>,
    bool: sqlx::Type<DB> + sqlx::Encode<'q, DB>,
{
    query
        .bind(summary.completion.as_str())
        .bind(summary.success.as_str())
        .bind(summary.score_scaled)
        .bind(summary.score_raw)
        .bind(summary.total_time_seconds)
        .bind(summary.total_time.as_deref())
        .bind(summary.location.as_deref())
        .bind(summary.suspended)
}

/// Records that an asset was viewed: assets never call the API, so viewing completes them.
pub async fn complete_viewed(db: &Db, attempt_id: &str) -> Result<(), TrackingError> {
    let now = db::now();
    on_db_writing!(db, |conn| {
        sqlx::query(
            "UPDATE attempts SET completion = 'completed', updated_at = $1, finished_at = COALESCE(finished_at, $1), \
             revision = revision + 1 WHERE id = $2",
        )
        .bind(now)
        .bind(attempt_id)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Completes an attempt the SCO never touched (no commit, no status, session open) and
/// closes its session, in one conditional statement so that a commit arriving at the same
/// moment wins. Returns whether it was completed.
pub async fn complete_untouched(db: &Db, attempt_id: &str) -> Result<bool, TrackingError> {
    let now = db::now();
    let done = on_db_writing!(db, |conn| {
        sqlx::query(
            "UPDATE attempts SET completion = 'completed', session_open = FALSE, updated_at = $1, \
             finished_at = COALESCE(finished_at, $1), revision = revision + 1 \
             WHERE id = $2 AND last_seq = 0 AND completion IN ('not attempted', 'unknown') AND success = 'unknown' \
             AND session_open AND voided_at IS NULL",
        )
        .bind(now)
        .bind(attempt_id)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(done == 1)
}

/// Resets an attempt: it stays in the database (nothing is ever silently lost) but no
/// longer counts, and the next launch starts a new attempt.
pub async fn void(db: &Db, attempt_id: &str) -> Result<(), TrackingError> {
    let now = db::now();
    let done = on_db!(db, |pool| {
        sqlx::query(
            "UPDATE attempts SET voided_at = $1, session_open = FALSE, revision = revision + 1 \
             WHERE id = $2 AND voided_at IS NULL",
        )
        .bind(now)
        .bind(attempt_id)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
    })?;
    if done == 0 {
        return Err(TrackingError::NotFound);
    }
    Ok(())
}

/// A learner's attempts in a course (reset ones excluded), newest first per item.
pub async fn of_learner(db: &Db, user_id: &str, course_id: &str) -> Result<Vec<Attempt>, TrackingError> {
    let sql = format!(
        "SELECT {ATTEMPT_COLUMNS} FROM attempts WHERE user_id = $1 AND course_id = $2 AND voided_at IS NULL \
         ORDER BY item_identifier, number DESC"
    );
    Ok(on_db!(db, |pool| sqlx::query_as(&sql).bind(user_id).bind(course_id).fetch_all(pool).await)?)
}

/// [`of_learner`] without the attempts' data: every column but `state_json`, which is an
/// empty object. Statuses, locks and progress need only the columns, and the documents
/// (up to 64 KB each, one per attempt) are most of what the full read would carry.
pub async fn statuses_of_learner(db: &Db, user_id: &str, course_id: &str) -> Result<Vec<Attempt>, TrackingError> {
    let columns = ATTEMPT_COLUMNS.replace("state_json", "'{}' AS state_json");
    let sql = format!(
        "SELECT {columns} FROM attempts WHERE user_id = $1 AND course_id = $2 AND voided_at IS NULL \
         ORDER BY item_identifier, number DESC"
    );
    Ok(on_db!(db, |pool| sqlx::query_as(&sql).bind(user_id).bind(course_id).fetch_all(pool).await)?)
}

/// A learner's attempts for a launch: the latest attempt at each item (what statuses,
/// locks, progress and the choice of attempt look at), where the one used most recently
/// (the resume point) carries its data. The others' `state_json` is empty, not `{}`, so
/// that nobody mistakes it for stored data. The usual launch resumes that attempt and so
/// needs no second read.
///
/// Older attempts are left out because a launch would only skip them: a learner who has
/// taken a SCORM 2004 item thirty times would otherwise send thirty rows through the
/// driver on every launch. The partial index `attempts_live_by_item` (migration 0006)
/// finds each item's latest number without reading the rows.
pub async fn for_launch(db: &Db, user_id: &str, course_id: &str) -> Result<Vec<Attempt>, TrackingError> {
    let columns = ATTEMPT_COLUMNS.replace(
        "state_json",
        "CASE WHEN ROW_NUMBER() OVER (ORDER BY updated_at DESC, number DESC) = 1 THEN state_json ELSE '' END \
         AS state_json",
    );
    // The latest numbers are worked out first, once, from the index (MATERIALIZED says so
    // to both engines). Left to itself, PostgreSQL with stale statistics joined the other
    // way round and redid the grouping for every attempt of the learner (18 times for 18
    // attempts: 497 buffers, against 59 this way).
    let sql = format!(
        "WITH latest AS MATERIALIZED (SELECT item_identifier AS latest_item, MAX(number) AS latest_number \
           FROM attempts WHERE user_id = $1 AND course_id = $2 AND voided_at IS NULL GROUP BY item_identifier) \
         SELECT {columns} FROM latest JOIN attempts ON user_id = $1 AND course_id = $2 \
           AND item_identifier = latest_item AND number = latest_number \
         ORDER BY item_identifier"
    );
    Ok(on_db_conn!(db, |conn| sqlx::query_as(&sql).bind(user_id).bind(course_id).fetch_all(conn).await)?)
}

/// The learner's most recently used item of a course: where "resume" goes.
pub async fn resume_point(db: &Db, user_id: &str, course_id: &str) -> Result<Option<String>, TrackingError> {
    Ok(on_db!(db, |pool| {
        sqlx::query_scalar(
            "SELECT item_identifier FROM attempts WHERE user_id = $1 AND course_id = $2 AND voided_at IS NULL \
             ORDER BY updated_at DESC, number DESC LIMIT 1",
        )
        .bind(user_id)
        .bind(course_id)
        .fetch_optional(pool)
        .await
    })?)
}

/// The state of one item for a learner, for outlines and progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    NotStarted,
    InProgress,
    Completed,
    Passed,
    Failed,
}

impl ItemStatus {
    /// The status of an item from its latest attempt.
    pub fn of(latest: Option<&Attempt>) -> ItemStatus {
        match latest {
            None => ItemStatus::NotStarted,
            Some(a) if a.success == "passed" => ItemStatus::Passed,
            Some(a) if a.success == "failed" => ItemStatus::Failed,
            Some(a) if a.completion == "completed" => ItemStatus::Completed,
            Some(a) if a.completion == "not attempted" && a.last_seq == 0 && !a.session_open => ItemStatus::NotStarted,
            Some(_) => ItemStatus::InProgress,
        }
    }

    /// Whether the item counts as done for course progress. A failed item was completed
    /// but not passed; it counts as done for completion, and the score rule decides the rest.
    pub fn is_done(self) -> bool {
        matches!(self, ItemStatus::Completed | ItemStatus::Passed | ItemStatus::Failed)
    }
}

/// A learner's progress in a course.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Progress {
    pub done: usize,
    pub total: usize,
    /// 0 to 100, never more.
    pub percent: u8,
    pub completed: bool,
}

/// Rolls item statuses up into course progress: every launchable item counts once; the
/// course is completed when each of them is completed or passed (or failed, which is
/// completed). Clusters do not count.
pub fn rollup(items: &[PackageItem], attempts: &[Attempt]) -> Progress {
    let launchable: Vec<&PackageItem> = items.iter().filter(|i| i.launch.is_some()).collect();
    let total = launchable.len();
    let done =
        launchable.iter().filter(|item| ItemStatus::of(latest_for(attempts, &item.identifier)).is_done()).count();
    let percent = (done * 100).checked_div(total).map_or(0, |p| p.min(100) as u8);
    Progress { done, total, percent, completed: total > 0 && done == total }
}

/// The newest attempt at `item` among `attempts`.
pub fn latest_for<'a>(attempts: &'a [Attempt], item: &str) -> Option<&'a Attempt> {
    attempts.iter().filter(|a| a.item_identifier == item && a.voided_at.is_none()).max_by_key(|a| a.number)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(item: &str, number: i64, completion: &str, success: &str) -> Attempt {
        let new = NewAttempt {
            user_id: "u".into(),
            course_id: "c".into(),
            package_id: "p".into(),
            item_identifier: item.into(),
            scorm_version: "2004".into(),
        };
        let now = OffsetDateTime::UNIX_EPOCH;
        Attempt {
            id: format!("{item}-{number}"),
            number,
            completion: completion.into(),
            success: success.into(),
            last_seq: 1,
            revision: 1,
            launch_token: "t".into(),
            started_at: now,
            updated_at: now,
            ..new.unstored()
        }
    }

    fn item(id: &str, launch: bool) -> PackageItem {
        PackageItem {
            position: 0,
            identifier: id.into(),
            parent_identifier: None,
            depth: 0,
            title: id.into(),
            launch: launch.then(|| format!("{id}.html")),
            scorm_type: launch.then(|| "sco".into()),
            visible: true,
        }
    }

    #[test]
    fn statuses_from_attempts() {
        let cases = [
            (attempt("a", 1, "completed", "unknown"), ItemStatus::Completed),
            (attempt("a", 1, "incomplete", "passed"), ItemStatus::Passed),
            (attempt("a", 1, "completed", "failed"), ItemStatus::Failed),
            (attempt("a", 1, "incomplete", "unknown"), ItemStatus::InProgress),
            (attempt("a", 1, "unknown", "unknown"), ItemStatus::InProgress),
        ];
        for (a, expected) in cases {
            assert_eq!(ItemStatus::of(Some(&a)), expected, "{} / {}", a.completion, a.success);
        }
        assert_eq!(ItemStatus::of(None), ItemStatus::NotStarted);
        let mut fresh = attempt("a", 1, "not attempted", "unknown");
        fresh.last_seq = 0;
        assert_eq!(ItemStatus::of(Some(&fresh)), ItemStatus::NotStarted);
    }

    #[test]
    fn rollup_counts_launchable_items_and_never_passes_100() {
        let items = [item("cluster", false), item("a", true), item("b", true), item("c", true)];
        let cases: Vec<(Vec<Attempt>, usize, u8, bool)> = vec![
            (vec![], 0, 0, false),
            (vec![attempt("a", 1, "completed", "unknown")], 1, 33, false),
            // Only the newest attempt counts: a new, unfinished attempt is in progress.
            (vec![attempt("a", 1, "completed", "unknown"), attempt("a", 2, "incomplete", "unknown")], 0, 0, false),
            (
                vec![
                    attempt("a", 1, "completed", "unknown"),
                    attempt("b", 1, "completed", "passed"),
                    attempt("c", 1, "completed", "failed"),
                    attempt("zzz-not-in-outline", 1, "completed", "unknown"),
                ],
                3,
                100,
                true,
            ),
        ];
        for (attempts, done, percent, completed) in cases {
            let p = rollup(&items, &attempts);
            assert_eq!((p.done, p.total, p.percent, p.completed), (done, 3, percent, completed), "{attempts:?}");
        }
        assert_eq!(rollup(&[item("cluster", false)], &[]).percent, 0, "a course without launchable items is at 0%");
    }
}
