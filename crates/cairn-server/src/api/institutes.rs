//! `/api/v1/institutes`: training institutes and their members.

use std::sync::Arc;

use cairn_core::accounts::{self, policy, UserFilter};
use cairn_core::organisations::{self, Organisation, OrganisationSummary};
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use time::OffsetDateTime;

use super::accounts::UserPage;
use super::{deny, ApiResult, ApiTags, Auth};
use crate::app::AppState;
use crate::web::errors::HttpError;

pub struct InstitutesApi {
    pub state: Arc<AppState>,
}

/// A training institute.
#[derive(Object, Debug)]
pub struct InstituteView {
    pub id: String,
    /// Short name used in addresses, e.g. `ghana-ipa`.
    pub slug: String,
    pub name: String,
    pub created_at: OffsetDateTime,
    pub member_count: i64,
}

impl From<OrganisationSummary> for InstituteView {
    fn from(o: OrganisationSummary) -> Self {
        InstituteView { id: o.id, slug: o.slug, name: o.name, created_at: o.created_at, member_count: o.member_count }
    }
}

impl InstituteView {
    fn new(o: Organisation, member_count: i64) -> Self {
        InstituteView { id: o.id, slug: o.slug, name: o.name, created_at: o.created_at, member_count }
    }
}

#[derive(Object, Debug)]
pub struct CreateInstitute {
    /// 2 to 64 characters: lower-case letters, digits and single dashes.
    #[oai(validator(max_length = 64))]
    pub slug: String,
    /// At most 200 characters.
    #[oai(validator(max_length = 200))]
    pub name: String,
}

/// Who to add: an existing account, by id or by e-mail.
#[derive(Object, Debug)]
pub struct AddMember {
    pub user_id: Option<String>,
    #[oai(validator(max_length = 254))]
    pub email: Option<String>,
}

#[derive(ApiResponse)]
pub enum CreateInstituteResponse {
    /// The institute was created.
    #[oai(status = 201)]
    Created(Json<InstituteView>),
}

#[derive(ApiResponse)]
pub enum AddMemberResponse {
    /// The account is a member (it may already have been).
    #[oai(status = 204)]
    Added,
}

#[OpenApi(tag = "ApiTags::Institutes")]
impl InstitutesApi {
    /// List institutes
    ///
    /// Every institute of the network, alphabetically, with member counts.
    #[oai(path = "/v1/institutes", method = "get", operation_id = "list_institutes")]
    async fn list(&self, _auth: Auth) -> ApiResult<Json<Vec<InstituteView>>> {
        let list = organisations::list(&self.state.db).await?;
        Ok(Json(list.into_iter().map(InstituteView::from).collect()))
    }

    /// Create an institute
    ///
    /// Admins only.
    #[oai(path = "/v1/institutes", method = "post", operation_id = "create_institute")]
    async fn create(&self, auth: Auth, body: Json<CreateInstitute>) -> ApiResult<CreateInstituteResponse> {
        if !policy::may_create_organisation(&auth.actor().principal) {
            return Err(deny("only administrators create institutes"));
        }
        let org = organisations::create(&self.state.db, &body.0.slug, &body.0.name).await?;
        tracing::info!(by = %auth.actor().user.id, institute = %org.slug, "institute created");
        Ok(CreateInstituteResponse::Created(Json(InstituteView::new(org, 0))))
    }

    /// One institute
    #[oai(path = "/v1/institutes/:slug", method = "get", operation_id = "get_institute")]
    async fn get(&self, _auth: Auth, slug: Path<String>) -> ApiResult<Json<InstituteView>> {
        Ok(Json(organisations::summary_by_slug(&self.state.db, &slug.0).await?.into()))
    }

    /// List an institute's members
    ///
    /// Admins, and the institute's managers and instructors. Newest first.
    #[oai(path = "/v1/institutes/:slug/members", method = "get", operation_id = "list_institute_members")]
    async fn members(
        &self,
        auth: Auth,
        slug: Path<String>,
        #[oai(default)] offset: Query<i64>,
        /// How many to return, at most 200.
        #[oai(default = "default_limit")]
        limit: Query<i64>,
    ) -> ApiResult<Json<UserPage>> {
        let org = organisations::get_by_slug(&self.state.db, &slug.0).await?;
        if !policy::may_view_members(&auth.actor().principal, &org.id) {
            return Err(deny("only this institute's staff may see its members"));
        }
        let filter = UserFilter { organisation_id: Some(org.id), ..Default::default() };
        Ok(Json(accounts::list_users(&self.state.db, &filter, offset.0, limit.0).await?.into()))
    }

    /// Add a member to an institute
    ///
    /// Admins, and the institute's managers. Adding an existing member changes nothing.
    #[oai(path = "/v1/institutes/:slug/members", method = "post", operation_id = "add_institute_member")]
    async fn add_member(&self, auth: Auth, slug: Path<String>, body: Json<AddMember>) -> ApiResult<AddMemberResponse> {
        let org = organisations::get_by_slug(&self.state.db, &slug.0).await?;
        // Checked before the lookup so that outsiders cannot probe which e-mails exist.
        if !policy::may_manage_members(&auth.actor().principal, &org.id) {
            return Err(deny("only administrators and this institute's managers add members"));
        }
        let user = match (&body.0.user_id, &body.0.email) {
            (Some(id), _) => accounts::find_by_id(&self.state.db, id).await?,
            (None, Some(email)) => accounts::find_by_email(&self.state.db, email).await?,
            (None, None) => return Err(HttpError::invalid("give user_id or email").into()),
        }
        .ok_or_else(|| HttpError::not_found("no account with that id or e-mail"))?;
        if !policy::may_add_member(&auth.actor().principal, &org.id, user.role) {
            return Err(deny(
                "only administrators, and this institute's managers for instructors and learners, add members",
            ));
        }
        organisations::add_member(&self.state.db, &org.id, &user.id).await?;
        Ok(AddMemberResponse::Added)
    }
}

fn default_limit() -> i64 {
    50
}
