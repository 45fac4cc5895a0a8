//! `inspect`: the one call that reads a package zip and reports everything about it.
//!
//! It runs the archive checks, finds the manifest (or tells which other standard the package
//! follows), parses it, checks that every launch file is in the zip, and gathers the
//! diagnostics. It never panics and never fails: every problem is a diagnostic in the
//! [`Inspection`], whose JSON form is documented in `docs/package-inspect.md`.

use std::fmt::Write as _;
use std::io::{Read, Seek};

use serde::Serialize;

use crate::archive::{ArchiveError, Limits, PackageArchive};
use crate::diagnostics::{Diagnostic, Location, Severity};
use crate::manifest::{self, Item, Organization, Package, Resource, ScormType, XmlElement};
use crate::standard::{self, Edition, Standard};

/// The result of inspecting a package.
#[derive(Debug, Clone)]
pub struct Inspection {
    pub standard: Standard,
    pub edition: Option<Edition>,
    pub title: Option<String>,
    /// `""` or `"folder/"`: where the manifest sits in the zip.
    pub package_root: String,
    /// The parsed package, when a manifest could be read (it may still have errors).
    pub package: Option<Package>,
    pub errors: Vec<Diagnostic>,
    pub warnings: Vec<Diagnostic>,
}

impl Inspection {
    /// Whether the package can be imported: it was read and no error was found.
    pub fn is_importable(&self) -> bool {
        self.errors.is_empty() && self.package.is_some()
    }

    fn new(standard: Standard, package_root: String, diagnostics: Vec<Diagnostic>) -> Self {
        let (errors, warnings) = diagnostics.into_iter().partition(|d| d.severity == Severity::Error);
        Inspection { standard, edition: None, title: None, package_root, package: None, errors, warnings }
    }

    /// The human-readable report the CLI prints.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        let _ = write!(out, "{}", self.standard.display_name());
        if let Some(edition) = self.edition {
            let _ = write!(out, " {}", edition.display_name());
        }
        out.push('\n');
        if let Some(title) = &self.title {
            let _ = writeln!(out, "Title: {title}");
        }
        if !self.package_root.is_empty() {
            let _ = writeln!(out, "Package root: {}", self.package_root);
        }
        if let Some(package) = &self.package {
            for org in &package.organizations {
                let default = if org.identifier == package.default_organization { " (default)" } else { "" };
                let _ = writeln!(out, "Organization: {} [{}]{default}", org.title, org.identifier);
                render_items(&mut out, &org.items, 1);
            }
        }
        for (label, list) in [("Warnings", &self.warnings), ("Errors", &self.errors)] {
            if list.is_empty() {
                continue;
            }
            let _ = writeln!(out, "{label} ({}):", list.len());
            for diagnostic in list {
                let _ = write!(out, "  [{}] {}", diagnostic.code, diagnostic.message);
                if let Some(location) = &diagnostic.location {
                    let _ = write!(out, " (at {}", location.path);
                    if let (Some(line), Some(column)) = (location.line, location.column) {
                        let _ = write!(out, ", line {line}, column {column}");
                    }
                    out.push(')');
                }
                out.push('\n');
            }
        }
        let verdict = if self.is_importable() { "Importable: yes" } else { "Importable: no" };
        out.push_str(verdict);
        out.push('\n');
        out
    }
}

fn render_items(out: &mut String, items: &[Item], depth: usize) {
    for item in items {
        let indent = "  ".repeat(depth);
        let mark = match item.scorm_type {
            Some(ScormType::Sco) => " [SCO]",
            Some(ScormType::Asset) => " [asset]",
            None => "",
        };
        let hidden = if item.visible { "" } else { " (hidden)" };
        let _ = write!(out, "{indent}- {}{mark}{hidden}", item.title);
        if let Some(launch) = &item.launch {
            let _ = write!(out, " -> {launch}");
        }
        out.push('\n');
        render_items(out, &item.items, depth + 1);
    }
}

/// The stable JSON shape; see `docs/package-inspect.md`.
#[derive(Serialize)]
struct InspectionJson<'a> {
    standard: Standard,
    edition: Option<Edition>,
    schema_version: Option<&'a str>,
    identifier: Option<&'a str>,
    title: Option<&'a str>,
    package_root: &'a str,
    importable: bool,
    default_organization: Option<&'a str>,
    organizations: &'a [Organization],
    resources: &'a [Resource],
    sequencing_collection: &'a [XmlElement],
    errors: &'a [Diagnostic],
    warnings: &'a [Diagnostic],
}

