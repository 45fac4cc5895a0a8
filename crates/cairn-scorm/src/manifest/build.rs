//! Building the [`Package`] from the element tree: resources, organisations and item trees,
//! identifiers and references, and launch URLs.

use std::collections::HashMap;

use super::extensions::{self, Extensions};
use super::model::{Item, Organization, Package, Resource, ScormType, Sequencing};
use super::ns::{self, Family};
use super::xml::{Node, XmlElement, XML_NAMESPACE};
use crate::diagnostics::{Diagnostic, Location};
use crate::launch::{self, LaunchNote, LaunchProblem};
use crate::standard::{Standard, Version};

/// A resource with what launching needs beside the stored model.
struct ResourceInfo {
    resource: Resource,
    bases: [Option<String>; 3],
}

pub(super) struct Builder<'a> {
    pub(super) version: &'a Version,
    pub(super) diagnostics: &'a mut Vec<Diagnostic>,
    identifiers: HashMap<String, String>,
    resources: HashMap<String, ResourceInfo>,
    resource_order: Vec<String>,
    pub(super) collection: HashMap<String, XmlElement>,
    item_locations: HashMap<String, Location>,
    /// Where each item's `adlcp:prerequisites` is, by item identifier.
    prerequisite_locations: HashMap<String, Location>,
}

/// The CP children of `node` named `name`, with the 1-based position used in element paths.
pub(super) fn cp_children<'n>(node: &'n Node, name: &'n str) -> impl Iterator<Item = (usize, &'n Node)> + 'n {
    node.children
        .iter()
        .filter(move |c| c.name == name && ns::family(c.namespace.as_deref()) == Family::Cp)
        .enumerate()
        .map(|(i, c)| (i + 1, c))
}

pub(super) fn location(path: &str, node: &Node) -> Location {
    Location::at(path, node.line, node.column)
}

/// Identifiers and references are compared trimmed: real manifests carry stray whitespace.
fn trimmed(value: Option<&str>) -> Option<String> {
    value.map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned)
}

pub(super) fn build(
    root: &Node,
    version: &Version,
    package_root: &str,
    diagnostics: &mut Vec<Diagnostic>,
) -> (Package, HashMap<String, Location>) {
    let mut builder = Builder {
        version,
        diagnostics,
        identifiers: HashMap::new(),
        resources: HashMap::new(),
        resource_order: Vec::new(),
        collection: HashMap::new(),
        item_locations: HashMap::new(),
        prerequisite_locations: HashMap::new(),
    };
    let identifier = builder.identifier(root, "/manifest", "manifest", false).unwrap_or_default();
    let sequencing_collection = builder.read_collection(root);
    builder.read_resources(root);
    let resource_order = builder.resource_order.clone();
    let (organizations, default_organization) = builder.read_organizations(root, &identifier);
    let title = organizations
        .iter()
        .find(|o| o.identifier == default_organization)
        .map(|o| o.title.clone())
        .unwrap_or_else(|| identifier.clone());
    let mut resources_by_id = std::mem::take(&mut builder.resources);
    let resources =
        resource_order.iter().filter_map(|id| resources_by_id.remove(id).map(|info| info.resource)).collect();
    let package = Package {
        standard: version.standard,
        edition: version.edition,
        schema_version: version.schema_version.clone(),
        identifier,
        title,
        package_root: package_root.to_owned(),
        default_organization,
        organizations,
        resources,
        sequencing_collection,
    };
    (package, builder.item_locations)
}

