//! `mlk diff` on a new StorageClass: a claim's class cannot change, so
//! the data must move, and the steps say how, in order; the generic
//! "recreate the StatefulSet around its claims" advice, which would leave
//! the data on the old class, is not given.

mod common;
use common::mlk;

fn render(args: &[&str]) -> String {
    let mut all = vec!["render"];
    all.extend_from_slice(args);
    mlk(&all).key().run().ok().stdout
}

fn diff(old: &str, new: &str) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("old.yaml"), dir.path().join("new.yaml"));
    std::fs::write(&a, old).unwrap();
    std::fs::write(&b, new).unwrap();
    let run = mlk(&["diff", a.to_str().unwrap(), b.to_str().unwrap()]).run();
    (run.code, run.stdout)
}

fn in_order(out: &str, steps: &[&str]) {
    let at: Vec<usize> = steps
        .iter()
        .map(|s| out.find(s).unwrap_or_else(|| panic!("no {s:?} in:\n{out}")))
        .collect();
    assert!(
        at.windows(2).all(|w| w[0] < w[1]),
        "{steps:?} out of order:\n{out}"
    );
}

#[test]
fn a_statefulsets_new_class_moves_the_data() {
    let old = render(&[]);
    let new = render(&["--set", "database.embedded.storage.className=fast-ssd"]);
    let (code, out) = diff(&old, &new);
    assert_eq!(code, 3, "{out}");
    assert!(
        out.contains("moves from StorageClass the cluster's default to fast-ssd"),
        "{out}"
    );
    in_order(
        &out,
        &[
            "scale what writes to it to 0",
            "copy the data out",
            "delete statefulset mlflow-postgres",
            "delete pvc data-mlflow-postgres-0",
            "apply: new, empty claims on fast-ssd",
            "copy the data back",
        ],
    );
    assert!(!out.contains("volumeClaimTemplates cannot change"), "{out}");
}

#[test]
fn a_clusters_new_class_replaces_its_instances() {
    let old = render(&["--profile", "ha"]);
    let new = render(&[
        "--profile",
        "ha",
        "--set",
        "database.cloudnativepg.storage.className=fast-ssd",
    ]);
    let (code, out) = diff(&old, &new);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("only new ones get fast-ssd"), "{out}");
    in_order(
        &out,
        &[
            "kubectl cnpg backup",
            "kubectl cnpg destroy",
            "kubectl cnpg promote",
        ],
    );
}
