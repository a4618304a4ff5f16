#!/usr/bin/env bash
# Time and peak memory of what a spec or a stream can make mlk do at
# scale, outside the default render's path:
#   mlk diff on two streams of 100,000 objects (a few of them changed),
#   a spec with 10,000 patches (refused at once: at most 256 apply),
#   and one with 256 patches, the most that apply.
# Prints a table; asserts nothing. Timings belong here, not in tests.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
mlk=$PWD/target/release/mlk
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export MLK_SECRET_KEY=0123456789abcdef0123456789abcdef-bench

stream() { # N, the value of every tenth thousand's key
    awk -v n="$1" -v changed="$2" 'BEGIN {
        for (i = 0; i < n; i++) {
            v = (i % 10000 == 0) ? changed : "same"
            printf "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c%d, namespace: ns}\ndata: {k: %s}\n", i, v
        }
    }'
}
patches() { # N
    printf 'apiVersion: mlk/v1alpha1\nkind: Platform\npatches:\n'
    for i in $(seq 1 "$1"); do
        printf '  - {target: {kind: Service, name: mlflow-tracking}, merge: {metadata: {labels: {l%d: x}}}}\n' "$i"
    done
}
stream 100000 old > "$work/old.yaml"
stream 100000 new > "$work/new.yaml"
patches 10000 > "$work/p10000.yaml"
patches 256 > "$work/p256.yaml"

measure() { # label, command...
    local label=$1
    shift
    /usr/bin/time -o "$work/t" -f '%e %M' "$@" > /dev/null 2>&1 || true
    read -r secs kib < <(tail -n 1 "$work/t")
    printf '%-34s %8s s %10s KiB\n' "$label" "$secs" "$kib"
}
printf '%-34s %10s %14s\n' "run" "time" "peak memory"
measure "mlk diff, 100,000 objects" "$mlk" diff "$work/old.yaml" "$work/new.yaml"
measure "mlk render, 10,000 patches" "$mlk" render -f "$work/p10000.yaml"
measure "mlk render, 256 patches" "$mlk" render -f "$work/p256.yaml"
measure "mlk render (default), for scale" "$mlk" render
