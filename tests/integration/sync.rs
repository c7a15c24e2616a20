//! `kubectl hooks sync` against the real test control plane (scripts/test starts it), each
//! test in its own namespace. Pods are "run" by the test kubelet, which reads
//! `test.kubectl-hooks.io/outcome` and `test.kubectl-hooks.io/delay` from pod templates.

use crate::support;
use crate::support::{Run, Workload, exists, kubectl_json, task, text, time};

fn sync(namespace: &str, yaml: &str, extra: &[&str]) -> Run {
    support::on_yaml("sync", namespace, yaml, extra)
}

/// A PreSync hook, a ConfigMap, a Deployment in wave 1 and a PostSync hook.
fn app() -> String {
    [
        Workload::job("migrate")
            .annotations(
                "argocd.argoproj.io/hook: PreSync, argocd.argoproj.io/hook-delete-policy: HookSucceeded",
            )
            .pod_annotations("test.kubectl-hooks.io/delay: 800ms")
            .yaml(),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config\ndata: {a: \"1\"}\n---\n"
            .to_owned(),
        Workload::deployment("api")
            .annotations("argocd.argoproj.io/sync-wave: \"1\"")
            .replicas(2)
            .pod_annotations("test.kubectl-hooks.io/delay: 500ms")
            .containers("{name: api, image: example/api, ports: [{containerPort: 8080}]}")
            .yaml(),
        support::job("smoke", "argocd.argoproj.io/hook: PostSync", ""),
    ]
    .concat()
}

#[test]
fn steps_run_in_order_and_each_waits_for_the_previous_to_be_healthy() {
    let ns = support::create_namespace("sync-order");
    let run = sync(&ns, &app(), &[]).exits(0);
    let report = run.report("Succeeded");
    let t = run.tasks();
    let order = support::rows(&report["tasks"], "{phase}/{name}");
    assert_eq!(
        order,
        [
            "PreSync/migrate",
            "Sync/config",
            "Sync/api",
            "PostSync/smoke"
        ]
    );
    // Gating: a step starts only after the previous one finished (Job complete, Deployment available).
    assert!(
        time(task(&t, "Sync", "config"), "startedAt")
            >= time(task(&t, "PreSync", "migrate"), "finishedAt")
    );
    assert!(
        time(task(&t, "Sync", "api"), "startedAt")
            >= time(task(&t, "Sync", "config"), "finishedAt")
    );
    assert!(
        time(task(&t, "PostSync", "smoke"), "startedAt")
            >= time(task(&t, "Sync", "api"), "finishedAt")
    );
    let deployment = kubectl_json(&["get", "deployment", "api", "-n", &ns]);
    assert_eq!(deployment["status"]["availableReplicas"], 2);
    // HookSucceeded: deleted once the whole sync succeeded; the default policy keeps the other.
    assert!(!exists(&ns, "job", "migrate"));
    assert_eq!(
        task(&t, "PreSync", "migrate")["deletedByPolicy"],
        "HookSucceeded: the operation succeeded"
    );
    assert!(exists(&ns, "job", "smoke"));
    let labels = &kubectl_json(&["get", "job", "smoke", "-n", &ns])["metadata"]["labels"];
    assert_eq!(labels["kubectl-hooks.io/hook"], "true");
    assert_eq!(labels["kubectl-hooks.io/phase"], "postsync");

    // A second sync of the same input re-creates the BeforeHookCreation hook.
    let uid = kubectl_json(&["get", "job", "smoke", "-n", &ns])["metadata"]["uid"].clone();
    sync(&ns, &app(), &[]).exits(0);
    let uid2 = kubectl_json(&["get", "job", "smoke", "-n", &ns])["metadata"]["uid"].clone();
    assert_ne!(uid, uid2, "the hook was deleted and created again");
}

#[test]
fn sync_hooks_interleave_by_kind_and_multi_phase_generate_name_and_skip() {
    let ns = support::create_namespace("sync-kinds");
    let hooks_and_app = [
        Workload::job("a-sync-hook")
            .annotations("argocd.argoproj.io/hook: Sync")
            .default_retries()
            .yaml(),
        Workload::deployment("z-app").yaml(),
    ]
    .concat();
    let yaml = hooks_and_app
        + r#"apiVersion: v1
kind: ConfigMap
metadata: {name: m-config}
---
apiVersion: v1
kind: Pod
metadata:
  generateName: check-
  annotations: {argocd.argoproj.io/hook: "PreSync,PostSync"}
spec:
  restartPolicy: Never
  containers: [{name: c, image: example/check}]
---
"# + &support::config_map("skipped", "argocd.argoproj.io/hook: Skip");
    let run = sync(&ns, &yaml, &[]).exits(0);
    let t = run.tasks();
    let order = support::rows(&run.json()["tasks"], "{phase}/{kind}/{name}");
    assert_eq!(order.len(), 5, "{order:?}");
    assert!(
        order[0].starts_with("PreSync/Pod/check-") && order[0].contains("-presync-"),
        "{order:?}"
    );
    assert_eq!(
        &order[1..4],
        [
            "Sync/ConfigMap/m-config",
            "Sync/Deployment/z-app",
            "Sync/Job/a-sync-hook"
        ]
    );
    assert!(order[4].starts_with("PostSync/Pod/check-") && order[4].contains("-postsync-"));
    assert_ne!(t[0]["name"], t[4]["name"], "one object per phase");
    assert!(
        !exists(&ns, "configmap", "skipped"),
        "Skip is never applied"
    );
    assert!(exists(&ns, "pod", t[0]["name"].as_str().unwrap()));
}

#[test]
fn namespaces_bubble_before_the_hooks_that_live_in_them() {
    let ns = support::unique_namespace("sync-bubble");
    let yaml = Workload::job("early")
        .namespace("NAMESPACE")
        .annotations("argocd.argoproj.io/hook: PreSync")
        .default_retries()
        .yaml()
        + r#"apiVersion: v1
kind: Namespace
metadata:
  name: NAMESPACE
  annotations: {argocd.argoproj.io/sync-wave: "5"}
"#;
    let run = sync(&ns, &yaml, &[]).exits(0);
    let t = run.tasks();
    assert_eq!(t[0]["kind"], "Namespace");
    assert_eq!(t[0]["phase"], "PreSync");
    assert!(exists(&ns, "job", "early"));
    support::kubectl(&["delete", "namespace", &ns, "--wait=false"]);
}

/// A failing PreSync hook deleted by HookFailed, a ConfigMap and a SyncFail hook.
fn failing() -> String {
    [
        support::job(
            "migrate",
            "argocd.argoproj.io/hook: PreSync, argocd.argoproj.io/hook-delete-policy: HookFailed",
            "test.kubectl-hooks.io/outcome: fail",
        ),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: never-applied}\n---\n".to_owned(),
        support::job("alert", "argocd.argoproj.io/hook: SyncFail", ""),
    ]
    .concat()
}

