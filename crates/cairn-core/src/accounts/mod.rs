//! Accounts: users, their roles, password login and what each role may do.

pub mod invitations;
pub mod password;
pub mod policy;
pub mod tokens;

use serde::{Deserialize, Serialize};
use sqlx::FromRow;
use time::OffsetDateTime;

use crate::db::{self, Db, StoreError};
use crate::validate::{self, InvalidInput};
use crate::{on_db, on_db_conn};

/// What a user may do across the platform. Institute-level scope comes from memberships.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Runs the platform: every institute, every account.
    Admin,
    /// Runs one or more training institutes: their members, enrolments and reports.
    Manager,
    /// Authors courses and follows learners in their institutes.
    Instructor,
    /// Takes courses.
    Learner,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Manager, Role::Instructor, Role::Learner];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Instructor => "instructor",
            Role::Learner => "learner",
        }
    }

    /// A human label for pages ("Institute manager").
    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Administrator",
            Role::Manager => "Institute manager",
            Role::Instructor => "Instructor",
            Role::Learner => "Learner",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Role {
    type Err = InvalidInput;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s.trim())
            .ok_or_else(|| InvalidInput::new("role", "must be one of admin, manager, instructor, learner"))
    }
}

/// A user as stored, without the password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub active: bool,
    pub created_at: OffsetDateTime,
    pub last_login_at: Option<OffsetDateTime>,
}

#[derive(FromRow)]
struct UserRow {
    id: String,
    email: String,
    name: String,
    role: String,
    active: bool,
    created_at: OffsetDateTime,
    last_login_at: Option<OffsetDateTime>,
}

impl TryFrom<UserRow> for User {
    type Error = AccountError;

    fn try_from(row: UserRow) -> Result<Self, Self::Error> {
        Ok(User {
            role: row
                .role
                .parse()
                .map_err(|_| AccountError::Corrupt(format!("user {} has role {:?}", row.id, row.role)))?,
            id: row.id,
            email: row.email,
            name: row.name,
            active: row.active,
            created_at: row.created_at,
            last_login_at: row.last_login_at,
        })
    }
}

const USER_COLUMNS: &str = "id, email, name, role, active, created_at, last_login_at";

/// Errors of the accounts area.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("{0}")]
    Invalid(#[from] InvalidInput),
    #[error("an account with the e-mail {0} already exists")]
    EmailTaken(String),
    #[error("no such account")]
    NotFound,
    #[error("the e-mail or password is wrong")]
    BadCredentials,
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for AccountError {
    fn from(e: sqlx::Error) -> Self {
        AccountError::Store(e.into())
    }
}

/// The fields needed to create an account. The password is optional: without one a random
/// password is generated and returned once by [`create_user`].
#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub password: Option<String>,
    /// Institute the account joins at once, by id.
    pub organisation_id: Option<String>,
}

/// A created account, with the generated password when none was given.
#[derive(Debug, Clone)]
pub struct CreatedUser {
    pub user: User,
    pub generated_password: Option<String>,
}

