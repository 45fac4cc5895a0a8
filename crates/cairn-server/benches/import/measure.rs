//! Running a command and measuring its wall time, CPU time and peak memory.

use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------
// Running and measuring a command

pub(crate) struct Job {
    pub(crate) program: PathBuf,
    pub(crate) args: Vec<std::ffi::OsString>,
    pub(crate) envs: Vec<(String, String)>,
    pub(crate) cwd: PathBuf,
}

impl Job {
    pub(crate) fn new(program: &Path) -> Job {
        Job { program: program.to_path_buf(), args: Vec::new(), envs: Vec::new(), cwd: PathBuf::from(".") }
    }
    pub(crate) fn arg(mut self, arg: impl AsRef<std::ffi::OsStr>) -> Job {
        self.args.push(arg.as_ref().to_os_string());
        self
    }
    pub(crate) fn args<const N: usize>(mut self, args: [&str; N]) -> Job {
        self.args.extend(args.iter().map(Into::into));
        self
    }
    pub(crate) fn envs(mut self, envs: Vec<(String, String)>) -> Job {
        self.envs.extend(envs);
        self
    }
    pub(crate) fn cwd(mut self, cwd: &Path) -> Job {
        self.cwd = cwd.to_path_buf();
        self
    }
    /// The command, optionally behind a wrapper, with the caller's `CAIRN_*` settings removed
    /// so that only this job's settings apply (and no `cairn.toml` is picked up: the working
    /// folder is the bench's own).
    pub(crate) fn command_behind(&self, wrapper: &[std::ffi::OsString]) -> Command {
        let mut command = match wrapper.split_first() {
            Some((first, rest)) => {
                let mut c = Command::new(first);
                c.args(rest).arg(&self.program);
                c
            }
            None => Command::new(&self.program),
        };
        command.args(&self.args).current_dir(&self.cwd).stdin(Stdio::null());
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("CAIRN_") {
                command.env_remove(name);
            }
        }
        for (name, value) in &self.envs {
            command.env(name, value);
        }
        command
    }
    pub(crate) fn command(&self) -> Command {
        self.command_behind(&[])
    }
}

pub(crate) struct Measured {
    pub(crate) wall: Duration,
    pub(crate) peak_kib: Option<u64>,
    /// User and system CPU seconds (GNU time only).
    pub(crate) cpu: Option<(f64, f64)>,
}

impl Measured {
    pub(crate) fn cpu_text(&self) -> String {
        self.cpu.map(|(user, sys)| format!("  cpu {user:.2} s user + {sys:.2} s sys")).unwrap_or_default()
    }
}

/// How peak RSS is read: GNU time's `%M` (the kernel's `ru_maxrss` of the child, exact), or
/// failing that `VmHWM` from `/proc/<pid>/status` polled every 2 ms (the last value seen).
pub(crate) enum RssProbe {
    GnuTime,
    Poll,
}

