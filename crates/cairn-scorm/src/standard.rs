//! Which standard a package follows: finding the manifest, and telling SCORM versions and
//! editions (and the formats Cairn does not play yet) apart.

use serde::{Deserialize, Serialize};

use crate::diagnostics::{Diagnostic, Location};
use crate::manifest::ns::{self, Family, VersionHint};
use crate::manifest::xml::Node;

/// The e-learning standard a package follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Standard {
    Scorm12,
    Scorm2004,
    Cmi5,
    Aicc,
    Xapi,
    /// A plain web export: `index.html` and no manifest.
    Web,
    Unknown,
}

impl Standard {
    /// The name people use, for messages.
    pub fn display_name(self) -> &'static str {
        match self {
            Standard::Scorm12 => "SCORM 1.2",
            Standard::Scorm2004 => "SCORM 2004",
            Standard::Cmi5 => "cmi5",
            Standard::Aicc => "AICC",
            Standard::Xapi => "xAPI (Tin Can)",
            Standard::Web => "a plain web export",
            Standard::Unknown => "an unknown format",
        }
    }
}

/// A SCORM 2004 edition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Edition {
    /// 2nd edition, `schemaversion` "CAM 1.3".
    #[serde(rename = "2nd")]
    Second,
    #[serde(rename = "3rd")]
    Third,
    #[serde(rename = "4th")]
    Fourth,
}

impl Edition {
    pub fn display_name(self) -> &'static str {
        match self {
            Edition::Second => "2nd edition",
            Edition::Third => "3rd edition",
            Edition::Fourth => "4th edition",
        }
    }
}

/// Where the package's description was found in the zip.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    /// The zip path of `imsmanifest.xml`, when there is one to use.
    pub manifest: Option<String>,
    /// The folder that acts as the package root: `""` or `"folder/"`.
    pub root: String,
    /// What the package is when it has no manifest.
    pub other: Option<Standard>,
    pub diagnostics: Vec<Diagnostic>,
}

/// OS leftovers that say nothing about the package: macOS resource forks and folder
/// settings, Windows thumbnails.
pub fn is_junk(path: &str) -> bool {
    path.split('/').any(|component| {
        component == "__MACOSX" || component == ".DS_Store" || component == "Thumbs.db" || component.starts_with("._")
    })
}

/// Finds the manifest among the (normalised) file paths of the zip, or tells what else the
/// package is. Folders may be included; they only matter for the single-folder rule.
pub fn locate<'a>(paths: impl IntoIterator<Item = &'a str>) -> Layout {
    let paths: Vec<&str> = paths.into_iter().filter(|p| !is_junk(p)).collect();
    let find = |wanted: &str| -> Option<&str> {
        paths
            .iter()
            .copied()
            .find(|p| *p == wanted)
            .or_else(|| paths.iter().copied().find(|p| p.eq_ignore_ascii_case(wanted)))
    };
    let mut layout = Layout { manifest: None, root: String::new(), other: None, diagnostics: Vec::new() };
    if let Some(found) = find("imsmanifest.xml") {
        layout.manifest = Some(found.to_owned());
    } else if let Some(top) = single_top_folder(&paths) {
        let wanted = format!("{top}/imsmanifest.xml");
        if let Some(found) = find(&wanted) {
            layout.diagnostics.push(
                Diagnostic::warning(
                    "manifest_in_subfolder",
                    format!("imsmanifest.xml is inside the folder `{top}/` rather than at the root of the zip; it was used, with `{top}/` as the package root. Zip the contents of the folder, not the folder itself, so that other LMSs accept the package too."),
                )
                .at(Location::path(found)),
            );
            layout.manifest = Some(found.to_owned());
            layout.root = format!("{top}/");
        }
    }
    if let Some(found) = layout.manifest.clone() {
        let name = &found[layout.root.len()..];
        if name != "imsmanifest.xml" {
            layout.diagnostics.push(
                Diagnostic::warning(
                    "manifest_name_case",
                    format!("the manifest is named `{name}`; the standard name is `imsmanifest.xml` in lower case, which some LMSs require. Rename the file."),
                )
                .at(Location::path(found)),
            );
        }
        return layout;
    }
    // No manifest: look for the formats Cairn recognises but does not play yet, at the root or
    // inside a lone top-level folder.
    let root_prefix = single_top_folder(&paths).map(|top| format!("{top}/")).unwrap_or_default();
    let at_root: Vec<&str> =
        paths.iter().filter_map(|p| p.strip_prefix(root_prefix.as_str())).filter(|p| !p.contains('/')).collect();
    let has = |name: &str| at_root.iter().any(|p| p.eq_ignore_ascii_case(name));
    let has_ext =
        |ext: &str| at_root.iter().any(|p| p.rsplit_once('.').is_some_and(|(_, e)| e.eq_ignore_ascii_case(ext)));
    layout.root = root_prefix;
    let other = if has("cmi5.xml") {
        Standard::Cmi5
    } else if has("tincan.xml") {
        Standard::Xapi
    } else if ["crs", "au", "des", "cst"].iter().any(|e| has_ext(e)) {
        Standard::Aicc
    } else if has("index.html") || has("index.htm") || has("story.html") {
        Standard::Web
    } else {
        Standard::Unknown
    };
    layout.other = Some(other);
    let deeper = paths.iter().find(|p| p.rsplit('/').next().is_some_and(|n| n.eq_ignore_ascii_case("imsmanifest.xml")));
    let diagnostic = match other {
        Standard::Unknown => Diagnostic::error(
            "no_manifest",
            match deeper {
                Some(path) => format!("there is no imsmanifest.xml at the root of the zip (one was found at `{path}`, which is too deep to tell what the package root is); zip the package so that imsmanifest.xml is at the top level"),
                None => "there is no imsmanifest.xml in the zip, so this is not a SCORM package; export the course again as SCORM 1.2 or SCORM 2004".to_owned(),
            },
        ),
        Standard::Aicc if !["crs", "au", "des", "cst"].iter().all(|e| has_ext(e)) => Diagnostic::error(
            "incomplete_aicc",
            "this looks like an AICC package, but it lacks some of the .crs, .au, .des and .cst files AICC requires, and AICC is not supported yet anyway; export the course as SCORM 1.2 or SCORM 2004",
        ),
        Standard::Web => Diagnostic::error(
            "unsupported_standard",
            "recognised as a plain web export (an index.html without imsmanifest.xml), not a SCORM package, so it cannot track progress; publish the course again choosing SCORM 1.2 or SCORM 2004",
        ),
        other => Diagnostic::error(
            "unsupported_standard",
            format!("recognised as {}, which is not supported yet; export the course as SCORM 1.2 or SCORM 2004 instead", other.display_name()),
        ),
    };
    layout.diagnostics.push(diagnostic);
    layout
}

