//! The completion report of every enrolment three ways: `sqlite3 -csv` running the report's
//! own SQL (the baseline), `cairn_core::reports::completions_csv` in this process, and
//! `GET /api/v1/reports/completions` from the server, with the memory each one needs.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cairn_core::reports::{self, ReportFilter, ReportScope};
use cairn_core::Db;
use futures_util::StreamExt as _;

use crate::server::{memory, Admin, RssSampler};

/// The report over HTTP: all rows, no filter.
pub const REPORT_API: &str = "/api/v1/reports/completions";

/// How often the memory of the process that builds the CSV is read while it streams.
const SAMPLE_EVERY: Duration = Duration::from_millis(50);

/// The source that holds the report's SQL, read at build time so that the baseline always
/// runs the query Cairn runs.
const REPORTS_RS: &str = include_str!("../../../cairn-core/src/reports/mod.rs");

/// The text of `const SQL` in `reports/mod.rs`, with the string escapes undone (a backslash at
/// a line end drops the line break and the next line's indentation, as in Rust) and every
/// filter parameter set to NULL, which is what an unfiltered administrator's report binds.
pub fn report_sql() -> Result<String, String> {
    const START: &str = "pub const SQL: &str = \"";
    let at = REPORTS_RS.find(START).ok_or("no `pub const SQL: &str = \"` in cairn-core/src/reports/mod.rs")?;
    let mut chars = REPORTS_RS[at + START.len()..].chars().peekable();
    let mut sql = String::new();
    loop {
        match chars.next().ok_or("unterminated SQL string in reports/mod.rs")? {
            '"' => break,
            '\\' => match chars.next() {
                Some('\n') => {
                    while chars.peek().is_some_and(|c| c.is_whitespace()) {
                        chars.next();
                    }
                }
                Some('n') => sql.push('\n'),
                Some('t') => sql.push('\t'),
                Some(c) => sql.push(c),
                None => return Err("unterminated SQL string in reports/mod.rs".into()),
            },
            c => sql.push(c),
        }
    }
    // Cairn runs this query once per course (in course-title order); the baseline asks
    // sqlite3 for the same rows in the same order in one query, which is what a person
    // dumping the report by hand would write.
    let per_course = "e.course_id = $1 AND";
    let per_course_order = "ORDER BY u.name, e.user_id";
    if !sql.contains(per_course) || !sql.contains(per_course_order) {
        return Err("the report's SQL no longer reads one course at a time; update benches/roster/report.rs".into());
    }
    sql = sql.replace(per_course, "").replace(per_course_order, "ORDER BY c.title, c.id, u.name, e.user_id");
    // From the highest number down, so that `$1` never eats the start of `$10`.
    for n in (1..=20).rev() {
        sql = sql.replace(&format!("${n}"), "NULL");
    }
    Ok(sql)
}

/// One download of the whole report.
#[derive(Clone, Copy, Default)]
pub struct Download {
    pub rows: u64,
    pub bytes: u64,
    pub seconds: f64,
    /// Time to the first byte of data (the header) and to the first row after it.
    pub first_row: f64,
    /// Resident memory of the producing process before, and the highest seen during (KiB).
    pub rss_before_kib: u64,
    pub rss_peak_kib: u64,
    pub hwm_kib: u64,
    pub samples: usize,
}

impl Download {
    pub fn rows_per_second(&self) -> f64 {
        self.rows as f64 / self.seconds.max(1e-9)
    }
}

/// Counts CSV records by their CRLF ends (the data has no line breaks inside fields).
#[derive(Default)]
struct Counter {
    crlf: u64,
    bytes: u64,
    last_cr: bool,
}

impl Counter {
    fn feed(&mut self, chunk: &[u8]) {
        self.bytes += chunk.len() as u64;
        for &b in chunk {
            if b == b'\n' && self.last_cr {
                self.crlf += 1;
            }
            self.last_cr = b == b'\r';
        }
    }

    /// Records after the header.
    fn rows(&self) -> u64 {
        self.crlf.saturating_sub(1)
    }
}

