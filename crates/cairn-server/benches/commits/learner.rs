//! One simulated learner: a browser-like HTTP client (own cookie jar and connection) that
//! signs in through the form, opens the player and commits like `scorm-player.js`.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::cookie::{CookieStore, Jar};
use serde_json::{json, Map, Value};

use crate::server::PASSWORD;

pub struct Learner {
    pub email: String,
    http: reqwest::Client,
    jar: Arc<Jar>,
    base: String,
}

/// Why a request did not succeed.
pub enum Failure {
    SignedOut,
    Transport(String),
    Status(u16),
}

impl Failure {
    pub fn kind(&self) -> String {
        match self {
            Failure::SignedOut => "signed out (401 / redirect to login)".into(),
            Failure::Status(s) => format!("HTTP {s}"),
            Failure::Transport(e) => format!("transport: {e}"),
        }
    }
}

fn transport(e: reqwest::Error) -> Failure {
    let kind = if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connect"
    } else if e.is_body() || e.is_decode() {
        "body"
    } else {
        "request"
    };
    Failure::Transport(kind.into())
}

/// The launch configuration the player page hands to `scorm-player.js`, plus where this
/// learner is in its session script.
pub struct Launch {
    pub attempt_id: String,
    commit_url: String,
    /// Sent as `X-Cairn-Launch`, as the real player does.
    launch_token: String,
    pub seq: i64,
    interactions: usize,
    step: usize,
}

impl Learner {
    pub fn new(base: &str, email: String) -> Learner {
        let jar = Arc::new(Jar::default());
        let http = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        Learner { email, http, jar, base: base.to_string() }
    }

    fn cookie(&self, name: &str) -> Option<String> {
        let header = self.jar.cookies(&self.base.parse().unwrap())?;
        let text = header.to_str().ok()?;
        text.split("; ").find_map(|pair| pair.strip_prefix(name)?.strip_prefix('=').map(str::to_string))
    }

    /// GET /login (for the CSRF cookie), then POST the form: 303 with a session cookie.
    pub async fn login(&self) -> Result<(), Failure> {
        let r = self.http.get(format!("{}/login", self.base)).send().await.map_err(transport)?;
        let _ = r.bytes().await;
        let csrf = self.cookie("cairn_csrf").ok_or(Failure::Status(0))?;
        let form = [("email", self.email.as_str()), ("password", PASSWORD), ("csrf_token", csrf.as_str())];
        let r = self.http.post(format!("{}/login", self.base)).form(&form).send().await.map_err(transport)?;
        let status = r.status().as_u16();
        let _ = r.bytes().await;
        if status == 303 && self.cookie("cairn_session").is_some() {
            Ok(())
        } else {
            Err(Failure::Status(status))
        }
    }

    /// Opens the player (Initialize): the attempt, its commit address and last sequence number.
    pub async fn launch(&self, slug: &str) -> Result<Launch, Failure> {
        let r = self.http.get(format!("{}/courses/{slug}/play", self.base)).send().await.map_err(transport)?;
        match r.status().as_u16() {
            200 => {}
            303 | 401 => return Err(Failure::SignedOut),
            s => return Err(Failure::Status(s)),
        }
        let html = r.text().await.map_err(transport)?;
        let config: Value = html
            .split("<script type=\"application/json\" id=\"cairn-launch\">")
            .nth(1)
            .and_then(|s| s.split("</script>").next())
            .and_then(|s| serde_json::from_str(s).ok())
            .ok_or(Failure::Status(1))?;
        let suspended = config["launch"]["suspended"].as_object();
        let interactions = suspended
            .map_or(0, |m| m.keys().filter(|k| k.starts_with("cmi.interactions.") && k.ends_with(".id")).count());
        Ok(Launch {
            attempt_id: config["attempt_id"].as_str().unwrap_or_default().to_string(),
            commit_url: config["commit_url"].as_str().unwrap_or_default().to_string(),
            launch_token: config["launch_token"].as_str().unwrap_or_default().to_string(),
            seq: config["seq"].as_i64().unwrap_or(0),
            interactions,
            step: 0,
        })
    }