/// The lone top-level folder when every non-junk path sits inside it.
fn single_top_folder<'a>(paths: &[&'a str]) -> Option<&'a str> {
    let mut tops = paths.iter().map(|p| p.split('/').next().unwrap_or(p));
    let first = tops.next()?;
    let nested = paths.iter().any(|p| p.starts_with(first) && p.len() > first.len());
    (nested && tops.all(|t| t == first)).then_some(first)
}

/// The SCORM version of a parsed manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct Version {
    pub standard: Standard,
    pub edition: Option<Edition>,
    pub schema_version: Option<String>,
}

/// Reads `<metadata><schemaversion>` (compared trimmed and case-insensitively) and falls back
/// on the namespaces the manifest uses when it is missing or unknown.
pub fn detect_version(root: &Node, diagnostics: &mut Vec<Diagnostic>) -> Version {
    let schema_version = root
        .children
        .iter()
        .filter(|n| n.name == "metadata" && ns::family(n.namespace.as_deref()) == Family::Cp)
        .flat_map(|m| m.children.iter())
        .find(|n| n.name.eq_ignore_ascii_case("schemaversion"))
        .and_then(|n| n.trimmed_text().map(str::to_owned));
    let lowered = schema_version.as_deref().map(str::to_lowercase);
    let declared = match lowered.as_deref() {
        Some("1.2") => Some((Standard::Scorm12, None)),
        Some("cam 1.3") => Some((Standard::Scorm2004, Some(Edition::Second))),
        Some(v) if v.contains("2004") && v.contains("4th") => Some((Standard::Scorm2004, Some(Edition::Fourth))),
        Some(v) if v.contains("2004") && v.contains("3rd") => Some((Standard::Scorm2004, Some(Edition::Third))),
        Some(v) if v.contains("2004") && v.contains("2nd") => Some((Standard::Scorm2004, Some(Edition::Second))),
        Some("1.1") => {
            diagnostics.push(Diagnostic::warning(
                "scorm11_package",
                "the manifest says SCORM 1.1; it will be played as SCORM 1.2, which is almost the same. Re-export as SCORM 1.2 if something does not work.",
            ));
            Some((Standard::Scorm12, None))
        }
        _ => None,
    };
    let (standard, edition) = declared.unwrap_or_else(|| {
        let standard = match namespace_hint(root, 0) {
            Some(VersionHint::Scorm2004) => Standard::Scorm2004,
            Some(VersionHint::Scorm12) => Standard::Scorm12,
            None => Standard::Scorm12,
        };
        let said = match &schema_version {
            Some(text) => format!("the schemaversion `{text}` is not one SCORM defines"),
            None => "the manifest has no <schemaversion>".to_owned(),
        };
        diagnostics.push(
            Diagnostic::warning(
                "schema_version_unknown",
                format!("{said}, so the version was read from the namespaces as {}; add <schemaversion>1.2</schemaversion> or <schemaversion>2004 4th Edition</schemaversion> to the manifest metadata", standard.display_name()),
            )
            .at(Location::at("/manifest", root.line, root.column)),
        );
        (standard, None)
    });
    Version { standard, edition, schema_version }
}

/// The first explicit 2004 marker wins over 1.2 markers: a 2004 manifest may still carry
/// leftovers of 1.2 tooling, while a 1.2 manifest has no reason to use sequencing namespaces.
fn namespace_hint(node: &Node, depth: usize) -> Option<VersionHint> {
    let mut found = None;
    let own = node.namespace.iter().chain(node.attributes.iter().filter_map(|a| a.namespace.as_ref()));
    for uri in own {
        match ns::version_hint(uri) {
            Some(VersionHint::Scorm2004) => return Some(VersionHint::Scorm2004),
            Some(hint) => found = Some(hint),
            None => {}
        }
    }
    if depth < crate::manifest::xml::MAX_DEPTH {
        for child in &node.children {
            match namespace_hint(child, depth + 1) {
                Some(VersionHint::Scorm2004) => return Some(VersionHint::Scorm2004),
                Some(hint) => found = Some(hint),
                None => {}
            }
        }
    }
    found
}

#[cfg(test)]
mod tests;
