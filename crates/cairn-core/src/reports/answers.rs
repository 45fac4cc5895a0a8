//! The answers report of a course: every interaction (question and response) its learners'
//! SCORM attempts recorded, one CSV row each, for item analysis in a spreadsheet. Reset
//! attempts are left out; older attempts stay in, numbered, so that first tries and retakes
//! can be told apart.

use std::collections::BTreeMap;

use cairn_scorm::runtime::records::{self, InteractionRecord};
use cairn_scorm::runtime::ScormVersion;
use futures_util::StreamExt as _;
use sqlx::FromRow;
use time::OffsetDateTime;
use tokio::sync::mpsc;

use super::{csv_writer, date, defuse, header_chunk, send_rest, send_when_full, ReportError};
use crate::db::Db;
use crate::on_db;

/// The CSV header, in column order.
pub const HEADER: [&str; 17] = [
    "learner",
    "email",
    "item",
    "item_title",
    "attempt",
    "attempt_updated_at",
    "interaction",
    "id",
    "type",
    "description",
    "learner_response",
    "correct_responses",
    "result",
    "weighting",
    "latency",
    "time",
    "objectives",
];

/// One live attempt of the course with its data, in report order.
#[derive(Debug, FromRow)]
pub(super) struct AttemptRow {
    learner: String,
    email: String,
    pub(super) item_identifier: String,
    pub(super) item_title: Option<String>,
    number: i64,
    updated_at: OffsetDateTime,
    scorm_version: String,
    state_json: String,
}

impl AttemptRow {
    /// The interactions the attempt recorded. A document that does not parse cannot come
    /// from the commit path; it counts as having no answers rather than failing a report.
    pub(super) fn interactions(&self) -> Vec<InteractionRecord> {
        let data: BTreeMap<String, String> = serde_json::from_str(&self.state_json).unwrap_or_default();
        records::interactions(ScormVersion::from_label(&self.scorm_version), &data)
    }
}

/// Attempts by learner name, then item and attempt number. The item's title comes from
/// the package version the attempt ran on.
pub(super) const SQL: &str = "SELECT u.name AS learner, u.email, a.item_identifier, pi.title AS item_title, a.number, \
     a.updated_at, a.scorm_version, a.state_json \
     FROM attempts a \
     JOIN users u ON u.id = a.user_id \
     LEFT JOIN package_items pi ON pi.package_id = a.package_id AND pi.identifier = a.item_identifier \
     WHERE a.course_id = $1 AND a.voided_at IS NULL \
     ORDER BY u.name, a.user_id, a.item_identifier, a.number";

/// Several values in one cell (correct response patterns, objective ids), one per line:
/// patterns may contain any other separator, and spreadsheets show line breaks in a cell.
fn lines(values: &[String]) -> String {
    values.join("\n")
}

fn write_interaction(
    out: &mut csv::Writer<Vec<u8>>,
    attempt: &AttemptRow,
    i: &InteractionRecord,
) -> Result<(), csv::Error> {
    let (number, index, updated) = (attempt.number.to_string(), i.index.to_string(), date(Some(attempt.updated_at)));
    let title = attempt.item_title.as_deref().unwrap_or_default();
    let cells: [&str; 17] = [
        &attempt.learner,
        &attempt.email,
        &attempt.item_identifier,
        title,
        &number,
        &updated,
        &index,
        &i.id,
        &i.kind,
        &i.description,
        &i.learner_response,
        &lines(&i.correct_responses),
        &i.result,
        &i.weighting,
        &i.latency,
        &i.time,
        &lines(&i.objective_ids),
    ];
    let cells: Vec<_> = cells.iter().map(|text| cell(text)).collect();
    out.write_record(cells.iter().map(|text| text.as_bytes()))
}

/// Everything a learner or a package wrote could start like a formula and is defused; a
/// plain number (a negative weighting or result) is not a formula and stays a number.
fn cell(text: &str) -> std::borrow::Cow<'_, str> {
    if text.parse::<f64>().is_ok() {
        std::borrow::Cow::Borrowed(text)
    } else {
        defuse(text)
    }
}

/// Streams the course's answers as CSV chunks (byte-order mark and header first). The
/// query runs on its own task and waits while the receiver is slow, so memory holds one
/// attempt's data at a time whatever the course's size.
pub fn answers_csv(db: Db, course_id: String) -> mpsc::Receiver<Result<Vec<u8>, ReportError>> {
    let (tx, rx) = mpsc::channel(4);
    tokio::spawn(async move {
        if let Err(e) = run(&db, &course_id, &tx).await {
            let _ = tx.send(Err(e)).await;
        }
    });
    rx
}

async fn run(db: &Db, course_id: &str, tx: &mpsc::Sender<Result<Vec<u8>, ReportError>>) -> Result<(), ReportError> {
    if tx.send(Ok(header_chunk(&HEADER)?)).await.is_err() {
        return Ok(());
    }
    let mut out = csv_writer();
    // Every attempt of the course with its document: the scan pool's memory map serves it.
    on_db!(&db.for_scans(), |pool| {
        async {
            let mut rows = sqlx::query_as::<_, AttemptRow>(SQL).bind(course_id).fetch(pool);
            while let Some(row) = rows.next().await {
                let attempt = row?;
                for interaction in attempt.interactions() {
                    write_interaction(&mut out, &attempt, &interaction)?;
                }
                if !send_when_full(&mut out, tx).await? {
                    return Ok(()); // The client went away.
                }
            }
            send_rest(&mut out, tx).await
        }
        .await
    })
}

#[cfg(test)]
mod tests {
    use super::super::take;
    use super::*;
    use time::macros::datetime;

    #[test]
    fn one_row_per_interaction_with_lists_on_lines_and_formulas_defused() {
        let attempt = AttemptRow {
            learner: "Amina Diallo".into(),
            email: "amina@example.org".into(),
            item_identifier: "quiz".into(),
            item_title: Some("Quiz, part 1".into()),
            number: 2,
            updated_at: datetime!(2026-12-01 10:00:00 UTC),
            scorm_version: "2004".into(),
            state_json: String::new(),
        };
        let interaction = InteractionRecord {
            index: 0,
            id: "q1".into(),
            kind: "fill-in".into(),
            learner_response: "=1+1".into(),
            correct_responses: vec!["2".into(), "two".into()],
            result: "correct".into(),
            weighting: "-1".into(),
            objective_ids: vec!["@obj".into()],
            ..Default::default()
        };
        let mut out = csv_writer();
        write_interaction(&mut out, &attempt, &interaction).unwrap();
        let text = String::from_utf8(take(&mut out).unwrap()).unwrap();
        assert_eq!(
            text,
            "Amina Diallo,amina@example.org,quiz,\"Quiz, part 1\",2,2026-12-01T10:00:00Z,0,q1,fill-in,,'=1+1,\"2\ntwo\",\
             correct,-1,,,'@obj\r\n"
        );
    }
}
