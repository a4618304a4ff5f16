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
