//! The course editor: a new course, its settings, instructors, modules and lessons (add,
//! edit, reorder with buttons, delete, prerequisites). Images live in media.rs.

use std::collections::HashMap;
use std::sync::Arc;

use cairn_core::accounts::Role;
use cairn_core::catalog::{self, Course, CourseSettings};
use cairn_core::outline::{self, Direction, LessonContent, LessonInput};
use cairn_core::{organisations, packages};
use poem::http::StatusCode;
use poem::web::cookie::CookieJar;
use poem::web::{Data, Path};
use poem::{handler, IntoResponse, Response};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{see_other, CurrentUser, PageContext};
use crate::app::AppState;
use crate::auth::Actor;
use crate::web::csrf::VerifiedForm;
use crate::web::errors::HttpError;

const STAFF: [Role; 3] = [Role::Instructor, Role::Manager, Role::Admin];

/// The course behind an editor URL, if the actor may edit it (404 otherwise, like the API).
pub(super) async fn editable(state: &AppState, actor: &Actor, id_or_slug: &str) -> Result<Course, HttpError> {
    let course = crate::api::courses::visible_course(state, actor, id_or_slug).await?;
    if !catalog::may_edit(&state.db, &actor.principal, &course).await? {
        return Err(HttpError::forbidden("only this course's instructors and its institute's managers may edit it"));
    }
    Ok(course)
}

async fn course_of_module(state: &AppState, actor: &Actor, module_id: &str) -> Result<Course, HttpError> {
    let module = outline::module(&state.db, module_id).await?;
    editable(state, actor, &module.course_id).await
}

async fn course_of_lesson(state: &AppState, actor: &Actor, lesson_id: &str) -> Result<Course, HttpError> {
    let lesson = outline::lesson(&state.db, lesson_id).await?;
    editable(state, actor, &lesson.course_id).await
}

#[derive(Deserialize, Default)]
pub struct NewCourseForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    institute: String,
}

async fn new_course_context(
    state: &AppState,
    jar: &CookieJar,
    actor: &Actor,
    form: &NewCourseForm,
) -> Result<PageContext, HttpError> {
    let institutes = if actor.principal.is_admin() {
        organisations::list(&state.db).await?.into_iter().map(|o| (o.id, o.slug, o.name)).collect::<Vec<_>>()
    } else {
        organisations::of_user(&state.db, &actor.user.id).await?.into_iter().map(|o| (o.id, o.slug, o.name)).collect()
    };
    let page = json!({
        "title": form.title,
        "institutes": institutes.iter().filter(|(id, _, _)| catalog::may_create_in(&actor.principal, id))
            .map(|(_, slug, name)| json!({ "slug": slug, "name": name, "selected": *slug == form.institute })).collect::<Vec<_>>(),
    });
    Ok(PageContext::new(state, jar, Some(actor), "New course", "/teach").page(page))
}

#[handler]
pub async fn new_course_page(
    state: Data<&Arc<AppState>>,
    jar: &CookieJar,
    user: CurrentUser,
) -> Result<Response, HttpError> {
    let actor = user.require(&STAFF)?;
    Ok(new_course_context(&state, jar, actor, &NewCourseForm::default())
        .await?
        .render(&state, "pages/course_new")?
        .into_response())
}

#[handler]
pub async fn create_course(
    state: Data<&Arc<AppState>>,
    jar: &CookieJar,
    user: CurrentUser,
    VerifiedForm(form): VerifiedForm<NewCourseForm>,
) -> Result<Response, HttpError> {
    let actor = user.require(&STAFF)?;
    let org = organisations::find_by_slug(&state.db, &form.institute).await?;
    let result = match org {
        Some(org) if catalog::may_create_in(&actor.principal, &org.id) => catalog::create(
            &state.db,
            catalog::NewCourse {
                organisation_id: org.id,
                title: form.title.clone(),
                slug: None,
                created_by: Some(actor.user.id.clone()),
            },
        )
        .await
        .map_err(HttpError::from),
        _ => Err(HttpError::invalid("choose one of your institutes")),
    };
    match result {
        Ok(course) => Ok(see_other(&format!("/courses/{}/edit", course.slug))),
        Err(e) if e.status.is_client_error() => {
            let context = new_course_context(&state, jar, actor, &form).await?.error(e.message.clone());
            Ok((e.status, context.render(&state, "pages/course_new")?).into_response())
        }
        Err(e) => Err(e),
    }
}

