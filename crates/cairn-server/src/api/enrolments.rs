//! `/api/v1/courses/{id}/enrolments`, `/enrol` and `/matrix`: who takes a course. Learners
//! enrol themselves; the course's instructors, its institute's managers and administrators
//! enrol others one by one (files of learners: bulk.rs), withdraw them, and read the roster
//! and the lesson × learner matrix.

use std::sync::Arc;

use cairn_core::accounts::{self, policy, User};
use cairn_core::catalog::Course;
use cairn_core::cohorts;
use cairn_core::enrolments::roster::{self, RosterQuery, RosterRow, RosterSort};
use cairn_core::enrolments::{self, Enrolment, NewEnrolment, Source};
use cairn_core::outline;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use time::OffsetDateTime;

use super::courses::{managed_course, visible_course};
use super::{ApiResult, ApiTags, Auth};
use crate::app::AppState;
use crate::auth::Actor;
use crate::web::errors::HttpError;

pub struct EnrolmentsApi {
    pub state: Arc<AppState>,
}

/// An enrolment: a learner in a course, with their progress.
#[derive(Object, Debug)]
pub struct EnrolmentView {
    pub id: String,
    pub course_id: String,
    pub user_id: String,
    pub cohort_id: Option<String>,
    /// How they joined: `self`, `manual`, `bulk` or `cohort`.
    pub source: String,
    /// `active` or `withdrawn`.
    pub state: String,
    /// `not_started`, `in_progress` or `completed`.
    pub status: String,
    /// Required lessons done, 0–100.
    pub progress_percent: i64,
    /// Mean score of the lessons that report one, 0–100.
    pub score: Option<f64>,
    pub time_spent_seconds: f64,
    pub enrolled_at: OffsetDateTime,
    /// Access opens then, when set.
    pub starts_at: Option<OffsetDateTime>,
    /// Access ends then, when set.
    pub ends_at: Option<OffsetDateTime>,
    pub started_at: Option<OffsetDateTime>,
    /// Set once, when the course is first completed.
    pub completed_at: Option<OffsetDateTime>,
    pub last_access_at: Option<OffsetDateTime>,
    pub withdrawn_at: Option<OffsetDateTime>,
}

impl From<Enrolment> for EnrolmentView {
    fn from(e: Enrolment) -> Self {
        EnrolmentView {
            id: e.id,
            course_id: e.course_id,
            user_id: e.user_id,
            cohort_id: e.cohort_id,
            source: e.source,
            state: e.state,
            status: e.status,
            progress_percent: e.progress_percent,
            score: e.score,
            time_spent_seconds: e.time_spent_seconds,
            enrolled_at: e.enrolled_at,
            starts_at: e.starts_at,
            ends_at: e.ends_at,
            started_at: e.started_at,
            completed_at: e.completed_at,
            last_access_at: e.last_access_at,
            withdrawn_at: e.withdrawn_at,
        }
    }
}

/// One learner of the roster.
#[derive(Object, Debug)]
pub struct RosterRowView {
    pub user_id: String,
    pub name: String,
    pub email: String,
    pub cohort_id: Option<String>,
    /// The cohort's name.
    pub cohort: Option<String>,
    /// `active` or `withdrawn`.
    pub state: String,
    /// `not_started`, `in_progress` or `completed`.
    pub status: String,
    pub progress_percent: i64,
    pub score: Option<f64>,
    pub time_spent_seconds: f64,
    pub enrolled_at: OffsetDateTime,
    pub starts_at: Option<OffsetDateTime>,
    pub ends_at: Option<OffsetDateTime>,
    pub started_at: Option<OffsetDateTime>,
    pub completed_at: Option<OffsetDateTime>,
    pub last_access_at: Option<OffsetDateTime>,
}

impl From<RosterRow> for RosterRowView {
    fn from(r: RosterRow) -> Self {
        RosterRowView {
            user_id: r.user_id,
            name: r.name,
            email: r.email,
            cohort_id: r.cohort_id,
            cohort: r.cohort,
            state: r.state,
            status: r.status,
            progress_percent: r.progress_percent,
            score: r.score,
            time_spent_seconds: r.time_spent_seconds,
            enrolled_at: r.enrolled_at,
            starts_at: r.starts_at,
            ends_at: r.ends_at,
            started_at: r.started_at,
            completed_at: r.completed_at,
            last_access_at: r.last_access_at,
        }
    }
}

/// One page of the roster.
#[derive(Object, Debug)]
pub struct RosterPageView {
    pub items: Vec<RosterRowView>,
    /// How many learners match in all.
    pub total: i64,
    pub offset: i64,
    pub limit: i64,
}

