//! The ha profile's object store: a SeaweedFS cluster, as rendered.

mod common;
use common::{find, mlk};

use serde_yaml::Value;

/// The ha store: raft masters that name each other, volume servers one
/// per node, filers whose tree lives in a database of their own in the
/// CloudNativePG cluster, and gateways behind the one S3 Service.
#[test]
fn ha_runs_three_masters_and_two_of_each_front() {
    let docs = &mlk(&["render", "--profile", "ha"]).key().run().ok().docs();
    let arg = |c: &Value, flag: &str| -> String {
        let args = c["args"].as_sequence().unwrap();
        let hit = args
            .iter()
            .filter_map(Value::as_str)
            .find(|a| a.starts_with(flag));
        hit.unwrap_or_else(|| panic!("no {flag} in {args:?}"))[flag.len()..].to_string()
    };
    let fqdn = |kind: &str, i: usize| {
        format!("mlflow-seaweedfs-{kind}-{i}.mlflow-seaweedfs-{kind}.mlflow.svc.cluster.local")
    };
    let masters = find(docs, "StatefulSet", "mlflow-seaweedfs-master");
    assert_eq!(masters["spec"]["replicas"], 3);
    assert_eq!(masters["spec"]["podManagementPolicy"], "Parallel");
    let m = &masters["spec"]["template"]["spec"]["containers"][0];
    let peers: Vec<String> = (0..3)
        .map(|i| format!("{}:9333", fqdn("master", i)))
        .collect();
    assert_eq!(arg(m, "-peers="), peers.join(","));
    assert_eq!(
        arg(m, "-defaultReplication="),
        "010",
        "each file on two racks"
    );
    let volumes = find(docs, "StatefulSet", "mlflow-seaweedfs-volume");
    assert_eq!(volumes["spec"]["replicas"], 3);
    let v = &volumes["spec"]["template"]["spec"];
    assert_eq!(arg(&v["containers"][0], "-master="), peers.join(","));
    // Each volume server's rack is its node: two racks, two nodes.
    assert_eq!(arg(&v["containers"][0], "-rack="), "$(NODE_NAME)");
    let node = v["containers"][0]["env"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "NODE_NAME")
        .expect("NODE_NAME");
    assert_eq!(node["valueFrom"]["fieldRef"]["fieldPath"], "spec.nodeName");
    let spread = &v["topologySpreadConstraints"][0];
    assert_eq!(spread["topologyKey"], "kubernetes.io/hostname");
    assert_eq!(spread["whenUnsatisfiable"], "DoNotSchedule");
    let filers = find(docs, "StatefulSet", "mlflow-seaweedfs-filer");
    assert_eq!(filers["spec"]["replicas"], 2);
    let f = &filers["spec"]["template"]["spec"]["containers"][0];
    let password = f["env"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "WEED_POSTGRES2_PASSWORD")
        .expect("the filers' database password");
    let key = &password["valueFrom"]["secretKeyRef"];
    assert_eq!(key["name"], "mlflow-seaweedfs-filer-db");
    let role = find(docs, "Secret", "mlflow-seaweedfs-filer-db");
    assert_eq!(role["type"], "kubernetes.io/basic-auth");
    let cluster = find(docs, "Cluster", "mlflow-postgres");
    let managed = &cluster["spec"]["managed"]["roles"][0];
    assert_eq!(managed["name"], "seaweedfs");
    assert_eq!(
        managed["passwordSecret"]["name"],
        "mlflow-seaweedfs-filer-db"
    );
    let db = find(docs, "Database", "mlflow-postgres-seaweedfs");
    assert_eq!(db["spec"]["owner"], "seaweedfs");
    assert_eq!(db["spec"]["cluster"]["name"], "mlflow-postgres");
    let toml = find(docs, "ConfigMap", "mlflow-seaweedfs-filer");
    let toml = toml["data"]["filer.toml"].as_str().unwrap();
    assert!(
        toml.contains("hostname = \"mlflow-postgres-rw.mlflow.svc.cluster.local\""),
        "{toml}"
    );
    assert!(
        toml.contains("password = \"\""),
        "no password in a ConfigMap"
    );
    let gateways = find(docs, "Deployment", "mlflow-seaweedfs");
    assert_eq!(gateways["spec"]["replicas"], 2);
    let g = &gateways["spec"]["template"]["spec"]["containers"][0];
    let filer_list: Vec<String> = (0..2)
        .map(|i| format!("{}:8888", fqdn("filer", i)))
        .collect();
    assert_eq!(arg(g, "-filer="), filer_list.join(","));
    let service = find(docs, "Service", "mlflow-seaweedfs");
    assert_eq!(
        service["spec"]["selector"],
        gateways["spec"]["selector"]["matchLabels"]
    );
    for name in ["master", "volume", "filer"] {
        let headless = find(docs, "Service", &format!("mlflow-seaweedfs-{name}"));
        assert_eq!(headless["spec"]["clusterIP"], "None");
        assert_eq!(headless["spec"]["publishNotReadyAddresses"], true);
        let pdb = find(
            docs,
            "PodDisruptionBudget",
            &format!("mlflow-seaweedfs-{name}"),
        );
        assert_eq!(pdb["spec"]["maxUnavailable"], 1, "{name}");
    }
    find(docs, "PodDisruptionBudget", "mlflow-seaweedfs");
    assert!(
        !docs
            .iter()
            .any(|d| d["kind"] == "StatefulSet" && d["metadata"]["name"] == "mlflow-seaweedfs")
    );
}
