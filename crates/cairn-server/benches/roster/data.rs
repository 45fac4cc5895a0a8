//! The data set: a fresh data folder migrated and given an admin and an institute by the
//! `cairn` command line, then filled by one `sqlite3` script of `INSERT … SELECT` over
//! recursive CTEs in one transaction: learners, cohorts, courses with lessons, a million
//! enrolments and the lesson progress that agrees with them.

use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub const ADMIN_EMAIL: &str = "admin@bench.example";
pub const PASSWORD: &str = "bench-password-123";
pub const ORG: &str = "bench";

/// How much data to make. Every learner is enrolled in every course.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    pub learners: u32,
    pub courses: u32,
    pub cohorts: u32,
}

impl Shape {
    pub fn enrolments(self) -> u64 {
        u64::from(self.learners) * u64::from(self.courses)
    }

    /// Written next to the database so that a later run can tell whether it may reuse it:
    /// the shape, and a hash of the SQLite migrations and of the script, so that a changed
    /// schema or data recipe makes the data again.
    fn marker(self) -> String {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        let migrations = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations/sqlite");
        let mut files: Vec<PathBuf> =
            std::fs::read_dir(&migrations).map(|d| d.flatten().map(|e| e.path()).collect()).unwrap_or_default();
        files.sort();
        for file in files {
            std::fs::read(&file).unwrap_or_default().hash(&mut hasher);
        }
        script(self).hash(&mut hasher);
        format!(
            "learners={} courses={} cohorts={} lessons=4 schema-and-script={:016x}\n",
            self.learners,
            self.courses,
            self.cohorts,
            hasher.finish()
        )
    }
}

/// What making the data cost.
pub struct Generated {
    pub reused: bool,
    pub script: Duration,
    pub total: Duration,
    pub bytes: u64,
}

/// The `cairn` command line with only the bench's own settings.
pub fn cairn(exe: &Path, dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(exe);
    c.args(args).current_dir(dir);
    for (name, _) in std::env::vars() {
        if name.starts_with("CAIRN_") {
            c.env_remove(name);
        }
    }
    c.env("CAIRN_DATA_DIR", dir).env("CAIRN_LOG", "warn");
    c
}

