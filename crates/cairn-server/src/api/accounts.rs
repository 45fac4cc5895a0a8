//! `/api/v1/me` and `/api/v1/users`: the caller's account and the accounts they look after.

use std::sync::Arc;

use cairn_core::accounts::policy::{self, UserScope};
use cairn_core::accounts::{self, NewUser, Role, User, UserFilter};
use cairn_core::organisations;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};
use time::OffsetDateTime;

use super::{deny, ApiResult, ApiTags, Auth};
use crate::app::AppState;
use crate::web::errors::HttpError;

pub struct AccountsApi {
    pub state: Arc<AppState>,
}

/// A platform role.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[oai(rename_all = "lowercase")]
pub enum ApiRole {
    Admin,
    Manager,
    Instructor,
    Learner,
}

impl From<Role> for ApiRole {
    fn from(r: Role) -> Self {
        match r {
            Role::Admin => ApiRole::Admin,
            Role::Manager => ApiRole::Manager,
            Role::Instructor => ApiRole::Instructor,
            Role::Learner => ApiRole::Learner,
        }
    }
}

impl From<ApiRole> for Role {
    fn from(r: ApiRole) -> Self {
        match r {
            ApiRole::Admin => Role::Admin,
            ApiRole::Manager => Role::Manager,
            ApiRole::Instructor => Role::Instructor,
            ApiRole::Learner => Role::Learner,
        }
    }
}

/// An account.
#[derive(Object, Debug)]
pub struct UserView {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: ApiRole,
    pub active: bool,
    pub created_at: OffsetDateTime,
    pub last_login_at: Option<OffsetDateTime>,
}

impl From<User> for UserView {
    fn from(u: User) -> Self {
        UserView {
            id: u.id,
            email: u.email,
            name: u.name,
            role: u.role.into(),
            active: u.active,
            created_at: u.created_at,
            last_login_at: u.last_login_at,
        }
    }
}

/// A short reference to an institute.
#[derive(Object, Debug)]
pub struct InstituteRef {
    pub id: String,
    pub slug: String,
    pub name: String,
}

/// The caller's own account and institutes.
#[derive(Object, Debug)]
pub struct Me {
    pub user: UserView,
    pub institutes: Vec<InstituteRef>,
}

/// One page of accounts.
#[derive(Object, Debug)]
pub struct UserPage {
    pub items: Vec<UserView>,
    /// How many accounts match in all.
    pub total: i64,
    pub offset: i64,
    pub limit: i64,
}

impl From<accounts::Page<User>> for UserPage {
    fn from(p: accounts::Page<User>) -> Self {
        UserPage {
            items: p.items.into_iter().map(UserView::from).collect(),
            total: p.total,
            offset: p.offset,
            limit: p.limit,
        }
    }
}

/// A new account.
#[derive(Object, Debug)]
pub struct CreateUser {
    /// Unique, case-insensitive; at most 254 characters.
    #[oai(validator(max_length = 254))]
    pub email: String,
    /// Display name; at most 200 characters.
    #[oai(validator(max_length = 200))]
    pub name: String,
    pub role: ApiRole,
    /// 8 to 1024 characters. Leave out to have one generated and returned once.
    #[oai(validator(max_length = 1024))]
    pub password: Option<String>,
    /// Slug of the institute the account joins. Required when a manager creates the account.
    pub institute: Option<String>,
}

/// A created account, with the generated password when none was given. It is shown only
/// in this answer.
#[derive(Object, Debug)]
pub struct CreatedUser {
    pub user: UserView,
    pub generated_password: Option<String>,
}

#[derive(ApiResponse)]
pub enum CreateUserResponse {
    /// The account was created.
    #[oai(status = 201)]
    Created(Json<CreatedUser>),
}

#[OpenApi(tag = "ApiTags::Accounts")]
impl AccountsApi {
    /// Your own account
    ///
    /// Who the session or token belongs to, with the institutes they are a member of.
    #[oai(path = "/v1/me", method = "get", operation_id = "get_me")]
    async fn me(&self, auth: Auth) -> ApiResult<Json<Me>> {
        let actor = auth.actor();
        let institutes = organisations::of_user(&self.state.db, &actor.user.id)
            .await?
            .into_iter()
            .map(|o| InstituteRef { id: o.id, slug: o.slug, name: o.name })
            .collect();
        Ok(Json(Me { user: actor.user.clone().into(), institutes }))
    }

