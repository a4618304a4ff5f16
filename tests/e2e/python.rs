//! The Python the harness runs in the venv: what `mc` and a user's
//! MLflow client do.

mod oidc;
pub use oidc::OIDC_FLOW;

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
elif cmd[:2] == ["version", "enable"]:
    s3, bucket = client(cmd[2]), cmd[2].split("/")[1]
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
elif cmd[:3] == ["ilm", "rule", "import"]:
    s3, bucket = client(cmd[3]), cmd[3].split("/")[1]
    rules = json.load(sys.stdin)["Rules"]
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": rules})
elif cmd[:3] == ["anonymous", "set", "none"]:
    s3, bucket = client(cmd[3]), cmd[3].split("/")[1]
    s3.delete_bucket_policy(Bucket=bucket)
elif cmd[:2] == ["admin", "user"] or cmd[:2] == ["admin", "policy"]:
    # MinIO's IAM, kept in a file: users and their secret keys, policies,
    # and which policy each user has. As the pinned mc reads them: a
    # secret key from stdin when only the access key is given.
    state_file = os.path.join(conf, "iam.json")
    state = json.load(open(state_file)) if os.path.exists(state_file) else {
        "users": {}, "policies": {}, "attached": {}}
    verb, rest = cmd[1:3], cmd[3:]
    if verb == ["user", "add"]:
        if len(rest) != 2:
            sys.exit("mc admin user add: the secret key on the command line")
        state["users"][rest[1]] = sys.stdin.readline().rstrip("\n")
        print(f"Added user `{rest[1]}` successfully.")
    elif verb == ["user", "info"]:
        sys.exit(0 if rest[1] in state["users"] else 1)
    elif verb == ["user", "remove"]:
        state["users"].pop(rest[1], None)
    elif verb == ["policy", "create"]:
        state["policies"][rest[1]] = json.load(open(rest[2]))
    elif verb == ["policy", "attach"] and rest[2:3] == ["--user"]:
        if rest[3] not in state["users"]:
            sys.exit(f"mc admin policy attach: no user {rest[3]}")
        state["attached"][rest[3]] = rest[1]
    else:
        sys.exit(f"mc stand-in: {cmd} is not a call the bucket Job makes")
    json.dump(state, open(state_file, "w"))
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

/// How boto3, with the tracking server's env, finds its credentials.
pub const CREDENTIAL_METHOD: &str = r#"
import boto3
print(boto3.Session().get_credentials().method)
"#;

/// A run with one artifact, through the server's artifact proxy.
pub const KEYLESS_FLOW: &str = r#"
import json, os, tempfile, mlflow
exp = mlflow.create_experiment("keyless")
with mlflow.start_run(experiment_id=exp) as run:
    path = os.path.join(tempfile.mkdtemp(), "keyless.txt")
    with open(path, "w") as f:
        f.write("uploaded with a web identity")
    mlflow.log_artifact(path)
print(json.dumps({"experiment_id": exp, "run_id": run.info.run_id}))
"#;

/// A new version of the champion's model, and the alias moved to it, as a
/// promotion in the registry does.
pub const MOVE_ALIAS: &str = r#"
import json, mlflow
from mlflow import MlflowClient
client = MlflowClient()
current = client.get_model_version_by_alias("churn model", "champion")
new = mlflow.register_model(current.source, "churn model")
client.set_registered_model_alias("churn model", "champion", new.version)
print(json.dumps({"from": int(current.version), "to": int(new.version)}))
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

