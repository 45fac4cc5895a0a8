//! Server-rendered pages: the route table, the signed-in user extractor, the shared page
//! context and the friendly error page.

mod account;
mod admin;
mod auth;
mod authoring;
mod catalog;
mod courses;
mod home;
mod institute;
mod invite;
mod lessons;
mod media;
mod people;
mod play;

use std::sync::Arc;

use cairn_core::accounts::Role;
use poem::http::StatusCode;
use poem::web::cookie::CookieJar;
use poem::web::{Html, Redirect};
use poem::{get, post, FromRequest, IntoResponse, Request, RequestBody, Response, Route};
use serde::Serialize;
use serde_json::{json, Value};

use crate::app::AppState;
use crate::auth::Actor;
use crate::web::csrf;
use crate::web::errors::HttpError;
use crate::web::middleware::current_request_id;

pub fn routes() -> Route {
    Route::new()
        .at("/", get(home::index))
        .at("/login", get(auth::login_form).post(auth::login))
        .at("/logout", post(auth::logout))
        .at("/learn", get(home::learn))
        .at("/teach", get(home::teach))
        .at("/teach/import", get(courses::import_page).post(courses::import))
        .at("/teach/new", get(authoring::new_course_page).post(authoring::create_course))
        .at("/catalog", get(catalog::catalog_page))
        .at("/courses/:id", get(catalog::course_page))
        .at("/courses/:id/enrol", post(catalog::self_enrol))
        .at("/courses/:id/resume", get(catalog::resume))
        .at("/courses/:id/lessons/:lesson", get(lessons::lesson_page))
        .at("/courses/:id/lessons/:lesson/done", post(lessons::mark_done))
        .at("/courses/:id/lessons/:lesson/visit", get(lessons::visit_link))
        .at("/courses/:id/edit", get(authoring::editor))
        .at("/courses/:id/settings", post(authoring::save_settings))
        .at("/courses/:id/modules", post(authoring::add_module))
        .at("/courses/:id/images", post(media::upload_image))
        .at("/courses/:id/instructors", post(authoring::change_instructors))
        .at("/media/courses/:id/:file", get(media::serve_media))
        .at("/modules/:id/rename", post(authoring::rename_module))
        .at("/modules/:id/move", post(authoring::move_module))
        .at("/modules/:id/delete", post(authoring::delete_module))
        .at("/modules/:id/lessons", post(authoring::add_lesson))
        .at("/lessons/:id/edit", get(authoring::lesson_editor).post(authoring::save_lesson))
        .at("/lessons/:id/move", post(authoring::move_lesson))
        .at("/lessons/:id/delete", post(authoring::delete_lesson))
        .at("/courses/:id/enrolments", get(people::enrolments_page).post(people::enrol_one))
        .at("/courses/:id/enrolments/bulk", post(people::bulk_enrol))
        .at("/courses/:id/cohort-enrolments", post(people::enrol_cohort))
        .at("/courses/:id/withdraw", post(people::withdraw))
        .at("/courses/:id/roster", get(people::roster_page))
        .at("/courses/:id/matrix", get(people::matrix_page))
        .at("/courses/:id/learners/:user", get(people::learner_page))
        .at("/institute/:slug/cohorts", get(institute::cohorts_page).post(institute::create_cohort))
        .at("/cohorts/:id/members", post(institute::add_cohort_member))
        .at("/invite/:token", get(invite::invite_form).post(invite::accept))
        .at("/courses/:id/play", get(play::play))
        .at("/courses/:id/learners", get(play::learners))
        .at("/courses/:id/questions", get(play::questions))
        .at("/attempts/:id", get(play::attempt_page))
        .at("/attempts/:id/reset", post(play::reset_attempt))
        .at("/institute", get(institute::overview))
        .at("/institute/:slug/members", post(institute::add_member))
        .at("/admin", get(admin::overview))
        .at("/admin/users", get(admin::user_list).post(admin::create_user))
        .at("/admin/institutes", get(admin::institute_list).post(admin::create_institute))
        .at("/account", get(account::profile))
        .at("/account/password", post(account::change_password))
        .at("/account/tokens", get(account::token_list).post(account::create_token))
        .at("/account/tokens/:id/revoke", post(account::revoke_token))
        .at("/content/:package/*path", get(crate::content::serve))
}

/// Where each role lands after signing in.
pub fn landing_path(role: Role) -> &'static str {
    match role {
        Role::Admin => "/admin",
        Role::Manager => "/institute",
        Role::Instructor => "/teach",
        Role::Learner => "/learn",
    }
}

/// The signed-in user of a page request; anonymous visitors are sent to the login page
/// and brought back afterwards.
pub struct CurrentUser(pub Actor);

