//! The prerequisites script, read: tokens with their columns, then a recursive-descent
//! parser with the precedence and leniencies described in the module's documentation.

use super::*;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Kind {
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
pub(super) struct Token {
    pub(super) kind: Kind,
    pub(super) column: usize,
}

impl Token {
    pub(super) fn describe(&self) -> String {
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

    pub(super) fn unexpected(&self, expected: &'static str) -> PrerequisiteError {
        match self.kind {
            Kind::End => PrerequisiteError::UnexpectedEnd { column: self.column, expected },
            _ => PrerequisiteError::Unexpected { found: self.describe(), column: self.column, expected },
        }
    }

    pub(super) fn word(&self, wanted: &str) -> bool {
        matches!(&self.kind, Kind::Word(w) if w.eq_ignore_ascii_case(wanted))
    }
}

/// Text from a script as an error quotes it: whole when short, its start otherwise, so that
/// a hostile script does not make a message of megabytes.
pub(super) fn clipped(text: &str) -> String {
    const SHOWN: usize = 40;
    match text.char_indices().nth(SHOWN) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// Characters that end an identifier. Anything else that is not whitespace belongs to one,
/// because manifests use identifiers far beyond XML names (`1.2-intro`, `SCO:01`).
pub(super) fn is_special(c: char) -> bool {
    matches!(c, '&' | '|' | '~' | '(' | ')' | '{' | '}' | ',' | '*' | '=' | '<' | '>' | '"' | '\'')
}

pub(super) fn lex(script: &str) -> Result<Vec<Token>, PrerequisiteError> {
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

pub(super) struct Parser {
    pub(super) tokens: Vec<Token>,
    pub(super) at: usize,
    pub(super) depth: usize,
    pub(super) word_operators: Vec<String>,
}

pub(super) const OPERAND: &str = "an item identifier, `~`, `(` or `N*{`";

impl Parser {
    pub(super) fn peek(&self) -> &Token {
        &self.tokens[self.at.min(self.tokens.len() - 1)]
    }

    pub(super) fn peek_at(&self, offset: usize) -> &Token {
        &self.tokens[(self.at + offset).min(self.tokens.len() - 1)]
    }

    pub(super) fn next(&mut self) -> Token {
        let token = self.peek().clone();
        if self.at < self.tokens.len() - 1 {
            self.at += 1;
        }
        token
    }

    pub(super) fn enter(&mut self, column: usize) -> Result<(), PrerequisiteError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(PrerequisiteError::TooDeep { column });
        }
        Ok(())
    }

    /// Takes `symbol`, or the English `word` in its place (which is then noted).
    pub(super) fn operator(&mut self, symbol: &Kind, word: &str) -> bool {
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

    pub(super) fn or(&mut self) -> Result<Expr, PrerequisiteError> {
        let mut parts = vec![self.and()?];
        while self.operator(&Kind::Or, "or") {
            parts.push(self.and()?);
        }
        Ok(if parts.len() == 1 { parts.remove(0) } else { Expr::Or(parts) })
    }

    pub(super) fn and(&mut self) -> Result<Expr, PrerequisiteError> {
        let mut parts = vec![self.unary()?];
        while self.operator(&Kind::And, "and") {
            parts.push(self.unary()?);
        }
        Ok(if parts.len() == 1 { parts.remove(0) } else { Expr::And(parts) })
    }

    pub(super) fn unary(&mut self) -> Result<Expr, PrerequisiteError> {
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

    pub(super) fn primary(&mut self) -> Result<Expr, PrerequisiteError> {
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
    pub(super) fn set(&mut self, count: String, column: usize) -> Result<Expr, PrerequisiteError> {
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
    pub(super) fn comparison(&mut self, item: String) -> Result<Expr, PrerequisiteError> {
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
