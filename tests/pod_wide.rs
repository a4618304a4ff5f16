//! `pods.proxy`, `pods.caBundle` and `pods.env` reach every container of
//! every pod the platform runs, whichever template or builder wrote it.

mod common;
use std::collections::BTreeMap;

use common::rendered;
use serde_yaml::Value;

const SPEC: &str = "\
apiVersion: mlk/v1alpha1
kind: Platform
profile: ha
pods:
  proxy:
    http: http://proxy.corp.example:3128
    https: {existingSecret: {name: corp-proxy, key: url}}
    noProxy: [.corp.example]
  caBundle: {configMap: {name: corp-ca, key: ca.pem}}
  env:
    - {name: TZ, value: Europe/Berlin}
tracking:
  gc: {}
serving:
  models:
    - {name: fraud, registeredModel: fraud, storageUri: 's3://mlflow/5/models/m-fraud/artifacts'}
";

const VARS: [&str; 11] = [
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "NO_PROXY",
    "no_proxy",
    "SSL_CERT_FILE",
    "REQUESTS_CA_BUNDLE",
    "AWS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "TZ",
];

fn seq(v: &Value) -> Vec<Value> {
    v.as_sequence().cloned().unwrap_or_default()
}

/// Each pod's spec and its containers, by `Kind/name`.
fn pods(docs: &[Value]) -> BTreeMap<String, (Value, Vec<Value>)> {
    let mut out = BTreeMap::new();
    for d in docs {
        let kind = d["kind"].as_str().unwrap_or_default();
        let spec = match kind {
            "Deployment" | "StatefulSet" | "Job" => d["spec"]["template"]["spec"].clone(),
            "CronJob" => d["spec"]["jobTemplate"]["spec"]["template"]["spec"].clone(),
            "InferenceService" => d["spec"]["predictor"].clone(),
            _ => continue,
        };
        let mut containers = seq(&spec["initContainers"]);
        containers.extend(seq(&spec["containers"]));
        if kind == "InferenceService" {
            containers.push(spec["model"].clone());
        }
        let id = format!("{kind}/{}", d["metadata"]["name"].as_str().unwrap());
        out.insert(id, (spec, containers));
    }
    out
}

