//! The server under test: the release `cairn` binary as a child process on a fresh
//! database, prepared with the CLI, plus CPU accounting from `/proc`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const ADMIN_EMAIL: &str = "admin@bench.example";
/// The password of the admin and of every learner.
pub const PASSWORD: &str = "bench-password-123";
pub const ORG: &str = "bench";

pub struct Server {
    exe: PathBuf,
    /// `CAIRN_DATA_DIR`: SQLite file (unless PostgreSQL), content, the server log.
    pub dir: PathBuf,
    pub database_url: Option<String>,
    pub base: String,
    port: u16,
    db_connections: u32,
    child: Option<Child>,
}

impl Server {
    pub fn new(exe: &Path, dir: PathBuf, database_url: Option<String>, db_connections: u32) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).unwrap();
        Server {
            exe: exe.to_path_buf(),
            dir,
            database_url,
            base: format!("http://127.0.0.1:{port}"),
            port,
            db_connections,
            child: None,
        }
    }

    /// The URL the bench itself opens the database with (for the durability check).
    pub fn store_url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| format!("sqlite://{}", self.dir.join("cairn.db").display()))
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.exe);
        c.args(args).current_dir(&self.dir);
        for (name, _) in std::env::vars() {
            if name.starts_with("CAIRN_") {
                c.env_remove(name);
            }
        }
        c.env("CAIRN_DATA_DIR", &self.dir)
            .env("CAIRN_BIND", format!("127.0.0.1:{}", self.port))
            .env("CAIRN_PUBLIC_URL", &self.base)
            .env("CAIRN_LOG", std::env::var("CAIRN_BENCH_SERVER_LOG").unwrap_or_else(|_| "warn".into()))
            .env("CAIRN_ADMIN_EMAIL", ADMIN_EMAIL)
            .env("CAIRN_ADMIN_PASSWORD", PASSWORD)
            .env("CAIRN_LOGIN_MAX_ATTEMPTS", "100000000")
            .env("CAIRN_LOGIN_MAX_ATTEMPTS_PER_IP", "100000000")
            .env("CAIRN_DATABASE_MAX_CONNECTIONS", self.db_connections.to_string());
        if let Some(url) = &self.database_url {
            c.env("CAIRN_DATABASE_URL", url);
        }
        c
    }

    fn cli(&self, args: &[&str]) -> Result<String, String> {
        let out = self.command(args).stdin(Stdio::null()).output().map_err(|e| format!("cairn {args:?}: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "cairn {args:?} failed ({}): {}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Creates the institute and imports the package; returns the course slug.
    pub fn prepare(&self, package: &Path) -> Result<String, String> {
        std::fs::create_dir_all(&self.dir).map_err(|e| format!("{}: {e}", self.dir.display()))?;
        self.cli(&["org", "add", "--slug", ORG, "--name", "Bench institute"])?;
        let package = package.to_str().ok_or("package path is not UTF-8")?;
        let out = self.cli(&["package", "import", package, "--org", ORG, "--json"])?;
        let json: serde_json::Value = serde_json::from_str(&out).map_err(|e| format!("import output: {e}: {out}"))?;
        json["course_slug"].as_str().map(str::to_string).ok_or_else(|| format!("no course_slug in {out}"))
    }

    /// Enrols existing accounts in the course with `cairn enrol --csv` (taking a course
    /// needs an enrolment).
    pub fn enrol(&self, slug: &str, emails: &[String]) -> Result<(), String> {
        let file = self.dir.join("enrol.csv");
        let mut csv = String::from("email\n");
        for email in emails {
            csv.push_str(email);
            csv.push('\n');
        }
        std::fs::write(&file, csv).map_err(|e| format!("{}: {e}", file.display()))?;
        self.cli(&["enrol", "--course", slug, "--csv", file.to_str().ok_or("path is not UTF-8")?])?;
        Ok(())
    }

    /// Starts `cairn serve` (output appended to `server.log`) and waits for `/healthz`.
    pub async fn start(&mut self) -> Result<Duration, String> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("server.log"))
            .map_err(|e| e.to_string())?;
        let err = log.try_clone().map_err(|e| e.to_string())?;
        let started = Instant::now();
        let child = self
            .command(&["serve"])
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("spawn cairn serve: {e}"))?;
        self.child = Some(child);
        let http = reqwest::Client::builder().timeout(Duration::from_secs(2)).build().unwrap();
        while started.elapsed() < Duration::from_secs(60) {
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().ok().flatten()) {
                return Err(format!("cairn serve exited ({status}); see {}", self.dir.join("server.log").display()));
            }
            if http.get(format!("{}/healthz", self.base)).send().await.is_ok_and(|r| r.status().is_success()) {
                return Ok(started.elapsed());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Err("cairn serve did not answer /healthz within 60 s".into())
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// `kill -9`, then reap the process.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM (graceful shutdown), SIGKILL after 15 s.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
            let until = Instant::now() + Duration::from_secs(15);
            while Instant::now() < until {
                if child.try_wait().ok().flatten().is_some() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
    }
}

// ---------------------------------------------------------------------------------------
// CPU accounting

/// Clock ticks of CPU time, from `/proc` (USER_HZ is 100 on Linux).
const TICKS: f64 = 100.0;

#[derive(Clone, Copy, Default)]
pub struct CpuSnap {
    server: u64,
    client: u64,
    postgres: u64,
    busy: u64,
    at: Option<Instant>,
}

/// Cores used over an interval by the server, the load client, PostgreSQL and everything
/// else on the machine (other builds, the kernel's share not charged to a process).
#[derive(Clone, Copy, Default)]
pub struct CpuUse {
    pub server: f64,
    pub client: f64,
    pub postgres: f64,
    pub other: f64,
}

fn proc_ticks(pid: &str) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the command name: state is field 3, utime 14 and stime 15.
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

fn postgres_ticks() -> u64 {
    let Ok(entries) = std::fs::read_dir("/proc") else { return 0 };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str().filter(|n| n.bytes().all(|b| b.is_ascii_digit())).map(str::to_string))
        .filter(|pid| std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == "postgres"))
        .filter_map(|pid| proc_ticks(&pid))
        .sum()
}

