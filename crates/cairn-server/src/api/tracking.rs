//! `/api/v1/attempts`: the commits the SCORM player sends, its report that a SCO was shown
//! without ever calling the API (the no-API rule, `player::record_view_without_api`), and
//! an attempt's tracked data for the course's staff (what `/attempts/{id}` shows).

use std::sync::Arc;

use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use poem_openapi::auth::ApiKey;
use poem_openapi::SecurityScheme;

use std::collections::BTreeMap;

use cairn_core::{accounts, tracking};
use cairn_scorm::runtime::records::{self, InteractionRecord, ObjectiveRecord};
use cairn_scorm::runtime::ScormVersion;
use time::OffsetDateTime;

use super::{ApiResult, ApiTags, Auth, SessionAuth, TokenAuth};
use crate::app::AppState;
use crate::player::{self, Caller, Committed, Viewed};
use crate::web::errors::HttpError;

pub struct TrackingApi {
    pub state: Arc<AppState>,
}

/// The launch token the player page received for one attempt. It is checked against the
/// attempt in the operation and grants nothing else.
#[derive(SecurityScheme)]
#[oai(ty = "api_key", key_name = "X-Cairn-Launch", key_in = "header", checker = "take_launch_token")]
pub struct LaunchAuth(String);

async fn take_launch_token(_req: &poem::Request, key: ApiKey) -> Option<String> {
    Some(key.key)
}

/// Commits come from the player (launch token, which survives the end of a login session),
/// from a signed-in browser, or from a script with an API token.
#[derive(SecurityScheme)]
pub enum CommitAuth {
    Launch(LaunchAuth),
    Session(SessionAuth),
    Token(TokenAuth),
}

/// A batch of data-model values from a SCO session.
#[derive(Object, Debug)]
pub struct CommitBody {
    /// The attempt, as given to the player at launch.
    pub attempt_id: Option<String>,
    /// Increases by one per commit of a session; a sequence number at or below the last
    /// applied one is acknowledged without being applied again (safe retries).
    pub seq: i64,
    /// Element → value, in the order the SCO set them (collections depend on the order).
    pub elements: serde_json::Value,
    /// True when the SCO called Terminate / LMSFinish.
    #[oai(default)]
    pub terminate: bool,
}

/// The commit is stored (or was already).
#[derive(Object, Debug)]
pub struct CommitAck {
    /// `applied` or `already_applied`.
    pub status: String,
    /// The highest sequence number stored for the attempt.
    pub last_seq: i64,
}

/// A refused commit: the element, its value and why. Nothing of the batch was stored.
#[derive(Object, Debug)]
pub struct CommitRefused {
    /// Always `invalid_element`.
    pub code: String,
    pub message: String,
    pub element: String,
    pub value: String,
    /// The SCORM error code the same SetValue gets in the browser.
    pub scorm_error: u16,
}

#[derive(ApiResponse)]
pub enum CommitResponse {
    /// Stored.
    #[oai(status = 200)]
    Stored(Json<CommitAck>),
    /// A value breaks the data-model rules.
    #[oai(status = 422)]
    Refused(Json<CommitRefused>),
}

/// What the report of a SCO shown without the API changed.
#[derive(Object, Debug)]
pub struct ViewAck {
    /// `completed` (the attempt is completed as viewed) or `ignored` (the SCO used the API,
    /// or the attempt is no longer the untouched one it was at launch; nothing changed).
    pub status: String,
}

/// An attempt's tracked data: its summary, the interactions and objectives it recorded,
/// and every data-model element as stored.
#[derive(Object, Debug)]
pub struct AttemptDetail {
    pub id: String,
    pub learner: AttemptLearner,
    pub course_id: String,
    /// The item (SCO or asset) of the package, by its manifest identifier.
    pub item: String,
    /// 1 for the learner's first attempt at the item, then 2, 3, ...
    pub number: i64,
    /// `1.2` or `2004`.
    pub scorm_version: String,
    /// `completed`, `incomplete`, `not attempted`, `browsed` or `unknown`.
    pub completion: String,
    /// `passed`, `failed` or `unknown`.
    pub success: String,
    pub score_scaled: Option<f64>,
    pub score_raw: Option<f64>,
    pub total_time_seconds: f64,
    /// The bookmark the SCO left (`cmi.location` / `cmi.core.lesson_location`).
    pub location: Option<String>,
    /// The last session ended with exit `suspend`: the next launch resumes.
    pub suspended: bool,
    pub started_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub finished_at: Option<OffsetDateTime>,
    /// When an instructor reset the attempt; a reset attempt no longer counts.
    pub reset_at: Option<OffsetDateTime>,
    pub interactions: Vec<AttemptInteraction>,
    pub objectives: Vec<AttemptObjective>,
    /// Every stored data-model element → value, as the SCO's commits left them.
    pub elements: BTreeMap<String, String>,
}

