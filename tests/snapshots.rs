//! The rendered platform, as reviewers see it in a pull request. Each
//! snapshot is a claim about the output: read a diff before accepting it.

mod common;
use common::mlk;

#[test]
fn dev_profile_default() {
    let run = mlk(&["render"]).run().ok();
    snapshot!("dev", run.stdout);
}

#[test]
fn prod_profile() {
    let run = mlk(&["render", "--profile", "prod"]).key().run().ok();
    snapshot!("prod", run.stdout);
}

/// Pod placement, a registry mirror, pull secrets and cloud identities,
/// in each profile.
#[test]
fn fit_cluster() {
    for (profile, run) in common::render_each_profile("specs/fit-cluster.yaml") {
        snapshot!(format!("fit-cluster-{profile}"), run.stdout);
    }
}

/// Keyless S3 through IRSA, in each profile (ha: CloudNativePG backups
/// inherit the role).
#[test]
fn keyless() {
    for (profile, run) in common::render_each_profile("specs/keyless.yaml") {
        snapshot!(format!("keyless-{profile}"), run.stdout);
    }
}

/// Google Cloud Storage through Workload Identity, where CloudNativePG
/// archives too: the Google service account on every consumer's
/// ServiceAccount, no key anywhere.
#[test]
fn gcs_with_workload_identity() {
    let run = mlk(&["render", "-f", "specs/gcs.yaml", "--profile", "ha"])
        .key()
        .run()
        .ok();
    snapshot!("gcs-ha", run.stdout);
}

/// Azure Blob Storage with the account key: the server, gc and the
/// backups read it from the env (MLflow's Azure client reads nowhere
/// else), the predictors from a Secret of their own.
#[test]
fn azure_blob_with_a_key() {
    let run = mlk(&["render", "-f", "specs/azure-blob.yaml", "--profile", "prod"])
        .key()
        .env("AZURE_ACCOUNT_KEY", "YXp1cmUta2V5LXZhbHVl")
        .run()
        .ok();
    snapshot!("azure-blob-prod", run.stdout);
}

#[test]
fn ha_profile() {
    let run = mlk(&["render", "--profile", "ha"]).key().run().ok();
    snapshot!("ha", run.stdout);
}

/// prod moving from the MinIO it ran: MinIO as before, SeaweedFS, the
/// copy Job, and the tracking server held back until the copy is done.
#[test]
fn migrate_from_minio() {
    let run = mlk(&[
        "render",
        "--profile",
        "prod",
        "--set",
        "artifacts.embedded.migrateFrom={engine: minio}",
    ])
    .key()
    .run()
    .ok();
    snapshot!("migrate-from-minio", run.stdout);
}

#[test]
fn every_option() {
    let run = mlk(&["render", "-f", "specs/everything.yaml"])
        .env("MINIO_USER", "minio-admin")
        .run()
        .ok();
    snapshot!("everything", run.stdout);
}

#[test]
fn external_stores() {
    let run = mlk(&["render", "-f", "specs/external.yaml", "--profile", "prod"])
        .key()
        .env("S3_KEY_ID", "AKIAEXAMPLE")
        .env("S3_SECRET", "s3-secret-value")
        .run()
        .ok();
    snapshot!("external", run.stdout);
}

/// GitOps-safe output: an ExternalSecret in place of every Secret, and
/// no secret value anywhere.
#[test]
fn external_secrets() {
    let run = mlk(&["render", "-f", "specs/external-secrets.yaml"])
        .run()
        .ok();
    assert!(!run.stdout.contains("kind: Secret\n"));
    assert!(!run.stderr.contains("MLK_SECRET_KEY"), "{}", run.stderr);
    // mlk validate knows the kind without a --crd, and that it writes the
    // Secrets the pods read.
    let check = mlk(&["validate", "--strict", "-"]).stdin(&run.stdout).run();
    assert_eq!(check.code, 0, "{}", check.stdout);
    snapshot!("external_secrets", run.stdout);
}

fn ingress(spec: &str) -> String {
    mlk(&["render", "-f", spec])
        .key()
        .env("ALICE_PASSWORD", "alice-password")
        .env("BOB_PASSWORD", "bob-password")
        .run()
        .ok()
        .stdout
}

#[test]
fn ingress_tls_secret_with_users() {
    snapshot!(
        "ingress-tls-secret",
        ingress("specs/ingress-tls-secret.yaml")
    );
}

#[test]
fn ingress_cert_manager_with_htpasswd_file() {
    snapshot!(
        "ingress-cert-manager",
        ingress("specs/ingress-cert-manager.yaml")
    );
}

#[test]
fn ingress_existing_auth_secret() {
    snapshot!(
        "ingress-existing-auth",
        ingress("specs/ingress-existing-auth.yaml")
    );
}

