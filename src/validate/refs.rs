//! Checks that no schema validator makes: every name one object uses to
//! reach another (a selector, a backend, a secretKeyRef, a volume) finds
//! it among the rendered objects, or among those declared to exist.

use std::collections::BTreeSet;

use crate::manifest::Value;

use super::index::Index;
use super::network_policy;
use super::pods::{Pod, container_ports, indexed, items, selects, str_map};
use super::{External, Problem};
use crate::field_path::Path;
use crate::manifest::Document;

/// The problems found, and the references to objects outside the stream
/// that were taken to exist (see [`External::complete`]).
pub fn check<'a>(
    docs: &'a [Document],
    index: &Index<'a>,
    external: &External,
) -> (Vec<Problem>, Vec<Problem>) {
    let mut out = Vec::new();
    let mut assumed = Vec::new();
    for doc in docs {
        let mut report = |path: Path, message: String| {
            out.push(Problem::new(doc, path.to_string(), message));
        };
        match doc.kind() {
            "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" => {
                own_selector(doc, &mut report)
            }
            "Service" => service(doc, index, &mut report),
            "Ingress" => ingress(doc, index, &mut report),
            "HTTPRoute" => http_route(doc, index, &mut report),
            "ServiceMonitor" => service_monitor(doc, index, &mut report),
            "NetworkPolicy" => network_policy::check(doc, index, &mut report),
            _ => {}
        }
    }
    for pod in index.pods.iter().filter(|p| !p.operated) {
        let mut report = |path: Path, message: String| {
            out.push(Problem::new(pod.doc, path.to_string(), message));
        };
        container_names(pod, &mut report);
        volumes(pod, &mut report);
        let outside = config_refs(pod, index, external, &mut report);
        let to = match external.is_complete() {
            true => &mut out,
            false => &mut assumed,
        };
        to.extend(
            outside
                .into_iter()
                .map(|(p, m)| Problem::new(pod.doc, p.to_string(), m)),
        );
    }
    (out, assumed)
}

fn own_selector(doc: &Document, report: &mut impl FnMut(Path, String)) {
    let selector = &doc.value["spec"]["selector"];
    let labels = str_map(&doc.value["spec"]["template"]["metadata"]["labels"]);
    if selector.is_mapping() && !selects(selector, &labels) {
        report(
            Path::root().key("spec").key("selector"),
            "does not match the labels of spec.template.metadata.labels".into(),
        );
    }
}

fn service(doc: &Document, index: &Index, report: &mut impl FnMut(Path, String)) {
    let selector = str_map(&doc.value["spec"]["selector"]);
    if selector.is_empty() {
        return; // endpoints managed by hand, or an ExternalName
    }
    let matching: Vec<&Pod> = index.pods_with(doc.namespace(), &selector);
    let sel_path = Path::root().key("spec").key("selector");
    if matching.is_empty() {
        report(sel_path, "selects no rendered pod template".into());
        return;
    }
    for (i, port) in items(&doc.value["spec"]["ports"]).iter().enumerate() {
        let Some(target) = port["targetPort"].as_str() else {
            continue;
        };
        if !matching
            .iter()
            .any(|p| container_ports(p).any(|n| n == target))
        {
            let path = Path::root()
                .key("spec")
                .key("ports")
                .index(i)
                .key("targetPort");
            report(
                path,
                format!("no selected pod has a container port named {target:?}"),
            );
        }
    }
}

fn service_has_port(svc: &Document, port: &Value) -> bool {
    let ports = items(&svc.value["spec"]["ports"]);
    match (port["name"].as_str(), port["number"].as_i64()) {
        (Some(n), _) => ports.iter().any(|p| p["name"].as_str() == Some(n)),
        (None, Some(n)) => ports.iter().any(|p| p["port"].as_i64() == Some(n)),
        _ => true, // the schema reports a port without name or number
    }
}