#[test]
fn a_failing_presync_hook_stops_the_sync_runs_syncfail_and_deletes_hookfailed() {
    let ns = support::create_namespace("sync-fail");
    let run = sync(&ns, &failing(), &[]).exits(1);
    let report = run.report("Failed");
    let message = text(&report["message"]);
    assert!(
        message.contains("PreSync hook Job/migrate failed"),
        "{message}"
    );
    assert!(
        message.contains("BackoffLimitExceeded") || message.contains("backoff limit"),
        "{message}"
    );
    let t = run.tasks();
    assert_eq!(task(&t, "Sync", "never-applied")["result"], "Pending");
    assert!(
        !exists(&ns, "configmap", "never-applied"),
        "the Sync phase is untouched"
    );
    assert_eq!(task(&t, "SyncFail", "alert")["result"], "Succeeded");
    let alert = kubectl_json(&["get", "job", "alert", "-n", &ns]);
    assert_eq!(alert["status"]["succeeded"], 1);
    assert!(
        !exists(&ns, "job", "migrate"),
        "HookFailed deleted the failed hook"
    );
    run.stderr_says("error: PreSync hook Job/migrate failed");
}

#[test]
fn a_deployment_that_never_becomes_ready_times_out() {
    let ns = support::create_namespace("sync-timeout");
    let yaml = Workload::deployment("stuck")
        .pod_annotations("test.kubectl-hooks.io/outcome: never-ready")
        .yaml()
        + r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: later
  annotations: {argocd.argoproj.io/sync-wave: "1"}
"#;
    let run = sync(&ns, &yaml, &["--timeout", "4s"]).exits(1);
    let stuck = run.task("Sync", "stuck");
    assert_eq!(stuck["result"], "Failed");
    assert!(
        text(&stuck["message"]).starts_with("timed out (--timeout 4s) waiting for:"),
        "{stuck}"
    );
    assert!(!exists(&ns, "configmap", "later"));
}

