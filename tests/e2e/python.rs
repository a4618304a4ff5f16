//! The Python the harness runs in the venv: what `mc` and a user's
//! MLflow client do.

pub const MAKE_BUCKET: &str = r#"
import os, boto3
s3 = boto3.client("s3", endpoint_url=os.environ["S3_ENDPOINT"], region_name="us-east-1")
bucket = os.environ["BUCKET"]
if bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
    s3.create_bucket(Bucket=bucket)
print(f"bucket {bucket} at {os.environ['S3_ENDPOINT']}")
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
class Echo(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input):
        return model_input
exp = mlflow.create_experiment("e2e")
with mlflow.start_run(experiment_id=exp) as run:
    mlflow.log_metric("accuracy", 0.93)
    path = os.path.join(os.environ["WORK"], "blob.bin")
    with open(path, "wb") as f:
        f.write(os.urandom(5 * 1024 * 1024))
    mlflow.log_artifact(path)
    info = mlflow.pyfunc.log_model(name="model", python_model=Echo(),
        registered_model_name="churn model", pip_requirements=["mlflow==3.17.2"])
client = MlflowClient()
version = info.registered_model_version
client.set_registered_model_alias("churn model", "champion", version)
assert client.get_run(run.info.run_id).data.metrics["accuracy"] == 0.93
print(json.dumps({"experiment_id": exp, "run_id": run.info.run_id, "version": version}))
"#;
