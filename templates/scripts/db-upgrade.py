# Runs `mlflow db upgrade` once, however many replicas start at the same
# time: alembic takes no lock of its own, so concurrent upgrades of a fresh
# database race (mlflow#1948). A PostgreSQL advisory lock makes the first
# replica migrate while the others wait, then find the schema current.
# The password comes from the pgpass file libpq reads (PGPASSFILE, written
# by the credential-files step); it is never in argv or the environment.
import os
import subprocess
import sys
import time

import psycopg
import psycopg.sql

LOCK_ID = 0x6D6C6B  # "mlk"
# Waiting will not change a refused password or a missing user or
# database: fail at once, so the pod's restarts show it instead of a silent
# 10 minutes. psycopg sets no sqlstate on a failed connection, so libpq's
# words decide.
FATAL = [
    ("password authentication failed", "the database refused the password"),
    ("does not exist", "the database has no such user or database"),
]
uri = sys.argv[1]
conninfo = uri.replace("postgresql+psycopg://", "postgresql://", 1)
deadline = time.monotonic() + 600
while True:
    try:
        conn = psycopg.connect(conninfo, autocommit=True, connect_timeout=5)
        break
    except psycopg.OperationalError as e:
        fatal = next((why for words, why in FATAL if words in str(e)), None)
        if fatal:
            sys.exit(f"{fatal}: {str(e).strip()}")
        if time.monotonic() > deadline:
            sys.exit(f"the database did not answer for 10 minutes: {e}")
        print(f"waiting for the database: {str(e).strip()}", flush=True)
        time.sleep(2)
with conn:
    conn.execute("SELECT pg_advisory_lock(%s)", (LOCK_ID,))
    code = subprocess.call(["mlflow", "db", "upgrade", uri])
    # With a login app (MLflow's own, or the OIDC plugin): its user store,
    # in a schema of its own (each keeps an alembic_version table),
    # migrated under the same lock, so no replica's server migrates it.
    if code == 0 and len(sys.argv) > 4:
        auth_uri, schema, app = sys.argv[2], sys.argv[3], sys.argv[4]
        conn.execute(psycopg.sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
            psycopg.sql.Identifier(schema)))
        runs = {
            "basic-auth": ["-m", "mlflow.server.auth"],
            "oidc-auth": ["-c", "from mlflow_oidc_auth.db.cli import commands; commands()"],
        }
        upgrade = ["db", "upgrade"] if app == "basic-auth" else ["upgrade"]
        code = subprocess.call([sys.executable, *runs[app], *upgrade, "--url", auth_uri])
    # The platform's own logins (USER:ROLE:VAR, the password in VAR, never
    # in argv): each created, or its password and role set again, so a
    # changed Secret takes effect on the next rollout.
    # Under the OIDC plugin, mlk puts oidc-logins.py before this script.
    if code == 0 and len(sys.argv) > 5 and sys.argv[4] == "oidc-auth":
        oidc_logins(sys.argv[2], sys.argv[5:])
    elif code == 0 and len(sys.argv) > 5:
        from mlflow.server.auth.sqlalchemy_store import SqlAlchemyStore
        store = SqlAlchemyStore()
        store.init_db(sys.argv[2])
        for login in sys.argv[5:]:
            user, role, var = login.split(":")
            password, admin = os.environ[var], role == "admin"
            if store.has_user(user):
                store.update_user(user, password=password, is_admin=admin)
            else:
                store.create_user(user, password, is_admin=admin)
            print(f"login {user} ({role}) is ready", flush=True)
    # The spec's workspaces, when it lists any: mlk puts workspaces.py,
    # which defines set_up_workspaces, before this script.
    if code == 0 and "set_up_workspaces" in globals():
        set_up_workspaces(uri, sys.argv[2:5])
    sys.exit(code)