fn ingress(doc: &Document, index: &Index, report: &mut impl FnMut(Path, String)) {
    let spec = &doc.value["spec"];
    let mut backends = vec![(
        Path::root().key("spec").key("defaultBackend"),
        &spec["defaultBackend"],
    )];
    for (r, rule) in items(&spec["rules"]).iter().enumerate() {
        for (p, path) in items(&rule["http"]["paths"]).iter().enumerate() {
            let at = Path::root().key("spec").key("rules").index(r).key("http");
            backends.push((at.key("paths").index(p).key("backend"), &path["backend"]));
        }
    }
    for (at, backend) in backends {
        let service = &backend["service"];
        let Some(name) = service["name"].as_str() else {
            continue;
        };
        let at = at.key("service");
        match index.find("Service", doc.namespace(), name) {
            None => report(
                at.key("name"),
                format!("no rendered Service named {name:?}"),
            ),
            Some(svc) if !service_has_port(svc, &service["port"]) => {
                report(at.key("port"), format!("Service {name:?} has no such port"))
            }
            Some(_) => {}
        }
    }
}

/// Each rule sends its requests somewhere, and each backend that is a
/// Service of the route's own namespace exists and has the port (a
/// Service port number, not a target port).
fn http_route(doc: &Document, index: &Index, report: &mut impl FnMut(Path, String)) {
    for (r, rule) in items(&doc.value["spec"]["rules"]).iter().enumerate() {
        // A redirect answers itself; so may an implementation's own filter.
        let redirects = items(&rule["filters"])
            .iter()
            .any(|f| matches!(f["type"].as_str(), Some("RequestRedirect" | "ExtensionRef")));
        if items(&rule["backendRefs"]).is_empty() && !redirects {
            // Gateway API: a rule with no backendRefs and no filter that
            // answers itself gets a 404 for every request it matches.
            report(
                Path::root().key("spec").key("rules").index(r),
                "has no backendRefs (and no RequestRedirect filter), so the gateway answers \
                 every request it matches with 404"
                    .into(),
            );
        }
        for (b, backend) in items(&rule["backendRefs"]).iter().enumerate() {
            let is_service = backend["kind"].as_str().is_none_or(|k| k == "Service")
                && backend["group"].as_str().is_none_or(str::is_empty);
            let here = backend["namespace"]
                .as_str()
                .is_none_or(|ns| Some(ns) == doc.namespace());
            let Some(name) = backend["name"].as_str().filter(|_| is_service && here) else {
                continue;
            };
            let at = Path::root()
                .key("spec")
                .key("rules")
                .index(r)
                .key("backendRefs")
                .index(b);
            let port =
                crate::manifest::Mapping::from_iter([("number".into(), backend["port"].clone())]);
            match index.find("Service", doc.namespace(), name) {
                None => report(
                    at.key("name"),
                    format!("no rendered Service named {name:?}"),
                ),
                Some(svc) if !service_has_port(svc, &Value::Mapping(port)) => {
                    report(at.key("port"), format!("Service {name:?} has no such port"))
                }
                Some(_) => {}
            }
        }
    }
}

fn service_monitor(doc: &Document, index: &Index, report: &mut impl FnMut(Path, String)) {
    let spec = &doc.value["spec"];
    let ns_sel = &spec["namespaceSelector"];
    let names: Vec<&str> = items(&ns_sel["matchNames"])
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let in_scope = |d: &Document| match (ns_sel["any"].as_bool(), names.is_empty()) {
        (Some(true), _) => true,
        (_, false) => d.namespace().is_some_and(|n| names.contains(&n)),
        (_, true) => d.namespace() == doc.namespace(),
    };
    let services = index.services_selected(&spec["selector"], in_scope);
    if services.is_empty() {
        let path = Path::root().key("spec").key("selector");
        report(path, "selects no rendered Service".into());
        return;
    }
    for (i, ep) in items(&spec["endpoints"]).iter().enumerate() {
        let Some(port) = ep["port"].as_str() else {
            continue;
        };
        let named = crate::manifest::Mapping::from_iter([("name".into(), port.into())]);
        if !services
            .iter()
            .any(|s| service_has_port(s, &Value::Mapping(named.clone())))
        {
            let path = Path::root()
                .key("spec")
                .key("endpoints")
                .index(i)
                .key("port");
            report(
                path,
                format!("no selected Service has a port named {port:?}"),
            );
        }
    }
}

