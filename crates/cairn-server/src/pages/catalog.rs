//! The public side of courses: the catalog with search, a course's page (outline,
//! instructors, how to enrol, the learner's own progress), self-enrolment and "resume".

use std::collections::HashMap;
use std::sync::Arc;

use cairn_core::enrolments::{self, Access};
use cairn_core::outline::{self, Outline};
use cairn_core::progress::{self, LessonStatus};
use cairn_core::{catalog, db, organisations, packages};
use poem::web::cookie::CookieJar;
use poem::web::{Data, Path, Query};
use poem::{handler, IntoResponse, Response};
use serde::Deserialize;
use serde_json::{json, Value};

use super::admin::date;
use super::{see_other, CurrentUser, PageContext};
use crate::app::AppState;
use crate::auth::Actor;
use crate::web::csrf::VerifiedForm;
use crate::web::errors::HttpError;

/// Courses per catalog page.
const CATALOG_PAGE: i64 = 24;

#[derive(Deserialize, Default)]
pub struct CatalogParams {
    #[serde(default)]
    q: String,
    #[serde(default)]
    topic: String,
    #[serde(default)]
    institute: String,
    #[serde(default)]
    offset: i64,
}

pub fn topic_options(selected: &str) -> Vec<Value> {
    catalog::TOPICS
        .iter()
        .map(|(key, label)| json!({ "value": key, "label": label, "selected": *key == selected }))
        .collect()
}

#[handler]
pub async fn catalog_page(
    state: Data<&Arc<AppState>>,
    jar: &CookieJar,
    user: CurrentUser,
    params: Query<CatalogParams>,
) -> Result<Response, HttpError> {
    let actor = &user.0;
    let query = catalog::CatalogQuery {
        text: params.q.clone(),
        topic: params.topic.clone(),
        institute: params.institute.clone(),
    };
    let offset = params.offset.max(0);
    let (entries, total) = catalog::search(&state.db, &query, offset, CATALOG_PAGE).await?;
    let mine: HashMap<String, String> =
        enrolments::of_user(&state.db, &actor.user.id).await?.into_iter().map(|c| (c.course_id, c.status)).collect();
    let institutes = organisations::list(&state.db).await?;
    let link = |offset: i64| {
        format!(
            "/catalog?q={}&topic={}&institute={}&offset={offset}",
            super::percent_encode(&params.q),
            super::percent_encode(&params.topic),
            super::percent_encode(&params.institute)
        )
    };
    let page = json!({
        "q": params.q, "topic": params.topic, "institute": params.institute,
        "topics": topic_options(&params.topic),
        "institutes": institutes.iter().map(|o| json!({ "slug": o.slug, "name": o.name, "selected": o.slug == params.institute })).collect::<Vec<_>>(),
        "total": total,
        "courses": entries.iter().map(|c| json!({
            "slug": c.slug, "title": c.title, "summary": c.summary,
            "topic": (!c.topic.is_empty()).then(|| catalog::topic_label(&c.topic)),
            "institute": c.institute_name,
            "cover": c.cover_image.as_ref().map(|f| format!("/media/courses/{}/{f}", c.id)),
            "enrolled": mine.contains_key(&c.id),
            "open": c.enrolment_mode != "closed",
        })).collect::<Vec<_>>(),
        "previous": (offset > 0).then(|| link((offset - CATALOG_PAGE).max(0))),
        "next": (offset + CATALOG_PAGE < total).then(|| link(offset + CATALOG_PAGE)),
    });
    Ok(PageContext::new(&state, jar, Some(actor), "Course catalog", "/catalog")
        .page(page)
        .render(&state, "pages/catalog")?
        .into_response())
}

/// A lesson's status for display.
pub fn status_label(status: LessonStatus) -> &'static str {
    match status {
        LessonStatus::NotStarted => "Not started",
        LessonStatus::InProgress => "In progress",
        LessonStatus::Completed => "Completed",
        LessonStatus::Passed => "Passed",
        LessonStatus::Failed => "Failed",
    }
}

