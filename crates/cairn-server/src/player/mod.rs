//! Playing SCORM content: which attempt a launch opens, the launch data a SCO receives,
//! and storing the commits the browser sends. The rules come from `cairn_scorm::runtime`;
//! the storage from `cairn_core::tracking`.

use std::collections::BTreeMap;

use cairn_core::catalog::Course;
use cairn_core::packages::PackageItem;
use cairn_core::tracking::{self, Attempt, NewAttempt, Summary};
use cairn_scorm::prerequisites::{LessonStatus, Outline};
use cairn_scorm::runtime::{self, Entry, LaunchData, Mode, Outcome, ScormVersion};

use crate::app::AppState;
use crate::auth::Actor;
use crate::web::errors::HttpError;

mod live;
pub use live::{commit, LiveAttempts};

/// Everything the player page needs for one launch.
pub struct Launch {
    pub course: Course,
    pub attempt: Attempt,
    pub item: PackageItem,
    /// The package version the attempt runs on.
    pub package_id: String,
    /// The outline of the course's current version.
    pub outline: Vec<PackageItem>,
    /// The course's current version, whose outline and prerequisites the page shows.
    pub outline_package_id: String,
    pub version: ScormVersion,
    pub launch: LaunchData,
    /// Why another item than the one asked for was opened (its prerequisites are not met).
    pub notice: Option<String>,
    /// The launchable items before and after this one in the outline: where Previous and
    /// Continue lead (even to an item that is locked now; the server checks on arrival).
    pub previous: Option<PackageItem>,
    pub next: Option<PackageItem>,
    /// The learner's attempts in the course as they stand after the launch, without their
    /// data (statuses, locks and progress need only the columns; `state_json` is not
    /// meaningful here).
    pub attempts: Vec<Attempt>,
}

/// Items of an outline the learner may not open yet, each with the items it waits on.
pub type Locks = BTreeMap<String, Vec<String>>;

/// An attempt's SCORM 1.2 lesson status, from the completion and success kept beside it
/// (which the commit rules derive from `cmi.core.lesson_status`, and which a viewed asset
/// sets to completed). A started attempt whose status is not known counts as incomplete.
pub fn lesson_status(attempt: &Attempt) -> LessonStatus {
    status_of(&attempt.completion, &attempt.success)
}

fn status_of(completion: &str, success: &str) -> LessonStatus {
    match (success, completion) {
        ("passed", _) => LessonStatus::Passed,
        ("failed", _) => LessonStatus::Failed,
        (_, "completed") => LessonStatus::Completed,
        (_, "browsed") => LessonStatus::Browsed,
        (_, "not attempted") => LessonStatus::NotAttempted,
        _ => LessonStatus::Incomplete,
    }
}

/// Which items of a package version's outline are locked for a learner with `attempts`
/// (their attempts in the course). Only SCORM 1.2 items carry prerequisites; scripts that
/// are broken are ignored by [`Outline`], so they lock nobody out.
pub async fn locks(state: &AppState, package_id: &str, attempts: &[Attempt]) -> Result<Locks, HttpError> {
    let manifest = state.manifest(package_id).await?;
    let Some(organization) = manifest.organization() else {
        return Ok(Locks::new());
    };
    let outline = Outline::new(&organization.items);
    Ok(outline.locked(|id| tracking::latest_for(attempts, id).map(lesson_status)))
}

