//! Invitations: one-time links that let a person whose account was made for them (by a
//! bulk enrolment) choose their own password. Only the SHA-256 of a token is stored.

use crate::accounts::{find_by_id, password, tokens, AccountError, User};
use crate::db::{self, Db};
use crate::on_db;
use crate::validate;

/// A new token (256 random bits, URL-safe) and the digest to store.
pub fn new_token() -> (String, String) {
    use base64::Engine as _;
    use rand::RngCore as _;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let digest = tokens::digest(&token);
    (token, digest)
}

/// The account an unused, unexpired invitation is for.
pub async fn find_valid(db: &Db, token: &str) -> Result<Option<User>, AccountError> {
    let user_id: Option<String> = on_db!(db, |pool| {
        sqlx::query_scalar(
            "SELECT user_id FROM invitations WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
        )
        .bind(tokens::digest(token))
        .bind(db::now())
        .fetch_optional(pool)
        .await
    })?;
    match user_id {
        Some(id) => find_by_id(db, &id).await,
        None => Ok(None),
    }
}

/// Uses an invitation: sets the password and spends the token, both or neither.
pub async fn accept(db: &Db, token: &str, new_password: &str) -> Result<User, AccountError> {
    validate::password(new_password)?;
    let user = find_valid(db, token).await?.ok_or(AccountError::NotFound)?;
    let pw = new_password.to_string();
    let hash = tokio::task::spawn_blocking(move || password::hash(&pw))
        .await
        .map_err(|e| AccountError::Corrupt(format!("password hashing task failed: {e}")))?;
    let now = db::now();
    let digest = tokens::digest(token);
    let spent: u64 = on_db!(db, |pool| {
        async {
            let mut tx = pool.begin().await?;
            let spent = sqlx::query("UPDATE invitations SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL")
                .bind(now)
                .bind(&digest)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if spent == 1 {
                sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
                    .bind(&hash)
                    .bind(&user.id)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
            }
            Ok::<u64, sqlx::Error>(spent)
        }
        .await
    })?;
    if spent != 1 {
        return Err(AccountError::NotFound);
    }
    Ok(user)
}
