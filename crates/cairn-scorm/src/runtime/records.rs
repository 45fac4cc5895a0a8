//! The interactions and objectives an attempt recorded, read back from its stored data
//! model for people: the instructor's attempt page and the course's answers report.
//!
//! The stored data is the flat element → value map the commits built (`cmi.interactions.0.id`
//! and so on). Both versions are read into one shape, so that a report about a course that
//! mixes SCORM 1.2 and 2004 packages has one set of columns: 1.2's `student_response` and
//! `time` are the learner's response and the time of the interaction, and 1.2's single
//! objective `status` is kept as it is, beside 2004's two statuses.

use std::collections::BTreeMap;

use super::ScormVersion;

/// One interaction (a question and the learner's answer) as the SCO recorded it. Elements
/// the SCO never set are empty.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InteractionRecord {
    /// The position in `cmi.interactions` (the order the SCO created them in).
    pub index: usize,
    pub id: String,
    /// `true-false`, `choice`, `fill-in`, `long-fill-in` (2004), `matching`, `performance`,
    /// `sequencing`, `likert`, `numeric` or `other`.
    pub kind: String,
    /// 2004 only: the question's text as the SCO described it.
    pub description: String,
    /// `learner_response` (2004) or `student_response` (1.2).
    pub learner_response: String,
    /// The correct response patterns, in index order.
    pub correct_responses: Vec<String>,
    /// `correct`, `incorrect`, `unanticipated`, `neutral` or a number.
    pub result: String,
    pub weighting: String,
    /// How long the learner took to respond (a 2004 duration or a 1.2 timespan).
    pub latency: String,
    /// When the interaction happened: `timestamp` (2004) or `time` (1.2, a time of day).
    pub time: String,
    /// The objectives the interaction counts towards, in index order.
    pub objective_ids: Vec<String>,
}

/// One objective as the SCO recorded it. Elements the SCO never set are empty.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ObjectiveRecord {
    pub index: usize,
    pub id: String,
    /// SCORM 1.2's one status (`passed`, `completed`, `failed`, `incomplete`, `browsed`,
    /// `not attempted`); empty in 2004.
    pub status: String,
    /// 2004 only.
    pub success_status: String,
    /// 2004 only.
    pub completion_status: String,
    /// 2004 only.
    pub score_scaled: String,
    pub score_raw: String,
    pub score_min: String,
    pub score_max: String,
    /// 2004 only.
    pub progress_measure: String,
    /// 2004 only.
    pub description: String,
}

/// The interactions of `data`, in index order.
pub fn interactions(version: ScormVersion, data: &BTreeMap<String, String>) -> Vec<InteractionRecord> {
    let mut by_index: BTreeMap<usize, InteractionRecord> = BTreeMap::new();
    // Sub-collections (objectives and correct responses) by their own index, so that
    // `correct_responses.10` comes after `correct_responses.9`.
    let mut patterns: BTreeMap<(usize, usize), String> = BTreeMap::new();
    let mut objective_ids: BTreeMap<(usize, usize), String> = BTreeMap::new();
    for (index, field, value) in entries(data, "cmi.interactions.") {
        let record = by_index.entry(index).or_insert_with(|| InteractionRecord { index, ..Default::default() });
        match (version, field) {
            (_, "id") => record.id = value.clone(),
            (_, "type") => record.kind = value.clone(),
            (_, "result") => record.result = value.clone(),
            (_, "weighting") => record.weighting = value.clone(),
            (_, "latency") => record.latency = value.clone(),
            (ScormVersion::Scorm2004, "description") => record.description = value.clone(),
            (ScormVersion::Scorm2004, "learner_response") | (ScormVersion::Scorm12, "student_response") => {
                record.learner_response = value.clone()
            }
            (ScormVersion::Scorm2004, "timestamp") | (ScormVersion::Scorm12, "time") => record.time = value.clone(),
            (_, nested) => {
                if let Some((n, "pattern")) = sub_entry(nested, "correct_responses.") {
                    patterns.insert((index, n), value.clone());
                } else if let Some((n, "id")) = sub_entry(nested, "objectives.") {
                    objective_ids.insert((index, n), value.clone());
                }
            }
        }
    }
    for ((index, _), pattern) in patterns {
        if let Some(record) = by_index.get_mut(&index) {
            record.correct_responses.push(pattern);
        }
    }
    for ((index, _), id) in objective_ids {
        if let Some(record) = by_index.get_mut(&index) {
            record.objective_ids.push(id);
        }
    }
    by_index.into_values().collect()
}

