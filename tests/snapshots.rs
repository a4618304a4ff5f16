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
        .env("S3_KEY_ID", "AKIAEXAMPLE")
        .env("S3_SECRET", "s3-secret-value")
        .run()
        .ok();
    snapshot!("external", run.stdout);
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
