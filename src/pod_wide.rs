//! Stage 4b: `pods.proxy`, `pods.caBundle` and `pods.env`, in every
//! container of every pod the platform runs, whatever template or builder
//! wrote it: a workload's template, a CronJob's, an InferenceService's
//! predictor, and a CloudNativePG Cluster's instances (through the
//! Cluster's own `env` and `projectedVolumeTemplate`). A new workload gets
//! them without a line of its own. A component's own `pods` block
//! (`tracking.pods`, `serving.models[i].pods`, ...) overrides the
//! top-level one, field by field, as the rest of `pods` does; the
//! component is read from the labels mlk gives each object. `NO_PROXY`
//! holds `.svc` and the cluster's domain, under which mlk writes every
//! in-cluster address, so in-cluster traffic never goes through the
//! proxy.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::{
    ConfigMapVolumeSource, EnvVar, EnvVarSource, KeyToPath, SecretKeySelector, SecretVolumeSource,
    Volume, VolumeMount,
};

use crate::gate::pods;
use crate::located::Located;
use crate::manifest::tree::to_value;
use crate::manifest::{Document, Value};
use crate::pod_mut::{PodMut, for_each_pod, push_to, seq_mut};
use crate::spec::{CaBundle, PlatformSpec, Pods, Proxy, ProxyUrl};

/// Where every container finds the CA bundle.
pub const CA_DIR: &str = "/etc/mlk/ca";
pub const CA_FILE: &str = "/etc/mlk/ca/ca.crt";
const CA_VOLUME: &str = "mlk-ca-bundle";
/// Where a CloudNativePG Cluster's `projectedVolumeTemplate` puts the
/// bundle, beneath the `/projected` its instances mount it at.
const CNPG_CA_PATH: &str = "mlk-ca/ca.crt";
/// The variables each client reads a CA bundle from: OpenSSL (and
/// Python's ssl), requests, boto3 and curl.
const CA_VARS: [&str; 4] = [
    "SSL_CERT_FILE",
    "REQUESTS_CA_BUNDLE",
    "AWS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
];

/// What every container gets, and the spec field each variable comes
/// from (for an error that says where).
struct Additions {
    env: Vec<(EnvVar, String)>,
    ca: Option<Volume>,
}

pub fn apply(docs: &mut [Document], spec: &PlatformSpec) -> Result<(), Located> {
    let domain = spec.metadata.cluster_domain.as_str();
    // The models with settings of their own, looked up by name once.
    let models: BTreeMap<&str, (usize, &Pods)> = spec
        .serving
        .models
        .iter()
        .enumerate()
        .filter(|(_, m)| sets_any(&m.pods))
        .map(|(i, m)| (m.name.as_str(), (i, &m.pods)))
        .collect();
    let db = &spec.database;
    let components = [
        Some(&spec.pods),
        Some(&spec.tracking.pods),
        Some(&spec.serving.pods),
        db.embedded.as_ref().map(|e| &e.pods),
        db.cloudnativepg.as_ref().map(|c| &c.pods),
        spec.artifacts.embedded.as_ref().map(|a| &a.pods),
    ];
    if models.is_empty() && !components.into_iter().flatten().any(sets_any) {
        return Ok(());
    }
    for doc in docs.iter_mut() {
        let add = additions(&blocks_of(doc, spec, &models), domain);
        if add.env.is_empty() && add.ca.is_none() {
            continue;
        }
        let id = format!("{}/{}", doc.kind(), doc.name());
        for_each_pod(doc, |pod| pod.add(&add, &id))?;
    }
    Ok(())
}