/// MLflow's auth app as its users meet it, on two servers A and B started
/// from the same rendered Secrets. Prints each answer's status.
pub const AUTH_FLOW: &str = r#"
import json, os, re, requests
A, B = os.environ["A"], os.environ["B"]
admin = (os.environ["ADMIN_USER"], os.environ["ADMIN_PASSWORD"])
alice = ("alice", "alice-password-123")
api = "/api/2.0/mlflow"
out = {}
out["anonymous"] = requests.get(f"{A}{api}/experiments/search", params={"max_results": 1}).status_code
r = requests.post(f"{A}{api}/experiments/create", json={"name": "admins-only"}, auth=admin)
r.raise_for_status()
exp = r.json()["experiment_id"]
user = {"username": alice[0], "password": alice[1]}
out["create_alice"] = requests.post(f"{A}{api}/users/create", json=user, auth=admin).status_code
get = lambda base, who: requests.get(f"{base}{api}/experiments/get", params={"experiment_id": exp}, auth=who)
out["alice_reads_on_b"] = get(B, alice).status_code
delete = requests.post(f"{A}{api}/experiments/delete", json={"experiment_id": exp}, auth=alice)
out["alice_deletes"] = delete.status_code
metrics = (os.environ["METRICS_USER"], os.environ["METRICS_PASSWORD"])
out["metrics_with_servicemonitor_login"] = requests.get(f"{A}/metrics", auth=metrics).status_code
out["metrics_anonymous"] = requests.get(f"{A}/metrics").status_code
# Prometheus' login is its own, not the first admin's: revoking it (or
# its leak) leaves the admin's login alone.
out["metrics_login_is_not_the_admin"] = int(metrics[0] != admin[0] and metrics[1] != admin[1])
# gc's login, made by the migration step, is an admin of its own.
gc = (os.environ["GC_USER"], os.environ["GC_PASSWORD"])
out["gc_login_reads_users"] = requests.get(f"{A}{api}/users/get", params={"username": "alice"}, auth=gc).status_code
# The sign-up form's CSRF token is signed with the Flask secret key: one
# served by A must pass on B.
s = requests.Session()
s.auth = admin
page = s.get(f"{A}/signup").text
token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
form = {"csrf_token": token, "username": "carol", "password": "carol-password-123"}
out["signup_form_from_a_posted_to_b"] = s.post(f"{B}{api}/users/create-ui", data=form).status_code
out["carol_reads_on_a"] = get(A, ("carol", "carol-password-123")).status_code
forged = dict(form, csrf_token=token[:-6] + "AAAAAA", username="dave")
out["forged_form_token_on_b"] = s.post(f"{B}{api}/users/create-ui", data=forged).status_code
print(json.dumps(out))
"#;

/// Two runs with an artifact each, one of them deleted; or, with CHECK,
/// whether each run is still in the store. Prints JSON.
pub const GC_RUNS: &str = r#"
import json, os, mlflow
from mlflow import MlflowClient
client = MlflowClient()
if os.environ.get("CHECK"):
    def exists(run_id):
        try:
            client.get_run(run_id)
            return True
        except Exception:
            return False
    print(json.dumps({k: exists(v) for k, v in json.loads(os.environ["CHECK"]).items()}))
else:
    exp = client.get_experiment_by_name(os.environ.get("EXPERIMENT", "e2e")).experiment_id
    ids = {}
    for name in ["doomed", "kept"]:
        with mlflow.start_run(experiment_id=exp, run_name=name) as run:
            path = os.path.join(os.environ["WORK"], f"{name}.txt")
            open(path, "w").write(name)
            mlflow.log_artifact(path)
            ids[name] = run.info.run_id
    client.delete_run(ids["doomed"])
    print(json.dumps({"experiment": exp, **ids}))
"#;

/// Downloads the newest dump under PREFIX to OUT, as docs/day-two.md's restore
/// steps do with `mc cp`.
pub const FETCH_DUMP: &str = r#"
import os, boto3
s3 = boto3.client("s3", endpoint_url=os.environ["S3_ENDPOINT"], region_name="us-east-1")
pages = s3.get_paginator("list_objects_v2").paginate(Bucket=os.environ["BUCKET"], Prefix=os.environ["PREFIX"])
newest = sorted(o["Key"] for p in pages for o in p.get("Contents", []))[-1]
s3.download_file(os.environ["BUCKET"], newest, os.environ["OUT"])
print(newest)
"#;

/// The run the user logged, read back: its accuracy metric.
pub const READ_RUN: &str = r#"
import os
from mlflow import MlflowClient
print(MlflowClient().get_run(os.environ["RUN_ID"]).data.metrics["accuracy"])
"#;

/// An artifact logged twice under one name, then the first content read
/// back from its noncurrent version; and the bucket's versioning and
/// lifecycle. Prints JSON.
pub const OVERWRITE_ARTIFACT: &str = r#"
import json, os, boto3, mlflow
exp = mlflow.MlflowClient().get_experiment_by_name("e2e").experiment_id
path = os.path.join(os.environ["WORK"], "model-card.md")
with mlflow.start_run(experiment_id=exp) as run:
    for text in ["first version", "second version"]:
        open(path, "w").write(text)
        mlflow.log_artifact(path)
