//! SCORM 1.2 prerequisites: the AICC script of `adlcp:prerequisites type="aicc_script"` and
//! which items of an outline it leaves open to a learner.
//!
//! The language, as read here:
//!
//! * an item identifier on its own is met when that item is passed or completed, the
//!   reading of the AICC script that LMSs share; "browsed" does not count, so looking
//!   through a lesson in browse mode opens nothing, and neither does "failed";
//! * `id = "status"` and `id <> "status"` compare an item's lesson status, written in full
//!   (`passed`, `completed`, `failed`, `incomplete`, `browsed`, `not attempted`) or with the
//!   AICC letters `p c f i b n`, in any case, quoted with `"` or `'` or bare;
//! * `~` (not) binds tighter than `&` (and), which binds tighter than `|` (or); brackets
//!   override; `N*{a, b, c}` is met when at least N members of the set are met;
//! * whitespace is insignificant.
//!
//! Leniencies, so that a package mistake never locks a learner out of content:
//!
//! * the English words `AND`, `OR` and `NOT` (any case) are read as `&`, `|` and `~` where
//!   an operator is expected, because real packages write them; the import warns, since other
//!   LMSs may refuse them;
//! * a script that does not parse, has a `type` other than `aicc_script`, names an item that
//!   is not in the organisation, or can never be met (it waits on its own item or cluster, or
//!   on a cycle of items locked behind each other) is ignored: the item is open, and the import
//!   reports a warning ([`Finding`]) so the author can fix it. A script that only contradicts
//!   itself (`a = "passed" & a = "failed"`) is not recognised here; the player opens the whole
//!   course when every item is locked.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

use crate::manifest::Item;

/// How deeply brackets, negations and sets may nest. Real scripts nest two or three levels;
/// the bound keeps the recursive parser and evaluator safe from hostile manifests.
pub const MAX_DEPTH: usize = 32;

/// How many cycles of items waiting on each other are broken one item at a time (see
/// [`Outline`]); real packages have none or one.
const CYCLE_ROUNDS: usize = 64;

/// A SCORM 1.2 lesson status (`cmi.core.lesson_status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LessonStatus {
    Passed,
    Completed,
    Failed,
    Incomplete,
    Browsed,
    NotAttempted,
}

impl LessonStatus {
    pub const ALL: [LessonStatus; 6] = [
        LessonStatus::Passed,
        LessonStatus::Completed,
        LessonStatus::Failed,
        LessonStatus::Incomplete,
        LessonStatus::Browsed,
        LessonStatus::NotAttempted,
    ];

    /// Reads a status in full or as its AICC letter, in any case; inner whitespace is
    /// normalised so that `not  attempted` reads too.
    pub fn parse(value: &str) -> Option<LessonStatus> {
        let words: Vec<&str> = value.split_whitespace().collect();
        match words.join(" ").to_ascii_lowercase().as_str() {
            "passed" | "p" => Some(LessonStatus::Passed),
            "completed" | "c" => Some(LessonStatus::Completed),
            "failed" | "f" => Some(LessonStatus::Failed),
            "incomplete" | "i" => Some(LessonStatus::Incomplete),
            "browsed" | "b" => Some(LessonStatus::Browsed),
            "not attempted" | "n" => Some(LessonStatus::NotAttempted),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            LessonStatus::Passed => "passed",
            LessonStatus::Completed => "completed",
            LessonStatus::Failed => "failed",
            LessonStatus::Incomplete => "incomplete",
            LessonStatus::Browsed => "browsed",
            LessonStatus::NotAttempted => "not attempted",
        }
    }

    /// Whether a bare identifier with this status is met: passed or completed.
    pub fn is_done(self) -> bool {
        matches!(self, LessonStatus::Passed | LessonStatus::Completed)
    }
}

/// A parsed prerequisites script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// Met when the item is passed or completed.
    Item(String),
    /// `item = "status"` (`equal`) or `item <> "status"`.
    Status {
        item: String,
        equal: bool,
        status: LessonStatus,
    },
    Not(Box<Expr>),
    /// Two or more operands; chains are kept flat so that long scripts do not nest.
    And(Vec<Expr>),
    Or(Vec<Expr>),
    /// `count*{members}`: at least `count` members are met.
    AtLeast {
        count: usize,
        members: Vec<Expr>,
    },
}

/// Why a script could not be read. Columns count characters from 1.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrerequisiteError {
    #[error("the script is empty")]
    Empty,
    #[error("unexpected {found} at character {column}; expected {expected}")]
    Unexpected { found: String, column: usize, expected: &'static str },
    #[error("the script ends at character {column} where {expected} was expected")]
    UnexpectedEnd { column: usize, expected: &'static str },
    #[error("the quoted text that starts at character {column} is not closed")]
    UnclosedQuote { column: usize },
    #[error(
        "`{value}` at character {column} is not a lesson status (passed, completed, failed, incomplete, browsed, \
         not attempted, or one of the letters p c f i b n)"
    )]
    UnknownStatus { value: String, column: usize },
    #[error("brackets, negations and sets nest deeper than {MAX_DEPTH} levels at character {column}")]
    TooDeep { column: usize },
    #[error("{count}*{{…}} at character {column} asks for more members than the {members} in the set")]
    CountTooLarge { count: String, members: usize, column: usize },
}

impl PrerequisiteError {
    /// The character (from 1) the error points at; `None` for an empty script.
    pub fn column(&self) -> Option<usize> {
        match self {
            PrerequisiteError::Empty => None,
            PrerequisiteError::Unexpected { column, .. }
            | PrerequisiteError::UnexpectedEnd { column, .. }
            | PrerequisiteError::UnclosedQuote { column }
            | PrerequisiteError::UnknownStatus { column, .. }
            | PrerequisiteError::TooDeep { column }
            | PrerequisiteError::CountTooLarge { column, .. } => Some(*column),
        }
    }
}

