//! The institute manager's landing page: members of their institutes and adding new ones.

use std::sync::Arc;

use cairn_core::accounts::{self, policy, NewUser, Role, UserFilter};
use cairn_core::organisations;
use poem::http::StatusCode;
use poem::web::cookie::CookieJar;
use poem::web::{Data, Path};
use poem::{handler, IntoResponse, Response};
use serde::Deserialize;
use serde_json::{json, Value};

use super::admin::user_row;
use super::{CurrentUser, PageContext};
use crate::app::AppState;
use crate::auth::Actor;
use crate::web::csrf::VerifiedForm;
use crate::web::errors::HttpError;

const MEMBERS_SHOWN: i64 = 200;

async fn overview_page(state: &AppState, jar: &CookieJar, actor: &Actor) -> Result<PageContext, HttpError> {
    let mut sections: Vec<Value> = Vec::new();
    for org in organisations::of_user(&state.db, &actor.user.id).await? {
        let filter = UserFilter { organisation_id: Some(org.id.clone()), ..Default::default() };
        let members = accounts::list_users(&state.db, &filter, 0, MEMBERS_SHOWN).await?;
        sections.push(json!({
            "slug": org.slug,
            "name": org.name,
            "member_total": members.total,
            "more": members.total - members.items.len() as i64,
            "members": members.items.iter().map(user_row).collect::<Vec<_>>(),
            "can_manage": policy::may_manage_members(&actor.principal, &org.id),
        }));
    }
    Ok(PageContext::new(state, jar, Some(actor), "My institute", "/institute")
        .page(json!({ "institutes": sections, "created": null, "form": null })))
}

#[handler]
pub async fn overview(state: Data<&Arc<AppState>>, jar: &CookieJar, user: CurrentUser) -> Result<Response, HttpError> {
    let actor = user.require(&[Role::Manager, Role::Admin])?;
    Ok(overview_page(&state, jar, actor).await?.render(&state, "pages/institute")?.into_response())
}

#[derive(Deserialize)]
pub struct NewMemberForm {
    email: String,
    name: String,
    role: String,
}

