//! The e-mail outbox: messages queued by other areas (invitations now, digests later) in
//! the same transaction as the change they announce, waiting for a sender to deliver them.

use serde::Serialize;
use sqlx::FromRow;
use time::OffsetDateTime;

use crate::db::{Db, StoreError};
use crate::on_db;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow)]
pub struct OutboxMail {
    pub id: String,
    pub recipient: String,
    pub kind: String,
    pub subject: String,
    pub body: String,
    pub created_at: OffsetDateTime,
    pub sent_at: Option<OffsetDateTime>,
    pub tries: i64,
}

/// Messages not sent yet, oldest first.
pub async fn pending(db: &Db, limit: i64) -> Result<Vec<OutboxMail>, StoreError> {
    Ok(on_db!(db, |pool| {
        sqlx::query_as(
            "SELECT id, recipient, kind, subject, body, created_at, sent_at, tries FROM email_outbox \
             WHERE sent_at IS NULL ORDER BY created_at, id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(pool)
        .await
    })?)
}
