//! Capacity and day two: a rollout that drains, a database with room for
//! every client at its most, and the tracking server sized from what the
//! pinned MLflow was measured to use.

mod common;
use common::{env_value, find, mlk};

use serde_yaml::Value;

fn render(args: &[&str]) -> Vec<Value> {
    mlk(args).key().run().ok().docs()
}

/// A replica leaves without dropping a request: a preStop sleep while
/// its endpoint goes, then uvicorn finishes what is in flight within the
/// front door's timeout, all inside the grace period. (Proven live in the
/// e2e step "a rollout drains".)
#[test]
fn a_rollout_waits_for_requests_as_long_as_the_front_door_does() {
    let drain = |args: &[&str]| {
        let docs = render(args);
        let pod = find(&docs, "Deployment", "mlflow-tracking")["spec"]["template"]["spec"].clone();
        let server = &pod["containers"][0];
        let flag = server["args"]
            .as_sequence()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .find(|a| a.starts_with("--uvicorn-opts="))
            .map(str::to_owned);
        (
            pod["terminationGracePeriodSeconds"].as_u64(),
            server["lifecycle"]["preStop"]["sleep"]["seconds"].as_u64(),
            flag,
        )
    };
    assert_eq!(
        drain(&["render"]),
        (
            Some(615),
            Some(10),
            Some("--uvicorn-opts=--timeout-graceful-shutdown 600".into())
        )
    );
    let ingress = "ingress={enabled: true, host: mlflow.example.com, auth: {existingSecret: a}, \
                   readTimeoutSeconds: 120, sendTimeoutSeconds: 60}";
    assert_eq!(
        drain(&["render", "--set", ingress]),
        (
            Some(135),
            Some(10),
            Some("--uvicorn-opts=--timeout-graceful-shutdown 120".into())
        )
    );
}

/// The servers mlk runs have room for every client at its most, with
/// headroom; every MLflow process's pools are the size the budget counts.
#[test]
fn the_database_has_room_for_every_client_at_its_most() {
    // dev: (1 new + 1 draining + 1 surge) x 1 worker x 2 pools x 10 +
    // 2 x 2 migration steps + 10 = 74: PostgreSQL's default 100 stays.
    let dev = render(&["render"]);
    let pg =
        &find(&dev, "StatefulSet", "mlflow-postgres")["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(
        pg["args"],
        serde_yaml::from_str::<Value>("[-c, max_connections=100]").unwrap()
    );
    // ha: (2 x 6 + 1) x 2 x 2 x 10 = 520, + 14 migration, + 2 filers x
    // 20, + 10 = 584; x 1.25 = 730, in steps of 50: 750.
    let ha = render(&["render", "--profile", "ha"]);
    let cluster = find(&ha, "Cluster", "mlflow-postgres");
    assert_eq!(
        cluster["spec"]["postgresql"]["parameters"]["max_connections"],
        "750"
    );
    // The auth app's store is a third pool in every process, and a third
    // connection in each migration step; gc adds two.
    let more = render(&[
        "render",
        "--profile",
        "ha",
        "--set",
        "tracking.auth.enabled=true",
        "--set",
        "tracking.gc={schedule: '0 3 * * *'}",
    ]);
    let cluster = find(&more, "Cluster", "mlflow-postgres");
    // 13 x 2 x 3 x 10 = 780, + 7 x 3 + 20 + 40 + 10 = 871; x 1.25 =
    // 1088.75, in steps of 50: 1100.
    assert_eq!(
        cluster["spec"]["postgresql"]["parameters"]["max_connections"],
        "1100"
    );
    for (doc, container) in [("Deployment", "mlflow-tracking"), ("CronJob", "mlflow-gc")] {
        let d = find(&more, doc, container);
        let pod = match doc {
            "CronJob" => &d["spec"]["jobTemplate"]["spec"]["template"]["spec"],
            _ => &d["spec"]["template"]["spec"],
        };
        let c = &pod["containers"][0];
        assert_eq!(
            env_value(c, "MLFLOW_SQLALCHEMYSTORE_POOL_SIZE"),
            Some("5"),
            "{container}"
        );
        assert_eq!(
            env_value(c, "MLFLOW_SQLALCHEMYSTORE_MAX_OVERFLOW"),
            Some("5")
        );
    }
}

/// The sizing table in docs/traps.md ("Memory") is what mlk renders, for
/// each shape the measurement script measures.
#[test]
fn the_sizing_table_in_the_docs_is_what_mlk_renders() {
    let doc = std::fs::read_to_string(common::fixtures().join("../docs/traps.md")).unwrap();
    let rows: Vec<Vec<&str>> = doc
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("| ") && l.ends_with("Mi |"))
        .map(|l| l.trim_matches('|').split('|').map(str::trim).collect())
        .collect();
    assert_eq!(rows.len(), 6, "the table's rows");
    for row in rows {
        let on = |v: &str| (v == "on").to_string();
        let docs = render(&[
            "render",
            "--set",
            &format!("tracking.workers={}", row[0]),
            "--set",
            &format!("tracking.jobExecution={}", on(row[1])),
            "--set",
            &format!("tracking.aiGateway={}", on(row[2])),
        ]);
        let pod = &find(&docs, "Deployment", "mlflow-tracking")["spec"]["template"]["spec"];
        let r = &pod["containers"][0]["resources"];
        assert_eq!(r["requests"]["memory"], row[4], "{row:?}");
        assert_eq!(r["limits"]["memory"], row[5], "{row:?}");
        // The request covers what was measured.
        let mib = |s: &str| {
            s.trim_end_matches("Mi")
                .trim_end_matches(" MiB")
                .parse::<u32>()
                .unwrap()
        };
        assert!(mib(row[4]) >= mib(row[3]), "{row:?}");
    }
}
