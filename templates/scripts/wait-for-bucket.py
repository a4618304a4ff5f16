# Holds the tracking server back until its artifact bucket exists, so the
# first upload never fails with NoSuchBucket. The bucket Job creates it for
# the built-in MinIO; for an external store, the log says what is missing.
import os
import sys
import time

import boto3
from botocore.config import Config
from botocore.exceptions import NoCredentialsError, SSLError

bucket = sys.argv[1]
s3 = boto3.client(
    "s3",
    endpoint_url=os.environ.get("MLFLOW_S3_ENDPOINT_URL") or None,
    config=Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 1}),
)
deadline = time.monotonic() + 600
while True:
    try:
        s3.head_bucket(Bucket=bucket)
        print(f"bucket {bucket} exists", flush=True)
        break
    except NoCredentialsError as e:
        # Waiting will not bring credentials: the credential-files step
        # or the Secret it reads is wrong.
        sys.exit(f"bucket {bucket}: {e}: check AWS_SHARED_CREDENTIALS_FILE")
    except SSLError as e:
        # Nor will waiting make an untrusted certificate trusted.
        sys.exit(
            f"bucket {bucket}: the store's certificate is not trusted ({e}): "
            "give its CA in pods.caBundle"
        )
    except Exception as e:
        if time.monotonic() > deadline:
            sys.exit(f"bucket {bucket} still unreachable after 10 minutes: {e}")
        print(f"waiting for bucket {bucket}: {e}", flush=True)
        time.sleep(3)
