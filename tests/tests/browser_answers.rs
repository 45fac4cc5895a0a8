//! In headless Chromium: the demo course's quiz (`courses/egov-readiness/quiz`, the
//! project's own SCORM 2004 SCO that records each question as an interaction) answered
//! through the real player, then read back by the course's staff: every answer, right or
//! wrong, on the attempt's page, in the course's item analysis and in its answers download.
//!
//! The quiz opens once the two reading lessons before it are done; those are completed in
//! the store first, since reading them is not what this test is about.

use std::time::{Duration, Instant};

use cairn_core::accounts::Role;
use cairn_core::testing::TestDb;
use cairn_core::{catalog, progress, tracking};
use cairn_tests::browser::{self, Browser};
use cairn_tests::{TestApp, PASSWORD};
use fantoccini::Locator;

const LEARNER: &str = "learner@example.org";
const ADMIN: &str = "admin@example.org";

/// The quiz's six questions (`quiz.js`): their interaction ids, the learner's choice and
/// the right one. The last answer is wrong: five of six is above the pass mark of 70 %.
const ANSWERS: [(&str, &str, &str); 6] = [
    ("egov-readiness-q1-egdi-components", "b", "b"),
    ("egov-readiness-q2-one-stop-portal", "c", "c"),
    ("egov-readiness-q3-rural-connectivity", "a", "a"),
    ("egov-readiness-q4-data-sharing", "d", "d"),
    ("egov-readiness-q5-citizen-centred", "b", "b"),
    ("egov-readiness-q6-staff-readiness", "a", "c"),
];

#[tokio::test]
async fn quiz_answers_given_in_the_player_reach_the_attempt_page_and_the_download() {
    if !browser::enabled("browser_answers") {
        return;
    }
    let app = TestApp::start(TestDb::sqlite().await, "sqlite", |_| {}).await;
    cairn_server::bootstrap::ensure_demo(&app.state).await.expect("the demo course");
    let (_, slug) = cairn_server::bootstrap::DEMO_COURSES[0];
    let db = &app.state.db;
    let course = catalog::get(db, slug).await.unwrap();
    let package = course.current_package_id.clone().expect("the demo course has a package");
    let learner = app.user(LEARNER, Role::Learner, None).await;
    app.user(ADMIN, Role::Admin, None).await;
    app.enrol(slug, LEARNER).await;
    for item in ["item_why", "item_dimensions"] {
        let new = tracking::NewAttempt {
            user_id: learner.id.clone(),
            course_id: course.id.clone(),
            package_id: package.clone(),
            item_identifier: item.into(),
            scorm_version: "2004".into(),
        };
        let attempt = tracking::create(db, new).await.unwrap();
        tracking::complete_viewed(db, &attempt.id).await.unwrap();
    }
    progress::refresh(db, &course.id, &learner.id).await.unwrap();

    // The learner answers in the browser and checks the answers.
    let b = Browser::start().await;
    b.client.goto(&app.url("/login")).await.unwrap();
    b.client.find(Locator::Css("#email")).await.unwrap().send_keys(LEARNER).await.unwrap();
    b.client.find(Locator::Css("#password")).await.unwrap().send_keys(PASSWORD).await.unwrap();
    b.client.find(Locator::Css("form[action='/login'] button[type=submit]")).await.unwrap().click().await.unwrap();
    b.client.wait().for_element(Locator::Css("main h1")).await.unwrap();
    b.client.goto(&app.url(&format!("/courses/{slug}/play?item=item_quiz"))).await.unwrap();
    let frame = b.client.wait().for_element(Locator::Css("iframe.player-frame")).await.unwrap();
    frame.enter_frame().await.unwrap();
    b.client.wait().for_element(Locator::Css("form#quiz")).await.unwrap();
    for (n, (_, chosen, _)) in ANSWERS.iter().enumerate() {
        let choice = format!("#q{}-{chosen}", n + 1);
        b.client.find(Locator::Css(&choice)).await.unwrap().click().await.unwrap();
    }
    b.client.find(Locator::Css("#check")).await.unwrap().click().await.unwrap();
    b.client.wait().for_element(Locator::Css("#retry:not([hidden])")).await.unwrap();

    // The quiz commits once checked; the answers are stored before anyone reads them.
    let deadline = Instant::now() + Duration::from_secs(15);
    let attempt = loop {
        let latest = tracking::latest(db, &learner.id, &course.id, "item_quiz").await.unwrap();
        if let Some(a) = latest.filter(|a| a.state_json.contains(ANSWERS[5].0) && a.success != "unknown") {
            break a;
        }
        assert!(Instant::now() < deadline, "the quiz's answers never reached the server");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(attempt.success, "passed", "five of six right is above the pass mark");
    b.client.clone().close().await.unwrap();

    // The attempt's page lists every answer with its result.
    let staff = app.signed_in(ADMIN).await;
    let page = staff.get(&format!("/attempts/{}", attempt.id)).await.text().await.unwrap();
    for (id, chosen, right) in ANSWERS {
        let row = page
            .split(&format!("<tr data-interaction=\"{id}\">"))
            .nth(1)
            .and_then(|rest| rest.split("</tr>").next())
            .unwrap_or_else(|| panic!("{id} is not on the attempt page: {page}"));
        let result = if chosen == right { "<td>correct</td>" } else { "<td>incorrect</td>" };
        assert!(row.contains(&format!("<code>{chosen}</code>")) && row.contains(result), "{id}: {row}");
        assert!(row.contains(&format!("<code>{right}</code>")), "{id}: the correct response is shown: {row}");
    }

    // The course's item analysis: each question once, right or wrong, and the wrong answer.
    let questions = staff.get(&format!("/courses/{slug}/questions")).await.text().await.unwrap();
    for (id, chosen, right) in ANSWERS {
        let row = questions
            .split(&format!("<tr data-question=\"{id}\">"))
            .nth(1)
            .and_then(|rest| rest.split("</tr>").next())
            .unwrap_or_else(|| panic!("{id} is not in the questions table: {questions}"));
        let expected = if chosen == right { "<td>1 (100%)</td>" } else { "<td>0 (0%)</td>" };
        assert!(row.contains("<td>1</td>") && row.contains(expected), "{id}: {row}");
        assert_eq!(row.contains(&format!("<code>{chosen}</code> × 1")), chosen != right, "{id}: {row}");
    }

    // The download has one row per answer, with the question's text.
    let csv = staff.get(&format!("/api/v1/courses/{slug}/answers")).await.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(csv.trim_start_matches('\u{feff}').as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), ANSWERS.len(), "{csv}");
    for (row, (id, chosen, right)) in rows.iter().zip(ANSWERS) {
        assert_eq!((&row[1], &row[2], &row[7], &row[8]), (LEARNER, "item_quiz", id, "choice"), "{csv}");
        assert!(!row[9].is_empty(), "{id}: the question's text is its description");
        assert_eq!((&row[10], &row[11]), (chosen, right), "{id}");
        assert_eq!(&row[12], if chosen == right { "correct" } else { "incorrect" }, "{id}");
    }
}
