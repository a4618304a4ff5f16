#!/usr/bin/env python3
"""Measures what the pinned `mlflow server` uses, as mlk runs it.

For each shape (workers, the job runner, the AI Gateway) it starts the
server on 127.0.0.1 with the flags and env mlk renders, against a
PostgreSQL or SQLite database given by --backend-store-uri, works it
(experiments, runs with params and metrics, searches, the UI, an
artifact upload), and sums the proportional set size (PSS) of every
process of the server's tree: what the container's memory cgroup is
charged, shared pages split among the workers that share them.

Prints a Markdown table; `src/context/tracking.rs` (`sized_for`) holds
the figures it gave, and docs/traps.md shows them.

    ~/.cache/mlk/venv/bin/python scripts/measure-tracking-memory.py
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

SHAPES = [
    # (workers, job runner, AI Gateway)
    (1, False, False),
    (2, False, False),
    (4, False, False),
    (1, False, True),
    (2, False, True),
    (1, True, False),
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(port, method, path, body=None, raw=None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method)
    req.add_header("Host", "localhost")
    if body is not None:
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=60) as r:
        return r.read()


def tree(pid):
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            with open(f"/proc/{p}/task/{p}/children") as f:
                todo.extend(int(c) for c in f.read().split())
        except OSError:
            pass
    return out


def pss_mib(pid):
    total = 0
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def work(port):
    exp = json.loads(call(port, "POST", "/api/2.0/mlflow/experiments/create",
                          {"name": f"measure-{time.time_ns()}"}))["experiment_id"]
    for i in range(20):
        run = json.loads(call(port, "POST", "/api/2.0/mlflow/runs/create",
                              {"experiment_id": exp}))["run"]["info"]["run_id"]
        call(port, "POST", "/api/2.0/mlflow/runs/log-batch", {
            "run_id": run,
            "params": [{"key": f"p{j}", "value": str(j)} for j in range(20)],
            "metrics": [{"key": "loss", "value": 1.0 / (j + 1), "timestamp": 0, "step": j}
                        for j in range(100)],
        })
    for _ in range(10):
        call(port, "POST", "/api/2.0/mlflow/runs/search",
             {"experiment_ids": [exp], "max_results": 100})
        call(port, "GET", "/")
        call(port, "GET", "/api/2.0/mlflow/registered-models/search?max_results=100")
    call(port, "PUT", f"/api/2.0/mlflow-artifacts/artifacts/{exp}/blob",
         raw=os.urandom(8 << 20))


def measure(backend, workers, jobs, gateway, artifacts):
    port = free_port()
    env = dict(os.environ,
               MLFLOW_SERVER_ENABLE_JOB_EXECUTION=str(jobs).lower(),
               MLFLOW_ENABLE_AI_GATEWAY=str(gateway).lower(),
               MLFLOW_DISABLE_TELEMETRY="true",
               MLFLOW_SQLALCHEMYSTORE_POOL_SIZE="5",
               MLFLOW_SQLALCHEMYSTORE_MAX_OVERFLOW="5")
    cmd = [shutil.which("mlflow") or "mlflow", "server", "--host", "127.0.0.1",
           "--port", str(port), "--backend-store-uri", backend,
           "--artifacts-destination", artifacts, "--serve-artifacts",
           "--workers", str(workers)]
    server = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.time() + 180
        while True:
            try:
                call(port, "GET", "/health")
                break
            except Exception:
                if time.time() > deadline or server.poll() is not None:
                    raise SystemExit(f"the server did not start: {cmd}")
                time.sleep(0.5)
        # Every worker serves some of the work: each has loaded what it uses.
        for _ in range(workers):
            work(port)
        time.sleep(2)
        return pss_mib(server.pid)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend-store-uri", help="default: a SQLite file in a temporary folder")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        backend = args.backend_store_uri or f"sqlite:///{tmp}/mlflow.db"
        print("| workers | job runner | AI Gateway | measured PSS (MiB) |")
        print("|---|---|---|---|")
        for workers, jobs, gateway in SHAPES:
            mib = measure(backend, workers, jobs, gateway, f"{tmp}/artifacts")
            yn = lambda b: "on" if b else "off"
            print(f"| {workers} | {yn(jobs)} | {yn(gateway)} | {mib:.0f} |", flush=True)


if __name__ == "__main__":
    sys.exit(main())
