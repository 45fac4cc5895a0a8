//! The SCORM-commit benchmark (issue #4): `cargo bench -p cairn-server --bench commits`.
//!
//! Starts the release `cairn` binary on a fresh SQLite data folder, then on a fresh
//! PostgreSQL database (skipped when the server is unreachable), creates learners, imports
//! a SCORM 2004 package, and plays learner sessions over HTTP as the browser player does:
//! sign in through the form, open the player (Initialize), commit batches of SetValues
//! with increasing sequence numbers, the last one terminating. For each number of
//! concurrent learners it measures, in the same run against the same server:
//!
//! 1. the ceiling: closed-loop `GET /healthz` from the same clients and connections;
//! 2. commits in a closed loop (no think time): the highest sustainable commit rate;
//! 3. commits paced as real learners (one every `THINK` seconds each): the latency at a
//!    realistic rate.
//!
//! Then the durability run: learners commit while the server is killed with SIGKILL at
//! random moments; after each kill every acknowledged commit must be in the database.
//! Method and figures: docs/PERFORMANCE.md ("SCORM commits").
//!
//! Settings (environment):
//! - `CAIRN_BENCH_LEARNERS`: concurrency levels (default `100,500,1000`)
//! - `CAIRN_BENCH_SECONDS`: measured seconds of each commit phase (default 20)
//! - `CAIRN_BENCH_CEILING_SECONDS`: measured seconds of the /healthz phase (default 10)
//! - `CAIRN_BENCH_WARMUP_SECONDS`: unmeasured start of the closed-loop phases (default 3)
//! - `CAIRN_BENCH_THINK_SECONDS`: pause between a paced learner's commits (default 10)
//! - `CAIRN_BENCH_SESSION_COMMITS`: commits per learner session, the last terminating
//!   (default 8, at least 5)
//! - `CAIRN_BENCH_ENGINES`: `sqlite,postgres` (default both)
//! - `CAIRN_BENCH_POSTGRES_URL`: server where a database is created and dropped
//!   (default `postgres://postgres@127.0.0.1:5432/postgres`)
//! - `CAIRN_BENCH_DB_CONNECTIONS`: the server's `CAIRN_DATABASE_MAX_CONNECTIONS` (default 16)
//! - `CAIRN_BENCH_KILLS` (default 5) and `CAIRN_BENCH_DURABILITY_LEARNERS` (default 50);
//!   `CAIRN_BENCH_KILLS=0` skips the durability run
//! - `CAIRN_BENCH_CLIENT_THREADS`: tokio worker threads of the load client (default 2)
//! - `CAIRN_BENCH_PACKAGE`: the SCORM 2004 zip (default the shared Golf RuntimeBasicCalls)
//! - `CAIRN_BENCH_DIR`: work folder (default `target/bench-commits/`, emptied at the end)
//!
//! A benchmark reports; it never fails because a goal is missed.

mod durability;
mod learner;
mod server;

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use learner::{healthz_loop, session_loop, Learner, Phase};
use server::{cpu_snap, cpu_use, say, CpuUse, Server};

/// The goals from issue #4 (share of the /healthz ceiling; p99 at 1,000 learners).
const GOAL_SQLITE: f64 = 0.40;
const GOAL_POSTGRES: f64 = 0.25;
const GOAL_P99_MS: f64 = 50.0;

struct Settings {
    levels: Vec<usize>,
    seconds: u64,
    ceiling_seconds: u64,
    warmup: u64,
    think: u64,
    engines: Vec<String>,
    postgres: String,
    db_connections: u32,
    kills: usize,
    durability_learners: usize,
    client_threads: usize,
    package: PathBuf,
    dir: PathBuf,
}

fn var<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok()).unwrap_or(default)
}

