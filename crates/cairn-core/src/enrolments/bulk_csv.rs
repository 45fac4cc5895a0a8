//! Bulk enrolment files: reading a CSV of learners (email, name, cohort) with line numbers.
//!
//! Staff prepare these files in spreadsheets, so the reader is forgiving about what
//! spreadsheets do (a byte-order mark, semicolons as separators, columns in any order, blank
//! lines) and strict about the content. It reports every problem it finds, each with the line
//! a spreadsheet or text editor shows, so that a person can fix the whole file in one pass.

use std::collections::HashMap;
use std::fmt;

use serde::Serialize;

use crate::validate::{self, InvalidInput};

/// Largest file accepted, in bytes (2 MiB): ample for [`MAX_ROWS`] learners with long names.
pub const MAX_FILE_BYTES: usize = 2 * 1024 * 1024;
/// Most learners accepted in one file; larger intakes are split so that each upload stays quick.
pub const MAX_ROWS: usize = 10_000;

/// Longest cohort label, in characters.
const MAX_COHORT_LEN: usize = 100;
/// Problems listed one by one; past this, one last problem says how many more there are.
const MAX_PROBLEMS: usize = 100;
/// Problems spelled out in the one-line summary of [`BulkCsvErrors`].
const SUMMARY_PROBLEMS: usize = 5;

/// The byte-order mark that spreadsheet programs put at the start of "CSV UTF-8" files.
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";
/// The columns a person may use, as quoted in error messages.
const ACCEPTED_COLUMNS: &str = "email (required), name (or \"full name\", \"full_name\") and cohort";

/// One learner read from the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BulkRow {
    /// The 1-based line of the file where this learner's row starts.
    pub line: u64,
    /// Normalised to lower case by [`validate::email`].
    pub email: String,
    pub name: Option<String>,
    pub cohort: Option<String>,
}

/// One thing wrong with the file. `line` is 1-based; 0 means the file as a whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineProblem {
    pub line: u64,
    /// The column concerned, when the problem is about one value.
    pub field: Option<String>,
    pub message: String,
}

impl LineProblem {
    fn new(line: u64, field: Option<&str>, message: impl Into<String>) -> Self {
        Self { line, field: field.map(str::to_string), message: message.into() }
    }

    fn invalid(line: u64, error: InvalidInput) -> Self {
        Self::new(line, Some(error.field), error.reason)
    }
}

