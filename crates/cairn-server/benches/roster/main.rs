//! The roster and completion-report benchmark (issue #5): `cargo bench -p cairn-server --bench roster`.
//!
//! Makes a data set in a fresh SQLite database (one institute, 10,000 learners in 20
//! cohorts, 100 courses of four lessons, every learner enrolled in every course: a million
//! enrolments and about 2.5 million lesson-progress rows) with one `sqlite3` script, then
//! measures, in the same run:
//!
//! 1. roster pages: a mix of sorts, filters and pages at a small concurrency, through the
//!    library (`cairn_core::enrolments::roster::roster`), the HTML page and the JSON API
//!    of the release server: p50 and p99 (goal: p99 < 100 ms);
//! 2. the completion CSV of every enrolment: `sqlite3 -csv` running the report's own SQL,
//!    the library (`cairn_core::reports::completions_csv`) and
//!    `GET /api/v1/reports/completions`: rows per second and the resident memory of the
//!    process that builds it (goals: Cairn at least half of sqlite3's rate, memory flat).
//!
//! An endpoint that answers 404 (not written yet) is skipped with a note. Method and
//! figures: docs/PERFORMANCE.md ("Rosters and the completion report").
//!
//! Settings (environment):
//! - `CAIRN_BENCH_LEARNERS` (10000), `CAIRN_BENCH_COURSES` (100), `CAIRN_BENCH_COHORTS` (20)
//! - `CAIRN_BENCH_REQUESTS`: measured roster requests per way (default 500)
//! - `CAIRN_BENCH_WARMUP`: unmeasured roster requests before them (default 40)
//! - `CAIRN_BENCH_CONCURRENCY`: roster requests in flight (default 4)
//! - `CAIRN_BENCH_ROSTER_COURSES`: courses the roster mix visits (default 10)
//! - `CAIRN_BENCH_REPS`: timed downloads of the report per way, interleaved (default 5)
//! - `CAIRN_BENCH_FRESH=1`: make the data again even when the kept one has the same shape
//! - `CAIRN_BENCH_DIR`: work folder (default `target/bench-roster/`); the data folder is
//!   kept there between runs, since making it is most of a run's time
//!
//! A benchmark reports; it never fails because a goal is missed.

mod data;
mod report;
mod roster;
mod server;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use cairn_core::{catalog, cohorts, Db, DbOptions};
use data::Shape;
use roster::{Case, Filter, Run, Stats, Target};
use server::{cores, cpu_snap, Admin, Cores, Server};

/// The goals of issue #5.
const GOAL_P99_MS: f64 = 100.0;
const GOAL_RATE_SHARE: f64 = 0.5;

struct Settings {
    shape: Shape,
    requests: usize,
    warmup: usize,
    concurrency: usize,
    roster_courses: u32,
    reps: usize,
    fresh: bool,
    dir: PathBuf,
}

fn var<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok()).unwrap_or(default)
}

impl Settings {
    fn from_env() -> Settings {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
        let dir = std::env::var_os("CAIRN_BENCH_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| manifest.join("../../target/bench-roster"));
        let _ = std::fs::create_dir_all(&dir);
        let shape = Shape {
            learners: var("CAIRN_BENCH_LEARNERS", 10_000u32).max(1),
            courses: var("CAIRN_BENCH_COURSES", 100u32).max(1),
            cohorts: var("CAIRN_BENCH_COHORTS", 20u32).max(1),
        };
        Settings {
            shape,
            requests: var("CAIRN_BENCH_REQUESTS", 500usize).max(1),
            warmup: var("CAIRN_BENCH_WARMUP", 40usize),
            concurrency: var("CAIRN_BENCH_CONCURRENCY", 4usize).max(1),
            roster_courses: var("CAIRN_BENCH_ROSTER_COURSES", 10u32).clamp(1, shape.courses),
            reps: var("CAIRN_BENCH_REPS", 5usize).max(1),
            fresh: var("CAIRN_BENCH_FRESH", 0u8) == 1,
            dir: dir.canonicalize().unwrap_or(dir),
        }
    }
}

/// Prints and flushes a line (cargo bench output goes through a pipe).
fn say(text: impl AsRef<str>) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", text.as_ref());
    let _ = out.flush();
}

