//! Turning manifest bytes into a namespace-resolved element tree with line and column numbers.
//!
//! The bytes are decoded first (BOM, then the declared encoding, then a windows-1252 fallback
//! for text that claims UTF-8 but is not), so quick-xml always sees UTF-8. Elements and
//! attributes carry their namespace URI, never a prefix, because packages use all sorts of
//! prefixes. DOCTYPEs are skipped and no entity is ever expanded beyond the five predefined
//! ones and character references, so a manifest cannot pull in outside files.

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;
use serde::{Deserialize, Serialize};

/// Elements nested deeper than this are refused: a real manifest is a few dozen levels deep
/// at most, and the limit keeps the recursive walks over the tree far from the stack's end.
pub const MAX_DEPTH: usize = 200;

/// The XML namespace, always bound to the `xml` prefix.
pub const XML_NAMESPACE: &str = "http://www.w3.org/XML/1998/namespace";

/// A generic element, kept for parts of the manifest that are stored rather than interpreted
/// (sequencing, presentation) so that a later sequencer can read them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct XmlElement {
    /// The local name, without prefix.
    pub name: String,
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<XmlAttribute>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<XmlElement>,
    /// The element's own text, trimmed; `None` when there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// One attribute of an [`XmlElement`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct XmlAttribute {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub value: String,
}

/// An element as parsed, with its position in the manifest text.
#[derive(Debug, Clone)]
pub struct Node {
    pub name: String,
    pub namespace: Option<String>,
    pub attributes: Vec<XmlAttribute>,
    pub children: Vec<Node>,
    pub text: String,
    pub line: u32,
    pub column: u32,
}

impl Node {
    /// An attribute without a namespace, by exact local name (CP attributes are unqualified).
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attributes.iter().find(|a| a.namespace.is_none() && a.name == name).map(|a| a.value.as_str())
    }

    /// An attribute in a namespace, by exact local name.
    pub fn attr_ns(&self, namespace: &str, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|a| a.namespace.as_deref() == Some(namespace) && a.name == name)
            .map(|a| a.value.as_str())
    }

    /// The trimmed text, or `None` when it is blank.
    pub fn trimmed_text(&self) -> Option<&str> {
        Some(self.text.trim()).filter(|t| !t.is_empty())
    }

    /// The generic form, without positions.
    pub fn to_element(&self) -> XmlElement {
        XmlElement {
            name: self.name.clone(),
            namespace: self.namespace.clone(),
            attributes: self.attributes.clone(),
            children: self.children.iter().map(Node::to_element).collect(),
            text: self.trimmed_text().map(str::to_owned),
        }
    }
}

/// Why the manifest text could not be read as XML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum XmlProblem {
    /// Nothing but a declaration, comments or whitespace.
    Empty,
    /// Not well-formed, at a line and column.
    Malformed { message: String, line: u32, column: u32 },
}

/// A parsed document plus the tolerances that were applied.
#[derive(Debug)]
pub struct Document {
    pub root: Node,
    /// Set when the bytes were not what they claimed and were read as windows-1252.
    pub encoding_fallback: bool,
    /// Set when an unknown entity was kept as written instead of expanded.
    pub unknown_entity: bool,
}

/// Decodes and parses manifest bytes.
pub fn parse(bytes: &[u8]) -> Result<Document, XmlProblem> {
    let (text, encoding_fallback) = decode(bytes);
    let lines = LineIndex::new(&text);
    let mut reader = NsReader::from_str(&text);
    let mut stack: Vec<Node> = Vec::new();
    let mut root: Option<Node> = None;
    let mut unknown_entity = false;
    loop {
        let position = reader.buffer_position() as usize;
        let malformed = |message: String, at: usize| {
            let (line, column) = lines.locate(&text, at);
            XmlProblem::Malformed { message, line, column }
        };
        let (namespace, event) = match reader.read_resolved_event() {
            Ok((resolved, event)) => (namespace_of(&resolved), event),
            Err(error) => {
                return Err(malformed(error.to_string(), reader.error_position() as usize));
            }
        };
        match event {
            Event::Start(start) | Event::Empty(start) if root.is_some() && stack.is_empty() => {
                let _ = start;
                return Err(malformed("there is more than one root element".to_owned(), position));
            }
            Event::Start(start) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(malformed(format!("elements are nested more than {MAX_DEPTH} levels deep"), position));
                }
                let (line, column) = lines.locate(&text, position);
                let node = start_node(&reader, namespace, &start, line, column, &mut unknown_entity)
                    .map_err(|message| malformed(message, position))?;
                stack.push(node);
            }
            Event::Empty(start) => {
                let (line, column) = lines.locate(&text, position);
                let node = start_node(&reader, namespace, &start, line, column, &mut unknown_entity)
                    .map_err(|message| malformed(message, position))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => root = Some(node),
                }
            }
            Event::End(_) => {
                // quick-xml checks that end names match, so the stack cannot be empty here.
                if let Some(node) = stack.pop() {
                    match stack.last_mut() {
                        Some(parent) => parent.children.push(node),
                        None => root = Some(node),
                    }
                }
            }
            Event::Text(text_event) => {
                if let Some(node) = stack.last_mut() {
                    match text_event.unescape() {
                        Ok(value) => node.text.push_str(&value),
                        Err(_) => {
                            unknown_entity = true;
                            node.text.push_str(&String::from_utf8_lossy(&text_event.into_inner()));
                        }
                    }
                } else if !text_event.iter().all(u8::is_ascii_whitespace) {
                    return Err(malformed("there is text outside the root element".to_owned(), position));
                }
            }
            Event::CData(data) => {
                if let Some(node) = stack.last_mut() {
                    node.text.push_str(&String::from_utf8_lossy(&data.into_inner()));
                }
            }
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
        }
    }
    if let Some(open) = stack.last() {
        return Err(XmlProblem::Malformed {
            message: format!("the file ends before <{}> is closed", open.name),
            line: open.line,
            column: open.column,
        });
    }
    root.map(|root| Document { root, encoding_fallback, unknown_entity }).ok_or(XmlProblem::Empty)
}

