//! mlk's built-in knowledge of custom kinds agrees with the upstream CRDs
//! (ServiceMonitor, InferenceService, CloudNativePG Cluster, HTTPRoute): every field
//! it knows exists upstream with the same type, and the custom documents
//! it accepts pass the upstream schema.
//!
//! The CRDs are not part of this repository: they are read from
//! `$MLK_UPSTREAM_CRDS`, or `../shared/crds` beside the checkout. Without
//! either, these tests say so on stderr and check nothing.

mod common;
use common::mlk;

use mlk::validate::schema::Schema;
use mlk::validate::{Catalog, Source};
use std::path::PathBuf;

fn crd_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("MLK_UPSTREAM_CRDS")
        .map(PathBuf::from)
        .unwrap_or_else(|| common::fixtures().join("../../shared/crds"));
    if dir.is_dir() {
        return Some(dir);
    }
    eprintln!(
        "upstream CRDs not found at {}: nothing checked",
        dir.display()
    );
    None
}

fn crd_files(dir: &PathBuf) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    files
}

/// `mlk ARGS --crd F ...` with every upstream CRD loaded.
fn mlk_with_crds(args: &[&str], dir: &PathBuf) -> common::Mlk {
    let mut all: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    for f in crd_files(dir) {
        all.extend(["--crd".to_owned(), f.display().to_string()]);
    }
    mlk(&all.iter().map(String::as_str).collect::<Vec<_>>())
}

/// Every property mlk knows is declared upstream, with the same type.
fn is_subset(ours: &Schema, theirs: &Schema, catalog: &Catalog, path: &str, out: &mut Vec<String>) {
    let (o, t) = (ours.resolve(catalog.defs()), theirs.resolve(catalog.defs()));
    if o.ty.is_some() && t.ty.is_some() && o.ty != t.ty {
        out.push(format!("{path}: {:?} here, {:?} upstream", o.ty, t.ty));
    }
    if o.int_or_string != t.int_or_string {
        out.push(format!("{path}: int-or-string differs"));
    }
    for v in &o.enum_values {
        if !t.enum_values.is_empty() && !t.enum_values.contains(v) {
            out.push(format!("{path}: {v:?} is not an upstream enum value"));
        }
    }
    if ours.reference.is_some() {
        return; // a core type: checked by its own schema
    }
    for (k, child) in &o.properties {
        match t.properties.get(k) {
            Some(up) => is_subset(child, up, catalog, &format!("{path}.{k}"), out),
            None if t.open => {}
            None => out.push(format!("{path}.{k}: not declared upstream")),
        }
    }
    if let (Some(oi), Some(ti)) = (&o.items, &t.items) {
        is_subset(oi, ti, catalog, &format!("{path}[]"), out);
    }
}

#[test]
fn built_in_custom_kinds_are_a_subset_of_upstream() {
    let Some(dir) = crd_dir() else { return };
    let builtin = Catalog::builtin();
    let mut upstream = Catalog::builtin();
    for f in crd_files(&dir) {
        let text = std::fs::read_to_string(&f).unwrap();
        upstream.add_crds(&text, &f.display().to_string()).unwrap();
    }
    let mut compared = 0;
    let mut out = Vec::new();
    for (api, kind) in [
        ("monitoring.coreos.com/v1", "ServiceMonitor"),
        ("serving.kserve.io/v1beta1", "InferenceService"),
        ("postgresql.cnpg.io/v1", "Cluster"),
        ("gateway.networking.k8s.io/v1", "HTTPRoute"),
        ("external-secrets.io/v1", "ExternalSecret"),
    ] {
        let ours = builtin.lookup(api, kind).expect("built in");
        assert_eq!(ours.source, Source::Builtin);
        let theirs = upstream.lookup(api, kind).expect("upstream CRD loaded");
        assert!(matches!(theirs.source, Source::Crd(_)));
        is_subset(&ours.root, &theirs.root, &upstream, kind, &mut out);
        compared += 1;
    }
    assert!(out.is_empty(), "{}", out.join("\n"));
    assert_eq!(compared, 5);
}

