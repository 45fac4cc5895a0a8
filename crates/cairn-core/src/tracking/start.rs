//! Starting attempts: a new attempt's number, launch token and first row, inserted in one
//! statement, with or without its first session opened.

use time::OffsetDateTime;

use super::{Attempt, Summary, TrackingError, ATTEMPT_COLUMNS};
use crate::db::{self, Db, StoreError};
use crate::on_db_writing;

/// A new attempt.
#[derive(Debug, Clone)]
pub struct NewAttempt {
    pub user_id: String,
    pub course_id: String,
    pub package_id: String,
    pub item_identifier: String,
    pub scorm_version: String,
}

impl NewAttempt {
    /// The attempt as [`create`] stores it, before it exists: no data, nothing tracked yet,
    /// no session. Its id, number and launch token are left empty (the insert chooses
    /// them). A launch works out the new attempt's first session from it.
    pub fn unstored(&self) -> Attempt {
        let now = db::now();
        Attempt {
            id: String::new(),
            user_id: self.user_id.clone(),
            course_id: self.course_id.clone(),
            package_id: self.package_id.clone(),
            item_identifier: self.item_identifier.clone(),
            number: 0,
            scorm_version: self.scorm_version.clone(),
            completion: "not attempted".into(),
            success: "unknown".into(),
            score_scaled: None,
            score_raw: None,
            total_time_seconds: 0.0,
            total_time: None,
            location: None,
            suspended: false,
            session_open: false,
            state_json: "{}".into(),
            last_seq: 0,
            revision: 0,
            progress_pending: false,
            launch_token: String::new(),
            session_started_at: None,
            started_at: now,
            updated_at: now,
            finished_at: None,
            voided_at: None,
        }
    }
}

