//! `/api/v1/packages`, `/api/v1/courses` and `/api/v1/catalog`: importing packages, creating
//! courses and changing their settings, reading courses and searching the catalog.

use std::sync::Arc;

use cairn_core::accounts::Role;
use cairn_core::catalog::{self, CatalogEntry, CatalogQuery, Course, CourseSettings};
use cairn_core::organisations;
use cairn_core::packages::{self, ImportOutcome, PackageItem, PackageVersion};
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::types::multipart::Upload;
use poem_openapi::types::MaybeUndefined;
use poem_openapi::{ApiResponse, Enum, Multipart, Object, OpenApi};
use time::OffsetDateTime;

use super::{ApiResult, ApiTags, Auth};
use crate::app::AppState;
use crate::auth::Actor;
use crate::imports::{self, DiagnosticView, ImportChoice};
use crate::web::errors::HttpError;

pub struct CoursesApi {
    pub state: Arc<AppState>,
}

/// A package upload. Send `multipart/form-data` with a `Content-Length`.
#[derive(Multipart, Debug)]
pub struct PackageUpload {
    /// The package: a SCORM 1.2 or 2004 zip.
    pub file: Upload,
    /// Slug or id of an existing course that gets this package as a new version (its
    /// learners' data is kept). Leave out to create a new course.
    pub course: Option<String>,
    /// Slug of the institute of a new course; needed only when you belong to several.
    pub institute: Option<String>,
    /// Title of a new course; the package title when left out.
    pub title: Option<String>,
}

/// An imported package.
#[derive(Object, Debug)]
pub struct ImportResult {
    pub course_id: String,
    pub course_slug: String,
    /// Whether this import created the course (or added a version to an existing one).
    pub created_course: bool,
    pub package_id: String,
    /// 1 for the first import into the course, then 2, 3, ...
    pub version: i64,
    /// `scorm12` or `scorm2004`.
    pub standard: String,
    /// `2nd`, `3rd` or `4th` for SCORM 2004.
    pub edition: Option<String>,
    pub title: String,
    pub file_count: i64,
    /// Things worth fixing in the package that did not stop the import.
    pub warnings: Vec<DiagnosticView>,
}

/// A refused package: `code` and `message` as in every error, plus every problem found.
#[derive(Object, Debug)]
pub struct PackageRefused {
    /// Always `package_refused`.
    pub code: String,
    pub message: String,
    /// What the package was recognised as (`scorm12`, `scorm2004`, `cmi5`, `aicc`, ...).
    pub standard: String,
    pub errors: Vec<DiagnosticView>,
    pub warnings: Vec<DiagnosticView>,
}

#[derive(ApiResponse)]
pub enum ImportResponse {
    /// The package was imported.
    #[oai(status = 201)]
    Created(Json<ImportResult>),
    /// The package was refused; nothing was stored. `errors` says why.
    #[oai(status = 422)]
    Refused(Json<PackageRefused>),
}

/// A course.
#[derive(Object, Debug)]
pub struct CourseView {
    pub id: String,
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub institute_id: String,
    /// `draft` or `published`.
    pub status: String,
    pub current_package_id: Option<String>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    /// The knowledge area the course is filed under (see `GET /v1/catalog`), or empty.
    pub topic: String,
    /// File name of the cover image, when the course has one.
    pub cover_image: Option<String>,
    /// `open` (anyone may enrol), `key` (anyone with the enrolment key) or `closed` (staff
    /// enrol learners).
    pub enrolment_mode: String,
    /// The enrolment key. Shown only in the answers of the course's editors (creating the
    /// course and changing its settings); absent everywhere else.
    pub enrolment_key: Option<String>,
    /// Minimum course score (0–100) needed to complete, on top of the required lessons.
    pub completion_min_score: Option<f64>,
}

impl From<Course> for CourseView {
    fn from(c: Course) -> Self {
        CourseView {
            id: c.id,
            slug: c.slug,
            title: c.title,
            summary: c.summary,
            institute_id: c.organisation_id,
            status: c.status,
            current_package_id: c.current_package_id,
            created_at: c.created_at,
            updated_at: c.updated_at,
            topic: c.topic,
            cover_image: c.cover_image,
            enrolment_mode: c.enrolment_mode,
            enrolment_key: None,
            completion_min_score: c.completion_min_score,
        }
    }
}

