//! `/api/v1/courses/{id}/outline`, `/api/v1/modules` and `/api/v1/lessons`: a course's
//! modules and lessons, their order and their prerequisites.
//!
//! Reading an outline follows the course's visibility; every change needs an editor of the
//! course (its instructors, its institute's managers, administrators). Learners are refused
//! before any lookup, and modules or lessons of courses the caller cannot see are "not
//! found", so ids cannot be probed.

use std::sync::Arc;

use cairn_core::catalog::Course;
use cairn_core::enrolments;
use cairn_core::outline::{self, Direction, Lesson, LessonContent, LessonInput, Module, Outline};
use cairn_core::packages;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::types::MaybeUndefined;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use time::OffsetDateTime;

use super::courses::{editable_course, refuse_learners, visible_course};
use super::{ApiResult, ApiTags, Auth};
use crate::app::AppState;
use crate::auth::Actor;
use crate::web::errors::HttpError;

pub struct OutlineApi {
    pub state: Arc<AppState>,
}

/// What a lesson is.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[oai(rename_all = "lowercase")]
pub enum LessonKind {
    /// An item of the course's SCORM package (or the whole package), run in the player.
    Scorm,
    /// A page of Markdown text the learner marks as done.
    Page,
    /// An external web address; following it completes the lesson.
    Link,
}

impl LessonKind {
    fn parse(text: &str) -> LessonKind {
        match text {
            "scorm" => LessonKind::Scorm,
            "link" => LessonKind::Link,
            _ => LessonKind::Page,
        }
    }
}

/// A lesson. Its content (`body`, `url`, `item_identifier`) is shown to the course's editors
/// and to learners who may take the course; others see the outline only.
#[derive(Object, Debug)]
pub struct LessonView {
    pub id: String,
    pub course_id: String,
    pub module_id: String,
    /// 1 for the first lesson of its module, then 2, 3, ...
    pub position: i64,
    pub kind: LessonKind,
    pub title: String,
    /// Whether the lesson counts towards completing the course.
    pub required: bool,
    /// For `scorm`: the package item it launches; absent means the whole package.
    pub item_identifier: Option<String>,
    /// For `page`: the Markdown source.
    pub body: Option<String>,
    /// For `link`: where it points.
    pub url: Option<String>,
    /// Ids of the lessons that must be done before this one opens.
    pub prerequisites: Vec<String>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl LessonView {
    fn new(lesson: Lesson, prerequisites: &[String], with_content: bool) -> Self {
        let (item_identifier, body, url) =
            if with_content { (lesson.item_identifier, lesson.body, lesson.url) } else { (None, None, None) };
        LessonView {
            kind: LessonKind::parse(&lesson.kind),
            id: lesson.id,
            course_id: lesson.course_id,
            module_id: lesson.module_id,
            position: lesson.position,
            title: lesson.title,
            required: lesson.required,
            item_identifier,
            body,
            url,
            prerequisites: prerequisites.to_vec(),
            created_at: lesson.created_at,
            updated_at: lesson.updated_at,
        }
    }
}

/// A module with its lessons in order.
#[derive(Object, Debug)]
pub struct ModuleView {
    pub id: String,
    pub course_id: String,
    /// 1 for the first module of the course, then 2, 3, ...
    pub position: i64,
    pub title: String,
    pub lessons: Vec<LessonView>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl ModuleView {
    fn new(module: Module, lessons: Vec<LessonView>) -> Self {
        ModuleView {
            id: module.id,
            course_id: module.course_id,
            position: module.position,
            title: module.title,
            lessons,
            created_at: module.created_at,
            updated_at: module.updated_at,
        }
    }
}

/// A course's outline: modules in order, each with its lessons in order.
#[derive(Object, Debug)]
pub struct OutlineView {
    pub course_id: String,
    pub modules: Vec<ModuleView>,
}

impl OutlineView {
    fn new(course_id: &str, outline: Outline, with_content: bool) -> Self {
        let prerequisites = outline.prerequisites;
        let modules = outline
            .modules
            .into_iter()
            .map(|m| {
                let lessons = m
                    .lessons
                    .into_iter()
                    .map(|l| {
                        let required = prerequisites.get(&l.id).map_or(&[][..], Vec::as_slice);
                        LessonView::new(l, required, with_content)
                    })
                    .collect();
                ModuleView::new(m.module, lessons)
            })
            .collect();
        OutlineView { course_id: course_id.to_string(), modules }
    }
}

/// A module's title.
#[derive(Object, Debug)]
pub struct ModuleTitle {
    /// At most 200 characters.
    pub title: String,
}

/// Which way to move a module or lesson among its siblings.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[oai(rename_all = "lowercase")]
pub enum MoveDirection {
    Up,
    Down,
}

/// A one-step move. Moving the first up or the last down changes nothing.
#[derive(Object, Debug)]
pub struct MoveRequest {
    pub direction: MoveDirection,
}

impl From<MoveDirection> for Direction {
    fn from(d: MoveDirection) -> Self {
        match d {
            MoveDirection::Up => Direction::Up,
            MoveDirection::Down => Direction::Down,
        }
    }
}

/// A new lesson, added at the end of its module.
#[derive(Object, Debug)]
pub struct CreateLesson {
    pub kind: LessonKind,
    /// At most 200 characters.
    pub title: String,
    /// Whether the lesson counts towards completion; `true` when left out.
    pub required: Option<bool>,
    /// For `scorm`: a launchable item of the course's current package; leave out for the
    /// whole package.
    pub item_identifier: Option<String>,
    /// For `page`: Markdown, at most 200 KB.
    pub body: Option<String>,
    /// For `link`: an absolute `http://` or `https://` address.
    pub url: Option<String>,
}

/// Changes to a lesson. Fields left out keep their value; changing `kind` needs the new
/// kind's content (`body` for a page, `url` for a link).
#[derive(Object, Debug)]
pub struct UpdateLesson {
    pub kind: Option<LessonKind>,
    pub title: Option<String>,
    pub required: Option<bool>,
    /// `null` makes a SCORM lesson launch the whole package.
    pub item_identifier: MaybeUndefined<String>,
    pub body: Option<String>,
    pub url: Option<String>,
}

/// A list of lesson ids.
#[derive(Object, Debug)]
pub struct LessonIds {
    pub lesson_ids: Vec<String>,
}

#[derive(ApiResponse)]
pub enum CreateModuleResponse {
    /// The module was added at the end of the course.
    #[oai(status = 201)]
    Created(Json<ModuleView>),
}

#[derive(ApiResponse)]
pub enum CreateLessonResponse {
    /// The lesson was added at the end of the module.
    #[oai(status = 201)]
    Created(Json<LessonView>),
}

#[derive(ApiResponse)]
pub enum DeletedResponse {
    /// Deleted.
    #[oai(status = 204)]
    Deleted,
}

const EDIT_REFUSAL: &str = "learners do not edit courses";

#[OpenApi(tag = "ApiTags::Outline")]
impl OutlineApi {
    /// A course's outline
    ///
    /// Modules and lessons in order, with each lesson's prerequisites. Everyone who may see
    /// the course gets the outline; lesson content (page text, links, package items) only
    /// goes to the course's editors and to learners who may take it now.
    #[oai(path = "/v1/courses/:id/outline", method = "get", operation_id = "get_outline")]
    async fn get(&self, auth: Auth, id: Path<String>) -> ApiResult<Json<OutlineView>> {
        let actor = auth.actor();
        let course = visible_course(&self.state, actor, &id.0).await?;
        let with_content = enrolments::may_take(&self.state.db, &actor.principal, &course).await?;
        let outline = outline::of_course(&self.state.db, &course.id).await?;
        Ok(Json(OutlineView::new(&course.id, outline, with_content)))
    }