/// 256 random bits, URL-safe.
pub(crate) fn new_launch_token() -> String {
    use base64::Engine as _;
    use rand::RngCore as _;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Starts an attempt numbered after every earlier one (reset ones included, so numbers
/// are never reused).
pub async fn create(db: &Db, new: NewAttempt) -> Result<Attempt, TrackingError> {
    let blank = new.unstored();
    insert(db, new, None, &blank.state_json, &summary_of(&blank)).await
}

/// [`create`] with the attempt's first session opened by the same statement, as
/// [`open_session`] would open it: `state_json` and `summary` are what the launch worked
/// out for the new attempt (from [`NewAttempt::unstored`]). A launch that starts an attempt
/// then writes once instead of twice; on SQLite each write is a turn of the one writer.
pub async fn create_opened(
    db: &Db,
    new: NewAttempt,
    state_json: &str,
    summary: &Summary,
) -> Result<Attempt, TrackingError> {
    insert(db, new, Some(db::now()), state_json, summary).await
}

/// The summary columns of an attempt as they stand.
fn summary_of(attempt: &Attempt) -> Summary {
    Summary {
        completion: attempt.completion.clone(),
        success: attempt.success.clone(),
        score_scaled: attempt.score_scaled,
        score_raw: attempt.score_raw,
        total_time_seconds: attempt.total_time_seconds,
        total_time: attempt.total_time.clone(),
        location: attempt.location.clone(),
        suspended: attempt.suspended,
    }
}

/// Inserts an attempt; its session is open when `session_started_at` is given.
async fn insert(
    db: &Db,
    new: NewAttempt,
    session_started_at: Option<OffsetDateTime>,
    state_json: &str,
    summary: &Summary,
) -> Result<Attempt, TrackingError> {
    let now = db::now();
    let id = db::new_id();
    let sql = insert_sql();
    for _ in 0..MAX_NUMBER_RACES {
        let token = new_launch_token();
        let row = NewRow { id: &id, new: &new, state_json, summary, session_started_at, now, launch_token: &token };
        let inserted: Option<Attempt> =
            on_db_writing!(db, |conn| bind_insert(sqlx::query_as(&sql), &row).fetch_optional(conn).await)
                .map_err(StoreError::from)?;
        if let Some(attempt) = inserted {
            return Ok(attempt);
        }
    }
    Err(TrackingError::Batch(NUMBER_RACES_LOST.into()))
}

/// Why a new attempt was not started after [`MAX_NUMBER_RACES`] lost races.
pub(crate) const NUMBER_RACES_LOST: &str = "another launch took each new attempt number in turn; launch again";

/// Launches of the same item at the same moment that may take the number a new attempt was
/// to get before one gives up (each lost race means another attempt was really created).
pub(crate) const MAX_NUMBER_RACES: usize = 5;

/// The values of one new attempt's row ([`insert_sql`]).
pub(crate) struct NewRow<'a> {
    pub id: &'a str,
    pub new: &'a NewAttempt,
    pub state_json: &'a str,
    pub summary: &'a Summary,
    pub session_started_at: Option<OffsetDateTime>,
    pub now: OffsetDateTime,
    pub launch_token: &'a str,
}

/// The insert of a new attempt, which the group writer runs too
/// ([`super::CommitWriter::create_opened`]).
///
/// One statement computes the number and inserts, so SQLite takes its write lock at once
/// (waiting out the busy timeout if needed). A transaction that first read MAX and then
/// wrote would fail at once with "database is locked" whenever another connection had
/// written in between (a WAL read snapshot cannot be upgraded), which the commit load
/// benchmark showed under load.
///
/// Two launches of the same item at the same moment (two tabs) can compute the same
/// number; the unique key stops the second, which inserts nothing (`ON CONFLICT DO
/// NOTHING`: a lost race is not an error, so it cannot fail the writer's round the insert
/// shares with other learners' commits) and tries the next number. The statement returns the row it inserted, so
/// the launch needs no read after it.
pub(crate) fn insert_sql() -> String {
    format!(
        "INSERT INTO attempts (id, user_id, course_id, package_id, item_identifier, number, scorm_version, completion, \
         success, score_scaled, score_raw, total_time_seconds, total_time, location, suspended, session_open, \
         state_json, last_seq, launch_token, session_started_at, started_at, updated_at) \
         SELECT $1, $2, $3, $4, $5, COALESCE(MAX(number), 0) + 1, $6, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
                $18, 0, $8, $19, $7, $7 \
         FROM attempts WHERE user_id = $2 AND course_id = $3 AND item_identifier = $5 \
         ON CONFLICT DO NOTHING RETURNING {ATTEMPT_COLUMNS}"
    )
}

/// Binds the values of [`insert_sql`]. Generic over the engine so that both arms of the
/// `on_db` macros share it.
pub(crate) fn bind_insert<'q, DB>(
    query: sqlx::query::QueryAs<'q, DB, Attempt, <DB as sqlx::Database>::Arguments<'q>>,
    row: &NewRow<'q>,
) -> sqlx::query::QueryAs<'q, DB, Attempt, <DB as sqlx::Database>::Arguments<'q>>
where
    DB: sqlx::Database,
    &'q str: sqlx::Type<DB> + sqlx::Encode<'q, DB>,
    Option<&'q str>: sqlx::Type<DB> + sqlx::Encode<'q, DB>,
    f64: sqlx::Type<DB> + sqlx::Encode<'q, DB>,
    Option<f64>: sqlx::Type<DB> + sqlx::Encode<'q, DB>,
    bool: sqlx::Type<DB> + sqlx::Encode<'q, DB>,
    OffsetDateTime: sqlx::Type<DB> + sqlx::Encode<'q, DB>,
    Option<OffsetDateTime>: sqlx::Type<DB> + sqlx::Encode<'q, DB>,
{
    let new = row.new;
    let query = query
        .bind(row.id)
        .bind(new.user_id.as_str())
        .bind(new.course_id.as_str())
        .bind(new.package_id.as_str())
        .bind(new.item_identifier.as_str())
        .bind(new.scorm_version.as_str())
        .bind(row.now)
        .bind(row.launch_token);
    super::bind_summary(query, row.summary)
        .bind(row.session_started_at.is_some())
        .bind(row.state_json)
        .bind(row.session_started_at)
}
