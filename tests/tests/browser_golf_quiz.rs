//! In headless Chromium: the knowledge check of the Golf run-time sample (RuntimeBasicCalls),
//! in its SCORM 1.2 and its SCORM 2004 3rd edition package. The learner pages through the
//! single SCO to its last page, answers the fifteen questions, submits them and leaves with
//! the player's "Save and leave". The stored attempt holds the status and score the sample
//! reported; the course page shows the lesson passed, the course at 100% and the score; the
//! manager's roster shows the learner completed with that score. (Paging, exit, relaunch
//! and resume at the bookmark are covered by browser_player.rs.)
//!
//! The sample (shared/launchpage.html) sets the completion status when the last page is
//! shown; its assessment page (shared/assessmenttemplate.html, questions in each chapter's
//! questions.js) scores the share of right answers as a rounded percentage and calls the
//! launch page's RecordTest: 70 or more is passed. SCORM 1.2 gets cmi.core.score.raw/min/max
//! and lesson_status; SCORM 2004 gets cmi.score.raw/min/max/scaled and success_status.

use std::time::{Duration, Instant};

use cairn_core::accounts::Role;
use cairn_core::packages::{self, CourseTarget, ImportOutcome, ImportRequest};
use cairn_core::testing::TestDb;
use cairn_core::tracking;
use cairn_tests::browser::{self, Browser};
use cairn_tests::{TestApp, PASSWORD};
use fantoccini::Locator;

const LEARNER: &str = "learner@example.org";
const MANAGER: &str = "manager@example.org";

