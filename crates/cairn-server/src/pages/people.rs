//! Staff pages about a course's learners: enrolling them (one by one, by cohort, or from a
//! CSV file with a preview), the roster, the lesson × learner matrix and one learner's
//! detail.

use std::collections::HashMap;
use std::sync::Arc;

use cairn_core::accounts;
use cairn_core::catalog::{self, Course};
use cairn_core::cohorts;
use cairn_core::enrolments::bulk::{self, BulkOutcome, BulkPlan, Fate, Rights};
use cairn_core::enrolments::roster::{self, RosterQuery, RosterSort};
use cairn_core::enrolments::{self, NewEnrolment, Source};
use cairn_core::outline;
use cairn_core::progress;
use poem::http::StatusCode;
use poem::web::cookie::CookieJar;
use poem::web::{Data, Multipart, Path, Query};
use poem::{handler, IntoResponse, Response};
use serde::Deserialize;
use serde_json::{json, Value};
use time::OffsetDateTime;

use super::admin::date;
use super::{see_other, CurrentUser, PageContext};
use crate::app::AppState;
use crate::auth::Actor;
use crate::web::csrf::{self, VerifiedForm};
use crate::web::errors::HttpError;
use crate::web::multipart;

/// A course whose learners the actor manages.
async fn managed(state: &AppState, actor: &Actor, id_or_slug: &str) -> Result<Course, HttpError> {
    let course = crate::api::courses::visible_course(state, actor, id_or_slug).await?;
    if !catalog::may_manage_learners(&state.db, &actor.principal, &course).await? {
        return Err(HttpError::forbidden(
            "only this course's instructors and its institute's managers see its learners",
        ));
    }
    Ok(course)
}

/// A date typed in a form (YYYY-MM-DD, taken as midnight UTC), or nothing when blank.
pub fn form_date(field: &'static str, text: &str) -> Result<Option<OffsetDateTime>, HttpError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(text, &format)
        .map(|d| Some(d.midnight().assume_utc()))
        .map_err(|_| HttpError::invalid(format!("{field}: write the date as YYYY-MM-DD")))
}

async fn enrolments_context(
    state: &AppState,
    jar: &CookieJar,
    actor: &Actor,
    course: &Course,
    plan: Option<(&BulkPlan, &str)>,
) -> Result<PageContext, HttpError> {
    let cohorts = cohorts::of_organisation(&state.db, &course.organisation_id).await?;
    let plan_view = plan.map(|(plan, csv)| {
        json!({
            "csv": csv, "ok": plan.is_ok(),
            "rows": plan.rows.iter().map(|r| json!({
                "line": r.line, "email": r.email, "name": r.name, "cohort": r.cohort,
                "fate": match r.fate { Fate::NewAccount => "new_account", Fate::Enrol => "enrol", Fate::Reenrol => "reenrol", Fate::AlreadyEnrolled => "already_enrolled" },
                "fate_label": match r.fate {
                    Fate::NewAccount => "new account, enrolled, invited by e-mail",
                    Fate::Enrol => "enrolled",
                    Fate::Reenrol => "enrolled again (was withdrawn)",
                    Fate::AlreadyEnrolled => "already enrolled",
                },
            })).collect::<Vec<_>>(),
            "problems": plan.problems.iter().map(|p| json!({ "line": p.line, "field": p.field, "message": p.message })).collect::<Vec<_>>(),
            "new_cohorts": plan.new_cohorts,
            "counts": {
                "new": plan.count(Fate::NewAccount), "enrol": plan.count(Fate::Enrol) + plan.count(Fate::Reenrol),
                "already": plan.count(Fate::AlreadyEnrolled),
            },
        })
    });
    let page = json!({
        "slug": course.slug, "title": course.title,
        "cohorts": cohorts.iter().map(|c| json!({ "id": c.id, "name": c.name, "members": c.members })).collect::<Vec<_>>(),
        "plan": plan_view,
        "max_rows": cairn_core::enrolments::bulk_csv::MAX_ROWS,
    });
    Ok(PageContext::new(state, jar, Some(actor), &format!("Enrol learners in {}", course.title), "/teach").page(page))
}

#[handler]
pub async fn enrolments_page(
    state: Data<&Arc<AppState>>,
    jar: &CookieJar,
    user: CurrentUser,
    id: Path<String>,
) -> Result<Response, HttpError> {
    let actor = &user.0;
    let course = managed(&state, actor, &id).await?;
    Ok(enrolments_context(&state, jar, actor, &course, None).await?.render(&state, "pages/enrolments")?.into_response())
}

