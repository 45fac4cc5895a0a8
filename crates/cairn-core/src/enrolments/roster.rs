//! The views of a course's learners for instructors and managers: the roster (filtered,
//! sorted, paginated), the lesson × learner matrix, and one learner's lessons.

use serde::Serialize;
use sqlx::FromRow;
use time::OffsetDateTime;

use super::EnrolmentError;
use crate::db::Db;
use crate::on_db;

/// Largest roster page.
pub const MAX_PAGE: i64 = 200;

/// How the roster is ordered. Each variant maps to one fixed SQL expression, so user
/// input never reaches the SQL text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RosterSort {
    #[default]
    Name,
    Email,
    Progress,
    Status,
    Score,
    Time,
    LastAccess,
    Enrolled,
}

impl RosterSort {
    pub fn parse(text: &str) -> Option<RosterSort> {
        Some(match text {
            "name" => RosterSort::Name,
            "email" => RosterSort::Email,
            "progress" => RosterSort::Progress,
            "status" => RosterSort::Status,
            "score" => RosterSort::Score,
            "time" => RosterSort::Time,
            "last_access" => RosterSort::LastAccess,
            "enrolled" => RosterSort::Enrolled,
            _ => return None,
        })
    }

    pub fn key(self) -> &'static str {
        match self {
            RosterSort::Name => "name",
            RosterSort::Email => "email",
            RosterSort::Progress => "progress",
            RosterSort::Status => "status",
            RosterSort::Score => "score",
            RosterSort::Time => "time",
            RosterSort::LastAccess => "last_access",
            RosterSort::Enrolled => "enrolled",
        }
    }

    fn column(self) -> &'static str {
        match self {
            RosterSort::Name => "LOWER(u.name)",
            RosterSort::Email => "u.email",
            RosterSort::Progress => "e.progress_percent",
            RosterSort::Status => "e.status",
            RosterSort::Score => "COALESCE(e.score, -1)",
            RosterSort::Time => "e.time_spent_seconds",
            RosterSort::LastAccess => "COALESCE(e.last_access_at, e.enrolled_at)",
            RosterSort::Enrolled => "e.enrolled_at",
        }
    }
}

/// What a roster page shows.
#[derive(Debug, Clone, Default)]
pub struct RosterQuery {
    pub course_id: String,
    pub cohort_id: Option<String>,
    /// `not_started`, `in_progress`, `completed` or `withdrawn`; `None` shows active ones.
    pub status: Option<String>,
    /// A piece of the name or e-mail.
    pub search: Option<String>,
    pub sort: RosterSort,
    pub descending: bool,
    pub offset: i64,
    pub limit: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, FromRow)]
pub struct RosterRow {
    pub user_id: String,
    pub name: String,
    pub email: String,
    pub cohort_id: Option<String>,
    pub cohort: Option<String>,
    pub state: String,
    pub status: String,
    pub progress_percent: i64,
    pub score: Option<f64>,
    pub time_spent_seconds: f64,
    pub enrolled_at: OffsetDateTime,
    pub starts_at: Option<OffsetDateTime>,
    pub ends_at: Option<OffsetDateTime>,
    pub started_at: Option<OffsetDateTime>,
    pub completed_at: Option<OffsetDateTime>,
    pub last_access_at: Option<OffsetDateTime>,
}

/// One page of rows and the total matching.
#[derive(Debug, Clone, Serialize)]
pub struct RosterPage {
    pub rows: Vec<RosterRow>,
    pub total: i64,
    pub offset: i64,
    pub limit: i64,
}