impl<'a> FromRequest<'a> for CurrentUser {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        let state = req
            .data::<Arc<AppState>>()
            .ok_or_else(|| HttpError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "state missing"))?;
        match crate::auth::from_cookies(state, req.cookie()).await? {
            Some(actor) => Ok(CurrentUser(actor)),
            None => {
                let next = req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/");
                let target = format!("/login?next={}", percent_encode(next));
                Err(poem::Error::from_response(Redirect::see_other(target).into_response()))
            }
        }
    }
}

impl CurrentUser {
    /// Refuses the page unless the user has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<&Actor, HttpError> {
        if roles.contains(&self.0.user.role) {
            Ok(&self.0)
        } else {
            Err(HttpError::forbidden(format!(
                "this page is for {}",
                roles.iter().map(|r| r.label().to_lowercase()).collect::<Vec<_>>().join(" and ")
            )))
        }
    }
}

/// Fields every page template receives, plus the page's own under `page`.
#[derive(Serialize)]
pub struct PageContext {
    title: String,
    user: Option<Value>,
    nav: Vec<Value>,
    csrf_token: String,
    notice: Option<String>,
    error: Option<String>,
    page: Value,
}

impl PageContext {
    pub fn new(state: &AppState, jar: &CookieJar, actor: Option<&Actor>, title: &str, current: &str) -> PageContext {
        let user = actor.map(|a| {
            json!({
                "name": a.user.name, "email": a.user.email, "role": a.user.role.as_str(), "role_label": a.user.role.label(),
                "landing": landing_path(a.user.role),
            })
        });
        PageContext {
            title: title.to_string(),
            nav: actor.map(|a| navigation(a.user.role, current)).unwrap_or_default(),
            user,
            csrf_token: csrf::ensure_token(jar, state.config.secure_cookies()),
            notice: None,
            error: None,
            page: json!({}),
        }
    }

    pub fn page(mut self, page: Value) -> Self {
        self.page = page;
        self
    }

    pub fn notice(mut self, notice: impl Into<String>) -> Self {
        self.notice = Some(notice.into());
        self
    }

    pub fn error(mut self, error: impl Into<String>) -> Self {
        self.error = Some(error.into());
        self
    }

    pub fn render(&self, state: &AppState, template: &str) -> Result<Html<String>, HttpError> {
        state.templates.render(template, self).map(Html)
    }
}

fn navigation(role: Role, current: &str) -> Vec<Value> {
    let mut items: Vec<(&str, &str)> = Vec::new();
    match role {
        Role::Admin => {
            items.extend([("/admin", "Overview"), ("/admin/users", "Users"), ("/admin/institutes", "Institutes")])
        }
        Role::Manager => items.push(("/institute", "My institute")),
        Role::Instructor => items.push(("/teach", "Teaching")),
        Role::Learner => items.push(("/learn", "My learning")),
    }
    items.push(("/catalog", "Catalog"));
    items.push(("/account", "Account"));
    items.into_iter().map(|(href, label)| json!({ "href": href, "label": label, "current": href == current })).collect()
}

/// Renders any error of a page route as a friendly page with the right status. Redirects
/// and other ready-made responses pass through.
pub fn error_page(state: &AppState, err: poem::Error) -> Response {
    if err.is_from_response() {
        return err.into_response();
    }
    let error = HttpError::from_poem(&err);
    let (heading, advice) = match error.status {
        StatusCode::NOT_FOUND => ("Page not found", "Check the address, or go back to the home page."),
        StatusCode::FORBIDDEN => ("Not allowed", "Your account cannot open this page. Sign in with another account, or ask your institute's manager."),
        StatusCode::TOO_MANY_REQUESTS => ("Please wait", "Too many attempts were made. Wait a little, then try again."),
        StatusCode::PAYLOAD_TOO_LARGE => ("Too large", "What you sent is larger than Cairn accepts."),
        StatusCode::SERVICE_UNAVAILABLE => ("Temporarily unavailable", "A service Cairn depends on is not answering. Try again in a minute."),
        s if s.is_server_error() => ("Something went wrong", "The problem has been logged. Try again; if it keeps happening, tell your administrator the reference below."),
        _ => ("That did not work", "Go back and try again."),
    };
    let context = json!({
        "title": heading, "user": null, "nav": [], "csrf_token": "", "notice": null, "error": null,
        "page": { "status": error.status.as_u16(), "heading": heading, "message": error.message, "advice": advice, "request_id": current_request_id() },
    });
    let html = state
        .templates
        .render("pages/error", &context)
        .unwrap_or_else(|_| format!("<h1>{heading}</h1><p>{advice}</p>"));
    let mut response = Html(html).with_status(error.status).into_response();
    if let Some(secs) = error.retry_after {
        response.headers_mut().insert(poem::http::header::RETRY_AFTER, secs.into());
    }
    response
}

/// Percent-encodes a path for use in a query string.
pub(crate) fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A 303 redirect, the right answer to a successful form POST.
pub fn see_other(path: &str) -> Response {
    Redirect::see_other(path).into_response()
}