#[test]
fn a_hook_job_that_deletes_itself_is_judged_from_its_last_state() {
    let ns = support::create_namespace("sync-ttl");
    let yaml = Workload::job("ephemeral")
        .annotations("argocd.argoproj.io/hook: PreSync")
        .default_retries()
        .spec("ttlSecondsAfterFinished: 0")
        .yaml()
        + "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: after}\n";
    let run = sync(&ns, &yaml, &[]).exits(0);
    assert_eq!(
        task(&run.tasks(), "PreSync", "ephemeral")["result"],
        "Succeeded"
    );
    assert!(exists(&ns, "configmap", "after"));
    // The Job really deleted itself (the TTL controller runs on the test control plane).
    support::wait_until("the Job to delete itself", || {
        !exists(&ns, "job", "ephemeral")
    });
}

#[test]
fn secret_values_never_appear_in_any_output() {
    let ns = support::create_namespace("sync-secret");
    let yaml = r#"
apiVersion: v1
kind: Secret
metadata: {name: creds}
stringData: {password: hunter2-do-not-print}
data: {token: c3VwZXJzZWNyZXQtdG9rZW4=}
"#;
    for format in ["json", "table"] {
        let run = sync(&ns, yaml, &["-o", format, "--stats"]).exits(0);
        for text in [&run.stdout, &run.stderr] {
            assert!(!text.contains("hunter2"), "{text}");
            assert!(!text.contains("c3VwZXJzZWNyZXQtdG9rZW4"), "{text}");
            assert!(!text.contains("supersecret"), "{text}");
        }
    }
}

#[test]
fn bad_input_and_rbac_denial_change_nothing() {
    let ns = support::create_namespace("sync-refused");
    let broken = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: [\n";
    let run = sync(&ns, broken, &[]).exits(2);
    run.stderr_says("app.yaml:8:11: invalid YAML");
    assert!(!exists(&ns, "configmap", "a"));

    let unknown = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n";
    let run = sync(&ns, unknown, &[]).exits(2);
    run.stderr_says("the cluster has no kind Widget in example.com/v1");
    assert!(!exists(&ns, "configmap", "b"));

    let rejected = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {replicas: 1, selector: {matchLabels: {a: b}}, template: {metadata: {labels: {a: other}}, spec: {containers: [{name: x, image: y}]}}}\n";
    let run = sync(&ns, rejected, &[]).exits(1);
    run.stderr_says("Deployment/d");
    assert!(
        !exists(&ns, "configmap", "c"),
        "dry-run rejection writes nothing"
    );

    let fine = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: e}\n";
    let run = sync(&ns, fine, &["--context", "norights"]).exits(3);
    run.stderr_says("forbidden");
    assert!(!exists(&ns, "configmap", "e"));
}

#[test]
fn dry_run_validates_and_changes_nothing() {
    let ns = support::create_namespace("sync-dry");
    let run = sync(&ns, &app(), &["--dry-run"]).exits(0);
    run.stderr_says("nothing was changed");
    assert!(!exists(&ns, "configmap", "config"));
    assert!(!exists(&ns, "job", "migrate"));
}

#[test]
fn shared_examples_sync_where_they_are_valid() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/examples");
    if !root.exists() {
        eprintln!("../shared/examples not present: skipped");
        return;
    }
    let ns = support::create_namespace("sync-examples");
    // schema-migrate: generateName hooks, valid as written.
    let yaml = std::fs::read_to_string(root.join("schema-migrate/hooks.yaml")).unwrap()
        + "\n---\n"
        + &std::fs::read_to_string(root.join("schema-migrate/app.yaml")).unwrap();
    let run = sync(&ns, &yaml, &[]).exits(0);
    let t = run.tasks();
    assert!(text(&task(&t, "PreSync", "schema-migrate-")["name"]).contains("-presync-"));

    // db-migration: the PreSync Job needs a ServiceAccount that only the Sync phase creates,
    // so its pods can never be created: the sync fails (as under Argo CD) and SyncFail runs.
    let db = ["migration-job.yaml", "rbac.yaml", "notify.yaml"]
        .iter()
        .map(|f| {
            std::fs::read_to_string(root.join("db-migration").join(f))
                .unwrap()
                .replace("namespace: agents", "namespace: NAMESPACE")
        })
        .collect::<Vec<_>>()
        .join("\n---\n");
    let run = sync(&ns, &db, &["--timeout", "8s"]).exits(1);
    let report = run.json();
    assert!(
        text(&report["message"]).contains("Job/db-migration"),
        "{}",
        report["message"]
    );
    assert!(
        !exists(&ns, "serviceaccount", "db-migrate"),
        "the Sync phase never ran"
    );
}

