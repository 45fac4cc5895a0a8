//! Enrolments: who takes which course, since when, until when, and how they joined.
//! Withdrawal keeps every row (progress, attempts); enrolling again reactivates it.

pub mod bulk;
pub mod bulk_csv;
pub mod roster;

use serde::Serialize;
use sqlx::FromRow;
use time::OffsetDateTime;

use crate::accounts::policy::Principal;
use crate::catalog::{self, CatalogError, Course};
use crate::db::{self, Db, StoreError};
use crate::validate::InvalidInput;
use crate::{on_db, on_db_conn};

#[derive(Debug, Clone, PartialEq, Serialize, FromRow)]
pub struct Enrolment {
    pub id: String,
    pub course_id: String,
    pub user_id: String,
    pub cohort_id: Option<String>,
    /// `self`, `manual`, `bulk` or `cohort`.
    pub source: String,
    /// `active` or `withdrawn`.
    pub state: String,
    /// `not_started`, `in_progress` or `completed`.
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
    pub withdrawn_at: Option<OffsetDateTime>,
    pub updated_at: OffsetDateTime,
}

pub(crate) const ENROLMENT_COLUMNS: &str = "id, course_id, user_id, cohort_id, source, state, status, progress_percent, \
     score, time_spent_seconds, enrolled_at, starts_at, ends_at, started_at, completed_at, last_access_at, withdrawn_at, \
     updated_at";

/// Whether an enrolment lets its learner into the course at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    Open,
    NotYet,
    Expired,
    Withdrawn,
}

impl Enrolment {
    pub fn access_at(&self, now: OffsetDateTime) -> Access {
        Access::of(&self.state, self.starts_at, self.ends_at, now)
    }
}

