#!/usr/bin/env bash
# How the cost of kubectl-hooks grows: many objects, many waves, many hooks, several apps at
# once, and lint/plan of a large input. On the test control plane, as bench/run.sh.
#
#   bench/scale.sh [--runs N] [--only LIST] [--dir DIR] [--sizes LIST] [--docs N]
#
#   --runs N      measured runs per benchmark and tool (default 3), after one warm-up run
#   --only LIST   comma-separated subset of: scale, jobs, apps, lint (default: all)
#   --dir DIR     use (start if needed, and leave running) the control plane in DIR
#   --sizes LIST  object counts of `scale` (default 1000,3000,10000)
#   --docs N      documents for lint and plan (default 100000)
#
# Benchmarks (medians; within a run the tools take turns, in an order that rotates):
#   scale  N ConfigMaps (bench/gen.sh configmaps) for each N of --sizes:
#          `kubectl hooks sync` in 1, 10 and 100 waves; one unordered
#          `kubectl apply --server-side -f`; and the floor (examples/floor.rs: the same
#          applies with the project's client at the engine's concurrency, no dry run, no
#          lock, no waiting), all at once and in 100 waves (one barrier per wave).
#          Cost per wave beyond its requests = ((sync in 100 waves - sync in 1) -
#          (floor in 100 waves - floor in 1)) / 99.
#   jobs   200 Sync hook Jobs in one wave (pods run 100 ms on tools/test-kubelet): sync vs
#          `kubectl apply --server-side` + `kubectl wait --for=condition=complete`.
#   apps   the seed app (bench/seed) synced into 5 namespaces at once vs into one.
#   lint   lint and plan of --docs generated documents (bench/gen.sh docs).
#
# Each run's namespace is deleted after the run, outside the clock, so the cluster does
# not fill up nor clean up in the background of the next run. Needs GNU time, jq, kubectl.
set -euo pipefail

# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
runs=3
only=scale,jobs,apps,lint
sizes=1000,3000,10000
docs=100000
bench_start runs only sizes docs -- "$@"
[[ -n ${BENCH_NO_BUILD:-} ]] || cargo build --release --quiet --example floor
floor=$root/target/release/examples/floor
if wants scale || wants jobs || wants apps; then
    use_cluster
fi

sync=("$bin" sync --yes -o json)
read -r -a extra <<<"${BENCH_SYNC_ARGS:-}"
sync+=("${extra[@]}")

# The namespace of the run just measured, gone before the next starts.
drop_namespace() {
    kubectl delete namespace "$1" --timeout=300s >/dev/null
    local kept=() ns
    for ns in "${namespaces[@]}"; do [[ $ns == "$1" ]] || kept+=("$ns"); done
    namespaces=("${kept[@]}")
}

if wants scale; then
    for n in ${sizes//,/ }; do
        for w in 1 10 100; do bench/gen.sh configmaps "$n" "$w" "$work/cm$n-w$w"; done
        wave_files=()
        for f in "$work/cm$n-w100"/wave-*.yaml; do wave_files+=(-f "$f"); done
        log "$n ConfigMaps: $runs runs (+1 warm-up) of sync in 1/10/100 waves, kubectl apply, floor"
        for ((r = 0; r <= runs; r++)); do
            mapfile -t order < <(rotate "$r" w1 w10 w100 apply floor1 floor100)
            for tool in "${order[@]}"; do
                fresh_namespace
                case $tool in
                w*) measure "scale$n" "$tool" "$r" "${sync[@]}" -n "$NS" -f "$work/cm$n-${tool}" ;;
                apply) measure "scale$n" apply "$r" kubectl apply --server-side -n "$NS" -f "$work/cm$n-w1" ;;
                floor1) measure "scale$n" floor1 "$r" "$floor" -n "$NS" -f "$work/cm$n-w1" ;;
                floor100) measure "scale$n" floor100 "$r" "$floor" --in-order -n "$NS" "${wave_files[@]}" ;;
                esac
                drop_namespace "$NS"
            done
        done
    done
fi

if wants jobs; then
    bench/gen.sh jobs 200 "$work/jobs"
    log "200 hook Jobs in one wave: $runs runs (+1 warm-up) of sync and of kubectl apply + wait"
    for ((r = 0; r <= runs; r++)); do
        mapfile -t order < <(rotate "$r" hooks apply)
        for tool in "${order[@]}"; do
            fresh_namespace
            if [[ $tool == hooks ]]; then
                measure jobs hooks "$r" "${sync[@]}" -n "$NS" -f "$work/jobs"
            else
                measure jobs apply "$r" bash -c 'kubectl apply --server-side -n "$1" -f "$2" >/dev/null &&
                    kubectl wait -n "$1" --for=condition=complete --timeout=300s -f "$2"' _ "$NS" "$work/jobs"
            fi
            drop_namespace "$NS"
        done
    done
fi

