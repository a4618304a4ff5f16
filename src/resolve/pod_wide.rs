//! The proxy, CA bundle and env of pods: at the top level or a
//! component's own `pods`, naming only what exists.

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
    let cloudnativepg = spec.database.external.is_none() && spec.database.cloudnativepg.is_some();
    for (at, pods) in blocks {
        if at.starts_with("serving.models[") && pods.ca_bundle.is_some() {
            found.push(err(
                &format!("{at}.caBundle"),
                "is one for every model: KServe's storage initializer takes its bundle from \
                 the predictors' one ServiceAccount; set it in serving.pods.caBundle",
            ));
        }
        found.extend(proxy_checks(at, pods, existing));
        let serving = at == "pods" || at.starts_with("serving.");
        found.extend(ca_checks(
            at,
            pods,
            existing,
            warnings,
            serving && !spec.serving.models.is_empty(),
        ));
        if let Some(env) = &pods.env {
            let at = format!("{at}.env");
            found.extend(super::tracking::env_checks(&at, env, existing));
            // The instances get the top-level env, or their own.
            let reaches_cnpg = cloudnativepg
                && (at == "database.cloudnativepg.pods.env"
                    || (at == "pods.env"
                        && spec
                            .database
                            .cloudnativepg
                            .as_ref()
                            .is_some_and(|c| c.pods.env.is_none())));
            for (i, var) in env.iter().enumerate().filter(|_| reaches_cnpg) {
                if reserved_by_cloudnativepg(var.name.as_str()) {
                    found.push(err(
                        &format!("{at}[{i}].name"),
                        format!(
                            "{} is reserved by CloudNativePG for its instances, which get this \
                             env too (CNPG_*, PG*, POD_NAME, NAMESPACE and CLUSTER_NAME): its \
                             webhook would refuse the Cluster; name it otherwise",
                            var.name
                        ),
                    ));
                }
            }
        }
    }
    found
}

fn proxy_checks(at: &str, pods: &crate::spec::Pods, existing: &mut External) -> Vec<Located> {
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

/// `serving`: the block reaches predictors, whose storage initializer
/// KServe gives a ConfigMap's bundle only.
fn ca_checks(
    at: &str,
    pods: &crate::spec::Pods,
    existing: &mut External,
    warnings: &mut Vec<String>,
    serving: bool,
) -> Vec<Located> {
    let Some(ca) = &pods.ca_bundle else {
        return Vec::new();
    };
    match (&ca.config_map, &ca.secret) {
        (Some(k), None) => existing.insert("ConfigMap", k.name.as_str()),
        (None, Some(k)) => {
            existing.insert("Secret", k.name.as_str());
            if serving {
                warnings.push(format!(
                    "{at}.caBundle: KServe's storage initializer reads a CA bundle from a \
                     ConfigMap only, so it downloads models without this one: use \
                     caBundle.configMap, or KServe's own storageInitializer.caBundleConfigMapName"
                ));
            }
        }
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
