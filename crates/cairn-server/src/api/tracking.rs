//! `/api/v1/attempts`: the commits the SCORM player sends, and its report that a SCO was
//! shown without ever calling the API (the no-API rule, `player::record_view_without_api`).

use std::sync::Arc;

use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use poem_openapi::auth::ApiKey;
use poem_openapi::SecurityScheme;

use super::{ApiResult, ApiTags, SessionAuth, TokenAuth};
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
