//! The demo course in `courses/egov-readiness` is a valid SCORM 2004 4th Edition package.
//!
//! The folder is zipped in memory the way `cairn serve --demo` ships it (the folder's contents
//! at the root of the zip) and run through [`inspect`]: it must import with no error and no
//! warning, have the expected outline, and its manifest must list exactly the files in the
//! folder. The pages may only load files of the package, so the course works offline.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use cairn_scorm::manifest::XmlElement;
use cairn_scorm::{inspect, Edition, Inspection, Limits, Package, ScormType, Standard};

const COURSE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../courses/egov-readiness");
const TITLE: &str = "E-government readiness: an introduction for civil servants";
/// Files of the folder that no resource lists: the manifest itself, and the README for people
/// who open the folder (it is zipped along, which is harmless).
const NOT_CONTENT: &[&str] = &["README.md", "imsmanifest.xml"];
const MAX_PACKAGE_BYTES: u64 = 200 * 1024;

/// Every file under the course folder as a `/`-separated path relative to it, sorted.
fn course_files() -> &'static [String] {
    static FILES: OnceLock<Vec<String>> = OnceLock::new();
    FILES.get_or_init(|| {
        fn walk(dir: &Path, prefix: &str, out: &mut Vec<String>) {
            let entries = std::fs::read_dir(dir)
                .unwrap_or_else(|error| panic!("cannot read the demo course folder {}: {error}", dir.display()));
            for entry in entries {
                let entry = entry.unwrap();
                let name = entry.file_name().to_string_lossy().into_owned();
                let relative = format!("{prefix}{name}");
                if entry.file_type().unwrap().is_dir() {
                    walk(&entry.path(), &format!("{relative}/"), out);
                } else {
                    out.push(relative);
                }
            }
        }
        let mut files = Vec::new();
        walk(Path::new(COURSE), "", &mut files);
        files.sort();
        files
    })
}

fn course_path(relative: &str) -> PathBuf {
    Path::new(COURSE).join(relative)
}

/// The folder zipped in memory, entries in a stable order, with deflate like a real upload.
fn zipped_course() -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for file in course_files() {
        writer.start_file(file.as_str(), options).unwrap();
        writer.write_all(&std::fs::read(course_path(file)).unwrap()).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

fn inspection() -> &'static Inspection {
    static INSPECTION: OnceLock<Inspection> = OnceLock::new();
    INSPECTION.get_or_init(|| inspect(Cursor::new(zipped_course()), &Limits::default()))
}

fn package() -> &'static Package {
    inspection()
        .package
        .as_ref()
        .unwrap_or_else(|| panic!("the manifest was not read:\n{}", inspection().render_text()))
}

fn child<'a>(element: &'a XmlElement, name: &str) -> Option<&'a XmlElement> {
    element.children.iter().find(|c| c.name == name)
}

fn attribute<'a>(element: &'a XmlElement, name: &str) -> Option<&'a str> {
    element.attributes.iter().find(|a| a.name == name).map(|a| a.value.as_str())
}

#[test]
fn imports_as_scorm_2004_4th_edition_without_errors_or_warnings() {
    let inspection = inspection();
    let report = inspection.render_text();
    assert!(inspection.errors.is_empty(), "the demo course has errors:\n{report}");
    assert!(inspection.warnings.is_empty(), "the demo course has warnings:\n{report}");
    assert!(inspection.is_importable(), "{report}");
    assert_eq!(inspection.standard, Standard::Scorm2004, "{report}");
    assert_eq!(inspection.edition, Some(Edition::Fourth), "{report}");
    assert_eq!(inspection.title.as_deref(), Some(TITLE));
    assert_eq!(inspection.package_root, "", "imsmanifest.xml must be at the root of the zip");
    let package = package();
    assert_eq!(package.schema_version.as_deref(), Some("2004 4th Edition"));
    assert_eq!(package.organizations.len(), 1);
    assert_eq!(package.organization().unwrap().identifier, package.default_organization);
}

