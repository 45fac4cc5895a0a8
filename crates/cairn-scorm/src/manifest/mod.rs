//! Reading `imsmanifest.xml` into a [`Package`] plus diagnostics.
//!
//! [`parse`] works on bytes alone, so it can be fuzzed and tested without a zip; checking that
//! launch files exist in the archive is left to [`crate::inspect`].

mod build;
mod extensions;
pub mod model;
pub mod ns;
pub mod xml;

use std::collections::HashMap;

pub use model::*;
pub use xml::{XmlAttribute, XmlElement};

use crate::diagnostics::{Diagnostic, Location};
use crate::standard::{self, Standard};

/// What [`parse`] found.
#[derive(Debug, Clone)]
pub struct ParsedManifest {
    /// The package, when the manifest could be read at all (it may still have errors).
    pub package: Option<Package>,
    /// The standard when it could be told, even without a package.
    pub standard: Standard,
    pub diagnostics: Vec<Diagnostic>,
    /// Where each item (by identifier) sits in the manifest, for later diagnostics.
    pub item_locations: HashMap<String, Location>,
}

/// Parses manifest bytes. `package_root` (`""` or `"folder/"`) is recorded in the package.
pub fn parse(bytes: &[u8], package_root: &str) -> ParsedManifest {
    let mut diagnostics = Vec::new();
    let unknown = |diagnostics| ParsedManifest {
        package: None,
        standard: Standard::Unknown,
        diagnostics,
        item_locations: HashMap::new(),
    };
    let document = match xml::parse(bytes) {
        Ok(document) => document,
        Err(xml::XmlProblem::Empty) => {
            diagnostics.push(
                Diagnostic::error(
                    "empty_manifest",
                    "imsmanifest.xml has no <manifest> element (it is empty or holds only an XML declaration); export the package again from the authoring tool",
                )
                .at(Location::path("/")),
            );
            return unknown(diagnostics);
        }
        Err(xml::XmlProblem::Malformed { message, line, column }) => {
            diagnostics.push(
                Diagnostic::error(
                    "malformed_xml",
                    format!("imsmanifest.xml is not well-formed XML at line {line}, column {column}: {message}; fix the manifest there or export the package again"),
                )
                .at(Location::at("/", line, column)),
            );
            return unknown(diagnostics);
        }
    };
    if document.encoding_fallback {
        diagnostics.push(Diagnostic::warning(
            "encoding_fallback",
            "imsmanifest.xml is not valid in the encoding it declares (UTF-8 unless it says otherwise); it was read as windows-1252. Save the manifest as UTF-8 so titles display correctly.",
        ));
    }
    if document.unknown_entity {
        diagnostics.push(Diagnostic::warning(
            "unknown_entity",
            "imsmanifest.xml uses an entity other than &amp; &lt; &gt; &quot; &apos; or a character reference; it was kept as written. Replace it with the character itself.",
        ));
    }
    let root = &document.root;
    if root.name != "manifest" || ns::family(root.namespace.as_deref()) != ns::Family::Cp {
        diagnostics.push(
            Diagnostic::error(
                "not_a_manifest",
                format!("the root element of imsmanifest.xml is <{}>, not an IMS content packaging <manifest>; this is not a SCORM manifest", root.name),
            )
            .at(Location::at(format!("/{}", root.name), root.line, root.column)),
        );
        return unknown(diagnostics);
    }
    let version = standard::detect_version(root, &mut diagnostics);
    let (package, item_locations) = build::build(root, &version, package_root, &mut diagnostics);
    ParsedManifest { package: Some(package), standard: version.standard, diagnostics, item_locations }
}

#[cfg(test)]
mod tests;
