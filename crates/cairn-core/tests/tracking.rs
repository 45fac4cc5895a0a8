//! Attempts under concurrency, on every engine: numbering and creation never fail because
//! other connections are writing at the same time.

use cairn_core::accounts::{self, NewUser, Role};
use cairn_core::organisations;
use cairn_core::packages::{self, ContentStore, CourseTarget, ImportOutcome, ImportRequest, Imported};
use cairn_core::testing::TestDb;
use cairn_core::tracking::{self, CommitWrite, CommitWriter, NewAttempt, Summary};

#[tokio::test]
async fn concurrent_launches_and_commits_all_succeed() {
    for t in TestDb::all("tracking").await {
        let db = &t.db;
        let (_content, done, learners) = course_with_learners(db, 8).await;
        let writer = CommitWriter::start(db.clone());
        // Every learner opens three items twice at once, while commits write.
        let mut tasks = Vec::new();
        for learner in &learners {
            for item in ["playing_par_item", "etiquette_course_item", "handicapping_overview_item"] {
                for _ in 0..2 {
                    let (db, writer, new) = (db.clone(), writer.clone(), attempt_of(&done, learner, item));
                    tasks.push(tokio::spawn(async move {
                        let attempt = tracking::create(&db, new).await?;
                        writer.write(write(&attempt, 1, "1", false)).await?;
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

/// The shared multi-SCO fixture imported as a new course, and `n` learners. The folder of
/// the content store is returned so that the caller keeps it for the test's length.
async fn course_with_learners(db: &cairn_core::Db, n: usize) -> (tempfile::TempDir, Imported, Vec<String>) {
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
    let outcome = packages::import_package(db, &ContentStore::new(content.path()), request, None).await.unwrap();
    let ImportOutcome::Imported(done) = outcome else { panic!("the shared fixture was refused") };
    let mut learners = Vec::new();
    for i in 0..n {
        let new = NewUser {
            email: format!("w{i}@example.org"),
            name: format!("W{i}"),
            role: Role::Learner,
            password: None,
            organisation_id: None,
        };
        learners.push(accounts::create_user(db, new).await.unwrap().user.id);
    }
    (content, *done, learners)
}

/// A new attempt of `learner` on `item` of the imported course (a SCORM 1.2 package).
fn attempt_of(done: &Imported, learner: &str, item: &str) -> NewAttempt {
    NewAttempt {
        user_id: learner.to_string(),
        course_id: done.course.id.clone(),
        package_id: done.package.id.clone(),
        item_identifier: item.into(),
        scorm_version: "1.2".into(),
    }
}

fn write(attempt: &tracking::Attempt, seq: i64, location: &str, pending: bool) -> CommitWrite {
    CommitWrite {
        attempt_id: attempt.id.clone(),
        expected_revision: attempt.revision,
        seq,
        state_json: format!("{{\"cmi.core.lesson_location\":\"{location}\"}}"),
        summary: Summary {
            completion: if pending { "completed" } else { "incomplete" }.into(),
            success: "unknown".into(),
            score_scaled: None,
            score_raw: Some(1.0),
            total_time_seconds: 0.0,
            total_time: None,
            location: Some(location.into()),
            suspended: false,
        },
        terminate: false,
        progress_pending: pending,
    }
}

#[tokio::test]
async fn the_commit_writer_batches_and_never_overwrites_a_newer_write() {
    for t in TestDb::all("writer").await {
        let db = &t.db;
        let (_content, done, learners) = course_with_learners(db, 40).await;
        let writer = CommitWriter::start(db.clone());
        let mut attempts = Vec::new();
        for learner in &learners {
            attempts.push(tracking::create(db, attempt_of(&done, learner, "playing_par_item")).await.unwrap());
        }

        // Forty learners commit at once: every write applies, in batches that mix them.
        let tasks: Vec<_> = attempts
            .iter()
            .map(|a| {
                let (writer, w) = (writer.clone(), write(a, 1, &format!("at-{}", a.user_id), false));
                tokio::spawn(async move { writer.write(w).await })
            })
            .collect();
        for task in tasks {
            assert!(task.await.unwrap().unwrap(), "{:?}: a fresh write applies", db.engine());
        }
        for a in &attempts {
            let stored = tracking::find(db, &a.id).await.unwrap().unwrap();
            assert_eq!(stored.last_seq, 1);
            assert_eq!(stored.revision, a.revision + 1, "every write moves the revision");
            assert_eq!(stored.location.as_deref(), Some(format!("at-{}", a.user_id).as_str()));
            assert!(stored.state_json.contains(&format!("at-{}", a.user_id)));
        }

        // A write validated against an older revision changes nothing (another node wrote).
        let first = &attempts[0];
        let current = tracking::find(db, &first.id).await.unwrap().unwrap();
        assert!(!writer.write(write(first, 2, "stale", false)).await.unwrap(), "stale revision");
        // A sequence number not above the stored one changes nothing either (a retry).
        assert!(!writer.write(write(&current, 1, "retry", false)).await.unwrap(), "old seq");
        let after = tracking::find(db, &first.id).await.unwrap().unwrap();
        assert_eq!((after.location.as_deref(), after.revision), (current.location.as_deref(), current.revision));

        // A reset attempt takes no more commits.
        tracking::void(db, &first.id).await.unwrap();
        let voided = tracking::find(db, &first.id).await.unwrap().unwrap();
        assert!(!writer.write(write(&voided, 3, "after reset", false)).await.unwrap(), "voided");

        // A commit that moves status marks the attempt until a refresh has read it.
        let second = tracking::find(db, &attempts[1].id).await.unwrap().unwrap();
        assert!(writer.write(write(&second, 2, "done", true)).await.unwrap());
        let marked = tracking::find(db, &second.id).await.unwrap().unwrap();
        assert!(marked.progress_pending);
        assert_eq!(
            cairn_core::progress::pending(db).await.unwrap(),
            vec![(done.course.id.clone(), second.user_id.clone())]
        );
        cairn_core::progress::settle_course(db, &done.course.id).await.unwrap();
        assert!(!tracking::find(db, &second.id).await.unwrap().unwrap().progress_pending, "settled");
        assert!(cairn_core::progress::pending(db).await.unwrap().is_empty());
        // Later commits that do not move status keep the mark cleared.
        let settled = tracking::find(db, &second.id).await.unwrap().unwrap();
        assert!(writer.write(write(&settled, 3, "later", false)).await.unwrap());
        assert!(!tracking::find(db, &second.id).await.unwrap().unwrap().progress_pending);
    }
}

#[tokio::test]
async fn a_new_attempt_can_start_with_its_session_open() {
    for t in TestDb::all("opened").await {
        let db = &t.db;
        let (_content, done, learners) = course_with_learners(db, 1).await;
        let first = tracking::create(db, attempt_of(&done, &learners[0], "playing_par_item")).await.unwrap();
        assert!(!first.session_open && first.session_started_at.is_none());
        assert_eq!(tracking::find(db, &first.id).await.unwrap().unwrap(), first, "create returns what it stored");

        // What a launch works out for the next attempt is stored by the same statement.
        let new = attempt_of(&done, &learners[0], "playing_par_item");
        let blank = new.unstored();
        assert_eq!((blank.completion.as_str(), blank.success.as_str()), (first.completion.as_str(), "unknown"));
        let summary = Summary {
            completion: "incomplete".into(),
            success: "unknown".into(),
            score_scaled: None,
            score_raw: None,
            total_time_seconds: 0.0,
            total_time: None,
            location: None,
            suspended: false,
        };
        let opened = tracking::create_opened(db, new, "{\"cmi.mode\":\"normal\"}", &summary).await.unwrap();
        assert_eq!(opened.number, first.number + 1, "numbered after the earlier attempt");
        assert!(opened.session_open, "{:?}", db.engine());
        assert!(opened.session_started_at.is_some());
        assert_eq!(opened.completion, "incomplete");
        assert_eq!(opened.state_json, "{\"cmi.mode\":\"normal\"}");
        assert!(opened.launch_token_matches(&opened.launch_token) && opened.launch_token != first.launch_token);
        assert_eq!(tracking::find(db, &opened.id).await.unwrap().unwrap(), opened);
    }
}

#[tokio::test]
async fn one_refresh_clears_every_mark_it_read() {
    for t in TestDb::all("marks").await {
        let db = &t.db;
        let (_content, done, learners) = course_with_learners(db, 2).await;
        let writer = CommitWriter::start(db.clone());
        // Seventeen marked attempts of one learner: more than one statement's worth of
        // rows, the last statement padded. The other learner's mark is not theirs to clear.
        let mut marked = Vec::new();
        for n in 0..17 {
            let attempt = tracking::create(db, attempt_of(&done, &learners[0], "playing_par_item")).await.unwrap();
            assert!(writer.write(write(&attempt, 1, &format!("try-{n}"), true)).await.unwrap());
            marked.push(attempt.id);
        }
        let other = tracking::create(db, attempt_of(&done, &learners[1], "playing_par_item")).await.unwrap();
        assert!(writer.write(write(&other, 1, "other", true)).await.unwrap());
        for id in &marked {
            assert!(tracking::find(db, id).await.unwrap().unwrap().progress_pending, "{:?}", db.engine());
        }

        cairn_core::progress::refresh(db, &done.course.id, &learners[0]).await.unwrap();
        for id in &marked {
            let attempt = tracking::find(db, id).await.unwrap().unwrap();
            assert!(!attempt.progress_pending, "{:?}: attempt {} still marked", db.engine(), attempt.number);
        }
        assert_eq!(
            cairn_core::progress::pending(db).await.unwrap(),
            vec![(done.course.id.clone(), learners[1].clone())],
            "only the other learner's mark is left"
        );
    }
}

#[tokio::test]
async fn a_launch_reads_the_data_of_the_resume_point_only() {
    for t in TestDb::all("launch").await {
        let db = &t.db;
        let (_content, done, learners) = course_with_learners(db, 1).await;
        let new = |item: &str| attempt_of(&done, &learners[0], item);
        assert!(tracking::for_launch(db, &learners[0], &done.course.id).await.unwrap().is_empty());
        let first_par = tracking::create(db, new("playing_par_item")).await.unwrap();
        let par = tracking::create(db, new("playing_par_item")).await.unwrap();
        let etiquette = tracking::create(db, new("etiquette_course_item")).await.unwrap();
        let voided = tracking::create(db, new("etiquette_course_item")).await.unwrap();
        tracking::void(db, &voided.id).await.unwrap();
        // An older attempt of an item is not listed, even one with data of its own.
        let writer = CommitWriter::start(db.clone());
        assert!(writer.write(write(&first_par, 1, "old", false)).await.unwrap());
        // The par attempt is written last, so it is where the learner resumes.
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        assert!(writer.write(write(&par, 1, "page-3", false)).await.unwrap());
        let stored = tracking::find(db, &par.id).await.unwrap().unwrap();

        let listed = tracking::for_launch(db, &learners[0], &done.course.id).await.unwrap();
        let ids: Vec<&str> = listed.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(
            ids,
            vec![etiquette.id.as_str(), par.id.as_str()],
            "{:?}: the latest live attempt per item, by item; older and reset attempts are left out",
            db.engine()
        );
        assert_eq!(par.number, 2);
        assert_eq!(listed[1].state_json, stored.state_json, "the resume point carries its data");
        assert_eq!(listed[0].state_json, "", "any other attempt's data is not read");
        assert_eq!(listed[1], stored, "every column as stored");
    }
}

#[tokio::test]
async fn opening_a_session_never_overwrites_a_commit_it_did_not_read() {
    for t in TestDb::all("open-session").await {
        let db = &t.db;
        let (_content, done, learners) = course_with_learners(db, 1).await;
        // A launch reads the attempt, then a commit (the beacon of the page being left)
        // is stored before the launch writes its session.
        let read = tracking::create(db, attempt_of(&done, &learners[0], "playing_par_item")).await.unwrap();
        let writer = CommitWriter::start(db.clone());
        assert!(writer.write(write(&read, 1, "page-9", false)).await.unwrap());
        let launch = write(&read, 0, "page-1", false);

        let stale = tracking::open_session(db, &read.id, read.revision, &launch.state_json, &launch.summary);
        assert_eq!(stale.await.unwrap(), None, "{:?}: the launch read an older revision", db.engine());
        let stored = tracking::find(db, &read.id).await.unwrap().unwrap();
        assert!(stored.state_json.contains("page-9"), "the acknowledged commit is kept: {}", stored.state_json);
        assert_eq!((stored.last_seq, stored.revision, stored.session_open), (1, read.revision + 1, false));

        // Read again, the launch writes.
        let opened = tracking::open_session(db, &read.id, stored.revision, &stored.state_json, &launch.summary)
            .await
            .unwrap()
            .expect("the revision read is current");
        assert!(opened.session_open && opened.revision == stored.revision + 1);
        assert!(opened.state_json.contains("page-9"));
    }
}

#[tokio::test]
async fn launch_writes_share_the_writers_rounds() {
    for t in TestDb::all("launch-rounds").await {
        let db = &t.db;
        let (_content, done, learners) = course_with_learners(db, 4).await;
        let writer = CommitWriter::start(db.clone());
        let summary = write(
            &tracking::create(db, attempt_of(&done, &learners[3], "playing_par_item")).await.unwrap(),
            0,
            "x",
            false,
        )
        .summary;

        // Every learner starts three attempts of one item at once through the writer, while
        // commits go to the same rounds: the numbers are 1, 2, 3 per learner (no race is
        // lost for good) and every new attempt has its session open.
        let mut tasks = Vec::new();
        for learner in &learners[..3] {
            for _ in 0..3 {
                let (writer, new, summary) =
                    (writer.clone(), attempt_of(&done, learner, "playing_par_item"), summary.clone());
                tasks.push(tokio::spawn(async move {
                    let opened = writer.create_opened(new, "{}".into(), summary).await?;
                    assert!(
                        writer.write(write(&opened, 1, "page-1", false)).await?,
                        "the commit applies over the launch"
                    );
                    Ok::<_, tracking::TrackingError>(opened)
                }));
            }
        }
        let mut numbers = std::collections::BTreeMap::<String, Vec<i64>>::new();
        for task in tasks {
            let opened = task.await.unwrap().unwrap_or_else(|e| panic!("{:?}: {e}", db.engine()));
            assert!(opened.session_open && opened.session_started_at.is_some(), "{:?}", db.engine());
            let stored = tracking::find(db, &opened.id).await.unwrap().unwrap();
            assert!(stored.state_json.contains("page-1") && stored.last_seq == 1, "{:?}: {stored:?}", db.engine());
            numbers.entry(opened.user_id).or_default().push(opened.number);
        }
        for (learner, mut n) in numbers {
            n.sort();
            assert_eq!(n, vec![1, 2, 3], "{:?}: attempts of {learner}", db.engine());
        }

        // A launch and a commit that read the same revision meet in one round or in two:
        // exactly one of them applies, and the other is told so rather than overwriting it.
        let read = tracking::create(db, attempt_of(&done, &learners[3], "etiquette_course_item")).await.unwrap();
        let commit = write(&read, 1, "page-9", false);
        let (committed, opened) = tokio::join!(
            writer.write(commit),
            writer.open_session(&read.id, read.revision, "{}".into(), summary.clone())
        );
        let (committed, opened) = (committed.unwrap(), opened.unwrap());
        assert!(committed != opened.is_some(), "{:?}: exactly one write applies", db.engine());
        let stored = tracking::find(db, &read.id).await.unwrap().unwrap();
        assert_eq!(stored.revision, read.revision + 1);
        assert_eq!(stored.session_open, opened.is_some());
        assert_eq!(stored.state_json.contains("page-9"), committed);
        if let Some(opened) = opened {
            assert_eq!(opened, stored, "the launch gets the attempt as stored");
        }
    }
}

#[tokio::test]
async fn staff_list_attempts_a_page_at_a_time_and_by_learner() {
    for t in TestDb::all("attempt-list").await {
        let db = &t.db;
        let (_content, done, learners) = course_with_learners(db, 5).await;
        for learner in &learners {
            tracking::create(db, attempt_of(&done, learner, "playing_par_item")).await.unwrap();
        }
        tracking::create(db, attempt_of(&done, &learners[2], "playing_par_item")).await.unwrap();
        let query = |search: Option<&str>, offset: i64, limit: i64| tracking::AttemptQuery {
            course_id: done.course.id.clone(),
            search: search.map(str::to_string),
            offset,
            limit,
        };
        let listed = |page: &tracking::LearnerAttemptPage| -> Vec<(String, i64)> {
            page.rows.iter().map(|a| (a.learner_name.clone(), a.number)).collect()
        };
        let engine = db.engine();

        let first = tracking::of_course(db, &query(None, 0, 4)).await.unwrap();
        assert_eq!(first.total, 6, "{engine:?}");
        let expected: Vec<(String, i64)> =
            [("W0", 1), ("W1", 1), ("W2", 1), ("W2", 2)].iter().map(|(n, k)| (n.to_string(), *k)).collect();
        assert_eq!(listed(&first), expected, "{engine:?}: by learner, then attempt number");
        let second = tracking::of_course(db, &query(None, 4, 4)).await.unwrap();
        assert_eq!(listed(&second).len(), 2, "{engine:?}: the rest");

        // By part of a name or an e-mail, case-folded; LIKE's wildcards are literal.
        let w2 = tracking::of_course(db, &query(Some(" W2@EXAMPLE "), 0, 50)).await.unwrap();
        assert_eq!((w2.total, w2.rows.len()), (2, 2), "{engine:?}");
        assert!(w2.rows.iter().all(|a| a.learner_email == "w2@example.org"));
        for literal in ["%", "_", "\\"] {
            assert_eq!(tracking::of_course(db, &query(Some(literal), 0, 50)).await.unwrap().total, 0, "{literal}");
        }
        // Limits are clamped rather than refused.
        let clamped = tracking::of_course(db, &query(None, -3, 100_000)).await.unwrap();
        assert_eq!((clamped.offset, clamped.limit, clamped.rows.len()), (0, tracking::MAX_ATTEMPTS_PAGE, 6));
    }
}