    /// Add a module
    ///
    /// A new module at the end of the course. Editors of the course only.
    #[oai(path = "/v1/courses/:id/modules", method = "post", operation_id = "create_module")]
    async fn create_module(
        &self,
        auth: Auth,
        id: Path<String>,
        body: Json<ModuleTitle>,
    ) -> ApiResult<CreateModuleResponse> {
        let course = editable_course(&self.state, auth.actor(), &id.0).await?;
        let module = outline::add_module(&self.state.db, &course.id, &body.0.title).await?;
        Ok(CreateModuleResponse::Created(Json(ModuleView::new(module, Vec::new()))))
    }

    /// Rename a module
    #[oai(path = "/v1/modules/:id", method = "patch", operation_id = "update_module")]
    async fn update_module(
        &self,
        auth: Auth,
        id: Path<String>,
        body: Json<ModuleTitle>,
    ) -> ApiResult<Json<ModuleView>> {
        let (module, course) = self.editable_module(auth.actor(), &id.0).await?;
        outline::rename_module(&self.state.db, &module.id, &body.0.title).await?;
        let full = outline::of_course(&self.state.db, &course.id).await?;
        let view = OutlineView::new(&course.id, full, true)
            .modules
            .into_iter()
            .find(|m| m.id == module.id)
            .ok_or_else(|| HttpError::not_found("no such module"))?;
        Ok(Json(view))
    }

    /// Delete a module
    ///
    /// Deletes the module with its lessons and the learners' progress in those lessons.
    /// Enrolments, and the completion dates already reached, stay.
    #[oai(path = "/v1/modules/:id", method = "delete", operation_id = "delete_module")]
    async fn delete_module(&self, auth: Auth, id: Path<String>) -> ApiResult<DeletedResponse> {
        let (module, course) = self.editable_module(auth.actor(), &id.0).await?;
        outline::delete_module(&self.state.db, &module.id).await?;
        tracing::info!(by = %auth.actor().user.id, course = %course.slug, module = %module.id, "module deleted");
        Ok(DeletedResponse::Deleted)
    }

