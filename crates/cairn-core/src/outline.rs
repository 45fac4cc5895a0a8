//! Course outlines: ordered modules holding ordered lessons (a SCORM item, a Markdown page
//! or an external link), whether each lesson is required, and which lessons it needs first.

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use sqlx::FromRow;
use time::OffsetDateTime;

use crate::db::{self, Db, StoreError};
use crate::markdown;
use crate::on_db;
use crate::validate::{self, InvalidInput};

/// Longest module or lesson title.
pub const MAX_TITLE_LEN: usize = 200;
/// Longest external link.
pub const MAX_URL_LEN: usize = 2_000;
/// Most modules in a course and lessons in a module; outlines beyond that are unreadable.
pub const MAX_MODULES: usize = 100;
pub const MAX_LESSONS_PER_MODULE: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow)]
pub struct Module {
    pub id: String,
    pub course_id: String,
    pub position: i64,
    pub title: String,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow)]
pub struct Lesson {
    pub id: String,
    pub course_id: String,
    pub module_id: String,
    pub position: i64,
    /// `scorm`, `page` or `link`.
    pub kind: String,
    pub title: String,
    pub required: bool,
    /// For `scorm`: the package item it launches; `None` means the whole package.
    pub item_identifier: Option<String>,
    /// For `page`: the Markdown source.
    pub body: Option<String>,
    /// For `link`: where it points.
    pub url: Option<String>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

const MODULE_COLUMNS: &str = "id, course_id, position, title, created_at, updated_at";
const LESSON_COLUMNS: &str =
    "id, course_id, module_id, position, kind, title, required, item_identifier, body, url, created_at, updated_at";

/// A module with its lessons, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModuleOutline {
    #[serde(flatten)]
    pub module: Module,
    pub lessons: Vec<Lesson>,
}

/// A whole course outline with each lesson's prerequisites.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Outline {
    pub modules: Vec<ModuleOutline>,
    /// lesson id → ids of the lessons it needs first.
    pub prerequisites: HashMap<String, Vec<String>>,
}

impl Outline {
    /// Every lesson in course order.
    pub fn lessons(&self) -> impl Iterator<Item = &Lesson> {
        self.modules.iter().flat_map(|m| m.lessons.iter())
    }

    pub fn lesson(&self, id: &str) -> Option<&Lesson> {
        self.lessons().find(|l| l.id == id)
    }