/// Creates an instructor or learner account inside the institute, or adds an existing
/// account with that e-mail, and shows a generated password once.
#[handler]
pub async fn add_member(
    state: Data<&Arc<AppState>>,
    jar: &CookieJar,
    user: CurrentUser,
    slug: Path<String>,
    VerifiedForm(form): VerifiedForm<NewMemberForm>,
) -> Result<Response, HttpError> {
    let actor = user.require(&[Role::Manager, Role::Admin])?;
    let org = organisations::get_by_slug(&state.db, &slug).await?;
    let outcome = async {
        let role: Role =
            form.role.parse().map_err(|e: cairn_core::validate::InvalidInput| HttpError::invalid(e.to_string()))?;
        if let Some(existing) = accounts::find_by_email(&state.db, &form.email).await? {
            if !policy::may_add_member(&actor.principal, &org.id, existing.role) {
                return Err(HttpError::forbidden("you may add only instructors and learners to your institute"));
            }
            organisations::add_member(&state.db, &org.id, &existing.id).await?;
            return Ok((
                format!("{} already had an account and is now a member of {}.", existing.name, org.name),
                None,
            ));
        }
        if !policy::may_create_user(&actor.principal, role, Some(&org.id)) {
            return Err(HttpError::forbidden(format!(
                "you may not create {} accounts in this institute",
                role.label().to_lowercase()
            )));
        }
        let new = NewUser {
            email: form.email.clone(),
            name: form.name.clone(),
            role,
            password: None,
            organisation_id: Some(org.id.clone()),
        };
        let created = accounts::create_user(&state.db, new).await?;
        tracing::info!(by = %actor.user.id, user = %created.user.id, institute = %org.slug, "member account created");
        Ok((
            format!("Account created for {}.", created.user.name),
            Some(json!({ "email": created.user.email, "password": created.generated_password })),
        ))
    }
    .await;
    let mut context = overview_page(&state, jar, actor).await?;
    match outcome {
        Ok((notice, created)) => {
            context.page["created"] = created.unwrap_or(Value::Null);
            Ok(context.notice(notice).render(&state, "pages/institute")?.into_response())
        }
        Err(e) if e.status.is_client_error() => {
            context.page["form"] = json!({ "email": form.email, "name": form.name, "role": form.role });
            let status = if e.status == StatusCode::FORBIDDEN {
                StatusCode::FORBIDDEN
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            Ok((
                status,
                context.error(format!("Nothing was changed: {}.", e.message)).render(&state, "pages/institute")?,
            )
                .into_response())
        }
        Err(e) => Err(e),
    }
}

/// An institute the actor manages, by slug.
async fn managed_institute(
    state: &AppState,
    actor: &Actor,
    slug: &str,
) -> Result<organisations::Organisation, HttpError> {
    let org =
        organisations::find_by_slug(&state.db, slug).await?.ok_or_else(|| HttpError::not_found("no such institute"))?;
    if !policy::may_manage_members(&actor.principal, &org.id) {
        return Err(HttpError::forbidden("only this institute's managers handle its cohorts"));
    }
    Ok(org)
}

async fn cohorts_context(
    state: &AppState,
    jar: &CookieJar,
    actor: &Actor,
    org: &organisations::Organisation,
) -> Result<PageContext, HttpError> {
    let mut list = Vec::new();
    for cohort in cairn_core::cohorts::of_organisation(&state.db, &org.id).await? {
        let members = cairn_core::cohorts::members(&state.db, &cohort.id).await?;
        list.push(json!({
            "id": cohort.id, "name": cohort.name, "count": cohort.members,
            "members": members.iter().map(|m| json!({ "name": m.name, "email": m.email })).collect::<Vec<_>>(),
        }));
    }
    let page = json!({ "slug": org.slug, "name": org.name, "cohorts": list });
    Ok(PageContext::new(state, jar, Some(actor), &format!("Cohorts of {}", org.name), "/institute").page(page))
}

#[handler]
pub async fn cohorts_page(
    state: Data<&Arc<AppState>>,
    jar: &CookieJar,
    user: CurrentUser,
    slug: Path<String>,
) -> Result<Response, HttpError> {
    let actor = &user.0;
    let org = managed_institute(&state, actor, &slug).await?;
    Ok(cohorts_context(&state, jar, actor, &org).await?.render(&state, "pages/cohorts")?.into_response())
}

#[derive(Deserialize)]
pub struct CohortNameForm {
    name: String,
}

#[handler]
pub async fn create_cohort(
    state: Data<&Arc<AppState>>,
    jar: &CookieJar,
    user: CurrentUser,
    slug: Path<String>,
    VerifiedForm(form): VerifiedForm<CohortNameForm>,
) -> Result<Response, HttpError> {
    let actor = &user.0;
    let org = managed_institute(&state, actor, &slug).await?;
    match cairn_core::cohorts::create(&state.db, &org.id, &form.name).await {
        Ok(_) => Ok(super::see_other(&format!("/institute/{}/cohorts", org.slug))),
        Err(e) => {
            let e = HttpError::from(e);
            if !e.status.is_client_error() {
                return Err(e);
            }
            let context =
                cohorts_context(&state, jar, actor, &org).await?.error(format!("Not created: {}.", e.message));
            Ok((e.status, context.render(&state, "pages/cohorts")?).into_response())
        }
    }
}

#[derive(Deserialize)]
pub struct CohortMemberForm {
    email: String,
}

#[handler]
pub async fn add_cohort_member(
    state: Data<&Arc<AppState>>,
    jar: &CookieJar,
    user: CurrentUser,
    id: Path<String>,
    VerifiedForm(form): VerifiedForm<CohortMemberForm>,
) -> Result<Response, HttpError> {
    let actor = &user.0;
    let cohort = cairn_core::cohorts::find(&state.db, &id).await?;
    let org = organisations::list(&state.db)
        .await?
        .into_iter()
        .find(|o| o.id == cohort.organisation_id)
        .ok_or_else(|| HttpError::not_found("no such cohort"))?;
    let org = managed_institute(&state, actor, &org.slug).await?;
    let person = match accounts::find_by_email(&state.db, &form.email).await? {
        // Only members of this institute join its cohorts; others read as unknown, so the
        // page does not tell which e-mails have accounts elsewhere.
        Some(p) if accounts::organisation_ids(&state.db, &p.id).await?.contains(&org.id) => Some(p),
        _ => None,
    };
    match person {
        Some(member) => {
            cairn_core::cohorts::add_member(&state.db, &cohort.id, &member.id).await?;
            Ok(super::see_other(&format!("/institute/{}/cohorts", org.slug)))
        }
        None => {
            let context = cohorts_context(&state, jar, actor, &org).await?.error(format!(
                "No member of this institute uses {}. Add the person to the institute first.",
                form.email.trim()
            ));
            Ok((StatusCode::UNPROCESSABLE_ENTITY, context.render(&state, "pages/cohorts")?).into_response())
        }
    }
}
