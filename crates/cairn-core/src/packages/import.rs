//! Importing a package into a course, atomically: inspect, extract into `.incoming/`,
//! then in one database transaction record the version and move the folder into place.
//! Any failure leaves no files and no rows behind.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::Path;
use std::sync::Arc;

use cairn_scorm::{ArchiveError, Diagnostic, Inspection, Limits, Package, PackageArchive};

use super::store::ContentStore;
use super::{PackageError, PackageVersion};
use crate::catalog::{self, Course, NewCourse};
use crate::db::{self, Db};
use crate::on_db;

/// Which course receives the package.
#[derive(Debug, Clone)]
// One value is built per import, so the size difference between variants costs nothing.
#[allow(clippy::large_enum_variant)]
pub enum CourseTarget {
    /// A new course; its title defaults to the package title.
    New { organisation_id: String, title: Option<String>, slug: Option<String> },
    /// A new version of an existing course: the course and its learners' data stay.
    Existing(Course),
}

/// What to import.
pub struct ImportRequest {
    /// The package zip, an open file on local disk (an upload's temporary file or a path
    /// given on the command line). It is read twice: inspected, then extracted.
    pub archive: File,
    /// The name the uploader gave the file, kept for the record.
    pub original_filename: String,
    pub target: CourseTarget,
    pub imported_by: Option<String>,
    pub limits: Limits,
}

/// Reports extraction progress: bytes written so far, and the total to write.
pub type ProgressFn = Arc<dyn Fn(u64, u64) + Send + Sync>;

/// A successful import.
#[derive(Debug)]
pub struct Imported {
    pub course: Course,
    pub created_course: bool,
    pub package: PackageVersion,
    pub inspection: Inspection,
}

/// Either the package went in, or it was refused with the reasons in its inspection.
#[derive(Debug)]
pub enum ImportOutcome {
    Imported(Box<Imported>),
    Refused(Box<Inspection>),
}

/// Imports `request`. Refusals (a bad package) are `Ok(Refused)`; `Err` means Cairn
/// itself failed (disk, database), and nothing was kept either way.
pub async fn import_package(
    db: &Db,
    store: &ContentStore,
    request: ImportRequest,
    progress: Option<ProgressFn>,
) -> Result<ImportOutcome, PackageError> {
    let archive_bytes = request.archive.metadata()?.len();
    let (for_inspection, limits) = (request.archive.try_clone()?, request.limits.clone());
    let inspection = blocking(move || Ok(cairn_scorm::inspect(BufReader::new(for_inspection), &limits))).await?;
    if !inspection.is_importable() {
        return Ok(ImportOutcome::Refused(Box::new(inspection)));
    }
    let Some(package) = inspection.package.clone() else {
        return Ok(ImportOutcome::Refused(Box::new(inspection)));
    };

    let package_id = db::new_id();
    std::fs::create_dir_all(store.incoming_dir())?;
    std::fs::create_dir_all(store.packages_dir())?;
    let staging = store.incoming_dir().join(&package_id);
    let stats = {
        let (archive, staging, root, limits) =
            (request.archive.try_clone()?, staging.clone(), inspection.package_root.clone(), request.limits.clone());
        blocking(move || Ok(extract(archive, &root, &staging, &limits, progress.as_deref()))).await?
    };
    let stats = match stats {
        Ok(stats) => stats,
        Err(ExtractError::Archive(error)) => {
            remove_quietly(&staging);
            let mut refused = inspection;
            refused.errors.push(Diagnostic::error(error.code(), error.to_string()));
            return Ok(ImportOutcome::Refused(Box::new(refused)));
        }
        Err(ExtractError::Io(error)) => {
            remove_quietly(&staging);
            return Err(error.into());
        }
    };

    let result = record(db, store, &staging, &package_id, &request, &inspection, &package, stats, archive_bytes).await;
    if result.is_err() {
        remove_quietly(&staging);
        remove_quietly(&store.package_dir(&package_id));
    }
    let (course, created_course, version) = result?;
    Ok(ImportOutcome::Imported(Box::new(Imported { course, created_course, package: version, inspection })))
}

#[derive(Debug, Clone, Copy)]
struct ExtractStats {
    files: u64,
    bytes: u64,
}