    pub async fn commit(
        &self,
        launch: &Launch,
        seq: i64,
        elements: Map<String, Value>,
        end: bool,
    ) -> Result<(), Failure> {
        let csrf = self.cookie("cairn_csrf").unwrap_or_default();
        let body = json!({ "attempt_id": launch.attempt_id, "seq": seq, "elements": elements, "terminate": end });
        let r = self
            .http
            .post(format!("{}{}", self.base, launch.commit_url))
            .header("x-csrf-token", csrf)
            .header("x-cairn-launch", &launch.launch_token)
            .json(&body)
            .send()
            .await
            .map_err(transport)?;
        let status = r.status().as_u16();
        let ack: Value = r.json().await.unwrap_or(Value::Null);
        match status {
            200 if ack["status"] == "applied" && ack["last_seq"] == seq => Ok(()),
            200 => Err(Failure::Status(2001)), // acknowledged but not as this commit: would be a bug
            401 => Err(Failure::SignedOut),
            s => Err(Failure::Status(s)),
        }
    }

    pub async fn healthz(&self) -> Result<(), Failure> {
        let r = self.http.get(format!("{}/healthz", self.base)).send().await.map_err(transport)?;
        let status = r.status().as_u16();
        let _ = r.bytes().await;
        if status == 200 {
            Ok(())
        } else {
            Err(Failure::Status(status))
        }
    }

    /// An admin creating this learner through the API (cookie session + CSRF header).
    pub async fn create_learner(&self, email: &str) -> Result<(), Failure> {
        let csrf = self.cookie("cairn_csrf").unwrap_or_default();
        let body = json!({ "email": email, "name": email, "role": "learner", "password": PASSWORD, "institute": crate::server::ORG });
        let r = self
            .http
            .post(format!("{}/api/v1/users", self.base))
            .header("x-csrf-token", csrf)
            .json(&body)
            .send()
            .await
            .map_err(transport)?;
        let status = r.status().as_u16();
        let _ = r.bytes().await;
        if status == 201 || status == 200 {
            Ok(())
        } else {
            Err(Failure::Status(status))
        }
    }
}

/// A few hundred characters of suspend data, as authoring tools write it.
fn suspend_data(seq: i64) -> String {
    let pages: String = (0..60).map(|i| if (i as i64) < seq * 3 { '1' } else { '0' }).collect();
    format!("v=3|seq={seq}|pages={pages}|answers={}|bookmark=slide-{seq}", "a1b2c3d4e5".repeat(20))
}

/// Commits per session (`CAIRN_BENCH_SESSION_COMMITS`, at least 5, default 8): by default a
/// SCO session of about 80 s with the player committing every 10 s. Long sessions (say
/// 100) measure the commit path with launches out of the way.
pub fn commits_per_session() -> usize {
    static N: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *N.get_or_init(|| {
        std::env::var("CAIRN_BENCH_SESSION_COMMITS").ok().and_then(|v| v.trim().parse().ok()).unwrap_or(8).max(5)
    })
}

/// The SetValues of the next commit of a session (26 over the default eight commits); the
/// last terminates. As authoring tools do on every slide, each commit sets `cmi.location` (to
/// `seq-<n>`, which the durability run checks) and `cmi.suspend_data`; the first one also
/// marks the SCO incomplete, the fourth answers a true-false question, and the last sets
/// score, status, session time and exit.
fn script(launch: &mut Launch, seq: i64, rng: &mut StdRng) -> (Map<String, Value>, bool) {
    let mut m = Map::new();
    let mut set = |k: &str, v: String| {
        m.insert(k.to_string(), Value::String(v));
    };
    set("cmi.location", format!("seq-{seq}"));
    set("cmi.suspend_data", suspend_data(seq));
    let last = commits_per_session() - 1;
    let terminate = launch.step >= last;
    match launch.step {
        0 => set("cmi.completion_status", "incomplete".into()),
        3 => {
            let n = launch.interactions;
            launch.interactions += 1;
            set(&format!("cmi.interactions.{n}.id"), format!("q-{n}"));
            set(&format!("cmi.interactions.{n}.type"), "true-false".into());
            set(&format!("cmi.interactions.{n}.learner_response"), "true".into());
            set(
                &format!("cmi.interactions.{n}.result"),
                if rng.gen_bool(0.7) { "correct" } else { "incorrect" }.into(),
            );
        }
        step if step >= last => {
            // One session in three finishes the SCO (the next launch starts a new attempt);
            // the others suspend and resume the same attempt.
            let done = rng.gen_bool(1.0 / 3.0) || launch.interactions > 100;
            set("cmi.score.scaled", "0.8".into());
            set("cmi.score.raw", "80".into());
            set("cmi.completion_status", if done { "completed" } else { "incomplete" }.into());
            set("cmi.session_time", format!("PT{}S", rng.gen_range(60..100)));
            set("cmi.exit", if done { "normal" } else { "suspend" }.into());
        }
        _ => {}
    }
    launch.step += 1;
    (m, terminate)
}

