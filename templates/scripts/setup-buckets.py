# Creates the buckets the platform needs if they are missing, and turns on
# versioning, with its lifecycle, where the spec asks. Safe to run any
# number of times. The setup identity's keys are read from the mounted
# Secret files: they are in no environment variable and no argv.
import json
import os
import sys
import time

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError


def secret(var):
    with open(os.environ[var]) as f:
        value = f.read().rstrip("\n")
    if not value:
        sys.exit(f"{var}: the Secret key is empty")
    return value


s3 = boto3.client(
    "s3",
    endpoint_url=os.environ["S3_ENDPOINT"],
    region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
    aws_access_key_id=secret("MLK_S3_ACCESS_KEY_ID_FILE"),
    aws_secret_access_key=secret("MLK_S3_SECRET_ACCESS_KEY_FILE"),
    config=Config(connect_timeout=5, read_timeout=30, retries={"max_attempts": 1}),
)
deadline = time.monotonic() + 600


def ensure(bucket):
    while True:
        try:
            s3.head_bucket(Bucket=bucket)
            print(f"bucket {bucket} exists", flush=True)
            return
        except ClientError as e:
            code = e.response["Error"]["Code"]
            if code in ("404", "NoSuchBucket", "NotFound"):
                s3.create_bucket(Bucket=bucket)
                print(f"bucket {bucket} created", flush=True)
                return
            if code in ("403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
                # Waiting will not change the keys.
                sys.exit(f"bucket {bucket}: {e}")
            error = e
        except Exception as e:
            error = e
        if time.monotonic() > deadline:
            sys.exit(f"bucket {bucket}: the store is still unreachable after 10 minutes: {error}")
        print(f"waiting for the store: {error}", flush=True)
        time.sleep(3)


for bucket in os.environ["BUCKETS"].split(","):
    ensure(bucket)
lifecycle = os.environ.get("VERSIONING_LIFECYCLE")
if lifecycle:
    bucket = os.environ["VERSIONED_BUCKET"]
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_lifecycle_configuration(
        Bucket=bucket, LifecycleConfiguration=json.loads(lifecycle)
    )
    print(f"bucket {bucket}: versioning on, noncurrent versions expire", flush=True)