/// The `pods` blocks over `doc`'s pods, the top level first: its
/// component's, told by the labels mlk gives the objects of each
/// (`app.kubernetes.io/name` and `component`), and a model's own.
fn blocks_of<'a>(
    doc: &Document,
    spec: &'a PlatformSpec,
    models: &BTreeMap<&str, (usize, &'a Pods)>,
) -> Vec<(String, &'a Pods)> {
    let mut out = vec![("pods".to_owned(), &spec.pods)];
    if doc.kind() == "InferenceService" {
        out.push(("serving.pods".into(), &spec.serving.pods));
        if let Some((i, pods)) = models.get(doc.name()) {
            out.push((format!("serving.models[{i}].pods"), *pods));
        }
        return out;
    }
    let labels = &doc.value["metadata"]["labels"];
    let app = labels["app.kubernetes.io/name"]
        .as_str()
        .unwrap_or_default();
    let role = labels["app.kubernetes.io/component"]
        .as_str()
        .unwrap_or_default();
    let db = &spec.database;
    match (app, role) {
        ("mlflow", "tracking" | "gc") => out.push(("tracking.pods".into(), &spec.tracking.pods)),
        ("postgresql", _) => match (&db.external, &db.cloudnativepg, &db.embedded) {
            (None, Some(c), _) => out.push(("database.cloudnativepg.pods".into(), &c.pods)),
            (None, None, Some(e)) => out.push(("database.embedded.pods".into(), &e.pods)),
            _ => {}
        },
        // The store mlk runs: its servers and its Jobs.
        ("seaweedfs" | "minio", _) => {
            if let Some(a) = &spec.artifacts.embedded {
                out.push(("artifacts.embedded.pods".into(), &a.pods));
            }
        }
        _ => {}
    }
    out
}

fn sets_any(p: &Pods) -> bool {
    p.proxy.is_some() || p.ca_bundle.is_some() || p.env.is_some()
}

/// Each field from the most specific block that sets it.
fn additions(blocks: &[(String, &Pods)], domain: &str) -> Additions {
    let last = |set: fn(&Pods) -> bool| blocks.iter().rev().find(|(_, p)| set(p));
    let mut env = Vec::new();
    if let Some((at, p)) = last(|p| p.proxy.is_some()) {
        let proxy = p.proxy.as_ref().expect("found by it");
        env.extend(proxy_env(proxy, domain, &format!("{at}.proxy")));
    }
    let ca = last(|p| p.ca_bundle.is_some());
    if let Some((at, _)) = ca {
        for var in CA_VARS {
            env.push((plain(var, CA_FILE), format!("{at}.caBundle")));
        }
    }
    if let Some((at, p)) = last(|p| p.env.is_some()) {
        for (i, var) in p.env.iter().flatten().enumerate() {
            let e = EnvVar {
                name: var.name.to_string(),
                value: var.value.clone(),
                value_from: var.value_from.as_ref().map(|s| s.0.clone()),
            };
            env.push((e, format!("{at}.env[{i}].name")));
        }
    }
    let ca = ca.and_then(|(_, p)| p.ca_bundle.as_ref()).map(ca_volume);
    Additions { env, ca }
}

fn plain(name: &str, value: &str) -> EnvVar {
    EnvVar {
        name: name.to_owned(),
        value: Some(value.to_owned()),
        value_from: None,
    }
}

/// Both spellings of each variable: curl and Go read the lower case,
/// Python both.
fn proxy_env(proxy: &Proxy, domain: &str, at: &str) -> Vec<(EnvVar, String)> {
    let mut out = Vec::new();
    for (var, url) in [("HTTP_PROXY", &proxy.http), ("HTTPS_PROXY", &proxy.https)] {
        let Some(url) = url else { continue };
        for name in [var.to_owned(), var.to_lowercase()] {
            let e = match url {
                ProxyUrl::Url(u) => plain(&name, u.as_str()),
                ProxyUrl::Secret(k) => EnvVar {
                    name,
                    value: None,
                    value_from: Some(EnvVarSource {
                        secret_key_ref: Some(SecretKeySelector {
                            name: k.name.to_string(),
                            key: k.key.clone(),
                            optional: None,
                        }),
                        ..EnvVarSource::default()
                    }),
                },
            };
            out.push((e, at.to_owned()));
        }
    }
    let no_proxy = proxy.no_proxy(domain);
    for name in ["NO_PROXY", "no_proxy"] {
        out.push((plain(name, &no_proxy), at.to_owned()));
    }
    out
}

fn ca_volume(ca: &CaBundle) -> Volume {
    let items = |key: &str| {
        Some(vec![KeyToPath {
            key: key.to_owned(),
            path: "ca.crt".into(),
            ..KeyToPath::default()
        }])
    };
    let mut v = Volume {
        name: CA_VOLUME.into(),
        ..Volume::default()
    };
    match (&ca.config_map, &ca.secret) {
        (Some(k), _) => {
            v.config_map = Some(ConfigMapVolumeSource {
                name: k.name.to_string(),
                items: items(&k.key),
                ..ConfigMapVolumeSource::default()
            });
        }
        (None, Some(k)) => {
            v.secret = Some(SecretVolumeSource {
                secret_name: Some(k.name.to_string()),
                items: items(&k.key),
                ..SecretVolumeSource::default()
            });
        }
        // Refused when the spec was resolved.
        (None, None) => {}
    }
    v
}

