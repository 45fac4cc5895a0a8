//! `/api/v1/packages` and `/api/v1/courses`: importing packages and reading courses.

use std::sync::Arc;

use cairn_core::catalog::{self, Course};
use cairn_core::packages::{self, ImportOutcome, PackageItem, PackageVersion};
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::types::multipart::Upload;
use poem_openapi::{ApiResponse, Multipart, Object, OpenApi};
use time::OffsetDateTime;

use super::{ApiResult, ApiTags, Auth};
use crate::app::AppState;
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
        }
    }
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
