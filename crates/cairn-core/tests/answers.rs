//! The answers report on every engine: one CSV row per recorded interaction of a course's
//! live attempts, in learner, item and attempt order, with nothing from reset attempts or
//! from other courses; and the item analysis summed from the same answers.

use cairn_core::accounts::{self, NewUser, Role};
use cairn_core::organisations;
use cairn_core::packages::{self, ContentStore, CourseTarget, ImportOutcome, ImportRequest, Imported};
use cairn_core::reports::answers::{answers_csv, HEADER};
use cairn_core::reports::questions;
use cairn_core::testing::TestDb;
use cairn_core::tracking::{self, CommitWrite, CommitWriter, NewAttempt, Summary};
use cairn_core::Db;

/// The shared multi-SCO SCORM 1.2 fixture imported as a new course of `org`.
async fn import(db: &Db, content: &ContentStore, org: &str) -> Imported {
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures/scorm/valid/scorm12_golf_RuntimeMinimumCalls_SCORM12_multisco.zip");
    let request = ImportRequest {
        archive: std::fs::File::open(fixture).expect("the shared fixture"),
        original_filename: "multi.zip".into(),
        target: CourseTarget::New { organisation_id: org.into(), title: None, slug: None },
        imported_by: None,
        limits: cairn_scorm::Limits::default(),
    };
    match packages::import_package(db, content, request, None).await.unwrap() {
        ImportOutcome::Imported(done) => *done,
        _ => panic!("the shared fixture was refused"),
    }
}

async fn learner(db: &Db, name: &str) -> String {
    let new = NewUser {
        email: format!("{}@example.org", name.to_lowercase()),
        name: name.into(),
        role: Role::Learner,
        password: None,
        organisation_id: None,
    };
    accounts::create_user(db, new).await.unwrap().user.id
}

/// A new attempt of `user` at `item` whose data holds `elements`, stored through the
/// commit writer as the player's commits are.
async fn attempt_with(
    db: &Db,
    writer: &CommitWriter,
    done: &Imported,
    user: &str,
    item: &str,
    elements: &[(&str, &str)],
) -> tracking::Attempt {
    let new = NewAttempt {
        user_id: user.into(),
        course_id: done.course.id.clone(),
        package_id: done.package.id.clone(),
        item_identifier: item.into(),
        scorm_version: "1.2".into(),
    };
    let attempt = tracking::create(db, new).await.unwrap();
    let data: std::collections::BTreeMap<&str, &str> = elements.iter().copied().collect();
    let write = CommitWrite {
        attempt_id: attempt.id.clone(),
        expected_revision: attempt.revision,
        seq: 1,
        state_json: serde_json::to_string(&data).unwrap(),
        summary: Summary {
            completion: "incomplete".into(),
            success: "unknown".into(),
            score_scaled: None,
            score_raw: None,
            total_time_seconds: 0.0,
            total_time: None,
            location: None,
            suspended: false,
        },
        terminate: false,
        progress_pending: false,
    };
    assert!(writer.write(write).await.unwrap(), "a fresh write applies");
    attempt
}

async fn report(db: &Db, course_id: &str) -> Vec<Vec<String>> {
    let mut rx = answers_csv(db.clone(), course_id.to_string());
    let mut bytes = Vec::new();
    while let Some(chunk) = rx.recv().await {
        bytes.extend(chunk.unwrap());
    }
    assert!(bytes.starts_with(&[0xEF, 0xBB, 0xBF]), "the report starts with a UTF-8 BOM");
    let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(&bytes[3..]);
    reader.records().map(|r| r.unwrap().iter().map(str::to_string).collect()).collect()
}

