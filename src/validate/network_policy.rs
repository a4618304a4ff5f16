//! A NetworkPolicy that selects nothing allows nothing, silently, and a
//! port no pod listens on is a path no one uses. So each policy must
//! select pods of the stream (or pods its operators run), each pod peer
//! in the namespace must select some, and each port must be one those
//! pods open.

use crate::manifest::Value;

use super::index::Index;
use super::pods::{Pod, indexed, items};
use crate::field_path::Path;
use crate::manifest::Document;

pub fn check<'a>(doc: &'a Document, index: &Index<'a>, report: &mut impl FnMut(Path, String)) {
    let local = Local {
        index,
        ns: doc.namespace(),
    };
    let spec = &doc.value["spec"];
    let at = Path::root().key("spec");
    let targets = local.selected(&spec["podSelector"]);
    if targets.is_empty() {
        report(at.key("podSelector"), "selects no rendered pod".into());
        return;
    }
    for (dir, peers_key) in [("ingress", "from"), ("egress", "to")] {
        for (i, rule) in items(&spec[dir]).iter().enumerate() {
            let at = at.key(dir).index(i);
            let peers = pod_peers(&local, &rule[peers_key], &at.key(peers_key), report);
            // Ingress ports are the policy's own pods'; egress ports are
            // the peers', when every peer is a pod of the stream.
            let listeners = if dir == "ingress" {
                Some(targets.clone())
            } else {
                peers
            };
            if let Some(listeners) = listeners {
                ports(rule, &listeners, &at, report);
            }
        }
    }
}

/// The pods of the policy's own namespace.
struct Local<'i, 'a> {
    index: &'i Index<'a>,
    ns: Option<&'a str>,
}

impl<'i, 'a> Local<'i, 'a> {
    fn selected(&self, selector: &'a Value) -> Vec<&'i Pod<'a>> {
        self.index.pods_selected(self.ns, selector)
    }
}

/// The pods the rule's peers select, when all of them are pod selectors
/// in this namespace; reports each that selects nothing.
fn pod_peers<'i, 'a>(
    local: &Local<'i, 'a>,
    peers: &'a Value,
    at: &Path,
    report: &mut impl FnMut(Path, String),
) -> Option<Vec<&'i Pod<'a>>> {
    let mut all_pods = !items(peers).is_empty();
    let mut found = Vec::new();
    for (j, peer) in items(peers).iter().enumerate() {
        let in_namespace = peer["namespaceSelector"].is_null() && peer["ipBlock"].is_null();
        if !in_namespace || peer["podSelector"].is_null() {
            all_pods = false;
            continue;
        }
        let these = local.selected(&peer["podSelector"]);
        if these.is_empty() {
            let path = at.index(j).key("podSelector");
            report(path, "selects no rendered pod".into());
        }
        found.extend(these);
    }
    all_pods.then_some(found)
}

fn ports(rule: &Value, listeners: &[&Pod], at: &Path, report: &mut impl FnMut(Path, String)) {
    if listeners.is_empty() {
        return;
    }
    for (k, p) in items(&rule["ports"]).iter().enumerate() {
        let port = &p["port"];
        if port.is_null() || listeners.iter().any(|pod| opens(pod, port)) {
            continue;
        }
        let shown = match port {
            Value::String(s) => format!("{s:?}"),
            other => serde_yaml::to_string(other)
                .unwrap_or_default()
                .trim()
                .to_owned(),
        };
        let path = at.key("ports").index(k).key("port");
        report(path, format!("no selected pod has container port {shown}"));
    }
}

fn opens(pod: &Pod, port: &Value) -> bool {
    indexed(&pod.spec)
        .flat_map(|(_, (_, c))| items(&c["ports"]))
        .any(|cp| match port {
            Value::String(name) => cp["name"].as_str() == Some(name),
            n => {
                cp["containerPort"].as_u64().is_some() && cp["containerPort"].as_u64() == n.as_u64()
            }
        })
}
