//! Server-side re-validation of what the browser commits: the browser is never trusted, so
//! every change is replayed through the same data-model rules as the API calls.

use std::collections::BTreeMap;

use super::datamodel::DataModel;
use super::{LaunchData, ScormVersion};

/// A change the server refuses: the element, the value, the error code the API would have
/// returned and the reason in words.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{element} refused (error {code}): {reason}")]
pub struct Refusal {
    pub element: String,
    pub value: String,
    pub code: u16,
    pub reason: String,
}

/// Applies `changes` in order on top of `current` (the stored data model of the attempt) and
/// returns the new state, or the first change that is refused: an element a SCO may not
/// write in this version (unknown, keyword, read-only), a value of the wrong type or range, a
/// collection index out of order or a dependency not established.
pub fn validate_commit(
    version: ScormVersion,
    launch: &LaunchData,
    current: &BTreeMap<String, String>,
    changes: &[(String, String)],
) -> Result<BTreeMap<String, String>, Refusal> {
    let mut model = DataModel::new(version, launch, current.clone());
    for (element, value) in changes {
        model.set(element, value).map_err(|f| Refusal {
            element: element.clone(),
            value: value.clone(),
            code: f.code,
            reason: f.reason,
        })?;
    }
    Ok(model.values)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::Session;

    fn changes(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn accepts_what_a_session_produced() {
        let launch = LaunchData { objective_ids: vec!["obj-a".into()], ..LaunchData::default() };
        let mut s = Session::new(ScormVersion::Scorm2004, launch.clone());
        s.call("Initialize", &[""]);
        for (k, v) in [
            ("cmi.interactions.0.id", "q1"),
            ("cmi.interactions.0.type", "choice"),
            ("cmi.interactions.0.correct_responses.0.pattern", "a"),
            ("cmi.interactions.0.learner_response", "b"),
            ("cmi.interactions.1.id", "q2"),
            ("cmi.objectives.1.id", "obj-b"),
            ("cmi.objectives.1.score.scaled", "0.5"),
            ("cmi.location", "page-3"),
        ] {
            assert_eq!(s.call("SetValue", &[k, v]), "true", "{k}");
        }
        for i in 2..12 {
            assert_eq!(s.call("SetValue", &[&format!("cmi.interactions.{i}.id"), &format!("extra-{i}")]), "true");
        }
        let first = s.dirty();
        let before = BTreeMap::from([("cmi.objectives.0.id".to_owned(), "obj-a".to_owned())]);
        let after = validate_commit(ScormVersion::Scorm2004, &launch, &before, &first).unwrap();
        assert_eq!(after, s.snapshot());
        s.mark_committed();
        assert!(s.dirty().is_empty());
        s.call("SetValue", &["cmi.exit", "suspend"]);
        let second = validate_commit(ScormVersion::Scorm2004, &launch, &after, &s.dirty()).unwrap();
        assert_eq!(second, s.snapshot());
    }

    #[test]
    fn refuses_with_element_code_and_reason() {
        let launch = LaunchData::default();
        let empty = BTreeMap::new();
        let cases: &[(ScormVersion, &[(&str, &str)], &str, u16, &str)] = &[
            (ScormVersion::Scorm2004, &[("cmi.learner_id", "me")], "cmi.learner_id", 404, "read-only"),
            (ScormVersion::Scorm2004, &[("cmi.objectives._count", "3")], "cmi.objectives._count", 404, "keyword"),
            (ScormVersion::Scorm2004, &[("cmi.score.scaled", "2")], "cmi.score.scaled", 407, "outside"),
            (ScormVersion::Scorm2004, &[("cmi.exit", "quit")], "cmi.exit", 406, "not one of"),
            (ScormVersion::Scorm2004, &[("cmi.bogus", "1")], "cmi.bogus", 401, "not an element"),
            (
                ScormVersion::Scorm2004,
                &[("cmi.interactions.0.id", "q1"), ("cmi.interactions.2.id", "q3")],
                "cmi.interactions.2.id",
                351,
                "skips ahead",
            ),
            (
                ScormVersion::Scorm2004,
                &[("cmi.interactions.0.id", "q1"), ("cmi.interactions.0.learner_response", "true")],
                "cmi.interactions.0.learner_response",
                408,
                "type",
            ),
            (
                ScormVersion::Scorm2004,
                &[("cmi.objectives.0.score.raw", "1")],
                "cmi.objectives.0.score.raw",
                408,
                "id first",
            ),
            (ScormVersion::Scorm12, &[("cmi.core.student_id", "x")], "cmi.core.student_id", 403, "read-only"),
            (ScormVersion::Scorm12, &[("cmi.core.score.raw", "150")], "cmi.core.score.raw", 405, "outside"),
            (ScormVersion::Scorm12, &[("cmi.objectives.1.id", "o")], "cmi.objectives.1.id", 201, "skips ahead"),
        ];
        for (version, pairs, element, code, words) in cases {
            let refusal = validate_commit(*version, &launch, &empty, &changes(pairs)).unwrap_err();
            assert_eq!(&refusal.element, element);
            assert_eq!(refusal.code, *code, "{refusal}");
            assert!(refusal.reason.contains(words), "{refusal}");
        }
    }
}
