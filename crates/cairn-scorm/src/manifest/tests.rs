//! Tests for building packages from manifest text, as tables of small manifests.

use super::*;

const CP_2004: &str = r#"xmlns="http://www.imsglobal.org/xsd/imscp_v1p1" xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_v1p3" xmlns:imsss="http://www.imsglobal.org/xsd/imsss" xmlns:adlnav="http://www.adlnet.org/xsd/adlnav_v1p3""#;
const CP_12: &str =
    r#"xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2" xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2""#;

/// A manifest with one organisation holding `items` and a SCO resource `r` (and `r2`).
fn manifest(namespaces: &str, version: &str, items: &str, extra: &str) -> String {
    let attribute = if namespaces == CP_12 { "scormtype" } else { "scormType" };
    format!(
        r#"<manifest identifier="m" {namespaces}><metadata><schemaversion>{version}</schemaversion></metadata>
<organizations default="o"><organization identifier="o"><title>T</title>{items}</organization></organizations>
<resources><resource identifier="r" type="webcontent" adlcp:{attribute}="sco" href="a.html"/>
<resource identifier="r2" type="webcontent" adlcp:{attribute}="asset" href="b.html"/></resources>{extra}</manifest>"#
    )
}

fn codes(parsed: &ParsedManifest) -> Vec<&'static str> {
    parsed.diagnostics.iter().map(|d| d.code).collect()
}

#[test]
fn item_data_is_read_per_version() {
    type Case<'a> = (&'a str, String, fn(&Item) -> bool, &'a [&'a str]);
    let cases: Vec<Case<'_>> = vec![
        (
            "1.2 data with mis-cased element",
            manifest(
                CP_12,
                "1.2",
                r#"<item identifier="i" identifierref="r"><title>I</title><adlcp:masteryscore>75</adlcp:masteryscore><adlcp:maxTimeAllowed>00:10:00</adlcp:maxTimeAllowed><adlcp:timelimitaction>exit,no message</adlcp:timelimitaction></item>"#,
                "",
            ),
            |i| {
                i.mastery_score == Some(75.0)
                    && i.max_time_allowed.as_deref() == Some("00:10:00")
                    && i.time_limit_action.as_deref() == Some("exit,no message")
            },
            &["miscased_element"],
        ),
        (
            "1.2 invalid values are warned about",
            manifest(
                CP_12,
                "1.2",
                r#"<item identifier="i" identifierref="r" isvisible="maybe"><title>I</title><adlcp:masteryscore>high</adlcp:masteryscore><adlcp:timelimitaction>stop</adlcp:timelimitaction></item>"#,
                "",
            ),
            |i| i.mastery_score.is_none() && i.visible && i.time_limit_action.as_deref() == Some("stop"),
            &["invalid_value", "invalid_value", "invalid_value"],
        ),
        (
            "1.2 parent item with a resource and children",
            manifest(
                CP_12,
                "1.2",
                r#"<item identifier="p" identifierref="r"><title>P</title><item identifier="c" identifierref="r" isvisible="false"><title>C</title></item></item>"#,
                "",
            ),
            |i| i.launch.as_deref() == Some("a.html") && !i.items[0].visible,
            &[],
        ),
        (
            "2004 3rd edition threshold and launch data",
            manifest(
                CP_2004,
                "2004 3rd Edition",
                r#"<item identifier="i" identifierref="r"><title>I</title><adlcp:completionThreshold>0.75</adlcp:completionThreshold><adlcp:dataFromLMS>abc</adlcp:dataFromLMS><adlcp:timeLimitAction>continue,message</adlcp:timeLimitAction></item>"#,
                "",
            ),
            |i| {
                i.completion_threshold.as_ref().and_then(|t| t.value) == Some(0.75)
                    && i.data_from_lms.as_deref() == Some("abc")
                    && i.time_limit_action.is_some()
            },
            &[],
        ),
        (
            "2004 sequencing reference and presentation",
            manifest(
                CP_2004,
                "2004 4th Edition",
                r#"<item identifier="i" identifierref="r"><title>I</title><imsss:sequencing IDRef="shared"/><adlnav:presentation><adlnav:navigationInterface><adlnav:hideLMSUI>continue</adlnav:hideLMSUI></adlnav:navigationInterface></adlnav:presentation></item>"#,
                r#"<imsss:sequencingCollection><imsss:sequencing ID="shared"><imsss:objectives><imsss:primaryObjective objectiveID="obj"/></imsss:objectives></imsss:sequencing></imsss:sequencingCollection>"#,
            ),
            |i| {
                let s = i.sequencing.as_ref().unwrap();
                s.referenced.is_some()
                    && i.objectives.len() == 1
                    && i.objectives[0].id == "obj"
                    && i.presentation.is_some()
            },
            &[],
        ),
        (
            "2004 dangling sequencing reference",
            manifest(
                CP_2004,
                "2004 4th Edition",
                r#"<item identifier="i" identifierref="r"><title>I</title><imsss:sequencing IDRef="nowhere"/></item>"#,
                "",
            ),
            |i| i.sequencing.as_ref().is_some_and(|s| s.referenced.is_none()),
            &["dangling_sequencing_ref"],
        ),
        (
            "2004 asset resource and trimmed identifierref",
            manifest(
                CP_2004,
                "2004 4th Edition",
                r#"<item identifier="i" identifierref="  r2 "><title>I</title></item>"#,
                "",
            ),
            |i| i.scorm_type == Some(ScormType::Asset) && i.launch.as_deref() == Some("b.html"),
            &[],
        ),
    ];
    for (what, text, check, expected) in cases {
        let parsed = parse(text.as_bytes(), "");
        let package = parsed.package.as_ref().unwrap_or_else(|| panic!("{what}: {:?}", parsed.diagnostics));
        let item = package.all_items()[0];
        assert!(check(item), "{what}: {item:#?}");
        assert_eq!(codes(&parsed), expected, "{what}: {:#?}", parsed.diagnostics);
    }
}

