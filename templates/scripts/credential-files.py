# Writes the credential files the migration step and the tracking server
# read, from the Secret keys mounted read-only: a pgpass file (libpq reads
# PGPASSFILE) and the store client's: an AWS shared credentials file
# (boto3 reads AWS_SHARED_CREDENTIALS_FILE), or, with the part a GCS key
# adds (credential-files-gcs.py), a Google service account key
# (GOOGLE_APPLICATION_CREDENTIALS). So no password is in an environment
# variable, which every child process inherits, nor in argv (but Azure's
# key, which MLflow's Azure client reads from its env alone). The files
# go to the pod's memory-backed /tmp/mlk, never the node's disk, private
# to its user (0600), as libpq requires of a pgpass file.
import os
import sys


def secret(var):
    with open(os.environ[var]) as f:
        value = f.read()
    if not value or "\n" in value.rstrip("\n"):
        sys.exit(f"{var}: the Secret key is empty or holds a line break")
    return value.rstrip("\n")


def write(var, text):
    path = os.environ[var]
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW
    fd = os.open(path, flags, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    print(f"wrote {var}", flush=True)


def pgpass_field(value):
    return value.replace("\\", "\\\\").replace(":", "\\:")


password = pgpass_field(secret("MLK_DB_PASSWORD_FILE"))
write("PGPASSFILE", f"*:*:*:*:{password}\n")
# Without keys, boto3 takes the pod's identity (IRSA, EKS Pod Identity).
if "MLK_S3_ACCESS_KEY_ID_FILE" in os.environ:
    key_id = secret("MLK_S3_ACCESS_KEY_ID_FILE")
    key = secret("MLK_S3_SECRET_ACCESS_KEY_FILE")
    write(
        "AWS_SHARED_CREDENTIALS_FILE",
        f"[default]\naws_access_key_id = {key_id}\naws_secret_access_key = {key}\n",
    )