impl fmt::Display for LineProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            f.write_str("file")?;
        } else {
            write!(f, "line {}", self.line)?;
        }
        if let Some(field) = &self.field {
            write!(f, ": {field}")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Everything that stops the file from being used, in file order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{}", summarise(.problems))]
pub struct BulkCsvErrors {
    pub problems: Vec<LineProblem>,
}

impl BulkCsvErrors {
    fn one(problem: LineProblem) -> Self {
        Self { problems: vec![problem] }
    }
}

/// The first few problems on one line; the full list is in `problems` for pages to show.
fn summarise(problems: &[LineProblem]) -> String {
    let mut summary = match problems.len() {
        1 => "the enrolment file has 1 problem: ".to_string(),
        count => format!("the enrolment file has {count} problems: "),
    };
    let shown: Vec<String> = problems.iter().take(SUMMARY_PROBLEMS).map(LineProblem::to_string).collect();
    summary.push_str(&shown.join("; "));
    if problems.len() > SUMMARY_PROBLEMS {
        summary.push_str(&format!("; and {} more", problems.len() - SUMMARY_PROBLEMS));
    }
    summary
}

/// Reads a bulk-enrolment CSV file: a header naming the columns, then one learner per line.
///
/// Returns every learner, or every problem found (the first 100 of them, then their number).
pub fn parse(bytes: &[u8]) -> Result<Vec<BulkRow>, BulkCsvErrors> {
    let (rows, problems) = read(bytes)?;
    problems.finish().map_or(Ok(rows), Err)
}

/// Like [`parse`], but keeps the good rows next to the problems of the bad ones, so that a
/// caller can add its own checks of the good rows and report everything in one go.
pub fn parse_with_problems(bytes: &[u8]) -> (Vec<BulkRow>, Vec<LineProblem>) {
    match read(bytes) {
        Ok((rows, problems)) => (rows, problems.finish().map(|e| e.problems).unwrap_or_default()),
        Err(whole_file) => (Vec::new(), whole_file.problems),
    }
}

fn read(bytes: &[u8]) -> Result<(Vec<BulkRow>, Problems), BulkCsvErrors> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(BulkCsvErrors::one(LineProblem::new(
            0,
            None,
            format!(
                "the file is {} bytes, more than the limit of {MAX_FILE_BYTES} bytes (2 MiB); split it into smaller files",
                bytes.len()
            ),
        )));
    }
    let text = decode(bytes)?;
    if text.trim().is_empty() {
        return Err(empty_file());
    }

    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        // Field counts are checked here so that a short row becomes a problem on its line
        // instead of an error that ends the reading.
        .flexible(true)
        .delimiter(delimiter(text))
        .from_reader(text.as_bytes());
    let mut lines = LineCounter { text: text.as_bytes(), offset: 0, line: 1 };
    let mut record = csv::StringRecord::new();

    match reader.read_record(&mut record) {
        Ok(true) => {}
        Ok(false) => return Err(empty_file()),
        Err(error) => {
            return Err(BulkCsvErrors::one(LineProblem::new(1, None, format!("cannot be read as CSV: {error}"))));
        }
    }
    let header_line = lines.line_of(&record);
    let columns = columns(&record, header_line)?;

    let mut problems = Problems::default();
    let mut rows = Vec::new();
    let mut first_lines: HashMap<String, u64> = HashMap::new();
    let mut data_rows = 0_usize;
    loop {
        let line = match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => lines.line_of(&record),
            Err(error) => {
                // The reader cannot resume reliably after an error, so this is the last problem.
                let line = record.position().map_or(0, |_| lines.line_of(&record));
                problems.push(LineProblem::new(line, None, format!("cannot be read as CSV: {error}")));
                break;
            }
        };
        if record.iter().all(|value| value.trim().is_empty()) {
            continue;
        }
        data_rows += 1;
        if data_rows > MAX_ROWS {
            return Err(BulkCsvErrors::one(LineProblem::new(
                0,
                None,
                format!(
                    "the file has more than {MAX_ROWS} learners; split it into files of at most {MAX_ROWS} rows each"
                ),
            )));
        }
        if record.len() != columns.len() {
            problems.push(LineProblem::new(
                line,
                None,
                format!(
                    "has {} but the header has {}; look for a stray separator or a missing quote",
                    count(record.len(), "field"),
                    count(columns.len(), "column")
                ),
            ));
            continue;
        }
        match read_row(&columns, &record, line) {
            Ok(row) => {
                if let Some(first) = first_lines.get(&row.email) {
                    problems.push(LineProblem::new(
                        line,
                        Some("email"),
                        format!("{} already appears on line {first}; list each learner once", row.email),
                    ));
                } else {
                    first_lines.insert(row.email.clone(), line);
                    rows.push(row);
                }
            }
            Err(row_problems) => {
                // A row with a valid address still claims it, so a later copy is reported too.
                for problem in row_problems {
                    problems.push(problem);
                }
                if let Some(email) = email_of(&columns, &record) {
                    first_lines.entry(email).or_insert(line);
                }
            }
        }
    }

    if data_rows == 0 && problems.listed.is_empty() {
        return Err(BulkCsvErrors::one(LineProblem::new(
            0,
            None,
            "the file has a header but no learners; add one learner per line below the header",
        )));
    }
    Ok((rows, problems))
}

fn empty_file() -> BulkCsvErrors {
    BulkCsvErrors::one(LineProblem::new(
        1,
        None,
        "the file is empty; the first line must be a header naming the columns, e.g. email,name,cohort",
    ))
}