#[test]
fn custom_documents_pass_both_built_in_and_upstream_schemas() {
    let Some(dir) = crd_dir() else { return };
    for file in [
        "fixtures/manifests/valid/inferenceservice.yaml",
        "fixtures/manifests/valid/web.yaml",
    ] {
        let ours = mlk(&["validate", "--strict", file]).run();
        assert_eq!(ours.code, 0, "{file}: {}", ours.stdout);
        let theirs = mlk_with_crds(&["validate", "--strict", file], &dir).run();
        assert_eq!(theirs.code, 0, "{file} upstream: {}", theirs.stdout);
    }
}

#[test]
fn upstream_schemas_catch_what_mlk_catches() {
    let Some(dir) = crd_dir() else { return };
    let bad = "apiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\nmetadata: {name: m}\n\
               spec: {predictor: {scaleMetric: latency, minReplica: 1}}\n";
    for run in [
        mlk(&["validate", "-"]).stdin(bad).run(),
        mlk_with_crds(&["validate", "-"], &dir).stdin(bad).run(),
    ] {
        assert_eq!(run.code, 1);
        assert!(
            run.stdout
                .contains("spec.predictor.scaleMetric: \"latency\" is not one of"),
            "{}",
            run.stdout
        );
        assert!(
            run.stdout
                .contains("spec.predictor.minReplica: unknown field"),
            "{}",
            run.stdout
        );
    }
}

#[test]
fn every_profile_renders_clean_against_upstream_crds() {
    let Some(dir) = crd_dir() else { return };
    for args in [
        &["--profile", "dev"][..],
        &["--profile", "prod"],
        &["--profile", "ha"],
        &[
            "--profile",
            "ha",
            "--set",
            "database.cloudnativepg.backup={}",
        ],
        &["-f", "specs/fit-cluster.yaml", "--profile", "dev"],
        &["-f", "specs/keyless.yaml", "--profile", "prod"],
        &[
            "-f",
            "specs/keyless.yaml",
            "--profile",
            "ha",
            "--set",
            "database.cloudnativepg.backup={bucket: corp-mlflow-backups}",
        ],
        &["-f", "specs/fit-cluster.yaml", "--profile", "prod"],
        &[
            "-f",
            "specs/fit-cluster.yaml",
            "--profile",
            "ha",
            "--set",
            "database.cloudnativepg.backup={}",
        ],
    ] {
        let profile = args.join(" ");
        let all = [&["render"][..], args].concat();
        let out = mlk_with_crds(&all, &dir).key().run().ok();
        assert!(!args.contains(&"ha") || out.stdout.contains("kind: Cluster"));
        // What specs/fit-cluster.yaml names as existing in the cluster.
        let exists = [
            "--exists",
            "Secret/corp-proxy",
            "--exists",
            "ConfigMap/corp-ca-bundle",
        ];
        let validate = [&["validate", "--strict", "-"][..], &exists].concat();
        let check = mlk(&validate).stdin(&out.stdout).run();
        assert_eq!(check.code, 0, "{profile}: {}", check.stdout);
    }
}

/// The ServiceMonitor and every InferenceService form, rendered with
/// the upstream CRDs loaded, then checked again as a user's stream.
#[test]
fn monitoring_and_serving_pass_upstream_crds() {
    let Some(dir) = crd_dir() else { return };
    let registry = common::fake_registry::registry(|request, _| {
        if request.contains("/registered-models/alias?") {
            return (200, r#"{"model_version": {"version": "2"}}"#.into());
        }
        (
            200,
            r#"{"artifact_uri": "mlflow-artifacts:/1/models/m-1/artifacts"}"#.into(),
        )
    });
    let specs = [
        "specs/monitoring.yaml",
        "specs/serving.yaml",
        "specs/gateway.yaml",
        "specs/gateway-and-ingress.yaml",
        "specs/auth.yaml",
        "specs/external-secrets.yaml",
    ];
    for spec in specs {
        let out = mlk_with_crds(&["render", "-f", spec, "--resolve"], &dir)
            .env("MLFLOW_TRACKING_URI", &registry)
            .env("MLFLOW_ADMIN_PASSWORD", "correct horse battery staple")
            .key()
            .run()
            .ok();
        let check = mlk_with_crds(&["validate", "--strict", "-"], &dir)
            .stdin(&out.stdout)
            .run();
        assert_eq!(check.code, 0, "{spec}: {}", check.stdout);
    }
}
