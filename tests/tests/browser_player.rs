//! In headless Chromium: real SCORM content in the real player. The Golf run-time sample
//! finds the API, bookmarks as the learner pages through, suspends on exit and resumes
//! at its bookmark on the next launch; the data reaches the server through the player's
//! commits. A SCORM 2004 SCO that asks to continue (adl.nav.request) before it terminates
//! is followed by the next item without a click.

use std::time::{Duration, Instant};

use cairn_core::accounts::Role;
use cairn_core::packages::{self, CourseTarget, ImportOutcome, ImportRequest};
use cairn_core::testing::TestDb;
use cairn_core::tracking;
use cairn_tests::browser::{self, Browser};
use cairn_tests::{TestApp, PASSWORD};
use fantoccini::Locator;

async fn sign_in(b: &Browser, app: &TestApp, email: &str) {
    b.client.goto(&app.url("/login")).await.unwrap();
    b.client.find(Locator::Css("#email")).await.unwrap().send_keys(email).await.unwrap();
    b.client.find(Locator::Css("#password")).await.unwrap().send_keys(PASSWORD).await.unwrap();
    b.client.find(Locator::Css("form[action='/login'] button[type=submit]")).await.unwrap().click().await.unwrap();
    b.client.wait().for_element(Locator::Css("main h1")).await.unwrap();
}

/// Accepts the next `confirm()` the content shows (the Golf sample asks before resuming
/// and before suspending).
async fn accept_dialog(b: &Browser) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if b.client.get_alert_text().await.is_ok() {
            b.client.accept_alert().await.unwrap();
            return;
        }
        assert!(Instant::now() < deadline, "the content never asked");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Enters the content frame of the player and waits for the sample's navigation buttons.
async fn enter_content(b: &Browser) {
    let frame = b.client.wait().for_element(Locator::Css("iframe.player-frame")).await.unwrap();
    frame.enter_frame().await.unwrap();
    b.client.wait().for_element(Locator::Css("#butNext")).await.unwrap();
}

#[tokio::test]
async fn golf_2004_bookmarks_suspends_and_resumes_in_the_player() {
    if !browser::enabled("browser_player") {
        return;
    }
    let app = TestApp::start(TestDb::sqlite().await, "sqlite", |_| {}).await;
    let org = app.institute("ipa").await;
    let learner = app.user("learner@example.org", Role::Learner, Some(&org)).await;
    let course =
        import_fixture(&app, &org, "valid/scorm2004_golf_RuntimeBasicCalls_SCORM20043rdEdition.zip", "golf").await;
    let b = Browser::start().await;
    sign_in(&b, &app, "learner@example.org").await;

    // First launch: page forward twice, then exit and choose to save progress.
    b.client.goto(&app.url("/courses/golf/play")).await.unwrap();
    enter_content(&b).await;
    b.client.find(Locator::Css("#butNext")).await.unwrap().click().await.unwrap();
    b.client.find(Locator::Css("#butNext")).await.unwrap().click().await.unwrap();
    // Get and Set are answered from memory in the player page; the sample commits on exit.
    b.client.enter_parent_frame().await.unwrap();
    let location = b.client.execute("return window.API_1484_11.GetValue('cmi.location');", vec![]).await.unwrap();
    assert_eq!(location, serde_json::json!("2"), "the sample found the API and bookmarked page 2");
    enter_content(&b).await;
    b.client.find(Locator::Css("#butExit")).await.unwrap().click().await.unwrap();
    accept_dialog(&b).await;
    let suspended = item_attempt(&app, &learner.id, &course, "item_1", |a| a.suspended && !a.session_open).await;
    assert_eq!(suspended.location.as_deref(), Some("2"));
    assert_eq!(suspended.completion, "incomplete");
    assert!(suspended.total_time_seconds > 0.0, "the session time was recorded");
    b.client.enter_parent_frame().await.unwrap();

    // Second launch: the sample offers to resume; it continues at its bookmark.
    b.client.goto(&app.url("/courses/golf/play")).await.unwrap();
    accept_dialog(&b).await;
    enter_content(&b).await;
    b.client.find(Locator::Css("#butNext")).await.unwrap().click().await.unwrap();
    b.client.find(Locator::Css("#butExit")).await.unwrap().click().await.unwrap();
    accept_dialog(&b).await;
    let resumed =
        item_attempt(&app, &learner.id, &course, "item_1", |a| a.location.as_deref() == Some("3") && !a.session_open)
            .await;
    assert!(resumed.suspended);
    assert!(resumed.total_time_seconds > suspended.total_time_seconds, "the second session's time was added");
    assert_eq!(resumed.id, suspended.id, "the same attempt resumed");
    b.client.clone().close().await.unwrap();
}

