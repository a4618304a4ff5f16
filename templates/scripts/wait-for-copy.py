# Holds the tracking server back, as long as it takes, until the Job that
# copies the replaced store's objects (migrateFrom) has written its marker
# object last: the server never starts on a store that lacks what the
# platform logged.
import os
import sys
import time

import boto3
from botocore.config import Config

bucket, marker = sys.argv[1], sys.argv[2]
s3 = boto3.client(
    "s3",
    endpoint_url=os.environ.get("MLFLOW_S3_ENDPOINT_URL") or None,
    config=Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 1}),
)
while True:
    try:
        s3.head_object(Bucket=bucket, Key=marker)
        print(f"{bucket}/{marker} is there: the copy is complete", flush=True)
        break
    except Exception as e:
        print(f"waiting for the copy Job to write {bucket}/{marker}: {e}", flush=True)
        time.sleep(10)
