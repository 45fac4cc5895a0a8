//! The player over HTTP: launching, committing (validated, idempotent), resuming, new
//! attempts, assets, progress, SCOs that never call the API (the no-API rule), and the
//! instructor's reset. (What instructors read of attempts: instructor_view.rs.)

use cairn_core::accounts::Role;
use cairn_core::tracking;
use cairn_tests::player::{class, commit, import, launch, Class};
use cairn_tests::{json, Client, TestApp};
use serde_json::{json, Value};

#[tokio::test]
async fn a_2004_sco_launches_commits_resumes_and_starts_over() {
    for app in TestApp::all("player").await {
        let Class { org, teacher, slug, learner, .. } =
            class(&app, "valid/scorm2004_golf_RuntimeBasicCalls_SCORM20043rdEdition.zip", "Golf 2004").await;

        let (html, config) = launch(&learner, &format!("/courses/{slug}/play")).await;
        assert_eq!(config["version"], "2004");
        assert_eq!(config["launch"]["entry"], "ab-initio");
        assert_eq!(config["seq"], 0);
        for marker in [
            "data-nav=\"previous\"",
            "data-nav=\"continue\"",
            "data-nav=\"exit\"",
            "data-nav=\"suspend-all\"",
            "data-item=\"",
        ] {
            assert!(html.contains(marker), "[{}] the player has {marker}", app.label);
        }
        let api = html.find("scorm-player.js").unwrap();
        let frame = html.find("<iframe").unwrap();
        assert!(api < frame, "the API objects exist before the content frame loads");
        let src = html
            .split("<iframe")
            .nth(1)
            .and_then(|s| s.split("src=\"").nth(1))
            .and_then(|s| s.split('"').next())
            .unwrap();
        assert_eq!(learner.get(src).await.status(), 200, "the content frame loads: {src}");

        // A suspended session: bookmark and suspend data are kept, time counts once.
        let suspend = json!({
            "cmi.location": "page-3", "cmi.suspend_data": "visited=1,2,3", "cmi.completion_status": "incomplete",
            "cmi.exit": "suspend", "cmi.session_time": "PT1M30S",
        });
        let r = commit(&learner, &config, 1, suspend.clone(), true).await;
        assert_eq!(r.status(), 200, "[{}]", app.label);
        assert_eq!(json(r).await["status"], "applied");
        let again = json(commit(&learner, &config, 1, suspend, true).await).await;
        assert_eq!(again["status"], "already_applied", "a retried commit is applied once");
        // A value the rules refuse: the whole batch is refused with the reason.
        let r =
            commit(&learner, &config, 2, json!({ "cmi.location": "page-9", "cmi.completion_status": "nearly" }), false)
                .await;
        assert_eq!(r.status(), 422);
        let refused = json(r).await;
        assert_eq!(
            (refused["code"].as_str(), refused["element"].as_str(), refused["scorm_error"].as_u64()),
            (Some("invalid_element"), Some("cmi.completion_status"), Some(406)),
            "{refused}"
        );
        // Read-only elements cannot be written by a crafted request either.
        let r = commit(&learner, &config, 2, json!({ "cmi.learner_id": "someone-else" }), false).await;
        assert_eq!(json(r).await["scorm_error"], 404);

        let (_, resumed) = launch(&learner, &format!("/courses/{slug}/play")).await;
        assert_eq!(resumed["attempt_id"], config["attempt_id"], "the suspended attempt resumes");
        assert_eq!(resumed["launch"]["entry"], "resume");
        assert_eq!(resumed["launch"]["suspended"]["cmi.location"], "page-3", "the refused batch changed nothing");
        assert_eq!(resumed["launch"]["suspended"]["cmi.suspend_data"], "visited=1,2,3");
        assert_eq!(resumed["seq"], 1);
        let attempt = tracking::find(&app.state.db, resumed["attempt_id"].as_str().unwrap()).await.unwrap().unwrap();
        assert_eq!(attempt.total_time_seconds, 90.0);

        // Finishing normally, passed: the next launch starts attempt 2 (SCORM 2004 rule).
        let done = json!({
            "cmi.completion_status": "completed", "cmi.success_status": "passed", "cmi.score.scaled": "0.85",
            "cmi.score.raw": "85", "cmi.score.min": "0", "cmi.score.max": "100", "cmi.exit": "normal", "cmi.session_time": "PT30S",
        });
        assert_eq!(commit(&learner, &resumed, 2, done, true).await.status(), 200);
        let attempt = tracking::find(&app.state.db, resumed["attempt_id"].as_str().unwrap()).await.unwrap().unwrap();
        assert_eq!(
            (attempt.completion.as_str(), attempt.success.as_str(), attempt.score_scaled),
            ("completed", "passed", Some(0.85))
        );
        assert_eq!(attempt.total_time_seconds, 120.0, "session times add up once per session");
        let (html, fresh) = launch(&learner, &format!("/courses/{slug}/play")).await;
        assert_ne!(fresh["attempt_id"], resumed["attempt_id"]);
        assert_eq!(fresh["launch"]["entry"], "ab-initio");
        assert!(html.contains("1 of 1 done") || html.contains("0 of 1 done"), "progress is shown");

        // Another learner cannot write into this attempt.
        app.user("other@example.org", Role::Learner, Some(&org)).await;
        let other = app.signed_in("other@example.org").await;
        assert_eq!(commit(&other, &fresh, 1, json!({ "cmi.location": "x" }), false).await.status(), 404);

        // The instructor follows the learner and can reset an attempt.
        let page = teacher.get(&format!("/courses/{slug}/learners")).await.text().await.unwrap();
        assert!(page.contains("learner@example.org") && page.contains("passed"), "{page}");
        let first = resumed["attempt_id"].as_str().unwrap();
        let detail = teacher.get(&format!("/attempts/{first}")).await.text().await.unwrap();
        assert!(
            detail.contains("cmi.suspend_data") && detail.contains("visited&#x3D;1,2,3"),
            "raw elements are shown (escaped): {detail}"
        );
        assert_eq!(
            learner.get(&format!("/courses/{slug}/learners")).await.status(),
            403,
            "learners do not see the roster"
        );
        let second = fresh["attempt_id"].as_str().unwrap();
        assert_eq!(teacher.post_form(&format!("/attempts/{second}/reset"), &[]).await.status(), 303);
        assert!(tracking::find(&app.state.db, second).await.unwrap().unwrap().voided_at.is_some());
        let r = commit(&learner, &fresh, 1, json!({ "cmi.location": "x" }), false).await;
        assert_eq!(r.status(), 410, "commits to a reset attempt say so");
        let (_, after_reset) = launch(&learner, &format!("/courses/{slug}/play")).await;
        assert_ne!(after_reset["attempt_id"], fresh["attempt_id"]);
    }
}

