#!/usr/bin/env bash
# The benchmarks of an app's inventory (issue 15): `diff` and `status` of a 1,000-object app
# against `kubectl diff --server-side` of the same objects, and a `sync --prune` that prunes 100
# of 1,000 objects against the same sync without --prune. On the cluster of KUBECONFIG.
#
#   bench/app.sh [--runs N] [BINARY]     (default: 3 runs, target/release/kubectl-hooks)
#
# Prints a Markdown table of wall-time medians (min-max). Every namespace it makes is deleted
# at the end.
set -euo pipefail

runs=3
if [[ ${1:-} == --runs ]]; then
    runs=$2
    shift 2
fi
bin=${1:-target/release/kubectl-hooks}
cd "$(dirname "$0")/.."
[[ -x $bin ]] || { echo "bench/app.sh: no binary $bin (cargo build --release)" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/kh-bench-app.XXXXXX")
namespaces=()
cleanup() {
    for ns in "${namespaces[@]}"; do kubectl delete namespace "$ns" --wait=false >/dev/null 2>&1 || true; done
    rm -rf "$work"
}
trap cleanup EXIT

fresh_namespace() {
    local ns
    ns="kh-bench-app-$(date +%s%N | tail -c 9)"
    kubectl create namespace "$ns" >/dev/null
    namespaces+=("$ns")
    echo "$ns"
}

# Milliseconds one command takes (its exit code is ignored: diff exits 1 on differences).
ms() {
    local start end
    start=$(date +%s%N)
    "$@" >/dev/null 2>&1 || true
    end=$(date +%s%N)
    echo $(((end - start) / 1000000))
}

# "median (min-max)" of the numbers on stdin.
summary() {
    sort -n | awk '{a[NR]=$1} END {printf "%d ms (%d-%d)", a[int((NR+1)/2)], a[1], a[NR]}'
}

bench/gen.sh configmaps 1000 10 "$work/all"
mkdir -p "$work/less"
cp "$work/all"/wave-00[0-8].yaml "$work/less/"   # the last wave's 100 objects left out

ns=$(fresh_namespace)
"$bin" sync -f "$work/all" -n "$ns" --app bench --yes >/dev/null 2>&1
# 100 of the objects changed, so both diffs have something to show.
sed -i 's/level: info/level: debug/' "$work/all/wave-005.yaml"

declare -A rows
for _ in $(seq "$runs"); do
    rows[kubectl-diff]+="$(ms kubectl diff --server-side --force-conflicts -f "$work/all" -n "$ns") "
    rows[hooks-diff]+="$(ms "$bin" diff -f "$work/all" -n "$ns" --app bench) "
    rows[hooks-status-f]+="$(ms "$bin" status -f "$work/all" -n "$ns" --app bench) "
    rows[hooks-status]+="$(ms "$bin" status -n "$ns" --app bench) "

    plain=$(fresh_namespace)
    pruning=$(fresh_namespace)
    "$bin" sync -f "$work/all" -n "$plain" --app bench --yes >/dev/null 2>&1
    "$bin" sync -f "$work/all" -n "$pruning" --app bench --yes >/dev/null 2>&1
    rows[sync-900]+="$(ms "$bin" sync -f "$work/less" -n "$plain" --app bench --yes) "
    rows[sync-900-prune-100]+="$(ms "$bin" sync -f "$work/less" -n "$pruning" --app bench --yes --prune) "
    left=$(kubectl get configmaps -n "$pruning" -o name | grep -c config- || true)
    [[ $left == 900 ]] || { echo "bench/app.sh: the prune left $left objects, not 900" >&2; exit 1; }
done

echo "| benchmark (1,000 ConfigMaps, 10 waves; $runs runs) | wall time, median (min-max) |"
echo "|---|---|"
for key in kubectl-diff hooks-diff hooks-status-f hooks-status sync-900 sync-900-prune-100; do
    echo "| $key | $(tr ' ' '\n' <<<"${rows[$key]}" | grep . | summary) |"
done
