//! The test control plane is real: controllers run Jobs and Deployments to the outcome the
//! test-kubelet annotations ask for, and RBAC is enforced.

use crate::support::{create, create_namespace, kubectl, try_kubectl};

fn job(name: &str, outcome: &str) -> String {
    format!(
        r#"
apiVersion: batch/v1
kind: Job
metadata:
  name: {name}
spec:
  backoffLimit: 0
  template:
    metadata:
      annotations:
        test.kubectl-hooks.io/outcome: {outcome}
    spec:
      restartPolicy: Never
      containers:
      - name: main
        image: busybox
        command: ["true"]
"#
    )
}

fn deployment(name: &str, outcome: &str) -> String {
    format!(
        r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  replicas: 2
  selector:
    matchLabels:
      app: {name}
  template:
    metadata:
      labels:
        app: {name}
      annotations:
        test.kubectl-hooks.io/outcome: {outcome}
        test.kubectl-hooks.io/delay: 100ms
    spec:
      containers:
      - name: web
        image: nginx
"#
    )
}

#[test]
fn job_that_succeeds_completes() {
    let ns = create_namespace("cp-job-ok");
    create(&ns, &job("ok", "succeed"));
    kubectl(&[
        "wait",
        "-n",
        &ns,
        "--for=condition=Complete",
        "job/ok",
        "--timeout=60s",
    ]);
    let succeeded = kubectl(&[
        "get",
        "-n",
        &ns,
        "job/ok",
        "-o",
        "jsonpath={.status.succeeded}",
    ]);
    assert_eq!(succeeded, "1");
}

#[test]
fn job_that_fails_with_no_retries_fails() {
    let ns = create_namespace("cp-job-fail");
    create(&ns, &job("bad", "fail"));
    kubectl(&[
        "wait",
        "-n",
        &ns,
        "--for=condition=Failed",
        "job/bad",
        "--timeout=60s",
    ]);
    let reason = kubectl(&[
        "get",
        "-n",
        &ns,
        "job/bad",
        "-o",
        r#"jsonpath={.status.conditions[?(@.type=="Failed")].reason}"#,
    ]);
    assert_eq!(reason, "BackoffLimitExceeded");
}

#[test]
fn deployment_becomes_available() {
    let ns = create_namespace("cp-deploy");
    create(&ns, &deployment("web", "succeed"));
    kubectl(&[
        "wait",
        "-n",
        &ns,
        "--for=condition=Available",
        "deployment/web",
        "--timeout=60s",
    ]);
    // With 2 replicas, maxUnavailable (25%) rounds down to 0: Available means 2 available.
    let available = kubectl(&[
        "get",
        "-n",
        &ns,
        "deployment/web",
        "-o",
        "jsonpath={.status.availableReplicas}",
    ]);
    assert_eq!(available, "2");
}

#[test]
fn deployment_that_never_gets_ready_is_not_available() {
    let ns = create_namespace("cp-deploy-stuck");
    create(&ns, &deployment("stuck", "never-ready"));
    let waited = try_kubectl(&[
        "wait",
        "-n",
        &ns,
        "--for=condition=Available",
        "deployment/stuck",
        "--timeout=5s",
    ]);
    assert!(
        waited.is_err(),
        "deployment/stuck became available: {waited:?}"
    );
    // Its pods exist and the test kubelet has run them, without them getting ready.
    let phases = kubectl(&[
        "get",
        "pods",
        "-n",
        &ns,
        "-l",
        "app=stuck",
        "-o",
        "jsonpath={.items[*].status.phase}",
    ]);
    assert_eq!(phases, "Running Running");
    let ready = kubectl(&[
        "get",
        "deployment/stuck",
        "-n",
        &ns,
        "-o",
        "jsonpath={.status.readyReplicas}",
    ]);
    assert_eq!(ready, "");
}

#[test]
fn norights_user_cannot_list_pods() {
    let ns = create_namespace("cp-rbac");
    let denied = try_kubectl(&["--context", "norights", "get", "pods", "-n", &ns])
        .expect_err("norights could list pods");
    assert!(denied.contains("forbidden"), "unexpected error: {denied}");
    kubectl(&["get", "pods", "-n", &ns]);
}