#[tokio::test]
async fn a_12_sco_follows_lmsfinish_rules_and_a_closed_tab_loses_nothing() {
    for app in TestApp::all("player").await {
        let Class { slug, learner, .. } =
            class(&app, "valid/scorm12_golf_RuntimeBasicCalls_SCORM12.zip", "Golf 1.2").await;
        let (_, config) = launch(&learner, &format!("/courses/{slug}/play")).await;
        assert_eq!(config["version"], "1.2");
        let opened = tracking::find(&app.state.db, config["attempt_id"].as_str().unwrap()).await.unwrap().unwrap();
        assert_eq!(opened.completion, "not attempted", "opening an item does not finish it");

        // The tab closes after a commit, without LMSFinish: the data is kept and resumes.
        let r = commit(
            &learner,
            &config,
            1,
            json!({ "cmi.core.lesson_location": "5", "cmi.suspend_data": "abc", "cmi.core.session_time": "00:02:00" }),
            false,
        )
        .await;
        assert_eq!(r.status(), 200);
        let (_, resumed) = launch(&learner, &format!("/courses/{slug}/play")).await;
        assert_eq!(resumed["attempt_id"], config["attempt_id"]);
        assert_eq!(resumed["launch"]["entry"], "resume");
        assert_eq!(resumed["launch"]["suspended"]["cmi.core.lesson_location"], "5");
        let attempt = tracking::find(&app.state.db, config["attempt_id"].as_str().unwrap()).await.unwrap().unwrap();
        assert_eq!(attempt.total_time_seconds, 120.0, "the unterminated session's time counts once");

        // LMSFinish with no status set: "not attempted" becomes completed.
        assert_eq!(
            commit(&learner, &resumed, 2, json!({ "cmi.core.session_time": "00:00:10" }), true).await.status(),
            200
        );
        let attempt = tracking::find(&app.state.db, config["attempt_id"].as_str().unwrap()).await.unwrap().unwrap();
        assert_eq!(attempt.completion, "completed", "[{}]", app.label);
        assert_eq!(attempt.total_time_seconds, 130.0);
        // SCORM 1.2 keeps the same attempt on the next launch.
        let (_, again) = launch(&learner, &format!("/courses/{slug}/play")).await;
        assert_eq!(again["attempt_id"], config["attempt_id"]);
    }
}