#[test]
fn outline_is_three_scos_and_one_asset() {
    let items: Vec<(&str, Option<&str>, Option<ScormType>, bool)> = package()
        .all_items()
        .into_iter()
        .map(|item| (item.title.as_str(), item.launch.as_deref(), item.scorm_type, item.visible))
        .collect();
    assert_eq!(
        items,
        [
            ("Why e-government readiness matters", Some("why/index.html"), Some(ScormType::Sco), true),
            ("The dimensions of readiness", Some("dimensions/index.html"), Some(ScormType::Sco), true),
            ("Check your understanding", Some("quiz/index.html"), Some(ScormType::Sco), true),
            ("Readiness self-assessment checklist", Some("checklist/index.html"), Some(ScormType::Asset), true),
        ]
    );
    for item in package().all_items() {
        assert!(item.items.is_empty(), "item `{}` should be a leaf", item.identifier);
        assert_eq!(item.launch, item.launch_file, "item `{}` needs no parameters", item.identifier);
    }
}

#[test]
fn quiz_declares_a_scaled_passing_score_of_0_7() {
    let quiz = package().all_items().into_iter().find(|i| i.title == "Check your understanding").unwrap();
    assert!(quiz.objectives.iter().any(|o| o.primary), "the quiz needs a primary objective: {:?}", quiz.objectives);
    let sequencing = &quiz.sequencing.as_ref().expect("the quiz item has imsss:sequencing").element;
    let primary = child(sequencing, "objectives").and_then(|o| child(o, "primaryObjective")).expect("primaryObjective");
    assert_eq!(attribute(primary, "satisfiedByMeasure"), Some("true"));
    let measure = child(primary, "minNormalizedMeasure").and_then(|m| m.text.as_deref());
    assert_eq!(measure.map(|m| m.parse::<f64>().unwrap()), Some(0.7));
}

#[test]
fn sequencing_lets_learners_move_freely() {
    let org = package().organization().unwrap();
    let sequencing = &org.sequencing.as_ref().expect("the organization has imsss:sequencing").element;
    let control = child(sequencing, "controlMode").expect("controlMode");
    assert_eq!(attribute(control, "choice"), Some("true"));
    assert_eq!(attribute(control, "flow"), Some("true"));
    assert_eq!(attribute(control, "forwardOnly"), None);
    // Nothing that can hide, disable or skip an activity, and no attempt limits.
    for item in package().all_items() {
        if let Some(sequencing) = &item.sequencing {
            for blocked in ["sequencingRules", "limitConditions", "controlMode"] {
                assert!(
                    child(&sequencing.element, blocked).is_none(),
                    "item `{}` has {blocked}, which may block navigation",
                    item.identifier
                );
            }
        }
    }
}

/// `<file href>` of each resource, plus the files of the resources it depends on.
fn files_by_resource() -> BTreeMap<&'static str, BTreeSet<&'static str>> {
    let package = package();
    let mut closure = BTreeMap::new();
    for resource in &package.resources {
        let mut files = BTreeSet::new();
        let mut pending = vec![resource.identifier.as_str()];
        let mut visited = BTreeSet::new();
        while let Some(id) = pending.pop() {
            if !visited.insert(id) {
                continue;
            }
            let found = package.resource(id).unwrap_or_else(|| panic!("resource `{id}` is not defined"));
            files.extend(found.files.iter().map(String::as_str));
            pending.extend(found.dependencies.iter().map(String::as_str));
        }
        closure.insert(resource.identifier.as_str(), files);
    }
    closure
}

