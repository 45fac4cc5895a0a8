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

mod generate;
mod measure;

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use std::time::{Duration, Instant};

use generate::*;
use measure::*;

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
