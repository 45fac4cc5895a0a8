//! The data model of one attempt: reading and writing elements by name with every rule of
//! the version's table (unknown elements, keywords, access, indexes and dependencies through
//! [`super::collections`], types and ranges through [`super::types`]).
//!
//! It holds two maps: `values`, what the SCO set (or a resumed attempt carried over), which
//! is exactly what the server stores; and `fixed`, the read-only values the LMS provides at
//! launch. Status evaluation (2004) happens on read, in [`super::status`].

use std::collections::BTreeMap;

use super::table::{Access, Init, Name};
use super::types::{self, Invalid};
use super::{status, LaunchData, ScormVersion};

/// A refused call: the error code the API reports and a reason in words.
#[derive(Debug, Clone, PartialEq)]
pub struct Fail {
    pub code: u16,
    pub reason: String,
}

pub(crate) fn fail<T>(code: u16, reason: impl Into<String>) -> Result<T, Fail> {
    Err(Fail { code, reason: reason.into() })
}

/// The three keywords of both data models.
const KEYWORDS: &[&str] = &["_children", "_count", "_version"];

/// Error codes that differ between the versions for the same situation.
pub(crate) struct Codes {
    pub get_failure: u16,
    pub no_children: u16,
    pub no_count: u16,
    pub write_only: u16,
    pub read_only: u16,
    pub keyword: u16,
    pub set_failure: u16,
    pub dependency: u16,
    pub type_mismatch: u16,
    pub out_of_range: u16,
}

impl ScormVersion {
    pub(crate) fn codes(self) -> Codes {
        match self {
            // 1.2 has fewer codes: argument errors (201) stand in for failed gets and
            // sets, and both format and range failures are 405.
            ScormVersion::Scorm12 => Codes {
                get_failure: 201,
                no_children: 202,
                no_count: 203,
                write_only: 404,
                read_only: 403,
                keyword: 402,
                set_failure: 201,
                dependency: 201,
                type_mismatch: 405,
                out_of_range: 405,
            },
            ScormVersion::Scorm2004 => Codes {
                get_failure: 301,
                no_children: 301,
                no_count: 301,
                write_only: 405,
                read_only: 404,
                keyword: 404,
                set_failure: 351,
                dependency: 408,
                type_mismatch: 406,
                out_of_range: 407,
            },
        }
    }
}

/// The data of one attempt and the launch values around it.
#[derive(Debug, Clone)]
pub struct DataModel {
    pub(crate) version: ScormVersion,
    pub(crate) values: BTreeMap<String, String>,
    pub(crate) fixed: BTreeMap<&'static str, String>,
    pub(crate) strict: bool,
    pub(crate) completion_threshold: Option<f64>,
    pub(crate) scaled_passing_score: Option<f64>,
}

/// Writes a launch number the way JavaScript's `String(n)` does for ordinary values
/// ("80", "0.8"), so both implementations return the same text.
pub(crate) fn number(n: f64) -> String {
    format!("{n}")
}

