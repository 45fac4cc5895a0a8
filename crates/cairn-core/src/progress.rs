//! Learner progress: each lesson's status (from SCORM tracking, page views marked done and
//! link visits) and the course's percent, score, time and completion, kept on the
//! enrolment row so rosters and reports read one row per learner.
//!
//! The rules are pure ([`evaluate`], [`scorm_lesson_status`]) and tested with tables; the
//! rest of this file gathers their inputs and stores their results.

use std::collections::HashMap;

use serde::Serialize;
use sqlx::FromRow;
use time::OffsetDateTime;

use crate::db::{self, Db, StoreError};
use crate::outline::{self, Lesson, Outline, OutlineError};
use crate::packages::{self, PackageError, PackageItem};
use crate::tracking::{self, Attempt, ItemStatus, TrackingError};
use crate::{on_db, on_db_writing};

/// The status of one lesson for one learner. The same five values as a SCORM item.
pub type LessonStatus = ItemStatus;

/// Parses a stored lesson status; unknown text reads as not started.
pub fn parse_status(text: &str) -> LessonStatus {
    match text {
        "in_progress" => ItemStatus::InProgress,
        "completed" => ItemStatus::Completed,
        "passed" => ItemStatus::Passed,
        "failed" => ItemStatus::Failed,
        _ => ItemStatus::NotStarted,
    }
}

pub fn status_text(status: LessonStatus) -> &'static str {
    match status {
        ItemStatus::NotStarted => "not_started",
        ItemStatus::InProgress => "in_progress",
        ItemStatus::Completed => "completed",
        ItemStatus::Passed => "passed",
        ItemStatus::Failed => "failed",
    }
}

/// What the course rules need to know about one lesson.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LessonFacts {
    pub required: bool,
    pub status: LessonStatus,
    /// 0–100 when the lesson reports a score.
    pub score: Option<f64>,
    pub time_seconds: f64,
}

/// The course-level result of the rules.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CourseProgress {
    /// Required lessons done out of required lessons, 0–100, never more.
    pub percent: u8,
    pub done: usize,
    pub counted: usize,
    /// The mean of the scores the lessons report (0–100), if any does.
    pub score: Option<f64>,
    pub time_seconds: f64,
    /// Whether anything at all has been started.
    pub started: bool,
    /// Every counted lesson done and, when the course sets one, the minimum score reached.
    pub complete: bool,
}

/// Course progress from lesson facts.
///
/// - Required lessons count; when a course marks none as required, every lesson counts
///   (a course of optional lessons would otherwise be complete before it is opened).
/// - A lesson is done when completed, passed or failed (failed means "completed without
///   the pass mark"; the course's minimum score, when set, decides whether that is enough).
/// - A course without lessons is never complete and stays at 0%.
/// - Percent is rounded down so 100% is shown only when every counted lesson is done.
pub fn evaluate(lessons: &[LessonFacts], min_score: Option<f64>) -> CourseProgress {
    let any_required = lessons.iter().any(|l| l.required);
    let counted: Vec<&LessonFacts> = lessons.iter().filter(|l| l.required || !any_required).collect();
    let done = counted.iter().filter(|l| l.status.is_done()).count();
    let percent = (done * 100).checked_div(counted.len()).map_or(0, |p| p.min(100) as u8);
    let scores: Vec<f64> = lessons.iter().filter_map(|l| l.score).filter(|s| s.is_finite()).collect();
    let score = (!scores.is_empty()).then(|| (scores.iter().sum::<f64>() / scores.len() as f64).clamp(0.0, 100.0));
    let time_seconds = lessons.iter().map(|l| l.time_seconds.max(0.0)).sum();
    let started = lessons.iter().any(|l| l.status != ItemStatus::NotStarted);
    let score_ok = match min_score {
        None => true,
        Some(min) => score.is_some_and(|s| s + 1e-9 >= min),
    };
    let complete = !counted.is_empty() && done == counted.len() && score_ok;
    CourseProgress { percent, done, counted: counted.len(), score, time_seconds, started, complete }
}

/// A SCORM score as 0–100: `score.scaled` when present, else a raw score that already lies
/// in 0–100 (the usual 1.2 convention).
pub fn scorm_score(attempt: &Attempt) -> Option<f64> {
    match (attempt.score_scaled, attempt.score_raw) {
        (Some(scaled), _) => Some((scaled * 100.0).clamp(-100.0, 100.0).max(0.0)),
        (None, Some(raw)) if (0.0..=100.0).contains(&raw) => Some(raw),
        _ => None,
    }
}