fn main() {
    let settings = Settings::from_env();
    // Two workers, like the machine's two cores: the client must not need more than the
    // server it measures.
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    if let Err(e) = runtime.block_on(run(settings)) {
        say(format!("\nbenchmark stopped: {e}"));
        std::process::exit(1);
    }
}

/// The roster figures of one way of asking (library, page or API).
struct RosterResult {
    way: &'static str,
    outcome: Result<(Run, Cores), String>,
}

/// The report figures of one way of producing it.
struct ReportResult {
    way: &'static str,
    runs: Vec<report::Download>,
    note: Option<String>,
}

async fn run(s: Settings) -> Result<(), String> {
    let exe = PathBuf::from(env!("CARGO_BIN_EXE_cairn"));
    let data_dir = s.dir.join(format!("data-{}x{}", s.shape.learners, s.shape.courses));
    say("Cairn roster and completion-report benchmark");
    say(format!("  machine: {}", server::machine_summary()));
    say(format!("  cairn:   {}", exe.display()));
    say(format!(
        "  data:    {} learners × {} courses = {} enrolments, {} cohorts, 4 lessons per course; in {}",
        s.shape.learners,
        s.shape.courses,
        s.shape.enrolments(),
        s.shape.cohorts,
        data_dir.display()
    ));

    let generated = data::prepare(&exe, &data_dir, s.shape, !s.fresh)?;
    let db_path = data::database(&data_dir);
    if generated.reused {
        say(format!("  reused the data made by an earlier run ({:.0} MB)", generated.bytes as f64 / 1e6));
    } else {
        say(format!(
            "  data made in {:.1} s ({:.1} s of it the sqlite3 script), database {:.0} MB",
            generated.total.as_secs_f64(),
            generated.script.as_secs_f64(),
            generated.bytes as f64 / 1e6
        ));
    }

    // The library opens the database as the server does (WAL, the shipped pool size).
    let db = Db::connect(&format!("sqlite://{}", db_path.display()), &DbOptions::default())
        .await
        .map_err(|e| format!("open {}: {e}", db_path.display()))?;
    let targets = targets(&db, s.shape, s.roster_courses).await?;
    let cases = Arc::new(roster::mix(&db, &targets, s.requests, 1).await?);
    let warmup = Arc::new(roster::mix(&db, &targets, s.warmup, 2).await?);
    say(format!(
        "  roster mix: {} requests (+{} warm-up) over {} courses, {} in flight",
        cases.len(),
        warmup.len(),
        targets.len(),
        s.concurrency
    ));

    // The report's SQL and its row count; this also reads the whole database once, so the
    // page cache is warm for every timed run that follows.
    let sql = report::report_sql()?;
    let expected_rows = report::sqlite3_rows(&db_path, &sql)?;
    say(format!("  completion report: {expected_rows} rows (counted by sqlite3)"));

    let mut rosters = Vec::new();
    say("\n== roster through the library ==");
    {
        let lib = db.clone();
        let call = move |case: Case| {
            let db = lib.clone();
            async move {
                let page =
                    cairn_core::enrolments::roster::roster(&db, &case.query()).await.map_err(|e| e.to_string())?;
                Ok(page.rows.len())
            }
        };
        let call = Arc::new(call);
        let warm = call.clone();
        roster::drive(&warmup, s.concurrency, move |c| warm(c)).await;
        let before = cpu_snap(0);
        let measured = call.clone();
        let run = roster::drive(&cases, s.concurrency, move |c| measured(c)).await;
        let used = cores(before, cpu_snap(0));
        print_roster("library", &run, &cases, used);
        rosters.push(RosterResult { way: "library", outcome: Ok((run, used)) });
    }

    let mut server = Server::new(&exe, &data_dir);
    let started = server.start().await?;
    say(format!("\n  server up in {:.2} s at {} (pid {})", started.as_secs_f64(), server.base, server.pid()));
    let admin = Admin::sign_in(&server.base).await?;

    for (way, template, by_slug) in [("HTML page", roster::ROSTER_PAGE, true), ("JSON API", roster::ROSTER_API, false)]
    {
        say(format!("\n== roster: {way} ({template}) =="));
        let outcome = http_roster(&admin, &server, template, by_slug, &warmup, &cases, s.concurrency).await;
        match &outcome {
            Ok((run, used)) => print_roster(way, run, &cases, *used),
            Err(note) => say(format!("  SKIPPED: {note}")),
        }
        rosters.push(RosterResult { way, outcome });
    }

    say(format!("\n== completion report: {} timed downloads per way, interleaved ==", s.reps));
    let mut sqlite_seconds = Vec::new();
    let mut library = ReportResult { way: "library", runs: Vec::new(), note: None };
    let mut http = ReportResult { way: "HTTP", runs: Vec::new(), note: None };
    let cpu = |c: Cores| {
        format!(
            "CPU cores: server {:.2}, bench {:.2}, sqlite3 {:.2}, other {:.2}",
            c.server, c.bench, c.children, c.other
        )
    };
    for rep in 1..=s.reps {
        let before = cpu_snap(server.pid());
        let secs = report::sqlite3(&db_path, &sql)?;
        let used = cores(before, cpu_snap(server.pid()));
        say(format!(
            "  {rep}: sqlite3 -csv  {expected_rows} rows in {secs:.2} s: {:.0} rows/s; {}",
            expected_rows as f64 / secs,
            cpu(used)
        ));
        sqlite_seconds.push(secs);
        let before = cpu_snap(server.pid());
        let lib = report::library(&db).await?;
        let used = cores(before, cpu_snap(server.pid()));
        say(format!("  {rep}: library       {}; {}", download_line(&lib), cpu(used)));
        library.runs.push(lib);
        if http.note.is_none() {
            let before = cpu_snap(server.pid());
            match report::http(&admin, server.pid()).await {
                Ok(Some(d)) => {
                    let used = cores(before, cpu_snap(server.pid()));
                    say(format!("  {rep}: HTTP          {}; {}", download_line(&d), cpu(used)));
                    http.runs.push(d);
                }
                Ok(None) => http.note = Some(format!("{} answered 404 (not there yet)", report::REPORT_API)),
                Err(e) => http.note = Some(e),
            }
            if let Some(note) = &http.note {
                say(format!("  SKIPPED HTTP: {note}"));
            }
        }
    }
    let log = data_dir.join("server.log");
    server.stop();
    db.close().await;

    summary(&s, &generated, expected_rows, &rosters, &cases, &sqlite_seconds, &[library, http]);
    say(format!("\n(server log: {}; load average at the end {})", log.display(), server::load_average()));
    Ok(())
}