if wants apps; then
    log "5 apps at once: $runs runs (+1 warm-up) of 5 syncs into 5 namespaces and of 1 sync"
    for ((r = 0; r <= runs; r++)); do
        mapfile -t order < <(rotate "$r" five one)
        for tool in "${order[@]}"; do
            if [[ $tool == one ]]; then
                fresh_namespace
                measure apps one "$r" "${sync[@]}" -n "$NS" -f bench/seed
                drop_namespace "$NS"
                continue
            fi
            five=()
            for _ in 1 2 3 4 5; do fresh_namespace && five+=("$NS"); done
            # Peak RSS is that of the largest of the five (GNU time reports the children's).
            measure apps five "$r" bash -c 'for ns in "${@:3}"; do
                    "$1" sync --yes -o json -n "$ns" -f bench/seed >"$2/$ns.json" & done
                status=0
                for job in $(jobs -p); do wait "$job" || status=1; done
                exit "$status"' _ "$bin" "$work" "${five[@]}"
            for ns in "${five[@]}"; do drop_namespace "$ns"; done
        done
    done
fi

if wants lint; then
    bench_lint "$docs" "$docs"
fi

# ---------------------------------------------------------------------------------------------
# The report

ms() { awk -v s="$1" 'BEGIN {printf "%.1f", s * 1000}'; }

report_head examples ratio

if wants scale; then
    for n in ${sizes//,/ }; do
        b=scale$n
        w100=$(stat "$b" w100 4) w1=$(stat "$b" w1 4) apply=$(stat "$b" apply 4)
        f1=$(stat "$b" floor1 4) f100=$(stat "$b" floor100 4)
        row_for "$b" w1 "**$n ConfigMaps**, 1 wave: \`kubectl hooks sync\`" "" "" ""
        row_for "$b" w10 "$n ConfigMaps, 10 waves: sync" "" "" ""
        rss=$(stat "$b" w100 6)
        row_for "$b" w100 "$n ConfigMaps, 100 waves: sync" "" "RSS < 150 MiB" "$(yes_no "$((rss < 150 * 1024))")"
        row_for "$b" apply "$n ConfigMaps: one \`kubectl apply --server-side -f\`" \
            "$(ratio "$w100" "$apply")" "100 waves ≤ 0.5× this" "$(yes_no "$(awk -v a="$w100" -v b="$apply" 'BEGIN {print a / b <= 0.5}')")"
        row_for "$b" floor1 "$n ConfigMaps: floor, all at once" \
            "$(ratio "$w100" "$f1")" "100 waves ≤ 2.5× this" "$(yes_no "$(awk -v a="$w100" -v b="$f1" 'BEGIN {print a / b <= 2.5}')")"
        row_for "$b" floor100 "$n ConfigMaps: floor, 100 waves" "$(ratio "$w100" "$f100")" "" ""
        per=$(awk -v a="$w100" -v b="$w1" -v c="$f100" -v d="$f1" 'BEGIN {printf "%.1f", ((a - b) - (c - d)) / 99 * 1000}')
        row "$n ConfigMaps: cost per wave beyond its requests" "$per ms" "" "" "" "" "" "< 5 ms" "$(yes_no "$(awk -v p="$per" 'BEGIN {print p < 5}')")"
        row "$n ConfigMaps: sync time per object, 1 / 100 waves" "$(ms "$(awk -v a="$w1" -v n="$n" 'BEGIN {print a / n}')") / $(ms "$(awk -v a="$w100" -v n="$n" 'BEGIN {print a / n}')") ms" "" "" "" "" "" "flat in N" ""
    done
fi
if wants jobs; then
    h=$(stat jobs hooks 4) a=$(stat jobs apply 4)
    row_for jobs hooks "**200 hook Jobs**, one wave: \`kubectl hooks sync\`" "" "" ""
    row_for jobs apply "200 hook Jobs: kubectl apply + kubectl wait" "$(ratio "$h" "$a")" "" ""
fi
if wants apps; then
    f=$(stat apps five 4) o=$(stat apps one 4)
    row_for apps one "**seed app**, one sync" "" "" ""
    row_for apps five "seed app: 5 syncs at once into 5 namespaces" "$(ratio "$f" "$o")" "" ""
fi
if wants lint; then
    for t in lint plan; do
        w=$(stat lint "$t" 4) m=$(stat lint "$t" 6)
        target="" met=""
        if [[ $t == lint ]]; then
            target="< 3 s, < 1 GiB"
            met=$(yes_no "$(awk -v w="$w" -v m="$m" 'BEGIN {print w < 3 && m < 1024 * 1024}')")
        fi
        row_for lint "$t" "**$docs documents**: \`kubectl hooks $t\`" "" "$target" "$met"
    done
fi
echo
if wants scale; then
    for n in ${sizes//,/ }; do
        echo "$n ConfigMaps in 10 waves, median step durations: $(step_medians "scale$n" w10)"
    done
fi
if wants jobs; then
    echo "200 hook Jobs, median step durations: $(step_medians jobs hooks)"
fi
