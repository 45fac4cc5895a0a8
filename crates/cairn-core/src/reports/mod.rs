//! The completion report: one row per enrolment (learner, course, dates, status, score,
//! time), streamed as RFC 4180 CSV in chunks so that a million rows never sit in memory.
//! The answers report ([`answers`]) streams a course's recorded interactions the same way;
//! [`questions`] sums them up per question.

use futures_util::StreamExt as _;
use serde::Serialize;
use sqlx::FromRow;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use tokio::sync::mpsc;

use crate::db::{Db, StoreError};
use crate::on_db;

pub mod answers;
pub mod questions;

/// Who may see which rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportScope {
    /// Everything (administrators, the command line).
    All,
    /// Courses of these institutes (managers).
    Organisations(Vec<String>),
    /// Courses this user teaches (instructors).
    InstructorOf(String),
}

/// Filters; empty ones do not filter. Dates select enrolments completed in [since, until).
#[derive(Debug, Clone, Default)]
pub struct ReportFilter {
    pub institute_slug: Option<String>,
    pub course_id: Option<String>,
    pub cohort_id: Option<String>,
    pub since: Option<OffsetDateTime>,
    pub until: Option<OffsetDateTime>,
}

/// One report row.
#[derive(Debug, Clone, PartialEq, Serialize, FromRow)]
pub struct CompletionRow {
    pub learner: String,
    pub email: String,
    pub institute: String,
    pub cohort: Option<String>,
    pub course: String,
    pub enrolled_at: OffsetDateTime,
    pub started_at: Option<OffsetDateTime>,
    pub completed_at: Option<OffsetDateTime>,
    /// `not_started`, `in_progress`, `completed` or `withdrawn`.
    pub status: String,
    pub score: Option<f64>,
    pub time_spent_seconds: f64,
}

/// The CSV header, in column order.
pub const HEADER: [&str; 11] = [
    "learner",
    "email",
    "institute",
    "cohort",
    "course",
    "enrolled_at",
    "started_at",
    "completed_at",
    "status",
    "score",
    "time_spent_seconds",
];

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("could not write CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error(transparent)]
    Progress(#[from] Box<crate::progress::ProgressError>),
}

impl From<sqlx::Error> for ReportError {
    fn from(e: sqlx::Error) -> Self {
        ReportError::Store(e.into())
    }
}

/// Bytes handed to the consumer at a time.
const CHUNK_BYTES: usize = 64 * 1024;

/// The courses the report covers, in the order it lists them.
const COURSES_SQL: &str = "SELECT c.id FROM courses c JOIN organisations o ON o.id = c.organisation_id \
     WHERE ($1 IS NULL OR o.slug = $1) AND ($2 IS NULL OR c.id = $2) \
     AND ($3 IS NULL OR (',' || $3 || ',') LIKE ('%,' || c.organisation_id || ',%')) \
     AND ($4 IS NULL OR EXISTS (SELECT 1 FROM course_instructors ci WHERE ci.course_id = c.id AND ci.user_id = $4)) \
     ORDER BY c.title, c.id";

/// The rows of one course. Reading course by course means each sort is one course's
/// learners (thousands, not a million), and the first rows leave at once.
pub const SQL: &str = "SELECT u.name AS learner, u.email, o.name AS institute, co.name AS cohort, c.title AS course, \
     e.enrolled_at, e.started_at, e.completed_at, \
     CASE WHEN e.state = 'withdrawn' THEN 'withdrawn' ELSE e.status END AS status, e.score, e.time_spent_seconds \
     FROM enrolments e \
     JOIN users u ON u.id = e.user_id \
     JOIN courses c ON c.id = e.course_id \
     JOIN organisations o ON o.id = c.organisation_id \
     LEFT JOIN cohorts co ON co.id = e.cohort_id \
     WHERE e.course_id = $1 AND ($2 IS NULL OR e.cohort_id = $2) \
     AND ($3 IS NULL OR e.completed_at >= $3) AND ($4 IS NULL OR e.completed_at < $4) \
     ORDER BY u.name, e.user_id";

/// A spreadsheet treats a cell starting with one of these as a formula; prefixing a quote
/// keeps a learner's name from running as one (CSV injection).
pub(crate) fn defuse(text: &str) -> std::borrow::Cow<'_, str> {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        std::borrow::Cow::Owned(format!("'{text}"))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

pub(crate) fn date(value: Option<OffsetDateTime>) -> String {
    value.and_then(|v| v.format(&Rfc3339).ok()).unwrap_or_default()
}

/// Appends one row as CSV.
pub fn write_row(out: &mut csv::Writer<Vec<u8>>, row: &CompletionRow) -> Result<(), csv::Error> {
    let score = row.score.map(|s| format!("{:.1}", s)).unwrap_or_default();
    let time = format!("{}", row.time_spent_seconds.max(0.0).round() as i64);
    out.write_record([
        defuse(&row.learner).as_ref(),
        defuse(&row.email).as_ref(),
        defuse(&row.institute).as_ref(),
        defuse(row.cohort.as_deref().unwrap_or_default()).as_ref(),
        defuse(&row.course).as_ref(),
        &date(Some(row.enrolled_at)),
        &date(row.started_at),
        &date(row.completed_at),
        &row.status,
        &score,
        &time,
    ])
}

/// A CSV writer with CRLF line ends (RFC 4180).
pub fn csv_writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::with_capacity(CHUNK_BYTES * 2))
}