// ---------------------------------------------------------------------------------------
// Phases: what every learner task reports into

#[derive(Default)]
pub struct Phase {
    pub recording: AtomicBool,
    pub stop: AtomicBool,
    /// Latencies of answered requests, in µs, while `recording`: commits (or /healthz).
    pub samples: Mutex<Vec<u32>>,
    pub launches: Mutex<Vec<u32>>,
    pub errors: Mutex<BTreeMap<String, u64>>,
    /// Durability run: every acknowledged commit, by attempt.
    pub acks: Option<Mutex<HashMap<String, Vec<i64>>>>,
}

impl Phase {
    fn sample(&self, into: &Mutex<Vec<u32>>, started: Instant) {
        if self.recording.load(Ordering::Relaxed) {
            into.lock().unwrap().push(started.elapsed().as_micros().min(u32::MAX as u128) as u32);
        }
    }

    fn error(&self, what: &str, failure: &Failure) {
        if self.recording.load(Ordering::Relaxed) || self.acks.is_some() {
            *self.errors.lock().unwrap().entry(format!("{what}: {}", failure.kind())).or_default() += 1;
        }
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}

async fn pause(phase: &Phase, time: Duration) {
    let until = Instant::now() + time;
    while !phase.stopped() && Instant::now() < until {
        tokio::time::sleep((until - Instant::now()).min(Duration::from_millis(250))).await;
    }
}

/// Closed loop on `/healthz`: the ceiling of this server, client and connection count.
pub async fn healthz_loop(learner: Arc<Learner>, phase: Arc<Phase>) {
    while !phase.stopped() {
        let t = Instant::now();
        match learner.healthz().await {
            Ok(()) => phase.sample(&phase.samples, t),
            Err(f) => phase.error("healthz", &f),
        }
    }
}

/// Sessions back to back: launch, [`commits_per_session`] commits (the last terminates),
/// launch again. With
/// `think`, the learner waits that long after the launch and after every commit (paced);
/// without, it sends the next request at once (closed loop). `start` delays the first launch.
pub async fn session_loop(
    learner: Arc<Learner>,
    slug: Arc<str>,
    phase: Arc<Phase>,
    think: Option<Duration>,
    start: Duration,
    seed: u64,
) {
    let mut rng = StdRng::seed_from_u64(seed);
    pause(&phase, start).await;
    let mut current: Option<Launch> = None;
    while !phase.stopped() {
        let Some(launch) = current.as_mut() else {
            let t = Instant::now();
            match learner.launch(&slug).await {
                Ok(l) => {
                    phase.sample(&phase.launches, t);
                    current = Some(l);
                    if let Some(think) = think {
                        pause(&phase, think).await;
                    }
                }
                Err(f) => {
                    phase.error("launch", &f);
                    if matches!(f, Failure::SignedOut) {
                        if let Err(f) = learner.login().await {
                            phase.error("login", &f);
                        }
                    }
                    // The server may be down (durability run): do not spin.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
            continue;
        };
        let seq = launch.seq + 1;
        let (elements, terminate) = script(launch, seq, &mut rng);
        let t = Instant::now();
        match learner.commit(launch, seq, elements, terminate).await {
            Ok(()) => {
                phase.sample(&phase.samples, t);
                if let Some(acks) = &phase.acks {
                    acks.lock().unwrap().entry(launch.attempt_id.clone()).or_default().push(seq);
                }
                launch.seq = seq;
                if terminate {
                    current = None;
                } else if let Some(think) = think {
                    pause(&phase, think).await;
                }
            }
            Err(f) => {
                // As the player would after a reload: read the attempt's state again.
                phase.error("commit", &f);
                current = None;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}
