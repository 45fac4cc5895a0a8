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

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    And,
    Or,
    Not,
    Open,
    Close,
    OpenSet,
    CloseSet,
    Comma,
    Star,
    Equal,
    NotEqual,
    Quoted(String),
    Word(String),
    End,
}

#[derive(Debug, Clone)]
struct Token {
    kind: Kind,
    column: usize,
}

impl Token {
    fn describe(&self) -> String {
        match &self.kind {
            Kind::And => "`&`".into(),
            Kind::Or => "`|`".into(),
            Kind::Not => "`~`".into(),
            Kind::Open => "`(`".into(),
            Kind::Close => "`)`".into(),
            Kind::OpenSet => "`{`".into(),
            Kind::CloseSet => "`}`".into(),
            Kind::Comma => "`,`".into(),
            Kind::Star => "`*`".into(),
            Kind::Equal => "`=`".into(),
            Kind::NotEqual => "`<>`".into(),
            Kind::Quoted(text) => format!("\"{}\"", clipped(text)),
            Kind::Word(word) => format!("`{}`", clipped(word)),
            Kind::End => "the end".into(),
        }
    }

    fn unexpected(&self, expected: &'static str) -> PrerequisiteError {
        match self.kind {
            Kind::End => PrerequisiteError::UnexpectedEnd { column: self.column, expected },
            _ => PrerequisiteError::Unexpected { found: self.describe(), column: self.column, expected },
        }
    }

    fn word(&self, wanted: &str) -> bool {
        matches!(&self.kind, Kind::Word(w) if w.eq_ignore_ascii_case(wanted))
    }
}

/// Text from a script as an error quotes it: whole when short, its start otherwise, so that
/// a hostile script does not make a message of megabytes.
fn clipped(text: &str) -> String {
    const SHOWN: usize = 40;
    match text.char_indices().nth(SHOWN) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// Characters that end an identifier. Anything else that is not whitespace belongs to one,
/// because manifests use identifiers far beyond XML names (`1.2-intro`, `SCO:01`).
fn is_special(c: char) -> bool {
    matches!(c, '&' | '|' | '~' | '(' | ')' | '{' | '}' | ',' | '*' | '=' | '<' | '>' | '"' | '\'')
}

fn lex(script: &str) -> Result<Vec<Token>, PrerequisiteError> {
    let chars: Vec<char> = script.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let column = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let single = match c {
            '&' => Some(Kind::And),
            '|' => Some(Kind::Or),
            '~' => Some(Kind::Not),
            '(' => Some(Kind::Open),
            ')' => Some(Kind::Close),
            '{' => Some(Kind::OpenSet),
            '}' => Some(Kind::CloseSet),
            ',' => Some(Kind::Comma),
            '*' => Some(Kind::Star),
            '=' => Some(Kind::Equal),
            _ => None,
        };
        if let Some(kind) = single {
            tokens.push(Token { kind, column });
            i += 1;
        } else if c == '<' && chars.get(i + 1) == Some(&'>') {
            tokens.push(Token { kind: Kind::NotEqual, column });
            i += 2;
        } else if c == '<' || c == '>' {
            let expected = "an identifier, an operator or a bracket (`<>` is the only comparison besides `=`)";
            return Err(PrerequisiteError::Unexpected { found: format!("`{c}`"), column, expected });
        } else if c == '"' || c == '\'' {
            let end = chars[i + 1..].iter().position(|&q| q == c).ok_or(PrerequisiteError::UnclosedQuote { column })?;
            let text: String = chars[i + 1..i + 1 + end].iter().collect();
            tokens.push(Token { kind: Kind::Quoted(text), column });
            i += end + 2;
        } else {
            let start = i;
            while i < chars.len() && !chars[i].is_whitespace() && !is_special(chars[i]) {
                i += 1;
            }
            tokens.push(Token { kind: Kind::Word(chars[start..i].iter().collect()), column });
        }
    }
    tokens.push(Token { kind: Kind::End, column: chars.len() + 1 });
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
    depth: usize,
    word_operators: Vec<String>,
}

const OPERAND: &str = "an item identifier, `~`, `(` or `N*{`";

impl Parser {
    fn peek(&self) -> &Token {
        &self.tokens[self.at.min(self.tokens.len() - 1)]
    }

    fn peek_at(&self, offset: usize) -> &Token {
        &self.tokens[(self.at + offset).min(self.tokens.len() - 1)]
    }

    fn next(&mut self) -> Token {
        let token = self.peek().clone();
        if self.at < self.tokens.len() - 1 {
            self.at += 1;
        }
        token
    }

