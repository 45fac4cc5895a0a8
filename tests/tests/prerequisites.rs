//! SCORM 1.2 prerequisites in the player over HTTP: locked items are marked in the outline
//! and never launched, commits through the player's own endpoint unlock them, and broken
//! scripts lock nobody out.

use cairn_core::accounts::Role;
use cairn_core::{catalog, packages, tracking};
use cairn_tests::player::{self, launch};
use cairn_tests::{json, Client, TestApp};
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};

/// The CRC-32 a zip entry carries (IEEE polynomial, bit by bit: the files here are tiny).
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// A zip with every file stored uncompressed. The test crate has no zip library, and the
/// format for stored entries is small enough to write out here.
fn stored_zip(files: &[(String, String)]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, text) in files {
        let (data, offset) = (text.as_bytes(), out.len() as u32);
        let (crc, size, name_len) = (crc32(data), data.len() as u32, name.len() as u16);
        // Version 2.0, no flags, stored, 1980-01-01 00:00.
        let common = |out: &mut Vec<u8>| {
            for half in [20u16, 0, 0, 0, 0x21] {
                out.extend(half.to_le_bytes());
            }
            for word in [crc, size, size] {
                out.extend(word.to_le_bytes());
            }
            out.extend(name_len.to_le_bytes());
            out.extend(0u16.to_le_bytes());
        };
        out.extend(0x0403_4b50u32.to_le_bytes());
        common(&mut out);
        out.extend(name.as_bytes());
        out.extend(data);
        central.extend(0x0201_4b50u32.to_le_bytes());
        central.extend(20u16.to_le_bytes());
        common(&mut central);
        // Comment length, disk, internal and external attributes, then where the entry is.
        central.extend([0u8; 10]);
        central.extend(offset.to_le_bytes());
        central.extend(name.as_bytes());
    }
    let (central_offset, central_size, count) = (out.len() as u32, central.len() as u32, files.len() as u16);
    out.extend(central);
    out.extend(0x0605_4b50u32.to_le_bytes());
    out.extend([0u8; 4]);
    out.extend(count.to_le_bytes());
    out.extend(count.to_le_bytes());
    out.extend(central_size.to_le_bytes());
    out.extend(central_offset.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out
}

/// A SCORM 1.2 course of four SCOs: the second needs the first, the quiz needs both, and
/// the extra reading has a script naming an item that does not exist.
fn course_zip() -> Vec<u8> {
    let sco = |id: &str, title: &str, script: Option<&str>| {
        let prerequisites = script
            .map(|s| format!(r#"<adlcp:prerequisites type="aicc_script">{s}</adlcp:prerequisites>"#))
            .unwrap_or_default();
        format!(r#"<item identifier="{id}" identifierref="res_{id}"><title>{title}</title>{prerequisites}</item>"#)
    };
    let resource = |id: &str| {
        format!(
            r#"<resource identifier="res_{id}" type="webcontent" adlcp:scormtype="sco" href="{id}.html"><file href="{id}.html"/></resource>"#
        )
    };
    let ids = ["first", "second", "quiz", "extra"];
    let manifest = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="prerequisites_course" version="1.0" xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2" xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2">
  <metadata><schema>ADL SCORM</schema><schemaversion>1.2</schemaversion></metadata>
  <organizations default="org"><organization identifier="org"><title>Prerequisites</title>
    {}{}{}{}
  </organization></organizations>
  <resources>{}</resources>
</manifest>"#,
        sco("first", "First lesson", None),
        sco("second", "Second lesson", Some("first")),
        sco("quiz", "Final quiz", Some("first &amp; second = &quot;passed&quot;")),
        sco("extra", "Extra reading", Some("first | appendix")),
        ids.map(resource).concat(),
    );
    let mut files = vec![("imsmanifest.xml".to_string(), manifest)];
    for id in ids {
        files.push((format!("{id}.html"), format!("<!doctype html><title>{id}</title><p>{id}</p>")));
    }
    stored_zip(&files)
}

/// Imports the course as the instructor and returns its slug.
async fn import(app: &TestApp, teacher: &Client) -> String {
    let form = Form::new()
        .text("csrf_token", teacher.csrf().await)
        .text("title", "Prerequisites")
        .part("file", Part::bytes(course_zip()).file_name("prerequisites.zip"));
    let r = teacher.http.post(teacher.url("/teach/import")).multipart(form).send().await.unwrap();
    assert_eq!(r.status(), 303, "[{}] import", app.label);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    location.trim_start_matches("/courses/").split('?').next().unwrap().to_string()
}

/// Sends a commit the way scorm-player.js does; it must apply.
async fn commit(client: &Client, config: &Value, seq: i64, elements: Value, terminate: bool) {
    let r = player::commit(client, config, seq, elements, terminate).await;
    assert_eq!(json(r).await["status"], "applied");
}

/// The item an opened attempt belongs to.
async fn launched_item(app: &TestApp, config: &Value) -> String {
    let id = config["attempt_id"].as_str().unwrap();
    tracking::find(&app.state.db, id).await.unwrap().expect("the launched attempt").item_identifier
}

/// The outline entry of `item`: from its `data-item` to the end of its list element.
fn entry<'a>(html: &'a str, item: &str) -> &'a str {
    let start = html.find(&format!("data-item=\"{item}\"")).unwrap_or_else(|| panic!("{item} is in the outline"));
    let before = html[..start].rfind("<li").expect("an outline entry");
    let end = html[start..].find("</li>").map_or(html.len(), |e| start + e);
    &html[before..end]
}

