//! Where a served model's files may be: one model's folder, in its own
//! workspace's part of the platform's bucket, or a place outside it.

use super::model_root::{self, ModelRoot};
use crate::spec::StorageUri;

/// A model's files: never a bucket's root, and in the platform's own
/// bucket only where MLflow keeps one model's artifacts (a logged model's
/// `EXPERIMENT/models/m-ID/artifacts`, or a run's `EXPERIMENT/RUN/artifacts/PATH`,
/// under the store's prefix), so a predictor reads that model and nothing
/// beside it, whatever a spec, a lock or a registry says.
pub fn model_location(uri: &StorageUri, root: &ModelRoot, workspace: &str) -> Result<(), String> {
    let in_store = uri
        .as_str()
        .get(..root.container.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(&root.container));
    if in_store && !root.kserve_reads {
        return Err(format!(
            "{uri} is in the artifact store, which KServe's storage initializer cannot reach: \
             it downloads Azure Blob only from https://ACCOUNT.blob.core.windows.net; serve \
             this model from an image, or from a storageUri it can read"
        ));
    }
    let Some((container, path)) = model_root::split(uri.as_str()) else {
        return Ok(());
    };
    if root.is_backups(container) {
        return Err(format!(
            "{uri} is in the database's backups' bucket: a predictor would read the dumps; \
             name the model's own folder in the artifact store"
        ));
    }
    if path.trim_matches('/').is_empty() {
        return Err(format!(
            "{uri} is a bucket's root: a predictor would read everything in it; name the \
             model's own folder"
        ));
    }
    if path
        .trim_end_matches('/')
        .split('/')
        .any(|s| s.is_empty() || s == "." || s == "..")
    {
        return Err(format!(
            "{uri} has an empty, `.` or `..` folder in its path"
        ));
    }
    if !root.holds(container) {
        return Ok(());
    }
    let mut segments = path
        .strip_prefix(root.prefix.as_str())
        .unwrap_or_default()
        .trim_end_matches('/')
        .split('/')
        .peekable();
    // With workspaces, MLflow keeps each one's artifacts under
    // `workspaces/NAME/`; a model is read only from its own workspace's.
    // What lies outside `workspaces/` is `default`'s: experiments from
    // before workspaces were turned on. (One moved to another workspace
    // keeps its old place, and is refused: serve it by storageUri, with no
    // workspace.)
    let named = match segments.next_if_eq(&"workspaces") {
        Some(_) => segments.next().unwrap_or_default(),
        None => crate::spec::DEFAULT_WORKSPACE,
    };
    if named != workspace {
        return Err(format!(
            "{uri} is in workspace {named:?}'s artifacts, and the model is in workspace \
             {workspace:?}: a predictor reads its own workspace's models only"
        ));
    }
    let mut next = || segments.next().unwrap_or_default();
    let (experiment, second, third, fourth) = (next(), next(), next(), next());
    let id = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    let logged_model =
        second == "models" && third.strip_prefix("m-").is_some_and(id) && fourth == "artifacts";
    let run_artifact = id(second) && third == "artifacts" && !fourth.is_empty();
    let numbered = !experiment.is_empty() && experiment.bytes().all(|b| b.is_ascii_digit());
    if !(numbered && (logged_model || run_artifact)) {
        return Err(format!(
            "{uri} is in the platform's artifact bucket but not a model's artifacts \
             ({p}[workspaces/NAME/]EXPERIMENT/models/m-ID/artifacts, or \
             {p}[workspaces/NAME/]EXPERIMENT/RUN/artifacts/PATH): a predictor may read one \
             model, not what lies beside it",
            p = root.prefix
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{ModelRoot, model_location};
    use crate::spec::StorageUri;

    fn mlflow() -> ModelRoot {
        ModelRoot::new("s3://mlflow".into(), None)
    }

    #[test]
    fn a_model_location_is_one_models_folder() {
        let check = |u: &str| {
            model_location(
                &StorageUri::try_from(u.to_owned()).unwrap(),
                &mlflow(),
                "default",
            )
        };
        assert!(check("s3://mlflow/1/models/m-abc/artifacts").is_ok());
        assert!(check("s3://mlflow/1/models/m-abc/artifacts/sub").is_ok());
        assert!(check("s3://mlflow/1/0123abcd/artifacts/model").is_ok());
        assert!(check("s3://mlflow/1/0123abcd/artifacts").is_err());
        assert!(check("s3://mlflow/").unwrap_err().contains("bucket's root"));
        assert!(check("s3://mlflow").unwrap_err().contains("bucket's root"));
        assert!(check("s3://mlflow/postgres-backups/x/y").is_err());
        assert!(check("s3://mlflow/1/models/m-abc/artifacts/../../..").is_err());
        assert!(check("s3://mlflow/x/models/m-abc/artifacts").is_err());
        assert!(check("s3://other-bucket/any/path").is_ok());
        assert!(check("s3://other-bucket/").is_err());
        assert!(check("https://example.com/model.tar.gz").is_ok());
    }

    /// With workspaces, a model's artifacts are under its workspace's
    /// folder, and only its own workspace's folder serves it.
    #[test]
    fn a_model_location_is_in_the_model_s_own_workspace() {
        let check = |u: &str, ws: &str| {
            model_location(&StorageUri::try_from(u.to_owned()).unwrap(), &mlflow(), ws)
        };
        let in_a = "s3://mlflow/workspaces/team-a/3/models/m-abc/artifacts";
        assert!(check(in_a, "team-a").is_ok());
        assert!(
            check(in_a, "team-b")
                .unwrap_err()
                .contains("\"team-a\"'s artifacts")
        );
        assert!(
            check(
                "s3://mlflow/workspaces/default/1/0123abcd/artifacts/m",
                "default"
            )
            .is_ok()
        );
        assert!(check("s3://mlflow/workspaces/team-a", "team-a").is_err());
        assert!(check("s3://mlflow/workspaces/team-a/3/other", "team-a").is_err());
        // Made before workspaces were turned on: `default`'s, not another's.
        assert!(check("s3://mlflow/1/models/m-abc/artifacts", "default").is_ok());
        assert!(check("s3://mlflow/1/models/m-abc/artifacts", "team-a").is_err());
    }
}