    fn enter(&mut self, column: usize) -> Result<(), PrerequisiteError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(PrerequisiteError::TooDeep { column });
        }
        Ok(())
    }

    /// Takes `symbol`, or the English `word` in its place (which is then noted).
    fn operator(&mut self, symbol: &Kind, word: &str) -> bool {
        let token = self.peek();
        if token.kind == *symbol {
            self.next();
            return true;
        }
        if token.word(word) {
            if let Kind::Word(written) = self.next().kind {
                self.word_operators.push(written);
            }
            return true;
        }
        false
    }

    fn or(&mut self) -> Result<Expr, PrerequisiteError> {
        let mut parts = vec![self.and()?];
        while self.operator(&Kind::Or, "or") {
            parts.push(self.and()?);
        }
        Ok(if parts.len() == 1 { parts.remove(0) } else { Expr::Or(parts) })
    }

    fn and(&mut self) -> Result<Expr, PrerequisiteError> {
        let mut parts = vec![self.unary()?];
        while self.operator(&Kind::And, "and") {
            parts.push(self.unary()?);
        }
        Ok(if parts.len() == 1 { parts.remove(0) } else { Expr::And(parts) })
    }

    fn unary(&mut self) -> Result<Expr, PrerequisiteError> {
        let token = self.peek().clone();
        // `NOT` is negation only when an operand follows; otherwise it is an item named NOT
        // (as in `NOT = "passed"`).
        let starts_operand = matches!(self.peek_at(1).kind, Kind::Word(_) | Kind::Not | Kind::Open);
        let negation = token.kind == Kind::Not || (token.word("not") && starts_operand);
        if !negation {
            return self.primary();
        }
        if let Kind::Word(written) = &token.kind {
            self.word_operators.push(written.clone());
        }
        self.next();
        self.enter(token.column)?;
        let inner = self.unary()?;
        self.depth -= 1;
        Ok(Expr::Not(Box::new(inner)))
    }

    fn primary(&mut self) -> Result<Expr, PrerequisiteError> {
        let token = self.next();
        match token.kind {
            Kind::Open => {
                self.enter(token.column)?;
                let inner = self.or()?;
                let close = self.next();
                if close.kind != Kind::Close {
                    return Err(close.unexpected("`)`, `&` or `|`"));
                }
                self.depth -= 1;
                Ok(inner)
            }
            Kind::Word(count) if self.peek().kind == Kind::Star && count.chars().all(|c| c.is_ascii_digit()) => {
                self.set(count, token.column)
            }
            Kind::Word(item) => self.comparison(item),
            _ => Err(token.unexpected(OPERAND)),
        }
    }

    /// `N*{a, b, c}`, the count already read; members may be whole expressions.
    fn set(&mut self, count: String, column: usize) -> Result<Expr, PrerequisiteError> {
        self.next(); // `*`
        let open = self.next();
        if open.kind != Kind::OpenSet {
            return Err(open.unexpected("`{` after `N*`"));
        }
        self.enter(open.column)?;
        let mut members = vec![self.or()?];
        loop {
            let separator = self.next();
            match separator.kind {
                Kind::Comma => members.push(self.or()?),
                Kind::CloseSet => break,
                _ => return Err(separator.unexpected("`,` or `}`")),
            }
        }
        self.depth -= 1;
        match count.parse::<usize>() {
            Ok(n) if n <= members.len() => Ok(Expr::AtLeast { count: n, members }),
            _ => Err(PrerequisiteError::CountTooLarge { count, members: members.len(), column }),
        }
    }

    /// An identifier, perhaps compared with a status.
    fn comparison(&mut self, item: String) -> Result<Expr, PrerequisiteError> {
        let equal = match self.peek().kind {
            Kind::Equal => true,
            Kind::NotEqual => false,
            _ => return Ok(Expr::Item(item)),
        };
        self.next();
        let value = self.next();
        let text = match &value.kind {
            Kind::Quoted(text) => text.clone(),
            // Unquoted `not attempted` is two words.
            Kind::Word(word) if word.eq_ignore_ascii_case("not") && self.peek().word("attempted") => {
                self.next();
                "not attempted".to_owned()
            }
            Kind::Word(word) => word.clone(),
            _ => return Err(value.unexpected("a lesson status such as \"completed\"")),
        };
        let status = LessonStatus::parse(&text)
            .ok_or_else(|| PrerequisiteError::UnknownStatus { value: clipped(&text), column: value.column })?;
        Ok(Expr::Status { item, equal, status })
    }
}

/// Something wrong (or tolerated) in an item's prerequisites, found once per organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// The `type` is not `aicc_script`; the script is ignored.
    UnsupportedType { item: String, kind: String },
    /// The script does not parse; it is ignored.
    Invalid { item: String, script: String, error: PrerequisiteError },
    /// The script names identifiers that are no item of the organisation; it is ignored.
    UnknownItems { item: String, names: Vec<String> },
    /// The script can never be met; it is ignored.
    Unsatisfiable { item: String },
    /// English operator words were read as operators; the script is used.
    WordOperators { item: String, words: Vec<String> },
}

impl Finding {
    /// The item whose prerequisites this is about.
    pub fn item(&self) -> &str {
        match self {
            Finding::UnsupportedType { item, .. }
            | Finding::Invalid { item, .. }
            | Finding::UnknownItems { item, .. }
            | Finding::Unsatisfiable { item }
            | Finding::WordOperators { item, .. } => item,
        }
    }

    /// Whether the finding made the item's prerequisites be ignored.
    pub fn ignores_script(&self) -> bool {
        !matches!(self, Finding::WordOperators { .. })
    }
}

struct Node {
    identifier: String,
    parent: Option<usize>,
    children: Vec<usize>,
    launchable: bool,
    rule: Option<Expr>,
}

/// The prerequisites of one organisation's items, checked and ready to evaluate.
///
/// Prerequisites on a cluster hold for everything inside it. A cluster without content of
/// its own has the status of its items rolled up: passed when all are passed, completed
/// when all are passed or completed, failed when all are finished and some failed,
/// not attempted when none was attempted, and incomplete otherwise.
///
/// Everything here takes time in proportion to the outline and its scripts (the tree is at
/// most as deep as the manifest's elements), because it runs on every import, hostile
/// manifests included, and on every page of the player.
pub struct Outline {
    nodes: Vec<Node>,
    index: HashMap<String, usize>,
    findings: Vec<Finding>,
}

