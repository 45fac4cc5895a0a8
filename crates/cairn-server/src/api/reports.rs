//! `/api/v1/reports/completions` (the completion report) and `/api/v1/courses/{id}/answers`
//! (a course's recorded interactions) as CSV files, streamed from the database so that
//! their size never sits in memory.

use std::sync::Arc;

use cairn_core::accounts::Role;
use cairn_core::reports::{self, ReportError, ReportFilter, ReportScope};
use poem::http::StatusCode;
use poem::{Body, IntoResponse, Response};
use poem_openapi::param::Path;
use poem_openapi::param::Query;
use poem_openapi::payload::Payload;
use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
use poem_openapi::{ApiResponse, OpenApi};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, Duration, OffsetDateTime};
use tokio::sync::mpsc;

use super::{ApiResult, ApiTags, Auth};
use crate::app::AppState;
use crate::auth::Actor;
use crate::web::errors::HttpError;

pub struct ReportsApi {
    pub state: Arc<AppState>,
}

/// A CSV file sent as it is produced: RFC 4180 (CRLF line ends), UTF-8 with a byte-order
/// mark so that spreadsheet programs read accented names right.
pub struct CsvStream(pub Body);

impl Payload for CsvStream {
    const CONTENT_TYPE: &'static str = "text/csv; charset=utf-8";

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema { format: Some("binary"), ..MetaSchema::new("string") }))
    }
}

impl IntoResponse for CsvStream {
    fn into_response(self) -> Response {
        Response::builder().content_type(Self::CONTENT_TYPE).body(self.0)
    }
}

#[derive(ApiResponse)]
pub enum CsvResponse {
    /// The report. Columns: learner, email, institute, cohort, course, enrolled_at,
    /// started_at, completed_at (RFC 3339, UTC), status (`not_started`, `in_progress`,
    /// `completed` or `withdrawn`), score (0–100, one decimal), time_spent_seconds.
    #[oai(status = 200)]
    Csv(
        CsvStream,
        /// `attachment; filename="completions-YYYYMMDD.csv"` (today's date, UTC).
        #[oai(header = "Content-Disposition")]
        String,
    ),
}

#[derive(ApiResponse)]
pub enum AnswersResponse {
    /// The answers. Columns: learner, email, item (identifier), item_title, attempt
    /// (number), attempt_updated_at (RFC 3339, UTC), interaction (its index in the
    /// attempt), id, type, description, learner_response, correct_responses (one pattern per
    /// line), result, weighting, latency, time (as the SCO wrote it), objectives (one id per
    /// line). SCORM 1.2's `student_response` is the learner_response column.
    #[oai(status = 200)]
    Csv(
        CsvStream,
        /// `attachment; filename="answers-{course slug}-YYYYMMDD.csv"` (today's date, UTC).
        #[oai(header = "Content-Disposition")]
        String,
    ),
}

/// The rows a caller may see: everything for administrators, their institutes' courses for
/// managers, the courses they teach for instructors, nothing for learners.
fn scope_of(actor: &Actor) -> Option<ReportScope> {
    match actor.principal.role {
        Role::Admin => Some(ReportScope::All),
        Role::Manager => Some(ReportScope::Organisations(actor.principal.organisation_ids.clone())),
        Role::Instructor => Some(ReportScope::InstructorOf(actor.user.id.clone())),
        Role::Learner => None,
    }
}

#[OpenApi(tag = "ApiTags::Reports")]
impl ReportsApi {
    /// Completion report (CSV)
    ///
    /// One row per enrolment, ordered by course then learner, as a CSV download.
    /// Administrators see every course; managers the courses of their institutes;
    /// instructors the courses they teach; learners are refused. `since` and `until` select
    /// enrolments completed in that period: a date (`YYYY-MM-DD`, UTC) or an RFC 3339 time;
    /// `since` is inclusive, `until` is exclusive for a time and includes the whole day for
    /// a date. Formula-like cells (starting with `=`, `+`, `-`, `@`) are prefixed with `'`.
    #[oai(path = "/v1/reports/completions", method = "get", operation_id = "completions_report")]
    async fn completions(
        &self,
        auth: Auth,
        /// An institute's slug.
        institute: Query<Option<String>>,
        /// A course's id.
        course: Query<Option<String>>,
        /// A cohort's id.
        cohort: Query<Option<String>>,
        /// Completed on or after: `YYYY-MM-DD` or RFC 3339.
        since: Query<Option<String>>,
        /// Completed before: `YYYY-MM-DD` (that day included) or RFC 3339.
        until: Query<Option<String>>,
    ) -> ApiResult<CsvResponse> {
        let scope = scope_of(auth.actor())
            .ok_or_else(|| HttpError::forbidden("reports are for instructors, managers and administrators"))?;
        let blank = |v: Option<String>| v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        let filter = ReportFilter {
            institute_slug: blank(institute.0),
            course_id: blank(course.0),
            cohort_id: blank(cohort.0),
            since: blank(since.0).map(|s| parse_bound("since", &s, false)).transpose()?,
            until: blank(until.0).map(|s| parse_bound("until", &s, true)).transpose()?,
        };
        let rx = reports::completions_csv(self.state.db.clone(), scope, filter);
        Ok(CsvResponse::Csv(csv_stream(rx, "completion report"), attachment("completions")))
    }

