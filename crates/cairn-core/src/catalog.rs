//! Courses: the things institutes publish and learners take, their settings, instructors
//! and the public catalog of published courses.

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

#[derive(Debug, Clone, PartialEq, Serialize, FromRow)]
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
    /// One of [`TOPICS`] (its key), or empty.
    pub topic: String,
    /// File name of the cover image under the course's media folder.
    pub cover_image: Option<String>,
    /// `open`, `key` or `closed` (enrolment by staff only).
    pub enrolment_mode: String,
    /// The key learners type to enrol when the mode is `key`. Never serialised: only
    /// editors see it, on the settings page.
    #[serde(skip)]
    pub enrolment_key: Option<String>,
    /// Minimum course score (0–100) needed to complete, on top of the required lessons.
    pub completion_min_score: Option<f64>,
}

pub(crate) const COURSE_COLUMNS: &str =
    "id, organisation_id, slug, title, summary, status, current_package_id, created_by, \
     created_at, updated_at, topic, cover_image, enrolment_mode, enrolment_key, completion_min_score";

/// The knowledge areas a course can be filed under: (key, label).
pub const TOPICS: &[(&str, &str)] = &[
    ("e-government", "E-government"),
    ("ethics", "Ethics and integrity"),
    ("decentralisation", "Decentralisation"),
    ("public-service-delivery", "Public service delivery"),
    ("financial-management", "Financial management"),
    ("tax-reform", "Tax reform"),
    ("ppp", "Public-private partnership"),
    ("other", "Other"),
];

/// The label of a topic key, or the key itself when unknown.
pub fn topic_label(key: &str) -> &str {
    TOPICS.iter().find(|(k, _)| *k == key).map_or(key, |(_, label)| label)
}

/// Longest course summary.
pub const MAX_SUMMARY_LEN: usize = 2_000;
/// Longest enrolment key.
pub const MAX_ENROLMENT_KEY_LEN: usize = 100;

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
        topic: String::new(),
        cover_image: None,
        enrolment_mode: "closed".into(),
        enrolment_key: None,
        completion_min_score: None,
    })
}

