//! Lookups the reference checks make, built once per stream, so that a
//! check costs the same whether the stream holds ten objects or fifty
//! thousand: objects by kind, namespace and name, and pods and Services by
//! label.

use foldhash::{HashMap, HashMapExt};

use crate::manifest::Value;

use super::operators;
use super::pods::{Labels, Pod, selects, str_map};
use crate::manifest::Document;

type Id<'a> = (&'a str, Option<&'a str>, &'a str);

pub struct Index<'a> {
    pub pods: Vec<Pod<'a>>,
    pod_labels: LabelIndex<'a>,
    services: Vec<(&'a Document, Labels<'a>)>,
    service_labels: LabelIndex<'a>,
    objects: HashMap<Id<'a>, &'a Document>,
    /// Secrets an operator in the stream writes, with their keys.
    operated: HashMap<(Option<&'a str>, String), Vec<String>>,
}

/// An index being built, one object at a time: a large stream is read
/// once, each object while it is at hand, rather than once per lookup
/// table.
#[derive(Default)]
pub struct Builder<'a> {
    templates: Vec<Pod<'a>>,
    operated_pods: Vec<Pod<'a>>,
    services: Vec<(&'a Document, Labels<'a>)>,
    objects: HashMap<Id<'a>, &'a Document>,
    operated: HashMap<(Option<&'a str>, String), Vec<String>>,
}

impl<'a> Builder<'a> {
    /// `template` is the object's pod template, when it has one.
    pub fn add(&mut self, d: &'a Document, template: Option<Pod<'a>>) {
        let kind = d.kind();
        self.templates.extend(template);
        self.operated_pods.extend(operators::pods(d));
        if kind == "Service" {
            self.services
                .push((d, str_map(&d.value["metadata"]["labels"])));
        }
        self.objects
            .entry((kind, d.namespace(), d.name()))
            .or_insert(d);
        if let Some((name, keys)) = operators::secret(d) {
            self.operated.entry((d.namespace(), name)).or_insert(keys);
        }
    }

    /// Pod templates first, then the pods operators run, each in stream
    /// order.
    pub fn finish(self) -> Index<'a> {
        let mut pods = self.templates;
        pods.extend(self.operated_pods);
        let pod_labels = LabelIndex::new(pods.iter().map(|p| (p.doc.namespace(), &p.labels)));
        let services = self.services;
        let service_labels = LabelIndex::new(services.iter().map(|(d, l)| (d.namespace(), l)));
        Index {
            pods,
            pod_labels,
            services,
            service_labels,
            objects: self.objects,
            operated: self.operated,
        }
    }
}

impl<'a> Index<'a> {
    /// The first object of this kind and name in the namespace.
    pub fn find(&self, kind: &str, ns: Option<&str>, name: &str) -> Option<&'a Document> {
        self.objects.get(&(kind, ns, name)).copied()
    }

    /// The keys of a Secret an operator in the stream writes.
    pub fn operated_secret(&self, ns: Option<&'a str>, name: &str) -> Option<&[String]> {
        let key = (ns, name.to_owned());
        self.operated.get(&key).map(Vec::as_slice)
    }

    /// The pods in `ns` whose labels include every pair of `exact`.
    pub fn pods_with(&self, ns: Option<&'a str>, exact: &Labels<'a>) -> Vec<&Pod<'a>> {
        let candidates = self.pod_labels.candidates(Some(ns), exact);
        candidates.into_iter().map(|i| &self.pods[i]).collect()
    }

    /// The pods in `ns` a label selector (`matchLabels`,
    /// `matchExpressions`) picks; a missing selector picks every one.
    pub fn pods_selected(&self, ns: Option<&'a str>, selector: &'a Value) -> Vec<&Pod<'a>> {
        let exact = str_map(&selector["matchLabels"]);
        let candidates = self.pod_labels.candidates(Some(ns), &exact);
        candidates
            .into_iter()
            .map(|i| &self.pods[i])
            .filter(|p| selector.is_null() || selects(selector, &p.labels))
            .collect()
    }

    /// The Services a selector picks, among those `in_scope` allows.
    pub fn services_selected(
        &self,
        selector: &'a Value,
        in_scope: impl Fn(&Document) -> bool,
    ) -> Vec<&'a Document> {
        let exact = str_map(&selector["matchLabels"]);
        let candidates = self.service_labels.candidates(None, &exact);
        candidates
            .into_iter()
            .map(|i| &self.services[i])
            .filter(|(d, labels)| in_scope(d) && selects(selector, labels))
            .map(|(d, _)| *d)
            .collect()
    }
}

/// Items (by position) per namespace and per label pair.
struct LabelIndex<'a> {
    by_namespace: HashMap<Option<&'a str>, Vec<usize>>,
    by_label: HashMap<(Option<&'a str>, &'a str, &'a str), Vec<usize>>,
    all: Vec<usize>,
    /// Positions by label pair in any namespace.
    by_label_anywhere: HashMap<(&'a str, &'a str), Vec<usize>>,
}

impl<'a> LabelIndex<'a> {
    fn new<'l>(items: impl Iterator<Item = (Option<&'a str>, &'l Labels<'a>)>) -> Self
    where
        'a: 'l,
    {
        let mut index = LabelIndex {
            by_namespace: HashMap::new(),
            by_label: HashMap::new(),
            all: Vec::new(),
            by_label_anywhere: HashMap::new(),
        };
        for (i, (ns, labels)) in items.enumerate() {
            index.all.push(i);
            index.by_namespace.entry(ns).or_default().push(i);
            for (&k, &v) in labels {
                index.by_label_anywhere.entry((k, v)).or_default().push(i);
                index.by_label.entry((ns, k, v)).or_default().push(i);
            }
        }
        index
    }

    /// Positions, in order, of the items in `ns` (any namespace for
    /// `None`) that carry every pair of `exact`: the shortest list of one
    /// pair, filtered by the others.
    fn candidates(&self, ns: Option<Option<&'a str>>, exact: &Labels<'a>) -> Vec<usize> {
        let empty: &[usize] = &[];
        let list = |&k, &v| self.with_label(ns, k, v);
        let shortest = exact
            .iter()
            .map(|(k, v)| list(k, v))
            .min_by_key(|l| l.len());
        let base: &[usize] = match (shortest, ns) {
            (Some(l), _) => l,
            (None, Some(ns)) => self.by_namespace.get(&ns).map_or(empty, Vec::as_slice),
            (None, None) => &self.all,
        };
        let has_all = |i: &usize| {
            exact
                .iter()
                .all(|(k, v)| list(k, v).binary_search(i).is_ok())
        };
        base.iter().copied().filter(has_all).collect()
    }

    /// Positions of the items in `ns` (any namespace for `None`) with
    /// the label `k=v`.
    fn with_label(&self, ns: Option<Option<&'a str>>, k: &'a str, v: &'a str) -> &[usize] {
        let found = match ns {
            Some(ns) => self.by_label.get(&(ns, k, v)),
            None => self.by_label_anywhere.get(&(k, v)),
        };
        found.map_or(&[], Vec::as_slice)
    }
}
