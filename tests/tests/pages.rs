//! The pages: sign-in and landing pages per role, CSRF refusal, admin-only pages, friendly errors.

use cairn_core::accounts::Role;
use cairn_tests::{TestApp, PASSWORD};

fn location(response: &reqwest::Response) -> String {
    response.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or("").to_string()
}

#[tokio::test]
async fn each_role_lands_on_its_own_page() {
    for app in TestApp::all("pages").await {
        let org = app.institute("demo").await;
        let cases = [
            ("admin@example.org", Role::Admin, "/admin", "Administration"),
            ("manager@example.org", Role::Manager, "/institute", "My institute"),
            ("teacher@example.org", Role::Instructor, "/teach", "Teaching"),
            ("learner@example.org", Role::Learner, "/learn", "My courses"),
        ];
        for (email, role, landing, heading) in cases {
            app.user(email, role, Some(&org)).await;
            let client = app.client();
            let response = client.login(email, PASSWORD).await;
            assert_eq!(response.status(), 303, "[{}] {email}", app.label);
            assert_eq!(location(&response), landing, "[{}] {email} lands on {landing}", app.label);
            let cookie = response
                .headers()
                .get_all("set-cookie")
                .iter()
                .map(|v| v.to_str().unwrap().to_string())
                .find(|c| c.starts_with("cairn_session="))
                .expect("a session cookie");
            assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "session cookie flags: {cookie}");
            let page = client.get(landing).await;
            assert_eq!(page.status(), 200);
            let html = page.text().await.unwrap();
            assert!(html.contains(heading), "[{}] {landing} shows {heading:?}", app.label);
            assert!(html.contains("<main id=\"main\""), "pages have a main landmark");
            // The home page sends signed-in users to their landing page too.
            assert_eq!(location(&client.get("/").await), landing);
        }
        // The manager's page lists the institute's members.
        let manager = app.signed_in("manager@example.org").await;
        let html = manager.get("/institute").await.text().await.unwrap();
        assert!(html.contains("learner@example.org") && html.contains("teacher@example.org"), "{html}");
        // The instructor follows the institute's learners.
        let teacher = app.signed_in("teacher@example.org").await;
        let html = teacher.get("/teach").await.text().await.unwrap();
        assert!(html.contains("learner@example.org") && html.contains("1 learners"), "{html}");
    }
}

#[tokio::test]
async fn login_failures_and_logout() {
    for app in TestApp::all("pages").await {
        app.user("ama@example.org", Role::Learner, None).await;
        let client = app.client();
        let response = client.login("ama@example.org", "wrong password").await;
        assert_eq!(response.status(), 401);
        let html = response.text().await.unwrap();
        assert!(html.contains("The e-mail or password is wrong"), "{html}");
        assert!(html.contains("value=\"ama@example.org\""), "the e-mail is kept in the form");
        assert!(client.cookie("cairn_session").is_none());

        // Anonymous visitors are sent to the login page and brought back.
        let response = client.get("/account/tokens").await;
        assert_eq!(response.status(), 303);
        assert_eq!(location(&response), "/login?next=/account/tokens");
        let response = client
            .post_form("/login", &[("email", "ama@example.org"), ("password", PASSWORD), ("next", "/account/tokens")])
            .await;
        assert_eq!(location(&response), "/account/tokens");
        // ... but never to another site.
        let response = client
            .post_form("/login", &[("email", "ama@example.org"), ("password", PASSWORD), ("next", "//evil.example/")])
            .await;
        assert_eq!(location(&response), "/learn");

        assert_eq!(client.get("/account").await.status(), 200);
        let response = client.post_form("/logout", &[]).await;
        assert_eq!(response.status(), 303);
        assert_eq!(client.get("/account").await.status(), 303, "signed out");
    }
}

#[tokio::test]
async fn forms_without_a_valid_csrf_token_are_refused() {
    for app in TestApp::all("pages").await {
        app.user("admin@example.org", Role::Admin, None).await;
        // The login form itself.
        let anonymous = app.client();
        anonymous.get("/login").await;
        let response =
            anonymous.post_form_raw("/login", &[("email", "admin@example.org"), ("password", PASSWORD)]).await;
        assert_eq!(response.status(), 403, "[{}] login without a token", app.label);
        assert!(response.text().await.unwrap().contains("CSRF"));
        let response = anonymous
            .post_form_raw(
                "/login",
                &[("email", "admin@example.org"), ("password", PASSWORD), ("csrf_token", "forged")],
            )
            .await;
        assert_eq!(response.status(), 403, "login with a forged token");
        assert!(anonymous.cookie("cairn_session").is_none());

        // Every form of a signed-in admin, with no token and with a wrong one.
        let admin = app.signed_in("admin@example.org").await;
        let forms: [(&str, Vec<(&str, &str)>); 6] = [
            ("/admin/users", vec![("email", "x@example.org"), ("name", "X"), ("role", "admin")]),
            ("/admin/institutes", vec![("slug", "forged"), ("name", "Forged")]),
            (
                "/account/password",
                vec![
                    ("current_password", PASSWORD),
                    ("new_password", "pwned pwned"),
                    ("confirm_password", "pwned pwned"),
                ],
            ),
            ("/account/tokens", vec![("name", "forged")]),
            ("/institute/any/members", vec![("email", "y@example.org"), ("name", "Y"), ("role", "learner")]),
            ("/logout", vec![]),
        ];
        for (path, fields) in &forms {
            let response = admin.post_form_raw(path, fields).await;
            assert_eq!(response.status(), 403, "[{}] {path} without a token", app.label);
            let mut forged = fields.clone();
            forged.push(("csrf_token", "forged-token-value"));
            assert_eq!(admin.post_form_raw(path, &forged).await.status(), 403, "{path} with a forged token");
        }
        // Nothing was changed: no account, institute or token, same password, still signed in.
        let users = cairn_core::accounts::count_users(&app.state.db).await.unwrap();
        assert_eq!(users, 1);
        assert_eq!(cairn_core::organisations::count(&app.state.db).await.unwrap(), 0);
        assert!(cairn_core::accounts::authenticate(&app.state.db, "admin@example.org", PASSWORD).await.is_ok());
        assert_eq!(admin.get("/admin").await.status(), 200);

        // The API refuses cookie-authenticated writes without the X-CSRF-Token header.
        let response = admin
            .http
            .post(admin.url("/api/v1/tokens"))
            .json(&serde_json::json!({ "name": "x" }))
            .send()
            .await
            .unwrap();
        cairn_tests::assert_error(response, 403, "forbidden").await;
    }
}

