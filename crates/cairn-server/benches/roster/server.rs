//! The server under test (the release `cairn serve` as a child process on the generated
//! data folder), a signed-in admin's HTTP client, and memory sampling from `/proc`.

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use reqwest::cookie::{CookieStore, Jar};

use crate::data::{cairn, ADMIN_EMAIL, PASSWORD};

pub struct Server {
    exe: PathBuf,
    dir: PathBuf,
    pub base: String,
    port: u16,
    child: Option<Child>,
}

impl Server {
    pub fn new(exe: &Path, dir: &Path) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).unwrap();
        Server { exe: exe.into(), dir: dir.into(), base: format!("http://127.0.0.1:{port}"), port, child: None }
    }

    /// Starts `cairn serve` (its output goes to `server.log`) and waits for `/healthz`.
    pub async fn start(&mut self) -> Result<Duration, String> {
        let log = std::fs::File::create(self.dir.join("server.log")).map_err(|e| e.to_string())?;
        let err = log.try_clone().map_err(|e| e.to_string())?;
        let started = Instant::now();
        let child = cairn(&self.exe, &self.dir, &["serve"])
            .env("CAIRN_BIND", format!("127.0.0.1:{}", self.port))
            .env("CAIRN_PUBLIC_URL", &self.base)
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

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(Child::id).unwrap_or(0)
    }

    /// SIGTERM (graceful shutdown), SIGKILL after 15 s.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = std::process::Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
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
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The admin's browser: a cookie jar with the login session, one keep-alive pool.
#[derive(Clone)]
pub struct Admin {
    pub http: reqwest::Client,
    pub base: String,
}

impl Admin {
    /// `GET /login` for the CSRF cookie, then the login form: 303 with a session cookie.
    pub async fn sign_in(base: &str) -> Result<Admin, String> {
        let jar = Arc::new(Jar::default());
        let http = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(120))
            .build()
            .unwrap();
        let url: reqwest::Url = base.parse().map_err(|e| format!("{base}: {e}"))?;
        let cookie = |name: &str| {
            let header = jar.cookies(&url)?;
            let text = header.to_str().ok()?.to_string();
            text.split("; ").find_map(|pair| pair.strip_prefix(name)?.strip_prefix('=').map(str::to_string))
        };
        let r = http.get(format!("{base}/login")).send().await.map_err(|e| format!("GET /login: {e}"))?;
        let _ = r.bytes().await;
        let csrf = cookie("cairn_csrf").ok_or("GET /login set no cairn_csrf cookie")?;
        let form = [("email", ADMIN_EMAIL), ("password", PASSWORD), ("csrf_token", csrf.as_str())];
        let r = http.post(format!("{base}/login")).form(&form).send().await.map_err(|e| format!("POST /login: {e}"))?;
        let status = r.status().as_u16();
        if status != 303 || cookie("cairn_session").is_none() {
            return Err(format!("admin sign-in answered {status}"));
        }
        Ok(Admin { http, base: base.to_string() })
    }
}

/// Memory of a process in KiB: (RssAnon now, VmHWM: the peak resident set since it
/// started). RssAnon is the process's private memory (heap, stacks): what a report held in
/// memory would grow. The resident set as a whole also counts the pages of the database
/// file that SQLite reads through its memory map; those belong to the kernel's page cache,
/// are shared and reclaimable, and grow with any read of the file, so VmRSS alone would
/// blame the report for the operating system's caching.
pub fn memory(pid: &str) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<u64> {
        status.lines().find_map(|l| l.strip_prefix(name))?.split_whitespace().next()?.parse().ok()
    };
    Some((field("RssAnon:")?, field("VmHWM:")?))
}

/// Reads a process's private memory (RssAnon) every `every` on a thread of its own until stopped, so the figure
/// does not depend on how busy the async runtime is.
pub struct RssSampler {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<(u64, u64, usize)>>,
}

/// What a sampler saw: the highest RssAnon sampled and the process's VmHWM at the end (KiB).
pub struct RssSeen {
    pub peak_rss_kib: u64,
    pub hwm_kib: u64,
    pub samples: usize,
}

impl RssSampler {
    pub fn start(pid: String, every: Duration) -> RssSampler {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let (mut peak, mut hwm, mut samples) = (0, 0, 0);
            loop {
                if let Some((rss, high)) = memory(&pid) {
                    peak = peak.max(rss);
                    hwm = high;
                    samples += 1;
                }
                if flag.load(Ordering::Relaxed) {
                    return (peak, hwm, samples);
                }
                std::thread::sleep(every);
            }
        });
        RssSampler { stop, thread: Some(thread) }
    }

    pub fn finish(mut self) -> RssSeen {
        self.stop.store(true, Ordering::Relaxed);
        let (peak_rss_kib, hwm_kib, samples) = self.thread.take().and_then(|t| t.join().ok()).unwrap_or_default();
        RssSeen { peak_rss_kib, hwm_kib, samples }
    }
}

/// CPU time so far of the server, of this process (the load client, or the library runs)
/// and of the whole machine, in clock ticks (USER_HZ, 100 per second on Linux).
#[derive(Clone, Copy)]
pub struct CpuSnap {
    server: u64,
    bench: u64,
    children: u64,
    busy: u64,
    at: Instant,
}

/// Cores used over an interval: by the server, by this process, by the children it waited
/// for (`sqlite3`) and by everything else (other builds on a shared machine).
#[derive(Clone, Copy, Default)]
pub struct Cores {
    pub server: f64,
    pub bench: f64,
    pub children: f64,
    pub other: f64,
}

/// (own CPU time, CPU time of the children it has waited for) of a process, in ticks.
fn ticks(pid: &str) -> (u64, u64) {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return (0, 0) };
    let Some(close) = stat.rfind(')') else { return (0, 0) };
    let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
    // After the command name: utime, stime, cutime and cstime are the 12th to 15th fields.
    let field = |i: usize| fields.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    (field(11) + field(12), field(13) + field(14))
}

fn machine_busy() -> u64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let v: Vec<u64> =
        stat.lines().next().unwrap_or("").split_whitespace().skip(1).filter_map(|x| x.parse().ok()).collect();
    // user nice system idle iowait irq softirq steal: busy is all but idle and iowait.
    let all: u64 = v.iter().take(8).sum();
    all - v.get(3).copied().unwrap_or(0) - v.get(4).copied().unwrap_or(0)
}

pub fn cpu_snap(server_pid: u32) -> CpuSnap {
    let server = if server_pid == 0 { 0 } else { ticks(&server_pid.to_string()).0 };
    let (bench, children) = ticks("self");
    CpuSnap { server, bench, children, busy: machine_busy(), at: Instant::now() }
}

pub fn cores(a: CpuSnap, b: CpuSnap) -> Cores {
    let secs = (b.at - a.at).as_secs_f64().max(1e-3);
    let d = |x: u64, y: u64| y.saturating_sub(x) as f64 / 100.0 / secs;
    let (server, bench, children) = (d(a.server, b.server), d(a.bench, b.bench), d(a.children, b.children));
    Cores { server, bench, children, other: (d(a.busy, b.busy) - server - bench - children).max(0.0) }
}

/// Cores, CPU model and load average, for the report.
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
    format!("{cores} cores, {cpu}; load average {}", load_average())
}

pub fn load_average() -> String {
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    load.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
}