/// A page of a course's roster.
pub async fn roster(db: &Db, q: &RosterQuery) -> Result<RosterPage, EnrolmentError> {
    crate::progress::settle_course(db, &q.course_id).await?;
    let limit = q.limit.clamp(1, MAX_PAGE);
    let offset = q.offset.max(0);
    let (state, status) = match q.status.as_deref() {
        Some("withdrawn") => ("withdrawn", None),
        Some(s @ ("not_started" | "in_progress" | "completed")) => ("active", Some(s)),
        _ => ("active", None),
    };
    let search = crate::db::contains_pattern(q.search.as_deref());
    // Two steps keep a page cheap on a course of thousands: first pick the page's learners
    // reading only what the filter and the sort need (the covering index on enrolments;
    // `users` only for a name or e-mail sort or a search), then fetch those few rows whole.
    // The count needs `users` only for a search.
    let needs_users = search.is_some() || matches!(q.sort, RosterSort::Name | RosterSort::Email);
    let users_join = if needs_users { "JOIN users u ON u.id = e.user_id" } else { "" };
    let filters = format!(
        "FROM enrolments e {users_join} \
         WHERE e.course_id = $1 AND e.state = $2 AND ($3 IS NULL OR e.status = $3) AND ($4 IS NULL OR e.cohort_id = $4)"
    );
    let search_filter = if search.is_some() {
        " AND (LOWER(u.name) LIKE $5 ESCAPE '\\' OR u.email LIKE $5 ESCAPE '\\')"
    } else {
        " AND $5 IS NULL"
    };
    let direction = if q.descending { "DESC" } else { "ASC" };
    let page_sql = format!(
        "SELECT e.user_id {filters}{search_filter} ORDER BY {} {direction}, e.user_id LIMIT $6 OFFSET $7",
        q.sort.column()
    );
    let list_sql = format!(
        "SELECT u.id AS user_id, u.name, u.email, e.cohort_id, co.name AS cohort, e.state, e.status, e.progress_percent, \
         e.score, e.time_spent_seconds, e.enrolled_at, e.starts_at, e.ends_at, e.started_at, e.completed_at, \
         e.last_access_at FROM ({page_sql}) page \
         JOIN enrolments e ON e.course_id = $1 AND e.user_id = page.user_id \
         JOIN users u ON u.id = e.user_id LEFT JOIN cohorts co ON co.id = e.cohort_id \
         ORDER BY {} {direction}, e.user_id",
        q.sort.column()
    );
    let count_sql = format!("SELECT COUNT(*) {filters}{search_filter}");
    // A roster page reads thousands of index entries: the scan pool's memory map serves it.
    let (rows, total) = on_db!(&db.for_scans(), |pool| {
        async {
            let rows = sqlx::query_as(&list_sql)
                .bind(&q.course_id)
                .bind(state)
                .bind(status)
                .bind(&q.cohort_id)
                .bind(&search)
                .bind(limit)
                .bind(offset)
                .fetch_all(pool)
                .await?;
            let total: i64 = sqlx::query_scalar(&count_sql)
                .bind(&q.course_id)
                .bind(state)
                .bind(status)
                .bind(&q.cohort_id)
                .bind(&search)
                .fetch_one(pool)
                .await?;
            Ok::<_, sqlx::Error>((rows, total))
        }
        .await
    })?;
    Ok(RosterPage { rows, total, offset, limit })
}

/// One cell of the lesson × learner matrix.
#[derive(Debug, Clone, PartialEq, Serialize, FromRow)]
pub struct LessonCell {
    pub lesson_id: String,
    pub user_id: String,
    pub status: String,
    pub score: Option<f64>,
    pub time_spent_seconds: f64,
    pub completed_at: Option<OffsetDateTime>,
}

/// Most learners one matrix request covers (one roster page).
pub const MAX_MATRIX_LEARNERS: usize = MAX_PAGE as usize;

/// The lesson progress of the given learners in a course (missing cells are not started).
pub async fn cells(db: &Db, course_id: &str, user_ids: &[String]) -> Result<Vec<LessonCell>, EnrolmentError> {
    if user_ids.is_empty() {
        return Ok(Vec::new());
    }
    // A fixed number of placeholders keeps one SQL text whatever the page size; unused
    // slots are NULL, which matches nothing.
    let placeholders: Vec<String> = (2..2 + MAX_MATRIX_LEARNERS).map(|n| format!("${n}")).collect();
    let sql = format!(
        "SELECT lesson_id, user_id, status, score, time_spent_seconds, completed_at FROM lesson_progress \
         WHERE course_id = $1 AND user_id IN ({})",
        placeholders.join(", ")
    );
    let mut ids: Vec<Option<&str>> = user_ids.iter().take(MAX_MATRIX_LEARNERS).map(|s| Some(s.as_str())).collect();
    ids.resize(MAX_MATRIX_LEARNERS, None);
    Ok(on_db!(&db.for_scans(), |pool| {
        let mut query = sqlx::query_as(&sql).bind(course_id);
        for id in &ids {
            query = query.bind(*id);
        }
        query.fetch_all(pool).await
    })?)
}
