//! Inspects every real package under `shared/fixtures/scorm` and checks it against the
//! fixtures README: valid packages import with the described structure (and their inspect
//! JSON is snapshotted), invalid ones are refused, other standards are named.

use std::fs::File;
use std::path::PathBuf;

use cairn_scorm::{inspect, Edition, Inspection, Limits, ScormType, Standard};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/fixtures/scorm");

fn fixture_path(relative: &str) -> PathBuf {
    let path = PathBuf::from(FIXTURES).join(relative);
    assert!(
        path.is_file(),
        "fixture {} is missing: the real packages must be at shared/fixtures/scorm beside the project",
        path.display()
    );
    path
}

fn inspect_fixture(relative: &str) -> Inspection {
    let file = File::open(fixture_path(relative)).expect("open fixture");
    inspect(std::io::BufReader::new(file), &Limits::default())
}

fn listed(folder: &str) -> Vec<String> {
    let dir = PathBuf::from(FIXTURES).join(folder);
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|error| {
        panic!(
            "cannot read fixture folder {}: {error}; the real packages must be at shared/fixtures/scorm",
            dir.display()
        )
    });
    let mut names: Vec<String> = entries
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".zip"))
        .collect();
    names.sort();
    names
}

/// What the README says about each valid package: standard, edition, SCO and asset resources,
/// launchable items, and the warnings it must produce.
struct Valid {
    file: &'static str,
    standard: Standard,
    edition: Option<Edition>,
    sco_resources: usize,
    asset_resources: usize,
    launchable_items: usize,
    warnings: &'static [&'static str],
}

const VALID: &[Valid] = &[
    Valid {
        file: "scorm12_golf_ContentPackagingOneFilePerSCO_SCORM12_assets.zip",
        standard: Standard::Scorm12,
        edition: None,
        sco_resources: 0,
        asset_resources: 19,
        launchable_items: 18,
        warnings: &[],
    },
    Valid {
        file: "scorm12_golf_RuntimeBasicCalls_SCORM12.zip",
        standard: Standard::Scorm12,
        edition: None,
        sco_resources: 1,
        asset_resources: 0,
        launchable_items: 1,
        warnings: &[],
    },
    Valid {
        file: "scorm12_golf_RuntimeMinimumCalls_SCORM12_multisco.zip",
        standard: Standard::Scorm12,
        edition: None,
        sco_resources: 18,
        asset_resources: 1,
        launchable_items: 18,
        warnings: &[],
    },
    Valid {
        file: "scorm12_golf_missing_organizations.zip",
        standard: Standard::Scorm12,
        edition: None,
        sco_resources: 1,
        asset_resources: 0,
        launchable_items: 1,
        warnings: &["empty_organizations"],
    },
    Valid {
        file: "scorm12_single_sco_moodle.zip",
        standard: Standard::Scorm12,
        edition: None,
        sco_resources: 1,
        asset_resources: 0,
        launchable_items: 1,
        warnings: &[],
    },
    Valid {
        file: "scorm12_synthetic_PrerequisitesTest_SCORM12.zip",
        standard: Standard::Scorm12,
        edition: None,
        sco_resources: 4,
        asset_resources: 0,
        launchable_items: 4,
        warnings: &["miscased_element", "nonstandard_prerequisites"],
    },
    Valid {
        file: "scorm2004_golf_ContentPackagingSingleSCO_SCORM20042ndEdition_CAM13.zip",
        standard: Standard::Scorm2004,
        edition: Some(Edition::Second),
        sco_resources: 1,
        asset_resources: 0,
        launchable_items: 1,
        warnings: &[],
    },
    Valid {
        file: "scorm2004_golf_RuntimeBasicCalls_SCORM20043rdEdition.zip",
        standard: Standard::Scorm2004,
        edition: Some(Edition::Third),
        sco_resources: 1,
        asset_resources: 0,
        launchable_items: 1,
        warnings: &[],
    },
    Valid {
        file: "scorm2004_golf_SequencingSimpleRemediation_SCORM20043rdEdition.zip",
        standard: Standard::Scorm2004,
        edition: Some(Edition::Third),
        sco_resources: 5,
        asset_resources: 1,
        launchable_items: 8,
        warnings: &[],
    },
];

