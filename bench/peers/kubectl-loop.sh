#!/usr/bin/env bash
# The shell-loop peer of `kubectl hooks sync -f bench/seed`: the same objects, in the same
# order, the way one would script it with kubectl alone. Each step is applied with
# `kubectl apply --server-side` and waited for as Argo CD (and kubectl-hooks) would: hooks
# until their Job completes, the Deployment until it is rolled out; ConfigMap, Secret and
# Service have no health to wait for.
#
#   bench/peers/kubectl-loop.sh NAMESPACE [SEED_DIR]
set -euo pipefail
ns=$1
dir=${2:-$(dirname "$0")/../seed}
k() { kubectl --namespace "$ns" "$@"; }

# PreSync: the migration Job.
k apply --server-side -f "$dir/10-presync.yaml" >/dev/null
k wait --for=condition=complete --timeout=120s job/migrate >/dev/null
# Wave 0: configuration (no health to wait for).
k apply --server-side -f "$dir/20-wave0.yaml" >/dev/null
# Wave 1: the app, until rolled out.
k apply --server-side -f "$dir/30-wave1.yaml" >/dev/null
k rollout status --timeout=120s deployment/shop-api >/dev/null
# PostSync: the smoke test.
k apply --server-side -f "$dir/40-postsync.yaml" >/dev/null
k wait --for=condition=complete --timeout=120s job/smoke-test >/dev/null