/// The facts of a SCORM lesson: one item's latest attempt, or (for a lesson that stands
/// for the whole package) every launchable item rolled up — done when all are done,
/// failed when one failed, in progress when one was started.
pub fn scorm_lesson_status(
    item_identifier: Option<&str>,
    items: &[PackageItem],
    attempts: &[Attempt],
) -> (LessonStatus, Option<f64>, f64) {
    let launchable: Vec<&str> = match item_identifier {
        Some(item) => vec![item],
        None => items.iter().filter(|i| i.launch.is_some()).map(|i| i.identifier.as_str()).collect(),
    };
    let latest: Vec<Option<&Attempt>> = launchable.iter().map(|i| tracking::latest_for(attempts, i)).collect();
    let statuses: Vec<ItemStatus> = latest.iter().map(|a| ItemStatus::of(*a)).collect();
    let scores: Vec<f64> = latest.iter().flatten().filter_map(|a| scorm_score(a)).collect();
    let score = (!scores.is_empty()).then(|| scores.iter().sum::<f64>() / scores.len() as f64);
    let time = attempts
        .iter()
        .filter(|a| a.voided_at.is_none() && launchable.contains(&a.item_identifier.as_str()))
        .map(|a| a.total_time_seconds)
        .sum();
    let status = if statuses.is_empty() {
        ItemStatus::NotStarted
    } else if statuses.iter().all(|s| s.is_done()) {
        if statuses.contains(&ItemStatus::Failed) {
            ItemStatus::Failed
        } else if statuses.iter().all(|s| *s == ItemStatus::Passed) {
            ItemStatus::Passed
        } else {
            ItemStatus::Completed
        }
    } else if statuses.iter().any(|s| *s != ItemStatus::NotStarted) {
        ItemStatus::InProgress
    } else {
        ItemStatus::NotStarted
    };
    (status, score, time)
}

/// Which lessons are open: a lesson opens when every lesson it needs is done.
pub fn is_open(outline: &Outline, lesson_id: &str, status_of: &HashMap<String, LessonStatus>) -> bool {
    outline
        .prerequisites_of(lesson_id)
        .iter()
        .all(|r| status_of.get(r).copied().unwrap_or(ItemStatus::NotStarted).is_done())
}