/// One answer as the assessment page takes it: the index of a choice, True or False, or the
/// text typed for a numeric question.
#[derive(Clone, Copy)]
enum Answer {
    Choice(u8),
    TrueFalse(bool),
    Number(&'static str),
}

/// The right answers, read from the questions.js files of both packages (they hold the same
/// questions), in the order the assessment page shows them.
const RIGHT_ANSWERS: [(&str, Answer); 15] = [
    ("playing_1", Answer::Choice(1)), // "USGA and Royal and Ancient"
    ("playing_2", Answer::Choice(3)), // "eagle"
    ("playing_3", Answer::Number("18")),
    ("playing_4", Answer::TrueFalse(true)),
    ("playing_5", Answer::Number("3")),
    ("etiquette_1", Answer::Choice(2)), // "Out of the player's line of sight"
    ("etiquette_2", Answer::TrueFalse(true)),
    ("etiquette_3", Answer::Choice(0)), // "First"
    ("handicap_1", Answer::Choice(2)),  // "Handicap index * Slope Rating / 113"
    ("handicap_2", Answer::Number("1")),
    ("handicap_3", Answer::Number("0")),
    ("handicap_4", Answer::Number("2")),
    ("fun_1", Answer::TrueFalse(false)),
    ("fun_2", Answer::TrueFalse(false)),
    ("fun_3", Answer::TrueFalse(false)),
];

/// The number of pages of the SCO, the knowledge check being the last.
const PAGES: usize = 15;

/// Signs in through the login form and waits until the browser has left the login page.
async fn sign_in(b: &Browser, app: &TestApp, email: &str) {
    b.client.goto(&app.url("/login")).await.unwrap();
    b.client.find(Locator::Css("#email")).await.unwrap().send_keys(email).await.unwrap();
    b.client.find(Locator::Css("#password")).await.unwrap().send_keys(PASSWORD).await.unwrap();
    b.client.find(Locator::Css("form[action='/login'] button[type=submit]")).await.unwrap().click().await.unwrap();
    wait_for_path(b, |path| path != "/login").await;
    b.client.wait().for_element(Locator::Css("main h1")).await.unwrap();
}

/// Waits until the browser's path satisfies `check`, so that the next lookups see the new
/// page rather than the one that was just left.
async fn wait_for_path(b: &Browser, check: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let url = b.client.current_url().await.unwrap();
        if check(url.path()) {
            return url.path().to_string();
        }
        assert!(Instant::now() < deadline, "the browser never reached the expected page; it is at {url}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The attribute `name` of the element `css`, waiting for the element.
async fn attr(b: &Browser, css: &str, name: &str) -> Option<String> {
    b.client.wait().for_element(Locator::Css(css)).await.unwrap().attr(name).await.unwrap()
}

/// The text of the element `css`, waiting for the element.
async fn text(b: &Browser, css: &str) -> String {
    b.client.wait().for_element(Locator::Css(css)).await.unwrap().text().await.unwrap()
}

/// Imports a shared fixture into a new course `slug` of `org` and returns the course's id.
async fn import_fixture(
    app: &TestApp,
    org: &cairn_core::organisations::Organisation,
    file: &str,
    slug: &str,
) -> String {
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/scorm").join(file);
    let request = ImportRequest {
        archive: std::fs::File::open(&fixture).expect("a shared fixture"),
        original_filename: file.into(),
        target: CourseTarget::New { organisation_id: org.id.clone(), title: None, slug: Some(slug.into()) },
        imported_by: None,
        limits: cairn_scorm::Limits::default(),
    };
    match packages::import_package(&app.state.db, &app.state.content, request, None).await.unwrap() {
        ImportOutcome::Imported(done) => done.course.id,
        ImportOutcome::Refused(_) => panic!("{file} was refused"),
    }
}

/// Waits until `item`'s latest attempt satisfies `check`.
async fn item_attempt(
    app: &TestApp,
    user: &str,
    course: &str,
    item: &str,
    check: impl Fn(&tracking::Attempt) -> bool,
) -> tracking::Attempt {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let attempt = tracking::latest(&app.state.db, user, course, item).await.unwrap();
        match attempt {
            Some(a) if check(&a) => return a,
            other => assert!(Instant::now() < deadline, "{item}: the server has {other:?}"),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The value of `element` in an attempt's stored data model.
fn element(attempt: &tracking::Attempt, element: &str) -> Option<String> {
    let state: serde_json::Value = serde_json::from_str(&attempt.state_json).expect("the data model is JSON");
    state.get(element).and_then(|v| v.as_str()).map(str::to_string)
}

/// A course made from one Golf package, its learner and its manager, with the learner
/// signed in.
struct Golf {
    app: TestApp,
    b: Browser,
    slug: &'static str,
    course: String,
    learner: String,
}

impl Golf {
    async fn start(file: &str, slug: &'static str) -> Golf {
        let app = TestApp::start(TestDb::sqlite().await, "sqlite", |_| {}).await;
        let org = app.institute("ipa").await;
        let learner = app.user(LEARNER, Role::Learner, Some(&org)).await;
        app.user(MANAGER, Role::Manager, Some(&org)).await;
        let course = import_fixture(&app, &org, file, slug).await;
        app.enrol(&course, LEARNER).await;
        let b = Browser::start().await;
        sign_in(&b, &app, LEARNER).await;
        Golf { app, b, slug, course, learner: learner.id }
    }

    /// Opens the player, pages through the SCO with its Next button to the knowledge check,
    /// gives `answers` and submits them. Returns the score the page shows. The browser is
    /// left in the player page (outside the content frames).
    async fn take_the_quiz(&self, answers: &[(&str, Answer)]) -> String {
        let b = &self.b;
        b.client.goto(&self.app.url(&format!("/courses/{}/play", self.slug))).await.unwrap();
        let frame = b.client.wait().for_element(Locator::Css("iframe.player-frame")).await.unwrap();
        frame.enter_frame().await.unwrap();
        let mut pages = 1;
        loop {
            let next = b.client.wait().for_element(Locator::Css("#butNext")).await.unwrap();
            if !next.is_enabled().await.unwrap() {
                break;
            }
            next.click().await.unwrap();
            pages += 1;
            assert!(pages <= PAGES, "the Next button never disabled itself");
        }
        assert_eq!(pages, PAGES, "the sample's last page is its knowledge check");

        // The page shown is in a frame of the SCO's own launch page.
        b.client.find(Locator::Css("iframe#contentFrame")).await.unwrap().enter_frame().await.unwrap();
        let submit = Locator::Css("input[type=button][value='Submit Answers']");
        b.client.wait().for_element(submit).await.unwrap();
        let questions = b.client.find_all(Locator::Css("#frmTest div.question")).await.unwrap();
        assert_eq!(questions.len(), answers.len(), "the knowledge check asks every chapter's questions");
        for (question, answer) in answers {
            let id = format!("question_com.scorm.golfsamples.interactions.{question}");
            match answer {
                Answer::Choice(index) => {
                    b.client.find(Locator::Id(&format!("{id}_{index}"))).await.unwrap().click().await
                }
                Answer::TrueFalse(true) => {
                    b.client.find(Locator::Id(&format!("{id}_True"))).await.unwrap().click().await
                }
                Answer::TrueFalse(false) => {
                    b.client.find(Locator::Id(&format!("{id}_False"))).await.unwrap().click().await
                }
                Answer::Number(text) => {
                    b.client.find(Locator::Id(&format!("{id}_Text"))).await.unwrap().send_keys(text).await
                }
            }
            .unwrap();
        }
        b.client.find(submit).await.unwrap().click().await.unwrap();
        // The sample shows an alert when the API refuses a value; none may be open.
        let heading = text(b, "#test h3").await;
        assert!(b.client.get_alert_text().await.is_err(), "the content complained about the API");
        let score = heading.strip_prefix("Score: ").unwrap_or_else(|| panic!("the page's result: {heading}"));
        b.client.enter_parent_frame().await.unwrap();
        b.client.enter_parent_frame().await.unwrap();
        score.to_string()
    }

    /// Leaves with the player's "Save and leave", which unloads the content (the sample then
    /// finishes its session), waits for the delivery of its data and opens the course page.
    async fn save_and_leave(&self) {
        let course_path = format!("/courses/{}", self.slug);
        self.b.client.find(Locator::Css("a[data-nav='suspend-all']")).await.unwrap().click().await.unwrap();
        wait_for_path(&self.b, |path| path == course_path).await;
        self.b.client.wait().for_element(Locator::Css("[data-course-actions]")).await.unwrap();
    }

    /// What the learner sees on the course page they have just landed on: the package's one
    /// lesson passed, the course complete, and the score.
    async fn check_the_course_page(&self, score: &str) {
        let b = &self.b;
        let lessons = b.client.find_all(Locator::Css("li[data-lesson]")).await.unwrap();
        assert_eq!(lessons.len(), 1, "an imported package is the course's one lesson");
        assert_eq!(attr(b, "li[data-lesson]", "data-status").await.as_deref(), Some("passed"));
        assert_eq!(text(b, "li[data-lesson] .status-badge").await, "Passed");
        assert_eq!(attr(b, "[data-progress]", "data-progress").await.as_deref(), Some("100"));
        let progress = text(b, "[data-course-actions] p").await;
        assert!(progress.contains("1 of 1 required lessons done"), "{progress}");
        let notice = text(b, "[data-completed]").await;
        assert!(notice.contains(&format!("with a score of {score}%")), "the completion notice: {notice}");
    }

    /// What the institute's manager sees in the course's roster.
    async fn check_the_roster(&self, score: &str) {
        let b = &self.b;
        b.client.find(Locator::Css("form[action='/logout'] button[type=submit]")).await.unwrap().click().await.unwrap();
        wait_for_path(b, |path| !path.starts_with("/courses/")).await;
        sign_in(b, &self.app, MANAGER).await;
        b.client.goto(&self.app.url(&format!("/courses/{}/roster", self.slug))).await.unwrap();
        let row = format!("tr[data-learner='{LEARNER}'][data-status='completed']");
        let row = b.client.wait().for_element(Locator::Css(&row)).await.unwrap();
        let cells = row.find_all(Locator::Css("td")).await.unwrap();
        assert_eq!(cells[1].text().await.unwrap(), "100%", "progress");
        assert_eq!(cells[2].text().await.unwrap(), "completed", "status");
        assert_eq!(cells[3].text().await.unwrap(), format!("{score}%"), "score");
        assert!(!cells[6].text().await.unwrap().is_empty(), "a completion date");
    }
}

#[tokio::test]
async fn golf_2004_quiz_is_passed_and_the_score_reaches_the_progress_pages() {
    if !browser::enabled("browser_golf_quiz") {
        return;
    }
    let golf = Golf::start("valid/scorm2004_golf_RuntimeBasicCalls_SCORM20043rdEdition.zip", "golf").await;

    // Every answer right: 100, which the sample reports as raw 100 and scaled 1.
    let score = golf.take_the_quiz(&RIGHT_ANSWERS).await;
    assert_eq!(score, "100");
    golf.save_and_leave().await;

    let attempt = item_attempt(&golf.app, &golf.learner, &golf.course, "item_1", |a| !a.session_open).await;
    assert_eq!(attempt.scorm_version, "2004");
    assert_eq!((attempt.completion.as_str(), attempt.success.as_str()), ("completed", "passed"));
    assert_eq!((attempt.score_raw, attempt.score_scaled), (Some(100.0), Some(1.0)));
    assert_eq!(element(&attempt, "cmi.score.min").as_deref(), Some("0"));
    assert_eq!(element(&attempt, "cmi.score.max").as_deref(), Some("100"));
    assert_eq!(attempt.location.as_deref(), Some("14"), "the bookmark is the last page");
    assert!(!attempt.suspended, "the sample exits normally once it reached its end");

    golf.check_the_course_page("100").await;
    golf.check_the_roster("100").await;
    golf.b.client.clone().close().await.unwrap();
}

#[tokio::test]
async fn golf_12_quiz_is_passed_and_the_score_reaches_the_progress_pages() {
    if !browser::enabled("browser_golf_quiz") {
        return;
    }
    let golf = Golf::start("valid/scorm12_golf_RuntimeBasicCalls_SCORM12.zip", "golf12").await;

    // Fourteen of fifteen right: round(93.3) = 93, above the sample's pass mark of 70, and a
    // score that cannot be mistaken for the course's 100% progress.
    let mut answers = RIGHT_ANSWERS;
    answers[14].1 = Answer::TrueFalse(true);
    let score = golf.take_the_quiz(&answers).await;
    assert_eq!(score, "93");
    golf.save_and_leave().await;

    let attempt = item_attempt(&golf.app, &golf.learner, &golf.course, "item_1", |a| !a.session_open).await;
    assert_eq!(attempt.scorm_version, "1.2");
    assert_eq!(element(&attempt, "cmi.core.lesson_status").as_deref(), Some("passed"));
    assert_eq!(element(&attempt, "cmi.core.score.raw").as_deref(), Some("93"));
    assert_eq!((attempt.completion.as_str(), attempt.success.as_str()), ("completed", "passed"));
    assert_eq!(attempt.score_raw, Some(93.0));
    assert_eq!(attempt.location.as_deref(), Some("14"), "the bookmark is the last page");
    assert!(!attempt.suspended, "the sample exits normally once it reached its end");

    golf.check_the_course_page("93").await;
    golf.check_the_roster("93").await;
    golf.b.client.clone().close().await.unwrap();
}
