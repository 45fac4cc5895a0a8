//! `POST /api/v1/courses/{id}/enrolments/bulk`: enrolling learners from a CSV file, with a
//! dry run that shows every row's fate and an apply that writes everything or nothing.

use std::sync::Arc;

use cairn_core::accounts::policy;
use cairn_core::catalog::Course;
use cairn_core::enrolments::bulk::{self, BulkOutcome, BulkPlan, Fate, Rights};
use cairn_core::enrolments::bulk_csv::LineProblem;
use poem::{Request, RequestBody};
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::{Json, ParsePayload, Payload};
use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
use poem_openapi::{ApiResponse, Enum, Object, OpenApi};

use super::courses::managed_course;
use super::{ApiResult, ApiTags, Auth};
use crate::app::AppState;
use crate::auth::Actor;

pub struct BulkApi {
    pub state: Arc<AppState>,
}

/// A bulk-enrolment file, sent as the whole request body with the content type `text/csv`
/// (its format is described on the `file` parameter of [`BulkApi::bulk`]).
pub struct CsvFile(pub Vec<u8>);

impl Payload for CsvFile {
    const CONTENT_TYPE: &'static str = "text/csv";

    fn check_content_type(content_type: &str) -> bool {
        content_type.split(';').next().is_some_and(|t| t.trim().eq_ignore_ascii_case("text/csv"))
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema { format: Some("binary"), ..MetaSchema::new("string") }))
    }
}

impl ParsePayload for CsvFile {
    const IS_REQUIRED: bool = true;

    async fn from_request(request: &Request, body: &mut RequestBody) -> poem::Result<Self> {
        Ok(CsvFile(<Vec<u8> as poem::FromRequest>::from_request(request, body).await?))
    }
}

// The two-argument form (no extra bounds) is used because the one-argument form calls the
// macro again by its bare name, which only resolves where the macro has been imported.
poem_openapi::impl_apirequest_for_payload!(CsvFile,);

/// A problem with one line of the file (line 0: the file as a whole).
#[derive(Object, Debug)]
pub struct LineProblemView {
    pub line: u64,
    /// The column concerned, when the problem is about one value.
    pub field: Option<String>,
    pub message: String,
}

impl From<LineProblem> for LineProblemView {
    fn from(p: LineProblem) -> Self {
        LineProblemView { line: p.line, field: p.field, message: p.message }
    }
}

/// What will happen to one row.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[oai(rename_all = "snake_case")]
pub enum BulkFate {
    /// A learner account is created in the course's institute, enrolled and invited by e-mail.
    NewAccount,
    /// The existing account is enrolled.
    Enrol,
    /// The account had been withdrawn and is enrolled again, with its progress.
    Reenrol,
    /// The account is already enrolled; only its cohort may change.
    AlreadyEnrolled,
}

impl From<Fate> for BulkFate {
    fn from(f: Fate) -> Self {
        match f {
            Fate::NewAccount => BulkFate::NewAccount,
            Fate::Enrol => BulkFate::Enrol,
            Fate::Reenrol => BulkFate::Reenrol,
            Fate::AlreadyEnrolled => BulkFate::AlreadyEnrolled,
        }
    }
}

#[derive(Object, Debug)]
pub struct BulkRowView {
    pub line: u64,
    pub email: String,
    pub name: Option<String>,
    pub cohort: Option<String>,
    pub fate: BulkFate,
}

/// How many rows meet each fate.
#[derive(Object, Debug)]
pub struct BulkCounts {
    pub new_accounts: u64,
    pub enrol: u64,
    pub reenrol: u64,
    pub already_enrolled: u64,
}

/// A dry run: every readable row's fate, the cohorts that would be created, and every
/// problem. `ok` says whether applying the same file now would succeed.
#[derive(Object, Debug)]
pub struct BulkPlanView {
    pub ok: bool,
    pub rows: Vec<BulkRowView>,
    pub new_cohorts: Vec<String>,
    pub problems: Vec<LineProblemView>,
    pub counts: BulkCounts,
}

impl From<BulkPlan> for BulkPlanView {
    fn from(plan: BulkPlan) -> Self {
        let count = |fate| plan.count(fate) as u64;
        let counts = BulkCounts {
            new_accounts: count(Fate::NewAccount),
            enrol: count(Fate::Enrol),
            reenrol: count(Fate::Reenrol),
            already_enrolled: count(Fate::AlreadyEnrolled),
        };
        BulkPlanView {
            ok: plan.is_ok(),
            counts,
            rows: plan
                .rows
                .into_iter()
                .map(|r| BulkRowView {
                    line: r.line,
                    email: r.email,
                    name: r.name,
                    cohort: r.cohort,
                    fate: r.fate.into(),
                })
                .collect(),
            new_cohorts: plan.new_cohorts,
            problems: plan.problems.into_iter().map(LineProblemView::from).collect(),
        }
    }
}

/// What an applied file did.
#[derive(Object, Debug)]
pub struct BulkAppliedView {
    pub created_accounts: u64,
    /// Enrolled now (new accounts, existing ones, and withdrawn ones enrolled again).
    pub enrolled: u64,
    pub already_enrolled: u64,
    pub created_cohorts: u64,
    /// Invitation e-mails queued for the new accounts.
    pub invitations_queued: u64,
}