impl Outline {
    /// Reads the prerequisites of `items` (an organisation's tree). Scripts with a
    /// [`Finding`] that ignores them leave their item open.
    pub fn new(items: &[Item]) -> Outline {
        let mut outline = Outline { nodes: Vec::new(), index: HashMap::new(), findings: Vec::new() };
        let mut scripts = Vec::new();
        outline.flatten(items, None, &mut scripts);
        let mut found = Vec::new();
        for (node, prerequisites) in scripts {
            let item = outline.nodes[node].identifier.clone();
            if let Some(kind) = prerequisites.kind.as_deref().map(str::trim) {
                if !kind.eq_ignore_ascii_case("aicc_script") {
                    found.push((node, Finding::UnsupportedType { item, kind: kind.to_owned() }));
                    continue;
                }
            }
            let parsed = match parse_script(&prerequisites.script) {
                Ok(parsed) => parsed,
                Err(error) => {
                    found.push((node, Finding::Invalid { item, script: prerequisites.script.clone(), error }));
                    continue;
                }
            };
            if !parsed.word_operators.is_empty() {
                let mut words: Vec<String> = Vec::new();
                for word in parsed.word_operators {
                    if !words.contains(&word) {
                        words.push(word);
                    }
                }
                found.push((node, Finding::WordOperators { item: item.clone(), words }));
            }
            let names: Vec<String> = parsed
                .expr
                .identifiers()
                .into_iter()
                .filter(|id| !outline.index.contains_key(*id))
                .map(str::to_owned)
                .collect();
            if names.is_empty() {
                outline.nodes[node].rule = Some(parsed.expr);
            } else {
                found.push((node, Finding::UnknownItems { item, names }));
            }
        }
        for node in outline.drop_rules_never_met() {
            found.push((node, Finding::Unsatisfiable { item: outline.nodes[node].identifier.clone() }));
        }
        found.sort_by_key(|(node, _)| *node);
        outline.findings = found.into_iter().map(|(_, finding)| finding).collect();
        outline
    }

    /// Depth first, so that a parent always comes before its children.
    fn flatten<'a>(
        &mut self,
        items: &'a [Item],
        parent: Option<usize>,
        scripts: &mut Vec<(usize, &'a crate::manifest::Prerequisites)>,
    ) {
        for item in items {
            let node = self.nodes.len();
            self.nodes.push(Node {
                identifier: item.identifier.clone(),
                parent,
                children: Vec::new(),
                launchable: item.launch.is_some(),
                rule: None,
            });
            // A repeated identifier is an import error already; the first one is used.
            self.index.entry(item.identifier.clone()).or_insert(node);
            if let Some(parent) = parent {
                self.nodes[parent].children.push(node);
            }
            if let Some(prerequisites) = &item.prerequisites {
                scripts.push((node, prerequisites));
            }
            self.flatten(&item.items, Some(node), scripts);
        }
    }

    /// What was found while reading the scripts, in outline order.
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }

    fn node_of(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }

    /// Whether `node` is `ancestor` or inside it.
    fn within(&self, mut node: usize, ancestor: usize) -> bool {
        loop {
            if node == ancestor {
                return true;
            }
            match self.nodes[node].parent {
                Some(parent) => node = parent,
                None => return false,
            }
        }
    }

    /// Ignores the rules that can never be met, whatever the learner does, and returns their
    /// items in the order they were dropped.
    ///
    /// Rules that cannot be met even when every other item is open (they wait on their own
    /// item, on an item inside their cluster, or on the cluster they are in) go first, all
    /// at once. A cycle of items waiting on each other is then broken at its first item in
    /// outline order, so that the rest of the cycle keeps its order. Beyond [`CYCLE_ROUNDS`]
    /// cycles, which only a hostile manifest has, the rest go at once to bound the work.
    fn drop_rules_never_met(&mut self) -> Vec<usize> {
        let mut dropped = Vec::new();
        let mut cycles = 0;
        if self.nodes.iter().all(|n| n.rule.is_none()) {
            return dropped;
        }
        let open = self.statuses_when_open();
        loop {
            let never = self.never_met();
            if never.is_empty() {
                return dropped;
            }
            let alone: Vec<usize> = never.iter().copied().filter(|&node| self.never_met_alone(node, &open)).collect();
            let chosen = if !alone.is_empty() {
                alone
            } else if cycles < CYCLE_ROUNDS {
                cycles += 1;
                vec![never[0]]
            } else {
                never
            };
            for node in chosen {
                self.nodes[node].rule = None;
                dropped.push(node);
            }
        }
    }

    /// The items with rules that no learner can meet as the rules stand.
    ///
    /// Starting from a learner who has done nothing, an item becomes reachable when its
    /// cluster is reachable and its rule could be met, where reachable items may end up with
    /// any status and the others stay "not attempted". Following every consequence until
    /// nothing changes gives every item a learner could ever open; the rules of the others
    /// cannot be met. An item is looked at again only when something its rule names, or its
    /// cluster, changed, and what an item may come to only grows, so this ends soon.
    fn never_met(&self) -> Vec<usize> {
        let count = self.nodes.len();
        let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); count];
        for (node, own) in self.nodes.iter().enumerate() {
            for id in own.rule.iter().flat_map(Expr::identifiers) {
                if let Some(target) = self.node_of(id) {
                    dependents[target].push(node);
                }
            }
        }
        let mut can = Rollups::new(self, |_| Statuses::of(LessonStatus::NotAttempted));
        let mut reached = vec![false; count];
        let mut queue: Vec<usize> = (0..count).filter(|&n| self.nodes[n].parent.is_none()).collect();
        while let Some(node) = queue.pop() {
            if reached[node] || self.nodes[node].parent.is_some_and(|p| !reached[p]) {
                continue;
            }
            let lookup = |id: &str| self.node_of(id).map_or(Statuses::of(LessonStatus::NotAttempted), |n| can.of[n]);
            if self.nodes[node].rule.as_ref().is_some_and(|r| !r.possible(true, &lookup)) {
                continue;
            }
            reached[node] = true;
            queue.extend(&self.nodes[node].children);
            if self.nodes[node].launchable {
                for changed in can.set(self, node, Statuses::ANY) {
                    queue.extend(dependents[changed].iter().filter(|&&d| !reached[d]));
                }
            }
        }
        let lookup = |id: &str| self.node_of(id).map_or(Statuses::of(LessonStatus::NotAttempted), |n| can.of[n]);
        (0..count)
            .filter(|&node| {
                !reached[node] && self.nodes[node].rule.as_ref().is_some_and(|r| !r.possible(true, &lookup))
            })
            .collect()
    }

    /// What every item may come to when every item is open.
    fn statuses_when_open(&self) -> Rollups {
        Rollups::new(self, |node| {
            if self.nodes[node].launchable {
                Statuses::ANY
            } else {
                Statuses::of(LessonStatus::NotAttempted)
            }
        })
    }

    /// Whether `node`'s rule cannot be met even when every item outside it is open: the items
    /// inside it stay "not attempted", and the clusters around it roll that up.
    fn never_met_alone(&self, node: usize, open: &Rollups) -> bool {
        let Some(rule) = &self.nodes[node].rule else {
            return false;
        };
        // The clusters around `node` with what they may come to, from the inside out.
        let mut around: Vec<(usize, Statuses)> = Vec::new();
        let (mut child, mut new) = (node, Statuses::of(LessonStatus::NotAttempted));
        while let Some(parent) = self.nodes[child].parent {
            if self.nodes[parent].launchable || new == open.of[child] {
                break;
            }
            new = open.replaced(self, parent, open.of[child], new);
            around.push((parent, new));
            child = parent;
        }
        let lookup = |id: &str| match self.node_of(id) {
            None => Statuses::of(LessonStatus::NotAttempted),
            Some(target) if self.within(target, node) => Statuses::of(LessonStatus::NotAttempted),
            Some(target) => around.iter().find(|(n, _)| *n == target).map_or(open.of[target], |(_, s)| *s),
        };
        !rule.possible(true, &lookup)
    }

    /// Every item's status: launchable items from `status_of` (unknown means not attempted),
    /// clusters rolled up from their items.
    fn statuses(&self, status_of: &dyn Fn(&str) -> Option<LessonStatus>) -> Vec<LessonStatus> {
        let mut statuses = vec![LessonStatus::NotAttempted; self.nodes.len()];
        for node in (0..self.nodes.len()).rev() {
            let own = &self.nodes[node];
            statuses[node] = if own.launchable {
                status_of(&own.identifier).unwrap_or(LessonStatus::NotAttempted)
            } else {
                rollup(own.children.iter().map(|&c| statuses[c]))
            };
        }
        statuses
    }

    /// The items a learner may not open yet, each with the items its failing rules (its own
    /// and its clusters') name that are not yet passed or completed, in the order written and
    /// at most [`MAX_WAITING`] of them. Items that are missing are open.
    pub fn locked(&self, status_of: impl Fn(&str) -> Option<LessonStatus>) -> BTreeMap<String, Vec<String>> {
        let statuses = self.statuses(&status_of);
        let lookup = |id: &str| self.node_of(id).map(|node| statuses[node]);
        let mut waiting: Vec<Option<Vec<String>>> = vec![None; self.nodes.len()];
        for node in 0..self.nodes.len() {
            let mut list = self.nodes[node].parent.and_then(|p| waiting[p].clone());
            if let Some(rule) = self.nodes[node].rule.as_ref().filter(|r| !r.evaluate(lookup)) {
                let list = list.get_or_insert_with(Vec::new);
                for id in rule.identifiers() {
                    if list.len() == MAX_WAITING {
                        break;
                    }
                    if !lookup(id).is_some_and(LessonStatus::is_done) && !list.iter().any(|w| w == id) {
                        list.push(id.to_owned());
                    }
                }
            }
            waiting[node] = list;
        }
        let mut locked = BTreeMap::new();
        for (node, list) in waiting.into_iter().enumerate() {
            if let Some(list) = list {
                locked.entry(self.nodes[node].identifier.clone()).or_insert(list);
            }
        }
        locked
    }
}

