//! The API state machine of one SCO session (Not Initialized → Running → Terminated) and the
//! eight API calls of each version, answered exactly as the browser runtime must answer them
//! (scorm.md §2.1–§2.3).

use std::collections::{BTreeMap, BTreeSet};

use super::datamodel::DataModel;
use super::status::{finish, finish_measured};
use super::{LaunchData, Outcome, ScormVersion};

/// Where a session is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiState {
    NotInitialized,
    Running,
    Terminated,
}

/// The calls of both APIs, by what they do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Call {
    Initialize,
    Terminate,
    GetValue,
    SetValue,
    Commit,
    GetLastError,
    GetErrorString,
    GetDiagnostic,
}

impl Call {
    fn parse(version: ScormVersion, method: &str) -> Option<Call> {
        let name = match version {
            ScormVersion::Scorm12 => method.strip_prefix("LMS")?,
            ScormVersion::Scorm2004 => method,
        };
        Some(match (version, name) {
            (ScormVersion::Scorm12, "Initialize") | (ScormVersion::Scorm2004, "Initialize") => Call::Initialize,
            (ScormVersion::Scorm12, "Finish") | (ScormVersion::Scorm2004, "Terminate") => Call::Terminate,
            (_, "GetValue") => Call::GetValue,
            (_, "SetValue") => Call::SetValue,
            (_, "Commit") => Call::Commit,
            (_, "GetLastError") => Call::GetLastError,
            (_, "GetErrorString") => Call::GetErrorString,
            (_, "GetDiagnostic") => Call::GetDiagnostic,
            _ => return None,
        })
    }
}

/// One SCO session: the state machine plus the data model.
#[derive(Debug, Clone)]
pub struct Session {
    version: ScormVersion,
    launch: LaunchData,
    model: DataModel,
    state: ApiState,
    last_error: u16,
    last_reason: String,
    /// Elements set since the last commit, in the order they were first set, so that a
    /// replay on the server meets ids before the fields that depend on them.
    dirty: Vec<String>,
    dirty_set: BTreeSet<String>,
}

/// Elements that belong to one session only: they start uninitialised in every new session
/// (RTE 4.2.8, 4.2.21) and a pending navigation request is never carried over.
const PER_SESSION: &[&str] =
    &["cmi.core.exit", "cmi.core.session_time", "cmi.exit", "cmi.session_time", "adl.nav.request"];

