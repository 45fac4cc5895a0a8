//! The parsed package: organisations, their item trees, resources and sequencing data.
//!
//! This is what the importer stores, so it is `Serialize + Deserialize + Clone` and holds no
//! positions or diagnostics. Optional manifest data is `None`/`null` when the manifest does not
//! give it; defaults that the run-time applies (such as a completion threshold of 1.0) are
//! left to the run-time so that "not given" stays visible.

use serde::{Deserialize, Serialize};

use super::xml::XmlElement;
use crate::standard::{Edition, Standard};

/// A SCORM package as described by its manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Package {
    /// `scorm12` or `scorm2004`.
    pub standard: Standard,
    /// The SCORM 2004 edition when known; `None` for 1.2 and for 2004 packages that say no
    /// edition (the run-time should then follow the 4th edition).
    pub edition: Option<Edition>,
    /// The `<schemaversion>` text as written, trimmed.
    pub schema_version: Option<String>,
    /// The manifest `identifier`.
    pub identifier: String,
    /// The title of the default organisation, or of the manifest when there is none.
    pub title: String,
    /// The folder inside the zip that holds `imsmanifest.xml`: `""` or `"folder/"`. Launch
    /// URLs and resource files are relative to it.
    pub package_root: String,
    /// The identifier of the organisation to use (the default one, or the fallback).
    pub default_organization: String,
    pub organizations: Vec<Organization>,
    pub resources: Vec<Resource>,
    /// `imsss:sequencingCollection` entries, by their `ID`, in manifest order.
    pub sequencing_collection: Vec<XmlElement>,
}

/// A SCORM 1.2 / 2004 resource or SCO type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScormType {
    Sco,
    Asset,
}

/// One `<organization>`: a tree of items that forms a course outline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Organization {
    pub identifier: String,
    pub title: String,
    pub items: Vec<Item>,
    /// `adlseq:objectivesGlobalToSystem` (2004), when given.
    pub objectives_global_to_system: Option<bool>,
    /// `adlcp:sharedDataGlobalToSystem` (2004 4th), when given.
    pub shared_data_global_to_system: Option<bool>,
    /// The organisation's own `imsss:sequencing` (the root activity), when given.
    pub sequencing: Option<Sequencing>,
}

/// One `<item>`: a cluster (with children), a launchable activity, or both (SCORM 1.2 allows
/// a parent item to reference a resource).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    pub identifier: String,
    pub title: String,
    /// The resource identifier the item points at, trimmed.
    pub identifierref: Option<String>,
    /// The launch URL relative to the package root, with query and fragment (parameters
    /// applied); `None` for clusters and for items that cannot be launched.
    pub launch: Option<String>,
    /// The decoded file path of the launch page, relative to the package root.
    pub launch_file: Option<String>,
    /// The type of the referenced resource; `None` for clusters.
    pub scorm_type: Option<ScormType>,
    /// `isvisible` (default true): hidden items stay launchable but are not in the outline.
    pub visible: bool,
    /// The item `parameters` attribute as written.
    pub parameters: Option<String>,
    /// SCORM 1.2 `adlcp:masteryscore` (0–100).
    pub mastery_score: Option<f64>,
    /// SCORM 1.2 `adlcp:prerequisites`.
    pub prerequisites: Option<Prerequisites>,
    /// SCORM 1.2 `adlcp:maxtimeallowed` (a CMITimespan, as written).
    pub max_time_allowed: Option<String>,
    /// `adlcp:timelimitaction` (1.2) / `adlcp:timeLimitAction` (2004), as written.
    pub time_limit_action: Option<String>,
    /// `adlcp:datafromlms` (1.2) / `adlcp:dataFromLMS` (2004): the SCO's `launch_data`.
    pub data_from_lms: Option<String>,
    /// SCORM 2004 `adlcp:completionThreshold`.
    pub completion_threshold: Option<CompletionThreshold>,
    /// SCORM 2004 objective identifiers from `imsss:objectives` (own or referenced), used to
    /// pre-populate `cmi.objectives.n.id`.
    pub objectives: Vec<Objective>,
    /// SCORM 2004 `imsss:sequencing`, when given.
    pub sequencing: Option<Sequencing>,
    /// SCORM 2004 `adlnav:presentation`, kept as written.
    pub presentation: Option<XmlElement>,
    pub items: Vec<Item>,
}