impl Access {
    /// Whether an enrolment in `state` with these access dates lets its learner in at `now`.
    pub fn of(
        state: &str,
        starts_at: Option<OffsetDateTime>,
        ends_at: Option<OffsetDateTime>,
        now: OffsetDateTime,
    ) -> Access {
        if state != "active" {
            Access::Withdrawn
        } else if starts_at.is_some_and(|s| now < s) {
            Access::NotYet
        } else if ends_at.is_some_and(|e| now >= e) {
            Access::Expired
        } else {
            Access::Open
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EnrolmentError {
    #[error("{0}")]
    Invalid(#[from] InvalidInput),
    #[error("this course does not accept self-enrolment; ask its institute to enrol you")]
    Closed,
    #[error("the enrolment key is not right; check it with your instructor")]
    WrongKey,
    #[error("this course is not published yet")]
    NotPublished,
    #[error("no such enrolment")]
    NotFound,
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    #[error(transparent)]
    Progress(#[from] Box<crate::progress::ProgressError>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<crate::progress::ProgressError> for EnrolmentError {
    fn from(e: crate::progress::ProgressError) -> Self {
        EnrolmentError::Progress(Box::new(e))
    }
}

impl From<sqlx::Error> for EnrolmentError {
    fn from(e: sqlx::Error) -> Self {
        EnrolmentError::Store(e.into())
    }
}

/// How someone joins a course.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    SelfService,
    Manual,
    Bulk,
    Cohort,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::SelfService => "self",
            Source::Manual => "manual",
            Source::Bulk => "bulk",
            Source::Cohort => "cohort",
        }
    }
}

/// An enrolment to make.
#[derive(Debug, Clone)]
pub struct NewEnrolment {
    pub course_id: String,
    pub user_id: String,
    pub source: Source,
    pub cohort_id: Option<String>,
    pub starts_at: Option<OffsetDateTime>,
    pub ends_at: Option<OffsetDateTime>,
}

/// Checks that an access window is a window.
pub fn check_dates(starts_at: Option<OffsetDateTime>, ends_at: Option<OffsetDateTime>) -> Result<(), InvalidInput> {
    match (starts_at, ends_at) {
        (Some(s), Some(e)) if e <= s => Err(InvalidInput::new("ends_at", "must be after the start date")),
        _ => Ok(()),
    }
}

pub async fn find(db: &Db, course_id: &str, user_id: &str) -> Result<Option<Enrolment>, EnrolmentError> {
    let sql = format!("SELECT {ENROLMENT_COLUMNS} FROM enrolments WHERE course_id = $1 AND user_id = $2");
    Ok(on_db!(db, |pool| sqlx::query_as(&sql).bind(course_id).bind(user_id).fetch_optional(pool).await)?)
}

/// A course as a launch sees it: the course, the learner's access to it (`None`: not
/// enrolled), and whether any lesson of its outline waits on another.
#[derive(Debug, Clone)]
pub struct CourseWithAccess {
    pub course: Course,
    pub access: Option<Access>,
    /// Most courses set no prerequisites; then the player never reads the outline.
    pub outline_has_prerequisites: bool,
}

/// A course by id or slug with a learner's access to it and its prerequisite flag, in one
/// query: opening the player needs all three, and a launch is the most frequent page
/// there is.
pub async fn course_with_access(
    db: &Db,
    id_or_slug: &str,
    user_id: &str,
) -> Result<Option<CourseWithAccess>, EnrolmentError> {
    #[derive(FromRow)]
    struct Row {
        #[sqlx(flatten)]
        course: Course,
        enrolment_state: Option<String>,
        enrolment_starts_at: Option<OffsetDateTime>,
        enrolment_ends_at: Option<OffsetDateTime>,
        outline_has_prerequisites: bool,
    }
    let columns: Vec<String> = catalog::COURSE_COLUMNS.split(',').map(|c| format!("c.{}", c.trim())).collect();
    let sql = format!(
        "SELECT {}, e.state AS enrolment_state, e.starts_at AS enrolment_starts_at, e.ends_at AS enrolment_ends_at, \
         EXISTS (SELECT 1 FROM lesson_prerequisites p JOIN lessons l ON l.id = p.lesson_id WHERE l.course_id = c.id) \
           AS outline_has_prerequisites \
         FROM courses c LEFT JOIN enrolments e ON e.course_id = c.id AND e.user_id = $2 \
         WHERE c.id = $1 OR c.slug = $1 ORDER BY CASE WHEN c.id = $1 THEN 0 ELSE 1 END LIMIT 1",
        columns.join(", ")
    );
    let row: Option<Row> =
        on_db_conn!(db, |conn| sqlx::query_as(&sql).bind(id_or_slug).bind(user_id).fetch_optional(conn).await)?;
    Ok(row.map(|r| {
        let now = db::now();
        let access = r.enrolment_state.map(|state| Access::of(&state, r.enrolment_starts_at, r.enrolment_ends_at, now));
        CourseWithAccess { course: r.course, access, outline_has_prerequisites: r.outline_has_prerequisites }
    }))
}

pub async fn find_by_id(db: &Db, id: &str) -> Result<Enrolment, EnrolmentError> {
    let sql = format!("SELECT {ENROLMENT_COLUMNS} FROM enrolments WHERE id = $1");
    on_db!(db, |pool| sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)?.ok_or(EnrolmentError::NotFound)
}

/// Enrols a learner, or reactivates (and re-dates) a withdrawn or existing enrolment, in
/// one statement so that two requests at once cannot make two rows. Progress is kept.
pub async fn enrol(db: &Db, new: &NewEnrolment) -> Result<Enrolment, EnrolmentError> {
    enrol_all(db, std::slice::from_ref(new)).await?;
    find(db, &new.course_id, &new.user_id).await?.ok_or(EnrolmentError::NotFound)
}

/// Enrols (or re-activates) a new enrolment, or refreshes an existing one: a withdrawn
/// one becomes active again with its data, and a cohort or dates given replace the old
/// ones while absent ones keep them. Binds: id, course, user, cohort, source, now,
/// starts_at, ends_at. The one statement every way of enrolling uses.
pub(crate) const UPSERT_SQL: &str = "INSERT INTO enrolments (id, course_id, user_id, cohort_id, source, state, \
     status, progress_percent, score, time_spent_seconds, enrolled_at, starts_at, ends_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, 'active', 'not_started', 0, NULL, 0, $6, $7, $8, $6) \
     ON CONFLICT (course_id, user_id) DO UPDATE SET state = 'active', withdrawn_at = NULL, \
     cohort_id = COALESCE(excluded.cohort_id, enrolments.cohort_id), \
     starts_at = COALESCE(excluded.starts_at, enrolments.starts_at), \
     ends_at = COALESCE(excluded.ends_at, enrolments.ends_at), updated_at = excluded.updated_at";

/// Enrols several people in one transaction: all of them or, on an error, none.
pub async fn enrol_all(db: &Db, list: &[NewEnrolment]) -> Result<(), EnrolmentError> {
    for new in list {
        check_dates(new.starts_at, new.ends_at)?;
    }
    let now = db::now();
    on_db!(db, |pool| {
        async {
            let mut tx = pool.begin().await?;
            for new in list {
                sqlx::query(UPSERT_SQL)
                    .bind(db::new_id())
                    .bind(&new.course_id)
                    .bind(&new.user_id)
                    .bind(&new.cohort_id)
                    .bind(new.source.as_str())
                    .bind(now)
                    .bind(new.starts_at)
                    .bind(new.ends_at)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await
        }
        .await
    })?;
    Ok(())
}

/// A learner enrolling themselves: the course must be published and open, or keyed with
/// the right key.
pub async fn self_enrol(
    db: &Db,
    course: &Course,
    user_id: &str,
    key: Option<&str>,
) -> Result<Enrolment, EnrolmentError> {
    if course.status != "published" {
        return Err(EnrolmentError::NotPublished);
    }
    match course.enrolment_mode.as_str() {
        "open" => {}
        "key" => {
            let expected = course.enrolment_key.as_deref().unwrap_or_default();
            let given = key.unwrap_or_default().trim();
            if expected.is_empty() || !constant_time_eq(expected.as_bytes(), given.as_bytes()) {
                return Err(EnrolmentError::WrongKey);
            }
        }
        _ => return Err(EnrolmentError::Closed),
    }
    let new = NewEnrolment {
        course_id: course.id.clone(),
        user_id: user_id.to_string(),
        source: Source::SelfService,
        cohort_id: None,
        starts_at: None,
        ends_at: None,
    };
    enrol(db, &new).await
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Withdraws a learner: they lose access, nothing they did is deleted.
pub async fn withdraw(db: &Db, course_id: &str, user_id: &str) -> Result<(), EnrolmentError> {
    let now = db::now();
    let done = on_db!(db, |pool| {
        sqlx::query(
            "UPDATE enrolments SET state = 'withdrawn', withdrawn_at = $1, updated_at = $1 \
             WHERE course_id = $2 AND user_id = $3 AND state = 'active'",
        )
        .bind(now)
        .bind(course_id)
        .bind(user_id)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
    })?;
    if done == 0 {
        return Err(EnrolmentError::NotFound);
    }
    Ok(())
}

/// Whether `who` may take a course's content now: its editors always (that is the
/// preview), learners with an open enrolment.
pub async fn may_take(db: &Db, who: &Principal, course: &Course) -> Result<bool, EnrolmentError> {
    if catalog::may_edit(db, who, course).await? {
        return Ok(true);
    }
    Ok(find(db, &course.id, &who.user_id).await?.is_some_and(|e| e.access_at(db::now()) == Access::Open))
}

/// One of a learner's courses, for the dashboard.
#[derive(Debug, Clone, PartialEq, Serialize, FromRow)]
pub struct MyCourse {
    pub course_id: String,
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub cover_image: Option<String>,
    pub status: String,
    pub state: String,
    pub progress_percent: i64,
    pub score: Option<f64>,
    pub enrolled_at: OffsetDateTime,
    pub starts_at: Option<OffsetDateTime>,
    pub ends_at: Option<OffsetDateTime>,
    pub started_at: Option<OffsetDateTime>,
    pub completed_at: Option<OffsetDateTime>,
    pub last_access_at: Option<OffsetDateTime>,
}

/// A learner's active enrolments, most recently used first.
pub async fn of_user(db: &Db, user_id: &str) -> Result<Vec<MyCourse>, EnrolmentError> {
    crate::progress::settle_learner(db, user_id).await?;
    Ok(on_db!(db, |pool| {
        sqlx::query_as(
            "SELECT c.id AS course_id, c.slug, c.title, c.summary, c.cover_image, e.status, e.state, e.progress_percent, \
             e.score, e.enrolled_at, e.starts_at, e.ends_at, e.started_at, e.completed_at, e.last_access_at \
             FROM enrolments e JOIN courses c ON c.id = e.course_id \
             WHERE e.user_id = $1 AND e.state = 'active' \
             ORDER BY CASE WHEN e.completed_at IS NULL THEN 0 ELSE 1 END, \
             COALESCE(e.last_access_at, e.enrolled_at) DESC, c.title",
        )
        .bind(user_id)
        .fetch_all(pool)
        .await
    })?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn enrolment(state: &str, starts: Option<OffsetDateTime>, ends: Option<OffsetDateTime>) -> Enrolment {
        let t = datetime!(2026-01-01 0:00 UTC);
        Enrolment {
            id: "e".into(),
            course_id: "c".into(),
            user_id: "u".into(),
            cohort_id: None,
            source: "manual".into(),
            state: state.into(),
            status: "not_started".into(),
            progress_percent: 0,
            score: None,
            time_spent_seconds: 0.0,
            enrolled_at: t,
            starts_at: starts,
            ends_at: ends,
            started_at: None,
            completed_at: None,
            last_access_at: None,
            withdrawn_at: None,
            updated_at: t,
        }
    }

    #[test]
    fn access_windows() {
        let now = datetime!(2026-06-01 12:00 UTC);
        let before = Some(datetime!(2026-05-01 0:00 UTC));
        let after = Some(datetime!(2026-07-01 0:00 UTC));
        let cases = [
            ("active", None, None, Access::Open),
            ("active", before, after, Access::Open),
            ("active", after, None, Access::NotYet),
            ("active", None, before, Access::Expired),
            ("active", None, Some(now), Access::Expired),
            ("withdrawn", None, None, Access::Withdrawn),
        ];
        for (state, starts, ends, expected) in cases {
            assert_eq!(enrolment(state, starts, ends).access_at(now), expected, "{state} {starts:?} {ends:?}");
        }
        assert!(check_dates(after, before).is_err());
        assert!(check_dates(before, after).is_ok());
    }
}
