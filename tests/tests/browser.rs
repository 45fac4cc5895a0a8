//! In headless Chromium: signing in through the real form (CSRF and session cookies as a
//! browser handles them), landing pages, an admin form, signing out.

use cairn_core::accounts::Role;
use cairn_core::testing::TestDb;
use cairn_tests::browser::{self, Browser};
use cairn_tests::{TestApp, PASSWORD};
use fantoccini::Locator;

async fn sign_in(b: &Browser, app: &TestApp, email: &str) {
    b.client.goto(&app.url("/login")).await.unwrap();
    b.client.find(Locator::Css("#email")).await.unwrap().send_keys(email).await.unwrap();
    b.client.find(Locator::Css("#password")).await.unwrap().send_keys(PASSWORD).await.unwrap();
    b.client.find(Locator::Css("form[action='/login'] button[type=submit]")).await.unwrap().click().await.unwrap();
}

async fn path(b: &Browser) -> String {
    b.client.current_url().await.unwrap().path().to_string()
}

/// Waits for a navigation to land on `expected`, since a WebDriver click returns before
/// the next page has loaded.
async fn arrive(b: &Browser, expected: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let now = path(b).await;
        if now == expected {
            // The URL changes as soon as the response starts; wait for the document too.
            b.client.wait().for_element(Locator::Css("footer")).await.unwrap();
            return;
        }
        assert!(std::time::Instant::now() < deadline, "expected to arrive at {expected}, still at {now}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn people_sign_in_and_out_in_a_real_browser() {
    if !browser::enabled("browser") {
        return;
    }
    let app = TestApp::start(TestDb::sqlite().await, "sqlite", |_| {}).await;
    let org = app.institute("demo").await;
    app.user("admin@example.org", Role::Admin, None).await;
    app.user("learner@example.org", Role::Learner, Some(&org)).await;
    let b = Browser::start().await;

    // A learner signs in and lands on "My learning".
    sign_in(&b, &app, "learner@example.org").await;
    arrive(&b, "/learn").await;
    let heading = b.client.find(Locator::Css("h1")).await.unwrap().text().await.unwrap();
    assert!(heading.starts_with("Welcome"), "{heading}");
    // Sign out with the header button: back to the home page, and private pages ask to sign in.
    b.client.find(Locator::Css("form[action='/logout'] button")).await.unwrap().click().await.unwrap();
    arrive(&b, "/").await;
    b.client.goto(&app.url("/account")).await.unwrap();
    arrive(&b, "/login").await;

    // The administrator creates an institute through the form.
    sign_in(&b, &app, "admin@example.org").await;
    arrive(&b, "/admin").await;
    b.client.goto(&app.url("/admin/institutes")).await.unwrap();
    b.client.find(Locator::Css("#inst-name")).await.unwrap().send_keys("Rwanda Management Institute").await.unwrap();
    b.client.find(Locator::Css("#inst-slug")).await.unwrap().send_keys("rmi").await.unwrap();
    b.client.find(Locator::Css("form[action='/admin/institutes'] button")).await.unwrap().click().await.unwrap();
    let notice = b.client.wait().for_element(Locator::Css(".alert-ok")).await.unwrap().text().await.unwrap();
    assert!(notice.contains("Rwanda Management Institute"), "{notice}");
    assert!(cairn_core::organisations::find_by_slug(&app.state.db, "rmi").await.unwrap().is_some());

    // A wrong password shows the error in place.
    b.client.find(Locator::Css("form[action='/logout'] button")).await.unwrap().click().await.unwrap();
    arrive(&b, "/").await;
    b.client.goto(&app.url("/login")).await.unwrap();
    b.client.find(Locator::Css("#email")).await.unwrap().send_keys("admin@example.org").await.unwrap();
    b.client.find(Locator::Css("#password")).await.unwrap().send_keys("not the password").await.unwrap();
    b.client.find(Locator::Css("form[action='/login'] button[type=submit]")).await.unwrap().click().await.unwrap();
    let alert = b.client.wait().for_element(Locator::Css("[role=alert]")).await.unwrap().text().await.unwrap();
    assert!(alert.contains("wrong"), "{alert}");
    b.client.clone().close().await.unwrap();
}
