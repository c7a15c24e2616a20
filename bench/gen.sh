#!/usr/bin/env bash
# Generated inputs for the benchmarks.
#
#   bench/gen.sh docs DOCS DIR            DOCS documents in files of 100: every 5 documents a
#                                         ServiceAccount, ConfigMap, Secret, Deployment and a
#                                         PreSync hook Job; 10 waves, 20 namespaces (lint/plan)
#   bench/gen.sh configmaps N WAVES DIR   N ConfigMaps spread evenly over WAVES waves, one file
#                                         per wave, no namespace (sync/apply with -n)
#   bench/gen.sh jobs N DIR               N Sync hook Jobs in one wave, one file, no namespace;
#                                         each pod "runs" 100 ms (tools/test-kubelet)
set -euo pipefail

gen_docs() {
    local docs=$1 dir=$2
    mkdir -p "$dir"
    rm -f "$dir"/part-*.yaml
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
}

gen_configmaps() {
    local count=$1 waves=$2 dir=$3
    mkdir -p "$dir"
    rm -f "$dir"/wave-*.yaml
    awk -v count="$count" -v waves="$waves" -v dir="$dir" '
BEGIN {
    for (i = 0; i < count; i++) {
        wave = int(i * waves / count)
        file = sprintf("%s/wave-%03d.yaml", dir, wave)
        printf "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config-%04d\n  annotations:\n    argocd.argoproj.io/sync-wave: \"%d\"\ndata:\n  index: \"%d\"\n  level: info\n  workers: \"4\"\n", i, wave, i > file
    }
}'
}

gen_jobs() {
    local count=$1 dir=$2
    mkdir -p "$dir"
    rm -f "$dir"/jobs.yaml
    awk -v count="$count" -v file="$dir/jobs.yaml" '
BEGIN {
    for (i = 0; i < count; i++) {
        printf "---\napiVersion: batch/v1\nkind: Job\nmetadata:\n  name: hook-%04d\n  annotations:\n    argocd.argoproj.io/hook: Sync\n    argocd.argoproj.io/hook-delete-policy: BeforeHookCreation\nspec:\n  backoffLimit: 0\n  template:\n    metadata:\n      annotations:\n        test.kubectl-hooks.io/delay: 100ms\n    spec:\n      restartPolicy: Never\n      containers:\n        - name: hook\n          image: registry.example.com/tools/task:1\n          command: [\"task\", \"%d\"]\n", i, i > file
    }
}'
}

case "${1:-}" in
docs) gen_docs "$2" "$3" ;;
configmaps) gen_configmaps "$2" "$3" "$4" ;;
jobs) gen_jobs "$2" "$3" ;;
*)
    sed -n '2,11p' "$0" >&2
    exit 2
    ;;
esac