async fn refused(
    state: &AppState,
    jar: &CookieJar,
    actor: &Actor,
    course: &Course,
    e: HttpError,
) -> Result<Response, HttpError> {
    if !e.status.is_client_error() {
        return Err(e);
    }
    let context = enrolments_context(state, jar, actor, course, None)
        .await?
        .error(format!("Nothing was changed: {}.", e.message));
    Ok((e.status, context.render(state, "pages/enrolments")?).into_response())
}

#[derive(Deserialize)]
pub struct ManualForm {
    email: String,
    #[serde(default)]
    starts_at: String,
    #[serde(default)]
    ends_at: String,
}

/// Enrols one existing account by e-mail.
#[handler]
pub async fn enrol_one(
    state: Data<&Arc<AppState>>,
    jar: &CookieJar,
    user: CurrentUser,
    id: Path<String>,
    VerifiedForm(form): VerifiedForm<ManualForm>,
) -> Result<Response, HttpError> {
    let actor = &user.0;
    let course = managed(&state, actor, &id).await?;
    let result = async {
        // The same rule as the API: staff enrol the people of their own institutes.
        let learner =
            crate::api::enrolments::account_in_scope(&state, actor, None, Some(&form.email)).await.map_err(|e| {
                if e.status == StatusCode::NOT_FOUND {
                    HttpError::invalid(format!(
                        "no account among the people you look after uses {}; a CSV file creates new accounts",
                        form.email.trim()
                    ))
                } else {
                    e
                }
            })?;
        let new = NewEnrolment {
            course_id: course.id.clone(),
            user_id: learner.id,
            source: Source::Manual,
            cohort_id: None,
            starts_at: form_date("starts_at", &form.starts_at)?,
            ends_at: form_date("ends_at", &form.ends_at)?,
        };
        enrolments::enrol(&state.db, &new).await?;
        Ok::<(), HttpError>(())
    }
    .await;
    match result {
        Ok(()) => Ok(see_other(&format!("/courses/{}/roster?enrolled=1", course.slug))),
        Err(e) => refused(&state, jar, actor, &course, e).await,
    }
}

#[derive(Deserialize)]
pub struct CohortForm {
    cohort: String,
    #[serde(default)]
    starts_at: String,
    #[serde(default)]
    ends_at: String,
}

#[handler]
pub async fn enrol_cohort(
    state: Data<&Arc<AppState>>,
    jar: &CookieJar,
    user: CurrentUser,
    id: Path<String>,
    VerifiedForm(form): VerifiedForm<CohortForm>,
) -> Result<Response, HttpError> {
    let actor = &user.0;
    let course = managed(&state, actor, &id).await?;
    let result = async {
        // Enrolling a whole cohort is the institute's decision, as in the API.
        if !cairn_core::accounts::policy::may_manage_members(&actor.principal, &course.organisation_id) {
            return Err(HttpError::forbidden("only the institute's managers enrol whole cohorts"));
        }
        let cohort = cohorts::find(&state.db, &form.cohort).await?;
        if cohort.organisation_id != course.organisation_id {
            return Err(HttpError::invalid("choose a cohort of this course's institute"));
        }
        let starts = form_date("starts_at", &form.starts_at)?;
        let ends = form_date("ends_at", &form.ends_at)?;
        cohorts::enrol_cohort(&state.db, &course.id, &cohort.id, starts, ends).await?;
        Ok::<(), HttpError>(())
    }
    .await;
    match result {
        Ok(()) => Ok(see_other(&format!("/courses/{}/roster?enrolled=1", course.slug))),
        Err(e) => refused(&state, jar, actor, &course, e).await,
    }
}

/// The invitation link for a token, on this server's public address.
pub fn invite_link(state: &AppState) -> impl Fn(&str) -> String + Sync + '_ {
    move |token: &str| format!("{}/invite/{token}", state.config.public_url.trim_end_matches('/'))
}

