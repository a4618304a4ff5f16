# Holds the tracking server back until its artifact bucket exists, so the
# first upload never fails with NoSuchBucket. It asks through MLflow's own
# client for the destination (s3://, gs:// or wasbs://): the very client
# and credentials the server will use.
import ssl
import sys
import time

from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

where = sys.argv[1]


def fatal(e):
    """What waiting will not mend, as a message; None for what it may."""
    while e is not None:
        if isinstance(e, ssl.SSLError) or "SSLError" in type(e).__name__:
            return f"the store's certificate is not trusted ({e}): give its CA in pods.caBundle"
        if type(e).__name__ in ("NoCredentialsError", "DefaultCredentialsError"):
            return f"{e}: check the credentials the credential-files step wrote"
        e = e.__cause__ or e.__context__


deadline = time.monotonic() + 600
while True:
    try:
        get_artifact_repository(where).list_artifacts()
        print(f"{where} exists", flush=True)
        break
    except Exception as e:
        if why := fatal(e):
            sys.exit(f"{where}: {why}")
        if time.monotonic() > deadline:
            sys.exit(f"{where} still unreachable after 10 minutes: {e}")
        print(f"waiting for {where}: {e}", flush=True)
        time.sleep(3)