/// The outline as templates show it: modules, lessons with the learner's status, and
/// whether each lesson is open (its prerequisites are done).
pub fn outline_view(course_slug: &str, outline: &Outline, statuses: &HashMap<String, LessonStatus>) -> Vec<Value> {
    let title_of: HashMap<&str, &str> = outline.lessons().map(|l| (l.id.as_str(), l.title.as_str())).collect();
    outline
        .modules
        .iter()
        .map(|m| {
            json!({
                "id": m.module.id, "title": m.module.title,
                "lessons": m.lessons.iter().map(|l| {
                    let status = statuses.get(&l.id).copied().unwrap_or(LessonStatus::NotStarted);
                    let open = progress::is_open(outline, &l.id, statuses);
                    let waiting: Vec<&str> = outline.prerequisites_of(&l.id).iter()
                        .filter(|r| !statuses.get(*r).copied().unwrap_or(LessonStatus::NotStarted).is_done())
                        .filter_map(|r| title_of.get(r.as_str()).copied()).collect();
                    json!({
                        "id": l.id, "title": l.title, "kind": l.kind, "required": l.required,
                        "kind_label": match l.kind.as_str() { "scorm" => "Interactive", "page" => "Reading", _ => "Link" },
                        "href": format!("/courses/{course_slug}/lessons/{}", l.id),
                        "status": progress::status_text(status), "status_label": status_label(status),
                        "done": status.is_done(), "open": open,
                        "waiting_for": (!waiting.is_empty()).then(|| waiting.join(", ")),
                    })
                }).collect::<Vec<_>>(),
            })
        })
        .collect()
}

/// The learner's lesson statuses, refreshed from tracking first so SCORM work shows.
pub async fn learner_statuses(
    state: &AppState,
    course_id: &str,
    user_id: &str,
) -> Result<(HashMap<String, LessonStatus>, progress::CourseProgress), HttpError> {
    let (course_progress, statuses) = progress::refresh_with_statuses(&state.db, course_id, user_id).await?;
    Ok((statuses, course_progress))
}

#[derive(Deserialize, Default)]
pub struct CourseParams {
    imported: Option<i64>,
    /// A lesson the learner tried to open while it was locked.
    locked: Option<String>,
}

#[handler]
pub async fn course_page(
    state: Data<&Arc<AppState>>,
    jar: &CookieJar,
    user: CurrentUser,
    id: Path<String>,
    params: Query<CourseParams>,
) -> Result<Response, HttpError> {
    let actor = &user.0;
    let course = crate::api::courses::visible_course(&state, actor, &id).await?;
    let mut context = course_context(&state, jar, actor, &course, params.imported).await?;
    if let Some(locked) = &params.locked {
        let outline = outline::of_course(&state.db, &course.id).await?;
        if let Some(lesson) = outline.lesson(locked) {
            context = context.error(format!(
                "\u{201c}{}\u{201d} opens when the lessons it needs are done; they are listed next to it below.",
                lesson.title
            ));
        }
    }
    Ok(context.render(&state, "pages/course")?.into_response())
}