/// Whose attempt it is.
#[derive(Object, Debug)]
pub struct AttemptLearner {
    pub id: String,
    pub name: String,
    pub email: String,
}

/// One interaction (question and response). Elements the SCO never set are empty; SCORM
/// 1.2's `student_response` and `time` are `learner_response` and `time`.
#[derive(Object, Debug)]
pub struct AttemptInteraction {
    /// Its index in the attempt's `cmi.interactions`.
    pub index: u64,
    pub id: String,
    #[oai(rename = "type")]
    pub kind: String,
    pub description: String,
    pub learner_response: String,
    pub correct_responses: Vec<String>,
    pub result: String,
    pub weighting: String,
    pub latency: String,
    pub time: String,
    pub objective_ids: Vec<String>,
}

/// One objective. SCORM 1.2 has one `status`; 2004 has `success_status` and
/// `completion_status`. Elements the SCO never set are empty.
#[derive(Object, Debug)]
pub struct AttemptObjective {
    pub index: u64,
    pub id: String,
    pub status: String,
    pub success_status: String,
    pub completion_status: String,
    pub score_scaled: String,
    pub score_raw: String,
    pub score_min: String,
    pub score_max: String,
    pub progress_measure: String,
    pub description: String,
}

impl From<InteractionRecord> for AttemptInteraction {
    fn from(i: InteractionRecord) -> Self {
        AttemptInteraction {
            index: i.index as u64,
            id: i.id,
            kind: i.kind,
            description: i.description,
            learner_response: i.learner_response,
            correct_responses: i.correct_responses,
            result: i.result,
            weighting: i.weighting,
            latency: i.latency,
            time: i.time,
            objective_ids: i.objective_ids,
        }
    }
}

impl From<ObjectiveRecord> for AttemptObjective {
    fn from(o: ObjectiveRecord) -> Self {
        AttemptObjective {
            index: o.index as u64,
            id: o.id,
            status: o.status,
            success_status: o.success_status,
            completion_status: o.completion_status,
            score_scaled: o.score_scaled,
            score_raw: o.score_raw,
            score_min: o.score_min,
            score_max: o.score_max,
            progress_measure: o.progress_measure,
            description: o.description,
        }
    }
}

/// Longest batch accepted (elements per commit); a full 2004 data model fits many times.
const MAX_ELEMENTS_PER_COMMIT: usize = 10_000;

#[OpenApi(tag = "ApiTags::Tracking")]
impl TrackingApi {
    /// Commit SCO data
    ///
    /// Sent by the player on Commit, on Terminate, on a timer while data changed and when
    /// the page is hidden. Every value is validated again with the rules the browser used.
    /// Idempotent by `seq`.
    #[oai(path = "/v1/attempts/:id/commits", method = "post", operation_id = "commit_attempt")]
    async fn commit(&self, auth: CommitAuth, id: Path<String>, body: Json<CommitBody>) -> ApiResult<CommitResponse> {
        let body = body.0;
        if body.attempt_id.as_deref().is_some_and(|a| a != id.0) {
            return Err(HttpError::invalid("attempt_id does not match the address").into());
        }
        let serde_json::Value::Object(map) = body.elements else {
            return Err(HttpError::invalid("elements must be an object of element names to string values").into());
        };
        if map.len() > MAX_ELEMENTS_PER_COMMIT {
            return Err(HttpError::invalid(format!("at most {MAX_ELEMENTS_PER_COMMIT} elements per commit")).into());
        }
        let mut changes = Vec::with_capacity(map.len());
        for (element, value) in map {
            let value = match value {
                serde_json::Value::String(s) => s,
                serde_json::Value::Number(n) => n.to_string(),
                other => return Err(HttpError::invalid(format!("{element}: values are strings, not {other}")).into()),
            };
            changes.push((element, value));
        }
        match player::commit(&self.state, auth.caller(), &id.0, body.seq, changes, body.terminate).await? {
            Committed::Applied { seq, progress_moved } => {
                if let Some((course_id, user_id)) = progress_moved {
                    self.state.progress.enqueue(&course_id, &user_id);
                }
                Ok(CommitResponse::Stored(Json(CommitAck { status: "applied".into(), last_seq: seq })))
            }
            Committed::AlreadyApplied { last_seq } => {
                Ok(CommitResponse::Stored(Json(CommitAck { status: "already_applied".into(), last_seq })))
            }
            Committed::Refused(refusal) => Ok(CommitResponse::Refused(Json(CommitRefused {
                code: "invalid_element".into(),
                message: format!("{}: {}", refusal.element, refusal.reason),
                element: refusal.element,
                value: refusal.value,
                scorm_error: refusal.code,
            }))),
        }
    }

