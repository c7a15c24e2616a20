#!/usr/bin/env bash
# diff, status and sync --prune of a 1,000-object app (1,000 ConfigMaps in 10 waves), once
# it is synced: each command that this build has, with wall time, CPU, peak RSS and API
# requests. A command the binary does not have is reported as missing, not measured.
#
#   bench/ops.sh [--runs N] [--dir DIR]
#
#   --runs N   measured runs per command (default 5), after one warm-up run
#   --dir DIR  use (start if needed, and leave running) the control plane in DIR
#
# Every command names the app (the two input directories would give two app names). diff
# and status run against the synced app (nothing to change); --prune syncs the input without
# its last 100 objects into a fresh copy of the app, so each run prunes 100.
set -euo pipefail

# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
runs=5
bench_start runs -- "$@"
use_cluster

has() { "$bin" "$1" --help >/dev/null 2>&1; }
has_prune() { "$bin" sync --help 2>/dev/null | grep -q -- '--prune'; }

bench/gen.sh configmaps 1000 10 "$work/app"
mkdir -p "$work/pruned"
cp "$work/app"/wave-*.yaml "$work/pruned/"
rm "$work/pruned/wave-009.yaml" # the last wave: 100 ConfigMaps

app=(--app bench)
fresh_namespace
app_ns=$NS
"$bin" sync --yes -o json "${app[@]}" -n "$app_ns" -f "$work/app" >/dev/null

missing=()
for ((r = 0; r <= runs; r++)); do
    for cmd in diff status; do
        if has "$cmd"; then
            measure ops "$cmd" "$r" "$bin" "$cmd" -o json "${app[@]}" -n "$app_ns" -f "$work/app"
        fi
    done
    if has_prune; then
        fresh_namespace
        "$bin" sync --yes -o json "${app[@]}" -n "$NS" -f "$work/app" >/dev/null
        measure ops prune "$r" "$bin" sync --yes --prune -o json "${app[@]}" -n "$NS" -f "$work/pruned"
    fi
done
has diff || missing+=(diff)
has status || missing+=(status)
has_prune || missing+=("sync --prune")

echo
echo "kubectl-hooks $(git rev-parse --short HEAD), $runs runs per row (medians), $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "load (1/5/15 min) $load_start at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end"
echo
row "command (1,000-object app)" "wall s" "min–max" "CPU s" "peak RSS MiB" "API requests" "" "" ""
row "---" "--:" "--:" "--:" "--:" "--:" "" "" ""
for cmd in diff status prune; do
    [[ -n $(stat ops "$cmd" 4) ]] && row_for ops "$cmd" "\`$cmd\`" "" "" ""
done
[[ ${#missing[@]} -eq 0 ]] || echo "not in this build (not measured): ${missing[*]}"
