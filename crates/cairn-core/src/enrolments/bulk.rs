//! Bulk enrolment from a CSV file: a plan that shows every row's fate before anything is
//! written, and an all-or-nothing apply that creates missing accounts and cohorts, enrols
//! everyone and queues the invitation e-mails in one transaction.

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;

use super::bulk_csv::{self, BulkRow, LineProblem};
use super::EnrolmentError;
use crate::accounts::invitations;
use crate::catalog::Course;
use crate::db::{self, Db};
use crate::on_db;

/// How long an invitation link stays valid.
pub const INVITATION_DAYS: i64 = 14;

/// What will happen to one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Fate {
    /// A new learner account is created, enrolled and invited by e-mail.
    NewAccount,
    /// The account exists and is enrolled now.
    Enrol,
    /// The account was withdrawn from the course and is enrolled again.
    Reenrol,
    /// The account is already enrolled; only its cohort may change.
    AlreadyEnrolled,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlannedRow {
    pub line: u64,
    pub email: String,
    pub name: Option<String>,
    pub cohort: Option<String>,
    pub fate: Fate,
    /// The existing account's id, when there is one.
    #[serde(skip)]
    pub user_id: Option<String>,
}

/// The whole plan: rows, cohorts to create, and problems (any problem blocks the apply).
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct BulkPlan {
    pub rows: Vec<PlannedRow>,
    pub new_cohorts: Vec<String>,
    pub problems: Vec<LineProblem>,
}

impl BulkPlan {
    pub fn count(&self, fate: Fate) -> usize {
        self.rows.iter().filter(|r| r.fate == fate).count()
    }

    pub fn is_ok(&self) -> bool {
        self.problems.is_empty() && !self.rows.is_empty()
    }
}

/// What the person applying a file may create besides enrolments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rights {
    /// Accounts and cohorts are an institute manager's (or an admin's) decision; an
    /// instructor's file may only enrol existing accounts into existing cohorts.
    pub create_accounts_and_cohorts: bool,
    /// Administrators may enrol accounts of any institute; other staff only members of the
    /// course's institute, as for one-by-one enrolment.
    pub any_institute: bool,
}

/// Reads the file and decides every row's fate without writing anything. Every problem
/// is reported at once: the file's own (a bad e-mail), the database's (a new account
/// without a name) and the rights' (an instructor's row that would create an account).
pub async fn plan(db: &Db, course: &Course, bytes: &[u8], rights: Rights) -> Result<BulkPlan, EnrolmentError> {
    let (rows, problems): (Vec<BulkRow>, Vec<LineProblem>) = bulk_csv::parse_with_problems(bytes);
    let mut plan = BulkPlan { problems, ..BulkPlan::default() };
    let mut cohorts_seen = BTreeSet::new();
    let emails: Vec<&str> = rows.iter().map(|r| r.email.as_str()).collect();
    let mut accounts = existing_accounts(db, course, &emails).await?;
    for row in rows {
        let existing = accounts.remove(&row.email);
        if existing.as_ref().is_some_and(|(_, _, member)| !member) && !rights.any_institute {
            plan.problems.push(LineProblem {
                line: row.line,
                field: Some("email".into()),
                message: format!(
                    "{} is not a member of this course's institute; add the person to the institute first, or ask \
                     an administrator",
                    row.email
                ),
            });
            continue;
        }
        let (fate, user_id) = match existing {
            None if row.name.is_none() => {
                plan.problems.push(LineProblem {
                    line: row.line,
                    field: Some("name".into()),
                    message: format!("no account uses {}, so a name is needed to create one", row.email),
                });
                continue;
            }
            None => (Fate::NewAccount, None),
            Some((id, None, _)) => (Fate::Enrol, Some(id)),
            Some((id, Some(state), _)) if state == "withdrawn" => (Fate::Reenrol, Some(id)),
            Some((id, Some(_), _)) => (Fate::AlreadyEnrolled, Some(id)),
        };
        if let Some(cohort) = &row.cohort {
            if cohorts_seen.insert(cohort.clone()) && cohort_id(db, &course.organisation_id, cohort).await?.is_none() {
                plan.new_cohorts.push(cohort.clone());
            }
        }
        plan.rows.push(PlannedRow {
            line: row.line,
            email: row.email,
            name: row.name,
            cohort: row.cohort,
            fate,
            user_id,
        });
    }
    if !rights.create_accounts_and_cohorts {
        for row in plan.rows.iter().filter(|r| r.fate == Fate::NewAccount) {
            plan.problems.push(LineProblem {
                line: row.line,
                field: Some("email".into()),
                message: format!(
                    "no account uses {}; only the institute's managers and administrators create accounts, so ask \
                     one of them or remove this line",
                    row.email
                ),
            });
        }
        for cohort in &plan.new_cohorts {
            let line = plan.rows.iter().find(|r| r.cohort.as_ref() == Some(cohort)).map_or(0, |r| r.line);
            plan.problems.push(LineProblem {
                line,
                field: Some("cohort".into()),
                message: format!(
                    "there is no cohort {cohort:?}; only the institute's managers and administrators create cohorts"
                ),
            });
        }
    }
    // File problems (line 0) first, then by line, so the list reads like the file.
    plan.problems.sort_by_key(|p| p.line);
    Ok(plan)
}