/// Imports a shared fixture into a new course `slug` of `org`.
async fn import_fixture(
    app: &TestApp,
    org: &cairn_core::organisations::Organisation,
    file: &str,
    slug: &str,
) -> String {
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/scorm").join(file);
    import_archive(app, org, std::fs::File::open(&fixture).expect("a shared fixture"), file, slug).await
}

/// Imports the package zip `archive` (named `file`) into a new course `slug` of `org`.
async fn import_archive(
    app: &TestApp,
    org: &cairn_core::organisations::Organisation,
    archive: std::fs::File,
    file: &str,
    slug: &str,
) -> String {
    let request = ImportRequest {
        archive,
        original_filename: file.into(),
        target: CourseTarget::New { organisation_id: org.id.clone(), title: None, slug: Some(slug.into()) },
        imported_by: None,
        limits: cairn_scorm::Limits::default(),
    };
    let course = match packages::import_package(&app.state.db, &app.state.content, request, None).await.unwrap() {
        ImportOutcome::Imported(done) => done.course.id,
        ImportOutcome::Refused(_) => panic!("{file} was refused"),
    };
    // Every test here plays as this learner, who must be enrolled to take the course.
    app.enrol(&course, "learner@example.org").await;
    course
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

#[tokio::test]
async fn a_12_multi_sco_course_is_taken_through_the_outline() {
    if !browser::enabled("browser_player") {
        return;
    }
    let app = TestApp::start(TestDb::sqlite().await, "sqlite", |_| {}).await;
    let org = app.institute("ipa").await;
    let learner = app.user("learner@example.org", Role::Learner, Some(&org)).await;
    let course =
        import_fixture(&app, &org, "valid/scorm12_golf_RuntimeMinimumCalls_SCORM12_multisco.zip", "multi").await;
    let b = Browser::start().await;
    sign_in(&b, &app, "learner@example.org").await;
    b.client.goto(&app.url("/courses/multi/play")).await.unwrap();
    // These SCOs only call LMSInitialize and LMSFinish: leaving each one finishes it, and
    // SCORM 1.2's rule makes "not attempted" completed.
    for next in ["playing_par_item", "playing_scoring_item", "playing_otherscoring_item"] {
        b.client.wait().for_element(Locator::Css("iframe.player-frame")).await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        b.client.find(Locator::Css(&format!("a[data-item='{next}']"))).await.unwrap().click().await.unwrap();
    }
    b.client
        .wait()
        .for_element(Locator::Css("a[data-item='playing_otherscoring_item'][aria-current='page']"))
        .await
        .unwrap();
    for item in ["playing_playing_item", "playing_par_item", "playing_scoring_item"] {
        let attempt = item_attempt(&app, &learner.id, &course, item, |a| a.completion == "completed").await;
        assert!(!attempt.session_open, "{item} was finished");
    }
    // Leaving the player finishes the fourth SCO too; progress counts each item once.
    b.client.goto(&app.url("/learn")).await.unwrap();
    item_attempt(&app, &learner.id, &course, "playing_otherscoring_item", |a| a.completion == "completed").await;
    let package = cairn_core::catalog::find(&app.state.db, &course).await.unwrap().unwrap().current_package_id.unwrap();
    let items = packages::items(&app.state.db, &package).await.unwrap();
    let attempts = tracking::of_learner(&app.state.db, &learner.id, &course).await.unwrap();
    let progress = tracking::rollup(&items, &attempts);
    assert_eq!((progress.done, progress.total, progress.percent), (4, 18, 22));
    b.client.clone().close().await.unwrap();
}

#[tokio::test]
async fn closing_the_tab_without_terminate_keeps_the_last_data() {
    if !browser::enabled("browser_player") {
        return;
    }
    let app = TestApp::start(TestDb::sqlite().await, "sqlite", |_| {}).await;
    let org = app.institute("ipa").await;
    let learner = app.user("learner@example.org", Role::Learner, Some(&org)).await;
    let course =
        import_fixture(&app, &org, "valid/scorm2004_golf_RuntimeBasicCalls_SCORM20043rdEdition.zip", "golf").await;
    let b = Browser::start().await;
    sign_in(&b, &app, "learner@example.org").await;
    // A second window keeps the WebDriver session alive when the player's window closes.
    let keep = b.client.new_window(true).await.unwrap();
    b.client.goto(&app.url("/courses/golf/play")).await.unwrap();
    b.client.wait().for_element(Locator::Css("iframe.player-frame")).await.unwrap();
    // The learner's data is set in memory (as content does between commits), never committed
    // nor terminated; then the tab goes away.
    let set = "var api = window.API_1484_11; api.SetValue('cmi.suspend_data', 'unsaved-work-42'); \
               api.SetValue('cmi.location', 'page-7'); return api.GetLastError();";
    assert_eq!(b.client.execute(set, vec![]).await.unwrap(), serde_json::json!("0"));
    b.client.close_window().await.unwrap();
    b.client.switch_to_window(keep.handle).await.unwrap();
    let attempt =
        item_attempt(&app, &learner.id, &course, "item_1", |a| a.state_json.contains("unsaved-work-42")).await;
    assert_eq!(attempt.location.as_deref(), Some("page-7"));
    b.client.clone().close().await.unwrap();
}

/// A `cairn serve` process on a fixed data folder and port, killed with SIGKILL on drop.
struct Node {
    child: std::process::Child,
}

impl Node {
    fn command(dir: &std::path::Path) -> std::process::Command {
        let mut command = std::process::Command::new(cairn_tests::cairn_binary());
        for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("CAIRN_")) {
            command.env_remove(key);
        }
        command
            .current_dir(dir)
            .env("CAIRN_DATA_DIR", dir)
            .env("CAIRN_LOG", "warn")
            .env("CAIRN_ADMIN_PASSWORD", "admin password 1");
        command
    }

    fn start(dir: &std::path::Path, port: u16) -> Node {
        let child = Node::command(dir)
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("start cairn serve");
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "cairn serve did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Node { child }
    }

    /// `kill -9`: no chance to flush or say goodbye.
    fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn commits_made_while_the_server_is_down_arrive_after_it_returns() {
    if !browser::enabled("browser_player") {
        return;
    }
    // The default set-up: SQLite and in-process sessions, so the restart also ends the
    // learner's login session; the player's launch token still delivers the queue.
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str], input: Option<&str>| {
        use std::io::Write as _;
        let mut child = Node::command(dir.path())
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        if let Some(text) = input {
            child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
        }
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "cairn {args:?} failed");
    };
    run(&["org", "add", "--slug", "ipa", "--name", "IPA"], None);
    run(
        &[
            "user",
            "add",
            "--email",
            "learner@example.org",
            "--name",
            "Ama",
            "--role",
            "learner",
            "--org",
            "ipa",
            "--password-stdin",
        ],
        Some(PASSWORD),
    );
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/fixtures/scorm/valid/scorm2004_golf_RuntimeBasicCalls_SCORM20043rdEdition.zip");
    run(&["package", "import", fixture.to_str().unwrap(), "--title", "Golf"], None);
    run(&["enrol", "--course", "golf", "--email", "learner@example.org"], None);
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let base = format!("http://127.0.0.1:{port}");
    let node = Node::start(dir.path(), port);

    let b = Browser::start().await;
    b.client.goto(&format!("{base}/login")).await.unwrap();
    b.client.find(Locator::Css("#email")).await.unwrap().send_keys("learner@example.org").await.unwrap();
    b.client.find(Locator::Css("#password")).await.unwrap().send_keys(PASSWORD).await.unwrap();
    b.client.find(Locator::Css("form[action='/login'] button[type=submit]")).await.unwrap().click().await.unwrap();
    b.client.wait().for_element(Locator::Css("main h1")).await.unwrap();
    b.client.goto(&format!("{base}/courses/golf/play")).await.unwrap();
    enter_content(&b).await;

    // The server dies mid-session (kill -9); the learner carries on and exits.
    node.kill();
    b.client.find(Locator::Css("#butNext")).await.unwrap().click().await.unwrap();
    b.client.find(Locator::Css("#butNext")).await.unwrap().click().await.unwrap();
    b.client.find(Locator::Css("#butExit")).await.unwrap().click().await.unwrap();
    accept_dialog(&b).await;
    b.client.enter_parent_frame().await.unwrap();
    let queued = b.client.execute("return window.CairnPlayer.pending();", vec![]).await.unwrap();
    assert!(queued.as_u64().is_some_and(|n| n > 0), "the commits wait in the browser's queue: {queued}");

    // The server returns on the same data: the queued commits are delivered.
    let _node = Node::start(dir.path(), port);
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let left = b.client.execute("return window.CairnPlayer.pending();", vec![]).await.unwrap();
        if left == serde_json::json!(0) {
            break;
        }
        assert!(Instant::now() < deadline, "the queued commits were not delivered: {left} left");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let db =
        cairn_core::Db::connect(&format!("sqlite://{}", dir.path().join("cairn.db").display()), &Default::default())
            .await
            .unwrap();
    let learner = cairn_core::accounts::find_by_email(&db, "learner@example.org").await.unwrap().unwrap();
    let course = cairn_core::catalog::find_by_slug(&db, "golf").await.unwrap().unwrap();
    let attempt = tracking::latest(&db, &learner.id, &course.id, "item_1").await.unwrap().expect("an attempt");
    assert_eq!(attempt.location.as_deref(), Some("2"), "the bookmark made while the server was down is stored");
    assert!(attempt.suspended && !attempt.session_open, "{attempt:?}");
    b.client.clone().close().await.unwrap();
}