#[test]
fn manifest_and_folder_list_the_same_files() {
    let package = package();
    let on_disk: BTreeSet<&str> =
        course_files().iter().map(String::as_str).filter(|f| !NOT_CONTENT.contains(f)).collect();
    let mut listed = BTreeSet::new();
    for resource in &package.resources {
        assert_eq!(resource.base, None, "resource `{}`: xml:base is not expected", resource.identifier);
        for file in &resource.files {
            assert!(
                course_path(file).is_file(),
                "resource `{}` lists `{file}`, which is not in {COURSE}",
                resource.identifier
            );
            listed.insert(file.as_str());
        }
        if let Some(href) = &resource.href {
            assert!(
                resource.files.contains(href),
                "resource `{}` launches `{href}` but does not list it as a <file>",
                resource.identifier
            );
        }
    }
    let unlisted: Vec<&&str> = on_disk.difference(&listed).collect();
    assert!(unlisted.is_empty(), "files in the folder that no resource lists in imsmanifest.xml: {unlisted:?}");
    let missing: Vec<&&str> = listed.difference(&on_disk).collect();
    assert!(missing.is_empty(), "files listed in imsmanifest.xml but missing from the folder: {missing:?}");

    // Every SCO carries the shared run-time through a dependency.
    let closure = files_by_resource();
    for resource in package.resources.iter().filter(|r| r.scorm_type == ScormType::Sco) {
        assert!(
            closure[resource.identifier.as_str()].contains("shared/scorm2004.js"),
            "SCO resource `{}` must depend on the shared files",
            resource.identifier
        );
    }
}

/// The values of `src="…"` and `href="…"` attributes in an HTML page.
fn references(html: &str) -> Vec<&str> {
    let mut found = Vec::new();
    for marker in [" src=\"", " href=\""] {
        let mut rest = html;
        while let Some(start) = rest.find(marker) {
            rest = &rest[start + marker.len()..];
            let end = rest.find('"').expect("unterminated attribute");
            found.push(&rest[..end]);
            rest = &rest[end..];
        }
    }
    found
}

/// Resolves `reference` against the folder of `page`, both relative to the package root.
fn resolve(page: &str, reference: &str) -> String {
    let path = reference.split(['#', '?']).next().unwrap_or_default();
    let mut parts: Vec<&str> = page.split('/').collect();
    parts.pop();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                assert!(parts.pop().is_some(), "`{reference}` in `{page}` climbs out of the package");
            }
            other => parts.push(other),
        }
    }
    parts.join("/")
}

#[test]
fn pages_load_only_files_of_their_own_resource() {
    let package = package();
    let closure = files_by_resource();
    for resource in &package.resources {
        let Some(page) = &resource.href else { continue };
        let html = std::fs::read_to_string(course_path(page)).unwrap();
        for reference in references(&html) {
            if reference.starts_with('#') {
                continue;
            }
            assert!(
                !reference.contains("://") && !reference.starts_with("//") && !reference.contains(':'),
                "`{page}` refers to `{reference}` outside the package; the course must work offline"
            );
            let target = resolve(page, reference);
            assert!(
                closure[resource.identifier.as_str()].contains(target.as_str()),
                "`{page}` loads `{target}`, which resource `{}` does not list (directly or through a dependency)",
                resource.identifier
            );
        }
    }
    for file in course_files().iter().filter(|f| [".html", ".css", ".js"].iter().any(|e| f.ends_with(e))) {
        let text = std::fs::read_to_string(course_path(file)).unwrap();
        for remote in ["http://", "https://", "@import", "url("] {
            assert!(!text.contains(remote), "`{file}` contains `{remote}`; load nothing from outside the package");
        }
    }
}

#[test]
fn package_is_small() {
    let total: u64 = course_files().iter().map(|f| std::fs::metadata(course_path(f)).unwrap().len()).sum();
    assert!(total < MAX_PACKAGE_BYTES, "the demo course is {total} bytes; keep it under {MAX_PACKAGE_BYTES}");
}

#[test]
fn the_quiz_gives_the_lms_its_scaled_passing_score() {
    let scores: Vec<(&str, Option<f64>)> = package()
        .all_items()
        .into_iter()
        .filter(|i| i.launch.is_some())
        .map(|i| (i.identifier.as_str(), i.scaled_passing_score()))
        .collect();
    let quiz = scores.iter().find(|(_, s)| s.is_some()).expect("one item declares a passing score");
    assert_eq!(quiz.1, Some(0.7));
    assert_eq!(
        scores.iter().filter(|(_, s)| s.is_some()).count(),
        1,
        "only the quiz is satisfied by measure: {scores:?}"
    );
}
