//! Course packages: importing SCORM packages into courses, their stored versions and item
//! trees, and the files on disk.

mod import;
pub mod store;

pub use import::{import_package, CourseTarget, ImportOutcome, ImportRequest, Imported, ProgressFn};
pub use store::{ContentError, ContentStore};

use serde::Serialize;
use sqlx::FromRow;
use time::OffsetDateTime;

use crate::catalog::CatalogError;
use crate::db::{Db, StoreError};
use crate::on_db;

#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("could not store the package files: {0}")]
    Io(#[from] std::io::Error),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
}

impl From<sqlx::Error> for PackageError {
    fn from(e: sqlx::Error) -> Self {
        PackageError::Store(e.into())
    }
}

/// One imported version of a course's package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow)]
pub struct PackageVersion {
    pub id: String,
    pub course_id: String,
    pub version: i64,
    pub standard: String,
    pub edition: Option<String>,
    pub title: String,
    pub original_filename: String,
    pub archive_bytes: i64,
    pub content_bytes: i64,
    pub file_count: i64,
    /// The import warnings, as JSON (an array of diagnostics).
    pub warnings_json: String,
    pub imported_by: Option<String>,
    pub created_at: OffsetDateTime,
}

const VERSION_COLUMNS: &str = "id, course_id, version, standard, edition, title, original_filename, archive_bytes, \
     content_bytes, file_count, warnings_json, imported_by, created_at";

/// One entry of a package's organisation tree, in tree order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow)]
pub struct PackageItem {
    pub position: i64,
    pub identifier: String,
    pub parent_identifier: Option<String>,
    pub depth: i64,
    pub title: String,
    /// Launch URL relative to the package folder; `None` for clusters.
    pub launch: Option<String>,
    /// `sco` or `asset`; `None` for clusters.
    pub scorm_type: Option<String>,
    pub visible: bool,
}

pub async fn find(db: &Db, package_id: &str) -> Result<Option<PackageVersion>, PackageError> {
    let sql = format!("SELECT {VERSION_COLUMNS} FROM packages WHERE id = $1");
    Ok(on_db!(db, |pool| sqlx::query_as(&sql).bind(package_id).fetch_optional(pool).await)?)
}

/// Every version of a course's package, newest first.
pub async fn versions(db: &Db, course_id: &str) -> Result<Vec<PackageVersion>, PackageError> {
    let sql = format!("SELECT {VERSION_COLUMNS} FROM packages WHERE course_id = $1 ORDER BY version DESC");
    Ok(on_db!(db, |pool| sqlx::query_as(&sql).bind(course_id).fetch_all(pool).await)?)
}

pub async fn items(db: &Db, package_id: &str) -> Result<Vec<PackageItem>, PackageError> {
    Ok(on_db!(db, |pool| {
        sqlx::query_as(
            "SELECT position, identifier, parent_identifier, depth, title, launch, scorm_type, visible \
             FROM package_items WHERE package_id = $1 ORDER BY position",
        )
        .bind(package_id)
        .fetch_all(pool)
        .await
    })?)
}

/// The parsed manifest stored with a version (organisations, resources, sequencing).
pub async fn manifest(db: &Db, package_id: &str) -> Result<cairn_scorm::Package, PackageError> {
    let json: String = on_db!(db, |pool| {
        sqlx::query_scalar("SELECT manifest_json FROM packages WHERE id = $1").bind(package_id).fetch_one(pool).await
    })?;
    serde_json::from_str(&json).map_err(|e| PackageError::Corrupt(format!("manifest of package {package_id}: {e}")))
}

/// Ids of every stored version, for the start-up sweep of orphaned folders.
pub async fn all_ids(db: &Db) -> Result<std::collections::HashSet<String>, PackageError> {
    let ids: Vec<String> = on_db!(db, |pool| sqlx::query_scalar("SELECT id FROM packages").fetch_all(pool).await)?;
    Ok(ids.into_iter().collect())
}
