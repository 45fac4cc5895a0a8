//! Administration pages: overview, users (list, search, create) and institutes.

use std::sync::Arc;

use cairn_core::accounts::{self, NewUser, Role, User, UserFilter};
use cairn_core::organisations;
use poem::http::StatusCode;
use poem::web::cookie::CookieJar;
use poem::web::{Data, Query};
use poem::{handler, IntoResponse, Response};
use serde::Deserialize;
use serde_json::{json, Value};
use time::OffsetDateTime;

use super::{CurrentUser, PageContext};
use crate::app::AppState;
use crate::auth::Actor;
use crate::web::csrf::VerifiedForm;
use crate::web::errors::HttpError;

const PAGE_SIZE: i64 = 50;

/// A date for tables, e.g. `2026-11-27`.
pub fn date(t: OffsetDateTime) -> String {
    format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day())
}

pub fn user_row(u: &User) -> Value {
    json!({
        "id": u.id, "name": u.name, "email": u.email, "role": u.role.as_str(), "role_label": u.role.label(),
        "created": date(u.created_at), "last_login": u.last_login_at.map(date), "active": u.active,
    })
}

#[handler]
pub async fn overview(state: Data<&Arc<AppState>>, jar: &CookieJar, user: CurrentUser) -> Result<Response, HttpError> {
    let actor = user.require(&[Role::Admin])?;
    let recent = accounts::list_users(&state.db, &UserFilter::default(), 0, 10).await?;
    let by_role: Vec<_> = accounts::count_by_role(&state.db)
        .await?
        .into_iter()
        .map(|(role, count)| json!({ "label": role.label(), "count": count }))
        .collect();
    let page = json!({
        "user_total": recent.total,
        "institute_total": organisations::count(&state.db).await?,
        "by_role": by_role,
        "recent": recent.items.iter().map(user_row).collect::<Vec<_>>(),
    });
    Ok(PageContext::new(&state, jar, Some(actor), "Administration", "/admin")
        .page(page)
        .render(&state, "pages/admin/index")?
        .into_response())
}

#[derive(Deserialize, Default)]
pub struct UserQuery {
    q: Option<String>,
    role: Option<String>,
    offset: Option<i64>,
}

#[derive(Deserialize)]
pub struct NewUserForm {
    email: String,
    name: String,
    role: String,
    institute: Option<String>,
}

async fn users_page(
    state: &AppState,
    jar: &CookieJar,
    actor: &Actor,
    query: &UserQuery,
) -> Result<PageContext, HttpError> {
    let role = query.role.as_deref().filter(|r| !r.is_empty()).and_then(|r| r.parse::<Role>().ok());
    let search = query.q.clone().filter(|q| !q.trim().is_empty());
    let offset = query.offset.unwrap_or(0).max(0);
    let filter = UserFilter { role, search: search.clone(), ..Default::default() };
    let list = accounts::list_users(&state.db, &filter, offset, PAGE_SIZE).await?;
    let institutes = organisations::list(&state.db).await?;
    let link = |offset: i64| {
        format!(
            "/admin/users?offset={offset}&q={}&role={}",
            search.as_deref().map(super::percent_encode).unwrap_or_default(),
            role.map(Role::as_str).unwrap_or("")
        )
    };
    let page = json!({
        "users": list.items.iter().map(user_row).collect::<Vec<_>>(),
        "total": list.total,
        "from": if list.total == 0 { 0 } else { offset + 1 },
        "to": offset + list.items.len() as i64,
        "previous": (offset > 0).then(|| link((offset - PAGE_SIZE).max(0))),
        "next": (offset + PAGE_SIZE < list.total).then(|| link(offset + PAGE_SIZE)),
        "q": search.unwrap_or_default(),
        "role_filter": role.map(Role::as_str).unwrap_or(""),
        "roles": Role::ALL.iter().map(|r| json!({ "value": r.as_str(), "label": r.label() })).collect::<Vec<_>>(),
        "institutes": institutes.iter().map(|o| json!({ "slug": o.slug, "name": o.name })).collect::<Vec<_>>(),
        "created": null,
        "form": null,
    });
    Ok(PageContext::new(state, jar, Some(actor), "Users", "/admin/users").page(page))
}