s3 = boto3.client("s3", endpoint_url=os.environ["S3_ENDPOINT"], region_name="us-east-1")
bucket = os.environ["BUCKET"]
key = f"{exp}/{run.info.run_id}/artifacts/model-card.md"
versions = s3.list_object_versions(Bucket=bucket, Prefix=key).get("Versions", [])
older = [v for v in versions if not v["IsLatest"]]
recovered = s3.get_object(Bucket=bucket, Key=key, VersionId=older[0]["VersionId"])["Body"].read().decode() if older else None
current = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
print(json.dumps({
    "versioning": s3.get_bucket_versioning(Bucket=bucket).get("Status"),
    "noncurrent_days": rules[0]["NoncurrentVersionExpiration"]["NoncurrentDays"],
    "versions": len(versions), "current": current, "recovered": recovered,
}))
"#;

/// Each identity tried on both buckets: what its consumer needs succeeds,
/// anything else is refused by the store itself. Prints one line per
/// identity; exits non-zero on the first surprise.
pub const LEAST_PRIVILEGE: &str = r#"
import json, os, sys
import boto3
from botocore.exceptions import ClientError

art, bak = os.environ["ARTIFACTS"], os.environ["BACKUPS"]
keys = {who: (ak, sk) for who, ak, sk in json.loads(os.environ["IDENTITIES"])}

def client(who):
    ak, sk = keys[who]
    return boto3.client("s3", endpoint_url=os.environ["S3_ENDPOINT"], region_name="us-east-1",
                        aws_access_key_id=ak, aws_secret_access_key=sk)

def allowed(call):
    try:
        call()
        return True
    except ClientError as e:
        if e.response["Error"]["Code"] in ("AccessDenied", "403"):
            return False
        raise

model = next(o["Key"] for o in client("tracking").list_objects_v2(Bucket=art)["Contents"]
             if "/models/" in o["Key"])
other = next(o["Key"] for o in client("tracking").list_objects_v2(Bucket=art)["Contents"]
             if "/models/" not in o["Key"])
probe = "mlk-least-privilege/probe"
want = {
    "tracking": [
        ("put an artifact", lambda c: c.put_object(Bucket=art, Key=probe, Body=b"x"), True),
        ("read an artifact", lambda c: c.get_object(Bucket=art, Key=other), True),
        ("list artifacts", lambda c: c.list_objects_v2(Bucket=art), True),
        ("delete an artifact", lambda c: c.delete_object(Bucket=art, Key=probe), True),
        ("list the backups", lambda c: c.list_objects_v2(Bucket=bak), False),
        ("write a backup", lambda c: c.put_object(Bucket=bak, Key=probe, Body=b"x"), False),
    ],
    "predictor": [
        ("read a model", lambda c: c.get_object(Bucket=art, Key=model), True),
        ("list a model", lambda c: c.list_objects_v2(Bucket=art, Prefix=model.rsplit("/", 1)[0]), True),
        ("list the runs' artifacts", lambda c: c.list_objects_v2(Bucket=art, Prefix=other.split("/")[0] + "/"), False),
        ("list the bucket", lambda c: c.list_objects_v2(Bucket=art), False),
        ("write a model", lambda c: c.put_object(Bucket=art, Key=model, Body=b"x"), False),
        ("delete a model", lambda c: c.delete_object(Bucket=art, Key=model), False),
        ("list the backups", lambda c: c.list_objects_v2(Bucket=bak), False),
    ],
    "backup": [
        ("write a backup", lambda c: c.put_object(Bucket=bak, Key=probe, Body=b"x"), True),
        ("list the backups", lambda c: c.list_objects_v2(Bucket=bak), True),
        ("delete a backup", lambda c: c.delete_object(Bucket=bak, Key=probe), True),
        ("read an artifact", lambda c: c.get_object(Bucket=art, Key=other), False),
        ("list artifacts", lambda c: c.list_objects_v2(Bucket=art), False),
    ],
    "gc": [
        ("list artifacts", lambda c: c.list_objects_v2(Bucket=art), True),
        ("list the backups", lambda c: c.list_objects_v2(Bucket=bak), False),
    ],
}
lines = []
for who, checks in want.items():
    c = client(who)
    for what, call, expect in checks:
        got = allowed(lambda: call(c))
        if got != expect:
            sys.exit(f"{who} may {what}: {got}, want {expect}")
    lines.append(f"{who}: {len(checks)} checks")