/// A script with what was tolerated while reading it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    pub expr: Expr,
    /// `AND`, `OR` or `NOT` words read as operators, as written, in order.
    pub word_operators: Vec<String>,
}

/// Parses a prerequisites script.
pub fn parse(script: &str) -> Result<Expr, PrerequisiteError> {
    parse_script(script).map(|parsed| parsed.expr)
}

/// Parses a prerequisites script and tells which leniencies it needed.
pub fn parse_script(script: &str) -> Result<Parsed, PrerequisiteError> {
    let tokens = lex(script)?;
    let mut parser = Parser { tokens, at: 0, depth: 0, word_operators: Vec::new() };
    if parser.peek().kind == Kind::End {
        return Err(PrerequisiteError::Empty);
    }
    let expr = parser.or()?;
    let rest = parser.next();
    if rest.kind != Kind::End {
        return Err(rest.unexpected("`&`, `|` or the end of the script"));
    }
    Ok(Parsed { expr, word_operators: parser.word_operators })
}

impl Expr {
    /// Whether the script is met. `status_of` gives an item's lesson status; items it does not
    /// know count as "not attempted".
    pub fn evaluate(&self, status_of: impl Fn(&str) -> Option<LessonStatus>) -> bool {
        self.holds(&|id: &str| status_of(id).unwrap_or(LessonStatus::NotAttempted))
    }

    fn holds(&self, status: &dyn Fn(&str) -> LessonStatus) -> bool {
        match self {
            Expr::Item(id) => status(id).is_done(),
            Expr::Status { item, equal, status: wanted } => (status(item) == *wanted) == *equal,
            Expr::Not(inner) => !inner.holds(status),
            Expr::And(parts) => parts.iter().all(|p| p.holds(status)),
            Expr::Or(parts) => parts.iter().any(|p| p.holds(status)),
            Expr::AtLeast { count, members } => members.iter().filter(|m| m.holds(status)).count() >= *count,
        }
    }

    /// Every item identifier the script names, once each, in the order written.
    pub fn identifiers(&self) -> Vec<&str> {
        fn walk<'a>(expr: &'a Expr, seen: &mut HashSet<&'a str>, out: &mut Vec<&'a str>) {
            match expr {
                Expr::Item(id) | Expr::Status { item: id, .. } => {
                    if seen.insert(id) {
                        out.push(id);
                    }
                }
                Expr::Not(inner) => walk(inner, seen, out),
                Expr::And(parts) | Expr::Or(parts) | Expr::AtLeast { members: parts, .. } => {
                    parts.iter().for_each(|p| walk(p, seen, out))
                }
            }
        }
        let mut out = Vec::new();
        walk(self, &mut HashSet::new(), &mut out);
        out
    }

    /// Whether the script could come out as `want` when `can` gives the statuses each item
    /// may still take. Members are judged independently, so this may say yes too often (it
    /// does not see that `a = "passed" & a = "failed"` contradicts itself) but never says no
    /// wrongly, which is what finding scripts that can never be met needs.
    fn possible(&self, want: bool, can: &dyn Fn(&str) -> Statuses) -> bool {
        match self {
            Expr::Item(id) => can(id).any(|s| s.is_done() == want),
            Expr::Status { item, equal, status } => can(item).any(|s| ((s == *status) == *equal) == want),
            Expr::Not(inner) => inner.possible(!want, can),
            Expr::And(parts) if want => parts.iter().all(|p| p.possible(true, can)),
            Expr::And(parts) => parts.iter().any(|p| p.possible(false, can)),
            Expr::Or(parts) if want => parts.iter().any(|p| p.possible(true, can)),
            Expr::Or(parts) => parts.iter().all(|p| p.possible(false, can)),
            Expr::AtLeast { count, members } if want => {
                members.iter().filter(|m| m.possible(true, can)).count() >= *count
            }
            // Below the count means at most count − 1 members met, so at least
            // len − count + 1 of them must be able to fail.
            Expr::AtLeast { count, members } => {
                members.iter().filter(|m| m.possible(false, can)).count() + count > members.len()
            }
        }
    }
}

/// The fully bracketed form, for messages and tests: `(a | (b & ~c))`.
impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |f: &mut fmt::Formatter<'_>, parts: &[Expr], separator: &str| -> fmt::Result {
            for (i, part) in parts.iter().enumerate() {
                if i > 0 {
                    f.write_str(separator)?;
                }
                write!(f, "{part}")?;
            }
            Ok(())
        };
        match self {
            Expr::Item(id) => f.write_str(id),
            Expr::Status { item, equal, status } => {
                write!(f, "{item} {} \"{}\"", if *equal { "=" } else { "<>" }, status.as_str())
            }
            Expr::Not(inner) => write!(f, "~{inner}"),
            Expr::And(parts) => {
                f.write_str("(")?;
                list(f, parts, " & ")?;
                f.write_str(")")
            }
            Expr::Or(parts) => {
                f.write_str("(")?;
                list(f, parts, " | ")?;
                f.write_str(")")
            }
            Expr::AtLeast { count, members } => {
                write!(f, "{count}*{{")?;
                list(f, members, ", ")?;
                f.write_str("}")
            }
        }
    }
}

mod outline;
mod parser;
#[cfg(test)]
mod tests;

use outline::Statuses;
pub use outline::{Finding, Outline, MAX_WAITING};
use parser::{lex, Kind, Parser};