#[derive(Debug, thiserror::Error)]
pub enum ProgressError {
    #[error(transparent)]
    Outline(#[from] OutlineError),
    #[error(transparent)]
    Tracking(#[from] TrackingError),
    #[error(transparent)]
    Package(#[from] PackageError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for ProgressError {
    fn from(e: sqlx::Error) -> Self {
        ProgressError::Store(e.into())
    }
}

/// A stored lesson-progress row.
#[derive(Debug, Clone, PartialEq, Serialize, FromRow)]
pub struct LessonProgressRow {
    pub lesson_id: String,
    pub user_id: String,
    pub status: String,
    pub score: Option<f64>,
    pub time_spent_seconds: f64,
    pub first_seen_at: OffsetDateTime,
    pub completed_at: Option<OffsetDateTime>,
    pub updated_at: OffsetDateTime,
}

/// The stored lesson progress of one learner in a course.
pub async fn lesson_rows(db: &Db, course_id: &str, user_id: &str) -> Result<Vec<LessonProgressRow>, ProgressError> {
    Ok(on_db!(db, |pool| {
        sqlx::query_as(
            "SELECT lesson_id, user_id, status, score, time_spent_seconds, first_seen_at, completed_at, updated_at \
             FROM lesson_progress WHERE course_id = $1 AND user_id = $2",
        )
        .bind(course_id)
        .bind(user_id)
        .fetch_all(pool)
        .await
    })?)
}

/// Writes one lesson's status for a learner. A lesson never goes back from done to
/// not done by a later view (reopening a page must not undo "mark as done"), and the
/// first completion date is kept.
async fn upsert_lesson(
    db: &Db,
    lesson: &Lesson,
    user_id: &str,
    status: LessonStatus,
    score: Option<f64>,
    time_seconds: f64,
) -> Result<(), ProgressError> {
    let now = db::now();
    let completed_at = status.is_done().then_some(now);
    on_db_writing!(db, |conn| {
        sqlx::query(
            "INSERT INTO lesson_progress (lesson_id, user_id, course_id, status, score, time_spent_seconds, \
             first_seen_at, completed_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $7) \
             ON CONFLICT (lesson_id, user_id) DO UPDATE SET \
             status = CASE WHEN lesson_progress.status IN ('completed', 'passed', 'failed') \
                 AND excluded.status IN ('not_started', 'in_progress') THEN lesson_progress.status ELSE excluded.status END, \
             score = COALESCE(excluded.score, lesson_progress.score), \
             time_spent_seconds = excluded.time_spent_seconds, \
             completed_at = COALESCE(lesson_progress.completed_at, excluded.completed_at), \
             updated_at = excluded.updated_at",
        )
        .bind(&lesson.id)
        .bind(user_id)
        .bind(&lesson.course_id)
        .bind(status_text(status))
        .bind(score)
        .bind(time_seconds)
        .bind(now)
        .bind(completed_at)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Records that a learner opened a page or link lesson: it becomes in progress, or
/// completed straight away for a link (following it is all a link asks).
pub async fn record_view(db: &Db, lesson: &Lesson, user_id: &str) -> Result<CourseProgress, ProgressError> {
    let status = if lesson.kind == "link" { ItemStatus::Completed } else { ItemStatus::InProgress };
    upsert_lesson(db, lesson, user_id, status, None, 0.0).await?;
    refresh(db, &lesson.course_id, user_id).await
}

/// "Mark as done" on a page lesson.
pub async fn mark_done(db: &Db, lesson: &Lesson, user_id: &str) -> Result<CourseProgress, ProgressError> {
    upsert_lesson(db, lesson, user_id, ItemStatus::Completed, None, 0.0).await?;
    refresh(db, &lesson.course_id, user_id).await
}

/// Recomputes a learner's course progress from lessons and tracking and stores it on the
/// enrolment (if any). SCORM lessons are re-derived from attempts each time; page and link
/// lessons keep what the learner did. The completion date is set once.
pub async fn refresh(db: &Db, course_id: &str, user_id: &str) -> Result<CourseProgress, ProgressError> {
    Ok(refresh_with_statuses(db, course_id, user_id).await?.0)
}

/// [`refresh`], also returning every lesson's status (lesson id → status), which pages
/// need next and would otherwise read again.
pub async fn refresh_with_statuses(
    db: &Db,
    course_id: &str,
    user_id: &str,
) -> Result<(CourseProgress, HashMap<String, LessonStatus>), ProgressError> {
    let lessons = outline::lessons_of_course(db, course_id).await?;
    let stored: HashMap<String, LessonProgressRow> =
        lesson_rows(db, course_id, user_id).await?.into_iter().map(|r| (r.lesson_id.clone(), r)).collect();
    let (package, min_score): (Option<String>, Option<f64>) = on_db!(db, |pool| {
        sqlx::query_as("SELECT current_package_id, completion_min_score FROM courses WHERE id = $1")
            .bind(course_id)
            .fetch_optional(pool)
            .await
    })?
    .unwrap_or_default();
    let has_scorm = lessons.iter().any(|l| l.kind == "scorm");
    let (items, attempts) = if has_scorm {
        let items = match package {
            Some(p) => packages::items(db, &p).await?,
            None => Vec::new(),
        };
        (items, tracking::statuses_of_learner(db, user_id, course_id).await?)
    } else {
        (Vec::new(), Vec::new())
    };

    let mut facts = Vec::new();
    let mut statuses = HashMap::new();
    for lesson in &lessons {
        let fact = if lesson.kind == "scorm" {
            let (mut status, mut score, time) =
                scorm_lesson_status(lesson.item_identifier.as_deref(), &items, &attempts);
            let previous = stored.get(&lesson.id);
            // Reopening a finished SCORM 2004 item starts a new attempt, which is in progress;
            // the lesson stays done with its score (a done lesson never goes back).
            if let Some(done) = previous.filter(|p| parse_status(&p.status).is_done()) {
                if !status.is_done() {
                    status = parse_status(&done.status);
                    score = score.or(done.score);
                }
            }
            let changed = previous.is_none_or(|p| {
                p.status != status_text(status) || p.score != score || (p.time_spent_seconds - time).abs() > 0.5
            });
            if status != ItemStatus::NotStarted && changed {
                upsert_lesson(db, lesson, user_id, status, score, time).await?;
            }
            LessonFacts { required: lesson.required, status, score, time_seconds: time }
        } else {
            let row = stored.get(&lesson.id);
            LessonFacts {
                required: lesson.required,
                status: row.map_or(ItemStatus::NotStarted, |r| parse_status(&r.status)),
                score: row.and_then(|r| r.score),
                time_seconds: row.map_or(0.0, |r| r.time_spent_seconds),
            }
        };
        statuses.insert(lesson.id.clone(), fact.status);
        facts.push(fact);
    }
    let progress = evaluate(&facts, min_score);
    store(db, course_id, user_id, &progress).await?;
    clear_pending(db, course_id, user_id, has_scorm.then_some(attempts.as_slice())).await?;
    Ok((progress, statuses))
}

/// Clears the "progress pending" mark of the attempts whose data this refresh read. The
/// mark is cleared only at the revision that was read: a commit written since keeps its
/// mark, and the next refresh takes it. Without SCORM lessons no attempt counts, so every
/// mark of the learner in the course goes.
async fn clear_pending(db: &Db, course_id: &str, user_id: &str, read: Option<&[Attempt]>) -> Result<(), ProgressError> {
    let Some(read) = read else {
        on_db_writing!(db, |conn| {
            sqlx::query(
                "UPDATE attempts SET progress_pending = FALSE WHERE course_id = $1 AND user_id = $2 AND progress_pending",
            )
            .bind(course_id)
            .bind(user_id)
            .execute(conn)
            .await
            .map(|r| r.rows_affected())
        })
        .map_err(StoreError::from)?;
        return Ok(());
    };
    let pending: Vec<&Attempt> = read.iter().filter(|a| a.progress_pending).collect();
    if pending.is_empty() {
        return Ok(());
    }
    // One statement per 16 attempts rather than one per attempt: a learner busy in a course
    // often has several marked attempts by the time the coalesced refresh runs (five on
    // average in the commit benchmark), and on SQLite every statement here is a turn of
    // the one writer.
    on_db_writing!(db, |conn| {
        async {
            for chunk in pending.chunks(tracking::LARGEST_BUCKET) {
                let rows = tracking::row_bucket(chunk.len());
                let sql = clear_marks_sql(rows);
                let mut query = sqlx::query(&sql);
                for attempt in chunk {
                    query = query.bind(Some(attempt.id.as_str())).bind(Some(attempt.revision));
                }
                for _ in chunk.len()..rows {
                    query = query.bind(None::<&str>).bind(None::<i64>);
                }
                query.execute(&mut *conn).await?;
            }
            Ok::<_, sqlx::Error>(())
        }
        .await
    })
    .map_err(StoreError::from)?;
    Ok(())
}

/// Clears the marks of `rows` attempts, each only at the revision the refresh read; a
/// padding row (NULL) matches nothing.
fn clear_marks_sql(rows: usize) -> String {
    let values: Vec<String> = (0..rows).map(|r| format!("(${}, ${})", 2 * r + 1, 2 * r + 2)).collect();
    format!(
        "UPDATE attempts SET progress_pending = FALSE FROM (VALUES {}) AS v \
         WHERE attempts.id = v.column1 AND attempts.revision = v.column2",
        values.join(", ")
    )
}

/// Learners of a course with a commit whose progress refresh has not run (it runs in the
/// background after the commit is acknowledged, and a crash can drop it).
async fn pending_in_course(db: &Db, course_id: &str) -> Result<Vec<String>, ProgressError> {
    Ok(on_db!(db, |pool| {
        sqlx::query_scalar("SELECT DISTINCT user_id FROM attempts WHERE course_id = $1 AND progress_pending")
            .bind(course_id)
            .fetch_all(pool)
            .await
    })
    .map_err(StoreError::from)?)
}

/// Every (course, learner) with a refresh still pending: what the server finishes at start.
pub async fn pending(db: &Db) -> Result<Vec<(String, String)>, ProgressError> {
    Ok(on_db!(db, |pool| {
        sqlx::query_as("SELECT DISTINCT course_id, user_id FROM attempts WHERE progress_pending").fetch_all(pool).await
    })
    .map_err(StoreError::from)?)
}

/// Runs the refreshes still pending in a course, so that a reader of stored progress
/// (roster, report) sees every acknowledged commit. Usually there is nothing to do: the
/// pending-mark index holds only marked attempts. A refresh that fails is logged and
/// left marked: the reader still answers, with that learner's last stored progress.
pub async fn settle_course(db: &Db, course_id: &str) -> Result<(), ProgressError> {
    for user_id in pending_in_course(db, course_id).await? {
        refresh_or_log(db, course_id, &user_id).await;
    }
    Ok(())
}

async fn refresh_or_log(db: &Db, course_id: &str, user_id: &str) {
    if let Err(e) = refresh(db, course_id, user_id).await {
        tracing::warn!(course = course_id, user = user_id, error = %e, "pending course progress not refreshed");
    }
}

/// [`settle_course`] for one learner's courses (their dashboard).
pub async fn settle_learner(db: &Db, user_id: &str) -> Result<(), ProgressError> {
    let courses: Vec<String> = on_db!(db, |pool| {
        sqlx::query_scalar("SELECT DISTINCT course_id FROM attempts WHERE user_id = $1 AND progress_pending")
            .bind(user_id)
            .fetch_all(pool)
            .await
    })
    .map_err(StoreError::from)?;
    for course_id in courses {
        refresh_or_log(db, &course_id, user_id).await;
    }
    Ok(())
}

/// Writes the result onto the enrolment. Once completed, an enrolment stays completed with
/// its first completion date, even if the outline later grows. A withdrawn enrolment is
/// left as it was when the learner left.
async fn store(db: &Db, course_id: &str, user_id: &str, p: &CourseProgress) -> Result<(), ProgressError> {
    let now = db::now();
    let status = if p.complete {
        "completed"
    } else if p.started {
        "in_progress"
    } else {
        "not_started"
    };
    on_db_writing!(db, |conn| {
        sqlx::query(
            "UPDATE enrolments SET \
             status = CASE WHEN completed_at IS NOT NULL THEN 'completed' ELSE $1 END, \
             progress_percent = $2, score = $3, time_spent_seconds = $4, \
             started_at = CASE WHEN started_at IS NULL AND $5 THEN $6 ELSE started_at END, \
             completed_at = CASE WHEN completed_at IS NULL AND $7 THEN $6 ELSE completed_at END, \
             last_access_at = $6, updated_at = $6 \
             WHERE course_id = $8 AND user_id = $9 AND state = 'active'",
        )
        .bind(status)
        .bind(i64::from(p.percent))
        .bind(p.score)
        .bind(p.time_seconds)
        .bind(p.started)
        .bind(now)
        .bind(p.complete)
        .bind(course_id)
        .bind(user_id)
        .execute(conn)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lesson(required: bool, status: ItemStatus, score: Option<f64>) -> LessonFacts {
        LessonFacts { required, status, score, time_seconds: 60.0 }
    }

    use ItemStatus::{Completed, Failed, InProgress, NotStarted, Passed};

    #[test]
    fn course_progress_rules() {
        // (lessons, min score) → (percent, complete, started)
        let cases: Vec<(Vec<LessonFacts>, Option<f64>, u8, bool, bool)> = vec![
            (vec![], None, 0, false, false),
            (vec![lesson(true, NotStarted, None)], None, 0, false, false),
            (vec![lesson(true, InProgress, None)], None, 0, false, true),
            (vec![lesson(true, Completed, None), lesson(true, NotStarted, None)], None, 50, false, true),
            (
                vec![lesson(true, Completed, None), lesson(true, Passed, None), lesson(true, Failed, None)],
                None,
                100,
                true,
                true,
            ),
            // Optional lessons do not hold completion back nor add to the percentage.
            (vec![lesson(true, Completed, None), lesson(false, NotStarted, None)], None, 100, true, true),
            // A course of optional lessons only: every lesson counts.
            (vec![lesson(false, Completed, None), lesson(false, NotStarted, None)], None, 50, false, true),
            // Thirds round down: 100% only when everything is done.
            (
                vec![lesson(true, Completed, None), lesson(true, Completed, None), lesson(true, InProgress, None)],
                None,
                66,
                false,
                true,
            ),
            // The minimum score: the mean of reported scores.
            (vec![lesson(true, Passed, Some(80.0)), lesson(true, Completed, None)], Some(70.0), 100, true, true),
            (vec![lesson(true, Failed, Some(50.0)), lesson(true, Completed, None)], Some(70.0), 100, false, true),
            (vec![lesson(true, Completed, None)], Some(70.0), 100, false, true),
            (vec![lesson(true, Passed, Some(70.0))], Some(70.0), 100, true, true),
        ];
        for (lessons, min, percent, complete, started) in cases {
            let p = evaluate(&lessons, min);
            assert_eq!((p.percent, p.complete, p.started), (percent, complete, started), "{lessons:?} min {min:?}");
            assert!(p.percent <= 100);
        }
        let p = evaluate(&[lesson(true, Passed, Some(80.0)), lesson(false, Failed, Some(40.0))], None);
        assert_eq!((p.score, p.time_seconds), (Some(60.0), 120.0));
    }

    #[test]
    fn progress_never_exceeds_100_even_with_odd_input() {
        let many: Vec<LessonFacts> = (0..7).map(|_| lesson(true, Completed, Some(250.0))).collect();
        let p = evaluate(&many, None);
        assert_eq!(p.percent, 100);
        assert_eq!(p.score, Some(100.0));
    }

    #[test]
    fn statuses_round_trip_as_text() {
        for s in [NotStarted, InProgress, Completed, Passed, Failed] {
            assert_eq!(parse_status(status_text(s)), s);
        }
        assert_eq!(parse_status("garbage"), NotStarted);
    }
}