/// Which learners the roster shows.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum RosterStatus {
    NotStarted,
    InProgress,
    Completed,
    /// Withdrawn learners (the others show only active ones).
    Withdrawn,
}

impl RosterStatus {
    fn as_str(self) -> &'static str {
        match self {
            RosterStatus::NotStarted => "not_started",
            RosterStatus::InProgress => "in_progress",
            RosterStatus::Completed => "completed",
            RosterStatus::Withdrawn => "withdrawn",
        }
    }
}

/// What the roster is sorted by.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum RosterSortKey {
    Name,
    Email,
    Progress,
    Status,
    Score,
    Time,
    LastAccess,
    Enrolled,
}

impl From<RosterSortKey> for RosterSort {
    fn from(k: RosterSortKey) -> Self {
        match k {
            RosterSortKey::Name => RosterSort::Name,
            RosterSortKey::Email => RosterSort::Email,
            RosterSortKey::Progress => RosterSort::Progress,
            RosterSortKey::Status => RosterSort::Status,
            RosterSortKey::Score => RosterSort::Score,
            RosterSortKey::Time => RosterSort::Time,
            RosterSortKey::LastAccess => RosterSort::LastAccess,
            RosterSortKey::Enrolled => RosterSort::Enrolled,
        }
    }
}

#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[oai(rename_all = "lowercase")]
pub enum SortOrder {
    Asc,
    Desc,
}

/// One lesson column of the matrix.
#[derive(Object, Debug)]
pub struct MatrixLesson {
    pub id: String,
    pub module_id: String,
    pub title: String,
    /// `scorm`, `page` or `link`.
    pub kind: String,
    pub required: bool,
}

/// One learner's status in one lesson.
#[derive(Object, Debug)]
pub struct MatrixCell {
    pub lesson_id: String,
    /// `not_started`, `in_progress`, `completed`, `passed` or `failed`.
    pub status: String,
    pub score: Option<f64>,
    pub time_spent_seconds: f64,
    pub completed_at: Option<OffsetDateTime>,
}

/// One learner's row of the matrix: a cell per lesson, in the order of `lessons`.
#[derive(Object, Debug)]
pub struct MatrixRow {
    pub learner: RosterRowView,
    pub cells: Vec<MatrixCell>,
}

/// The lesson × learner matrix for one page of the roster.
#[derive(Object, Debug)]
pub struct MatrixView {
    /// Every lesson of the course, in course order.
    pub lessons: Vec<MatrixLesson>,
    pub rows: Vec<MatrixRow>,
    /// How many learners match the filters in all.
    pub total: i64,
    pub offset: i64,
    pub limit: i64,
}

/// Whom to enrol: an existing account by id or e-mail, with an optional access window.
#[derive(Object, Debug)]
pub struct ManualEnrolment {
    pub user_id: Option<String>,
    pub email: Option<String>,
    /// When access opens (RFC 3339); immediately when left out.
    pub starts_at: Option<OffsetDateTime>,
    /// When access ends (RFC 3339); never when left out.
    pub ends_at: Option<OffsetDateTime>,
    /// A cohort of the course's institute to record on the enrolment; the learner joins it.
    pub cohort_id: Option<String>,
}

/// A self-enrolment. Send `{}` for an open course.
#[derive(Object, Debug)]
pub struct SelfEnrolment {
    /// The enrolment key, for courses that need one.
    pub key: Option<String>,
}

#[derive(ApiResponse)]
pub enum EnrolResponse {
    /// The account is now enrolled.
    #[oai(status = 201)]
    Created(Json<EnrolmentView>),
    /// The account was already enrolled, or had been withdrawn; the enrolment is active
    /// again with all its progress.
    #[oai(status = 200)]
    Reactivated(Json<EnrolmentView>),
}

#[derive(ApiResponse)]
pub enum WithdrawResponse {
    /// Withdrawn: the learner loses access; their progress and attempts are kept, and
    /// enrolling them again restores everything.
    #[oai(status = 204)]
    Withdrawn,
}