#[tokio::test]
async fn golf_12_bookmarks_suspends_and_resumes_in_the_player() {
    if !browser::enabled("browser_player") {
        return;
    }
    let app = TestApp::start(TestDb::sqlite().await, "sqlite", |_| {}).await;
    let org = app.institute("ipa").await;
    let learner = app.user("learner@example.org", Role::Learner, Some(&org)).await;
    let course = import_fixture(&app, &org, "valid/scorm12_golf_RuntimeBasicCalls_SCORM12.zip", "golf12").await;
    let b = Browser::start().await;
    sign_in(&b, &app, "learner@example.org").await;

    // First launch: the sample finds window.API, pages forward, exits and saves progress.
    b.client.goto(&app.url("/courses/golf12/play")).await.unwrap();
    enter_content(&b).await;
    b.client.find(Locator::Css("#butNext")).await.unwrap().click().await.unwrap();
    b.client.find(Locator::Css("#butNext")).await.unwrap().click().await.unwrap();
    b.client.find(Locator::Css("#butExit")).await.unwrap().click().await.unwrap();
    accept_dialog(&b).await;
    let suspended = item_attempt(&app, &learner.id, &course, "item_1", |a| a.suspended && !a.session_open).await;
    assert_eq!(suspended.location.as_deref(), Some("2"));
    assert!(suspended.state_json.contains("cmi.core.lesson_location"), "{}", suspended.state_json);
    // The sample reports whole seconds, so this sub-second session adds "0000:00:00".
    assert!(
        suspended.state_json.contains("cmi.core.session_time"),
        "the session time was recorded: {}",
        suspended.state_json
    );
    b.client.enter_parent_frame().await.unwrap();

    // Second launch resumes at the bookmark in the same attempt.
    b.client.goto(&app.url("/courses/golf12/play")).await.unwrap();
    accept_dialog(&b).await;
    enter_content(&b).await;
    b.client.find(Locator::Css("#butNext")).await.unwrap().click().await.unwrap();
    b.client.find(Locator::Css("#butExit")).await.unwrap().click().await.unwrap();
    accept_dialog(&b).await;
    let resumed =
        item_attempt(&app, &learner.id, &course, "item_1", |a| a.location.as_deref() == Some("3") && !a.session_open)
            .await;
    assert_eq!(resumed.id, suspended.id, "SCORM 1.2 keeps the attempt");
    b.client.clone().close().await.unwrap();
}