    /// List accounts
    ///
    /// Admins see every account; managers and instructors see the members of their
    /// institutes; learners may not list accounts. Newest first.
    #[oai(path = "/v1/users", method = "get", operation_id = "list_users")]
    async fn list_users(
        &self,
        auth: Auth,
        /// Only accounts with this role.
        role: Query<Option<ApiRole>>,
        /// Only members of the institute with this slug.
        institute: Query<Option<String>>,
        /// Case-insensitive text in the name or e-mail.
        q: Query<Option<String>>,
        /// How many to skip.
        #[oai(default)]
        offset: Query<i64>,
        /// How many to return, at most 200.
        #[oai(default = "default_limit")]
        limit: Query<i64>,
    ) -> ApiResult<Json<UserPage>> {
        let actor = auth.actor();
        let Some(scope) = policy::user_scope(&actor.principal) else {
            return Err(deny("learners cannot list accounts"));
        };
        let organisation_id = match institute.0 {
            Some(slug) => Some(organisations::get_by_slug(&self.state.db, &slug).await?.id),
            None => None,
        };
        let filter = UserFilter {
            organisation_id,
            within_organisations: match scope {
                UserScope::Everyone => None,
                UserScope::Organisations(ids) => Some(ids),
            },
            role: role.0.map(Role::from),
            search: q.0.filter(|s| !s.trim().is_empty()),
        };
        Ok(Json(accounts::list_users(&self.state.db, &filter, offset.0, limit.0).await?.into()))
    }

    /// Create an account
    ///
    /// Admins create any account. Managers create instructors and learners in their own
    /// institutes. Without a password, a random one is generated and returned once.
    #[oai(path = "/v1/users", method = "post", operation_id = "create_user")]
    async fn create_user(&self, auth: Auth, body: Json<CreateUser>) -> ApiResult<CreateUserResponse> {
        let actor = auth.actor();
        let body = body.0;
        let organisation = match &body.institute {
            Some(slug) => Some(organisations::get_by_slug(&self.state.db, slug).await?),
            None => None,
        };
        let role = Role::from(body.role);
        if !policy::may_create_user(&actor.principal, role, organisation.as_ref().map(|o| o.id.as_str())) {
            return Err(deny(&format!("your role ({}) may not create {} accounts here", actor.user.role, role)));
        }
        let created = accounts::create_user(
            &self.state.db,
            NewUser {
                email: body.email,
                name: body.name,
                role,
                password: body.password,
                organisation_id: organisation.map(|o| o.id),
            },
        )
        .await?;
        tracing::info!(by = %actor.user.id, user = %created.user.id, role = %role, "account created");
        Ok(CreateUserResponse::Created(Json(CreatedUser {
            user: created.user.into(),
            generated_password: created.generated_password,
        })))
    }

    /// One account
    ///
    /// Visible to those who may list it (see `list_users`) and to the account itself.
    #[oai(path = "/v1/users/:id", method = "get", operation_id = "get_user")]
    async fn get_user(&self, auth: Auth, id: Path<String>) -> ApiResult<Json<UserView>> {
        let actor = auth.actor();
        let not_found = || HttpError::not_found("no such account").into();
        let user = accounts::find_by_id(&self.state.db, &id.0).await?.ok_or_else(not_found)?;
        if user.id != actor.user.id {
            let visible = match policy::user_scope(&actor.principal) {
                Some(UserScope::Everyone) => true,
                Some(UserScope::Organisations(ids)) => {
                    let theirs = accounts::organisation_ids(&self.state.db, &user.id).await?;
                    theirs.iter().any(|o| ids.contains(o))
                }
                None => false,
            };
            if !visible {
                return Err(not_found());
            }
        }
        Ok(Json(user.into()))
    }
}

fn default_limit() -> i64 {
    50
}