/// SCORM 1.2 `adlcp:prerequisites`: kept as the raw script for a later evaluator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prerequisites {
    /// The `type` attribute, normally `aicc_script`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub script: String,
}

/// SCORM 2004 `adlcp:completionThreshold`, in either edition's form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompletionThreshold {
    /// 3rd edition: the element's text, 0..1.
    pub value: Option<f64>,
    /// 4th edition attribute `completedByMeasure` (default false).
    pub completed_by_measure: Option<bool>,
    /// 4th edition attribute `minProgressMeasure` (default 1.0; feeds `cmi.completion_threshold`).
    pub min_progress_measure: Option<f64>,
    /// 4th edition attribute `progressWeight` (default 1.0).
    pub progress_weight: Option<f64>,
}

/// An objective declared for an item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Objective {
    pub id: String,
    /// Whether it is the `primaryObjective`.
    pub primary: bool,
}

/// An `imsss:sequencing` element, kept generic for a future sequencer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sequencing {
    /// The `IDRef` attribute, naming an entry of the sequencing collection.
    pub id_ref: Option<String>,
    /// The element as written in place.
    pub element: XmlElement,
    /// The collection entry `id_ref` names. Per the CAM the in-place element's children take
    /// precedence over the referenced ones of the same name; both are kept so a sequencer
    /// can apply that rule.
    pub referenced: Option<XmlElement>,
}

/// One `<resource>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resource {
    pub identifier: String,
    /// The `type` attribute (normally `webcontent`).
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// `adlcp:scormtype` / `adlcp:scormType`; a missing attribute counts as `asset`.
    pub scorm_type: ScormType,
    /// The `href` as written.
    pub href: Option<String>,
    /// The `xml:base` chain (manifest, resources, resource) joined, when any is given.
    pub base: Option<String>,
    /// `<file href>` entries as written (an inventory only; not checked against the zip).
    pub files: Vec<String>,
    /// `<dependency identifierref>` targets that exist in the manifest.
    pub dependencies: Vec<String>,
}

impl Package {
    /// The organisation in use (the default one).
    pub fn organization(&self) -> Option<&Organization> {
        self.organizations
            .iter()
            .find(|org| org.identifier == self.default_organization)
            .or_else(|| self.organizations.first())
    }

    /// Every item of every organisation, depth first.
    pub fn all_items(&self) -> Vec<&Item> {
        fn walk<'a>(items: &'a [Item], out: &mut Vec<&'a Item>) {
            for item in items {
                out.push(item);
                walk(&item.items, out);
            }
        }
        let mut out = Vec::new();
        for org in &self.organizations {
            walk(&org.items, &mut out);
        }
        out
    }

    /// The resource with this identifier.
    pub fn resource(&self, identifier: &str) -> Option<&Resource> {
        self.resources.iter().find(|r| r.identifier == identifier)
    }
}

impl Item {
    /// The scaled passing score the LMS gives a SCORM 2004 SCO (`cmi.scaled_passing_score`):
    /// the `minNormalizedMeasure` of the item's primary objective when that objective is
    /// satisfied by measure. The item's own sequencing wins over a referenced collection.
    pub fn scaled_passing_score(&self) -> Option<f64> {
        let sequencing = self.sequencing.as_ref()?;
        [Some(&sequencing.element), sequencing.referenced.as_ref()].into_iter().flatten().find_map(primary_measure)
    }
}

fn primary_measure(sequencing: &XmlElement) -> Option<f64> {
    let objectives = sequencing.children.iter().find(|c| c.name == "objectives")?;
    let primary = objectives.children.iter().find(|c| c.name == "primaryObjective")?;
    let by_measure =
        primary.attributes.iter().any(|a| a.name == "satisfiedByMeasure" && matches!(a.value.trim(), "true" | "1"));
    if !by_measure {
        return None;
    }
    // The schema default of minNormalizedMeasure is 1.0 when the element is absent.
    let measure = primary.children.iter().find(|c| c.name == "minNormalizedMeasure").and_then(|m| m.text.as_deref());
    Some(measure.map_or(Some(1.0), |text| text.trim().parse().ok())?).filter(|v| (-1.0..=1.0).contains(v))
}
