//! The SCORM run-time environment as pure rules: the API state machine and the data models
//! of SCORM 1.2 and SCORM 2004 4th Edition, shared by the server and (as test vectors) by the
//! browser implementation in `frontend/static/js/`.
//!
//! Three entry points:
//! * [`Session`] is one SCO session. [`Session::call`] answers the eight API calls by method
//!   name exactly as the browser must ("true"/"false", a value or "", with the error code
//!   GetLastError then returns). [`Session::dirty`] lists what the SCO set since the last
//!   commit, in order; [`Session::snapshot`] is everything the attempt holds.
//! * [`validate_commit`] is the server's check of a committed batch: the browser is never
//!   trusted, so each change is replayed with the same rules on top of the stored state and
//!   the first refusal names the element, the error code and the reason.
//! * [`finish`] says what the attempt looks like when a session ends (Finish / Terminate, or
//!   the server closing an abandoned session): status rules, total time, exit semantics.
//!
//! Where players disagree we follow the specification and the ADL conformance suites; the
//! choices are listed in `vectors/runtime.json` ("notes"), which both implementations run.
//!
//! Layout: [`state`] (state machine), [`datamodel`] (get/set), [`collections`] (index and
//! dependency rules), [`table`] with [`scorm12`] and [`scorm2004`] (element tables),
//! [`types`] and [`responses`] (value checks), [`time`] (timespans and durations),
//! [`status`] (status evaluation and the end of a session), [`commit`] (re-validation),
//! [`records`] (interactions and objectives read back for reports).

use std::collections::BTreeMap;

pub mod collections;
pub mod commit;
pub mod datamodel;
pub mod records;
pub mod responses;
pub mod scorm12;
pub mod scorm2004;
pub mod state;
pub mod status;
pub mod table;
pub mod time;
pub mod types;

pub use commit::{validate_commit, Refusal};
pub use state::{ApiState, Session};
pub use status::{finish, finish_measured};

/// Which run-time API and data model a SCO uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScormVersion {
    Scorm12,
    Scorm2004,
}

impl ScormVersion {
    /// The version of a stored attempt, from the label it was stored with: `"1.2"`, or
    /// 2004 for anything else (`"2004"`).
    pub fn from_label(label: &str) -> ScormVersion {
        if label == "1.2" {
            ScormVersion::Scorm12
        } else {
            ScormVersion::Scorm2004
        }
    }
}

/// The launch mode (`cmi.core.lesson_mode` / `cmi.mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    #[default]
    Normal,
    Browse,
    Review,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Normal => "normal",
            Mode::Browse => "browse",
            Mode::Review => "review",
        }
    }
}

/// `cmi.core.entry` / `cmi.entry`: first launch of an attempt, resumption of a suspended
/// one, or anything else ("").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Entry {
    #[default]
    AbInitio,
    Resume,
    Empty,
}

impl Entry {
    pub fn as_str(self) -> &'static str {
        match self {
            Entry::AbInitio => "ab-initio",
            Entry::Resume => "resume",
            Entry::Empty => "",
        }
    }
}

/// What the LMS provides at launch: the learner, the mode, values from the manifest and the
/// stored data of the attempt being continued.
#[derive(Debug, Clone, PartialEq)]
pub struct LaunchData {
    pub learner_id: String,
    /// "Last, First" by convention (scorm.md §6).
    pub learner_name: String,
    /// credit (true) or no-credit.
    pub credit: bool,
    pub mode: Mode,
    pub entry: Entry,
    /// Manifest `adlcp:datafromlms` / `adlcp:dataFromLMS`.
    pub launch_data: Option<String>,
    /// 1.2 `adlcp:masteryscore`, 0–100.
    pub mastery_score: Option<f64>,
    /// In the version's time format.
    pub max_time_allowed: Option<String>,
    pub time_limit_action: Option<String>,
    /// 2004 completion threshold and scaled passing score from the manifest.
    pub completion_threshold: Option<f64>,
    pub scaled_passing_score: Option<f64>,
    /// Objective ids the manifest declares: `cmi.objectives.n.id` is pre-populated with
    /// them (in this order, after those already in `suspended`).
    pub objective_ids: Vec<String>,
    /// Total time accumulated so far in this attempt, in the version's format.
    pub total_time: Option<String>,
    /// The stored data of the attempt being continued (element → value).
    pub suspended: BTreeMap<String, String>,
    /// 1.2 only: hold `cmi.suspend_data` to the spec's 4096 characters instead of 64 KiB.
    pub strict: bool,
    /// 2004 only: whether a `continue` / `previous` navigation request would lead to another
    /// item (`adl.nav.request_valid.continue` / `.previous`); `None` reads "unknown".
    pub request_valid_continue: Option<bool>,
    pub request_valid_previous: Option<bool>,
}

impl Default for LaunchData {
    fn default() -> Self {
        LaunchData {
            learner_id: "learner".to_owned(),
            learner_name: "Learner, A".to_owned(),
            credit: true,
            mode: Mode::Normal,
            entry: Entry::AbInitio,
            launch_data: None,
            mastery_score: None,
            max_time_allowed: None,
            time_limit_action: None,
            completion_threshold: None,
            scaled_passing_score: None,
            objective_ids: Vec::new(),
            total_time: None,
            suspended: BTreeMap::new(),
            strict: false,
            request_valid_continue: None,
            request_valid_previous: None,
        }
    }
}

/// Completion of an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completion {
    NotAttempted,
    Incomplete,
    Completed,
    Unknown,
    /// 1.2 only: the SCO was run in browse mode.
    Browsed,
}

impl Completion {
    pub fn as_str(self) -> &'static str {
        match self {
            Completion::NotAttempted => "not attempted",
            Completion::Incomplete => "incomplete",
            Completion::Completed => "completed",
            Completion::Unknown => "unknown",
            Completion::Browsed => "browsed",
        }
    }
}

/// Success of an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Success {
    Passed,
    Failed,
    Unknown,
}

impl Success {
    pub fn as_str(self) -> &'static str {
        match self {
            Success::Passed => "passed",
            Success::Failed => "failed",
            Success::Unknown => "unknown",
        }
    }
}

/// The attempt at the end of a session (see [`finish`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// 1.2: from the final lesson_status (passed / failed count as completed); 2004: the
    /// evaluated `cmi.completion_status`. Sequencing defaults (`completionSetByContent`) are
    /// the sequencer's business and not applied here.
    pub completion: Completion,
    pub success: Success,
    /// 1.2 only: the final `cmi.core.lesson_status` after the LMSFinish rules.
    pub lesson_status: Option<String>,
    /// 2004: `cmi.score.scaled`; 1.2: raw placed between min and max (0–100 by default).
    pub score_scaled: Option<f64>,
    pub score_raw: Option<f64>,
    pub total_time_seconds: f64,
    /// The new total time in the version's format.
    pub total_time: String,
    /// exit = suspend: the next launch resumes this attempt.
    pub suspended: bool,
    /// 2004: any exit other than suspend ends the attempt; the next launch starts a new one
    /// with a clean data model. 1.2 never says so (the LMS decides).
    pub new_attempt_next: bool,
    /// The entry value of the next launch.
    pub next_entry: Entry,
    /// The bookmark (`lesson_location` / `location`), when set.
    pub location: Option<String>,
}

/// The element patterns of a version's data model (`cmi.objectives.n.id`, …), for coverage
/// checks and documentation.
pub fn element_names(version: ScormVersion) -> Vec<&'static str> {
    version.model().elements.iter().map(|e| e.name).collect()
}