/// How many items a locked item says it waits for; a hint needs no more.
pub const MAX_WAITING: usize = 6;

/// What each item may come to, with the counts behind each cluster's roll-up kept so that a
/// change to one item updates its clusters without going over their other items again.
struct Rollups {
    of: Vec<Statuses>,
    counts: Vec<[usize; Statuses::TRAITS]>,
}

impl Rollups {
    /// Launchable items take `launchable(node)`; clusters are rolled up from them.
    fn new(outline: &Outline, launchable: impl Fn(usize) -> Statuses) -> Rollups {
        let count = outline.nodes.len();
        let mut rollups = Rollups {
            of: vec![Statuses::of(LessonStatus::NotAttempted); count],
            counts: vec![[0; Statuses::TRAITS]; count],
        };
        for node in (0..count).rev() {
            let own = &outline.nodes[node];
            rollups.of[node] = if own.launchable {
                launchable(node)
            } else {
                Statuses::rollup(&rollups.counts[node], own.children.len())
            };
            if let Some(parent) = own.parent {
                add(&mut rollups.counts[parent], rollups.of[node].traits(), 1);
            }
        }
        rollups
    }

    /// What `cluster` may come to if one of its items changed from `old` to `new`.
    fn replaced(&self, outline: &Outline, cluster: usize, old: Statuses, new: Statuses) -> Statuses {
        let mut counts = self.counts[cluster];
        add(&mut counts, old.traits(), -1);
        add(&mut counts, new.traits(), 1);
        Statuses::rollup(&counts, outline.nodes[cluster].children.len())
    }

    /// Sets what `node` may come to and rolls the change up; returns every item that changed.
    fn set(&mut self, outline: &Outline, node: usize, statuses: Statuses) -> Vec<usize> {
        let mut changed = Vec::new();
        let (mut node, mut new) = (node, statuses);
        while self.of[node] != new {
            let old = self.of[node];
            self.of[node] = new;
            changed.push(node);
            let Some(parent) = outline.nodes[node].parent.filter(|&p| !outline.nodes[p].launchable) else {
                break;
            };
            add(&mut self.counts[parent], old.traits(), -1);
            add(&mut self.counts[parent], new.traits(), 1);
            new = Statuses::rollup(&self.counts[parent], outline.nodes[parent].children.len());
            node = parent;
        }
        changed
    }
}

fn add(counts: &mut [usize; Statuses::TRAITS], traits: [bool; Statuses::TRAITS], sign: isize) {
    for (count, has) in counts.iter_mut().zip(traits) {
        if has {
            *count = count.saturating_add_signed(sign);
        }
    }
}

/// A set of lesson statuses: what an item may still come to, for finding rules that can
/// never be met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Statuses(u8);

