//! Render + validate time of the default platform, and of one with 200
//! basic-auth users; and `mlk validate` of 8,000 Services with 8,000 Pods
//! (linear: the reference checks index names and labels). Run with
//! `cargo bench --bench render_validate`.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use mlk::layers::Inputs;
use mlk::pipeline::render_platform;
use mlk::validate::Catalog;

fn time<T>(runs: u32, mut f: impl FnMut() -> T) -> Duration {
    f(); // warm up
    let start = Instant::now();
    for _ in 0..runs {
        std::hint::black_box(f());
    }
    start.elapsed() / runs
}

fn many_users(n: usize) -> String {
    let mut spec = String::from(
        "apiVersion: mlk/v1alpha1\nkind: Platform\ningress:\n  enabled: true\n  \
         host: mlflow.example.com\n  auth:\n    cost: 6\n    users:\n",
    );
    for i in 0..n {
        spec.push_str(&format!(
            "      - {{name: user{i}, password: {{value: pass-{i}-0123456789}}}}\n"
        ));
    }
    spec
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

fn validate_stream(text: &str, catalog: &Catalog) -> usize {
    let docs = mlk::manifest::parse_stream(text, "input").unwrap();
    let level = mlk::validate::Level::Privileged;
    let report = mlk::validate::validate(&docs, catalog, &Default::default(), level);
    assert!(report.problems.is_empty(), "{:?}", report.problems.first());
    report.documents
}

fn main() {
    let vars = BTreeMap::from([("MLK_SECRET_KEY".to_owned(), "b".repeat(40))]);
    let catalog_build = time(20, Catalog::builtin);
    println!("schema catalog build:            {catalog_build:>10.2?}");
    let catalog = Catalog::builtin();
    let dir = std::env::temp_dir().join(format!("mlk-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let users = dir.join("users.yaml");
    std::fs::write(&users, many_users(200)).unwrap();
    let cases: [(&str, Option<&Path>, u32); 2] = [
        ("default platform", None, 50),
        ("200 users (bcrypt cost 6)", Some(&users), 3),
    ];
    for (name, file, runs) in cases {
        let inputs = Inputs {
            file,
            profile: Some("dev"),
            sets: &[],
        };
        let t = time(runs, || {
            render_platform(
                &inputs,
                vars.clone(),
                &catalog,
                &Default::default(),
                &Default::default(),
            )
            .unwrap()
        });
        println!("render + validate, {name:<26} {t:>10.2?}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
    for n in [1_000, 8_000] {
        let stream = services_and_pods(n);
        let t = time(3, || validate_stream(&stream, &catalog));
        println!("validate {n:>5} Services + {n:>5} Pods     {t:>10.2?}");
    }
}
