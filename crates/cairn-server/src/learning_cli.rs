//! `cairn enrol`, `cairn report completions` and `cairn report answers`: enrolment and the reports from
//! the command line. The operator acts with administrator rights.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{bail, Context};
use cairn_core::enrolments::bulk::{self, BulkOutcome, Fate, Rights};
use cairn_core::enrolments::{self, NewEnrolment, Source};
use cairn_core::reports::{self, ReportFilter, ReportScope};
use cairn_core::{accounts, catalog};
use cairn_server::AppState;

/// The operator at the command line acts as an administrator.
const OPERATOR: Rights = Rights { create_accounts_and_cohorts: true, any_institute: true };

pub struct EnrolArgs {
    pub course: String,
    pub email: Option<String>,
    pub csv: Option<PathBuf>,
    pub dry_run: bool,
}

/// Enrols one account or a CSV file of learners. Returns the exit code: 0 done, 1 refused
/// (nothing written; the problems are printed with their line numbers).
pub async fn enrol(state: &AppState, args: EnrolArgs) -> anyhow::Result<i32> {
    let course = catalog::get(&state.db, &args.course).await?;
    match (args.email, args.csv) {
        (Some(email), None) => {
            let user = accounts::find_by_email(&state.db, &email)
                .await?
                .with_context(|| format!("no account uses {email}; create it with `cairn user add` or use --csv"))?;
            if args.dry_run {
                println!("Would enrol {} in {}", user.email, course.title);
                return Ok(0);
            }
            let new = NewEnrolment {
                course_id: course.id.clone(),
                user_id: user.id,
                source: Source::Manual,
                cohort_id: None,
                starts_at: None,
                ends_at: None,
            };
            enrolments::enrol(&state.db, &new).await?;
            println!("Enrolled {} in {} ({})", user.email, course.title, course.id);
            Ok(0)
        }
        (None, Some(path)) => {
            let bytes = read_limited(&path, cairn_core::enrolments::bulk_csv::MAX_FILE_BYTES)?;
            let base = state.config.public_url.trim_end_matches('/').to_string();
            let link = move |token: &str| format!("{base}/invite/{token}");
            if args.dry_run {
                let plan = bulk::plan(&state.db, &course, &bytes, OPERATOR).await?;
                for row in &plan.rows {
                    println!("line {}: {} — {}", row.line, row.email, fate_text(row.fate));
                }
                return Ok(print_problems(&plan.problems));
            }
            match bulk::apply(&state.db, &course, &bytes, OPERATOR, &link).await? {
                BulkOutcome::Applied(done) => {
                    println!(
                        "Enrolled {} in {} ({} new accounts invited, {} already enrolled, {} cohorts created)",
                        done.enrolled, course.title, done.created_accounts, done.already_enrolled, done.created_cohorts
                    );
                    Ok(0)
                }
                BulkOutcome::Refused(plan) => Ok(print_problems(&plan.problems)),
            }
        }
        _ => bail!("say whom to enrol: --email ADDRESS or --csv FILE (one of them)"),
    }
}

fn fate_text(fate: Fate) -> &'static str {
    match fate {
        Fate::NewAccount => "new account, enrolled, invitation queued",
        Fate::Enrol => "enrolled",
        Fate::Reenrol => "enrolled again",
        Fate::AlreadyEnrolled => "already enrolled",
    }
}

/// Prints problems to stderr; returns the exit code (1 when there are any).
fn print_problems(problems: &[cairn_core::enrolments::bulk_csv::LineProblem]) -> i32 {
    if problems.is_empty() {
        return 0;
    }
    eprintln!("Nothing was written. Fix these lines and run again:");
    for p in problems {
        match &p.field {
            Some(field) => eprintln!("  line {}: {field}: {}", p.line, p.message),
            None => eprintln!("  line {}: {}", p.line, p.message),
        }
    }
    1
}

fn read_limited(path: &PathBuf, limit: usize) -> anyhow::Result<Vec<u8>> {
    use std::io::Read as _;
    let file = std::fs::File::open(path).with_context(|| format!("could not open {}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(limit as u64 + 1).read_to_end(&mut bytes)?;
    if bytes.len() > limit {
        bail!("{} is larger than the {} MiB limit for enrolment files", path.display(), limit >> 20);
    }
    Ok(bytes)
}

pub struct ReportArgs {
    pub org: Option<String>,
    pub course: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
}

/// A date (YYYY-MM-DD, midnight UTC) or an RFC 3339 time.
pub fn parse_when(flag: &str, text: &str) -> anyhow::Result<time::OffsetDateTime> {
    use time::format_description::well_known::Rfc3339;
    let format = time::macros::format_description!("[year]-[month]-[day]");
    if let Ok(date) = time::Date::parse(text, &format) {
        return Ok(date.midnight().assume_utc());
    }
    time::OffsetDateTime::parse(text, &Rfc3339)
        .with_context(|| format!("{flag}: write a date as YYYY-MM-DD or a time as 2026-11-27T08:00:00Z"))
}

/// Streams the completion report as CSV to standard output.
pub async fn report(state: &AppState, args: ReportArgs) -> anyhow::Result<()> {
    let course_id = match &args.course {
        Some(c) => Some(catalog::get(&state.db, c).await?.id),
        None => None,
    };
    let filter = ReportFilter {
        institute_slug: args.org,
        course_id,
        cohort_id: None,
        since: args.since.as_deref().map(|s| parse_when("--since", s)).transpose()?,
        until: args.until.as_deref().map(|s| parse_when("--until", s)).transpose()?,
    };
    print_chunks(reports::completions_csv(state.db.clone(), ReportScope::All, filter)).await
}

/// Streams a course's answers (one row per recorded interaction) as CSV to standard output.
pub async fn answers(state: &AppState, course: &str) -> anyhow::Result<()> {
    let course = catalog::get(&state.db, course).await.with_context(|| format!("no course {course:?}"))?;
    print_chunks(reports::answers::answers_csv(state.db.clone(), course.id)).await
}

/// Writes a report's chunks to standard output as they come.
async fn print_chunks(
    mut chunks: tokio::sync::mpsc::Receiver<Result<Vec<u8>, reports::ReportError>>,
) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    while let Some(chunk) = chunks.recv().await {
        match out.write_all(&chunk?) {
            Ok(()) => {}
            // A closed pipe (`| head`) is the reader saying it has enough.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
            Err(e) => return Err(e.into()),
        }
    }
    out.flush().or_else(|e| if e.kind() == std::io::ErrorKind::BrokenPipe { Ok(()) } else { Err(e) })?;
    Ok(())
}