impl Builder<'_> {
    pub(super) fn push(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    /// Reads and registers an `identifier`, reporting a missing or repeated one.
    fn identifier(&mut self, node: &Node, path: &str, what: &str, required: bool) -> Option<String> {
        let Some(identifier) = trimmed(node.attr("identifier")) else {
            let diagnostic = if required {
                Diagnostic::error(
                    "missing_identifier",
                    format!("this {what} has no identifier attribute; give it a unique identifier"),
                )
            } else {
                Diagnostic::warning(
                    "missing_identifier",
                    format!(
                        "this {what} has no identifier attribute; one was made up, but give it a unique identifier"
                    ),
                )
            };
            self.push(diagnostic.at(location(path, node)));
            return None;
        };
        if let Some(first) = self.identifiers.get(&identifier) {
            let message = format!("the identifier `{identifier}` is used again here after {first}; identifiers must be unique in the manifest, so rename one of them");
            self.push(Diagnostic::error("duplicate_identifier", message).at(location(path, node)));
        } else {
            self.identifiers.insert(identifier.clone(), path.to_owned());
        }
        Some(identifier)
    }

    fn read_collection(&mut self, root: &Node) -> Vec<XmlElement> {
        let mut list = Vec::new();
        let collections = root
            .children
            .iter()
            .filter(|c| c.name == "sequencingCollection" && ns::family(c.namespace.as_deref()) == Family::Imsss);
        for collection in collections {
            for sequencing in collection.children.iter().filter(|c| c.name == "sequencing") {
                let element = sequencing.to_element();
                if let Some(id) = trimmed(sequencing.attr("ID")) {
                    self.collection.insert(id, element.clone());
                }
                list.push(element);
            }
        }
        list
    }

    /// Reads every resource, keeping their identifiers in manifest order.
    fn read_resources(&mut self, root: &Node) {
        let manifest_base = root.attr_ns(XML_NAMESPACE, "base").map(str::to_owned);
        let mut order = Vec::new();
        let mut pending_dependencies = Vec::new();
        for (_, resources) in cp_children(root, "resources").take(1) {
            let resources_base = resources.attr_ns(XML_NAMESPACE, "base").map(str::to_owned);
            for (position, node) in cp_children(resources, "resource") {
                let path = format!("/manifest/resources/resource[{position}]");
                let Some(identifier) = self.identifier(node, &path, "resource", false) else {
                    continue;
                };
                let scorm_type = self.scorm_type(node, &path);
                let bases = [
                    manifest_base.clone(),
                    resources_base.clone(),
                    node.attr_ns(XML_NAMESPACE, "base").map(str::to_owned),
                ];
                let joined: String = bases.iter().flatten().map(String::as_str).collect();
                let files = cp_children(node, "file").filter_map(|(_, f)| f.attr("href").map(str::to_owned)).collect();
                for (index, dependency) in cp_children(node, "dependency") {
                    if let Some(target) = trimmed(dependency.attr("identifierref")) {
                        let dep_path = format!("{path}/dependency[{index}]");
                        pending_dependencies.push((
                            identifier.clone(),
                            target,
                            dep_path,
                            dependency.line,
                            dependency.column,
                        ));
                    }
                }
                let resource = Resource {
                    identifier: identifier.clone(),
                    kind: node.attr("type").map(str::to_owned),
                    scorm_type,
                    href: node.attr("href").map(str::to_owned),
                    base: Some(joined).filter(|b| !b.is_empty()),
                    files,
                    dependencies: Vec::new(),
                };
                if let std::collections::hash_map::Entry::Vacant(slot) = self.resources.entry(identifier.clone()) {
                    order.push(identifier);
                    slot.insert(ResourceInfo { resource, bases });
                }
            }
        }
        for (owner, target, path, line, column) in pending_dependencies {
            if self.resources.contains_key(&target) {
                if let Some(info) = self.resources.get_mut(&owner) {
                    info.resource.dependencies.push(target);
                }
            } else {
                let message = format!("resource `{owner}` depends on `{target}`, which the manifest does not define; the dependency was ignored, but files it lists may be missing");
                self.push(Diagnostic::warning("dangling_dependency", message).at(Location::at(path, line, column)));
            }
        }
        self.resource_order = order;
    }

    /// `adlcp:scormtype` (1.2) or `adlcp:scormType` (2004), matched by namespace and accepted
    /// in any case with a warning when the case is not the version's own.
    fn scorm_type(&mut self, node: &Node, path: &str) -> ScormType {
        let expected = match self.version.standard {
            Standard::Scorm2004 => "scormType",
            _ => "scormtype",
        };
        let attribute = node
            .attributes
            .iter()
            .find(|a| ns::family(a.namespace.as_deref()) == Family::Adlcp && a.name.eq_ignore_ascii_case("scormtype"));
        let Some(attribute) = attribute else {
            if self.version.standard == Standard::Scorm2004 {
                self.push(Diagnostic::warning("missing_scorm_type", "this resource has no adlcp:scormType; it is treated as an asset. Add adlcp:scormType=\"sco\" if it talks to the LMS.").at(location(path, node)));
            }
            return ScormType::Asset;
        };
        if attribute.name != expected {
            let message = format!("the attribute is spelled `adlcp:{}`, but this version spells it `adlcp:{expected}`; it was accepted, but fix the case for other LMSs", attribute.name);
            self.push(Diagnostic::warning("miscased_attribute", message).at(location(path, node)));
        }
        match attribute.value.trim().to_ascii_lowercase().as_str() {
            "sco" => ScormType::Sco,
            "asset" => ScormType::Asset,
            other => {
                let message = format!(
                    "adlcp:{expected} is `{other}`, which is neither `sco` nor `asset`; it is treated as an asset"
                );
                self.push(Diagnostic::warning("invalid_value", message).at(location(path, node)));
                ScormType::Asset
            }
        }
    }

    /// Reads the organisations and picks the default one.
    fn read_organizations(&mut self, root: &Node, manifest_id: &str) -> (Vec<Organization>, String) {
        let container = cp_children(root, "organizations").next().map(|(_, n)| n);
        let default = container.and_then(|c| trimmed(c.attr("default")));
        let mut organizations = Vec::new();
        let mut places = HashMap::new();
        if let Some(container) = container {
            for (position, node) in cp_children(container, "organization") {
                let path = format!("/manifest/organizations/organization[{position}]");
                let identifier = self
                    .identifier(node, &path, "organization", false)
                    .unwrap_or_else(|| format!("organization_{position}"));
                let title = title_of(node).unwrap_or_else(|| identifier.clone());
                let items = self.read_items(node, &path);
                let at = std::mem::take(&mut self.prerequisite_locations);
                extensions::check_prerequisites(self, &identifier, &items, &at);
                if items.is_empty() {
                    let message = format!(
                        "organization `{identifier}` has no items; add at least one item that points at a resource"
                    );
                    self.push(Diagnostic::warning("empty_organization", message).at(location(&path, node)));
                }
                let flag = |family: Family, name: &str| {
                    node.attributes
                        .iter()
                        .find(|a| a.name == name && ns::family(a.namespace.as_deref()) == family)
                        .and_then(|a| parse_bool(&a.value))
                };
                let sequencing = self.sequencing(node, &path);
                places.entry(identifier.clone()).or_insert_with(|| location(&path, node));
                organizations.push(Organization {
                    objectives_global_to_system: flag(Family::Adlseq, "objectivesGlobalToSystem"),
                    shared_data_global_to_system: flag(Family::Adlcp, "sharedDataGlobalToSystem"),
                    identifier,
                    title,
                    items,
                    sequencing,
                });
            }
        }
        if organizations.is_empty() {
            organizations.push(self.generated_organization(container, manifest_id));
        }
        let chosen = match default {
            Some(wanted) if organizations.iter().any(|o| o.identifier == wanted) => wanted,
            Some(wanted) => {
                let first = organizations[0].identifier.clone();
                let message = format!("organizations default=\"{wanted}\" names no organization; the first one, `{first}`, is used. Set default to the identifier of the organization learners should take.");
                let at = container.map(|c| location("/manifest/organizations", c));
                let mut diagnostic = Diagnostic::warning("default_organization_missing", message);
                diagnostic.location = at;
                self.push(diagnostic);
                first
            }
            None => organizations[0].identifier.clone(),
        };
        if let Some(org) = organizations.iter().find(|o| o.identifier == chosen) {
            if !has_launchable(&org.items) {
                let message = format!("organization `{chosen}` has no item that can be launched; add an item whose identifierref points at a resource with an href");
                let at = places.get(&chosen).cloned().unwrap_or_else(|| match container {
                    Some(node) => location("/manifest/organizations", node),
                    None => Location::at("/manifest", root.line, root.column),
                });
                self.push(Diagnostic::error("no_launchable_items", message).at(at));
            }
        }
        (organizations, chosen)
    }

    /// A resource package (`<organizations/>`): one organisation with an item per SCO (or per
    /// resource with an href when there are no SCOs), in resource order.
    fn generated_organization(&mut self, container: Option<&Node>, manifest_id: &str) -> Organization {
        let in_order: Vec<&ResourceInfo> = self
            .resource_order
            .iter()
            .filter_map(|id| self.resources.get(id))
            .filter(|r| r.resource.href.is_some())
            .collect();
        let scos: Vec<&ResourceInfo> =
            in_order.iter().copied().filter(|r| r.resource.scorm_type == ScormType::Sco).collect();
        let candidates = if scos.is_empty() { in_order } else { scos };
        let launches: Vec<(String, ScormType, Option<launch::Launch>)> = candidates
            .iter()
            .map(|info| {
                let bases: Vec<Option<&str>> = info.bases.iter().map(Option::as_deref).collect();
                let built = launch::build(&bases, info.resource.href.as_deref(), None).ok();
                (info.resource.identifier.clone(), info.resource.scorm_type, built)
            })
            .collect();
        let message = match container {
            Some(_) => "<organizations> is empty, so there is no course outline; one was built with an item for each SCO resource. Add an organization to control titles and order.",
            None => "the manifest has no <organizations> element, so there is no course outline; one was built with an item for each SCO resource. Add an organization to control titles and order.",
        };
        let at = match container {
            Some(node) => location("/manifest/organizations", node),
            None => Location::path("/manifest"),
        };
        self.push(Diagnostic::warning("empty_organizations", message).at(at));
        let items = launches
            .into_iter()
            .map(|(resource_id, scorm_type, built)| Item {
                identifier: format!("item_{resource_id}"),
                title: resource_id.clone(),
                identifierref: Some(resource_id),
                launch: built.as_ref().map(|l| l.url.clone()),
                launch_file: built.and_then(|l| l.file),
                scorm_type: Some(scorm_type),
                ..empty_item()
            })
            .collect();
        let identifier = "generated_organization".to_owned();
        Organization {
            title: Some(manifest_id.to_owned()).filter(|t| !t.is_empty()).unwrap_or_else(|| identifier.clone()),
            identifier,
            items,
            objectives_global_to_system: None,
            shared_data_global_to_system: None,
            sequencing: None,
        }
    }

    fn read_items(&mut self, parent: &Node, parent_path: &str) -> Vec<Item> {
        cp_children(parent, "item")
            .filter_map(|(position, node)| self.read_item(node, &format!("{parent_path}/item[{position}]")))
            .collect()
    }

    fn read_item(&mut self, node: &Node, path: &str) -> Option<Item> {
        let identifier = self.identifier(node, path, "item", true)?;
        self.item_locations.insert(identifier.clone(), location(path, node));
        let title = title_of(node).unwrap_or_else(|| identifier.clone());
        let visible = match node.attr("isvisible") {
            None => true,
            Some(value) => parse_bool(value).unwrap_or_else(|| {
                let message = format!("isvisible=\"{value}\" is not true or false; the item is shown");
                self.push(Diagnostic::warning("invalid_value", message).at(location(path, node)));
                true
            }),
        };
        let parameters = node.attr("parameters").map(str::to_owned);
        let identifierref = trimmed(node.attr("identifierref"));
        let items = self.read_items(node, path);
        let mut item = Item { identifier, title, visible, parameters, ..empty_item() };
        match &identifierref {
            Some(target) => self.resolve_launch(&mut item, target, node, path),
            None if items.is_empty() => {
                let message = format!("item `{}` has neither child items nor an identifierref, so there is nothing to show for it; point it at a resource or remove it", item.identifier);
                self.push(Diagnostic::error("empty_item", message).at(location(path, node)));
            }
            None => {}
        }
        if identifierref.is_some() && !items.is_empty() && self.version.standard == Standard::Scorm2004 {
            let message = format!("item `{}` has child items and also an identifierref; SCORM 2004 does not allow a cluster to launch content. The resource is kept, but other LMSs may ignore it", item.identifier);
            self.push(Diagnostic::warning("cluster_with_resource", message).at(location(path, node)));
        }
        item.identifierref = identifierref;
        item.items = items;
        let Extensions {
            mastery_score,
            prerequisites,
            prerequisites_at,
            max_time_allowed,
            time_limit_action,
            data_from_lms,
            completion_threshold,
            objectives,
            sequencing,
            presentation,
        } = extensions::read(self, node, path);
        item.mastery_score = mastery_score;
        if let Some(at) = prerequisites_at {
            self.prerequisite_locations.entry(item.identifier.clone()).or_insert(at);
        }
        item.prerequisites = prerequisites;
        item.max_time_allowed = max_time_allowed;
        item.time_limit_action = time_limit_action;
        item.data_from_lms = data_from_lms;
        item.completion_threshold = completion_threshold;
        item.objectives = objectives;
        item.sequencing = sequencing;
        item.presentation = presentation;
        Some(item)
    }

    fn resolve_launch(&mut self, item: &mut Item, target: &str, node: &Node, path: &str) {
        let Some(info) = self.resources.get(target) else {
            let message = format!("item `{}` points at resource `{target}`, which the manifest does not define; fix the identifierref or add the resource", item.identifier);
            self.push(Diagnostic::error("dangling_identifierref", message).at(location(path, node)));
            return;
        };
        item.scorm_type = Some(info.resource.scorm_type);
        let bases: Vec<Option<&str>> = info.bases.iter().map(Option::as_deref).collect();
        match launch::build(&bases, info.resource.href.as_deref(), item.parameters.as_deref()) {
            Ok(built) => {
                for note in &built.notes {
                    let text = match note {
                        LaunchNote::BaseWithoutSlash => "an xml:base does not end with `/`; it was read as a folder",
                        LaunchNote::LeadingSlash => {
                            "an href or xml:base starts with `/`; it was read relative to the package root"
                        }
                        LaunchNote::Backslash => "the launch path uses `\\`; it was read as `/`",
                    };
                    let message = format!(
                        "launching item `{}`: {text}. Fix the manifest so other LMSs read it the same way.",
                        item.identifier
                    );
                    self.push(Diagnostic::warning("irregular_launch_path", message).at(location(path, node)));
                }
                if built.file.is_none() {
                    let message = format!("item `{}` launches external content at {}; it works only while that site is reachable and allows being framed", item.identifier, built.url);
                    self.push(Diagnostic::warning("external_launch", message).at(location(path, node)));
                }
                item.launch = Some(built.url);
                item.launch_file = built.file;
            }
            Err(LaunchProblem::NoHref) => {
                let message = format!("item `{}` points at resource `{target}`, which has no href, so there is nothing to launch; add href to the resource", item.identifier);
                self.push(Diagnostic::error("missing_launch_href", message).at(location(path, node)));
            }
            Err(LaunchProblem::OutsidePackage) => {
                let message = format!("the launch URL of item `{}` climbs out of the package with `..`; make the resource href relative to the package", item.identifier);
                self.push(Diagnostic::error("launch_outside_package", message).at(location(path, node)));
            }
        }
    }

    /// An `imsss:sequencing` child, with its `IDRef` resolved against the collection.
    pub(super) fn sequencing(&mut self, node: &Node, path: &str) -> Option<Sequencing> {
        let (position, element) = node
            .children
            .iter()
            .filter(|c| ns::family(c.namespace.as_deref()) == Family::Imsss && c.name == "sequencing")
            .enumerate()
            .next()?;
        let id_ref = trimmed(element.attr("IDRef"));
        let referenced = id_ref.as_ref().and_then(|id| self.collection.get(id).cloned());
        if let (Some(id), None) = (&id_ref, &referenced) {
            let message = format!("imsss:sequencing IDRef=\"{id}\" names no entry of the imsss:sequencingCollection; add it there or remove the IDRef");
            let at = location(&format!("{path}/sequencing[{}]", position + 1), element);
            self.push(Diagnostic::error("dangling_sequencing_ref", message).at(at));
        }
        Some(Sequencing { id_ref, element: element.to_element(), referenced })
    }
}

fn title_of(node: &Node) -> Option<String> {
    cp_children(node, "title").next().and_then(|(_, t)| t.trimmed_text().map(str::to_owned))
}

pub(super) fn parse_bool(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

fn has_launchable(items: &[Item]) -> bool {
    items.iter().any(|i| i.launch.is_some() || has_launchable(&i.items))
}

fn empty_item() -> Item {
    Item {
        identifier: String::new(),
        title: String::new(),
        identifierref: None,
        launch: None,
        launch_file: None,
        scorm_type: None,
        visible: true,
        parameters: None,
        mastery_score: None,
        prerequisites: None,
        max_time_allowed: None,
        time_limit_action: None,
        data_from_lms: None,
        completion_threshold: None,
        objectives: Vec::new(),
        sequencing: None,
        presentation: None,
        items: Vec::new(),
    }
}
