//! The durability run: learners commit without pause while the server is killed with
//! SIGKILL at random moments; after every kill, and after the final stop, the database is
//! read directly (through `cairn_core`) and every commit that was answered 2xx must be there.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cairn_core::db::{Db, DbOptions};
use cairn_core::tracking;
use rand::Rng;

use crate::learner::{session_loop, Learner, Phase};
use crate::server::{say, Server};

#[derive(Default, Clone)]
pub struct Check {
    pub acknowledged: u64,
    pub verified: u64,
    pub lost: u64,
    pub attempts: usize,
}

pub struct DurabilityResult {
    pub kills: Vec<(Duration, Check, Duration)>,
    pub last: Check,
    pub errors: Vec<(String, u64)>,
}

/// Reads every attempt that got an acknowledged commit. A commit `n` is present when the
/// attempt's `last_seq` ≥ n and its stored `cmi.location` is `seq-m` with m ≥ n (the
/// state is at least as new as that commit).
async fn verify(url: &str, acks: &HashMap<String, Vec<i64>>) -> Result<Check, String> {
    let options = DbOptions { max_connections: 2, ..DbOptions::default() };
    let db = Db::connect(url, &options).await.map_err(|e| format!("open {url}: {e}"))?;
    let mut check = Check { attempts: acks.len(), ..Check::default() };
    for (attempt_id, seqs) in acks {
        let stored = tracking::find(&db, attempt_id).await.map_err(|e| e.to_string())?;
        let present = stored.map_or(-1, |a| {
            let state: serde_json::Value = serde_json::from_str(&a.state_json).unwrap_or_default();
            let location = state["cmi.location"].as_str().and_then(|l| l.strip_prefix("seq-")?.parse::<i64>().ok());
            a.last_seq.min(location.unwrap_or(-1))
        });
        for &seq in seqs {
            check.acknowledged += 1;
            if seq <= present {
                check.verified += 1;
            } else {
                check.lost += 1;
                say(format!("    LOST: attempt {attempt_id} seq {seq} (stored state is at {present})"));
            }
        }
    }
    db.close().await;
    Ok(check)
}

pub async fn run(
    server: &mut Server,
    learners: &[Arc<Learner>],
    slug: Arc<str>,
    kills: usize,
) -> Result<DurabilityResult, String> {
    let phase = Arc::new(Phase { acks: Some(Mutex::new(HashMap::new())), ..Phase::default() });
    let tasks: Vec<_> = learners
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let think = None;
            tokio::spawn(session_loop(l.clone(), slug.clone(), phase.clone(), think, Duration::ZERO, 7_000 + i as u64))
        })
        .collect();
    let url = server.store_url();
    let mut result = DurabilityResult { kills: Vec::new(), last: Check::default(), errors: Vec::new() };
    let mut rng = rand::thread_rng();
    for round in 1..=kills {
        let wait = Duration::from_millis(rng.gen_range(2_000..6_000));
        tokio::time::sleep(wait).await;
        server.kill9();
        let acks = phase.acks.as_ref().unwrap().lock().unwrap().clone();
        let check = verify(&url, &acks).await?;
        let down = Instant::now();
        server.start().await?;
        let restart = down.elapsed();
        say(format!(
            "  kill -9 #{round} after {:.1} s: {} acknowledged commits in {} attempts, {} verified, {} lost; \
             restarted in {:.2} s",
            wait.as_secs_f64(),
            check.acknowledged,
            check.attempts,
            check.verified,
            check.lost,
            restart.as_secs_f64()
        ));
        result.kills.push((wait, check, restart));
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    phase.stop.store(true, Ordering::Relaxed);
    for task in tasks {
        let _ = tokio::time::timeout(Duration::from_secs(70), task).await;
    }
    server.stop();
    let acks = phase.acks.as_ref().unwrap().lock().unwrap().clone();
    result.last = verify(&url, &acks).await?;
    say(format!(
        "  final stop: {} acknowledged commits in {} attempts, {} verified, {} lost",
        result.last.acknowledged, result.last.attempts, result.last.verified, result.last.lost
    ));
    result.errors = phase.errors.lock().unwrap().iter().map(|(k, v)| (k.clone(), *v)).collect();
    let kinds: Vec<String> = result.errors.iter().map(|(k, v)| format!("{v}× {k}")).collect();
    say(format!("  failed requests during the run: {}", kinds.join(", ")));
    Ok(result)
}
