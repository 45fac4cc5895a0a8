//! The `cairn` command: serve the site, migrate the database, manage users and institutes,
//! import packages, enrol learners and print reports.

use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{bail, Context};
use cairn_core::accounts::{self, NewUser, Role};
use cairn_core::organisations;
use cairn_server::{bootstrap, AppState, Config};
use clap::{Parser, Subcommand};

mod import;
mod learning_cli;
use poem::listener::TcpListener;
use poem::Server;

/// The allocator of the `cairn` binary. Under load, glibc's malloc took about a fifth of the
/// server's CPU (small JSON documents, strings and maps per request, freed on other
/// threads); mimalloc's per-thread free lists cost a fraction of that (docs/PERFORMANCE.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Cairn: an open-source learning-management engine for networks of training institutes.
#[derive(Parser)]
#[command(name = "cairn", version, about, long_about = None)]
struct Cli {
    /// Configuration file (default: ./cairn.toml when it exists). CAIRN_* variables override it.
    #[arg(long, global = true, env = "CAIRN_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server (migrates the database first).
    Serve {
        /// Address to listen on, e.g. 0.0.0.0:8080.
        #[arg(long)]
        bind: Option<SocketAddr>,
        /// Folder for the SQLite database and course content.
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Also create a demo institute with a manager, an instructor and a learner.
        #[arg(long)]
        demo: bool,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Manage accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage training institutes (organisations).
    Org {
        #[command(subcommand)]
        command: OrgCommand,
    },
    /// Print the OpenAPI document of the HTTP API.
    Openapi,
    /// Work with course packages (SCORM 1.2 and 2004).
    Package {
        #[command(subcommand)]
        command: PackageCommand,
    },
    /// Enrol an existing account (--email) or a CSV file of learners (--csv) in a course.
    /// A CSV file (header: email,name,cohort) is all or nothing: a bad line is reported
    /// with its number and nothing is written (exit 1). Missing accounts are created and
    /// an invitation e-mail is queued for each.
    Enrol {
        /// Slug or id of the course.
        #[arg(long)]
        course: String,
        /// E-mail of an existing account.
        #[arg(long, conflicts_with = "csv")]
        email: Option<String>,
        /// CSV file of learners: email,name,cohort.
        #[arg(long)]
        csv: Option<PathBuf>,
        /// Show what would happen to each row without writing anything.
        #[arg(long)]
        dry_run: bool,
    },
    /// Reports as CSV on standard output.
    Report {
        #[command(subcommand)]
        command: ReportCommand,
    },
}

#[derive(Subcommand)]
enum ReportCommand {
    /// One row per enrolment: learner, email, institute, cohort, course, enrolled, started
    /// and completed dates, status, score and time spent (RFC 4180, UTF-8 with a BOM).
    Completions {
        /// Only courses of this institute (slug).
        #[arg(long)]
        org: Option<String>,
        /// Only this course (slug or id).
        #[arg(long)]
        course: Option<String>,
        /// Only enrolments completed on or after this date (YYYY-MM-DD).
        #[arg(long)]
        since: Option<String>,
        /// Only enrolments completed before this date (YYYY-MM-DD).
        #[arg(long)]
        until: Option<String>,
    },
    /// One row per answer the learners' SCORM attempts at a course recorded: learner,
    /// email, item, attempt, question id, type, description, response, correct responses,
    /// result, weighting, latency, time and objectives (RFC 4180, UTF-8 with a BOM).
    Answers {
        /// The course (slug or id).
        #[arg(long)]
        course: String,
    },
}

#[derive(Subcommand)]
enum PackageCommand {
    /// Check a package without a database: standard, edition, item tree, launch URLs,
    /// warnings and errors. Exits 0 when it can be imported, 1 when it must be refused.
    Inspect {
        /// The package (.zip).
        file: PathBuf,
        /// Print the documented JSON report (docs/package-inspect.md) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Import a package into a new course, or as a new version of an existing course.
    /// Prints the course id. Atomic: a refused package stores nothing (exit 1).
    Import {
        /// The package (.zip).
        file: PathBuf,
        /// Slug or id of the existing course that gets a new version.
        #[arg(long)]
        course: Option<String>,
        /// Slug of the institute of a new course (needed when there are several).
        #[arg(long)]
        org: Option<String>,
        /// Title of a new course (default: the package title).
        #[arg(long)]
        title: Option<String>,
        /// Print a JSON result instead of text.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an account. Without --password-stdin a password is generated and printed once.
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        #[arg(long, value_parser = ["admin", "manager", "instructor", "learner"])]
        role: String,
        /// Slug of the institute the account joins.
        #[arg(long)]
        org: Option<String>,
        /// Read the password from standard input (first line) instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Subcommand)]
enum OrgCommand {
    /// Create a training institute.
    Add {
        /// Short name for addresses: lower-case letters, digits and dashes.
        #[arg(long)]
        slug: String,
        #[arg(long)]
        name: String,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_logging();
    let load_config = || Config::load(cli.config.as_deref());
    match cli.command {
        Command::Serve { bind, data_dir, demo } => {
            let mut config = load_config()?;
            if let Some(bind) = bind {
                config.bind = bind;
            }
            if let Some(dir) = data_dir {
                config.data_dir = dir;
            }
            serve(config, demo).await
        }
        Command::Migrate => {
            AppState::open(load_config()?).await?;
            println!("Database is up to date.");
            Ok(())
        }
        Command::User { command: UserCommand::Add { email, name, role, org, password_stdin } } => {
            let state = AppState::open(load_config()?).await?;
            let role: Role = role.parse()?;
            let organisation_id = match org {
                Some(slug) => Some(organisations::get_by_slug(&state.db, &slug).await?.id),
                None => None,
            };
            let password = if password_stdin { Some(read_password_from_stdin()?) } else { None };
            let created =
                accounts::create_user(&state.db, NewUser { email, name, role, password, organisation_id }).await?;
            println!("Created {} account {} ({})", role.label().to_lowercase(), created.user.email, created.user.id);
            if let Some(password) = created.generated_password {
                println!("Password (shown only now): {password}");
            }
            Ok(())
        }
        Command::Org { command: OrgCommand::Add { slug, name } } => {
            let state = AppState::open(load_config()?).await?;
            let org = organisations::create(&state.db, &slug, &name).await?;
            println!("Created institute {} ({})", org.slug, org.id);
            Ok(())
        }
        Command::Openapi => {
            let config = Config { database_url: Some("sqlite::memory:".into()), ..load_config()? };
            println!("{}", cairn_server::api::spec_json(&AppState::open(config).await?));
            Ok(())
        }
        // Inspecting a package needs no configuration or database.
        Command::Package { command: PackageCommand::Inspect { file, json } } => {
            std::process::exit(inspect_package(&file, json)?)
        }
        Command::Enrol { course, email, csv, dry_run } => {
            let state = AppState::open(load_config()?).await?;
            let code = learning_cli::enrol(&state, learning_cli::EnrolArgs { course, email, csv, dry_run }).await?;
            std::process::exit(code)
        }
        Command::Report { command: ReportCommand::Completions { org, course, since, until } } => {
            let state = AppState::open(load_config()?).await?;
            learning_cli::report(&state, learning_cli::ReportArgs { org, course, since, until }).await
        }
        Command::Report { command: ReportCommand::Answers { course } } => {
            let state = AppState::open(load_config()?).await?;
            learning_cli::answers(&state, &course).await
        }
        Command::Package { command: PackageCommand::Import { file, course, org, title, json } } => {
            let state = AppState::open(load_config()?).await?;
            let code = import::run(&state, import::Args { file, course, org, title, json }).await?;
            std::process::exit(code)
        }
    }
}

/// Prints the inspection of `file` and returns the process exit code.
fn inspect_package(file: &std::path::Path, json: bool) -> anyhow::Result<i32> {
    let reader = std::fs::File::open(file).with_context(|| format!("could not open {}", file.display()))?;
    let inspection = cairn_scorm::inspect(std::io::BufReader::new(reader), &cairn_scorm::Limits::default());
    if json {
        println!("{}", serde_json::to_string_pretty(&inspection)?);
    } else {
        print!("{}", inspection.render_text());
    }
    Ok(if inspection.is_importable() { 0 } else { 1 })
}

async fn serve(config: Config, demo: bool) -> anyhow::Result<()> {
    tracing::info!(config = %config.describe(), "starting Cairn");
    let state = AppState::open(config.clone()).await.context("could not start Cairn")?;
    let mut credentials = Vec::new();
    if let Some(admin) =
        bootstrap::ensure_admin(&state.db, &config.admin_email, config.admin_password.as_deref()).await?
    {
        credentials.push(admin);
    }
    if demo {
        credentials.extend(bootstrap::ensure_demo(&state).await?);
    }
    let listener = TcpListener::bind(config.bind);
    let app = cairn_server::build(state.clone());
    println!("\n  Cairn is running at http://{}/", config.bind);
    if !credentials.is_empty() {
        println!("{}", bootstrap::render_credentials(&credentials));
    }
    Server::new(listener)
        .run_with_graceful_shutdown(app, shutdown_signal(), Some(std::time::Duration::from_secs(10)))
        .await?;
    state.db.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM, so in-flight requests finish before the process exits.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}

fn read_password_from_stdin() -> anyhow::Result<String> {
    let mut input = String::new();
    std::io::stdin().take(4096).read_to_string(&mut input)?;
    let password = input.lines().next().unwrap_or("").to_string();
    if password.is_empty() {
        bail!("--password-stdin: no password on standard input");
    }
    Ok(password)
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("CAIRN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
}
