//! The package-import benchmark (issue #3): `cargo bench -p cairn-server --bench import`.
//!
//! For each size it generates (once, deterministically, then reuses) a SCORM 1.2 package
//! with a few thousand files — compressible HTML/JS/CSS (deflated), incompressible images
//! (deflated, as most authoring tools do) and video (stored) — and then, in the same run
//! and on the same disk, times `unzip -q` of the zip against the real import
//! (`cairn package import --json`, release binary, fresh SQLite data folder each time), and
//! records the import's peak RSS. Method and figures: docs/PERFORMANCE.md.
//!
//! Settings (environment, or sizes as arguments):
//! - `CAIRN_BENCH_SIZES`: comma-separated sizes of unpacked content, decimal units
//!   (`10M,200M,1G`, the default; add `2G` for the largest).
//! - `CAIRN_BENCH_REPS`: timed repetitions per size after one warm-up of each (default 3).
//! - `CAIRN_BENCH_DIR`: work folder (default `target/bench-import/` of the workspace). The
//!   generated zips are kept in `packages/` there and reused by later runs.
//!
//! A benchmark reports; it never fails because a goal is missed.

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

/// Bump when the generator changes, so cached packages are made again.
const GENERATOR_VERSION: u32 = 2;
const SEED: u64 = 0x000C_A12B_E7C4;
const MB: u64 = 1_000_000;
const MIB: u64 = 1024 * 1024;
/// The goals from issue #3.
const GOAL_RATIO: f64 = 1.3;
const GOAL_RSS_KIB: u64 = 64 * 1024;

fn main() {
    let settings = Settings::from_env();
    let cairn = PathBuf::from(env!("CARGO_BIN_EXE_cairn"));
    println!("Cairn package-import benchmark");
    println!("  machine: {}", machine_summary());
    println!("  cairn:   {}", cairn.display());
    println!("  work:    {}", settings.dir.display());
    println!("  sizes:   {}", settings.sizes.iter().map(|s| label(*s)).collect::<Vec<_>>().join(", "));
    println!("  reps:    {} timed after 1 warm-up of each command (page cache warm for both)", settings.reps);
    let unzip = have_unzip();
    if !unzip {
        println!("  NOTE: `unzip` is not installed; the unzip baseline is skipped (apt-get install unzip)");
    }
    let rss = RssProbe::detect();
    println!("  peak RSS: {}", rss.describe());
    println!();

    let packages = settings.dir.join("packages");
    let runs = settings.dir.join("runs");
    if let Err(e) = std::fs::create_dir_all(&packages).and_then(|_| std::fs::create_dir_all(&runs)) {
        println!("cannot create {}: {e}", settings.dir.display());
        return;
    }

    let mut rows = Vec::new();
    for &size in &settings.sizes {
        match bench_size(&settings, &cairn, &packages, &runs, size, unzip, &rss) {
            Ok(row) => rows.push(row),
            Err(e) => println!("{}: skipped: {e}\n", label(size)),
        }
    }
    let _ = std::fs::remove_dir_all(&runs);
    report(&rows, unzip);
}

struct Settings {
    sizes: Vec<u64>,
    reps: usize,
    dir: PathBuf,
}

impl Settings {
    fn from_env() -> Settings {
        let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
        let sizes_text = if args.is_empty() {
            std::env::var("CAIRN_BENCH_SIZES").unwrap_or_else(|_| "10M,200M,1G".into())
        } else {
            args.join(",")
        };
        let sizes = sizes_text
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .filter_map(|s| {
                let size = parse_size(s);
                if size.is_none() {
                    println!("ignoring size `{s}` (use forms like 10M, 200MB, 1G)");
                }
                size
            })
            .collect();
        let reps = std::env::var("CAIRN_BENCH_REPS").ok().and_then(|r| r.parse().ok()).unwrap_or(3usize).max(1);
        let dir = std::env::var_os("CAIRN_BENCH_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-import"));
        let _ = std::fs::create_dir_all(&dir);
        let dir = dir.canonicalize().unwrap_or(dir);
        Settings { sizes, reps, dir }
    }
}

