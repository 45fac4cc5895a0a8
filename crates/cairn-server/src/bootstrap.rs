//! First start: the first administrator account and, with `--demo`, a demo institute with
//! an instructor and a learner, so a newcomer sees a working site at once.

use cairn_core::accounts::{self, NewUser, Role};
use cairn_core::{organisations, Db};

/// Credentials created at start, to print once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    pub role: Role,
    pub email: String,
    /// `None` when the password came from the configuration and must not be echoed.
    pub password: Option<String>,
}

pub const DEMO_INSTITUTE_SLUG: &str = "demo-institute";
pub const DEMO_INSTRUCTOR_EMAIL: &str = "instructor@demo.cairn.local";
pub const DEMO_LEARNER_EMAIL: &str = "learner@demo.cairn.local";
pub const DEMO_MANAGER_EMAIL: &str = "manager@demo.cairn.local";

/// Creates the first admin when there are no accounts at all. Returns the credential to
/// print, or `None` when accounts already exist.
pub async fn ensure_admin(db: &Db, email: &str, password: Option<&str>) -> anyhow::Result<Option<Credential>> {
    if accounts::count_users(db).await? > 0 {
        return Ok(None);
    }
    let created = accounts::create_user(
        db,
        NewUser {
            email: email.into(),
            name: "Administrator".into(),
            role: Role::Admin,
            password: password.map(str::to_string),
            organisation_id: None,
        },
    )
    .await?;
    Ok(Some(Credential { role: Role::Admin, email: created.user.email, password: created.generated_password }))
}

/// Creates the demo institute and its manager, instructor and learner when missing.
/// Accounts that already exist are left alone (their passwords were printed before).
pub async fn ensure_demo(db: &Db) -> anyhow::Result<Vec<Credential>> {
    let org = match organisations::find_by_slug(db, DEMO_INSTITUTE_SLUG).await? {
        Some(org) => org,
        None => organisations::create(db, DEMO_INSTITUTE_SLUG, "Demo Institute of Public Administration").await?,
    };
    let people = [
        (Role::Manager, DEMO_MANAGER_EMAIL, "Mariam Diallo"),
        (Role::Instructor, DEMO_INSTRUCTOR_EMAIL, "Kwame Mensah"),
        (Role::Learner, DEMO_LEARNER_EMAIL, "Amina Yusuf"),
    ];
    let mut credentials = Vec::new();
    for (role, email, name) in people {
        if accounts::find_by_email(db, email).await?.is_some() {
            continue;
        }
        let created = accounts::create_user(
            db,
            NewUser {
                email: email.into(),
                name: name.into(),
                role,
                password: None,
                organisation_id: Some(org.id.clone()),
            },
        )
        .await?;
        credentials.push(Credential { role, email: created.user.email, password: created.generated_password });
    }
    Ok(credentials)
}

/// The block printed on the terminal after start-up.
pub fn render_credentials(credentials: &[Credential]) -> String {
    let mut out = String::from("\n  One-time credentials (shown only now; change them under Account):\n");
    for c in credentials {
        let password = c.password.as_deref().unwrap_or("(the password you configured)");
        out.push_str(&format!("    {:<18} {:<32} {}\n", c.role.label(), c.email, password));
    }
    out
}