fn run(mut c: Command, input: Option<&str>, what: &str) -> Result<String, String> {
    c.stdin(if input.is_some() { Stdio::piped() } else { Stdio::null() }).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = c.spawn().map_err(|e| format!("{what}: {e}"))?;
    if let Some(text) = input {
        // The pipe is dropped after writing so that the child sees the end of its input.
        let mut stdin = child.stdin.take().ok_or("no stdin")?;
        stdin.write_all(text.as_bytes()).map_err(|e| format!("{what}: {e}"))?;
    }
    let out = child.wait_with_output().map_err(|e| format!("{what}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{what} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

pub fn database(dir: &Path) -> PathBuf {
    dir.join("cairn.db")
}

/// Makes the data folder, or keeps the one already there when `reuse` is set and it was made
/// with the same shape by a run that finished generating.
pub fn prepare(exe: &Path, dir: &Path, shape: Shape, reuse: bool) -> Result<Generated, String> {
    let marker = dir.join("bench-shape.txt");
    if reuse && std::fs::read_to_string(&marker).is_ok_and(|m| m == shape.marker()) {
        let bytes = std::fs::metadata(database(dir)).map(|m| m.len()).unwrap_or(0);
        return Ok(Generated { reused: true, script: Duration::ZERO, total: Duration::ZERO, bytes });
    }
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let started = Instant::now();
    run(cairn(exe, dir, &["migrate"]), None, "cairn migrate")?;
    let admin =
        ["user", "add", "--email", ADMIN_EMAIL, "--name", "Administrator", "--role", "admin", "--password-stdin"];
    run(cairn(exe, dir, &admin), Some(&format!("{PASSWORD}\n")), "cairn user add")?;
    run(cairn(exe, dir, &["org", "add", "--slug", ORG, "--name", "Bench institute"]), None, "cairn org add")?;
    let t = Instant::now();
    let mut sqlite = Command::new("sqlite3");
    sqlite.arg("-bail").arg(database(dir));
    run(sqlite, Some(&script(shape)), "sqlite3 (data script)")?;
    let script_time = t.elapsed();
    std::fs::write(&marker, shape.marker()).map_err(|e| e.to_string())?;
    let bytes = std::fs::metadata(database(dir)).map(|m| m.len()).unwrap_or(0);
    Ok(Generated { reused: false, script: script_time, total: started.elapsed(), bytes })
}

const FIRST_NAMES: &[&str] = &[
    "Amina", "Jonas", "Sofia", "Mateo", "Lea", "Noah", "Ines", "Youssef", "Maria", "Lukas", "Chloe", "Omar", "Elena",
    "Tomas", "Fatou", "Pierre", "Anna", "Kofi", "Julia", "Ivan", "Nadia", "Hugo", "Sara", "Diego", "Aïcha", "Emil",
    "Zoe", "Karim", "Marta", "Felix", "Laila", "Paulo", "Eva", "Samuel", "Clara", "Malik", "Ingrid", "Rafael", "Mei",
    "Arjun",
];
const LAST_NAMES: &[&str] = &[
    "Martin",
    "Diallo",
    "Rossi",
    "Müller",
    "García",
    "Nguyen",
    "Kowalski",
    "Haddad",
    "Silva",
    "Dubois",
    "Okafor",
    "Jensen",
    "Novak",
    "Ferreira",
    "Traoré",
    "Schmidt",
    "Lopez",
    "Ivanova",
    "Mensah",
    "Costa",
    "Bernard",
    "Yilmaz",
    "Petit",
    "Andersson",
    "Moreau",
    "O'Brien",
    "Fischer",
    "Benali",
    "Santos",
    "Kim",
    "Dupont",
    "Horvat",
    "Sato",
    "Leroy",
    "Mwangi",
    "Romano",
    "Weber",
    "Chen",
    "Fontaine",
    "Abebe",
    "Lambert",
    "Marchetti",
    "Nowak",
    "Girard",
    "Keller",
    "Rahman",
    "Bauer",
    "Colin",
    "Park",
    "Vidal",
];
const TOPICS: &[&str] = &[
    "Public procurement",
    "Data protection",
    "Digital identity",
    "Cybersecurity awareness",
    "Open data",
    "Project management",
    "Accessibility",
    "Records management",
    "Budget planning",
    "Citizen services",
];

/// A random version-4 UUID in SQL, as `uuid::Uuid::new_v4().to_string()` writes them.
const UUID: &str =
    "lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-' \
     || substr('89ab', 1 + abs(random()) % 4, 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))";

/// Replaces every `@TS(x)@` with `strftime('%Y-%m-%dT%H:%M:%SZ', x, 'unixepoch')`: RFC 3339
/// in UTC with whole seconds, the text sqlx writes for an `OffsetDateTime` on SQLite when
/// it has no fraction of a second (NULL stays NULL).
fn expand_timestamps(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() * 2);
    let mut rest = sql;
    while let Some(start) = rest.find("@TS(") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 4..];
        let end = after.find(")@").expect("@TS( without )@ in the data template");
        out.push_str(&format!("strftime('%Y-%m-%dT%H:%M:%SZ', {}, 'unixepoch')", &after[..end]));
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

/// A JSON array of strings as a SQL string literal.
fn sql_list(items: &[&str]) -> String {
    let json = serde_json::to_string(items).unwrap();
    format!("'{}'", json.replace('\'', "''"))
}

/// The whole script. Timestamps are RFC 3339 in UTC with whole seconds
/// (`2025-09-02T11:34:18Z`), which is what sqlx writes for an `OffsetDateTime` on SQLite
/// and what it reads back. Status, progress, score and dates come from a fixed arithmetic
/// hash of (learner, course), so every run makes the same mix; only the ids are random.
pub fn script(shape: Shape) -> String {
    let body = TEMPLATE
        .replace("@LEARNERS@", &shape.learners.to_string())
        .replace("@COURSES@", &shape.courses.to_string())
        .replace("@COHORTS@", &shape.cohorts.max(1).to_string())
        .replace("@ORG@", ORG)
        .replace("@ADMIN@", ADMIN_EMAIL)
        .replace("@SEED@", "7")
        .replace("'@FIRST@'", &sql_list(FIRST_NAMES))
        .replace("@NFIRST@", &FIRST_NAMES.len().to_string())
        .replace("'@LAST@'", &sql_list(LAST_NAMES))
        .replace("@NLAST@", &LAST_NAMES.len().to_string())
        .replace("'@TOPICS@'", &sql_list(TOPICS))
        .replace("@NTOPICS@", &TOPICS.len().to_string())
        .replace("@UUID@", UUID);
    let body = expand_timestamps(&body);
    // No rollback journal and no syncing while the data goes in: a failed run starts again
    // from scratch anyway. The file is put back into WAL mode, as Cairn uses it, at the end.
    let pragmas = "PRAGMA journal_mode = OFF;\nPRAGMA synchronous = OFF;\nPRAGMA cache_size = -262144;\n\
                   PRAGMA temp_store = MEMORY;\n";
    format!("{pragmas}BEGIN;\n{body}COMMIT;\nPRAGMA journal_mode = WAL;\n")
}

/// The data recipe. `@TS(x)@` is the RFC 3339 text of the Unix time `x`; the other `@…@`
/// are filled in by [`script`]. Temporary tables number the learners, cohorts, courses,
/// modules and lessons (1, 2, …) beside their random ids, so that later statements can
/// pair them by arithmetic. `CROSS JOIN` keeps SQLite's loop order as written.
const TEMPLATE: &str = r#"CREATE TEMP TABLE seq (i INTEGER PRIMARY KEY);
WITH RECURSIVE s (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < MAX(@LEARNERS@, @COURSES@, @COHORTS@))
INSERT INTO seq SELECT i FROM s;

CREATE TEMP TABLE ctx AS
SELECT (SELECT id FROM organisations WHERE slug = '@ORG@') AS org_id,
       (SELECT id FROM users WHERE email = '@ADMIN@') AS admin_id,
       (SELECT password_hash FROM users WHERE email = '@ADMIN@') AS password_hash,
       CAST(strftime('%s', '2025-09-01') AS INTEGER) AS t0,
       @TS(CAST(strftime('%s', '2025-09-01') AS INTEGER) - 30 * 86400)@ AS setup_at;

-- Learners get the admin's password hash, so any of them can sign in with the bench password.
CREATE TEMP TABLE learner (
    i INTEGER PRIMARY KEY, id TEXT NOT NULL, cohort INTEGER NOT NULL, name TEXT NOT NULL, email TEXT NOT NULL
);
INSERT INTO learner
SELECT i, @UUID@, (i - 1) % @COHORTS@ + 1,
       json_extract('@FIRST@', '$[' || ((i * 7) % @NFIRST@) || ']') || ' '
           || json_extract('@LAST@', '$[' || ((i * 13 + i / 97) % @NLAST@) || ']'),
       ''
FROM seq WHERE i <= @LEARNERS@;
UPDATE learner SET email = lower(replace(name, ' ', '.')) || '.' || i || '@learners.example';

CREATE TEMP TABLE cohort (i INTEGER PRIMARY KEY, id TEXT NOT NULL);
INSERT INTO cohort SELECT i, @UUID@ FROM seq WHERE i <= @COHORTS@;

CREATE TEMP TABLE course (i INTEGER PRIMARY KEY, id TEXT NOT NULL);
INSERT INTO course SELECT i, @UUID@ FROM seq WHERE i <= @COURSES@;

INSERT INTO users (id, email, name, role, password_hash, active, created_at)
SELECT l.id, l.email, l.name, 'learner', ctx.password_hash, 1, @TS(ctx.t0 - 86400 + l.i * 7)@
FROM learner l, ctx;

INSERT INTO memberships (organisation_id, user_id, created_at)
SELECT ctx.org_id, l.id, @TS(ctx.t0 - 86400 + l.i * 7)@ FROM learner l, ctx;

-- Two intakes a month from September 2025: "Intake 2025-09 group A", "… group B", …
INSERT INTO cohorts (id, organisation_id, name, created_at)
SELECT c.id, ctx.org_id,
       printf('Intake %d-%02d group %s', 2025 + (c.i + 15) / 24, ((c.i - 1) / 2 + 8) % 12 + 1,
              substr('AB', 2 - c.i % 2, 1)),
       @TS(ctx.t0 + (c.i - 1) * 15 * 86400 - 86400)@
FROM cohort c, ctx;

INSERT INTO cohort_members (cohort_id, user_id, created_at)
SELECT c.id, l.id, @TS(ctx.t0 + (c.i - 1) * 15 * 86400 - 86400)@
FROM learner l JOIN cohort c ON c.i = l.cohort, ctx;

INSERT INTO courses (id, organisation_id, slug, title, summary, status, current_package_id, created_by,
                     created_at, updated_at, topic, enrolment_mode)
SELECT k.id, ctx.org_id,
       printf('course-%03d', k.i),
       json_extract('@TOPICS@', '$[' || ((k.i - 1) % @NTOPICS@) || ']') || printf(' %d', (k.i - 1) / @NTOPICS@ + 1),
       'A course of the benchmark data set.', 'published', NULL, ctx.admin_id, ctx.setup_at, ctx.setup_at,
       json_extract('@TOPICS@', '$[' || ((k.i - 1) % @NTOPICS@) || ']'),
       'closed'
FROM course k, ctx;

-- Two modules of two lessons per course; lesson `pos` runs 1 to 4 across the course.
CREATE TEMP TABLE module (course INTEGER NOT NULL, pos INTEGER NOT NULL, id TEXT NOT NULL, PRIMARY KEY (course, pos));
CREATE TEMP TABLE lesson (
    course INTEGER NOT NULL, pos INTEGER NOT NULL, id TEXT NOT NULL, module_id TEXT NOT NULL, PRIMARY KEY (course, pos)
);
INSERT INTO module SELECT k.i, m.i, @UUID@ FROM course k CROSS JOIN seq m WHERE m.i <= 2;
INSERT INTO lesson SELECT m.course, (m.pos - 1) * 2 + p.i, @UUID@, m.id FROM module m CROSS JOIN seq p WHERE p.i <= 2;

INSERT INTO course_modules (id, course_id, position, title, created_at, updated_at)
SELECT m.id, k.id, m.pos, printf('Part %d', m.pos), ctx.setup_at, ctx.setup_at
FROM module m JOIN course k ON k.i = m.course, ctx;

INSERT INTO lessons (id, course_id, module_id, position, kind, title, required, item_identifier, body, url,
                     created_at, updated_at)
SELECT ls.id, k.id, ls.module_id, (ls.pos - 1) % 2 + 1, 'page', printf('Lesson %d', ls.pos), 1, NULL,
       '# Lesson ' || ls.pos || char(10) || char(10) || 'Read this page, then mark it done.', NULL,
       ctx.setup_at, ctx.setup_at
FROM lesson ls JOIN course k ON k.i = ls.course, ctx;

-- One row per (learner, course), learner by learner, as enrolments arrive over time: the
-- rows of one course are spread over the whole table, as in a real database. r1 … r5 are
-- five independent draws in 0..999 from a hash of (learner, course): squaring modulo a
-- prime scrambles the arithmetic sequence x1 … x5.
INSERT INTO enrolments (id, course_id, user_id, cohort_id, source, state, status, progress_percent, score,
                        time_spent_seconds, enrolled_at, starts_at, ends_at, started_at, completed_at, last_access_at,
                        withdrawn_at, updated_at)
WITH base AS (
    SELECT l.i AS u, l.id AS user_id, l.cohort AS cohort, k.i AS c, k.id AS course_id,
           (l.i * 100003 + k.i * 7717 + @SEED@) % 999983 AS seed
    FROM learner l CROSS JOIN course k
), stepped AS (
    SELECT *,
           (seed + 1 * 314159) % 999983 AS x1, (seed + 2 * 314159) % 999983 AS x2, (seed + 3 * 314159) % 999983 AS x3,
           (seed + 4 * 314159) % 999983 AS x4, (seed + 5 * 314159) % 999983 AS x5
    FROM base
), drawn AS (
    SELECT *,
           x1 * x1 % 999983 % 1000 AS r1, x2 * x2 % 999983 % 1000 AS r2, x3 * x3 % 999983 % 1000 AS r3,
           x4 * x4 % 999983 % 1000 AS r4, x5 * x5 % 999983 % 1000 AS r5
    FROM stepped
), shaped AS (
    -- Courses differ: 25–55 % completed, 15–30 % not started, the rest under way; 2 %
    -- withdrawn. Each cohort starts 15 days after the previous one.
    SELECT *,
           CASE WHEN r1 < 250 + (c * 37) % 300 THEN 'completed'
                WHEN r1 >= 850 - (c * 53) % 150 THEN 'not_started'
                ELSE 'in_progress' END AS status,
           CASE WHEN r2 < 20 THEN 'withdrawn' ELSE 'active' END AS state,
           CASE WHEN r3 < 500 THEN 'cohort' WHEN r3 < 800 THEN 'bulk' WHEN r3 < 900 THEN 'manual'
                ELSE 'self' END AS source,
           (SELECT t0 FROM ctx) + (cohort - 1) * 15 * 86400 + (c % 10) * 86400 + r4 * 53 AS enrolled_s
    FROM drawn
), timed AS (
    SELECT *,
           CASE status WHEN 'completed' THEN 100 WHEN 'in_progress' THEN (r5 % 4) * 25 ELSE 0 END AS progress,
           CASE WHEN status = 'not_started' THEN NULL ELSE enrolled_s + 3600 + r5 * 1201 END AS started_s
    FROM shaped
), dated AS (
    SELECT *,
           CASE WHEN status = 'completed' THEN started_s + 86400 + r3 * 3889 END AS completed_s,
           CASE status WHEN 'completed' THEN started_s + 86400 + r3 * 3889 + (r4 % 7) * 86400
                       WHEN 'in_progress' THEN started_s + r2 * 2593 END AS access_s
    FROM timed
)
SELECT @UUID@, course_id, user_id,
       CASE WHEN source IN ('cohort', 'bulk') THEN (SELECT id FROM cohort WHERE cohort.i = dated.cohort) END,
       source, state, status, progress,
       CASE WHEN status = 'completed' AND r5 >= 100 THEN 55 + r1 % 46 + (r2 % 10) / 10.0
            WHEN status = 'in_progress' AND progress > 0 AND r5 % 2 = 1 THEN 30 + r1 % 60 END,
       CASE status WHEN 'completed' THEN 1800 + r4 * 5.4
                   WHEN 'in_progress' THEN 300 + progress * 36 + r4 * 0.6
                   ELSE 0 END,
       @TS(enrolled_s)@,
       NULL,
       CASE WHEN source = 'cohort' THEN @TS(enrolled_s + 180 * 86400)@ END,
       @TS(started_s)@,
       @TS(completed_s)@,
       @TS(access_s)@,
       CASE WHEN state = 'withdrawn' THEN @TS(COALESCE(access_s, enrolled_s) + 30 * 86400)@ END,
       @TS(COALESCE(access_s, enrolled_s) + CASE WHEN state = 'withdrawn' THEN 30 * 86400 ELSE 0 END)@
FROM dated;

-- Lesson progress that agrees with each enrolment: lessons before the learner's place are
-- done, the one at it is under way, a completed course has all four done.
INSERT INTO lesson_progress (lesson_id, user_id, course_id, status, score, time_spent_seconds, first_seen_at,
                             completed_at, updated_at)
SELECT ls.id, e.user_id, e.course_id,
       CASE WHEN e.status = 'completed' OR ls.pos <= e.progress_percent / 25 THEN 'completed' ELSE 'in_progress' END,
       CASE WHEN e.status = 'completed' AND ls.pos = 4 THEN e.score END,
       e.time_spent_seconds / MIN(4, e.progress_percent / 25 + 1),
       e.started_at,
       CASE WHEN e.status = 'completed' OR ls.pos <= e.progress_percent / 25
            THEN COALESCE(e.completed_at, e.last_access_at) END,
       COALESCE(e.completed_at, e.last_access_at, e.started_at)
FROM enrolments e
JOIN course k ON k.id = e.course_id
JOIN lesson ls ON ls.course = k.i AND (e.status = 'completed' OR ls.pos <= e.progress_percent / 25 + 1)
WHERE e.status <> 'not_started';
"#;
