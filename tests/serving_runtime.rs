//! Every model mlk serves from storage is one KServe's `kserve-mlserver`
//! runtime takes: KServe picks a runtime by the predictor's model format,
//! its version and the protocol, and a pair it does not list selects no
//! runtime at all, so the InferenceService never becomes ready.

mod common;
use common::mlk;

/// `supportedModelFormats` for mlflow and `protocolVersions` of
/// `config/runtimes/kserve-mlserver.yaml` in kserve/kserve (0.18 on):
/// mlflow 1 and 2, protocol v2 only.
const MLFLOW_VERSIONS: [&str; 2] = ["1", "2"];
const PROTOCOLS: [&str; 1] = ["v2"];

#[test]
fn every_stored_model_is_one_kserve_mlserver_serves() {
    let spec = "apiVersion: mlk/v1alpha1
kind: Platform
serving:
  models:
    - {name: churn, registeredModel: churn, storageUri: s3://mlflow/1/models/m-1/artifacts}
    - {name: fraud, registeredModel: fraud, storageUri: s3://mlflow/2/models/m-2/artifacts, runtime: kserve-mlserver}
";
    let run = mlk(&["render", "-f", "-"]).key().stdin(spec).run().ok();
    let isvcs: Vec<_> = run
        .docs()
        .into_iter()
        .filter(|d| d["kind"] == "InferenceService")
        .collect();
    assert_eq!(isvcs.len(), 2);
    for isvc in isvcs {
        let model = &isvc["spec"]["predictor"]["model"];
        assert_eq!(model["modelFormat"]["name"], "mlflow", "{isvc:?}");
        let protocol = model["protocolVersion"].as_str().unwrap_or_default();
        assert!(
            PROTOCOLS.contains(&protocol),
            "{protocol:?} selects no runtime"
        );
        // Left out, any supported version matches; anything else matches none.
        match model["modelFormat"]["version"].as_str() {
            None => assert!(model["modelFormat"]["version"].is_null()),
            Some(v) => assert!(
                MLFLOW_VERSIONS.contains(&v),
                "version {v:?} selects no runtime"
            ),
        }
        let runtime = model["runtime"].as_str();
        assert!(
            runtime.is_none_or(|r| r == "kserve-mlserver"),
            "{runtime:?}"
        );
    }
}

#[test]
fn the_spec_cannot_set_a_model_format_version() {
    let spec = "apiVersion: mlk/v1alpha1
kind: Platform
serving:
  models:
    - {name: churn, registeredModel: churn, storageUri: s3://mlflow/1/m/artifacts, modelFormat: {name: mlflow, version: '3'}}
";
    let run = mlk(&["render", "-f", "-"]).key().stdin(spec).run().failed();
    assert!(
        run.stderr.contains("unknown field `modelFormat`"),
        "{}",
        run.stderr
    );
}