fn parse_size(text: &str) -> Option<u64> {
    let upper = text.to_ascii_uppercase();
    let upper = upper.trim_end_matches('B');
    let (number, unit) = match upper.chars().last()? {
        'K' => (&upper[..upper.len() - 1], 1_000),
        'M' => (&upper[..upper.len() - 1], MB),
        'G' => (&upper[..upper.len() - 1], 1_000 * MB),
        _ => (upper, 1),
    };
    let value: f64 = number.trim().parse().ok()?;
    (value > 0.0).then_some((value * unit as f64) as u64)
}

fn label(size: u64) -> String {
    if size >= 1_000 * MB && size % (1_000 * MB) == 0 {
        format!("{} GB", size / (1_000 * MB))
    } else {
        format!("{} MB", size / MB)
    }
}

// ---------------------------------------------------------------------------------------
// One size

struct Row {
    size: u64,
    files: usize,
    unpacked: u64,
    zip_bytes: u64,
    unzip: Vec<Duration>,
    unzip_rss: Vec<u64>,
    import: Vec<Duration>,
    import_rss: Vec<u64>,
    inspect_rss: Option<u64>,
}

fn bench_size(
    settings: &Settings,
    cairn: &Path,
    packages: &Path,
    runs: &Path,
    size: u64,
    unzip: bool,
    rss: &RssProbe,
) -> Result<Row, String> {
    let zip_path = packages.join(format!("scorm12-{}-v{GENERATOR_VERSION}.zip", size));
    if !zip_path.exists() {
        // Room for the zip (at most its content) and two unpacked copies, plus slack.
        check_space(packages, size.saturating_mul(3) + 512 * MB)?;
        print!("{}: generating {} ... ", label(size), zip_path.display());
        let _ = io::stdout().flush();
        let started = Instant::now();
        generate(&zip_path, size).map_err(|e| format!("generating the package failed: {e}"))?;
        println!("{:.1} s", started.elapsed().as_secs_f64());
    }
    check_space(runs, size.saturating_mul(2) + 256 * MB)?;
    let (files, unpacked) = zip_contents(&zip_path).map_err(|e| format!("cannot read the package: {e}"))?;
    let zip_bytes = std::fs::metadata(&zip_path).map_err(|e| e.to_string())?.len();
    println!(
        "{}: {} files, {:.1} MB unpacked, zip {:.1} MB",
        label(size),
        files,
        unpacked as f64 / MB as f64,
        zip_bytes as f64 / MB as f64
    );

    let max_uncompressed = (unpacked * 2).max(2 * 1024 * MIB).to_string();
    let cairn_env = |data_dir: &Path| -> Vec<(String, String)> {
        vec![
            ("CAIRN_DATA_DIR".into(), data_dir.display().to_string()),
            ("CAIRN_PACKAGE_MAX_UNCOMPRESSED_BYTES".into(), max_uncompressed.clone()),
            ("CAIRN_LOG".into(), "warn".into()),
        ]
    };

    let inspect_rss = {
        let job = Job::new(cairn).args(["package", "inspect", "--json"]).arg(&zip_path).cwd(runs);
        let (measured, output) = rss.run(&job).map_err(|e| format!("cairn package inspect: {e}"))?;
        if !output.status.success() {
            println!("  note: `cairn package inspect` says the package is not importable with default limits");
        }
        measured.peak_kib
    };

    let mut row = Row {
        size,
        files,
        unpacked,
        zip_bytes,
        unzip: Vec::new(),
        unzip_rss: Vec::new(),
        import: Vec::new(),
        import_rss: Vec::new(),
        inspect_rss,
    };
    // Repetition 0 is the warm-up of each command; it is printed but not counted.
    for rep in 0..=settings.reps {
        let tag = if rep == 0 { "warm-up".to_string() } else { format!("run {rep}") };
        if unzip {
            let out = runs.join(format!("unzip-{rep}"));
            remove(&out);
            sync();
            let job = Job::new(Path::new("unzip")).arg("-q").arg(&zip_path).arg("-d").arg(&out).cwd(runs);
            let (measured, output) = rss.run(&job).map_err(|e| format!("unzip: {e}"))?;
            if !output.status.success() {
                return Err(format!("unzip failed: {}", String::from_utf8_lossy(&output.stderr)));
            }
            remove(&out);
            println!(
                "  {tag:>8}  unzip  {:>8.2} s  {:>9}{}",
                measured.wall.as_secs_f64(),
                kib(measured.peak_kib),
                measured.cpu_text()
            );
            if rep > 0 {
                row.unzip.push(measured.wall);
                row.unzip_rss.extend(measured.peak_kib);
            }
        }

        let data = runs.join(format!("import-{rep}"));
        remove(&data);
        std::fs::create_dir_all(&data).map_err(|e| e.to_string())?;
        let org =
            Job::new(cairn).args(["org", "add", "--slug", "bench", "--name", "Bench"]).envs(cairn_env(&data)).cwd(runs);
        let output = org.command().output().map_err(|e| format!("cairn org add: {e}"))?;
        if !output.status.success() {
            return Err(format!("cairn org add failed: {}", String::from_utf8_lossy(&output.stderr)));
        }
        sync();
        let job = Job::new(cairn).args(["package", "import", "--json"]).arg(&zip_path).envs(cairn_env(&data)).cwd(runs);
        let (measured, output) = rss.run(&job).map_err(|e| format!("cairn package import: {e}"))?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        let imported: Option<serde_json::Value> = serde_json::from_str(&stdout).ok();
        let file_count = imported.as_ref().and_then(|v| v["file_count"].as_u64());
        if !output.status.success() || file_count.is_none() {
            return Err(format!(
                "the import failed ({}): {stdout}{}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        remove(&data);
        println!(
            "  {tag:>8}  import {:>8.2} s  {:>9}{}  ({} files)",
            measured.wall.as_secs_f64(),
            kib(measured.peak_kib),
            measured.cpu_text(),
            file_count.unwrap_or(0)
        );
        if rep > 0 {
            row.import.push(measured.wall);
            row.import_rss.extend(measured.peak_kib);
        }
    }
    println!();
    Ok(row)
}

// ---------------------------------------------------------------------------------------
// The report

fn report(rows: &[Row], unzip: bool) {
    if rows.is_empty() {
        println!("No size was measured.");
        return;
    }
    println!("| size | files | zip | unzip median / min | import median / min | import ÷ unzip (median) | import peak RSS | unzip peak RSS | inspect peak RSS |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for row in rows {
        let ratio = ratio(row);
        println!(
            "| {} ({:.0} MB unpacked) | {} | {:.0} MB | {} | {} | {} | {} | {} | {} |",
            label(row.size),
            row.unpacked as f64 / MB as f64,
            row.files,
            row.zip_bytes as f64 / MB as f64,
            if unzip { times(&row.unzip) } else { "skipped".into() },
            times(&row.import),
            ratio.map(|r| format!("{r:.2}×")).unwrap_or_else(|| "–".into()),
            kib(row.import_rss.iter().copied().max()),
            kib(row.unzip_rss.iter().copied().max()),
            kib(row.inspect_rss),
        );
    }
    println!();
    println!("Goals (issue #3):");
    for row in rows {
        match ratio(row) {
            Some(r) => println!(
                "  {:>6}  wall time ≤ {GOAL_RATIO}× unzip: {} ({r:.2}×)",
                label(row.size),
                if r <= GOAL_RATIO { "MET" } else { "NOT MET" }
            ),
            None => println!("  {:>6}  wall time vs unzip: not measured (no unzip)", label(row.size)),
        }
    }
    let peaks: Vec<(u64, u64)> =
        rows.iter().filter_map(|r| r.import_rss.iter().copied().max().map(|p| (r.size, p))).collect();
    if let (Some(high), Some(low)) = (peaks.iter().map(|p| p.1).max(), peaks.iter().map(|p| p.1).min()) {
        println!(
            "  peak RSS ≤ 64 MiB: {} (highest {})",
            if high <= GOAL_RSS_KIB { "MET" } else { "NOT MET" },
            kib(Some(high))
        );
        // "Flat": the largest package needs at most 8 MiB more than the smallest.
        let spread = high - low;
        println!(
            "  peak RSS flat across sizes (spread ≤ 8 MiB): {} (spread {}, sizes {})",
            if spread <= 8 * 1024 { "MET" } else { "NOT MET" },
            kib(Some(spread)),
            peaks.iter().map(|(s, _)| label(*s)).collect::<Vec<_>>().join(", ")
        );
    } else {
        println!("  peak RSS: not measured");
    }
}

fn ratio(row: &Row) -> Option<f64> {
    Some(median(&row.import)?.as_secs_f64() / median(&row.unzip)?.as_secs_f64())
}

fn median(values: &[Duration]) -> Option<Duration> {
    let mut sorted = values.to_vec();
    sorted.sort();
    match sorted.len() {
        0 => None,
        n if n % 2 == 1 => Some(sorted[n / 2]),
        n => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2),
    }
}

fn times(values: &[Duration]) -> String {
    match (median(values), values.iter().min()) {
        (Some(median), Some(min)) => format!("{:.2} s / {:.2} s", median.as_secs_f64(), min.as_secs_f64()),
        _ => "–".into(),
    }
}

fn kib(value: Option<u64>) -> String {
    value.map(|k| format!("{:.1} MiB", k as f64 / 1024.0)).unwrap_or_else(|| "–".into())
}

// ---------------------------------------------------------------------------------------
// Running and measuring a command

struct Job {
    program: PathBuf,
    args: Vec<std::ffi::OsString>,
    envs: Vec<(String, String)>,
    cwd: PathBuf,
}

impl Job {
    fn new(program: &Path) -> Job {
        Job { program: program.to_path_buf(), args: Vec::new(), envs: Vec::new(), cwd: PathBuf::from(".") }
    }
    fn arg(mut self, arg: impl AsRef<std::ffi::OsStr>) -> Job {
        self.args.push(arg.as_ref().to_os_string());
        self
    }
    fn args<const N: usize>(mut self, args: [&str; N]) -> Job {
        self.args.extend(args.iter().map(Into::into));
        self
    }
    fn envs(mut self, envs: Vec<(String, String)>) -> Job {
        self.envs.extend(envs);
        self
    }
    fn cwd(mut self, cwd: &Path) -> Job {
        self.cwd = cwd.to_path_buf();
        self
    }
    /// The command, optionally behind a wrapper, with the caller's `CAIRN_*` settings removed
    /// so that only this job's settings apply (and no `cairn.toml` is picked up: the working
    /// folder is the bench's own).
    fn command_behind(&self, wrapper: &[std::ffi::OsString]) -> Command {
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
    fn command(&self) -> Command {
        self.command_behind(&[])
    }
}

struct Measured {
    wall: Duration,
    peak_kib: Option<u64>,
    /// User and system CPU seconds (GNU time only).
    cpu: Option<(f64, f64)>,
}

impl Measured {
    fn cpu_text(&self) -> String {
        self.cpu.map(|(user, sys)| format!("  cpu {user:.2} s user + {sys:.2} s sys")).unwrap_or_default()
    }
}

/// How peak RSS is read: GNU time's `%M` (the kernel's `ru_maxrss` of the child, exact), or
/// failing that `VmHWM` from `/proc/<pid>/status` polled every 2 ms (the last value seen).
enum RssProbe {
    GnuTime,
    Poll,
}

impl RssProbe {
    fn detect() -> RssProbe {
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

    fn describe(&self) -> &'static str {
        match self {
            RssProbe::GnuTime => "GNU time `%M` (max resident set of the process, from the kernel); CPU from `%U %S`",
            RssProbe::Poll => "VmHWM from /proc/<pid>/status, polled every 2 ms",
        }
    }

    /// Runs `job` to the end; the wall time spans spawn to exit.
    fn run(&self, job: &Job) -> io::Result<(Measured, Output)> {
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

fn read_vm_hwm(path: &str) -> Option<u64> {
    let text = std::fs::read_to_string(path).ok()?;
    let line = text.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn have_unzip() -> bool {
    Command::new("unzip").arg("-v").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
}

/// Flushes dirty pages left by the previous run, so it does not slow the next one down.
fn sync() {
    let _ = Command::new("sync").status();
}

fn remove(path: &Path) {
    if path.exists() {
        if let Err(e) = std::fs::remove_dir_all(path) {
            println!("  warning: could not remove {}: {e}", path.display());
        }
    }
}

fn check_space(dir: &Path, needed: u64) -> Result<(), String> {
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

fn machine_summary() -> String {
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

// ---------------------------------------------------------------------------------------
// The generated package

/// The number of files and the sum of their uncompressed sizes, from the central directory.
fn zip_contents(path: &Path) -> io::Result<(usize, u64)> {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(path)?).map_err(io::Error::other)?;
    let (mut files, mut bytes) = (0, 0);
    for index in 0..archive.len() {
        let entry = archive.by_index_raw(index).map_err(io::Error::other)?;
        if !entry.is_dir() {
            files += 1;
            bytes += entry.size();
        }
    }
    Ok((files, bytes))
}

const SCOS: usize = 5;

/// Writes a SCORM 1.2 package whose files add up to about `size` bytes: 30 % text (HTML,
/// JS, CSS; deflated), 40 % images (random bytes, deflated), 30 % video (random, stored).
fn generate(path: &Path, size: u64) -> io::Result<()> {
    let partial = path.with_extension("zip.partial");
    let mut rng = StdRng::seed_from_u64(SEED ^ size);
    let mut zip = ZipWriter::new(BufWriter::with_capacity(1 << 20, std::fs::File::create(&partial)?));
    let base = SimpleFileOptions::default().last_modified_time(DateTime::default()).unix_permissions(0o644);
    let deflated = base.compression_method(CompressionMethod::Deflated).compression_level(Some(6));
    let stored = base.compression_method(CompressionMethod::Stored);
    let dir_options = base.unix_permissions(0o755);
    let zip_err = io::Error::other;

    let text_budget = size * 3 / 10;
    let image_budget = size * 4 / 10;
    let video_budget = size - text_budget - image_budget;
    let text_files = (text_budget / 32_000).clamp(200, 3_000);
    let image_files = (image_budget / 200_000).clamp(40, 1_500);
    let video_files = video_budget.div_ceil(16 * MB).max(1);
    let (text_avg, image_avg, video_each) =
        (text_budget / text_files, image_budget / image_files, video_budget / video_files);

    zip.start_file("imsmanifest.xml", deflated).map_err(zip_err)?;
    zip.write_all(manifest().as_bytes())?;
    let mut folders = vec!["shared/".to_string(), "shared/js/".into(), "shared/css/".into(), "shared/video/".into()];
    for sco in 1..=SCOS {
        folders.extend([format!("sco_{sco}/"), format!("sco_{sco}/pages/"), format!("sco_{sco}/media/")]);
    }
    for folder in &folders {
        zip.add_directory(folder.as_str(), dir_options).map_err(zip_err)?;
    }
    for sco in 1..=SCOS {
        zip.start_file(format!("sco_{sco}/index.html"), deflated).map_err(zip_err)?;
        zip.write_all(&text(&mut rng, 4_000, Kind::Html))?;
    }
    let around = |rng: &mut StdRng, avg: u64| rng.gen_range(avg / 2..=avg + avg / 2).max(1) as usize;
    for i in 0..text_files {
        let (name, kind) = match i % 10 {
            0 | 1 => (format!("shared/js/module_{i:05}.js"), Kind::Js),
            2 => (format!("shared/css/style_{i:05}.css"), Kind::Css),
            _ => (format!("sco_{}/pages/page_{i:05}.html", 1 + i as usize % SCOS), Kind::Html),
        };
        zip.start_file(name, deflated).map_err(zip_err)?;
        let len = around(&mut rng, text_avg);
        zip.write_all(&text(&mut rng, len, kind))?;
    }
    for i in 0..image_files {
        let ext = if i % 3 == 0 { "png" } else { "jpg" };
        zip.start_file(format!("sco_{}/media/image_{i:05}.{ext}", 1 + i as usize % SCOS), deflated).map_err(zip_err)?;
        let len = around(&mut rng, image_avg);
        write_random(&mut zip, &mut rng, len)?;
    }
    for i in 0..video_files {
        zip.start_file(format!("shared/video/clip_{i:03}.mp4"), stored).map_err(zip_err)?;
        write_random(&mut zip, &mut rng, video_each as usize)?;
    }
    zip.finish().map_err(zip_err)?.flush()?;
    std::fs::rename(&partial, path)
}

fn write_random(out: &mut impl Write, rng: &mut StdRng, mut len: usize) -> io::Result<()> {
    let mut chunk = vec![0u8; 1 << 20];
    while len > 0 {
        let n = len.min(chunk.len());
        rng.fill_bytes(&mut chunk[..n]);
        out.write_all(&chunk[..n])?;
        len -= n;
    }
    Ok(())
}

fn manifest() -> String {
    let mut items = String::new();
    let mut resources = String::new();
    for sco in 1..=SCOS {
        items.push_str(&format!(
            "      <item identifier=\"item_{sco}\" identifierref=\"res_{sco}\"><title>Lesson {sco}</title></item>\n"
        ));
        resources.push_str(&format!(
            "    <resource identifier=\"res_{sco}\" type=\"webcontent\" adlcp:scormtype=\"sco\" href=\"sco_{sco}/index.html\">\n      <file href=\"sco_{sco}/index.html\"/>\n    </resource>\n"
        ));
    }
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="cairn-bench" version="1.0"
  xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2"
  xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2">
  <metadata><schema>ADL SCORM</schema><schemaversion>1.2</schemaversion></metadata>
  <organizations default="org">
    <organization identifier="org">
      <title>Import benchmark course</title>
{items}    </organization>
  </organizations>
  <resources>
{resources}  </resources>
</manifest>
"#
    )
}

#[derive(Clone, Copy)]
enum Kind {
    Html,
    Js,
    Css,
}

const WORDS: &[&str] = &[
    "learner",
    "course",
    "module",
    "lesson",
    "quiz",
    "answer",
    "question",
    "score",
    "progress",
    "complete",
    "safety",
    "procedure",
    "equipment",
    "training",
    "review",
    "section",
    "example",
    "practice",
    "policy",
    "the",
    "a",
    "of",
    "to",
    "and",
    "in",
    "is",
    "for",
    "with",
    "on",
    "that",
    "this",
    "be",
    "by",
    "are",
    "as",
    "when",
    "each",
    "before",
    "after",
    "always",
    "never",
    "check",
    "report",
    "team",
    "manager",
    "site",
    "hazard",
    "control",
    "record",
    "signal",
    "level",
    "value",
    "result",
    "status",
    "interaction",
    "response",
    "correct",
    "incorrect",
    "feedback",
    "slide",
    "layer",
    "timeline",
    "trigger",
    "variable",
    "state",
];

/// About `len` bytes of text shaped like what authoring tools export: markup or code
/// around sentences, so it deflates about 3–4:1 (never near the 200:1 bomb limit).
fn text(rng: &mut StdRng, len: usize, kind: Kind) -> Vec<u8> {
    let mut out = String::with_capacity(len + 256);
    match kind {
        Kind::Html => out.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Page</title><link rel=\"stylesheet\" href=\"../../shared/css/style.css\"></head>\n<body>\n"),
        Kind::Js => out.push_str("\"use strict\";\n(function (window) {\n"),
        Kind::Css => {}
    }
    let mut n = 0u32;
    while out.len() < len {
        n += 1;
        let sentence: Vec<&str> = (0..rng.gen_range(6..18)).map(|_| WORDS[rng.gen_range(0..WORDS.len())]).collect();
        let sentence = sentence.join(" ");
        let id: u32 = rng.gen();
        match kind {
            Kind::Html => out.push_str(&format!(
                "  <div class=\"slide-object text\" id=\"obj_{id:08x}\" data-acc-text=\"{sentence}\"><p>{sentence}.</p></div>\n"
            )),
            Kind::Js => out.push_str(&format!(
                "  window.cp_{n} = function (state) {{ if (state.{w} === {id}) {{ return \"{sentence}\"; }} return state.{w} + {m}; }};\n",
                w = WORDS[rng.gen_range(0..WORDS.len())],
                m = id % 997
            )),
            Kind::Css => out.push_str(&format!(
                ".obj_{id:08x} {{ position: absolute; left: {}px; top: {}px; width: {}px; color: #{:06x}; }} /* {sentence} */\n",
                id % 1280,
                id % 720,
                id % 400,
                id & 0xff_ffff
            )),
        }
    }
    match kind {
        Kind::Html => out.push_str("</body></html>\n"),
        Kind::Js => out.push_str("})(window);\n"),
        Kind::Css => {}
    }
    out.into_bytes()
}