async fn course_context(
    state: &AppState,
    jar: &CookieJar,
    actor: &Actor,
    course: &catalog::Course,
    imported: Option<i64>,
) -> Result<PageContext, HttpError> {
    let can_edit = catalog::may_edit(&state.db, &actor.principal, course).await?;
    let enrolment = enrolments::find(&state.db, &course.id, &actor.user.id).await?;
    let access = enrolment.as_ref().map(|e| e.access_at(db::now()));
    let outline = outline::of_course(&state.db, &course.id).await?;
    let (statuses, course_progress, enrolment) = if access == Some(Access::Open) {
        let (s, p) = learner_statuses(state, &course.id, &actor.user.id).await?;
        // The refresh may just have completed the course (commits refresh progress in the
        // background), so the enrolment is read again for its completion date and score.
        (s, Some(p), enrolments::find(&state.db, &course.id, &actor.user.id).await?)
    } else {
        (HashMap::new(), None, enrolment)
    };
    let enrolment = enrolment.filter(|e| e.state == "active");
    let institute = organisations::list(&state.db).await?.into_iter().find(|o| o.id == course.organisation_id);
    let instructors = catalog::instructors(&state.db, &course.id).await?;
    let versions = if can_edit { packages::versions(&state.db, &course.id).await? } else { Vec::new() };
    let imported = imported.and_then(|n| versions.iter().find(|v| v.version == n));
    let page = json!({
        "id": course.id, "slug": course.slug, "title": course.title, "summary": course.summary, "status": course.status,
        "draft": course.status != "published",
        "topic": (!course.topic.is_empty()).then(|| catalog::topic_label(&course.topic)),
        "cover": course.cover_image.as_ref().map(|f| format!("/media/courses/{}/{f}", course.id)),
        "institute": institute.map(|o| o.name),
        "instructors": instructors.iter().map(|i| json!({ "name": i.name })).collect::<Vec<_>>(),
        "can_edit": can_edit,
        "modules": outline_view(&course.slug, &outline, &statuses),
        "enrolment": enrolment.as_ref().map(|e| json!({
            "status": e.status, "percent": e.progress_percent,
            "completed_at": e.completed_at.map(date), "starts_at": e.starts_at.map(date), "ends_at": e.ends_at.map(date),
            "score": e.score.map(|s| format!("{s:.0}")),
        })),
        "progress": course_progress.map(|p| json!({ "percent": p.percent, "done": p.done, "counted": p.counted, "complete": p.complete })),
        "can_take": access == Some(Access::Open) || can_edit,
        "resume_label": if course_progress.is_some_and(|p| p.started) { "Resume" } else { "Start" },
        "not_yet": access == Some(Access::NotYet),
        "expired": access == Some(Access::Expired),
        "can_self_enrol": enrolment.is_none() && course.status == "published" && course.enrolment_mode != "closed",
        "needs_key": course.enrolment_mode == "key",
        "min_score": course.completion_min_score.map(|s| format!("{s:.0}")),
        "versions": versions.iter().map(|v| json!({
            "version": v.version, "title": v.title,
            "standard": super::courses::standard_label(&v.standard, v.edition.as_deref()),
            "file": v.original_filename, "files": v.file_count, "size": super::courses::human_bytes(v.content_bytes),
            "date": date(v.created_at), "current": Some(&v.id) == course.current_package_id.as_ref(),
            "warning_count": crate::imports::stored_warnings(&v.warnings_json).len(),
        })).collect::<Vec<_>>(),
        "imported": imported.map(|v| json!({
            "version": v.version,
            "warnings": super::courses::diagnostic_rows(&crate::imports::stored_warnings(&v.warnings_json)),
        })),
    });
    Ok(PageContext::new(state, jar, Some(actor), &course.title, "/catalog").page(page))
}

#[derive(Deserialize)]
pub struct EnrolForm {
    #[serde(default)]
    key: String,
}

/// Self-enrolment from the course page.
#[handler]
pub async fn self_enrol(
    state: Data<&Arc<AppState>>,
    jar: &CookieJar,
    user: CurrentUser,
    id: Path<String>,
    VerifiedForm(form): VerifiedForm<EnrolForm>,
) -> Result<Response, HttpError> {
    let actor = &user.0;
    let course = crate::api::courses::visible_course(&state, actor, &id).await?;
    match enrolments::self_enrol(&state.db, &course, &actor.user.id, Some(&form.key)).await {
        Ok(_) => Ok(see_other(&format!("/courses/{}?enrolled=1", course.slug))),
        Err(e) => {
            let e = HttpError::from(e);
            if !e.status.is_client_error() {
                return Err(e);
            }
            let context = course_context(&state, jar, actor, &course, None).await?.error(e.message.clone());
            Ok((e.status, context.render(&state, "pages/course")?).into_response())
        }
    }
}

