//! The pod-wide proxy, CA bundle and env: set once, at the top level,
//! and naming only what exists.

use crate::external::External;
use crate::located::Located;
use crate::spec::{PlatformSpec, ProxyUrl};

fn err(path: &str, msg: impl Into<String>) -> Located {
    Located::new("spec", Some(path), msg)
}

pub fn check(
    spec: &PlatformSpec,
    blocks: &[(String, &crate::spec::Pods)],
    existing: &mut External,
    warnings: &mut Vec<String>,
) -> Vec<Located> {
    let mut found = Vec::new();
    // A component's own would need every pod matched to its block after
    // rendering; one setting for all is what a proxy and a CA are.
    for (at, pods) in blocks.iter().filter(|(at, _)| at != "pods") {
        let set = [
            ("proxy", pods.proxy.is_some()),
            ("caBundle", pods.ca_bundle.is_some()),
            ("env", pods.env.is_some()),
        ];
        for (field, _) in set.iter().filter(|(_, on)| *on) {
            found.push(err(
                &format!("{at}.{field}"),
                format!("is set once for every pod: move it to the top-level pods.{field}"),
            ));
        }
    }
    let pods = &spec.pods;
    if let Some(proxy) = &pods.proxy {
        if proxy.http.is_none() && proxy.https.is_none() {
            found.push(err(
                "pods.proxy",
                "names no proxy: give http, https or both",
            ));
        }
        for url in [&proxy.http, &proxy.https].into_iter().flatten() {
            if let ProxyUrl::Secret(k) = url {
                existing.insert("Secret", k.name.as_str());
            }
        }
    }
    if let Some(ca) = &pods.ca_bundle {
        match (&ca.config_map, &ca.secret) {
            (Some(k), None) => existing.insert("ConfigMap", k.name.as_str()),
            (None, Some(k)) => {
                existing.insert("Secret", k.name.as_str());
                if !spec.serving.models.is_empty() {
                    warnings.push(
                        "pods.caBundle: KServe's storage initializer reads a CA bundle from a \
                         ConfigMap only, so it downloads models without this one: use \
                         caBundle.configMap, or KServe's own storageInitializer.caBundleConfigMapName"
                            .into(),
                    );
                }
            }
            _ => found.push(err(
                "pods.caBundle",
                "takes one of configMap: {name, key} or secret: {name, key}",
            )),
        }
    }
    if let Some(env) = &pods.env {
        found.extend(super::tracking::env_checks("pods.env", env, existing));
        let cloudnativepg =
            spec.database.external.is_none() && spec.database.cloudnativepg.is_some();
        for (i, var) in env.iter().enumerate().filter(|_| cloudnativepg) {
            if reserved_by_cloudnativepg(var.name.as_str()) {
                found.push(err(
                    &format!("pods.env[{i}].name"),
                    format!(
                        "{} is reserved by CloudNativePG for its instances, which get pods.env \
                         too (CNPG_*, PG*, POD_NAME, NAMESPACE and CLUSTER_NAME): its webhook \
                         would refuse the Cluster; name it otherwise",
                        var.name
                    ),
                ));
            }
        }
    }
    found
}

/// The names CloudNativePG's webhook refuses in a Cluster's `env`
/// (`IsReservedEnvironmentVariable`, pkg/postgres/environment.go).
fn reserved_by_cloudnativepg(name: &str) -> bool {
    let name = name.to_ascii_uppercase();
    name.starts_with("CNPG_")
        || name.starts_with("PG")
        || ["POD_NAME", "NAMESPACE", "CLUSTER_NAME"].contains(&name.as_str())
}
