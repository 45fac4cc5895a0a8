//! CSRF protection for forms: a random token in a `SameSite=Strict` cookie that every form
//! must send back in a hidden `csrf_token` field (the double-submit pattern).
//!
//! A cross-site page can make the browser send our cookies but cannot read them, so it
//! cannot put the matching value in the form. Session cookies are also `SameSite=Lax`,
//! which stops cross-site POSTs in current browsers; the token covers older ones and
//! same-site attackers on sibling subdomains that cannot set our host-only cookie.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use poem::web::cookie::{Cookie, CookieJar, SameSite};
use poem::{FromRequest, Request, RequestBody};
use rand::rngs::OsRng;
use rand::RngCore;
use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::errors::HttpError;

pub const CSRF_COOKIE: &str = "cairn_csrf";
pub const CSRF_FIELD: &str = "csrf_token";
/// Header that API clients using the session cookie send on unsafe methods.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The token of this browser, creating and setting the cookie when it has none.
pub fn ensure_token(jar: &CookieJar, secure: bool) -> String {
    if let Some(existing) = jar.get(CSRF_COOKIE).map(|c| c.value_str().to_string()).filter(|v| v.len() == 43) {
        return existing;
    }
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let mut cookie = Cookie::new_with_str(CSRF_COOKIE, token.clone());
    cookie.set_path("/");
    cookie.set_http_only(true);
    cookie.set_same_site(SameSite::Strict);
    cookie.set_secure(secure);
    jar.add(cookie);
    token
}

/// Checks a submitted token against the cookie in constant time.
pub fn verify(jar: &CookieJar, submitted: Option<&str>) -> Result<(), HttpError> {
    let expected = jar.get(CSRF_COOKIE).map(|c| c.value_str().to_string());
    let ok = match (expected, submitted) {
        (Some(expected), Some(submitted)) if !expected.is_empty() => {
            constant_time_eq(expected.as_bytes(), submitted.as_bytes())
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(HttpError::forbidden(
            "this form has expired or did not come from Cairn (CSRF check failed); reload the page and submit it again",
        ))
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A URL-encoded form whose CSRF token has been verified. Every page that accepts a POST
/// takes its form through this extractor, so none can forget the check.
pub struct VerifiedForm<T>(pub T);

#[derive(Deserialize)]
struct TokenOnly {
    csrf_token: Option<String>,
}

impl<'a, T: DeserializeOwned> FromRequest<'a> for VerifiedForm<T> {
    async fn from_request(req: &'a Request, body: &mut RequestBody) -> poem::Result<Self> {
        let bytes = body.take()?.into_vec().await?;
        let token: TokenOnly = serde_urlencoded::from_bytes(&bytes)
            .map_err(|e| HttpError::bad_request(format!("the form could not be read: {e}")))?;
        verify(req.cookie(), token.csrf_token.as_deref())?;
        let form = serde_urlencoded::from_bytes(&bytes)
            .map_err(|e| HttpError::invalid(format!("the form is incomplete: {e}")))?;
        Ok(VerifiedForm(form))
    }
}

/// Checks the CSRF token of a multipart form, which must be its first field, so that a
/// forged upload is refused before any file is read. The caller reads the other fields.
pub async fn verify_multipart(jar: &CookieJar, form: &mut poem::web::Multipart) -> Result<(), HttpError> {
    let first = form.next_field().await.map_err(|e| super::multipart::unreadable(&e))?;
    let token = match first {
        Some(field) if field.name() == Some(CSRF_FIELD) => Some(super::multipart::text(field).await?),
        _ => None,
    };
    verify(jar, token.as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_must_match_exactly() {
        let jar = CookieJar::default();
        let token = ensure_token(&jar, false);
        assert_eq!(ensure_token(&jar, false), token, "a browser keeps its token");
        assert!(verify(&jar, Some(&token)).is_ok());
        assert!(verify(&jar, Some("forged")).is_err());
        assert!(verify(&jar, None).is_err());
        assert!(verify(&CookieJar::default(), Some(&token)).is_err(), "no cookie, no pass");
    }
}