/// Creates an empty course (no package yet) and makes its creator an instructor.
pub async fn create(db: &Db, new: NewCourse) -> Result<Course, CatalogError> {
    let course = prepare_course(db, new).await?;
    let now = course.created_at;
    on_db!(db, |pool| {
        async {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "INSERT INTO courses (id, organisation_id, slug, title, summary, status, created_by, created_at, \
                 updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(&course.id)
            .bind(&course.organisation_id)
            .bind(&course.slug)
            .bind(&course.title)
            .bind(&course.summary)
            .bind(&course.status)
            .bind(&course.created_by)
            .bind(now)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            if let Some(user) = &course.created_by {
                sqlx::query("INSERT INTO course_instructors (course_id, user_id, created_at) VALUES ($1, $2, $3)")
                    .bind(&course.id)
                    .bind(user)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await
        }
        .await
    })?;
    Ok(course)
}

/// What an editor may change on a course's settings page.
#[derive(Debug, Clone, Default)]
pub struct CourseSettings {
    pub title: String,
    pub summary: String,
    pub topic: String,
    /// `draft` or `published`.
    pub status: String,
    pub enrolment_mode: String,
    pub enrolment_key: Option<String>,
    pub completion_min_score: Option<f64>,
}

impl CourseSettings {
    /// The settings a course has now, as a starting point for a change.
    pub fn of(course: &Course) -> CourseSettings {
        CourseSettings {
            title: course.title.clone(),
            summary: course.summary.clone(),
            topic: course.topic.clone(),
            status: course.status.clone(),
            enrolment_mode: course.enrolment_mode.clone(),
            enrolment_key: course.enrolment_key.clone(),
            completion_min_score: course.completion_min_score,
        }
    }

    /// Checks every field; the first problem is reported with its field name.
    pub fn validated(mut self) -> Result<CourseSettings, InvalidInput> {
        self.title = validate::name("title", &self.title, MAX_TITLE_LEN)?;
        self.summary = self.summary.trim().to_string();
        if self.summary.chars().count() > MAX_SUMMARY_LEN {
            return Err(InvalidInput::new("summary", format!("must be at most {MAX_SUMMARY_LEN} characters")));
        }
        self.topic = self.topic.trim().to_string();
        if !self.topic.is_empty() && !TOPICS.iter().any(|(k, _)| *k == self.topic) {
            let keys: Vec<&str> = TOPICS.iter().map(|(k, _)| *k).collect();
            return Err(InvalidInput::new("topic", format!("must be one of {}", keys.join(", "))));
        }
        if !matches!(self.status.as_str(), "draft" | "published") {
            return Err(InvalidInput::new("status", "must be draft or published"));
        }
        if !matches!(self.enrolment_mode.as_str(), "open" | "key" | "closed") {
            return Err(InvalidInput::new("enrolment_mode", "must be open, key or closed"));
        }
        self.enrolment_key = self.enrolment_key.map(|k| k.trim().to_string()).filter(|k| !k.is_empty());
        match &self.enrolment_key {
            Some(key) if key.chars().count() > MAX_ENROLMENT_KEY_LEN => {
                return Err(InvalidInput::new(
                    "enrolment_key",
                    format!("must be at most {MAX_ENROLMENT_KEY_LEN} characters"),
                ))
            }
            None if self.enrolment_mode == "key" => {
                return Err(InvalidInput::new("enrolment_key", "is needed when enrolment requires a key"))
            }
            _ => {}
        }
        if let Some(score) = self.completion_min_score {
            if !(0.0..=100.0).contains(&score) || score.is_nan() {
                return Err(InvalidInput::new("completion_min_score", "must be between 0 and 100"));
            }
        }
        Ok(self)
    }
}

/// Saves new settings after validating them.
pub async fn update_settings(db: &Db, course_id: &str, settings: CourseSettings) -> Result<Course, CatalogError> {
    let s = settings.validated()?;
    let done = on_db!(db, |pool| {
        sqlx::query(
            "UPDATE courses SET title = $1, summary = $2, topic = $3, status = $4, enrolment_mode = $5, \
             enrolment_key = $6, completion_min_score = $7, updated_at = $8 WHERE id = $9",
        )
        .bind(&s.title)
        .bind(&s.summary)
        .bind(&s.topic)
        .bind(&s.status)
        .bind(&s.enrolment_mode)
        .bind(&s.enrolment_key)
        .bind(s.completion_min_score)
        .bind(db::now())
        .bind(course_id)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
    })?;
    if done == 0 {
        return Err(CatalogError::NotFound(course_id.to_string()));
    }
    get(db, course_id).await
}

/// Records the file name of a course's cover image (the file is written by the caller).
pub async fn set_cover_image(db: &Db, course_id: &str, file_name: Option<&str>) -> Result<(), CatalogError> {
    on_db!(db, |pool| {
        sqlx::query("UPDATE courses SET cover_image = $1, updated_at = $2 WHERE id = $3")
            .bind(file_name)
            .bind(db::now())
            .bind(course_id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// A person who teaches a course.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow)]
pub struct Instructor {
    pub user_id: String,
    pub name: String,
    pub email: String,
}

pub async fn instructors(db: &Db, course_id: &str) -> Result<Vec<Instructor>, CatalogError> {
    Ok(on_db!(db, |pool| {
        sqlx::query_as(
            "SELECT u.id AS user_id, u.name, u.email FROM course_instructors ci JOIN users u ON u.id = ci.user_id \
             WHERE ci.course_id = $1 ORDER BY u.name, u.id",
        )
        .bind(course_id)
        .fetch_all(pool)
        .await
    })?)
}

/// Makes a user an instructor of a course (again is fine).
pub async fn add_instructor(db: &Db, course_id: &str, user_id: &str) -> Result<(), CatalogError> {
    if is_instructor(db, course_id, user_id).await? {
        return Ok(());
    }
    on_db!(db, |pool| {
        sqlx::query("INSERT INTO course_instructors (course_id, user_id, created_at) VALUES ($1, $2, $3)")
            .bind(course_id)
            .bind(user_id)
            .bind(db::now())
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Removes an instructor from a course. The last one cannot be removed, so that a course
/// always has someone who teaches it (its institute's managers can still edit it).
pub async fn remove_instructor(db: &Db, course_id: &str, user_id: &str) -> Result<(), CatalogError> {
    let teaching = instructors(db, course_id).await?;
    if !teaching.iter().any(|i| i.user_id == user_id) {
        return Err(CatalogError::NotFound(format!("instructor {user_id}")));
    }
    if teaching.len() == 1 {
        return Err(InvalidInput::new("instructor", "a course keeps at least one instructor; add another first").into());
    }
    on_db!(db, |pool| {
        sqlx::query("DELETE FROM course_instructors WHERE course_id = $1 AND user_id = $2")
            .bind(course_id)
            .bind(user_id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// What a catalog search asks for; empty fields do not filter.
#[derive(Debug, Clone, Default)]
pub struct CatalogQuery {
    /// Words that must all appear in the title or summary (case-insensitive).
    pub text: String,
    pub topic: String,
    /// An institute's slug.
    pub institute: String,
}

/// A published course as the catalog lists it.
#[derive(Debug, Clone, PartialEq, Serialize, FromRow)]
pub struct CatalogEntry {
    pub id: String,
    pub slug: String,
    pub title: String,
    pub summary: String,
    pub topic: String,
    pub cover_image: Option<String>,
    pub enrolment_mode: String,
    pub institute_slug: String,
    pub institute_name: String,
    pub updated_at: OffsetDateTime,
}

/// Longest catalog search text; longer input is cut (a search box is not a document).
pub const MAX_SEARCH_LEN: usize = 200;

/// Published courses matching `query`, by title, with the total for paging.
pub async fn search(
    db: &Db,
    query: &CatalogQuery,
    offset: i64,
    limit: i64,
) -> Result<(Vec<CatalogEntry>, i64), CatalogError> {
    // Each word becomes one LIKE pattern; up to eight words keep the SQL text fixed.
    let words: Vec<String> = query
        .text
        .chars()
        .take(MAX_SEARCH_LEN)
        .collect::<String>()
        .split_whitespace()
        .take(8)
        .map(|w| format!("%{}%", w.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")))
        .collect();
    let mut patterns: Vec<Option<String>> = words.into_iter().map(Some).collect();
    patterns.resize(8, None);
    let topic = Some(query.topic.trim()).filter(|t| !t.is_empty());
    let institute = Some(query.institute.trim()).filter(|t| !t.is_empty());
    let word_filters: String = (3..=10)
        .map(|n| {
            format!(
                " AND (${n} IS NULL OR LOWER(c.title) LIKE ${n} ESCAPE '\\' OR LOWER(c.summary) LIKE ${n} ESCAPE '\\')"
            )
        })
        .collect();
    let filters = format!(
        "FROM courses c JOIN organisations o ON o.id = c.organisation_id WHERE c.status = 'published' \
         AND ($1 IS NULL OR c.topic = $1) AND ($2 IS NULL OR o.slug = $2){word_filters}"
    );
    let list_sql = format!(
        "SELECT c.id, c.slug, c.title, c.summary, c.topic, c.cover_image, c.enrolment_mode, o.slug AS institute_slug, \
         o.name AS institute_name, c.updated_at {filters} ORDER BY LOWER(c.title), c.id LIMIT $11 OFFSET $12"
    );
    let count_sql = format!("SELECT COUNT(*) {filters}");
    let (entries, total) = on_db!(db, |pool| {
        async {
            let mut list = sqlx::query_as::<_, CatalogEntry>(&list_sql).bind(topic).bind(institute);
            let mut count = sqlx::query_scalar::<_, i64>(&count_sql).bind(topic).bind(institute);
            for p in &patterns {
                list = list.bind(p.clone());
                count = count.bind(p.clone());
            }
            let entries = list.bind(limit).bind(offset).fetch_all(pool).await?;
            let total = count.fetch_one(pool).await?;
            Ok::<_, sqlx::Error>((entries, total))
        }
        .await
    })?;
    Ok((entries, total))
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
    // One query for both lookups (every course page and launch makes it); an id wins over
    // a slug that happens to spell it.
    let sql = format!(
        "SELECT {COURSE_COLUMNS} FROM courses WHERE id = $1 OR slug = $1 \
         ORDER BY CASE WHEN id = $1 THEN 0 ELSE 1 END LIMIT 1"
    );
    let found: Option<Course> = on_db!(db, |pool| sqlx::query_as(&sql).bind(id_or_slug).fetch_optional(pool).await)?;
    found.ok_or_else(|| CatalogError::NotFound(id_or_slug.to_string()))
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

/// Whether `who` may see a course's page and outline: everyone for a published course,
/// admins and members of its institute for a draft. Taking the content needs an
/// enrolment too (see `enrolments::may_take`).
pub fn may_view(who: &Principal, course: &Course) -> bool {
    course.status == "published" || who.is_admin() || who.belongs_to(&course.organisation_id)
}

/// Whether `who` may manage a course's learners (enrol, withdraw, see the roster and
/// reports): admins, managers of its institute, and its instructors.
pub async fn may_manage_learners(db: &Db, who: &Principal, course: &Course) -> Result<bool, CatalogError> {
    may_edit(db, who, course).await
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
