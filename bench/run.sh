#!/usr/bin/env bash
# The benchmarks of kubectl-hooks, against its peers, on the test control plane.
#
#   bench/run.sh [--runs N] [--only LIST] [--dir DIR]
#
#   --runs N     measured runs per benchmark and tool (default 5), after one warm-up run
#   --only LIST  comma-separated subset of: seed, configmaps, waves, lint (default: all)
#   --dir DIR    use (start if needed, and leave running) the control plane in DIR
#
# Cluster: with --dir, the control plane of scripts/control-plane in DIR; else the cluster of
# KUBECONFIG when it is set; else a control plane of its own in a temp dir, stopped at the
# end. The seed app's pods only become ready on the test control plane (tools/test-kubelet).
# Every run syncs into a fresh namespace (created before the clock starts, deleted at the end).
#
# Benchmarks (medians of N runs; runs of peers interleaved with ours):
#   seed        bench/seed (PreSync Job, ConfigMap+Secret in wave 0, Deployment+Service in
#               wave 1, PostSync Job; pods ready 100 ms after creation): `kubectl hooks sync`
#               vs bench/peers/kubectl-loop.sh (kubectl apply --server-side + wait per step),
#               and vs Argo CD's floor, computed: our time + 2 s per step transition.
#   configmaps  1,000 ConfigMaps in 10 waves: sync vs one unordered
#               `kubectl apply --server-side -f` of the same files.
#   waves       the engine's cost per wave: 10 ConfigMaps in 10 waves vs in 1 wave.
#   lint        lint and plan of 10,000 generated documents (bench/gen.sh docs).
#
# BENCH_SYNC_ARGS adds flags to every `kubectl hooks sync` (e.g. "--concurrency 64").
#
# Prints a Markdown table: wall time (median, min-max), CPU time (user+system, steadier on a
# busy machine), peak RSS (GNU time), API requests of the sync (`-o json` apiRequests: all
# of them, discovery and dry run included, but the lock's release after the report), the
# time ratio ours / peer, and the targets of DESIGN.md. Needs GNU time, jq and kubectl.
set -euo pipefail

# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
runs=5
only=seed,configmaps,waves,lint
bench_start runs only -- "$@"
if wants seed || wants configmaps || wants waves; then
    use_cluster
fi

sync=("$bin" sync --yes -o json)
read -r -a extra <<<"${BENCH_SYNC_ARGS:-}"
sync+=("${extra[@]}")

# ---------------------------------------------------------------------------------------------
# The benchmarks. Each run alternates which tool goes first.

seed_steps=""
if wants seed; then
    log "seed app: $runs runs (+1 warm-up) of kubectl hooks sync and of the kubectl loop"
    for ((r = 0; r <= runs; r++)); do
        mapfile -t order < <(rotate "$r" hooks loop)
        for tool in "${order[@]}"; do
            fresh_namespace
            if [[ $tool == hooks ]]; then
                measure seed hooks "$r" "${sync[@]}" -n "$NS" -f bench/seed
            else
                measure seed "loop" "$r" bench/peers/kubectl-loop.sh "$NS" bench/seed
            fi
        done
    done
    seed_steps=$(awk -F'\t' '$1 == "seed" && $2 == "hooks" {print $8; exit}' "$results" | tr ',' '\n' | wc -l)
fi

if wants configmaps; then
    bench/gen.sh configmaps 1000 10 "$work/cm1000"
    log "1,000 ConfigMaps in 10 waves: $runs runs (+1 warm-up) of sync and of kubectl apply"
    for ((r = 0; r <= runs; r++)); do
        mapfile -t order < <(rotate "$r" hooks apply)
        for tool in "${order[@]}"; do
            fresh_namespace
            if [[ $tool == hooks ]]; then
                measure configmaps hooks "$r" "${sync[@]}" -n "$NS" -f "$work/cm1000"
            else
                measure configmaps apply "$r" kubectl apply --server-side -n "$NS" -f "$work/cm1000"
            fi
        done
    done
fi