    /// A course's answers (CSV)
    ///
    /// Every interaction (question and response) the learners' SCORM attempts at the course
    /// recorded, one row each, ordered by learner, item and attempt, for item analysis in a
    /// spreadsheet. Reset attempts are left out. For the course's instructors, its
    /// institute's managers and administrators. Formula-like cells (starting with `=`, `+`,
    /// `-`, `@`, except plain numbers) are prefixed with `'`.
    #[oai(path = "/v1/courses/:id/answers", method = "get", operation_id = "course_answers_report")]
    async fn answers(
        &self,
        auth: Auth,
        /// The course's id or slug.
        id: Path<String>,
    ) -> ApiResult<AnswersResponse> {
        let course = super::courses::managed_course(&self.state, auth.actor(), &id.0).await?;
        let rx = reports::answers::answers_csv(self.state.db.clone(), course.id.clone());
        Ok(AnswersResponse::Csv(csv_stream(rx, "answers report"), attachment(&format!("answers-{}", course.slug))))
    }
}

/// The chunks a report task sends, as a response body.
fn csv_stream(rx: mpsc::Receiver<Result<Vec<u8>, ReportError>>, report: &'static str) -> CsvStream {
    let chunks = futures_util::stream::unfold(rx, move |mut rx| async move {
        let item = rx.recv().await?;
        let item = item.map_err(|e| {
            // The status line has gone out with the first chunk, so the failure can only
            // be logged and the download cut short (the client sees an incomplete file).
            tracing::error!(error = %crate::web::errors::ErrorChain(&e), report, "report failed");
            std::io::Error::other(e)
        });
        Some((item, rx))
    });
    CsvStream(Body::from_bytes_stream(chunks))
}

/// `attachment; filename="{stem}-YYYYMMDD.csv"` with today's date (UTC).
fn attachment(stem: &str) -> String {
    let today = OffsetDateTime::now_utc().date();
    format!("attachment; filename=\"{stem}-{:04}{:02}{:02}.csv\"", today.year(), u8::from(today.month()), today.day())
}

/// A date (`YYYY-MM-DD`, midnight UTC; the next midnight for an `until` so the day counts)
/// or an RFC 3339 time.
fn parse_bound(field: &str, text: &str, end_of_day: bool) -> Result<OffsetDateTime, HttpError> {
    if let Ok(at) = OffsetDateTime::parse(text, &Rfc3339) {
        return Ok(at);
    }
    match Date::parse(text, format_description!("[year]-[month]-[day]")) {
        Ok(day) => {
            let start = day.midnight().assume_utc();
            Ok(if end_of_day { start + Duration::days(1) } else { start })
        }
        Err(_) => Err(HttpError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            format!("{field}: must be a date like 2026-03-31 or a time like 2026-03-31T12:00:00Z"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn bounds_are_dates_or_times() {
        let cases = [
            ("2026-03-31", false, Some(datetime!(2026-03-31 0:00 UTC))),
            ("2026-03-31", true, Some(datetime!(2026-04-01 0:00 UTC))),
            ("2026-03-31T12:30:00+02:00", true, Some(datetime!(2026-03-31 10:30 UTC))),
            ("31/03/2026", false, None),
            ("2026-02-30", false, None),
        ];
        for (text, end, expected) in cases {
            assert_eq!(parse_bound("since", text, end).ok(), expected, "{text}");
        }
    }
}