/// "A", "A and B", "A, B and C".
fn and_list(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => (*one).to_string(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// What a locked item waits for, by title: "complete A and B first", or `None` when its
/// rules name nothing left to complete (a negation or a status comparison).
fn waiting_text(waiting_for: &[String], outline: &[PackageItem]) -> Option<String> {
    let titles: Vec<&str> = waiting_for
        .iter()
        .map(|id| outline.iter().find(|i| &i.identifier == id).map_or(id.as_str(), |i| i.title.as_str()))
        .collect();
    (!titles.is_empty()).then(|| format!("complete {} first", and_list(&titles)))
}

/// The short explanation shown beside a locked item in the outline.
pub fn locked_hint(waiting_for: &[String], outline: &[PackageItem]) -> String {
    match waiting_text(waiting_for, outline) {
        Some(text) => format!("Locked — {text}"),
        None => "Locked until its prerequisites are met".to_string(),
    }
}

/// The notice shown when a locked item was asked for and another one opened instead.
fn locked_notice(title: &str, waiting_for: &[String], outline: &[PackageItem]) -> String {
    match waiting_text(waiting_for, outline) {
        Some(text) => format!("“{title}” is locked: {text}."),
        None => format!("“{title}” is locked until its prerequisites are met."),
    }
}

pub fn version_of(standard: &str) -> ScormVersion {
    if standard == "scorm12" {
        ScormVersion::Scorm12
    } else {
        ScormVersion::Scorm2004
    }
}

pub fn version_label(version: ScormVersion) -> &'static str {
    match version {
        ScormVersion::Scorm12 => "1.2",
        ScormVersion::Scorm2004 => "2004",
    }
}

/// Elements a SCO writes for one session only; they are dropped when the next starts.
const SESSION_ONLY: [&str; 5] =
    ["cmi.session_time", "cmi.core.session_time", "cmi.exit", "cmi.core.exit", "adl.nav.request"];

fn parse_state(json: &str) -> Result<BTreeMap<String, String>, HttpError> {
    serde_json::from_str(json).map_err(|e| HttpError::internal(&e))
}

fn summary(outcome: &Outcome, keep_total: Option<&Attempt>) -> Summary {
    Summary {
        completion: outcome.completion.as_str().to_string(),
        success: outcome.success.as_str().to_string(),
        score_scaled: outcome.score_scaled,
        score_raw: outcome.score_raw,
        total_time_seconds: keep_total.map_or(outcome.total_time_seconds, |a| a.total_time_seconds),
        total_time: keep_total.map_or(Some(outcome.total_time.clone()), |a| a.total_time.clone()),
        location: outcome.location.clone(),
        suspended: outcome.suspended,
    }
}

/// The summary of an attempt whose session has not finished (at launch, on ordinary
/// commits, or when closing a session the SCO abandoned). SCORM 1.2's LMSFinish rules (an
/// untouched "not attempted" becomes completed) apply only when the SCO really finishes, so
/// its status is taken as the SCO left it; SCORM 2004 status is evaluated the same way
/// during and at the end of a session.
///
/// In 1.2 a status the LMS decided when an earlier session ended (LMSFinish's rule, or the
/// no-API rule of [`record_view_without_api`]) is not in the data the SCO set, so while the
/// data names no status the stored one stands: relaunching a finished item must not turn it
/// back into "not attempted".
fn unfinished_summary(
    version: ScormVersion,
    outcome: &Outcome,
    data: &BTreeMap<String, String>,
    attempt: &Attempt,
    keep_total: bool,
) -> Summary {
    let mut summary = summary(outcome, keep_total.then_some(attempt));
    if version == ScormVersion::Scorm12 {
        let Some(status) = data.get("cmi.core.lesson_status").map(String::as_str) else {
            summary.completion = attempt.completion.clone();
            summary.success = attempt.success.clone();
            return summary;
        };
        summary.completion = match status {
            "passed" | "completed" | "failed" => "completed",
            "browsed" => "browsed",
            "incomplete" => "incomplete",
            _ => "not attempted",
        }
        .to_string();
        summary.success = match status {
            "passed" | "failed" => status,
            _ => "unknown",
        }
        .to_string();
    }
    summary
}

/// The launch data of an item for a learner: manifest values, the attempt's time so far
/// and, on resume, its stored data.
async fn launch_data(
    state: &AppState,
    learner: (&str, &str),
    attempt: &Attempt,
    entry: Entry,
    data: BTreeMap<String, String>,
) -> Result<LaunchData, HttpError> {
    let manifest = state.manifest(&attempt.package_id).await?;
    let item = manifest.all_items().into_iter().find(|i| i.identifier == attempt.item_identifier).cloned();
    let threshold =
        item.as_ref().and_then(|i| i.completion_threshold.as_ref()).and_then(|t| t.min_progress_measure.or(t.value));
    Ok(LaunchData {
        learner_id: learner.0.to_string(),
        learner_name: learner.1.to_string(),
        credit: true,
        mode: Mode::Normal,
        entry,
        launch_data: item.as_ref().and_then(|i| i.data_from_lms.clone()),
        mastery_score: item.as_ref().and_then(|i| i.mastery_score),
        max_time_allowed: item.as_ref().and_then(|i| i.max_time_allowed.clone()),
        time_limit_action: item.as_ref().and_then(|i| i.time_limit_action.clone()),
        completion_threshold: threshold,
        scaled_passing_score: item.as_ref().and_then(|i| i.scaled_passing_score()),
        objective_ids: item.as_ref().map(|i| i.objectives.iter().map(|o| o.id.clone()).collect()).unwrap_or_default(),
        total_time: attempt.total_time.clone(),
        suspended: data,
        strict: false,
        // Set by `open` from the outline; commits never read them (they are read-only).
        request_valid_continue: None,
        request_valid_previous: None,
    })
}

/// Opens `item_id` (or the learner's resume point, or the first item) of a course.
///
/// Which attempt: none yet → a new one; an unfinished or suspended one → resume it (on the
/// package version it started on); one that ended normally → in SCORM 2004 a new attempt,
/// in 1.2 the same one. A session the browser never terminated (closed tab, crash) is
/// closed here first, so its time counts once and its data is kept; its attempt resumes.
/// A SCO completed by the no-API rule ended normally too: it was shown and left.
///
/// The launch writes an attempt only at the revision it read it at. When someone wrote in
/// between (a commit of the page being left, another tab), the launch starts again from
/// the new state, up to [`MAX_LAUNCH_RACES`] times, then answers 503, which a reload retries.
pub async fn open(state: &AppState, actor: &Actor, course: Course, item_id: Option<&str>) -> Result<Launch, HttpError> {
    for _ in 0..MAX_LAUNCH_RACES {
        if let Some(launch) = open_once(state, actor, &course, item_id).await? {
            return Ok(launch);
        }
    }
    Err(HttpError::new(
        poem::http::StatusCode::SERVICE_UNAVAILABLE,
        "attempt_busy",
        "this course is being saved from another page at the same moment; reload to continue",
    ))
}

/// Launches lost to a write of the same attempt in a row before the launch gives up.
const MAX_LAUNCH_RACES: usize = 3;

/// One try of [`open`]: `None` when the attempt changed between its read and the launch's
/// write, so nothing was written.
async fn open_once(
    state: &AppState,
    actor: &Actor,
    course: &Course,
    item_id: Option<&str>,
) -> Result<Option<Launch>, HttpError> {
    let current =
        course.current_package_id.clone().ok_or_else(|| HttpError::not_found("this course has no content yet"))?;
    let package = state.package_outline(&current).await?;
    let version_row = &package.version;
    let outline = package.items.clone();
    let mut attempts = tracking::for_launch(&state.db, &actor.user.id, &course.id).await?;
    let mut locked = locks(state, &current, &attempts).await?;
    // Every item locked means prerequisites no learner can meet, which the import check
    // could not see through (a script that contradicts itself); they must not lock the
    // learner out of the whole course.
    if outline.iter().filter(|i| i.launch.is_some()).all(|i| locked.contains_key(&i.identifier)) {
        locked.clear();
    }
    let launchable = |id: &str| outline.iter().find(|i| i.identifier == id && i.launch.is_some());
    let mut notice = None;
    let wanted = match item_id {
        Some(id) => {
            let wanted =
                launchable(id).ok_or_else(|| HttpError::not_found(format!("this course has no item {id:?}")))?;
            match locked.get(&wanted.identifier) {
                None => Some(wanted),
                // A locked item is not launched, however it was asked for (a link rendered
                // before its prerequisites changed, a bookmark, a crafted URL): the learner
                // lands where they can work, with the reason, rather than on an error page.
                Some(waiting_for) => {
                    notice = Some(locked_notice(&wanted.title, waiting_for, &outline));
                    None
                }
            }
        }
        None => None,
    };
    let item = match wanted {
        Some(item) => item,
        None => {
            // The resume point, else the first open item of the outline (visible ones first).
            // The most recently used item (`tracking::resume_point`), from the list at hand.
            let resume = attempts
                .iter()
                .max_by(|a, b| (a.updated_at, a.number).cmp(&(b.updated_at, b.number)))
                .map(|a| a.item_identifier.clone());
            let is_open = |i: &&PackageItem| i.launch.is_some() && !locked.contains_key(&i.identifier);
            resume
                .as_deref()
                .and_then(launchable)
                .filter(is_open)
                .or_else(|| outline.iter().filter(is_open).find(|i| i.visible))
                .or_else(|| outline.iter().find(is_open))
                .ok_or_else(|| HttpError::not_found("this course has nothing to launch"))?
        }
    }
    .clone();
    let version = version_of(&version_row.standard);
    let is_asset = item.scorm_type.as_deref() == Some("asset");
    let launchable: Vec<&PackageItem> = outline.iter().filter(|i| i.launch.is_some()).collect();
    let position = launchable.iter().position(|i| i.identifier == item.identifier);
    let previous = position.and_then(|p| p.checked_sub(1)).and_then(|p| launchable.get(p)).map(|i| (*i).clone());
    let next = position.and_then(|p| launchable.get(p + 1)).map(|i| (*i).clone());

    // The item's latest attempt (the list is newest first per item, and holds every attempt
    // that was not reset). The list carries the data of the attempt used most recently
    // only; any other is read now. An item without attempts gets its first one.
    let latest = match attempts.iter().find(|a| a.item_identifier == item.identifier) {
        Some(listed) if !listed.state_json.is_empty() => Some(listed.clone()),
        Some(_) => tracking::latest(&state.db, &actor.user.id, &course.id, &item.identifier).await?,
        None => None,
    };
    // A new attempt is stored by the launch's one write below, with its session open; until
    // then it is the attempt as it will be stored (`fresh`).
    let new = || new_attempt(actor, course, &current, &item, version);
    let (mut attempt, mut fresh) = match latest {
        Some(previous) => (previous, false),
        None => (new().unstored(), true),
    };
    let mut data = parse_state(&attempt.state_json)?;
    let mut entry = if attempt.last_seq == 0 { Entry::AbInitio } else { Entry::Resume };
    // Only a viewed asset or the no-API rule finish an attempt without a commit; for a SCO
    // it is the latter, and its still open session holds nothing to close.
    let viewed_without_api = !is_asset && attempt.last_seq == 0 && attempt.finished_at.is_some();

    if attempt.session_open && !is_asset && !viewed_without_api {
        // The last session never terminated: count its time once and keep its data.
        let launch = launch_data(state, (&actor.user.id, &actor.user.name), &attempt, entry, data.clone()).await?;
        let outcome = runtime::finish(version, &launch, &data);
        data.retain(|k, _| !SESSION_ONLY.contains(&k.as_str()));
        let closed = Summary { suspended: true, ..unfinished_summary(version, &outcome, &data, &attempt, false) };
        match state.commits.open_session(&attempt.id, attempt.revision, json(&data)?, closed).await? {
            Some(stored) => attempt = stored,
            None => return Ok(None),
        }
        entry = Entry::Resume;
    } else if attempt.finished_at.is_some() && !is_asset {
        let launch = launch_data(state, (&actor.user.id, &actor.user.name), &attempt, entry, data.clone()).await?;
        let outcome = runtime::finish(version, &launch, &data);
        if outcome.new_attempt_next {
            (attempt, fresh) = (new().unstored(), true);
            data = BTreeMap::new();
            entry = Entry::AbInitio;
        } else {
            entry = if outcome.suspended { Entry::Resume } else { Entry::Empty };
        }
        data.retain(|k, _| !SESSION_ONLY.contains(&k.as_str()));
    }

    let mut launch = launch_data(state, (&actor.user.id, &actor.user.name), &attempt, entry, data.clone()).await?;
    let attempt = if is_asset {
        if fresh {
            attempt = tracking::create(&state.db, new()).await?;
        }
        tracking::complete_viewed(&state.db, &attempt.id).await?;
        tracking::find(&state.db, &attempt.id).await?.ok_or_else(|| HttpError::not_found("attempt vanished"))?
    } else {
        let outcome = runtime::finish(version, &launch, &data);
        let summary = unfinished_summary(version, &outcome, &data, &attempt, true);
        if fresh {
            state.commits.create_opened(new(), json(&data)?, summary).await?
        } else {
            match state.commits.open_session(&attempt.id, attempt.revision, json(&data)?, summary).await? {
                Some(stored) => stored,
                None => return Ok(None),
            }
        }
    };
    launch.request_valid_continue = Some(next.is_some());
    launch.request_valid_previous = Some(previous.is_some());
    if is_asset {
        state.live.forget(&attempt.id);
    } else {
        state.live.remember(&attempt, &launch)?;
    }
    let package_id = attempt.package_id.clone();
    // Only the launched attempt changed (or appeared) since the list was read.
    attempts.retain(|a| a.id != attempt.id);
    attempts.push(Attempt { state_json: "{}".into(), ..attempt.clone() });
    Ok(Some(Launch {
        course: course.clone(),
        attempt,
        item,
        package_id,
        outline,
        outline_package_id: current,
        version,
        launch,
        notice,
        previous,
        next,
        attempts,
    }))
}

/// The attempt a launch starts when the item has none to resume.
fn new_attempt(
    actor: &Actor,
    course: &Course,
    package_id: &str,
    item: &PackageItem,
    version: ScormVersion,
) -> NewAttempt {
    NewAttempt {
        user_id: actor.user.id.clone(),
        course_id: course.id.clone(),
        package_id: package_id.to_string(),
        item_identifier: item.identifier.clone(),
        scorm_version: version_label(version).to_string(),
    }
}

fn json(data: &BTreeMap<String, String>) -> Result<String, HttpError> {
    serde_json::to_string(data).map_err(|e| HttpError::internal(&e))
}

/// Who sends a commit: the signed-in learner, or the player holding the attempt's launch
/// token (which keeps working when the login session is gone).
pub enum Caller<'a> {
    Learner(&'a Actor),
    LaunchToken(&'a str),
}

/// What became of a commit.
pub enum Committed {
    /// Stored. `progress_moved` names the (course, learner) whose course progress must be
    /// recomputed because the attempt's status or score changed.
    Applied {
        seq: i64,
        progress_moved: Option<(String, String)>,
    },
    AlreadyApplied {
        last_seq: i64,
    },
    Refused(runtime::Refusal),
}

/// The attempt `attempt_id` if `caller` may write to it; 404 otherwise, so that nothing tells
/// whether another learner's attempt exists.
async fn callers_attempt(state: &AppState, caller: &Caller<'_>, attempt_id: &str) -> Result<Attempt, HttpError> {
    let allowed = |a: &Attempt| match caller {
        Caller::Learner(actor) => a.user_id == actor.user.id,
        Caller::LaunchToken(token) => a.launch_token_matches(token),
    };
    tracking::find(&state.db, attempt_id).await?.filter(allowed).ok_or_else(|| HttpError::not_found("no such attempt"))
}

/// What became of a report that a SCO was shown without calling the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Viewed {
    Completed,
    Ignored,
}

/// The no-API rule. Some packages mark plain HTML pages as SCOs; such a page never calls
/// Initialize, so without this its item would stay "not attempted" for ever and lock every
/// item whose prerequisites name it. The player reports, when the learner leaves, that the
/// content loaded but the session never started, and the attempt is completed as viewed,
/// as an asset is at its launch.
///
/// Only an attempt the SCO never wrote to qualifies: no commit applied (`last_seq == 0`),
/// the status a launch without data gives ("not attempted" in 1.2; "unknown" in 2004, whose
/// completion is evaluated from the data), and its session open. Anything else is ignored
/// and left as it is, so a SCO that did initialise and commit is never touched.
pub async fn record_view_without_api(
    state: &AppState,
    caller: Caller<'_>,
    attempt_id: &str,
) -> Result<Viewed, HttpError> {
    let attempt = callers_attempt(state, &caller, attempt_id).await?;
    let untouched = attempt.last_seq == 0
        && matches!(attempt.completion.as_str(), "not attempted" | "unknown")
        && attempt.success == "unknown";
    if !untouched || !attempt.session_open || attempt.voided_at.is_some() {
        return Ok(Viewed::Ignored);
    }
    // The conditional update decides: a commit that landed since the read above wins.
    state.live.forget(&attempt.id);
    if tracking::complete_untouched(&state.db, &attempt.id).await? {
        Ok(Viewed::Completed)
    } else {
        Ok(Viewed::Ignored)
    }
}

/// The launch data in the shape `scorm-runtime.js` takes.
pub fn launch_json(version: ScormVersion, launch: &LaunchData) -> serde_json::Value {
    serde_json::json!({
        "learner_id": launch.learner_id, "learner_name": launch.learner_name, "credit": launch.credit,
        "mode": launch.mode.as_str(), "entry": launch.entry.as_str(), "launch_data": launch.launch_data,
        "mastery_score": launch.mastery_score, "max_time_allowed": launch.max_time_allowed,
        "time_limit_action": launch.time_limit_action, "completion_threshold": launch.completion_threshold,
        "scaled_passing_score": launch.scaled_passing_score, "objective_ids": launch.objective_ids,
        "total_time": launch.total_time, "suspended": launch.suspended, "strict": launch.strict,
        "request_valid_continue": launch.request_valid_continue,
        "request_valid_previous": launch.request_valid_previous, "version": version_label(version),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(identifier: &str, title: &str) -> PackageItem {
        PackageItem {
            position: 0,
            identifier: identifier.into(),
            parent_identifier: None,
            depth: 0,
            title: title.into(),
            launch: Some(format!("{identifier}.html")),
            scorm_type: Some("sco".into()),
            visible: true,
        }
    }

    #[test]
    fn locks_are_explained_by_title() {
        let outline = [item("a", "Intro"), item("b", "Basics"), item("c", "Practice")];
        let cases: [(&[&str], &str, &str); 5] = [
            (&[], "Locked until its prerequisites are met", "“Quiz” is locked until its prerequisites are met."),
            (&["a"], "Locked — complete Intro first", "“Quiz” is locked: complete Intro first."),
            (
                &["a", "b"],
                "Locked — complete Intro and Basics first",
                "“Quiz” is locked: complete Intro and Basics first.",
            ),
            (
                &["a", "b", "c"],
                "Locked — complete Intro, Basics and Practice first",
                "“Quiz” is locked: complete Intro, Basics and Practice first.",
            ),
            // An identifier without an outline entry (a hidden item) is shown as it is.
            (&["hidden"], "Locked — complete hidden first", "“Quiz” is locked: complete hidden first."),
        ];
        for (waiting, hint, notice) in cases {
            let waiting: Vec<String> = waiting.iter().map(|w| w.to_string()).collect();
            assert_eq!(locked_hint(&waiting, &outline), hint);
            assert_eq!(locked_notice("Quiz", &waiting, &outline), notice);
        }
    }

    #[test]
    fn attempts_give_lesson_statuses() {
        let cases = [
            ("completed", "passed", LessonStatus::Passed),
            ("completed", "failed", LessonStatus::Failed),
            ("completed", "unknown", LessonStatus::Completed),
            ("browsed", "unknown", LessonStatus::Browsed),
            ("incomplete", "unknown", LessonStatus::Incomplete),
            ("not attempted", "unknown", LessonStatus::NotAttempted),
            ("unknown", "unknown", LessonStatus::Incomplete),
        ];
        for (completion, success, expected) in cases {
            assert_eq!(status_of(completion, success), expected, "{completion} / {success}");
        }
    }
}