#[derive(Debug, thiserror::Error)]
enum ExtractError {
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Streams every file under the package root into `dest`, one entry at a time through a
/// small buffer, so memory stays flat whatever the package size. The archive enforces the
/// declared sizes and ratios while decompressing.
fn extract(
    file: File,
    root: &str,
    dest: &Path,
    limits: &Limits,
    progress: Option<&(dyn Fn(u64, u64) + Send + Sync)>,
) -> Result<ExtractStats, ExtractError> {
    let mut archive = PackageArchive::open(BufReader::with_capacity(256 * 1024, file), limits)?;
    let entries: Vec<_> = archive
        .entries()
        .iter()
        .filter(|e| !e.is_dir)
        .filter_map(|e| {
            e.path
                .strip_prefix(root)
                .filter(|rest| !rest.is_empty())
                .map(|rest| (e.index, rest.to_string(), e.uncompressed_size))
        })
        .collect();
    let total: u64 = entries.iter().map(|(_, _, size)| size).sum();
    std::fs::create_dir_all(dest)?;
    let mut stats = ExtractStats { files: 0, bytes: 0 };
    for (index, relative, _) in entries {
        let out_path = dest.join(&relative);
        if let Some(parent) = out_path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut out = BufWriter::with_capacity(128 * 1024, File::create(&out_path)?);
        stats.bytes += archive.copy_entry(index, &mut out)?;
        out.flush()?;
        stats.files += 1;
        if let Some(report) = progress {
            report(stats.bytes, total);
        }
    }
    Ok(stats)
}

/// Writes the rows and moves the files into place inside one transaction: the rename
/// happens before the commit, so a failed rename rolls the rows back, and a failed commit
/// is followed by removing the moved folder (by the caller).
#[allow(clippy::too_many_arguments)]
async fn record(
    db: &Db,
    store: &ContentStore,
    staging: &Path,
    package_id: &str,
    request: &ImportRequest,
    inspection: &Inspection,
    package: &Package,
    stats: ExtractStats,
    archive_bytes: u64,
) -> Result<(Course, bool, PackageVersion), PackageError> {
    let (course, created_course) = match &request.target {
        CourseTarget::Existing(course) => (course.clone(), false),
        CourseTarget::New { organisation_id, title, slug } => {
            let new = NewCourse {
                organisation_id: organisation_id.clone(),
                title: title.clone().unwrap_or_else(|| package.title.clone()),
                slug: slug.clone(),
                created_by: request.imported_by.clone(),
            };
            (catalog::prepare_course(db, new).await?, true)
        }
    };
    let now = db::now();
    let manifest_json = serde_json::to_string(package).map_err(|e| PackageError::Corrupt(e.to_string()))?;
    let warnings_json =
        serde_json::to_string(&inspection.warnings).map_err(|e| PackageError::Corrupt(e.to_string()))?;
    let standard = json_label(&inspection.standard);
    let edition = inspection.edition.as_ref().map(json_label);
    let items = flatten_items(package);
    let final_dir = store.package_dir(package_id);

    let version: i64 = on_db!(db, |pool| {
        async {
        let mut tx = pool.begin().await?;
        if created_course {
            sqlx::query(
                "INSERT INTO courses (id, organisation_id, slug, title, summary, status, created_by, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(&course.id)
            .bind(&course.organisation_id)
            .bind(&course.slug)
            .bind(&course.title)
            .bind(&course.summary)
            .bind(&course.status)
            .bind(&course.created_by)
            .bind(course.created_at)
            .bind(course.updated_at)
            .execute(&mut *tx)
            .await?;
            if let Some(user) = &request.imported_by {
                sqlx::query("INSERT INTO course_instructors (course_id, user_id, created_at) VALUES ($1, $2, $3)")
                    .bind(&course.id)
                    .bind(user)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            }
            // A new course starts with an outline of one module holding the whole package
            // as one required lesson, so it can be taken (and completed) at once; the
            // instructor can split or extend it afterwards.
            let module_id = db::new_id();
            sqlx::query(
                "INSERT INTO course_modules (id, course_id, position, title, created_at, updated_at) \
                 VALUES ($1, $2, 1, $3, $4, $4)",
            )
            .bind(&module_id)
            .bind(&course.id)
            .bind("Course content")
            .bind(now)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO lessons (id, course_id, module_id, position, kind, title, required, created_at, updated_at) \
                 VALUES ($1, $2, $3, 1, 'scorm', $4, TRUE, $5, $5)",
            )
            .bind(db::new_id())
            .bind(&course.id)
            .bind(&module_id)
            .bind(&package.title)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        // The version number is computed inside the INSERT, so this transaction's first
        // statement on an existing course is a write: SQLite takes the write lock at once
        // (waiting out the busy timeout) instead of failing a read-then-write upgrade when
        // another import committed in between.
        sqlx::query(
            "INSERT INTO packages (id, course_id, version, standard, edition, title, original_filename, archive_bytes, \
             content_bytes, file_count, manifest_json, warnings_json, imported_by, created_at) \
             SELECT $1, $2, COALESCE(MAX(version), 0) + 1, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13 \
             FROM packages WHERE course_id = $2",
        )
        .bind(package_id)
        .bind(&course.id)
        .bind(&standard)
        .bind(&edition)
        .bind(&package.title)
        .bind(&request.original_filename)
        .bind(archive_bytes as i64)
        .bind(stats.bytes as i64)
        .bind(stats.files as i64)
        .bind(&manifest_json)
        .bind(&warnings_json)
        .bind(&request.imported_by)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let version: i64 = sqlx::query_scalar("SELECT version FROM packages WHERE id = $1")
            .bind(package_id)
            .fetch_one(&mut *tx)
            .await?;
        for item in &items {
            sqlx::query(
                "INSERT INTO package_items (package_id, position, identifier, parent_identifier, depth, title, launch, scorm_type, visible) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(package_id)
            .bind(item.position)
            .bind(&item.identifier)
            .bind(&item.parent_identifier)
            .bind(item.depth)
            .bind(&item.title)
            .bind(&item.launch)
            .bind(&item.scorm_type)
            .bind(item.visible)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("UPDATE courses SET current_package_id = $1, updated_at = $2 WHERE id = $3")
            .bind(package_id)
            .bind(now)
            .bind(&course.id)
            .execute(&mut *tx)
            .await?;
        std::fs::rename(staging, &final_dir).map_err(sqlx::Error::Io)?;
        tx.commit().await?;
        Ok::<i64, sqlx::Error>(version)
    }
    .await
    })?;

    let course = catalog::find(db, &course.id)
        .await?
        .ok_or_else(|| PackageError::Corrupt("course vanished after import".into()))?;
    let version_row = super::find(db, package_id)
        .await?
        .ok_or_else(|| PackageError::Corrupt(format!("package version {version} vanished")))?;
    Ok((course, created_course, version_row))
}

/// One row of `package_items`.
struct ItemRow {
    position: i64,
    identifier: String,
    parent_identifier: Option<String>,
    depth: i64,
    title: String,
    launch: Option<String>,
    scorm_type: Option<String>,
    visible: bool,
}

/// The default organisation's tree in pre-order (the order learners flow through it).
fn flatten_items(package: &Package) -> Vec<ItemRow> {
    fn walk(items: &[cairn_scorm::Item], parent: Option<&str>, depth: i64, out: &mut Vec<ItemRow>) {
        for item in items {
            out.push(ItemRow {
                position: out.len() as i64,
                identifier: item.identifier.clone(),
                parent_identifier: parent.map(str::to_string),
                depth,
                title: item.title.clone(),
                launch: item.launch.clone(),
                scorm_type: item.scorm_type.as_ref().map(json_label),
                visible: item.visible,
            });
            walk(&item.items, Some(&item.identifier), depth + 1, out);
        }
    }
    let mut out = Vec::new();
    if let Some(org) = package.organization() {
        walk(&org.items, None, 0, &mut out);
    }
    out
}

/// The serde name of an enum value (`"scorm2004"`, `"4th"`, `"sco"`), as stored.
fn json_label<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        other => format!("{other:?}"),
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, std::io::Error> + Send + 'static,
) -> Result<T, PackageError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| PackageError::Corrupt(format!("import task failed: {e}")))?
        .map_err(PackageError::from)
}

fn remove_quietly(path: &Path) {
    if path.exists() {
        if let Err(e) = std::fs::remove_dir_all(path) {
            tracing::error!(path = %path.display(), error = %e, "could not remove a failed import's files");
        }
    }
}
