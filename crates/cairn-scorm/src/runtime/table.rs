//! What an element table is made of (access, type, initial value, whether a setter creates a
//! collection record) and how an element name is matched against it: numeric segments are
//! collection indexes and match the `n` of a pattern such as `cmi.objectives.n.id`.

use super::types::Ty;

/// Who may read and write an element through the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    ReadOnly,
    WriteOnly,
    ReadWrite,
}

/// Where the value of an element comes from before the SCO sets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Init {
    /// The empty string.
    Empty,
    /// A fixed default ("not attempted", "unknown", "1", …).
    Fixed(&'static str),
    /// No value: GetValue answers 403 in 2004 ("" in 1.2, which has no such code).
    Unset,
    /// Provided by the LMS at launch ([`super::LaunchData`]); when the LMS has none it is
    /// unset in 2004 and "" in 1.2.
    Launch,
    /// Computed on every read from other elements (2004 completion and success status).
    Evaluated,
}

/// One element (or pattern of elements) of a data model.
#[derive(Debug, Clone, Copy)]
pub struct Element {
    pub name: &'static str,
    pub access: Access,
    pub ty: Ty,
    pub init: Init,
    /// Whether setting this element at index `_count` creates a new collection record
    /// (2004: only ids, comments and correct-response patterns do; RTE §4.1.1.3).
    pub creates: bool,
}

/// Table-building shorthand: an element that does not create records.
pub const fn el(name: &'static str, access: Access, ty: Ty, init: Init) -> Element {
    Element { name, access, ty, init, creates: false }
}

/// Table-building shorthand: an element whose setter creates a record.
pub const fn creator(name: &'static str, ty: Ty, init: Init) -> Element {
    Element { name, access: Access::ReadWrite, ty, init, creates: true }
}

/// A version's data model: the value of `cmi._version`, its elements, the `_children` lists
/// of its containers and its collections with their SPM (0 where none is given).
#[derive(Debug)]
pub struct Model {
    pub version: &'static str,
    pub elements: &'static [Element],
    pub children: &'static [(&'static str, &'static str)],
    pub collections: &'static [(&'static str, usize)],
}

/// An element name split into its pattern (`cmi.objectives.n.id`) and its indexes.
#[derive(Debug, Clone, PartialEq)]
pub struct Name {
    pub pattern: String,
    pub indexes: Vec<usize>,
    /// Segments of the real name, to rebuild the path of each collection level.
    segments: Vec<String>,
}

impl Name {
    /// Splits a name. `None` when it cannot be an element: an empty segment, or an index
    /// with a leading zero (RTE §4.1.1.3 writes indexes without them, "15" not "0015").
    pub fn parse(name: &str) -> Option<Name> {
        // Navigation targets are identifiers that may contain dots, so they are matched as
        // one segment before splitting.
        for verb in ["choice", "jump"] {
            let prefix = format!("adl.nav.request_valid.{verb}.");
            if let Some(target) = name.strip_prefix(&prefix) {
                let inner = target.strip_prefix("{target=")?.strip_suffix('}')?;
                if inner.is_empty() {
                    return None;
                }
                return Some(Name {
                    pattern: format!("{prefix}{{target=}}"),
                    indexes: Vec::new(),
                    segments: name.split('.').map(str::to_owned).collect(),
                });
            }
        }
        let mut pattern = Vec::new();
        let mut indexes = Vec::new();
        let mut segments = Vec::new();
        for seg in name.split('.') {
            if seg.is_empty() {
                return None;
            }
            if seg.bytes().all(|b| b.is_ascii_digit()) {
                if seg.len() > 1 && seg.starts_with('0') {
                    return None;
                }
                indexes.push(seg.parse().unwrap_or(usize::MAX));
                pattern.push("n");
            } else {
                pattern.push(seg);
            }
            segments.push(seg.to_owned());
        }
        Some(Name { pattern: pattern.join("."), indexes, segments })
    }

    /// The collection levels of this name, outermost first: the real path of each
    /// collection (`cmi.interactions.3.objectives`), its pattern and the index used in it.
    pub fn levels(&self) -> Vec<(String, String, usize)> {
        let mut out = Vec::new();
        let mut k = 0;
        for (i, seg) in self.segments.iter().enumerate() {
            if seg.bytes().all(|b| b.is_ascii_digit()) && !seg.is_empty() {
                let path = self.segments[..i].join(".");
                let pattern = self.pattern.split('.').take(i).collect::<Vec<_>>().join(".");
                out.push((path, pattern, self.indexes[k]));
                k += 1;
            }
        }
        out
    }
}

impl Model {
    /// The element with this exact pattern.
    pub fn element(&self, pattern: &str) -> Option<&'static Element> {
        self.elements.iter().find(|e| e.name == pattern)
    }

    /// The `_children` list of a container pattern.
    pub fn children_of(&self, pattern: &str) -> Option<&'static str> {
        self.children.iter().find(|(p, _)| *p == pattern).map(|(_, c)| *c)
    }

    /// Whether the pattern is a collection (has `_count`), and its SPM.
    pub fn collection(&self, pattern: &str) -> Option<usize> {
        self.collections.iter().find(|(p, _)| *p == pattern).map(|(_, spm)| *spm)
    }

    /// Whether the pattern names something of the model: an element, or a container of
    /// elements (a strict prefix of one, such as `cmi.core` or `cmi.objectives.n`).
    pub fn is_known(&self, pattern: &str) -> bool {
        self.element(pattern).is_some() || self.is_container(pattern)
    }

    /// Whether the pattern is a strict prefix of some element.
    pub fn is_container(&self, pattern: &str) -> bool {
        let prefix = format!("{pattern}.");
        self.elements.iter().any(|e| e.name.starts_with(&prefix))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_split_into_patterns_and_levels() {
        let n = Name::parse("cmi.interactions.12.objectives.0.id").unwrap();
        assert_eq!(n.pattern, "cmi.interactions.n.objectives.n.id");
        assert_eq!(n.indexes, vec![12, 0]);
        assert_eq!(
            n.levels(),
            vec![
                ("cmi.interactions".to_owned(), "cmi.interactions".to_owned(), 12),
                ("cmi.interactions.12.objectives".to_owned(), "cmi.interactions.n.objectives".to_owned(), 0),
            ]
        );
        assert_eq!(Name::parse("cmi.objectives.01.id"), None);
        assert_eq!(Name::parse("cmi..id"), None);
        assert_eq!(Name::parse("cmi.objectives.99999999999999999999999.id").unwrap().indexes, vec![usize::MAX]);
        let nav = Name::parse("adl.nav.request_valid.choice.{target=a.b}").unwrap();
        assert_eq!(nav.pattern, "adl.nav.request_valid.choice.{target=}");
        assert_eq!(Name::parse("adl.nav.request_valid.choice.{target=}"), None);
    }
}
