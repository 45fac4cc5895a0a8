//! The player page and the instructor's view of learners' attempts.

use std::sync::Arc;

use cairn_core::accounts::{self, Role};
use cairn_core::catalog;
use cairn_core::packages::PackageItem;
use cairn_core::reports;
use cairn_core::tracking::{self, ItemStatus};
use cairn_scorm::runtime::{records, ScormVersion};
use poem::web::cookie::CookieJar;
use poem::web::{Data, Path, Query};
use poem::{handler, IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::{see_other, CurrentUser, PageContext};
use crate::app::AppState;
use crate::player;
use crate::web::csrf::{self, VerifiedForm};
use crate::web::errors::HttpError;

#[derive(Deserialize)]
pub struct PlayQuery {
    item: Option<String>,
}

fn status_label(status: ItemStatus) -> (&'static str, &'static str) {
    match status {
        ItemStatus::NotStarted => ("not-started", "Not started"),
        ItemStatus::InProgress => ("in-progress", "In progress"),
        ItemStatus::Completed => ("completed", "Completed"),
        ItemStatus::Passed => ("passed", "Passed"),
        ItemStatus::Failed => ("failed", "Failed"),
    }
}

/// JSON placed inside a `<script>` element: `</` is escaped so the data cannot end it.
fn script_json(value: &serde_json::Value) -> String {
    value.to_string().replace("</", "<\\/")
}

#[handler]
pub async fn play(
    state: Data<&Arc<AppState>>,
    jar: &CookieJar,
    user: CurrentUser,
    id: Path<String>,
    query: Query<PlayQuery>,
) -> Result<Response, HttpError> {
    let actor = &user.0;
    // Taking a course needs an open enrolment (or editing rights, which is the preview).
    let takeable = super::catalog::takeable_course(&state, actor, &id).await?;
    let (course, has_prerequisites) = (takeable.course, takeable.outline_has_prerequisites);
    // The course outline's own prerequisites (lesson before lesson) hold in the player too:
    // a learner who asks for an item whose lesson is still locked is sent to the course
    // page, which says what it waits for. Editors preview freely.
    if let Some(item) = query.item.as_deref() {
        if let Some(lesson) =
            super::catalog::locked_lesson_of_item(&state, actor, &course, has_prerequisites, item).await?
        {
            return Ok(super::see_other(&format!("/courses/{}?locked={}", course.slug, lesson)));
        }
    }
    let slug = course.slug.clone();
    let launch = player::open(&state, actor, course, query.item.as_deref()).await?;
    // Without `?item=` the player chose the resume point or the first item: its lesson
    // must be open too.
    if query.item.is_none() {
        if let Some(lesson) = super::catalog::locked_lesson_of_item(
            &state,
            actor,
            &launch.course,
            has_prerequisites,
            &launch.item.identifier,
        )
        .await?
        {
            return Ok(super::see_other(&format!("/courses/{slug}?locked={lesson}")));
        }
    }
    let attempts = &launch.attempts;
    let progress = tracking::rollup(&launch.outline, attempts);
    // Locks are worked out again after the launch, which may itself have changed a status
    // (viewing an asset completes it). The page is rendered afresh for every item, so the
    // outline never needs re-evaluating in the browser.
    let locks = player::locks(&state, &launch.outline_package_id, attempts).await?;
    let slug = launch.course.slug.clone();
    let play_url = |i: &PackageItem| format!("/courses/{slug}/play?item={}", super::percent_encode(&i.identifier));
    // Previous and Continue follow the outline even to an item that is locked now: the
    // learner usually opens the next item once they have finished this one, which unlocks
    // it, and the server checks again when the link is followed.
    let previous = launch.previous.as_ref().map(play_url);
    let next = launch.next.as_ref().map(play_url);
    let outline: Vec<_> = launch
        .outline
        .iter()
        .filter(|i| i.visible)
        .map(|i| {
            let (class, label) = status_label(ItemStatus::of(tracking::latest_for(attempts, &i.identifier)));
            let current = i.identifier == launch.item.identifier;
            let locked = locks
                .get(&i.identifier)
                .filter(|_| i.launch.is_some() && !current)
                .map(|waiting_for| player::locked_hint(waiting_for, &launch.outline));
            json!({
                "identifier": i.identifier, "title": i.title, "indent": i.depth * 2, "launchable": i.launch.is_some(),
                "current": current, "status_class": class, "status": label, "locked": locked,
            })
        })
        .collect();
    let content = format!("/content/{}/{}", launch.package_id, launch.item.launch.as_deref().unwrap_or(""));
    let config = json!({
        "version": player::version_label(launch.version),
        "launch": player::launch_json(launch.version, &launch.launch),
        "attempt_id": launch.attempt.id,
        "launch_token": launch.attempt.launch_token,
        "commit_url": format!("/api/v1/attempts/{}/commits", launch.attempt.id),
        "csrf_token": csrf::ensure_token(jar, state.config.secure_cookies()),
        "autosave_seconds": 30,
        "seq": launch.attempt.last_seq,
        "viewed_url": format!("/api/v1/attempts/{}/viewed", launch.attempt.id),
        // Where a SCORM 2004 navigation request leads once the SCO has terminated: the same
        // places as the page's own links, and the items a choice request may name.
        "nav": {
            "continue": next, "previous": previous, "leave": format!("/courses/{slug}"),
            "choice": format!("/courses/{slug}/play?item="),
            "items": launch.outline.iter().filter(|i| i.launch.is_some()).map(|i| &i.identifier).collect::<Vec<_>>(),
        },
    });
    let page = json!({
        "slug": slug, "course_title": launch.course.title, "item_title": launch.item.title, "item": launch.item.identifier,
        "content": content, "config": script_json(&config), "outline": outline, "previous": previous, "next": next,
        "progress": progress.percent, "done": progress.done, "total": progress.total,
    });
    let title = format!("{} · {}", launch.item.title, launch.course.title);
    let mut context = PageContext::new(&state, jar, Some(actor), &title, "/learn").page(page);
    if let Some(notice) = launch.notice {
        context = context.notice(notice);
    }
    Ok(context.render(&state, "pages/player")?.into_response())
}

/// Staff who may follow a course's learners: its editors (instructors, managers, admins).
async fn staff_course(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
) -> Result<cairn_core::catalog::Course, HttpError> {
    let actor = user.require(&[Role::Instructor, Role::Manager, Role::Admin])?;
    let course = crate::api::courses::visible_course(state, actor, id).await?;
    if !catalog::may_edit(&state.db, &actor.principal, &course).await? {
        return Err(HttpError::forbidden(
            "only this course's instructors, its institute's managers and administrators follow its learners",
        ));
    }
    Ok(course)
}

/// `?q=` (part of a learner's name or e-mail) and `?offset=` of the attempts page.
#[derive(Deserialize, Default)]
pub struct AttemptsParams {
    #[serde(default)]
    q: String,
    #[serde(default)]
    offset: i64,
}

/// Attempts per page of the course's attempts.
const ATTEMPTS_PAGE: i64 = 100;
/// Longest search (the form's `maxlength`).
const MAX_SEARCH_CHARS: usize = 200;

#[handler]
pub async fn learners(
    state: Data<&Arc<AppState>>,
    jar: &CookieJar,
    user: CurrentUser,
    id: Path<String>,
    params: Query<AttemptsParams>,
) -> Result<Response, HttpError> {
    let course = staff_course(&state, &user, &id).await?;
    if params.q.chars().count() > MAX_SEARCH_CHARS {
        return Err(HttpError::invalid(format!(
            "search for at most {MAX_SEARCH_CHARS} characters of a name or e-mail"
        )));
    }
    let query = tracking::AttemptQuery {
        course_id: course.id.clone(),
        search: Some(params.q.clone()),
        offset: params.offset,
        limit: ATTEMPTS_PAGE,
    };
    let attempts = tracking::of_course(&state.db, &query).await?;
    let link = |offset: i64| {
        format!("/courses/{}/learners?q={}&offset={offset}", course.slug, super::percent_encode(&params.q))
    };
    let (offset, total) = (attempts.offset, attempts.total);
    // A page past the end (an old link after attempts were reset away) shows nothing.
    let (from, to) = match attempts.rows.len() as i64 {
        0 => (0, 0),
        shown => (offset + 1, offset + shown),
    };
    let rows: Vec<_> = attempts
        .rows
        .iter()
        .map(|a| {
            json!({
                "id": a.id, "learner": a.learner_name, "email": a.learner_email, "item": a.item_identifier, "number": a.number,
                "completion": a.completion, "success": a.success,
                "score": a.score_scaled.map(|s| format!("{:.0}%", s * 100.0)).or_else(|| a.score_raw.map(|r| format!("{r}"))),
                "time": human_seconds(a.total_time_seconds), "updated": super::admin::date(a.updated_at), "reset": a.voided_at.is_some(),
            })
        })
        .collect();
    let page = json!({
        "slug": course.slug, "title": course.title, "attempts": rows, "q": params.q, "total": total,
        "from": from, "to": to,
        "previous": (offset > 0).then(|| link((offset - ATTEMPTS_PAGE).max(0))),
        "next": (offset + ATTEMPTS_PAGE < total).then(|| link(offset + ATTEMPTS_PAGE)),
    });
    Ok(PageContext::new(&state, jar, Some(&user.0), &format!("Learners · {}", course.title), "/teach")
        .page(page)
        .render(&state, "pages/learners")?
        .into_response())
}

/// The course's item analysis. A page of its own, because it reads every live attempt's
/// document in the course, which the learners page does not need.
#[handler]
pub async fn questions(
    state: Data<&Arc<AppState>>,
    jar: &CookieJar,
    user: CurrentUser,
    id: Path<String>,
) -> Result<Response, HttpError> {
    let course = staff_course(&state, &user, &id).await?;
    let analysis = reports::questions::of_course(&state.db, &course.id).await?;
    let questions: Vec<_> = analysis
        .questions
        .iter()
        .map(|q| {
            let right = match q.percent_correct() {
                Some(percent) => format!("{} ({percent}%)", q.correct),
                None => q.correct.to_string(),
            };
            json!({
                "item": if q.item_title.is_empty() { &q.item } else { &q.item_title }, "id": q.id,
                "description": q.description, "answered": q.answered, "right": right,
                "wrong": q.common_wrong.as_ref().map(|(response, count)| json!({ "response": response, "count": count })),
            })
        })
        .collect();
    let page = json!({
        "slug": course.slug, "title": course.title, "questions": questions,
        "truncated": analysis.truncated, "max_questions": reports::questions::MAX_QUESTIONS,
    });
    Ok(PageContext::new(&state, jar, Some(&user.0), &format!("Questions · {}", course.title), "/teach")
        .page(page)
        .render(&state, "pages/questions")?
        .into_response())
}

fn human_seconds(seconds: f64) -> String {
    let s = seconds.round() as i64;
    format!("{}:{:02}:{:02}", s / 3600, (s % 3600) / 60, s % 60)
}

async fn staff_attempt(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
) -> Result<(cairn_core::tracking::Attempt, cairn_core::catalog::Course), HttpError> {
    let attempt = tracking::find(&state.db, id).await?.ok_or_else(|| HttpError::not_found("no such attempt"))?;
    let course = staff_course(state, user, &attempt.course_id).await?;
    Ok((attempt, course))
}

#[handler]
pub async fn attempt_page(
    state: Data<&Arc<AppState>>,
    jar: &CookieJar,
    user: CurrentUser,
    id: Path<String>,
) -> Result<Response, HttpError> {
    let (attempt, course) = staff_attempt(&state, &user, &id).await?;
    let learner = accounts::find_by_id(&state.db, &attempt.user_id)
        .await?
        .ok_or_else(|| HttpError::not_found("no such learner"))?;
    let data: std::collections::BTreeMap<String, String> =
        serde_json::from_str(&attempt.state_json).unwrap_or_default();
    let version = ScormVersion::from_label(&attempt.scorm_version);
    let interactions: Vec<_> = records::interactions(version, &data)
        .into_iter()
        .map(|i| {
            json!({
                "index": i.index, "id": i.id, "type": i.kind, "description": i.description,
                "response": i.learner_response, "correct": i.correct_responses, "result": i.result,
                "weighting": i.weighting, "latency": i.latency, "time": i.time, "objectives": i.objective_ids,
            })
        })
        .collect();
    let objectives: Vec<_> = records::objectives(version, &data)
        .into_iter()
        .map(|o| {
            // SCORM 1.2 has one status; 2004 has success and completion apart.
            let status = [o.status, o.success_status, o.completion_status]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(", ");
            let score = [("scaled", o.score_scaled), ("raw", o.score_raw), ("min", o.score_min), ("max", o.score_max)]
                .into_iter()
                .filter(|(_, v)| !v.is_empty())
                .map(|(name, v)| format!("{v} ({name})"))
                .collect::<Vec<_>>()
                .join(", ");
            json!({
                "index": o.index, "id": o.id, "status": status, "score": score,
                "progress": o.progress_measure, "description": o.description,
            })
        })
        .collect();
    let page = json!({
        "id": attempt.id, "slug": course.slug, "course": course.title, "learner": learner.name, "email": learner.email,
        "item": attempt.item_identifier, "number": attempt.number, "version": attempt.scorm_version,
        "completion": attempt.completion, "success": attempt.success, "score_scaled": attempt.score_scaled, "score_raw": attempt.score_raw,
        "time": human_seconds(attempt.total_time_seconds), "location": attempt.location, "suspended": attempt.suspended,
        "interaction_count": interactions.len(), "objective_count": objectives.len(),
        "interactions": interactions, "objectives": objectives, "reset": attempt.voided_at.is_some(),
        "elements": data.iter().map(|(k, v)| json!({ "element": k, "value": v })).collect::<Vec<_>>(),
    });
    Ok(PageContext::new(&state, jar, Some(&user.0), "Attempt", "/teach")
        .page(page)
        .render(&state, "pages/attempt")?
        .into_response())
}

#[handler]
pub async fn reset_attempt(
    state: Data<&Arc<AppState>>,
    user: CurrentUser,
    id: Path<String>,
    _form: VerifiedForm<serde_json::Value>,
) -> Result<Response, HttpError> {
    let (attempt, course) = staff_attempt(&state, &user, &id).await?;
    tracking::void(&state.db, &attempt.id).await?;
    state.live.forget(&attempt.id);
    tracing::info!(by = %user.0.user.id, attempt = %attempt.id, "attempt reset");
    Ok(see_other(&format!("/courses/{}/learners", course.slug)))
}