impl Settings {
    fn from_env() -> Settings {
        let list = |name: &str, default: &str| -> Vec<String> {
            std::env::var(name)
                .unwrap_or_else(|_| default.into())
                .split(',')
                .map(|s| s.trim().to_lowercase())
                .filter(|s| !s.is_empty())
                .collect()
        };
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
        let package = std::env::var_os("CAIRN_BENCH_PACKAGE").map(PathBuf::from).unwrap_or_else(|| {
            manifest
                .join("../../../shared/fixtures/scorm/valid/scorm2004_golf_RuntimeBasicCalls_SCORM20043rdEdition.zip")
        });
        let dir = std::env::var_os("CAIRN_BENCH_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| manifest.join("../../target/bench-commits"));
        let _ = std::fs::create_dir_all(&dir);
        Settings {
            levels: list("CAIRN_BENCH_LEARNERS", "100,500,1000").iter().filter_map(|s| s.parse().ok()).collect(),
            seconds: var("CAIRN_BENCH_SECONDS", 20u64).max(1),
            ceiling_seconds: var("CAIRN_BENCH_CEILING_SECONDS", 10u64).max(1),
            warmup: var("CAIRN_BENCH_WARMUP_SECONDS", 3u64),
            think: var("CAIRN_BENCH_THINK_SECONDS", 10u64).max(1),
            engines: list("CAIRN_BENCH_ENGINES", "sqlite,postgres"),
            postgres: std::env::var("CAIRN_BENCH_POSTGRES_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into()),
            db_connections: var("CAIRN_BENCH_DB_CONNECTIONS", 16u32),
            kills: var("CAIRN_BENCH_KILLS", 5usize),
            durability_learners: var("CAIRN_BENCH_DURABILITY_LEARNERS", 50usize).max(1),
            client_threads: var("CAIRN_BENCH_CLIENT_THREADS", 2usize).max(1),
            package: package.canonicalize().unwrap_or(package),
            dir: dir.canonicalize().unwrap_or(dir),
        }
    }
}

fn main() {
    let settings = Settings::from_env();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(settings.client_threads)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run(settings));
}

/// Latency figures of one phase, in milliseconds.
#[derive(Default, Clone, Copy)]
struct Stats {
    count: usize,
    rate: f64,
    p50: f64,
    p99: f64,
    max: f64,
}

fn stats(mut samples: Vec<u32>, seconds: f64) -> Stats {
    if samples.is_empty() {
        return Stats::default();
    }
    samples.sort_unstable();
    let at = |q: f64| samples[((q * samples.len() as f64).ceil() as usize).clamp(1, samples.len()) - 1] as f64 / 1000.0;
    Stats { count: samples.len(), rate: samples.len() as f64 / seconds, p50: at(0.50), p99: at(0.99), max: at(1.0) }
}

struct PhaseResult {
    stats: Stats,
    launches: Stats,
    errors: u64,
    error_kinds: String,
    cpu: CpuUse,
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Healthz,
    Closed,
    Paced,
}

async fn phase(kind: Kind, s: &Settings, server: &Server, learners: &[Arc<Learner>], slug: &Arc<str>) -> PhaseResult {
    let phase = Arc::new(Phase::default());
    let think = Duration::from_secs(s.think);
    let tasks: Vec<_> = learners
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let (l, p) = (l.clone(), phase.clone());
            match kind {
                Kind::Healthz => tokio::spawn(healthz_loop(l, p)),
                Kind::Closed => tokio::spawn(session_loop(l, slug.clone(), p, None, Duration::ZERO, i as u64)),
                // Launches spread evenly over one think period, so commits arrive at an even rate.
                Kind::Paced => {
                    let start = think.mul_f64(i as f64 / learners.len() as f64);
                    tokio::spawn(session_loop(l, slug.clone(), p, Some(think), start, i as u64))
                }
            }
        })
        .collect();
    // The paced phase reaches its steady rate once every learner has launched and waited.
    let warmup = if kind == Kind::Paced { 2 * think } else { Duration::from_secs(s.warmup) };
    let seconds = if kind == Kind::Healthz { s.ceiling_seconds } else { s.seconds };
    tokio::time::sleep(warmup).await;
    if kind != Kind::Healthz {
        if let Err(e) = analyze(server).await {
            say(format!("  ANALYZE after the warm-up failed: {e}"));
        }
    }
    phase.recording.store(true, Ordering::Relaxed);
    let (before, t0) = (cpu_snap(server.pid()), Instant::now());
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    phase.recording.store(false, Ordering::Relaxed);
    let (after, elapsed) = (cpu_snap(server.pid()), t0.elapsed().as_secs_f64());
    phase.stop.store(true, Ordering::Relaxed);
    for task in &tasks {
        task.abort();
    }
    for task in tasks {
        let _ = task.await;
    }
    let errors = phase.errors.lock().unwrap().clone();
    let samples = std::mem::take(&mut *phase.samples.lock().unwrap());
    let launches = std::mem::take(&mut *phase.launches.lock().unwrap());
    PhaseResult {
        stats: stats(samples, elapsed),
        launches: stats(launches, elapsed),
        errors: errors.values().sum(),
        error_kinds: errors.iter().map(|(k, v)| format!("{v}× {k}")).collect::<Vec<_>>().join(", "),
        cpu: cpu_use(before, after),
    }
}

