//! Every pod's use of the node's disk is bounded: each container has an
//! `ephemeral-storage` limit and each emptyDir a `sizeLimit`, so one
//! upload, dump or runaway log evicts its own pod rather than fill the
//! node's disk under every other pod on it. The `disk` stage gives mlk's
//! pods these bounds; this holds the final objects, a patch's included.

use super::pods::Slot;
use super::{Evidence, Findings, Policy, Subject};

const LIMIT: &str = "ephemeral-storage";

pub fn check(subject: &Subject, _: &Policy, out: &mut Findings) {
    for (i, doc, pods) in subject.objects() {
        for pod in pods {
            for c in &pod.containers {
                let (resources, at, name) = match c.slot {
                    // A CloudNativePG Cluster: its one container's.
                    Slot::Spec => (&doc.value["spec"]["resources"], pod.at(), None),
                    Slot::Listed("ephemeralContainers", _) => continue,
                    _ => (
                        &c.value["resources"],
                        pod.container_at(c),
                        c.value["name"].as_str(),
                    ),
                };
                if resources["limits"][LIMIT].is_null() {
                    let at = at.key("resources").key("limits").key(LIMIT);
                    let message = "must be set: a container with no limit can fill the \
                                   node's disk (mlk sets one on its own containers)";
                    let evidence = name.map_or(Evidence::None, |n| Evidence::Text(n.into()));
                    out.push(i, at, message.into(), evidence);
                }
            }
            if doc.kind() == "Cluster"
                && !positive(&doc.value["spec"]["ephemeralVolumesSizeLimit"]["temporaryData"])
            {
                let at = pod
                    .at()
                    .key("ephemeralVolumesSizeLimit")
                    .key("temporaryData");
                let message = "needs a size above 0: the instances' scratch emptyDir is \
                               unbounded without one";
                out.push(i, at, message.into(), Evidence::None);
            }
            let volumes = pod.spec["volumes"].as_sequence().into_iter().flatten();
            for (v, volume) in volumes.enumerate() {
                let dir = &volume["emptyDir"];
                // The kubelet bounds an emptyDir only by a size above 0.
                if !dir.is_null() && !positive(&dir["sizeLimit"]) {
                    let at = pod.at().key("volumes").index(v).key("emptyDir");
                    let message = "needs a sizeLimit above 0: an unbounded emptyDir can \
                                   fill the node's disk";
                    let evidence = volume["name"]
                        .as_str()
                        .map_or(Evidence::None, |n| Evidence::Text(n.into()));
                    out.push(i, at.key("sizeLimit"), message.into(), evidence);
                }
            }
        }
    }
}

/// A quantity above zero.
fn positive(v: &crate::manifest::Value) -> bool {
    let text = match v {
        crate::manifest::Value::String(s) => s.to_string(),
        crate::manifest::Value::Number(n) => n.to_string(),
        _ => return false,
    };
    crate::types::Quantity::parse(&text).is_ok_and(|q| q.value() > 0.0)
}