/// What a column of the file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Email,
    Name,
    Cohort,
    /// A column with a blank header cell, numbered from 1. Spreadsheets often export such
    /// columns empty; they are accepted as long as they stay empty.
    Unnamed(usize),
}

/// Reads the header row into the columns' meaning, or explains why it cannot be used.
fn columns(header: &csv::StringRecord, line: u64) -> Result<Vec<Column>, BulkCsvErrors> {
    let mut columns = Vec::with_capacity(header.len());
    let mut unknown = Vec::new();
    let mut problems = Vec::new();
    for (index, raw) in header.iter().enumerate() {
        let label = raw.trim();
        let column = match label.to_lowercase().as_str() {
            "email" => Column::Email,
            "name" | "full name" | "full_name" => Column::Name,
            "cohort" => Column::Cohort,
            "" => Column::Unnamed(index + 1),
            _ => {
                unknown.push(format!("\"{label}\""));
                continue;
            }
        };
        if let Some(first) = columns.iter().position(|seen| *seen == column && !matches!(column, Column::Unnamed(_))) {
            problems.push(LineProblem::new(
                line,
                None,
                format!("columns {} and {} mean the same thing; keep only one of them", first + 1, index + 1),
            ));
        }
        columns.push(column);
    }
    if header.iter().any(|label| label.contains('@')) {
        // A file without a header starts with a learner, whose address would be an "unknown
        // column"; saying what actually happened is more helpful.
        return Err(BulkCsvErrors::one(LineProblem::new(
            line,
            None,
            "the first line looks like a learner, but it must be a header naming the columns, e.g. email,name,cohort",
        )));
    }
    if !unknown.is_empty() {
        problems.insert(
            0,
            LineProblem::new(
                line,
                None,
                format!(
                    "unknown {} {}; the accepted columns are {ACCEPTED_COLUMNS}",
                    if unknown.len() == 1 { "column" } else { "columns" },
                    unknown.join(", ")
                ),
            ),
        );
    }
    if !columns.contains(&Column::Email) {
        problems.insert(
            0,
            LineProblem::new(
                line,
                None,
                format!("the header has no email column; the accepted columns are {ACCEPTED_COLUMNS}"),
            ),
        );
    }
    if problems.is_empty() {
        Ok(columns)
    } else {
        Err(BulkCsvErrors { problems })
    }
}

/// Checks one data row whose field count matches the header.
fn read_row(columns: &[Column], record: &csv::StringRecord, line: u64) -> Result<BulkRow, Vec<LineProblem>> {
    let mut problems = Vec::new();
    let mut email = None;
    let mut name = None;
    let mut cohort = None;
    for (column, value) in columns.iter().zip(record.iter()) {
        let blank = value.trim().is_empty();
        match column {
            Column::Email if blank => {
                problems.push(LineProblem::new(line, Some("email"), "is empty; every learner needs an e-mail address"));
            }
            Column::Email => match validate::email(value) {
                Ok(valid) => email = Some(valid),
                Err(error) => problems.push(LineProblem::invalid(line, error)),
            },
            Column::Name if !blank => match validate::name("name", value, validate::MAX_NAME_LEN) {
                Ok(valid) => name = Some(valid),
                Err(error) => problems.push(LineProblem::invalid(line, error)),
            },
            Column::Cohort if !blank => match validate::name("cohort", value, MAX_COHORT_LEN) {
                Ok(valid) => cohort = Some(valid),
                Err(error) => problems.push(LineProblem::invalid(line, error)),
            },
            Column::Unnamed(number) if !blank => problems.push(LineProblem::new(
                line,
                None,
                format!(
                    "column {number} has no name in the header but holds a value here; name the column or clear it"
                ),
            )),
            Column::Name | Column::Cohort | Column::Unnamed(_) => {}
        }
    }
    match email {
        Some(email) if problems.is_empty() => Ok(BulkRow { line, email, name, cohort }),
        _ => Err(problems),
    }
}

