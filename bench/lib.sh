# Shared by bench/run.sh, bench/scale.sh and bench/ops.sh (sourced first thing): their command
# line, the work directory, the cluster, measuring under GNU time, medians, the report.
#
# A script sets the defaults of its options, then calls `bench_start OPTION... -- "$@"`.

log() { printf 'bench: %s\n' "$*" >&2; }

# bench_start OPTION... -- ARGS...: reads the script's command line, where each `--OPTION
# VALUE` sets the variable OPTION, `--dir DIR` sets cp_dir (the control plane to use, see
# use_cluster) and -h/--help prints the script's header comment; checks --runs; moves to the
# repository root (root) and checks the tools; then bench_setup.
bench_start() {
    local options=() option
    while [[ $1 != -- ]]; do options+=("$1") && shift; done
    shift
    me=bench/$(basename "$0")
    cp_dir=""
    while [[ $# -gt 0 ]]; do
        option=${1#--}
        case "$1" in
        --dir) cp_dir=$2 && shift 2 ;;
        -h | --help) sed -n '2,/^[^#]/s/^# \{0,1\}//p' "$0" && exit 0 ;;
        --*) if [[ " ${options[*]} " == *" $option "* ]]; then
            printf -v "$option" '%s' "$2" && shift 2
        else
            echo "$me: unknown argument $1 (see --help)" >&2 && exit 2
        fi ;;
        *) echo "$me: unknown argument $1 (see --help)" >&2 && exit 2 ;;
        esac
    done
    [[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "$me: --runs needs a positive number" >&2; exit 2; }
    cd "$(dirname "$0")/.."
    root=$PWD
    for tool in /usr/bin/time jq kubectl cargo; do
        command -v "$tool" >/dev/null || { echo "$me: needs $tool (Debian: time, jq, kubectl)" >&2; exit 2; }
    done
    bench_setup
}

# wants NAME: whether --only names the benchmark NAME.
wants() { [[ ",$only," == *",$1,"* ]]; }

# rotate R WORDS...: the words, rotated left by R (who goes first changes every run).
rotate() {
    local r=$1
    shift
    local n=$# words=("$@") i
    for ((i = 0; i < n; i++)); do printf '%s\n' "${words[(i + r) % n]}"; done
}

# bench_lint DOCS SAID: lint and plan of DOCS generated documents (bench/gen.sh docs, SAID
# in the log), as benchmark `lint`, tools `lint` and `plan`.
bench_lint() {
    bench/gen.sh docs "$1" "$work/docs"
    log "lint and plan of $2 documents: $runs runs (+1 warm-up) each"
    for ((r = 0; r <= runs; r++)); do
        measure lint lint "$r" "$bin" lint -f "$work/docs"
        measure lint plan "$r" "$bin" plan -f "$work/docs"
    done
}

# report_head PATHS RATIO: the lines above the table of a report (the build: changes under
# src, Cargo.toml, Cargo.lock and PATHS; the machine; the cluster), and its header, the
# ratio column named RATIO.
report_head() {
    echo
    echo "kubectl-hooks $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src Cargo.toml Cargo.lock ${1:+"$1"} || echo '+changes'), $runs runs per row (medians), $(date -u '+%Y-%m-%d %H:%M UTC')${BENCH_SYNC_ARGS:+, sync $BENCH_SYNC_ARGS}"
    echo "machine: $(nproc) cores, $(free -h | awk '/^Mem:/ {print $2}') RAM, kernel $(uname -r); load (1/5/15 min) $load_start at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end"
    [[ -n ${server:-} ]] && echo "cluster: $server; $(kubectl version 2>/dev/null | tr '\n' ' ' | sed 's/ *$//')"
    echo
    row "benchmark / tool" "wall s" "min–max" "CPU s" "peak RSS MiB" "API requests" "$2" "target" "met"
    row "---" "--:" "--:" "--:" "--:" "--:" "--:" "---" "---"
}

# bench_setup: the temp work dir (removed at the exit), the results file, the release binary.
bench_setup() {
    work=$(mktemp -d "${TMPDIR:-/tmp}/kh-bench-run.XXXXXX")
    own_cp=""
    namespaces=()
    trap cleanup EXIT
    trap 'exit 130' INT TERM
    load_start=$(cut -d' ' -f1-3 /proc/loadavg)
    # BENCH_NO_BUILD=1 measures the release binary as it is (for trying the scripts out).
    if [[ -z ${BENCH_NO_BUILD:-} ]]; then
        log "building the release binary"
        cargo build --release --quiet
    fi
    bin=$root/target/release/kubectl-hooks
    results=$work/results.tsv # bench tool run wall cpu rss_kib requests steps
    : >"$results"
}

