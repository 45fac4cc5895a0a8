//! Package import as the web edge sees it: who may import where, and the shared steps
//! behind `POST /api/v1/packages` and the instructor's upload page.

use cairn_core::catalog;
use cairn_core::organisations;
use cairn_core::packages::{self, CourseTarget, ImportOutcome, ImportRequest};
use serde::Serialize;

use crate::app::AppState;
use crate::auth::Actor;
use crate::web::errors::HttpError;

/// What the uploader asked for besides the file.
#[derive(Debug, Default, Clone)]
pub struct ImportChoice {
    /// Slug or id of an existing course that receives a new version.
    pub course: Option<String>,
    /// Slug of the institute of a new course; optional when the uploader has only one.
    pub institute: Option<String>,
    /// Title of a new course; the package title when absent.
    pub title: Option<String>,
}

/// Decides which course receives the package, and checks the actor may import there.
pub async fn resolve_target(state: &AppState, actor: &Actor, choice: &ImportChoice) -> Result<CourseTarget, HttpError> {
    let blank = |s: &Option<String>| s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
    if let Some(course) = blank(&choice.course) {
        let course = catalog::get(&state.db, &course).await?;
        if !catalog::may_view(&actor.principal, &course) {
            return Err(HttpError::not_found(format!("no course {:?}", course.slug)));
        }
        if !catalog::may_edit(&state.db, &actor.principal, &course).await? {
            return Err(HttpError::forbidden(
                "only this course's instructors, its institute's managers and administrators may import new versions",
            ));
        }
        return Ok(CourseTarget::Existing(course));
    }
    let organisation_id = match blank(&choice.institute) {
        Some(slug) => organisations::get_by_slug(&state.db, &slug).await?.id,
        None => match actor.principal.organisation_ids.as_slice() {
            [only] => only.clone(),
            [] => {
                return Err(HttpError::invalid(
                    "institute: you are not a member of any institute; name the institute of the new course",
                ))
            }
            _ => {
                return Err(HttpError::invalid(
                    "institute: you belong to several institutes; say which one the new course is for",
                ))
            }
        },
    };
    if !catalog::may_create_in(&actor.principal, &organisation_id) {
        return Err(HttpError::forbidden(
            "only instructors and managers of the institute, and administrators, may create its courses",
        ));
    }
    Ok(CourseTarget::New { organisation_id, title: blank(&choice.title), slug: None })
}

/// A diagnostic as shown to people and API clients.
#[derive(Debug, Clone, Serialize, poem_openapi::Object)]
pub struct DiagnosticView {
    /// `error` or `warning`.
    pub severity: String,
    /// Stable code, e.g. `launch_file_missing` (see docs/package-inspect.md).
    pub code: String,
    /// What is wrong and what to do about it.
    pub message: String,
    /// Where: an element path in the manifest or an entry in the zip.
    pub path: Option<String>,
    pub line: Option<u32>,
    pub column: Option<u32>,
}

impl From<&cairn_scorm::Diagnostic> for DiagnosticView {
    fn from(d: &cairn_scorm::Diagnostic) -> Self {
        DiagnosticView {
            severity: match d.severity {
                cairn_scorm::Severity::Error => "error".into(),
                cairn_scorm::Severity::Warning => "warning".into(),
            },
            code: d.code.to_string(),
            message: d.message.clone(),
            path: d.location.as_ref().map(|l| l.path.clone()),
            line: d.location.as_ref().and_then(|l| l.line),
            column: d.location.as_ref().and_then(|l| l.column),
        }
    }
}

/// Reads the warnings stored with a package version.
pub fn stored_warnings(json: &str) -> Vec<DiagnosticView> {
    let values: Vec<serde_json::Value> = serde_json::from_str(json).unwrap_or_default();
    values
        .iter()
        .map(|v| DiagnosticView {
            severity: v["severity"].as_str().unwrap_or("warning").to_string(),
            code: v["code"].as_str().unwrap_or("").to_string(),
            message: v["message"].as_str().unwrap_or("").to_string(),
            path: v["location"]["path"].as_str().map(str::to_string),
            line: v["location"]["line"].as_u64().map(|n| n as u32),
            column: v["location"]["column"].as_u64().map(|n| n as u32),
        })
        .collect()
}

/// Imports an uploaded file for `actor`.
pub async fn import_upload(
    state: &AppState,
    actor: &Actor,
    choice: &ImportChoice,
    file: std::fs::File,
    original_filename: String,
) -> Result<ImportOutcome, HttpError> {
    let target = resolve_target(state, actor, choice).await?;
    let request = ImportRequest {
        archive: file,
        original_filename,
        target,
        imported_by: Some(actor.user.id.clone()),
        limits: state.config.package_limits(),
    };
    let outcome = packages::import_package(&state.db, &state.content, request, None).await?;
    match &outcome {
        ImportOutcome::Imported(done) => tracing::info!(
            by = %actor.user.id, course = %done.course.slug, version = done.package.version, files = done.package.file_count,
            "package imported"
        ),
        ImportOutcome::Refused(inspection) => {
            tracing::info!(by = %actor.user.id, errors = inspection.errors.len(), "package refused")
        }
    }
    Ok(outcome)
}
