//! Invitations: the page where a person whose account was made for them (by a bulk
//! enrolment) chooses a password with the one-time link from their e-mail.

use std::sync::Arc;

use cairn_core::accounts::invitations;
use poem::http::StatusCode;
use poem::web::cookie::CookieJar;
use poem::web::{Data, Path};
use poem::{handler, IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::{see_other, PageContext};
use crate::app::AppState;
use crate::web::csrf::VerifiedForm;
use crate::web::errors::HttpError;

fn expired() -> HttpError {
    HttpError::not_found("this invitation link has been used or has expired; ask your institute for a new one")
}

#[handler]
pub async fn invite_form(
    state: Data<&Arc<AppState>>,
    jar: &CookieJar,
    token: Path<String>,
) -> Result<Response, HttpError> {
    let user = invitations::find_valid(&state.db, &token).await?.ok_or_else(expired)?;
    let page = json!({ "token": *token, "name": user.name, "email": user.email });
    Ok(PageContext::new(&state, jar, None, "Choose your password", "/")
        .page(page)
        .render(&state, "pages/invite")?
        .into_response())
}

#[derive(Deserialize)]
pub struct PasswordForm {
    password: String,
}

#[handler]
pub async fn accept(
    state: Data<&Arc<AppState>>,
    jar: &CookieJar,
    token: Path<String>,
    VerifiedForm(form): VerifiedForm<PasswordForm>,
) -> Result<Response, HttpError> {
    let user = invitations::find_valid(&state.db, &token).await?.ok_or_else(expired)?;
    match invitations::accept(&state.db, &token, &form.password).await {
        Ok(_) => Ok(see_other("/login?invited=1")),
        Err(cairn_core::accounts::AccountError::Invalid(e)) => {
            let page = json!({ "token": *token, "name": user.name, "email": user.email });
            let context =
                PageContext::new(&state, jar, None, "Choose your password", "/").page(page).error(e.to_string());
            Ok((StatusCode::UNPROCESSABLE_ENTITY, context.render(&state, "pages/invite")?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}
