//! The player as tests drive it over HTTP: a class (institute, instructor, imported
//! package, enrolled learner), launching the player and sending its commits.

use cairn_core::accounts::{Role, User};
use cairn_core::organisations::Organisation;
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};

use crate::{Client, TestApp};

/// A shared SCORM fixture's bytes (`../shared/fixtures/scorm/<name>`).
pub fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/scorm").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("the shared SCORM fixture {} is missing: {e}", path.display()))
}

/// Imports a fixture as the instructor and returns the course slug.
pub async fn import(app: &TestApp, teacher: &Client, file: &str, title: &str) -> String {
    let csrf = teacher.csrf().await;
    let form = Form::new()
        .text("csrf_token", csrf)
        .text("title", title.to_string())
        .part("file", Part::bytes(fixture(file)).file_name("p.zip"));
    let r = teacher.http.post(teacher.url("/teach/import")).multipart(form).send().await.unwrap();
    assert_eq!(r.status(), 303, "[{}] import {file}", app.label);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    location.trim_start_matches("/courses/").split('?').next().unwrap().to_string()
}

/// Where a player test starts: an institute, its signed-in instructor, `file` imported by
/// them as `title`, and a learner enrolled in it and signed in.
pub struct Class {
    pub org: Organisation,
    pub teacher: Client,
    pub learner: Client,
    pub learner_account: User,
    pub slug: String,
}

pub async fn class(app: &TestApp, file: &str, title: &str) -> Class {
    let org = app.institute("ipa").await;
    app.user("teacher@example.org", Role::Instructor, Some(&org)).await;
    let learner_account = app.user("learner@example.org", Role::Learner, Some(&org)).await;
    let teacher = app.signed_in("teacher@example.org").await;
    let slug = import(app, &teacher, file, title).await;
    app.enrol(&slug, "learner@example.org").await;
    let learner = app.signed_in("learner@example.org").await;
    Class { org, teacher, learner, learner_account, slug }
}

/// Opens the player and returns the page and its launch configuration.
pub async fn launch(client: &Client, path: &str) -> (String, Value) {
    let r = client.get(path).await;
    assert_eq!(r.status(), 200, "{path}");
    let html = r.text().await.unwrap();
    let config = html
        .split("<script type=\"application/json\" id=\"cairn-launch\">")
        .nth(1)
        .and_then(|s| s.split("</script>").next())
        .expect("launch config");
    (html.clone(), serde_json::from_str(config).expect("launch config is JSON"))
}

/// Sends one commit of the player's launch `config` as the signed-in `client`.
pub async fn commit(client: &Client, config: &Value, seq: i64, elements: Value, terminate: bool) -> reqwest::Response {
    let csrf = client.csrf().await;
    client
        .http
        .post(client.url(config["commit_url"].as_str().unwrap()))
        .header("x-csrf-token", csrf)
        .json(&json!({ "attempt_id": config["attempt_id"], "seq": seq, "elements": elements, "terminate": terminate }))
        .send()
        .await
        .unwrap()
}
