//! Course images: the cover and pictures for reading pages, uploaded by editors, checked
//! by their first bytes, stored under the data folder and served to the course's audience.

use std::sync::Arc;

use cairn_core::catalog;
use poem::web::cookie::CookieJar;
use poem::web::{Data, Multipart, Path};
use poem::{handler, Response};

use super::authoring::{back_to_editor, editable, refused};
use super::CurrentUser;
use crate::app::AppState;
use crate::web::errors::HttpError;
use crate::web::{csrf, multipart};

/// Largest course image (cover or picture for a page).
pub const MAX_IMAGE_BYTES: usize = 2 * 1024 * 1024;

/// Where a course's images live: `<data_dir>/media/courses/<course id>/`.
pub fn media_dir(state: &AppState, course_id: &str) -> std::path::PathBuf {
    state.config.data_dir.join("media").join("courses").join(course_id)
}

pub(super) fn list_media(state: &AppState, course_id: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(media_dir(state, course_id))
        .map(|dir| dir.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    names.retain(|n| is_media_name(n));
    names.sort();
    names
}

/// Media file names are made by Cairn (uuid + extension); anything else is refused.
pub fn is_media_name(name: &str) -> bool {
    let Some((stem, ext)) = name.rsplit_once('.') else { return false };
    !stem.is_empty()
        && stem.len() <= 64
        && stem.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
        && matches!(ext, "png" | "jpg" | "gif" | "webp")
}

/// The image type from its first bytes; the declared type and name are not trusted.
pub fn sniff_image(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("jpg")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("gif")
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("webp")
    } else {
        None
    }
}

/// Takes an image upload (`purpose` = cover or image). The CSRF token comes first.
#[handler]
pub async fn upload_image(
    state: Data<&Arc<AppState>>,
    jar: &CookieJar,
    user: CurrentUser,
    id: Path<String>,
    mut form: Multipart,
) -> Result<Response, HttpError> {
    let actor = &user.0;
    let course = editable(&state, actor, &id).await?;
    csrf::verify_multipart(jar, &mut form).await?;
    let mut purpose = String::new();
    let mut bytes: Option<Vec<u8>> = None;
    while let Some(field) = form.next_field().await.map_err(|e| multipart::unreadable(&e))? {
        match field.name().unwrap_or("") {
            "purpose" => purpose = multipart::text(field).await?,
            "file" => bytes = Some(multipart::bytes_up_to(field, MAX_IMAGE_BYTES).await?),
            _ => {}
        }
    }
    let problem = match &bytes {
        None => Some("choose an image file".to_string()),
        Some(b) if b.is_empty() => Some("choose an image file".to_string()),
        Some(b) if b.len() > MAX_IMAGE_BYTES => Some(format!("images may be at most {} MB", MAX_IMAGE_BYTES >> 20)),
        Some(b) if sniff_image(b).is_none() => Some("only PNG, JPEG, GIF and WebP images are accepted".to_string()),
        _ => None,
    };
    if let Some(problem) = problem {
        return refused(&state, jar, actor, &course, HttpError::invalid(problem)).await;
    }
    let bytes = bytes.unwrap_or_default();
    let name = format!("{}.{}", uuid::Uuid::new_v4(), sniff_image(&bytes).unwrap_or("png"));
    let dir = media_dir(&state, &course.id);
    let write = || -> std::io::Result<()> {
        std::fs::create_dir_all(&dir)?;
        // Written under a temporary name and renamed, so a half-written image is never served.
        let partial = dir.join(format!(".{name}.partial"));
        std::fs::write(&partial, &bytes)?;
        std::fs::rename(&partial, dir.join(&name))
    };
    write().map_err(|e| HttpError::internal(&e))?;
    if purpose == "cover" {
        catalog::set_cover_image(&state.db, &course.id, Some(&name)).await?;
    }
    Ok(back_to_editor(&course))
}

/// Serves a course image to whoever may see the course.
#[handler]
pub async fn serve_media(
    state: Data<&Arc<AppState>>,
    user: CurrentUser,
    Path((course_id, file)): Path<(String, String)>,
) -> Result<Response, HttpError> {
    let course = crate::api::courses::visible_course(&state, &user.0, &course_id).await?;
    if !is_media_name(&file) {
        return Err(HttpError::not_found("no such image"));
    }
    let path = media_dir(&state, &course.id).join(&file);
    let bytes = tokio::fs::read(&path).await.map_err(|_| HttpError::not_found("no such image"))?;
    let mime = match file.rsplit_once('.').map(|(_, e)| e) {
        Some("png") => "image/png",
        Some("jpg") => "image/jpeg",
        Some("gif") => "image/gif",
        _ => "image/webp",
    };
    Ok(Response::builder()
        .content_type(mime)
        .header("Cache-Control", "private, max-age=86400")
        .header("X-Content-Type-Options", "nosniff")
        .body(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_names_and_types() {
        for (name, ok) in [
            ("0b7c3f0e-6a0e-4c57-9d57-3d5a1d1e2f3a.png", true),
            ("abc.webp", true),
            ("../x.png", false),
            ("x.svg", false),
            (".partial.png", false),
            ("a.png.partial", false),
        ] {
            assert_eq!(is_media_name(name), ok, "{name}");
        }
        assert_eq!(sniff_image(b"\x89PNG\r\n\x1a\n...."), Some("png"));
        assert_eq!(sniff_image(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("jpg"));
        assert_eq!(sniff_image(b"RIFF\0\0\0\0WEBPVP8 "), Some("webp"));
        assert_eq!(sniff_image(b"<svg onload=alert(1)>"), None);
    }
}
