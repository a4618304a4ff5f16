#!/usr/bin/env bash
# Whole-process times of mlk, as ratios against `mlk --version` (the
# process-spawn floor), all measured in one run on one machine:
#   default render, validate of that output, and renders serving
#   10 / 100 / 1,000 / 10,000 models (pinned storageUris: no registry).
# Runs are interleaved, one of each command per round, so that a slow
# spell of the machine falls on all of them alike, and each command's
# time is its median over the rounds, which one stalled run cannot move.
# Usage: scripts/bench-ratios.sh [ROUNDS]   (default 40; 10,000 models: one
# run every fourth round)
# Prints a table; asserts nothing. Timings belong here, not in tests.
set -euo pipefail
rounds=${1:-40}
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

# Wall time of one run of `$@`, in microseconds, without forking a clock.
run_us() {
    local start=$EPOCHREALTIME
    "$@" > /dev/null 2>&1
    local end=$EPOCHREALTIME
    echo $(( (${end/./} - ${start/./}) ))
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

"$mlk" render > "$work/default.yaml"
for n in 10 100 1000 10000; do models "$n" > "$work/m$n.yaml"; done

names=(floor render validate m10 m100 m1000)
commands=(
    "--version"
    "render"
    "validate $work/default.yaml"
    "render -f $work/m10.yaml"
    "render -f $work/m100.yaml"
    "render -f $work/m1000.yaml"
)
for round in $(seq 1 "$rounds"); do
    for i in "${!names[@]}"; do
        # shellcheck disable=SC2086 # the arguments are split on purpose
        run_us "$mlk" ${commands[$i]} >> "$work/${names[$i]}.us"
    done
    # 10,000 models take a tenth of a second: one run every fourth round
    # (at least one), taken among the others like every other command.
    if (( round % 4 == 0 || (rounds < 4 && round == rounds) )); then
        run_us "$mlk" render -f "$work/m10000.yaml" >> "$work/m10000.us"
    fi
done
declare -A t
for name in "${names[@]}" m10000; do t[$name]=$(median < "$work/$name.us"); done
floor=${t[floor]} render=${t[render]} validate=${t[validate]}
declare -A m=([10]=${t[m10]} [100]=${t[m100]} [1000]=${t[m1000]} [10000]=${t[m10000]})

# Two decimals: the targets are whole numbers, and 1.96 is not 2.04.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
printf '%-28s %10s %8s\n' "run" "median" "ratio"
printf '%-28s %8dus %8s\n' "mlk --version (floor)" "$floor" "1.00"
printf '%-28s %8dus %8s x floor\n' "mlk render (default)" "$render" "$(ratio "$render" "$floor")"
printf '%-28s %8dus %8s x floor\n' "mlk validate (default)" "$validate" "$(ratio "$validate" "$floor")"
for n in 10 100 1000; do
    printf '%-28s %8dus %8s x default\n' "render, $n models" "${m[$n]}" "$(ratio "${m[$n]}" "$render")"
done
printf '%-28s %8dus %8s x 1,000 models\n' "render, 10000 models" "${m[10000]}" "$(ratio "${m[10000]}" "${m[1000]}")"
if [ -x /usr/bin/time ]; then
    /usr/bin/time -o "$work/rss" -f %M "$mlk" render > /dev/null 2>&1
    printf '%-28s %7s KiB\n' "peak RSS, default render" "$(cat "$work/rss")"
fi
