//! SCORM 2004 interaction responses: the formats of `interactions.n.learner_response` and
//! `interactions.n.correct_responses.m.pattern` for each interaction type, and how many
//! correct-response patterns each type may have.
//!
//! The bracketed delimiters (`[,]`, `[.]`, `[:]`) and the `{case_matters=…}`,
//! `{order_matters=…}` and `{lang=…}` modifiers are those of RTE §4.2.9.

use super::types::{is_short_id, parse_real, split_lang, within_spm, Invalid};

/// The interaction types of SCORM 2004 (`cmi.interactions.n.type`).
pub const TYPES_2004: &[&str] = &[
    "true-false",
    "choice",
    "fill-in",
    "long-fill-in",
    "matching",
    "performance",
    "sequencing",
    "likert",
    "numeric",
    "other",
];

/// How many correct-response patterns an interaction of this type may hold (the SPM of
/// `correct_responses` per type). A pattern beyond it is refused with 351.
pub fn pattern_limit(kind: &str) -> usize {
    match kind {
        "choice" => 10,
        "fill-in" | "long-fill-in" | "matching" | "performance" | "sequencing" => 5,
        _ => 1,
    }
}

fn bad(why: impl Into<String>) -> Result<(), Invalid> {
    Err(Invalid::Type(why.into()))
}

/// Splits a list on the `[,]` delimiter.
fn list(s: &str) -> Vec<&str> {
    s.split("[,]").collect()
}

/// A set of short identifiers separated by `[,]`, each at most once. `allow_empty` accepts
/// the empty set (a choice answered with nothing).
fn id_set(s: &str, allow_empty: bool, unique: bool) -> Result<(), Invalid> {
    if s.is_empty() {
        return if allow_empty { Ok(()) } else { bad("an empty response") };
    }
    let items = list(s);
    if let Some(item) = items.iter().find(|i| !is_short_id(i)) {
        return bad(format!("\"{item}\" is not a short identifier"));
    }
    if unique {
        let mut seen = std::collections::BTreeSet::new();
        if let Some(dup) = items.iter().find(|i| !seen.insert(**i)) {
            return bad(format!("\"{dup}\" appears twice"));
        }
    }
    Ok(())
}

/// Strips leading `{case_matters=…}` / `{order_matters=…}` modifiers (each at most once,
/// values `true` or `false`), allowing only the ones named.
fn modifiers<'a>(mut s: &'a str, allowed: &[&str]) -> Result<&'a str, Invalid> {
    let mut seen = Vec::new();
    loop {
        let Some(rest) = s.strip_prefix('{') else { return Ok(s) };
        let Some((body, after)) = rest.split_once('}') else { return Ok(s) };
        let Some((key, value)) = body.split_once('=') else { return Ok(s) };
        if key == "lang" {
            return Ok(s);
        }
        if !allowed.contains(&key) || seen.contains(&key) || !(value == "true" || value == "false") {
            return Err(Invalid::Type(format!("{{{body}}} is not an allowed modifier here")));
        }
        seen.push(key);
        s = after;
    }
}

/// A list of localized strings separated by `[,]`, each within `spm` characters.
fn lang_list(s: &str, spm: usize) -> Result<(), Invalid> {
    for item in list(s) {
        within_spm(split_lang(item)?, spm)?;
    }
    Ok(())
}

/// `source[.]target` pairs separated by `[,]`.
fn pairs(s: &str) -> Result<(), Invalid> {
    for pair in list(s) {
        let Some((a, b)) = pair.split_once("[.]") else {
            return bad(format!("\"{pair}\" is not a source[.]target pair"));
        };
        if !is_short_id(a) || !is_short_id(b) {
            return bad(format!("\"{pair}\" does not pair two short identifiers"));
        }
    }
    Ok(())
}

/// Performance steps `name[.]answer` separated by `[,]`; either side may be empty, not both.
fn steps(s: &str) -> Result<(), Invalid> {
    for step in list(s) {
        let Some((name, answer)) = step.split_once("[.]") else {
            return bad(format!("\"{step}\" is not a step_name[.]step_answer"));
        };
        if name.is_empty() && answer.is_empty() {
            return bad("a step needs a name or an answer");
        }
        if !name.is_empty() && !is_short_id(name) {
            return bad(format!("\"{name}\" is not a short identifier"));
        }
        within_spm(answer, 250)?;
    }
    Ok(())
}

