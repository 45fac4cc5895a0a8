//! Package import through the API, the upload page and the content server.

use cairn_core::accounts::Role;
use cairn_core::testing::{count_rows, TestDb};
use cairn_tests::{assert_error, json, TestApp};
use reqwest::multipart::{Form, Part};

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/scorm").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("the shared SCORM fixture {} is missing: {e}", path.display()))
}

fn file_part(name: &str) -> Part {
    Part::bytes(fixture(name)).file_name(name.rsplit('/').next().unwrap().to_string())
}

async fn token(app: &TestApp, email: &str) -> String {
    let id = cairn_core::accounts::find_by_email(&app.state.db, email).await.unwrap().unwrap().id;
    cairn_core::accounts::tokens::create(&app.state.db, &id, "test").await.unwrap().secret
}

/// Every file under the content folder, so tests can prove nothing was left behind.
fn content_files(app: &TestApp) -> Vec<String> {
    fn walk(dir: &std::path::Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            if entry.path().is_dir() {
                walk(&entry.path(), out);
            } else {
                out.push(entry.path().display().to_string());
            }
        }
    }
    let mut out = Vec::new();
    walk(app.state.content.root(), &mut out);
    out
}

#[tokio::test]
async fn the_api_imports_refuses_and_versions_packages() {
    for app in TestApp::all("packages").await {
        let org = app.institute("ipa").await;
        let other = app.institute("other").await;
        app.user("teacher@example.org", Role::Instructor, Some(&org)).await;
        app.user("stranger@example.org", Role::Instructor, Some(&other)).await;
        app.user("learner@example.org", Role::Learner, Some(&org)).await;
        let teacher = token(&app, "teacher@example.org").await;
        let http = reqwest::Client::new();
        let url = app.url("/api/v1/packages");
        let label = &app.label;

        let r = http
            .post(&url)
            .bearer_auth(&teacher)
            .multipart(Form::new().part("file", file_part("valid/scorm12_golf_missing_organizations.zip")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "[{label}]");
        let created = json(r).await;
        assert_eq!(created["version"], 1);
        assert_eq!(created["created_course"], true);
        assert_eq!(created["standard"], "scorm12");
        assert!(
            created["warnings"].as_array().unwrap().iter().any(|w| w["code"] == "empty_organizations"),
            "{created}"
        );
        let course_id = created["course_id"].as_str().unwrap().to_string();

        // A new version of the same course.
        let form = Form::new()
            .text("course", course_id.clone())
            .part("file", file_part("valid/scorm2004_golf_RuntimeBasicCalls_SCORM20043rdEdition.zip"));
        let second = json(http.post(&url).bearer_auth(&teacher).multipart(form).send().await.unwrap()).await;
        assert_eq!(
            (second["version"].as_i64(), second["course_id"].as_str()),
            (Some(2), Some(course_id.as_str())),
            "{second}"
        );
        assert_eq!(second["edition"], "3rd");

        let detail = json(
            http.get(app.url(&format!("/api/v1/courses/{course_id}"))).bearer_auth(&teacher).send().await.unwrap(),
        )
        .await;
        assert_eq!(detail["versions"].as_array().unwrap().len(), 2);
        assert_eq!(detail["course"]["current_package_id"], second["package_id"]);
        assert!(detail["items"].as_array().unwrap().iter().any(|i| i["scorm_type"] == "sco"));

        // Refused packages: 422 with every problem, nothing stored.
        let (packages_before, files_before) = (count_rows(&app.state.db, "packages").await, content_files(&app));
        for bad in [
            "invalid/no_manifest.zip",
            "invalid/manifest_declaration_only.zip",
            "other/cmi5_catapult_multi_au_framed.zip",
        ] {
            let r = http
                .post(&url)
                .bearer_auth(&teacher)
                .multipart(Form::new().part("file", file_part(bad)))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 422, "[{label}] {bad}");
            let body = json(r).await;
            assert_eq!(body["code"], "package_refused");
            assert!(body["message"].as_str().unwrap().len() > 20);
            assert!(!body["errors"].as_array().unwrap().is_empty(), "{body}");
        }
        let cmi5 = json(
            http.post(&url)
                .bearer_auth(&teacher)
                .multipart(Form::new().part("file", file_part("other/cmi5_catapult_multi_au_framed.zip")))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(cmi5["standard"], "cmi5");
        assert_eq!(count_rows(&app.state.db, "packages").await, packages_before);
        assert_eq!(content_files(&app), files_before, "refusals leave no files");

        // Who may import: not learners, not instructors of other courses.
        let learner = token(&app, "learner@example.org").await;
        let r = http
            .post(&url)
            .bearer_auth(&learner)
            .multipart(Form::new().part("file", file_part("valid/scorm12_single_sco_moodle.zip")))
            .send()
            .await
            .unwrap();
        assert_error(r, 403, "forbidden").await;
        let stranger = token(&app, "stranger@example.org").await;
        let form = Form::new()
            .text("course", course_id.clone())
            .part("file", file_part("valid/scorm12_single_sco_moodle.zip"));
        assert_error(http.post(&url).bearer_auth(&stranger).multipart(form).send().await.unwrap(), 404, "not_found")
            .await;
        let form = Form::new().text("institute", "ipa").part("file", file_part("valid/scorm12_single_sco_moodle.zip"));
        assert_error(http.post(&url).bearer_auth(&stranger).multipart(form).send().await.unwrap(), 403, "forbidden")
            .await;
        let listed = json(http.get(app.url("/api/v1/courses")).bearer_auth(&stranger).send().await.unwrap()).await;
        assert_eq!(listed.as_array().unwrap().len(), 0, "courses of other institutes are not listed");
        // A request without a file is a clear 400.
        let r = http.post(&url).bearer_auth(&teacher).multipart(Form::new().text("title", "x")).send().await.unwrap();
        assert_error(r, 400, "bad_request").await;
    }
}

#[tokio::test]
async fn uploads_over_the_limit_are_refused_before_storing() {
    let app = TestApp::start(TestDb::sqlite().await, "sqlite", |c| c.max_package_bytes = 50_000).await;
    let org = app.institute("ipa").await;
    app.user("teacher@example.org", Role::Instructor, Some(&org)).await;
    let teacher = token(&app, "teacher@example.org").await;
    let http = reqwest::Client::new();
    let big =
        Form::new().part("file", file_part("valid/scorm2004_golf_SequencingSimpleRemediation_SCORM20043rdEdition.zip"));
    let r = http.post(app.url("/api/v1/packages")).bearer_auth(&teacher).multipart(big).send().await.unwrap();
    let body = assert_error(r, 413, "payload_too_large").await;
    assert!(body["message"].as_str().unwrap().contains("CAIRN_MAX_PACKAGE_BYTES"));
    // A streamed upload without Content-Length is refused too.
    let bytes = fixture("valid/scorm12_single_sco_moodle.zip");
    let stream = tokio_stream::iter(vec![Ok::<_, std::io::Error>(bytes)]);
    let part = Part::stream(reqwest::Body::wrap_stream(stream)).file_name("p.zip");
    let r = http
        .post(app.url("/api/v1/packages"))
        .bearer_auth(&teacher)
        .multipart(Form::new().part("file", part))
        .send()
        .await
        .unwrap();
    assert_error(r, 411, "length_required").await;
    assert_eq!(count_rows(&app.state.db, "packages").await, 0);
}

#[tokio::test]
async fn content_is_served_safely_to_the_course_audience() {
    for app in TestApp::all("packages").await {
        let org = app.institute("ipa").await;
        let other = app.institute("other").await;
        app.user("teacher@example.org", Role::Instructor, Some(&org)).await;
        app.user("learner@example.org", Role::Learner, Some(&org)).await;
        app.user("outsider@example.org", Role::Learner, Some(&other)).await;
        let teacher = token(&app, "teacher@example.org").await;
        let created = json(
            reqwest::Client::new()
                .post(app.url("/api/v1/packages"))
                .bearer_auth(&teacher)
                .multipart(Form::new().part("file", file_part("valid/scorm12_golf_RuntimeBasicCalls_SCORM12.zip")))
                .send()
                .await
                .unwrap(),
        )
        .await;
        let package = created["package_id"].as_str().unwrap();
        let page = format!("/content/{package}/shared/launchpage.html");

        let learner = app.signed_in("learner@example.org").await;
        assert_eq!(learner.get(&page).await.status(), 404, "[{}] a member who is not enrolled gets nothing", app.label);
        app.enrol(created["course_id"].as_str().unwrap(), "learner@example.org").await;
        let r = learner.get(&page).await;
        assert_eq!(r.status(), 200, "[{}]", app.label);
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        assert_eq!(r.headers()["x-frame-options"], "SAMEORIGIN");
        assert!(r.headers()["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'self'"));
        let etag = r.headers()["etag"].to_str().unwrap().to_string();
        let body = r.bytes().await.unwrap();
        assert!(!body.is_empty());
        // Conditional and partial requests.
        let r = learner.http.get(learner.url(&page)).header("if-none-match", &etag).send().await.unwrap();
        assert_eq!(r.status(), 304);
        let r = learner.http.get(learner.url(&page)).header("range", "bytes=0-9").send().await.unwrap();
        assert_eq!(r.status(), 206);
        assert_eq!(r.bytes().await.unwrap().as_ref(), &body[..10]);
        for (file, mime) in [("Etiquette/course.jpg", "image/jpeg"), ("Etiquette/questions.js", "javascript")] {
            let r = learner.get(&format!("/content/{package}/{file}")).await;
            assert_eq!(r.status(), 200, "{file}");
            assert!(
                r.headers()["content-type"].to_str().unwrap().contains(mime),
                "{file}: {:?}",
                r.headers()["content-type"]
            );
        }

        // No way out of the package, no listings, nothing for outsiders or strangers.
        for path in [
            format!("/content/{package}/shared/../../../../etc/passwd"),
            format!("/content/{package}/shared%2F..%2F..%2F..%2Fcairn.db"),
            format!("/content/{package}/shared"),
            format!("/content/{package}/shared/"),
            format!("/content/{package}/imsmanifest.xml/x"),
            "/content/not-a-package/index.html".to_string(),
        ] {
            assert_eq!(learner.get(&path).await.status(), 404, "[{}] {path}", app.label);
        }
        let outsider = app.signed_in("outsider@example.org").await;
        assert_eq!(outsider.get(&page).await.status(), 404);
        assert_eq!(app.client().get(&page).await.status(), 303, "anonymous visitors are asked to sign in");
    }
}

#[tokio::test]
async fn instructors_import_through_the_upload_page() {
    for app in TestApp::all("packages").await {
        let org = app.institute("ipa").await;
        app.user("teacher@example.org", Role::Instructor, Some(&org)).await;
        let browser = app.signed_in("teacher@example.org").await;
        let form_page = browser.get("/teach/import").await.text().await.unwrap();
        assert!(form_page.contains("enctype=\"multipart/form-data\"") && form_page.contains("data-upload-progress"));
        let csrf = browser.csrf().await;

        let form = Form::new()
            .text("csrf_token", csrf.clone())
            .text("title", "Golf for civil servants")
            .part("file", file_part("valid/scorm12_golf_missing_organizations.zip"));
        let r = browser.http.post(browser.url("/teach/import")).multipart(form).send().await.unwrap();
        assert_eq!(r.status(), 303, "[{}]", app.label);
        let location = r.headers()["location"].to_str().unwrap().to_string();
        assert_eq!(location, "/courses/golf-for-civil-servants?imported=1");
        let html = browser.get(&location).await.text().await.unwrap();
        assert!(html.contains("Version 1 imported") && html.contains("Golf for civil servants"), "{html}");
        assert!(html.contains("organizations"), "the warning is listed in plain words");
        assert!(html.contains("/lessons/"), "the outline lists the package as a lesson");
        assert!(browser.get("/teach").await.text().await.unwrap().contains("Golf for civil servants"));

        // A refused package: the page lists the problems; nothing is stored.
        let form = Form::new().text("csrf_token", csrf.clone()).part("file", file_part("invalid/no_manifest.zip"));
        let r = browser.http.post(browser.url("/teach/import")).multipart(form).send().await.unwrap();
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert!(html.contains("was not imported") && html.contains("imsmanifest.xml"), "{html}");
        assert_eq!(count_rows(&app.state.db, "packages").await, 1);

        // The CSRF token must come first; without it nothing is read or stored.
        let form =
            Form::new().part("file", file_part("valid/scorm12_single_sco_moodle.zip")).text("csrf_token", csrf.clone());
        assert_eq!(browser.http.post(browser.url("/teach/import")).multipart(form).send().await.unwrap().status(), 403);
        let form =
            Form::new().text("csrf_token", "forged").part("file", file_part("valid/scorm12_single_sco_moodle.zip"));
        assert_eq!(browser.http.post(browser.url("/teach/import")).multipart(form).send().await.unwrap().status(), 403);
        assert_eq!(count_rows(&app.state.db, "packages").await, 1);
        // Learners cannot open the upload page.
        app.user("learner@example.org", Role::Learner, Some(&org)).await;
        assert_eq!(app.signed_in("learner@example.org").await.get("/teach/import").await.status(), 403);
    }
}