fn start_node(
    reader: &NsReader<&[u8]>,
    namespace: Option<String>,
    start: &BytesStart<'_>,
    line: u32,
    column: u32,
    unknown_entity: &mut bool,
) -> Result<Node, String> {
    let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
    let mut attributes = Vec::new();
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|error| error.to_string())?;
        let key = attribute.key;
        if key.as_ref() == b"xmlns" || key.as_ref().starts_with(b"xmlns:") {
            continue;
        }
        let (namespace, local) = reader.resolve_attribute(key);
        let namespace = match namespace {
            ResolveResult::Bound(ns) => Some(String::from_utf8_lossy(ns.as_ref()).into_owned()),
            // quick-xml may leave the reserved `xml` prefix unresolved; it is always bound.
            _ if key.prefix().is_some_and(|p| p.as_ref() == b"xml") => Some(XML_NAMESPACE.to_owned()),
            _ => None,
        };
        let value = match attribute.unescape_value() {
            Ok(value) => value.into_owned(),
            Err(_) => {
                *unknown_entity = true;
                String::from_utf8_lossy(&attribute.value).into_owned()
            }
        };
        attributes.push(XmlAttribute { name: String::from_utf8_lossy(local.as_ref()).into_owned(), namespace, value });
    }
    Ok(Node { name, namespace, attributes, children: Vec::new(), text: String::new(), line, column })
}

fn namespace_of(resolved: &ResolveResult<'_>) -> Option<String> {
    match resolved {
        ResolveResult::Bound(ns) => Some(String::from_utf8_lossy(ns.as_ref()).into_owned()),
        _ => None,
    }
}

/// Decodes manifest bytes to text; the flag says a windows-1252 fallback was needed.
fn decode(bytes: &[u8]) -> (String, bool) {
    if let Some((encoding, bom_length)) = encoding_rs::Encoding::for_bom(bytes) {
        let (text, _) = encoding.decode_without_bom_handling(&bytes[bom_length..]);
        return (text.into_owned(), false);
    }
    // UTF-16 without a BOM still starts with `<` next to a zero byte.
    if bytes.starts_with(b"<\0") {
        let (text, _) = encoding_rs::UTF_16LE.decode_without_bom_handling(bytes);
        return (text.into_owned(), false);
    }
    if bytes.starts_with(b"\0<") {
        let (text, _) = encoding_rs::UTF_16BE.decode_without_bom_handling(bytes);
        return (text.into_owned(), false);
    }
    let declared = declared_encoding(bytes)
        .and_then(|label| encoding_rs::Encoding::for_label(label.as_bytes()))
        // A UTF-16 declaration in bytes that read as ASCII is a lie; only trust declarations
        // that are compatible with how it was just read.
        .filter(|encoding| encoding.is_ascii_compatible());
    match declared {
        Some(encoding) if encoding != encoding_rs::UTF_8 => {
            let (text, _) = encoding.decode_without_bom_handling(bytes);
            (text.into_owned(), false)
        }
        _ => match std::str::from_utf8(bytes) {
            Ok(text) => (text.to_owned(), false),
            Err(_) => {
                let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes);
                (text.into_owned(), true)
            }
        },
    }
}

/// The `encoding` pseudo-attribute of an XML declaration at the very start, if any.
fn declared_encoding(bytes: &[u8]) -> Option<String> {
    let head = &bytes[..bytes.len().min(256)];
    let head = String::from_utf8_lossy(head);
    let declaration = head.strip_prefix("<?xml")?;
    let declaration = &declaration[..declaration.find("?>")?];
    let after = &declaration[declaration.find("encoding")? + "encoding".len()..];
    let after = after.trim_start().strip_prefix('=')?.trim_start();
    let quote = after.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let value = &after[1..];
    Some(value[..value.find(quote)?].trim().to_owned())
}

/// Maps byte offsets in the decoded text to 1-based line and column (in characters).
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { starts }
    }

    fn locate(&self, text: &str, offset: usize) -> (u32, u32) {
        let offset = offset.min(text.len());
        let line = self.starts.partition_point(|&start| start <= offset).max(1) - 1;
        let start = self.starts[line];
        let column = text.get(start..offset).map_or(offset - start, |prefix| prefix.chars().count());
        (line as u32 + 1, column as u32 + 1)
    }
}

#[cfg(test)]
mod tests;
