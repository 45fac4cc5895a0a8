//! Item analysis of a course: for each question (an interaction id within an item) of the
//! learners' live SCORM attempts, how many answered it, how many got it right or wrong, and
//! the wrong answer given most often, so that an instructor sees which questions, and
//! which misconceptions, need attention. The sum is worked out while the attempts stream
//! past ([`Tally`], pure and bounded), as the answers download reads them.

use std::collections::HashMap;

use cairn_scorm::runtime::records::InteractionRecord;
use futures_util::StreamExt as _;

use super::answers::{AttemptRow, SQL};
use super::ReportError;
use crate::db::Db;
use crate::on_db;

/// Questions summed up per course at most; further ones are left out and the result says
/// so. Real packages record tens of questions per item.
pub const MAX_QUESTIONS: usize = 1_000;
/// Distinct wrong responses counted per question at most; free-text answers could
/// otherwise grow without bound. Further distinct responses still count as wrong.
pub const MAX_DISTINCT_WRONG: usize = 200;

/// What the learners answered to one question.
#[derive(Debug, Clone, PartialEq)]
pub struct QuestionSummary {
    pub item: String,
    pub item_title: String,
    pub id: String,
    /// The question's text as last recorded (2004), or empty.
    pub description: String,
    pub kind: String,
    /// Attempts that recorded a response or a result for it.
    pub answered: u64,
    /// Results `correct`.
    pub correct: u64,
    /// Results `incorrect` (2004) or `wrong` (1.2). Other results (`neutral`,
    /// `unanticipated`, a number) are neither right nor wrong.
    pub incorrect: u64,
    /// The wrong response given most often, with how many times (ties: the first given).
    pub common_wrong: Option<(String, u64)>,
}

impl QuestionSummary {
    /// A question seen for the first time, with nothing counted yet.
    pub fn unanswered(item: &str, item_title: &str, id: &str) -> QuestionSummary {
        QuestionSummary {
            item: item.to_string(),
            item_title: item_title.to_string(),
            id: id.to_string(),
            description: String::new(),
            kind: String::new(),
            answered: 0,
            correct: 0,
            incorrect: 0,
            common_wrong: None,
        }
    }

    /// The share of answers that were right, in whole percent; `None` before any answer.
    pub fn percent_correct(&self) -> Option<u64> {
        (self.answered > 0).then(|| (self.correct * 100 + self.answered / 2) / self.answered)
    }
}

/// A course's questions with whether [`MAX_QUESTIONS`] left some out.
#[derive(Debug, Clone, PartialEq)]
pub struct QuestionReport {
    pub questions: Vec<QuestionSummary>,
    pub truncated: bool,
}

struct Counts {
    summary: QuestionSummary,
    /// Where the question first appeared: (item order of first sight, interaction index).
    order: (usize, usize),
    /// Wrong response → (count, order of first sight).
    wrong: HashMap<String, (u64, usize)>,
}

/// The sums so far; [`Tally::finish`] gives the report.
#[derive(Default)]
pub struct Tally {
    questions: HashMap<(String, String), Counts>,
    items_seen: HashMap<String, usize>,
    truncated: bool,
}

impl Tally {
    /// Counts one recorded interaction of an attempt at `item`.
    pub fn add(&mut self, item: &str, item_title: &str, interaction: &InteractionRecord) {
        if interaction.id.is_empty() || (interaction.learner_response.is_empty() && interaction.result.is_empty()) {
            return;
        }
        let key = (item.to_string(), interaction.id.clone());
        if !self.questions.contains_key(&key) && self.questions.len() >= MAX_QUESTIONS {
            self.truncated = true;
            return;
        }
        let seen = self.items_seen.len();
        let item_order = *self.items_seen.entry(item.to_string()).or_insert(seen);
        let counts = self.questions.entry(key).or_insert_with(|| Counts {
            summary: QuestionSummary::unanswered(item, item_title, &interaction.id),
            order: (item_order, interaction.index),
            wrong: HashMap::new(),
        });
        let summary = &mut counts.summary;
        if !interaction.description.is_empty() {
            summary.description.clone_from(&interaction.description);
        }
        if !interaction.kind.is_empty() {
            summary.kind.clone_from(&interaction.kind);
        }
        summary.answered += 1;
        match interaction.result.as_str() {
            "correct" => summary.correct += 1,
            "incorrect" | "wrong" => {
                summary.incorrect += 1;
                // A wrong result without the response names no misconception.
                let response = &interaction.learner_response;
                let next = counts.wrong.len();
                match counts.wrong.get_mut(response) {
                    _ if response.is_empty() => {}
                    Some(entry) => entry.0 += 1,
                    None if next < MAX_DISTINCT_WRONG => {
                        counts.wrong.insert(response.clone(), (1, next));
                    }
                    None => {}
                }
            }
            _ => {}
        }
    }

    /// The questions in the order they were first seen: by item, then by their index.
    pub fn finish(self) -> QuestionReport {
        let mut counted: Vec<Counts> = self.questions.into_values().collect();
        counted.sort_by_key(|c| c.order);
        let questions = counted
            .into_iter()
            .map(|c| {
                let mut summary = c.summary;
                summary.common_wrong = c
                    .wrong
                    .into_iter()
                    .max_by(|(_, (n1, first1)), (_, (n2, first2))| n1.cmp(n2).then(first2.cmp(first1)))
                    .map(|(response, (n, _))| (response, n));
                summary
            })
            .collect();
        QuestionReport { questions, truncated: self.truncated }
    }
}

