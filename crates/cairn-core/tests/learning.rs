//! Courses, outlines, enrolments, progress and the completion report on every engine:
//! the store rules the pages and the API rely on.

use cairn_core::accounts::{self, NewUser, Role};
use cairn_core::catalog::{self, CourseSettings, NewCourse};
use cairn_core::enrolments::bulk::{self, BulkOutcome, Fate, Rights};
use cairn_core::enrolments::roster::{self, RosterQuery, RosterSort};
use cairn_core::enrolments::{self, NewEnrolment, Source};
use cairn_core::outline::{self, Direction, LessonContent, LessonInput};
use cairn_core::packages::{self, ContentStore, CourseTarget, ImportOutcome, ImportRequest};
use cairn_core::reports::{self, ReportFilter, ReportScope};
use cairn_core::testing::{count_rows, TestDb};
use cairn_core::{cohorts, organisations, progress, tracking, Db};

const MANAGER: Rights = Rights { create_accounts_and_cohorts: true, any_institute: false };

async fn learner(db: &Db, email: &str, org: Option<&str>) -> String {
    let new = NewUser {
        email: email.into(),
        name: format!("Learner {email}"),
        role: Role::Learner,
        password: Some("a good password".into()),
        organisation_id: org.map(str::to_string),
    };
    accounts::create_user(db, new).await.unwrap().user.id
}

fn page(title: &str, required: bool) -> LessonInput {
    LessonInput { title: title.into(), required, content: LessonContent::Page { body: format!("# {title}") } }
}

async fn enrol(db: &Db, course: &str, user: &str) {
    let new = NewEnrolment {
        course_id: course.into(),
        user_id: user.into(),
        source: Source::Manual,
        cohort_id: None,
        starts_at: None,
        ends_at: None,
    };
    enrolments::enrol(db, &new).await.unwrap();
}

async fn report_text(db: &Db, scope: ReportScope, filter: ReportFilter) -> String {
    let mut rx = reports::completions_csv(db.clone(), scope, filter);
    let mut bytes = Vec::new();
    while let Some(chunk) = rx.recv().await {
        bytes.extend(chunk.unwrap());
    }
    assert!(bytes.starts_with(&[0xEF, 0xBB, 0xBF]), "the report starts with a UTF-8 BOM");
    String::from_utf8(bytes[3..].to_vec()).unwrap()
}