/// The row's valid e-mail address, if it has one, for the duplicate check of rejected rows.
fn email_of(columns: &[Column], record: &csv::StringRecord) -> Option<String> {
    let index = columns.iter().position(|column| *column == Column::Email)?;
    validate::email(record.get(index)?).ok()
}

/// Checks the encoding and drops a UTF-8 byte-order mark.
fn decode(bytes: &[u8]) -> Result<&str, BulkCsvErrors> {
    const ADVICE: &str = "save it again as \"CSV UTF-8\" (in a spreadsheet) or as UTF-8 (in a text editor)";
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        return Err(BulkCsvErrors::one(LineProblem::new(1, None, format!("the file is UTF-16 text; {ADVICE}"))));
    }
    let bytes = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|error| {
        // The encoding is a property of the whole file, so the problem sits on line 1; the
        // message still says where the first offending byte is, to help find the culprit.
        let valid = &bytes[..error.valid_up_to()];
        let bad_line = 1 + valid.iter().filter(|byte| **byte == b'\n').count();
        let bad_byte = bytes[error.valid_up_to()];
        BulkCsvErrors::one(LineProblem::new(
            1,
            None,
            format!("the file is not UTF-8 text (byte 0x{bad_byte:02X} on line {bad_line} is not); {ADVICE}"),
        ))
    })
}

/// Comma, unless the header uses semicolons and no commas, as spreadsheets do in locales
/// where the comma is the decimal separator.
fn delimiter(text: &str) -> u8 {
    let header = text.split(['\r', '\n']).find(|line| !line.trim().is_empty()).unwrap_or_default();
    if header.contains(';') && !header.contains(',') {
        b';'
    } else {
        b','
    }
}

/// Turns the reader's byte offsets into line numbers. The reader's own line count is not used
/// because it points before skipped blank lines, is one line early with CRLF endings and does
/// not count the lone CR endings that some spreadsheets on macOS still write.
struct LineCounter<'t> {
    text: &'t [u8],
    /// Bytes before `offset` have been counted; `line` is the line at `offset`.
    offset: usize,
    line: u64,
}

impl LineCounter<'_> {
    /// The line where the record starts. Records come in file order, so counting resumes from
    /// the previous record and the whole file is scanned once.
    fn line_of(&mut self, record: &csv::StringRecord) -> u64 {
        let byte = record.position().map_or(0, csv::Position::byte);
        let mut start = usize::try_from(byte).unwrap_or(usize::MAX).clamp(self.offset, self.text.len());
        // A record never starts with a line break: any found here are the end of the previous
        // line or blank lines that the reader skipped.
        while matches!(self.text.get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        let breaks = (self.offset..start)
            .filter(|&at| match self.text[at] {
                b'\n' => true,
                b'\r' => self.text.get(at + 1) != Some(&b'\n'),
                _ => false,
            })
            .count();
        self.line += u64::try_from(breaks).unwrap_or(u64::MAX);
        self.offset = start;
        self.line
    }
}

/// Collects row problems up to [`MAX_PROBLEMS`], then only counts them.
#[derive(Default)]
struct Problems {
    listed: Vec<LineProblem>,
    unlisted: usize,
}

impl Problems {
    fn push(&mut self, problem: LineProblem) {
        if self.listed.len() < MAX_PROBLEMS {
            self.listed.push(problem);
        } else {
            self.unlisted += 1;
        }
    }

    fn finish(mut self) -> Option<BulkCsvErrors> {
        if self.unlisted > 0 {
            self.listed.push(LineProblem::new(
                0,
                None,
                format!(
                    "and {} more {}; fix the problems above and upload the file again to see the rest",
                    self.unlisted,
                    if self.unlisted == 1 { "problem" } else { "problems" }
                ),
            ));
        }
        (!self.listed.is_empty()).then_some(BulkCsvErrors { problems: self.listed })
    }
}