impl Serialize for Inspection {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let package = self.package.as_ref();
        InspectionJson {
            standard: self.standard,
            edition: self.edition,
            schema_version: package.and_then(|p| p.schema_version.as_deref()),
            identifier: package.map(|p| p.identifier.as_str()),
            title: self.title.as_deref(),
            package_root: &self.package_root,
            importable: self.is_importable(),
            default_organization: package.map(|p| p.default_organization.as_str()),
            organizations: package.map_or(&[], |p| &p.organizations),
            resources: package.map_or(&[], |p| &p.resources),
            sequencing_collection: package.map_or(&[], |p| &p.sequencing_collection),
            errors: &self.errors,
            warnings: &self.warnings,
        }
        .serialize(serializer)
    }
}

/// Reads a package zip and reports on it. Never panics, whatever the bytes.
pub fn inspect<R: Read + Seek>(reader: R, limits: &Limits) -> Inspection {
    // The parsing code is written not to panic and is fuzzed; this guard only keeps a
    // surprise in a dependency from taking the caller down with it.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| inspect_unguarded(reader, limits))).unwrap_or_else(|_| {
        Inspection::new(
            Standard::Unknown,
            String::new(),
            vec![Diagnostic::error(
                "internal_error",
                "reading the package failed unexpectedly; please report this with the package attached",
            )],
        )
    })
}

fn archive_diagnostic(error: &ArchiveError) -> Diagnostic {
    let diagnostic = Diagnostic::error(error.code(), error.to_string());
    match error.entry_path() {
        Some(path) => diagnostic.at(Location::path(path)),
        None => diagnostic,
    }
}

fn inspect_unguarded<R: Read + Seek>(reader: R, limits: &Limits) -> Inspection {
    let mut archive = match PackageArchive::open(reader, limits) {
        Ok(archive) => archive,
        Err(error) => return Inspection::new(Standard::Unknown, String::new(), vec![archive_diagnostic(&error)]),
    };
    let layout = standard::locate(archive.entries().iter().map(|e| e.path.as_str()));
    let mut diagnostics = layout.diagnostics;
    let Some(manifest_path) = layout.manifest else {
        return Inspection::new(layout.other.unwrap_or(Standard::Unknown), layout.root, diagnostics);
    };
    let bytes = match archive.read_small(&manifest_path, limits.max_manifest_bytes) {
        Ok(bytes) => bytes,
        Err(ArchiveError::EntryTooLarge { size, limit, .. }) => {
            diagnostics.push(
                Diagnostic::error(
                    "manifest_too_large",
                    format!("imsmanifest.xml is {size} bytes, more than the limit of {limit}; a real manifest is far smaller, so check that the right file is in the package"),
                )
                .at(Location::path(&manifest_path)),
            );
            return Inspection::new(Standard::Unknown, layout.root, diagnostics);
        }
        Err(error) => {
            diagnostics.push(archive_diagnostic(&error));
            return Inspection::new(Standard::Unknown, layout.root, diagnostics);
        }
    };
    let parsed = manifest::parse(&bytes, &layout.root);
    diagnostics.extend(parsed.diagnostics);
    if let Some(package) = &parsed.package {
        check_launch_files(package, &archive, &parsed.item_locations, &mut diagnostics);
    }
    let mut inspection = Inspection::new(parsed.standard, layout.root, diagnostics);
    if let Some(package) = parsed.package {
        inspection.edition = package.edition;
        inspection.title = Some(package.title.clone());
        inspection.package = Some(package);
    }
    inspection
}

/// Every launch file must be a file in the zip. A file that exists only with other letter
/// case works on Windows servers but breaks on case-sensitive storage, so it is a warning.
fn check_launch_files<R: Read + Seek>(
    package: &Package,
    archive: &PackageArchive<R>,
    locations: &std::collections::HashMap<String, Location>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    for item in package.all_items() {
        let Some(file) = &item.launch_file else {
            continue;
        };
        let full = format!("{}{file}", package.package_root);
        let found = archive.entry(&full).filter(|e| !e.is_dir);
        let diagnostic = match (found, archive.find_ignoring_case(&full)) {
            (Some(_), _) => continue,
            (None, Some(other)) if !other.is_dir => Diagnostic::warning(
                "launch_file_case_mismatch",
                format!("item `{}` launches `{file}`, but the zip has `{}` with different letter case; it fails on case-sensitive servers, so make the href and the file name match exactly", item.identifier, other.path),
            ),
            _ => Diagnostic::error(
                "launch_file_missing",
                format!("item `{}` launches `{file}`, which is not in the zip; add the file to the package or fix the resource href", item.identifier),
            ),
        };
        diagnostics.push(match locations.get(&item.identifier) {
            Some(location) => diagnostic.at(location.clone()),
            None => diagnostic,
        });
    }
}
