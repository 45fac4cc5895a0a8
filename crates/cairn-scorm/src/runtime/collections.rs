//! Collection rules for writes (objectives, interactions, their objectives and correct
//! responses, learner comments): indexes must be packed (a new record takes index
//! `_count`), the records' ids come first, an interaction's type comes before its responses,
//! and ids and patterns are unique where SCORM 2004 says so (RTE §4.1.1.3, scorm.md §2.9).
//!
//! SCORM 1.2 has none of the 2004 dependency rules: any field at index `_count` opens the
//! record, as the common 1.2 players do, and only a skipped index is refused (201).

use super::datamodel::{fail, DataModel, Fail};
use super::responses::pattern_limit;
use super::table::{Element, Name};
use super::types::SPM_FACTOR;
use super::ScormVersion;

impl DataModel {
    /// Checks the indexes and dependencies of a write and returns the interaction type when
    /// the element is a learner response or correct-response pattern (needed to check it).
    pub(crate) fn collection_checks(
        &self,
        name: &str,
        parsed: &Name,
        element: &Element,
    ) -> Result<Option<String>, Fail> {
        let codes = self.version.codes();
        let levels = parsed.levels();
        for (i, (path, pattern, idx)) in levels.iter().enumerate() {
            let count = self.count(path);
            let innermost = i + 1 == levels.len();
            if *idx < count {
                continue;
            }
            if *idx > count {
                return fail(
                    codes.set_failure,
                    format!("{path}.{idx} skips ahead: the next new record is {path}.{count}"),
                );
            }
            if self.version == ScormVersion::Scorm12 {
                continue;
            }
            // A new record at index _count: only the record's own id (or a comment field,
            // or a pattern) may open it.
            if !innermost || !element.creates {
                return fail(codes.dependency, format!("{path}.{idx} does not exist yet: set {path}.{idx}.id first"));
            }
            let spm = self.model_collection_spm(pattern);
            if spm > 0 && count >= spm * SPM_FACTOR {
                return fail(
                    codes.set_failure,
                    format!("{path} already holds {count} records, the most this LMS keeps"),
                );
            }
            if pattern.ends_with(".correct_responses") {
                let kind = self.interaction_type(&levels[0].0, levels[0].2);
                if let Some(kind) = kind {
                    let limit = pattern_limit(&kind);
                    if count >= limit {
                        return fail(
                            codes.set_failure,
                            format!("a {kind} interaction has at most {limit} correct response pattern(s)"),
                        );
                    }
                }
            }
        }
        if self.version == ScormVersion::Scorm2004
            && (parsed.pattern == "cmi.interactions.n.learner_response"
                || parsed.pattern == "cmi.interactions.n.correct_responses.n.pattern")
        {
            let (path, idx) = (&levels[0].0, levels[0].2);
            return match self.interaction_type(path, idx) {
                Some(kind) => Ok(Some(kind)),
                None => fail(codes.dependency, format!("set {path}.{idx}.type before {name}")),
            };
        }
        Ok(None)
    }

    fn model_collection_spm(&self, pattern: &str) -> usize {
        self.version.model().collection(pattern).unwrap_or(0)
    }

    fn interaction_type(&self, path: &str, idx: usize) -> Option<String> {
        self.values.get(&format!("{path}.{idx}.type")).filter(|t| !t.is_empty()).cloned()
    }

    /// SCORM 2004 uniqueness (351): an objective id cannot change and no two objectives,
    /// interactions, objectives of one interaction or patterns of one interaction share a
    /// value.
    pub(crate) fn unique_checks(&self, name: &str, parsed: &Name, value: &str) -> Result<(), Fail> {
        if self.version != ScormVersion::Scorm2004 {
            return Ok(());
        }
        let levels = parsed.levels();
        let Some((path, _, idx)) = levels.last() else { return Ok(()) };
        let field = match parsed.pattern.as_str() {
            "cmi.objectives.n.id" => {
                if let Some(old) = self.values.get(name) {
                    if old != value {
                        return fail(351, format!("{name} is already \"{old}\" and an objective id cannot change"));
                    }
                }
                "id"
            }
            "cmi.interactions.n.id" | "cmi.interactions.n.objectives.n.id" => "id",
            "cmi.interactions.n.correct_responses.n.pattern" => "pattern",
            _ => return Ok(()),
        };
        let count = self.count(path);
        for other in (0..count).filter(|i| i != idx) {
            if self.values.get(&format!("{path}.{other}.{field}")).map(String::as_str) == Some(value) {
                return fail(351, format!("{path}.{other}.{field} already has the value \"{value}\""));
            }
        }
        Ok(())
    }
}