    /// Move a module
    ///
    /// One place up or down; answers the course's new outline.
    #[oai(path = "/v1/modules/:id/move", method = "post", operation_id = "move_module")]
    async fn move_module(&self, auth: Auth, id: Path<String>, body: Json<MoveRequest>) -> ApiResult<Json<OutlineView>> {
        let (module, course) = self.editable_module(auth.actor(), &id.0).await?;
        outline::move_module(&self.state.db, &module.id, body.0.direction.into()).await?;
        self.outline_of(&course).await
    }

    /// Add a lesson
    ///
    /// A new lesson at the end of the module: a SCORM item, a Markdown page or an external
    /// link.
    #[oai(path = "/v1/modules/:id/lessons", method = "post", operation_id = "create_lesson")]
    async fn create_lesson(
        &self,
        auth: Auth,
        id: Path<String>,
        body: Json<CreateLesson>,
    ) -> ApiResult<CreateLessonResponse> {
        let (module, course) = self.editable_module(auth.actor(), &id.0).await?;
        let body = body.0;
        let content = match body.kind {
            LessonKind::Scorm => LessonContent::Scorm { item_identifier: body.item_identifier },
            LessonKind::Page => LessonContent::Page {
                body: body.body.ok_or_else(|| HttpError::invalid("body: is needed for a page lesson"))?,
            },
            LessonKind::Link => LessonContent::Link {
                url: body.url.ok_or_else(|| HttpError::invalid("url: is needed for a link lesson"))?,
            },
        };
        let input = LessonInput { title: body.title, required: body.required.unwrap_or(true), content };
        let input = self.checked_input(&course, input).await?;
        let lesson = outline::add_lesson(&self.state.db, &module.id, input).await?;
        Ok(CreateLessonResponse::Created(Json(LessonView::new(lesson, &[], true))))
    }

    /// Change a lesson
    ///
    /// Title, whether it is required, its kind and content.
    #[oai(path = "/v1/lessons/:id", method = "patch", operation_id = "update_lesson")]
    async fn update_lesson(
        &self,
        auth: Auth,
        id: Path<String>,
        body: Json<UpdateLesson>,
    ) -> ApiResult<Json<LessonView>> {
        let (lesson, course) = self.editable_lesson(auth.actor(), &id.0).await?;
        let body = body.0;
        let kind = body.kind.unwrap_or_else(|| LessonKind::parse(&lesson.kind));
        let content = match kind {
            LessonKind::Scorm => LessonContent::Scorm {
                item_identifier: match body.item_identifier {
                    MaybeUndefined::Value(item) => Some(item),
                    MaybeUndefined::Null => None,
                    MaybeUndefined::Undefined => lesson.item_identifier.clone(),
                },
            },
            LessonKind::Page => LessonContent::Page {
                body: body
                    .body
                    .or_else(|| lesson.body.clone())
                    .ok_or_else(|| HttpError::invalid("body: is needed for a page lesson"))?,
            },
            LessonKind::Link => LessonContent::Link {
                url: body
                    .url
                    .or_else(|| lesson.url.clone())
                    .ok_or_else(|| HttpError::invalid("url: is needed for a link lesson"))?,
            },
        };
        let input = LessonInput {
            title: body.title.unwrap_or_else(|| lesson.title.clone()),
            required: body.required.unwrap_or(lesson.required),
            content,
        };
        let input = self.checked_input(&course, input).await?;
        let updated = outline::update_lesson(&self.state.db, &lesson.id, input).await?;
        let full = outline::of_course(&self.state.db, &course.id).await?;
        Ok(Json(LessonView::new(updated, full.prerequisites_of(&lesson.id), true)))
    }

    /// Delete a lesson
    ///
    /// Deletes the lesson, the learners' progress in it and the prerequisites that name it.
    #[oai(path = "/v1/lessons/:id", method = "delete", operation_id = "delete_lesson")]
    async fn delete_lesson(&self, auth: Auth, id: Path<String>) -> ApiResult<DeletedResponse> {
        let (lesson, course) = self.editable_lesson(auth.actor(), &id.0).await?;
        outline::delete_lesson(&self.state.db, &lesson.id).await?;
        tracing::info!(by = %auth.actor().user.id, course = %course.slug, lesson = %lesson.id, "lesson deleted");
        Ok(DeletedResponse::Deleted)
    }