impl Statuses {
    const ANY: Statuses = Statuses(0b11_1111);
    /// How many traits [`Statuses::traits`] tells.
    const TRAITS: usize = 8;

    fn of(status: LessonStatus) -> Statuses {
        Statuses(1 << status as u8)
    }

    fn any(self, test: impl Fn(LessonStatus) -> bool) -> bool {
        LessonStatus::ALL.into_iter().any(|s| self.0 & Statuses::of(s).0 != 0 && test(s))
    }

    /// Whether the set allows: passed; done; done or failed; not attempted; completed;
    /// failed; incomplete or browsed; something other than not attempted. A cluster's
    /// roll-up depends only on how many of its items have each.
    fn traits(self) -> [bool; Statuses::TRAITS] {
        use LessonStatus::*;
        [
            self.any(|s| s == Passed),
            self.any(LessonStatus::is_done),
            self.any(|s| s.is_done() || s == Failed),
            self.any(|s| s == NotAttempted),
            self.any(|s| s == Completed),
            self.any(|s| s == Failed),
            self.any(|s| matches!(s, Incomplete | Browsed)),
            self.any(|s| s != NotAttempted),
        ]
    }

    /// What a cluster of `len` items may roll up to (see [`rollup`]), from how many of its
    /// items have each trait. Exact for every status but "incomplete", which it may allow
    /// too often.
    fn rollup(counts: &[usize; Statuses::TRAITS], len: usize) -> Statuses {
        use LessonStatus::*;
        if len == 0 {
            return Statuses::of(NotAttempted);
        }
        let [passed, done, finished, not_attempted, completed, failed, started, other] = *counts;
        let with = |set: Statuses, status: LessonStatus, included: bool| {
            if included {
                Statuses(set.0 | Statuses::of(status).0)
            } else {
                set
            }
        };
        let mut set = Statuses(0);
        set = with(set, Passed, passed == len);
        set = with(set, Completed, done == len && completed > 0);
        set = with(set, Failed, finished == len && failed > 0);
        set = with(set, NotAttempted, not_attempted == len);
        with(set, Incomplete, started > 0 || (not_attempted > 0 && other > 0))
    }
}

