//! `/api/v1/me/courses`, `/api/v1/courses/{id}/progress` and `/api/v1/lessons/{id}/done|visit`:
//! a learner's own courses and progress, and the two things a learner does to a lesson
//! outside the SCORM player (reading a page, following a link).

use std::collections::HashMap;
use std::sync::Arc;

use cairn_core::catalog::Course;
use cairn_core::enrolments::{self, Access, Enrolment, MyCourse};
use cairn_core::outline::{self, Lesson, Outline};
use cairn_core::progress::{self, CourseProgress, LessonFacts, LessonProgressRow, LessonStatus};
use cairn_core::{catalog, db};
use poem::http::StatusCode;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use time::OffsetDateTime;

use super::courses::visible_course;
use super::{ApiResult, ApiTags, Auth};
use crate::app::AppState;
use crate::auth::Actor;
use crate::web::errors::HttpError;

pub struct ProgressApi {
    pub state: Arc<AppState>,
}

/// One of the caller's courses.
#[derive(Object, Debug)]
pub struct MyCourseView {
    pub course_id: String,
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub cover_image: Option<String>,
    /// `not_started`, `in_progress` or `completed`.
    pub status: String,
    /// Required lessons done, 0–100.
    pub progress_percent: i64,
    pub score: Option<f64>,
    pub enrolled_at: OffsetDateTime,
    pub starts_at: Option<OffsetDateTime>,
    pub ends_at: Option<OffsetDateTime>,
    pub started_at: Option<OffsetDateTime>,
    pub completed_at: Option<OffsetDateTime>,
    pub last_access_at: Option<OffsetDateTime>,
}

impl From<MyCourse> for MyCourseView {
    fn from(c: MyCourse) -> Self {
        MyCourseView {
            course_id: c.course_id,
            slug: c.slug,
            title: c.title,
            summary: c.summary,
            cover_image: c.cover_image,
            status: c.status,
            progress_percent: c.progress_percent,
            score: c.score,
            enrolled_at: c.enrolled_at,
            starts_at: c.starts_at,
            ends_at: c.ends_at,
            started_at: c.started_at,
            completed_at: c.completed_at,
            last_access_at: c.last_access_at,
        }
    }
}

/// A learner's progress in a course.
#[derive(Object, Debug)]
pub struct CourseProgressView {
    /// `not_started`, `in_progress` or `completed`. Once completed, a course stays so.
    pub status: String,
    /// Counted lessons done out of counted lessons, 0–100, never more.
    pub percent: u8,
    pub done: u64,
    /// The lessons that count: the required ones, or every lesson when none is required.
    pub counted: u64,
    /// Mean score of the lessons that report one, 0–100.
    pub score: Option<f64>,
    pub time_spent_seconds: f64,
    /// Whether the course's completion rules are met now.
    pub complete: bool,
    /// When the course was first completed; set once.
    pub completed_at: Option<OffsetDateTime>,
}

impl CourseProgressView {
    fn new(p: &CourseProgress, enrolment: &Enrolment) -> Self {
        CourseProgressView {
            status: enrolment.status.clone(),
            percent: p.percent.min(100),
            done: p.done as u64,
            counted: p.counted as u64,
            score: p.score,
            time_spent_seconds: p.time_seconds,
            complete: p.complete,
            completed_at: enrolment.completed_at,
        }
    }
}

/// One lesson with the caller's status in it.
#[derive(Object, Debug)]
pub struct LessonProgressView {
    pub lesson_id: String,
    pub module_id: String,
    pub title: String,
    /// `scorm`, `page` or `link`.
    pub kind: String,
    pub required: bool,
    /// `not_started`, `in_progress`, `completed`, `passed` or `failed`.
    pub status: String,
    pub score: Option<f64>,
    pub time_spent_seconds: f64,
    pub completed_at: Option<OffsetDateTime>,
    /// Whether every lesson it needs first is done.
    pub open: bool,
    /// Ids of the lessons it needs first.
    pub prerequisites: Vec<String>,
}

/// The caller's progress in one course, lesson by lesson.
#[derive(Object, Debug)]
pub struct MyProgressView {
    pub course_id: String,
    /// `active` or `withdrawn`.
    pub state: String,
    /// `open`, `not_yet`, `expired` or `withdrawn`.
    pub access: String,
    pub progress: CourseProgressView,
    pub lessons: Vec<LessonProgressView>,
}

