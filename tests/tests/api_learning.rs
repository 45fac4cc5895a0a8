//! The learning API of issue 5 over HTTP on every engine: courses and the catalog, outlines,
//! enrolments (self, manual, bulk), cohorts, learner progress and the completion report,
//! with who may do what for every role.

use cairn_core::accounts::Role;
use cairn_core::testing::count_rows;
use cairn_core::tracking::{self, CommitWrite, NewAttempt, Summary};
use cairn_tests::{assert_error, json, TestApp};
use reqwest::multipart::{Form, Part};
use reqwest::Method;
use serde_json::{json, Value};

const GET: Method = Method::GET;
const POST: Method = Method::POST;
const PATCH: Method = Method::PATCH;
const PUT: Method = Method::PUT;
const DELETE: Method = Method::DELETE;

/// What a request sends.
#[derive(Clone)]
enum Body {
    None,
    Json(Value),
    Csv(String),
}

/// The people of every test: two institutes, every role, and tokens to act as them.
struct World {
    app: TestApp,
    http: reqwest::Client,
    tokens: Vec<(&'static str, String)>,
    ids: Vec<(&'static str, String)>,
}

/// (name, e-mail, role, institute: 'a', 'b' or none)
const PEOPLE: [(&str, &str, Role, Option<char>); 8] = [
    ("admin", "admin@example.org", Role::Admin, None),
    ("manager", "manager@example.org", Role::Manager, Some('a')),
    ("teacher", "teacher@example.org", Role::Instructor, Some('a')),
    ("teacher2", "teacher2@example.org", Role::Instructor, Some('a')),
    ("learner", "learner@example.org", Role::Learner, Some('a')),
    ("learner2", "learner2@example.org", Role::Learner, Some('a')),
    ("manager_b", "manager-b@example.org", Role::Manager, Some('b')),
    ("learner_b", "learner-b@example.org", Role::Learner, Some('b')),
];

impl World {
    async fn new(app: TestApp) -> World {
        let a = app.institute("ghana-ipa").await;
        let b = app.institute("other-inst").await;
        let mut tokens = Vec::new();
        let mut ids = Vec::new();
        for (name, email, role, org) in PEOPLE {
            let org = match org {
                Some('a') => Some(&a),
                Some(_) => Some(&b),
                None => None,
            };
            let user = app.user(email, role, org).await;
            let token = cairn_core::accounts::tokens::create(&app.state.db, &user.id, "test").await.unwrap().secret;
            tokens.push((name, token));
            ids.push((name, user.id));
        }
        World { app, http: reqwest::Client::new(), tokens, ids }
    }

    fn token(&self, who: &str) -> &str {
        &self.tokens.iter().find(|(n, _)| *n == who).unwrap_or_else(|| panic!("no person {who}")).1
    }

    fn id(&self, who: &str) -> String {
        self.ids.iter().find(|(n, _)| *n == who).unwrap_or_else(|| panic!("no person {who}")).1.clone()
    }

    fn label(&self) -> &str {
        &self.app.label
    }

    /// Sends a request as `who` (with their API token; `""` for nobody).
    async fn send(&self, who: &str, method: Method, path: &str, body: Body) -> reqwest::Response {
        let mut request = self.http.request(method, self.app.url(&format!("/api/v1{path}")));
        if !who.is_empty() {
            request = request.bearer_auth(self.token(who));
        }
        request = match body {
            Body::None => request,
            Body::Json(value) => request.json(&value),
            Body::Csv(text) => request.header("content-type", "text/csv").body(text),
        };
        request.send().await.unwrap()
    }

    /// Sends a JSON request and asserts the status; answers the JSON body (null when empty).
    async fn expect(&self, who: &str, method: Method, path: &str, body: Value, status: u16) -> Value {
        let body = if body.is_null() { Body::None } else { Body::Json(body) };
        self.expect_body(who, method, path, body, status).await
    }

    async fn expect_body(&self, who: &str, method: Method, path: &str, body: Body, status: u16) -> Value {
        let m = method.clone();
        let response = self.send(who, method, path, body).await;
        let got = response.status().as_u16();
        let text = response.text().await.unwrap();
        assert_eq!(got, status, "[{}] {who} {m} {path}: {text}", self.label());
        if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        }
    }

    /// A new course by `who` in the first institute; answers its id.
    async fn course(&self, who: &str, title: &str) -> String {
        let body = json!({ "title": title, "institute": "ghana-ipa" });
        let course = self.expect(who, POST, "/courses", body, 201).await;
        course["id"].as_str().unwrap().to_string()
    }

    async fn publish(&self, who: &str, course: &str, mode: &str) {
        let body = json!({ "status": "published", "enrolment_mode": mode });
        self.expect(who, PATCH, &format!("/courses/{course}"), body, 200).await;
    }

    async fn module(&self, who: &str, course: &str, title: &str) -> String {
        let body = json!({ "title": title });
        let module = self.expect(who, POST, &format!("/courses/{course}/modules"), body, 201).await;
        module["id"].as_str().unwrap().to_string()
    }

    async fn page(&self, who: &str, module: &str, title: &str, required: bool) -> String {
        let body =
            json!({ "kind": "page", "title": title, "body": format!("# {title}\n\nRead this."), "required": required });
        let lesson = self.expect(who, POST, &format!("/modules/{module}/lessons"), body, 201).await;
        lesson["id"].as_str().unwrap().to_string()
    }

    async fn link(&self, who: &str, module: &str, title: &str, required: bool) -> String {
        let body =
            json!({ "kind": "link", "title": title, "url": "https://example.org/reading", "required": required });
        let lesson = self.expect(who, POST, &format!("/modules/{module}/lessons"), body, 201).await;
        lesson["id"].as_str().unwrap().to_string()
    }

    async fn enrol(&self, who: &str, course: &str, learner: &str) {
        let body = json!({ "user_id": self.id(learner) });
        let response = self.send(who, POST, &format!("/courses/{course}/enrolments"), Body::Json(body)).await;
        assert!(response.status().is_success(), "[{}] enrol {learner}: {}", self.label(), response.status());
    }

    async fn count(&self, table: &str) -> i64 {
        count_rows(&self.app.state.db, table).await
    }
}

fn ids_of(outline: &Value) -> Vec<String> {
    outline["modules"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap().to_string()).collect()
}

fn lesson_ids_of(module: &Value) -> Vec<String> {
    module["lessons"].as_array().unwrap().iter().map(|l| l["id"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn every_endpoint_answers_each_role_as_it_should() {
    for app in TestApp::all("api_learning").await {
        let w = World::new(app).await;
        // A published, open course of institute A taught by `teacher`, with a module of two
        // lessons, a second module and a throw-away module and lesson to delete.
        let c = w.course("teacher", "Ethics in the public service").await;
        w.publish("teacher", &c, "open").await;
        let m = w.module("teacher", &c, "Foundations").await;
        let l = w.page("teacher", &m, "Why integrity matters", true).await;
        let l2 = w.link("teacher", &m, "The code of conduct", false).await;
        let m2 = w.module("teacher", &c, "Practice").await;
        let x = w.page("teacher", &m2, "Scratch", false).await;
        let m3 = w.module("teacher", &c, "Scratch module").await;
        w.enrol("teacher", &c, "learner").await;
        let cohort =
            w.expect("manager", POST, "/institutes/ghana-ipa/cohorts", json!({ "name": "Intake 1" }), 201).await;
        let k = cohort["id"].as_str().unwrap().to_string();
        // A draft course of institute B, with a module and a lesson.
        let d = w
            .expect("manager_b", POST, "/courses", json!({ "title": "Tax reform", "institute": "other-inst" }), 201)
            .await["id"]
            .as_str()
            .unwrap()
            .to_string();
        let dm = w.module("manager_b", &d, "Basics").await;
        let dl = w.page("manager_b", &dm, "Intro", true).await;
        let (learner2, learner_b) = (w.id("learner2"), w.id("learner_b"));
        let csv = "email,name\nlearner@example.org,\n".to_string();
        let j = Body::Json;
        let none = Body::None;

        let table: Vec<(&str, Method, String, Body, u16)> = vec![
            // Courses and the catalog.
            ("", GET, "/me/courses".into(), none.clone(), 401),
            ("learner", POST, "/courses".into(), j(json!({ "title": "X", "institute": "ghana-ipa" })), 403),
            ("manager_b", POST, "/courses".into(), j(json!({ "title": "X", "institute": "ghana-ipa" })), 403),
            ("teacher2", POST, "/courses".into(), j(json!({ "title": "X", "institute": "ghana-ipa" })), 201),
            ("admin", POST, "/courses".into(), j(json!({ "title": "Y", "institute": "ghana-ipa" })), 201),
            ("learner", PATCH, format!("/courses/{c}"), j(json!({ "summary": "s" })), 403),
            ("teacher2", PATCH, format!("/courses/{c}"), j(json!({ "summary": "s" })), 403),
            ("manager_b", PATCH, format!("/courses/{c}"), j(json!({ "summary": "s" })), 403),
            ("teacher", PATCH, format!("/courses/{c}"), j(json!({ "summary": "s" })), 200),
            ("manager", PATCH, format!("/courses/{c}"), j(json!({ "summary": "s" })), 200),
            ("admin", PATCH, format!("/courses/{c}"), j(json!({ "summary": "s" })), 200),
            ("manager", PATCH, format!("/courses/{d}"), j(json!({ "summary": "s" })), 404),
            ("admin", PATCH, format!("/courses/{d}"), j(json!({ "summary": "s" })), 200),
            ("learner", GET, "/catalog".into(), none.clone(), 200),
            ("learner_b", GET, "/catalog?q=ethics".into(), none.clone(), 200),
            // Outlines.
            ("learner_b", GET, format!("/courses/{c}/outline"), none.clone(), 200),
            ("learner", GET, format!("/courses/{d}/outline"), none.clone(), 404),
            ("learner", POST, format!("/courses/{c}/modules"), j(json!({ "title": "M" })), 403),
            ("teacher2", POST, format!("/courses/{c}/modules"), j(json!({ "title": "M" })), 403),
            ("manager_b", POST, format!("/courses/{c}/modules"), j(json!({ "title": "M" })), 403),
            ("teacher", POST, format!("/courses/{c}/modules"), j(json!({ "title": "M" })), 201),
            ("manager", POST, format!("/courses/{c}/modules"), j(json!({ "title": "M" })), 201),
            ("admin", POST, format!("/courses/{c}/modules"), j(json!({ "title": "M" })), 201),
            ("learner", PATCH, format!("/modules/{m}"), j(json!({ "title": "F" })), 403),
            ("teacher2", PATCH, format!("/modules/{m}"), j(json!({ "title": "F" })), 403),
            ("manager_b", PATCH, format!("/modules/{m}"), j(json!({ "title": "F" })), 403),
            ("teacher", PATCH, format!("/modules/{m}"), j(json!({ "title": "F" })), 200),
            // Learners are refused before the lookup; staff learn only what they may see.
            ("learner", PATCH, "/modules/no-such-module".into(), j(json!({ "title": "F" })), 403),
            ("teacher", PATCH, "/modules/no-such-module".into(), j(json!({ "title": "F" })), 404),
            ("teacher", PATCH, format!("/modules/{dm}"), j(json!({ "title": "F" })), 404),
            ("learner", POST, format!("/modules/{m}/move"), j(json!({ "direction": "down" })), 403),
            ("teacher2", POST, format!("/modules/{m}/move"), j(json!({ "direction": "down" })), 403),
            ("teacher", POST, format!("/modules/{m}/move"), j(json!({ "direction": "down" })), 200),
            (
                "learner",
                POST,
                format!("/modules/{m2}/lessons"),
                j(json!({ "kind": "link", "title": "T", "url": "https://a.org" })),
                403,
            ),
            (
                "manager_b",
                POST,
                format!("/modules/{m2}/lessons"),
                j(json!({ "kind": "link", "title": "T", "url": "https://a.org" })),
                403,
            ),
            (
                "teacher",
                POST,
                format!("/modules/{m2}/lessons"),
                j(json!({ "kind": "link", "title": "T", "url": "https://a.org" })),
                201,
            ),
            ("learner", PATCH, format!("/lessons/{l}"), j(json!({ "title": "W" })), 403),
            ("teacher2", PATCH, format!("/lessons/{l}"), j(json!({ "title": "W" })), 403),
            ("teacher", PATCH, format!("/lessons/{l}"), j(json!({ "title": "W" })), 200),
            ("learner", POST, format!("/lessons/{l2}/move"), j(json!({ "direction": "up" })), 403),
            ("teacher", POST, format!("/lessons/{l2}/move"), j(json!({ "direction": "up" })), 200),
            ("learner", PUT, format!("/modules/{m}/lesson-order"), j(json!({ "lesson_ids": [l, l2] })), 403),
            ("teacher2", PUT, format!("/modules/{m}/lesson-order"), j(json!({ "lesson_ids": [l, l2] })), 403),
            ("teacher", PUT, format!("/modules/{m}/lesson-order"), j(json!({ "lesson_ids": [l, l2] })), 200),
            ("learner", PUT, format!("/lessons/{l2}/prerequisites"), j(json!({ "lesson_ids": [l] })), 403),
            ("teacher2", PUT, format!("/lessons/{l2}/prerequisites"), j(json!({ "lesson_ids": [l] })), 403),
            ("teacher", PUT, format!("/lessons/{l2}/prerequisites"), j(json!({ "lesson_ids": [l] })), 200),
            ("learner", DELETE, format!("/lessons/{x}"), none.clone(), 403),
            ("teacher2", DELETE, format!("/lessons/{x}"), none.clone(), 403),
            ("manager_b", DELETE, format!("/lessons/{x}"), none.clone(), 403),
            ("teacher", DELETE, format!("/lessons/{x}"), none.clone(), 204),
            ("teacher", DELETE, format!("/lessons/{x}"), none.clone(), 404),
            ("learner", DELETE, format!("/modules/{m3}"), none.clone(), 403),
            ("teacher2", DELETE, format!("/modules/{m3}"), none.clone(), 403),
            ("teacher", DELETE, format!("/modules/{m3}"), none.clone(), 204),
            // Enrolments, the roster and the matrix.
            ("learner", GET, format!("/courses/{c}/enrolments"), none.clone(), 403),
            ("teacher2", GET, format!("/courses/{c}/enrolments"), none.clone(), 403),
            ("manager_b", GET, format!("/courses/{c}/enrolments"), none.clone(), 403),
            ("teacher", GET, format!("/courses/{c}/enrolments"), none.clone(), 200),
            ("manager", GET, format!("/courses/{c}/enrolments?sort=progress&order=desc"), none.clone(), 200),
            ("admin", GET, format!("/courses/{c}/enrolments"), none.clone(), 200),
            ("teacher", GET, format!("/courses/{d}/enrolments"), none.clone(), 404),
            ("learner", POST, format!("/courses/{c}/enrolments"), j(json!({ "email": "learner2@example.org" })), 403),
            ("teacher2", POST, format!("/courses/{c}/enrolments"), j(json!({ "email": "learner2@example.org" })), 403),
            ("manager_b", POST, format!("/courses/{c}/enrolments"), j(json!({ "email": "learner2@example.org" })), 403),
            ("teacher", POST, format!("/courses/{c}/enrolments"), j(json!({ "email": "learner2@example.org" })), 201),
            ("manager", POST, format!("/courses/{c}/enrolments"), j(json!({ "email": "learner2@example.org" })), 200),
            // Staff enrol the people they look after; others' accounts are "not found".
            ("teacher", POST, format!("/courses/{c}/enrolments"), j(json!({ "email": "learner-b@example.org" })), 404),
            ("admin", POST, format!("/courses/{c}/enrolments"), j(json!({ "user_id": learner_b })), 201),
            ("learner", DELETE, format!("/courses/{c}/enrolments/{learner2}"), none.clone(), 403),
            ("teacher2", DELETE, format!("/courses/{c}/enrolments/{learner2}"), none.clone(), 403),
            ("manager_b", DELETE, format!("/courses/{c}/enrolments/{learner2}"), none.clone(), 403),
            ("manager", DELETE, format!("/courses/{c}/enrolments/{learner2}"), none.clone(), 204),
            ("teacher", DELETE, format!("/courses/{c}/enrolments/{learner2}"), none.clone(), 404),
            ("learner", POST, format!("/courses/{c}/enrol"), j(json!({})), 200),
            ("manager_b", POST, format!("/courses/{c}/enrol"), j(json!({})), 201),
            ("learner", POST, format!("/courses/{d}/enrol"), j(json!({})), 404),
            ("learner", POST, format!("/courses/{c}/enrolments/bulk"), Body::Csv(csv.clone()), 403),
            ("teacher2", POST, format!("/courses/{c}/enrolments/bulk"), Body::Csv(csv.clone()), 403),
            ("manager_b", POST, format!("/courses/{c}/enrolments/bulk"), Body::Csv(csv.clone()), 403),
            ("teacher", POST, format!("/courses/{c}/enrolments/bulk?dry_run=true"), Body::Csv(csv.clone()), 200),
            ("learner", GET, format!("/courses/{c}/matrix"), none.clone(), 403),
            ("teacher2", GET, format!("/courses/{c}/matrix"), none.clone(), 403),
            ("manager_b", GET, format!("/courses/{c}/matrix"), none.clone(), 403),
            ("teacher", GET, format!("/courses/{c}/matrix"), none.clone(), 200),
            ("admin", GET, format!("/courses/{c}/matrix?status=withdrawn"), none.clone(), 200),
            // A learner's own courses and progress.
            ("learner", GET, "/me/courses".into(), none.clone(), 200),
            ("admin", GET, "/me/courses".into(), none.clone(), 200),
            ("learner", GET, format!("/courses/{c}/progress"), none.clone(), 200),
            ("learner2", GET, format!("/courses/{c}/progress"), none.clone(), 200),
            ("teacher", GET, format!("/courses/{c}/progress"), none.clone(), 403),
            ("learner", GET, format!("/courses/{d}/progress"), none.clone(), 404),
            ("learner", POST, format!("/lessons/{l}/visit"), none.clone(), 200),
            ("learner2", POST, format!("/lessons/{l}/visit"), none.clone(), 403),
            ("teacher", POST, format!("/lessons/{l}/visit"), none.clone(), 403),
            ("learner_b", POST, format!("/lessons/{l}/done"), none.clone(), 200),
            ("learner", POST, format!("/lessons/{l}/done"), none.clone(), 200),
            ("teacher", POST, format!("/lessons/{l}/done"), none.clone(), 403),
            ("manager_b", POST, format!("/lessons/{dl}/done"), none.clone(), 403),
            ("learner", POST, format!("/lessons/{dl}/done"), none.clone(), 404),
            // Cohorts.
            ("learner", GET, "/institutes/ghana-ipa/cohorts".into(), none.clone(), 403),
            ("teacher", GET, "/institutes/ghana-ipa/cohorts".into(), none.clone(), 403),
            ("manager_b", GET, "/institutes/ghana-ipa/cohorts".into(), none.clone(), 403),
            ("manager", GET, "/institutes/ghana-ipa/cohorts".into(), none.clone(), 200),
            ("admin", GET, "/institutes/ghana-ipa/cohorts".into(), none.clone(), 200),
            ("learner", POST, "/institutes/ghana-ipa/cohorts".into(), j(json!({ "name": "Intake 2" })), 403),
            ("teacher", POST, "/institutes/ghana-ipa/cohorts".into(), j(json!({ "name": "Intake 2" })), 403),
            ("manager_b", POST, "/institutes/ghana-ipa/cohorts".into(), j(json!({ "name": "Intake 2" })), 403),
            ("manager", POST, "/institutes/ghana-ipa/cohorts".into(), j(json!({ "name": "Intake 2" })), 201),
            ("admin", POST, "/institutes/ghana-ipa/cohorts".into(), j(json!({ "name": "Intake 2" })), 409),
            ("learner", GET, format!("/cohorts/{k}/members"), none.clone(), 403),
            ("teacher", GET, format!("/cohorts/{k}/members"), none.clone(), 403),
            ("manager_b", GET, format!("/cohorts/{k}/members"), none.clone(), 404),
            ("manager", GET, format!("/cohorts/{k}/members"), none.clone(), 200),
            ("admin", GET, format!("/cohorts/{k}/members"), none.clone(), 200),
            ("learner", POST, format!("/cohorts/{k}/members"), j(json!({ "email": "learner@example.org" })), 403),
            ("teacher", POST, format!("/cohorts/{k}/members"), j(json!({ "email": "learner@example.org" })), 403),
            ("manager_b", POST, format!("/cohorts/{k}/members"), j(json!({ "email": "learner@example.org" })), 404),
            ("manager", POST, format!("/cohorts/{k}/members"), j(json!({ "email": "learner@example.org" })), 204),
            ("manager", POST, format!("/cohorts/{k}/members"), j(json!({ "email": "learner2@example.org" })), 204),
            ("manager", POST, format!("/cohorts/{k}/members"), j(json!({ "email": "learner-b@example.org" })), 404),
            ("teacher", DELETE, format!("/cohorts/{k}/members/{learner2}"), none.clone(), 403),
            ("manager_b", DELETE, format!("/cohorts/{k}/members/{learner2}"), none.clone(), 404),
            ("manager", DELETE, format!("/cohorts/{k}/members/{learner2}"), none.clone(), 204),
            ("learner", POST, format!("/courses/{c}/cohort-enrolments"), j(json!({ "cohort_id": k })), 403),
            ("teacher", POST, format!("/courses/{c}/cohort-enrolments"), j(json!({ "cohort_id": k })), 403),
            ("manager_b", POST, format!("/courses/{c}/cohort-enrolments"), j(json!({ "cohort_id": k })), 403),
            ("manager", POST, format!("/courses/{c}/cohort-enrolments"), j(json!({ "cohort_id": k })), 200),
            ("admin", POST, format!("/courses/{c}/cohort-enrolments"), j(json!({ "cohort_id": k })), 200),
            ("manager", POST, format!("/courses/{d}/cohort-enrolments"), j(json!({ "cohort_id": k })), 404),
            // The report.
            ("learner", GET, "/reports/completions".into(), none.clone(), 403),
            ("teacher", GET, "/reports/completions".into(), none.clone(), 200),
            ("manager", GET, "/reports/completions".into(), none.clone(), 200),
            ("admin", GET, "/reports/completions".into(), none.clone(), 200),
            // A course's answers: its staff only.
            ("learner", GET, format!("/courses/{c}/answers"), none.clone(), 403),
            ("teacher2", GET, format!("/courses/{c}/answers"), none.clone(), 403),
            ("manager_b", GET, format!("/courses/{c}/answers"), none.clone(), 403),
            ("teacher", GET, format!("/courses/{c}/answers"), none.clone(), 200),
            ("manager", GET, format!("/courses/{c}/answers"), none.clone(), 200),
            ("admin", GET, format!("/courses/{c}/answers"), none.clone(), 200),
        ];
        for (who, method, path, body, status) in table {
            let answer = w.expect_body(who, method.clone(), &path, body, status).await;
            if status >= 400 {
                assert!(
                    answer["code"].as_str().is_some() && answer["message"].as_str().is_some_and(|m| !m.is_empty()),
                    "[{}] {who} {method} {path}: the error shape is {{code, message}}: {answer}",
                    w.label()
                );
            }
        }
    }
}

#[tokio::test]
async fn courses_are_created_configured_and_found_in_the_catalog() {
    for app in TestApp::all("api_learning").await {
        let w = World::new(app).await;
        let body = json!({ "title": "Decentralisation 101", "institute": "ghana-ipa", "summary": "Local government.", "topic": "decentralisation" });
        let course = w.expect("teacher", POST, "/courses", body, 201).await;
        assert_eq!(
            (course["status"].as_str(), course["enrolment_mode"].as_str(), course["topic"].as_str()),
            (Some("draft"), Some("closed"), Some("decentralisation")),
            "{course}"
        );
        let id = course["id"].as_str().unwrap().to_string();
        // A bad topic is refused before anything is written.
        let before = w.count("courses").await;
        let bad = json!({ "title": "Bad", "institute": "ghana-ipa", "topic": "astrology" });
        let r = w.send("teacher", POST, "/courses", Body::Json(bad)).await;
        assert_error(r, 422, "invalid_input").await;
        assert_eq!(w.count("courses").await, before);
        // An unknown institute is "not found".
        let r = w.send("teacher", POST, "/courses", Body::Json(json!({ "title": "T", "institute": "nope" }))).await;
        assert_error(r, 404, "not_found").await;

        // Drafts are not in the catalog; published ones are, with their filters.
        let catalog = w.expect("learner_b", GET, "/catalog", Value::Null, 200).await;
        assert_eq!(catalog["total"], 0, "{catalog}");
        let r =
            w.send("teacher", PATCH, &format!("/courses/{id}"), Body::Json(json!({ "enrolment_mode": "key" }))).await;
        let body = assert_error(r, 422, "invalid_input").await;
        assert!(body["message"].as_str().unwrap().contains("enrolment_key"), "{body}");
        let settings = json!({ "status": "published", "enrolment_mode": "key", "enrolment_key": "sesame", "completion_min_score": 70 });
        let updated = w.expect("teacher", PATCH, &format!("/courses/{id}"), settings, 200).await;
        assert_eq!(updated["enrolment_key"], "sesame", "editors see the key: {updated}");
        assert_eq!(updated["completion_min_score"], 70.0);
        let seen = w.expect("learner", GET, &format!("/courses/{id}"), Value::Null, 200).await;
        assert!(seen["course"]["enrolment_key"].is_null(), "learners never see the key: {seen}");
        let cleared =
            w.expect("teacher", PATCH, &format!("/courses/{id}"), json!({ "completion_min_score": null }), 200).await;
        assert!(cleared["completion_min_score"].is_null(), "null removes the minimum: {cleared}");
        assert_eq!(cleared["enrolment_key"], "sesame", "fields left out keep their value");
        let r = w
            .send("teacher", PATCH, &format!("/courses/{id}"), Body::Json(json!({ "completion_min_score": 101 })))
            .await;
        assert_error(r, 422, "invalid_input").await;

        for (query, total) in [
            ("", 1),
            ("?q=decentral", 1),
            ("?q=local+government", 1),
            ("?q=astronomy", 0),
            ("?topic=decentralisation", 1),
            ("?topic=ethics", 0),
            ("?institute=ghana-ipa", 1),
            ("?institute=other-inst", 0),
        ] {
            let page = w.expect("learner_b", GET, &format!("/catalog{query}"), Value::Null, 200).await;
            assert_eq!(page["total"], total, "[{}] catalog{query}: {page}", w.label());
        }
        let page = w.expect("learner_b", GET, "/catalog?limit=1&offset=0", Value::Null, 200).await;
        assert_eq!(page["items"][0]["topic_label"], "Decentralisation");
        assert_eq!(page["items"][0]["institute_slug"], "ghana-ipa");
        assert_eq!((page["offset"].as_i64(), page["limit"].as_i64()), (Some(0), Some(1)));
    }
}

#[tokio::test]
async fn outlines_are_built_moved_reordered_and_kept_free_of_cycles() {
    for app in TestApp::all("api_learning").await {
        let w = World::new(app).await;
        let c = w.course("teacher", "Public finance").await;
        let a = w.module("teacher", &c, "Module A").await;
        let b = w.module("teacher", &c, "Module B").await;
        let outline = w.expect("teacher", POST, &format!("/modules/{b}/move"), json!({ "direction": "up" }), 200).await;
        assert_eq!(ids_of(&outline), [b.clone(), a.clone()], "B moved above A");
        let outline = w.expect("teacher", POST, &format!("/modules/{b}/move"), json!({ "direction": "up" }), 200).await;
        assert_eq!(ids_of(&outline), [b.clone(), a.clone()], "the first module cannot go higher");
        let renamed = w.expect("teacher", PATCH, &format!("/modules/{a}"), json!({ "title": "Budgets" }), 200).await;
        assert_eq!(renamed["title"], "Budgets");
        let r = w.send("teacher", PATCH, &format!("/modules/{a}"), Body::Json(json!({ "title": "  " }))).await;
        assert_error(r, 422, "invalid_input").await;

        // Lessons of every kind, and the checks on their content.
        let p = w.page("teacher", &a, "Reading a budget", true).await;
        let k = w.link("teacher", &a, "The finance act", false).await;
        let whole = json!({ "kind": "scorm", "title": "The package" });
        let s = w.expect("teacher", POST, &format!("/modules/{a}/lessons"), whole, 201).await;
        let s = s["id"].as_str().unwrap().to_string();
        for bad in [
            json!({ "kind": "page", "title": "No body" }),
            json!({ "kind": "link", "title": "Bad link", "url": "javascript:alert(1)" }),
            json!({ "kind": "scorm", "title": "Missing item", "item_identifier": "ITEM-1" }),
            json!({ "kind": "page", "title": "", "body": "x" }),
        ] {
            let r = w.send("teacher", POST, &format!("/modules/{a}/lessons"), Body::Json(bad.clone())).await;
            assert_error(r, 422, "invalid_input").await;
        }
        let outline = w.expect("teacher", GET, &format!("/courses/{c}/outline"), Value::Null, 200).await;
        assert_eq!(lesson_ids_of(&outline["modules"][1]), [p.clone(), k.clone(), s.clone()]);
        assert_eq!(outline["modules"][1]["lessons"][0]["body"], "# Reading a budget\n\nRead this.");

        // One step at a time, then a whole order; the order must name every lesson once.
        let outline = w.expect("teacher", POST, &format!("/lessons/{k}/move"), json!({ "direction": "up" }), 200).await;
        assert_eq!(lesson_ids_of(&outline["modules"][1]), [k.clone(), p.clone(), s.clone()]);
        let order = json!({ "lesson_ids": [s, p, k] });
        let outline = w.expect("teacher", PUT, &format!("/modules/{a}/lesson-order"), order, 200).await;
        assert_eq!(lesson_ids_of(&outline["modules"][1]), [s.clone(), p.clone(), k.clone()]);
        assert_eq!(outline["modules"][1]["lessons"][2]["position"], 3);
        for bad in [json!({ "lesson_ids": [s, p] }), json!({ "lesson_ids": [s, p, p] })] {
            let r = w.send("teacher", PUT, &format!("/modules/{a}/lesson-order"), Body::Json(bad)).await;
            assert_error(r, 422, "invalid_input").await;
        }

        // Prerequisites: a chain is fine, a circle (or a lesson needing itself) is not.
        let set = |lesson: &str, ids: Value| (format!("/lessons/{lesson}/prerequisites"), json!({ "lesson_ids": ids }));
        let (path, body) = set(&k, json!([p]));
        let lesson = w.expect("teacher", PUT, &path, body, 200).await;
        assert_eq!(lesson["prerequisites"], json!([p]));
        let (path, body) = set(&s, json!([k]));
        w.expect("teacher", PUT, &path, body, 200).await;
        for (lesson, needs) in [(&p, json!([s])), (&p, json!([k])), (&p, json!([p]))] {
            let (path, body) = set(lesson, needs);
            let r = w.send("teacher", PUT, &path, Body::Json(body)).await;
            let error = assert_error(r, 422, "invalid_input").await;
            assert!(error["message"].as_str().unwrap().contains("prerequisites"), "{error}");
        }
        let other = w.course("teacher", "Another course").await;
        let om = w.module("teacher", &other, "Elsewhere").await;
        let foreign = w.page("teacher", &om, "Foreign", true).await;
        let (path, body) = set(&p, json!([foreign]));
        assert_error(w.send("teacher", PUT, &path, Body::Json(body)).await, 422, "invalid_input").await;
        let outline = w.expect("teacher", GET, &format!("/courses/{c}/outline"), Value::Null, 200).await;
        assert_eq!(outline["modules"][1]["lessons"][1]["prerequisites"], json!([]), "refused changes change nothing");

        // Changing a lesson keeps what is left out; a new kind needs its content.
        let changed = w
            .expect(
                "teacher",
                PATCH,
                &format!("/lessons/{p}"),
                json!({ "title": "Budgets, read", "required": false }),
                200,
            )
            .await;
        assert_eq!((changed["title"].as_str(), changed["required"].as_bool()), (Some("Budgets, read"), Some(false)));
        assert_eq!(changed["kind"], "page");
        let r = w.send("teacher", PATCH, &format!("/lessons/{p}"), Body::Json(json!({ "kind": "link" }))).await;
        assert_error(r, 422, "invalid_input").await;
        let link = json!({ "kind": "link", "url": "https://example.org/budget" });
        let changed = w.expect("teacher", PATCH, &format!("/lessons/{p}"), link, 200).await;
        assert_eq!(
            (changed["kind"].as_str(), changed["url"].as_str()),
            (Some("link"), Some("https://example.org/budget"))
        );

        // Outsiders see the published outline without content.
        w.publish("teacher", &c, "open").await;
        let seen = w.expect("learner_b", GET, &format!("/courses/{c}/outline"), Value::Null, 200).await;
        let lesson = &seen["modules"][1]["lessons"][1];
        assert_eq!(lesson["title"], "Budgets, read");
        assert!(
            lesson["url"].is_null() && lesson["body"].is_null(),
            "content is for those who take the course: {lesson}"
        );

        // Deleting a lesson drops it and the prerequisites naming it; deleting a module drops its lessons.
        w.expect("teacher", DELETE, &format!("/lessons/{p}"), Value::Null, 204).await;
        let outline = w.expect("teacher", GET, &format!("/courses/{c}/outline"), Value::Null, 200).await;
        assert_eq!(lesson_ids_of(&outline["modules"][1]), [s.clone(), k.clone()]);
        assert_eq!(outline["modules"][1]["lessons"][1]["prerequisites"], json!([]));
        w.expect("teacher", DELETE, &format!("/modules/{a}"), Value::Null, 204).await;
        let outline = w.expect("teacher", GET, &format!("/courses/{c}/outline"), Value::Null, 200).await;
        assert_eq!(ids_of(&outline), std::slice::from_ref(&b));
        assert_eq!(w.count("lessons").await, 1, "only the other course's lesson is left");
        w.expect("teacher", DELETE, &format!("/modules/{a}"), Value::Null, 404).await;
    }
}

#[tokio::test]
async fn learners_enrol_themselves_in_open_and_keyed_courses_only() {
    for app in TestApp::all("api_learning").await {
        let w = World::new(app).await;
        let c = w.course("teacher", "Service delivery").await;
        let path = format!("/courses/{c}/enrol");
        // A draft: its institute's learners see it but cannot enrol; others do not see it.
        let r = w.send("learner", POST, &path, Body::Json(json!({}))).await;
        assert_error(r, 403, "enrolment_closed").await;
        assert_error(w.send("learner_b", POST, &path, Body::Json(json!({}))).await, 404, "not_found").await;
        // Published but closed.
        w.publish("teacher", &c, "closed").await;
        assert_error(w.send("learner", POST, &path, Body::Json(json!({}))).await, 403, "enrolment_closed").await;
        // Keyed: no key and a wrong key are refused, the right one enrols once.
        let keyed = json!({ "enrolment_mode": "key", "enrolment_key": "sesame" });
        w.expect("teacher", PATCH, &format!("/courses/{c}"), keyed, 200).await;
        assert_error(w.send("learner", POST, &path, Body::Json(json!({}))).await, 403, "wrong_enrolment_key").await;
        let wrong = Body::Json(json!({ "key": "open sesame" }));
        assert_error(w.send("learner", POST, &path, wrong).await, 403, "wrong_enrolment_key").await;
        assert_eq!(w.count("enrolments").await, 0, "refusals enrol nobody");
        let enrolment = w.expect("learner", POST, &path, json!({ "key": " sesame " }), 201).await;
        assert_eq!((enrolment["source"].as_str(), enrolment["state"].as_str()), (Some("self"), Some("active")));
        w.expect("learner", POST, &path, json!({ "key": "sesame" }), 200).await;
        // Open: anyone signed in, from any institute.
        w.publish("teacher", &c, "open").await;
        w.expect("learner_b", POST, &path, json!({}), 201).await;
        assert_eq!(w.count("enrolments").await, 2);
        let mine = w.expect("learner_b", GET, "/me/courses", Value::Null, 200).await;
        assert_eq!(mine[0]["course_id"], c.as_str());
        assert_eq!(mine[0]["progress_percent"], 0);

        // From a browser, the session cookie needs the CSRF header on writes.
        let browser = w.app.signed_in("learner2@example.org").await;
        let url = browser.url(&format!("/api/v1{path}"));
        let r = browser.http.post(&url).json(&json!({})).send().await.unwrap();
        assert_error(r, 403, "forbidden").await;
        let csrf = browser.csrf().await;
        let r = browser.http.post(&url).header("x-csrf-token", csrf).json(&json!({})).send().await.unwrap();
        assert_eq!(r.status(), 201, "[{}]", w.label());
    }
}

#[tokio::test]
async fn withdrawal_keeps_progress_and_enrolling_again_restores_it() {
    for app in TestApp::all("api_learning").await {
        let w = World::new(app).await;
        let c = w.course("teacher", "Integrity").await;
        w.publish("teacher", &c, "closed").await;
        let m = w.module("teacher", &c, "One").await;
        let first = w.page("teacher", &m, "First", true).await;
        let second = w.page("teacher", &m, "Second", true).await;

        // Manual enrolment by e-mail, with a window and a cohort of the institute.
        let cohort = w.expect("manager", POST, "/institutes/ghana-ipa/cohorts", json!({ "name": "2026 A" }), 201).await;
        let body = json!({
            "email": "LEARNER@example.org", "starts_at": "2020-01-01T00:00:00Z", "ends_at": "2099-01-01T00:00:00Z",
            "cohort_id": cohort["id"],
        });
        let enrolment = w.expect("teacher", POST, &format!("/courses/{c}/enrolments"), body, 201).await;
        assert_eq!(
            (enrolment["source"].as_str(), enrolment["cohort_id"].as_str()),
            (Some("manual"), cohort["id"].as_str())
        );
        assert_eq!(enrolment["ends_at"], "2099-01-01T00:00:00Z");
        let members = w
            .expect("manager", GET, &format!("/cohorts/{}/members", cohort["id"].as_str().unwrap()), Value::Null, 200)
            .await;
        assert_eq!(members[0]["email"], "learner@example.org", "the learner joined the cohort");
        for (bad, status) in [
            (
                json!({ "email": "learner2@example.org", "starts_at": "2026-02-01T00:00:00Z", "ends_at": "2026-01-01T00:00:00Z" }),
                422,
            ),
            (json!({ "user_id": "no-such-user" }), 404),
            (json!({}), 422),
            (json!({ "email": "learner2@example.org", "cohort_id": "no-such-cohort" }), 404),
        ] {
            let r = w.send("teacher", POST, &format!("/courses/{c}/enrolments"), Body::Json(bad)).await;
            assert_eq!(r.status().as_u16(), status, "[{}]", w.label());
        }

        let progress = w.expect("learner", POST, &format!("/lessons/{first}/done"), Value::Null, 200).await;
        assert_eq!((progress["percent"].as_u64(), progress["status"].as_str()), (Some(50), Some("in_progress")));

        let roster = w.expect("teacher", GET, &format!("/courses/{c}/enrolments"), Value::Null, 200).await;
        assert_eq!(roster["total"], 1);
        assert_eq!(roster["items"][0]["progress_percent"], 50);
        assert_eq!(roster["items"][0]["cohort"], "2026 A");

        w.expect("teacher", DELETE, &format!("/courses/{c}/enrolments/{}", w.id("learner")), Value::Null, 204).await;
        let roster = w.expect("teacher", GET, &format!("/courses/{c}/enrolments"), Value::Null, 200).await;
        assert_eq!(roster["total"], 0, "withdrawn learners leave the default roster");
        let withdrawn =
            w.expect("teacher", GET, &format!("/courses/{c}/enrolments?status=withdrawn"), Value::Null, 200).await;
        assert_eq!(withdrawn["items"][0]["state"], "withdrawn");
        assert_eq!(withdrawn["items"][0]["progress_percent"], 50, "withdrawal keeps progress");
        let mine = w.expect("learner", GET, &format!("/courses/{c}/progress"), Value::Null, 200).await;
        assert_eq!((mine["access"].as_str(), mine["progress"]["percent"].as_u64()), (Some("withdrawn"), Some(50)));
        assert_eq!(mine["lessons"][0]["status"], "completed");
        let r = w.send("learner", POST, &format!("/lessons/{second}/done"), Body::None).await;
        assert_error(r, 403, "not_enrolled").await;
        assert_eq!(w.expect("learner", GET, "/me/courses", Value::Null, 200).await, json!([]));

        let again = json!({ "user_id": w.id("learner") });
        let back = w.expect("manager", POST, &format!("/courses/{c}/enrolments"), again, 200).await;
        assert_eq!((back["state"].as_str(), back["progress_percent"].as_i64()), (Some("active"), Some(50)));
        assert_eq!(back["cohort_id"], cohort["id"], "the cohort is kept");
        let progress = w.expect("learner", POST, &format!("/lessons/{second}/done"), Value::Null, 200).await;
        assert_eq!((progress["percent"].as_u64(), progress["status"].as_str()), (Some(100), Some("completed")));
    }
}

#[tokio::test]
async fn bulk_files_are_planned_refused_whole_or_applied_whole() {
    for app in TestApp::all("api_learning").await {
        let w = World::new(app).await;
        let c = w.course("teacher", "Tax administration").await;
        let bulk = |dry: bool| format!("/courses/{c}/enrolments/bulk?dry_run={dry}");
        w.enrol("teacher", &c, "learner").await;
        w.enrol("teacher", &c, "learner2").await;
        w.expect("teacher", DELETE, &format!("/courses/{c}/enrolments/{}", w.id("learner2")), Value::Null, 204).await;
        let tables = ["users", "enrolments", "cohorts", "cohort_members", "memberships", "email_outbox", "invitations"];
        let world = &w;
        let snapshot = move || async move {
            let mut counts = Vec::new();
            for table in tables {
                counts.push((table, world.count(table).await));
            }
            counts
        };
        let before = snapshot().await;

        // A dry run shows every row's fate and writes nothing.
        let file = "\u{feff}Email,Name,Cohort\r\n\
                    learner@example.org,,Intake 9\r\n\
                    learner2@example.org,,\r\n\
                    teacher2@example.org,,Intake 9\r\n\
                    new.person@example.org,Ama Mensah,Intake 9\r\n";
        let plan = w.expect_body("manager", POST, &bulk(true), Body::Csv(file.into()), 200).await;
        let fates: Vec<(u64, &str)> = plan["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["line"].as_u64().unwrap(), r["fate"].as_str().unwrap()))
            .collect();
        assert_eq!(fates, [(2, "already_enrolled"), (3, "reenrol"), (4, "enrol"), (5, "new_account")], "{plan}");
        assert_eq!(plan["ok"], true);
        assert_eq!(plan["new_cohorts"], json!(["Intake 9"]));
        assert_eq!(plan["counts"], json!({ "new_accounts": 1, "enrol": 1, "reenrol": 1, "already_enrolled": 1 }));
        let default_is_dry =
            w.expect_body("manager", POST, &format!("/courses/{c}/enrolments/bulk"), Body::Csv(file.into()), 200).await;
        assert_eq!(default_is_dry["rows"], plan["rows"], "dry_run defaults to true");
        assert_eq!(snapshot().await, before, "[{}] a dry run writes nothing", w.label());

        // A bad file: a bad e-mail on line 3 and a new account without a name on line 5 are
        // both reported, and nothing is written.
        let bad = "email,name\n\
                   someone.new@example.org,Kofi Boateng\n\
                   not-an-email,Efua\n\
                   learner@example.org,\n\
                   nameless@example.org,\n";
        let r = w.send("manager", POST, &bulk(false), Body::Csv(bad.into())).await;
        assert_eq!(r.status(), 422, "[{}]", w.label());
        let refused = json(r).await;
        assert_eq!(refused["code"], "bulk_refused");
        let lines: Vec<u64> =
            refused["problems"].as_array().unwrap().iter().map(|p| p["line"].as_u64().unwrap()).collect();
        assert_eq!(lines, [3, 5], "{refused}");
        assert_eq!(refused["problems"][0]["field"], "email");
        assert_eq!(refused["problems"][1]["field"], "name");
        assert_eq!(snapshot().await, before, "[{}] a refused file writes nothing", w.label());
        let plan = w.expect_body("manager", POST, &bulk(true), Body::Csv(bad.into()), 200).await;
        assert_eq!(plan["ok"], false);
        assert_eq!(plan["problems"].as_array().unwrap().len(), 2, "the dry run lists the same problems: {plan}");
        assert_eq!(plan["rows"].as_array().unwrap().len(), 2, "and the fates of the good rows: {plan}");

        // An instructor's file may only enrol existing accounts.
        let r = w.send("teacher", POST, &bulk(false), Body::Csv(file.into())).await;
        assert_eq!(r.status(), 422);
        let refused = json(r).await;
        let lines: Vec<u64> =
            refused["problems"].as_array().unwrap().iter().map(|p| p["line"].as_u64().unwrap()).collect();
        assert_eq!(lines, [2, 5], "the new cohort (first named on line 2) and the new account: {refused}");
        assert_eq!(snapshot().await, before);
        let r = w.send("teacher", POST, &bulk(true), Body::Json(json!({ "email": "x@example.org" }))).await;
        assert_error(r, 415, "unsupported_media_type").await;

        // A good file creates accounts, enrolments, cohorts and invitations at once.
        let done = w.expect_body("manager", POST, &bulk(false), Body::Csv(file.into()), 201).await;
        assert_eq!(
            done,
            json!({ "created_accounts": 1, "enrolled": 3, "already_enrolled": 1, "created_cohorts": 1, "invitations_queued": 1 })
        );
        let after = snapshot().await;
        let grew: Vec<(&str, i64)> = before.iter().zip(&after).map(|((t, b), (_, a))| (*t, a - b)).collect();
        assert_eq!(
            grew,
            [
                ("users", 1),
                ("enrolments", 2),
                ("cohorts", 1),
                ("cohort_members", 3),
                ("memberships", 1),
                ("email_outbox", 1),
                ("invitations", 1)
            ],
            "[{}]",
            w.label()
        );
        let roster = w.expect("manager", GET, &format!("/courses/{c}/enrolments?sort=email"), Value::Null, 200).await;
        let emails: Vec<&str> =
            roster["items"].as_array().unwrap().iter().map(|r| r["email"].as_str().unwrap()).collect();
        assert_eq!(
            emails,
            ["learner2@example.org", "learner@example.org", "new.person@example.org", "teacher2@example.org"]
        );
        let cohorts = w.expect("manager", GET, "/institutes/ghana-ipa/cohorts", Value::Null, 200).await;
        assert_eq!((cohorts[0]["name"].as_str(), cohorts[0]["member_count"].as_i64()), (Some("Intake 9"), Some(3)));
        let new =
            cairn_core::accounts::find_by_email(&w.app.state.db, "new.person@example.org").await.unwrap().unwrap();
        assert_eq!((new.role, new.name.as_str()), (Role::Learner, "Ama Mensah"));
        // The same file again changes nothing but is fine.
        let again = w.expect_body("manager", POST, &bulk(false), Body::Csv(file.into()), 201).await;
        assert_eq!(again["already_enrolled"], 4);
    }
}

#[tokio::test]
async fn marking_the_only_required_page_done_completes_the_course_once() {
    for app in TestApp::all("api_learning").await {
        let w = World::new(app).await;
        let c = w.course("teacher", "Ethics basics").await;
        w.publish("teacher", &c, "open").await;
        let m = w.module("teacher", &c, "Only module").await;
        let page = w.page("teacher", &m, "The one page", true).await;
        let extra = w.link("teacher", &m, "Further reading", false).await;
        let locked = w.page("teacher", &m, "Reflection", false).await;
        w.expect("teacher", PUT, &format!("/lessons/{locked}/prerequisites"), json!({ "lesson_ids": [page] }), 200)
            .await;
        w.expect("learner", POST, &format!("/courses/{c}/enrol"), json!({}), 201).await;

        let check = |p: &Value| {
            let percent = p["percent"].as_u64().unwrap();
            assert!(percent <= 100, "percent never exceeds 100: {p}");
            percent
        };
        let p = w.expect("learner", POST, &format!("/lessons/{page}/visit"), Value::Null, 200).await;
        assert_eq!((check(&p), p["status"].as_str(), p["complete"].as_bool()), (0, Some("in_progress"), Some(false)));
        let r = w.send("learner", POST, &format!("/lessons/{locked}/done"), Body::None).await;
        assert_error(r, 403, "lesson_locked").await;
        let r = w.send("learner", POST, &format!("/lessons/{extra}/done"), Body::None).await;
        assert_error(r, 422, "invalid_input").await;

        let p = w.expect("learner", POST, &format!("/lessons/{page}/done"), Value::Null, 200).await;
        assert_eq!((check(&p), p["status"].as_str(), p["complete"].as_bool()), (100, Some("completed"), Some(true)));
        assert_eq!((p["done"].as_u64(), p["counted"].as_u64()), (Some(1), Some(1)), "only the required lesson counts");
        let completed_at = p["completed_at"].as_str().expect("completed_at is set").to_string();

        // Done again, the optional link, and the unlocked lesson: still 100 and the same date.
        for (lesson, action) in [(&page, "done"), (&extra, "visit"), (&locked, "done"), (&page, "visit")] {
            let p = w.expect("learner", POST, &format!("/lessons/{lesson}/{action}"), Value::Null, 200).await;
            assert_eq!(check(&p), 100);
            assert_eq!(p["completed_at"], completed_at.as_str(), "completed_at is set once");
        }
        let mine = w.expect("learner", GET, &format!("/courses/{c}/progress"), Value::Null, 200).await;
        let statuses: Vec<(&str, bool)> = mine["lessons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| (l["status"].as_str().unwrap(), l["open"].as_bool().unwrap()))
            .collect();
        assert_eq!(statuses, [("completed", true), ("completed", true), ("completed", true)]);

        // A new required lesson lowers the percentage but the course stays completed.
        w.page("teacher", &m, "Added later", true).await;
        let mine = w.expect("learner", GET, &format!("/courses/{c}/progress"), Value::Null, 200).await;
        assert_eq!(check(&mine["progress"]), 50);
        assert_eq!(mine["progress"]["status"], "completed");
        assert_eq!(mine["progress"]["completed_at"], completed_at.as_str());
        let courses = w.expect("learner", GET, "/me/courses", Value::Null, 200).await;
        assert_eq!(
            (courses[0]["status"].as_str(), courses[0]["completed_at"].as_str()),
            (Some("completed"), Some(completed_at.as_str()))
        );

        // The matrix shows the learner's lessons in course order.
        let matrix = w.expect("teacher", GET, &format!("/courses/{c}/matrix"), Value::Null, 200).await;
        assert_eq!(matrix["lessons"].as_array().unwrap().len(), 4);
        let cells: Vec<&str> =
            matrix["rows"][0]["cells"].as_array().unwrap().iter().map(|c| c["status"].as_str().unwrap()).collect();
        assert_eq!(cells, ["completed", "completed", "completed", "not_started"]);
    }
}

/// Imports the single-SCO SCORM 1.2 fixture into a course and answers (package id, item).
async fn import_package(w: &World, who: &str, course: &str) -> (String, String) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/fixtures/scorm/valid/scorm12_single_sco_moodle.zip");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("the SCORM fixture {} is missing: {e}", path.display()));
    let form = Form::new().text("course", course.to_string()).part("file", Part::bytes(bytes).file_name("sco.zip"));
    let r = w.http.post(w.app.url("/api/v1/packages")).bearer_auth(w.token(who)).multipart(form).send().await.unwrap();
    assert_eq!(r.status(), 201, "[{}] import", w.label());
    let imported = json(r).await;
    let detail = w.expect(who, GET, &format!("/courses/{course}"), Value::Null, 200).await;
    let item = detail["items"].as_array().unwrap().iter().find(|i| i["launch"].is_string()).expect("a launchable item");
    (imported["package_id"].as_str().unwrap().to_string(), item["identifier"].as_str().unwrap().to_string())
}

/// A finished, passed attempt with a raw score, stored as the player would after the SCO's
/// last commit.
async fn passed_attempt(w: &World, learner: &str, course: &str, package: &str, item: &str, score: f64) {
    let new = NewAttempt {
        user_id: w.id(learner),
        course_id: course.to_string(),
        package_id: package.to_string(),
        item_identifier: item.to_string(),
        scorm_version: "1.2".into(),
    };
    let attempt = tracking::create(&w.app.state.db, new).await.unwrap();
    let summary = Summary {
        completion: "completed".into(),
        success: "passed".into(),
        score_scaled: None,
        score_raw: Some(score),
        total_time_seconds: 600.0,
        total_time: Some("0000:10:00".into()),
        location: None,
        suspended: false,
    };
    let write = CommitWrite {
        attempt_id: attempt.id.clone(),
        expected_revision: attempt.revision,
        seq: 1,
        state_json: "{}".into(),
        summary,
        terminate: true,
        progress_pending: false,
    };
    assert!(w.app.state.commits.write(write).await.unwrap(), "the commit applies");
}

fn data_lines(csv: &str) -> Vec<&str> {
    csv.split("\r\n").skip(1).filter(|l| !l.is_empty()).collect()
}

#[tokio::test]
async fn the_completion_report_is_a_scoped_csv_download() {
    for app in TestApp::all("api_learning").await {
        let w = World::new(app).await;
        // Course A1 (taught by `teacher`) with a scored SCORM lesson; A2 of the same
        // institute taught by `teacher2`; B1 of the other institute.
        let a1 = w.course("teacher", "Scored course").await;
        let (package, item) = import_package(&w, "teacher", &a1).await;
        let m = w.module("teacher", &a1, "Module").await;
        let lesson = json!({ "kind": "scorm", "title": "The SCO", "item_identifier": item });
        w.expect("teacher", POST, &format!("/modules/{m}/lessons"), lesson, 201).await;
        w.publish("teacher", &a1, "open").await;
        let a2 = w.course("teacher2", "Unscored course").await;
        let b1 = w
            .expect(
                "manager_b",
                POST,
                "/courses",
                json!({ "title": "Other institute course", "institute": "other-inst" }),
                201,
            )
            .await["id"]
            .as_str()
            .unwrap()
            .to_string();
        w.enrol("teacher", &a1, "learner").await;
        w.enrol("teacher", &a1, "learner2").await;
        w.enrol("teacher2", &a2, "learner").await;
        w.enrol("manager_b", &b1, "learner_b").await;
        passed_attempt(&w, "learner", &a1, &package, &item, 85.0).await;
        let mine = w.expect("learner", GET, &format!("/courses/{a1}/progress"), Value::Null, 200).await;
        assert_eq!(mine["lessons"][0]["status"], "passed", "{mine}");
        assert_eq!(
            (mine["progress"]["status"].as_str(), mine["progress"]["score"].as_f64()),
            (Some("completed"), Some(85.0))
        );
        let completed_at = mine["progress"]["completed_at"].as_str().unwrap().to_string();
        let day = &completed_at[..10];

        let r = w.send("admin", GET, "/reports/completions", Body::None).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
        let disposition = r.headers()["content-disposition"].to_str().unwrap().to_string();
        assert_eq!(disposition, format!("attachment; filename=\"completions-{}.csv\"", day.replace('-', "")));
        let bytes = r.bytes().await.unwrap();
        assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "a byte-order mark for spreadsheets");
        let text = std::str::from_utf8(&bytes[3..]).unwrap();
        assert!(
            text.starts_with(
                "learner,email,institute,cohort,course,enrolled_at,started_at,completed_at,status,score,time_spent_seconds\r\n"
            ),
            "{text}"
        );
        assert!(text.ends_with("\r\n") && !text.replace("\r\n", "").contains('\n'), "CRLF line ends only: {text:?}");
        let rows = data_lines(text);
        assert_eq!(rows.len(), 4, "{text}");
        let done = rows.iter().find(|r| r.contains("learner@example.org") && r.contains("Scored course")).unwrap();
        let cells: Vec<&str> = done.split(',').collect();
        assert_eq!(cells[7], completed_at, "completed_at: {done}");
        assert_eq!((cells[8], cells[9], cells[10]), ("completed", "85.0", "600"), "{done}");

        // Managers see their institutes' courses; instructors the courses they teach.
        let world = &w;
        let report = move |who: &'static str, query: &'static str| async move {
            let r = world.send(who, GET, &format!("/reports/completions{query}"), Body::None).await;
            assert_eq!(r.status(), 200, "[{}] {who} {query}", world.label());
            String::from_utf8(r.bytes().await.unwrap()[3..].to_vec()).unwrap()
        };
        let managed = report("manager", "").await;
        assert_eq!(data_lines(&managed).len(), 3, "{managed}");
        assert!(!managed.contains("Other institute course"), "another institute's course is left out: {managed}");
        let taught = report("teacher", "").await;
        assert_eq!(data_lines(&taught).len(), 2, "{taught}");
        assert!(data_lines(&taught).iter().all(|l| l.contains("Scored course")), "{taught}");
        assert_eq!(data_lines(&report("teacher2", "").await).len(), 1);
        assert_eq!(data_lines(&report("manager_b", "").await).len(), 1);

        // Filters: course, institute, and completion dates (a date includes its whole day).
        let by_course = w.send("admin", GET, &format!("/reports/completions?course={a2}"), Body::None).await;
        assert_eq!(data_lines(&String::from_utf8_lossy(&by_course.bytes().await.unwrap())).len(), 1);
        assert_eq!(data_lines(&report("admin", "?institute=other-inst").await).len(), 1);
        let since_day =
            w.send("admin", GET, &format!("/reports/completions?since={day}&until={day}"), Body::None).await;
        let since_day = String::from_utf8_lossy(&since_day.bytes().await.unwrap()).to_string();
        assert_eq!(data_lines(&since_day).len(), 1, "only the completed enrolment: {since_day}");
        let later = w.send("admin", GET, "/reports/completions?since=2999-01-01", Body::None).await;
        assert_eq!(data_lines(&String::from_utf8_lossy(&later.bytes().await.unwrap())).len(), 0);
        let r = w.send("admin", GET, "/reports/completions?since=yesterday", Body::None).await;
        assert_error(r, 422, "invalid_input").await;
        let r = w.send("learner", GET, "/reports/completions", Body::None).await;
        assert_error(r, 403, "forbidden").await;
    }
}
