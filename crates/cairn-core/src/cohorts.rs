//! Cohorts: named groups of learners within an institute (an intake, a ministry, a class)
//! that can be enrolled in a course at once and filtered on in rosters and reports.

use serde::Serialize;
use sqlx::FromRow;
use time::OffsetDateTime;

use crate::db::{self, Db, StoreError};
use crate::enrolments::{self, EnrolmentError, NewEnrolment, Source};
use crate::on_db;
use crate::validate::{self, InvalidInput};

/// Longest cohort name.
pub const MAX_NAME_LEN: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow)]
pub struct Cohort {
    pub id: String,
    pub organisation_id: String,
    pub name: String,
    pub created_at: OffsetDateTime,
    pub members: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum CohortError {
    #[error("{0}")]
    Invalid(#[from] InvalidInput),
    #[error("a cohort named {0:?} already exists in this institute")]
    Taken(String),
    #[error("no such cohort")]
    NotFound,
    #[error(transparent)]
    Enrolment(#[from] EnrolmentError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for CohortError {
    fn from(e: sqlx::Error) -> Self {
        CohortError::Store(e.into())
    }
}

const COHORT_SELECT: &str = "SELECT c.id, c.organisation_id, c.name, c.created_at, \
     (SELECT COUNT(*) FROM cohort_members m WHERE m.cohort_id = c.id) AS members FROM cohorts c";

pub async fn create(db: &Db, organisation_id: &str, name: &str) -> Result<Cohort, CohortError> {
    let name = validate::name("name", name, MAX_NAME_LEN)?;
    let id = db::new_id();
    let result: Result<u64, sqlx::Error> = on_db!(db, |pool| {
        sqlx::query("INSERT INTO cohorts (id, organisation_id, name, created_at) VALUES ($1, $2, $3, $4)")
            .bind(&id)
            .bind(organisation_id)
            .bind(&name)
            .bind(db::now())
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    });
    match result.map_err(StoreError::from) {
        Ok(_) => find(db, &id).await,
        Err(e) if e.is_unique_violation() => Err(CohortError::Taken(name)),
        Err(e) => Err(e.into()),
    }
}

pub async fn find(db: &Db, id: &str) -> Result<Cohort, CohortError> {
    let sql = format!("{COHORT_SELECT} WHERE c.id = $1");
    on_db!(db, |pool| sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)?.ok_or(CohortError::NotFound)
}

pub async fn find_by_name(db: &Db, organisation_id: &str, name: &str) -> Result<Option<Cohort>, CohortError> {
    let sql = format!("{COHORT_SELECT} WHERE c.organisation_id = $1 AND c.name = $2");
    Ok(on_db!(db, |pool| sqlx::query_as(&sql).bind(organisation_id).bind(name.trim()).fetch_optional(pool).await)?)
}

/// An institute's cohorts by name.
pub async fn of_organisation(db: &Db, organisation_id: &str) -> Result<Vec<Cohort>, CohortError> {
    let sql = format!("{COHORT_SELECT} WHERE c.organisation_id = $1 ORDER BY c.name");
    Ok(on_db!(db, |pool| sqlx::query_as(&sql).bind(organisation_id).fetch_all(pool).await)?)
}

/// Adds a user to a cohort (again is fine).
pub async fn add_member(db: &Db, cohort_id: &str, user_id: &str) -> Result<(), CohortError> {
    on_db!(db, |pool| {
        sqlx::query(
            "INSERT INTO cohort_members (cohort_id, user_id, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (cohort_id, user_id) DO NOTHING",
        )
        .bind(cohort_id)
        .bind(user_id)
        .bind(db::now())
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
    })?;
    Ok(())
}

pub async fn remove_member(db: &Db, cohort_id: &str, user_id: &str) -> Result<(), CohortError> {
    on_db!(db, |pool| {
        sqlx::query("DELETE FROM cohort_members WHERE cohort_id = $1 AND user_id = $2")
            .bind(cohort_id)
            .bind(user_id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// A member as listed on the cohort page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow)]
pub struct Member {
    pub user_id: String,
    pub name: String,
    pub email: String,
}

pub async fn members(db: &Db, cohort_id: &str) -> Result<Vec<Member>, CohortError> {
    Ok(on_db!(db, |pool| {
        sqlx::query_as(
            "SELECT u.id AS user_id, u.name, u.email FROM cohort_members m JOIN users u ON u.id = m.user_id \
             WHERE m.cohort_id = $1 ORDER BY u.name, u.id",
        )
        .bind(cohort_id)
        .fetch_all(pool)
        .await
    })?)
}

/// Enrols every member of a cohort in a course, with the cohort recorded on each
/// enrolment, all in one transaction. Returns how many were enrolled or re-activated.
pub async fn enrol_cohort(
    db: &Db,
    course_id: &str,
    cohort_id: &str,
    starts_at: Option<OffsetDateTime>,
    ends_at: Option<OffsetDateTime>,
) -> Result<usize, CohortError> {
    let members = members(db, cohort_id).await?;
    let list: Vec<NewEnrolment> = members
        .iter()
        .map(|m| NewEnrolment {
            course_id: course_id.to_string(),
            user_id: m.user_id.clone(),
            source: Source::Cohort,
            cohort_id: Some(cohort_id.to_string()),
            starts_at,
            ends_at,
        })
        .collect();
    enrolments::enrol_all(db, &list).await?;
    Ok(members.len())
}