/// `sqlite3 -csv <db> <sql> > /dev/null`, timed from spawn to exit.
pub fn sqlite3(db: &Path, sql: &str) -> Result<f64, String> {
    let t = Instant::now();
    let status = Command::new("sqlite3")
        .arg("-csv")
        .arg(db)
        .arg(sql)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .status()
        .map_err(|e| format!("sqlite3: {e}"))?;
    if !status.success() {
        return Err(format!("sqlite3 -csv failed: {status}"));
    }
    Ok(t.elapsed().as_secs_f64())
}

/// The number of rows of the report's query, counted by `sqlite3` (not timed). It also reads
/// the whole database once, so every timed run starts with it in the page cache.
pub fn sqlite3_rows(db: &Path, sql: &str) -> Result<u64, String> {
    let out = Command::new("sqlite3")
        .arg(db)
        .arg(format!("SELECT COUNT(*) FROM ({sql});"))
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("sqlite3: {e}"))?;
    String::from_utf8_lossy(&out.stdout).trim().parse().map_err(|e| format!("sqlite3 count: {e}"))
}

/// The report through the library, in this process (its memory is this process's memory).
pub async fn library(db: &Db) -> Result<Download, String> {
    let me = std::process::id().to_string();
    let before = memory(&me).unwrap_or_default().0;
    let sampler = RssSampler::start(me, SAMPLE_EVERY);
    let t = Instant::now();
    let mut counter = Counter::default();
    let mut first_row = 0.0;
    let mut chunks = reports::completions_csv(db.clone(), ReportScope::All, ReportFilter::default());
    while let Some(chunk) = chunks.recv().await {
        counter.feed(&chunk.map_err(|e| format!("completions_csv: {e}"))?);
        if first_row == 0.0 && counter.crlf >= 2 {
            first_row = t.elapsed().as_secs_f64();
        }
    }
    let seconds = t.elapsed().as_secs_f64();
    let seen = sampler.finish();
    Ok(Download {
        rows: counter.rows(),
        bytes: counter.bytes,
        seconds,
        first_row,
        rss_before_kib: before,
        rss_peak_kib: seen.peak_rss_kib,
        hwm_kib: seen.hwm_kib,
        samples: seen.samples,
    })
}

/// The report over HTTP, with the server's memory sampled every 50 ms while it streams.
/// `Ok(None)` when the endpoint is not there (404).
pub async fn http(admin: &Admin, server_pid: u32) -> Result<Option<Download>, String> {
    let pid = server_pid.to_string();
    let before = memory(&pid).unwrap_or_default().0;
    let sampler = RssSampler::start(pid, SAMPLE_EVERY);
    let t = Instant::now();
    let r = admin.http.get(format!("{}{REPORT_API}", admin.base)).send().await;
    let r = match r {
        Ok(r) => r,
        Err(e) => {
            sampler.finish();
            return Err(format!("GET {REPORT_API}: {e}"));
        }
    };
    if r.status().as_u16() == 404 {
        sampler.finish();
        return Ok(None);
    }
    if !r.status().is_success() {
        sampler.finish();
        let status = r.status();
        let body = r.text().await.unwrap_or_default();
        return Err(format!("GET {REPORT_API} answered {status}: {}", body.chars().take(300).collect::<String>()));
    }
    let mut counter = Counter::default();
    let mut first_row = 0.0;
    let mut body = r.bytes_stream();
    while let Some(chunk) = body.next().await {
        counter.feed(&chunk.map_err(|e| format!("reading {REPORT_API}: {e}"))?);
        if first_row == 0.0 && counter.crlf >= 2 {
            first_row = t.elapsed().as_secs_f64();
        }
    }
    let seconds = t.elapsed().as_secs_f64();
    let seen = sampler.finish();
    Ok(Some(Download {
        rows: counter.rows(),
        bytes: counter.bytes,
        seconds,
        first_row,
        rss_before_kib: before,
        rss_peak_kib: seen.peak_rss_kib,
        hwm_kib: seen.hwm_kib,
        samples: seen.samples,
    }))
}
