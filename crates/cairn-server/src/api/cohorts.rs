//! `/api/v1/institutes/{slug}/cohorts`, `/api/v1/cohorts` and `/cohort-enrolments`: named
//! groups of an institute's learners, their members, and enrolling a whole cohort at once.
//!
//! Cohorts are managed by the institute's managers and administrators
//! (`policy::may_manage_members`). Instructors and learners are refused before any lookup;
//! a cohort of an institute the caller does not manage is "not found", since cohort ids
//! are not listed anywhere they could see.

use std::sync::Arc;

use cairn_core::accounts::policy::{self, Principal};
use cairn_core::accounts::{self, Role};
use cairn_core::cohorts::{self, Cohort, Member};
use cairn_core::organisations;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use time::OffsetDateTime;

use super::courses::managed_course;
use super::{ApiResult, ApiTags, Auth};
use crate::app::AppState;
use crate::auth::Actor;
use crate::web::errors::HttpError;

pub struct CohortsApi {
    pub state: Arc<AppState>,
}

/// A cohort: a named group of an institute's learners (an intake, a ministry, a class).
#[derive(Object, Debug)]
pub struct CohortView {
    pub id: String,
    pub institute_id: String,
    pub name: String,
    pub created_at: OffsetDateTime,
    pub member_count: i64,
}

impl From<Cohort> for CohortView {
    fn from(c: Cohort) -> Self {
        CohortView {
            id: c.id,
            institute_id: c.organisation_id,
            name: c.name,
            created_at: c.created_at,
            member_count: c.members,
        }
    }
}

/// A member of a cohort.
#[derive(Object, Debug)]
pub struct CohortMemberView {
    pub user_id: String,
    pub name: String,
    pub email: String,
}

impl From<Member> for CohortMemberView {
    fn from(m: Member) -> Self {
        CohortMemberView { user_id: m.user_id, name: m.name, email: m.email }
    }
}

/// A new cohort.
#[derive(Object, Debug)]
pub struct CreateCohort {
    /// Unique within the institute; at most 100 characters.
    pub name: String,
}

/// Who to add: a member of the cohort's institute, by id or by e-mail.
#[derive(Object, Debug)]
pub struct AddCohortMember {
    pub user_id: Option<String>,
    pub email: Option<String>,
}

/// Enrol every member of a cohort in a course.
#[derive(Object, Debug)]
pub struct CohortEnrolment {
    pub cohort_id: String,
    /// When access opens (RFC 3339); immediately when left out.
    pub starts_at: Option<OffsetDateTime>,
    /// When access ends (RFC 3339); never when left out.
    pub ends_at: Option<OffsetDateTime>,
}

/// How many members were enrolled.
#[derive(Object, Debug)]
pub struct CohortEnrolled {
    /// Members enrolled now, or enrolled again after a withdrawal (with their progress).
    pub enrolled: u64,
}

#[derive(ApiResponse)]
pub enum CreateCohortResponse {
    /// The cohort was created.
    #[oai(status = 201)]
    Created(Json<CohortView>),
}

#[derive(ApiResponse)]
pub enum MemberResponse {
    /// Done (adding an existing member or removing a non-member changes nothing).
    #[oai(status = 204)]
    Done,
}

const REFUSAL: &str = "only administrators and the institute's managers manage cohorts";

/// Refuses instructors and learners before any lookup: only administrators and managers
/// manage cohorts anywhere.
fn refuse_non_managers(actor: &Actor) -> Result<(), HttpError> {
    if matches!(actor.principal.role, Role::Admin | Role::Manager) {
        Ok(())
    } else {
        Err(HttpError::forbidden(REFUSAL))
    }
}

#[OpenApi(tag = "ApiTags::Cohorts")]
impl CohortsApi {
    /// List an institute's cohorts
    ///
    /// By name, with member counts. Administrators and the institute's managers.
    #[oai(path = "/v1/institutes/:slug/cohorts", method = "get", operation_id = "list_cohorts")]
    async fn list(&self, auth: Auth, slug: Path<String>) -> ApiResult<Json<Vec<CohortView>>> {
        let org = self.managed_institute(auth.actor(), &slug.0).await?;
        let list = cohorts::of_organisation(&self.state.db, &org).await?;
        Ok(Json(list.into_iter().map(CohortView::from).collect()))
    }

    /// Create a cohort
    ///
    /// Administrators and the institute's managers. Names are unique within an institute
    /// (409 otherwise).
    #[oai(path = "/v1/institutes/:slug/cohorts", method = "post", operation_id = "create_cohort")]
    async fn create(
        &self,
        auth: Auth,
        slug: Path<String>,
        body: Json<CreateCohort>,
    ) -> ApiResult<CreateCohortResponse> {
        let org = self.managed_institute(auth.actor(), &slug.0).await?;
        let cohort = cohorts::create(&self.state.db, &org, &body.0.name).await?;
        tracing::info!(by = %auth.actor().user.id, cohort = %cohort.id, "cohort created");
        Ok(CreateCohortResponse::Created(Json(cohort.into())))
    }

