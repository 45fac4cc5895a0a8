//! Cross-cutting HTTP behaviour: request ids and access logs, body limits, security headers.

use std::time::Instant;

use poem::http::header::{self, HeaderValue};
use poem::http::StatusCode;
use poem::{Body, Endpoint, Request, Response};
use tracing::Instrument;

use super::errors::HttpError;

/// Header that carries the request id in both directions.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

tokio::task_local! {
    /// The id of the request being served, for error pages and logs deep in the stack.
    pub static CURRENT_REQUEST_ID: String;
}

/// The id of the request being served on this task, if any.
pub fn current_request_id() -> Option<String> {
    CURRENT_REQUEST_ID.try_with(Clone::clone).ok()
}

/// Gives every request an id (reusing a sane incoming `X-Request-Id` from a proxy), runs it
/// inside a tracing span that carries the id, logs one access line, and echoes the id.
pub async fn request_id<E: Endpoint>(next: E, req: Request) -> poem::Result<Response> {
    let id = req
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty() && v.len() <= 64 && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
    let span = tracing::info_span!("request", id = %id, method = %req.method(), path = %req.uri().path());
    let scoped_id = id.clone();
    let fut = async move {
        let started = Instant::now();
        let mut response = next.get_response(req).await;
        let status = response.status();
        let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
        if status.is_server_error() {
            tracing::warn!(status = status.as_u16(), elapsed_ms, "served");
        } else {
            tracing::info!(status = status.as_u16(), elapsed_ms, "served");
        }
        if let Ok(value) = HeaderValue::from_str(&id) {
            response.headers_mut().insert(REQUEST_ID_HEADER, value);
        }
        Ok(response)
    }
    .instrument(span);
    CURRENT_REQUEST_ID.scope(scoped_id, fut).await
}

/// Body size rules: ordinary requests (JSON, forms) and package uploads.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimits {
    pub default: u64,
    pub upload: u64,
}

/// Paths that take package uploads, with their own (larger) limit.
pub const UPLOAD_PATHS: [&str; 2] = ["/api/v1/packages", "/teach/import"];

/// Largest body of a small file upload (a bulk-enrolment CSV or a course image): the
/// file limits of those forms (2 MiB each) plus room for the form around them.
pub const SMALL_FILE_BODY_BYTES: u64 = 3 * 1024 * 1024;

/// Whether a path takes a small file upload; their handlers enforce the exact file limits.
fn is_small_file_upload(path: &str) -> bool {
    path.starts_with("/courses/") && (path.ends_with("/enrolments/bulk") || path.ends_with("/images"))
        || path.starts_with("/api/v1/courses/") && path.ends_with("/enrolments/bulk")
}

/// Refuses bodies over the limit with 413 before a handler reads them: by the declared
/// `Content-Length`, and for chunked bodies by reading at most `limit + 1` bytes. Uploads
/// must declare their length (browsers and curl do), so a large upload is refused before
/// a byte is stored, and is never buffered in memory.
pub async fn limit_body<E: Endpoint>(next: E, mut req: Request, limits: BodyLimits) -> poem::Result<E::Output> {
    let is_upload = UPLOAD_PATHS.contains(&req.original_uri().path());
    let (limit, setting) = if is_upload {
        (limits.upload, "CAIRN_MAX_PACKAGE_BYTES")
    } else if is_small_file_upload(req.original_uri().path()) {
        (limits.default.max(SMALL_FILE_BODY_BYTES), "CAIRN_MAX_BODY_BYTES, at least 3 MiB for CSV files and images")
    } else {
        (limits.default, "CAIRN_MAX_BODY_BYTES")
    };
    let too_large = || {
        HttpError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the request body is larger than the {limit}-byte limit ({setting})"),
        )
    };
    let declared =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(length) if length > limit => return Err(too_large().into()),
        Some(_) => {}
        None if req.headers().contains_key(header::TRANSFER_ENCODING) => {
            if is_upload {
                return Err(HttpError::new(
                    StatusCode::LENGTH_REQUIRED,
                    "length_required",
                    "package uploads must declare their size in Content-Length",
                )
                .into());
            }
            let body = req.take_body();
            let bytes = body.into_bytes_limit(limit as usize).await.map_err(|_| too_large())?;
            req.set_body(Body::from(bytes));
        }
        None => {}
    }
    next.call(req).await
}

/// Headers every answer carries: no MIME sniffing, no referrer leaks, and framing only by
/// pages of the same origin (the player frames course content; nobody else may frame us).
pub async fn security_headers<E: Endpoint>(next: E, req: Request) -> poem::Result<Response> {
    // `get_response` turns errors into responses first, so error pages carry the headers too.
    let mut response = next.get_response(req).await;
    let headers = response.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("SAMEORIGIN"));
    Ok(response)
}
