//! Training institutes (organisations) and their members.

use serde::Serialize;
use sqlx::FromRow;
use time::OffsetDateTime;

use crate::db::{self, Db, StoreError};
use crate::on_db;
use crate::validate::{self, InvalidInput};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow)]
pub struct Organisation {
    pub id: String,
    pub slug: String,
    pub name: String,
    pub created_at: OffsetDateTime,
}

/// An institute with its head count, for listings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow)]
pub struct OrganisationSummary {
    pub id: String,
    pub slug: String,
    pub name: String,
    pub created_at: OffsetDateTime,
    pub member_count: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum OrganisationError {
    #[error("{0}")]
    Invalid(#[from] InvalidInput),
    #[error("an institute with the slug {0:?} already exists")]
    SlugTaken(String),
    #[error("no institute with the slug {0:?}")]
    NotFound(String),
    #[error("no account with that id or e-mail")]
    UserNotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for OrganisationError {
    fn from(e: sqlx::Error) -> Self {
        OrganisationError::Store(e.into())
    }
}

impl From<crate::accounts::AccountError> for OrganisationError {
    fn from(e: crate::accounts::AccountError) -> Self {
        match e {
            crate::accounts::AccountError::Store(s) => OrganisationError::Store(s),
            crate::accounts::AccountError::Invalid(i) => OrganisationError::Invalid(i),
            _ => OrganisationError::UserNotFound,
        }
    }
}

pub async fn create(db: &Db, slug: &str, name: &str) -> Result<Organisation, OrganisationError> {
    let org = Organisation {
        id: db::new_id(),
        slug: validate::slug(slug)?,
        name: validate::name("name", name, validate::MAX_NAME_LEN)?,
        created_at: db::now(),
    };
    let result = on_db!(db, |pool| {
        sqlx::query("INSERT INTO organisations (id, slug, name, created_at) VALUES ($1, $2, $3, $4)")
            .bind(&org.id)
            .bind(&org.slug)
            .bind(&org.name)
            .bind(org.created_at)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    });
    match result.map_err(StoreError::from) {
        Ok(_) => Ok(org),
        Err(e) if e.is_unique_violation() => Err(OrganisationError::SlugTaken(org.slug)),
        Err(e) => Err(e.into()),
    }
}

pub async fn find_by_slug(db: &Db, slug: &str) -> Result<Option<Organisation>, OrganisationError> {
    Ok(on_db!(db, |pool| {
        sqlx::query_as("SELECT id, slug, name, created_at FROM organisations WHERE slug = $1")
            .bind(slug)
            .fetch_optional(pool)
            .await
    })?)
}

/// Like [`find_by_slug`] but a missing institute is an error naming the slug.
pub async fn get_by_slug(db: &Db, slug: &str) -> Result<Organisation, OrganisationError> {
    find_by_slug(db, slug).await?.ok_or_else(|| OrganisationError::NotFound(slug.to_string()))
}

/// One institute with its member count.
pub async fn summary_by_slug(db: &Db, slug: &str) -> Result<OrganisationSummary, OrganisationError> {
    let found: Option<OrganisationSummary> = on_db!(db, |pool| {
        sqlx::query_as(
            "SELECT o.id, o.slug, o.name, o.created_at, \
                    (SELECT COUNT(*) FROM memberships m WHERE m.organisation_id = o.id) AS member_count \
             FROM organisations o WHERE o.slug = $1",
        )
        .bind(slug)
        .fetch_optional(pool)
        .await
    })?;
    found.ok_or_else(|| OrganisationError::NotFound(slug.to_string()))
}

/// Every institute, alphabetically, with member counts.
pub async fn list(db: &Db) -> Result<Vec<OrganisationSummary>, OrganisationError> {
    Ok(on_db!(db, |pool| {
        sqlx::query_as(
            "SELECT o.id, o.slug, o.name, o.created_at, \
                    (SELECT COUNT(*) FROM memberships m WHERE m.organisation_id = o.id) AS member_count \
             FROM organisations o ORDER BY o.name, o.slug",
        )
        .fetch_all(pool)
        .await
    })?)
}

/// The institutes a user belongs to, alphabetically.
pub async fn of_user(db: &Db, user_id: &str) -> Result<Vec<Organisation>, OrganisationError> {
    Ok(on_db!(db, |pool| {
        sqlx::query_as(
            "SELECT o.id, o.slug, o.name, o.created_at FROM organisations o \
             JOIN memberships m ON m.organisation_id = o.id WHERE m.user_id = $1 ORDER BY o.name",
        )
        .bind(user_id)
        .fetch_all(pool)
        .await
    })?)
}

/// Adds a user to an institute. Adding an existing member again changes nothing.
pub async fn add_member(db: &Db, organisation_id: &str, user_id: &str) -> Result<(), OrganisationError> {
    let now = db::now();
    let result = on_db!(db, |pool| {
        sqlx::query(
            "INSERT INTO memberships (organisation_id, user_id, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (organisation_id, user_id) DO NOTHING",
        )
        .bind(organisation_id)
        .bind(user_id)
        .bind(now)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
    });
    match result {
        Ok(_) => Ok(()),
        // A foreign-key failure means the user (or institute) does not exist.
        Err(sqlx::Error::Database(e)) if e.is_foreign_key_violation() => Err(OrganisationError::UserNotFound),
        Err(e) => Err(e.into()),
    }
}

pub async fn count(db: &Db) -> Result<i64, OrganisationError> {
    Ok(on_db!(db, |pool| sqlx::query_scalar("SELECT COUNT(*) FROM organisations").fetch_one(pool).await)?)
}
