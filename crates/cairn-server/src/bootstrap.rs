//! First start: the first administrator account and, with `--demo`, a demo institute with
//! an instructor and a learner, so a newcomer sees a working site at once.

use std::io::Write;

use anyhow::Context;
use cairn_core::accounts::{self, NewUser, Role};
use cairn_core::packages::{self, CourseTarget, ImportOutcome, ImportRequest};
use cairn_core::{catalog, organisations, Db};
use rust_embed::RustEmbed;

use crate::app::AppState;

/// The courses the project writes itself (`courses/`), embedded so that `--demo` works
/// from any folder and from a release binary.
#[derive(RustEmbed)]
#[folder = "../../courses/"]
#[exclude = "*README.md"]
struct CourseSources;

/// The demo courses: (folder under `courses/`, course slug).
pub const DEMO_COURSES: [(&str, &str); 1] = [("egov-readiness", "e-government-readiness")];

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

/// Creates the demo institute, its people and its courses when missing.
pub async fn ensure_demo(state: &AppState) -> anyhow::Result<Vec<Credential>> {
    let credentials = ensure_demo_people(&state.db).await?;
    let org = organisations::get_by_slug(&state.db, DEMO_INSTITUTE_SLUG).await?;
    let instructor = accounts::find_by_email(&state.db, DEMO_INSTRUCTOR_EMAIL).await?.map(|u| u.id);
    for (folder, slug) in DEMO_COURSES {
        if catalog::find_by_slug(&state.db, slug).await?.is_some() {
            continue;
        }
        let archive = zip_course(folder).with_context(|| format!("packing the demo course {folder}"))?;
        let request = ImportRequest {
            archive,
            original_filename: format!("{folder}.zip"),
            target: CourseTarget::New { organisation_id: org.id.clone(), title: None, slug: Some(slug.to_string()) },
            imported_by: instructor.clone(),
            limits: state.config.package_limits(),
        };
        match packages::import_package(&state.db, &state.content, request, None).await? {
            ImportOutcome::Imported(done) => {
                arrange_demo_course(state, &done.course).await.context("arranging the demo course")?;
                tracing::info!(course = %done.course.slug, "demo course imported");
            }
            ImportOutcome::Refused(inspection) => {
                let reasons: Vec<_> = inspection.errors.iter().map(|e| e.message.clone()).collect();
                anyhow::bail!("the demo course {folder} was refused: {}", reasons.join("; "));
            }
        }
    }
    Ok(credentials)
}

/// A native page of a demo course, from `courses/pages/<course folder>/<name>.md`.
fn demo_page(folder: &str, name: &str) -> anyhow::Result<String> {
    let path = format!("pages/{folder}/{name}.md");
    let file = CourseSources::get(&path).with_context(|| format!("embedded page {path}"))?;
    Ok(String::from_utf8(file.data.into_owned())?)
}

/// Gives the imported demo package the outline of a real course: a welcome page, the
/// package's lessons (the quiz opens after the two reading lessons), a good-practice case
/// and further reading; then publishes it with open enrolment.
async fn arrange_demo_course(state: &AppState, course: &catalog::Course) -> anyhow::Result<()> {
    use cairn_core::outline::{self, LessonContent, LessonInput};
    let db = &state.db;
    for module in outline::of_course(db, &course.id).await?.modules {
        outline::delete_module(db, &module.module.id).await?;
    }
    let lesson =
        |title: &str, required: bool, content: LessonContent| LessonInput { title: title.into(), required, content };
    let scorm = |item: &str| LessonContent::Scorm { item_identifier: Some(item.to_string()) };
    let folder = "egov-readiness";

    let welcome = outline::add_module(db, &course.id, "Welcome").await?;
    outline::add_lesson(
        db,
        &welcome.id,
        lesson("About this course", true, LessonContent::Page { body: demo_page(folder, "welcome")? }),
    )
    .await?;

    let essentials = outline::add_module(db, &course.id, "Readiness essentials").await?;
    let why =
        outline::add_lesson(db, &essentials.id, lesson("Why e-government readiness matters", true, scorm("item_why")))
            .await?;
    let dimensions =
        outline::add_lesson(db, &essentials.id, lesson("The dimensions of readiness", true, scorm("item_dimensions")))
            .await?;
    let quiz =
        outline::add_lesson(db, &essentials.id, lesson("Check your understanding", true, scorm("item_quiz"))).await?;
    outline::set_prerequisites(db, &quiz.id, &[why.id, dimensions.id]).await?;
    outline::add_lesson(
        db,
        &essentials.id,
        lesson("Readiness self-assessment checklist", false, scorm("item_checklist")),
    )
    .await?;

    let further = outline::add_module(db, &course.id, "Good practice and further reading").await?;
    outline::add_lesson(
        db,
        &further.id,
        lesson(
            "Good practice: one door for business registration",
            false,
            LessonContent::Page { body: demo_page(folder, "good-practice")? },
        ),
    )
    .await?;
    outline::add_lesson(
        db,
        &further.id,
        lesson(
            "United Nations E-Government Knowledgebase",
            false,
            LessonContent::Link { url: "https://publicadministration.un.org/egovkb/".into() },
        ),
    )
    .await?;

    let mut settings = catalog::CourseSettings::of(course);
    settings.summary = "Why digital public services succeed or fail, the five dimensions of readiness, and a \
        short quiz. For civil servants in ministries and local government; about 30 minutes."
        .into();
    settings.topic = "e-government".into();
    settings.status = "published".into();
    settings.enrolment_mode = "open".into();
    catalog::update_settings(db, &course.id, settings).await?;
    Ok(())
}

/// Zips `courses/<folder>/` (manifest at the root) into an anonymous temporary file.
pub fn zip_course(folder: &str) -> anyhow::Result<std::fs::File> {
    let prefix = format!("{folder}/");
    let mut names: Vec<String> =
        CourseSources::iter().filter(|p| p.starts_with(&prefix)).map(|p| p.to_string()).collect();
    anyhow::ensure!(!names.is_empty(), "no course sources under courses/{folder}");
    names.sort();
    let mut writer = zip::ZipWriter::new(tempfile::tempfile()?);
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for name in names {
        let file = CourseSources::get(&name).with_context(|| format!("embedded file {name}"))?;
        writer.start_file(&name[prefix.len()..], options)?;
        writer.write_all(&file.data)?;
    }
    Ok(writer.finish()?)
}

/// Creates the demo institute and its manager, instructor and learner when missing.
/// Accounts that already exist are left alone (their passwords were printed before).
async fn ensure_demo_people(db: &Db) -> anyhow::Result<Vec<Credential>> {
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
