//! Which items of an organisation the prerequisites leave open to a learner: scripts
//! checked once per organisation (findings for the import), clusters rolled up, locks
//! evaluated from the learner's statuses.

use super::*;

/// Something wrong (or tolerated) in an item's prerequisites, found once per organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// The `type` is not `aicc_script`; the script is ignored.
    UnsupportedType { item: String, kind: String },
    /// The script does not parse; it is ignored.
    Invalid { item: String, script: String, error: PrerequisiteError },
    /// The script names identifiers that are no item of the organisation; it is ignored.
    UnknownItems { item: String, names: Vec<String> },
    /// The script can never be met; it is ignored.
    Unsatisfiable { item: String },
    /// English operator words were read as operators; the script is used.
    WordOperators { item: String, words: Vec<String> },
}

impl Finding {
    /// The item whose prerequisites this is about.
    pub fn item(&self) -> &str {
        match self {
            Finding::UnsupportedType { item, .. }
            | Finding::Invalid { item, .. }
            | Finding::UnknownItems { item, .. }
            | Finding::Unsatisfiable { item }
            | Finding::WordOperators { item, .. } => item,
        }
    }

    /// Whether the finding made the item's prerequisites be ignored.
    pub fn ignores_script(&self) -> bool {
        !matches!(self, Finding::WordOperators { .. })
    }
}

pub(super) struct Node {
    pub(super) identifier: String,
    pub(super) parent: Option<usize>,
    pub(super) children: Vec<usize>,
    pub(super) launchable: bool,
    pub(super) rule: Option<Expr>,
}

/// The prerequisites of one organisation's items, checked and ready to evaluate.
///
/// Prerequisites on a cluster hold for everything inside it. A cluster without content of
/// its own has the status of its items rolled up: passed when all are passed, completed
/// when all are passed or completed, failed when all are finished and some failed,
/// not attempted when none was attempted, and incomplete otherwise.
///
/// Everything here takes time in proportion to the outline and its scripts (the tree is at
/// most as deep as the manifest's elements), because it runs on every import, hostile
/// manifests included, and on every page of the player.
pub struct Outline {
    nodes: Vec<Node>,
    index: HashMap<String, usize>,
    findings: Vec<Finding>,
}

impl Outline {
    /// Reads the prerequisites of `items` (an organisation's tree). Scripts with a
    /// [`Finding`] that ignores them leave their item open.
    pub fn new(items: &[Item]) -> Outline {
        let mut outline = Outline { nodes: Vec::new(), index: HashMap::new(), findings: Vec::new() };
        let mut scripts = Vec::new();
        outline.flatten(items, None, &mut scripts);
        let mut found = Vec::new();
        for (node, prerequisites) in scripts {
            let item = outline.nodes[node].identifier.clone();
            if let Some(kind) = prerequisites.kind.as_deref().map(str::trim) {
                if !kind.eq_ignore_ascii_case("aicc_script") {
                    found.push((node, Finding::UnsupportedType { item, kind: kind.to_owned() }));
                    continue;
                }
            }
            let parsed = match parse_script(&prerequisites.script) {
                Ok(parsed) => parsed,
                Err(error) => {
                    found.push((node, Finding::Invalid { item, script: prerequisites.script.clone(), error }));
                    continue;
                }
            };
            if !parsed.word_operators.is_empty() {
                let mut words: Vec<String> = Vec::new();
                for word in parsed.word_operators {
                    if !words.contains(&word) {
                        words.push(word);
                    }
                }
                found.push((node, Finding::WordOperators { item: item.clone(), words }));
            }
            let names: Vec<String> = parsed
                .expr
                .identifiers()
                .into_iter()
                .filter(|id| !outline.index.contains_key(*id))
                .map(str::to_owned)
                .collect();
            if names.is_empty() {
                outline.nodes[node].rule = Some(parsed.expr);
            } else {
                found.push((node, Finding::UnknownItems { item, names }));
            }
        }
        for node in outline.drop_rules_never_met() {
            found.push((node, Finding::Unsatisfiable { item: outline.nodes[node].identifier.clone() }));
        }
        found.sort_by_key(|(node, _)| *node);
        outline.findings = found.into_iter().map(|(_, finding)| finding).collect();
        outline
    }