impl CourseView {
    /// The view an editor gets, with the enrolment key they set.
    fn for_editor(c: Course) -> Self {
        let key = c.enrolment_key.clone();
        CourseView { enrolment_key: key, ..CourseView::from(c) }
    }
}

/// Whether a course is open to learners.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[oai(rename_all = "lowercase")]
pub enum CourseStatus {
    /// Only its institute's members and administrators see it; nobody can enrol.
    Draft,
    /// Listed in the catalog.
    Published,
}

impl CourseStatus {
    fn as_str(self) -> &'static str {
        match self {
            CourseStatus::Draft => "draft",
            CourseStatus::Published => "published",
        }
    }
}

/// How learners join a course.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[oai(rename_all = "lowercase")]
pub enum EnrolmentMode {
    /// Anyone signed in may enrol themselves.
    Open,
    /// Learners enrol themselves with the enrolment key.
    Key,
    /// Only staff enrol learners.
    Closed,
}

impl EnrolmentMode {
    fn as_str(self) -> &'static str {
        match self {
            EnrolmentMode::Open => "open",
            EnrolmentMode::Key => "key",
            EnrolmentMode::Closed => "closed",
        }
    }
}

/// A new, empty course: a draft, closed to self-enrolment, with you as its instructor.
#[derive(Object, Debug)]
pub struct CreateCourse {
    /// At most 200 characters.
    pub title: String,
    /// Slug or id of the course's institute; needed only when you belong to several
    /// (administrators who belong to none always name one).
    pub institute: Option<String>,
    /// At most 2,000 characters.
    pub summary: Option<String>,
    /// One of the topic keys listed in the description of `GET /v1/catalog`.
    pub topic: Option<String>,
}

/// New settings for a course. Fields left out keep their value.
#[derive(Object, Debug)]
pub struct UpdateCourse {
    /// At most 200 characters.
    pub title: Option<String>,
    /// At most 2,000 characters.
    pub summary: Option<String>,
    /// A topic key, or an empty string for none.
    pub topic: Option<String>,
    pub status: Option<CourseStatus>,
    pub enrolment_mode: Option<EnrolmentMode>,
    /// Needed when `enrolment_mode` is `key`; at most 100 characters. `null` removes it.
    pub enrolment_key: MaybeUndefined<String>,
    /// 0 to 100; `null` removes the minimum.
    pub completion_min_score: MaybeUndefined<f64>,
}

#[derive(ApiResponse)]
pub enum CreateCourseResponse {
    /// The course was created (as a draft).
    #[oai(status = 201)]
    Created(Json<CourseView>),
}

/// A published course as the catalog lists it.
#[derive(Object, Debug)]
pub struct CatalogEntryView {
    pub id: String,
    pub slug: String,
    pub title: String,
    pub summary: String,
    /// The topic key, or empty.
    pub topic: String,
    /// The topic as people read it.
    pub topic_label: String,
    pub cover_image: Option<String>,
    /// `open`, `key` or `closed`.
    pub enrolment_mode: String,
    pub institute_slug: String,
    pub institute_name: String,
    pub updated_at: OffsetDateTime,
}

impl From<CatalogEntry> for CatalogEntryView {
    fn from(e: CatalogEntry) -> Self {
        CatalogEntryView {
            topic_label: catalog::topic_label(&e.topic).to_string(),
            id: e.id,
            slug: e.slug,
            title: e.title,
            summary: e.summary,
            topic: e.topic,
            cover_image: e.cover_image,
            enrolment_mode: e.enrolment_mode,
            institute_slug: e.institute_slug,
            institute_name: e.institute_name,
            updated_at: e.updated_at,
        }
    }
}

/// One page of catalog entries.
#[derive(Object, Debug)]
pub struct CatalogPage {
    pub items: Vec<CatalogEntryView>,
    /// How many published courses match in all.
    pub total: i64,
    pub offset: i64,
    pub limit: i64,
}

/// One imported version of a course's package.
#[derive(Object, Debug)]
pub struct VersionView {
    pub id: String,
    pub version: i64,
    pub standard: String,
    pub edition: Option<String>,
    pub title: String,
    pub original_filename: String,
    pub file_count: i64,
    pub content_bytes: i64,
    pub created_at: OffsetDateTime,
    pub warnings: Vec<DiagnosticView>,
}