/// The editor page's context; `settings` carries a refused form back to the user.
async fn editor_context(
    state: &AppState,
    jar: &CookieJar,
    actor: &Actor,
    course: &Course,
    settings: Option<&CourseSettings>,
) -> Result<PageContext, HttpError> {
    let outline = outline::of_course(&state.db, &course.id).await?;
    let items = match &course.current_package_id {
        Some(p) => packages::items(&state.db, p).await?,
        None => Vec::new(),
    };
    let launchable: Vec<Value> = items
        .iter()
        .filter(|i| i.launch.is_some())
        .map(|i| json!({ "identifier": i.identifier, "title": i.title }))
        .collect();
    let current = CourseSettings::of(course);
    let s = settings.unwrap_or(&current);
    let module_count = outline.modules.len();
    let modules: Vec<Value> = outline
        .modules
        .iter()
        .enumerate()
        .map(|(mi, m)| {
            let count = m.lessons.len();
            json!({
                "id": m.module.id, "title": m.module.title, "first": mi == 0, "last": mi + 1 == module_count,
                "lessons": m.lessons.iter().enumerate().map(|(li, l)| json!({
                    "id": l.id, "title": l.title, "kind": l.kind, "required": l.required,
                    "first": li == 0, "last": li + 1 == count,
                    "prerequisites": outline.prerequisites_of(&l.id).len(),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let media = super::media::list_media(state, &course.id);
    let instructors = catalog::instructors(&state.db, &course.id).await?;
    let page = json!({
        "id": course.id, "slug": course.slug, "title": course.title,
        "settings": {
            "title": s.title, "summary": s.summary, "status": s.status,
            "published": s.status == "published",
            "mode_open": s.enrolment_mode == "open", "mode_key": s.enrolment_mode == "key", "mode_closed": s.enrolment_mode == "closed",
            "key": s.enrolment_key, "min_score": s.completion_min_score.map(|v| format!("{v}")),
        },
        "topics": super::catalog::topic_options(&s.topic),
        "cover": course.cover_image.as_ref().map(|f| format!("/media/courses/{}/{f}", course.id)),
        "modules": modules,
        "items": launchable,
        "has_package": course.current_package_id.is_some(),
        "instructors": instructors.iter().map(|i| json!({ "id": i.user_id, "name": i.name, "email": i.email })).collect::<Vec<_>>(),
        "several_instructors": instructors.len() > 1,
        "media": media.iter().map(|f| json!({ "url": format!("/media/courses/{}/{f}", course.id), "name": f })).collect::<Vec<_>>(),
    });
    Ok(PageContext::new(state, jar, Some(actor), &format!("Edit {}", course.title), "/teach").page(page))
}

#[handler]
pub async fn editor(
    state: Data<&Arc<AppState>>,
    jar: &CookieJar,
    user: CurrentUser,
    id: Path<String>,
) -> Result<Response, HttpError> {
    let actor = &user.0;
    let course = editable(&state, actor, &id).await?;
    Ok(editor_context(&state, jar, actor, &course, None).await?.render(&state, "pages/course_edit")?.into_response())
}

#[derive(Deserialize)]
pub struct SettingsForm {
    title: String,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    topic: String,
    status: String,
    enrolment_mode: String,
    #[serde(default)]
    enrolment_key: String,
    #[serde(default)]
    completion_min_score: String,
}

#[handler]
pub async fn save_settings(
    state: Data<&Arc<AppState>>,
    jar: &CookieJar,
    user: CurrentUser,
    id: Path<String>,
    VerifiedForm(form): VerifiedForm<SettingsForm>,
) -> Result<Response, HttpError> {
    let actor = &user.0;
    let course = editable(&state, actor, &id).await?;
    let min_score = form.completion_min_score.trim();
    let settings = CourseSettings {
        title: form.title,
        summary: form.summary,
        topic: form.topic,
        status: form.status,
        enrolment_mode: form.enrolment_mode,
        enrolment_key: Some(form.enrolment_key),
        completion_min_score: if min_score.is_empty() { None } else { min_score.parse().ok().or(Some(f64::NAN)) },
    };
    match catalog::update_settings(&state.db, &course.id, settings.clone()).await {
        Ok(course) => Ok(see_other(&format!("/courses/{}/edit?saved=1", course.slug))),
        Err(catalog::CatalogError::Invalid(e)) => {
            let context = editor_context(&state, jar, actor, &course, Some(&settings))
                .await?
                .error(format!("Nothing was saved: {e}."));
            Ok((StatusCode::UNPROCESSABLE_ENTITY, context.render(&state, "pages/course_edit")?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// Answers a refused editor form: the editor again with the reason, status 422.
pub(super) async fn refused(
    state: &AppState,
    jar: &CookieJar,
    actor: &Actor,
    course: &Course,
    e: HttpError,
) -> Result<Response, HttpError> {
    if !e.status.is_client_error() {
        return Err(e);
    }
    let context =
        editor_context(state, jar, actor, course, None).await?.error(format!("Nothing was changed: {}.", e.message));
    Ok((e.status, context.render(state, "pages/course_edit")?).into_response())
}

pub(super) fn back_to_editor(course: &Course) -> Response {
    see_other(&format!("/courses/{}/edit", course.slug))
}

#[derive(Deserialize)]
pub struct TitleForm {
    title: String,
}

#[handler]
pub async fn add_module(
    state: Data<&Arc<AppState>>,
    jar: &CookieJar,
    user: CurrentUser,
    id: Path<String>,
    VerifiedForm(form): VerifiedForm<TitleForm>,
) -> Result<Response, HttpError> {
    let actor = &user.0;
    let course = editable(&state, actor, &id).await?;
    match outline::add_module(&state.db, &course.id, &form.title).await {
        Ok(_) => Ok(back_to_editor(&course)),
        Err(e) => refused(&state, jar, actor, &course, e.into()).await,
    }
}

#[handler]
pub async fn rename_module(
    state: Data<&Arc<AppState>>,
    jar: &CookieJar,
    user: CurrentUser,
    id: Path<String>,
    VerifiedForm(form): VerifiedForm<TitleForm>,
) -> Result<Response, HttpError> {
    let actor = &user.0;
    let course = course_of_module(&state, actor, &id).await?;
    match outline::rename_module(&state.db, &id, &form.title).await {
        Ok(()) => Ok(back_to_editor(&course)),
        Err(e) => refused(&state, jar, actor, &course, e.into()).await,
    }
}

#[derive(Deserialize)]
pub struct MoveForm {
    direction: String,
}

fn direction(text: &str) -> Result<Direction, HttpError> {
    match text {
        "up" => Ok(Direction::Up),
        "down" => Ok(Direction::Down),
        _ => Err(HttpError::invalid("direction must be up or down")),
    }
}

#[handler]
pub async fn move_module(
    state: Data<&Arc<AppState>>,
    user: CurrentUser,
    id: Path<String>,
    VerifiedForm(form): VerifiedForm<MoveForm>,
) -> Result<Response, HttpError> {
    let course = course_of_module(&state, &user.0, &id).await?;
    outline::move_module(&state.db, &id, direction(&form.direction)?).await?;
    Ok(back_to_editor(&course))
}

#[derive(Deserialize)]
pub struct Empty {}

#[handler]
pub async fn delete_module(
    state: Data<&Arc<AppState>>,
    user: CurrentUser,
    id: Path<String>,
    VerifiedForm(_): VerifiedForm<Empty>,
) -> Result<Response, HttpError> {
    let course = course_of_module(&state, &user.0, &id).await?;
    outline::delete_module(&state.db, &id).await?;
    Ok(back_to_editor(&course))
}

#[derive(Deserialize)]
pub struct LessonForm {
    kind: String,
    title: String,
    #[serde(default)]
    required: Option<String>,
    #[serde(default)]
    item: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    url: String,
}

impl LessonForm {
    fn input(self) -> Result<LessonInput, HttpError> {
        let content = match self.kind.as_str() {
            "scorm" => LessonContent::Scorm { item_identifier: Some(self.item) },
            "page" => LessonContent::Page { body: self.body },
            "link" => LessonContent::Link { url: self.url },
            _ => return Err(HttpError::invalid("kind must be scorm, page or link")),
        };
        Ok(LessonInput { title: self.title, required: self.required.is_some(), content })
    }
}

#[handler]
pub async fn add_lesson(
    state: Data<&Arc<AppState>>,
    jar: &CookieJar,
    user: CurrentUser,
    id: Path<String>,
    VerifiedForm(form): VerifiedForm<LessonForm>,
) -> Result<Response, HttpError> {
    let actor = &user.0;
    let course = course_of_module(&state, actor, &id).await?;
    let result = match form.input() {
        Ok(input) => outline::add_lesson(&state.db, &id, input).await.map_err(HttpError::from),
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(back_to_editor(&course)),
        Err(e) => refused(&state, jar, actor, &course, e).await,
    }
}

async fn lesson_context(
    state: &AppState,
    jar: &CookieJar,
    actor: &Actor,
    course: &Course,
    lesson_id: &str,
) -> Result<PageContext, HttpError> {
    let full = outline::of_course(&state.db, &course.id).await?;
    let lesson = full.lesson(lesson_id).ok_or_else(|| HttpError::not_found("no such lesson"))?;
    let required = full.prerequisites_of(lesson_id);
    let items = match &course.current_package_id {
        Some(p) => packages::items(&state.db, p).await?,
        None => Vec::new(),
    };
    let page = json!({
        "course": { "slug": course.slug, "title": course.title },
        "id": lesson.id, "title": lesson.title, "kind": lesson.kind, "required": lesson.required,
        "is_scorm": lesson.kind == "scorm", "is_page": lesson.kind == "page", "is_link": lesson.kind == "link",
        "body": lesson.body, "url": lesson.url,
        "items": items.iter().filter(|i| i.launch.is_some()).map(|i| json!({
            "identifier": i.identifier, "title": i.title,
            "selected": lesson.item_identifier.as_deref() == Some(i.identifier.as_str()),
        })).collect::<Vec<_>>(),
        "whole_package": lesson.item_identifier.is_none(),
        "others": full.lessons().filter(|l| l.id != lesson.id).map(|l| json!({
            "id": l.id, "title": l.title, "checked": required.contains(&l.id),
        })).collect::<Vec<_>>(),
    });
    Ok(PageContext::new(state, jar, Some(actor), &format!("Edit {}", lesson.title), "/teach").page(page))
}

#[handler]
pub async fn lesson_editor(
    state: Data<&Arc<AppState>>,
    jar: &CookieJar,
    user: CurrentUser,
    id: Path<String>,
) -> Result<Response, HttpError> {
    let actor = &user.0;
    let course = course_of_lesson(&state, actor, &id).await?;
    Ok(lesson_context(&state, jar, actor, &course, &id).await?.render(&state, "pages/lesson_edit")?.into_response())
}

/// Saves a lesson and its prerequisites (checkboxes named `needs_<lesson id>`).
#[handler]
pub async fn save_lesson(
    state: Data<&Arc<AppState>>,
    jar: &CookieJar,
    user: CurrentUser,
    id: Path<String>,
    VerifiedForm(fields): VerifiedForm<HashMap<String, String>>,
) -> Result<Response, HttpError> {
    let actor = &user.0;
    let course = course_of_lesson(&state, actor, &id).await?;
    let field = |name: &str| fields.get(name).cloned().unwrap_or_default();
    let form = LessonForm {
        kind: field("kind"),
        title: field("title"),
        required: fields.get("required").cloned(),
        item: field("item"),
        body: field("body"),
        url: field("url"),
    };
    let needs: Vec<String> = fields.keys().filter_map(|k| k.strip_prefix("needs_")).map(str::to_string).collect();
    // Checked before anything is written, then the prerequisites (which can still be
    // refused, for a cycle) before the lesson, so a refused form changes nothing.
    let result = async {
        let input = form.input()?.validated().map_err(|e| HttpError::invalid(e.to_string()))?;
        outline::set_prerequisites(&state.db, &id, &needs).await?;
        outline::update_lesson(&state.db, &id, input).await?;
        Ok::<(), HttpError>(())
    }
    .await;
    match result {
        Ok(()) => Ok(back_to_editor(&course)),
        Err(e) if e.status.is_client_error() => {
            let context =
                lesson_context(&state, jar, actor, &course, &id).await?.error(format!("Not saved: {}.", e.message));
            Ok((e.status, context.render(&state, "pages/lesson_edit")?).into_response())
        }
        Err(e) => Err(e),
    }
}

#[handler]
pub async fn move_lesson(
    state: Data<&Arc<AppState>>,
    user: CurrentUser,
    id: Path<String>,
    VerifiedForm(form): VerifiedForm<MoveForm>,
) -> Result<Response, HttpError> {
    let course = course_of_lesson(&state, &user.0, &id).await?;
    outline::move_lesson(&state.db, &id, direction(&form.direction)?).await?;
    Ok(back_to_editor(&course))
}

#[handler]
pub async fn delete_lesson(
    state: Data<&Arc<AppState>>,
    user: CurrentUser,
    id: Path<String>,
    VerifiedForm(_): VerifiedForm<Empty>,
) -> Result<Response, HttpError> {
    let course = course_of_lesson(&state, &user.0, &id).await?;
    outline::delete_lesson(&state.db, &id).await?;
    Ok(back_to_editor(&course))
}

#[derive(Deserialize)]
pub struct InstructorForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    remove: String,
}

/// Adds an instructor (an instructor or manager of the course's institute) by e-mail, or
/// removes one (`remove` = their id).
#[handler]
pub async fn change_instructors(
    state: Data<&Arc<AppState>>,
    jar: &CookieJar,
    user: CurrentUser,
    id: Path<String>,
    VerifiedForm(form): VerifiedForm<InstructorForm>,
) -> Result<Response, HttpError> {
    let actor = &user.0;
    let course = editable(&state, actor, &id).await?;
    let result = async {
        if !form.remove.is_empty() {
            catalog::remove_instructor(&state.db, &course.id, &form.remove).await?;
            return Ok(());
        }
        let person = cairn_core::accounts::find_by_email(&state.db, &form.email).await?;
        let member = match &person {
            Some(p) => {
                cairn_core::accounts::organisation_ids(&state.db, &p.id).await?.contains(&course.organisation_id)
            }
            None => false,
        };
        match person {
            Some(p) if member && matches!(p.role, Role::Instructor | Role::Manager) => {
                catalog::add_instructor(&state.db, &course.id, &p.id).await?;
                Ok(())
            }
            _ => Err(HttpError::invalid(format!(
                "{} is not an instructor or manager of this course's institute",
                form.email.trim()
            ))),
        }
    }
    .await;
    match result {
        Ok(()) => Ok(back_to_editor(&course)),
        Err(e) => refused(&state, jar, actor, &course, e).await,
    }
}
