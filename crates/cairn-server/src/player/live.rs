//! The commit path: attempts kept in memory while a SCO session runs, so that a commit is
//! validated without reading the database, then stored by the group-commit writer
//! (`cairn_core::tracking::CommitWriter`).
//!
//! Memory is a cache, never the truth. Every write is conditional on the attempt's
//! revision as this node last saw it; when anyone else wrote since (another node, a launch,
//! a reset, the no-API rule), the write changes nothing, the attempt is read again and the
//! commit is validated anew against what is really stored.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use cairn_core::tracking::{self, Attempt, CommitWrite};
use cairn_scorm::runtime::{self, Entry, LaunchData, ScormVersion};

use super::{json, launch_data, parse_state, summary, unfinished_summary, Caller, Committed};
use crate::app::AppState;
use crate::web::errors::HttpError;

/// One attempt as this node last stored or read it.
pub struct Live {
    /// The attempt's columns; `state_json` is left empty, the data lives in `state`.
    attempt: Attempt,
    state: BTreeMap<String, String>,
    /// The SCO's launch data without its stored data (`suspended` is empty); the entry is
    /// set per commit.
    launch: LaunchData,
}

/// Attempts whose session is running on this node, by id.
#[derive(Default)]
pub struct LiveAttempts {
    slots: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Option<Live>>>>>,
}

/// Attempts kept at most. A session's attempt leaves when it terminates; when the map is
/// full, attempts no request is using are dropped (they are read again on their next
/// commit). A full data model is bounded (64 KB of suspend data, bounded collections).
const MAX_LIVE: usize = 20_000;

impl LiveAttempts {
    fn slot(&self, attempt_id: &str) -> Arc<tokio::sync::Mutex<Option<Live>>> {
        let mut slots = self.slots.lock().expect("live attempts lock");
        if slots.len() >= MAX_LIVE && !slots.contains_key(attempt_id) {
            slots.retain(|_, slot| Arc::strong_count(slot) > 1);
        }
        slots.entry(attempt_id.to_string()).or_default().clone()
    }

    /// Drops what this node holds of an attempt (after writing it some other way).
    pub fn forget(&self, attempt_id: &str) {
        self.slots.lock().expect("live attempts lock").remove(attempt_id);
    }

    /// Keeps an attempt a launch has just opened, so that its first commit needs no read.
    pub fn remember(&self, attempt: &Attempt, launch: &LaunchData) -> Result<(), HttpError> {
        let state = parse_state(&attempt.state_json)?;
        let live = Live {
            attempt: Attempt { state_json: String::new(), ..attempt.clone() },
            state,
            launch: LaunchData { suspended: BTreeMap::new(), ..launch.clone() },
        };
        let slot = Arc::new(tokio::sync::Mutex::new(Some(live)));
        self.slots.lock().expect("live attempts lock").insert(attempt.id.clone(), slot);
        Ok(())
    }