struct Level {
    learners: usize,
    ceiling: PhaseResult,
    closed: PhaseResult,
    paced: PhaseResult,
}

struct EngineRun {
    engine: String,
    levels: Vec<Level>,
    durability: Option<Result<durability::DurabilityResult, String>>,
}

async fn run(s: Settings) {
    let exe = PathBuf::from(env!("CARGO_BIN_EXE_cairn"));
    say("Cairn SCORM-commit benchmark");
    say(format!("  machine:  {}", server::machine_summary()));
    say(format!("  cairn:    {}", exe.display()));
    say(format!("  package:  {}", s.package.display()));
    say(format!(
        "  learners: {:?}; {} s per commit phase, {} s ceiling, {} s warm-up, think time {} s",
        s.levels, s.seconds, s.ceiling_seconds, s.warmup, s.think
    ));
    say(format!(
        "  client:   {} tokio worker threads; server: {} database connections",
        s.client_threads, s.db_connections
    ));
    let mut runs = Vec::new();
    for engine in s.engines.clone() {
        say(format!("\n== {engine} =="));
        match run_engine(&s, &exe, &engine).await {
            Ok(run) => runs.push(run),
            Err(e) => say(format!("{engine}: SKIPPED: {e}")),
        }
    }
    report(&s, &runs);
}