/// Streams the report as CSV chunks: a UTF-8 byte-order mark (so spreadsheet programs
/// read accents right), the header, then rows. The query runs on its own task and waits
/// while the receiver is slow, so memory stays flat whatever the row count.
pub fn completions_csv(
    db: Db,
    scope: ReportScope,
    filter: ReportFilter,
) -> mpsc::Receiver<Result<Vec<u8>, ReportError>> {
    let (tx, rx) = mpsc::channel(4);
    tokio::spawn(async move {
        if let Err(e) = run(&db, &scope, &filter, &tx).await {
            let _ = tx.send(Err(e)).await;
        }
    });
    rx
}

async fn run(
    db: &Db,
    scope: &ReportScope,
    filter: &ReportFilter,
    tx: &mpsc::Sender<Result<Vec<u8>, ReportError>>,
) -> Result<(), ReportError> {
    if tx.send(Ok(header_chunk(&HEADER)?)).await.is_err() {
        return Ok(());
    }
    let mut out = csv_writer();
    let (orgs, instructor) = match scope {
        ReportScope::All => (None, None),
        ReportScope::Organisations(ids) => (Some(ids.join(",")), None),
        ReportScope::InstructorOf(user) => (None, Some(user.clone())),
    };
    // A manager of no institute sees nothing rather than everything.
    let orgs = orgs.map(|o| if o.is_empty() { "-".to_string() } else { o });
    // The report reads every enrolment in scope: the scan pool's memory map serves it.
    on_db!(&db.for_scans(), |pool| {
        async {
            let courses: Vec<String> = sqlx::query_scalar(COURSES_SQL)
                .bind(&filter.institute_slug)
                .bind(&filter.course_id)
                .bind(&orgs)
                .bind(&instructor)
                .fetch_all(pool)
                .await?;
            for course in &courses {
                // Commits whose progress refresh has not run yet must be in the report.
                crate::progress::settle_course(db, course).await.map_err(|e| ReportError::Progress(Box::new(e)))?;
                let mut rows = sqlx::query_as::<_, CompletionRow>(SQL)
                    .bind(course)
                    .bind(&filter.cohort_id)
                    .bind(filter.since)
                    .bind(filter.until)
                    .fetch(pool);
                while let Some(row) = rows.next().await {
                    write_row(&mut out, &row?)?;
                    if !send_when_full(&mut out, tx).await? {
                        return Ok(()); // The client went away.
                    }
                }
            }
            send_rest(&mut out, tx).await
        }
        .await
    })
}

/// Sends what the writer holds once it is nearly a chunk; `false` when the receiver went
/// away (the client stopped downloading), so the caller can stop reading.
pub(crate) async fn send_when_full(
    out: &mut csv::Writer<Vec<u8>>,
    tx: &mpsc::Sender<Result<Vec<u8>, ReportError>>,
) -> Result<bool, ReportError> {
    if out.get_ref().len() < CHUNK_BYTES - 8 * 1024 {
        return Ok(true);
    }
    let chunk = take(out)?;
    Ok(tx.send(Ok(chunk)).await.is_ok())
}

/// Sends what the writer still holds once every row is written.
pub(crate) async fn send_rest(
    out: &mut csv::Writer<Vec<u8>>,
    tx: &mpsc::Sender<Result<Vec<u8>, ReportError>>,
) -> Result<(), ReportError> {
    let rest = take(out)?;
    if !rest.is_empty() {
        let _ = tx.send(Ok(rest)).await;
    }
    Ok(())
}

/// A report's first chunk: a UTF-8 byte-order mark (so that spreadsheet programs read
/// accents right) and the header line.
pub(crate) fn header_chunk(header: &[&str]) -> Result<Vec<u8>, ReportError> {
    let mut out = csv_writer();
    out.write_record(header)?;
    let mut first = vec![0xEF, 0xBB, 0xBF];
    first.extend(take(&mut out)?);
    Ok(first)
}

/// Takes what the writer has buffered so far.
pub(crate) fn take(out: &mut csv::Writer<Vec<u8>>) -> Result<Vec<u8>, ReportError> {
    // The writer cannot lend its buffer mutably, so it is swapped for a fresh one; that
    // happens once per chunk, not per row.
    let full = std::mem::replace(out, csv_writer());
    full.into_inner().map_err(|e| ReportError::Csv(e.into_error().into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn rows_are_rfc4180_and_defused() {
        let row = CompletionRow {
            learner: "=HYPERLINK(\"x\")".into(),
            email: "a@example.org".into(),
            institute: "Institut, \"Sud\"".into(),
            cohort: None,
            course: "Éthique\npublique".into(),
            enrolled_at: datetime!(2026-01-02 03:04:05 UTC),
            started_at: None,
            completed_at: Some(datetime!(2026-02-03 04:05:06 UTC)),
            status: "completed".into(),
            score: Some(87.25),
            time_spent_seconds: 3599.6,
        };
        let mut out = csv_writer();
        write_row(&mut out, &row).unwrap();
        let text = String::from_utf8(take(&mut out).unwrap()).unwrap();
        assert_eq!(
            text,
            "\"'=HYPERLINK(\"\"x\"\")\",a@example.org,\"Institut, \"\"Sud\"\"\",,\"Éthique\npublique\",\
             2026-01-02T03:04:05Z,,2026-02-03T04:05:06Z,completed,87.2,3600\r\n"
        );
        let withdrawn = CompletionRow { status: "withdrawn".into(), learner: "-1".into(), ..row };
        let mut out = csv_writer();
        write_row(&mut out, &withdrawn).unwrap();
        let text = String::from_utf8(take(&mut out).unwrap()).unwrap();
        assert!(text.starts_with("'-1,"), "{text}");
        assert!(text.contains(",withdrawn,"), "{text}");
    }
}
