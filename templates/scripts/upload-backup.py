# Uploads the dump the pg-dump step wrote to the artifact bucket, under a
# name that sorts by time, then deletes all but the newest KEEP dumps.
import datetime
import os

import boto3

s3 = boto3.client("s3", endpoint_url=os.environ.get("MLFLOW_S3_ENDPOINT_URL") or None)
bucket, prefix, keep = os.environ["BUCKET"], os.environ["PREFIX"], int(os.environ["KEEP"])
stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
key = f"{prefix}/{os.environ['NAME']}-{stamp}.dump"
s3.upload_file(os.environ["DUMP"], bucket, key)
pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{prefix}/")
dumps = sorted(o["Key"] for p in pages for o in p.get("Contents", []) if o["Key"].endswith(".dump"))
for old in dumps[:-keep]:
    s3.delete_object(Bucket=bucket, Key=old)
print(f"uploaded s3://{bucket}/{key}; kept {min(len(dumps), keep)} dumps", flush=True)