/// The documents that are one of `wanted` (`Kind` or `Kind/name`), as
/// printed.
fn only(stdout: &str, wanted: &[&str]) -> String {
    let id = |doc: &str, key: &str| {
        doc.lines()
            .find_map(|l| l.strip_prefix(key))
            .unwrap_or_default()
            .to_owned()
    };
    stdout
        .split("---\n")
        .filter(|doc| {
            let kind = id(doc, "kind: ");
            let name = id(doc, "  name: ");
            wanted.contains(&kind.as_str()) || wanted.contains(&format!("{kind}/{name}").as_str())
        })
        .map(|doc| format!("---\n{doc}"))
        .collect()
}

#[test]
fn monitoring_on() {
    let run = mlk(&["render", "-f", "specs/monitoring.yaml"])
        .key()
        .run()
        .ok();
    snapshot!(
        "monitoring",
        only(
            &run.stdout,
            &["Service/mlflow-tracking", "Deployment", "ServiceMonitor"]
        )
    );
}

#[test]
fn monitoring_off_serves_no_metrics() {
    let run = mlk(&["render"]).run().ok();
    for absent in [
        "--expose-prometheus",
        "ServiceMonitor",
        "prometheus.io/",
        "name: metrics",
    ] {
        assert!(!run.stdout.contains(absent), "{absent}");
    }
}

fn registry_answer(request: &str, _: &[String]) -> (u16, String) {
    if request.contains("/registered-models/alias?") {
        return (200, r#"{"model_version": {"version": "12"}}"#.into());
    }
    let version = request
        .split("version=")
        .nth(1)
        .unwrap_or("")
        .split(' ')
        .next();
    let uri = format!(
        "mlflow-artifacts:/1/models/m-churn-v{}/artifacts",
        version.unwrap()
    );
    (200, format!(r#"{{"artifact_uri": "{uri}"}}"#))
}

#[test]
fn serving_every_model_form() {
    let uri = common::fake_registry::registry(registry_answer);
    let run = mlk(&["render", "-f", "specs/serving.yaml", "--resolve"])
        .key()
        .env("MLFLOW_TRACKING_URI", &uri)
        .run()
        .ok();
    snapshot!(
        "serving",
        only(
            &run.stdout,
            &[
                "Secret/mlflow-serving-s3",
                "ServiceAccount/mlflow-predictor",
                "InferenceService"
            ]
        )
    );
}

#[test]
fn gateway_route_only() {
    let run = mlk(&["render", "-f", "specs/gateway.yaml"])
        .key()
        .run()
        .ok();
    snapshot!(
        "gateway",
        only(
            &run.stdout,
            &[
                "HTTPRoute",
                "NetworkPolicy/mlflow-tracking",
                "Deployment/mlflow-tracking"
            ]
        )
    );
}

#[test]
fn gateway_and_ingress_together() {
    let run = mlk(&["render", "-f", "specs/gateway-and-ingress.yaml"])
        .key()
        .run()
        .ok();
    snapshot!(
        "gateway-and-ingress",
        only(
            &run.stdout,
            &["HTTPRoute", "Ingress", "Deployment/mlflow-tracking"]
        )
    );
}

/// A login's objects, rendered from `spec` in each built-in profile: the
/// tracking Secret, the server, the ServiceMonitor and what else `more`
/// names, one snapshot `NAME-PROFILE` each.
fn login_in_every_profile(name: &str, spec: &str, more: &[&str]) {
    for profile in ["dev", "prod", "ha"] {
        let run = mlk(&["render", "-f", spec, "--profile", profile])
            .key()
            .env("MLFLOW_ADMIN_PASSWORD", "correct horse battery staple")
            .run()
            .ok();
        let mut wanted = vec![
            "Secret/mlflow-tracking",
            "Deployment/mlflow-tracking",
            "ServiceMonitor",
        ];
        wanted.extend_from_slice(more);
        snapshot!(format!("{name}-{profile}"), only(&run.stdout, &wanted));
    }
}

/// MLflow's auth app in every profile: the ini and keys in the tracking
/// Secret, the server's flags, env and mounts, and the ServiceMonitor's
/// login.
#[test]
fn tracking_auth_in_every_profile() {
    login_in_every_profile("auth", "specs/auth.yaml", &[]);
}

/// Single sign-on in every profile: the plugin's settings and secrets on
/// the server, its migrations in the init step, the redirect URI from the
/// route, a ServiceMonitor with no login (the plugin serves /metrics
/// open), and the way out to the provider where NetworkPolicies are on.
#[test]
fn oidc_in_every_profile() {
    login_in_every_profile(
        "oidc",
        "specs/oidc.yaml",
        &["NetworkPolicy/mlflow-tracking"],
    );
}
