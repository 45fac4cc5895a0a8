//! The ADL extensions of an item: SCORM 1.2 `adlcp:*` data, SCORM 2004 completion threshold,
//! launch data, time limits, objectives, sequencing and presentation.
//!
//! Element names are matched by namespace family and without regard to case, because real
//! packages mix the 1.2 spelling (`datafromlms`) and the 2004 one (`dataFromLMS`); a spelling
//! that is not the version's own is accepted with a warning.

use super::build::{location, parse_bool, Builder};
use super::model::{CompletionThreshold, Item, Objective, Prerequisites, Sequencing};
use super::ns::{self, Family};
use super::xml::{Node, XmlElement};
use crate::diagnostics::{Diagnostic, Location};
use crate::prerequisites::{Finding, Outline};
use crate::standard::Standard;

/// What [`read`] found on one item.
#[derive(Debug, Default)]
pub(super) struct Extensions {
    pub mastery_score: Option<f64>,
    pub prerequisites: Option<Prerequisites>,
    /// Where `adlcp:prerequisites` is, for the warnings about its script.
    pub prerequisites_at: Option<Location>,
    pub max_time_allowed: Option<String>,
    pub time_limit_action: Option<String>,
    pub data_from_lms: Option<String>,
    pub completion_threshold: Option<CompletionThreshold>,
    pub objectives: Vec<Objective>,
    pub sequencing: Option<Sequencing>,
    pub presentation: Option<XmlElement>,
}

const TIME_LIMIT_ACTIONS: [&str; 4] = ["exit,message", "exit,no message", "continue,message", "continue,no message"];

pub(super) fn read(builder: &mut Builder<'_>, item: &Node, path: &str) -> Extensions {
    let mut found = Extensions::default();
    let is_2004 = builder.version.standard == Standard::Scorm2004;
    if is_2004 {
        found.data_from_lms = text(adl(builder, item, path, "dataFromLMS"));
        found.time_limit_action = time_limit_action(builder, item, path, "timeLimitAction");
        found.completion_threshold = completion_threshold(builder, item, path);
        found.sequencing = builder.sequencing(item, path);
        found.objectives = found.sequencing.as_ref().map(objectives_of).unwrap_or_default();
        found.presentation = item
            .children
            .iter()
            .find(|c| ns::family(c.namespace.as_deref()) == Family::Adlnav && c.name == "presentation")
            .map(Node::to_element);
    } else {
        found.data_from_lms = text(adl(builder, item, path, "datafromlms"));
        found.time_limit_action = time_limit_action(builder, item, path, "timelimitaction");
        found.max_time_allowed = text(adl(builder, item, path, "maxtimeallowed"));
        if let Some(node) = adl(builder, item, path, "prerequisites") {
            found.prerequisites_at = Some(location(path, node));
            found.prerequisites = node
                .trimmed_text()
                .map(|script| Prerequisites { kind: node.attr("type").map(str::to_owned), script: script.to_owned() });
        }
        if let Some(node) = adl(builder, item, path, "masteryscore") {
            let value = node.trimmed_text().unwrap_or_default();
            match value.parse::<f64>() {
                Ok(score) if (0.0..=100.0).contains(&score) => found.mastery_score = Some(score),
                _ => {
                    let message = format!("adlcp:masteryscore `{value}` is not a number from 0 to 100; it was ignored, so the SCO decides passed/failed itself");
                    builder.push(Diagnostic::warning("invalid_value", message).at(location(path, node)));
                }
            }
        }
    }
    found
}

/// The adlcp child spelled `spelling` in any case, warning when the case differs.
fn adl<'n>(builder: &mut Builder<'_>, item: &'n Node, path: &str, spelling: &str) -> Option<&'n Node> {
    let node = item
        .children
        .iter()
        .find(|c| ns::family(c.namespace.as_deref()) == Family::Adlcp && c.name.eq_ignore_ascii_case(spelling))?;
    if node.name != spelling {
        let message = format!("the element is spelled `adlcp:{}`, but this SCORM version spells it `adlcp:{spelling}`; it was accepted, but fix the case because other LMSs will ignore it", node.name);
        builder.push(Diagnostic::warning("miscased_element", message).at(location(path, node)));
    }
    Some(node)
}

fn text(node: Option<&Node>) -> Option<String> {
    node.and_then(|n| n.trimmed_text().map(str::to_owned))
}

fn time_limit_action(builder: &mut Builder<'_>, item: &Node, path: &str, spelling: &str) -> Option<String> {
    let node = adl(builder, item, path, spelling)?;
    let value = node.trimmed_text()?.to_owned();
    let normalised = value.to_ascii_lowercase().replace(", ", ",");
    if !TIME_LIMIT_ACTIONS.contains(&normalised.as_str()) {
        let message = format!(
            "adlcp:{spelling} `{value}` is not one of {}; it is kept as written",
            TIME_LIMIT_ACTIONS.join(" | ")
        );
        builder.push(Diagnostic::warning("invalid_value", message).at(location(path, node)));
    }
    Some(value)
}