/// The objectives of `data`, in index order.
pub fn objectives(version: ScormVersion, data: &BTreeMap<String, String>) -> Vec<ObjectiveRecord> {
    let mut by_index: BTreeMap<usize, ObjectiveRecord> = BTreeMap::new();
    for (index, field, value) in entries(data, "cmi.objectives.") {
        let record = by_index.entry(index).or_insert_with(|| ObjectiveRecord { index, ..Default::default() });
        let value = value.clone();
        match (version, field) {
            (_, "id") => record.id = value,
            (_, "score.raw") => record.score_raw = value,
            (_, "score.min") => record.score_min = value,
            (_, "score.max") => record.score_max = value,
            (ScormVersion::Scorm12, "status") => record.status = value,
            (ScormVersion::Scorm2004, "success_status") => record.success_status = value,
            (ScormVersion::Scorm2004, "completion_status") => record.completion_status = value,
            (ScormVersion::Scorm2004, "score.scaled") => record.score_scaled = value,
            (ScormVersion::Scorm2004, "progress_measure") => record.progress_measure = value,
            (ScormVersion::Scorm2004, "description") => record.description = value,
            _ => {}
        }
    }
    by_index.into_values().collect()
}

/// The elements of the collection at `prefix`: (index, the rest of the name, value). Names
/// whose index is not a plain number are not collection elements and are skipped.
fn entries<'a>(
    data: &'a BTreeMap<String, String>,
    prefix: &'a str,
) -> impl Iterator<Item = (usize, &'a str, &'a String)> + 'a {
    data.iter().filter_map(move |(name, value)| {
        let (index, field) = name.strip_prefix(prefix)?.split_once('.')?;
        Some((plain_index(index)?, field, value))
    })
}

/// `correct_responses.3.pattern` → (3, "pattern") for `prefix` "correct_responses.".
fn sub_entry<'a>(name: &'a str, prefix: &str) -> Option<(usize, &'a str)> {
    let (index, field) = name.strip_prefix(prefix)?.split_once('.')?;
    Some((plain_index(index)?, field))
}

