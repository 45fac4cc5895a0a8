//! Pure SCORM rules for Cairn: reading course packages and the run-time data model.
//!
//! Nothing here knows about databases, HTTP or async; everything works on `Read + Seek`.
//! The entry point for packages is [`inspect`], which runs the [`archive`] checks, finds and
//! parses the [`manifest`], tells the [`standard`] and returns the [`Package`] together with
//! its [`Diagnostic`]s.
#![forbid(unsafe_code)]

pub mod archive;
pub mod diagnostics;
pub mod inspect;
pub mod launch;
pub mod manifest;
pub mod prerequisites;
pub mod runtime;
pub mod standard;

pub use archive::{ArchiveError, Limits, PackageArchive, SafeEntry};
pub use diagnostics::{Diagnostic, Location, Severity};
pub use inspect::{inspect, Inspection};
pub use manifest::{Item, Organization, Package, Resource, ScormType};
pub use standard::{Edition, Standard};
