//! What the course's staff read of the learners' SCORM attempts over HTTP: each answer and
//! objective on the attempt page and as JSON, the course's answers download, its item
//! analysis, and the attempts page searched and paged.

use cairn_tests::player::{class, commit, launch, Class};
use cairn_tests::{json, TestApp};
use serde_json::json;

#[tokio::test]
async fn the_instructor_reads_each_answer_and_downloads_the_course_answers() {
    for app in TestApp::all("player").await {
        let Class { teacher, slug, learner, .. } =
            class(&app, "valid/scorm2004_golf_RuntimeBasicCalls_SCORM20043rdEdition.zip", "Golf 2004").await;
        let (_, config) = launch(&learner, &format!("/courses/{slug}/play")).await;
        // A quiz question and an objective, set in the order the dependency rules require.
        let answers = json!({
            "cmi.interactions.0.id": "q-handicap", "cmi.interactions.0.type": "choice",
            "cmi.interactions.0.description": "What lowers a handicap?",
            "cmi.interactions.0.learner_response": "practice",
            "cmi.interactions.0.correct_responses.0.pattern": "practice",
            "cmi.interactions.0.result": "correct", "cmi.interactions.0.latency": "PT8S",
            "cmi.objectives.0.id": "obj-rules", "cmi.objectives.0.success_status": "passed",
            "cmi.objectives.0.score.scaled": "0.9",
        });
        assert_eq!(commit(&learner, &config, 1, answers, false).await.status(), 200, "[{}]", app.label);

        let attempt = config["attempt_id"].as_str().unwrap();
        let detail = teacher.get(&format!("/attempts/{attempt}")).await.text().await.unwrap();
        for shown in [
            "data-interaction=\"q-handicap\"",
            "What lowers a handicap?",
            "<code>practice</code>",
            "PT8S",
            "data-objective=\"obj-rules\"",
            "0.9 (scaled)",
        ] {
            assert!(detail.contains(shown), "[{}] the attempt page shows {shown}: {detail}", app.label);
        }
        // The same data for scripts, as JSON.
        let r = teacher.get(&format!("/api/v1/attempts/{attempt}")).await;
        assert_eq!(r.status(), 200, "[{}]", app.label);
        let data = json(r).await;
        let q = &data["interactions"][0];
        assert_eq!(
            (q["id"].as_str(), q["type"].as_str(), q["learner_response"].as_str(), q["result"].as_str()),
            (Some("q-handicap"), Some("choice"), Some("practice"), Some("correct")),
            "{data}"
        );
        assert_eq!(q["correct_responses"], json!(["practice"]));
        let o = &data["objectives"][0];
        assert_eq!((o["id"].as_str(), o["success_status"].as_str()), (Some("obj-rules"), Some("passed")), "{data}");
        assert_eq!(data["elements"]["cmi.interactions.0.latency"], "PT8S");
        assert_eq!(data["learner"]["email"], "learner@example.org");
        assert_eq!(
            learner.get(&format!("/api/v1/attempts/{attempt}")).await.status(),
            403,
            "not the learner's to read"
        );
        assert_eq!(teacher.get("/api/v1/attempts/no-such-attempt").await.status(), 404);

        let learners = teacher.get(&format!("/courses/{slug}/learners")).await.text().await.unwrap();
        assert!(learners.contains(&format!("/api/v1/courses/{slug}/answers")), "the roster links the download");
        assert!(learners.contains(&format!("/courses/{slug}/questions")), "the attempts link the item analysis");
        // The attempts page is searched by learner and paged.
        let found = teacher.get(&format!("/courses/{slug}/learners?q=LEARNER@")).await.text().await.unwrap();
        assert!(found.contains("learner@example.org") && found.contains("Showing 1–1 of 1 attempts"), "{found}");
        let none = teacher.get(&format!("/courses/{slug}/learners?q=nobody")).await.text().await.unwrap();
        assert!(none.contains("Showing 0–0 of 0 attempts") && !none.contains("learner@example.org"), "{none}");
        let past = teacher.get(&format!("/courses/{slug}/learners?offset=500")).await.text().await.unwrap();
        assert!(past.contains("Showing 0–0 of 1 attempts") && past.contains("rel=\"prev\""), "{past}");
        let long = "x".repeat(201);
        assert_eq!(teacher.get(&format!("/courses/{slug}/learners?q={long}")).await.status(), 422, "an explicit limit");
        let roster = teacher.get(&format!("/courses/{slug}/roster")).await.text().await.unwrap();
        for page in ["learners", "questions"] {
            assert!(roster.contains(&format!("href=\"/courses/{slug}/{page}\"")), "the roster links {page}: {roster}");
        }
        let questions = teacher.get(&format!("/courses/{slug}/questions")).await.text().await.unwrap();
        assert!(
            questions.contains("<tr data-question=\"q-handicap\">") && questions.contains("<td>1 (100%)</td>"),
            "[{}] the item analysis counts the answer: {questions}",
            app.label
        );
        assert_eq!(learner.get(&format!("/courses/{slug}/questions")).await.status(), 403, "staff only");

        let r = teacher.get(&format!("/api/v1/courses/{slug}/answers")).await;
        assert_eq!(r.status(), 200, "[{}]", app.label);
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
        let disposition = r.headers()["content-disposition"].to_str().unwrap().to_string();
        assert!(disposition.contains(&format!("answers-{slug}-")), "{disposition}");
        let csv = r.text().await.unwrap();
        let lines: Vec<&str> = csv.trim_start_matches('\u{feff}').lines().collect();
        assert_eq!(lines.len(), 2, "the header and one answer: {csv}");
        assert!(lines[0].starts_with("learner,email,item,item_title,attempt"), "{csv}");
        assert!(
            lines[1].contains("learner@example.org")
                && lines[1].contains("q-handicap")
                && lines[1].contains(",correct,"),
            "{csv}"
        );

        // Learners do not read others' answers; an unknown course is not found.
        assert_eq!(learner.get(&format!("/api/v1/courses/{slug}/answers")).await.status(), 403);
        assert_eq!(teacher.get("/api/v1/courses/no-such-course/answers").await.status(), 404);
    }
}
