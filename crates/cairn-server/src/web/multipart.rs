//! Reading multipart forms (uploads) with explicit limits: short text fields, files held
//! in memory up to a size, and one answer for a body that cannot be parsed. The CSRF check
//! of such forms is `csrf::verify_multipart`.

use poem::web::Field;
use tokio::io::AsyncReadExt as _;

use super::errors::HttpError;

/// Longest text field accepted in an upload form (course, institute, title, action).
pub const MAX_TEXT_FIELD: u64 = 1024;

/// Reads a short text field, refusing one longer than [`MAX_TEXT_FIELD`].
pub async fn text(field: Field) -> Result<String, HttpError> {
    let mut text = String::new();
    field
        .into_async_read()
        .take(MAX_TEXT_FIELD + 1)
        .read_to_string(&mut text)
        .await
        .map_err(|e| HttpError::bad_request(format!("the form could not be read: {e}")))?;
    if text.len() as u64 > MAX_TEXT_FIELD {
        return Err(HttpError::invalid(format!("a form field is longer than {MAX_TEXT_FIELD} characters")));
    }
    Ok(text)
}

/// Reads a file field into memory, at most `limit + 1` bytes, so that the caller can tell
/// a file over its limit from one at it and refuse it with its own message.
pub async fn bytes_up_to(field: Field, limit: usize) -> Result<Vec<u8>, HttpError> {
    let mut data = Vec::new();
    field.into_async_read().take(limit as u64 + 1).read_to_end(&mut data).await.map_err(|e| unreadable(&e))?;
    Ok(data)
}

/// The answer to an upload that cannot be read.
pub fn unreadable(e: &dyn std::fmt::Display) -> HttpError {
    HttpError::bad_request(format!("the upload could not be read: {e}"))
}