/// The API server refuses a pod whose containers, init containers
/// included, share a name: it would not run at all.
fn container_names(pod: &Pod, report: &mut impl FnMut(Path, String)) {
    let mut seen = BTreeSet::new();
    for (i, (list, c)) in indexed(&pod.spec) {
        if let Some(name) = c["name"].as_str().filter(|n| !seen.insert(*n)) {
            let path = pod.at.key("spec").key(list).index(i).key("name");
            report(
                path,
                format!("another container of the pod is named {name:?}"),
            );
        }
    }
}

fn volumes(pod: &Pod, report: &mut impl FnMut(Path, String)) {
    let mut declared: BTreeSet<&str> = items(&pod.spec["volumes"])
        .iter()
        .filter_map(|v| v["name"].as_str())
        .collect();
    if pod.doc.kind() == "StatefulSet" {
        let claims = items(&pod.doc.value["spec"]["volumeClaimTemplates"]);
        declared.extend(claims.iter().filter_map(|c| c["metadata"]["name"].as_str()));
    }
    for (i, (list, c)) in indexed(&pod.spec) {
        for (m, mount) in items(&c["volumeMounts"]).iter().enumerate() {
            let Some(name) = mount["name"].as_str() else {
                continue;
            };
            if !declared.contains(name) {
                let path = pod
                    .at
                    .key("spec")
                    .key(list)
                    .index(i)
                    .key("volumeMounts")
                    .index(m);
                report(
                    path.key("name"),
                    format!("no volume named {name:?} in the pod"),
                );
            }
        }
    }
}

/// A reference to a key (or, with `key: None`, the whole object) of a
/// Secret or ConfigMap.
struct ConfigRef<'a> {
    kind: &'static str,
    name: &'a str,
    key: Option<&'a str>,
    optional: bool,
    /// The reference, and the field in it that holds the name.
    path: Path,
    name_field: &'static str,
    /// Where the key is written.
    key_at: Path,
}

fn config_refs(
    pod: &Pod,
    index: &Index,
    external: &External,
    report: &mut impl FnMut(Path, String),
) -> Vec<(Path, String)> {
    let mut outside = Vec::new();
    for r in collect_refs(pod) {
        if r.optional || external.contains(r.kind, r.name) {
            continue;
        }
        let Some(keys) = keys_of(index, r.kind, pod.doc.namespace(), r.name) else {
            let msg = match external.is_complete() {
                true => format!(
                    "no rendered {} named {:?}, and none declared to exist",
                    r.kind, r.name
                ),
                false => format!(
                    "{} {:?} is not in the stream, so it must exist in the cluster \
                     (--exists {}/{} says it does, and makes every other reference \
                     outside the stream an error)",
                    r.kind, r.name, r.kind, r.name
                ),
            };
            outside.push((r.path.key(r.name_field), msg));
            continue;
        };
        if let Some(key) = r.key
            && !keys.iter().any(|k| k == key)
        {
            let msg = format!("{} {:?} has no key {key:?}", r.kind, r.name);
            report(r.key_at.clone(), msg);
        }
    }
    outside
}

/// The keys of a Secret or ConfigMap in the stream, or of a Secret an
/// operator in the stream will write.
fn keys_of(index: &Index, kind: &str, ns: Option<&str>, name: &str) -> Option<Vec<String>> {
    if let Some(target) = index.find(kind, ns, name) {
        let v = &target.value;
        let fields = ["data", "stringData", "binaryData"].iter();
        let keys = fields.flat_map(|f| v[*f].as_mapping().into_iter().flat_map(|m| m.keys()));
        return Some(keys.filter_map(Value::as_str).map(str::to_owned).collect());
    }
    let keys = index
        .operated_secret(ns, name)
        .filter(|_| kind == "Secret")?;
    Some(keys.to_vec())
}