/// "Resume": the lesson the learner worked on last if it is not done yet, else the first
/// open lesson not done, else the course page.
#[handler]
pub async fn resume(state: Data<&Arc<AppState>>, user: CurrentUser, id: Path<String>) -> Result<Response, HttpError> {
    let actor = &user.0;
    let course = crate::api::courses::visible_course(&state, actor, &id).await?;
    // Without open access (not enrolled, withdrawn, expired) there is nothing to resume:
    // the course page says why and how to get in.
    if !enrolments::may_take(&state.db, &actor.principal, &course).await? {
        return Ok(see_other(&format!("/courses/{}", course.slug)));
    }
    let outline = outline::of_course(&state.db, &course.id).await?;
    let (statuses, _) = learner_statuses(&state, &course.id, &actor.user.id).await?;
    let mut rows = progress::lesson_rows(&state.db, &course.id, &actor.user.id).await?;
    rows.sort_by_key(|r| std::cmp::Reverse(r.updated_at));
    let last_unfinished = rows
        .iter()
        .find(|r| !progress::parse_status(&r.status).is_done() && outline.lesson(&r.lesson_id).is_some())
        .map(|r| r.lesson_id.clone());
    let first_open = outline
        .lessons()
        .find(|l| {
            !statuses.get(&l.id).copied().unwrap_or(LessonStatus::NotStarted).is_done()
                && progress::is_open(&outline, &l.id, &statuses)
        })
        .map(|l| l.id.clone());
    Ok(match last_unfinished.or(first_open) {
        Some(lesson) => see_other(&format!("/courses/{}/lessons/{lesson}", course.slug)),
        None => see_other(&format!("/courses/{}", course.slug)),
    })
}

/// A course the actor may take now: enrolled with open access, or an editor previewing.
/// Others are told why (not enrolled, access not open yet, access ended). The answer
/// says whether the course's outline has prerequisites, which the player checks next.
pub async fn takeable_course(
    state: &AppState,
    actor: &Actor,
    id_or_slug: &str,
) -> Result<enrolments::CourseWithAccess, HttpError> {
    // The rules of `visible_course` and `enrolments::may_take`, with the course and the
    // enrolment read in one query.
    let not_found = || HttpError::not_found(format!("no course {id_or_slug:?}"));
    let found = enrolments::course_with_access(&state.db, id_or_slug, &actor.user.id).await?.ok_or_else(not_found)?;
    if !catalog::may_view(&actor.principal, &found.course) {
        return Err(not_found());
    }
    if found.access == Some(Access::Open) || catalog::may_edit(&state.db, &actor.principal, &found.course).await? {
        return Ok(found);
    }
    Err(HttpError::forbidden(match found.access {
        Some(Access::NotYet) => "your access to this course has not opened yet",
        Some(Access::Expired) => "your access to this course has ended; ask your institute to extend it",
        _ => "enrol in this course first: open its page in the catalog",
    }))
}

/// The id of the outline lesson that launches `item` when that lesson is still locked by
/// its prerequisites for this learner; `None` when it is open, when no lesson names the
/// item, when the outline has no prerequisites at all (`outline_has_prerequisites`, known
/// from [`takeable_course`]), or when the actor edits the course (a preview is never
/// locked).
pub async fn locked_lesson_of_item(
    state: &AppState,
    actor: &Actor,
    course: &catalog::Course,
    outline_has_prerequisites: bool,
    item: &str,
) -> Result<Option<String>, HttpError> {
    if !outline_has_prerequisites || catalog::may_edit(&state.db, &actor.principal, course).await? {
        return Ok(None);
    }
    let outline = outline::of_course(&state.db, &course.id).await?;
    // The lesson for this item, else a lesson that stands for the whole package.
    let Some(lesson) = outline
        .lessons()
        .find(|l| l.kind == "scorm" && l.item_identifier.as_deref() == Some(item))
        .or_else(|| outline.lessons().find(|l| l.kind == "scorm" && l.item_identifier.is_none()))
        .cloned()
    else {
        return Ok(None);
    };
    if outline.prerequisites_of(&lesson.id).is_empty() {
        return Ok(None);
    }
    let statuses: HashMap<String, LessonStatus> = progress::lesson_rows(&state.db, &course.id, &actor.user.id)
        .await?
        .into_iter()
        .map(|r| (r.lesson_id, progress::parse_status(&r.status)))
        .collect();
    Ok((!progress::is_open(&outline, &lesson.id, &statuses)).then_some(lesson.id))
}
