//! In headless Chromium: a learner takes the demo course from end to end, and a manager
//! reads the result. The learner finds the course in the catalog, enrols on its page,
//! marks the welcome page as done, reads both SCORM reading lessons, passes the quiz (five
//! of six answers right, so the score is not a round 100) and sees the course completed on
//! the course page and on the dashboard. The manager of the course's institute then finds
//! the learner completed in the roster and downloads the completion report as CSV.

use std::time::{Duration, Instant};

use cairn_core::accounts::Role;
use cairn_core::outline;
use cairn_core::testing::TestDb;
use cairn_core::tracking;
use cairn_server::bootstrap::{self, DEMO_INSTITUTE_SLUG, DEMO_LEARNER_EMAIL, DEMO_MANAGER_EMAIL};
use cairn_tests::browser::{self, Browser};
use cairn_tests::{TestApp, PASSWORD};
use fantoccini::Locator;

/// The demo course's slug (see `bootstrap::DEMO_COURSES`).
const SLUG: &str = "e-government-readiness";

/// The quiz's answers: right for the first five questions, wrong for the sixth (its right
/// answer is `c`). Five of six passes (the pass mark is 70%) with a scaled score of 0.8333.
const ANSWERS: [&str; 6] = ["q1-b", "q2-c", "q3-a", "q4-d", "q5-b", "q6-a"];

/// Signs in through the login form and waits until the browser has left the login page.
async fn sign_in(b: &Browser, app: &TestApp, email: &str) {
    b.client.goto(&app.url("/login")).await.unwrap();
    b.client.find(Locator::Css("#email")).await.unwrap().send_keys(email).await.unwrap();
    b.client.find(Locator::Css("#password")).await.unwrap().send_keys(PASSWORD).await.unwrap();
    b.client.find(Locator::Css("form[action='/login'] button[type=submit]")).await.unwrap().click().await.unwrap();
    wait_for_path(b, |path| path != "/login").await;
    b.client.wait().for_element(Locator::Css("main h1")).await.unwrap();
}

/// Waits until the browser's address satisfies `check` (given the path and the query), so
/// that the next lookups see the new page rather than the one that was just left.
async fn wait_for_url(b: &Browser, what: &str, check: impl Fn(&str, &str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let url = b.client.current_url().await.unwrap();
        if check(url.path(), url.query().unwrap_or_default()) {
            return url.to_string();
        }
        assert!(Instant::now() < deadline, "the browser never reached {what}; it is at {url}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn wait_for_path(b: &Browser, check: impl Fn(&str) -> bool) -> String {
    wait_for_url(b, "the expected page", |path, _| check(path)).await
}

/// Clicks the element `css` and waits until the browser is at `path`.
async fn click_to(b: &Browser, css: &str, path: &str) {
    b.client.wait().for_element(Locator::Css(css)).await.unwrap().click().await.unwrap();
    wait_for_url(b, path, |p, _| p == path).await;
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

/// In the player at `item`: enters the content frame and waits for `ready` (a selector of
/// the content page that its script has set up).
async fn enter_content(b: &Browser, item: &str, ready: &str) {
    wait_for_url(b, &format!("the player at {item}"), |path, query| {
        path == format!("/courses/{SLUG}/play") && query == format!("item={item}")
    })
    .await;
    let frame = b.client.wait().for_element(Locator::Css(&format!("iframe[data-item-frame='{item}']"))).await.unwrap();
    frame.enter_frame().await.unwrap();
    b.client.wait().for_element(Locator::Css(ready)).await.unwrap();
}

/// Pages through a reading SCO with its Next button until the last page, where the SCO
/// reports itself completed. Returns the number of pages.
async fn page_through(b: &Browser) -> usize {
    let mut pages = 1;
    loop {
        let next = b.client.find(Locator::Css("#page-next")).await.unwrap();
        if !next.is_enabled().await.unwrap() {
            break;
        }
        next.click().await.unwrap();
        pages += 1;
        assert!(pages < 30, "the Next button never disabled itself");
    }
    let status = b.client.find(Locator::Css("#page-status")).await.unwrap().text().await.unwrap();
    assert_eq!(status, format!("Page {pages} of {pages}"), "the SCO is on its last page");
    pages
}

/// Leaves the player with "Save and leave", which unloads the content, waits for the
/// delivery of its data and then opens the course page.
async fn save_and_leave(b: &Browser) {
    b.client.enter_parent_frame().await.unwrap();
    click_to(b, "a[data-nav='suspend-all']", &format!("/courses/{SLUG}")).await;
    b.client.wait().for_element(Locator::Css("[data-course-actions]")).await.unwrap();
}

/// The attribute `name` of the element `css`, waiting for the element.
async fn attr(b: &Browser, css: &str, name: &str) -> Option<String> {
    b.client.wait().for_element(Locator::Css(css)).await.unwrap().attr(name).await.unwrap()
}

/// Today's date in UTC as the pages and the report write it (YYYY-MM-DD).
fn today() -> String {
    let now = cairn_core::db::now();
    format!("{:04}-{:02}-{:02}", now.year(), u8::from(now.month()), now.day())
}

/// Splits RFC 4180 CSV text into records of fields (quoted fields, doubled quotes, CRLF).
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (false, c) => field.push(c),
        }
    }
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        records.push(record);
    }
    records
}