/// A PreSync hook whose pod the test kubelet never runs, then a ConfigMap in the Sync phase.
fn never_finishing_hook(hook: &str, config_map: &str) -> String {
    Workload::job(hook)
        .annotations("argocd.argoproj.io/hook: PreSync")
        .default_retries()
        .pod_annotations("test.kubectl-hooks.io/outcome: pending")
        .yaml()
        + &format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {config_map}}}\n")
}

#[test]
fn a_hook_over_its_hook_timeout_fails_the_sync() {
    let ns = support::create_namespace("sync-hook-timeout");
    let run = sync(
        &ns,
        &never_finishing_hook("slow", "not-reached"),
        &["--hook-timeout", "2s"],
    )
    .exits(1);
    let slow = run.task("PreSync", "slow");
    assert_eq!(slow["result"], "Failed");
    assert!(
        text(&slow["message"]).starts_with("timed out (--hook-timeout 2s)"),
        "{slow}"
    );
    // Why: the test control plane has no scheduler, and the test kubelet leaves this pod be.
    assert!(
        slow["reason"]
            .as_str()
            .unwrap()
            .contains("NotScheduled: no node assigned, and no scheduler has said why"),
        "{slow}"
    );
    assert!(!exists(&ns, "configmap", "not-reached"));
}

#[test]
fn ctrl_c_stops_new_work_reports_and_exits_130_and_a_second_sync_waits_its_turn() {
    let ns = support::create_namespace("sync-interrupt");
    let yaml = never_finishing_hook("long", "not-started");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("app.yaml");
    std::fs::write(&file, &yaml).unwrap();
    let child = support::hooks_command()
        .args([
            "sync",
            "-f",
            file.to_str().unwrap(),
            "-n",
            &ns,
            "-o",
            "json",
        ])
        .test_cluster()
        .spawn();
    // Wait until the hook is applied, then interrupt as a terminal would.
    support::wait_until("the hook", || exists(&ns, "job", "long"));
    // A second sync of the same input meanwhile is refused, naming who holds the lock.
    let second = sync(&ns, &yaml, &[]).exits(1);
    second.stderr_says("another sync, delete or cleanup of app \"app\" is running");
    second.stderr_says("kubectl-hooks");

    child.signal("INT");
    let run = child.finish().exits(130);
    let report = run.report("Interrupted");
    let t = run.tasks();
    // The running hook was terminated, as Argo CD's Terminate does (--keep-running-hooks
    // keeps it: tests/signals.rs).
    assert_eq!(task(&t, "PreSync", "long")["result"], "Failed");
    assert_eq!(task(&t, "PreSync", "long")["deletedByPolicy"], "terminated");
    assert_eq!(task(&t, "Sync", "not-started")["result"], "Pending");
    assert!(
        text(&report["message"]).contains("1 hook(s) terminated"),
        "{}",
        report["message"]
    );
    assert!(!exists(&ns, "job", "long"));
    assert!(!exists(&ns, "configmap", "not-started"));
}

#[test]
fn missing_namespaces_are_refused_unless_created_on_request() {
    let ns = support::unique_namespace("sync-create-ns");
    let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n";
    let run = sync(&ns, yaml, &[]).exits(1);
    run.stderr_says(&format!("namespace \"{ns}\" does not exist"));
    run.stderr_says("--create-namespace");
    assert!(!exists(&ns, "configmap", "c"));

    sync(&ns, yaml, &["--create-namespace"]).exits(0);
    assert!(exists(&ns, "configmap", "c"));
    support::kubectl(&["delete", "namespace", &ns, "--wait=false"]);
}

#[test]
fn a_crd_and_its_custom_resources_sync_together() {
    let ns = support::create_namespace("sync-crd");
    let group = format!("{ns}.example.com");
    let yaml = format!(
        "apiVersion: {group}/v1\nkind: Widget\nmetadata:\n  name: w1\n  annotations: {{argocd.argoproj.io/sync-wave: \"1\"}}\nspec: {{size: 3}}\n---\n"
    ) + &support::crd(&group, "Widget", true);
    let run = sync(&ns, &yaml, &[]).exits(0);
    run.stderr_says(
        "were not dry-run: their kind is defined by a CustomResourceDefinition in this input",
    );
    let t = run.tasks();
    assert_eq!(t[0]["kind"], "CustomResourceDefinition");
    assert!(exists(&ns, &format!("widgets.{group}"), "w1"));
    support::kubectl(&["delete", "crd", &format!("widgets.{group}"), "--wait=false"]);
}
