//! Volume types (restricted): every volume is one of the kinds that
//! cannot reach the node: configMap, csi, downwardAPI, emptyDir,
//! ephemeral, image, persistentVolumeClaim, projected or secret.

use super::{Check, Level, PodView, items};
use crate::field_path::Trail;
use crate::manifest::Value;

pub const CHECK: Check = Check {
    id: "restrictedVolumes",
    level: Level::Restricted,
    since: (1, 33),
    overrides: &[],
    run,
};

const ALLOWED: [&str; 9] = [
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "image",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

fn run(pod: &PodView, out: &mut Vec<(Trail, String)>) {
    for (i, v) in items(&pod.spec["volumes"]).iter().enumerate() {
        let Some(m) = v.as_mapping() else { continue };
        let at = pod.at().key("volumes").index(i);
        for key in m.keys().filter_map(Value::as_str) {
            // hostPath is baseline's to report.
            if !["name", "hostPath"].contains(&key) && !ALLOWED.contains(&key) {
                out.push((at.key(key), format!("{key} volumes are not allowed")));
            }
        }
    }
}