impl<'a> ConfigRef<'a> {
    /// The reference object `r` at `path`, if it names anything; `keyed`
    /// when it names one key (`secretKeyRef`) rather than the whole object.
    fn read(
        kind: &'static str,
        r: &'a Value,
        path: Path,
        name_field: &'static str,
        keyed: bool,
    ) -> Option<Self> {
        Some(ConfigRef {
            kind,
            name: r[name_field].as_str()?,
            key: if keyed { r["key"].as_str() } else { None },
            optional: r["optional"].as_bool().unwrap_or(false),
            key_at: path.key("key"),
            path,
            name_field,
        })
    }
}

fn collect_refs<'a>(pod: &'a Pod<'a>) -> Vec<ConfigRef<'a>> {
    let mut refs = Vec::new();
    for (i, (list, c)) in indexed(&pod.spec) {
        let at = pod.at.key("spec").key(list).index(i);
        for (e, env) in items(&c["env"]).iter().enumerate() {
            for (field, kind) in [("secretKeyRef", "Secret"), ("configMapKeyRef", "ConfigMap")] {
                let path = at.key("env").index(e).key("valueFrom").key(field);
                refs.extend(ConfigRef::read(
                    kind,
                    &env["valueFrom"][field],
                    path,
                    "name",
                    true,
                ));
            }
        }
        for (e, from) in items(&c["envFrom"]).iter().enumerate() {
            for (field, kind) in [("secretRef", "Secret"), ("configMapRef", "ConfigMap")] {
                let path = at.key("envFrom").index(e).key(field);
                refs.extend(ConfigRef::read(kind, &from[field], path, "name", false));
            }
        }
    }
    for (i, vol) in items(&pod.spec["volumes"]).iter().enumerate() {
        let at = pod.at.key("spec").key("volumes").index(i);
        for (field, kind, name_field) in [
            ("secret", "Secret", "secretName"),
            ("configMap", "ConfigMap", "name"),
        ] {
            refs.extend(item_refs(kind, &vol[field], at.key(field), name_field));
        }
        refs.extend(projected_refs(vol, at));
    }
    refs
}

/// A projected volume's Secret and ConfigMap sources.
fn projected_refs(vol: &Value, at: Path) -> Vec<ConfigRef<'_>> {
    let mut refs = Vec::new();
    let sources = items(&vol["projected"]["sources"]).iter().enumerate();
    for (s, source) in sources {
        for (field, kind) in [("secret", "Secret"), ("configMap", "ConfigMap")] {
            let path = at.key("projected").key("sources").index(s).key(field);
            refs.extend(item_refs(kind, &source[field], path, "name"));
        }
    }
    refs
}

/// A volume source of a Secret or ConfigMap: one reference per item key,
/// or one for the whole object when it takes every key.
fn item_refs<'a>(
    kind: &'static str,
    r: &'a Value,
    path: Path,
    name_field: &'static str,
) -> Vec<ConfigRef<'a>> {
    let Some(name) = r[name_field].as_str() else {
        return Vec::new();
    };
    let optional = r["optional"].as_bool().unwrap_or(false);
    let list = items(&r["items"]);
    let keys: Vec<(Option<&str>, Path)> = match list {
        [] => vec![(None, path.key("items"))],
        list => list
            .iter()
            .enumerate()
            .map(|(j, item)| (item["key"].as_str(), path.key("items").index(j).key("key")))
            .collect(),
    };
    keys.into_iter()
        .map(|(key, key_at)| ConfigRef {
            kind,
            name,
            key,
            optional,
            path: path.clone(),
            name_field,
            key_at,
        })
        .collect()
}
