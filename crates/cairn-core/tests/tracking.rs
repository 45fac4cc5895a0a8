//! Attempts under concurrency, on every engine: numbering and creation never fail because
//! other connections are writing at the same time.

use cairn_core::accounts::{self, NewUser, Role};
use cairn_core::organisations;
use cairn_core::packages::{self, ContentStore, CourseTarget, ImportOutcome, ImportRequest};
use cairn_core::testing::TestDb;
use cairn_core::tracking::{self, NewAttempt, Summary};

#[tokio::test]
async fn concurrent_launches_and_commits_all_succeed() {
    for t in TestDb::all("tracking").await {
        let db = &t.db;
        let content = tempfile::tempdir().unwrap();
        let org = organisations::create(db, "ipa", "IPA").await.unwrap();
        let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/fixtures/scorm/valid/scorm12_golf_RuntimeMinimumCalls_SCORM12_multisco.zip");
        let request = ImportRequest {
            archive: std::fs::File::open(fixture).expect("the shared fixture"),
            original_filename: "multi.zip".into(),
            target: CourseTarget::New { organisation_id: org.id.clone(), title: None, slug: None },
            imported_by: None,
            limits: cairn_scorm::Limits::default(),
        };
        let ImportOutcome::Imported(done) =
            packages::import_package(db, &ContentStore::new(content.path()), request, None).await.unwrap()
        else {
            panic!("refused")
        };
        let mut learners = Vec::new();
        for i in 0..8 {
            let new = NewUser {
                email: format!("l{i}@example.org"),
                name: format!("L{i}"),
                role: Role::Learner,
                password: Some("a good password".into()),
                organisation_id: None,
            };
            learners.push(accounts::create_user(db, new).await.unwrap().user.id);
        }
        // Every learner opens three items twice at once, while commits write.
        let mut tasks = Vec::new();
        for learner in &learners {
            for item in ["playing_par_item", "etiquette_course_item", "handicapping_overview_item"] {
                for _ in 0..2 {
                    let (db, learner, course, package) =
                        (db.clone(), learner.clone(), done.course.id.clone(), done.package.id.clone());
                    tasks.push(tokio::spawn(async move {
                        let new = NewAttempt {
                            user_id: learner,
                            course_id: course,
                            package_id: package,
                            item_identifier: item.into(),
                            scorm_version: "1.2".into(),
                        };
                        let attempt = tracking::create(&db, new).await?;
                        let summary = Summary {
                            completion: "incomplete".into(),
                            success: "unknown".into(),
                            score_scaled: None,
                            score_raw: None,
                            total_time_seconds: 0.0,
                            total_time: None,
                            location: Some("1".into()),
                            suspended: false,
                        };
                        tracking::record_commit(
                            &db,
                            &attempt.id,
                            1,
                            "{\"cmi.core.lesson_location\":\"1\"}",
                            &summary,
                            false,
                        )
                        .await?;
                        Ok::<_, tracking::TrackingError>(attempt)
                    }));
                }
            }
        }
        let mut numbers = std::collections::HashMap::new();
        for task in tasks {
            let attempt =
                task.await.unwrap().unwrap_or_else(|e| panic!("{:?}: a launch failed under load: {e}", db.engine()));
            numbers
                .entry((attempt.user_id.clone(), attempt.item_identifier.clone()))
                .or_insert_with(Vec::new)
                .push(attempt.number);
        }
        for (key, mut n) in numbers {
            n.sort();
            assert_eq!(n, vec![1, 2], "{key:?}: attempt numbers are unique and gapless");
        }
    }
}
