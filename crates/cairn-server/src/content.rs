//! `/content/{package}/{path}`: the files of imported packages, for the learners and staff
//! who may see the course, with MIME types, ETags, conditional requests and ranges.
//!
//! Framing is allowed only by Cairn's own pages (`X-Frame-Options: SAMEORIGIN` and CSP
//! `frame-ancestors 'self'`), so the player can show content and other sites cannot.

use std::sync::Arc;

use cairn_core::{catalog, packages};
use poem::error::ResponseError;
use poem::http::header::{self, HeaderValue};
use poem::web::{Data, Path, StaticFileRequest};
use poem::{handler, IntoResponse, Response};

use crate::app::AppState;
use crate::pages::CurrentUser;
use crate::web::errors::HttpError;

#[handler]
pub async fn serve(
    state: Data<&Arc<AppState>>,
    user: CurrentUser,
    Path((package_id, path)): Path<(String, String)>,
    request: StaticFileRequest,
) -> Result<Response, HttpError> {
    let not_found = || HttpError::not_found("there is no such file in this course");
    let package = packages::find(&state.db, &package_id).await?.ok_or_else(not_found)?;
    let course = catalog::find(&state.db, &package.course_id).await?.ok_or_else(not_found)?;
    // Package files are for those who take the course (enrolled learners) and its editors.
    if !catalog::may_view(&user.0.principal, &course)
        || !cairn_core::enrolments::may_take(&state.db, &user.0.principal, &course).await?
    {
        return Err(not_found());
    }
    let file = state.content.resolve(&package.id, &path).map_err(|_| not_found())?;
    let mut response = request
        .create_response(&file, true, false)
        .map_err(|e| HttpError::new(e.status(), "not_servable", e.to_string()))?
        .into_response();
    let headers = response.headers_mut();
    if !headers.contains_key(header::CONTENT_TYPE) {
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
    }
    // Content is private to the course's audience; browsers may keep it, shared caches not.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=3600"));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("frame-ancestors 'self'"));
    Ok(response)
}