#[tokio::test]
async fn answers_list_every_interaction_of_live_attempts_only() {
    for t in TestDb::all("answers").await {
        let db = &t.db;
        let folder = tempfile::tempdir().unwrap();
        let content = ContentStore::new(folder.path());
        let org = organisations::create(db, "ipa", "IPA").await.unwrap();
        let (course, other_course) = (import(db, &content, &org.id).await, import(db, &content, &org.id).await);
        let writer = CommitWriter::start(db.clone());
        let (zara, amina) = (learner(db, "Zara").await, learner(db, "Amina").await);
        let item = "playing_par_item";

        // Amina answered two questions; her first try at another item was reset, so its
        // answer is not in the report, and her second try is.
        attempt_with(
            db,
            &writer,
            &course,
            &amina,
            item,
            &[
                ("cmi.interactions.1.id", "q2"),
                ("cmi.interactions.1.type", "numeric"),
                ("cmi.interactions.1.student_response", "4"),
                ("cmi.interactions.1.weighting", "-1"),
                ("cmi.interactions.0.id", "q1"),
                ("cmi.interactions.0.type", "choice"),
                ("cmi.interactions.0.student_response", "=a,b"),
                ("cmi.interactions.0.correct_responses.0.pattern", "a,b"),
                ("cmi.interactions.0.correct_responses.1.pattern", "b,a"),
                ("cmi.interactions.0.result", "correct"),
                ("cmi.interactions.0.objectives.0.id", "obj-par"),
                ("cmi.core.lesson_location", "page-3"),
            ],
        )
        .await;
        let reset =
            attempt_with(db, &writer, &course, &amina, "etiquette_course_item", &[("cmi.interactions.0.id", "old")])
                .await;
        tracking::void(db, &reset.id).await.unwrap();
        attempt_with(
            db,
            &writer,
            &course,
            &amina,
            "etiquette_course_item",
            &[("cmi.interactions.0.id", "new"), ("cmi.interactions.0.result", "wrong")],
        )
        .await;
        // Zara recorded no interactions: no rows. Her answer in the other course is elsewhere.
        attempt_with(db, &writer, &course, &zara, item, &[("cmi.core.lesson_location", "page-1")]).await;
        attempt_with(db, &writer, &other_course, &zara, item, &[("cmi.interactions.0.id", "elsewhere")]).await;

        let rows = report(db, &course.course.id).await;
        let engine = db.engine();
        assert_eq!(rows[0], HEADER.map(str::to_string).to_vec(), "{engine:?}");
        let ids: Vec<(&str, &str, &str, &str)> =
            rows[1..].iter().map(|r| (r[0].as_str(), r[2].as_str(), r[4].as_str(), r[7].as_str())).collect();
        assert_eq!(
            ids,
            vec![
                ("Amina", "etiquette_course_item", "2", "new"),
                ("Amina", item, "1", "q1"),
                ("Amina", item, "1", "q2"),
            ],
            "{engine:?}: learner, item, attempt and interaction order; no reset attempt, no other course"
        );
        let q1 = &rows[2];
        assert_eq!(q1[1], "amina@example.org");
        assert!(!q1[3].is_empty(), "{engine:?}: the item's title comes from its package");
        assert!(q1[5].ends_with('Z'), "{engine:?}: attempt_updated_at is RFC 3339 UTC: {}", q1[5]);
        assert_eq!(
            (&q1[6][..], &q1[8][..], &q1[10][..], &q1[11][..], &q1[12][..], &q1[16][..]),
            ("0", "choice", "'=a,b", "a,b\nb,a", "correct", "obj-par"),
            "{engine:?}: 1.2's student_response is the response, formulas are defused, lists go one per line"
        );
        assert_eq!((&rows[3][6][..], &rows[3][13][..]), ("1", "-1"), "{engine:?}: numbers stay numbers");

        // The item analysis counts the same answers, per question.
        let analysis = questions::of_course(db, &course.course.id).await.unwrap();
        let summed: Vec<(&str, &str, u64, u64, u64)> = analysis
            .questions
            .iter()
            .map(|q| (q.item.as_str(), q.id.as_str(), q.answered, q.correct, q.incorrect))
            .collect();
        assert_eq!(
            summed,
            vec![("etiquette_course_item", "new", 1, 0, 1), (item, "q1", 1, 1, 0), (item, "q2", 1, 0, 0)],
            "{engine:?}: a question with neither result nor response (q2 has a response) is still answered"
        );
        assert_eq!(analysis.questions[0].common_wrong, None, "{engine:?}: no response was recorded");
        assert!(!analysis.truncated);

        // A course nobody answered in has the header only.
        let empty = import(db, &content, &org.id).await;
        assert_eq!(report(db, &empty.course.id).await.len(), 1, "{engine:?}");
        assert!(questions::of_course(db, &empty.course.id).await.unwrap().questions.is_empty());
    }
}