impl RssProbe {
    pub(crate) fn detect() -> RssProbe {
        let works = Command::new("/usr/bin/time")
            .args(["-f", "%M", "-o", "/dev/null", "true"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if works {
            RssProbe::GnuTime
        } else {
            RssProbe::Poll
        }
    }

    pub(crate) fn describe(&self) -> &'static str {
        match self {
            RssProbe::GnuTime => "GNU time `%M` (max resident set of the process, from the kernel); CPU from `%U %S`",
            RssProbe::Poll => "VmHWM from /proc/<pid>/status, polled every 2 ms",
        }
    }

    /// Runs `job` to the end; the wall time spans spawn to exit.
    pub(crate) fn run(&self, job: &Job) -> io::Result<(Measured, Output)> {
        match self {
            RssProbe::GnuTime => {
                let rss_file = job.cwd.join(format!(".rss-{}", std::process::id()));
                let wrapper: Vec<std::ffi::OsString> =
                    vec!["/usr/bin/time".into(), "-f".into(), "%M %U %S".into(), "-o".into(), rss_file.clone().into()];
                let started = Instant::now();
                let output = job.command_behind(&wrapper).output()?;
                let wall = started.elapsed();
                // The last line is ours ("Command exited with non-zero status" may precede it).
                let text = std::fs::read_to_string(&rss_file).unwrap_or_default();
                let fields: Vec<&str> = text.lines().last().unwrap_or("").split_whitespace().collect();
                let peak_kib = fields.first().and_then(|f| f.parse().ok());
                let cpu = match (fields.get(1).and_then(|f| f.parse().ok()), fields.get(2).and_then(|f| f.parse().ok()))
                {
                    (Some(user), Some(sys)) => Some((user, sys)),
                    _ => None,
                };
                let _ = std::fs::remove_file(&rss_file);
                Ok((Measured { wall, peak_kib, cpu }, output))
            }
            RssProbe::Poll => {
                let started = Instant::now();
                let mut child = job.command().stdout(Stdio::piped()).stderr(Stdio::piped()).spawn()?;
                let status_path = format!("/proc/{}/status", child.id());
                // Output is small (JSON, warnings); read it on threads so pipes never fill.
                let mut stdout = child.stdout.take();
                let mut stderr = child.stderr.take();
                let out_thread = std::thread::spawn(move || {
                    let mut buf = Vec::new();
                    if let Some(s) = stdout.as_mut() {
                        let _ = io::Read::read_to_end(s, &mut buf);
                    }
                    buf
                });
                let err_thread = std::thread::spawn(move || {
                    let mut buf = Vec::new();
                    if let Some(s) = stderr.as_mut() {
                        let _ = io::Read::read_to_end(s, &mut buf);
                    }
                    buf
                });
                let mut peak_kib = None;
                let status = loop {
                    if let Some(status) = child.try_wait()? {
                        break status;
                    }
                    if let Some(hwm) = read_vm_hwm(&status_path) {
                        peak_kib = Some(hwm);
                    }
                    std::thread::sleep(Duration::from_millis(2));
                };
                let wall = started.elapsed();
                let output = Output {
                    status,
                    stdout: out_thread.join().unwrap_or_default(),
                    stderr: err_thread.join().unwrap_or_default(),
                };
                Ok((Measured { wall, peak_kib, cpu: None }, output))
            }
        }
    }
}

pub(crate) fn read_vm_hwm(path: &str) -> Option<u64> {
    let text = std::fs::read_to_string(path).ok()?;
    let line = text.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

pub(crate) fn have_unzip() -> bool {
    Command::new("unzip").arg("-v").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
}

/// Flushes dirty pages left by the previous run, so it does not slow the next one down.
pub(crate) fn sync() {
    let _ = Command::new("sync").status();
}

pub(crate) fn remove(path: &Path) {
    if path.exists() {
        if let Err(e) = std::fs::remove_dir_all(path) {
            println!("  warning: could not remove {}: {e}", path.display());
        }
    }
}

pub(crate) fn check_space(dir: &Path, needed: u64) -> Result<(), String> {
    let output = Command::new("df").arg("-Pk").arg(dir).output();
    let available = output.ok().and_then(|o| {
        let text = String::from_utf8_lossy(&o.stdout).into_owned();
        text.lines().nth(1)?.split_whitespace().nth(3)?.parse::<u64>().ok()
    });
    match available {
        Some(kib) if kib * 1024 < needed => Err(format!(
            "not enough disk space in {}: {:.1} GB free, about {:.1} GB needed",
            dir.display(),
            (kib * 1024) as f64 / 1e9,
            needed as f64 / 1e9
        )),
        _ => Ok(()),
    }
}

pub(crate) fn machine_summary() -> String {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| t.lines().next().and_then(|l| l.split_whitespace().nth(1)).and_then(|k| k.parse::<u64>().ok()))
        .map(|k| format!("{:.1} GiB RAM", k as f64 / 1024.0 / 1024.0))
        .unwrap_or_default();
    format!("{cores} cores, {cpu}, {memory}")
}
