//! Every Pod Security check is proved both ways: one pod at the edge of
//! what its level allows passes, one that breaks it alone is refused at
//! the field the check names, at its level and not below.

mod common;
use common::mlk;
use mlk::gate::pod_security::{CHECKS, Level};

/// Every check but mlk's gate (`policy`), whose other rules (a disk
/// limit on each container) these pods, each at one check's edge, leave
/// aside.
const POD_CHECKS: &str = "--checks=schema,yaml,refs,pod-security";

fn fixture(kind: &str, id: &str) -> String {
    format!("fixtures/pod-security/{kind}/{id}.yaml")
}

#[test]
fn each_check_passes_its_edge_and_refuses_its_breach() {
    for check in &CHECKS {
        let pass = fixture("pass", check.id);
        let run = mlk(&[
            "validate",
            POD_CHECKS,
            "--pod-security",
            "restricted",
            &pass,
        ])
        .run();
        assert_eq!(run.code, 0, "{pass}: {}", run.stdout);

        let fail = fixture("fail", check.id);
        let text = std::fs::read_to_string(common::fixtures().join(&fail)).unwrap();
        let expect = text
            .lines()
            .next()
            .unwrap()
            .strip_prefix("# expect: ")
            .unwrap();
        let (path, _) = expect.split_once(" (").unwrap();
        let level = check.level.name();
        let run = mlk(&["validate", POD_CHECKS, "--pod-security", level, &fail]).run();
        assert_eq!(run.code, 1, "{fail} passed at {level}");
        // The fixture's one object starts on line 2, after its expectation.
        let want = format!("{fail}:2: Pod/ns/p: {path}: ");
        let line = run.stdout.lines().find(|l| l.starts_with(&want));
        assert!(
            line.is_some_and(|l| l.ends_with(&format!("(Pod Security \"{level}\")"))),
            "{fail}: want {want}... at {level}, got:\n{}",
            run.stdout
        );
        assert_eq!(
            run.stdout.lines().count(),
            1,
            "{fail}: more than its own breach"
        );
        // The levels are cumulative: restricted refuses it too, and
        // baseline lets a restricted-only breach through.
        let strict = mlk(&[
            "validate",
            POD_CHECKS,
            "--pod-security",
            "restricted",
            &fail,
        ])
        .run();
        assert_eq!(strict.code, 1, "{fail} at restricted");
        let at_baseline = mlk(&["validate", POD_CHECKS, "--pod-security", "baseline", &fail]).run();
        let refused_at_baseline = check.level == Level::Baseline;
        assert_eq!(
            at_baseline.code == 1,
            refused_at_baseline,
            "{fail} at baseline"
        );
    }
}

#[test]
fn every_fixture_belongs_to_a_check() {
    for kind in ["pass", "fail"] {
        let dir = common::fixtures().join("fixtures/pod-security").join(kind);
        for entry in std::fs::read_dir(dir).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            let id = name.strip_suffix(".yaml").unwrap();
            assert!(
                CHECKS.iter().any(|c| c.id == id),
                "{kind}/{name}: no such check"
            );
        }
    }
}

/// The visitor finds pods where CRDs keep them: a CloudNativePG Cluster
/// that runs PostgreSQL as root, and an InferenceService's transformer.
#[test]
fn pods_inside_custom_resources_are_checked() {
    let cluster = "apiVersion: postgresql.cnpg.io/v1\nkind: Cluster\nmetadata: {name: pg, namespace: ns}\nspec:\n  instances: 1\n  storage: {size: 1Gi}\n  postgresUID: 0\n";
    let run = mlk(&["validate", POD_CHECKS, "-"]).stdin(cluster).run();
    assert!(
        run.stdout
            .contains("Cluster/ns/pg: spec.podSecurityContext.runAsUser: must not be 0"),
        "{}",
        run.stdout
    );
    let isvc = "apiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\nmetadata: {name: m, namespace: ns}\nspec:\n  predictor:\n    securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}\n    model: {modelFormat: {name: mlflow}, protocolVersion: v2, storageUri: 's3://b/1/models/m-1/artifacts', securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}}\n  transformer:\n    hostNetwork: true\n    containers: [{name: t, image: 'r.example/t:1'}]\n";
    let run = mlk(&["validate", POD_CHECKS, "-"]).stdin(isvc).run();
    assert!(
        run.stdout
            .contains("InferenceService/ns/m: spec.transformer.hostNetwork: must not be true"),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains("spec.predictor"),
        "the predictor is restricted: {}",
        run.stdout
    );
}

/// AppArmor annotations count wherever the operator copies them onto the
/// pods: an InferenceService's own annotations, a Cluster's own and its
/// `inheritedMetadata`.
#[test]
fn annotations_that_reach_the_pods_are_checked() {
    let cases = [
        (
            "apiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\nmetadata:\n  name: m\n  namespace: ns\n  annotations: {container.apparmor.security.beta.kubernetes.io/kserve-container: unconfined}\nspec:\n  predictor:\n    securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}\n    model: {modelFormat: {name: mlflow}, securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}}\n",
            "InferenceService/ns/m: metadata.annotations[\"container.apparmor.security.beta.kubernetes.io/kserve-container\"]",
        ),
        (
            "apiVersion: postgresql.cnpg.io/v1\nkind: Cluster\nmetadata:\n  name: pg\n  namespace: ns\n  annotations: {container.apparmor.security.beta.kubernetes.io/postgres: unconfined}\nspec: {instances: 1, storage: {size: 1Gi}}\n",
            "Cluster/ns/pg: metadata.annotations[\"container.apparmor.security.beta.kubernetes.io/postgres\"]",
        ),
        (
            "apiVersion: postgresql.cnpg.io/v1\nkind: Cluster\nmetadata: {name: pg, namespace: ns}\nspec:\n  instances: 1\n  storage: {size: 1Gi}\n  inheritedMetadata:\n    annotations: {container.apparmor.security.beta.kubernetes.io/postgres: unconfined}\n",
            "Cluster/ns/pg: spec.inheritedMetadata.annotations[\"container.apparmor.security.beta.kubernetes.io/postgres\"]",
        ),
    ];
    for (stream, want) in cases {
        let run = mlk(&["validate", POD_CHECKS, "--pod-security", "baseline", "-"])
            .stdin(stream)
            .run();
        assert_eq!(run.code, 1, "{stream}");
        assert!(run.stdout.contains(want), "want {want}, got {}", run.stdout);
    }
}

/// A pod that says `runAsNonRoot: false` is refused even when every
/// container says true, as admission refuses it.
#[test]
fn a_pod_level_false_is_refused() {
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: ns}\nspec:\n  securityContext: {runAsNonRoot: false, seccompProfile: {type: RuntimeDefault}}\n  containers:\n  - name: app\n    image: registry.example/app:1\n    securityContext: {runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}\n";
    let run = mlk(&["validate", POD_CHECKS, "--pod-security", "restricted", "-"])
        .stdin(pod)
        .run();
    assert_eq!(run.code, 1);
    assert!(
        run.stdout
            .contains("Pod/ns/p: spec.securityContext.runAsNonRoot: must not be false"),
        "{}",
        run.stdout
    );
}