/// Creates an account (and its membership, in the same transaction).
pub async fn create_user(db: &Db, new: NewUser) -> Result<CreatedUser, AccountError> {
    let email = validate::email(&new.email)?;
    let name = validate::name("name", &new.name, validate::MAX_NAME_LEN)?;
    let (password, generated_password) = match new.password {
        Some(p) => {
            validate::password(&p)?;
            (p, None)
        }
        None => {
            let p = password::generate();
            (p.clone(), Some(p))
        }
    };
    // Hashing is CPU-heavy; keep it off the async worker threads.
    let hash = tokio::task::spawn_blocking(move || password::hash(&password))
        .await
        .map_err(|e| AccountError::Corrupt(format!("password hashing task failed: {e}")))?;
    let user = User {
        id: db::new_id(),
        email,
        name,
        role: new.role,
        active: true,
        created_at: db::now(),
        last_login_at: None,
    };
    // The async block gives `?` a scope of its own, so a unique violation can be told
    // apart below instead of returning early as a generic store error.
    let result: Result<(), sqlx::Error> = on_db!(db, |pool| {
        async {
        let mut tx = pool.begin().await?;
        sqlx::query(
            "INSERT INTO users (id, email, name, role, password_hash, active, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&user.id)
        .bind(&user.email)
        .bind(&user.name)
        .bind(user.role.as_str())
        .bind(&hash)
        .bind(user.active)
        .bind(user.created_at)
        .execute(&mut *tx)
        .await?;
        if let Some(org) = &new.organisation_id {
            sqlx::query("INSERT INTO memberships (organisation_id, user_id, created_at) VALUES ($1, $2, $3)")
                .bind(org)
                .bind(&user.id)
                .bind(user.created_at)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await
    }
    .await
    });
    match result.map_err(StoreError::from) {
        Ok(()) => Ok(CreatedUser { user, generated_password }),
        Err(e) if e.is_unique_violation() => Err(AccountError::EmailTaken(user.email)),
        Err(e) => Err(e.into()),
    }
}

pub async fn find_by_id(db: &Db, id: &str) -> Result<Option<User>, AccountError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
    let row: Option<UserRow> = on_db!(db, |pool| sqlx::query_as(&sql).bind(id).fetch_optional(pool).await)?;
    row.map(User::try_from).transpose()
}

/// A user with the ids of the institutes they belong to, in one query: every signed-in
/// request needs both, so they are read together (one row per membership, the user's
/// columns repeated; a user without institutes gives one row with a NULL institute).
pub async fn find_with_organisations(db: &Db, id: &str) -> Result<Option<(User, Vec<String>)>, AccountError> {
    #[derive(FromRow)]
    struct Row {
        #[sqlx(flatten)]
        user: UserRow,
        organisation_id: Option<String>,
    }
    const SQL: &str = "SELECT u.id, u.email, u.name, u.role, u.active, u.created_at, u.last_login_at, \
        m.organisation_id FROM users u LEFT JOIN memberships m ON m.user_id = u.id WHERE u.id = $1 \
        ORDER BY m.organisation_id";
    // Every signed-in request makes this read: it runs on a kept connection.
    let rows: Vec<Row> = on_db_conn!(db, |conn| sqlx::query_as(SQL).bind(id).fetch_all(conn).await)?;
    let mut rows = rows.into_iter();
    let Some(first) = rows.next() else {
        return Ok(None);
    };
    let organisation_ids =
        std::iter::once(first.organisation_id).chain(rows.map(|r| r.organisation_id)).flatten().collect();
    Ok(Some((User::try_from(first.user)?, organisation_ids)))
}

pub async fn find_by_email(db: &Db, email: &str) -> Result<Option<User>, AccountError> {
    let email = email.trim().to_lowercase();
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE email = $1");
    let row: Option<UserRow> = on_db!(db, |pool| sqlx::query_as(&sql).bind(&email).fetch_optional(pool).await)?;
    row.map(User::try_from).transpose()
}

/// Checks an e-mail and password. Unknown e-mails and inactive accounts cost the same
/// hashing work as a wrong password and give the same answer, so a caller cannot probe
/// which addresses have accounts.
pub async fn authenticate(db: &Db, email: &str, password: &str) -> Result<User, AccountError> {
    let email = email.trim().to_lowercase();
    if password.len() > validate::MAX_PASSWORD_LEN * 4 {
        return Err(AccountError::BadCredentials);
    }
    let found: Option<(String, String, bool)> = on_db!(db, |pool| {
        sqlx::query_as("SELECT id, password_hash, active FROM users WHERE email = $1")
            .bind(&email)
            .fetch_optional(pool)
            .await
    })?;
    let (id, stored, active) = found.unwrap_or_else(|| (String::new(), password::dummy_hash().to_string(), false));
    let password = password.to_string();
    let matches = tokio::task::spawn_blocking(move || password::verify(&password, &stored))
        .await
        .map_err(|e| AccountError::Corrupt(format!("password check task failed: {e}")))?;
    if !matches || !active {
        return Err(AccountError::BadCredentials);
    }
    let now = db::now();
    on_db!(db, |pool| sqlx::query("UPDATE users SET last_login_at = $1 WHERE id = $2")
        .bind(now)
        .bind(&id)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    find_by_id(db, &id).await?.ok_or(AccountError::NotFound)
}

/// Replaces a user's password.
pub async fn set_password(db: &Db, user_id: &str, new_password: &str) -> Result<(), AccountError> {
    validate::password(new_password)?;
    let password = new_password.to_string();
    let hash = tokio::task::spawn_blocking(move || password::hash(&password))
        .await
        .map_err(|e| AccountError::Corrupt(format!("password hashing task failed: {e}")))?;
    let done = on_db!(db, |pool| {
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(&hash)
            .bind(user_id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })?;
    if done == 0 {
        return Err(AccountError::NotFound);
    }
    Ok(())
}

/// Which users a listing covers.
#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    /// Only members of this institute.
    pub organisation_id: Option<String>,
    /// Only members of any of these institutes (a manager's scope); `None` means all.
    pub within_organisations: Option<Vec<String>>,
    pub role: Option<Role>,
    /// Case-insensitive substring of the name or e-mail.
    pub search: Option<String>,
}

/// One page of a listing.
#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub offset: i64,
    pub limit: i64,
}

/// Largest page a listing returns, whatever the caller asks for.
pub const MAX_PAGE_SIZE: i64 = 200;

/// Lists users, newest first, filtered and paginated.
pub async fn list_users(db: &Db, filter: &UserFilter, offset: i64, limit: i64) -> Result<Page<User>, AccountError> {
    let limit = limit.clamp(1, MAX_PAGE_SIZE);
    let offset = offset.max(0);
    // Filters are optional; "$n IS NULL OR ..." keeps one SQL text for every combination.
    // Institute ids are UUIDs and never hold commas, so a comma-joined list carries a set
    // in one parameter on both engines (SQLite has no array type).
    let scope: Option<String> = filter.within_organisations.as_ref().map(|ids| ids.join(","));
    let search = filter.search.as_ref().map(|s| format!("%{}%", s.trim().to_lowercase()));
    let role = filter.role.map(Role::as_str);
    let condition =
        "($1 IS NULL OR EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = users.id AND m.organisation_id = $1)) \
         AND ($2 IS NULL OR EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = users.id \
              AND (',' || $2 || ',') LIKE ('%,' || m.organisation_id || ',%'))) \
         AND ($3 IS NULL OR role = $3) \
         AND ($4 IS NULL OR LOWER(name) LIKE $4 OR email LIKE $4)";
    let list_sql =
        format!("SELECT {USER_COLUMNS} FROM users WHERE {condition} ORDER BY created_at DESC, id LIMIT $5 OFFSET $6");
    let count_sql = format!("SELECT COUNT(*) FROM users WHERE {condition}");
    let (rows, total): (Vec<UserRow>, i64) = on_db!(db, |pool| {
        let rows = sqlx::query_as(&list_sql)
            .bind(&filter.organisation_id)
            .bind(&scope)
            .bind(role)
            .bind(&search)
            .bind(limit)
            .bind(offset)
            .fetch_all(pool)
            .await?;
        let total = sqlx::query_scalar(&count_sql)
            .bind(&filter.organisation_id)
            .bind(&scope)
            .bind(role)
            .bind(&search)
            .fetch_one(pool)
            .await?;
        Ok::<_, sqlx::Error>((rows, total))
    })?;
    let items = rows.into_iter().map(User::try_from).collect::<Result<_, _>>()?;
    Ok(Page { items, total, offset, limit })
}

/// How many accounts hold each role, in [`Role::ALL`] order.
pub async fn count_by_role(db: &Db) -> Result<Vec<(Role, i64)>, AccountError> {
    let rows: Vec<(String, i64)> =
        on_db!(db, |pool| sqlx::query_as("SELECT role, COUNT(*) FROM users GROUP BY role").fetch_all(pool).await)?;
    Ok(Role::ALL
        .into_iter()
        .map(|role| (role, rows.iter().find(|(r, _)| r == role.as_str()).map_or(0, |(_, n)| *n)))
        .collect())
}

pub async fn count_users(db: &Db) -> Result<i64, AccountError> {
    Ok(on_db!(db, |pool| sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(pool).await)?)
}

/// The ids of the institutes a user belongs to.
pub async fn organisation_ids(db: &Db, user_id: &str) -> Result<Vec<String>, AccountError> {
    Ok(on_db!(db, |pool| {
        sqlx::query_scalar("SELECT organisation_id FROM memberships WHERE user_id = $1 ORDER BY organisation_id")
            .bind(user_id)
            .fetch_all(pool)
            .await
    })?)
}
