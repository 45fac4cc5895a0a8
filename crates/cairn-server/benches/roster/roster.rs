//! The roster request mix (sorts × filters × pages over several courses) and a small
//! closed-loop driver that runs it at a fixed concurrency and keeps every latency.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cairn_core::enrolments::roster::{self, RosterQuery, RosterSort};
use cairn_core::Db;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::SeedableRng;

/// Rows per page, as the roster page shows them.
pub const PAGE: i64 = 50;

/// The roster page of the lead's `pages::people`; `{course}` is the course slug.
pub const ROSTER_PAGE: &str = "/courses/{course}/roster";
/// The JSON roster of the API; `{course}` is the course id.
pub const ROSTER_API: &str = "/api/v1/courses/{course}/enrolments";

/// How a request narrows the roster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Filter {
    None,
    Completed,
    Cohort(String),
}

impl Filter {
    pub fn label(&self) -> &'static str {
        match self {
            Filter::None => "all active",
            Filter::Completed => "status=completed",
            Filter::Cohort(_) => "one cohort",
        }
    }
}

/// One request of the mix.
#[derive(Clone, Debug)]
pub struct Case {
    pub course_id: String,
    pub slug: String,
    pub sort: RosterSort,
    pub descending: bool,
    pub filter: Filter,
    pub offset: i64,
    /// `first`, `middle` or `last` page.
    pub page: &'static str,
}

impl Case {
    pub fn query(&self) -> RosterQuery {
        RosterQuery {
            course_id: self.course_id.clone(),
            cohort_id: match &self.filter {
                Filter::Cohort(id) => Some(id.clone()),
                _ => None,
            },
            status: (self.filter == Filter::Completed).then(|| "completed".to_string()),
            search: None,
            sort: self.sort,
            descending: self.descending,
            offset: self.offset,
            limit: PAGE,
        }
    }

    /// The query string both the page and the API take (`order` is `asc` or `desc`). Empty
    /// filters are left out: the API refuses an empty `status`.
    pub fn params(&self) -> String {
        let filter = match &self.filter {
            Filter::None => String::new(),
            Filter::Completed => "&status=completed".to_string(),
            Filter::Cohort(id) => format!("&cohort={id}"),
        };
        format!(
            "sort={}&order={}{filter}&offset={}&limit={PAGE}",
            self.sort.key(),
            if self.descending { "desc" } else { "asc" },
            self.offset
        )
    }
}

/// The courses the mix visits, with the cohort each one is filtered by.
pub struct Target {
    pub course_id: String,
    pub slug: String,
    pub cohort_id: String,
}

/// The sorts of the mix: by name (the default), by progress and by last access, the last two
/// descending as people read them (most advanced, most recent first).
const SORTS: [(RosterSort, bool); 3] =
    [(RosterSort::Name, false), (RosterSort::Progress, true), (RosterSort::LastAccess, true)];

/// Builds `count` requests: every sort with every filter, on the first, a middle and the
/// last page of each (filtered lists are short, so they have a first and a last page only),
/// spread over the target courses, in a fixed shuffled order. The totals come from the
/// library so that the last page is the real last page.
pub async fn mix(db: &Db, targets: &[Target], count: usize, seed: u64) -> Result<Vec<Case>, String> {
    let mut all = Vec::new();
    for t in targets {
        for filter in [Filter::None, Filter::Completed, Filter::Cohort(t.cohort_id.clone())] {
            let probe = Case {
                course_id: t.course_id.clone(),
                slug: t.slug.clone(),
                sort: RosterSort::Name,
                descending: false,
                filter: filter.clone(),
                offset: 0,
                page: "first",
            };
            let total = roster::roster(db, &probe.query()).await.map_err(|e| format!("roster total: {e}"))?.total;
            let last = ((total - 1).max(0) / PAGE) * PAGE;
            let mut pages = vec![(0, "first"), (last, "last")];
            if filter == Filter::None {
                pages.insert(1, ((total / 2) / PAGE * PAGE, "middle"));
            }
            for (sort, descending) in SORTS {
                for &(offset, page) in &pages {
                    all.push(Case { sort, descending, offset, page, ..probe.clone() });
                }
            }
        }
    }
    let mut rng = StdRng::seed_from_u64(seed);
    let mut cases = Vec::with_capacity(count);
    while cases.len() < count {
        all.shuffle(&mut rng);
        cases.extend(all.iter().take(count - cases.len()).cloned());
    }
    Ok(cases)
}

/// One answered request: which case, how long, and how many bytes or rows came back.
pub struct Sample {
    pub case: usize,
    pub micros: u64,
    pub size: usize,
}

pub struct Run {
    pub samples: Vec<Sample>,
    pub errors: Vec<String>,
    pub wall: Duration,
}

/// Runs every case once, `concurrency` at a time in a closed loop (each worker sends its
/// next request when the previous one is answered).
pub async fn drive<F, Fut>(cases: &Arc<Vec<Case>>, concurrency: usize, call: F) -> Run
where
    F: Fn(Case) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<usize, String>> + Send,
{
    let call = Arc::new(call);
    let next = Arc::new(AtomicUsize::new(0));
    let samples = Arc::new(Mutex::new(Vec::with_capacity(cases.len())));
    let errors = Arc::new(Mutex::new(Vec::new()));
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency.max(1))
        .map(|_| {
            let (call, next, cases) = (call.clone(), next.clone(), cases.clone());
            let (samples, errors) = (samples.clone(), errors.clone());
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(case) = cases.get(i) else { break };
                    let t = Instant::now();
                    let result = call(case.clone()).await;
                    let micros = u64::try_from(t.elapsed().as_micros()).unwrap_or(u64::MAX);
                    match result {
                        Ok(size) => samples.lock().unwrap().push(Sample { case: i, micros, size }),
                        Err(e) => errors.lock().unwrap().push(e),
                    }
                }
            })
        })
        .collect();
    for w in workers {
        let _ = w.await;
    }
    let wall = started.elapsed();
    let samples = std::mem::take(&mut *samples.lock().unwrap());
    let errors = std::mem::take(&mut *errors.lock().unwrap());
    Run { samples, errors, wall }
}

/// Latency figures in milliseconds.
#[derive(Clone, Copy, Default)]
pub struct Stats {
    pub count: usize,
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
    pub mean: f64,
}

pub fn stats(micros: impl Iterator<Item = u64>) -> Stats {
    let mut v: Vec<u64> = micros.collect();
    if v.is_empty() {
        return Stats::default();
    }
    v.sort_unstable();
    let at = |q: f64| {
        let rank = (q * v.len() as f64).ceil() as usize;
        v[rank.clamp(1, v.len()) - 1] as f64 / 1000.0
    };
    let mean = v.iter().sum::<u64>() as f64 / v.len() as f64 / 1000.0;
    Stats { count: v.len(), p50: at(0.50), p99: at(0.99), max: at(1.0), mean }
}

impl Run {
    pub fn overall(&self) -> Stats {
        stats(self.samples.iter().map(|s| s.micros))
    }

    /// Figures for the requests whose case matches `keep`, to find which kind is slow.
    pub fn by(&self, cases: &[Case], keep: impl Fn(&Case) -> bool) -> Stats {
        stats(self.samples.iter().filter(|s| keep(&cases[s.case])).map(|s| s.micros))
    }
}
