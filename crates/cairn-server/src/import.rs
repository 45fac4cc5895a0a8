//! `cairn package import`: imports a package from the command line, with a progress bar
//! on a terminal. The operator acts with administrator rights.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Context};
use cairn_core::packages::{self, CourseTarget, ImportOutcome, ImportRequest};
use cairn_core::{catalog, organisations};
use cairn_server::imports::DiagnosticView;
use cairn_server::AppState;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

pub struct Args {
    pub file: PathBuf,
    pub course: Option<String>,
    pub org: Option<String>,
    pub title: Option<String>,
    pub json: bool,
}

/// Runs the import and returns the exit code: 0 imported, 1 refused.
pub async fn run(state: &AppState, args: Args) -> anyhow::Result<i32> {
    let file = std::fs::File::open(&args.file).with_context(|| format!("could not open {}", args.file.display()))?;
    let target = match (&args.course, &args.org) {
        (Some(course), _) => CourseTarget::Existing(catalog::get(&state.db, course).await?),
        (None, Some(slug)) => CourseTarget::New {
            organisation_id: organisations::get_by_slug(&state.db, slug).await?.id,
            title: args.title.clone(),
            slug: None,
        },
        (None, None) => {
            let all = organisations::list(&state.db).await?;
            match all.as_slice() {
                [only] => CourseTarget::New { organisation_id: only.id.clone(), title: args.title.clone(), slug: None },
                [] => bail!("there is no institute yet; create one with `cairn org add` first"),
                _ => {
                    bail!("there are several institutes; say which one with --org SLUG (or --course for a new version)")
                }
            }
        }
    };
    let bar = (!args.json && std::io::stderr().is_terminal()).then(|| {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec})")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_message("Extracting");
        bar
    });
    let progress: Option<packages::ProgressFn> = bar.clone().map(|bar| {
        Arc::new(move |done: u64, total: u64| {
            bar.set_length(total);
            bar.set_position(done);
        }) as packages::ProgressFn
    });
    let original_filename = args.file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let request = ImportRequest {
        archive: file,
        original_filename,
        target,
        imported_by: None,
        limits: state.config.package_limits(),
    };
    let outcome = packages::import_package(&state.db, &state.content, request, progress).await?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let views = |list: &[cairn_scorm::Diagnostic]| list.iter().map(DiagnosticView::from).collect::<Vec<_>>();
    match outcome {
        ImportOutcome::Imported(done) => {
            if args.json {
                let result = json!({
                    "course_id": done.course.id, "course_slug": done.course.slug, "created_course": done.created_course,
                    "package_id": done.package.id, "version": done.package.version, "file_count": done.package.file_count,
                    "warnings": views(&done.inspection.warnings),
                });
                println!("{}", serde_json::to_string_pretty(&result)?);
            } else {
                eprintln!(
                    "Imported \"{}\" as version {} of course {} ({} files)",
                    done.package.title, done.package.version, done.course.slug, done.package.file_count
                );
                for warning in &done.inspection.warnings {
                    eprintln!("  warning: {}", warning.message);
                }
                println!("{}", done.course.id);
            }
            Ok(0)
        }
        ImportOutcome::Refused(inspection) => {
            if args.json {
                let result = json!({ "refused": true, "errors": views(&inspection.errors), "warnings": views(&inspection.warnings) });
                println!("{}", serde_json::to_string_pretty(&result)?);
            } else {
                eprintln!("The package was refused; nothing was stored.");
                for error in &inspection.errors {
                    eprintln!("  error: {}", error.message);
                }
                for warning in &inspection.warnings {
                    eprintln!("  warning: {}", warning.message);
                }
            }
            Ok(1)
        }
    }
}