async fn run_engine(s: &Settings, exe: &Path, engine: &str) -> Result<EngineRun, String> {
    let dir = s.dir.join(format!("{engine}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let pg = match engine {
        "sqlite" => None,
        "postgres" => {
            let probe = cairn_core::db::DbOptions { max_connections: 1, ..Default::default() };
            let reachable =
                tokio::time::timeout(Duration::from_secs(5), cairn_core::db::Db::connect(&s.postgres, &probe));
            match reachable.await {
                Ok(Ok(db)) => db.close().await,
                Ok(Err(e)) => return Err(format!("PostgreSQL at {} is unreachable: {e}", s.postgres)),
                Err(_) => return Err(format!("PostgreSQL at {} did not answer within 5 s", s.postgres)),
            }
            Some(cairn_core::testing::TestDb::postgres(&s.postgres).await)
        }
        other => return Err(format!("unknown engine {other:?} (sqlite, postgres)")),
    };
    let mut server = Server::new(exe, dir.clone(), pg.as_ref().map(|p| p.url.clone()), s.db_connections);
    let result = drive(s, &mut server, engine).await;
    server.stop();
    drop(server);
    // The server's own log (CAIRN_LOG=warn: errors and warnings) is kept for reading.
    let _ = std::fs::copy(dir.join("server.log"), s.dir.join(format!("{engine}-server.log")));
    if result.is_ok() {
        let _ = std::fs::remove_dir_all(&dir);
    } else {
        say(format!("  (kept {} for inspection)", dir.display()));
    }
    drop(pg); // drops the PostgreSQL database
    result
}

async fn drive(s: &Settings, server: &mut Server, engine: &str) -> Result<EngineRun, String> {
    let slug: Arc<str> = server.prepare(&s.package)?.into();
    let started = server.start().await?;
    say(format!("  server up in {:.2} s at {}; course /courses/{slug}", started.as_secs_f64(), server.base));
    let most = s.levels.iter().copied().chain([s.durability_learners]).max().unwrap_or(1);
    let learners = create_learners(server, most).await?;
    server.enrol(&slug, &learners.iter().map(|l| l.email.clone()).collect::<Vec<_>>())?;
    if let Some(url) = &server.database_url {
        say(format!(
            "  PostgreSQL autovacuum: {}; the bench vacuums and checkpoints before each commit phase, and analyzes after its warm-up",
            autovacuum(url).await?
        ));
    }
    let mut levels = Vec::new();
    for &n in &s.levels {
        let group = &learners[..n];
        let ceiling = phase(Kind::Healthz, s, server, group, &slug).await;
        line(engine, n, "healthz (ceiling)", &ceiling, "req");
        between_phases(server).await?;
        let closed = phase(Kind::Closed, s, server, group, &slug).await;
        line(engine, n, "commits, closed loop", &closed, "commits");
        between_phases(server).await?;
        let paced = phase(Kind::Paced, s, server, group, &slug).await;
        line(engine, n, &format!("commits, one per {} s", s.think), &paced, "commits");
        levels.push(Level { learners: n, ceiling, closed, paced });
    }
    let durability = if s.kills > 0 {
        say(format!("  durability: {} learners, closed loop, {} × kill -9", s.durability_learners, s.kills));
        Some(durability::run(server, &learners[..s.durability_learners], slug.clone(), s.kills).await)
    } else {
        None
    };
    Ok(EngineRun { engine: engine.to_string(), levels, durability })
}

/// PostgreSQL's `autovacuum` setting on the server under test.
async fn autovacuum(url: &str) -> Result<String, String> {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(url).await.map_err(|e| format!("open {url}: {e}"))?;
    let setting: String =
        sqlx::query_scalar("SHOW autovacuum").fetch_one(&mut conn).await.map_err(|e| e.to_string())?;
    let _ = conn.close().await;
    Ok(setting)
}

/// On PostgreSQL, `VACUUM (ANALYZE)` and `CHECKPOINT` before a commit phase, so that a phase
/// does not pay for the dead row versions and the dirty pages the phase before it left.
/// That is autovacuum's and the checkpointer's work over the minutes between two such
/// bursts in production. It matters here: a closed-loop phase updates every attempt
/// hundreds of times in seconds, and PostgreSQL servers set up for tests (this machine's
/// included) often run with autovacuum off. Work done during a phase is never helped.
/// SQLite needs nothing: it updates in place, and checkpoints its WAL as it goes.
async fn between_phases(server: &Server) -> Result<(), String> {
    use sqlx::Connection;
    let Some(url) = &server.database_url else {
        return Ok(());
    };
    let mut conn = sqlx::PgConnection::connect(url).await.map_err(|e| format!("open {url}: {e}"))?;
    for statement in ["VACUUM (ANALYZE)", "CHECKPOINT"] {
        sqlx::query(statement).execute(&mut conn).await.map_err(|e| format!("{statement}: {e}"))?;
    }
    let _ = conn.close().await;
    Ok(())
}

/// On PostgreSQL, `ANALYZE` once the warm-up has given the tables their working size.
///
/// Why: a plan PostgreSQL caches for a prepared statement is made from the statistics of
/// the moment, and is kept until the next `ANALYZE` of its tables. The vacuum before the
/// first closed loop sees an empty `attempts` table, so the launch's plans read it with
/// sequential scans, and kept doing so while the phase grew it to thousands of row
/// versions (`auto_explain` showed it, and `pg_stat_user_tables` counted 500 sequential
/// scans of `attempts` a second). With autovacuum on, as in production, a table
/// is analysed within a minute of a tenth of its rows changing, and a database in use is
/// not empty. Machines with autovacuum off (this one) would otherwise measure a state no
/// deployment stays in. SQLite plans from the schema alone and needs nothing.
async fn analyze(server: &Server) -> Result<(), String> {
    use sqlx::Connection;
    let Some(url) = &server.database_url else {
        return Ok(());
    };
    let mut conn = sqlx::PgConnection::connect(url).await.map_err(|e| format!("open {url}: {e}"))?;
    sqlx::query("ANALYZE").execute(&mut conn).await.map_err(|e| format!("ANALYZE: {e}"))?;
    let _ = conn.close().await;
    Ok(())
}

/// Signs in as the admin, creates `n` learners through the API and signs each one in
/// (four at a time: every step hashes or verifies an argon2 password on the server).
async fn create_learners(server: &Server, n: usize) -> Result<Vec<Arc<Learner>>, String> {
    let t = Instant::now();
    let admin = Arc::new(Learner::new(&server.base, server::ADMIN_EMAIL.into()));
    admin.login().await.map_err(|f| format!("admin sign-in: {}", f.kind()))?;
    let learners: Vec<Arc<Learner>> =
        (0..n).map(|i| Arc::new(Learner::new(&server.base, format!("learner-{i:04}@bench.example")))).collect();
    let gate = Arc::new(tokio::sync::Semaphore::new(4));
    let tasks: Vec<_> = learners
        .iter()
        .map(|l| {
            let (l, admin, gate) = (l.clone(), admin.clone(), gate.clone());
            tokio::spawn(async move {
                let _permit = gate.acquire().await;
                admin.create_learner(&l.email).await.map_err(|f| format!("create {}: {}", l.email, f.kind()))?;
                l.login().await.map_err(|f| format!("sign in {}: {}", l.email, f.kind()))
            })
        })
        .collect();
    for task in tasks {
        task.await.map_err(|e| e.to_string())??;
    }
    say(format!("  {n} learners created and signed in in {:.1} s", t.elapsed().as_secs_f64()));
    Ok(learners)
}

fn line(engine: &str, n: usize, what: &str, r: &PhaseResult, unit: &str) {
    let c = r.cpu;
    say(format!(
        "  {engine} {n:>5} learners, {what:<22}: {:>7.0} {unit}/s, p50 {:>6.1} ms, p99 {:>7.1} ms, max {:>7.1} ms, \
         {} errors; launches {:.0}/s p99 {:.1} ms; CPU cores: server {:.2}, client {:.2}, postgres {:.2}, other {:.2}{}",
        r.stats.rate,
        r.stats.p50,
        r.stats.p99,
        r.stats.max,
        r.errors,
        r.launches.rate,
        r.launches.p99,
        c.server,
        c.client,
        c.postgres,
        c.other,
        if r.error_kinds.is_empty() { String::new() } else { format!(" [{}]", r.error_kinds) }
    ));
}

fn report(s: &Settings, runs: &[EngineRun]) {
    say("\n## Results (Markdown)\n");
    say(format!("Ceiling and closed loop (no think time, {} commits per session):\n", learner::commits_per_session()));
    say("| engine | learners | /healthz req/s | commits/s | % of ceiling | goal | p50 | p99 | max | errors | launches/s | CPU server / client / postgres / other |");
    say("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for run in runs {
        let goal = if run.engine == "postgres" { GOAL_POSTGRES } else { GOAL_SQLITE };
        for l in &run.levels {
            let share = l.closed.stats.rate / l.ceiling.stats.rate.max(1e-9);
            let c = l.closed.cpu;
            say(format!(
                "| {} | {} | {:.0} | {:.0} | {:.1} % | ≥ {:.0} %: {} | {:.1} ms | {:.1} ms | {:.1} ms | {} | {:.0} | {:.2} / {:.2} / {:.2} / {:.2} |",
                run.engine, l.learners, l.ceiling.stats.rate, l.closed.stats.rate, share * 100.0, goal * 100.0,
                if share >= goal { "met" } else { "missed" }, l.closed.stats.p50, l.closed.stats.p99, l.closed.stats.max,
                l.closed.errors, l.closed.launches.rate, c.server, c.client, c.postgres, c.other
            ));
        }
    }
    say(format!(
        "\nPaced: every learner commits once per {} s (Initialize = player page, {} commits per session):\n",
        s.think,
        learner::commits_per_session()
    ));
    say("| engine | learners | commits/s | commits measured | p50 | p99 | max | p99 < 50 ms | errors | CPU server / client / postgres / other |");
    say("|---|---|---|---|---|---|---|---|---|---|");
    for run in runs {
        for l in &run.levels {
            let (p, c) = (&l.paced.stats, l.paced.cpu);
            let goal = if p.p99 < GOAL_P99_MS { "yes" } else { "no" };
            say(format!(
                "| {} | {} | {:.1} | {} | {:.1} ms | {:.1} ms | {:.1} ms | {goal} | {} | {:.2} / {:.2} / {:.2} / {:.2} |",
                run.engine, l.learners, p.rate, p.count, p.p50, p.p99, p.max, l.paced.errors,
                c.server, c.client, c.postgres, c.other
            ));
        }
    }
    say("\nDurability (kill -9 under load, database read directly after every kill and after the final stop):\n");
    say("| engine | kills | acknowledged commits | attempts | verified | lost | restart time (max) | failed requests while down |");
    say("|---|---|---|---|---|---|---|---|");
    for run in runs {
        match &run.durability {
            Some(Ok(d)) => {
                let lost: u64 = d.kills.iter().map(|k| k.1.lost).sum::<u64>() + d.last.lost;
                let restart = d.kills.iter().map(|k| k.2).max().unwrap_or_default();
                let failed: u64 = d.errors.iter().map(|e| e.1).sum();
                say(format!(
                    "| {} | {} | {} | {} | {} | {} (over all checks) | {:.2} s | {} |",
                    run.engine,
                    d.kills.len(),
                    d.last.acknowledged,
                    d.last.attempts,
                    d.last.verified,
                    lost,
                    restart.as_secs_f64(),
                    failed
                ));
            }
            Some(Err(e)) => say(format!("| {} | failed: {e} |||||||", run.engine)),
            None => say(format!("| {} | not run |||||||", run.engine)),
        }
    }
}