/// The item analysis of a course's live attempts, read as the answers download reads them
/// (one attempt's document in memory at a time).
pub async fn of_course(db: &Db, course_id: &str) -> Result<QuestionReport, ReportError> {
    let mut tally = Tally::default();
    on_db!(&db.for_scans(), |pool| {
        async {
            let mut rows = sqlx::query_as::<_, AttemptRow>(SQL).bind(course_id).fetch(pool);
            while let Some(row) = rows.next().await {
                let attempt = row?;
                let title = attempt.item_title.as_deref().unwrap_or_default();
                for interaction in attempt.interactions() {
                    tally.add(&attempt.item_identifier, title, &interaction);
                }
            }
            Ok::<(), ReportError>(())
        }
        .await
    })?;
    Ok(tally.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(index: usize, id: &str, response: &str, result: &str) -> InteractionRecord {
        InteractionRecord {
            index,
            id: id.into(),
            kind: "choice".into(),
            learner_response: response.into(),
            result: result.into(),
            ..Default::default()
        }
    }

    /// (item, id, answered, correct, incorrect, most common wrong answer) of each question.
    type Row<'a> = (&'a str, &'a str, u64, u64, u64, Option<(&'a str, u64)>);

    fn rows(report: &QuestionReport) -> Vec<Row<'_>> {
        report
            .questions
            .iter()
            .map(|q| {
                let wrong = q.common_wrong.as_ref().map(|(r, n)| (r.as_str(), *n));
                (q.item.as_str(), q.id.as_str(), q.answered, q.correct, q.incorrect, wrong)
            })
            .collect()
    }

    #[test]
    fn questions_are_summed_per_item_and_id() {
        let cases: [(&str, Vec<(&str, InteractionRecord)>, Vec<Row>); 6] = [
            ("nothing answered", vec![], vec![]),
            (
                "right, wrong (both vocabularies) and neither",
                vec![
                    ("quiz", answer(0, "q1", "a", "correct")),
                    ("quiz", answer(0, "q1", "b", "incorrect")),
                    ("quiz", answer(0, "q1", "b", "wrong")),
                    ("quiz", answer(0, "q1", "c", "incorrect")),
                    ("quiz", answer(0, "q1", "d", "neutral")),
                ],
                vec![("quiz", "q1", 5, 1, 3, Some(("b", 2)))],
            ),
            (
                "the same id in two items is two questions, in the order first seen",
                vec![
                    ("quiz-2", answer(1, "q1", "a", "correct")),
                    ("quiz-1", answer(0, "q1", "a", "incorrect")),
                    ("quiz-2", answer(0, "q0", "x", "incorrect")),
                ],
                vec![
                    ("quiz-2", "q0", 1, 0, 1, Some(("x", 1))),
                    ("quiz-2", "q1", 1, 1, 0, None),
                    ("quiz-1", "q1", 1, 0, 1, Some(("a", 1))),
                ],
            ),
            (
                "a wrong result without a response counts, but names no wrong answer",
                vec![("quiz", answer(0, "q1", "", "incorrect"))],
                vec![("quiz", "q1", 1, 0, 1, None)],
            ),
            (
                "a tie goes to the wrong answer given first",
                vec![
                    ("quiz", answer(0, "q1", "c", "wrong")),
                    ("quiz", answer(0, "q1", "b", "wrong")),
                    ("quiz", answer(0, "q1", "b", "wrong")),
                    ("quiz", answer(0, "q1", "c", "wrong")),
                ],
                vec![("quiz", "q1", 4, 0, 4, Some(("c", 2)))],
            ),
            (
                "an interaction with no id, or with neither response nor result, is no answer",
                vec![("quiz", answer(0, "", "a", "correct")), ("quiz", answer(1, "q2", "", ""))],
                vec![],
            ),
        ];
        for (name, answers, expected) in cases {
            let mut tally = Tally::default();
            for (item, interaction) in &answers {
                tally.add(item, "Quiz", interaction);
            }
            let report = tally.finish();
            assert_eq!(rows(&report), expected, "{name}");
            assert!(!report.truncated, "{name}");
        }
    }

    #[test]
    fn limits_bound_the_memory_and_say_so() {
        let mut tally = Tally::default();
        for n in 0..=MAX_QUESTIONS {
            tally.add("quiz", "Quiz", &answer(n, &format!("q{n}"), "a", "correct"));
        }
        for n in 0..MAX_DISTINCT_WRONG + 5 {
            tally.add("quiz", "Quiz", &answer(0, "q0", &format!("free text {n}"), "incorrect"));
        }
        tally.add("quiz", "Quiz", &answer(0, "q0", "free text 3", "incorrect"));
        let report = tally.finish();
        assert!(report.truncated, "one question past the limit was left out");
        assert_eq!(report.questions.len(), MAX_QUESTIONS);
        let q0 = &report.questions[0];
        assert_eq!((q0.answered, q0.incorrect), (1 + MAX_DISTINCT_WRONG as u64 + 6, MAX_DISTINCT_WRONG as u64 + 6));
        assert_eq!(q0.common_wrong, Some(("free text 3".to_string(), 2)), "responses past the limit still count");
    }

    #[test]
    fn percent_correct_rounds_and_needs_an_answer() {
        let mut q = QuestionSummary::unanswered("quiz", "", "q1");
        assert_eq!(q.percent_correct(), None);
        for (answered, correct, percent) in [(3, 2, 67), (3, 1, 33), (8, 1, 13), (2, 2, 100)] {
            (q.answered, q.correct) = (answered, correct);
            assert_eq!(q.percent_correct(), Some(percent), "{correct} of {answered}");
        }
    }
}
