//! The test control plane is real: controllers run Jobs and Deployments to the outcome the
//! test-kubelet annotations ask for, and RBAC is enforced.

use crate::support::{Workload, create, create_namespace, kubectl, try_kubectl};

fn job(name: &str, outcome: &str) -> String {
    Workload::job(name)
        .pod_annotations(&format!("test.kubectl-hooks.io/outcome: {outcome}"))
        .containers(r#"{name: main, image: busybox, command: ["true"]}"#)
        .yaml()
}

fn deployment(name: &str, outcome: &str) -> String {
    Workload::deployment(name)
        .replicas(2)
        .pod_annotations(&format!(
            "test.kubectl-hooks.io/outcome: {outcome}, test.kubectl-hooks.io/delay: 100ms"
        ))
        .containers("{name: web, image: nginx}")
        .yaml()
}

/// `kubectl get WHAT... -n NAMESPACE -o jsonpath=PATH`.
fn jsonpath(namespace: &str, what: &[&str], path: &str) -> String {
    let mut args = vec!["get", "-n", namespace];
    args.extend(what);
    let path = format!("jsonpath={path}");
    args.extend(["-o", &path]);
    kubectl(&args)
}

/// Waits until `object` has `condition` (`kubectl wait --for=condition=...`); Err when it does
/// not within `timeout`.
fn wait(namespace: &str, object: &str, condition: &str, timeout: &str) -> Result<String, String> {
    try_kubectl(&[
        "wait",
        "-n",
        namespace,
        &format!("--for=condition={condition}"),
        object,
        &format!("--timeout={timeout}"),
    ])
}

#[test]
fn job_that_succeeds_completes() {
    let ns = create_namespace("cp-job-ok");
    create(&ns, &job("ok", "succeed"));
    wait(&ns, "job/ok", "Complete", "60s").unwrap();
    assert_eq!(jsonpath(&ns, &["job/ok"], "{.status.succeeded}"), "1");
}

#[test]
fn job_that_fails_with_no_retries_fails() {
    let ns = create_namespace("cp-job-fail");
    create(&ns, &job("bad", "fail"));
    wait(&ns, "job/bad", "Failed", "60s").unwrap();
    let reason = jsonpath(
        &ns,
        &["job/bad"],
        r#"{.status.conditions[?(@.type=="Failed")].reason}"#,
    );
    assert_eq!(reason, "BackoffLimitExceeded");
}

#[test]
fn deployment_becomes_available() {
    let ns = create_namespace("cp-deploy");
    create(&ns, &deployment("web", "succeed"));
    wait(&ns, "deployment/web", "Available", "60s").unwrap();
    // With 2 replicas, maxUnavailable (25%) rounds down to 0: Available means 2 available.
    let available = jsonpath(&ns, &["deployment/web"], "{.status.availableReplicas}");
    assert_eq!(available, "2");
}

#[test]
fn deployment_that_never_gets_ready_is_not_available() {
    let ns = create_namespace("cp-deploy-stuck");
    create(&ns, &deployment("stuck", "never-ready"));
    let waited = wait(&ns, "deployment/stuck", "Available", "5s");
    assert!(
        waited.is_err(),
        "deployment/stuck became available: {waited:?}"
    );
    // Its pods exist and the test kubelet has run them, without them getting ready.
    let phases = jsonpath(
        &ns,
        &["pods", "-l", "app=stuck"],
        "{.items[*].status.phase}",
    );
    assert_eq!(phases, "Running Running");
    let ready = jsonpath(&ns, &["deployment/stuck"], "{.status.readyReplicas}");
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
