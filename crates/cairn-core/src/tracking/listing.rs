//! The staff's list of a course's attempts: one page at a time, by learner then item and
//! attempt number, optionally narrowed to learners whose name or e-mail holds a search.
//! A course of thousands of learners has tens of thousands of attempts, so the list is
//! never read whole.

use serde::Serialize;
use sqlx::FromRow;
use time::OffsetDateTime;

use super::TrackingError;
use crate::db::{self, Db};
use crate::on_db;

/// Attempts per page at most.
pub const MAX_ATTEMPTS_PAGE: i64 = 200;

/// An attempt with its learner, for the instructor's view.
#[derive(Debug, Clone, PartialEq, Serialize, FromRow)]
pub struct LearnerAttempt {
    pub id: String,
    pub user_id: String,
    pub learner_name: String,
    pub learner_email: String,
    pub item_identifier: String,
    pub number: i64,
    pub completion: String,
    pub success: String,
    pub score_scaled: Option<f64>,
    pub score_raw: Option<f64>,
    pub total_time_seconds: f64,
    pub updated_at: OffsetDateTime,
    pub voided_at: Option<OffsetDateTime>,
}

/// Which page of which course's attempts.
#[derive(Debug, Clone, Default)]
pub struct AttemptQuery {
    pub course_id: String,
    /// Part of a learner's name or e-mail; empty lists everyone.
    pub search: Option<String>,
    pub offset: i64,
    /// Rows per page, at most [`MAX_ATTEMPTS_PAGE`].
    pub limit: i64,
}

/// One page of attempts and how many match in all.
#[derive(Debug, Clone, Serialize)]
pub struct LearnerAttemptPage {
    pub rows: Vec<LearnerAttempt>,
    pub total: i64,
    pub offset: i64,
    pub limit: i64,
}

const FILTER: &str = "FROM attempts a JOIN users u ON u.id = a.user_id WHERE a.course_id = $1 \
     AND ($2 IS NULL OR LOWER(u.name) LIKE $2 ESCAPE '\\' OR u.email LIKE $2 ESCAPE '\\')";

/// A page of the course's attempts, reset ones included (marked by `voided_at`).
pub async fn of_course(db: &Db, q: &AttemptQuery) -> Result<LearnerAttemptPage, TrackingError> {
    let limit = q.limit.clamp(1, MAX_ATTEMPTS_PAGE);
    let offset = q.offset.max(0);
    let search = db::contains_pattern(q.search.as_deref());
    let list_sql = format!(
        "SELECT a.id, a.user_id, u.name AS learner_name, u.email AS learner_email, a.item_identifier, a.number, \
         a.completion, a.success, a.score_scaled, a.score_raw, a.total_time_seconds, a.updated_at, a.voided_at \
         {FILTER} ORDER BY u.name, u.id, a.item_identifier, a.number LIMIT $3 OFFSET $4"
    );
    let count_sql = format!("SELECT COUNT(*) {FILTER}");
    let (rows, total) = on_db!(db, |pool| {
        async {
            let rows = sqlx::query_as(&list_sql)
                .bind(&q.course_id)
                .bind(&search)
                .bind(limit)
                .bind(offset)
                .fetch_all(pool)
                .await?;
            let total: i64 = sqlx::query_scalar(&count_sql).bind(&q.course_id).bind(&search).fetch_one(pool).await?;
            Ok::<_, sqlx::Error>((rows, total))
        }
        .await
    })?;
    Ok(LearnerAttemptPage { rows, total, offset, limit })
}
