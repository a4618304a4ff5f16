//! Host probes and lifecycle hooks (baseline, from 1.34): a probe's or
//! hook's `httpGet.host` and `tcpSocket.host` must be unset or empty, so
//! that the kubelet is never sent to another host.

use super::{Check, Level, PodView};
use crate::field_path::Trail;

pub const CHECK: Check = Check {
    id: "hostProbesAndHostLifecycle",
    level: Level::Baseline,
    since: (1, 34),
    run,
};

fn run(pod: &PodView, out: &mut Vec<(Trail, String)>) {
    for c in &pod.containers {
        let mut handlers = Vec::new();
        for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
            handlers.push((&c.value[probe], c.at.key(probe)));
        }
        for hook in ["postStart", "preStop"] {
            let at = c.at.key("lifecycle").key(hook);
            handlers.push((&c.value["lifecycle"][hook], at));
        }
        for (handler, at) in handlers {
            for kind in ["httpGet", "tcpSocket"] {
                let host = &handler[kind]["host"];
                if host.as_str().is_some_and(|h| !h.is_empty()) {
                    out.push((at.key(kind).key("host"), "must not be set".into()));
                }
            }
        }
    }
}