/// Bulk enrolment. The first submission (a file) answers with the preview; the second
/// (`action=apply`, with the same CSV text carried in the form) writes everything or
/// nothing. The CSRF token comes first in the multipart body.
#[handler]
pub async fn bulk_enrol(
    state: Data<&Arc<AppState>>,
    jar: &CookieJar,
    user: CurrentUser,
    id: Path<String>,
    mut form: Multipart,
) -> Result<Response, HttpError> {
    let actor = &user.0;
    let course = managed(&state, actor, &id).await?;
    csrf::verify_multipart(jar, &mut form).await?;
    let mut action = String::from("preview");
    let mut csv: Option<Vec<u8>> = None;
    while let Some(field) = form.next_field().await.map_err(|e| multipart::unreadable(&e))? {
        match field.name().unwrap_or("") {
            "action" => action = multipart::text(field).await?,
            "file" | "csv" => {
                let data = multipart::bytes_up_to(field, cairn_core::enrolments::bulk_csv::MAX_FILE_BYTES).await?;
                if !data.is_empty() {
                    csv = Some(data);
                }
            }
            _ => {}
        }
    }
    let Some(csv) = csv else {
        return refused(
            &state,
            jar,
            actor,
            &course,
            HttpError::invalid("choose a CSV file with a header row: email,name,cohort"),
        )
        .await;
    };
    let text = String::from_utf8_lossy(&csv).into_owned();
    let rights = Rights {
        create_accounts_and_cohorts: cairn_core::accounts::policy::may_manage_members(
            &actor.principal,
            &course.organisation_id,
        ),
        any_institute: actor.principal.is_admin(),
    };
    if action == "apply" {
        match bulk::apply(&state.db, &course, &csv, rights, &invite_link(&state)).await? {
            BulkOutcome::Applied(done) => {
                let notice = format!(
                    "{} enrolled ({} new accounts invited by e-mail), {} already enrolled, {} cohorts created.",
                    done.enrolled, done.created_accounts, done.already_enrolled, done.created_cohorts
                );
                let context = enrolments_context(&state, jar, actor, &course, None).await?.notice(notice);
                return Ok(context.render(&state, "pages/enrolments")?.into_response());
            }
            BulkOutcome::Refused(plan) => {
                let context = enrolments_context(&state, jar, actor, &course, Some((&plan, &text)))
                    .await?
                    .error("Nothing was written: fix the lines below and upload the file again.");
                return Ok(
                    (StatusCode::UNPROCESSABLE_ENTITY, context.render(&state, "pages/enrolments")?).into_response()
                );
            }
        }
    }
    let plan = bulk::plan(&state.db, &course, &csv, rights).await?;
    let mut context = enrolments_context(&state, jar, actor, &course, Some((&plan, &text))).await?;
    let status = if plan.is_ok() {
        context = context.notice("Check what will happen to each row, then confirm. Nothing has been written yet.");
        StatusCode::OK
    } else {
        context = context
            .error("This file cannot be used as it is: fix the lines below and upload it again. Nothing was written.");
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((status, context.render(&state, "pages/enrolments")?).into_response())
}

#[derive(Deserialize)]
pub struct WithdrawForm {
    user_id: String,
}

#[handler]
pub async fn withdraw(
    state: Data<&Arc<AppState>>,
    user: CurrentUser,
    id: Path<String>,
    VerifiedForm(form): VerifiedForm<WithdrawForm>,
) -> Result<Response, HttpError> {
    let course = managed(&state, &user.0, &id).await?;
    enrolments::withdraw(&state.db, &course.id, &form.user_id).await?;
    Ok(see_other(&format!("/courses/{}/roster?withdrawn=1", course.slug)))
}

#[derive(Deserialize, Default, Clone)]
pub struct RosterParams {
    #[serde(default)]
    cohort: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    sort: String,
    #[serde(default)]
    order: String,
    #[serde(default)]
    offset: i64,
}

/// Rows per roster page.
const ROSTER_PAGE: i64 = 50;

impl RosterParams {
    fn query(&self, course_id: &str) -> RosterQuery {
        RosterQuery {
            course_id: course_id.to_string(),
            cohort_id: Some(self.cohort.clone()).filter(|c| !c.is_empty()),
            status: Some(self.status.clone()).filter(|s| !s.is_empty()),
            search: Some(self.q.clone()).filter(|s| !s.is_empty()),
            sort: RosterSort::parse(&self.sort).unwrap_or_default(),
            descending: self.order == "desc",
            offset: self.offset.max(0),
            limit: ROSTER_PAGE,
        }
    }

    fn link(&self, base: &str, sort: Option<&str>, offset: i64) -> String {
        let (sort, order) = match sort {
            // Clicking the current column flips the order; another column starts ascending.
            Some(s) if s == self.sort && self.order != "desc" => (s.to_string(), "desc"),
            Some(s) => (s.to_string(), "asc"),
            None => (self.sort.clone(), self.order.as_str()),
        };
        format!(
            "{base}?cohort={}&status={}&q={}&sort={}&order={}&offset={offset}",
            super::percent_encode(&self.cohort),
            super::percent_encode(&self.status),
            super::percent_encode(&self.q),
            super::percent_encode(&sort),
            order
        )
    }
}

fn hours(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as i64;
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

#[handler]
pub async fn roster_page(
    state: Data<&Arc<AppState>>,
    jar: &CookieJar,
    user: CurrentUser,
    id: Path<String>,
    params: Query<RosterParams>,
) -> Result<Response, HttpError> {
    let actor = &user.0;
    let course = managed(&state, actor, &id).await?;
    let q = params.query(&course.id);
    let page_rows = roster::roster(&state.db, &q).await?;
    let cohorts = cohorts::of_organisation(&state.db, &course.organisation_id).await?;
    let base = format!("/courses/{}/roster", course.slug);
    let statuses = [
        ("", "Active (all)"),
        ("not_started", "Not started"),
        ("in_progress", "In progress"),
        ("completed", "Completed"),
        ("withdrawn", "Withdrawn"),
    ];
    let columns = [
        ("name", "Learner"),
        ("progress", "Progress"),
        ("status", "Status"),
        ("score", "Score"),
        ("time", "Time"),
        ("last_access", "Last access"),
    ];
    let page = json!({
        "slug": course.slug, "title": course.title,
        "q": params.q,
        "cohorts": cohorts.iter().map(|c| json!({ "id": c.id, "name": c.name, "selected": c.id == params.cohort })).collect::<Vec<_>>(),
        "statuses": statuses.iter().map(|(v, l)| json!({ "value": v, "label": l, "selected": *v == params.status })).collect::<Vec<_>>(),
        "columns": columns.iter().map(|(key, label)| json!({
            "label": label, "href": params.link(&base, Some(key), 0),
            "sorted": q.sort.key() == *key, "descending": q.descending,
            "aria_sort": if q.sort.key() == *key { if q.descending { "descending" } else { "ascending" } } else { "none" },
        })).collect::<Vec<_>>(),
        "rows": page_rows.rows.iter().map(|r| json!({
            "user_id": r.user_id, "name": r.name, "email": r.email, "cohort": r.cohort,
            "status": if r.state == "withdrawn" { "withdrawn" } else { r.status.as_str() },
            "percent": r.progress_percent,
            "score": r.score.map(|s| format!("{s:.0}%")),
            "time": hours(r.time_spent_seconds),
            "last_access": r.last_access_at.map(date),
            "completed_at": r.completed_at.map(date),
            "active": r.state == "active",
            "detail": format!("/courses/{}/learners/{}", course.slug, r.user_id),
        })).collect::<Vec<_>>(),
        "total": page_rows.total,
        "from": if page_rows.total == 0 { 0 } else { page_rows.offset + 1 },
        "to": page_rows.offset + page_rows.rows.len() as i64,
        "previous": (page_rows.offset > 0).then(|| params.link(&base, None, (page_rows.offset - ROSTER_PAGE).max(0))),
        "next": (page_rows.offset + ROSTER_PAGE < page_rows.total).then(|| params.link(&base, None, page_rows.offset + ROSTER_PAGE)),
        "matrix": params.link(&format!("/courses/{}/matrix", course.slug), None, page_rows.offset),
        "report": format!("/api/v1/reports/completions?course={}{}", course.id,
            if params.cohort.is_empty() { String::new() } else { format!("&cohort={}", super::percent_encode(&params.cohort)) }),
    });
    Ok(PageContext::new(&state, jar, Some(actor), &format!("Learners of {}", course.title), "/teach")
        .page(page)
        .render(&state, "pages/roster")?
        .into_response())
}

/// The lesson × learner matrix for one roster page.
#[handler]
pub async fn matrix_page(
    state: Data<&Arc<AppState>>,
    jar: &CookieJar,
    user: CurrentUser,
    id: Path<String>,
    params: Query<RosterParams>,
) -> Result<Response, HttpError> {
    let actor = &user.0;
    let course = managed(&state, actor, &id).await?;
    let rows = roster::roster(&state.db, &params.query(&course.id)).await?;
    let outline = outline::of_course(&state.db, &course.id).await?;
    let ids: Vec<String> = rows.rows.iter().map(|r| r.user_id.clone()).collect();
    let cells: HashMap<(String, String), String> = roster::cells(&state.db, &course.id, &ids)
        .await?
        .into_iter()
        .map(|c| ((c.user_id, c.lesson_id), c.status))
        .collect();
    let lessons: Vec<&outline::Lesson> = outline.lessons().collect();
    let base = format!("/courses/{}/matrix", course.slug);
    let page = json!({
        "slug": course.slug, "title": course.title,
        "lessons": lessons.iter().map(|l| json!({ "title": l.title, "required": l.required })).collect::<Vec<_>>(),
        "rows": rows.rows.iter().map(|r| json!({
            "name": r.name, "detail": format!("/courses/{}/learners/{}", course.slug, r.user_id), "percent": r.progress_percent,
            "cells": lessons.iter().map(|l| {
                let status = cells.get(&(r.user_id.clone(), l.id.clone())).map_or("not_started", String::as_str);
                let status = progress::parse_status(status);
                json!({ "status": progress::status_text(status), "label": super::catalog::status_label(status),
                        "mark": match status { s if s.is_done() && s != progress::LessonStatus::Failed => "✓", progress::LessonStatus::Failed => "✗", progress::LessonStatus::InProgress => "…", _ => "·" } })
            }).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "total": rows.total,
        "from": if rows.total == 0 { 0 } else { rows.offset + 1 },
        "to": rows.offset + rows.rows.len() as i64,
        "previous": (rows.offset > 0).then(|| params.link(&base, None, (rows.offset - ROSTER_PAGE).max(0))),
        "next": (rows.offset + ROSTER_PAGE < rows.total).then(|| params.link(&base, None, rows.offset + ROSTER_PAGE)),
    });
    Ok(PageContext::new(&state, jar, Some(actor), &format!("Lessons × learners — {}", course.title), "/teach")
        .page(page)
        .render(&state, "pages/matrix")?
        .into_response())
}

/// One learner in one course: enrolment, every lesson's status, and their SCORM attempts.
#[handler]
pub async fn learner_page(
    state: Data<&Arc<AppState>>,
    jar: &CookieJar,
    user: CurrentUser,
    Path((course_id, user_id)): Path<(String, String)>,
) -> Result<Response, HttpError> {
    let actor = &user.0;
    let course = managed(&state, actor, &course_id).await?;
    let enrolment = enrolments::find(&state.db, &course.id, &user_id)
        .await?
        .ok_or_else(|| HttpError::not_found("this person is not enrolled in this course"))?;
    let learner =
        accounts::find_by_id(&state.db, &user_id).await?.ok_or_else(|| HttpError::not_found("no such account"))?;
    let outline = outline::of_course(&state.db, &course.id).await?;
    let rows: HashMap<String, progress::LessonProgressRow> = progress::lesson_rows(&state.db, &course.id, &user_id)
        .await?
        .into_iter()
        .map(|r| (r.lesson_id.clone(), r))
        .collect();
    let attempts = cairn_core::tracking::of_learner(&state.db, &user_id, &course.id).await?;
    let lessons: Vec<Value> = outline
        .lessons()
        .map(|l| {
            let row = rows.get(&l.id);
            let status = row.map_or(progress::LessonStatus::NotStarted, |r| progress::parse_status(&r.status));
            json!({
                "title": l.title, "kind": l.kind, "required": l.required,
                "status": progress::status_text(status), "label": super::catalog::status_label(status),
                "score": row.and_then(|r| r.score).map(|s| format!("{s:.0}%")),
                "time": row.map(|r| hours(r.time_spent_seconds)),
                "completed_at": row.and_then(|r| r.completed_at).map(date),
            })
        })
        .collect();
    let page = json!({
        "slug": course.slug, "title": course.title,
        "learner": { "name": learner.name, "email": learner.email, "id": learner.id },
        "enrolment": {
            "state": enrolment.state, "status": enrolment.status, "percent": enrolment.progress_percent,
            "source": enrolment.source, "enrolled_at": date(enrolment.enrolled_at),
            "started_at": enrolment.started_at.map(date), "completed_at": enrolment.completed_at.map(date),
            "last_access_at": enrolment.last_access_at.map(date),
            "starts_at": enrolment.starts_at.map(date), "ends_at": enrolment.ends_at.map(date),
            "score": enrolment.score.map(|s| format!("{s:.0}%")), "time": hours(enrolment.time_spent_seconds),
            "active": enrolment.state == "active",
        },
        "lessons": lessons,
        "attempts": attempts.iter().map(|a| json!({
            "id": a.id, "item": a.item_identifier, "number": a.number, "completion": a.completion, "success": a.success,
            "score": a.score_scaled.map(|s| format!("{:.0}%", s * 100.0)), "updated": date(a.updated_at),
        })).collect::<Vec<_>>(),
    });
    Ok(PageContext::new(&state, jar, Some(actor), &format!("{} — {}", learner.name, course.title), "/teach")
        .page(page)
        .render(&state, "pages/learner")?
        .into_response())
}
