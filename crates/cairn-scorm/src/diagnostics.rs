//! Diagnostics: the warnings and errors that reading a package produces, with where they point.
//!
//! Every problem the reader finds becomes a [`Diagnostic`] rather than a bare string, so that
//! the CLI, the importer and the web pages can all show the same message and a machine can
//! match on the stable `code`. Messages are written for the person who made the package: they
//! say what is wrong and what to do about it.

use serde::Serialize;

/// How bad a diagnostic is. Any error makes the package not importable; warnings are advice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// Where a diagnostic points.
///
/// For manifest problems `path` is an element path such as
/// `/manifest/organizations/organization[1]/item[2]` (1-based positions among siblings of the
/// same name) and `line`/`column` point into `imsmanifest.xml`. For archive problems `path` is
/// the zip entry name and there is no line or column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    pub path: String,
    pub line: Option<u32>,
    pub column: Option<u32>,
}

impl Location {
    /// A location that names a path only (a zip entry, or an element without a position).
    pub fn path(path: impl Into<String>) -> Self {
        Location { path: path.into(), line: None, column: None }
    }

    /// A location inside the manifest text.
    pub fn at(path: impl Into<String>, line: u32, column: u32) -> Self {
        Location { path: path.into(), line: Some(line), column: Some(column) }
    }
}

/// One finding about a package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    /// A stable snake_case identifier, listed in `docs/package-inspect.md`.
    pub code: &'static str,
    /// Plain words that say what is wrong and what to do.
    pub message: String,
    pub location: Option<Location>,
}

impl Diagnostic {
    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic { severity: Severity::Error, code, message: message.into(), location: None }
    }

    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic { severity: Severity::Warning, code, message: message.into(), location: None }
    }

    /// Attaches a location; written as a builder so call sites stay one expression.
    pub fn at(mut self, location: Location) -> Self {
        self.location = Some(location);
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// A growing list of diagnostics, passed down through the parsing steps.
#[derive(Debug, Default, Clone)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.items.push(diagnostic);
    }

    pub fn extend(&mut self, other: impl IntoIterator<Item = Diagnostic>) {
        self.items.extend(other);
    }

    pub fn has_errors(&self) -> bool {
        self.items.iter().any(Diagnostic::is_error)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.items.iter()
    }

    pub fn into_vec(self) -> Vec<Diagnostic> {
        self.items
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_and_location_serialise_as_documented() {
        let cases = [
            (
                Diagnostic::error("no_manifest", "m"),
                r#"{"severity":"error","code":"no_manifest","message":"m","location":null}"#,
            ),
            (
                Diagnostic::warning("x", "m").at(Location::at("/manifest", 2, 3)),
                r#"{"severity":"warning","code":"x","message":"m","location":{"path":"/manifest","line":2,"column":3}}"#,
            ),
        ];
        for (diagnostic, json) in cases {
            assert_eq!(serde_json::to_string(&diagnostic).unwrap(), json);
        }
    }

    #[test]
    fn errors_are_counted_but_warnings_are_not() {
        let mut all = Diagnostics::new();
        all.push(Diagnostic::warning("w", "w"));
        assert!(!all.has_errors());
        all.push(Diagnostic::error("e", "e"));
        assert!(all.has_errors());
    }
}
