//! The Python the harness runs in the venv: what `mc` and a user's
//! MLflow client do.

/// A stand-in for `mc` (not on this machine) that the bucket Job's own
/// script runs: the three calls it makes, against the S3 endpoint, with
/// boto3. It logs every argv to MC_ARGV_LOG, refuses credentials on the
/// command line, and keeps an alias in its config folder as `mc` does.
pub const MC_STUB: &str = r#"
import json, os, sys, boto3
args = sys.argv[1:]
with open(os.environ["MC_ARGV_LOG"], "a") as log:
    log.write(json.dumps(args) + "\n")
if args[:1] != ["--config-dir"]:
    sys.exit("mc: the Job must name its config folder (the root is read-only)")
conf, cmd = args[1], args[2:]
os.makedirs(conf, exist_ok=True)
aliases = os.path.join(conf, "aliases.json")

def client(target):
    url, user, password = json.load(open(aliases))[target.split("/")[0]]
    return boto3.client("s3", endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id=user, aws_secret_access_key=password)

if cmd[:2] == ["alias", "set"]:
    if len(cmd) != 4:
        sys.exit("mc alias set: credentials on the command line")
    user = sys.stdin.readline().rstrip("\n")
    password = sys.stdin.readline().rstrip("\n")
    json.dump({cmd[2]: [cmd[3], user, password]}, open(aliases, "w"))
elif cmd[:2] == ["mb", "--ignore-existing"]:
    s3, bucket = client(cmd[2]), cmd[2].split("/")[1]
    if bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        s3.create_bucket(Bucket=bucket)
    print(f"Bucket created successfully `{cmd[2]}`.")
elif cmd[:3] == ["anonymous", "set", "none"]:
    s3, bucket = client(cmd[3]), cmd[3].split("/")[1]
    s3.delete_bucket_policy(Bucket=bucket)
else:
    sys.exit(f"mc stand-in: {cmd} is not a call the bucket Job makes")
"#;

pub const LIST_OBJECTS: &str = r#"
import json, os, boto3
s3 = boto3.client("s3", endpoint_url=os.environ["S3_ENDPOINT"], region_name="us-east-1")
pages = s3.get_paginator("list_objects_v2").paginate(Bucket=os.environ["BUCKET"], Prefix=os.environ["PREFIX"])
print(json.dumps({o["Key"]: o["Size"] for p in pages for o in p.get("Contents", [])}))
"#;

pub const USER_FLOW: &str = r#"
import json, os, mlflow
from mlflow import MlflowClient
import pandas as pd
class Linear(mlflow.pyfunc.PythonModel):
    """A model with a known answer: 2x + y."""
    def predict(self, context, model_input):
        return (model_input["x"] * 2.0 + model_input["y"]).to_numpy()
exp = mlflow.create_experiment("e2e")
with mlflow.start_run(experiment_id=exp) as run:
    mlflow.log_metric("accuracy", 0.93)
    path = os.path.join(os.environ["WORK"], "blob.bin")
    with open(path, "wb") as f:
        f.write(os.urandom(5 * 1024 * 1024))
    mlflow.log_artifact(path)
    example = pd.DataFrame({"x": [1.0, 2.0], "y": [0.5, -1.0]})
    info = mlflow.pyfunc.log_model(name="model", python_model=Linear(), input_example=example,
        registered_model_name="churn model", pip_requirements=["mlflow==3.17.2"])
client = MlflowClient()
version = info.registered_model_version
client.set_registered_model_alias("churn model", "champion", version)
assert client.get_run(run.info.run_id).data.metrics["accuracy"] == 0.93
print(json.dumps({"experiment_id": exp, "run_id": run.info.run_id, "version": version}))
"#;

/// KServe's storage initializer, as its image runs it
/// (`python/storage-initializer/scripts/initializer-entrypoint` in
/// kserve/kserve): `Storage.download_files` from `kserve-storage`.
pub const STORAGE_INITIALIZER: &str = r#"
import os, sys
from kserve_storage import Storage
from kserve_storage.logging import configure_logging, logger
configure_logging()
src, dest = sys.argv[1], sys.argv[2]
os.makedirs(dest, exist_ok=True)
try:
    Storage.download_files([src], [dest])
except Exception as e:
    logger.error("Storage initialization failed: %s", e)
    sys.exit(1)
print(f"downloaded {src}: {sorted(os.listdir(dest))}")
"#;

/// What the model answers in process: `mlflow.pyfunc.load_model(...)
/// .predict(...)` on the downloaded folder, for the same inputs.
pub const PREDICT_IN_PROCESS: &str = r#"
import json, os, sys, mlflow, pandas as pd
inputs = json.loads(os.environ["INPUTS"])
model = mlflow.pyfunc.load_model(sys.argv[1])
print(json.dumps([float(v) for v in model.predict(pd.DataFrame(inputs))]))
"#;

/// Reads an AI Gateway secret back as the server does on a restart: a new
/// process, the tracking store, and the KEK from MLFLOW_CRYPTO_KEK_PASSPHRASE
/// (MLflow's public constant when that is unset). Prints the api_key, or
/// the reason it cannot.
pub const READ_GATEWAY_SECRET: &str = r#"
import os
from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore
store = SqlAlchemyStore(os.environ["DB_URI"], os.environ["WORK"])
try:
    print(store._get_decrypted_secret(os.environ["SECRET_ID"])["api_key"])
except Exception as e:
    print(f"cannot decrypt: {type(e).__name__}")
"#;