#[handler]
pub async fn user_list(
    state: Data<&Arc<AppState>>,
    jar: &CookieJar,
    user: CurrentUser,
    query: Query<UserQuery>,
) -> Result<Response, HttpError> {
    let actor = user.require(&[Role::Admin])?;
    Ok(users_page(&state, jar, actor, &query).await?.render(&state, "pages/admin/users")?.into_response())
}

#[handler]
pub async fn create_user(
    state: Data<&Arc<AppState>>,
    jar: &CookieJar,
    user: CurrentUser,
    VerifiedForm(form): VerifiedForm<NewUserForm>,
) -> Result<Response, HttpError> {
    let actor = user.require(&[Role::Admin])?;
    let outcome = async {
        let role: Role =
            form.role.parse().map_err(|e: cairn_core::validate::InvalidInput| HttpError::invalid(e.to_string()))?;
        let organisation_id = match form.institute.as_deref().filter(|s| !s.is_empty()) {
            Some(slug) => Some(organisations::get_by_slug(&state.db, slug).await?.id),
            None => None,
        };
        let new = NewUser { email: form.email.clone(), name: form.name.clone(), role, password: None, organisation_id };
        Ok::<_, HttpError>(accounts::create_user(&state.db, new).await?)
    }
    .await;
    let mut context = users_page(&state, jar, actor, &UserQuery::default()).await?;
    match outcome {
        Ok(created) => {
            tracing::info!(by = %actor.user.id, user = %created.user.id, "account created");
            context.page["created"] = json!({ "email": created.user.email, "password": created.generated_password });
            Ok(context
                .notice(format!("Account created for {}.", created.user.name))
                .render(&state, "pages/admin/users")?
                .into_response())
        }
        Err(e) if e.status.is_client_error() => {
            context.page["form"] = json!({ "email": form.email, "name": form.name, "role": form.role });
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                context
                    .error(format!("The account was not created: {}.", e.message))
                    .render(&state, "pages/admin/users")?,
            )
                .into_response())
        }
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
pub struct NewInstituteForm {
    slug: String,
    name: String,
}

async fn institutes_page(state: &AppState, jar: &CookieJar, actor: &Actor) -> Result<PageContext, HttpError> {
    let list = organisations::list(&state.db).await?;
    let page = json!({
        "institutes": list.iter().map(|o| json!({ "slug": o.slug, "name": o.name, "members": o.member_count, "created": date(o.created_at) })).collect::<Vec<_>>(),
        "form": null,
    });
    Ok(PageContext::new(state, jar, Some(actor), "Institutes", "/admin/institutes").page(page))
}

#[handler]
pub async fn institute_list(
    state: Data<&Arc<AppState>>,
    jar: &CookieJar,
    user: CurrentUser,
) -> Result<Response, HttpError> {
    let actor = user.require(&[Role::Admin])?;
    Ok(institutes_page(&state, jar, actor).await?.render(&state, "pages/admin/institutes")?.into_response())
}

#[handler]
pub async fn create_institute(
    state: Data<&Arc<AppState>>,
    jar: &CookieJar,
    user: CurrentUser,
    VerifiedForm(form): VerifiedForm<NewInstituteForm>,
) -> Result<Response, HttpError> {
    let actor = user.require(&[Role::Admin])?;
    match organisations::create(&state.db, &form.slug, &form.name).await.map_err(HttpError::from) {
        Ok(org) => {
            let context = institutes_page(&state, jar, actor).await?;
            Ok(context
                .notice(format!("Institute \"{}\" created.", org.name))
                .render(&state, "pages/admin/institutes")?
                .into_response())
        }
        Err(e) if e.status.is_client_error() => {
            let mut context = institutes_page(&state, jar, actor).await?;
            context.page["form"] = json!({ "slug": form.slug, "name": form.name });
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                context
                    .error(format!("The institute was not created: {}.", e.message))
                    .render(&state, "pages/admin/institutes")?,
            )
                .into_response())
        }
        Err(e) => Err(e),
    }
}