/// "1 field", "3 fields".
fn count(number: usize, noun: &str) -> String {
    if number == 1 {
        format!("1 {noun}")
    } else {
        format!("{number} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a case expects: learners as (line, email, name, cohort), only their number, or
    /// problems as (line, field, a fragment of the message).
    enum Expected {
        Rows(&'static [(u64, &'static str, Option<&'static str>, Option<&'static str>)]),
        RowCount(usize),
        Refused(&'static [(u64, Option<&'static str>, &'static str)]),
    }
    use Expected::{Refused, RowCount, Rows};

    fn learners(count: usize) -> Vec<u8> {
        let mut file = String::from("email\n");
        for number in 0..count {
            file.push_str(&format!("learner{number}@example.org\n"));
        }
        file.into_bytes()
    }

    #[test]
    fn parses_files() {
        let many = learners(MAX_ROWS);
        let too_many = learners(MAX_ROWS + 1);
        let mut too_big = b"email\n".to_vec();
        too_big.resize(MAX_FILE_BYTES + 1, b'\n');
        let mut many_problems = b"email\n".to_vec();
        for _ in 0..MAX_PROBLEMS + 7 {
            many_problems.extend_from_slice(b"not-an-address\n");
        }

        let cases: Vec<(&str, &[u8], Expected)> = vec![
            (
                "good file with BOM and CRLF",
                b"\xEF\xBB\xBFEmail,Name,Cohort\r\nAma@Example.org, Ama Mensah ,2025 A\r\nkofi@example.org,,\r\n",
                Rows(&[
                    (2, "ama@example.org", Some("Ama Mensah"), Some("2025 A")),
                    (3, "kofi@example.org", None, None),
                ]),
            ),
            (
                "semicolon file, columns in another order",
                b"Cohort;Full Name;EMAIL\nB;Smith, Jo;jo@example.org\n",
                Rows(&[(2, "jo@example.org", Some("Smith, Jo"), Some("B"))]),
            ),
            (
                "quoted comma in name",
                b"email,full_name\njo@example.org,\"Smith, Jo\"\n",
                Rows(&[(2, "jo@example.org", Some("Smith, Jo"), None)]),
            ),
            (
                "lone CR line endings",
                b"email\ra@example.org\r\rb@example.org\r",
                Rows(&[(2, "a@example.org", None, None), (4, "b@example.org", None, None)]),
            ),
            (
                "blank lines are skipped and do not shift line numbers",
                b"email\n\na@example.org\n\r\n  \n,\nb@example.org",
                Rows(&[(3, "a@example.org", None, None), (7, "b@example.org", None, None)]),
            ),
            (
                "multi-line quoted field reports the line where its row starts",
                b"email,name\n\"a@example.org\",\"Ama\nMensah\"\nb@example.org,Kofi\nnope,Efua\n",
                Refused(&[(2, Some("name"), "control characters"), (5, Some("email"), "name@example.org")]),
            ),
            (
                "bad email and a duplicate reported together",
                b"email,name\na@example.org,A\nbroken@,B\nc@example.org,C\nA@EXAMPLE.ORG,A again\n",
                Refused(&[
                    (3, Some("email"), "must look like name@example.org"),
                    (5, Some("email"), "a@example.org already appears on line 2"),
                ]),
            ),
            (
                "a rejected row still claims its address",
                b"email,name\na@example.org,\"bell\x07\"\na@example.org,A\n",
                Refused(&[(2, Some("name"), "control characters"), (3, Some("email"), "already appears on line 2")]),
            ),
            (
                "every problem of a row is listed",
                b"email,name,cohort\n,\"bad\x01\",\n",
                Refused(&[(2, Some("email"), "is empty"), (2, Some("name"), "control characters")]),
            ),
            (
                "wrong field count",
                b"email,name\na@example.org\nb@example.org,B,extra\n",
                Refused(&[(2, None, "has 1 field but the header has 2 columns"), (3, None, "has 3 fields")]),
            ),
            ("cohort too long", b"email,cohort\na@example.org,aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n", Refused(&[(2, Some("cohort"), "at most 100 characters")])),
            (
                "empty unnamed columns are tolerated, filled ones are not",
                b"email,name,\na@example.org,A,\nb@example.org,B,x\n",
                Refused(&[(3, None, "column 3 has no name")]),
            ),
            (
                "missing email column",
                b"name,cohort\nAma,A\n",
                Refused(&[(1, None, "no email column; the accepted columns are email (required)")]),
            ),
            (
                "unknown columns are named",
                b"email,phone,Surname\na@example.org,1,M\n",
                Refused(&[(1, None, "unknown columns \"phone\", \"Surname\"; the accepted columns are email")]),
            ),
            (
                "the same column twice",
                b"email,name,full name\na@example.org,A,A\n",
                Refused(&[(1, None, "columns 2 and 3 mean the same thing")]),
            ),
            (
                "no header at all",
                b"a@example.org,Ama\n",
                Refused(&[(1, None, "the first line looks like a learner")]),
            ),
            ("empty file", b"", Refused(&[(1, None, "the file is empty")])),
            ("only a BOM and blank lines", b"\xEF\xBB\xBF\n\r\n", Refused(&[(1, None, "the file is empty")])),
            ("header only", b"email,name\n\n", Refused(&[(0, None, "a header but no learners")])),
            ("the row limit itself", &many, RowCount(MAX_ROWS)),
            ("too many rows", &too_many, Refused(&[(0, None, "more than 10000 learners")])),
            ("too big", &too_big, Refused(&[(0, None, "more than the limit of 2097152 bytes")])),
            (
                "non-UTF-8 bytes",
                b"email,name\na@example.org,Ren\xE9e\n",
                Refused(&[(1, None, "not UTF-8 text (byte 0xE9 on line 2 is not)")]),
            ),
            ("UTF-16", b"\xFF\xFEe\x00m\x00", Refused(&[(1, None, "UTF-16")])),
        ];

        for (label, input, expected) in &cases {
            let outcome = parse(input);
            match (expected, outcome) {
                (RowCount(count), Ok(parsed)) => assert_eq!(parsed.len(), *count, "{label}"),
                (Rows(rows), Ok(parsed)) => {
                    let parsed: Vec<_> = parsed
                        .iter()
                        .map(|row| (row.line, row.email.as_str(), row.name.as_deref(), row.cohort.as_deref()))
                        .collect();
                    assert_eq!(parsed, *rows, "{label}");
                }
                (Refused(problems), Err(errors)) => {
                    assert_eq!(errors.problems.len(), problems.len(), "{label}: {errors}");
                    for ((line, field, fragment), problem) in problems.iter().zip(&errors.problems) {
                        assert_eq!(problem.line, *line, "{label}: {problem}");
                        assert_eq!(problem.field.as_deref(), *field, "{label}: {problem}");
                        assert!(problem.message.contains(fragment), "{label}: {problem}");
                    }
                }
                (_, outcome) => panic!("{label}: unexpected {outcome:?}"),
            }
        }

        let errors = parse(&many_problems).unwrap_err();
        assert_eq!(errors.problems.len(), MAX_PROBLEMS + 1);
        assert_eq!(errors.problems[MAX_PROBLEMS].line, 0);
        assert!(errors.problems[MAX_PROBLEMS].message.starts_with("and 7 more problems"), "{errors}");
    }

    #[test]
    fn summarises_problems() {
        let errors = parse(b"email,name\nbroken,B\nb@example.org,\"x\x01\"\n").unwrap_err();
        assert_eq!(
            errors.to_string(),
            "the enrolment file has 2 problems: line 2: email: must look like name@example.org; \
             line 3: name: must not contain control characters"
        );
        let one = parse(b"").unwrap_err().to_string();
        assert!(one.starts_with("the enrolment file has 1 problem: line 1: the file is empty"), "{one}");
        let file_wide = parse(b"email\n").unwrap_err().to_string();
        assert!(file_wide.contains("problem: file: the file has a header"), "{file_wide}");
        let long = parse(&[b"email\n".as_slice(), &b"x\n".repeat(7)].concat()).unwrap_err().to_string();
        assert!(long.ends_with("; and 2 more"), "{long}");
    }
}
