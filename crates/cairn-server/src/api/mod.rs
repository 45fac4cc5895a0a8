//! The JSON API under `/api`: one `#[OpenApi]` struct per tag, shared auth and error types.

pub mod accounts;
pub mod bulk;
pub mod cohorts;
pub mod courses;
pub mod enrolments;
pub mod institutes;
pub mod outline;
pub mod progress;
pub mod reports;
pub mod tokens;
pub mod tracking;

use std::sync::Arc;

use poem::http::Method;
use poem::Request;
use poem_openapi::auth::{ApiKey, Bearer};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApiService, SecurityScheme, Tags};

use crate::app::AppState;
use crate::auth::{self, Actor};
use crate::web::csrf;
use crate::web::errors::{ErrorBody, HttpError};

#[derive(Tags)]
pub enum ApiTags {
    /// Accounts: who you are, and (for admins and managers) the users you look after.
    Accounts,
    /// API tokens for scripts.
    Tokens,
    /// Training institutes and their members.
    Institutes,
    /// Courses and the packages imported into them.
    Courses,
    /// SCORM tracking: attempts and the commits of the player.
    Tracking,
    /// Course outlines: modules, lessons, their order and prerequisites (editors).
    Outline,
    /// Who takes a course: self-enrolment, manual and bulk enrolment, withdrawal, the
    /// roster and the lesson × learner matrix.
    Enrolments,
    /// Cohorts: named groups of an institute's learners, enrolled in courses together.
    Cohorts,
    /// A learner's own courses and progress: lessons viewed and marked done.
    Learning,
    /// Reports for staff, as CSV files.
    Reports,
}

/// Every API error: `{ "code": "...", "message": "..." }` with the matching status.
#[derive(ApiResponse, Debug)]
pub enum ApiError {
    /// The request is malformed.
    #[oai(status = 400)]
    BadRequest(Json<ErrorBody>),
    /// No valid session cookie or API token.
    #[oai(status = 401)]
    Unauthorized(Json<ErrorBody>),
    /// Authenticated, but not allowed to do this.
    #[oai(status = 403)]
    Forbidden(Json<ErrorBody>),
    /// The thing asked for does not exist (or is not visible to you).
    #[oai(status = 404)]
    NotFound(Json<ErrorBody>),
    /// It already exists.
    #[oai(status = 409)]
    Conflict(Json<ErrorBody>),
    /// It existed but is gone for good (e.g. a reset attempt).
    #[oai(status = 410)]
    Gone(Json<ErrorBody>),
    /// A field breaks a rule; the message names it.
    #[oai(status = 422)]
    Invalid(Json<ErrorBody>),
    /// Too many attempts; see `Retry-After`.
    #[oai(status = 429)]
    TooManyRequests(Json<ErrorBody>),
    /// A failure inside Cairn; logged with the request id.
    #[oai(status = 500)]
    Internal(Json<ErrorBody>),
    /// The database or Redis is unreachable; retry later.
    #[oai(status = 503)]
    Unavailable(Json<ErrorBody>),
}

impl From<HttpError> for ApiError {
    fn from(e: HttpError) -> Self {
        let body = Json(e.body());
        match e.status.as_u16() {
            400 => ApiError::BadRequest(body),
            401 => ApiError::Unauthorized(body),
            403 => ApiError::Forbidden(body),
            404 => ApiError::NotFound(body),
            409 => ApiError::Conflict(body),
            410 => ApiError::Gone(body),
            422 => ApiError::Invalid(body),
            429 => ApiError::TooManyRequests(body),
            503 => ApiError::Unavailable(body),
            _ => ApiError::Internal(body),
        }
    }
}

macro_rules! api_error_from {
    ($($t:ty),*) => {$(
        impl From<$t> for ApiError {
            fn from(e: $t) -> Self {
                HttpError::from(e).into()
            }
        }
    )*};
}
api_error_from!(
    cairn_core::accounts::AccountError,
    cairn_core::organisations::OrganisationError,
    cairn_core::catalog::CatalogError,
    cairn_core::packages::PackageError,
    cairn_core::outline::OutlineError,
    cairn_core::enrolments::EnrolmentError,
    cairn_core::cohorts::CohortError,
    cairn_core::progress::ProgressError,
    cairn_core::StoreError
);

pub type ApiResult<T> = Result<T, ApiError>;

/// Answers a denied action with 403 and a reason.
pub fn deny(reason: &str) -> ApiError {
    HttpError::forbidden(reason).into()
}

