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

# Every 5 documents: a ServiceAccount, a ConfigMap, a Secret, a Deployment using all three,
# and a PreSync hook Job; waves spread over 10 values; namespaces over 20.
awk -v docs="$docs" -v dir="$dir" '
BEGIN {
    per_file = 100
    for (i = 0; i < docs; i++) {
        if (i % per_file == 0) {
            if (file) close(file)
            file = sprintf("%s/part-%05d.yaml", dir, i / per_file)
        }
        n = int(i / 5); ns = "ns-" (n % 20); wave = n % 10
        kind = i % 5
        printf "---\n" > file
        if (kind == 0) {
            printf "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: sa-%d\n  namespace: %s\n  annotations:\n    argocd.argoproj.io/sync-wave: \"%d\"\n", n, ns, wave > file
        } else if (kind == 1) {
            printf "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config-%d\n  namespace: %s\n  labels:\n    app: app-%d\n  annotations:\n    argocd.argoproj.io/sync-wave: \"%d\"\ndata:\n  level: info\n  workers: \"4\"\n", n, ns, n, wave > file
        } else if (kind == 2) {
            printf "apiVersion: v1\nkind: Secret\nmetadata:\n  name: secret-%d\n  namespace: %s\n  annotations:\n    argocd.argoproj.io/sync-wave: \"%d\"\ntype: Opaque\nstringData:\n  password: hunter2\n", n, ns, wave > file
        } else if (kind == 3) {
            printf "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-%d\n  namespace: %s\n  labels:\n    app: app-%d\n  annotations:\n    argocd.argoproj.io/sync-wave: \"%d\"\n    argocd.argoproj.io/sync-options: Validate=false\nspec:\n  replicas: 2\n  selector:\n    matchLabels:\n      app: app-%d\n  template:\n    metadata:\n      labels:\n        app: app-%d\n    spec:\n      serviceAccountName: sa-%d\n      containers:\n        - name: app\n          image: example/app:%d\n          ports:\n            - containerPort: 8080\n          envFrom:\n            - configMapRef:\n                name: config-%d\n          env:\n            - name: PASSWORD\n              valueFrom:\n                secretKeyRef:\n                  name: secret-%d\n                  key: password\n          resources:\n            requests:\n              cpu: 100m\n              memory: 128Mi\n", n, ns, n, wave + 1, n, n, n, n, n, n > file
        } else {
            printf "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate-%d\n  namespace: %s\n  annotations:\n    argocd.argoproj.io/hook: PreSync\n    argocd.argoproj.io/hook-delete-policy: BeforeHookCreation,HookSucceeded\n    argocd.argoproj.io/sync-wave: \"-%d\"\nspec:\n  backoffLimit: 1\n  template:\n    spec:\n      restartPolicy: Never\n      serviceAccountName: sa-%d\n      containers:\n        - name: migrate\n          image: example/migrate:%d\n          command: [\"migrate\", \"up\"]\n", n, ns, wave, n, n > file
        }
    }
}'

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
