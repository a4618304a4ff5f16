//! Flux (`gitops/flux/`), reading what CI wrote: a repository holding
//! `mlk render --output-dir deploy/mlflow` with `secrets/` kept out of git,
//! or the OCI artifact pushed from `--omit-secrets --output-dir out`. Each
//! Flux Kustomization's `path` is a folder kustomize builds, and what it
//! builds passes `mlk validate`.

mod common;
use common::kustomize::{check_layout, kinds, kustomize};
use common::mlk;

use serde_yaml::Value;
use std::path::Path;

/// The documents of a file in gitops/flux/.
fn flux(name: &str) -> Vec<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("gitops/flux")
        .join(name);
    let text = std::fs::read_to_string(path).unwrap();
    serde_yaml::Deserializer::from_str(&text)
        .map(|d| serde::Deserialize::deserialize(d).unwrap())
        .collect()
}

/// The Kustomization's folder, beneath `root` (where its source unpacks).
fn kustomization_path(docs: &[Value], name: &str, root: &Path) -> std::path::PathBuf {
    let k = docs
        .iter()
        .find(|d| d["kind"] == "Kustomization" && d["metadata"]["name"] == name)
        .unwrap();
    assert_eq!(k["apiVersion"], "kustomize.toolkit.fluxcd.io/v1");
    let source = &k["spec"]["sourceRef"];
    if let Some(own) = docs.iter().find(|d| d["kind"] == source["kind"]) {
        assert_eq!(own["metadata"]["name"], source["name"]);
        assert_eq!(own["apiVersion"], "source.toolkit.fluxcd.io/v1");
    }
    let path = k["spec"]["path"].as_str().unwrap();
    assert!(!path.contains(".."), "{path}");
    root.join(path)
}

/// What Flux applies from `folder`: kustomize's build where kubectl is
/// here, the files its kustomizations list otherwise.
fn built(folder: &Path) -> String {
    let listed = check_layout(folder).concat();
    match kustomize(folder) {
        Some(built) => {
            let built = built.unwrap();
            assert_eq!(kinds(&built), kinds(&listed));
            built
        }
        None => {
            eprintln!("kubectl not found: checked kustomize's layout rules only");
            listed
        }
    }
}

fn render(args: &[&str], out: &Path) {
    let mut all = vec![
        "render",
        "-f",
        "specs/external-secrets.yaml",
        "--profile",
        "prod",
    ];
    all.extend(args);
    all.extend(["--output-dir", out.to_str().unwrap()]);
    mlk(&all).key().run().ok();
}

/// No refs: a platform without its Secrets names Secrets it does not hold.
fn validates_alone(stream: &str) {
    mlk(&[
        "validate",
        "--strict",
        "--checks",
        "schema,yaml,pod-security",
        "-",
    ])
    .stdin(stream)
    .run()
    .ok();
}

#[test]
fn a_branch_ci_rendered_builds_without_its_secrets() {
    let repo = tempfile::tempdir().unwrap();
    let out = repo.path().join("deploy/mlflow");
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    // Inline secrets: `secrets/` then holds values, and stays out of git.
    mlk(&["render", "--output-dir", out.to_str().unwrap()])
        .key()
        .run()
        .ok();
    let secrets = kustomization_path(&flux("secrets-sops.yaml"), "mlflow-secrets", repo.path());
    assert!(kinds(&built(&secrets)).iter().all(|k| k == "Secret"));
    std::fs::remove_dir_all(&secrets).unwrap();

    let platform = kustomization_path(&flux("git.yaml"), "mlflow", repo.path());
    let stream = built(&platform);
    assert!(!kinds(&stream).contains(&"Secret".to_owned()));
    assert!(kinds(&stream).contains(&"Deployment".to_owned()));
    validates_alone(&stream);
}

#[test]
fn the_oci_artifact_is_the_platform_folder_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    render(&["--omit-secrets"], &out);
    // `flux push artifact --path=out/platform` makes that folder the root.
    let artifact = out.join("platform");
    let docs = flux("oci.yaml");
    assert!(
        docs[0]["spec"]["url"]
            .as_str()
            .unwrap()
            .starts_with("oci://")
    );
    let platform = kustomization_path(&docs, "mlflow", &artifact);
    let stream = built(&platform);
    assert!(kinds(&stream).contains(&"ExternalSecret".to_owned()));
    validates_alone(&stream);
    common::validates_strictly(&stream, &["Secret/mlflow-htpasswd"]);
}