#[test]
fn manifests_that_are_not_usable() {
    let cases: Vec<(&str, String, &[&str])> = vec![
        ("declaration only", r#"<?xml version="1.0" encoding="UTF-8"?>"#.to_owned(), &["empty_manifest"]),
        ("wrong root", "<courseStructure/>".to_owned(), &["not_a_manifest"]),
        ("malformed", "<manifest><a></manifest>".to_owned(), &["malformed_xml"]),
        (
            "no organizations and no resources",
            format!(
                "<manifest identifier=\"m\" {CP_12}><metadata><schemaversion>1.2</schemaversion></metadata></manifest>"
            ),
            &["empty_organizations", "no_launchable_items"],
        ),
        (
            "resource without href",
            manifest(CP_12, "1.2", r#"<item identifier="i" identifierref="r3"><title>I</title></item>"#, "").replace(
                "</resources>",
                r#"<resource identifier="r3" type="webcontent" adlcp:scormtype="sco"/></resources>"#,
            ),
            &["missing_launch_href", "no_launchable_items"],
        ),
        (
            "launch outside the package",
            manifest(CP_12, "1.2", r#"<item identifier="i" identifierref="r"><title>I</title></item>"#, "")
                .replace("a.html", "../a.html"),
            &["launch_outside_package", "no_launchable_items"],
        ),
    ];
    for (what, text, expected) in cases {
        let parsed = parse(text.as_bytes(), "");
        assert_eq!(codes(&parsed), expected, "{what}: {:#?}", parsed.diagnostics);
    }
}

#[test]
fn prerequisites_the_player_would_ignore_are_warned_about_where_they_are() {
    let item = |id: &str, script: &str| {
        format!(
            r#"<item identifier="{id}" identifierref="r"><title>{id}</title>
<adlcp:prerequisites type="aicc_script">{script}</adlcp:prerequisites></item>"#
        )
    };
    // (what, items, expected codes)
    let cases: Vec<(&str, String, &[&str])> = vec![
        ("valid scripts", format!("{}{}", item("a", "b"), item("b", "~a | a = &quot;failed&quot;")), &[]),
        ("an empty script is no script", item("a", " "), &[]),
        ("a script that does not parse", format!("{}{}", item("a", "b &amp;"), item("b", "")), &["invalid_prerequisites"]),
        ("an unknown item", item("a", "intro"), &["dangling_prerequisite"]),
        ("waiting on itself", item("a", "a"), &["unsatisfiable_prerequisites"]),
        ("English operator words", format!("{}{}", item("a", "b OR NOT b"), item("b", "")), &["nonstandard_prerequisites"]),
        (
            "another type",
            r#"<item identifier="a" identifierref="r"><title>A</title><adlcp:prerequisites type="other">b</adlcp:prerequisites></item>"#
                .to_owned(),
            &["invalid_prerequisites"],
        ),
        (
            "a mis-cased element is still checked",
            r#"<item identifier="a" identifierref="r"><title>A</title><adlcp:Prerequisites type="aicc_script">x</adlcp:Prerequisites></item>"#
                .to_owned(),
            &["miscased_element", "dangling_prerequisite"],
        ),
    ];
    for (what, items, expected) in cases {
        let parsed = parse(manifest(CP_12, "1.2", &items, "").as_bytes(), "");
        assert_eq!(codes(&parsed), expected, "{what}: {:#?}", parsed.diagnostics);
    }

    // The warning points at the element and names the item and the problem.
    let parsed = parse(manifest(CP_12, "1.2", &item("a", "a &amp;&amp; b"), "").as_bytes(), "");
    let warning = &parsed.diagnostics[0];
    let location = warning.location.as_ref().expect("a location");
    assert_eq!(
        (location.path.as_str(), location.line, location.column),
        ("/manifest/organizations/organization[1]/item[1]", Some(3), Some(1))
    );
    assert!(warning.message.contains("`a && b` of item `a`"), "{}", warning.message);
    assert!(warning.message.contains("unexpected `&` at character 4"), "{}", warning.message);
}