fn ca_mount() -> VolumeMount {
    VolumeMount {
        name: CA_VOLUME.into(),
        mount_path: CA_DIR.into(),
        read_only: Some(true),
        ..VolumeMount::default()
    }
}

impl PodMut<'_> {
    fn add(self, add: &Additions, id: &str) -> Result<(), Located> {
        match self {
            PodMut::Spec(spec) => {
                for list in ["initContainers", "containers"] {
                    for c in seq_mut(spec, list) {
                        container(c, add, id)?;
                    }
                }
                push_volume(spec, add);
            }
            PodMut::Component(p) => {
                for field in pods::KSERVE_CONTAINERS {
                    if let Some(c) = p.get_mut(field).filter(|c| c.is_mapping()) {
                        container(c, add, id)?;
                    }
                }
                for c in seq_mut(p, "containers") {
                    container(c, add, id)?;
                }
                push_volume(p, add);
            }
            PodMut::Cluster(spec) => {
                let mut env = add.env.clone();
                if let Some(v) = &add.ca {
                    // CloudNativePG mounts these under /projected.
                    let file = format!("/projected/{CNPG_CA_PATH}");
                    for (e, _) in env
                        .iter_mut()
                        .filter(|(e, _)| CA_VARS.contains(&e.name.as_str()))
                    {
                        e.value = Some(file.clone());
                    }
                    project(spec, v);
                }
                add_env(spec, &env, &format!("{id}: spec.env"))?;
            }
        }
        Ok(())
    }
}

fn container(c: &mut Value, add: &Additions, id: &str) -> Result<(), Located> {
    let name = c["name"].as_str().unwrap_or("model").to_owned();
    add_env(c, &add.env, &format!("{id}: container {name}"))?;
    if add.ca.is_some() {
        push_to(c, "volumeMounts", to_value(&ca_mount()).expect("a mount"));
    }
    Ok(())
}

/// Adds `env` to the list at `v.env`, refusing a name already there:
/// mlk's own settings are never overridden behind its back.
fn add_env(v: &mut Value, env: &[(EnvVar, String)], whose: &str) -> Result<(), Located> {
    let taken: BTreeSet<String> = v["env"]
        .as_sequence()
        .into_iter()
        .flatten()
        .filter_map(|e| e["name"].as_str().map(str::to_owned))
        .collect();
    for (e, field) in env {
        if taken.contains(&e.name) {
            return Err(Located::new(
                "spec",
                Some(field),
                format!(
                    "{} is set already in {whose}: mlk or another field sets it there; remove \
                     it from one of them",
                    e.name
                ),
            ));
        }
        push_to(v, "env", to_value(e).expect("an env var"));
    }
    Ok(())
}

fn push_volume(spec: &mut Value, add: &Additions) {
    if let Some(v) = &add.ca {
        push_to(spec, "volumes", to_value(v).expect("a volume"));
    }
}

/// The Secret's or ConfigMap's key as `/projected/CNPG_CA_PATH`.
fn project(spec: &mut Value, v: &Volume) {
    let mut source = serde_json::Map::new();
    if let Some(c) = &v.config_map {
        source.insert("configMap".into(), serde_json::to_value(c).expect("json"));
    }
    if let Some(s) = &v.secret {
        let mut s = serde_json::to_value(s).expect("json");
        // A projection names its Secret `name`, not `secretName`.
        if let Some(m) = s.as_object_mut()
            && let Some(n) = m.remove("secretName")
        {
            m.insert("name".into(), n);
        }
        source.insert("secret".into(), s);
    }
    for (_, item) in source.iter_mut() {
        if let Some(items) = item["items"].as_array_mut() {
            for i in items {
                i["path"] = CNPG_CA_PATH.into();
            }
        }
    }
    let template = spec.as_mapping_mut().map(|m| {
        if m.get("projectedVolumeTemplate").is_none() {
            m.insert(
                "projectedVolumeTemplate".into(),
                Value::Mapping(Default::default()),
            );
        }
        m.get_mut("projectedVolumeTemplate").expect("just made")
    });
    if let Some(t) = template {
        push_to(t, "sources", to_value(&source).expect("a source"));
    }
}
