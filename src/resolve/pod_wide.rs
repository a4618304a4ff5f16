//! The proxy, CA bundle and env of pods: at the top level or a
//! component's own `pods`, naming only what exists.

use crate::external::External;
use crate::located::Located;
use crate::spec::{PlatformSpec, Pods, ProxyUrl};

fn err(path: &str, msg: impl Into<String>) -> Located {
    Located::new("spec", Some(path), msg)
}

pub fn check(
    spec: &PlatformSpec,
    blocks: &[(String, &Pods)],
    existing: &mut External,
    warnings: &mut Vec<String>,
) -> Vec<Located> {
    let mut found = Vec::new();
    for (at, pods) in blocks {
        if at.starts_with("serving.models[") && pods.ca_bundle.is_some() {
            found.push(err(
                &format!("{at}.caBundle"),
                "is one for every model: KServe's storage initializer takes its bundle from \
                 the predictors' one ServiceAccount; set it in serving.pods.caBundle",
            ));
        }
        found.extend(proxy_checks(at, pods, existing));
        found.extend(ca_checks(at, pods, existing));
        if let Some(env) = &pods.env {
            let at = format!("{at}.env");
            found.extend(super::tracking::env_checks(&at, env, existing));
            if reaches_cloudnativepg(spec, &at) {
                found.extend(cloudnativepg_env_checks(&at, env));
            }
        }
    }
    warnings.extend(kserve_ca_warning(spec));
    if spec.network_policy.enabled {
        let unknown = blocks
            .iter()
            .filter(|(_, p)| p.proxy.as_ref().is_some_and(|x| x.port_unknown()));
        warnings.extend(unknown.map(|(at, _)| {
            format!(
                "{at}.proxy: its URL is in a Secret, so the NetworkPolicies cannot know its \
                 port and block the way to it: set {at}.proxy.port"
            )
        }));
    }
    found
}

/// Whether the env at `at` is the one CloudNativePG's instances get: the
/// Cluster's own block's, else the top level's.
fn reaches_cloudnativepg(spec: &PlatformSpec, at: &str) -> bool {
    let db = &spec.database;
    match (&db.external, &db.cloudnativepg) {
        (None, Some(c)) => {
            at == "database.cloudnativepg.pods.env" || (at == "pods.env" && c.pods.env.is_none())
        }
        _ => false,
    }
}

fn cloudnativepg_env_checks(at: &str, env: &[crate::spec::EnvVar]) -> Vec<Located> {
    env.iter()
        .enumerate()
        .filter(|(_, var)| reserved_by_cloudnativepg(var.name.as_str()))
        .map(|(i, var)| {
            err(
                &format!("{at}[{i}].name"),
                format!(
                    "{} is reserved by CloudNativePG for its instances, which get this env too \
                     (CNPG_*, PG*, POD_NAME, NAMESPACE and CLUSTER_NAME): its webhook would \
                     refuse the Cluster; name it otherwise",
                    var.name
                ),
            )
        })
        .collect()
}

/// The predictors' bundle as KServe's storage initializer gets it: from a
/// ConfigMap only.
fn kserve_ca_warning(spec: &PlatformSpec) -> Option<String> {
    let blocks = [("serving.pods", &spec.serving.pods), ("pods", &spec.pods)];
    let (at, ca) = blocks
        .iter()
        .find_map(|(at, p)| p.ca_bundle.as_ref().map(|c| (at, c)))?;
    (ca.config_map.is_none() && ca.secret.is_some() && !spec.serving.models.is_empty()).then(|| {
        format!(
            "{at}.caBundle: KServe's storage initializer reads a CA bundle from a ConfigMap \
             only, so it downloads models without this one: use caBundle.configMap, or \
             KServe's own storageInitializer.caBundleConfigMapName"
        )
    })
}

fn proxy_checks(at: &str, pods: &Pods, existing: &mut External) -> Vec<Located> {
    let Some(proxy) = &pods.proxy else {
        return Vec::new();
    };
    for url in [&proxy.http, &proxy.https].into_iter().flatten() {
        if let ProxyUrl::Secret(k) = url {
            existing.insert("Secret", k.name.as_str());
        }
    }
    match proxy.http.is_none() && proxy.https.is_none() {
        true => vec![err(
            &format!("{at}.proxy"),
            "names no proxy: give http, https or both",
        )],
        false => Vec::new(),
    }
}

fn ca_checks(at: &str, pods: &Pods, existing: &mut External) -> Vec<Located> {
    let Some(ca) = &pods.ca_bundle else {
        return Vec::new();
    };
    match (&ca.config_map, &ca.secret) {
        (Some(k), None) => existing.insert("ConfigMap", k.name.as_str()),
        (None, Some(k)) => existing.insert("Secret", k.name.as_str()),
        _ => {
            return vec![err(
                &format!("{at}.caBundle"),
                "takes one of configMap: {name, key} or secret: {name, key}",
            )];
        }
    }
    Vec::new()
}

/// The names CloudNativePG's webhook refuses in a Cluster's `env`
/// (`IsReservedEnvironmentVariable`, pkg/postgres/environment.go).
fn reserved_by_cloudnativepg(name: &str) -> bool {
    let name = name.to_ascii_uppercase();
    name.starts_with("CNPG_")
        || name.starts_with("PG")
        || ["POD_NAME", "NAMESPACE", "CLUSTER_NAME"].contains(&name.as_str())
}
