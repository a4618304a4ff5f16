//! Every spec in docs/fit-your-cluster.md (each of its ```yaml blocks)
//! renders, in the dev and prod profiles, and its output passes
//! `mlk validate`.

mod common;
use common::mlk;

fn recipes() -> Vec<String> {
    let path = common::fixtures().join("../docs/fit-your-cluster.md");
    let doc = std::fs::read_to_string(path).unwrap();
    doc.split("```yaml\n")
        .skip(1)
        .map(|block| block.split("```").next().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn each_recipe_renders_and_validates() {
    let recipes = recipes();
    assert!(recipes.len() >= 4, "found {}", recipes.len());
    for (i, recipe) in recipes.iter().enumerate() {
        for profile in ["dev", "prod"] {
            let run = mlk(&["render", "-f", "-", "--profile", profile])
                .key()
                .stdin(recipe)
                .run();
            assert_eq!(
                run.code, 0,
                "recipe {i} ({profile}):\n{recipe}\n{}",
                run.stderr
            );
            // The Secrets the recipes name as existing.
            let exists = [
                "--exists",
                "Secret/corp-proxy",
                "--exists",
                "ConfigMap/corp-ca-bundle",
                "--exists",
                "Secret/rds-mlflow",
                "--exists",
                "ConfigMap/rds-ca-bundle",
                "--exists",
                "Secret/cloudsql-mlflow",
                "--exists",
                "ConfigMap/mlflow-settings",
                "--exists",
                "ConfigMap/mlflow-plugins",
            ];
            let args = [&["validate", "--strict", "-"][..], &exists].concat();
            let check = mlk(&args).stdin(&run.stdout).run();
            assert_eq!(check.code, 0, "recipe {i} ({profile}): {}", check.stdout);
        }
    }
}