if wants waves; then
    bench/gen.sh configmaps 10 10 "$work/cm10x10"
    bench/gen.sh configmaps 10 1 "$work/cm10x1"
    log "cost per wave: $runs runs (+1 warm-up) of 10 ConfigMaps in 10 waves and in 1 wave"
    for ((r = 0; r <= runs; r++)); do
        for tool in ten one; do
            fresh_namespace
            dir=$work/cm10x10
            [[ $tool == one ]] && dir=$work/cm10x1
            measure waves "$tool" "$r" "${sync[@]}" -n "$NS" -f "$dir"
        done
    done
fi

if wants lint; then
    bench_lint 10000 10,000
fi

# ---------------------------------------------------------------------------------------------
# The report


report_head "" "ours ÷ peer"

if wants seed; then
    h=$(stat seed hooks 4) l=$(stat seed loop 4)
    transitions=$((seed_steps - 1))
    argo=$(awk -v h="$h" -v n="$transitions" 'BEGIN {printf "%.3f", h + 2 * n}')
    row_for seed hooks "**seed app** ($seed_steps steps): \`kubectl hooks sync\`" "" "" ""
    row_for seed loop "seed app: kubectl apply + wait loop" "$(ratio "$h" "$l")" "≤ 0.50" "$(yes_no "$(awk -v a="$h" -v b="$l" 'BEGIN {print a / b <= 0.5}')")"
    row "seed app: Argo CD floor = ours + 2 s × $transitions transitions (computed)" "$argo" "" "" "" "" "$(ratio "$h" "$argo")" "" ""
fi
if wants configmaps; then
    h=$(stat configmaps hooks 4) a=$(stat configmaps apply 4)
    row_for configmaps hooks "**1,000 ConfigMaps, 10 waves**: \`kubectl hooks sync\`" "" "" ""
    row_for configmaps apply "1,000 ConfigMaps: one \`kubectl apply --server-side -f\`" "$(ratio "$h" "$a")" "≤ 1.00" "$(yes_no "$(awk -v a="$h" -v b="$a" 'BEGIN {print a / b <= 1}')")"
    hr=$(stat configmaps hooks 6)
    row "1,000 ConfigMaps: sync peak memory" "" "" "" "$(mib "$hr")" "" "" "< 60 MiB" "$(yes_no "$((hr < 60 * 1024))")"
fi
if wants waves; then
    ten=$(stat waves ten 4) one=$(stat waves one 4)
    per=$(awk -v a="$ten" -v b="$one" 'BEGIN {printf "%.0f", (a - b) / 9 * 1000}')
    row_for waves ten "**cost per wave**: 10 ConfigMaps in 10 waves" "" "" ""
    row_for waves one "cost per wave: the same 10 ConfigMaps in 1 wave" "" "" ""
    row "cost per wave = (10 waves − 1 wave) ÷ 9, incl. one apply round trip" "$per ms" "" "" "" "" "" "< 50 ms" "$(yes_no "$((per < 50))")"
fi
if wants lint; then
    for t in lint plan; do
        w=$(stat lint "$t" 4) m=$(stat lint "$t" 6)
        row_for lint "$t" "**10,000 documents**: \`kubectl hooks $t\`" "" "< 0.5 s, < 150 MiB" \
            "$(yes_no "$(awk -v w="$w" -v m="$m" 'BEGIN {print w < 0.5 && m < 150 * 1024}')")"
    done
fi
echo
if wants seed; then
    echo "seed app, median step durations of the sync: $(step_medians seed hooks) (each pod is ready 100 ms after it is created)"
    echo "seed app, median time outside the steps (start-up, discovery, dry run, lock, report): $(awk -F'\t' '$1 == "seed" && $2 == "hooks" {n = split($8, s, ","); t = 0; for (i = 1; i <= n; i++) {split(s[i], kv, "="); t += kv[2]} print $4 * 1000 - t}' "$results" | sort -g | awk '{v[NR] = $1} END {printf "%.0f ms", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}')"
fi
if wants waves; then
    echo "10 single-ConfigMap waves, median step durations: $(step_medians waves ten)"
fi
if wants configmaps; then
    echo "1,000 ConfigMaps, median step durations: $(step_medians configmaps hooks)"
fi