impl From<PackageVersion> for VersionView {
    fn from(v: PackageVersion) -> Self {
        VersionView {
            warnings: imports::stored_warnings(&v.warnings_json),
            id: v.id,
            version: v.version,
            standard: v.standard,
            edition: v.edition,
            title: v.title,
            original_filename: v.original_filename,
            file_count: v.file_count,
            content_bytes: v.content_bytes,
            created_at: v.created_at,
        }
    }
}

/// An entry of the course outline, in tree order.
#[derive(Object, Debug)]
pub struct ItemView {
    pub identifier: String,
    pub title: String,
    pub depth: i64,
    pub parent_identifier: Option<String>,
    /// Launch URL relative to the package; absent for clusters.
    pub launch: Option<String>,
    /// `sco` or `asset`; absent for clusters.
    pub scorm_type: Option<String>,
    pub visible: bool,
}

impl From<PackageItem> for ItemView {
    fn from(i: PackageItem) -> Self {
        ItemView {
            identifier: i.identifier,
            title: i.title,
            depth: i.depth,
            parent_identifier: i.parent_identifier,
            launch: i.launch,
            scorm_type: i.scorm_type,
            visible: i.visible,
        }
    }
}

/// A course with its outline (from the current version) and every version.
#[derive(Object, Debug)]
pub struct CourseDetail {
    pub course: CourseView,
    pub items: Vec<ItemView>,
    pub versions: Vec<VersionView>,
}

#[OpenApi(tag = "ApiTags::Courses")]
impl CoursesApi {
    /// Import a package
    ///
    /// Uploads a SCORM 1.2 or 2004 package into a new course, or as a new version of an
    /// existing one. The import is atomic: a refused package (422, with every problem
    /// found) stores nothing. Limits: `CAIRN_MAX_PACKAGE_BYTES` for the upload and the
    /// package limits of the configuration table for its content.
    #[oai(path = "/v1/packages", method = "post", operation_id = "import_package")]
    async fn import(&self, auth: Auth, upload: PackageUpload) -> ApiResult<ImportResponse> {
        let actor = auth.actor();
        let choice = ImportChoice { course: upload.course, institute: upload.institute, title: upload.title };
        let name = upload.file.file_name().unwrap_or("package.zip").to_string();
        let file = upload.file.into_file().into_std().await;
        let outcome = imports::import_upload(&self.state, actor, &choice, file, name).await?;
        Ok(match outcome {
            ImportOutcome::Imported(done) => ImportResponse::Created(Json(ImportResult {
                course_id: done.course.id.clone(),
                course_slug: done.course.slug.clone(),
                created_course: done.created_course,
                package_id: done.package.id.clone(),
                version: done.package.version,
                standard: done.package.standard.clone(),
                edition: done.package.edition.clone(),
                title: done.package.title.clone(),
                file_count: done.package.file_count,
                warnings: done.inspection.warnings.iter().map(DiagnosticView::from).collect(),
            })),
            ImportOutcome::Refused(inspection) => {
                let first = inspection
                    .errors
                    .first()
                    .map(|d| d.message.clone())
                    .unwrap_or_else(|| "the package cannot be imported".into());
                ImportResponse::Refused(Json(PackageRefused {
                    code: "package_refused".into(),
                    message: format!("the package was refused: {first}"),
                    standard: serde_json::to_value(inspection.standard)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default(),
                    errors: inspection.errors.iter().map(DiagnosticView::from).collect(),
                    warnings: inspection.warnings.iter().map(DiagnosticView::from).collect(),
                }))
            }
        })
    }

    /// List courses
    ///
    /// The courses you can see: every course for administrators, the courses of your
    /// institutes for everyone else. Most recently changed first.
    #[oai(path = "/v1/courses", method = "get", operation_id = "list_courses")]
    async fn list(&self, auth: Auth) -> ApiResult<Json<Vec<CourseView>>> {
        let courses = catalog::visible_to(&self.state.db, &auth.actor().principal).await?;
        Ok(Json(courses.into_iter().map(CourseView::from).collect()))
    }

    /// One course
    ///
    /// The course, the outline of its current package version and every version with
    /// the warnings of its import. By id or slug.
    #[oai(path = "/v1/courses/:id", method = "get", operation_id = "get_course")]
    async fn get(&self, auth: Auth, id: Path<String>) -> ApiResult<Json<CourseDetail>> {
        let course = visible_course(&self.state, auth.actor(), &id.0).await?;
        let items = match &course.current_package_id {
            Some(package) => packages::items(&self.state.db, package).await?,
            None => Vec::new(),
        };
        let versions = packages::versions(&self.state.db, &course.id).await?;
        Ok(Json(CourseDetail {
            course: course.into(),
            items: items.into_iter().map(ItemView::from).collect(),
            versions: versions.into_iter().map(VersionView::from).collect(),
        }))
    }