#[tokio::test]
async fn a_learner_completes_the_demo_course_and_the_manager_reports_it() {
    if !browser::enabled("browser_learning") {
        return;
    }
    let day_before = today();
    let app = TestApp::start(TestDb::sqlite().await, "sqlite", |_| {}).await;
    // The demo's institute and people are made first with a known password; the demo set-up
    // leaves existing accounts alone and then imports and arranges the demo course.
    let org = app.institute(DEMO_INSTITUTE_SLUG).await;
    let learner = app.user(DEMO_LEARNER_EMAIL, Role::Learner, Some(&org)).await;
    app.user(DEMO_MANAGER_EMAIL, Role::Manager, Some(&org)).await;
    app.user(bootstrap::DEMO_INSTRUCTOR_EMAIL, Role::Instructor, Some(&org)).await;
    let created = bootstrap::ensure_demo(&app.state).await.expect("the demo set-up");
    assert!(created.is_empty(), "no demo account was made over ours: {created:?}");
    let course = cairn_core::catalog::find_by_slug(&app.state.db, SLUG).await.unwrap().expect("the demo course");
    assert!(
        cairn_core::enrolments::find(&app.state.db, &course.id, &learner.id).await.unwrap().is_none(),
        "the learner starts without an enrolment"
    );
    let course_outline = outline::of_course(&app.state.db, &course.id).await.unwrap();
    let lesson_id = |title: &str| {
        course_outline.lessons().find(|l| l.title == title).map(|l| l.id.clone()).expect("a lesson of the demo course")
    };
    let welcome = lesson_id("About this course");
    let why = lesson_id("Why e-government readiness matters");
    let dimensions = lesson_id("The dimensions of readiness");
    let quiz = lesson_id("Check your understanding");
    let course_path = format!("/courses/{SLUG}");

    let b = Browser::start().await;
    sign_in(&b, &app, DEMO_LEARNER_EMAIL).await;

    // The catalog: search, find the course card, open the course.
    b.client.goto(&app.url("/catalog")).await.unwrap();
    b.client.wait().for_element(Locator::Css("#q")).await.unwrap().send_keys("readiness").await.unwrap();
    b.client.find(Locator::Css("form[action='/catalog'] button[type=submit]")).await.unwrap().click().await.unwrap();
    wait_for_url(&b, "the search results", |path, query| path == "/catalog" && query.contains("q=readiness")).await;
    let card = format!("li.course-card[data-course='{SLUG}']");
    let badge = b.client.wait().for_element(Locator::Css(&format!("{card} .badge"))).await.unwrap();
    assert_eq!(badge.text().await.unwrap(), "open for enrolment");
    click_to(&b, &format!("{card} h2 a"), &course_path).await;

    // The course page: enrol, then Start lands on the first lesson, the welcome page.
    click_to(&b, "[data-action=enrol]", &course_path).await;
    let start = b.client.wait().for_element(Locator::Css("[data-action=resume]")).await.unwrap();
    assert_eq!(start.text().await.unwrap(), "Start");
    assert_eq!(attr(&b, "[data-progress]", "data-progress").await.as_deref(), Some("0"));
    assert!(
        b.client.find(Locator::Css(&format!("li[data-lesson='{quiz}'] span[aria-disabled=true]"))).await.is_ok(),
        "the quiz waits for the two reading lessons"
    );
    start.click().await.unwrap();
    wait_for_path(&b, |path| path == format!("/courses/{SLUG}/lessons/{welcome}")).await;
    let heading = b.client.wait().for_element(Locator::Css("main h1")).await.unwrap();
    assert_eq!(heading.text().await.unwrap(), "About this course");
    b.client.find(Locator::Css("[data-lesson-body]")).await.expect("the page's Markdown body");

    // "Mark as done" goes on to the next lesson, a SCORM one, which opens in the player.
    b.client.find(Locator::Css("[data-action=mark-done]")).await.unwrap().click().await.unwrap();
    enter_content(&b, "item_why", ".pager:not([hidden]) #page-next").await;
    let pages = page_through(&b).await;
    assert!(pages > 1, "the first reading lesson has several pages");
    let attempt = item_attempt(&app, &learner.id, &course.id, "item_why", |a| a.completion == "completed").await;
    assert_eq!(attempt.scorm_version, "2004");
    save_and_leave(&b).await;
    assert_eq!(attr(&b, &format!("li[data-lesson='{welcome}']"), "data-status").await.as_deref(), Some("completed"));
    assert_eq!(attr(&b, &format!("li[data-lesson='{why}']"), "data-status").await.as_deref(), Some("completed"));
    let attempt = item_attempt(&app, &learner.id, &course.id, "item_why", |a| !a.session_open).await;
    assert!(!attempt.suspended, "a completed reading lesson exits normally");

    // The second reading lesson, from the course page's outline.
    b.client.find(Locator::Css(&format!("li[data-lesson='{dimensions}'] a"))).await.unwrap().click().await.unwrap();
    enter_content(&b, "item_dimensions", ".pager:not([hidden]) #page-next").await;
    page_through(&b).await;
    item_attempt(&app, &learner.id, &course.id, "item_dimensions", |a| a.completion == "completed").await;
    save_and_leave(&b).await;
    assert_eq!(attr(&b, &format!("li[data-lesson='{dimensions}']"), "data-status").await.as_deref(), Some("completed"));
    assert_eq!(attr(&b, "[data-progress]", "data-progress").await.as_deref(), Some("75"), "three of four done");

    // The quiz is open now: five right answers of six pass it.
    b.client.find(Locator::Css(&format!("li[data-lesson='{quiz}'] a"))).await.unwrap().click().await.unwrap();
    enter_content(&b, "item_quiz", "form#quiz").await;
    for answer in ANSWERS {
        b.client.find(Locator::Css(&format!("#{answer}"))).await.unwrap().click().await.unwrap();
    }
    b.client.find(Locator::Css("#check")).await.unwrap().click().await.unwrap();
    let result = b.client.wait().for_element(Locator::Css("#quiz-result:not([hidden]) #result-text")).await.unwrap();
    let result = result.text().await.unwrap();
    assert!(result.contains("5 of 6") && result.contains("You passed"), "the quiz's verdict: {result}");
    let attempt = item_attempt(&app, &learner.id, &course.id, "item_quiz", |a| a.success == "passed").await;
    assert_eq!(attempt.completion, "completed");
    assert_eq!(attempt.score_scaled, Some(0.8333));
    assert_eq!(attempt.score_raw, Some(5.0));
    save_and_leave(&b).await;

    // The course page: 100% and the completion notice with today's date and the score.
    assert_eq!(attr(&b, &format!("li[data-lesson='{quiz}']"), "data-status").await.as_deref(), Some("passed"));
    assert_eq!(attr(&b, "[data-progress]", "data-progress").await.as_deref(), Some("100"));
    let completed_on = attr(&b, "[data-completed]", "data-completed").await.expect("a completion date");
    let day_after = today();
    assert!(completed_on == day_before || completed_on == day_after, "completed on {completed_on}, today");
    let notice = b.client.find(Locator::Css("[data-completed]")).await.unwrap().text().await.unwrap();
    assert!(notice.contains("with a score of 83%"), "the notice gives the mean score: {notice}");

    // The dashboard lists the course under Completed, and no longer under the current ones.
    b.client.goto(&app.url("/learn")).await.unwrap();
    let done = b
        .client
        .wait()
        .for_element(Locator::Css(&format!("[data-completed-courses] [data-course='{SLUG}']")))
        .await
        .unwrap();
    let done = done.text().await.unwrap();
    assert!(done.contains(&format!("completed on {completed_on}")) && done.contains("score 83%"), "{done}");
    assert!(b.client.find(Locator::Css(&format!("[data-my-courses] [data-course='{SLUG}']"))).await.is_err());

    // The manager of the course's institute: the roster, then the report.
    b.client.find(Locator::Css("form[action='/logout'] button[type=submit]")).await.unwrap().click().await.unwrap();
    wait_for_path(&b, |path| path != "/learn").await;
    sign_in(&b, &app, DEMO_MANAGER_EMAIL).await;
    b.client.goto(&app.url(&format!("/courses/{SLUG}/roster"))).await.unwrap();
    let row = format!("tr[data-learner='{DEMO_LEARNER_EMAIL}'][data-status='completed']");
    let row = b.client.wait().for_element(Locator::Css(&row)).await.unwrap();
    let cells = row.find_all(Locator::Css("td")).await.unwrap();
    assert_eq!(cells[1].text().await.unwrap(), "100%", "progress");
    assert_eq!(cells[3].text().await.unwrap(), "83%", "score");
    assert_eq!(cells[6].text().await.unwrap(), completed_on, "completed");

    let href = attr(&b, "[data-action=download-report]", "href").await.expect("the report link");
    assert_eq!(href, format!("/api/v1/reports/completions?course={}", course.id));
    // Chromium's downloads are awkward to reach from WebDriver, so the page fetches the link
    // itself with the manager's session cookie, as the download would.
    let fetched = b
        .client
        .execute_async(
            "const [href, done] = arguments;
             fetch(href, { credentials: 'same-origin' })
               .then(async (r) => {
                 const bytes = new Uint8Array(await r.arrayBuffer());
                 done({
                   status: r.status,
                   type: r.headers.get('content-type'),
                   disposition: r.headers.get('content-disposition'),
                   bom: Array.from(bytes.slice(0, 3)),
                   text: new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes),
                 });
               })
               .catch((e) => done({ error: String(e) }));",
            vec![serde_json::json!(href)],
        )
        .await
        .unwrap();
    assert_eq!(fetched["status"], 200, "the report: {fetched}");
    assert_eq!(fetched["type"], "text/csv; charset=utf-8");
    let disposition = fetched["disposition"].as_str().unwrap_or_default();
    assert!(disposition.starts_with("attachment; filename=\"completions-"), "{disposition}");
    assert_eq!(fetched["bom"], serde_json::json!([0xEF, 0xBB, 0xBF]), "the file starts with a UTF-8 BOM");
    let text = fetched["text"].as_str().expect("the report's text");
    let text = text.strip_prefix('\u{feff}').expect("the BOM decodes to U+FEFF");
    assert!(text.ends_with("\r\n"), "records end with CRLF");
    let records = parse_csv(text);
    assert_eq!(
        records[0],
        [
            "learner",
            "email",
            "institute",
            "cohort",
            "course",
            "enrolled_at",
            "started_at",
            "completed_at",
            "status",
            "score",
            "time_spent_seconds"
        ],
        "the header row"
    );
    assert_eq!(records.len(), 2, "one enrolment in this course: {records:?}");
    let column = |name: &str| records[0].iter().position(|c| c == name).unwrap();
    let row = &records[1];
    assert_eq!(row[column("learner")], learner.name);
    assert_eq!(row[column("email")], DEMO_LEARNER_EMAIL);
    assert_eq!(row[column("institute")], org.name);
    assert_eq!(row[column("cohort")], "", "self-enrolment has no cohort");
    assert_eq!(row[column("course")], course.title);
    assert!(row[column("enrolled_at")].starts_with(&completed_on), "{row:?}");
    assert!(row[column("started_at")].starts_with(&completed_on), "{row:?}");
    assert!(row[column("completed_at")].starts_with(&format!("{completed_on}T")), "{row:?}");
    assert_eq!(row[column("status")], "completed");
    // The quiz is the only lesson that reports a score: 0.8333 scaled, one decimal.
    assert_eq!(row[column("score")], "83.3");
    let seconds: i64 = row[column("time_spent_seconds")].parse().expect("whole seconds");
    assert!(seconds >= 0, "{row:?}");
    b.client.clone().close().await.unwrap();
}
