//! In headless Chromium: every package of `../shared/fixtures/scorm/valid/` plays through the
//! real player. Each one is imported into a course of its own, and every launchable item (53
//! over the nine packages, about 20 s) is opened one after another as an enrolled learner:
//! the player page must show the content from `/content/...` with a 200, no dialog may open
//! (some Golf samples `alert()` when they cannot find the API), and an asset must be
//! completed by its launch. A SCO must call Initialize and its session must reach the server
//! once the learner leaves — unless its launch page has no script at all (packages mark plain
//! pages as SCOs), when leaving it must complete its attempt by the no-API rule
//! (docs/ARCHITECTURE.md, "Tracking storage"). Items are played in outline order, so an item
//! whose prerequisites name an earlier one opens once that one was played. Problems are
//! collected over every fixture and item and reported together at the end.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cairn_core::accounts::Role;
use cairn_core::packages::{self, CourseTarget, ImportOutcome, ImportRequest, PackageItem};
use cairn_core::testing::TestDb;
use cairn_core::tracking;
use cairn_tests::browser::{self, Browser};
use cairn_tests::{TestApp, PASSWORD};
use fantoccini::Locator;
use serde_json::Value;

const LEARNER: &str = "learner@example.org";

/// How long a SCO has to call Initialize once its page has loaded, and how long the server
/// has to show what a launch or a departure recorded.
const WAIT: Duration = Duration::from_secs(10);

/// Whether the launch page the player's content frame shows (`src`, `/content/{package}/
/// {launch}`) contains no `<script` at all, read from the package's extracted files: such a
/// page can never call the API. `None` when the file cannot be read.
fn launch_page_has_no_script(app: &TestApp, src: &str) -> Option<bool> {
    let (package, launch) = src.strip_prefix("/content/")?.split_once('/')?;
    let file = launch.split(['?', '#']).next()?;
    let path = app.state.content.resolve(package, file).ok()?;
    let text = String::from_utf8_lossy(&std::fs::read(path).ok()?).to_ascii_lowercase();
    Some(!text.contains("<script"))
}

/// The valid fixtures, listed at run time so that new ones are covered without a change here.
fn valid_fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/scorm/valid");
    let entries = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("the shared fixtures must be present at {}: {e}", dir.display()));
    let mut zips: Vec<PathBuf> = entries
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext.eq_ignore_ascii_case("zip")))
        .collect();
    zips.sort();
    assert!(!zips.is_empty(), "{} holds no packages", dir.display());
    zips
}

/// A course slug of at most 64 characters made from the fixture's file name, unique by its
/// position in the list.
fn slug_for(index: usize, file: &str) -> String {
    let mut slug = format!("f{index}-");
    for c in file.trim_end_matches(".zip").chars() {
        let c = if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' };
        if !(c == '-' && slug.ends_with('-')) {
            slug.push(c);
        }
        if slug.len() >= 60 {
            break;
        }
    }
    slug.trim_end_matches('-').to_string()
}

/// Escapes everything but unreserved characters, for an item identifier in a query string.
fn query_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn sign_in(b: &Browser, app: &TestApp, email: &str) {
    b.client.goto(&app.url("/login")).await.unwrap();
    b.client.find(Locator::Css("#email")).await.unwrap().send_keys(email).await.unwrap();
    b.client.find(Locator::Css("#password")).await.unwrap().send_keys(PASSWORD).await.unwrap();
    b.client.find(Locator::Css("form[action='/login'] button[type=submit]")).await.unwrap().click().await.unwrap();
    b.client.wait().for_element(Locator::Css("main h1")).await.unwrap();
}

