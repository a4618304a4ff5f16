#!/usr/bin/env bash
# Whole-process times of mlk, as ratios against `mlk --version` (the
# process-spawn floor), all measured in one run on one machine:
#   default render, validate of that output, and renders serving
#   10 / 100 / 1,000 / 10,000 models (pinned storageUris: no registry).
# Usage: scripts/bench-ratios.sh [RUNS]   (default 20; 10,000 models: 3)
# Prints a table; asserts nothing. Timings belong here, not in tests.
set -euo pipefail
runs=${1:-20}
cd "$(dirname "$0")/.."
cargo build --release --quiet
mlk=$PWD/target/release/mlk
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export MLK_SECRET_KEY=0123456789abcdef0123456789abcdef-bench

models() {
    printf 'apiVersion: mlk/v1alpha1\nkind: Platform\nserving:\n  models:\n'
    for i in $(seq 1 "$1"); do
        printf '    - {name: m%d, registeredModel: m%d, storageUri: "s3://mlflow/1/models/m-%d/artifacts"}\n' "$i" "$i" "$i"
    done
}

# Mean wall time of `$@` over N runs, in microseconds.
mean_us() {
    local n=$1
    shift
    local start end
    start=$(date +%s%N)
    for _ in $(seq 1 "$n"); do "$@" > /dev/null 2>&1; done
    end=$(date +%s%N)
    echo $(( (end - start) / n / 1000 ))
}

"$mlk" render > "$work/default.yaml"
for n in 10 100 1000 10000; do models "$n" > "$work/m$n.yaml"; done

floor=$(mean_us "$runs" "$mlk" --version)
render=$(mean_us "$runs" "$mlk" render)
validate=$(mean_us "$runs" "$mlk" validate "$work/default.yaml")
declare -A m
for n in 10 100 1000; do m[$n]=$(mean_us "$runs" "$mlk" render -f "$work/m$n.yaml"); done
m[10000]=$(mean_us 3 "$mlk" render -f "$work/m10000.yaml")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'; }
printf '%-28s %10s %8s\n' "run" "mean" "ratio"
printf '%-28s %8dus %8s\n' "mlk --version (floor)" "$floor" "1.0"
printf '%-28s %8dus %8s x floor\n' "mlk render (default)" "$render" "$(ratio "$render" "$floor")"
printf '%-28s %8dus %8s x floor\n' "mlk validate (default)" "$validate" "$(ratio "$validate" "$floor")"
for n in 10 100 1000; do
    printf '%-28s %8dus %8s x default\n' "render, $n models" "${m[$n]}" "$(ratio "${m[$n]}" "$render")"
done
printf '%-28s %8dus %8s x 1,000 models\n' "render, 10000 models" "${m[10000]}" "$(ratio "${m[10000]}" "${m[1000]}")"