print("; ".join(lines))
"#;

/// A bucket made with any keys, as a store that accepts them does.
pub const MAKE_BUCKET: &str = r#"
import os, boto3
s3 = boto3.client("s3", endpoint_url=os.environ["S3_ENDPOINT"], region_name="us-east-1",
                  aws_access_key_id="testing", aws_secret_access_key="testing")
s3.create_bucket(Bucket=os.environ["BUCKET"])
print("bucket made")
"#;

/// Artifacts through MLflow's own S3 client, as the tracking server
/// writes and serves them: MODE write puts COUNT files named after PHASES
/// (one phase), MODE read checks every file of each phase byte for byte.
/// Each call is retried for up to 3 minutes, as a client rides out a
/// lost server; the retries are counted.
pub const CLUSTER_ARTIFACTS: &str = r#"
import hashlib, os, sys, tempfile, time
from mlflow.store.artifact.s3_artifact_repo import S3ArtifactRepository

repo = S3ArtifactRepository(f"s3://{os.environ['BUCKET']}/cluster")
count = int(os.environ["COUNT"])
work = tempfile.mkdtemp()

def body(name):
    return hashlib.sha256(name.encode()).digest() * (300 * 1024 // 32)

def retried(what, call):
    deadline, tries = time.monotonic() + 180, 0
    while True:
        tries += 1
        try:
            call()
            return tries - 1
        except Exception as e:
            if time.monotonic() > deadline:
                sys.exit(f"{what}: still failing after 3 minutes: {e}")
            time.sleep(2)

retries = 0
names = [f"{phase}-{i:03}.bin" for phase in os.environ["PHASES"].split(",") for i in range(count)]
if os.environ["MODE"] == "write":
    for name in names:
        path = os.path.join(work, name)
        with open(path, "wb") as f:
            f.write(body(name))
        retries += retried(f"upload {name}", lambda p=path: repo.log_artifact(p))
        print(f"wrote {name}", flush=True)
    print(f"{len(names)} written ({retries} retries)")
else:
    listed = set()
    retries += retried("list", lambda: listed.update(a.path for a in repo.list_artifacts()))
    missing = sorted(set(names) - listed)
    if missing:
        sys.exit(f"missing: {missing}")
    bad = []
    for name in names:
        out = tempfile.mkdtemp()
        retries += retried(f"download {name}", lambda n=name, o=out: repo.download_artifacts(n, o))
        with open(os.path.join(out, name), "rb") as f:
            if f.read() != body(name):
                bad.append(name)
    if bad:
        sys.exit(f"changed: {bad}")
    print(f"{len(names)} read intact ({retries} retries)")
"#;

/// A run's artifacts, as MLflow's S3 client logs and reads them: MODE log
/// writes them (a 9 MB file among them, uploaded in parts) and an old
/// database dump beside them, where mlk kept dumps before they had a
/// bucket of their own; MODE read checks each artifact byte for byte and
/// that the dump is not there.
pub const MIGRATED_RUN: &str = r#"
import hashlib, os, sys, tempfile
import boto3
from mlflow.store.artifact.s3_artifact_repo import S3ArtifactRepository

bucket = os.environ["BUCKET"]
root = f"s3://{bucket}/1/0123456789abcdef/artifacts"
files = {"metrics.json": 200, "model/MLmodel": 300, "model/weights.bin": 9 * 1024 * 1024}

def body(name, size):
    block = hashlib.sha256(name.encode()).digest()
    return (block * (size // 32 + 1))[:size]

s3 = boto3.client("s3", endpoint_url=os.environ["MLFLOW_S3_ENDPOINT_URL"])
repo = S3ArtifactRepository(root)
if os.environ["MODE"] == "log":
    s3.create_bucket(Bucket=bucket)
    work = tempfile.mkdtemp()
    for name, size in files.items():
        os.makedirs(os.path.dirname(os.path.join(work, name)), exist_ok=True)
        with open(os.path.join(work, name), "wb") as f:
            f.write(body(name, size))
    repo.log_artifacts(work)
    s3.put_object(Bucket=bucket, Key="postgres-backups/mlflow-old.dump", Body=b"a dump")
    print(f"{len(files)} artifacts and an old dump in {bucket}")
else:
    out = tempfile.mkdtemp()
    local = repo.download_artifacts("", out)
    for name, size in files.items():
        with open(os.path.join(local, name), "rb") as f:
            if f.read() != body(name, size):
                sys.exit(f"{name} differs")
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    if any(k.startswith("postgres-backups/") for k in listed):
        sys.exit(f"the old dump was copied among the artifacts: {listed}")
    print(f"{len(files)} artifacts intact, read with the tracking identity; no dump among them")
"#;

/// A TCP relay on loopback that logs what it carries. With LISTEN and
/// TARGET (both `tcp://host:port`) it forwards every connection, as a
/// native sidecar would (a Cloud SQL Auth Proxy's role), logging each
/// tunnel. With PORT and ROUTES (`host:port=127.0.0.1:port,...`) it is a
/// corporate proxy: CONNECT tunnels to the hosts ROUTES names, nothing
/// else, and the request line of every request it gets is logged.
pub const RELAY: &str = r#"
import os, socket, sys, threading
from urllib.parse import urlsplit

def pump(a, b):
    try:
        while data := a.recv(65536):
            b.sendall(data)
    except OSError:
        pass
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

def join(client, upstream, rest=b""):
    if rest:
        upstream.sendall(rest)
    for a, b in ((client, upstream), (upstream, client)):
        threading.Thread(target=pump, args=(a, b), daemon=True).start()

def addr(var):
    u = urlsplit(os.environ[var])
    return u.hostname, u.port

def connect(client, route):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = client.recv(4096)
        if not chunk:
            client.close()
            return
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    method, target = head.split(b"\r\n")[0].decode().split(" ")[:2]
    # One write per line: print() from two threads can run lines together.
    sys.stdout.write(f"{method} {target}\n")
    sys.stdout.flush()
    if method != "CONNECT" or target not in route:
        client.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
        client.close()
        return
    host, port = route[target].rsplit(":", 1)
    upstream = socket.create_connection((host, int(port)))
    client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
    join(client, upstream, rest)

if "ROUTES" in os.environ:
    route = dict(r.split("=") for r in os.environ["ROUTES"].split(","))
    server = socket.create_server(("127.0.0.1", int(os.environ["PORT"])))
    while True:
        c, _ = server.accept()
        threading.Thread(target=connect, args=(c, route), daemon=True).start()
else:
    listen, target = addr("LISTEN"), addr("TARGET")
    server = socket.create_server(listen)
    print(f"forwarding {listen} to {target}", flush=True)
    n = 0
    while True:
        client, _ = server.accept()
        n += 1
        print(f"tunnel {n}", flush=True)
        join(client, socket.create_connection(target))
"#;

/// The harness's own look into the TLS store, straight to its loopback
/// port: MODE make creates BUCKETS, MODE list prints BUCKET's keys
/// under PREFIX as JSON.
pub const TLS_STORE: &str = r#"
import json, os, boto3
s3 = boto3.client("s3", endpoint_url=os.environ["S3_ENDPOINT"], region_name="us-east-1",
                  aws_access_key_id="testing", aws_secret_access_key="testing", verify=False)
if os.environ["MODE"] == "make":
    for b in os.environ["BUCKETS"].split(","):
        s3.create_bucket(Bucket=b)
    print("buckets made")
else:
    pages = s3.get_paginator("list_objects_v2").paginate(
        Bucket=os.environ["BUCKET"], Prefix=os.environ.get("PREFIX", ""))
    print(json.dumps([o["Key"] for p in pages for o in p.get("Contents", [])]))
"#;

/// Google's OAuth token endpoint as a service account key's holder meets
/// it: over TLS (CERT, KEY), it answers a signed JWT assertion with an
/// access token, and logs each grant it was asked for.
pub const TOKEN_SERVER: &str = r#"
import http.server, json, os, ssl, urllib.parse
class Token(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        form = urllib.parse.parse_qs(body)
        grant = form.get("grant_type", [""])[0]
        signed = form.get("assertion", [""])[0].count(".") == 2
        print(f"POST {self.path} grant={grant} signed={signed}", flush=True)
        out = json.dumps({"access_token": "ya29.harness", "expires_in": 3600,
                          "token_type": "Bearer"}).encode()
        self.send_response(200 if signed else 400)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", int(os.environ["PORT"])), Token)
tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
tls.load_cert_chain(os.environ["CERT"], os.environ["KEY"])
server.socket = tls.wrap_socket(server.socket, server_side=True)
server.serve_forever()
"#;

/// The harness's own look into a cloud's store, with the cloud's SDK
/// through the proxy (HTTPS_PROXY, REQUESTS_CA_BUNDLE): MODE make creates
/// BUCKETS, MODE list prints BUCKET's object names under PREFIX as JSON,
/// MODE get downloads the newest under PREFIX to OUT.
/// CLOUD is gcs (anonymous: the stand-in takes any caller) or azure
/// (ACCOUNT and KEY).
pub const CLOUD_STORE: &str = r#"
import json, os
mode, cloud = os.environ["MODE"], os.environ["CLOUD"]
if cloud == "gcs":
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage
    client = storage.Client(project="harness", credentials=AnonymousCredentials())
    make = client.create_bucket
    names = lambda b, p: [o.name for o in client.list_blobs(b, prefix=p)]
else:
    from azure.storage.blob import BlobServiceClient
    account = os.environ["ACCOUNT"]
    client = BlobServiceClient(f"https://{account}.blob.core.windows.net",
                               credential={"account_name": account, "account_key": os.environ["KEY"]})
    make = client.create_container
    names = lambda b, p: [o.name for o in client.get_container_client(b).list_blobs(name_starts_with=p)]
if mode == "make":
    for b in os.environ["BUCKETS"].split(","):
        make(b)
    print("made", os.environ["BUCKETS"])
elif mode == "get":
    newest = sorted(names(os.environ["BUCKET"], os.environ["PREFIX"]))[-1]
    bucket, out = os.environ["BUCKET"], os.environ["OUT"]
    if cloud == "gcs":
        client.bucket(bucket).blob(newest).download_to_filename(out)
    else:
        with open(out, "wb") as f:
            f.write(client.get_blob_client(bucket, newest).download_blob().readall())
    print(newest)
else:
    print(json.dumps(names(os.environ["BUCKET"], os.environ.get("PREFIX", ""))))
"#;

/// A run with one artifact through the tracking server, left in place:
/// prints the experiment and run ids.
pub const LOG_ARTIFACT: &str = r#"
import os, tempfile
from mlflow.tracking import MlflowClient
client = MlflowClient()
exp = client.create_experiment(os.environ["EXPERIMENT"])
run = client.create_run(exp)
with tempfile.TemporaryDirectory() as d:
    path = os.path.join(d, "notes.txt")
    with open(path, "w") as f:
        f.write("kept in the cloud's store\n")
    client.log_artifact(run.info.run_id, path)
    # And back through the server (READ_BACK): for an S3 store, MLflow
    # 3.17's client downloads from the store itself, with a URL the server
    # presigns for the store's address as the server reaches it.
    if os.environ.get("READ_BACK"):
        got = client.download_artifacts(run.info.run_id, "notes.txt", d)
        assert open(got).read() == "kept in the cloud's store\n", open(got).read()
client.set_terminated(run.info.run_id)
print(exp, run.info.run_id)
"#;

/// Deletes the run RUN_ID through the tracking server.
pub const DELETE_RUN: &str = r#"
import os
from mlflow.tracking import MlflowClient
MlflowClient().delete_run(os.environ["RUN_ID"])
print("deleted", os.environ["RUN_ID"])
"#;

/// A model logged and registered as `notes` through the tracking server,
/// one with a known answer (2x + y, as the user's in USER_FLOW): prints
/// its version.
pub const LOG_MODEL: &str = r#"
import mlflow
import pandas as pd
class Linear(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input):
        return (model_input["x"] * 2.0 + model_input["y"]).to_numpy()
mlflow.set_experiment("cloud-models")
with mlflow.start_run():
    example = pd.DataFrame({"x": [1.0, 2.0], "y": [0.5, -1.0]})
    info = mlflow.pyfunc.log_model(name="model", python_model=Linear(), input_example=example,
        registered_model_name="notes", pip_requirements=["mlflow==3.17.2"])
print(info.registered_model_version)
"#;
