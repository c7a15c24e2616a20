#!/usr/bin/env bash
# Lint and plan on a generated input: prints wall time and peak memory of each.
#
#   bench/lint-plan.sh [DOCS]        (default 10000 documents, in files of 100)
#   BENCH_DIR=/tmp/in bench/lint-plan.sh   keeps the generated input in /tmp/in
#
# Target (DESIGN.md): 10,000 documents in under 0.5 s and 150 MB. Needs GNU time
# (/usr/bin/time -v; Debian package `time`). Builds the release binary first.
set -euo pipefail

docs=${1:-10000}
cd "$(dirname "$0")/.."
if [[ ! -x /usr/bin/time ]]; then
    echo "needs GNU time at /usr/bin/time (apt-get install time)" >&2
    exit 2
fi
cargo build --release --quiet
bin=target/release/kubectl-hooks

# BENCH_DIR=path keeps the generated input there (for profiling); otherwise a temp dir.
if [[ -n "${BENCH_DIR:-}" ]]; then
    dir=$BENCH_DIR
    mkdir -p "$dir"
    rm -f "$dir"/part-*.yaml
else
    dir=$(mktemp -d)
    trap 'rm -rf "$dir"' EXIT
fi

bench/gen.sh docs "$docs" "$dir" # the same input as bench/run.sh

bytes=$(cat "$dir"/*.yaml | wc -c)
echo "input: $docs documents, $(ls "$dir" | wc -l) files, $((bytes / 1024)) KiB"

measure() {
    local label=$1
    shift
    local log
    log=$(mktemp)
    /usr/bin/time -v "$@" >/dev/null 2>"$log" || true
    local wall cpu rss
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$log")
    cpu=$(awk -F': ' '/User time/ {u = $2} /System time/ {s = $2} END {printf "%.2f", u + s}' "$log")
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
    # CPU time (user + system) is the steadier number on a busy machine.
    printf '%-16s wall %s   cpu %s s   peak RSS %d MiB\n' "$label" "$wall" "$cpu" "$((rss / 1024))"
    rm -f "$log"
}

measure "lint (text)" "$bin" lint -f "$dir"
measure "lint -o json" "$bin" lint -o json -f "$dir"
measure "lint -o sarif" "$bin" lint -o sarif -f "$dir"
measure "plan" "$bin" plan -f "$dir"
measure "plan -o json" "$bin" plan -o json -f "$dir"