impl DataModel {
    /// A data model over `values` (stored or resumed data) with the launch values, adding
    /// the objective ids the manifest declares that `values` does not already hold.
    pub fn new(version: ScormVersion, launch: &LaunchData, values: BTreeMap<String, String>) -> DataModel {
        let mut fixed = BTreeMap::new();
        let credit = if launch.credit { "credit" } else { "no-credit" };
        let mut put = |k: &'static str, v: Option<String>| {
            if let Some(v) = v {
                fixed.insert(k, v);
            }
        };
        match version {
            ScormVersion::Scorm12 => {
                put("cmi.core.student_id", Some(launch.learner_id.clone()));
                put("cmi.core.student_name", Some(launch.learner_name.clone()));
                put("cmi.core.credit", Some(credit.to_owned()));
                put("cmi.core.entry", Some(launch.entry.as_str().to_owned()));
                put("cmi.core.lesson_mode", Some(launch.mode.as_str().to_owned()));
                put(
                    "cmi.core.total_time",
                    Some(launch.total_time.clone().unwrap_or_else(|| "0000:00:00.00".to_owned())),
                );
                put("cmi.launch_data", launch.launch_data.clone());
                put("cmi.student_data.mastery_score", launch.mastery_score.map(number));
                put("cmi.student_data.max_time_allowed", launch.max_time_allowed.clone());
                put("cmi.student_data.time_limit_action", launch.time_limit_action.clone());
            }
            ScormVersion::Scorm2004 => {
                put("cmi.learner_id", Some(launch.learner_id.clone()));
                put("cmi.learner_name", Some(launch.learner_name.clone()));
                put("cmi.credit", Some(credit.to_owned()));
                put("cmi.entry", Some(launch.entry.as_str().to_owned()));
                put("cmi.mode", Some(launch.mode.as_str().to_owned()));
                put("cmi.total_time", Some(launch.total_time.clone().unwrap_or_else(|| "PT0S".to_owned())));
                put("cmi.launch_data", Some(launch.launch_data.clone().unwrap_or_default()));
                put("cmi.completion_threshold", launch.completion_threshold.map(number));
                put("cmi.scaled_passing_score", launch.scaled_passing_score.map(number));
                put("cmi.max_time_allowed", launch.max_time_allowed.clone());
                put(
                    "cmi.time_limit_action",
                    Some(launch.time_limit_action.clone().unwrap_or_else(|| "continue,no message".to_owned())),
                );
                // The player knows from the outline whether Continue and Previous lead anywhere;
                // without that knowledge the answer is "unknown".
                let valid = |known: Option<bool>| {
                    Some(known.map_or("unknown", |v| if v { "true" } else { "false" }).to_owned())
                };
                put("adl.nav.request_valid.continue", valid(launch.request_valid_continue));
                put("adl.nav.request_valid.previous", valid(launch.request_valid_previous));
            }
        }
        let mut model = DataModel {
            version,
            values,
            fixed,
            strict: launch.strict,
            completion_threshold: launch.completion_threshold,
            scaled_passing_score: launch.scaled_passing_score,
        };
        for id in &launch.objective_ids {
            let count = model.count("cmi.objectives");
            let known = (0..count).any(|i| model.values.get(&format!("cmi.objectives.{i}.id")) == Some(id));
            if !known {
                model.values.insert(format!("cmi.objectives.{count}.id"), id.clone());
            }
        }
        model
    }

    /// Number of records of the collection at `path` (`cmi.interactions.0.objectives`):
    /// collections are packed, so it is one more than the highest index present.
    pub fn count(&self, path: &str) -> usize {
        let prefix = format!("{path}.");
        self.values
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .filter_map(|(k, _)| k[prefix.len()..].split('.').next()?.parse::<usize>().ok())
            .map(|i| i + 1)
            .max()
            .unwrap_or(0)
    }

    fn model(&self) -> &'static super::table::Model {
        self.version.model()
    }

    /// The refusal for a name that is not in the data model. ADL's 1.2 suite answers 201 for
    /// an unknown leaf inside a known category (`cmi.core.bogus`) and 401 otherwise.
    fn unknown(&self, name: &str) -> Fail {
        if self.version == ScormVersion::Scorm12 {
            if let Some(parent) = Name::parse(name).and_then(|n| n.pattern.rsplit_once('.').map(|(p, _)| p.to_owned()))
            {
                if parent != "cmi" && self.model().is_container(&parent) {
                    return Fail { code: 201, reason: format!("{name} is not an element of {parent}") };
                }
            }
        }
        Fail { code: 401, reason: format!("{name} is not an element of the data model") }
    }

    /// Checks that every index of `name` points at an existing record (for reads).
    fn existing(&self, name: &Name) -> Result<(), Fail> {
        for (path, _, idx) in name.levels() {
            let count = self.count(&path);
            if idx >= count {
                return fail(
                    self.version.codes().get_failure,
                    format!("{path}.{idx} does not exist: _count is {count}"),
                );
            }
        }
        Ok(())
    }

    /// GetValue: the value of an element, a keyword's answer, or the refusal.
    pub fn get(&self, name: &str) -> Result<String, Fail> {
        let codes = self.version.codes();
        if name.is_empty() {
            return fail(codes.get_failure, "GetValue needs an element name");
        }
        if let Some((parent, keyword)) = name.rsplit_once('.').filter(|(_, k)| KEYWORDS.contains(k)) {
            return self.get_keyword(name, parent, keyword);
        }
        let Some(parsed) = Name::parse(name) else { return Err(self.unknown(name)) };
        let Some(element) = self.model().element(&parsed.pattern) else { return Err(self.unknown(name)) };
        if element.access == Access::WriteOnly {
            return fail(codes.write_only, format!("{name} is write-only"));
        }
        self.existing(&parsed)?;
        if let Some(v) = self.values.get(name) {
            if element.init != Init::Evaluated {
                return Ok(v.clone());
            }
        }
        let unset = || {
            if self.version == ScormVersion::Scorm2004 {
                fail(403, format!("{name} has no value yet"))
            } else {
                Ok(String::new())
            }
        };
        match element.init {
            Init::Empty => Ok(String::new()),
            Init::Fixed(v) => Ok(v.to_owned()),
            Init::Unset => unset(),
            Init::Launch => match self.fixed.get(name) {
                Some(v) => Ok(v.clone()),
                None => unset(),
            },
            Init::Evaluated => Ok(status::evaluated(self, name)),
        }
    }

    fn get_keyword(&self, name: &str, parent: &str, keyword: &str) -> Result<String, Fail> {
        let codes = self.version.codes();
        if name == "cmi._version" {
            return Ok(self.model().version.to_owned());
        }
        let Some(p) = Name::parse(parent) else { return Err(self.unknown(parent)) };
        let known = self.model().is_known(&p.pattern);
        match keyword {
            "_children" => match self.model().children_of(&p.pattern) {
                Some(list) => {
                    self.existing(&p)?;
                    Ok(list.to_owned())
                }
                None if known => fail(codes.no_children, format!("{parent} has no children")),
                None => Err(self.unknown(parent)),
            },
            "_count" => match self.model().collection(&p.pattern) {
                Some(_) => {
                    self.existing(&p)?;
                    Ok(self.count(parent).to_string())
                }
                None if known => fail(codes.no_count, format!("{parent} is not a collection")),
                None => Err(self.unknown(parent)),
            },
            _ if known => fail(codes.get_failure, "_version exists only as cmi._version"),
            _ => Err(self.unknown(parent)),
        }
    }

    /// SetValue: checks the element, its access, indexes and dependencies, then the value,
    /// and stores it. Nothing changes when it is refused.
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), Fail> {
        let codes = self.version.codes();
        if name.is_empty() {
            return fail(codes.set_failure, "SetValue needs an element name");
        }
        if let Some((parent, keyword)) = name.rsplit_once('.').filter(|(_, k)| KEYWORDS.contains(k)) {
            let known = parent == "cmi" || Name::parse(parent).is_some_and(|p| self.model().is_known(&p.pattern));
            if known {
                return fail(codes.keyword, format!("{keyword} is a keyword and cannot be set"));
            }
            return Err(self.unknown(parent));
        }
        let Some(parsed) = Name::parse(name) else { return Err(self.unknown(name)) };
        let Some(element) = self.model().element(&parsed.pattern) else { return Err(self.unknown(name)) };
        if element.access == Access::ReadOnly {
            return fail(codes.read_only, format!("{name} is read-only"));
        }
        let interaction_type = self.collection_checks(name, &parsed, element)?;
        if let Err(invalid) = types::check(element.ty, value, self.strict, interaction_type.as_deref()) {
            return Err(match invalid {
                Invalid::Type(why) => Fail { code: codes.type_mismatch, reason: format!("{name}: {why}") },
                Invalid::Range(why) => Fail { code: codes.out_of_range, reason: format!("{name}: {why}") },
            });
        }
        self.unique_checks(name, &parsed, value)?;
        self.values.insert(name.to_owned(), value.to_owned());
        Ok(())
    }
}

impl ScormVersion {
    pub(crate) fn model(self) -> &'static super::table::Model {
        match self {
            ScormVersion::Scorm12 => &super::scorm12::MODEL,
            ScormVersion::Scorm2004 => &super::scorm2004::MODEL,
        }
    }

    /// The version's error codes with their strings.
    pub(crate) fn errors(self) -> &'static [(u16, &'static str)] {
        match self {
            ScormVersion::Scorm12 => super::scorm12::ERRORS,
            ScormVersion::Scorm2004 => super::scorm2004::ERRORS,
        }
    }
}
