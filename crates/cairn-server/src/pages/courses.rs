//! The instructor's package upload page (a new course or a new version of one).

use std::sync::Arc;

use cairn_core::accounts::Role;
use cairn_core::packages::ImportOutcome;
use cairn_core::{catalog, organisations};
use poem::http::StatusCode;
use poem::web::cookie::CookieJar;
use poem::web::{Data, Multipart, Query};
use poem::{handler, IntoResponse, Response};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{see_other, CurrentUser, PageContext};
use crate::app::AppState;
use crate::auth::Actor;
use crate::imports::{self, DiagnosticView, ImportChoice};
use crate::web::errors::HttpError;
use crate::web::{csrf, multipart};

const STAFF: [Role; 3] = [Role::Instructor, Role::Manager, Role::Admin];

pub(super) fn diagnostic_rows(list: &[DiagnosticView]) -> Vec<Value> {
    list.iter()
        .map(|d| {
            let place = match (&d.path, d.line) {
                (Some(path), Some(line)) => Some(format!("{path}, line {line}")),
                (Some(path), None) => Some(path.clone()),
                _ => None,
            };
            json!({ "message": capitalise(&d.message), "code": d.code, "place": place })
        })
        .collect()
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

pub(super) fn standard_label(standard: &str, edition: Option<&str>) -> String {
    match (standard, edition) {
        ("scorm12", _) => "SCORM 1.2".into(),
        ("scorm2004", Some(e)) => format!("SCORM 2004 {e} edition"),
        ("scorm2004", None) => "SCORM 2004".into(),
        (other, _) => other.to_string(),
    }
}

pub(super) fn human_bytes(n: i64) -> String {
    match n {
        n if n >= 1 << 30 => format!("{:.1} GB", n as f64 / (1u64 << 30) as f64),
        n if n >= 1 << 20 => format!("{:.1} MB", n as f64 / (1u64 << 20) as f64),
        n if n >= 1 << 10 => format!("{:.0} KB", n as f64 / 1024.0),
        n => format!("{n} bytes"),
    }
}

async fn import_form(
    state: &AppState,
    jar: &CookieJar,
    actor: &Actor,
    choice: &ImportChoice,
) -> Result<PageContext, HttpError> {
    let institutes = organisations::of_user(&state.db, &actor.user.id).await?;
    let all_institutes = if actor.principal.is_admin() {
        organisations::list(&state.db).await?.into_iter().map(|o| (o.slug, o.name)).collect()
    } else {
        institutes.into_iter().map(|o| (o.slug, o.name)).collect::<Vec<_>>()
    };
    let mut courses = Vec::new();
    for course in catalog::visible_to(&state.db, &actor.principal).await? {
        if catalog::may_edit(&state.db, &actor.principal, &course).await? {
            courses.push(json!({ "slug": course.slug, "title": course.title, "selected": choice.course.as_deref() == Some(course.slug.as_str()) }));
        }
    }
    let page = json!({
        "institutes": all_institutes.iter().map(|(slug, name)| json!({ "slug": slug, "name": name, "selected": choice.institute.as_deref() == Some(slug.as_str()) })).collect::<Vec<_>>(),
        "choose_institute": all_institutes.len() > 1,
        "courses": courses,
        "title": choice.title.clone().unwrap_or_default(),
        "max_size": human_bytes(state.config.max_package_bytes as i64),
        "refused": null,
    });
    Ok(PageContext::new(state, jar, Some(actor), "Import a package", "/teach").page(page))
}

#[derive(Deserialize)]
pub struct ImportQuery {
    course: Option<String>,
}

#[handler]
pub async fn import_page(
    state: Data<&Arc<AppState>>,
    jar: &CookieJar,
    user: CurrentUser,
    query: Query<ImportQuery>,
) -> Result<Response, HttpError> {
    let actor = user.require(&STAFF)?;
    let choice = ImportChoice { course: query.course.clone(), ..ImportChoice::default() };
    Ok(import_form(&state, jar, actor, &choice).await?.render(&state, "pages/import")?.into_response())
}

/// Takes the upload form. The CSRF token must be the first field, so a forged request is
/// refused before any file is stored.
#[handler]
pub async fn import(
    state: Data<&Arc<AppState>>,
    jar: &CookieJar,
    user: CurrentUser,
    mut form: Multipart,
) -> Result<Response, HttpError> {
    let actor = user.require(&STAFF)?;
    csrf::verify_multipart(jar, &mut form).await?;
    let mut choice = ImportChoice::default();
    let mut upload: Option<(std::fs::File, String)> = None;
    while let Some(field) = form.next_field().await.map_err(|e| multipart::unreadable(&e))? {
        let name = field.name().unwrap_or("").to_string();
        match name.as_str() {
            "course" => choice.course = Some(multipart::text(field).await?),
            "institute" => choice.institute = Some(multipart::text(field).await?),
            "title" => choice.title = Some(multipart::text(field).await?),
            "file" => {
                let filename = field.file_name().unwrap_or("package.zip").to_string();
                let file = field.tempfile().await.map_err(|e| multipart::unreadable(&e))?.into_std().await;
                upload = Some((file, filename));
            }
            _ => {}
        }
    }
    let Some((file, filename)) = upload.filter(|(f, _)| f.metadata().is_ok_and(|m| m.len() > 0)) else {
        let context = import_form(&state, jar, actor, &choice).await?.error("Choose a package file (.zip) to import.");
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, context.render(&state, "pages/import")?).into_response());
    };
    let outcome = match imports::import_upload(&state, actor, &choice, file, filename.clone()).await {
        Ok(outcome) => outcome,
        Err(e) if e.status.is_client_error() => {
            let context =
                import_form(&state, jar, actor, &choice).await?.error(format!("Nothing was imported: {}.", e.message));
            return Ok((e.status, context.render(&state, "pages/import")?).into_response());
        }
        Err(e) => return Err(e),
    };
    match outcome {
        ImportOutcome::Imported(done) => {
            Ok(see_other(&format!("/courses/{}?imported={}", done.course.slug, done.package.version)))
        }
        ImportOutcome::Refused(inspection) => {
            let mut context = import_form(&state, jar, actor, &choice).await?;
            context.page["refused"] = json!({
                "file": filename,
                "standard": inspection.standard.display_name(),
                "errors": diagnostic_rows(&inspection.errors.iter().map(DiagnosticView::from).collect::<Vec<_>>()),
                "warnings": diagnostic_rows(&inspection.warnings.iter().map(DiagnosticView::from).collect::<Vec<_>>()),
            });
            let context =
                context.error("The package was not imported. Nothing was stored; the problems are listed below.");
            Ok((StatusCode::UNPROCESSABLE_ENTITY, context.render(&state, "pages/import")?).into_response())
        }
    }
}