/// A refused file: `code` and `message` as in every error, plus every problem with its line.
#[derive(Object, Debug)]
pub struct BulkRefused {
    /// Always `bulk_refused`.
    pub code: String,
    pub message: String,
    pub problems: Vec<LineProblemView>,
}

#[derive(ApiResponse)]
pub enum BulkResponse {
    /// The dry run's plan (`dry_run=true`). Nothing was written.
    #[oai(status = 200)]
    Plan(Json<BulkPlanView>),
    /// The file was applied: accounts, cohorts, enrolments and invitations, all at once.
    #[oai(status = 201)]
    Applied(Json<BulkAppliedView>),
    /// The file has problems; nothing was written. `problems` lists them with line numbers.
    #[oai(status = 422)]
    Refused(Json<BulkRefused>),
}

#[OpenApi(tag = "ApiTags::Enrolments")]
impl BulkApi {
    /// Enrol learners from a CSV file
    ///
    /// The body is the file itself as `text/csv` (see the request body's description). With
    /// `dry_run=true` (the default) nothing is written and the answer is the plan: each
    /// row's fate and every problem with its line number. With `dry_run=false` the file is
    /// applied all at once — new learner accounts (invited by e-mail to choose a password),
    /// new cohorts, enrolments — or, when any row has a problem, refused with 422 listing
    /// every problem, and nothing is written. Files that create accounts or cohorts need a
    /// manager of the course's institute or an administrator.
    #[oai(path = "/v1/courses/:id/enrolments/bulk", method = "post", operation_id = "bulk_enrol")]
    async fn bulk(
        &self,
        auth: Auth,
        id: Path<String>,
        /// Only show what would happen (the default); `false` applies the file.
        #[oai(default = "yes")]
        dry_run: Query<bool>,
        /// The file as `text/csv`, UTF-8 (a byte-order mark is fine), commas or semicolons
        /// between fields. The first line names the columns, in any order: `email`
        /// (required), `name` (or `full name`; needed for e-mails without an account) and
        /// `cohort` (created in the course's institute when new). At most 10,000 learners
        /// and 2 MiB.
        file: CsvFile,
    ) -> ApiResult<BulkResponse> {
        let actor = auth.actor();
        let course = managed_course(&self.state, actor, &id.0).await?;
        let rights = rights(actor, &course);
        let plan = bulk::plan(&self.state.db, &course, &file.0, rights).await?;
        if dry_run.0 {
            return Ok(BulkResponse::Plan(Json(plan.into())));
        }
        if !plan.is_ok() {
            return Ok(refused(plan));
        }
        let base = self.state.config.public_url.clone();
        let invite_url = move |token: &str| invite_link(&base, token);
        match bulk::apply(&self.state.db, &course, &file.0, rights, &invite_url).await? {
            BulkOutcome::Applied(done) => {
                tracing::info!(
                    by = %actor.user.id,
                    course = %course.slug,
                    enrolled = done.enrolled,
                    created_accounts = done.created_accounts,
                    "bulk enrolment applied"
                );
                Ok(BulkResponse::Applied(Json(BulkAppliedView {
                    created_accounts: done.created_accounts as u64,
                    enrolled: done.enrolled as u64,
                    already_enrolled: done.already_enrolled as u64,
                    created_cohorts: done.created_cohorts as u64,
                    invitations_queued: done.invitations_queued as u64,
                })))
            }
            // The database changed between the check above and the apply (another upload,
            // say); the fresh plan says why.
            BulkOutcome::Refused(plan) => Ok(refused(plan)),
        }
    }
}

fn yes() -> bool {
    true
}

/// What a caller's bulk file may create: accounts and cohorts need an institute manager.
fn rights(actor: &Actor, course: &Course) -> Rights {
    Rights {
        create_accounts_and_cohorts: policy::may_manage_members(&actor.principal, &course.organisation_id),
        any_institute: actor.principal.is_admin(),
    }
}

/// The link of an invitation e-mail, on the public address people use to reach Cairn.
fn invite_link(public_url: &str, token: &str) -> String {
    format!("{}/invite/{token}", public_url.trim_end_matches('/'))
}

fn refused(plan: BulkPlan) -> BulkResponse {
    let count = plan.problems.len();
    let message = if plan.rows.is_empty() && count == 0 {
        "the file holds no learners".to_string()
    } else {
        let first = plan.problems.first().map(ToString::to_string).unwrap_or_default();
        format!(
            "the file has {count} {}; nothing was written. The first: {first}",
            if count == 1 { "problem" } else { "problems" }
        )
    };
    BulkResponse::Refused(Json(BulkRefused {
        code: "bulk_refused".into(),
        message,
        problems: plan.problems.into_iter().map(LineProblemView::from).collect(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invitation_links_use_the_public_address() {
        assert_eq!(invite_link("https://learn.example.org/", "abc"), "https://learn.example.org/invite/abc");
        assert_eq!(invite_link("http://127.0.0.1:8080", "t-1_2"), "http://127.0.0.1:8080/invite/t-1_2");
    }
}