/// How many e-mails one look-up of existing accounts binds; a fixed number keeps one SQL
/// text whatever the file's size (unused slots are NULL, which matches nothing).
const EMAILS_PER_QUERY: usize = 200;

/// The accounts among `emails`: e-mail → (id, state of their enrolment in the course, whether
/// they belong to the course's institute). One query per 200 rows instead of one per row.
async fn existing_accounts(
    db: &Db,
    course: &Course,
    emails: &[&str],
) -> Result<HashMap<String, (String, Option<String>, bool)>, EnrolmentError> {
    let placeholders: Vec<String> = (3..3 + EMAILS_PER_QUERY).map(|n| format!("${n}")).collect();
    let sql = format!(
        "SELECT u.email, u.id, e.state, (SELECT COUNT(*) FROM memberships m WHERE m.user_id = u.id \
         AND m.organisation_id = $2) AS member \
         FROM users u LEFT JOIN enrolments e ON e.user_id = u.id AND e.course_id = $1 \
         WHERE u.email IN ({})",
        placeholders.join(", ")
    );
    let mut found = HashMap::new();
    for chunk in emails.chunks(EMAILS_PER_QUERY) {
        let mut slots: Vec<Option<&str>> = chunk.iter().map(|e| Some(*e)).collect();
        slots.resize(EMAILS_PER_QUERY, None);
        let rows: Vec<(String, String, Option<String>, i64)> = on_db!(db, |pool| {
            let mut query = sqlx::query_as(&sql).bind(&course.id).bind(&course.organisation_id);
            for slot in &slots {
                query = query.bind(*slot);
            }
            query.fetch_all(pool).await
        })?;
        for (email, id, state, member) in rows {
            found.insert(email, (id, state, member > 0));
        }
    }
    Ok(found)
}

async fn cohort_id(db: &Db, organisation_id: &str, name: &str) -> Result<Option<String>, EnrolmentError> {
    Ok(on_db!(db, |pool| {
        sqlx::query_scalar("SELECT id FROM cohorts WHERE organisation_id = $1 AND name = $2")
            .bind(organisation_id)
            .bind(name)
            .fetch_optional(pool)
            .await
    })?)
}

/// What an apply did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BulkResult {
    pub created_accounts: usize,
    pub enrolled: usize,
    pub already_enrolled: usize,
    pub created_cohorts: usize,
    pub invitations_queued: usize,
}

/// The outcome of an apply: done, or refused with the plan's problems and nothing written.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum BulkOutcome {
    Applied(BulkResult),
    Refused(BulkPlan),
}

