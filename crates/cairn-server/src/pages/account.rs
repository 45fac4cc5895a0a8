//! The signed-in user's own account: profile, password change and API tokens.

use std::sync::Arc;

use cairn_core::accounts::{self, tokens, AccountError};
use cairn_core::organisations;
use poem::http::StatusCode;
use poem::web::cookie::CookieJar;
use poem::web::{Data, Path};
use poem::{handler, IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::admin::date;
use super::{see_other, CurrentUser, PageContext};
use crate::app::AppState;
use crate::auth::Actor;
use crate::web::csrf::VerifiedForm;
use crate::web::errors::HttpError;

async fn profile_page(state: &AppState, jar: &CookieJar, actor: &Actor) -> Result<PageContext, HttpError> {
    let institutes = organisations::of_user(&state.db, &actor.user.id).await?;
    let page = json!({
        "name": actor.user.name, "email": actor.user.email, "role_label": actor.user.role.label(),
        "since": date(actor.user.created_at),
        "institutes": institutes.iter().map(|o| json!({ "name": o.name })).collect::<Vec<_>>(),
    });
    Ok(PageContext::new(state, jar, Some(actor), "Your account", "/account").page(page))
}

#[handler]
pub async fn profile(state: Data<&Arc<AppState>>, jar: &CookieJar, user: CurrentUser) -> Result<Response, HttpError> {
    Ok(profile_page(&state, jar, &user.0).await?.render(&state, "pages/account")?.into_response())
}

#[derive(Deserialize)]
pub struct PasswordForm {
    current_password: String,
    new_password: String,
    confirm_password: String,
}

#[handler]
pub async fn change_password(
    state: Data<&Arc<AppState>>,
    jar: &CookieJar,
    user: CurrentUser,
    VerifiedForm(form): VerifiedForm<PasswordForm>,
) -> Result<Response, HttpError> {
    let actor = &user.0;
    let context = profile_page(&state, jar, actor).await?;
    let fail = |message: &str| -> Result<Response, HttpError> {
        Ok((StatusCode::UNPROCESSABLE_ENTITY, context.error(message.to_string()).render(&state, "pages/account")?)
            .into_response())
    };
    if form.new_password != form.confirm_password {
        return fail("The new passwords do not match; nothing was changed.");
    }
    match accounts::authenticate(&state.db, &actor.user.email, &form.current_password).await {
        Ok(_) => {}
        Err(AccountError::BadCredentials) => return fail("Your current password is wrong; nothing was changed."),
        Err(e) => return Err(e.into()),
    }
    match accounts::set_password(&state.db, &actor.user.id, &form.new_password).await {
        Ok(()) => Ok(profile_page(&state, jar, actor)
            .await?
            .notice("Your password has been changed.")
            .render(&state, "pages/account")?
            .into_response()),
        Err(AccountError::Invalid(i)) => fail(&format!("The new password was refused: {i}.")),
        Err(e) => Err(e.into()),
    }
}

async fn tokens_page(state: &AppState, jar: &CookieJar, actor: &Actor) -> Result<PageContext, HttpError> {
    let list = tokens::list(&state.db, &actor.user.id).await?;
    let rows: Vec<_> = list
        .iter()
        .map(|t| {
            json!({
                "id": t.id, "name": t.name, "prefix": t.prefix, "created": date(t.created_at),
                "last_used": t.last_used_at.map(date), "revoked": t.revoked_at.map(date),
            })
        })
        .collect();
    Ok(PageContext::new(state, jar, Some(actor), "API tokens", "/account")
        .page(json!({ "tokens": rows, "secret": null })))
}

#[handler]
pub async fn token_list(
    state: Data<&Arc<AppState>>,
    jar: &CookieJar,
    user: CurrentUser,
) -> Result<Response, HttpError> {
    Ok(tokens_page(&state, jar, &user.0).await?.render(&state, "pages/tokens")?.into_response())
}

#[derive(Deserialize)]
pub struct TokenForm {
    name: String,
}

#[handler]
pub async fn create_token(
    state: Data<&Arc<AppState>>,
    jar: &CookieJar,
    user: CurrentUser,
    VerifiedForm(form): VerifiedForm<TokenForm>,
) -> Result<Response, HttpError> {
    let actor = &user.0;
    match tokens::create(&state.db, &actor.user.id, &form.name).await {
        Ok(created) => {
            let mut context = tokens_page(&state, jar, actor).await?;
            context.page["secret"] = json!(created.secret);
            Ok(context
                .notice("Token created. Copy it now: it will not be shown again.")
                .render(&state, "pages/tokens")?
                .into_response())
        }
        Err(AccountError::Invalid(i)) => {
            let context = tokens_page(&state, jar, actor).await?;
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                context.error(format!("No token was created: {i}.")).render(&state, "pages/tokens")?,
            )
                .into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[handler]
pub async fn revoke_token(
    state: Data<&Arc<AppState>>,
    user: CurrentUser,
    id: Path<String>,
    _form: VerifiedForm<serde_json::Value>,
) -> Result<Response, HttpError> {
    tokens::revoke(&state.db, &user.0.user.id, &id).await?;
    Ok(see_other("/account/tokens"))
}