/// `adlcp:completionThreshold`: the 3rd edition puts a number in the text, the 4th edition
/// uses the attributes; both are kept.
fn completion_threshold(builder: &mut Builder<'_>, item: &Node, path: &str) -> Option<CompletionThreshold> {
    let node = adl(builder, item, path, "completionThreshold")?;
    let mut invalid = Vec::new();
    let mut number = |raw: Option<&str>, name: &str| {
        let raw = raw?.trim();
        match raw.parse::<f64>() {
            Ok(value) if (0.0..=1.0).contains(&value) => Some(value),
            _ => {
                invalid.push(format!("{name} `{raw}`"));
                None
            }
        }
    };
    let threshold = CompletionThreshold {
        value: number(node.trimmed_text(), "the value"),
        min_progress_measure: number(node.attr("minProgressMeasure"), "minProgressMeasure"),
        progress_weight: number(node.attr("progressWeight"), "progressWeight"),
        completed_by_measure: node.attr("completedByMeasure").and_then(parse_bool),
    };
    if !invalid.is_empty() {
        let message = format!(
            "adlcp:completionThreshold has {}, which must be a number from 0 to 1; ignored",
            invalid.join(" and ")
        );
        builder.push(Diagnostic::warning("invalid_value", message).at(location(path, node)));
    }
    Some(threshold)
}

/// Objective ids from the item's own `imsss:objectives`, or else from the referenced
/// collection entry, the primary objective first.
fn objectives_of(sequencing: &Sequencing) -> Vec<Objective> {
    let from = |element: &XmlElement| -> Option<Vec<Objective>> {
        let objectives = element.children.iter().find(|c| c.name == "objectives")?;
        Some(
            objectives
                .children
                .iter()
                .filter(|c| c.name == "primaryObjective" || c.name == "objective")
                .filter_map(|c| {
                    let id = c
                        .attributes
                        .iter()
                        .find(|a| a.name == "objectiveID" && a.namespace.is_none())?
                        .value
                        .trim()
                        .to_owned();
                    Some(Objective { primary: c.name == "primaryObjective", id }).filter(|o| !o.id.is_empty())
                })
                .collect(),
        )
    };
    from(&sequencing.element).or_else(|| sequencing.referenced.as_ref().and_then(from)).unwrap_or_default()
}

/// Warns about the prerequisites of an organisation's items that the player ignores (so that
/// they lock nobody out) or reads only thanks to a leniency. `at` gives where each item's
/// `adlcp:prerequisites` element is.
pub(super) fn check_prerequisites(
    builder: &mut Builder<'_>,
    organization: &str,
    items: &[Item],
    at: &std::collections::HashMap<String, Location>,
) {
    const IGNORED: &str = "they are ignored and the item is open to every learner";
    let outline = Outline::new(items);
    for finding in outline.findings() {
        let item = finding.item();
        let (code, message) = match finding {
            Finding::UnsupportedType { kind, .. } => (
                "invalid_prerequisites",
                format!("the adlcp:prerequisites of item `{item}` have type=\"{kind}\", but SCORM 1.2 knows only \"aicc_script\"; {IGNORED}"),
            ),
            Finding::Invalid { script, error, .. } => (
                "invalid_prerequisites",
                format!("the prerequisites `{}` of item `{item}` cannot be read: {error}; {IGNORED}. Write them with item identifiers, & | ~, brackets and comparisons such as id = \"completed\"", excerpt(script)),
            ),
            Finding::UnknownItems { names, .. } => {
                let verb = if names.len() == 1 { "is" } else { "are" };
                let names = quoted(names);
                (
                    "dangling_prerequisite",
                    format!("the prerequisites of item `{item}` name {names}, which {verb} no item of organization `{organization}`; {IGNORED}. Fix the identifiers"),
                )
            }
            Finding::Unsatisfiable { .. } => (
                "unsatisfiable_prerequisites",
                format!("the prerequisites of item `{item}` can never be met: they wait on the item itself, on its own cluster or the items inside it, or on items that wait on it in turn; {IGNORED}. Remove the circular prerequisite"),
            ),
            Finding::WordOperators { words, .. } => (
                "nonstandard_prerequisites",
                format!("the prerequisites of item `{item}` use {} where the AICC script has & | ~; Cairn reads them, but other LMSs may not, so write the symbols instead", quoted(words)),
            ),
        };
        let mut diagnostic = Diagnostic::warning(code, message);
        diagnostic.location = at.get(item).cloned();
        builder.push(diagnostic);
    }
}

/// Names in backquotes; a hostile manifest's hundred thousand of them shrink to a few.
fn quoted(names: &[String]) -> String {
    const SHOWN: usize = 5;
    let mut text = names.iter().take(SHOWN).map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ");
    if names.len() > SHOWN {
        text.push_str(&format!(" and {} more", names.len() - SHOWN));
    }
    text
}

/// A script as quoted in a message: whole when short, its start otherwise.
fn excerpt(script: &str) -> String {
    const SHOWN: usize = 80;
    match script.char_indices().nth(SHOWN) {
        Some((end, _)) => format!("{}…", &script[..end]),
        None => script.to_owned(),
    }
}