#[tokio::test]
async fn outline_progress_completion_and_report() {
    for t in TestDb::all("learning").await {
        let db = &t.db;
        let org = organisations::create(db, "ipa", "Institut public").await.unwrap();
        let course = catalog::create(
            db,
            NewCourse { organisation_id: org.id.clone(), title: "Ethics".into(), slug: None, created_by: None },
        )
        .await
        .unwrap();
        let module = outline::add_module(db, &course.id, "Basics").await.unwrap();
        let intro = outline::add_lesson(db, &module.id, page("Intro", true)).await.unwrap();
        let code = outline::add_lesson(db, &module.id, page("Code of conduct", true)).await.unwrap();
        let extra = outline::add_lesson(db, &module.id, page("Further reading", false)).await.unwrap();
        outline::move_lesson(db, &extra.id, Direction::Up).await.unwrap();
        let order: Vec<String> =
            outline::of_course(db, &course.id).await.unwrap().lessons().map(|l| l.title.clone()).collect();
        assert_eq!(order, ["Intro", "Further reading", "Code of conduct"]);
        outline::set_prerequisites(db, &code.id, std::slice::from_ref(&intro.id)).await.unwrap();
        assert!(
            outline::set_prerequisites(db, &intro.id, std::slice::from_ref(&code.id)).await.is_err(),
            "a cycle is refused"
        );

        let ana = learner(db, "ana@example.org", Some(&org.id)).await;
        enrol(db, &course.id, &ana).await;
        let p = progress::mark_done(db, &intro, &ana).await.unwrap();
        assert_eq!((p.percent, p.complete), (50, false));
        // Viewing a done page again does not undo it.
        progress::record_view(db, &intro, &ana).await.unwrap();
        let p = progress::mark_done(db, &code, &ana).await.unwrap();
        assert_eq!((p.percent, p.complete), (100, true), "optional lessons do not hold completion back");
        let first = enrolments::find(db, &course.id, &ana).await.unwrap().unwrap();
        assert_eq!(first.status, "completed");
        let completed_at = first.completed_at.expect("a completion date");

        // The outline grows: progress drops below 100%, but the completion stays, once.
        let more = outline::add_lesson(db, &module.id, page("New rules", true)).await.unwrap();
        let p = progress::refresh(db, &course.id, &ana).await.unwrap();
        assert_eq!(p.percent, 66);
        let again = enrolments::find(db, &course.id, &ana).await.unwrap().unwrap();
        assert_eq!((again.status.as_str(), again.completed_at), ("completed", Some(completed_at)));
        progress::mark_done(db, &more, &ana).await.unwrap();
        assert_eq!(enrolments::find(db, &course.id, &ana).await.unwrap().unwrap().completed_at, Some(completed_at));

        // Withdrawal keeps the data; enrolling again restores it.
        enrolments::withdraw(db, &course.id, &ana).await.unwrap();
        let gone = enrolments::find(db, &course.id, &ana).await.unwrap().unwrap();
        assert_eq!(gone.state, "withdrawn");
        enrol(db, &course.id, &ana).await;
        let back = enrolments::find(db, &course.id, &ana).await.unwrap().unwrap();
        assert_eq!(
            (back.state.as_str(), back.progress_percent, back.completed_at),
            ("active", 100, Some(completed_at))
        );

        // The report: header, one row per enrolment, scoped.
        let ben = learner(db, "ben@example.org", Some(&org.id)).await;
        enrol(db, &course.id, &ben).await;
        let other_org = organisations::create(db, "other", "Other").await.unwrap();
        let other = catalog::create(
            db,
            NewCourse { organisation_id: other_org.id.clone(), title: "Taxes".into(), slug: None, created_by: None },
        )
        .await
        .unwrap();
        enrol(db, &other.id, &ben).await;
        let all = report_text(db, ReportScope::All, ReportFilter::default()).await;
        let lines: Vec<&str> = all.split("\r\n").filter(|l| !l.is_empty()).collect();
        assert_eq!(lines[0], reports::HEADER.join(","));
        assert_eq!(lines.len(), 4, "{all}");
        let ana_line = lines.iter().find(|l| l.contains("ana@example.org")).unwrap();
        assert!(ana_line.contains(",completed,"), "{ana_line}");
        assert!(ana_line.contains(&completed_at.year().to_string()), "{ana_line}");
        let scoped = report_text(db, ReportScope::Organisations(vec![org.id.clone()]), ReportFilter::default()).await;
        assert!(!scoped.contains("Taxes"), "{scoped}");
        assert_eq!(scoped.split("\r\n").filter(|l| !l.is_empty()).count(), 3);
        let nobody = report_text(db, ReportScope::Organisations(vec![]), ReportFilter::default()).await;
        assert_eq!(nobody.split("\r\n").filter(|l| !l.is_empty()).count(), 1, "no institute, no rows");
        let teaching = report_text(db, ReportScope::InstructorOf(ana.clone()), ReportFilter::default()).await;
        assert_eq!(teaching.split("\r\n").filter(|l| !l.is_empty()).count(), 1, "not an instructor of anything");
        let since = report_text(
            db,
            ReportScope::All,
            ReportFilter { since: Some(completed_at + time::Duration::days(1)), ..Default::default() },
        )
        .await;
        assert_eq!(since.split("\r\n").filter(|l| !l.is_empty()).count(), 1, "{since}");

        // Roster: filters and sorts.
        let page = roster::roster(
            db,
            &RosterQuery {
                course_id: course.id.clone(),
                sort: RosterSort::Progress,
                descending: true,
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(page.total, 2);
        assert_eq!(page.rows[0].email, "ana@example.org");
        let done = roster::roster(
            db,
            &RosterQuery {
                course_id: course.id.clone(),
                status: Some("completed".into()),
                limit: 10,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(done.total, 1);
        let cells = roster::cells(db, &course.id, &[ana.clone(), ben.clone()]).await.unwrap();
        assert_eq!(cells.iter().filter(|c| c.user_id == ana).count(), 3);
    }
}

#[tokio::test]
async fn bulk_enrolment_is_all_or_nothing() {
    for t in TestDb::all("learning_bulk").await {
        let db = &t.db;
        let org = organisations::create(db, "ipa", "IPA").await.unwrap();
        let course = catalog::create(
            db,
            NewCourse { organisation_id: org.id.clone(), title: "PPP".into(), slug: None, created_by: None },
        )
        .await
        .unwrap();
        let existing = learner(db, "known@example.org", Some(&org.id)).await;
        let link = |token: &str| format!("https://cairn.example/invite/{token}");

        let bad = b"email,name,cohort\nnew@example.org,New Person,2026 intake\nnot-an-email,X,\nknown@example.org,,\nnobody@example.org,,\n";
        let (users, enrolled, outbox) =
            (count_rows(db, "users").await, count_rows(db, "enrolments").await, count_rows(db, "email_outbox").await);
        let BulkOutcome::Refused(plan) = bulk::apply(db, &course, bad, MANAGER, &link).await.unwrap() else {
            panic!("a bad file must be refused")
        };
        let lines: Vec<u64> = plan.problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, [3, 5], "{:?}", plan.problems);
        assert_eq!(count_rows(db, "users").await, users, "nothing partial is kept");
        assert_eq!(count_rows(db, "enrolments").await, enrolled);
        assert_eq!(count_rows(db, "email_outbox").await, outbox);
        assert_eq!(count_rows(db, "cohorts").await, 0);

        let good = b"email,name,cohort\nnew@example.org,New Person,2026 intake\nknown@example.org,,2026 intake\n";
        let plan = bulk::plan(db, &course, good, MANAGER).await.unwrap();
        let fates: Vec<Fate> = plan.rows.iter().map(|r| r.fate).collect();
        assert_eq!(fates, [Fate::NewAccount, Fate::Enrol]);
        assert_eq!(plan.new_cohorts, ["2026 intake"]);
        let BulkOutcome::Applied(done) = bulk::apply(db, &course, good, MANAGER, &link).await.unwrap() else {
            panic!("a good file is applied")
        };
        assert_eq!((done.created_accounts, done.enrolled, done.created_cohorts), (1, 2, 1));
        assert_eq!(count_rows(db, "email_outbox").await, outbox + 1);
        let cohort = cohorts::find_by_name(db, &org.id, "2026 intake").await.unwrap().unwrap();
        assert_eq!(cohort.members, 2);
        assert!(enrolments::find(db, &course.id, &existing).await.unwrap().is_some());
        // The invited account cannot sign in until it chooses a password.
        assert!(accounts::authenticate(db, "new@example.org", "anything at all").await.is_err());

        // An instructor's file may not create accounts or cohorts.
        let instructor = Rights { create_accounts_and_cohorts: false, any_institute: false };
        let newcomer = b"email,name,cohort\nfresh@example.org,Fresh,New cohort\nknown@example.org,,\n";
        let BulkOutcome::Refused(plan) = bulk::apply(db, &course, newcomer, instructor, &link).await.unwrap() else {
            panic!("an instructor cannot create accounts")
        };
        let fields: Vec<_> = plan.problems.iter().map(|p| (p.line, p.field.clone().unwrap_or_default())).collect();
        assert_eq!(fields, [(2, "email".to_string()), (2, "cohort".to_string())]);

        // Staff other than administrators enrol members of the course's institute only.
        let elsewhere = organisations::create(db, "elsewhere", "Elsewhere").await.unwrap();
        learner(db, "outsider@example.org", Some(&elsewhere.id)).await;
        let outsider = b"email\noutsider@example.org\n";
        let plan = bulk::plan(db, &course, outsider, MANAGER).await.unwrap();
        assert_eq!(plan.problems.iter().map(|p| p.line).collect::<Vec<_>>(), [2], "{:?}", plan.problems);
        let admin = Rights { create_accounts_and_cohorts: true, any_institute: true };
        let plan = bulk::plan(db, &course, outsider, admin).await.unwrap();
        assert!(plan.is_ok() && plan.rows[0].fate == Fate::Enrol, "{plan:?}");

        // Applying the same file again changes nothing but says so.
        let BulkOutcome::Applied(again) = bulk::apply(db, &course, good, MANAGER, &link).await.unwrap() else {
            panic!()
        };
        assert_eq!((again.created_accounts, again.already_enrolled), (0, 2));
    }
}

#[tokio::test]
async fn scorm_lessons_follow_tracking_and_catalog_search_finds_published_courses() {
    for t in TestDb::all("learning_scorm").await {
        let db = &t.db;
        let content = tempfile::tempdir().unwrap();
        let org = organisations::create(db, "ipa", "IPA").await.unwrap();
        let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/fixtures/scorm/valid/scorm12_golf_RuntimeMinimumCalls_SCORM12_multisco.zip");
        let request = ImportRequest {
            archive: std::fs::File::open(fixture).expect("the shared fixture"),
            original_filename: "multi.zip".into(),
            target: CourseTarget::New { organisation_id: org.id.clone(), title: None, slug: None },
            imported_by: None,
            limits: cairn_scorm::Limits::default(),
        };
        let ImportOutcome::Imported(done) =
            packages::import_package(db, &ContentStore::new(content.path()), request, None).await.unwrap()
        else {
            panic!("refused")
        };
        // A new course gets one module with the whole package as one required lesson.
        let outline = outline::of_course(db, &done.course.id).await.unwrap();
        let lessons: Vec<_> = outline.lessons().collect();
        assert_eq!(lessons.len(), 1);
        assert_eq!((lessons[0].kind.as_str(), lessons[0].item_identifier.as_deref()), ("scorm", None));

        let ana = learner(db, "ana@example.org", Some(&org.id)).await;
        enrol(db, &done.course.id, &ana).await;
        let items = packages::items(db, &done.package.id).await.unwrap();
        let launchable: Vec<_> = items.iter().filter(|i| i.launch.is_some()).collect();
        for (n, item) in launchable.iter().enumerate() {
            let attempt = tracking::create(
                db,
                tracking::NewAttempt {
                    user_id: ana.clone(),
                    course_id: done.course.id.clone(),
                    package_id: done.package.id.clone(),
                    item_identifier: item.identifier.clone(),
                    scorm_version: "1.2".into(),
                },
            )
            .await
            .unwrap();
            tracking::complete_viewed(db, &attempt.id).await.unwrap();
            let p = progress::refresh(db, &done.course.id, &ana).await.unwrap();
            let last = n + 1 == launchable.len();
            assert_eq!(p.complete, last, "after {} of {} items", n + 1, launchable.len());
            assert_eq!(p.percent, if last { 100 } else { 0 }, "one lesson for the whole package");
            assert!(p.started);
        }

        // Search: drafts are not listed; published ones by word, topic and institute.
        assert_eq!(catalog::search(db, &Default::default(), 0, 10).await.unwrap().1, 0);
        let mut settings = CourseSettings::of(&done.course);
        settings.status = "published".into();
        settings.topic = "ethics".into();
        catalog::update_settings(db, &done.course.id, settings).await.unwrap();
        let search = |text: &str, topic: &str| catalog::CatalogQuery {
            text: text.into(),
            topic: topic.into(),
            institute: "ipa".into(),
        };
        let title_word = done.course.title.split_whitespace().next().unwrap().to_lowercase();
        assert_eq!(catalog::search(db, &search(&title_word, ""), 0, 10).await.unwrap().1, 1);
        assert_eq!(catalog::search(db, &search("", "ethics"), 0, 10).await.unwrap().1, 1);
        assert_eq!(catalog::search(db, &search("", "tax-reform"), 0, 10).await.unwrap().1, 0);
        assert_eq!(catalog::search(db, &search("zzz-nothing", ""), 0, 10).await.unwrap().1, 0);
        assert_eq!(catalog::search(db, &search("100%_", ""), 0, 10).await.unwrap().1, 0, "wildcards are literal");
    }
}