fn machine_busy() -> u64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let v: Vec<u64> =
        stat.lines().next().unwrap_or("").split_whitespace().skip(1).filter_map(|x| x.parse().ok()).collect();
    // user nice system idle iowait irq softirq steal: busy = all - idle - iowait.
    v.iter().take(8).sum::<u64>() - v.get(3).copied().unwrap_or(0) - v.get(4).copied().unwrap_or(0)
}

pub fn cpu_snap(server: Option<u32>) -> CpuSnap {
    CpuSnap {
        server: server.and_then(|p| proc_ticks(&p.to_string())).unwrap_or(0),
        client: proc_ticks("self").unwrap_or(0),
        postgres: postgres_ticks(),
        busy: machine_busy(),
        at: Some(Instant::now()),
    }
}

pub fn cpu_use(a: CpuSnap, b: CpuSnap) -> CpuUse {
    let secs = match (a.at, b.at) {
        (Some(x), Some(y)) => (y - x).as_secs_f64().max(1e-3),
        _ => return CpuUse::default(),
    };
    let d = |x: u64, y: u64| y.saturating_sub(x) as f64 / TICKS / secs;
    let (server, client, postgres) = (d(a.server, b.server), d(a.client, b.client), d(a.postgres, b.postgres));
    let other = (d(a.busy, b.busy) - server - client - postgres).max(0.0);
    CpuUse { server, client, postgres, other }
}

pub fn machine_summary() -> String {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .unwrap_or("unknown CPU")
        .trim()
        .to_string();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    format!(
        "{cores} cores, {cpu}; load average at start {}",
        load.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
    )
}

/// Prints and flushes a progress line (cargo bench output is line-buffered through a pipe).
pub fn say(text: impl AsRef<str>) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", text.as_ref());
    let _ = out.flush();
}
