//! HTTP behaviour: one error shape for malformed and oversized requests, login rate
//! limits, health and readiness, request ids and security headers.

use cairn_core::accounts::Role;
use cairn_core::testing::TestDb;
use cairn_tests::{assert_error, json, TestApp, PASSWORD};

async fn admin_token(app: &TestApp) -> String {
    app.user("admin@example.org", Role::Admin, None).await;
    cairn_core::accounts::tokens::create(&app.state.db, &app.user_id("admin@example.org").await, "t")
        .await
        .unwrap()
        .secret
}

trait UserId {
    async fn user_id(&self, email: &str) -> String;
}

impl UserId for TestApp {
    async fn user_id(&self, email: &str) -> String {
        cairn_core::accounts::find_by_email(&self.state.db, email).await.unwrap().unwrap().id
    }
}

#[tokio::test]
async fn malformed_and_oversized_requests_get_the_error_shape() {
    let app = TestApp::start(TestDb::sqlite().await, "sqlite", |c| c.max_body_bytes = 4096).await;
    let token = admin_token(&app).await;
    let http = reqwest::Client::new();
    let post = |body: &'static str| {
        http.post(app.url("/api/v1/institutes"))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(body)
    };

    assert_error(post("{ not json").send().await.unwrap(), 400, "bad_request").await;
    assert_error(post("{\"slug\": 5}").send().await.unwrap(), 400, "bad_request").await;
    assert_error(post("").send().await.unwrap(), 400, "bad_request").await;
    let r = http
        .post(app.url("/api/v1/institutes"))
        .bearer_auth(&token)
        .header("content-type", "text/plain")
        .body("slug=x")
        .send()
        .await
        .unwrap();
    assert_error(r, 415, "unsupported_media_type").await;

    // Over the limit, declared by Content-Length ...
    let big = format!("{{\"slug\":\"big\",\"name\":\"{}\"}}", "x".repeat(10_000));
    let r = http
        .post(app.url("/api/v1/institutes"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(big.clone())
        .send()
        .await
        .unwrap();
    let body = assert_error(r, 413, "payload_too_large").await;
    assert!(body["message"].as_str().unwrap().contains("4096"), "the message states the limit: {body}");
    // ... and streamed without one (chunked).
    let stream = futures_stream(big.into_bytes());
    let r = http
        .post(app.url("/api/v1/institutes"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .unwrap();
    assert_error(r, 413, "payload_too_large").await;
    // A page form over the limit gets the friendly page with the same status.
    let r = app.client().http.post(app.url("/login")).form(&[("email", "x".repeat(10_000))]).send().await.unwrap();
    assert_eq!(r.status(), 413);
    assert!(r.text().await.unwrap().contains("Too large"));

    // Unknown API paths and methods answer in the same shape.
    assert_error(http.get(app.url("/api/v1/nothing")).bearer_auth(&token).send().await.unwrap(), 404, "not_found")
        .await;
    assert_error(http.put(app.url("/api/v1/me")).bearer_auth(&token).send().await.unwrap(), 405, "method_not_allowed")
        .await;
    // Nothing was created by any of it.
    assert_eq!(cairn_core::organisations::count(&app.state.db).await.unwrap(), 0);
}

/// A body in two chunks with no Content-Length.
fn futures_stream(bytes: Vec<u8>) -> impl futures_core::Stream<Item = Result<Vec<u8>, std::io::Error>> {
    let half = bytes.len() / 2;
    let (a, b) = (bytes[..half].to_vec(), bytes[half..].to_vec());
    tokio_stream::iter(vec![Ok(a), Ok(b)])
}

#[tokio::test]
async fn login_attempts_are_rate_limited() {
    for app in TestApp::all("http").await {
        // The default test configuration allows 10 attempts per account and address.
        app.user("ama@example.org", Role::Learner, None).await;
        let client = app.client();
        for attempt in 1..=10 {
            assert_eq!(
                client.login("ama@example.org", "wrong").await.status(),
                401,
                "[{}] attempt {attempt}",
                app.label
            );
        }
        let limited = client.login("ama@example.org", PASSWORD).await;
        assert_eq!(limited.status(), 429, "[{}] the 11th attempt is refused even with the right password", app.label);
        let retry_after: u64 = limited.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!(retry_after > 0 && retry_after <= 300);
        assert!(limited.text().await.unwrap().contains("Please wait"));
        assert!(client.cookie("cairn_session").is_none());
        // Another account from the same address still has its own allowance.
        app.user("kofi@example.org", Role::Learner, None).await;
        assert_eq!(client.login("kofi@example.org", PASSWORD).await.status(), 303);
    }
}

#[tokio::test]
async fn health_readiness_and_headers() {
    for app in TestApp::all("http").await {
        let client = app.client();
        let health = client.get("/healthz").await;
        assert_eq!(health.status(), 200);
        let id = health.headers()["x-request-id"].to_str().unwrap().to_string();
        assert_eq!(id.len(), 32, "a request id is generated");
        let ready = client.get("/readyz").await;
        assert_eq!(ready.status(), 200, "[{}]", app.label);
        let body = json(ready).await;
        assert_eq!(body["status"], "ready");
        assert_eq!(body["database"]["status"], "ok");
        // A proxy's request id is kept.
        let r = client.http.get(app.url("/healthz")).header("x-request-id", "edge-42").send().await.unwrap();
        assert_eq!(r.headers()["x-request-id"], "edge-42");
        let page = client.get("/login").await;
        assert_eq!(page.headers()["x-frame-options"], "SAMEORIGIN");
        assert_eq!(page.headers()["x-content-type-options"], "nosniff");
    }
}

#[tokio::test]
async fn redis_down_is_reported_not_fatal() {
    // Port 1 on loopback refuses connections: Redis is "down" from the start and stays so.
    let app = TestApp::start(TestDb::sqlite().await, "sqlite+dead-redis", |c| {
        c.redis_url = Some("redis://127.0.0.1:1".into())
    })
    .await;
    let client = app.client();
    assert_eq!(client.get("/healthz").await.status(), 200, "liveness does not depend on Redis");
    let ready = client.get("/readyz").await;
    assert_eq!(ready.status(), 503);
    let body = json(ready).await;
    assert_eq!(body["redis"]["status"], "error");
    assert!(body["redis"]["error"].as_str().unwrap().contains("Redis"), "{body}");
    // Signing in needs Redis: a clear 503 page, and the server keeps serving.
    app.user("ama@example.org", Role::Learner, None).await;
    let response = client.login("ama@example.org", PASSWORD).await;
    assert_eq!(response.status(), 503);
    assert!(response.text().await.unwrap().contains("Temporarily unavailable"));
    assert_eq!(client.get("/healthz").await.status(), 200);
}

/// A private `redis-server` on a free port, stopped on drop.
struct PrivateRedis {
    child: std::process::Child,
    port: u16,
}

impl PrivateRedis {
    fn start(port: u16) -> PrivateRedis {
        let child = std::process::Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server must be installed for the Redis suite");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(std::time::Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        PrivateRedis { child, port }
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn a_redis_outage_at_run_time_is_survived() {
    if cairn_tests::redis_url().is_none() {
        cairn_tests::note_redis_skipped("http: Redis outage");
        return;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let redis = PrivateRedis::start(port);
    let url = format!("redis://127.0.0.1:{}", redis.port);
    let app = TestApp::start(TestDb::sqlite().await, "sqlite+private-redis", |c| c.redis_url = Some(url)).await;
    app.user("ama@example.org", Role::Learner, None).await;
    let client = app.signed_in("ama@example.org").await;
    assert_eq!(client.get("/account").await.status(), 200);

    // Redis dies while Cairn runs.
    drop(redis);
    let page = client.get("/account").await;
    assert_eq!(page.status(), 503, "pages that need the session say so");
    assert!(page.text().await.unwrap().contains("Temporarily unavailable"));
    let ready = client.get("/readyz").await;
    assert_eq!(ready.status(), 503);
    assert_eq!(json(ready).await["redis"]["status"], "error");
    assert_eq!(client.get("/healthz").await.status(), 200, "the process is alive");

    // Redis comes back (empty, as it keeps nothing): Cairn reconnects by itself.
    let _redis = PrivateRedis::start(port);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        if client.get("/readyz").await.status() == 200 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "Cairn did not reconnect to Redis");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(client.get("/account").await.status(), 303, "the old session is gone with Redis's data; sign in again");
    assert_eq!(client.login("ama@example.org", PASSWORD).await.status(), 303);
    assert_eq!(client.get("/account").await.status(), 200);
}