    /// Depth first, so that a parent always comes before its children.
    pub(super) fn flatten<'a>(
        &mut self,
        items: &'a [Item],
        parent: Option<usize>,
        scripts: &mut Vec<(usize, &'a crate::manifest::Prerequisites)>,
    ) {
        for item in items {
            let node = self.nodes.len();
            self.nodes.push(Node {
                identifier: item.identifier.clone(),
                parent,
                children: Vec::new(),
                launchable: item.launch.is_some(),
                rule: None,
            });
            // A repeated identifier is an import error already; the first one is used.
            self.index.entry(item.identifier.clone()).or_insert(node);
            if let Some(parent) = parent {
                self.nodes[parent].children.push(node);
            }
            if let Some(prerequisites) = &item.prerequisites {
                scripts.push((node, prerequisites));
            }
            self.flatten(&item.items, Some(node), scripts);
        }
    }

    /// What was found while reading the scripts, in outline order.
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }

    pub(super) fn node_of(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }

    /// Whether `node` is `ancestor` or inside it.
    pub(super) fn within(&self, mut node: usize, ancestor: usize) -> bool {
        loop {
            if node == ancestor {
                return true;
            }
            match self.nodes[node].parent {
                Some(parent) => node = parent,
                None => return false,
            }
        }
    }

    /// Ignores the rules that can never be met, whatever the learner does, and returns their
    /// items in the order they were dropped.
    ///
    /// Rules that cannot be met even when every other item is open (they wait on their own
    /// item, on an item inside their cluster, or on the cluster they are in) go first, all
    /// at once. A cycle of items waiting on each other is then broken at its first item in
    /// outline order, so that the rest of the cycle keeps its order. Beyond [`CYCLE_ROUNDS`]
    /// cycles, which only a hostile manifest has, the rest go at once to bound the work.
    pub(super) fn drop_rules_never_met(&mut self) -> Vec<usize> {
        let mut dropped = Vec::new();
        let mut cycles = 0;
        if self.nodes.iter().all(|n| n.rule.is_none()) {
            return dropped;
        }
        let open = self.statuses_when_open();
        loop {
            let never = self.never_met();
            if never.is_empty() {
                return dropped;
            }
            let alone: Vec<usize> = never.iter().copied().filter(|&node| self.never_met_alone(node, &open)).collect();
            let chosen = if !alone.is_empty() {
                alone
            } else if cycles < CYCLE_ROUNDS {
                cycles += 1;
                vec![never[0]]
            } else {
                never
            };
            for node in chosen {
                self.nodes[node].rule = None;
                dropped.push(node);
            }
        }
    }

    /// The items with rules that no learner can meet as the rules stand.
    ///
    /// Starting from a learner who has done nothing, an item becomes reachable when its
    /// cluster is reachable and its rule could be met, where reachable items may end up with
    /// any status and the others stay "not attempted". Following every consequence until
    /// nothing changes gives every item a learner could ever open; the rules of the others
    /// cannot be met. An item is looked at again only when something its rule names, or its
    /// cluster, changed, and what an item may come to only grows, so this ends soon.
    pub(super) fn never_met(&self) -> Vec<usize> {
        let count = self.nodes.len();
        let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); count];
        for (node, own) in self.nodes.iter().enumerate() {
            for id in own.rule.iter().flat_map(Expr::identifiers) {
                if let Some(target) = self.node_of(id) {
                    dependents[target].push(node);
                }
            }
        }
        let mut can = Rollups::new(self, |_| Statuses::of(LessonStatus::NotAttempted));
        let mut reached = vec![false; count];
        let mut queue: Vec<usize> = (0..count).filter(|&n| self.nodes[n].parent.is_none()).collect();
        while let Some(node) = queue.pop() {
            if reached[node] || self.nodes[node].parent.is_some_and(|p| !reached[p]) {
                continue;
            }
            let lookup = |id: &str| self.node_of(id).map_or(Statuses::of(LessonStatus::NotAttempted), |n| can.of[n]);
            if self.nodes[node].rule.as_ref().is_some_and(|r| !r.possible(true, &lookup)) {
                continue;
            }
            reached[node] = true;
            queue.extend(&self.nodes[node].children);
            if self.nodes[node].launchable {
                for changed in can.set(self, node, Statuses::ANY) {
                    queue.extend(dependents[changed].iter().filter(|&&d| !reached[d]));
                }
            }
        }
        let lookup = |id: &str| self.node_of(id).map_or(Statuses::of(LessonStatus::NotAttempted), |n| can.of[n]);
        (0..count)
            .filter(|&node| {
                !reached[node] && self.nodes[node].rule.as_ref().is_some_and(|r| !r.possible(true, &lookup))
            })
            .collect()
    }

    /// What every item may come to when every item is open.
    pub(super) fn statuses_when_open(&self) -> Rollups {
        Rollups::new(self, |node| {
            if self.nodes[node].launchable {
                Statuses::ANY
            } else {
                Statuses::of(LessonStatus::NotAttempted)
            }
        })
    }

    /// Whether `node`'s rule cannot be met even when every item outside it is open: the items
    /// inside it stay "not attempted", and the clusters around it roll that up.
    pub(super) fn never_met_alone(&self, node: usize, open: &Rollups) -> bool {
        let Some(rule) = &self.nodes[node].rule else {
            return false;
        };
        // The clusters around `node` with what they may come to, from the inside out.
        let mut around: Vec<(usize, Statuses)> = Vec::new();
        let (mut child, mut new) = (node, Statuses::of(LessonStatus::NotAttempted));
        while let Some(parent) = self.nodes[child].parent {
            if self.nodes[parent].launchable || new == open.of[child] {
                break;
            }
            new = open.replaced(self, parent, open.of[child], new);
            around.push((parent, new));
            child = parent;
        }
        let lookup = |id: &str| match self.node_of(id) {
            None => Statuses::of(LessonStatus::NotAttempted),
            Some(target) if self.within(target, node) => Statuses::of(LessonStatus::NotAttempted),
            Some(target) => around.iter().find(|(n, _)| *n == target).map_or(open.of[target], |(_, s)| *s),
        };
        !rule.possible(true, &lookup)
    }

    /// Every item's status: launchable items from `status_of` (unknown means not attempted),
    /// clusters rolled up from their items.
    pub(super) fn statuses(&self, status_of: &dyn Fn(&str) -> Option<LessonStatus>) -> Vec<LessonStatus> {
        let mut statuses = vec![LessonStatus::NotAttempted; self.nodes.len()];
        for node in (0..self.nodes.len()).rev() {
            let own = &self.nodes[node];
            statuses[node] = if own.launchable {
                status_of(&own.identifier).unwrap_or(LessonStatus::NotAttempted)
            } else {
                rollup(own.children.iter().map(|&c| statuses[c]))
            };
        }
        statuses
    }

    /// The items a learner may not open yet, each with the items its failing rules (its own
    /// and its clusters') name that are not yet passed or completed, in the order written and
    /// at most [`MAX_WAITING`] of them. Items that are missing are open.
    pub fn locked(&self, status_of: impl Fn(&str) -> Option<LessonStatus>) -> BTreeMap<String, Vec<String>> {
        let statuses = self.statuses(&status_of);
        let lookup = |id: &str| self.node_of(id).map(|node| statuses[node]);
        let mut waiting: Vec<Option<Vec<String>>> = vec![None; self.nodes.len()];
        for node in 0..self.nodes.len() {
            let mut list = self.nodes[node].parent.and_then(|p| waiting[p].clone());
            if let Some(rule) = self.nodes[node].rule.as_ref().filter(|r| !r.evaluate(lookup)) {
                let list = list.get_or_insert_with(Vec::new);
                for id in rule.identifiers() {
                    if list.len() == MAX_WAITING {
                        break;
                    }
                    if !lookup(id).is_some_and(LessonStatus::is_done) && !list.iter().any(|w| w == id) {
                        list.push(id.to_owned());
                    }
                }
            }
            waiting[node] = list;
        }
        let mut locked = BTreeMap::new();
        for (node, list) in waiting.into_iter().enumerate() {
            if let Some(list) = list {
                locked.entry(self.nodes[node].identifier.clone()).or_insert(list);
            }
        }
        locked
    }
}