cleanup() {
    local status=$?
    if [[ ${#namespaces[@]} -gt 0 && -z $own_cp ]]; then
        log "deleting ${#namespaces[@]} benchmark namespaces (in the background of the cluster)"
        kubectl delete namespace "${namespaces[@]}" --wait=false >/dev/null 2>&1 || true
    fi
    if [[ -n $own_cp ]]; then
        log "stopping the control plane in $own_cp"
        scripts/control-plane down --dir "$own_cp" >/dev/null 2>&1 || true
    fi
    rm -rf "$work"
    exit "$status"
}

# use_cluster: with cp_dir, the control plane there (started if needed, left running); else
# KUBECONFIG's cluster; else a control plane of its own in a temp dir, stopped at the exit.
use_cluster() {
    if [[ -n $cp_dir ]]; then
        scripts/control-plane up --dir "$cp_dir" >/dev/null
        export KUBECONFIG="$cp_dir/kubeconfig"
    elif [[ -z ${KUBECONFIG:-} ]]; then
        own_cp=$(mktemp -d "${TMPDIR:-/tmp}/kh-bench-cp.XXXXXX")
        log "starting a control plane in $own_cp (scripts/control-plane up)"
        scripts/control-plane up --dir "$own_cp" >/dev/null
        export KUBECONFIG="$own_cp/kubeconfig"
    fi
    server=$(kubectl config view --minify -o jsonpath='{.clusters[0].cluster.server}')
    log "cluster: $server (KUBECONFIG=$KUBECONFIG)"
}

# measure BENCH TOOL RUN CMD...: runs CMD once under GNU time; records wall (clock around it),
# user+system CPU and peak RSS; for `-o json` syncs also apiRequests and step durations.
# RUN 0 is the warm-up: run, checked, not recorded.
measure() {
    local bench=$1 tool=$2 run=$3
    shift 3
    local t0 t1
    t0=$(date +%s%N)
    if ! /usr/bin/time -f '%U %S %M' -o "$work/time" "$@" >"$work/out" 2>"$work/err"; then
        log "FAILED: $bench / $tool: $*"
        tail -n 20 "$work/err" "$work/out" >&2
        exit 1
    fi
    t1=$(date +%s%N)
    [[ $run -eq 0 ]] && return 0
    local user sys rss requests="" steps=""
    read -r user sys rss < <(tail -n 1 "$work/time")
    if jq -e '.apiRequests' "$work/out" >/dev/null 2>&1; then
        requests=$(jq '.apiRequests' "$work/out")
        steps=$(jq -r '[(.steps // [])[] | "\(.phase)/\(.wave)=\(.durationMs)"] | join(",")' "$work/out")
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$bench" "$tool" "$run" \
        "$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", (b - a) / 1e9}')" \
        "$(awk -v u="$user" -v s="$sys" 'BEGIN {printf "%.3f", u + s}')" \
        "$rss" "$requests" "$steps" >>"$results"
}

# A fresh, empty namespace whose default ServiceAccount exists (pods need it), made before
# the clock starts.
fresh_namespace() {
    local ns
    ns="bench-$(date +%s%N | tail -c 10)"
    kubectl create namespace "$ns" >/dev/null
    kubectl label namespace "$ns" bench.kubectl-hooks.io/run=true >/dev/null
    local tries=0
    until kubectl -n "$ns" get serviceaccount default >/dev/null 2>&1; do
        tries=$((tries + 1))
        [[ $tries -lt 100 ]] || { log "namespace $ns got no default ServiceAccount"; exit 1; }
        sleep 0.1
    done
    namespaces+=("$ns")
    NS=$ns
}

# median BENCH TOOL COLUMN (4 wall, 5 cpu, 6 rss, 7 requests); "min-max" with RANGE=1.
stat() {
    local bench=$1 tool=$2 col=$3 what=${4:-median}
    awk -F'\t' -v b="$bench" -v t="$tool" -v c="$col" '$1 == b && $2 == t && $c != "" {print $c}' "$results" |
        sort -g | awk -v what="$what" '
            {v[NR] = $1}
            END {
                if (NR == 0) { print ""; exit }
                if (what == "min") print v[1]
                else if (what == "max") print v[NR]
                else if (NR % 2) print v[(NR + 1) / 2]
                else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2
            }'
}

# Median duration (ms) of each step of a bench/tool, "phase/wave=ms" joined by ", ".
step_medians() {
    awk -F'\t' -v b="$1" -v t="$2" '$1 == b && $2 == t {print $8}' "$results" |
        tr ',' '\n' | awk -F= '
            { if (!($1 in seen)) { order[++n] = $1; seen[$1] = 1 } v[$1, ++c[$1]] = $2 }
            END {
                for (i = 1; i <= n; i++) {
                    k = order[i]; m = c[k]
                    for (a = 1; a <= m; a++) x[a] = v[k, a]
                    for (a = 1; a <= m; a++) for (b = a + 1; b <= m; b++) if (x[b] < x[a]) { t = x[a]; x[a] = x[b]; x[b] = t }
                    med = (m % 2) ? x[(m + 1) / 2] : (x[m / 2] + x[m / 2 + 1]) / 2
                    printf "%s%s %d ms", (i > 1 ? ", " : ""), k, med
                }
            }'
}

mib() { [[ -n $1 ]] && awk -v k="$1" 'BEGIN {printf "%.0f", k / 1024}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
row() { printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$@"; }
# row_for BENCH TOOL LABEL RATIO TARGET MET
row_for() {
    local b=$1 t=$2
    row "$3" "$(stat "$b" "$t" 4)" "$(stat "$b" "$t" 4 min)–$(stat "$b" "$t" 4 max)" \
        "$(stat "$b" "$t" 5)" "$(mib "$(stat "$b" "$t" 6)")" "$(stat "$b" "$t" 7)" "$4" "$5" "$6"
}
yes_no() { awk -v c="$1" 'BEGIN {print (c ? "yes" : "**no**")}'; }