/// Imports a fixture into a new course `slug` of `org` and enrols the learner. Returns the
/// course id and the package version's launchable items, or why the import failed.
async fn import(
    app: &TestApp,
    org: &cairn_core::organisations::Organisation,
    path: &Path,
    slug: &str,
) -> Result<(String, Vec<PackageItem>), String> {
    let file = path.file_name().unwrap().to_string_lossy().to_string();
    let request = ImportRequest {
        archive: std::fs::File::open(path).map_err(|e| format!("cannot open the fixture: {e}"))?,
        original_filename: file,
        target: CourseTarget::New { organisation_id: org.id.clone(), title: None, slug: Some(slug.into()) },
        imported_by: None,
        limits: cairn_scorm::Limits::default(),
    };
    let done = match packages::import_package(&app.state.db, &app.state.content, request, None).await {
        Ok(ImportOutcome::Imported(done)) => done,
        Ok(ImportOutcome::Refused(inspection)) => return Err(format!("the import was refused: {inspection:?}")),
        Err(e) => return Err(format!("the import failed: {e}")),
    };
    app.enrol(&done.course.id, LEARNER).await;
    let items = packages::items(&app.state.db, &done.package.id).await.map_err(|e| format!("its items: {e}"))?;
    Ok((done.course.id.clone(), items.into_iter().filter(|i| i.launch.is_some()).collect()))
}

/// The text of an open dialog (`alert`, `confirm`, `prompt`), which is dismissed.
async fn take_dialog(b: &Browser) -> Option<String> {
    let text = b.client.get_alert_text().await.ok()?;
    let _ = b.client.dismiss_alert().await;
    Some(text)
}

/// Records an open dialog as a problem.
async fn check_dialog(b: &Browser, when: &str, problems: &mut Vec<String>) {
    if let Some(text) = take_dialog(b).await {
        problems.push(format!("a dialog opened {when}: {text:?}"));
    }
}

/// Runs a script in the current page; a failure (such as a dialog that blocks it) is
/// recorded as a problem and answered with `None`.
async fn run(b: &Browser, script: &str, what: &str, problems: &mut Vec<String>) -> Option<Value> {
    check_dialog(b, what, problems).await;
    match b.client.execute(script, vec![]).await {
        Ok(value) => Some(value),
        Err(e) => {
            let _ = take_dialog(b).await;
            problems.push(format!("{what}: the browser answered {e}"));
            None
        }
    }
}

/// What the player page shows: the item of its content frame, the frame's address, a notice
/// and, for an error page, its heading.
const PLAYER_PAGE: &str = "var frame = document.querySelector('iframe.player-frame'); \
    var notice = document.querySelector('[role=status]'); var error = document.querySelector('.error-page h1'); \
    return { item: frame ? frame.getAttribute('data-item-frame') : null, src: frame ? frame.getAttribute('src') : null, \
             notice: notice ? notice.textContent.trim() : null, error: error ? error.textContent.trim() : null };";

/// The content frame's document once it has loaded: its path, the status of its response
/// (Navigation Timing) and whether it is Cairn's error page.
const CONTENT_FRAME: &str = "var frame = document.querySelector('iframe.player-frame'); \
    if (!frame || !frame.contentWindow) return null; var w = frame.contentWindow; var d = w.document; \
    if (!d || d.readyState !== 'complete' || w.location.href === 'about:blank') return null; \
    var nav = w.performance.getEntriesByType('navigation')[0]; \
    return { path: w.location.pathname, status: nav ? nav.responseStatus : null, \
             error: d.querySelector('.error-page h1') ? d.querySelector('.error-page h1').textContent.trim() : null };";

