//! Runs the shared run-time test vectors (`vectors/runtime.json`) through `Session` and
//! `finish`. The browser implementation runs the same file, so both answer every API call
//! alike; a failure names the case, the step and the difference.

use std::collections::BTreeMap;

use cairn_scorm::runtime::{finish, Entry, LaunchData, Mode, Outcome, ScormVersion, Session};
use serde_json::Value;

fn vectors() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/vectors/runtime.json");
    let text = std::fs::read_to_string(path).expect("vectors/runtime.json is readable");
    serde_json::from_str(&text).expect("vectors/runtime.json is valid JSON")
}

/// A step argument: a string, or `{"repeat": s, "times": n}` for long values.
fn arg(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Object(o) => {
            let s = o["repeat"].as_str().expect("repeat is a string");
            let n = o["times"].as_u64().expect("times is a number");
            s.repeat(n as usize)
        }
        other => panic!("unexpected argument {other}"),
    }
}

fn opt_str(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str).map(str::to_owned)
}

/// The launch object with the defaults the file's notes give.
fn launch(v: Option<&Value>) -> LaunchData {
    let empty = Value::Object(Default::default());
    let v = v.unwrap_or(&empty);
    let get = |k: &str| v.get(k).filter(|x| !x.is_null());
    LaunchData {
        learner_id: opt_str(get("learner_id")).unwrap_or_else(|| "u1".into()),
        learner_name: opt_str(get("learner_name")).unwrap_or_else(|| "Mensah, Ama".into()),
        credit: get("credit").and_then(Value::as_bool).unwrap_or(true),
        mode: match get("mode").and_then(Value::as_str).unwrap_or("normal") {
            "normal" => Mode::Normal,
            "browse" => Mode::Browse,
            "review" => Mode::Review,
            other => panic!("unknown mode {other}"),
        },
        entry: match get("entry").and_then(Value::as_str).unwrap_or("ab-initio") {
            "ab-initio" => Entry::AbInitio,
            "resume" => Entry::Resume,
            "" => Entry::Empty,
            other => panic!("unknown entry {other}"),
        },
        launch_data: opt_str(get("launch_data")),
        mastery_score: get("mastery_score").and_then(Value::as_f64),
        max_time_allowed: opt_str(get("max_time_allowed")),
        time_limit_action: opt_str(get("time_limit_action")),
        completion_threshold: get("completion_threshold").and_then(Value::as_f64),
        scaled_passing_score: get("scaled_passing_score").and_then(Value::as_f64),
        objective_ids: get("objective_ids")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
            .unwrap_or_default(),
        total_time: opt_str(get("total_time")),
        suspended: get("suspended")
            .and_then(Value::as_object)
            .map(|o| o.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned())).collect())
            .unwrap_or_else(BTreeMap::new),
        strict: get("strict").and_then(Value::as_bool).unwrap_or(false),
        request_valid_continue: get("request_valid_continue").and_then(Value::as_bool),
        request_valid_previous: get("request_valid_previous").and_then(Value::as_bool),
    }
}

/// The outcome as the JSON fields the vectors name.
fn outcome_field(o: &Outcome, key: &str) -> Value {
    match key {
        "completion" => o.completion.as_str().into(),
        "success" => o.success.as_str().into(),
        "lesson_status" => o.lesson_status.clone().map_or(Value::Null, Value::from),
        "score_scaled" => o.score_scaled.map_or(Value::Null, Value::from),
        "score_raw" => o.score_raw.map_or(Value::Null, Value::from),
        "total_time" => o.total_time.clone().into(),
        "total_time_seconds" => o.total_time_seconds.into(),
        "suspended" => o.suspended.into(),
        "new_attempt_next" => o.new_attempt_next.into(),
        "next_entry" => o.next_entry.as_str().into(),
        "location" => o.location.clone().map_or(Value::Null, Value::from),
        other => panic!("unknown finish field {other}"),
    }
}

fn same(want: &Value, got: &Value) -> bool {
    match (want.as_f64(), got.as_f64()) {
        (Some(a), Some(b)) => (a - b).abs() < 1e-9,
        _ => want == got,
    }
}

/// Shortens long values in failure messages.
fn show(s: &str) -> String {
    if s.chars().count() > 60 {
        format!("{}… ({} chars)", s.chars().take(40).collect::<String>(), s.chars().count())
    } else {
        format!("{s:?}")
    }
}

#[test]
fn every_vector_passes() {
    let doc = vectors();
    assert_eq!(doc["format"], 1);
    let mut failures = Vec::new();
    let cases = doc["cases"].as_array().expect("cases");
    for case in cases {
        let name = case["name"].as_str().unwrap_or("?");
        let version = match case["version"].as_str() {
            Some("1.2") => ScormVersion::Scorm12,
            Some("2004") => ScormVersion::Scorm2004,
            other => panic!("{name}: unknown version {other:?}"),
        };
        let launch = launch(case.get("launch"));
        let mut session = Session::new(version, launch.clone());
        for (i, step) in case["steps"].as_array().expect("steps").iter().enumerate() {
            let method = step[0].as_str().expect("method");
            let args: Vec<String> = step[1].as_array().expect("args").iter().map(arg).collect();
            let refs: Vec<&str> = args.iter().map(String::as_str).collect();
            let want_ret = step[2].as_str().expect("expected return");
            let want_code = step[3].as_u64().expect("expected code") as u16;
            let got_ret = session.call(method, &refs);
            let got_code = session.last_error();
            if got_ret != want_ret || got_code != want_code {
                let shown: Vec<String> = refs.iter().map(|a| show(a)).collect();
                failures.push(format!(
                    "{name} — step {i}: {method}({}) returned {} / {got_code}, expected {} / {want_code} ({})",
                    shown.join(", "),
                    show(&got_ret),
                    show(want_ret),
                    session.last_reason()
                ));
            }
        }
        if let Some(expected) = case.get("finish").and_then(Value::as_object) {
            let outcome = finish(version, &launch, &session.snapshot());
            for (key, want) in expected {
                let got = outcome_field(&outcome, key);
                if !same(want, &got) {
                    failures.push(format!("{name} — finish.{key}: got {got}, expected {want}"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} vector failure(s):\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn vectors_cover_every_element_of_both_models() {
    let doc = vectors();
    let mut seen: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for case in doc["cases"].as_array().unwrap() {
        let version = case["version"].as_str().unwrap();
        for step in case["steps"].as_array().unwrap() {
            let method = step[0].as_str().unwrap();
            if method.ends_with("GetValue") || method.ends_with("SetValue") {
                if let Some(name) = step[1][0].as_str() {
                    let pattern: Vec<&str> =
                        name.split('.').map(|s| if s.bytes().all(|b| b.is_ascii_digit()) { "n" } else { s }).collect();
                    seen.entry(version).or_default().push(format!("{method}:{}", pattern.join(".")));
                }
            }
        }
    }
    let mut missing = Vec::new();
    for (version, label, model) in [(ScormVersion::Scorm12, "1.2", "LMS"), (ScormVersion::Scorm2004, "2004", "")] {
        let names = cairn_scorm::runtime::element_names(version);
        let calls = &seen[label];
        for element in names {
            let element = element.replace("{target=}", "{target=intro}");
            for m in ["GetValue", "SetValue"] {
                let key = format!("{model}{m}:{element}");
                if !calls.contains(&key) {
                    missing.push(format!("{label}: no vector calls {m} on {element}"));
                }
            }
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}
