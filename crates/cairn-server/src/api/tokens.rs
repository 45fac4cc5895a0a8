//! `/api/v1/tokens`: API tokens of the caller (create, list, revoke).

use std::sync::Arc;

use cairn_core::accounts::tokens::{self, ApiToken};
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use time::OffsetDateTime;

use super::{ApiResult, ApiTags, Auth};
use crate::app::AppState;

pub struct TokensApi {
    pub state: Arc<AppState>,
}

/// A token as listed; the secret is never shown again after creation.
#[derive(Object, Debug)]
pub struct TokenView {
    pub id: String,
    pub name: String,
    /// The first characters of the secret, to recognise it.
    pub prefix: String,
    pub created_at: OffsetDateTime,
    pub last_used_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
}

impl From<ApiToken> for TokenView {
    fn from(t: ApiToken) -> Self {
        TokenView {
            id: t.id,
            name: t.name,
            prefix: t.prefix,
            created_at: t.created_at,
            last_used_at: t.last_used_at,
            revoked_at: t.revoked_at,
        }
    }
}

#[derive(Object, Debug)]
pub struct CreateToken {
    /// What the token is for, e.g. "nightly completion export"; at most 100 characters.
    #[oai(validator(max_length = 100))]
    pub name: String,
}

/// A new token. Store `secret` now: it is shown only in this answer.
#[derive(Object, Debug)]
pub struct CreatedToken {
    pub token: TokenView,
    pub secret: String,
}

#[derive(ApiResponse)]
pub enum CreateTokenResponse {
    /// The token was created.
    #[oai(status = 201)]
    Created(Json<CreatedToken>),
}

#[derive(ApiResponse)]
pub enum RevokeTokenResponse {
    /// The token is revoked (or already was).
    #[oai(status = 204)]
    Revoked,
}

#[OpenApi(tag = "ApiTags::Tokens")]
impl TokensApi {
    /// List your API tokens
    ///
    /// Newest first, revoked ones included.
    #[oai(path = "/v1/tokens", method = "get", operation_id = "list_tokens")]
    async fn list(&self, auth: Auth) -> ApiResult<Json<Vec<TokenView>>> {
        let list = tokens::list(&self.state.db, &auth.actor().user.id).await?;
        Ok(Json(list.into_iter().map(TokenView::from).collect()))
    }

    /// Create an API token
    ///
    /// The token acts with your permissions. At most 50 active tokens per account.
    #[oai(path = "/v1/tokens", method = "post", operation_id = "create_token")]
    async fn create(&self, auth: Auth, body: Json<CreateToken>) -> ApiResult<CreateTokenResponse> {
        let created = tokens::create(&self.state.db, &auth.actor().user.id, &body.0.name).await?;
        Ok(CreateTokenResponse::Created(Json(CreatedToken { token: created.token.into(), secret: created.secret })))
    }

    /// Revoke an API token
    ///
    /// Takes effect at once on every node.
    #[oai(path = "/v1/tokens/:id", method = "delete", operation_id = "revoke_token")]
    async fn revoke(&self, auth: Auth, id: Path<String>) -> ApiResult<RevokeTokenResponse> {
        tokens::revoke(&self.state.db, &auth.actor().user.id, &id.0).await?;
        Ok(RevokeTokenResponse::Revoked)
    }
}