/// A numeric range `min[:]max`; either bound may be left out, and min ≤ max when both exist.
fn numeric_range(s: &str) -> Result<(), Invalid> {
    let Some((lo, hi)) = s.split_once("[:]") else {
        return match parse_real(s) {
            Some(_) => Ok(()),
            None => bad("not a number or a min[:]max range"),
        };
    };
    let parse = |p: &str| if p.is_empty() { Ok(None) } else { parse_real(p).map(Some).ok_or(()) };
    match (parse(lo), parse(hi)) {
        (Ok(Some(a)), Ok(Some(b))) if a > b => bad("the minimum is above the maximum"),
        (Ok(_), Ok(_)) => Ok(()),
        _ => bad("not a min[:]max range of numbers"),
    }
}

/// Checks a learner response for an interaction of type `kind`.
pub fn check_response(kind: &str, value: &str) -> Result<(), Invalid> {
    match kind {
        "true-false" => match value {
            "true" | "false" => Ok(()),
            _ => bad("a true-false response is \"true\" or \"false\""),
        },
        "choice" => id_set(value, true, true),
        "sequencing" => id_set(value, false, false),
        "likert" => id_set(value, false, true).and_then(|()| {
            if value.contains("[,]") {
                bad("a likert response is one identifier")
            } else {
                Ok(())
            }
        }),
        "fill-in" => lang_list(value, 250),
        "long-fill-in" => within_spm(split_lang(value)?, 4000),
        "matching" => pairs(value),
        "performance" => steps(value),
        "numeric" => match parse_real(value) {
            Some(_) => Ok(()),
            None => bad("a numeric response is a real number"),
        },
        _ => within_spm(value, 4000),
    }
}

/// Checks a correct-response pattern for an interaction of type `kind`.
pub fn check_pattern(kind: &str, value: &str) -> Result<(), Invalid> {
    match kind {
        "fill-in" => lang_list(modifiers(value, &["case_matters", "order_matters"])?, 250),
        "long-fill-in" => within_spm(split_lang(modifiers(value, &["case_matters"])?)?, 4000),
        "performance" => steps(modifiers(value, &["order_matters"])?),
        "numeric" => numeric_range(value),
        other => check_response(other, value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_by_type() {
        let cases: &[(&str, &str, bool)] = &[
            ("true-false", "true", true),
            ("true-false", "1", false),
            ("choice", "a[,]b", true),
            ("choice", "", true),
            ("choice", "a[,]a", false),
            ("choice", "a b", false),
            ("fill-in", "{lang=en}cat[,]dog", true),
            ("long-fill-in", "A long answer, with commas.", true),
            ("matching", "1[.]a[,]2[.]b", true),
            ("matching", "1-a", false),
            ("performance", "step1[.]done[,][.]42", true),
            ("performance", "[.]", false),
            ("sequencing", "c[,]a[,]b", true),
            ("likert", "agree", true),
            ("likert", "agree[,]neutral", false),
            ("numeric", "3.14", true),
            ("numeric", "pi", false),
            ("other", "anything at all", true),
        ];
        for (kind, value, ok) in cases {
            assert_eq!(check_response(kind, value).is_ok(), *ok, "{kind} {value}");
        }
    }

    #[test]
    fn patterns_by_type() {
        let cases: &[(&str, &str, bool)] = &[
            ("fill-in", "{case_matters=true}{order_matters=false}Paris[,]Rome", true),
            ("fill-in", "{case_matters=yes}Paris", false),
            ("long-fill-in", "{case_matters=false}{lang=en}text", true),
            ("long-fill-in", "{order_matters=true}text", false),
            ("performance", "{order_matters=false}s1[.]a[,]s2[.]b", true),
            ("numeric", "1[:]5", true),
            ("numeric", "[:]5", true),
            ("numeric", "5[:]1", false),
            ("numeric", "7", true),
            ("choice", "a[,]b[,]c", true),
        ];
        for (kind, value, ok) in cases {
            assert_eq!(check_pattern(kind, value).is_ok(), *ok, "{kind} {value}");
        }
        assert_eq!(pattern_limit("true-false"), 1);
        assert_eq!(pattern_limit("choice"), 10);
    }
}
