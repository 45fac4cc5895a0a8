//! Who is calling: resolves a session cookie or a bearer token to an [`Actor`].

use cairn_core::accounts::policy::Principal;
use cairn_core::accounts::{self, tokens, User};
use poem::web::cookie::{Cookie, CookieJar, SameSite};

use crate::app::AppState;
use crate::sessions::{SessionData, SESSION_COOKIE};
use crate::web::errors::HttpError;

/// An authenticated user with what the authorisation rules need to know about them.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user: User,
    pub principal: Principal,
}

impl Actor {
    pub async fn for_user(state: &AppState, user: User) -> Result<Actor, HttpError> {
        let organisation_ids = accounts::organisation_ids(&state.db, &user.id).await?;
        let principal = Principal { user_id: user.id.clone(), role: user.role, organisation_ids };
        Ok(Actor { user, principal })
    }
}

/// The actor behind a session cookie value, if the session and the account are live.
pub async fn from_session(state: &AppState, token: &str) -> Result<Option<Actor>, HttpError> {
    let Some(session) = state.sessions.get(token, state.session_ttl()).await? else {
        return Ok(None);
    };
    match accounts::find_with_organisations(&state.db, &session.user_id).await? {
        Some((user, organisation_ids)) if user.active => {
            let principal = Principal { user_id: user.id.clone(), role: user.role, organisation_ids };
            Ok(Some(Actor { user, principal }))
        }
        _ => Ok(None),
    }
}

/// The actor behind an API token, if it is live.
pub async fn from_token(state: &AppState, secret: &str) -> Result<Option<Actor>, HttpError> {
    match tokens::authenticate(&state.db, secret).await? {
        Some(user) => Ok(Some(Actor::for_user(state, user).await?)),
        None => Ok(None),
    }
}

/// The actor of a browser request, from its session cookie.
pub async fn from_cookies(state: &AppState, jar: &CookieJar) -> Result<Option<Actor>, HttpError> {
    match jar.get(SESSION_COOKIE) {
        Some(cookie) => from_session(state, cookie.value_str()).await,
        None => Ok(None),
    }
}

/// Starts a session for `user` and sets its cookie.
pub async fn start_session(state: &AppState, jar: &CookieJar, user: &User) -> Result<(), HttpError> {
    let data = SessionData { user_id: user.id.clone(), created_at: time::OffsetDateTime::now_utc().unix_timestamp() };
    let token = state.sessions.create(data, state.session_ttl()).await?;
    let mut cookie = Cookie::new_with_str(SESSION_COOKIE, token);
    cookie.set_path("/");
    cookie.set_http_only(true);
    cookie.set_same_site(SameSite::Lax);
    cookie.set_secure(state.config.secure_cookies());
    jar.add(cookie);
    Ok(())
}

/// Ends the browser's session, if any, and clears its cookie.
pub async fn end_session(state: &AppState, jar: &CookieJar) -> Result<(), HttpError> {
    if let Some(cookie) = jar.get(SESSION_COOKIE) {
        state.sessions.delete(cookie.value_str()).await?;
    }
    let mut removal = Cookie::named(SESSION_COOKIE);
    removal.set_path("/");
    removal.make_removal();
    jar.add(removal);
    Ok(())
}