fn env_names(v: &Value) -> Vec<String> {
    seq(&v["env"])
        .iter()
        .map(|e| e["name"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn every_container_of_every_pod_gets_them() {
    let docs = rendered(SPEC);
    let pods = pods(&docs);
    // The whole ha platform: SeaweedFS's cluster and its Jobs, the
    // tracking server, gc, a predictor.
    assert!(pods.len() >= 8, "{:?}", pods.keys());
    for (id, (spec, containers)) in &pods {
        let volume = seq(&spec["volumes"])
            .into_iter()
            .find(|v| v["name"] == "mlk-ca-bundle")
            .unwrap_or_else(|| panic!("{id}: no CA volume"));
        assert_eq!(volume["configMap"]["name"], "corp-ca");
        for c in containers {
            let names = env_names(c);
            for var in VARS {
                assert!(
                    names.contains(&var.to_owned()),
                    "{id} {:?}: no {var}",
                    c["name"]
                );
            }
            let mounted = seq(&c["volumeMounts"])
                .iter()
                .any(|m| m["name"] == "mlk-ca-bundle" && m["readOnly"] == true);
            assert!(mounted, "{id} {:?}: the CA is not mounted", c["name"]);
        }
    }
    // CloudNativePG's instances, through the Cluster's own fields.
    let cluster = docs.iter().find(|d| d["kind"] == "Cluster").unwrap();
    let names = env_names(&cluster["spec"]);
    assert!(VARS.iter().all(|v| names.contains(&v.to_string())));
    let env = seq(&cluster["spec"]["env"]);
    let ca = env.iter().find(|e| e["name"] == "SSL_CERT_FILE").unwrap();
    assert_eq!(ca["value"], "/projected/mlk-ca/ca.crt");
    let source = &cluster["spec"]["projectedVolumeTemplate"]["sources"][0]["configMap"];
    assert_eq!(source["items"][0]["path"], "mlk-ca/ca.crt");
}

/// Every string a container is given: its command, args and env values,
/// but for the names it answers to (Host patterns), which name no address.
fn strings(c: &Value, out: &mut Vec<String>) {
    for list in ["command", "args"] {
        out.extend(
            seq(&c[list])
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned)),
        );
    }
    out.extend(
        seq(&c["env"])
            .iter()
            .filter(|e| {
                !["NO_PROXY", "no_proxy", "MLFLOW_SERVER_ALLOWED_HOSTS"]
                    .contains(&e["name"].as_str().unwrap_or_default())
            })
            .filter_map(|e| e["value"].as_str().map(str::to_owned)),
    );
}

#[test]
fn in_cluster_names_bypass_the_proxy() {
    let docs = rendered(SPEC);
    let pods = pods(&docs);
    let mlflow = pods["Deployment/mlflow-tracking"]
        .1
        .iter()
        .find(|c| c["name"] == "mlflow")
        .cloned()
        .unwrap();
    let env = seq(&mlflow["env"]);
    let no_proxy = env.iter().find(|e| e["name"] == "NO_PROXY").unwrap()["value"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        no_proxy,
        "localhost,127.0.0.1,::1,.svc,$(KUBERNETES_SERVICE_HOST),169.254.169.254,\
         169.254.169.252,169.254.170.23,metadata.google.internal,.cluster.local,.corp.example"
    );
    // Every in-cluster address mlk writes is a full name, which
    // `.cluster.local` covers: no Service is named short anywhere.
    let mut services: Vec<String> = docs
        .iter()
        .filter(|d| d["kind"] == "Service")
        .map(|d| d["metadata"]["name"].as_str().unwrap().to_owned())
        .collect();
    services.push("mlflow-postgres-rw".into());
    let mut given = Vec::new();
    for (_, containers) in pods.values() {
        for c in containers {
            strings(c, &mut given);
        }
    }
    let mut full = 0;
    for text in &given {
        for svc in &services {
            for (i, _) in text.match_indices(svc.as_str()) {
                let rest = &text[i + svc.len()..];
                let before = text[..i].chars().last();
                // A longer name (`mlflow-seaweedfs-hl`) is another Service.
                if before.is_some_and(|b| b.is_ascii_alphanumeric() || b == '-' || b == '.')
                    || rest.starts_with('-')
                {
                    continue;
                }
                assert!(
                    rest.starts_with(".mlflow.svc.cluster.local"),
                    "{svc} is named short in {text:?}"
                );
                full += 1;
            }
        }
    }
    assert!(full > 5, "only {full} in-cluster addresses found");
    // The proxy with credentials comes from its Secret, never written out.
    let https = env.iter().find(|e| e["name"] == "HTTPS_PROXY").unwrap();
    assert_eq!(https["valueFrom"]["secretKeyRef"]["name"], "corp-proxy");
}

#[test]
fn kserve_s_storage_initializer_gets_the_bundle_its_own_way() {
    let docs = rendered(SPEC);
    let account = docs
        .iter()
        .find(|d| d["kind"] == "Secret" && d["metadata"]["name"] == "mlflow-serving-s3")
        .or_else(|| {
            docs.iter().find(|d| {
                d["kind"] == "ServiceAccount" && d["metadata"]["name"] == "mlflow-predictor"
            })
        })
        .unwrap();
    let a = &account["metadata"]["annotations"];
    assert_eq!(a["serving.kserve.io/s3-cabundle-configmap"], "corp-ca");
    assert_eq!(
        a["serving.kserve.io/s3-cabundle"],
        "/etc/ssl/custom-certs/ca.pem"
    );
}

#[test]
fn a_changed_proxy_makes_new_jobs() {
    // noProxy too: NO_PROXY is part of every container it reaches.
    let no_proxy = SPEC.replace("[.corp.example]", "[.corp.example, .corp.internal]");
    let jobs = |spec: &str| -> Vec<String> {
        rendered(spec)
            .iter()
            .filter(|d| d["kind"] == "Job")
            .map(|d| d["metadata"]["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let before = jobs(SPEC);
    let after = jobs(&SPEC.replace("proxy.corp.example:3128", "proxy.corp.example:8080"));
    assert!(!before.is_empty());
    for other in [after, jobs(&no_proxy)] {
        for name in &before {
            assert!(
                !other.contains(name),
                "{name}: a Job's template cannot change in place"
            );
        }
    }
}

/// A component's own proxy, CA bundle or env wins over the top level for
/// its pods only, as the rest of `pods` does; the others keep the top
/// level's.
#[test]
fn a_component_s_own_settings_win_for_its_pods_only() {
    let spec = SPEC.replace(
        "tracking:\n  gc: {}\n",
        "tracking:\n  gc: {}\n  pods:\n    proxy: {https: http://egress.corp.example:3128}\n    \
         env: [{name: TZ, value: UTC}]\nserving:\n  pods:\n    caBundle: {configMap: {name: \
         serving-ca, key: ca.pem}}\n",
    )
    .replacen("serving:\n  models:", "  models:", 1);
    let docs = rendered(&spec);
    let pods = pods(&docs);
    let env = |id: &str, var: &str| -> Vec<String> {
        pods[id]
            .1
            .iter()
            .map(|c| {
                let e = seq(&c["env"]).into_iter().find(|e| e["name"] == var);
                let e = e.unwrap_or_else(|| panic!("{id}: no {var}"));
                serde_yaml::to_string(&e).unwrap()
            })
            .collect()
    };
    for id in ["Deployment/mlflow-tracking", "CronJob/mlflow-gc"] {
        assert!(
            env(id, "HTTPS_PROXY")
                .iter()
                .all(|v| v.contains("egress.corp.example")),
            "{id}"
        );
        assert!(env(id, "TZ").iter().all(|v| v.contains("UTC")), "{id}");
        // Only https is the component's: no http proxy of the top level's.
        assert!(
            pods[id]
                .1
                .iter()
                .all(|c| !env_names(c).contains(&"HTTP_PROXY".into()))
        );
    }
    let filer = pods.keys().find(|k| k.contains("seaweedfs")).unwrap();
    assert!(
        env(filer, "HTTPS_PROXY")
            .iter()
            .all(|v| v.contains("corp-proxy")),
        "{filer}"
    );
    assert!(env(filer, "TZ").iter().all(|v| v.contains("Europe/Berlin")));
    let predictor = &pods["InferenceService/fraud"].0;
    let volume = seq(&predictor["volumes"])
        .into_iter()
        .find(|v| v["name"] == "mlk-ca-bundle");
    assert_eq!(volume.unwrap()["configMap"]["name"], "serving-ca");
    // KServe's storage initializer gets the predictors' bundle.
    let account = docs
        .iter()
        .find(|d| d["kind"] == "Secret" && d["metadata"]["name"] == "mlflow-serving-s3")
        .unwrap();
    let a = &account["metadata"]["annotations"];
    assert_eq!(a["serving.kserve.io/s3-cabundle-configmap"], "serving-ca");
}

/// A Job's name covers its component's own settings too.
#[test]
fn a_store_s_own_proxy_makes_new_jobs() {
    let jobs = |spec: &str| -> Vec<String> {
        rendered(spec)
            .iter()
            .filter(|d| d["kind"] == "Job")
            .map(|d| d["metadata"]["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let own = |port: u16| {
        format!(
            "{SPEC}artifacts:\n  embedded:\n    pods:\n      proxy: {{https: http://store-egress:{port}}}\n"
        )
    };
    let (a, b) = (jobs(&own(3128)), jobs(&own(8080)));
    assert!(!a.is_empty());
    assert!(a.iter().all(|n| !b.contains(n)), "{a:?} {b:?}");
}

/// With NetworkPolicies on, every pod may reach the proxy on its port:
/// the written URL's, or `proxy.port` for a URL in a Secret, without
/// which mlk warns.
#[test]
fn the_network_policies_let_every_pod_reach_the_proxy() {
    let egress_ports = |docs: &[Value]| -> Vec<(String, bool)> {
        docs.iter()
            .filter(|d| d["kind"] == "NetworkPolicy")
            .filter(|d| {
                d["spec"]["podSelector"]["matchLabels"]
                    .as_mapping()
                    .is_some()
            })
            .map(|d| {
                let egress = serde_yaml::to_string(&d["spec"]["egress"]).unwrap();
                let name = d["metadata"]["name"].as_str().unwrap().to_owned();
                (name, egress.contains("port: 8443"))
            })
            .collect()
    };
    let spec = SPEC.replace(
        "noProxy: [.corp.example]",
        "noProxy: [.corp.example]\n    port: 8443",
    );
    let groups = egress_ports(&rendered(&spec));
    assert!(groups.len() >= 5, "{groups:?}");
    assert!(groups.iter().all(|(_, open)| *open), "{groups:?}");
    // Without the port, the Secret's URL leaves it unknown: a warning.
    let run = common::mlk(&["render", "-f", "-"])
        .key()
        .stdin(SPEC)
        .run()
        .ok();
    assert!(
        run.stderr.contains("pods.proxy: its URL is in a Secret"),
        "{}",
        run.stderr
    );
}
