//! The accounts, tokens and institutes API: who may do what, on every engine.

use cairn_core::accounts::Role;
use cairn_tests::{assert_error, json, TestApp};
use serde_json::json;

/// An API token for `email`, created through the API from a signed-in session.
async fn token_for(app: &TestApp, email: &str) -> String {
    let client = app.signed_in(email).await;
    let csrf = client.csrf().await;
    let response = client
        .http
        .post(client.url("/api/v1/tokens"))
        .header("x-csrf-token", csrf)
        .json(&json!({ "name": "test" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "[{}] create token", app.label);
    json(response).await["secret"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn roles_are_enforced_on_accounts() {
    for app in TestApp::all("api_accounts").await {
        let org = app.institute("ghana-ipa").await;
        let other = app.institute("other-inst").await;
        app.user("admin@example.org", Role::Admin, None).await;
        app.user("manager@example.org", Role::Manager, Some(&org)).await;
        app.user("teacher@example.org", Role::Instructor, Some(&org)).await;
        app.user("learner@example.org", Role::Learner, Some(&org)).await;
        app.user("outsider@example.org", Role::Learner, Some(&other)).await;
        let http = reqwest::Client::new();
        let admin = token_for(&app, "admin@example.org").await;
        let manager = token_for(&app, "manager@example.org").await;
        let teacher = token_for(&app, "teacher@example.org").await;
        let learner = token_for(&app, "learner@example.org").await;
        let label = &app.label;

        // A learner cannot list users.
        let r = http.get(app.url("/api/v1/users")).bearer_auth(&learner).send().await.unwrap();
        assert_error(r, 403, "forbidden").await;

        // An admin sees everyone; a manager only their institute's members.
        let all = json(http.get(app.url("/api/v1/users")).bearer_auth(&admin).send().await.unwrap()).await;
        assert_eq!(all["total"], 5, "[{label}] {all}");
        let scoped = json(http.get(app.url("/api/v1/users")).bearer_auth(&manager).send().await.unwrap()).await;
        assert_eq!(scoped["total"], 3, "[{label}] the outsider is not listed: {scoped}");
        assert!(!scoped["items"].as_array().unwrap().iter().any(|u| u["email"] == "outsider@example.org"));
        let filtered =
            json(http.get(app.url("/api/v1/users?role=learner&limit=1")).bearer_auth(&admin).send().await.unwrap())
                .await;
        assert_eq!(
            (filtered["total"].as_i64(), filtered["items"].as_array().unwrap().len()),
            (Some(2), 1),
            "[{label}] {filtered}"
        );

        // An instructor cannot create an admin (nor anyone).
        let r = http
            .post(app.url("/api/v1/users"))
            .bearer_auth(&teacher)
            .json(&json!({ "email": "boss@example.org", "name": "Boss", "role": "admin" }))
            .send()
            .await
            .unwrap();
        assert_error(r, 403, "forbidden").await;
        // A manager creates a learner in their institute, not in another one, and no managers.
        let r = http.post(app.url("/api/v1/users")).bearer_auth(&manager).json(&json!({ "email": "new@example.org", "name": "New Learner", "role": "learner", "institute": "ghana-ipa" })).send().await.unwrap();
        assert_eq!(r.status(), 201, "[{label}]");
        let created = json(r).await;
        assert_eq!(created["user"]["role"], "learner");
        assert!(
            created["generated_password"].as_str().is_some_and(|p| p.len() >= 16),
            "a password is generated: {created}"
        );
        let r = http
            .post(app.url("/api/v1/users"))
            .bearer_auth(&manager)
            .json(&json!({ "email": "x@example.org", "name": "X", "role": "learner", "institute": "other-inst" }))
            .send()
            .await
            .unwrap();
        assert_error(r, 403, "forbidden").await;
        let r = http
            .post(app.url("/api/v1/users"))
            .bearer_auth(&manager)
            .json(&json!({ "email": "y@example.org", "name": "Y", "role": "manager", "institute": "ghana-ipa" }))
            .send()
            .await
            .unwrap();
        assert_error(r, 403, "forbidden").await;

        // Duplicates and bad input are refused with clear codes and change nothing.
        let r = http
            .post(app.url("/api/v1/users"))
            .bearer_auth(&admin)
            .json(&json!({ "email": "NEW@example.org", "name": "Again", "role": "learner" }))
            .send()
            .await
            .unwrap();
        assert_error(r, 409, "conflict").await;
        let r = http
            .post(app.url("/api/v1/users"))
            .bearer_auth(&admin)
            .json(&json!({ "email": "nope", "name": "Bad", "role": "learner" }))
            .send()
            .await
            .unwrap();
        let body = assert_error(r, 422, "invalid_input").await;
        assert!(body["message"].as_str().unwrap().contains("email"), "the message names the field: {body}");
        let r = http
            .post(app.url("/api/v1/users"))
            .bearer_auth(&admin)
            .json(&json!({ "email": "p@example.org", "name": "P", "role": "learner", "password": "short" }))
            .send()
            .await
            .unwrap();
        assert_error(r, 422, "invalid_input").await;
        let after = json(http.get(app.url("/api/v1/users")).bearer_auth(&admin).send().await.unwrap()).await;
        assert_eq!(after["total"], 6, "[{label}] only the one valid account was added");

        // Everyone can ask who they are; visibility of single accounts follows the scope.
        let me = json(http.get(app.url("/api/v1/me")).bearer_auth(&learner).send().await.unwrap()).await;
        assert_eq!(me["user"]["email"], "learner@example.org");
        assert_eq!(me["institutes"][0]["slug"], "ghana-ipa");
        let outsider_id =
            all["items"].as_array().unwrap().iter().find(|u| u["email"] == "outsider@example.org").unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string();
        let r = http.get(app.url(&format!("/api/v1/users/{outsider_id}"))).bearer_auth(&manager).send().await.unwrap();
        assert_error(r, 404, "not_found").await;
        let r = http.get(app.url(&format!("/api/v1/users/{outsider_id}"))).bearer_auth(&admin).send().await.unwrap();
        assert_eq!(r.status(), 200);
    }
}

#[tokio::test]
async fn tokens_can_be_listed_and_revoked() {
    for app in TestApp::all("api_accounts").await {
        app.user("t@example.org", Role::Learner, None).await;
        app.user("u@example.org", Role::Learner, None).await;
        let token = token_for(&app, "t@example.org").await;
        let other = token_for(&app, "u@example.org").await;
        let http = reqwest::Client::new();
        let list = json(http.get(app.url("/api/v1/tokens")).bearer_auth(&token).send().await.unwrap()).await;
        let id = list[0]["id"].as_str().unwrap().to_string();
        assert!(list[0].get("secret").is_none(), "secrets are never listed");

        // Another user cannot revoke it.
        let r = http.delete(app.url(&format!("/api/v1/tokens/{id}"))).bearer_auth(&other).send().await.unwrap();
        assert_error(r, 404, "not_found").await;
        let r = http.delete(app.url(&format!("/api/v1/tokens/{id}"))).bearer_auth(&token).send().await.unwrap();
        assert_eq!(r.status(), 204, "[{}] revoke", app.label);

        // A revoked token is refused, with a message that says why.
        let r = http.get(app.url("/api/v1/me")).bearer_auth(&token).send().await.unwrap();
        let body = assert_error(r, 401, "invalid_token").await;
        assert!(body["message"].as_str().unwrap().contains("revoked"));
        // No credentials at all.
        let r = http.get(app.url("/api/v1/me")).send().await.unwrap();
        assert_error(r, 401, "unauthorized").await;
        let r = http.get(app.url("/api/v1/me")).bearer_auth("cairn_made-up").send().await.unwrap();
        assert_error(r, 401, "invalid_token").await;
    }
}

#[tokio::test]
async fn institutes_and_members() {
    for app in TestApp::all("api_accounts").await {
        let org = app.institute("ena").await;
        app.user("admin@example.org", Role::Admin, None).await;
        app.user("manager@example.org", Role::Manager, Some(&org)).await;
        app.user("learner@example.org", Role::Learner, Some(&org)).await;
        app.user("free@example.org", Role::Learner, None).await;
        app.user("othermanager@example.org", Role::Manager, None).await;
        let admin = token_for(&app, "admin@example.org").await;
        let manager = token_for(&app, "manager@example.org").await;
        let learner = token_for(&app, "learner@example.org").await;
        let http = reqwest::Client::new();

        let r = http
            .post(app.url("/api/v1/institutes"))
            .bearer_auth(&manager)
            .json(&json!({ "slug": "mine", "name": "Mine" }))
            .send()
            .await
            .unwrap();
        assert_error(r, 403, "forbidden").await;
        let r = http
            .post(app.url("/api/v1/institutes"))
            .bearer_auth(&admin)
            .json(&json!({ "slug": "Bad Slug", "name": "X" }))
            .send()
            .await
            .unwrap();
        assert_error(r, 422, "invalid_input").await;
        let r = http
            .post(app.url("/api/v1/institutes"))
            .bearer_auth(&admin)
            .json(&json!({ "slug": "kenya-sg", "name": "Kenya School of Government" }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let r = http
            .post(app.url("/api/v1/institutes"))
            .bearer_auth(&admin)
            .json(&json!({ "slug": "kenya-sg", "name": "Again" }))
            .send()
            .await
            .unwrap();
        assert_error(r, 409, "conflict").await;

        let list = json(http.get(app.url("/api/v1/institutes")).bearer_auth(&learner).send().await.unwrap()).await;
        assert_eq!(list.as_array().unwrap().len(), 2);
        let one = json(http.get(app.url("/api/v1/institutes/ena")).bearer_auth(&learner).send().await.unwrap()).await;
        assert_eq!(one["member_count"], 2);
        let r = http.get(app.url("/api/v1/institutes/missing")).bearer_auth(&learner).send().await.unwrap();
        assert_error(r, 404, "not_found").await;

        // Members: staff see them, learners do not; managers add learners, not managers.
        let r = http.get(app.url("/api/v1/institutes/ena/members")).bearer_auth(&learner).send().await.unwrap();
        assert_error(r, 403, "forbidden").await;
        let r = http
            .post(app.url("/api/v1/institutes/ena/members"))
            .bearer_auth(&manager)
            .json(&json!({ "email": "free@example.org" }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);
        let r = http
            .post(app.url("/api/v1/institutes/ena/members"))
            .bearer_auth(&manager)
            .json(&json!({ "email": "othermanager@example.org" }))
            .send()
            .await
            .unwrap();
        assert_error(r, 403, "forbidden").await;
        let r = http
            .post(app.url("/api/v1/institutes/ena/members"))
            .bearer_auth(&learner)
            .json(&json!({ "email": "free@example.org" }))
            .send()
            .await
            .unwrap();
        assert_error(r, 403, "forbidden").await;
        let members =
            json(http.get(app.url("/api/v1/institutes/ena/members")).bearer_auth(&manager).send().await.unwrap()).await;
        assert_eq!(members["total"], 3, "[{}] {members}", app.label);
    }
}