/// How many items a locked item says it waits for; a hint needs no more.
pub const MAX_WAITING: usize = 6;

/// What each item may come to, with the counts behind each cluster's roll-up kept so that a
/// change to one item updates its clusters without going over their other items again.
pub(super) struct Rollups {
    pub(super) of: Vec<Statuses>,
    pub(super) counts: Vec<[usize; Statuses::TRAITS]>,
}

impl Rollups {
    /// Launchable items take `launchable(node)`; clusters are rolled up from them.
    pub(super) fn new(outline: &Outline, launchable: impl Fn(usize) -> Statuses) -> Rollups {
        let count = outline.nodes.len();
        let mut rollups = Rollups {
            of: vec![Statuses::of(LessonStatus::NotAttempted); count],
            counts: vec![[0; Statuses::TRAITS]; count],
        };
        for node in (0..count).rev() {
            let own = &outline.nodes[node];
            rollups.of[node] = if own.launchable {
                launchable(node)
            } else {
                Statuses::rollup(&rollups.counts[node], own.children.len())
            };
            if let Some(parent) = own.parent {
                add(&mut rollups.counts[parent], rollups.of[node].traits(), 1);
            }
        }
        rollups
    }

    /// What `cluster` may come to if one of its items changed from `old` to `new`.
    pub(super) fn replaced(&self, outline: &Outline, cluster: usize, old: Statuses, new: Statuses) -> Statuses {
        let mut counts = self.counts[cluster];
        add(&mut counts, old.traits(), -1);
        add(&mut counts, new.traits(), 1);
        Statuses::rollup(&counts, outline.nodes[cluster].children.len())
    }

