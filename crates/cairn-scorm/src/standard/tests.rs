//! Tests for finding the manifest and detecting versions.

use super::*;
use crate::manifest::xml;

#[test]
fn the_manifest_or_the_other_standard_is_found() {
    type Case<'a> = (&'a str, &'a [&'a str], Option<&'a str>, &'a str, Option<Standard>, &'a [&'a str]);
    let cases: &[Case<'_>] = &[
        ("root", &["imsmanifest.xml", "a.html"], Some("imsmanifest.xml"), "", None, &[]),
        ("odd case", &["IMSManifest.xml"], Some("IMSManifest.xml"), "", None, &["manifest_name_case"]),
        (
            "junk ignored",
            &["course", "course/imsmanifest.xml", "__MACOSX/course/._imsmanifest.xml", ".DS_Store"],
            Some("course/imsmanifest.xml"),
            "course/",
            None,
            &["manifest_in_subfolder"],
        ),
        ("two folders", &["a/imsmanifest.xml", "b/x.html"], None, "", Some(Standard::Unknown), &["no_manifest"]),
        ("nothing", &["test.htm"], None, "", Some(Standard::Unknown), &["no_manifest"]),
        ("empty", &[], None, "", Some(Standard::Unknown), &["no_manifest"]),
        ("cmi5", &["cmi5.xml", "index.html"], None, "", Some(Standard::Cmi5), &["unsupported_standard"]),
        ("xapi", &["tincan.xml", "index.html"], None, "", Some(Standard::Xapi), &["unsupported_standard"]),
        ("aicc", &["c.crs", "c.au", "c.des", "c.cst"], None, "", Some(Standard::Aicc), &["unsupported_standard"]),
        ("lone cst", &["moodle.cst"], None, "", Some(Standard::Aicc), &["incomplete_aicc"]),
        ("web", &["index.html", "story.js"], None, "", Some(Standard::Web), &["unsupported_standard"]),
        ("web in folder", &["site/index.html"], None, "site/", Some(Standard::Web), &["unsupported_standard"]),
    ];
    for (what, paths, manifest, root, other, codes) in cases {
        let layout = locate(paths.iter().copied());
        assert_eq!(layout.manifest.as_deref(), *manifest, "{what}");
        assert_eq!(layout.root, *root, "{what}");
        assert_eq!(layout.other, *other, "{what}");
        let found: Vec<&str> = layout.diagnostics.iter().map(|d| d.code).collect();
        assert_eq!(found, *codes, "{what}");
    }
}

#[test]
fn versions_come_from_schemaversion_then_namespaces() {
    let with_version = |version: &str| {
        format!("<manifest xmlns=\"http://www.imsglobal.org/xsd/imscp_v1p1\"><metadata><schema>ADL SCORM</schema><schemaversion>{version}</schemaversion></metadata></manifest>")
    };
    let cases: Vec<(String, Standard, Option<Edition>, bool)> = vec![
        (with_version("1.2"), Standard::Scorm12, None, false),
        (with_version(" CAM 1.3 "), Standard::Scorm2004, Some(Edition::Second), false),
        (with_version("2004 3rd Edition"), Standard::Scorm2004, Some(Edition::Third), false),
        (with_version("2004 4th edition"), Standard::Scorm2004, Some(Edition::Fourth), false),
        (with_version("1.1"), Standard::Scorm12, None, true),
        (
            "<manifest xmlns=\"http://www.imsproject.org/xsd/imscp_rootv1p1p2\" xmlns:adlcp=\"http://www.adlnet.org/xsd/adlcp_rootv1p2\"><resources><resource adlcp:scormtype=\"sco\"/></resources></manifest>".to_owned(),
            Standard::Scorm12,
            None,
            true,
        ),
        (
            "<manifest xmlns=\"http://www.imsglobal.org/xsd/imscp_v1p1\"><organizations><organization><item><s:sequencing xmlns:s=\"http://www.imsglobal.org/xsd/imsss\"/></item></organization></organizations></manifest>".to_owned(),
            Standard::Scorm2004,
            None,
            true,
        ),
    ];
    for (text, standard, edition, warned) in cases {
        let document = xml::parse(text.as_bytes()).unwrap();
        let mut diagnostics = Vec::new();
        let version = detect_version(&document.root, &mut diagnostics);
        assert_eq!(version.standard, standard, "{text}");
        assert_eq!(version.edition, edition, "{text}");
        assert_eq!(!diagnostics.is_empty(), warned, "{text}");
    }
}