    pub fn prerequisites_of(&self, lesson_id: &str) -> &[String] {
        self.prerequisites.get(lesson_id).map_or(&[], Vec::as_slice)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OutlineError {
    #[error("{0}")]
    Invalid(#[from] InvalidInput),
    #[error("no such module or lesson")]
    NotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for OutlineError {
    fn from(e: sqlx::Error) -> Self {
        OutlineError::Store(e.into())
    }
}

/// The content of a lesson, by kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LessonContent {
    Scorm { item_identifier: Option<String> },
    Page { body: String },
    Link { url: String },
}

/// A lesson to create or the new state of one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LessonInput {
    pub title: String,
    pub required: bool,
    pub content: LessonContent,
}

impl LessonInput {
    /// Checks title, body and URL; returns the normalised input.
    pub fn validated(mut self) -> Result<LessonInput, InvalidInput> {
        self.title = validate::name("title", &self.title, MAX_TITLE_LEN)?;
        match &mut self.content {
            LessonContent::Scorm { item_identifier } => {
                *item_identifier = item_identifier.take().map(|i| i.trim().to_string()).filter(|i| !i.is_empty());
            }
            LessonContent::Page { body } => markdown::check(body)?,
            LessonContent::Link { url } => *url = check_url(url)?,
        }
        Ok(self)
    }

    fn columns(&self) -> (&'static str, Option<&str>, Option<&str>, Option<&str>) {
        match &self.content {
            LessonContent::Scorm { item_identifier } => ("scorm", item_identifier.as_deref(), None, None),
            LessonContent::Page { body } => ("page", None, Some(body.as_str()), None),
            LessonContent::Link { url } => ("link", None, None, Some(url.as_str())),
        }
    }
}

/// External links must be absolute http(s) URLs: anything else (javascript:, data:, file:)
/// could run script or reach the learner's machine.
pub fn check_url(url: &str) -> Result<String, InvalidInput> {
    let url = url.trim();
    if url.len() > MAX_URL_LEN {
        return Err(InvalidInput::new("url", format!("must be at most {MAX_URL_LEN} characters")));
    }
    let lower = url.to_ascii_lowercase();
    let rest = lower.strip_prefix("https://").or_else(|| lower.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !host.starts_with('/') && !url.chars().any(char::is_whitespace) => {
            Ok(url.to_string())
        }
        _ => Err(InvalidInput::new("url", "must be an absolute http:// or https:// address, e.g. https://example.org")),
    }
}

/// The outline of a course.
pub async fn of_course(db: &Db, course_id: &str) -> Result<Outline, OutlineError> {
    let module_sql = format!("SELECT {MODULE_COLUMNS} FROM course_modules WHERE course_id = $1 ORDER BY position, id");
    let lesson_sql = format!("SELECT {LESSON_COLUMNS} FROM lessons WHERE course_id = $1 ORDER BY position, id");
    let (modules, lessons, prerequisites): (Vec<Module>, Vec<Lesson>, Vec<(String, String)>) = on_db!(db, |pool| {
        async {
            let modules = sqlx::query_as(&module_sql).bind(course_id).fetch_all(pool).await?;
            let lessons = sqlx::query_as(&lesson_sql).bind(course_id).fetch_all(pool).await?;
            let prerequisites = sqlx::query_as(
                "SELECT p.lesson_id, p.required_lesson_id FROM lesson_prerequisites p \
                 JOIN lessons l ON l.id = p.lesson_id WHERE l.course_id = $1",
            )
            .bind(course_id)
            .fetch_all(pool)
            .await?;
            Ok::<_, sqlx::Error>((modules, lessons, prerequisites))
        }
        .await
    })?;
    let mut by_module: HashMap<String, Vec<Lesson>> = HashMap::new();
    for lesson in lessons {
        by_module.entry(lesson.module_id.clone()).or_default().push(lesson);
    }
    let modules = modules
        .into_iter()
        .map(|module| {
            let lessons = by_module.remove(&module.id).unwrap_or_default();
            ModuleOutline { module, lessons }
        })
        .collect();
    let mut prereq_map: HashMap<String, Vec<String>> = HashMap::new();
    for (lesson, required) in prerequisites {
        prereq_map.entry(lesson).or_default().push(required);
    }
    Ok(Outline { modules, prerequisites: prereq_map })
}

/// Every lesson of a course without the modules and prerequisites around them: what a
/// progress refresh needs, in one query instead of the outline's three.
pub async fn lessons_of_course(db: &Db, course_id: &str) -> Result<Vec<Lesson>, OutlineError> {
    let sql = format!("SELECT {LESSON_COLUMNS} FROM lessons WHERE course_id = $1 ORDER BY position, id");
    Ok(on_db!(db, |pool| sqlx::query_as(&sql).bind(course_id).fetch_all(pool).await)?)
}

pub async fn module(db: &Db, id: &str) -> Result<Module, OutlineError> {
    let sql = format!("SELECT {MODULE_COLUMNS} FROM course_modules WHERE id = $1");
    on_db!(db, |pool| sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)?.ok_or(OutlineError::NotFound)
}

pub async fn lesson(db: &Db, id: &str) -> Result<Lesson, OutlineError> {
    let sql = format!("SELECT {LESSON_COLUMNS} FROM lessons WHERE id = $1");
    on_db!(db, |pool| sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)?.ok_or(OutlineError::NotFound)
}

/// Adds a module at the end of the course.
pub async fn add_module(db: &Db, course_id: &str, title: &str) -> Result<Module, OutlineError> {
    let title = validate::name("title", title, MAX_TITLE_LEN)?;
    let count: i64 = on_db!(db, |pool| {
        sqlx::query_scalar("SELECT COUNT(*) FROM course_modules WHERE course_id = $1")
            .bind(course_id)
            .fetch_one(pool)
            .await
    })?;
    if count as usize >= MAX_MODULES {
        return Err(InvalidInput::new("module", format!("a course holds at most {MAX_MODULES} modules")).into());
    }
    let now = db::now();
    let module =
        Module { id: db::new_id(), course_id: course_id.into(), position: 0, title, created_at: now, updated_at: now };
    on_db!(db, |pool| {
        sqlx::query(
            "INSERT INTO course_modules (id, course_id, position, title, created_at, updated_at) \
             SELECT $1, $2, COALESCE(MAX(position), 0) + 1, $3, $4, $5 FROM course_modules WHERE course_id = $2",
        )
        .bind(&module.id)
        .bind(course_id)
        .bind(&module.title)
        .bind(now)
        .bind(now)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
    })?;
    self::module(db, &module.id).await
}

pub async fn rename_module(db: &Db, id: &str, title: &str) -> Result<(), OutlineError> {
    let title = validate::name("title", title, MAX_TITLE_LEN)?;
    let done = on_db!(db, |pool| {
        sqlx::query("UPDATE course_modules SET title = $1, updated_at = $2 WHERE id = $3")
            .bind(&title)
            .bind(db::now())
            .bind(id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })?;
    if done == 0 {
        return Err(OutlineError::NotFound);
    }
    Ok(())
}

/// Deletes a module with its lessons. Lesson progress of those lessons goes with them;
/// enrolment rows (and completion dates) stay.
pub async fn delete_module(db: &Db, id: &str) -> Result<(), OutlineError> {
    let done = on_db!(db, |pool| {
        sqlx::query("DELETE FROM course_modules WHERE id = $1").bind(id).execute(pool).await.map(|r| r.rows_affected())
    })?;
    if done == 0 {
        return Err(OutlineError::NotFound);
    }
    Ok(())
}

/// Adds a lesson at the end of a module.
pub async fn add_lesson(db: &Db, module_id: &str, input: LessonInput) -> Result<Lesson, OutlineError> {
    let input = input.validated()?;
    let module = module(db, module_id).await?;
    let count: i64 = on_db!(db, |pool| {
        sqlx::query_scalar("SELECT COUNT(*) FROM lessons WHERE module_id = $1").bind(module_id).fetch_one(pool).await
    })?;
    if count as usize >= MAX_LESSONS_PER_MODULE {
        return Err(
            InvalidInput::new("lesson", format!("a module holds at most {MAX_LESSONS_PER_MODULE} lessons")).into()
        );
    }
    let id = db::new_id();
    let now = db::now();
    let (kind, item, body, url) = input.columns();
    on_db!(db, |pool| {
        sqlx::query(
            "INSERT INTO lessons (id, course_id, module_id, position, kind, title, required, item_identifier, body, url, \
             created_at, updated_at) \
             SELECT $1, $2, $3, COALESCE(MAX(position), 0) + 1, $4, $5, $6, $7, $8, $9, $10, $11 \
             FROM lessons WHERE module_id = $3",
        )
        .bind(&id)
        .bind(&module.course_id)
        .bind(module_id)
        .bind(kind)
        .bind(&input.title)
        .bind(input.required)
        .bind(item)
        .bind(body)
        .bind(url)
        .bind(now)
        .bind(now)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
    })?;
    lesson(db, &id).await
}

/// Replaces a lesson's title, required flag and content (its kind may change too).
pub async fn update_lesson(db: &Db, id: &str, input: LessonInput) -> Result<Lesson, OutlineError> {
    let input = input.validated()?;
    let (kind, item, body, url) = input.columns();
    let done = on_db!(db, |pool| {
        sqlx::query(
            "UPDATE lessons SET kind = $1, title = $2, required = $3, item_identifier = $4, body = $5, url = $6, \
             updated_at = $7 WHERE id = $8",
        )
        .bind(kind)
        .bind(&input.title)
        .bind(input.required)
        .bind(item)
        .bind(body)
        .bind(url)
        .bind(db::now())
        .bind(id)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
    })?;
    if done == 0 {
        return Err(OutlineError::NotFound);
    }
    lesson(db, id).await
}

pub async fn delete_lesson(db: &Db, id: &str) -> Result<(), OutlineError> {
    let done = on_db!(db, |pool| {
        sqlx::query("DELETE FROM lessons WHERE id = $1").bind(id).execute(pool).await.map(|r| r.rows_affected())
    })?;
    if done == 0 {
        return Err(OutlineError::NotFound);
    }
    Ok(())
}

/// Which way to move a module or lesson among its siblings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Up,
    Down,
}

/// Where `id` lands when moved one step in `direction` among `ids` (in order); the new
/// order of all ids. Moving the first up or the last down changes nothing.
pub fn moved(ids: &[String], id: &str, direction: Direction) -> Option<Vec<String>> {
    let at = ids.iter().position(|i| i == id)?;
    let mut order = ids.to_vec();
    match direction {
        Direction::Up if at > 0 => order.swap(at, at - 1),
        Direction::Down if at + 1 < order.len() => order.swap(at, at + 1),
        _ => {}
    }
    Some(order)
}

/// Moves a module one place up or down.
pub async fn move_module(db: &Db, id: &str, direction: Direction) -> Result<(), OutlineError> {
    let module = module(db, id).await?;
    let siblings: Vec<String> = on_db!(db, |pool| {
        sqlx::query_scalar("SELECT id FROM course_modules WHERE course_id = $1 ORDER BY position, id")
            .bind(&module.course_id)
            .fetch_all(pool)
            .await
    })?;
    let order = moved(&siblings, id, direction).ok_or(OutlineError::NotFound)?;
    write_order(db, "course_modules", &order).await
}

/// Moves a lesson one place up or down within its module.
pub async fn move_lesson(db: &Db, id: &str, direction: Direction) -> Result<(), OutlineError> {
    let lesson = lesson(db, id).await?;
    let siblings: Vec<String> = on_db!(db, |pool| {
        sqlx::query_scalar("SELECT id FROM lessons WHERE module_id = $1 ORDER BY position, id")
            .bind(&lesson.module_id)
            .fetch_all(pool)
            .await
    })?;
    let order = moved(&siblings, id, direction).ok_or(OutlineError::NotFound)?;
    write_order(db, "lessons", &order).await
}

/// Puts the lessons of a module in the given order (what a drag and drop sends). The list
/// must name every lesson of the module exactly once.
pub async fn reorder_lessons(db: &Db, module_id: &str, order: &[String]) -> Result<(), OutlineError> {
    let current: Vec<String> = on_db!(db, |pool| {
        sqlx::query_scalar("SELECT id FROM lessons WHERE module_id = $1").bind(module_id).fetch_all(pool).await
    })?;
    let wanted: HashSet<&String> = order.iter().collect();
    if wanted.len() != order.len() || wanted.len() != current.len() || !current.iter().all(|id| wanted.contains(id)) {
        return Err(InvalidInput::new("order", "must list every lesson of the module exactly once").into());
    }
    write_order(db, "lessons", order).await
}

/// Writes positions 1..n in one transaction. `table` is one of two constants above.
async fn write_order(db: &Db, table: &'static str, order: &[String]) -> Result<(), OutlineError> {
    let sql = format!("UPDATE {table} SET position = $1, updated_at = $2 WHERE id = $3");
    let now = db::now();
    on_db!(db, |pool| {
        async {
            let mut tx = pool.begin().await?;
            for (i, id) in order.iter().enumerate() {
                sqlx::query(&sql).bind(i as i64 + 1).bind(now).bind(id).execute(&mut *tx).await?;
            }
            tx.commit().await
        }
        .await
    })?;
    Ok(())
}

/// Sets which lessons of the same course must be done before `lesson_id` opens. Refuses
/// lessons of another course and anything that would make a cycle.
pub async fn set_prerequisites(db: &Db, lesson_id: &str, required: &[String]) -> Result<(), OutlineError> {
    let lesson = lesson(db, lesson_id).await?;
    let outline = of_course(db, &lesson.course_id).await?;
    let mut graph = outline.prerequisites.clone();
    let required: Vec<String> =
        required.iter().filter(|r| !r.is_empty()).cloned().collect::<HashSet<_>>().into_iter().collect();
    for r in &required {
        if outline.lesson(r).is_none() {
            return Err(InvalidInput::new("prerequisites", format!("{r:?} is not a lesson of this course")).into());
        }
    }
    graph.insert(lesson_id.to_string(), required.clone());
    if has_cycle(&graph) {
        return Err(InvalidInput::new(
            "prerequisites",
            "would make lessons wait for each other in a circle; remove one of the requirements",
        )
        .into());
    }
    on_db!(db, |pool| {
        async {
            let mut tx = pool.begin().await?;
            sqlx::query("DELETE FROM lesson_prerequisites WHERE lesson_id = $1")
                .bind(lesson_id)
                .execute(&mut *tx)
                .await?;
            for r in &required {
                sqlx::query("INSERT INTO lesson_prerequisites (lesson_id, required_lesson_id) VALUES ($1, $2)")
                    .bind(lesson_id)
                    .bind(r)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await
        }
        .await
    })?;
    Ok(())
}

/// Whether the "needs first" graph has a cycle (a lesson that could never open).
pub fn has_cycle(graph: &HashMap<String, Vec<String>>) -> bool {
    fn visit<'a>(
        node: &'a str,
        graph: &'a HashMap<String, Vec<String>>,
        on_path: &mut HashSet<&'a str>,
        done: &mut HashSet<&'a str>,
    ) -> bool {
        if done.contains(node) {
            return false;
        }
        if !on_path.insert(node) {
            return true;
        }
        let cyclic = graph.get(node).is_some_and(|next| next.iter().any(|n| visit(n, graph, on_path, done)));
        on_path.remove(node);
        done.insert(node);
        cyclic
    }
    let (mut on_path, mut done) = (HashSet::new(), HashSet::new());
    graph.keys().any(|k| visit(k, graph, &mut on_path, &mut done))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn moving_one_step() {
        let order = ids(&["a", "b", "c"]);
        let cases = [
            ("b", Direction::Up, Some(ids(&["b", "a", "c"]))),
            ("b", Direction::Down, Some(ids(&["a", "c", "b"]))),
            ("a", Direction::Up, Some(ids(&["a", "b", "c"]))),
            ("c", Direction::Down, Some(ids(&["a", "b", "c"]))),
            ("z", Direction::Up, None),
        ];
        for (id, direction, expected) in cases {
            assert_eq!(moved(&order, id, direction), expected, "{id} {direction:?}");
        }
    }

    #[test]
    fn cycles_are_found() {
        let graph = |edges: &[(&str, &str)]| {
            let mut g: HashMap<String, Vec<String>> = HashMap::new();
            for (a, b) in edges {
                g.entry(a.to_string()).or_default().push(b.to_string());
            }
            g
        };
        let cases: [(&[(&str, &str)], bool); 5] = [
            (&[], false),
            (&[("b", "a"), ("c", "b")], false),
            (&[("c", "a"), ("c", "b"), ("b", "a")], false),
            (&[("a", "a")], true),
            (&[("a", "b"), ("b", "c"), ("c", "a")], true),
        ];
        for (edges, cyclic) in cases {
            assert_eq!(has_cycle(&graph(edges)), cyclic, "{edges:?}");
        }
    }

    #[test]
    fn lesson_input_rules() {
        let lesson = |content| LessonInput { title: " Intro ".into(), required: true, content };
        let ok = lesson(LessonContent::Link { url: " https://example.org/a ".into() }).validated().unwrap();
        assert_eq!(ok.title, "Intro");
        assert_eq!(ok.content, LessonContent::Link { url: "https://example.org/a".into() });
        for bad in ["javascript:alert(1)", "ftp://x", "https://", "/relative", "data:text/html,x", "https://a b"] {
            let err = lesson(LessonContent::Link { url: bad.into() }).validated().unwrap_err();
            assert_eq!(err.field, "url", "{bad}");
        }
        let blank_item = lesson(LessonContent::Scorm { item_identifier: Some("  ".into()) }).validated().unwrap();
        assert_eq!(blank_item.content, LessonContent::Scorm { item_identifier: None });
        assert_eq!(
            LessonInput { title: "".into(), required: true, content: LessonContent::Page { body: "x".into() } }
                .validated()
                .unwrap_err()
                .field,
            "title"
        );
    }
}