#[test]
fn every_valid_package_imports_with_its_described_structure() {
    let covered: Vec<&str> = VALID.iter().map(|v| v.file).collect();
    assert_eq!(listed("valid"), covered, "every package in valid/ needs a row in VALID");
    for expected in VALID {
        let inspection = inspect_fixture(&format!("valid/{}", expected.file));
        assert!(inspection.is_importable(), "{}: {:#?}", expected.file, inspection.errors);
        assert_eq!(inspection.standard, expected.standard, "{}", expected.file);
        assert_eq!(inspection.edition, expected.edition, "{}", expected.file);
        let package = inspection.package.as_ref().unwrap();
        let count = |kind| package.resources.iter().filter(|r| r.scorm_type == kind).count();
        assert_eq!(count(ScormType::Sco), expected.sco_resources, "{} SCOs", expected.file);
        assert_eq!(count(ScormType::Asset), expected.asset_resources, "{} assets", expected.file);
        let launchable = package.all_items().iter().filter(|i| i.launch.is_some()).count();
        assert_eq!(launchable, expected.launchable_items, "{} launchable items", expected.file);
        let mut warnings: Vec<&str> = inspection.warnings.iter().map(|w| w.code).collect();
        warnings.dedup();
        assert_eq!(warnings, expected.warnings, "{}: {:#?}", expected.file, inspection.warnings);
        let name = expected.file.trim_end_matches(".zip");
        insta::assert_json_snapshot!(name, inspection);
    }
}

#[test]
fn the_text_report_shows_the_tree_with_launch_urls() {
    let inspection = inspect_fixture("valid/scorm12_golf_RuntimeMinimumCalls_SCORM12_multisco.zip");
    insta::assert_snapshot!("multisco_text", inspection.render_text());
    let inspection = inspect_fixture("valid/scorm2004_golf_SequencingSimpleRemediation_SCORM20043rdEdition.zip");
    insta::assert_snapshot!("remediation_text", inspection.render_text());
}

#[test]
fn every_invalid_package_is_refused_with_a_clear_message() {
    let cases = [
        ("manifest_declaration_only.zip", "empty_manifest"),
        ("manifest_in_subfolder_declaration_only.zip", "empty_manifest"),
        ("no_manifest.zip", "no_manifest"),
    ];
    let covered: Vec<&str> = cases.iter().map(|c| c.0).collect();
    assert_eq!(listed("invalid"), covered, "every package in invalid/ needs a case");
    for (file, code) in cases {
        let inspection = inspect_fixture(&format!("invalid/{file}"));
        assert!(!inspection.is_importable(), "{file}");
        let codes: Vec<&str> = inspection.errors.iter().map(|e| e.code).collect();
        assert_eq!(codes, [code], "{file}");
        assert!(inspection.errors[0].message.len() > 40, "{file}: the message should explain");
        insta::assert_json_snapshot!(format!("invalid_{}", file.trim_end_matches(".zip")), inspection);
    }
}

#[test]
fn other_standards_are_named_and_refused() {
    let cases = [
        ("aicc_complex.zip", Standard::Aicc, "unsupported_standard"),
        ("aicc_minimal_cst_only.zip", Standard::Aicc, "incomplete_aicc"),
        ("cmi5_catapult_multi_au_framed.zip", Standard::Cmi5, "unsupported_standard"),
    ];
    let covered: Vec<&str> = cases.iter().map(|c| c.0).collect();
    assert_eq!(listed("other"), covered, "every package in other/ needs a case");
    for (file, standard, code) in cases {
        let inspection = inspect_fixture(&format!("other/{file}"));
        assert_eq!(inspection.standard, standard, "{file}");
        assert!(!inspection.is_importable(), "{file}");
        let codes: Vec<&str> = inspection.errors.iter().map(|e| e.code).collect();
        assert_eq!(codes, [code], "{file}");
        let json = serde_json::to_value(&inspection).unwrap();
        assert_eq!(json["standard"], serde_json::to_value(standard).unwrap());
        assert_eq!(json["importable"], false);
    }
}
