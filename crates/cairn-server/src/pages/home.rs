//! The home page and the landing pages of learners and instructors.

use std::sync::Arc;

use cairn_core::accounts::{self, policy, Role, UserFilter};
use cairn_core::organisations;
use poem::web::cookie::CookieJar;
use poem::web::Data;
use poem::{handler, IntoResponse, Response};
use serde_json::json;

use super::{landing_path, see_other, CurrentUser, PageContext};
use crate::app::AppState;
use crate::web::errors::HttpError;

/// Visitors see what Cairn is and how to sign in; signed-in users go to their landing page.
#[handler]
pub async fn index(state: Data<&Arc<AppState>>, jar: &CookieJar) -> Result<Response, HttpError> {
    if let Some(actor) = crate::auth::from_cookies(&state, jar).await? {
        return Ok(see_other(landing_path(actor.user.role)));
    }
    let institutes = organisations::list(&state.db).await?;
    let page = json!({ "institutes": institutes.iter().map(|o| json!({ "name": o.name, "slug": o.slug })).collect::<Vec<_>>() });
    Ok(PageContext::new(&state, jar, None, "Welcome", "/").page(page).render(&state, "pages/home")?.into_response())
}

/// A learner's dashboard: courses in progress with a Resume button, completed courses
/// with their dates, and their institutes.
#[handler]
pub async fn learn(state: Data<&Arc<AppState>>, jar: &CookieJar, user: CurrentUser) -> Result<Response, HttpError> {
    let actor = &user.0;
    let institutes = organisations::of_user(&state.db, &actor.user.id).await?;
    let mine = cairn_core::enrolments::of_user(&state.db, &actor.user.id).await?;
    let now = cairn_core::db::now();
    let (done, current): (Vec<_>, Vec<_>) = mine.iter().partition(|c| c.completed_at.is_some());
    let page = json!({
        "first_name": actor.user.name.split_whitespace().next().unwrap_or(&actor.user.name),
        "institutes": institutes.iter().map(|o| json!({ "name": o.name })).collect::<Vec<_>>(),
        "current": current.iter().filter(|c| c.ends_at.is_none_or(|e| e > now)).map(|c| json!({
            "slug": c.slug, "title": c.title, "percent": c.progress_percent.clamp(0, 100),
            "started": c.started_at.is_some(), "waiting": c.starts_at.is_some_and(|s| s > now),
            "starts_at": c.starts_at.map(super::admin::date), "ends_at": c.ends_at.map(super::admin::date),
        })).collect::<Vec<_>>(),
        "completed": done.iter().map(|c| json!({
            "slug": c.slug, "title": c.title, "completed_at": c.completed_at.map(super::admin::date),
            "score": c.score.map(|s| format!("{s:.0}%")),
        })).collect::<Vec<_>>(),
    });
    Ok(PageContext::new(&state, jar, Some(actor), "My learning", "/learn")
        .page(page)
        .render(&state, "pages/learn")?
        .into_response())
}

/// An instructor's landing page: the learners of their institutes, whom they follow.
#[handler]
pub async fn teach(state: Data<&Arc<AppState>>, jar: &CookieJar, user: CurrentUser) -> Result<Response, HttpError> {
    let actor = user.require(&[Role::Instructor, Role::Manager, Role::Admin])?;
    let mut sections = Vec::new();
    for org in organisations::of_user(&state.db, &actor.user.id).await? {
        if !policy::may_view_members(&actor.principal, &org.id) {
            continue;
        }
        let filter =
            UserFilter { organisation_id: Some(org.id.clone()), role: Some(Role::Learner), ..Default::default() };
        let learners = accounts::list_users(&state.db, &filter, 0, 50).await?;
        sections.push(json!({
            "name": org.name,
            "learner_total": learners.total,
            "more": learners.total > learners.items.len() as i64,
            "learners": learners.items.iter().map(super::admin::user_row).collect::<Vec<_>>(),
        }));
    }
    let courses = cairn_core::catalog::visible_to(&state.db, &actor.principal).await?;
    let courses: Vec<_> =
        courses.iter().map(|c| json!({ "slug": c.slug, "title": c.title, "status": c.status })).collect();
    let page = json!({ "institutes": sections, "courses": courses });
    Ok(PageContext::new(&state, jar, Some(actor), "Teaching", "/teach")
        .page(page)
        .render(&state, "pages/teach")?
        .into_response())
}