#[OpenApi(tag = "ApiTags::Learning")]
impl ProgressApi {
    /// My courses
    ///
    /// The caller's active enrolments with their progress: unfinished courses first, most
    /// recently used first.
    #[oai(path = "/v1/me/courses", method = "get", operation_id = "list_my_courses")]
    async fn my_courses(&self, auth: Auth) -> ApiResult<Json<Vec<MyCourseView>>> {
        let list = enrolments::of_user(&self.state.db, &auth.actor().user.id).await?;
        Ok(Json(list.into_iter().map(MyCourseView::from).collect()))
    }

    /// My progress in a course
    ///
    /// The caller's status in every lesson and the course's progress, brought up to date
    /// from the SCORM tracking first while the caller's access is open. Only for courses the
    /// caller is (or was) enrolled in: 403 `not_enrolled` otherwise.
    #[oai(path = "/v1/courses/:id/progress", method = "get", operation_id = "get_my_progress")]
    async fn my_progress(&self, auth: Auth, id: Path<String>) -> ApiResult<Json<MyProgressView>> {
        let actor = auth.actor();
        let course = visible_course(&self.state, actor, &id.0).await?;
        let enrolment = enrolments::find(&self.state.db, &course.id, &actor.user.id)
            .await?
            .ok_or_else(|| not_enrolled("you are not enrolled in this course"))?;
        let access = enrolment.access_at(db::now());
        // Refreshing writes (it stores what tracking says on the enrolment), so it runs only
        // while the learner may still take the course; afterwards the stored rows are read.
        let computed = if access == Access::Open {
            Some(progress::refresh(&self.state.db, &course.id, &actor.user.id).await?)
        } else {
            None
        };
        let view = self.progress_view(&course, &actor.user.id, access, computed).await?;
        Ok(Json(view))
    }

    /// Mark a page lesson as done
    ///
    /// For enrolled learners whose access is open (403 `not_enrolled` otherwise), on page
    /// lessons whose prerequisites are done (403 `lesson_locked` otherwise). A lesson stays
    /// done once done. Answers the course's progress; completing the last counted lesson
    /// completes the course.
    #[oai(path = "/v1/lessons/:id/done", method = "post", operation_id = "mark_lesson_done")]
    async fn done(&self, auth: Auth, id: Path<String>) -> ApiResult<Json<CourseProgressView>> {
        let actor = auth.actor();
        let (course, lesson) = self.open_lesson(actor, &id.0).await?;
        if lesson.kind != "page" {
            return Err(HttpError::invalid(
                "only page lessons are marked as done by hand; SCORM lessons complete in the player and links when followed",
            )
            .into());
        }
        let computed = progress::mark_done(&self.state.db, &lesson, &actor.user.id).await?;
        Ok(Json(self.course_progress(&course, &actor.user.id, &computed).await?))
    }

    /// Record a visit to a lesson
    ///
    /// Opening a page lesson makes it in progress; following a link lesson completes it.
    /// SCORM lessons are tracked by the player instead (422). Same access rules as
    /// `mark_lesson_done`. Answers the course's progress.
    #[oai(path = "/v1/lessons/:id/visit", method = "post", operation_id = "record_lesson_visit")]
    async fn visit(&self, auth: Auth, id: Path<String>) -> ApiResult<Json<CourseProgressView>> {
        let actor = auth.actor();
        let (course, lesson) = self.open_lesson(actor, &id.0).await?;
        if lesson.kind == "scorm" {
            return Err(HttpError::invalid("SCORM lessons are tracked by the player, not by visits").into());
        }
        let computed = progress::record_view(&self.state.db, &lesson, &actor.user.id).await?;
        Ok(Json(self.course_progress(&course, &actor.user.id, &computed).await?))
    }
}