/// A collection index as the data model writes it: digits only, no sign, no leading zero.
fn plain_index(text: &str) -> Option<usize> {
    let plain = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) && (text == "0" || !text.starts_with('0'));
    plain.then(|| text.parse().ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn interactions_of_both_versions_read_into_one_shape() {
        let cases: [(&str, ScormVersion, Vec<(&str, &str)>, Vec<InteractionRecord>); 5] = [
            ("nothing recorded", ScormVersion::Scorm2004, vec![("cmi.location", "p3")], vec![]),
            (
                "a 2004 choice question, every element",
                ScormVersion::Scorm2004,
                vec![
                    ("cmi.interactions.0.id", "q1"),
                    ("cmi.interactions.0.type", "choice"),
                    ("cmi.interactions.0.description", "Which tax is progressive?"),
                    ("cmi.interactions.0.learner_response", "income[,]wealth"),
                    ("cmi.interactions.0.correct_responses.0.pattern", "income"),
                    ("cmi.interactions.0.correct_responses.1.pattern", "income[,]wealth"),
                    ("cmi.interactions.0.result", "correct"),
                    ("cmi.interactions.0.weighting", "2"),
                    ("cmi.interactions.0.latency", "PT12S"),
                    ("cmi.interactions.0.timestamp", "2026-12-01T10:00:00Z"),
                    ("cmi.interactions.0.objectives.0.id", "obj-tax"),
                ],
                vec![InteractionRecord {
                    index: 0,
                    id: "q1".into(),
                    kind: "choice".into(),
                    description: "Which tax is progressive?".into(),
                    learner_response: "income[,]wealth".into(),
                    correct_responses: vec!["income".into(), "income[,]wealth".into()],
                    result: "correct".into(),
                    weighting: "2".into(),
                    latency: "PT12S".into(),
                    time: "2026-12-01T10:00:00Z".into(),
                    objective_ids: vec!["obj-tax".into()],
                }],
            ),
            (
                "1.2 names: student_response and time",
                ScormVersion::Scorm12,
                vec![
                    ("cmi.interactions.0.id", "q1"),
                    ("cmi.interactions.0.type", "true-false"),
                    ("cmi.interactions.0.student_response", "t"),
                    ("cmi.interactions.0.time", "10:15:00"),
                    ("cmi.interactions.0.latency", "0000:00:12"),
                    ("cmi.interactions.0.result", "wrong"),
                    // A 2004 name in a 1.2 attempt is not one of its elements.
                    ("cmi.interactions.0.learner_response", "ignored"),
                ],
                vec![InteractionRecord {
                    index: 0,
                    id: "q1".into(),
                    kind: "true-false".into(),
                    learner_response: "t".into(),
                    result: "wrong".into(),
                    latency: "0000:00:12".into(),
                    time: "10:15:00".into(),
                    ..Default::default()
                }],
            ),
            (
                "indexes sort as numbers, sub-collections too",
                ScormVersion::Scorm2004,
                vec![
                    ("cmi.interactions.10.id", "q11"),
                    ("cmi.interactions.2.id", "q3"),
                    ("cmi.interactions.2.correct_responses.10.pattern", "k"),
                    ("cmi.interactions.2.correct_responses.9.pattern", "j"),
                ],
                vec![
                    InteractionRecord {
                        index: 2,
                        id: "q3".into(),
                        correct_responses: vec!["j".into(), "k".into()],
                        ..Default::default()
                    },
                    InteractionRecord { index: 10, id: "q11".into(), ..Default::default() },
                ],
            ),
            (
                "names that are not collection elements are skipped",
                ScormVersion::Scorm2004,
                vec![
                    ("cmi.interactions._count", "1"),
                    ("cmi.interactions.01.id", "leading zero"),
                    ("cmi.interactions.x.id", "not a number"),
                    ("cmi.interactions.0.id", "q1"),
                ],
                vec![InteractionRecord { index: 0, id: "q1".into(), ..Default::default() }],
            ),
        ];
        for (name, version, pairs, expected) in cases {
            assert_eq!(interactions(version, &data(&pairs)), expected, "{name}");
        }
    }

    #[test]
    fn objectives_of_both_versions_read_into_one_shape() {
        let cases: [(&str, ScormVersion, Vec<(&str, &str)>, Vec<ObjectiveRecord>); 3] = [
            (
                "2004: both statuses, scores, progress",
                ScormVersion::Scorm2004,
                vec![
                    ("cmi.objectives.0.id", "obj-tax"),
                    ("cmi.objectives.0.success_status", "passed"),
                    ("cmi.objectives.0.completion_status", "completed"),
                    ("cmi.objectives.0.score.scaled", "0.9"),
                    ("cmi.objectives.0.score.raw", "9"),
                    ("cmi.objectives.0.score.min", "0"),
                    ("cmi.objectives.0.score.max", "10"),
                    ("cmi.objectives.0.progress_measure", "1"),
                    ("cmi.objectives.0.description", "Tax basics"),
                    // An interaction's objective is not one of the attempt's objectives.
                    ("cmi.interactions.0.objectives.0.id", "obj-other"),
                ],
                vec![ObjectiveRecord {
                    index: 0,
                    id: "obj-tax".into(),
                    success_status: "passed".into(),
                    completion_status: "completed".into(),
                    score_scaled: "0.9".into(),
                    score_raw: "9".into(),
                    score_min: "0".into(),
                    score_max: "10".into(),
                    progress_measure: "1".into(),
                    description: "Tax basics".into(),
                    ..Default::default()
                }],
            ),
            (
                "1.2: one status",
                ScormVersion::Scorm12,
                vec![
                    ("cmi.objectives.1.id", "b"),
                    ("cmi.objectives.1.status", "failed"),
                    ("cmi.objectives.1.score.raw", "40"),
                    ("cmi.objectives.0.id", "a"),
                ],
                vec![
                    ObjectiveRecord { index: 0, id: "a".into(), ..Default::default() },
                    ObjectiveRecord {
                        index: 1,
                        id: "b".into(),
                        status: "failed".into(),
                        score_raw: "40".into(),
                        ..Default::default()
                    },
                ],
            ),
            ("none", ScormVersion::Scorm12, vec![("cmi.core.lesson_status", "passed")], vec![]),
        ];
        for (name, version, pairs, expected) in cases {
            assert_eq!(objectives(version, &data(&pairs)), expected, "{name}");
        }
    }
}