    /// List a cohort's members
    #[oai(path = "/v1/cohorts/:id/members", method = "get", operation_id = "list_cohort_members")]
    async fn members(&self, auth: Auth, id: Path<String>) -> ApiResult<Json<Vec<CohortMemberView>>> {
        let cohort = self.managed_cohort(auth.actor(), &id.0).await?;
        let members = cohorts::members(&self.state.db, &cohort.id).await?;
        Ok(Json(members.into_iter().map(CohortMemberView::from).collect()))
    }

    /// Add a member to a cohort
    ///
    /// The account must belong to the cohort's institute (404 otherwise, so that e-mails of
    /// other institutes cannot be probed).
    #[oai(path = "/v1/cohorts/:id/members", method = "post", operation_id = "add_cohort_member")]
    async fn add_member(&self, auth: Auth, id: Path<String>, body: Json<AddCohortMember>) -> ApiResult<MemberResponse> {
        let cohort = self.managed_cohort(auth.actor(), &id.0).await?;
        let found = match (&body.0.user_id, &body.0.email) {
            (Some(id), _) => accounts::find_by_id(&self.state.db, id).await?,
            (None, Some(email)) => accounts::find_by_email(&self.state.db, email).await?,
            (None, None) => return Err(HttpError::invalid("give user_id or email").into()),
        };
        let member = match found {
            Some(user)
                if accounts::organisation_ids(&self.state.db, &user.id).await?.contains(&cohort.organisation_id) =>
            {
                user
            }
            _ => return Err(HttpError::not_found("no account with that id or e-mail in this institute").into()),
        };
        cohorts::add_member(&self.state.db, &cohort.id, &member.id).await?;
        Ok(MemberResponse::Done)
    }

    /// Remove a member from a cohort
    ///
    /// The account leaves the cohort; its enrolments (and the cohort recorded on them) stay.
    #[oai(path = "/v1/cohorts/:id/members/:user_id", method = "delete", operation_id = "remove_cohort_member")]
    async fn remove_member(&self, auth: Auth, id: Path<String>, user_id: Path<String>) -> ApiResult<MemberResponse> {
        let cohort = self.managed_cohort(auth.actor(), &id.0).await?;
        cohorts::remove_member(&self.state.db, &cohort.id, &user_id.0).await?;
        Ok(MemberResponse::Done)
    }

    /// Enrol a cohort in a course
    ///
    /// Enrols every current member of the cohort, recording the cohort on each enrolment.
    /// Members who had been withdrawn are enrolled again with their progress. Administrators
    /// and managers of both the cohort's and the course's institute.
    #[oai(path = "/v1/courses/:id/cohort-enrolments", method = "post", operation_id = "enrol_cohort")]
    async fn enrol_cohort(
        &self,
        auth: Auth,
        id: Path<String>,
        body: Json<CohortEnrolment>,
    ) -> ApiResult<Json<CohortEnrolled>> {
        let actor = auth.actor();
        refuse_non_managers(actor)?;
        let course = managed_course(&self.state, actor, &id.0).await?;
        let cohort = self.managed_cohort(actor, &body.0.cohort_id).await?;
        let enrolled =
            cohorts::enrol_cohort(&self.state.db, &course.id, &cohort.id, body.0.starts_at, body.0.ends_at).await?;
        tracing::info!(by = %actor.user.id, course = %course.slug, cohort = %cohort.id, enrolled, "cohort enrolled");
        Ok(Json(CohortEnrolled { enrolled: enrolled as u64 }))
    }
}

impl CohortsApi {
    /// The id of an institute the actor manages.
    async fn managed_institute(&self, actor: &Actor, slug: &str) -> Result<String, HttpError> {
        refuse_non_managers(actor)?;
        let org = organisations::get_by_slug(&self.state.db, slug).await?;
        if !policy::may_manage_members(&actor.principal, &org.id) {
            return Err(HttpError::forbidden(REFUSAL));
        }
        Ok(org.id)
    }

    /// A cohort of an institute the actor manages; any other is "not found".
    async fn managed_cohort(&self, actor: &Actor, id: &str) -> Result<Cohort, HttpError> {
        refuse_non_managers(actor)?;
        match cohorts::find(&self.state.db, id).await {
            Ok(cohort) if manages(&actor.principal, &cohort) => Ok(cohort),
            Ok(_) | Err(cohorts::CohortError::NotFound) => Err(HttpError::not_found(format!("no cohort {id:?}"))),
            Err(e) => Err(e.into()),
        }
    }
}

fn manages(who: &Principal, cohort: &Cohort) -> bool {
    policy::may_manage_members(who, &cohort.organisation_id)
}