impl ProgressApi {
    /// A lesson the actor may work on now: of a course they see, with an open enrolment,
    /// and unlocked by its prerequisites.
    async fn open_lesson(&self, actor: &Actor, id: &str) -> Result<(Course, Lesson), HttpError> {
        let missing = || HttpError::not_found(format!("no lesson {id:?}"));
        let lesson = match outline::lesson(&self.state.db, id).await {
            Ok(lesson) => lesson,
            Err(outline::OutlineError::NotFound) => return Err(missing()),
            Err(e) => return Err(e.into()),
        };
        let course = match catalog::find(&self.state.db, &lesson.course_id).await? {
            Some(course) if catalog::may_view(&actor.principal, &course) => course,
            _ => return Err(missing()),
        };
        let enrolment = enrolments::find(&self.state.db, &course.id, &actor.user.id).await?;
        match enrolment.map(|e| e.access_at(db::now())) {
            Some(Access::Open) => {}
            Some(Access::NotYet) => return Err(not_enrolled("your access to this course has not opened yet")),
            Some(Access::Expired) => {
                return Err(not_enrolled("your access to this course has ended; ask your institute to extend it"))
            }
            Some(Access::Withdrawn) | None => {
                return Err(not_enrolled("only learners enrolled in this course record progress in its lessons"))
            }
        }
        let full = outline::of_course(&self.state.db, &course.id).await?;
        let statuses = statuses(&progress::lesson_rows(&self.state.db, &course.id, &actor.user.id).await?);
        if !progress::is_open(&full, &lesson.id, &statuses) {
            return Err(HttpError::new(
                StatusCode::FORBIDDEN,
                "lesson_locked",
                "this lesson opens when the lessons it needs first are done",
            ));
        }
        Ok((course, lesson))
    }

    /// The course progress just computed, with the status and completion date the
    /// enrolment now holds.
    async fn course_progress(
        &self,
        course: &Course,
        user_id: &str,
        computed: &CourseProgress,
    ) -> Result<CourseProgressView, HttpError> {
        let enrolment = enrolments::find(&self.state.db, &course.id, user_id)
            .await?
            .ok_or_else(|| not_enrolled("you are not enrolled in this course"))?;
        Ok(CourseProgressView::new(computed, &enrolment))
    }

    /// Every lesson with the caller's stored status, and the course's progress (the one
    /// just computed, or one evaluated from the stored rows without writing anything).
    async fn progress_view(
        &self,
        course: &Course,
        user_id: &str,
        access: Access,
        computed: Option<CourseProgress>,
    ) -> Result<MyProgressView, HttpError> {
        let full: Outline = outline::of_course(&self.state.db, &course.id).await?;
        let rows = progress::lesson_rows(&self.state.db, &course.id, user_id).await?;
        let status_of = statuses(&rows);
        let row_of: HashMap<&str, &LessonProgressRow> = rows.iter().map(|r| (r.lesson_id.as_str(), r)).collect();
        let computed = computed.unwrap_or_else(|| {
            let facts: Vec<LessonFacts> = full
                .lessons()
                .map(|l| {
                    let row = row_of.get(l.id.as_str());
                    LessonFacts {
                        required: l.required,
                        status: status_of.get(&l.id).copied().unwrap_or(LessonStatus::NotStarted),
                        score: row.and_then(|r| r.score),
                        time_seconds: row.map_or(0.0, |r| r.time_spent_seconds),
                    }
                })
                .collect();
            progress::evaluate(&facts, course.completion_min_score)
        });
        let lessons = full
            .lessons()
            .map(|l| {
                let row = row_of.get(l.id.as_str());
                LessonProgressView {
                    lesson_id: l.id.clone(),
                    module_id: l.module_id.clone(),
                    title: l.title.clone(),
                    kind: l.kind.clone(),
                    required: l.required,
                    status: row.map_or_else(|| "not_started".to_string(), |r| r.status.clone()),
                    score: row.and_then(|r| r.score),
                    time_spent_seconds: row.map_or(0.0, |r| r.time_spent_seconds),
                    completed_at: row.and_then(|r| r.completed_at),
                    open: progress::is_open(&full, &l.id, &status_of),
                    prerequisites: full.prerequisites_of(&l.id).to_vec(),
                }
            })
            .collect();
        let enrolment = enrolments::find(&self.state.db, &course.id, user_id)
            .await?
            .ok_or_else(|| not_enrolled("you are not enrolled in this course"))?;
        Ok(MyProgressView {
            course_id: course.id.clone(),
            access: access_text(access).into(),
            progress: CourseProgressView::new(&computed, &enrolment),
            state: enrolment.state,
            lessons,
        })
    }
}

fn statuses(rows: &[LessonProgressRow]) -> HashMap<String, LessonStatus> {
    rows.iter().map(|r| (r.lesson_id.clone(), progress::parse_status(&r.status))).collect()
}

fn access_text(access: Access) -> &'static str {
    match access {
        Access::Open => "open",
        Access::NotYet => "not_yet",
        Access::Expired => "expired",
        Access::Withdrawn => "withdrawn",
    }
}

fn not_enrolled(message: &str) -> HttpError {
    HttpError::new(StatusCode::FORBIDDEN, "not_enrolled", message)
}