#[OpenApi(tag = "ApiTags::Enrolments")]
impl EnrolmentsApi {
    /// A course's roster
    ///
    /// The course's learners with their progress, one page at a time. Without `status`,
    /// active learners are listed; `status=withdrawn` lists the withdrawn ones. `q` matches
    /// a piece of the name or e-mail. The course's instructors, its institute's managers
    /// and administrators.
    #[oai(path = "/v1/courses/:id/enrolments", method = "get", operation_id = "list_enrolments")]
    #[allow(clippy::too_many_arguments)]
    async fn roster(
        &self,
        auth: Auth,
        id: Path<String>,
        /// Only learners enrolled with this cohort.
        cohort: Query<Option<String>>,
        status: Query<Option<RosterStatus>>,
        /// A piece of the name or e-mail.
        q: Query<Option<String>>,
        /// Name when left out.
        sort: Query<Option<RosterSortKey>>,
        /// Ascending when left out.
        order: Query<Option<SortOrder>>,
        #[oai(default)] offset: Query<i64>,
        /// How many to return, at most 200.
        #[oai(default = "default_limit")]
        limit: Query<i64>,
    ) -> ApiResult<Json<RosterPageView>> {
        let course = managed_course(&self.state, auth.actor(), &id.0).await?;
        let query = roster_query(&course, cohort.0, status.0, q.0, sort.0, order.0, offset.0, limit.0);
        let page = roster::roster(&self.state.db, &query).await?;
        Ok(Json(RosterPageView {
            items: page.rows.into_iter().map(RosterRowView::from).collect(),
            total: page.total,
            offset: page.offset,
            limit: page.limit,
        }))
    }

    /// Enrol an account
    ///
    /// Enrols an existing account, by id or e-mail, optionally for a window of time and
    /// with a cohort. An account that was withdrawn gets its enrolment back with all its
    /// progress. Administrators enrol any account; instructors and managers, the members
    /// of their institutes.
    #[oai(path = "/v1/courses/:id/enrolments", method = "post", operation_id = "create_enrolment")]
    async fn enrol(&self, auth: Auth, id: Path<String>, body: Json<ManualEnrolment>) -> ApiResult<EnrolResponse> {
        let actor = auth.actor();
        let course = managed_course(&self.state, actor, &id.0).await?;
        let body = body.0;
        enrolments::check_dates(body.starts_at, body.ends_at).map_err(|e| HttpError::invalid(e.to_string()))?;
        let user = account_in_scope(&self.state, actor, body.user_id.as_deref(), body.email.as_deref()).await?;
        if let Some(cohort_id) = &body.cohort_id {
            let cohort = cohorts::find(&self.state.db, cohort_id).await?;
            if cohort.organisation_id != course.organisation_id {
                return Err(HttpError::invalid("cohort_id: the cohort belongs to another institute").into());
            }
        }
        let existed = enrolments::find(&self.state.db, &course.id, &user.id).await?.is_some();
        let new = NewEnrolment {
            course_id: course.id.clone(),
            user_id: user.id.clone(),
            source: Source::Manual,
            cohort_id: body.cohort_id.clone(),
            starts_at: body.starts_at,
            ends_at: body.ends_at,
        };
        let enrolment = enrolments::enrol(&self.state.db, &new).await?;
        if let Some(cohort_id) = &body.cohort_id {
            cohorts::add_member(&self.state.db, cohort_id, &user.id).await?;
        }
        tracing::info!(by = %actor.user.id, course = %course.slug, learner = %user.id, "enrolled");
        Ok(if existed {
            EnrolResponse::Reactivated(Json(enrolment.into()))
        } else {
            EnrolResponse::Created(Json(enrolment.into()))
        })
    }

    /// Withdraw a learner
    ///
    /// The learner loses access to the course. Nothing they did is deleted: enrolling them
    /// again restores their progress.
    #[oai(path = "/v1/courses/:id/enrolments/:user_id", method = "delete", operation_id = "withdraw_enrolment")]
    async fn withdraw(&self, auth: Auth, id: Path<String>, user_id: Path<String>) -> ApiResult<WithdrawResponse> {
        let actor = auth.actor();
        let course = managed_course(&self.state, actor, &id.0).await?;
        enrolments::withdraw(&self.state.db, &course.id, &user_id.0).await?;
        tracing::info!(by = %actor.user.id, course = %course.slug, learner = %user_id.0, "withdrawn");
        Ok(WithdrawResponse::Withdrawn)
    }

    /// Enrol yourself
    ///
    /// Enrols the caller in a published course whose enrolment is open, or keyed (send the
    /// key). Closed or unpublished courses answer 403 `enrolment_closed`; a wrong key 403
    /// `wrong_enrolment_key`.
    #[oai(path = "/v1/courses/:id/enrol", method = "post", operation_id = "self_enrol")]
    async fn self_enrol(&self, auth: Auth, id: Path<String>, body: Json<SelfEnrolment>) -> ApiResult<EnrolResponse> {
        let actor = auth.actor();
        let course = visible_course(&self.state, actor, &id.0).await?;
        let existed = enrolments::find(&self.state.db, &course.id, &actor.user.id).await?.is_some();
        let enrolment = enrolments::self_enrol(&self.state.db, &course, &actor.user.id, body.0.key.as_deref()).await?;
        Ok(if existed {
            EnrolResponse::Reactivated(Json(enrolment.into()))
        } else {
            EnrolResponse::Created(Json(enrolment.into()))
        })
    }

