//! Inspects packages built in memory: hostile archives and the manifest edge cases real
//! packages have (encoded hrefs, other prefixes, BOMs, xml:base chains, wrapping folders).

use std::io::{Cursor, Write};

use cairn_scorm::{inspect, Inspection, Limits, Standard};
use zip::write::SimpleFileOptions;
use zip::CompressionMethod;

const MIB: usize = 1024 * 1024;

fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    for (name, data) in files {
        writer.start_file(*name, options).unwrap();
        writer.write_all(data).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

fn run(bytes: Vec<u8>, limits: &Limits) -> Inspection {
    inspect(Cursor::new(bytes), limits)
}

fn error_codes(inspection: &Inspection) -> Vec<&'static str> {
    inspection.errors.iter().map(|e| e.code).collect()
}

/// A SCORM 1.2 manifest whose single resource has the given attributes and item parameters.
fn manifest_12(resource_attributes: &str, parameters: &str) -> String {
    format!(
        r#"<?xml version="1.0"?>
<manifest identifier="m" xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2" xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2">
  <metadata><schema>ADL SCORM</schema><schemaversion>1.2</schemaversion></metadata>
  <organizations default="o"><organization identifier="o"><title>T</title>
    <item identifier="i" identifierref="r" {parameters}><title>I</title></item>
  </organization></organizations>
  <resources><resource identifier="r" type="webcontent" adlcp:scormtype="sco" {resource_attributes}/></resources>
</manifest>"#
    )
}