    /// Create a course
    ///
    /// An empty course (no package, no outline yet) in one of your institutes: instructors
    /// and managers of the institute, and administrators. It starts as a draft closed to
    /// self-enrolment, and you become its instructor.
    #[oai(path = "/v1/courses", method = "post", operation_id = "create_course")]
    async fn create(&self, auth: Auth, body: Json<CreateCourse>) -> ApiResult<CreateCourseResponse> {
        let actor = auth.actor();
        refuse_learners(actor, "learners do not create courses")?;
        let body = body.0;
        // Summary and topic are checked before anything is written, so a bad topic does
        // not leave a half-made course behind.
        let settings = CourseSettings {
            title: body.title.clone(),
            summary: body.summary.unwrap_or_default(),
            topic: body.topic.unwrap_or_default(),
            status: "draft".into(),
            enrolment_mode: "closed".into(),
            enrolment_key: None,
            completion_min_score: None,
        }
        .validated()
        .map_err(|e| HttpError::invalid(e.to_string()))?;
        let organisation_id = institute_of_new_course(&self.state, actor, body.institute.as_deref()).await?;
        if !catalog::may_create_in(&actor.principal, &organisation_id) {
            return Err(HttpError::forbidden(
                "only instructors and managers of the institute, and administrators, may create its courses",
            )
            .into());
        }
        let new = catalog::NewCourse {
            organisation_id,
            title: settings.title.clone(),
            slug: None,
            created_by: Some(actor.user.id.clone()),
        };
        let course = catalog::create(&self.state.db, new).await?;
        let course = if settings.summary.is_empty() && settings.topic.is_empty() {
            course
        } else {
            catalog::update_settings(&self.state.db, &course.id, settings).await?
        };
        tracing::info!(by = %actor.user.id, course = %course.slug, "course created");
        Ok(CreateCourseResponse::Created(Json(CourseView::for_editor(course))))
    }

    /// Change a course's settings
    ///
    /// Title, summary, topic, status (publishing), how learners enrol and the minimum
    /// score for completion. The course's instructors, its institute's managers and
    /// administrators. Every field is checked before anything is saved.
    #[oai(path = "/v1/courses/:id", method = "patch", operation_id = "update_course")]
    async fn update(&self, auth: Auth, id: Path<String>, body: Json<UpdateCourse>) -> ApiResult<Json<CourseView>> {
        let course = editable_course(&self.state, auth.actor(), &id.0).await?;
        let body = body.0;
        let mut settings = CourseSettings::of(&course);
        if let Some(title) = body.title {
            settings.title = title;
        }
        if let Some(summary) = body.summary {
            settings.summary = summary;
        }
        if let Some(topic) = body.topic {
            settings.topic = topic;
        }
        if let Some(status) = body.status {
            settings.status = status.as_str().into();
        }
        if let Some(mode) = body.enrolment_mode {
            settings.enrolment_mode = mode.as_str().into();
        }
        match body.enrolment_key {
            MaybeUndefined::Value(key) => settings.enrolment_key = Some(key),
            MaybeUndefined::Null => settings.enrolment_key = None,
            MaybeUndefined::Undefined => {}
        }
        match body.completion_min_score {
            MaybeUndefined::Value(score) => settings.completion_min_score = Some(score),
            MaybeUndefined::Null => settings.completion_min_score = None,
            MaybeUndefined::Undefined => {}
        }
        let updated = catalog::update_settings(&self.state.db, &course.id, settings).await?;
        tracing::info!(by = %auth.actor().user.id, course = %updated.slug, "course settings changed");
        Ok(Json(CourseView::for_editor(updated)))
    }