#[tokio::test]
async fn admin_pages_create_users_and_institutes() {
    for app in TestApp::all("pages").await {
        app.user("admin@example.org", Role::Admin, None).await;
        app.user("learner@example.org", Role::Learner, None).await;
        let admin = app.signed_in("admin@example.org").await;
        let response =
            admin.post_form("/admin/institutes", &[("slug", "kenya-sg"), ("name", "Kenya School of Government")]).await;
        assert_eq!(response.status(), 200);
        assert!(response.text().await.unwrap().contains("Kenya School of Government"));
        let response = admin.post_form("/admin/institutes", &[("slug", "Not A Slug"), ("name", "Bad")]).await;
        assert_eq!(response.status(), 422);
        assert!(response.text().await.unwrap().contains("lower-case letters"), "the error explains the rule");

        let response = admin
            .post_form(
                "/admin/users",
                &[
                    ("email", "efua@example.org"),
                    ("name", "Efua Owusu"),
                    ("role", "instructor"),
                    ("institute", "kenya-sg"),
                ],
            )
            .await;
        assert_eq!(response.status(), 200);
        let html = response.text().await.unwrap();
        assert!(html.contains("Account created for Efua Owusu"));
        // The one-time password is shown and works.
        let password = html
            .split("<dt>Password</dt><dd><code>")
            .nth(1)
            .and_then(|s| s.split("</code>").next())
            .expect("the generated password is shown")
            .to_string();
        let efua = app.client();
        assert_eq!(efua.login("efua@example.org", &password).await.status(), 303);
        let response = admin
            .post_form("/admin/users", &[("email", "EFUA@example.org"), ("name", "Again"), ("role", "learner")])
            .await;
        assert_eq!(response.status(), 422);
        assert!(response.text().await.unwrap().contains("already exists"));

        let search = admin.get("/admin/users?q=owusu").await.text().await.unwrap();
        assert!(search.contains("efua@example.org") && !search.contains("learner@example.org"));

        // Learners may not open administration pages.
        let learner = app.signed_in("learner@example.org").await;
        for path in ["/admin", "/admin/users", "/admin/institutes", "/institute", "/teach"] {
            let response = learner.get(path).await;
            assert_eq!(response.status(), 403, "[{}] {path}", app.label);
            assert!(response.text().await.unwrap().contains("Not allowed"));
        }
    }
}

#[tokio::test]
async fn managers_add_members_and_tokens_work_from_pages() {
    for app in TestApp::all("pages").await {
        let org = app.institute("ghana-ipa").await;
        let other = app.institute("other").await;
        app.user("manager@example.org", Role::Manager, Some(&org)).await;
        app.user("existing@example.org", Role::Learner, Some(&other)).await;
        let manager = app.signed_in("manager@example.org").await;
        let response = manager
            .post_form(
                "/institute/ghana-ipa/members",
                &[("email", "kofi@example.org"), ("name", "Kofi Boateng"), ("role", "learner")],
            )
            .await;
        assert_eq!(response.status(), 200);
        assert!(response.text().await.unwrap().contains("Account created for Kofi Boateng"));
        let response = manager
            .post_form(
                "/institute/ghana-ipa/members",
                &[("email", "existing@example.org"), ("name", "ignored"), ("role", "learner")],
            )
            .await;
        assert!(response.text().await.unwrap().contains("is now a member"));
        let response = manager
            .post_form("/institute/other/members", &[("email", "z@example.org"), ("name", "Z"), ("role", "learner")])
            .await;
        assert_eq!(response.status(), 403, "not their institute");

        // Tokens from the account page.
        let response = manager.post_form("/account/tokens", &[("name", "export script")]).await;
        let html = response.text().await.unwrap();
        let secret = html
            .split("data-testid=\"token-secret\">")
            .nth(1)
            .and_then(|s| s.split('<').next())
            .expect("secret shown once")
            .to_string();
        let me = reqwest::Client::new().get(app.url("/api/v1/me")).bearer_auth(&secret).send().await.unwrap();
        assert_eq!(me.status(), 200);
        assert!(
            !manager.get("/account/tokens").await.text().await.unwrap().contains(&secret),
            "the secret is never shown again"
        );
    }
}

#[tokio::test]
async fn unknown_pages_get_a_friendly_404() {
    let app = TestApp::start(cairn_core::testing::TestDb::sqlite().await, "sqlite", |_| {}).await;
    let response = app.client().get("/no/such/page").await;
    assert_eq!(response.status(), 404);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let html = response.text().await.unwrap();
    assert!(html.contains("Page not found") && html.contains("Go to the home page"), "{html}");
    let css = app.client().get("/static/css/cairn.css").await;
    assert_eq!(css.status(), 200);
    assert!(css.headers()["content-type"].to_str().unwrap().starts_with("text/css"));
}
