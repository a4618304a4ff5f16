//! `cargo bench`: the pipeline in-process, measured by divan.
//! - the default render (the schema catalog included, as a run builds it);
//! - `mlk validate` of the default's output;
//! - renders serving 10, 100, 1,000 and 10,000 models (pinned storageUris:
//!   no registry), which should grow linearly;
//! - 200 basic-auth users (nearly all of it bcrypt at cost 6);
//! - `mlk validate` of N Services with N Pods (the reference checks use an
//!   index built once, so this is linear too).
//!
//! Whole processes against `mlk --version`, the spawn floor, are measured
//! by scripts/bench-ratios.sh.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use divan::Bencher;
use mlk::layers::Inputs;
use mlk::manifest::Document;
use mlk::pipeline::render_platform;
use mlk::validate::{Catalog, Level};

fn main() {
    divan::main();
}

/// A spec file that lives as long as the benchmark.
struct SpecFile(PathBuf);

impl SpecFile {
    fn new(name: &str, text: &str) -> SpecFile {
        let dir = std::env::temp_dir().join(format!("mlk-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        SpecFile(path)
    }
}

impl Drop for SpecFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn render(file: Option<&Path>) -> Vec<Document> {
    let vars = BTreeMap::from([("MLK_SECRET_KEY".to_owned(), "b".repeat(40))]);
    let inputs = Inputs {
        file,
        profile: Some("dev"),
        sets: &[],
    };
    let catalog = Catalog::builtin();
    let (offline, no_grants) = (Default::default(), Default::default());
    render_platform(&inputs, vars, &catalog, &offline, &no_grants)
        .unwrap()
        .docs
}

fn validate(text: &str) -> usize {
    let docs = mlk::manifest::parse_stream(text, "input").unwrap();
    let catalog = Catalog::builtin();
    let report = mlk::validate::validate(&docs, &catalog, &Default::default(), Level::Privileged);
    assert!(report.problems.is_empty(), "{:?}", report.problems.first());
    report.documents
}

#[divan::bench]
fn render_default(b: Bencher) {
    b.bench(|| render(None));
}

#[divan::bench]
fn validate_default(b: Bencher) {
    let text = mlk::emit::to_yaml_stream(&render(None));
    b.bench(|| validate(&text));
}

fn models(n: usize) -> String {
    let mut spec = String::from("apiVersion: mlk/v1alpha1\nkind: Platform\nserving:\n  models:\n");
    for i in 0..n {
        spec.push_str(&format!(
            "    - {{name: m{i}, registeredModel: m{i}, \
             storageUri: \"s3://mlflow/1/models/m-{i}/artifacts\"}}\n"
        ));
    }
    spec
}

#[divan::bench(args = [10, 100, 1_000, 10_000], sample_count = 5, sample_size = 1)]
fn render_models(b: Bencher, n: usize) {
    let spec = SpecFile::new(&format!("models-{n}.yaml"), &models(n));
    b.bench(|| render(Some(&spec.0)));
}

#[divan::bench(sample_count = 3, sample_size = 1)]
fn render_200_users(b: Bencher) {
    let mut text = String::from(
        "apiVersion: mlk/v1alpha1\nkind: Platform\ningress:\n  enabled: true\n  \
         host: mlflow.example.com\n  auth:\n    cost: 6\n    users:\n",
    );
    for i in 0..200 {
        text.push_str(&format!(
            "      - {{name: user{i}, password: {{value: pass-{i}-0123456789}}}}\n"
        ));
    }
    let spec = SpecFile::new("users.yaml", &text);
    b.bench(|| render(Some(&spec.0)));
}

/// N Services, each selecting its own Pod by label and port.
fn services_and_pods(n: usize) -> String {
    let mut out = String::new();
    for i in 0..n {
        out.push_str(&format!(
            "apiVersion: v1\nkind: Service\nmetadata: {{name: s{i}, namespace: ns}}\nspec:\n  \
             selector: {{app: a{i}}}\n  ports: [{{port: 80, targetPort: web}}]\n---\n\
             apiVersion: v1\nkind: Pod\nmetadata: {{name: p{i}, namespace: ns, labels: {{app: a{i}}}}}\n\
             spec:\n  containers:\n  - name: c\n    image: nginx:1.27\n    \
             ports: [{{name: web, containerPort: 8080}}]\n---\n"
        ));
    }
    out
}

#[divan::bench(args = [1_000, 8_000], sample_count = 3, sample_size = 1)]
fn validate_services_and_pods(b: Bencher, n: usize) {
    let text = services_and_pods(n);
    b.bench(|| validate(&text));
}