/// A SCORM 2004 package of two SCOs, written here. The first one reports in `cmi.location`
/// what the player says about Continue and Previous, completes, asks to continue and
/// terminates as soon as it has loaded; the second reports the same and commits.
fn two_sco_package() -> std::fs::File {
    use std::io::Write as _;
    let manifest = r#"<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="cairn-nav-request-test" version="1"
    xmlns="http://www.imsglobal.org/xsd/imscp_v1p1"
    xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_v1p3">
  <metadata><schema>ADL SCORM</schema><schemaversion>2004 4th Edition</schemaversion></metadata>
  <organizations default="org">
    <organization identifier="org">
      <title>Navigation requests</title>
      <item identifier="first" identifierref="r-first"><title>First</title></item>
      <item identifier="second" identifierref="r-second"><title>Second</title></item>
    </organization>
  </organizations>
  <resources>
    <resource identifier="r-first" type="webcontent" adlcp:scormType="sco" href="first.html">
      <file href="first.html"/>
    </resource>
    <resource identifier="r-second" type="webcontent" adlcp:scormType="sco" href="second.html">
      <file href="second.html"/>
    </resource>
  </resources>
</manifest>
"#;
    let page = |title: &str, finish: &str| {
        format!(
            "<!DOCTYPE html><html><head><title>{title}</title><script>\n\
             window.addEventListener('load', function () {{\n\
               var api = window.parent.API_1484_11;\n\
               api.Initialize('');\n\
               api.SetValue('cmi.location', 'continue=' + api.GetValue('adl.nav.request_valid.continue') +\n\
                 ',previous=' + api.GetValue('adl.nav.request_valid.previous'));\n\
               {finish}\n\
             }});\n\
             </script></head><body><h1>{title}</h1></body></html>\n"
        )
    };
    let first = page(
        "First",
        "api.SetValue('cmi.completion_status', 'completed'); api.SetValue('cmi.exit', 'normal');\n\
         api.SetValue('adl.nav.request', 'continue'); api.Terminate('');",
    );
    let second = page("Second", "api.Commit('');");
    let mut zip = zip::ZipWriter::new(tempfile::tempfile().unwrap());
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, text) in
        [("imsmanifest.xml", manifest), ("first.html", first.as_str()), ("second.html", second.as_str())]
    {
        zip.start_file(name, options).unwrap();
        zip.write_all(text.as_bytes()).unwrap();
    }
    zip.finish().unwrap()
}