/// A cluster's status from its items' (see [`Outline`]).
fn rollup(children: impl Iterator<Item = LessonStatus>) -> LessonStatus {
    let children: Vec<LessonStatus> = children.collect();
    let all = |f: fn(&LessonStatus) -> bool| !children.is_empty() && children.iter().all(f);
    if all(|s| *s == LessonStatus::Passed) {
        LessonStatus::Passed
    } else if all(|s| s.is_done()) {
        LessonStatus::Completed
    } else if all(|s| s.is_done() || *s == LessonStatus::Failed) {
        LessonStatus::Failed
    } else if children.iter().all(|s| *s == LessonStatus::NotAttempted) {
        LessonStatus::NotAttempted
    } else {
        LessonStatus::Incomplete
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use LessonStatus::*;

    #[test]
    fn scripts_parse_with_precedence_brackets_and_leniencies() {
        // (script, the fully bracketed form)
        let cases = [
            ("a", "a"),
            ("a & b", "(a & b)"),
            ("a|b&c", "(a | (b & c))"),
            ("a & b | c & d", "((a & b) | (c & d))"),
            ("(a|b)&c", "((a | b) & c)"),
            ("a & b & c | d", "((a & b & c) | d)"),
            ("~a & b", "(~a & b)"),
            ("~(a & b)", "~(a & b)"),
            ("~~a", "~~a"),
            ("((a))", "a"),
            ("  a\t&\n b ", "(a & b)"),
            (r#"a = "completed""#, r#"a = "completed""#),
            (r#"a<>"passed""#, r#"a <> "passed""#),
            ("a = 'P'", r#"a = "passed""#),
            ("a = c", r#"a = "completed""#),
            ("a=F|b=i|c=B", r#"(a = "failed" | b = "incomplete" | c = "browsed")"#),
            (r#"a = "Not  Attempted""#, r#"a = "not attempted""#),
            ("a = n", r#"a = "not attempted""#),
            ("a = not attempted & b", r#"(a = "not attempted" & b)"#),
            ("~a = p", r#"~a = "passed""#),
            ("2*{a, b, c}", "2*{a, b, c}"),
            ("1*{a & b, c} | d", "(1*{(a & b), c} | d)"),
            ("0*{a}", "0*{a}"),
            // English words, as real packages write them.
            ("module1 AND module2", "(module1 & module2)"),
            ("(module1 AND module2) OR module3", "((module1 & module2) | module3)"),
            ("NOT a and b", "(~a & b)"),
            ("not not a", "~~a"),
            // Words are operators only where an operator fits; elsewhere they are items.
            (r#"NOT = "passed""#, r#"NOT = "passed""#),
            ("a & or", "(a & or)"),
            ("and", "and"),
            // Identifiers are anything up to an operator, digits alone included.
            ("1.2-intro & SCO:01 & x_y", "(1.2-intro & SCO:01 & x_y)"),
            ("10", "10"),
        ];
        for (script, expected) in cases {
            match parse(script) {
                Ok(expr) => assert_eq!(expr.to_string(), expected, "{script:?}"),
                Err(error) => panic!("{script:?} should parse: {error}"),
            }
        }
    }

    #[test]
    fn english_operator_words_are_noted() {
        let cases: [(&str, &[&str]); 4] =
            [("a & b", &[]), ("a AND b Or c", &["AND", "Or"]), ("NOT a", &["NOT"]), ("NOT = p & and", &[])];
        for (script, words) in cases {
            assert_eq!(parse_script(script).unwrap().word_operators, words, "{script:?}");
        }
    }

    #[test]
    fn errors_say_what_and_where() {
        let unexpected =
            |found: &str, column, expected| PrerequisiteError::Unexpected { found: found.to_owned(), column, expected };
        let end = |column, expected| PrerequisiteError::UnexpectedEnd { column, expected };
        let cases = [
            ("", PrerequisiteError::Empty),
            ("   ", PrerequisiteError::Empty),
            ("a &", end(4, OPERAND)),
            ("a b", unexpected("`b`", 3, "`&`, `|` or the end of the script")),
            ("(a | b", end(7, "`)`, `&` or `|`")),
            ("a)", unexpected("`)`", 2, "`&`, `|` or the end of the script")),
            ("& a", unexpected("`&`", 1, OPERAND)),
            ("~", end(2, OPERAND)),
            ("()", unexpected("`)`", 2, OPERAND)),
            (r#"a = "done""#, PrerequisiteError::UnknownStatus { value: "done".into(), column: 5 }),
            ("a = x", PrerequisiteError::UnknownStatus { value: "x".into(), column: 5 }),
            ("a = ", end(5, "a lesson status such as \"completed\"")),
            ("a = &", unexpected("`&`", 5, "a lesson status such as \"completed\"")),
            (r#"a = "passed"#, PrerequisiteError::UnclosedQuote { column: 5 }),
            (
                "a < b",
                unexpected(
                    "`<`",
                    3,
                    "an identifier, an operator or a bracket (`<>` is the only comparison besides `=`)",
                ),
            ),
            (
                "a => b",
                unexpected(
                    "`>`",
                    4,
                    "an identifier, an operator or a bracket (`<>` is the only comparison besides `=`)",
                ),
            ),
            ("4*{a, b}", PrerequisiteError::CountTooLarge { count: "4".into(), members: 2, column: 1 }),
            (
                "99999999999999999999999*{a}",
                PrerequisiteError::CountTooLarge { count: "99999999999999999999999".into(), members: 1, column: 1 },
            ),
            ("2*(a, b)", unexpected("`(`", 3, "`{` after `N*`")),
            ("2*{a b}", unexpected("`b`", 6, "`,` or `}`")),
            ("2*{}", unexpected("`}`", 4, OPERAND)),
            ("2*{a,", end(6, OPERAND)),
            // Columns count characters, not bytes.
            ("été & )", unexpected("`)`", 7, OPERAND)),
        ];
        for (script, expected) in cases {
            let error = parse(script).expect_err(script);
            assert_eq!(error, expected, "{script:?}");
            assert_eq!(error.column(), expected.column());
        }
        let message = parse("a b").unwrap_err().to_string();
        assert_eq!(message, "unexpected `b` at character 3; expected `&`, `|` or the end of the script");
    }

    #[test]
    fn nesting_is_bounded_but_long_chains_are_not() {
        let brackets = |n: usize| format!("{}a{}", "(".repeat(n), ")".repeat(n));
        let cases = [
            (brackets(MAX_DEPTH), None),
            (brackets(MAX_DEPTH + 1), Some(MAX_DEPTH + 1)),
            (format!("{}a", "~".repeat(MAX_DEPTH)), None),
            (format!("{}a", "~".repeat(MAX_DEPTH + 1)), Some(MAX_DEPTH + 1)),
            (format!("{}a{}", "1*{".repeat(MAX_DEPTH), "}".repeat(MAX_DEPTH)), None),
            (format!("{}a{}", "1*{".repeat(MAX_DEPTH + 1), "}".repeat(MAX_DEPTH + 1)), Some(MAX_DEPTH * 3 + 3)),
            (format!("{}a{}", "(~".repeat(MAX_DEPTH / 2 + 1), ")".repeat(MAX_DEPTH / 2 + 1)), Some(MAX_DEPTH + 1)),
            // Depth is given back when a bracket closes.
            (vec![brackets(MAX_DEPTH); 3].join(" & "), None),
            (vec!["a"; 10_000].join(" & "), None),
        ];
        for (script, too_deep_at) in cases {
            let result = parse(&script);
            match too_deep_at {
                None => assert!(result.is_ok(), "{}…: {result:?}", &script[..20.min(script.len())]),
                Some(column) => assert_eq!(result, Err(PrerequisiteError::TooDeep { column })),
            }
        }
    }

    fn statuses(id: &str) -> Option<LessonStatus> {
        match id {
            "a" => Some(Passed),
            "b" => Some(Completed),
            "c" => Some(Failed),
            "d" => Some(Incomplete),
            "e" => Some(Browsed),
            "f" => Some(NotAttempted),
            _ => None,
        }
    }

    #[test]
    fn scripts_evaluate_against_statuses() {
        // a passed, b completed, c failed, d incomplete, e browsed, f not attempted, zz unknown
        let cases = [
            ("a", true),
            ("b", true),
            ("c", false),
            ("d", false),
            ("e", false),
            ("f", false),
            ("zz", false),
            ("a & b", true),
            ("a & c", false),
            ("a | c", true),
            ("c | d", false),
            ("~c", true),
            ("~zz", true),
            ("~a | b", true),
            ("~(a | b)", false),
            ("c | a & b", true),
            ("(c | a) & d", false),
            ("c & d | a", true),
            ("c & (d | a)", false),
            (r#"c = "failed""#, true),
            ("c <> f", false),
            ("a = completed", false),
            ("a <> c", true),
            ("e = B", true),
            ("d = 'incomplete'", true),
            (r#"zz = "not attempted""#, true),
            ("f = n & zz <> p", true),
            ("2*{a, b, c}", true),
            ("3*{a, b, c}", false),
            ("0*{c}", true),
            ("1*{c, d, e = b}", true),
            ("2*{c, d, e = b}", false),
            ("module_a AND a", false),
        ];
        for (script, expected) in cases {
            assert_eq!(parse(script).unwrap().evaluate(statuses), expected, "{script:?}");
        }
    }

    #[test]
    fn identifiers_are_listed_once_in_order() {
        let expr = parse(r#"a & (b | ~a) & 2*{c, b = "p", d <> f}"#).unwrap();
        assert_eq!(expr.identifiers(), ["a", "b", "c", "d"]);
    }

    #[test]
    fn statuses_read_in_full_and_by_letter() {
        let cases = [
            ("passed", Some(Passed)),
            ("P", Some(Passed)),
            ("Completed", Some(Completed)),
            ("c", Some(Completed)),
            ("FAILED", Some(Failed)),
            ("i", Some(Incomplete)),
            ("browsed", Some(Browsed)),
            (" not attempted ", Some(NotAttempted)),
            ("N", Some(NotAttempted)),
            ("notattempted", None),
            ("done", None),
            ("", None),
        ];
        for (text, expected) in cases {
            assert_eq!(LessonStatus::parse(text), expected, "{text:?}");
        }
    }

    #[test]
    fn clusters_roll_their_items_up() {
        let cases: [(&[LessonStatus], LessonStatus); 8] = [
            (&[], NotAttempted),
            (&[Passed, Passed], Passed),
            (&[Passed, Completed], Completed),
            (&[Passed, Failed], Failed),
            (&[NotAttempted, NotAttempted], NotAttempted),
            (&[Passed, NotAttempted], Incomplete),
            (&[Browsed], Incomplete),
            (&[Completed, Incomplete], Incomplete),
        ];
        for (children, expected) in cases {
            assert_eq!(rollup(children.iter().copied()), expected, "{children:?}");
        }
    }

    /// The items of a one-organisation SCORM 1.2 manifest.
    fn outline(items: &str) -> Vec<Item> {
        let xml = format!(
            r#"<manifest identifier="m" xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2" xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2"><metadata><schemaversion>1.2</schemaversion></metadata>
<organizations default="o"><organization identifier="o"><title>T</title>{items}</organization></organizations>
<resources><resource identifier="r" type="webcontent" adlcp:scormtype="sco" href="a.html"/></resources></manifest>"#
        );
        let package = crate::manifest::parse(xml.as_bytes(), "").package.expect("a package");
        package.organizations.into_iter().next().expect("an organisation").items
    }

    /// A launchable item, with prerequisites when `script` is given.
    fn sco(id: &str, script: Option<&str>) -> String {
        let prerequisites = script
            .map(|s| format!(r#"<adlcp:prerequisites type="aicc_script">{s}</adlcp:prerequisites>"#))
            .unwrap_or_default();
        format!(r#"<item identifier="{id}" identifierref="r"><title>{id}</title>{prerequisites}</item>"#)
    }

    #[test]
    fn locked_items_follow_statuses_and_clusters() {
        let items = outline(&format!(
            r#"{}{}{}<item identifier="extra"><title>Extra</title><adlcp:prerequisites type="aicc_script">quiz</adlcp:prerequisites>{}</item><item identifier="part"><title>Part</title>{}{}</item>{}"#,
            sco("intro", None),
            sco("lesson", Some("intro")),
            sco("quiz", Some("intro &amp; lesson")),
            sco("bonus", None),
            sco("x", None),
            sco("y", None),
            sco("final", Some("part")),
        ));
        let gates = Outline::new(&items);
        assert_eq!(gates.findings(), []);
        type Case<'a> = (&'a [(&'a str, LessonStatus)], &'a [(&'a str, &'a [&'a str])]);
        let cases: [Case<'_>; 6] = [
            (
                &[],
                &[
                    ("bonus", &["quiz"]),
                    ("extra", &["quiz"]),
                    ("final", &["part"]),
                    ("lesson", &["intro"]),
                    ("quiz", &["intro", "lesson"]),
                ],
            ),
            (
                &[("intro", Completed)],
                &[("bonus", &["quiz"]), ("extra", &["quiz"]), ("final", &["part"]), ("quiz", &["lesson"])],
            ),
            // Failed and browsed are not done.
            (
                &[("intro", Passed), ("lesson", Browsed), ("quiz", Failed)],
                &[("bonus", &["quiz"]), ("extra", &["quiz"]), ("final", &["part"]), ("quiz", &["lesson"])],
            ),
            // A cluster is done when all its items are.
            (&[("intro", Passed), ("lesson", Passed), ("quiz", Passed), ("x", Completed)], &[("final", &["part"])]),
            (&[("intro", Passed), ("lesson", Passed), ("quiz", Passed), ("x", Completed), ("y", Passed)], &[]),
            // Unknown items in the statuses change nothing.
            (
                &[("intro", Passed), ("elsewhere", Failed)],
                &[("bonus", &["quiz"]), ("extra", &["quiz"]), ("final", &["part"]), ("quiz", &["lesson"])],
            ),
        ];
        for (given, expected) in cases {
            let status = |id: &str| given.iter().find(|(i, _)| *i == id).map(|(_, s)| *s);
            let locked = gates.locked(status);
            let expected: BTreeMap<String, Vec<String>> = expected
                .iter()
                .map(|(id, waiting)| (id.to_string(), waiting.iter().map(|w| w.to_string()).collect()))
                .collect();
            assert_eq!(locked, expected, "{given:?}");
        }
    }

    #[test]
    fn faulty_scripts_are_reported_and_leave_their_item_open() {
        let items = outline(&format!(
            r#"{}{}{}{}{}{}{}{}<item identifier="k"><title>K</title><adlcp:prerequisites type="aicc_script">k1</adlcp:prerequisites>{}</item>{}{}{}<item identifier="odd" identifierref="r"><title>Odd</title><adlcp:prerequisites type="sequencing">a</adlcp:prerequisites></item>"#,
            sco("a", None),
            sco("bad", Some("a &amp;")),
            sco("unknown", Some("a | ghost | ghost2")),
            sco("self", Some("self")),
            sco("loop1", Some("loop2")),
            sco("loop2", Some("loop1 &amp; a")),
            sco("words", Some("a AND self")),
            sco("remedial", Some(r#"a = "failed""#)),
            sco("k1", None),
            sco("never", Some(r#"a = "passed" &amp; a = "failed""#)),
            sco("after_loop", Some("loop1")),
            sco("after_self", Some("~self")),
        ));
        let gates = Outline::new(&items);
        let expected = vec![
            Finding::Invalid {
                item: "bad".into(),
                script: "a &".into(),
                error: PrerequisiteError::UnexpectedEnd { column: 4, expected: OPERAND },
            },
            Finding::UnknownItems { item: "unknown".into(), names: vec!["ghost".into(), "ghost2".into()] },
            Finding::Unsatisfiable { item: "self".into() },
            // The cycle is broken at its first item; loop2 keeps waiting on loop1.
            Finding::Unsatisfiable { item: "loop1".into() },
            // It waits on `self`, which opens once its own script is ignored, so it is kept.
            Finding::WordOperators { item: "words".into(), words: vec!["AND".into()] },
            // A cluster waiting on its own item.
            Finding::Unsatisfiable { item: "k".into() },
            Finding::UnsupportedType { item: "odd".into(), kind: "sequencing".into() },
        ];
        assert_eq!(gates.findings(), expected);
        assert!(expected.iter().filter(|f| f.item() != "words").all(Finding::ignores_script));
        assert!(!expected[4].ignores_script());
        let locked: Vec<String> = gates.locked(|_| None).into_keys().collect();
        // Items waiting on the reported ones lock as usual. `never` contradicts itself, which
        // the check does not see (it judges each comparison on its own).
        assert_eq!(locked, ["after_loop", "loop2", "never", "remedial", "words"]);
        let locked: Vec<String> = gates.locked(|id| (id == "a").then_some(Failed)).into_keys().collect();
        assert_eq!(locked, ["after_loop", "loop2", "never", "words"]);
        let locked: Vec<String> =
            gates.locked(|id| ["a", "loop1", "self"].contains(&id).then_some(Passed)).into_keys().collect();
        assert_eq!(locked, ["after_self", "never", "remedial"]);
    }

    #[test]
    fn rules_on_clusters_and_inside_them_that_can_never_be_met_are_found() {
        // (items, the items whose rules are reported as never met)
        let cases = [
            // An item waiting on the cluster it is in: the cluster is done only when it is.
            (
                format!(r#"<item identifier="p"><title>P</title>{}{}</item>"#, sco("x", None), sco("y", Some("p"))),
                vec!["y"],
            ),
            // ... but waiting on a sibling is fine, and so is a cluster being merely started.
            (
                format!(r#"<item identifier="p"><title>P</title>{}{}</item>"#, sco("x", None), sco("y", Some("x"))),
                vec![],
            ),
            (
                format!(r#"<item identifier="p"><title>P</title>{}{}</item>"#, sco("x", None), sco("y", Some("p = i"))),
                vec![],
            ),
            // A cluster rolled up from locked items can still fail.
            (
                format!(r#"<item identifier="p"><title>P</title>{}</item>{}"#, sco("x", None), sco("z", Some("p = f"))),
                vec![],
            ),
            // Three items in a ring: broken once, at the first.
            (format!("{}{}{}", sco("r1", Some("r3")), sco("r2", Some("r1")), sco("r3", Some("r2"))), vec!["r1"]),
            // Sets count what could be met.
            (format!("{}{}", sco("s1", None), sco("s2", Some("2*{s1, s2}"))), vec!["s2"]),
            (format!("{}{}", sco("s1", None), sco("s2", Some("1*{s1, s2}"))), vec![]),
            (format!("{}{}", sco("s1", None), sco("s2", Some("~1*{s2}"))), vec![]),
        ];
        for (items, expected) in cases {
            let gates = Outline::new(&outline(&items));
            let never: Vec<&str> = gates
                .findings()
                .iter()
                .filter(|f| matches!(f, Finding::Unsatisfiable { .. }))
                .map(Finding::item)
                .collect();
            assert_eq!(never, expected, "{items}");
        }
    }

    #[test]
    fn large_outlines_are_checked_in_proportion_to_their_size() {
        // Each shape would take minutes if any step went over the outline once per item:
        // a chain written backwards, a ring, many small cycles, items waiting on themselves,
        // and thousands of items in one cluster all waiting on it.
        const N: usize = 4_000;
        let id = |i: usize| format!("i{i}");
        let shapes: Vec<(&str, String, usize)> = vec![
            ("chain", (0..N).map(|i| sco(&id(i), (i + 1 < N).then(|| id(i + 1)).as_deref())).collect(), 0),
            ("ring", (0..N).map(|i| sco(&id(i), Some(&id((i + 1) % N)))).collect(), 1),
            // Beyond CYCLE_ROUNDS cycles, both items of the remaining pairs are dropped at once.
            ("pairs", (0..N).map(|i| sco(&id(i), Some(&id(i ^ 1)))).collect(), N - CYCLE_ROUNDS),
            ("selves", (0..N).map(|i| sco(&id(i), Some(&id(i)))).collect(), N),
            (
                "cluster",
                format!(
                    r#"<item identifier="c"><title>C</title>{}</item>"#,
                    (0..N).map(|i| sco(&id(i), Some("c"))).collect::<String>()
                ),
                N,
            ),
        ];
        for (shape, items, never) in shapes {
            let started = std::time::Instant::now();
            let gates = Outline::new(&outline(&items));
            let found = gates.findings().iter().filter(|f| matches!(f, Finding::Unsatisfiable { .. })).count();
            assert_eq!(found, never, "{shape}");
            let locked = gates.locked(|_| None);
            assert!(locked.len() < N, "{shape}: something is open");
            assert!(started.elapsed().as_secs() < 20, "{shape} took {:?}", started.elapsed());
        }
    }

    #[test]
    fn errors_quote_at_most_the_start_of_long_text() {
        let long = "x".repeat(10_000);
        let message = parse(&format!("a {long}")).unwrap_err().to_string();
        assert!(message.starts_with(&format!("unexpected `{}…` at character 3", "x".repeat(40))), "{message}");
        let message = parse(&format!("a = \"{long}\"")).unwrap_err().to_string();
        assert!(message.len() < 300, "{message}");
    }
}