fn state_of(req: &Request) -> poem::Result<&Arc<AppState>> {
    req.data::<Arc<AppState>>().ok_or_else(|| {
        HttpError::new(poem::http::StatusCode::INTERNAL_SERVER_ERROR, "internal", "application state missing").into()
    })
}

/// The session cookie of a signed-in browser. Unsafe methods must also send the CSRF
/// token in `X-CSRF-Token` (checked by [`csrf_for_cookie_writes`]).
#[derive(SecurityScheme)]
#[oai(ty = "api_key", key_name = "cairn_session", key_in = "cookie", checker = "check_session")]
pub struct SessionAuth(Actor);

async fn check_session(req: &Request, key: ApiKey) -> poem::Result<Actor> {
    let state = state_of(req)?;
    Ok(auth::from_session(state, &key.key).await?.ok_or_else(HttpError::unauthorized)?)
}

/// Refuses API writes that ride on the session cookie without the `X-CSRF-Token` header,
/// so a cross-site page cannot use a signed-in browser's cookie. Requests that carry an
/// `Authorization` header are scripts with tokens and are not affected. This runs before
/// the security schemes so that its answer is not masked by the token scheme's own.
pub async fn csrf_for_cookie_writes<E: poem::Endpoint>(next: E, req: Request) -> poem::Result<E::Output> {
    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let uses_cookie = !req.headers().contains_key(poem::http::header::AUTHORIZATION)
        && req.cookie().get(crate::sessions::SESSION_COOKIE).is_some();
    if unsafe_method && uses_cookie {
        let header = req.headers().get(csrf::CSRF_HEADER).and_then(|v| v.to_str().ok());
        csrf::verify(req.cookie(), header)?;
    }
    next.call(req).await
}

/// An API token from `POST /api/v1/tokens`, sent as `Authorization: Bearer cairn_...`.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", checker = "check_bearer")]
pub struct TokenAuth(Actor);

async fn check_bearer(req: &Request, bearer: Bearer) -> poem::Result<Actor> {
    let state = state_of(req)?;
    auth::from_token(state, &bearer.token).await?.ok_or_else(|| {
        HttpError::new(
            poem::http::StatusCode::UNAUTHORIZED,
            "invalid_token",
            "this API token is unknown or has been revoked; create a new one on your account page",
        )
        .into()
    })
}

/// Either way of signing in. The token is tried last so that its specific error
/// ("revoked") is the one reported when both fail.
#[derive(SecurityScheme)]
pub enum Auth {
    Session(SessionAuth),
    Token(TokenAuth),
}

impl Auth {
    pub fn actor(&self) -> &Actor {
        match self {
            Auth::Session(SessionAuth(a)) | Auth::Token(TokenAuth(a)) => a,
        }
    }
}

pub type Apis = (
    accounts::AccountsApi,
    tokens::TokensApi,
    institutes::InstitutesApi,
    courses::CoursesApi,
    tracking::TrackingApi,
    outline::OutlineApi,
    enrolments::EnrolmentsApi,
    bulk::BulkApi,
    cohorts::CohortsApi,
    progress::ProgressApi,
    reports::ReportsApi,
);

/// The OpenAPI service with every tag, served under `/api`.
pub fn service(state: &Arc<AppState>) -> OpenApiService<Apis, ()> {
    let apis = (
        accounts::AccountsApi { state: state.clone() },
        tokens::TokensApi { state: state.clone() },
        institutes::InstitutesApi { state: state.clone() },
        courses::CoursesApi { state: state.clone() },
        tracking::TrackingApi { state: state.clone() },
        outline::OutlineApi { state: state.clone() },
        enrolments::EnrolmentsApi { state: state.clone() },
        bulk::BulkApi { state: state.clone() },
        cohorts::CohortsApi { state: state.clone() },
        progress::ProgressApi { state: state.clone() },
        reports::ReportsApi { state: state.clone() },
    );
    OpenApiService::new(apis, "Cairn API", env!("CARGO_PKG_VERSION"))
        .description(
            "The Cairn learning-management API. Authenticate with an API token \
             (`Authorization: Bearer cairn_...`, create one on your account page) or, from a \
             signed-in browser, the session cookie plus an `X-CSRF-Token` header on unsafe methods. \
             Every error answers `{ \"code\": \"...\", \"message\": \"...\" }`.",
        )
        .server("/api")
}

/// The OpenAPI document as JSON, e.g. for snapshot tests and `cairn openapi`.
pub fn spec_json(state: &Arc<AppState>) -> String {
    service(state).spec()
}
