# Uploads the dump the pg-dump step wrote to the backups' bucket, under a
# name that sorts by time, then deletes all but the newest KEEP dumps.
# MLflow's own artifact repositories speak S3, GCS and Azure Blob with the
# credentials the tracking server uses, so one client serves every store.
import datetime
import os

from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

root = f"{os.environ['DESTINATION'].rstrip('/')}/{os.environ['PREFIX']}"
keep = int(os.environ["KEEP"])
stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
# The object is named after the local file.
dump = os.path.join(os.path.dirname(os.environ["DUMP"]), f"{os.environ['NAME']}-{stamp}.dump")
os.rename(os.environ["DUMP"], dump)
repo = get_artifact_repository(root)
repo.log_artifact(dump)
dumps = sorted(
    f.path for f in repo.list_artifacts() if not f.is_dir and f.path.endswith(".dump")
)
for old in dumps[:-keep]:
    repo.delete_artifacts(old)
print(f"uploaded {root}/{os.path.basename(dump)}; kept {min(len(dumps), keep)} dumps", flush=True)
