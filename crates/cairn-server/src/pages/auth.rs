//! Sign-in and sign-out pages, with login rate limiting.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use cairn_core::accounts::{self, AccountError};
use poem::http::StatusCode;
use poem::web::cookie::CookieJar;
use poem::web::{Data, Query};
use poem::{handler, IntoResponse, Request, Response};
use serde::Deserialize;
use serde_json::json;

use super::{landing_path, see_other, PageContext};
use crate::app::AppState;
use crate::rate_limit::Decision;
use crate::web::csrf::VerifiedForm;
use crate::web::errors::HttpError;

#[derive(Deserialize)]
pub struct NextParam {
    next: Option<String>,
}

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
    next: Option<String>,
}

/// Only local paths are followed after login, so the login page cannot be used to send
/// people to another site ("open redirect").
fn safe_next(next: Option<&str>) -> Option<String> {
    // Browsers drop tabs and line breaks inside URLs and read a backslash as a slash, so
    // `/\t/evil.example` would become `//evil.example`: any of them is refused outright.
    next.filter(|n| {
        n.starts_with('/')
            && !n.starts_with("//")
            && !n.contains('\\')
            && !n.contains("://")
            && !n.chars().any(|c| c.is_control())
    })
    .map(str::to_string)
}

#[handler]
pub async fn login_form(
    state: Data<&Arc<AppState>>,
    jar: &CookieJar,
    query: Query<NextParam>,
) -> Result<Response, HttpError> {
    if let Some(actor) = crate::auth::from_cookies(&state, jar).await? {
        return Ok(see_other(landing_path(actor.user.role)));
    }
    let next = safe_next(query.next.as_deref());
    Ok(PageContext::new(&state, jar, None, "Sign in", "/login")
        .page(json!({ "email": "", "next": next }))
        .render(&state, "pages/login")?
        .into_response())
}

#[handler]
pub async fn login(
    state: Data<&Arc<AppState>>,
    jar: &CookieJar,
    req: &Request,
    VerifiedForm(form): VerifiedForm<LoginForm>,
) -> Result<Response, HttpError> {
    let config = &state.config;
    let ip = client_ip(req, config.trust_proxy).map(|ip| ip.to_string()).unwrap_or_else(|| "unknown".into());
    let email = form.email.trim().to_lowercase();
    let window = Duration::from_secs(config.login_window_secs.max(1));
    // Two counters: one per account and address (stops guessing one password), one per
    // address (stops spraying many accounts). Every attempt counts, so the limit cannot be
    // dodged by mixing in correct guesses.
    for (key, limit) in [
        (format!("login:{ip}:{email}"), config.login_max_attempts),
        (format!("login-ip:{ip}"), config.login_max_attempts_per_ip),
    ] {
        if let Decision::Limited { retry_after } = state.limiter.hit(&key, limit, window).await? {
            tracing::warn!(%ip, "login rate limit reached");
            return Err(HttpError::too_many_requests(retry_after.as_secs().max(1)));
        }
    }
    let next = safe_next(form.next.as_deref());
    match accounts::authenticate(&state.db, &email, &form.password).await {
        Ok(user) => {
            crate::auth::end_session(&state, jar).await?;
            crate::auth::start_session(&state, jar, &user).await?;
            tracing::info!(user = %user.id, "signed in");
            Ok(see_other(next.as_deref().unwrap_or(landing_path(user.role))))
        }
        Err(AccountError::BadCredentials) => {
            let page = PageContext::new(&state, jar, None, "Sign in", "/login")
                .page(json!({ "email": form.email, "next": next }))
                .error("The e-mail or password is wrong. Check them and try again.")
                .render(&state, "pages/login")?;
            Ok((StatusCode::UNAUTHORIZED, page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[handler]
pub async fn logout(
    state: Data<&Arc<AppState>>,
    jar: &CookieJar,
    _form: VerifiedForm<serde_json::Value>,
) -> Result<Response, HttpError> {
    crate::auth::end_session(&state, jar).await?;
    Ok(see_other("/"))
}

/// The client's address: the socket peer, or the first `X-Forwarded-For` hop when Cairn
/// runs behind a trusted proxy.
pub fn client_ip(req: &Request, trust_proxy: bool) -> Option<IpAddr> {
    if trust_proxy {
        let forwarded = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .and_then(|v| v.trim().parse().ok());
        if forwarded.is_some() {
            return forwarded;
        }
    }
    req.remote_addr().as_socket_addr().map(|a| a.ip())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_next_paths_are_followed() {
        let cases = [
            (Some("/admin/users?q=a"), Some("/admin/users?q=a")),
            (Some("//evil.example"), None),
            (Some("/\\evil.example"), None),
            (Some("https://evil.example"), None),
            (Some("/redirect?to=https://evil.example"), None),
            (Some("admin"), None),
            (Some("/\t/evil.example"), None),
            (Some("/\n/evil.example"), None),
            (Some("/a\\b"), None),
            (None, None),
        ];
        for (input, expected) in cases {
            assert_eq!(safe_next(input).as_deref(), expected, "{input:?}");
        }
    }
}
