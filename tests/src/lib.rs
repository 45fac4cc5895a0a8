//! Shared helpers for Cairn's end-to-end tests: real servers on real databases, and a
//! browser-like HTTP client that keeps cookies and fills in CSRF tokens.
//!
//! Each [`TestApp`] serves the real application on a free port of 127.0.0.1 over a fresh
//! database. [`TestApp::all`] yields one on SQLite and, when `CAIRN_TEST_DATABASE_URL` is
//! set, one on PostgreSQL; with `CAIRN_TEST_REDIS_URL` the PostgreSQL one keeps its
//! sessions and rate limits in Redis under a key prefix of its own.
#![forbid(unsafe_code)]

pub mod browser;
pub mod player;

use std::net::SocketAddr;
use std::sync::Arc;

use cairn_core::accounts::{self, NewUser, Role};
use cairn_core::organisations::{self, Organisation};
use cairn_core::testing::TestDb;
use cairn_server::{AppState, Config};
use poem::listener::{Acceptor, Listener, TcpListener};
use reqwest::cookie::CookieStore;

/// The password every test account gets.
pub const PASSWORD: &str = "correct horse battery";

/// The Redis URL for tests, if the environment provides one.
pub fn redis_url() -> Option<String> {
    std::env::var("CAIRN_TEST_REDIS_URL").ok().filter(|u| !u.trim().is_empty())
}

/// Prints, once per process, that the Redis half of a suite did not run.
pub fn note_redis_skipped(suite: &str) {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        cairn_core::testing::note_not_run(
            &format!("{suite}: Redis suite"),
            "set CAIRN_TEST_REDIS_URL to run it; .ci/run does",
        )
    });
}

/// A running Cairn over its own database.
pub struct TestApp {
    pub addr: SocketAddr,
    pub state: Arc<AppState>,
    pub label: String,
    server: tokio::task::JoinHandle<()>,
    /// Holds uploaded package content; removed with the app.
    _data_dir: tempfile::TempDir,
    // Dropped last: the database outlives the server that uses it.
    pub test_db: TestDb,
}

impl TestApp {
    /// A server over `test_db` with `adjust` applied to the default test configuration.
    pub async fn start(test_db: TestDb, label: &str, adjust: impl FnOnce(&mut Config)) -> TestApp {
        let data_dir = tempfile::tempdir().expect("a data folder for the test app");
        let mut config = Config {
            database_url: Some(test_db.url.clone()),
            data_dir: data_dir.path().to_path_buf(),
            ..Config::default()
        };
        adjust(&mut config);
        let state = AppState::new(config, test_db.db.clone()).expect("application state");
        let acceptor = TcpListener::bind("127.0.0.1:0").into_acceptor().await.expect("bind a free port");
        let addr = *acceptor.local_addr()[0].as_socket_addr().expect("a TCP address");
        let app = cairn_server::build(state.clone());
        let server = tokio::spawn(async move {
            let _ = poem::Server::new_with_acceptor(acceptor).run(app).await;
        });
        TestApp { addr, state, label: label.to_string(), server, _data_dir: data_dir, test_db }
    }