    /// Sets what `node` may come to and rolls the change up; returns every item that changed.
    pub(super) fn set(&mut self, outline: &Outline, node: usize, statuses: Statuses) -> Vec<usize> {
        let mut changed = Vec::new();
        let (mut node, mut new) = (node, statuses);
        while self.of[node] != new {
            let old = self.of[node];
            self.of[node] = new;
            changed.push(node);
            let Some(parent) = outline.nodes[node].parent.filter(|&p| !outline.nodes[p].launchable) else {
                break;
            };
            add(&mut self.counts[parent], old.traits(), -1);
            add(&mut self.counts[parent], new.traits(), 1);
            new = Statuses::rollup(&self.counts[parent], outline.nodes[parent].children.len());
            node = parent;
        }
        changed
    }
}

pub(super) fn add(counts: &mut [usize; Statuses::TRAITS], traits: [bool; Statuses::TRAITS], sign: isize) {
    for (count, has) in counts.iter_mut().zip(traits) {
        if has {
            *count = count.saturating_add_signed(sign);
        }
    }
}

/// A set of lesson statuses: what an item may still come to, for finding rules that can
/// never be met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Statuses(u8);

impl Statuses {
    const ANY: Statuses = Statuses(0b11_1111);
    /// How many traits [`Statuses::traits`] tells.
    const TRAITS: usize = 8;

    pub(super) fn of(status: LessonStatus) -> Statuses {
        Statuses(1 << status as u8)
    }

    pub(super) fn any(self, test: impl Fn(LessonStatus) -> bool) -> bool {
        LessonStatus::ALL.into_iter().any(|s| self.0 & Statuses::of(s).0 != 0 && test(s))
    }

    /// Whether the set allows: passed; done; done or failed; not attempted; completed;
    /// failed; incomplete or browsed; something other than not attempted. A cluster's
    /// roll-up depends only on how many of its items have each.
    pub(super) fn traits(self) -> [bool; Statuses::TRAITS] {
        use LessonStatus::*;
        [
            self.any(|s| s == Passed),
            self.any(LessonStatus::is_done),
            self.any(|s| s.is_done() || s == Failed),
            self.any(|s| s == NotAttempted),
            self.any(|s| s == Completed),
            self.any(|s| s == Failed),
            self.any(|s| matches!(s, Incomplete | Browsed)),
            self.any(|s| s != NotAttempted),
        ]
    }

    /// What a cluster of `len` items may roll up to (see [`rollup`]), from how many of its
    /// items have each trait. Exact for every status but "incomplete", which it may allow
    /// too often.
    pub(super) fn rollup(counts: &[usize; Statuses::TRAITS], len: usize) -> Statuses {
        use LessonStatus::*;
        if len == 0 {
            return Statuses::of(NotAttempted);
        }
        let [passed, done, finished, not_attempted, completed, failed, started, other] = *counts;
        let with = |set: Statuses, status: LessonStatus, included: bool| {
            if included {
                Statuses(set.0 | Statuses::of(status).0)
            } else {
                set
            }
        };
        let mut set = Statuses(0);
        set = with(set, Passed, passed == len);
        set = with(set, Completed, done == len && completed > 0);
        set = with(set, Failed, finished == len && failed > 0);
        set = with(set, NotAttempted, not_attempted == len);
        with(set, Incomplete, started > 0 || (not_attempted > 0 && other > 0))
    }
}

/// A cluster's status from its items' (see [`Outline`]).
pub(super) fn rollup(children: impl Iterator<Item = LessonStatus>) -> LessonStatus {
    let children: Vec<LessonStatus> = children.collect();
    let all = |f: fn(&LessonStatus) -> bool| !children.is_empty() && children.iter().all(f);
    if all(|s| *s == LessonStatus::Passed) {
        LessonStatus::Passed
    } else if all(|s| s.is_done()) {
        LessonStatus::Completed
    } else if all(|s| s.is_done() || *s == LessonStatus::Failed) {
        LessonStatus::Failed
    } else if children.iter().all(|s| *s == LessonStatus::NotAttempted) {
        LessonStatus::NotAttempted
    } else {
        LessonStatus::Incomplete
    }
}