    /// Report a SCO shown without the API
    ///
    /// Sent by the player when the learner leaves a SCO whose content loaded but never called
    /// Initialize (plain pages that packages mark as SCOs). An attempt no commit has touched
    /// is then completed as viewed, like an asset; any other attempt is left as it is and the
    /// answer says `ignored`. Safe to repeat.
    #[oai(path = "/v1/attempts/:id/viewed", method = "post", operation_id = "record_view_without_api")]
    async fn viewed(&self, auth: CommitAuth, id: Path<String>) -> ApiResult<Json<ViewAck>> {
        let status = match player::record_view_without_api(&self.state, auth.caller(), &id.0).await? {
            Viewed::Completed => {
                refresh_attempt_progress(&self.state, &id.0).await;
                "completed"
            }
            Viewed::Ignored => "ignored",
        };
        Ok(Json(ViewAck { status: status.into() }))
    }

    /// An attempt's tracked data
    ///
    /// Status, score, time, bookmark, the interactions (questions and responses) and
    /// objectives the SCO recorded, and every stored data-model element, for the course's
    /// instructors, its institute's managers and administrators (the data holds the correct
    /// responses, so learners do not read it here).
    #[oai(path = "/v1/attempts/:id", method = "get", operation_id = "get_attempt")]
    async fn attempt(&self, auth: Auth, id: Path<String>) -> ApiResult<Json<AttemptDetail>> {
        let not_found = || HttpError::not_found("no such attempt");
        let attempt = tracking::find(&self.state.db, &id.0).await.map_err(HttpError::from)?.ok_or_else(not_found)?;
        super::courses::managed_course(&self.state, auth.actor(), &attempt.course_id).await?;
        let learner = accounts::find_by_id(&self.state.db, &attempt.user_id).await?.ok_or_else(not_found)?;
        let elements: BTreeMap<String, String> =
            serde_json::from_str(&attempt.state_json).map_err(|e| HttpError::internal(&e))?;
        let version = ScormVersion::from_label(&attempt.scorm_version);
        Ok(Json(AttemptDetail {
            interactions: records::interactions(version, &elements).into_iter().map(Into::into).collect(),
            objectives: records::objectives(version, &elements).into_iter().map(Into::into).collect(),
            elements,
            id: attempt.id,
            learner: AttemptLearner { id: learner.id, name: learner.name, email: learner.email },
            course_id: attempt.course_id,
            item: attempt.item_identifier,
            number: attempt.number,
            scorm_version: attempt.scorm_version,
            completion: attempt.completion,
            success: attempt.success,
            score_scaled: attempt.score_scaled,
            score_raw: attempt.score_raw,
            total_time_seconds: attempt.total_time_seconds,
            location: attempt.location,
            suspended: attempt.suspended,
            started_at: attempt.started_at,
            updated_at: attempt.updated_at,
            finished_at: attempt.finished_at,
            reset_at: attempt.voided_at,
        }))
    }
}

impl CommitAuth {
    fn caller(&self) -> Caller<'_> {
        match self {
            CommitAuth::Launch(LaunchAuth(token)) => Caller::LaunchToken(token),
            CommitAuth::Session(SessionAuth(actor)) | CommitAuth::Token(TokenAuth(actor)) => Caller::Learner(actor),
        }
    }
}

/// Recomputes a learner's course progress after an attempt's status or score changed. The
/// commit (or the view) is already stored, so a failure here is logged and healed by the
/// next refresh (every course page and lesson view refreshes too) rather than failing the
/// request.
async fn refresh_progress(state: &AppState, course_id: &str, user_id: &str) {
    if let Err(e) = cairn_core::progress::refresh(&state.db, course_id, user_id).await {
        let e = HttpError::from(e);
        tracing::warn!(course = course_id, user = user_id, error = %e.message, "course progress not refreshed after an update");
    }
}

/// The course and learner of an attempt, for a refresh after a view.
async fn refresh_attempt_progress(state: &AppState, attempt_id: &str) {
    match cairn_core::tracking::find(&state.db, attempt_id).await {
        Ok(Some(attempt)) => refresh_progress(state, &attempt.course_id, &attempt.user_id).await,
        Ok(None) => {}
        Err(e) => tracing::warn!(attempt = attempt_id, error = %e, "course progress not refreshed after a view"),
    }
}
