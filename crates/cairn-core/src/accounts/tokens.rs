//! API tokens: long random secrets that scripts send as `Authorization: Bearer ...`.
//!
//! Only a SHA-256 digest of each token is stored. Tokens carry 256 bits of randomness, so
//! a fast digest is enough; a slow password hash would only slow down every API call.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::rngs::OsRng;
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::FromRow;
use time::OffsetDateTime;

use super::{AccountError, User};
use crate::db::{self, Db};
use crate::on_db;
use crate::validate;

/// Every token starts with this, so a leaked one is easy to recognise in logs and scanners.
pub const TOKEN_PREFIX: &str = "cairn_";
/// How many tokens one user may hold at once (revoked ones do not count).
pub const MAX_ACTIVE_TOKENS_PER_USER: i64 = 50;

/// A token as listed: never the secret itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow)]
pub struct ApiToken {
    pub id: String,
    pub user_id: String,
    pub name: String,
    /// The first characters of the secret, to tell tokens apart.
    pub prefix: String,
    pub created_at: OffsetDateTime,
    pub last_used_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
}

/// A new token and its secret, which is shown once and never stored.
#[derive(Debug, Clone)]
pub struct CreatedToken {
    pub token: ApiToken,
    pub secret: String,
}

pub(crate) fn digest(secret: &str) -> String {
    let hash = Sha256::digest(secret.as_bytes());
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

pub async fn create(db: &Db, user_id: &str, name: &str) -> Result<CreatedToken, AccountError> {
    let name = validate::name("name", name, validate::MAX_TOKEN_NAME_LEN)?;
    let active: i64 = on_db!(db, |pool| {
        sqlx::query_scalar("SELECT COUNT(*) FROM api_tokens WHERE user_id = $1 AND revoked_at IS NULL")
            .bind(user_id)
            .fetch_one(pool)
            .await
    })?;
    if active >= MAX_ACTIVE_TOKENS_PER_USER {
        return Err(validate::InvalidInput::new(
            "name",
            format!("you already hold {MAX_ACTIVE_TOKENS_PER_USER} active tokens; revoke one first"),
        )
        .into());
    }
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    let secret = format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
    let token = ApiToken {
        id: db::new_id(),
        user_id: user_id.to_string(),
        name,
        prefix: secret[..TOKEN_PREFIX.len() + 6].to_string(),
        created_at: db::now(),
        last_used_at: None,
        revoked_at: None,
    };
    on_db!(db, |pool| {
        sqlx::query("INSERT INTO api_tokens (id, user_id, name, token_hash, prefix, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(&token.id)
            .bind(&token.user_id)
            .bind(&token.name)
            .bind(digest(&secret))
            .bind(&token.prefix)
            .bind(token.created_at)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(CreatedToken { token, secret })
}

/// A user's tokens, newest first, revoked ones included so the history stays visible.
pub async fn list(db: &Db, user_id: &str) -> Result<Vec<ApiToken>, AccountError> {
    Ok(on_db!(db, |pool| {
        sqlx::query_as(
            "SELECT id, user_id, name, prefix, created_at, last_used_at, revoked_at FROM api_tokens \
             WHERE user_id = $1 ORDER BY created_at DESC, id",
        )
        .bind(user_id)
        .fetch_all(pool)
        .await
    })?)
}

/// Revokes one of the user's tokens. Revoking twice is harmless; another user's token is
/// "not found", so ids cannot be probed.
pub async fn revoke(db: &Db, user_id: &str, token_id: &str) -> Result<(), AccountError> {
    let now = db::now();
    let found: Option<(String,)> = on_db!(db, |pool| {
        sqlx::query_as("SELECT id FROM api_tokens WHERE id = $1 AND user_id = $2")
            .bind(token_id)
            .bind(user_id)
            .fetch_optional(pool)
            .await
    })?;
    if found.is_none() {
        return Err(AccountError::NotFound);
    }
    on_db!(db, |pool| {
        sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now)
            .bind(token_id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// The active user a secret belongs to, or `None` for an unknown, revoked or malformed
/// token or an inactive account.
pub async fn authenticate(db: &Db, secret: &str) -> Result<Option<User>, AccountError> {
    if !secret.starts_with(TOKEN_PREFIX) || secret.len() > 128 {
        return Ok(None);
    }
    let found: Option<(String, String, Option<OffsetDateTime>)> = on_db!(db, |pool| {
        sqlx::query_as("SELECT id, user_id, last_used_at FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL")
            .bind(digest(secret))
            .fetch_optional(pool)
            .await
    })?;
    let Some((token_id, user_id, last_used_at)) = found else {
        return Ok(None);
    };
    // Recording every use would turn each API read into a write; a minute's precision is
    // enough to tell live tokens from forgotten ones.
    let now = db::now();
    if last_used_at.is_none_or(|at| now - at > time::Duration::minutes(1)) {
        on_db!(db, |pool| {
            sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
                .bind(now)
                .bind(&token_id)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })?;
    }
    Ok(super::find_by_id(db, &user_id).await?.filter(|u| u.active))
}
