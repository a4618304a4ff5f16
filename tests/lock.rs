//! mlk.lock: `mlk resolve` writes what the registry named and says what
//! changed; a plain render serves exactly the lock, offline, and refuses
//! a spec that asks for something the lock does not hold.

mod common;
use common::fake_registry::{champion, registry};
use common::mlk;

const SPEC: &str = "apiVersion: mlk/v1alpha1\nkind: Platform\nserving:\n  models:\n    - name: churn\n      registeredModel: churn model\n      alias: champion\n    - name: wine\n      registeredModel: wine\n      version: 5\n";

fn resolve(dir: &std::path::Path, registry: &str) -> common::Run {
    mlk(&["resolve", "-f", "platform.yaml", "--lock", "mlk.lock"])
        .dir(dir)
        .env("MLFLOW_TRACKING_URI", registry)
        .run()
        .ok()
}

fn render(dir: &std::path::Path) -> common::Run {
    mlk(&["render", "-f", "platform.yaml"]).dir(dir).run()
}

#[test]
fn resolve_writes_the_lock_and_says_what_changed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("platform.yaml"), SPEC).unwrap();
    let first = resolve(d, &registry(champion::<3>));
    assert_eq!(
        first.stdout,
        "churn: champion 3 (new)\nwine: version 5 (new)\n"
    );
    let lock = std::fs::read_to_string(d.join("mlk.lock")).unwrap();
    assert!(lock.contains("alias: champion\n  version: 3\n"), "{lock}");
    assert!(
        lock.contains("storageUri: s3://mlflow/1/models/m-3/artifacts"),
        "{lock}"
    );
    assert!(lock.contains("runId: run3abc"), "{lock}");
    assert!(lock.contains("runId: winerun5"), "{lock}");

    let again = resolve(d, &registry(champion::<3>));
    assert_eq!(again.stdout, "", "nothing moved");
    let moved = resolve(d, &registry(champion::<4>));
    assert_eq!(moved.stdout, "churn: champion 3 → 4\n");
}

#[test]
fn a_plain_render_serves_the_lock_offline_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("platform.yaml"), SPEC).unwrap();
    let registry = registry(champion::<3>);
    let live = mlk(&["render", "-f", "platform.yaml", "--resolve"])
        .dir(d)
        .env("MLFLOW_TRACKING_URI", &registry)
        .run()
        .ok();
    assert!(
        d.join("mlk.lock").exists(),
        "--resolve writes the lock beside the spec"
    );
    let offline = render(d).ok();
    assert_eq!(offline.stdout, live.stdout);
    assert!(
        offline
            .stdout
            .contains("s3://mlflow/1/models/m-3/artifacts")
    );
}

#[test]
fn a_spec_asking_for_what_the_lock_lacks_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("platform.yaml"), SPEC).unwrap();
    resolve(d, &registry(champion::<3>));
    let lock_before = std::fs::read_to_string(d.join("mlk.lock")).unwrap();

    let other_alias = SPEC.replace("alias: champion", "alias: challenger");
    std::fs::write(d.join("platform.yaml"), other_alias).unwrap();
    let err = render(d).failed();
    assert!(
        err.stderr.contains(
            "serving.models[0].alias: model churn: mlk.lock holds champion, the spec asks for \
             challenger: run `mlk resolve` to update mlk.lock"
        ),
        "{}",
        err.stderr
    );

    let new_model =
        format!("{SPEC}    - name: iris\n      registeredModel: iris\n      version: 1\n");
    std::fs::write(d.join("platform.yaml"), new_model).unwrap();
    let err = render(d).failed();
    assert!(
        err.stderr
            .contains("serving.models[2].version: model iris: is not in mlk.lock"),
        "{}",
        err.stderr
    );

    // A resolve whose render fails leaves the lock as it was.
    std::fs::write(
        d.join("platform.yaml"),
        SPEC.replace("version: 5", "version: 5\n      replicas: 2"),
    )
    .unwrap();
    let registry = registry(champion::<4>);
    mlk(&["resolve", "-f", "platform.yaml"])
        .dir(d)
        .env("MLFLOW_TRACKING_URI", &registry)
        .run()
        .failed();
    assert_eq!(
        std::fs::read_to_string(d.join("mlk.lock")).unwrap(),
        lock_before
    );
}

#[test]
fn a_lock_from_an_untrusted_change_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("platform.yaml"), SPEC).unwrap();
    let hostile = "apiVersion: mlk/v1alpha1\nkind: Lock\nmodels:\n- name: churn\n  registeredModel: churn model\n  alias: champion\n  version: 3\n  storageUri: \"s3://b/x\\n  evil: 1\"\n";
    std::fs::write(d.join("mlk.lock"), hostile).unwrap();
    let err = render(d).failed();
    assert!(err.stderr.contains("mlk.lock"), "{}", err.stderr);
}
