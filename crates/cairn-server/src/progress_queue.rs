//! Course-progress refreshes after commits, run in the background and coalesced.
//!
//! A commit that changes an attempt's status or score is acknowledged as soon as it is
//! stored; the learner's course progress (on the enrolment row) is recomputed here a moment
//! later. Refreshes asked for the same learner and course while one is waiting run once.
//! Nothing is lost if the process dies first: the commit left `progress_pending` on the
//! attempt, the start-up sweep queues those again, and readers of stored progress (roster,
//! report, dashboard) run any still pending before they read (`progress::settle_*`).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cairn_core::db::Db;
use tokio::sync::Notify;

/// How long a refresh waits for others of the same learner to join it. A SCO session sends
/// several status changes within seconds (incomplete, then completed, then a score), and a
/// learner moving through short SCOs several sessions; one refresh after them does the work
/// of all. Readers of stored progress never wait for it (they settle pending refreshes).
const COALESCE: Duration = Duration::from_secs(1);

#[derive(Default)]
struct Pending {
    keys: Mutex<HashSet<(String, String)>>,
    wake: Notify,
}

/// Handle to the refresh task.
pub struct ProgressQueue {
    pending: Arc<Pending>,
}

impl ProgressQueue {
    /// Starts the task on the current Tokio runtime.
    pub fn start(db: Db) -> ProgressQueue {
        let pending = Arc::new(Pending::default());
        tokio::spawn(run(db, pending.clone()));
        ProgressQueue { pending }
    }

    /// Asks for a refresh of `user_id`'s progress in `course_id`.
    pub fn enqueue(&self, course_id: &str, user_id: &str) {
        let fresh =
            self.pending.keys.lock().expect("progress queue lock").insert((course_id.to_string(), user_id.to_string()));
        if fresh {
            self.pending.wake.notify_one();
        }
    }

    /// Queues every refresh a previous run left pending (a crash between a commit and its
    /// refresh).
    pub async fn resume_pending(&self, db: &Db) -> Result<usize, cairn_core::progress::ProgressError> {
        let pending = cairn_core::progress::pending(db).await?;
        for (course_id, user_id) in &pending {
            self.enqueue(course_id, user_id);
        }
        Ok(pending.len())
    }
}

async fn run(db: Db, pending: Arc<Pending>) {
    loop {
        pending.wake.notified().await;
        tokio::time::sleep(COALESCE).await;
        let keys: Vec<(String, String)> = pending.keys.lock().expect("progress queue lock").drain().collect();
        for (course_id, user_id) in keys {
            if let Err(e) = cairn_core::progress::refresh(&db, &course_id, &user_id).await {
                // The attempt keeps its pending mark: the next reader or start-up finishes it.
                tracing::warn!(course = %course_id, user = %user_id, error = %e, "course progress not refreshed after a commit");
            }
        }
    }
}