#[tokio::test]
async fn assets_complete_when_viewed_and_progress_never_passes_100() {
    for app in TestApp::all("player").await {
        let Class { slug, learner, .. } =
            class(&app, "valid/scorm12_golf_ContentPackagingOneFilePerSCO_SCORM12_assets.zip", "Assets").await;
        let (html, _) = launch(&learner, &format!("/courses/{slug}/play")).await;
        let items: Vec<String> =
            html.split("data-item=\"").skip(1).filter_map(|s| s.split('"').next()).map(str::to_string).collect();
        assert_eq!(items.len(), 18, "every launchable item is in the outline");
        for (i, item) in items.iter().enumerate() {
            let (page, _) = launch(&learner, &format!("/courses/{slug}/play?item={item}")).await;
            let shown = format!("{} of 18 done", i + 1);
            assert!(page.contains(&shown), "[{}] after viewing {} assets: {shown}", app.label, i + 1);
        }
        // Viewing again changes nothing and never goes past 100%.
        let (page, _) = launch(&learner, &format!("/courses/{slug}/play?item={}", items[0])).await;
        assert!(page.contains("18 of 18 done") && page.contains("value=\"100\""));
        assert_eq!(learner.get(&format!("/courses/{slug}/play?item=nope")).await.status(), 404);
    }
}

#[tokio::test]
async fn the_launch_token_delivers_commits_without_a_login_session() {
    for app in TestApp::all("player").await {
        let Class { org, slug, learner, .. } =
            class(&app, "valid/scorm2004_golf_RuntimeBasicCalls_SCORM20043rdEdition.zip", "Golf").await;
        let (_, config) = launch(&learner, &format!("/courses/{slug}/play")).await;
        let token = config["launch_token"].as_str().expect("the player gets a launch token").to_string();
        assert!(token.len() >= 40);
        // A bare client: no cookies at all, as after the login session was lost.
        let bare = reqwest::Client::new();
        let url = app.url(config["commit_url"].as_str().unwrap());
        let body = json!({ "seq": 1, "elements": { "cmi.location": "p4" }, "terminate": false });
        let r = bare.post(&url).header("x-cairn-launch", &token).json(&body).send().await.unwrap();
        assert_eq!(r.status(), 200, "[{}]", app.label);
        let r = bare
            .post(&url)
            .header("x-cairn-launch", "wrong-token-wrong-token-wrong-token-wrong-t")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "a wrong token finds nothing");
        assert_eq!(bare.post(&url).json(&body).send().await.unwrap().status(), 401, "no credentials at all");
        // The token is for this attempt only.
        app.user("other@example.org", Role::Learner, Some(&org)).await;
        app.enrol(&slug, "other@example.org").await;
        let other = app.signed_in("other@example.org").await;
        let (_, other_config) = launch(&other, &format!("/courses/{slug}/play")).await;
        let r = bare
            .post(app.url(other_config["commit_url"].as_str().unwrap()))
            .header("x-cairn-launch", &token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
        let r = bare.get(app.url("/api/v1/me")).header("x-cairn-launch", &token).send().await.unwrap();
        assert_eq!(r.status(), 401, "the launch token grants nothing else");
        let attempt = tracking::find(&app.state.db, config["attempt_id"].as_str().unwrap()).await.unwrap().unwrap();
        assert_eq!(attempt.location.as_deref(), Some("p4"));
    }
}