    /// How many attempts are held (for tests and diagnostics).
    pub fn len(&self) -> usize {
        self.slots.lock().expect("live attempts lock").len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Reads an attempt and the launch data its commits are validated with.
async fn load(state: &AppState, attempt_id: &str) -> Result<Option<Live>, HttpError> {
    let Some(found) = tracking::find_with_learner(&state.db, attempt_id).await? else {
        return Ok(None);
    };
    let tracking::AttemptWithLearner { attempt, learner_name } = found;
    let data = parse_state(&attempt.state_json)?;
    let launch =
        launch_data(state, (&attempt.user_id, &learner_name), &attempt, Entry::AbInitio, BTreeMap::new()).await?;
    Ok(Some(Live { attempt: Attempt { state_json: String::new(), ..attempt }, state: data, launch }))
}

/// Writes beaten by another writer in a row before the commit is answered 503 (the player
/// retries it). Each lost race means someone else really wrote the attempt in between.
const MAX_RACES: usize = 3;

/// Validates and stores one commit of an attempt. The batch is replayed, in the order the
/// SCO set its values, through the same rules as the browser's; a refused batch changes
/// nothing. The answer comes after the database committed the write.
pub async fn commit(
    state: &AppState,
    caller: Caller<'_>,
    attempt_id: &str,
    seq: i64,
    changes: Vec<(String, String)>,
    terminate: bool,
) -> Result<Committed, HttpError> {
    let slot = state.live.slot(attempt_id);
    // Commits of one attempt are serialised here, so each is validated against the one
    // before it; commits of different attempts go on in parallel and share writes.
    let mut held = slot.lock().await;
    for _ in 0..MAX_RACES {
        // Whether the attempt was read from the database for this commit, or is what this
        // node held already (possibly behind a write made elsewhere).
        let fresh = held.is_none();
        if fresh {
            *held = load(state, attempt_id).await?;
        }
        let allowed = held.as_ref().is_some_and(|live| match &caller {
            Caller::Learner(actor) => live.attempt.user_id == actor.user.id,
            Caller::LaunchToken(token) => live.attempt.launch_token_matches(token),
        });
        if !allowed {
            // Nothing is kept for a caller who may not write here (or for an id that does
            // not exist), so that requests with made-up ids cannot fill the memory.
            drop(held);
            state.live.forget(attempt_id);
            return Err(HttpError::not_found("no such attempt"));
        }
        let Some(live) = held.as_mut() else {
            return Err(HttpError::not_found("no such attempt"));
        };
        if live.attempt.voided_at.is_some() {
            return Err(HttpError::new(
                poem::http::StatusCode::GONE,
                "attempt_reset",
                "this attempt was reset by an instructor; reload the course to start again",
            ));
        }
        if seq <= live.attempt.last_seq {
            return Ok(Committed::AlreadyApplied { last_seq: live.attempt.last_seq });
        }
        let attempt = &live.attempt;
        let version = ScormVersion::from_label(&attempt.scorm_version);
        live.launch.entry = if attempt.last_seq == 0 { Entry::AbInitio } else { Entry::Resume };
        let next = match runtime::validate_commit(version, &live.launch, &live.state, &changes) {
            Ok(next) => next,
            // A refusal must come from what is stored: an interaction index, say, is in
            // order after a commit another node stored. Refusals are rare; read again.
            Err(_) if !fresh => {
                *held = None;
                continue;
            }
            Err(refusal) => return Ok(Committed::Refused(refusal)),
        };
        let summary = if terminate {
            // Session time the SCO did not report is measured from the launch.
            let measured = attempt.session_started_at.map(|at| (cairn_core::db::now() - at).as_seconds_f64().max(0.0));
            summary(&runtime::finish_measured(version, &live.launch, &next, measured), None)
        } else {
            unfinished_summary(version, &runtime::finish(version, &live.launch, &next), &next, attempt, true)
        };
        // Only a change of status or score moves course progress; the time spent is picked
        // up by the next refresh (every course and lesson page refreshes).
        let moved = summary.completion != attempt.completion
            || summary.success != attempt.success
            || summary.score_scaled != attempt.score_scaled
            || summary.score_raw != attempt.score_raw;
        let write = CommitWrite {
            attempt_id: attempt.id.clone(),
            expected_revision: attempt.revision,
            seq,
            state_json: json(&next)?,
            summary: summary.clone(),
            terminate,
            progress_pending: moved,
        };
        if !state.commits.write(write).await? {
            // Someone else wrote the attempt since this node read it: read it again.
            *held = None;
            continue;
        }
        let progress_moved = moved.then(|| (attempt.course_id.clone(), attempt.user_id.clone()));
        apply(live, next, summary, seq, terminate, moved);
        if terminate {
            // The session is over; the next launch reads the attempt afresh.
            drop(held);
            state.live.forget(attempt_id);
        }
        return Ok(Committed::Applied { seq, progress_moved });
    }
    Err(HttpError::new(
        poem::http::StatusCode::SERVICE_UNAVAILABLE,
        "attempt_busy",
        "this attempt is being written from elsewhere at the same moment; send the commit again",
    ))
}

/// Brings the memory copy to what the database now holds after a write of this node.
fn apply(
    live: &mut Live,
    next: BTreeMap<String, String>,
    s: tracking::Summary,
    seq: i64,
    terminate: bool,
    moved: bool,
) {
    let a = &mut live.attempt;
    a.completion = s.completion;
    a.success = s.success;
    a.score_scaled = s.score_scaled;
    a.score_raw = s.score_raw;
    a.total_time_seconds = s.total_time_seconds;
    a.total_time = s.total_time;
    a.location = s.location;
    a.suspended = s.suspended;
    a.last_seq = seq;
    a.revision += 1;
    a.progress_pending |= moved;
    if terminate {
        a.session_open = false;
        a.finished_at = Some(cairn_core::db::now());
    }
    live.state = next;
}