#[test]
fn hostile_archives_are_refused_as_errors() {
    let page: &[u8] = b"<html></html>";
    let manifest = manifest_12(r#"href="a.html""#, "");
    let bomb = vec![b'a'; 8 * MIB];
    let huge_manifest = format!("<manifest>{}</manifest>", " ".repeat(9 * MIB));
    let many: Vec<(String, &[u8])> = (0..30).map(|i| (format!("f{i}.html"), page)).collect();
    let many: Vec<(&str, &[u8])> = many.iter().map(|(n, d)| (n.as_str(), *d)).collect();
    let deep = format!("{}a.html", "d/".repeat(40));
    let few_entries = Limits { max_entries: 20, ..Limits::default() };
    let cases: Vec<(&str, Vec<u8>, Limits, &str)> = vec![
        (
            "zip slip",
            zip_of(&[("imsmanifest.xml", manifest.as_bytes()), ("../evil.html", page)]),
            Limits::default(),
            "path_traversal",
        ),
        ("absolute", zip_of(&[("/abs.html", page)]), Limits::default(), "absolute_path"),
        ("drive letter", zip_of(&[("C:\\x.html", page)]), Limits::default(), "drive_letter_path"),
        ("backslash traversal", zip_of(&[("a\\..\\..\\evil.html", page)]), Limits::default(), "path_traversal"),
        (
            "zip bomb",
            zip_of(&[("imsmanifest.xml", manifest.as_bytes()), ("a.html", &bomb)]),
            Limits::default(),
            "compression_ratio",
        ),
        ("too many entries", zip_of(&many), few_entries, "too_many_entries"),
        (
            "huge manifest",
            zip_of(&[("imsmanifest.xml", huge_manifest.as_bytes())]),
            Limits { max_compression_ratio: 100_000, ..Limits::default() },
            "manifest_too_large",
        ),
        ("deep nesting", zip_of(&[(deep.as_str(), page)]), Limits::default(), "path_too_deep"),
        ("case duplicates", zip_of(&[("A.html", page), ("a.html", page)]), Limits::default(), "case_collision"),
        ("not a zip", b"this is not a zip".to_vec(), Limits::default(), "not_a_zip"),
    ];
    for (what, bytes, limits, code) in cases {
        let inspection = run(bytes, &limits);
        assert_eq!(error_codes(&inspection), [code], "{what}");
        assert!(!inspection.is_importable(), "{what}");
        let json = serde_json::to_value(&inspection).unwrap();
        assert_eq!(json["importable"], false, "{what}");
    }
}

#[test]
fn a_symlink_entry_is_refused() {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    writer.add_symlink("imsmanifest.xml", "/etc/passwd", SimpleFileOptions::default()).unwrap();
    let inspection = run(writer.finish().unwrap().into_inner(), &Limits::default());
    assert_eq!(error_codes(&inspection), ["symlink_entry"]);
}

#[test]
fn manifest_edge_cases_from_real_packages() {
    let page: &[u8] = b"<html></html>";
    let other_prefixes = r#"<cp:manifest identifier="m" xmlns:cp="http://www.imsglobal.org/xsd/imscp_v1p1" xmlns:a="http://www.adlnet.org/xsd/adlcp_v1p3" xmlns:seq="http://www.imsglobal.org/xsd/imsss">
  <cp:metadata><cp:schema>ADL SCORM</cp:schema><cp:schemaversion>2004 4th Edition</cp:schemaversion></cp:metadata>
  <cp:organizations default="o"><cp:organization identifier="o"><cp:title>T</cp:title>
    <cp:item identifier="i" identifierref="r"><cp:title>I</cp:title>
      <a:completionThreshold completedByMeasure="true" minProgressMeasure="0.8"/>
      <seq:sequencing><seq:objectives><seq:primaryObjective objectiveID="p"/><seq:objective objectiveID="o2"/></seq:objectives></seq:sequencing>
    </cp:item>
  </cp:organization></cp:organizations>
  <cp:resources><cp:resource identifier="r" type="webcontent" a:scormType="sco" href="index.html"/></cp:resources>
</cp:manifest>"#;
    let xml_base = r#"<manifest identifier="m" xml:base="course/" xmlns="http://www.imsglobal.org/xsd/imscp_v1p1" xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_v1p3">
  <metadata><schemaversion>2004 3rd Edition</schemaversion></metadata>
  <organizations default="o"><organization identifier="o"><title>T</title>
    <item identifier="i" identifierref="r" parameters="tc=1&amp;act=2"><title>I</title></item>
  </organization></organizations>
  <resources xml:base="res/"><resource identifier="r" type="webcontent" adlcp:scormType="sco" xml:base="sco1/" href="start.html?x=1"/></resources>
</manifest>"#;
    let encoded = manifest_12(r#"href="my%20file.html""#, r##"parameters="#top""##);
    let bom = [b"\xEF\xBB\xBF".as_slice(), manifest_12(r#"href="a.html""#, "").as_bytes()].concat();
    let wrapped = manifest_12(r#"href="a.html""#, "");
    type Case<'a> = (&'a str, Vec<(&'a str, &'a [u8])>, &'a str, &'a str, &'a [&'a str]);
    let cases: Vec<Case<'_>> = vec![
        (
            "other prefixes",
            vec![("imsmanifest.xml", other_prefixes.as_bytes()), ("index.html", page)],
            "index.html",
            "",
            &[],
        ),
        (
            "xml:base chain",
            vec![("imsmanifest.xml", xml_base.as_bytes()), ("course/res/sco1/start.html", page)],
            "course/res/sco1/start.html?x=1&tc=1&act=2",
            "",
            &[],
        ),
        (
            "encoded href",
            vec![("imsmanifest.xml", encoded.as_bytes()), ("my file.html", page)],
            "my%20file.html#top",
            "",
            &[],
        ),
        ("bom", vec![("imsmanifest.xml", &bom), ("a.html", page)], "a.html", "", &[]),
        (
            "wrapping folder",
            vec![
                ("course/imsmanifest.xml", wrapped.as_bytes()),
                ("course/a.html", page),
                ("__MACOSX/course/._a.html", page),
            ],
            "a.html",
            "course/",
            &["manifest_in_subfolder"],
        ),
    ];
    for (what, files, launch, root, warnings) in cases {
        let inspection = run(zip_of(&files), &Limits::default());
        assert!(inspection.is_importable(), "{what}: {:#?}", inspection.errors);
        assert_eq!(inspection.package_root, root, "{what}");
        let package = inspection.package.as_ref().unwrap();
        let item = package.all_items()[0];
        assert_eq!(item.launch.as_deref(), Some(launch), "{what}");
        let codes: Vec<&str> = inspection.warnings.iter().map(|w| w.code).collect();
        assert_eq!(codes, warnings, "{what}");
        if what == "other prefixes" {
            let ids: Vec<(&str, bool)> = item.objectives.iter().map(|o| (o.id.as_str(), o.primary)).collect();
            assert_eq!(ids, [("p", true), ("o2", false)]);
            let threshold = item.completion_threshold.as_ref().unwrap();
            assert_eq!(threshold.completed_by_measure, Some(true));
            assert_eq!(threshold.min_progress_measure, Some(0.8));
        }
    }
}

#[test]
fn broken_manifests_get_located_errors() {
    let page: &[u8] = b"<html></html>";
    let dangling = manifest_12(r#"href="a.html""#, "").replace(r#"identifierref="r""#, r#"identifierref="nope""#);
    let missing = manifest_12(r#"href="gone.html""#, "");
    let duplicate = manifest_12(r#"href="a.html""#, "")
        .replace(r#"identifier="o""#, r#"identifier="i""#)
        .replace(r#"default="o""#, r#"default="i""#);
    let empty_item = manifest_12(r#"href="a.html""#, "")
        .replace("</organization>", r#"<item identifier="e"><title>E</title></item></organization>"#);
    let wrong_default = manifest_12(r#"href="a.html""#, "").replace(r#"default="o""#, r#"default="x""#);
    let malformed = "<manifest>\n  <organizations>\n</manifest>";
    let cases: Vec<(&str, String, &[&str], &[&str])> = vec![
        ("dangling identifierref", dangling, &["dangling_identifierref", "no_launchable_items"], &[]),
        ("launch file missing", missing, &["launch_file_missing"], &[]),
        ("duplicate identifier", duplicate, &["duplicate_identifier"], &[]),
        ("empty item", empty_item, &["empty_item"], &[]),
        ("default organization missing", wrong_default, &[], &["default_organization_missing"]),
        ("malformed", malformed.to_owned(), &["malformed_xml"], &[]),
    ];
    for (what, manifest, errors, warnings) in cases {
        let inspection = run(zip_of(&[("imsmanifest.xml", manifest.as_bytes()), ("a.html", page)]), &Limits::default());
        assert_eq!(error_codes(&inspection), errors, "{what}");
        let codes: Vec<&str> = inspection.warnings.iter().map(|w| w.code).collect();
        assert_eq!(codes, warnings, "{what}");
        for diagnostic in inspection.errors.iter().chain(&inspection.warnings) {
            let location = diagnostic.location.as_ref();
            assert!(location.is_some_and(|l| l.line.is_some()), "{what}: {diagnostic:?} should have a line");
        }
    }
    let inspection = run(zip_of(&[("imsmanifest.xml", malformed.as_bytes())]), &Limits::default());
    assert!(inspection.errors[0].message.contains("line 3"), "{}", inspection.errors[0].message);
}

#[test]
fn inspect_never_panics_on_mangled_zips() {
    let page: &[u8] = b"<html></html>";
    let manifest = manifest_12(r#"href="a.html""#, "");
    let good = zip_of(&[("imsmanifest.xml", manifest.as_bytes()), ("a.html", page)]);
    // Flip each byte in turn (and truncate at each length): whatever comes out, it must be an
    // Inspection, and an importable one only when the manifest still reads.
    for index in 0..good.len() {
        let mut bytes = good.clone();
        bytes[index] ^= 0xFF;
        let inspection = run(bytes, &Limits::default());
        if inspection.is_importable() {
            assert_eq!(inspection.standard, Standard::Scorm12);
        }
        let _ = run(good[..index].to_vec(), &Limits::default());
    }
}
