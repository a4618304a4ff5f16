//! Mutation test: take the full rendered platform and break each document
//! in three ways: rename a field, change a value's type, delete a required
//! field. Validation must catch every single mutation.

mod common;
use common::mlk;

use mlk::manifest::Value;
use mlk::manifest::{Document, parse_stream};
use mlk::validate::{Catalog, External, Level, validate};

/// Maps whose keys are data, not field names: renaming a key there is no
/// error.
const FREE_MAPS: [&str; 10] = [
    "labels",
    "annotations",
    "data",
    "stringData",
    "selector",
    "matchLabels",
    "requests",
    "limits",
    "nodeSelector",
    // CloudNativePG's PostgreSQL settings: any of the server's names.
    "parameters",
];

/// A required field per kind, and the path to it.
const REQUIRED: [(&str, &[&str]); 15] = [
    ("Namespace", &["metadata", "name"]),
    ("Secret", &["metadata", "name"]),
    ("ServiceAccount", &["metadata", "name"]),
    ("Service", &["spec", "ports", "0", "port"]),
    ("Deployment", &["spec", "selector"]),
    (
        "StatefulSet",
        &["spec", "template", "spec", "containers", "0", "name"],
    ),
    ("Job", &["spec", "template", "spec", "containers"]),
    (
        "Ingress",
        &["spec", "rules", "0", "http", "paths", "0", "pathType"],
    ),
    ("NetworkPolicy", &["metadata", "name"]),
    ("PodDisruptionBudget", &["metadata", "name"]),
    ("HorizontalPodAutoscaler", &["spec", "maxReplicas"]),
    ("Cluster", &["spec", "instances"]),
    ("ScheduledBackup", &["spec", "schedule"]),
    ("Database", &["spec", "owner"]),
    ("ConfigMap", &["metadata", "name"]),
];

const INGRESS: [&str; 4] = [
    "--set",
    "ingress={enabled: true, host: mlflow.example.com, tls: {secretName: mlflow-tls}}",
    "--set",
    "ingress.auth.users=[{name: alice, password: {value: s3cret-pass}}]",
];

fn rendered(args: &[&str]) -> Vec<Document> {
    let all = [&["render"][..], args, &INGRESS].concat();
    let run = mlk(&all).key().run().ok();
    parse_stream(&run.stdout, "rendered").expect("rendered YAML")
}

/// Paths (keys and indexes) to every node, with whether its parent is a
/// free map.
fn paths(v: &Value, at: Vec<String>, free: bool, out: &mut Vec<(Vec<String>, bool)>) {
    match v {
        Value::Mapping(m) => {
            for (k, child) in m {
                let k = k.as_str().unwrap().to_owned();
                let mut p = at.clone();
                p.push(k.clone());
                out.push((p.clone(), free));
                paths(child, p, FREE_MAPS.contains(&k.as_str()), out);
            }
        }
        Value::Sequence(s) => {
            for (i, child) in s.iter().enumerate() {
                let mut p = at.clone();
                p.push(i.to_string());
                paths(child, p, false, out);
            }
        }
        _ => {}
    }
}

fn parent_mut<'a>(v: &'a mut Value, path: &[String]) -> &'a mut Value {
    path[..path.len() - 1].iter().fold(v, |v, k| match v {
        Value::Sequence(s) => &mut s[k.parse::<usize>().unwrap()],
        v => &mut v[k.as_str()],
    })
}

fn rename(doc: &mut Value, path: &[String]) {
    let key = path.last().unwrap();
    let m = parent_mut(doc, path).as_mapping_mut().unwrap();
    let v = m.remove(key.as_str()).unwrap();
    m.insert(format!("{key}x").into(), v);
}

fn get<'a>(v: &'a Value, path: &[String]) -> &'a Value {
    path.iter().fold(v, |v, k| match v {
        Value::Sequence(s) => &s[k.parse::<usize>().unwrap()],
        v => &v[k.as_str()],
    })
}

fn retype(doc: &mut Value, path: &[String]) {
    let key = path.last().unwrap();
    let m = parent_mut(doc, path).as_mapping_mut().unwrap();
    let old = m.get(key.as_str()).unwrap().clone();
    m.insert(key.as_str().into(), Value::Sequence(vec![old]));
}

fn delete(doc: &mut Value, path: &[String]) {
    let key = path.last().unwrap();
    parent_mut(doc, path)
        .as_mapping_mut()
        .unwrap()
        .remove(key.as_str())
        .expect("the required field is rendered");
}

#[test]
fn every_mutation_of_the_rendered_platform_is_caught() {
    mutations_are_caught(&rendered(&[]));
}

/// NetworkPolicies, budgets, the autoscaler and CloudNativePG's kinds.
#[test]
fn every_mutation_of_the_ha_platform_is_caught() {
    let backups = [
        "--profile",
        "ha",
        "--set",
        "database.cloudnativepg.backup={}",
    ];
    mutations_are_caught(&rendered(&backups));
}

fn mutations_are_caught(docs: &[Document]) {
    let docs = docs.to_vec();
    let catalog = Catalog::builtin();
    let external = External::default();
    assert!(
        validate(&docs, &catalog, &external, Level::Restricted)
            .problems
            .is_empty()
    );
    let caught = |mutated: Vec<Document>| {
        !validate(&mutated, &catalog, &external, Level::Restricted)
            .problems
            .is_empty()
    };

    let (mut tried, mut missed) = ([0usize; 3], Vec::new());
    for (i, doc) in docs.iter().enumerate() {
        let mut all = Vec::new();
        paths(&doc.value, vec![], false, &mut all);
        let mut mutate =
            |which: usize, name: &str, path: &[String], f: fn(&mut Value, &[String])| {
                let mut copy = docs.clone();
                f(&mut copy[i].value, path);
                tried[which] += 1;
                if !caught(copy) {
                    missed.push(format!("{}: {name} {}", doc.id(), path.join(".")));
                }
            };
        for (path, free) in &all {
            if !free && path.len() > 1 {
                mutate(0, "rename", path, rename);
            }
            if !get(&doc.value, path).is_mapping() && !get(&doc.value, path).is_sequence() {
                mutate(1, "retype", path, retype);
            }
        }
        let (_, req) = REQUIRED
            .iter()
            .find(|(k, _)| *k == doc.kind())
            .unwrap_or_else(|| panic!("no required field listed for {}", doc.kind()));
        let req: Vec<String> = req.iter().map(|s| s.to_string()).collect();
        mutate(2, "delete", &req, delete);
    }
    let total: usize = tried.iter().sum();
    println!(
        "mutations caught: {}/{total} ({} renamed fields, {} changed types, {} deleted required fields, over {} documents)",
        total - missed.len(),
        tried[0],
        tried[1],
        tried[2],
        docs.len()
    );
    assert!(missed.is_empty(), "not caught:\n{}", missed.join("\n"));
    assert_eq!(tried[2], docs.len());
}