#[tokio::test]
async fn a_2004_sco_that_asks_to_continue_is_followed_by_the_next_item() {
    if !browser::enabled("browser_player") {
        return;
    }
    let app = TestApp::start(TestDb::sqlite().await, "sqlite", |_| {}).await;
    let org = app.institute("ipa").await;
    let learner = app.user("learner@example.org", Role::Learner, Some(&org)).await;
    let course = import_archive(&app, &org, two_sco_package(), "nav.zip", "nav").await;
    let b = Browser::start().await;
    sign_in(&b, &app, "learner@example.org").await;

    // Nobody clicks: the first SCO terminates with a continue request on load.
    b.client.goto(&app.url("/courses/nav/play?item=first")).await.unwrap();
    b.client
        .wait()
        .at_most(Duration::from_secs(15))
        .for_element(Locator::Css("iframe.player-frame[data-item-frame='second']"))
        .await
        .expect("the player went on to the second item by itself");
    // The second page was rendered after the terminating commit had been stored: its outline
    // already shows the first item completed.
    b.client
        .find(Locator::Css("li.status-completed a[data-item='first']"))
        .await
        .expect("the first item is completed in the outline of the second item's page");
    let first = item_attempt(&app, &learner.id, &course, "first", |a| !a.session_open).await;
    assert_eq!(first.completion, "completed");
    assert_eq!(first.location.as_deref(), Some("continue=true,previous=false"), "request_valid from the outline");
    assert!(first.state_json.contains("\"adl.nav.request\":\"continue\""), "{}", first.state_json);
    let second = item_attempt(&app, &learner.id, &course, "second", |a| a.location.is_some()).await;
    assert_eq!(second.location.as_deref(), Some("continue=false,previous=true"));
    b.client.clone().close().await.unwrap();
}
