# Copies every object of the MinIO a platform ran into SeaweedFS, bucket
# by bucket, then checks that each one is there with its size, and writes
# MARKER last: the tracking server's wait-for-copy step waits for it.
# An object already there with the same size and checksum is not copied
# again, so a re-run (a new Job, or a retried pod) picks up where the last
# one stopped. Both stores' keys are read from the mounted Secret files.
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


def client(side):
    return boto3.client(
        "s3",
        endpoint_url=os.environ[f"{side}_ENDPOINT"],
        region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        aws_access_key_id=secret(f"MLK_{side}_ACCESS_KEY_ID_FILE"),
        aws_secret_access_key=secret(f"MLK_{side}_SECRET_ACCESS_KEY_FILE"),
        config=Config(connect_timeout=5, read_timeout=60, retries={"mode": "standard", "max_attempts": 5}),
    )


source, target = client("SOURCE"), client("TARGET")
skip = os.environ.get("SKIP", "")


def present(s3, bucket, where, missing_ok):
    """Waits until `where` answers for `bucket`; False if it lacks it."""
    deadline = time.monotonic() + 600
    while True:
        try:
            s3.head_bucket(Bucket=bucket)
            return True
        except ClientError as e:
            code = e.response["Error"]["Code"]
            if code in ("403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
                sys.exit(f"{where}, bucket {bucket}: {e}")
            if code in ("404", "NoSuchBucket", "NotFound") and missing_ok:
                return False
            error = e
        except Exception as e:
            error = e
        if time.monotonic() > deadline:
            sys.exit(f"{where}, bucket {bucket}: not there after 10 minutes: {error}")
        print(f"waiting for {where}, bucket {bucket}: {error}", flush=True)
        time.sleep(3)


def listing(s3, bucket):
    out = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for o in page.get("Contents", []):
            out[o["Key"]] = (o["Size"], o["ETag"])
    return out


def same(a, b):
    # A multipart upload's ETag is no checksum of the content ("-N"): then
    # the size decides.
    if a is None or b is None or a[0] != b[0]:
        return False
    return a[1] == b[1] or "-" in a[1] or "-" in b[1]


for bucket in os.environ["BUCKETS"].split(","):
    present(target, bucket, "SeaweedFS (the setup Job creates it)", False)
    if not present(source, bucket, "MinIO", True):
        print(f"bucket {bucket}: not in MinIO, nothing to copy", flush=True)
        continue
    # mlk's database dumps, from before they had a bucket of their own,
    # stay out of the artifacts: whoever reads artifacts would reach them.
    old = {k: v for k, v in listing(source, bucket).items() if not (skip and f"{bucket}/{k}".startswith(skip))}
    new = listing(target, bucket)
    copied = 0
    for key in sorted(old):
        if same(old[key], new.get(key)):
            continue
        body = source.get_object(Bucket=bucket, Key=key)["Body"]
        target.upload_fileobj(body, bucket, key)
        copied += 1
        if copied % 100 == 0:
            print(f"bucket {bucket}: {copied} copied", flush=True)
    new = listing(target, bucket)
    wrong = sorted(k for k in old if not same(old[k], new.get(k)))
    if wrong:
        sys.exit(f"bucket {bucket}: {len(wrong)} of {len(old)} objects differ in SeaweedFS, e.g. {wrong[:3]}")
    print(f"bucket {bucket}: {len(old)} objects in MinIO, all {len(old)} in SeaweedFS ({copied} copied now)", flush=True)
    if skip.startswith(f"{bucket}/"):
        left = len(listing(source, bucket)) - len(old)
        if left:
            print(f"bucket {bucket}: left in MinIO, not among artifacts: {left} old database dump(s) under {skip}", flush=True)

marker_bucket, marker = os.environ["MARKER"].split("/", 1)
target.put_object(Bucket=marker_bucket, Key=marker, Body=b"copied from MinIO\n")
print(f"wrote {marker_bucket}/{marker}: the tracking server starts on SeaweedFS", flush=True)