/// Evenly spread courses of the data set, each with one cohort of its institute to filter by.
async fn targets(db: &Db, shape: Shape, count: u32) -> Result<Vec<Target>, String> {
    let mut out = Vec::new();
    for k in 0..count {
        let number = 1 + k * shape.courses / count;
        let slug = format!("course-{number:03}");
        let course = catalog::find_by_slug(db, &slug)
            .await
            .map_err(|e| format!("{slug}: {e}"))?
            .ok_or_else(|| format!("{slug} is not in the data set"))?;
        let list = cohorts::of_organisation(db, &course.organisation_id).await.map_err(|e| e.to_string())?;
        let cohort = list.get(k as usize % list.len().max(1)).ok_or("the data set has no cohort")?;
        out.push(Target { course_id: course.id, slug, cohort_id: cohort.id.clone() });
    }
    Ok(out)
}

/// Runs the mix against one of the server's roster addresses; `Err` explains a skip.
async fn http_roster(
    admin: &Admin,
    server: &Server,
    template: &'static str,
    by_slug: bool,
    warmup: &Arc<Vec<Case>>,
    cases: &Arc<Vec<Case>>,
    concurrency: usize,
) -> Result<(Run, Cores), String> {
    let url = move |base: &str, case: &Case| {
        let course = if by_slug { &case.slug } else { &case.course_id };
        format!("{base}{}?{}", template.replace("{course}", course), case.params())
    };
    let first = url(&admin.base, &cases[0]);
    let r = admin.http.get(&first).send().await.map_err(|e| format!("GET {first}: {e}"))?;
    let status = r.status();
    let body = r.text().await.unwrap_or_default();
    if status.as_u16() == 404 {
        return Err(format!("{template} answered 404 (not there yet)"));
    }
    if !status.is_success() {
        return Err(format!("GET {first} answered {status}: {}", body.chars().take(300).collect::<String>()));
    }
    let (client, base) = (admin.http.clone(), admin.base.clone());
    let call = Arc::new(move |case: Case| {
        let request = client.get(url(&base, &case));
        async move {
            let r = request.send().await.map_err(|e| format!("transport: {e}"))?;
            let status = r.status();
            let body = r.bytes().await.map_err(|e| format!("body: {e}"))?;
            if status.is_success() {
                Ok(body.len())
            } else {
                Err(format!("HTTP {status}"))
            }
        }
    });
    let warm = call.clone();
    roster::drive(warmup, concurrency, move |c| warm(c)).await;
    let before = cpu_snap(server.pid());
    let run = roster::drive(cases, concurrency, move |c| call(c)).await;
    Ok((run, cores(before, cpu_snap(server.pid()))))
}