fn is_locked(html: &str, item: &str) -> bool {
    let entry = entry(html, item);
    let locked = entry.contains("aria-disabled=\"true\"") && entry.contains("data-locked=\"true\"");
    assert_eq!(locked, !entry.contains("<a "), "a locked item is not a link, an open one is: {entry}");
    locked
}

#[tokio::test]
async fn prerequisites_lock_items_until_the_learner_meets_them() {
    for app in TestApp::all("prerequisites").await {
        let org = app.institute("ipa").await;
        app.user("teacher@example.org", Role::Instructor, Some(&org)).await;
        let learner_user = app.user("learner@example.org", Role::Learner, Some(&org)).await;
        let teacher = app.signed_in("teacher@example.org").await;
        let slug = import(&app, &teacher).await;
        app.enrol(&slug, "learner@example.org").await;
        let course = catalog::find_by_slug(&app.state.db, &slug).await.unwrap().expect("the course");
        let version = packages::versions(&app.state.db, &course.id).await.unwrap().remove(0);
        assert!(
            version.warnings_json.contains("dangling_prerequisite") && version.warnings_json.contains("appendix"),
            "the import warns about the script naming no item: {}",
            version.warnings_json
        );
        let learner = app.signed_in("learner@example.org").await;
        let play = |item: &str| format!("/courses/{slug}/play?item={item}");

        // A first visit opens the first item; what needs it is locked, with the reason.
        let (html, config) = launch(&learner, &format!("/courses/{slug}/play")).await;
        assert_eq!(launched_item(&app, &config).await, "first", "[{}]", app.label);
        assert!(!is_locked(&html, "first"));
        assert!(is_locked(&html, "second"), "[{}] {}", app.label, entry(&html, "second"));
        assert!(entry(&html, "second").contains("Locked — complete First lesson first"), "{}", entry(&html, "second"));
        assert!(is_locked(&html, "quiz"));
        assert!(entry(&html, "quiz").contains("Locked — complete First lesson and Second lesson first"));
        assert!(!is_locked(&html, "extra"), "a script naming an unknown item locks nobody out");

        // Asking for a locked item opens where the learner can work, and says why.
        let (html, refused) = launch(&learner, &play("second")).await;
        assert_eq!(launched_item(&app, &refused).await, "first", "[{}] the resume point opens instead", app.label);
        assert!(html.contains("“Second lesson” is locked: complete First lesson first."), "{html}");
        assert!(
            tracking::latest(&app.state.db, &learner_user.id, &course.id, "second").await.unwrap().is_none(),
            "no attempt is started at a locked item"
        );
        // With no resume point, the first open item opens instead.
        app.user("newcomer@example.org", Role::Learner, Some(&org)).await;
        app.enrol(&slug, "newcomer@example.org").await;
        let newcomer = app.signed_in("newcomer@example.org").await;
        let (html, config) = launch(&newcomer, &play("quiz")).await;
        assert_eq!(launched_item(&app, &config).await, "first");
        assert!(html.contains("“Final quiz” is locked: complete First lesson and Second lesson first."));
        // An item that does not exist is still an error.
        assert_eq!(learner.get(&play("nowhere")).await.status(), 404);

        // Completing the first item through the player's commit endpoint opens the second.
        commit(&learner, &refused, 1, json!({ "cmi.core.lesson_status": "incomplete" }), false).await;
        let (html, config) = launch(&learner, &play("second")).await;
        assert_eq!(launched_item(&app, &config).await, "first", "incomplete is not enough");
        assert!(is_locked(&html, "second"));
        commit(&learner, &config, 2, json!({ "cmi.core.lesson_status": "completed" }), true).await;
        let (html, second) = launch(&learner, &play("second")).await;
        assert_eq!(launched_item(&app, &second).await, "second", "[{}]", app.label);
        assert!(!html.contains("is locked"), "no notice when the item opens");
        assert!(!is_locked(&html, "second"));
        assert!(entry(&html, "quiz").contains("Locked — complete Second lesson first"), "{}", entry(&html, "quiz"));

        // The quiz compares a status: completed is not passed.
        commit(&learner, &second, 1, json!({ "cmi.core.lesson_status": "completed" }), false).await;
        let (html, _) = launch(&learner, &play("second")).await;
        assert!(is_locked(&html, "quiz"), "the quiz wants the second lesson passed");
        commit(&learner, &second, 2, json!({ "cmi.core.lesson_status": "passed" }), true).await;
        let (html, quiz) = launch(&learner, &play("quiz")).await;
        assert_eq!(launched_item(&app, &quiz).await, "quiz");
        assert!(!["first", "second", "quiz", "extra"].iter().any(|item| is_locked(&html, item)));
    }
}