    /// One app per available engine: SQLite with in-process sessions always; PostgreSQL
    /// (with Redis sessions when `CAIRN_TEST_REDIS_URL` is set) when configured.
    pub async fn all(suite: &str) -> Vec<TestApp> {
        let mut apps = vec![TestApp::start(TestDb::sqlite().await, "sqlite", |_| {}).await];
        match cairn_core::testing::postgres_url() {
            Some(url) => {
                let redis = redis_url();
                if redis.is_none() {
                    note_redis_skipped(suite);
                }
                let label = if redis.is_some() { "postgres+redis" } else { "postgres" };
                let prefix = unique_prefix();
                apps.push(
                    TestApp::start(TestDb::postgres(&url).await, label, |c| {
                        c.redis_url = redis;
                        c.redis_prefix = prefix;
                    })
                    .await,
                );
            }
            None => cairn_core::testing::note_postgres_skipped(suite),
        }
        apps
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// A new browser-like client with an empty cookie jar.
    pub fn client(&self) -> Client {
        Client::new(self.addr)
    }

    /// Creates an account directly in the store.
    pub async fn user(&self, email: &str, role: Role, org: Option<&Organisation>) -> accounts::User {
        accounts::create_user(
            &self.state.db,
            NewUser {
                email: email.into(),
                name: format!("Test {role}"),
                role,
                password: Some(PASSWORD.into()),
                organisation_id: org.map(|o| o.id.clone()),
            },
        )
        .await
        .expect("create test account")
        .user
    }

    /// Enrols an account in a course (by slug or id) directly in the store, as an
    /// instructor would; taking a course needs an enrolment.
    pub async fn enrol(&self, course: &str, email: &str) {
        let course = cairn_core::catalog::get(&self.state.db, course).await.expect("the course to enrol in");
        let user = accounts::find_by_email(&self.state.db, email).await.unwrap().expect("the account to enrol");
        let new = cairn_core::enrolments::NewEnrolment {
            course_id: course.id,
            user_id: user.id,
            source: cairn_core::enrolments::Source::Manual,
            cohort_id: None,
            starts_at: None,
            ends_at: None,
        };
        cairn_core::enrolments::enrol(&self.state.db, &new).await.expect("enrol");
    }

    pub async fn institute(&self, slug: &str) -> Organisation {
        organisations::create(&self.state.db, slug, &format!("Institute {slug}")).await.expect("create test institute")
    }

    /// A client signed in through the real login form.
    pub async fn signed_in(&self, email: &str) -> Client {
        let client = self.client();
        let response = client.login(email, PASSWORD).await;
        assert_eq!(response.status(), 303, "[{}] login of {email} should redirect", self.label);
        client
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// The `cairn` binary that `cargo test` built beside this test (`target/<profile>/cairn`).
/// Tests that need a real process (to kill it, say) use it; it is built because
/// cairn-server has integration tests of its own.
pub fn cairn_binary() -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).expect("target/<profile>/deps");
    let binary = profile_dir.join("cairn");
    assert!(binary.is_file(), "{} is missing; run the tests with `cargo test --workspace`", binary.display());
    binary
}

/// A key prefix no other test uses, so suites can share one Redis.
pub fn unique_prefix() -> String {
    format!("cairn-test-{}:", uuid::Uuid::new_v4().simple())
}

/// An HTTP client that behaves like a browser: keeps cookies, does not follow redirects
/// (tests assert them), and reads the CSRF cookie to fill forms.
pub struct Client {
    pub http: reqwest::Client,
    pub jar: Arc<reqwest::cookie::Jar>,
    base: String,
}

impl Client {
    pub fn new(addr: SocketAddr) -> Client {
        let jar = Arc::new(reqwest::cookie::Jar::default());
        let http = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("HTTP client");
        Client { http, jar, base: format!("http://{addr}") }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// The value of a cookie this client holds.
    pub fn cookie(&self, name: &str) -> Option<String> {
        let header = self.jar.cookies(&self.base.parse().expect("base URL"))?;
        header.to_str().ok()?.split("; ").find_map(|pair| pair.strip_prefix(&format!("{name}=")).map(str::to_string))
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(self.url(path)).send().await.expect("GET")
    }

    /// The CSRF token, fetching a page first when the client has none yet.
    pub async fn csrf(&self) -> String {
        if let Some(token) = self.cookie("cairn_csrf") {
            return token;
        }
        self.get("/login").await;
        self.cookie("cairn_csrf").expect("the login page sets a CSRF cookie")
    }

    /// Submits a form with the right CSRF token, as a browser would.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let token = self.csrf().await;
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        all.push(("csrf_token", &token));
        self.post_form_raw(path, &all).await
    }

    /// Submits a form exactly as given (no CSRF token added).
    pub async fn post_form_raw(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        self.http.post(self.url(path)).form(fields).send().await.expect("POST form")
    }

    pub async fn login(&self, email: &str, password: &str) -> reqwest::Response {
        self.post_form("/login", &[("email", email), ("password", password)]).await
    }
}

/// Reads a JSON body, failing with the status and text when it is not JSON.
pub async fn json(response: reqwest::Response) -> serde_json::Value {
    let status = response.status();
    let text = response.text().await.expect("body");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("expected JSON (status {status}): {e}: {text}"))
}

/// Asserts an API error: status, `code`, and a non-empty message.
pub async fn assert_error(response: reqwest::Response, status: u16, code: &str) -> serde_json::Value {
    assert_eq!(response.status().as_u16(), status, "unexpected status");
    let body = json(response).await;
    assert_eq!(body["code"], code, "error code in {body}");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "error message in {body}");
    assert_eq!(body.as_object().map(|o| o.len()), Some(2), "the error shape is exactly {{code, message}}: {body}");
    body
}