/// Plans again (the database may have changed since the preview) and, when every row is
/// fine, writes everything in one transaction. `invite_url` turns an invitation token into
/// the link put in the e-mail.
pub async fn apply(
    db: &Db,
    course: &Course,
    bytes: &[u8],
    rights: Rights,
    invite_url: &(dyn Fn(&str) -> String + Sync),
) -> Result<BulkOutcome, EnrolmentError> {
    let plan = plan(db, course, bytes, rights).await?;
    if !plan.is_ok() {
        return Ok(BulkOutcome::Refused(plan));
    }
    let now = db::now();
    let expires = now + time::Duration::days(INVITATION_DAYS);
    let mut cohort_ids: HashMap<String, String> = HashMap::new();
    for name in plan.rows.iter().filter_map(|r| r.cohort.clone()) {
        if !cohort_ids.contains_key(&name) && !plan.new_cohorts.contains(&name) {
            if let Some(id) = cohort_id(db, &course.organisation_id, &name).await? {
                cohort_ids.insert(name, id);
            }
        }
    }
    for name in &plan.new_cohorts {
        cohort_ids.insert(name.clone(), db::new_id());
    }
    // Tokens and mail texts are made before the transaction so it holds no slow work.
    struct NewAccount {
        id: String,
        email: String,
        name: String,
        token_hash: String,
        mail_body: String,
    }
    let mut accounts = Vec::new();
    for row in plan.rows.iter().filter(|r| r.fate == Fate::NewAccount) {
        let (token, token_hash) = invitations::new_token();
        let name = row.name.clone().unwrap_or_default();
        let mail_body = format!(
            "Hello {name},\n\nYou have been enrolled in \"{}\". Choose a password to sign in:\n\n{}\n\n\
             The link works once and expires in {INVITATION_DAYS} days.\n",
            course.title,
            invite_url(&token)
        );
        accounts.push(NewAccount { id: db::new_id(), email: row.email.clone(), name, token_hash, mail_body });
    }
    let user_of = |row: &PlannedRow| -> String {
        row.user_id
            .clone()
            .unwrap_or_else(|| accounts.iter().find(|a| a.email == row.email).expect("planned").id.clone())
    };
    let enrolments: Vec<(String, Option<String>)> =
        plan.rows.iter().map(|r| (user_of(r), r.cohort.as_ref().map(|c| cohort_ids[c].clone()))).collect();
    let subject = format!("You are enrolled in {}", course.title);

    on_db!(db, |pool| {
        async {
            let mut tx = pool.begin().await?;
            for name in &plan.new_cohorts {
                sqlx::query("INSERT INTO cohorts (id, organisation_id, name, created_at) VALUES ($1, $2, $3, $4)")
                    .bind(&cohort_ids[name])
                    .bind(&course.organisation_id)
                    .bind(name)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            }
            for a in &accounts {
                sqlx::query(
                    "INSERT INTO users (id, email, name, role, password_hash, active, created_at) \
                     VALUES ($1, $2, $3, 'learner', '!invited', TRUE, $4)",
                )
                .bind(&a.id)
                .bind(&a.email)
                .bind(&a.name)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                sqlx::query("INSERT INTO memberships (organisation_id, user_id, created_at) VALUES ($1, $2, $3)")
                    .bind(&course.organisation_id)
                    .bind(&a.id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(
                    "INSERT INTO invitations (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
                )
                .bind(&a.token_hash)
                .bind(&a.id)
                .bind(now)
                .bind(expires)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "INSERT INTO email_outbox (id, recipient, kind, subject, body, created_at, tries) \
                     VALUES ($1, $2, 'invitation', $3, $4, $5, 0)",
                )
                .bind(db::new_id())
                .bind(&a.email)
                .bind(&subject)
                .bind(&a.mail_body)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            for (user_id, cohort_id) in &enrolments {
                if let Some(cohort_id) = cohort_id {
                    sqlx::query(
                        "INSERT INTO cohort_members (cohort_id, user_id, created_at) VALUES ($1, $2, $3) \
                         ON CONFLICT (cohort_id, user_id) DO NOTHING",
                    )
                    .bind(cohort_id)
                    .bind(user_id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                }
                // No dates from a file: absent dates keep an existing enrolment's window.
                sqlx::query(super::UPSERT_SQL)
                    .bind(db::new_id())
                    .bind(&course.id)
                    .bind(user_id)
                    .bind(cohort_id)
                    .bind(super::Source::Bulk.as_str())
                    .bind(now)
                    .bind(None::<time::OffsetDateTime>)
                    .bind(None::<time::OffsetDateTime>)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await
        }
        .await
    })?;
    Ok(BulkOutcome::Applied(BulkResult {
        created_accounts: accounts.len(),
        enrolled: plan.count(Fate::NewAccount) + plan.count(Fate::Enrol) + plan.count(Fate::Reenrol),
        already_enrolled: plan.count(Fate::AlreadyEnrolled),
        created_cohorts: plan.new_cohorts.len(),
        invitations_queued: accounts.len(),
    }))
}