/// Waits up to [`WAIT`] for the latest attempt of `item` to satisfy `check`.
async fn attempt_where(
    app: &TestApp,
    user: &str,
    course: &str,
    item: &str,
    check: impl Fn(&tracking::Attempt) -> bool,
) -> Result<tracking::Attempt, String> {
    let deadline = Instant::now() + WAIT;
    loop {
        let latest = tracking::latest(&app.state.db, user, course, item).await.map_err(|e| e.to_string())?;
        match latest {
            Some(attempt) if check(&attempt) => return Ok(attempt),
            other if Instant::now() >= deadline => {
                return Err(match other {
                    None => "no attempt".to_string(),
                    Some(a) => format!(
                        "completion {:?}, success {:?}, session_open {}, last_seq {}",
                        a.completion, a.success, a.session_open, a.last_seq
                    ),
                })
            }
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

/// Plays one item and returns what went wrong (nothing when it played).
async fn play(b: &Browser, app: &TestApp, user: &str, course: &str, slug: &str, item: &PackageItem) -> Vec<String> {
    let mut problems = Vec::new();
    let is_sco = item.scorm_type.as_deref() == Some("sco");
    check_dialog(b, "before the launch (left over from the previous item)", &mut problems).await;
    let url = app.url(&format!("/courses/{slug}/play?item={}", query_encode(&item.identifier)));
    if let Err(e) = b.client.goto(&url).await {
        match take_dialog(b).await {
            Some(text) => problems.push(format!("a dialog opened while the player loaded: {text:?}")),
            None => {
                problems.push(format!("the player page did not load: {e}"));
                return problems;
            }
        }
    }

    // The player page itself, showing this item.
    let Some(page) = run(b, PLAYER_PAGE, "reading the player page", &mut problems).await else {
        return problems;
    };
    if let Some(error) = page["error"].as_str() {
        problems.push(format!("the player answered an error page: {error}"));
        return problems;
    }
    if page["item"].as_str() != Some(item.identifier.as_str()) {
        problems.push(format!("the player opened {} instead (notice: {})", page["item"], page["notice"]));
        return problems;
    }
    if !page["src"].as_str().is_some_and(|src| src.starts_with("/content/")) {
        problems.push(format!("the content frame's address is {}", page["src"]));
        return problems;
    }

    // The content, loaded in its frame from /content/ with a 200.
    let deadline = Instant::now() + WAIT;
    let content = loop {
        match run(b, CONTENT_FRAME, "reading the content frame", &mut problems).await {
            Some(Value::Null) if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(100)).await,
            Some(Value::Null) => {
                problems.push(format!("the content frame did not finish loading {} in {WAIT:?}", page["src"]));
                return problems;
            }
            Some(content) => break content,
            None => return problems,
        }
    };
    if !content["path"].as_str().is_some_and(|path| path.starts_with("/content/")) {
        problems.push(format!("the content frame shows {} instead of content", content["path"]));
    }
    if content["status"] != 200 {
        problems.push(format!("the content {} came with status {}", content["path"], content["status"]));
    }
    if let Some(error) = content["error"].as_str() {
        problems.push(format!("the content frame shows an error page: {error}"));
    }

    if is_sco {
        // The player records nothing when a SCO calls Initialize: the call only changes the
        // session in the page (scorm-runtime.js), and the server hears of the session with
        // its first commit or its Terminate. So Initialize is seen in the page, and then the
        // learner leaves through the player, which unloads the content (SCOs terminate in
        // their unload handlers) and delivers the queue before it navigates.
        let src = page["src"].as_str().unwrap_or_default();
        let Some(scriptless) = launch_page_has_no_script(app, src) else {
            problems.push(format!("the launch page of {src} could not be read from the package's files"));
            return problems;
        };
        let script = "return window.CairnPlayer ? window.CairnPlayer.session.state() : 'no player';";
        // A page without a script cannot call Initialize: its state is read once, not waited on.
        let deadline = Instant::now() + if scriptless { Duration::ZERO } else { WAIT };
        let state = loop {
            let Some(state) = run(b, script, "asking the player for the session's state", &mut problems).await else {
                break Value::Null;
            };
            if state != "new" || Instant::now() >= deadline {
                break state;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let initialized = state == "running" || state == "terminated";
        // Plain pages marked as SCOs never start a session; leaving them completes them.
        let viewed_without_api = !initialized && state == "new" && scriptless;
        if !initialized && !viewed_without_api && state != Value::Null {
            problems.push(format!("the SCO did not call Initialize within {WAIT:?}; the session is {state}"));
        }
        check_dialog(b, "after the launch", &mut problems).await;
        leave(b, &mut problems).await;
        if initialized {
            // A delivered commit or Terminate, or a status, shows the session reached the server.
            let delivered = |a: &tracking::Attempt| a.last_seq > 0 || a.completion != "not attempted";
            if let Err(found) = attempt_where(app, user, course, &item.identifier, delivered).await {
                problems.push(format!("the SCO initialised, but after leaving the server has {found}"));
            }
        } else if viewed_without_api {
            let viewed = |a: &tracking::Attempt| a.completion == "completed" && a.last_seq == 0;
            if let Err(found) = attempt_where(app, user, course, &item.identifier, viewed).await {
                problems.push(format!(
                    "the SCO's launch page has no script, but leaving it did not complete it as viewed: {found}"
                ));
            }
        }
    } else {
        // Assets never call the API: the launch itself completes them.
        if let Err(found) = attempt_where(app, user, course, &item.identifier, |a| a.completion == "completed").await {
            problems.push(format!("the asset was launched, but its attempt is not completed: {found}"));
        }
        check_dialog(b, "after the launch", &mut problems).await;
        leave(b, &mut problems).await;
    }
    problems
}

/// Leaves the player by its Exit link and waits until the learner's dashboard has loaded.
async fn leave(b: &Browser, problems: &mut Vec<String>) {
    let clicked = match b.client.find(Locator::Css("a[data-nav='exit']")).await {
        Ok(exit) => exit.click().await.map(|_| ()),
        Err(e) => Err(e),
    };
    if let Err(e) = clicked {
        let _ = take_dialog(b).await;
        problems.push(format!("could not leave the player: {e}"));
        return;
    }
    let deadline = Instant::now() + WAIT;
    loop {
        check_dialog(b, "while leaving the player", problems).await;
        match b.client.current_url().await {
            Ok(url) if url.path() == "/learn" => break,
            _ if Instant::now() >= deadline => {
                problems.push(format!("leaving the player did not reach /learn within {WAIT:?}"));
                return;
            }
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    let _ = b.client.wait().at_most(WAIT).for_element(Locator::Css("main h1")).await;
}

#[tokio::test]
async fn every_valid_fixture_plays_in_the_player() {
    if !browser::enabled("browser_fixtures") {
        return;
    }
    let started = Instant::now();
    let app = TestApp::start(TestDb::sqlite().await, "sqlite", |_| {}).await;
    let org = app.institute("ipa").await;
    let learner = app.user(LEARNER, Role::Learner, Some(&org)).await;
    let b = Browser::start().await;
    sign_in(&b, &app, LEARNER).await;

    let mut failures = Vec::new();
    let mut played = 0;
    for (index, path) in valid_fixtures().iter().enumerate() {
        let file = path.file_name().unwrap().to_string_lossy().to_string();
        let slug = slug_for(index + 1, &file);
        let (course, items) = match import(&app, &org, path, &slug).await {
            Ok(imported) => imported,
            Err(why) => {
                println!("FAIL {file}: {why}");
                failures.push(format!("{file}: {why}"));
                continue;
            }
        };
        if items.is_empty() {
            println!("FAIL {file}: no launchable item");
            failures.push(format!("{file}: the package has no launchable item"));
        }
        for item in &items {
            let kind = item.scorm_type.as_deref().unwrap_or("?");
            let item_started = Instant::now();
            let problems = play(&b, &app, &learner.id, &course, &slug, item).await;
            played += 1;
            let took = item_started.elapsed().as_secs_f32();
            if problems.is_empty() {
                println!("ok   {file} / {} ({kind}, {took:.1} s)", item.identifier);
            } else {
                println!("FAIL {file} / {} ({kind}, {took:.1} s): {}", item.identifier, problems.join("; "));
                failures.push(format!("{file} / {} ({kind}): {}", item.identifier, problems.join("; ")));
            }
        }
    }
    println!("{played} items played in {:.1} s", started.elapsed().as_secs_f32());
    b.client.clone().close().await.unwrap();
    assert!(failures.is_empty(), "{} of the items did not play:\n{}", failures.len(), failures.join("\n"));
}
