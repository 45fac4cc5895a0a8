//! Courses: the things institutes publish and learners take. (Modules, lessons and the
//! public catalog build on this.)

use serde::Serialize;
use sqlx::FromRow;
use time::OffsetDateTime;

use crate::accounts::policy::Principal;
use crate::accounts::Role;
use crate::db::{self, Db, StoreError};
use crate::on_db;
use crate::validate::{self, InvalidInput};

/// Longest course title.
pub const MAX_TITLE_LEN: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow)]
pub struct Course {
    pub id: String,
    pub organisation_id: String,
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub status: String,
    pub current_package_id: Option<String>,
    pub created_by: Option<String>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

const COURSE_COLUMNS: &str =
    "id, organisation_id, slug, title, summary, status, current_package_id, created_by, created_at, updated_at";

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("{0}")]
    Invalid(#[from] InvalidInput),
    #[error("no course {0:?}")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for CatalogError {
    fn from(e: sqlx::Error) -> Self {
        CatalogError::Store(e.into())
    }
}

/// Turns a title into a slug: lower-case ASCII letters and digits joined by single dashes.
pub fn slugify(title: &str) -> String {
    let mut slug = String::new();
    for c in title.chars().flat_map(char::to_lowercase) {
        let c = match c {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => 'a',
            'ç' => 'c',
            'è' | 'é' | 'ê' | 'ë' => 'e',
            'ì' | 'í' | 'î' | 'ï' => 'i',
            'ñ' => 'n',
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' => 'o',
            'ù' | 'ú' | 'û' | 'ü' => 'u',
            c => c,
        };
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
        if slug.len() >= validate::MAX_SLUG_LEN - 4 {
            break;
        }
    }
    let slug = slug.trim_end_matches('-').to_string();
    if slug.len() < validate::MIN_SLUG_LEN {
        "course".to_string()
    } else {
        slug
    }
}

/// A slug not yet used by any course: `base`, then `base-2`, `base-3`, ...
pub async fn free_slug(db: &Db, base: &str) -> Result<String, CatalogError> {
    let taken: Vec<String> = on_db!(db, |pool| {
        sqlx::query_scalar("SELECT slug FROM courses WHERE slug = $1 OR slug LIKE $2")
            .bind(base)
            .bind(format!("{base}-%"))
            .fetch_all(pool)
            .await
    })?;
    if !taken.iter().any(|s| s == base) {
        return Ok(base.to_string());
    }
    Ok((2..)
        .map(|n| format!("{base}-{n}"))
        .find(|candidate| !taken.contains(candidate))
        .expect("an unused suffix exists"))
}

/// A course to create: in which institute, by whom, under what title.
#[derive(Debug, Clone)]
pub struct NewCourse {
    pub organisation_id: String,
    pub title: String,
    /// Chosen from the title when absent.
    pub slug: Option<String>,
    pub created_by: Option<String>,
}

/// Validates a new course and returns the row to insert (slug checked and made unique).
pub async fn prepare_course(db: &Db, new: NewCourse) -> Result<Course, CatalogError> {
    let title = validate::name("title", &new.title, MAX_TITLE_LEN)?;
    let slug = match new.slug {
        Some(slug) => {
            let slug = validate::slug(&slug)?;
            if find_by_slug(db, &slug).await?.is_some() {
                return Err(InvalidInput::new(
                    "course",
                    format!("the slug {slug:?} is already used by another course"),
                )
                .into());
            }
            slug
        }
        None => free_slug(db, &slugify(&title)).await?,
    };
    let now = db::now();
    Ok(Course {
        id: db::new_id(),
        organisation_id: new.organisation_id,
        slug,
        title,
        summary: String::new(),
        status: "draft".into(),
        current_package_id: None,
        created_by: new.created_by,
        created_at: now,
        updated_at: now,
    })
}

pub async fn find(db: &Db, id: &str) -> Result<Option<Course>, CatalogError> {
    let sql = format!("SELECT {COURSE_COLUMNS} FROM courses WHERE id = $1");
    Ok(on_db!(db, |pool| sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)?)
}

pub async fn find_by_slug(db: &Db, slug: &str) -> Result<Option<Course>, CatalogError> {
    let sql = format!("SELECT {COURSE_COLUMNS} FROM courses WHERE slug = $1");
    Ok(on_db!(db, |pool| sqlx::query_as(&sql).bind(slug).fetch_optional(pool).await)?)
}

/// A course by id or slug.
pub async fn get(db: &Db, id_or_slug: &str) -> Result<Course, CatalogError> {
    if let Some(course) = find(db, id_or_slug).await? {
        return Ok(course);
    }
    find_by_slug(db, id_or_slug).await?.ok_or_else(|| CatalogError::NotFound(id_or_slug.to_string()))
}

pub async fn is_instructor(db: &Db, course_id: &str, user_id: &str) -> Result<bool, CatalogError> {
    let n: i64 = on_db!(db, |pool| {
        sqlx::query_scalar("SELECT COUNT(*) FROM course_instructors WHERE course_id = $1 AND user_id = $2")
            .bind(course_id)
            .bind(user_id)
            .fetch_one(pool)
            .await
    })?;
    Ok(n > 0)
}

/// Courses the principal may see, newest first: all for admins, those of their
/// institutes for everyone else. (Enrolment will narrow what learners see.)
pub async fn visible_to(db: &Db, who: &Principal) -> Result<Vec<Course>, CatalogError> {
    let scope = if who.role == Role::Admin { None } else { Some(who.organisation_ids.join(",")) };
    let sql = format!(
        "SELECT {COURSE_COLUMNS} FROM courses WHERE ($1 IS NULL OR (',' || $1 || ',') LIKE ('%,' || organisation_id || ',%')) \
         ORDER BY updated_at DESC, id"
    );
    Ok(on_db!(db, |pool| sqlx::query_as(&sql).bind(&scope).fetch_all(pool).await)?)
}

/// Whether `who` may see a course and its content: admins, and members of its institute.
pub fn may_view(who: &Principal, course: &Course) -> bool {
    who.is_admin() || who.belongs_to(&course.organisation_id)
}

/// Whether `who` may import a package as a new course of `organisation_id`.
pub fn may_create_in(who: &Principal, organisation_id: &str) -> bool {
    who.is_admin() || (matches!(who.role, Role::Manager | Role::Instructor) && who.belongs_to(organisation_id))
}

/// Whether `who` may change a course (e.g. import a new version): admins, managers of its
/// institute, and its instructors.
pub async fn may_edit(db: &Db, who: &Principal, course: &Course) -> Result<bool, CatalogError> {
    Ok(match who.role {
        Role::Admin => true,
        Role::Manager => who.belongs_to(&course.organisation_id),
        Role::Instructor => is_instructor(db, &course.id, &who.user_id).await?,
        Role::Learner => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_from_titles() {
        let cases = [
            ("E-government readiness: an introduction", "e-government-readiness-an-introduction"),
            ("  Éthique & intégrité  ", "ethique-integrite"),
            ("Golf Explained - Run-time Basic Calls", "golf-explained-run-time-basic-calls"),
            ("!!!", "course"),
            ("x", "course"),
        ];
        for (title, slug) in cases {
            assert_eq!(slugify(title), slug, "{title:?}");
            assert!(validate::slug(&slugify(title)).is_ok());
        }
        assert!(slugify(&"word ".repeat(40)).len() <= validate::MAX_SLUG_LEN);
    }
}
