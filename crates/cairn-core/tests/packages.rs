//! Importing real packages into courses, on every engine: structure, versions, atomicity.

use std::path::{Path, PathBuf};

use cairn_core::accounts::{self, NewUser, Role};
use cairn_core::catalog;
use cairn_core::organisations;
use cairn_core::packages::{self, ContentStore, CourseTarget, ImportOutcome, ImportRequest};
use cairn_core::testing::TestDb;

fn fixture(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/scorm");
    assert!(dir.is_dir(), "the shared SCORM fixtures are missing at {}", dir.display());
    dir.join(name)
}

fn request(file: &str, target: CourseTarget, by: Option<String>) -> ImportRequest {
    ImportRequest {
        archive: std::fs::File::open(fixture(file)).unwrap(),
        original_filename: file.rsplit('/').next().unwrap().to_string(),
        target,
        imported_by: by,
        limits: cairn_scorm::Limits::default(),
    }
}

/// Every file under `dir`, relative, sorted.
fn files(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        if let Ok(entries) = std::fs::read_dir(dir) {
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(base, &path, out);
                } else {
                    out.push(path.strip_prefix(base).unwrap().display().to_string());
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

async fn count(db: &cairn_core::Db, table: &str) -> i64 {
    cairn_core::testing::count_rows(db, table).await
}

#[tokio::test]
async fn valid_fixtures_import_with_their_structure() {
    for t in TestDb::all("packages").await {
        let db = &t.db;
        let content = tempfile::tempdir().unwrap();
        let store = ContentStore::new(content.path());
        let org = organisations::create(db, "ipa", "IPA").await.unwrap();
        let teacher = accounts::create_user(
            db,
            NewUser {
                email: "t@example.org".into(),
                name: "T".into(),
                role: Role::Instructor,
                password: None,
                organisation_id: Some(org.id.clone()),
            },
        )
        .await
        .unwrap()
        .user;
        // (file, items in tree order, launchable items)
        let cases = [
            ("valid/scorm12_golf_RuntimeBasicCalls_SCORM12.zip", 1, 1),
            ("valid/scorm12_golf_RuntimeMinimumCalls_SCORM12_multisco.zip", 0, 18),
            ("valid/scorm12_golf_ContentPackagingOneFilePerSCO_SCORM12_assets.zip", 0, 18),
            ("valid/scorm12_golf_missing_organizations.zip", 1, 1),
            ("valid/scorm2004_golf_SequencingSimpleRemediation_SCORM20043rdEdition.zip", 0, 8),
        ];
        for (file, exact_items, launchable) in cases {
            let target = CourseTarget::New { organisation_id: org.id.clone(), title: None, slug: None };
            let outcome = packages::import_package(db, &store, request(file, target, Some(teacher.id.clone())), None)
                .await
                .unwrap();
            let ImportOutcome::Imported(imported) = outcome else { panic!("{file} was refused") };
            assert!(imported.created_course);
            assert_eq!(imported.package.version, 1);
            assert_eq!(imported.course.current_package_id.as_deref(), Some(imported.package.id.as_str()));
            assert!(
                catalog::is_instructor(db, &imported.course.id, &teacher.id).await.unwrap(),
                "the importer teaches the course"
            );
            let items = packages::items(db, &imported.package.id).await.unwrap();
            if exact_items > 0 {
                assert_eq!(items.len(), exact_items, "{file}");
            }
            assert_eq!(items.iter().filter(|i| i.launch.is_some()).count(), launchable, "{file}: launchable items");
            // Every launch file is on disk where the content server will look.
            for item in items.iter().filter_map(|i| i.launch.as_deref()) {
                let file_part = item.split(['?', '#']).next().unwrap();
                let decoded = file_part.replace("%20", " ");
                assert!(store.resolve(&imported.package.id, &decoded).is_ok(), "{file}: {item} is extracted");
            }
            let on_disk = files(&store.package_dir(&imported.package.id));
            assert_eq!(on_disk.len() as i64, imported.package.file_count, "{file}");
            let manifest = packages::manifest(db, &imported.package.id).await.unwrap();
            assert_eq!(manifest.title, imported.package.title);
        }
        assert!(files(&store.incoming_dir()).is_empty(), "nothing is left in .incoming");
        // Course slugs stay unique even when package titles repeat.
        let slugs: std::collections::HashSet<_> = catalog::visible_to(
            db,
            &cairn_core::accounts::policy::Principal {
                user_id: "x".into(),
                role: Role::Admin,
                organisation_ids: vec![],
            },
        )
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.slug)
        .collect();
        assert_eq!(slugs.len(), cases.len());
    }
}

#[tokio::test]
async fn refused_packages_leave_nothing_behind() {
    for t in TestDb::all("packages").await {
        let db = &t.db;
        let content = tempfile::tempdir().unwrap();
        let store = ContentStore::new(content.path());
        let org = organisations::create(db, "ipa", "IPA").await.unwrap();
        for file in [
            "invalid/no_manifest.zip",
            "invalid/manifest_declaration_only.zip",
            "invalid/manifest_in_subfolder_declaration_only.zip",
            "other/cmi5_catapult_multi_au_framed.zip",
            "other/aicc_complex.zip",
            "other/aicc_minimal_cst_only.zip",
        ] {
            let target = CourseTarget::New { organisation_id: org.id.clone(), title: None, slug: None };
            let outcome = packages::import_package(db, &store, request(file, target, None), None).await.unwrap();
            let ImportOutcome::Refused(inspection) = outcome else { panic!("{file} was imported") };
            assert!(!inspection.errors.is_empty(), "{file}: the refusal says why");
        }
        for table in ["courses", "packages", "package_items", "course_instructors"] {
            assert_eq!(count(db, table).await, 0, "{table} is empty after refusals");
        }
        assert!(files(content.path()).is_empty(), "no files were written: {:?}", files(content.path()));
    }
}

#[tokio::test]
async fn a_new_version_keeps_the_course_and_a_failed_import_keeps_nothing() {
    for t in TestDb::all("packages").await {
        let db = &t.db;
        let content = tempfile::tempdir().unwrap();
        let store = ContentStore::new(content.path());
        let org = organisations::create(db, "ipa", "IPA").await.unwrap();
        let first = packages::import_package(
            db,
            &store,
            request(
                "valid/scorm12_golf_RuntimeBasicCalls_SCORM12.zip",
                CourseTarget::New {
                    organisation_id: org.id.clone(),
                    title: Some("Golf basics".into()),
                    slug: Some("golf".into()),
                },
                None,
            ),
            None,
        )
        .await
        .unwrap();
        let ImportOutcome::Imported(first) = first else { panic!("refused") };
        assert_eq!((first.course.slug.as_str(), first.course.title.as_str()), ("golf", "Golf basics"));

        let second = packages::import_package(
            db,
            &store,
            request(
                "valid/scorm2004_golf_RuntimeBasicCalls_SCORM20043rdEdition.zip",
                CourseTarget::Existing(first.course.clone()),
                None,
            ),
            None,
        )
        .await
        .unwrap();
        let ImportOutcome::Imported(second) = second else { panic!("refused") };
        assert!(!second.created_course);
        assert_eq!(second.course.id, first.course.id, "the course is kept");
        assert_eq!(second.package.version, 2);
        assert_eq!(second.course.current_package_id.as_deref(), Some(second.package.id.as_str()));
        let versions = packages::versions(db, &first.course.id).await.unwrap();
        assert_eq!(versions.iter().map(|v| v.version).collect::<Vec<_>>(), vec![2, 1]);
        assert!(
            store.package_dir(&first.package.id).is_dir(),
            "the old version's files stay for attempts that ran on it"
        );

        // A new course whose slug is taken fails after extraction: no rows, no files.
        let before = files(content.path());
        let clash = packages::import_package(
            db,
            &store,
            request(
                "valid/scorm12_single_sco_moodle.zip",
                CourseTarget::New { organisation_id: org.id.clone(), title: None, slug: Some("golf".into()) },
                None,
            ),
            None,
        )
        .await;
        assert!(clash.is_err(), "a taken slug is an error");
        assert_eq!(files(content.path()), before, "the failed import left no files");
        assert_eq!(count(db, "packages").await, 2);
        assert_eq!(count(db, "courses").await, 1);
    }
}

#[tokio::test]
async fn progress_is_reported_up_to_the_total() {
    let t = TestDb::sqlite().await;
    let content = tempfile::tempdir().unwrap();
    let store = ContentStore::new(content.path());
    let org = organisations::create(&t.db, "ipa", "IPA").await.unwrap();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = seen.clone();
    let progress: packages::ProgressFn =
        std::sync::Arc::new(move |done, total| sink.lock().unwrap().push((done, total)));
    let outcome = packages::import_package(
        &t.db,
        &store,
        request(
            "valid/scorm12_golf_RuntimeMinimumCalls_SCORM12_multisco.zip",
            CourseTarget::New { organisation_id: org.id, title: None, slug: None },
            None,
        ),
        Some(progress),
    )
    .await
    .unwrap();
    let ImportOutcome::Imported(imported) = outcome else { panic!("refused") };
    let seen = seen.lock().unwrap();
    let (last_done, total) = *seen.last().unwrap();
    assert_eq!(last_done, total);
    assert_eq!(total as i64, imported.package.content_bytes);
    assert!(seen.windows(2).all(|w| w[0].0 <= w[1].0), "progress only grows");
}
