//! A lesson as the learner sees it: a Markdown page with "mark as done", an external link
//! whose visit is recorded, or a SCORM item handed to the player. Editors see the same
//! pages as a preview, without anything being recorded.

use std::sync::Arc;

use cairn_core::enrolments::{self, Access};
use cairn_core::outline::{self, Lesson, Outline};
use cairn_core::progress::{self, LessonStatus};
use cairn_core::{catalog, db, markdown};
use poem::web::cookie::CookieJar;
use poem::web::{Data, Path};
use poem::{handler, IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::catalog::{learner_statuses, status_label};
use super::{see_other, CurrentUser, PageContext};
use crate::app::AppState;
use crate::auth::Actor;
use crate::web::csrf::VerifiedForm;
use crate::web::errors::HttpError;

/// Who is opening a lesson: an enrolled learner (whose progress is recorded) or an editor
/// previewing the course.
struct Visit {
    course: catalog::Course,
    lesson: Lesson,
    outline: Outline,
    learner: bool,
}

async fn open(state: &AppState, actor: &Actor, course_id: &str, lesson_id: &str) -> Result<Visit, HttpError> {
    let course = crate::api::courses::visible_course(state, actor, course_id).await?;
    let editor = catalog::may_edit(&state.db, &actor.principal, &course).await?;
    let enrolment = enrolments::find(&state.db, &course.id, &actor.user.id).await?;
    let learner = enrolment.as_ref().is_some_and(|e| e.access_at(db::now()) == Access::Open);
    if !learner && !editor {
        return Err(HttpError::forbidden(match enrolment.map(|e| e.access_at(db::now())) {
            Some(Access::NotYet) => "your access to this course has not opened yet",
            Some(Access::Expired) => "your access to this course has ended; ask your institute to extend it",
            _ => "enrol in this course to open its lessons",
        }));
    }
    let outline = outline::of_course(&state.db, &course.id).await?;
    let lesson =
        outline.lesson(lesson_id).cloned().ok_or_else(|| HttpError::not_found("no such lesson in this course"))?;
    Ok(Visit { course, lesson, outline, learner })
}

#[handler]
pub async fn lesson_page(
    state: Data<&Arc<AppState>>,
    jar: &CookieJar,
    user: CurrentUser,
    Path((course_id, lesson_id)): Path<(String, String)>,
) -> Result<Response, HttpError> {
    let actor = &user.0;
    let visit = open(&state, actor, &course_id, &lesson_id).await?;
    let statuses = if visit.learner {
        learner_statuses(&state, &visit.course.id, &actor.user.id).await?.0
    } else {
        std::collections::HashMap::new()
    };
    if visit.learner && !progress::is_open(&visit.outline, &visit.lesson.id, &statuses) {
        // The course page lists what the lesson waits for.
        return Ok(see_other(&format!("/courses/{}?locked={}", visit.course.slug, visit.lesson.id)));
    }
    if visit.lesson.kind == "scorm" {
        let item = visit.lesson.item_identifier.as_deref().map(|i| format!("?item={}", super::percent_encode(i)));
        return Ok(see_other(&format!("/courses/{}/play{}", visit.course.slug, item.unwrap_or_default())));
    }
    if visit.learner && visit.lesson.kind == "page" {
        progress::record_view(&state.db, &visit.lesson, &actor.user.id).await?;
    }
    let status = statuses.get(&visit.lesson.id).copied().unwrap_or(LessonStatus::NotStarted);
    let order: Vec<&Lesson> = visit.outline.lessons().collect();
    let at = order.iter().position(|l| l.id == visit.lesson.id).unwrap_or(0);
    let link =
        |l: &&Lesson| json!({ "title": l.title, "href": format!("/courses/{}/lessons/{}", visit.course.slug, l.id) });
    let page = json!({
        "course": { "slug": visit.course.slug, "title": visit.course.title },
        "id": visit.lesson.id, "title": visit.lesson.title, "kind": visit.lesson.kind,
        "html": visit.lesson.body.as_deref().map(markdown::render),
        "url": visit.lesson.url,
        "learner": visit.learner, "preview": !visit.learner,
        "done": status.is_done(), "status_label": status_label(status),
        "previous": at.checked_sub(1).and_then(|i| order.get(i)).map(link),
        "next": order.get(at + 1).map(link),
    });
    Ok(PageContext::new(&state, jar, Some(actor), &visit.lesson.title, "/learn")
        .page(page)
        .render(&state, "pages/lesson")?
        .into_response())
}

/// Refuses to record anything on a lesson whose prerequisites the learner has not done.
async fn ensure_open(state: &AppState, visit: &Visit, user_id: &str) -> Result<(), HttpError> {
    if !visit.learner {
        return Ok(());
    }
    let statuses = progress::lesson_rows(&state.db, &visit.course.id, user_id)
        .await?
        .into_iter()
        .map(|r| (r.lesson_id, progress::parse_status(&r.status)))
        .collect();
    if progress::is_open(&visit.outline, &visit.lesson.id, &statuses) {
        Ok(())
    } else {
        Err(HttpError::forbidden("this lesson opens when the lessons it needs are done"))
    }
}

#[derive(Deserialize)]
pub struct Empty {}

/// "Mark as done" on a page lesson.
#[handler]
pub async fn mark_done(
    state: Data<&Arc<AppState>>,
    user: CurrentUser,
    Path((course_id, lesson_id)): Path<(String, String)>,
    VerifiedForm(_): VerifiedForm<Empty>,
) -> Result<Response, HttpError> {
    let actor = &user.0;
    let visit = open(&state, actor, &course_id, &lesson_id).await?;
    ensure_open(&state, &visit, &actor.user.id).await?;
    if visit.lesson.kind != "page" {
        return Err(HttpError::invalid("only reading lessons are marked as done by hand"));
    }
    if visit.learner {
        progress::mark_done(&state.db, &visit.lesson, &actor.user.id).await?;
    }
    let next = visit.outline.lessons().skip_while(|l| l.id != visit.lesson.id).nth(1);
    Ok(match next {
        Some(next) => see_other(&format!("/courses/{}/lessons/{}", visit.course.slug, next.id)),
        None => see_other(&format!("/courses/{}", visit.course.slug)),
    })
}

/// Following an external link: the visit completes the lesson, then the browser goes on.
#[handler]
pub async fn visit_link(
    state: Data<&Arc<AppState>>,
    user: CurrentUser,
    Path((course_id, lesson_id)): Path<(String, String)>,
) -> Result<Response, HttpError> {
    let actor = &user.0;
    let visit = open(&state, actor, &course_id, &lesson_id).await?;
    ensure_open(&state, &visit, &actor.user.id).await?;
    let Some(url) = visit.lesson.url.clone().filter(|_| visit.lesson.kind == "link") else {
        return Err(HttpError::not_found("this lesson is not a link"));
    };
    if visit.learner {
        progress::record_view(&state.db, &visit.lesson, &actor.user.id).await?;
    }
    Ok(see_other(&url))
}