fn stats_cells(st: &Stats) -> String {
    format!("{} | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms", st.count, st.p50, st.p99, st.max, st.mean)
}

fn print_roster(way: &str, run: &Run, cases: &[Case], used: Cores) {
    let all = run.overall();
    say(format!(
        "  {way}: {} answered in {:.1} s ({:.0}/s), {} errors; p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; \
         CPU cores: server {:.2}, bench {:.2}, other {:.2}",
        all.count,
        run.wall.as_secs_f64(),
        all.count as f64 / run.wall.as_secs_f64().max(1e-9),
        run.errors.len(),
        all.p50,
        all.p99,
        all.max,
        used.server,
        used.bench,
        used.other
    ));
    if let Some(e) = run.errors.first() {
        say(format!("  first error: {e}"));
    }
    let sizes: Vec<usize> = run.samples.iter().map(|s| s.size).collect();
    let unit = if way == "library" { "rows" } else { "bytes" };
    say(format!(
        "  answers: {} to {} {unit}, {:.0} on average",
        sizes.iter().min().unwrap_or(&0),
        sizes.iter().max().unwrap_or(&0),
        sizes.iter().sum::<usize>() as f64 / sizes.len().max(1) as f64
    ));
    say("  | requests | n | p50 | p99 | max | mean |");
    say("  |---|---|---|---|---|---|");
    for sort in ["name", "progress", "last_access"] {
        let st = run.by(cases, |c| c.sort.key() == sort);
        say(format!("  | sort={sort} | {} |", stats_cells(&st)));
    }
    for filter in [Filter::None, Filter::Completed, Filter::Cohort(String::new())] {
        let st = run.by(cases, |c| std::mem::discriminant(&c.filter) == std::mem::discriminant(&filter));
        say(format!("  | {} | {} |", filter.label(), stats_cells(&st)));
    }
    for page in ["first", "middle", "last"] {
        let st = run.by(cases, |c| c.page == page);
        say(format!("  | {page} page | {} |", stats_cells(&st)));
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn download_line(d: &report::Download) -> String {
    format!(
        "{} rows, {:.0} MB in {:.2} s: {:.0} rows/s (first row after {:.2} s); private memory (RssAnon) {:.1} MiB before, \
         {:.1} MiB highest of {} samples while streaming, VmHWM {:.1} MiB",
        d.rows,
        d.bytes as f64 / 1e6,
        d.seconds,
        d.rows_per_second(),
        d.first_row,
        mib(d.rss_before_kib),
        mib(d.rss_peak_kib),
        d.samples,
        mib(d.hwm_kib)
    )
}

fn summary(
    s: &Settings,
    generated: &data::Generated,
    expected_rows: u64,
    rosters: &[RosterResult],
    cases: &[Case],
    sqlite_seconds: &[f64],
    cairn: &[ReportResult],
) {
    say("\n## Results (Markdown)\n");
    if !generated.reused {
        say(format!(
            "Data: {} enrolments made in {:.1} s ({:.1} s in the sqlite3 script), {:.0} MB database.\n",
            s.shape.enrolments(),
            generated.total.as_secs_f64(),
            generated.script.as_secs_f64(),
            generated.bytes as f64 / 1e6
        ));
    }
    say(format!("Roster, {} requests at {} in flight (goal p99 < {GOAL_P99_MS:.0} ms):\n", cases.len(), s.concurrency));
    say("| way | answered | p50 | p99 | max | mean | errors | req/s | goal | CPU server / bench / other |");
    say("|---|---|---|---|---|---|---|---|---|---|");
    for r in rosters {
        match &r.outcome {
            Ok((run, used)) => {
                let st = run.overall();
                let met = if !run.errors.is_empty() || st.count == 0 {
                    "errors"
                } else if st.p99 < GOAL_P99_MS {
                    "met"
                } else {
                    "missed"
                };
                say(format!(
                    "| {} | {} | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms | {} | {:.0} | {met} \
                     | {:.2} / {:.2} / {:.2} |",
                    r.way,
                    st.count,
                    st.p50,
                    st.p99,
                    st.max,
                    st.mean,
                    run.errors.len(),
                    st.count as f64 / run.wall.as_secs_f64().max(1e-9),
                    used.server,
                    used.bench,
                    used.other
                ));
            }
            Err(note) => say(format!("| {} | skipped: {note} |||||||||", r.way)),
        }
    }
    let base_secs = median(sqlite_seconds.to_vec());
    let base_rate = expected_rows as f64 / base_secs.max(1e-9);
    let best_base = sqlite_seconds.iter().copied().fold(f64::INFINITY, f64::min);
    say(format!(
        "\nCompletion report of all {expected_rows} rows, median of {} \
         (goal: ≥ {:.0} % of sqlite3's rows/s, flat memory):\n",
        s.reps,
        GOAL_RATE_SHARE * 100.0
    ));
    say("| way | rows | CSV size | time (median) | rows/s | share of sqlite3 | goal | best ÷ best | private memory \
         before | highest while streaming | growth | growth ÷ CSV size |");
    say("|---|---|---|---|---|---|---|---|---|---|---|---|");
    say(format!(
        "| sqlite3 -csv | {expected_rows} | – | {base_secs:.2} s | {base_rate:.0} | 100 % | – | – | – | – | – | – |"
    ));
    for r in cairn {
        if let Some(note) = &r.note {
            if r.runs.is_empty() {
                say(format!("| {} | skipped: {note} |||||||||||", r.way));
                continue;
            }
        }
        let Some(d) = r.runs.get(r.runs.len() / 2).copied() else { continue };
        let secs = median(r.runs.iter().map(|d| d.seconds).collect());
        let best = r.runs.iter().map(|d| d.seconds).fold(f64::INFINITY, f64::min);
        let best_share = (d.rows as f64 / best.max(1e-9)) / (expected_rows as f64 / best_base.max(1e-9));
        let rate = d.rows as f64 / secs.max(1e-9);
        let share = rate / base_rate.max(1e-9);
        let peak = r.runs.iter().map(|d| d.rss_peak_kib).max().unwrap_or(0);
        let before = r.runs.iter().map(|d| d.rss_before_kib).min().unwrap_or(0);
        let growth = peak.saturating_sub(before);
        let rows_ok = if d.rows == expected_rows { "" } else { " (row count differs!)" };
        say(format!(
            "| {} | {}{rows_ok} | {:.0} MB | {secs:.2} s | {rate:.0} | {:.0} % | {} | {:.0} % | {:.1} MiB \
             | {:.1} MiB | {:.1} MiB | {:.1} % |",
            r.way,
            d.rows,
            d.bytes as f64 / 1e6,
            share * 100.0,
            if share >= GOAL_RATE_SHARE { "met" } else { "missed" },
            best_share * 100.0,
            mib(before),
            mib(peak),
            mib(growth),
            growth as f64 * 1024.0 / (d.bytes as f64).max(1.0) * 100.0
        ));
    }
}
