//! The user's containers in mlk's pods: native sidecars first among the
//! init containers, the rest beside mlk's own, and mlk's own names are
//! the ones the spec is told it may not take.

mod common;
use std::collections::BTreeSet;

use common::{find, mlk};
use mlk::resolve::OWN_CONTAINERS;
use serde_yaml::Value;

const SPEC: &str = "\
apiVersion: mlk/v1alpha1
kind: Platform
tracking:
  gc: {}
  extraContainers:
    - name: shipper
      image: registry.corp.example/shipper:1
    - name: cloud-sql-proxy
      image: gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.14.1
      startsBeforeInit: true
      startupProbe: {tcpSocket: {port: 5432}, periodSeconds: 1, failureThreshold: 30}
database:
  embedded:
    backup:
      extraContainers:
        - name: mesh-proxy
          image: registry.corp.example/mesh:1
          startsBeforeInit: true
          startupProbe: {tcpSocket: {port: 15001}}
";

fn render(spec: &str) -> Vec<Value> {
    mlk(&["render", "-f", "-"]).stdin(spec).run().ok().docs()
}

fn pod_spec<'a>(docs: &'a [Value], kind: &str, name: &str) -> &'a Value {
    let doc = find(docs, kind, name);
    match kind {
        "CronJob" => &doc["spec"]["jobTemplate"]["spec"]["template"]["spec"],
        _ => &doc["spec"]["template"]["spec"],
    }
}

fn names(list: &Value) -> Vec<&str> {
    list.as_sequence()
        .into_iter()
        .flatten()
        .map(|c| c["name"].as_str().unwrap())
        .collect()
}

#[test]
fn a_native_sidecar_starts_before_every_init_step_and_keeps_running() {
    let docs = render(SPEC);
    let tracking = pod_spec(&docs, "Deployment", "mlflow-tracking");
    let init = names(&tracking["initContainers"]);
    assert_eq!(init[0], "cloud-sql-proxy");
    assert!(init.contains(&"db-upgrade"), "{init:?}");
    let proxy = &tracking["initContainers"][0];
    assert_eq!(proxy["restartPolicy"], "Always");
    assert_eq!(proxy["startupProbe"]["tcpSocket"]["port"], 5432);
    // Held to the restricted level like mlk's own.
    assert_eq!(proxy["securityContext"]["allowPrivilegeEscalation"], false);
    assert_eq!(names(&tracking["containers"]), ["mlflow", "shipper"]);
    assert!(tracking["containers"][1]["restartPolicy"].is_null());

    let backup = pod_spec(&docs, "CronJob", "mlflow-postgres-backup");
    assert_eq!(names(&backup["initContainers"])[0], "mesh-proxy");
    assert_eq!(backup["initContainers"][0]["restartPolicy"], "Always");
    // gc took none: its pod is as it was.
    let gc = pod_spec(&docs, "CronJob", "mlflow-gc");
    assert_eq!(names(&gc["initContainers"]), ["credential-files"]);
}

#[test]
fn without_a_startup_probe_the_spec_is_told_the_steps_will_not_wait() {
    let spec = SPEC.replace(
        "      startupProbe: {tcpSocket: {port: 5432}, periodSeconds: 1, failureThreshold: 30}\n",
        "",
    );
    let run = mlk(&["render", "-f", "-"]).stdin(&spec).run().ok();
    assert!(
        run.stderr
            .contains("tracking.extraContainers[1]: has no startupProbe"),
        "{}",
        run.stderr
    );
}

/// Every container of mlk's own in the pods that take the user's: the
/// names the spec may not take are exactly these.
#[test]
fn the_reserved_names_are_the_ones_mlk_renders() {
    let specs = [
        // The tracking server with a store to wait for, gc and backups.
        "apiVersion: mlk/v1alpha1\nkind: Platform\nprofile: prod\ntracking: {gc: {}}\n",
        // A copy from MinIO to wait for.
        "apiVersion: mlk/v1alpha1\nkind: Platform\nartifacts: {embedded: {migrateFrom: {engine: minio}}}\n",
    ];
    let mut seen = BTreeSet::new();
    for spec in specs {
        let docs = mlk(&["render", "-f", "-"])
            .stdin(spec)
            .key()
            .run()
            .ok()
            .docs();
        for (kind, name) in [
            ("Deployment", "mlflow-tracking"),
            ("CronJob", "mlflow-gc"),
            ("CronJob", "mlflow-postgres-backup"),
        ] {
            if !docs
                .iter()
                .any(|d| d["kind"] == kind && d["metadata"]["name"] == name)
            {
                continue;
            }
            let pod = pod_spec(&docs, kind, name);
            for list in ["initContainers", "containers"] {
                seen.extend(names(&pod[list]).into_iter().map(str::to_owned));
            }
        }
    }
    let reserved: BTreeSet<String> = OWN_CONTAINERS.iter().map(|s| s.to_string()).collect();
    assert_eq!(seen, reserved);
}