/// Posts the player's report that a SCO was shown without the API, with the launch token
/// only (as the page does while it goes away), and returns the status and the body.
async fn viewed(app: &TestApp, config: &Value) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(app.url(config["viewed_url"].as_str().expect("the player gets the viewed address")))
        .header("x-cairn-launch", config["launch_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), json(r).await)
}

#[tokio::test]
async fn a_sco_that_never_calls_the_api_completes_when_left_and_others_are_untouched() {
    for app in TestApp::all("player").await {
        // Four plain HTML pages marked as SCOs; module 2 requires module 1.
        let Class { teacher, slug, learner, learner_account, .. } =
            class(&app, "valid/scorm12_synthetic_PrerequisitesTest_SCORM12.zip", "Prereq").await;
        let course = cairn_core::catalog::get(&app.state.db, &slug).await.unwrap();

        let (_, first) = launch(&learner, &format!("/courses/{slug}/play?item=module1")).await;
        assert_eq!(first["launch"]["request_valid_continue"], true, "[{}] module 2 follows", app.label);
        assert_eq!(first["launch"]["request_valid_previous"], false, "nothing comes before module 1");
        assert_eq!(first["nav"]["continue"], format!("/courses/{slug}/play?item=module2"));
        let (page, _) = launch(&learner, &format!("/courses/{slug}/play?item=module2")).await;
        assert!(page.contains("data-item-frame=\"module1\""), "module 2 is locked until module 1 is done");

        // The learner leaves module 1, whose page never called LMSInitialize.
        let (_, first) = launch(&learner, &format!("/courses/{slug}/play?item=module1")).await;
        assert_eq!(viewed(&app, &first).await, (200, json!({ "status": "completed" })), "[{}]", app.label);
        let id = first["attempt_id"].as_str().unwrap();
        let attempt = tracking::find(&app.state.db, id).await.unwrap().unwrap();
        assert_eq!((attempt.completion.as_str(), attempt.last_seq), ("completed", 0));
        // The imported course is one lesson (the whole package): started now, not yet done.
        let enrolment =
            cairn_core::enrolments::find(&app.state.db, &course.id, &learner_account.id).await.unwrap().unwrap();
        assert_eq!(enrolment.status, "in_progress", "[{}] course progress was refreshed", app.label);
        assert_eq!(viewed(&app, &first).await, (200, json!({ "status": "ignored" })), "a repeat changes nothing");
        let (page, second) = launch(&learner, &format!("/courses/{slug}/play?item=module2")).await;
        assert!(page.contains("data-item-frame=\"module2\""), "[{}] module 2 opens now", app.label);

        // Coming back to module 1 keeps it completed (SCORM 1.2 keeps the attempt).
        let (_, again) = launch(&learner, &format!("/courses/{slug}/play?item=module1")).await;
        assert_eq!(again["attempt_id"], first["attempt_id"]);
        assert_eq!(tracking::find(&app.state.db, id).await.unwrap().unwrap().completion, "completed");
        assert_eq!(viewed(&app, &again).await.1["status"], "ignored");

        // A SCO that committed something is never touched.
        assert_eq!(
            commit(&learner, &second, 1, json!({ "cmi.core.lesson_location": "p1" }), false).await.status(),
            200
        );
        assert_eq!(viewed(&app, &second).await, (200, json!({ "status": "ignored" })), "[{}]", app.label);
        let attempt = tracking::find(&app.state.db, second["attempt_id"].as_str().unwrap()).await.unwrap().unwrap();
        assert_eq!(attempt.completion, "not attempted");

        // Another attempt's address with this token, or no credentials, finds nothing.
        let (_, third) = launch(&learner, &format!("/courses/{slug}/play?item=module3")).await;
        let crossed = json!({ "viewed_url": third["viewed_url"], "launch_token": first["launch_token"] });
        assert_eq!(viewed(&app, &crossed).await.0, 404);
        let bare = reqwest::Client::new().post(app.url(third["viewed_url"].as_str().unwrap())).send().await.unwrap();
        assert_eq!(bare.status(), 401);
        let attempt = tracking::find(&app.state.db, third["attempt_id"].as_str().unwrap()).await.unwrap().unwrap();
        assert_ne!(attempt.completion, "completed");

        // SCORM 2004: a fresh attempt's completion is "unknown" (evaluated from no data); the
        // rule applies the same, and the next launch starts a new attempt as after any end.
        let golf = import(
            &app,
            &teacher,
            "valid/scorm2004_golf_ContentPackagingSingleSCO_SCORM20042ndEdition_CAM13.zip",
            "Golf single SCO",
        )
        .await;
        app.enrol(&golf, "learner@example.org").await;
        let (_, golf_launch) = launch(&learner, &format!("/courses/{golf}/play")).await;
        assert_eq!(golf_launch["version"], "2004");
        assert_eq!(golf_launch["launch"]["request_valid_continue"], false, "a single item has no next one");
        assert_eq!(viewed(&app, &golf_launch).await.1["status"], "completed", "[{}]", app.label);
        let golf_course = cairn_core::catalog::get(&app.state.db, &golf).await.unwrap();
        let enrolment =
            cairn_core::enrolments::find(&app.state.db, &golf_course.id, &learner_account.id).await.unwrap().unwrap();
        assert_eq!((enrolment.status.as_str(), enrolment.progress_percent), ("completed", 100), "[{}]", app.label);
        let (_, relaunched) = launch(&learner, &format!("/courses/{golf}/play")).await;
        assert_ne!(relaunched["attempt_id"], golf_launch["attempt_id"]);
        let viewed_attempt =
            tracking::find(&app.state.db, golf_launch["attempt_id"].as_str().unwrap()).await.unwrap().unwrap();
        assert_eq!(viewed_attempt.completion, "completed", "the viewed attempt stays completed");
    }
}

/// Another node (or anything else) writes an attempt between two commits this server
/// validated from memory: the next commit is validated against what is stored and keeps
/// that write, and a refusal is never based on an out-of-date copy.
#[tokio::test]
async fn a_write_made_elsewhere_between_commits_is_kept() {
    for app in TestApp::all("player").await {
        let Class { slug, learner, .. } =
            class(&app, "valid/scorm2004_golf_RuntimeBasicCalls_SCORM20043rdEdition.zip", "Golf").await;
        let (_, config) = launch(&learner, &format!("/courses/{slug}/play")).await;
        let id = config["attempt_id"].as_str().unwrap();
        let first =
            json!({ "cmi.location": "page-1", "cmi.interactions.0.id": "q1", "cmi.interactions.0.type": "other" });
        assert_eq!(json(commit(&learner, &config, 1, first, false).await).await["status"], "applied");

        // Commit 2 reaches the database some other way (a second node sharing it).
        let stored = tracking::find(&app.state.db, id).await.unwrap().unwrap();
        let mut data: serde_json::Map<String, Value> = serde_json::from_str(&stored.state_json).unwrap();
        for (k, v) in
            [("cmi.location", "page-2"), ("cmi.interactions.1.id", "q2"), ("cmi.interactions.1.type", "other")]
        {
            data.insert(k.into(), json!(v));
        }
        let elsewhere = tracking::CommitWriter::start(app.state.db.clone());
        let write = tracking::CommitWrite {
            attempt_id: id.to_string(),
            expected_revision: stored.revision,
            seq: 2,
            state_json: Value::Object(data).to_string(),
            summary: tracking::Summary { location: Some("page-2".into()), ..summary_of(&stored) },
            terminate: false,
            progress_pending: false,
        };
        assert!(elsewhere.write(write).await.unwrap(), "the other node's commit applies");

        // Commit 3 adds interaction 2, which is in order only after commit 2.
        let third = json!({ "cmi.interactions.2.id": "q3", "cmi.interactions.2.type": "other" });
        let r = commit(&learner, &config, 3, third, false).await;
        assert_eq!(r.status(), 200, "[{}] validated against the stored attempt", app.label);
        assert_eq!(
            json(commit(&learner, &config, 2, json!({ "cmi.location": "x" }), false).await).await["status"],
            "already_applied"
        );
        let after = tracking::find(&app.state.db, id).await.unwrap().unwrap();
        let data: Value = serde_json::from_str(&after.state_json).unwrap();
        assert_eq!(
            (
                data["cmi.location"].as_str(),
                data["cmi.interactions.1.id"].as_str(),
                data["cmi.interactions.2.id"].as_str()
            ),
            (Some("page-2"), Some("q2"), Some("q3")),
            "[{}] nothing written elsewhere was overwritten: {data}",
            app.label
        );
        assert_eq!(after.last_seq, 3);

        // Commits to made-up attempts are refused and leave nothing in memory.
        let held = app.state.live.len();
        for n in 0..20 {
            let url = app.url(&format!("/api/v1/attempts/made-up-{n}/commits"));
            let body = json!({ "seq": 1, "elements": { "cmi.location": "x" } });
            let r =
                reqwest::Client::new().post(url).header("x-cairn-launch", "guess").json(&body).send().await.unwrap();
            assert_eq!(r.status(), 404);
        }
        assert_eq!(app.state.live.len(), held, "[{}] nothing kept for unknown ids", app.label);

        // A reset made elsewhere stops the next commit.
        tracking::void(&app.state.db, id).await.unwrap();
        let r = commit(&learner, &config, 4, json!({ "cmi.location": "page-4" }), false).await;
        assert_eq!(r.status(), 410, "[{}]", app.label);
    }
}

fn summary_of(a: &tracking::Attempt) -> tracking::Summary {
    tracking::Summary {
        completion: a.completion.clone(),
        success: a.success.clone(),
        score_scaled: a.score_scaled,
        score_raw: a.score_raw,
        total_time_seconds: a.total_time_seconds,
        total_time: a.total_time.clone(),
        location: a.location.clone(),
        suspended: a.suspended,
    }
}

#[tokio::test]
async fn only_learners_with_open_access_launch() {
    use cairn_core::enrolments::{self, NewEnrolment, Source};
    for app in TestApp::all("player").await {
        let Class { org, teacher, learner, learner_account, slug } =
            class(&app, "valid/scorm2004_golf_RuntimeBasicCalls_SCORM20043rdEdition.zip", "Golf access").await;
        let course = cairn_core::catalog::get(&app.state.db, &slug).await.unwrap();
        // By slug and by id alike.
        launch(&learner, &format!("/courses/{slug}/play")).await;
        launch(&learner, &format!("/courses/{}/play", course.id)).await;
        // The course's instructor previews without an enrolment.
        launch(&teacher, &format!("/courses/{slug}/play")).await;

        app.user("stranger@example.org", Role::Learner, Some(&org)).await;
        let stranger = app.signed_in("stranger@example.org").await;
        let now = cairn_core::db::now();
        let day = std::time::Duration::from_secs(86_400);
        let window = |starts_at, ends_at| NewEnrolment {
            course_id: course.id.clone(),
            user_id: learner_account.id.clone(),
            source: Source::Manual,
            cohort_id: None,
            starts_at,
            ends_at,
        };
        let cases: [(&Client, Option<NewEnrolment>, u16, &str); 4] = [
            (&stranger, None, 403, "enrol in this course first"),
            (&learner, Some(window(Some(now + day), None)), 403, "has not opened yet"),
            (&learner, Some(window(Some(now - day - day), Some(now - day))), 403, "has ended"),
            (&learner, Some(window(Some(now - day), Some(now + day))), 200, "cairn-launch"),
        ];
        for (client, enrolment, status, text) in cases {
            if let Some(new) = enrolment {
                enrolments::enrol(&app.state.db, &new).await.unwrap();
            }
            let r = client.get(&format!("/courses/{slug}/play")).await;
            assert_eq!(r.status(), status, "[{}] {text}", app.label);
            let body = r.text().await.unwrap();
            assert!(body.contains(text), "[{}] the page says {text:?}: {body}", app.label);
        }
        assert_eq!(learner.get("/courses/no-such-course/play").await.status(), 404);
    }
}