    /// Move a lesson
    ///
    /// One place up or down within its module; answers the course's new outline.
    #[oai(path = "/v1/lessons/:id/move", method = "post", operation_id = "move_lesson")]
    async fn move_lesson(&self, auth: Auth, id: Path<String>, body: Json<MoveRequest>) -> ApiResult<Json<OutlineView>> {
        let (lesson, course) = self.editable_lesson(auth.actor(), &id.0).await?;
        outline::move_lesson(&self.state.db, &lesson.id, body.0.direction.into()).await?;
        self.outline_of(&course).await
    }

    /// Reorder a module's lessons
    ///
    /// Puts the module's lessons in the order given, e.g. after a drag and drop. The list
    /// must name every lesson of the module exactly once (422 otherwise). Answers the
    /// course's new outline.
    #[oai(path = "/v1/modules/:id/lesson-order", method = "put", operation_id = "reorder_lessons")]
    async fn reorder(&self, auth: Auth, id: Path<String>, body: Json<LessonIds>) -> ApiResult<Json<OutlineView>> {
        let (module, course) = self.editable_module(auth.actor(), &id.0).await?;
        outline::reorder_lessons(&self.state.db, &module.id, &body.0.lesson_ids).await?;
        self.outline_of(&course).await
    }

    /// Set a lesson's prerequisites
    ///
    /// Replaces the lessons (of the same course) that must be done before this one opens.
    /// An empty list removes them all. Requirements that would make lessons wait for each
    /// other in a circle are refused with 422.
    #[oai(path = "/v1/lessons/:id/prerequisites", method = "put", operation_id = "set_prerequisites")]
    async fn prerequisites(&self, auth: Auth, id: Path<String>, body: Json<LessonIds>) -> ApiResult<Json<LessonView>> {
        let (lesson, course) = self.editable_lesson(auth.actor(), &id.0).await?;
        outline::set_prerequisites(&self.state.db, &lesson.id, &body.0.lesson_ids).await?;
        let full = outline::of_course(&self.state.db, &course.id).await?;
        Ok(Json(LessonView::new(lesson.clone(), full.prerequisites_of(&lesson.id), true)))
    }
}

impl OutlineApi {
    /// A module and its course, if the actor may edit the course. A module of a course the
    /// actor cannot see is reported as a missing module, naming neither the course nor its
    /// existence.
    async fn editable_module(&self, actor: &Actor, id: &str) -> Result<(Module, Course), HttpError> {
        refuse_learners(actor, EDIT_REFUSAL)?;
        let module = outline::module(&self.state.db, id).await.map_err(|e| hide_missing(e.into(), "module", id))?;
        let course =
            editable_course(&self.state, actor, &module.course_id).await.map_err(|e| hide_missing(e, "module", id))?;
        Ok((module, course))
    }

    /// A lesson and its course, if the actor may edit the course (as [`Self::editable_module`]).
    async fn editable_lesson(&self, actor: &Actor, id: &str) -> Result<(Lesson, Course), HttpError> {
        refuse_learners(actor, EDIT_REFUSAL)?;
        let lesson = outline::lesson(&self.state.db, id).await.map_err(|e| hide_missing(e.into(), "lesson", id))?;
        let course =
            editable_course(&self.state, actor, &lesson.course_id).await.map_err(|e| hide_missing(e, "lesson", id))?;
        Ok((lesson, course))
    }

    async fn outline_of(&self, course: &Course) -> ApiResult<Json<OutlineView>> {
        let full = outline::of_course(&self.state.db, &course.id).await?;
        Ok(Json(OutlineView::new(&course.id, full, true)))
    }

    /// Checks what the core cannot: that a SCORM lesson's item is a launchable item of the
    /// course's current package, so that a typo does not make a lesson nobody can open.
    async fn checked_input(&self, course: &Course, input: LessonInput) -> Result<LessonInput, HttpError> {
        let input = input.validated().map_err(|e| HttpError::invalid(e.to_string()))?;
        if let LessonContent::Scorm { item_identifier: Some(item) } = &input.content {
            let Some(package) = &course.current_package_id else {
                return Err(HttpError::invalid(
                    "item_identifier: the course has no package yet; import one first, or leave item_identifier out",
                ));
            };
            let items = packages::items(&self.state.db, package).await?;
            if !items.iter().any(|i| i.identifier == *item && i.launch.is_some()) {
                return Err(HttpError::invalid(format!(
                    "item_identifier: {item:?} is not a launchable item of the course's package"
                )));
            }
        }
        Ok(input)
    }
}

/// Turns "not found" about the course behind a module or lesson into "not found" about the
/// module or lesson itself; other answers pass unchanged.
fn hide_missing(e: HttpError, what: &str, id: &str) -> HttpError {
    if e.status == poem::http::StatusCode::NOT_FOUND {
        HttpError::not_found(format!("no {what} {id:?}"))
    } else {
        e
    }
}