    /// Search the catalog
    ///
    /// Published courses, by title. `q` matches words in the title or summary, `topic` a
    /// topic key (`e-government`, `ethics`, `decentralisation`, `public-service-delivery`,
    /// `financial-management`, `tax-reform`, `ppp`, `other`), `institute` an institute's
    /// slug. Everyone signed in may search.
    #[oai(path = "/v1/catalog", method = "get", operation_id = "search_catalog")]
    async fn catalog(
        &self,
        _auth: Auth,
        /// Words that must all appear in the title or summary.
        q: Query<Option<String>>,
        topic: Query<Option<String>>,
        /// An institute's slug.
        institute: Query<Option<String>>,
        #[oai(default)] offset: Query<i64>,
        /// How many to return, at most 200.
        #[oai(default = "default_limit")]
        limit: Query<i64>,
    ) -> ApiResult<Json<CatalogPage>> {
        let query = CatalogQuery {
            text: q.0.unwrap_or_default(),
            topic: topic.0.unwrap_or_default(),
            institute: institute.0.unwrap_or_default(),
        };
        let (offset, limit) = (offset.0.max(0), limit.0.clamp(1, 200));
        let (entries, total) = catalog::search(&self.state.db, &query, offset, limit).await?;
        Ok(Json(CatalogPage { items: entries.into_iter().map(CatalogEntryView::from).collect(), total, offset, limit }))
    }
}

fn default_limit() -> i64 {
    50
}

/// The institute a new course goes to: the one named (by slug or id), or the caller's only
/// institute.
async fn institute_of_new_course(state: &AppState, actor: &Actor, named: Option<&str>) -> Result<String, HttpError> {
    match named.map(str::trim).filter(|s| !s.is_empty()) {
        Some(wanted) => {
            if let Some(org) = organisations::find_by_slug(&state.db, wanted).await? {
                return Ok(org.id);
            }
            let all = organisations::list(&state.db).await?;
            all.into_iter()
                .find(|o| o.id == wanted)
                .map(|o| o.id)
                .ok_or_else(|| HttpError::not_found(format!("no institute {wanted:?}")))
        }
        None => match actor.principal.organisation_ids.as_slice() {
            [only] => Ok(only.clone()),
            [] => {
                Err(HttpError::invalid("institute: you are not a member of any institute; name the course's institute"))
            }
            _ => {
                Err(HttpError::invalid("institute: you belong to several institutes; say which one the course is for"))
            }
        },
    }
}

/// Refuses learners before any lookup. No learner edits a course or manages learners, so
/// this answer does not depend on what they named and reveals nothing about it.
pub fn refuse_learners(actor: &Actor, reason: &str) -> Result<(), HttpError> {
    if actor.principal.role == Role::Learner {
        Err(HttpError::forbidden(reason))
    } else {
        Ok(())
    }
}

/// A course whose settings and outline the actor may change: learners are refused first,
/// courses they cannot see are "not found", and those they see but do not teach or manage
/// are refused.
pub async fn editable_course(state: &AppState, actor: &Actor, id_or_slug: &str) -> Result<Course, HttpError> {
    refuse_learners(actor, "learners do not edit courses")?;
    let course = visible_course(state, actor, id_or_slug).await?;
    if !catalog::may_edit(&state.db, &actor.principal, &course).await? {
        return Err(HttpError::forbidden(
            "only this course's instructors, its institute's managers and administrators may change it",
        ));
    }
    Ok(course)
}

/// A course whose learners (enrolments, roster, matrix) the actor may manage, with the same
/// order of refusals as [`editable_course`].
pub async fn managed_course(state: &AppState, actor: &Actor, id_or_slug: &str) -> Result<Course, HttpError> {
    refuse_learners(actor, "learners do not manage other learners")?;
    let course = visible_course(state, actor, id_or_slug).await?;
    if !catalog::may_manage_learners(&state.db, &actor.principal, &course).await? {
        return Err(HttpError::forbidden(
            "only this course's instructors, its institute's managers and administrators manage its learners",
        ));
    }
    Ok(course)
}

/// A course the actor may see; others are "not found", so their existence does not leak.
pub async fn visible_course(
    state: &AppState,
    actor: &crate::auth::Actor,
    id_or_slug: &str,
) -> Result<Course, HttpError> {
    let not_found = || HttpError::not_found(format!("no course {id_or_slug:?}"));
    let course = match catalog::get(&state.db, id_or_slug).await {
        Ok(course) => course,
        Err(catalog::CatalogError::NotFound(_)) => return Err(not_found()),
        Err(e) => return Err(e.into()),
    };
    if catalog::may_view(&actor.principal, &course) {
        Ok(course)
    } else {
        Err(not_found())
    }
}
