//! End to end: the rendered platform, run on real components on loopback.
//!
//! There is no cluster here, so each rendered piece runs as the manifest
//! configures it: Debian's PostgreSQL with the StatefulSet's user, password
//! and database; moto's S3 server (for MinIO) with the bucket made from the
//! bucket Job's env; the migration step's and the tracking container's own
//! command, args and env (Secrets resolved as `secretKeyRef` resolves them,
//! `$(VAR)` expanded); nginx from the Ingress annotations and auth Secret.
//! In-cluster names become loopback ports through one table (`Loopback`),
//! and nothing else is changed. Then a user works through nginx, and the
//! model they register is served as KServe serves it: downloaded by
//! KServe's storage initializer code, loaded by MLServer, asked for a V2
//! prediction.
//!
//! Ignored by a plain `cargo test`; `bash .ci/run` installs what it needs
//! and runs it. Every process binds 127.0.0.1 and is stopped when the
//! test ends, pass or fail.

mod common;
mod e2e {
    pub mod http;
    pub mod manifest;
    pub mod python;
    pub mod steps;
}

use e2e::steps::Harness;

#[test]
#[ignore = "needs PostgreSQL, nginx and the MLflow and MLServer venvs; run by .ci/run"]
fn the_rendered_platform_runs_on_real_components() {
    every_step_passes(Harness::run);
}

#[test]
#[ignore = "needs PostgreSQL, SeaweedFS and the MLflow venv; run by .ci/run"]
fn the_seaweedfs_cluster_survives_lost_servers() {
    every_step_passes(Harness::run_cluster);
}

#[test]
#[ignore = "needs SeaweedFS, moto and the MLflow venv; run by .ci/run"]
fn the_copy_job_moves_minio_artifacts_into_seaweedfs() {
    every_step_passes(Harness::run_migration);
}

#[test]
#[ignore = "needs PostgreSQL, moto and the MLflow venv; run by .ci/run"]
fn a_native_sidecar_carries_the_migration_to_the_database() {
    every_step_passes(Harness::run_sidecar);
}

#[test]
#[ignore = "needs PostgreSQL, moto and the MLflow venv; run by .ci/run"]
fn every_pod_reaches_a_tls_store_through_the_proxy() {
    every_step_passes(Harness::run_proxy);
}

#[test]
#[ignore = "needs PostgreSQL, fake-gcs-server and the MLflow and KServe venvs; run by .ci/run"]
fn the_platform_keeps_artifacts_in_gcs_through_the_proxy() {
    every_step_passes(Harness::run_gcs);
}

#[test]
#[ignore = "needs PostgreSQL, Azurite and the MLflow and KServe venvs; run by .ci/run"]
fn the_platform_keeps_artifacts_in_azure_blob_through_the_proxy() {
    every_step_passes(Harness::run_azure);
}

#[test]
#[ignore = "needs PostgreSQL, SeaweedFS, nginx and the MLflow and OIDC venvs; run by .ci/run"]
fn single_sign_on_logs_in_through_the_provider() {
    every_step_passes(Harness::run_oidc);
}

/// Runs one harness's steps in a folder of its own; fails with every
/// step that failed.
fn every_step_passes(run: fn(&mut Harness)) {
    let mut h = Harness::new();
    run(&mut h);
    let (passed, failed) = h.summary();
    println!("{passed} passed, {failed} failed");
    assert_eq!(failed, 0, "{}", h.failures());
}