impl Session {
    /// A session in the Not Initialized state over the launch data; `launch.suspended` is the
    /// stored data of the attempt being resumed (without its exit and session time).
    pub fn new(version: ScormVersion, launch: LaunchData) -> Session {
        let values = launch
            .suspended
            .iter()
            .filter(|(k, _)| !PER_SESSION.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let model = DataModel::new(version, &launch, values);
        Session {
            version,
            launch,
            model,
            state: ApiState::NotInitialized,
            last_error: 0,
            last_reason: String::new(),
            dirty: Vec::new(),
            dirty_set: BTreeSet::new(),
        }
    }

    /// Answers one API call by its method name in this version (1.2: `LMSInitialize`,
    /// `LMSFinish`, `LMSGetValue`, `LMSSetValue`, `LMSCommit`, `LMSGetLastError`,
    /// `LMSGetErrorString`, `LMSGetDiagnostic`; 2004: `Initialize`, `Terminate`, `GetValue`,
    /// `SetValue`, `Commit`, `GetLastError`, `GetErrorString`, `GetDiagnostic`) and returns
    /// the string the API returns. Missing arguments count as "".
    pub fn call(&mut self, method: &str, args: &[&str]) -> String {
        let arg = |i: usize| args.get(i).copied().unwrap_or("");
        let Some(call) = Call::parse(self.version, method) else {
            return self.done(101, format!("{method} is not a method of this API"), "false");
        };
        let v12 = self.version == ScormVersion::Scorm12;
        // Error codes for calls outside Running: (before Initialize, after Terminate).
        let outside = |before: u16, after: u16| if v12 { (301, 301) } else { (before, after) };
        match call {
            Call::GetLastError => self.last_error.to_string(),
            Call::GetErrorString => self.error_string(arg(0)),
            // Diagnostics are the error's text, so that both implementations answer alike;
            // the detailed reason is on the server side (`last_reason`).
            Call::GetDiagnostic => match arg(0) {
                "" => self.error_string(&self.last_error.to_string()),
                code => self.error_string(code),
            },
            Call::Initialize => match self.state {
                ApiState::Running => self.done(if v12 { 101 } else { 103 }, "already initialized", "false"),
                ApiState::Terminated => self.done(
                    if v12 { 101 } else { 104 },
                    "this session has ended; a new launch starts a new one",
                    "false",
                ),
                ApiState::NotInitialized if !arg(0).is_empty() => self.done(201, "the argument must be \"\"", "false"),
                ApiState::NotInitialized => {
                    self.state = ApiState::Running;
                    self.done(0, "", "true")
                }
            },
            Call::Terminate => match self.state {
                ApiState::NotInitialized => self.done(outside(112, 113).0, "not initialized", "false"),
                ApiState::Terminated => self.done(outside(112, 113).1, "already terminated", "false"),
                ApiState::Running if !arg(0).is_empty() => self.done(201, "the argument must be \"\"", "false"),
                ApiState::Running => {
                    self.state = ApiState::Terminated;
                    self.done(0, "", "true")
                }
            },
            Call::Commit => match self.state {
                ApiState::NotInitialized => self.done(outside(142, 143).0, "not initialized", "false"),
                ApiState::Terminated => self.done(outside(142, 143).1, "already terminated", "false"),
                ApiState::Running if !arg(0).is_empty() => self.done(201, "the argument must be \"\"", "false"),
                ApiState::Running => self.done(0, "", "true"),
            },
            Call::GetValue => match self.state {
                ApiState::NotInitialized => self.done(outside(122, 123).0, "not initialized", ""),
                ApiState::Terminated => self.done(outside(122, 123).1, "already terminated", ""),
                ApiState::Running => match self.model.get(arg(0)) {
                    Ok(value) => {
                        self.done(0, "", "");
                        value
                    }
                    Err(f) => self.done(f.code, f.reason, ""),
                },
            },
            Call::SetValue => match self.state {
                ApiState::NotInitialized => self.done(outside(132, 133).0, "not initialized", "false"),
                ApiState::Terminated => self.done(outside(132, 133).1, "already terminated", "false"),
                ApiState::Running => match self.model.set(arg(0), arg(1)) {
                    Ok(()) => {
                        if self.dirty_set.insert(arg(0).to_owned()) {
                            self.dirty.push(arg(0).to_owned());
                        }
                        self.done(0, "", "true")
                    }
                    Err(f) => self.done(f.code, f.reason, "false"),
                },
            },
        }
    }

    /// Records the outcome of a call and returns its answer.
    fn done(&mut self, code: u16, reason: impl Into<String>, answer: &str) -> String {
        self.last_error = code;
        self.last_reason = reason.into();
        answer.to_owned()
    }

    /// The text of an error code given as the SCO passes it ("" for a code this version does
    /// not have, or for anything that is not a code written plainly).
    fn error_string(&self, code: &str) -> String {
        self.version
            .errors()
            .iter()
            .find(|(c, _)| c.to_string() == code)
            .map(|(_, text)| (*text).to_owned())
            .unwrap_or_default()
    }

    /// The error code GetLastError returns now.
    pub fn last_error(&self) -> u16 {
        self.last_error
    }

    /// Why the last call failed, in words (for logs and the server; "" after a success).
    pub fn last_reason(&self) -> &str {
        &self.last_reason
    }

    /// Where the state machine is.
    pub fn state(&self) -> ApiState {
        self.state
    }

    /// The elements the SCO set since the last commit with their current values, in the
    /// order they were first set: what the browser sends and [`super::validate_commit`]
    /// replays. (An ordered list rather than a map: `cmi.interactions.10.id` sorts before
    /// `cmi.interactions.2.id` and `…correct_responses…` before `….id`.)
    pub fn dirty(&self) -> Vec<(String, String)> {
        self.dirty.iter().filter_map(|k| self.model.values.get(k).map(|v| (k.clone(), v.clone()))).collect()
    }

    /// Everything the attempt holds (for the server to store): the SCO's values, resumed data
    /// and the objective ids from the manifest.
    pub fn snapshot(&self) -> BTreeMap<String, String> {
        self.model.values.clone()
    }

    /// Forgets the dirty list after the server accepted a commit.
    pub fn mark_committed(&mut self) {
        self.dirty.clear();
        self.dirty_set.clear();
    }

    /// The outcome of the attempt as [`finish`] sees it now.
    pub fn outcome(&self) -> Outcome {
        finish(self.version, &self.launch, &self.model.values)
    }

    /// [`Session::outcome`] with the session length the player measured.
    pub fn outcome_measured(&self, seconds: f64) -> Outcome {
        finish_measured(self.version, &self.launch, &self.model.values, Some(seconds))
    }
}