    /// The lesson × learner matrix
    ///
    /// Every lesson of the course against one page of the roster (same filters, sorting and
    /// paging as `list_enrolments`), with each learner's status, score and time per lesson.
    #[oai(path = "/v1/courses/:id/matrix", method = "get", operation_id = "get_matrix")]
    #[allow(clippy::too_many_arguments)]
    async fn matrix(
        &self,
        auth: Auth,
        id: Path<String>,
        /// Only learners enrolled with this cohort.
        cohort: Query<Option<String>>,
        status: Query<Option<RosterStatus>>,
        /// A piece of the name or e-mail.
        q: Query<Option<String>>,
        sort: Query<Option<RosterSortKey>>,
        order: Query<Option<SortOrder>>,
        #[oai(default)] offset: Query<i64>,
        /// How many learners to return, at most 200.
        #[oai(default = "default_limit")]
        limit: Query<i64>,
    ) -> ApiResult<Json<MatrixView>> {
        let course = managed_course(&self.state, auth.actor(), &id.0).await?;
        let query = roster_query(&course, cohort.0, status.0, q.0, sort.0, order.0, offset.0, limit.0);
        let page = roster::roster(&self.state.db, &query).await?;
        let full = outline::of_course(&self.state.db, &course.id).await?;
        let user_ids: Vec<String> = page.rows.iter().map(|r| r.user_id.clone()).collect();
        let cells = roster::cells(&self.state.db, &course.id, &user_ids).await?;
        let lessons: Vec<MatrixLesson> = full
            .lessons()
            .map(|l| MatrixLesson {
                id: l.id.clone(),
                module_id: l.module_id.clone(),
                title: l.title.clone(),
                kind: l.kind.clone(),
                required: l.required,
            })
            .collect();
        let rows = page
            .rows
            .into_iter()
            .map(|learner| {
                let cells = lessons
                    .iter()
                    .map(|lesson| {
                        match cells.iter().find(|c| c.lesson_id == lesson.id && c.user_id == learner.user_id) {
                            Some(c) => MatrixCell {
                                lesson_id: lesson.id.clone(),
                                status: c.status.clone(),
                                score: c.score,
                                time_spent_seconds: c.time_spent_seconds,
                                completed_at: c.completed_at,
                            },
                            None => MatrixCell {
                                lesson_id: lesson.id.clone(),
                                status: "not_started".into(),
                                score: None,
                                time_spent_seconds: 0.0,
                                completed_at: None,
                            },
                        }
                    })
                    .collect();
                MatrixRow { learner: learner.into(), cells }
            })
            .collect();
        Ok(Json(MatrixView { lessons, rows, total: page.total, offset: page.offset, limit: page.limit }))
    }
}

fn default_limit() -> i64 {
    50
}

#[allow(clippy::too_many_arguments)]
fn roster_query(
    course: &Course,
    cohort: Option<String>,
    status: Option<RosterStatus>,
    q: Option<String>,
    sort: Option<RosterSortKey>,
    order: Option<SortOrder>,
    offset: i64,
    limit: i64,
) -> RosterQuery {
    RosterQuery {
        course_id: course.id.clone(),
        cohort_id: cohort.filter(|c| !c.trim().is_empty()),
        status: status.map(|s| s.as_str().to_string()),
        search: q,
        sort: sort.map(RosterSort::from).unwrap_or_default(),
        descending: order == Some(SortOrder::Desc),
        offset,
        limit,
    }
}

/// An account the actor may enrol: any for administrators, members of the actor's own
/// institutes for everyone else. Accounts outside that scope are "not found", so staff of
/// one institute cannot probe which e-mails exist elsewhere.
pub(crate) async fn account_in_scope(
    state: &AppState,
    actor: &Actor,
    user_id: Option<&str>,
    email: Option<&str>,
) -> Result<User, HttpError> {
    let found = match (user_id, email) {
        (Some(id), _) => accounts::find_by_id(&state.db, id).await?,
        (None, Some(email)) => accounts::find_by_email(&state.db, email).await?,
        (None, None) => return Err(HttpError::invalid("give user_id or email")),
    };
    let missing = || HttpError::not_found("no account with that id or e-mail among the people you look after");
    let user = found.ok_or_else(missing)?;
    let in_scope = match policy::user_scope(&actor.principal) {
        Some(policy::UserScope::Everyone) => true,
        Some(policy::UserScope::Organisations(orgs)) => {
            accounts::organisation_ids(&state.db, &user.id).await?.iter().any(|o| orgs.contains(o))
        }
        None => false,
    };
    if in_scope {
        Ok(user)
    } else {
        Err(missing())
    }
}
