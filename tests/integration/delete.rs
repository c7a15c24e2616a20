//! `kubectl hooks delete` against the real test control plane (scripts/test starts it), each
//! test in its own namespace. The app is first synced with `kubectl-hooks sync`, then deleted.

use crate::support;
use crate::support::{Run, Workload, exists, job, kubectl, task, text, time};
use serde_json::Value;

fn delete(ns: &str, file: &str, extra: &[&str]) -> Run {
    support::on_input("delete", ns, file, extra)
}

/// phase/kind/name -> action, in report order.
fn order(tasks: &[Value]) -> Vec<String> {
    support::rows(&Value::from(tasks), "{phase}/{kind}/{name}:{action}")
}

/// A PostDelete hook (retried as the Job controller does by default).
fn farewell() -> Workload {
    Workload::job("farewell")
        .annotations("argocd.argoproj.io/hook: PostDelete")
        .default_retries()
}

/// PreDelete and PostDelete hooks, objects in three waves, a sync hook and a Skip object.
fn app() -> String {
    let objects = r#"
apiVersion: v1
kind: ConfigMap
metadata: {name: config}
data: {a: "1"}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: api}
---
apiVersion: v1
kind: Service
metadata:
  name: api
  annotations: {argocd.argoproj.io/sync-wave: "2"}
spec:
  selector: {app: api}
  ports: [{port: 80}]
---
"#;
    [
        job(
            "backup",
            "argocd.argoproj.io/hook: PreDelete, argocd.argoproj.io/hook-delete-policy: HookSucceeded",
            "test.kubectl-hooks.io/delay: 500ms",
        ),
        job("migrate", "argocd.argoproj.io/hook: PreSync", ""),
        objects.to_owned(),
        support::config_map("skipped", "argocd.argoproj.io/hook: Skip"),
        Workload::deployment("api")
            .annotations("argocd.argoproj.io/sync-wave: \"1\"")
            .replicas(2)
            .yaml(),
        farewell().generate_name().yaml(),
    ]
    .concat()
}

#[test]
fn predelete_then_waves_in_reverse_then_postdelete() {
    let ns = support::create_namespace("delete-order");
    let dir = tempfile::tempdir().unwrap();
    let file = support::synced(dir.path(), &ns, &app());
    // Skip objects are never managed: one made by hand stays after the delete.
    support::create(
        &ns,
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: skipped}\n",
    );

    let dry = delete(&ns, &file, &["--dry-run"]).exits(0);
    assert_eq!(dry.json()["dryRun"], true);
    let planned = order(&dry.tasks());
    assert_eq!(planned.len(), 6, "{planned:?}");
    assert_eq!(planned[0], "PreDelete/Job/backup:RunHook");
    assert_eq!(
        planned[1..5],
        [
            "Delete/Service/api:Delete",
            "Delete/Deployment/api:Delete",
            "Delete/ConfigMap/config:Delete",
            "Delete/ServiceAccount/api:Delete",
        ]
        .map(String::from)[..]
    );
    assert!(
        planned[5].starts_with("PostDelete/Job/farewell-"),
        "{planned:?}"
    );
    dry.stderr_says("nothing was changed");
    assert!(exists(&ns, "deployment", "api") && !exists(&ns, "job", "backup"));

    let run = delete(&ns, &file, &[]).exits(0);
    run.report("Succeeded");
    let t = run.tasks();
    let actions = order(&t);
    assert_eq!(actions[0], "PreDelete/Job/backup:HookSucceeded");
    assert_eq!(
        actions[1..5],
        [
            "Delete/Service/api:Deleted",
            "Delete/Deployment/api:Deleted",
            "Delete/ConfigMap/config:Deleted",
            "Delete/ServiceAccount/api:Deleted",
        ]
        .map(String::from)[..]
    );
    assert!(actions[5].ends_with(":HookSucceeded"), "{actions:?}");

    // PreDelete finished before the first deletion; each wave was gone before the next
    // started; PostDelete started only once everything was gone.
    let backup = task(&t, "PreDelete", "backup");
    let service = &t[1];
    let deployment = &t[2];
    let config = &t[3];
    let farewell = task(&t, "PostDelete", "farewell-");
    assert!(time(service, "startedAt") >= time(backup, "finishedAt"));
    assert!(time(deployment, "startedAt") >= time(service, "finishedAt"));
    assert!(time(config, "startedAt") >= time(deployment, "finishedAt"));
    for gone in &t[1..5] {
        assert!(
            time(farewell, "startedAt") >= time(gone, "finishedAt"),
            "{gone}"
        );
    }
    let created = kubectl(&[
        "get",
        "job",
        "-n",
        &ns,
        farewell["name"].as_str().unwrap(),
        "-o",
        "jsonpath={.metadata.labels.kubectl-hooks\\.io/phase}",
    ]);
    assert_eq!(created, "postdelete", "delete hooks carry the hook labels");

    for (kind, name) in [
        ("deployment", "api"),
        ("service", "api"),
        ("configmap", "config"),
        ("serviceaccount", "api"),
    ] {
        assert!(!exists(&ns, kind, name), "{kind}/{name}");
    }
    let pods = kubectl(&["get", "pods", "-n", &ns, "-l", "app=api", "-o", "name"]);
    assert_eq!(pods.trim(), "", "the Deployment's pods went with it");
    assert!(
        !exists(&ns, "job", "backup"),
        "HookSucceeded applied at the end"
    );
    assert_eq!(
        task(&t, "PreDelete", "backup")["deletedByPolicy"],
        "HookSucceeded: the operation succeeded"
    );
    assert!(
        exists(&ns, "job", "migrate"),
        "sync hooks are left to cleanup"
    );
    assert!(
        exists(&ns, "configmap", "skipped"),
        "Skip objects are never deleted"
    );
    run.stderr_says("sync hooks are not deleted (Job/migrate)");
}

#[test]
fn a_failing_predelete_hook_stops_everything_before_any_deletion() {
    let ns = support::create_namespace("delete-prefail");
    let dir = tempfile::tempdir().unwrap();
    let yaml = [
        job(
            "backup",
            "argocd.argoproj.io/hook: PreDelete",
            "test.kubectl-hooks.io/outcome: fail",
        ),
        job("farewell", "argocd.argoproj.io/hook: PostDelete", ""),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: config}\n".to_owned(),
    ]
    .concat();
    let file = support::synced(dir.path(), &ns, &yaml);

    let run = delete(&ns, &file, &[]).exits(1);
    let report = run.report("Failed");
    let message = text(&report["message"]);
    assert!(
        message.contains("PreDelete hook Job/backup failed"),
        "{message}"
    );
    assert!(message.ends_with("nothing was deleted"), "{message}");
    run.stderr_says("error: PreDelete hook Job/backup failed");
    let t = run.tasks();
    assert_eq!(task(&t, "Delete", "config")["action"], "NotStarted");
    assert_eq!(task(&t, "PostDelete", "farewell")["action"], "NotRun");
    assert!(exists(&ns, "configmap", "config"));
    assert!(!exists(&ns, "job", "farewell"));
}

#[test]
fn helm_delete_hooks_kept_objects_and_a_rerun_after_everything_is_gone() {
    let ns = support::create_namespace("delete-helm");
    let dir = tempfile::tempdir().unwrap();
    let objects = r#"
apiVersion: v1
kind: ConfigMap
metadata: {name: gone}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: kept
  annotations: {argocd.argoproj.io/sync-options: "Prune=false,Delete=false"}
---
apiVersion: v1
kind: Secret
metadata:
  name: kept-by-helm
  annotations: {helm.sh/resource-policy: keep}
---
apiVersion: v1
kind: Pod
metadata:
  name: post
  annotations: {helm.sh/hook: post-delete}
spec:
  restartPolicy: Never
  containers: [{name: c, image: example/post}]
"#;
    let pre = job(
        "pre",
        "helm.sh/hook: pre-delete, helm.sh/hook-delete-policy: hook-succeeded",
        "",
    );
    let file = support::synced(dir.path(), &ns, &(pre + objects));
    assert!(
        !exists(&ns, "job", "pre"),
        "delete hooks do not run in a sync"
    );

    let run = delete(&ns, &file, &["--yes"]).exits(0);
    let t = run.tasks();
    assert_eq!(task(&t, "PreDelete", "pre")["action"], "HookSucceeded");
    assert_eq!(task(&t, "PostDelete", "post")["action"], "HookSucceeded");
    assert_eq!(task(&t, "Delete", "gone")["action"], "Deleted");
    let kept = task(&t, "Delete", "kept");
    assert_eq!(kept["action"], "Kept");
    assert_eq!(kept["message"], "Delete=false: left in place");
    assert_eq!(task(&t, "Delete", "kept-by-helm")["action"], "Kept");
    assert!(exists(&ns, "configmap", "kept") && exists(&ns, "secret", "kept-by-helm"));
    assert!(!exists(&ns, "configmap", "gone") && !exists(&ns, "job", "pre"));
    assert!(
        exists(&ns, "pod", "post"),
        "the default policy keeps the PostDelete hook"
    );

    // Everything is gone already: a second run is fine (the hooks run again).
    let again = delete(&ns, &file, &[]).exits(0);
    let t = again.tasks();
    assert_eq!(task(&t, "Delete", "gone")["action"], "AlreadyGone");
    assert_eq!(task(&t, "Delete", "kept")["action"], "Kept");
    assert_eq!(task(&t, "PostDelete", "post")["action"], "HookSucceeded");
}

#[test]
fn postdelete_hooks_outlive_the_namespace_they_run_in() {
    let ns = support::unique_namespace("delete-own-ns");
    let dir = tempfile::tempdir().unwrap();
    let yaml = support::namespace("NAMESPACE")
        + "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: config, namespace: NAMESPACE}\n---\n"
        + &farewell().namespace("NAMESPACE").yaml();
    let file = support::synced(dir.path(), &ns, &yaml);

    let run = delete(&ns, &file, &["--timeout", "2m"]).exits(0);
    let actions = order(&run.tasks());
    assert_eq!(
        actions,
        [
            "Delete/ConfigMap/config:Deleted",
            "PostDelete/Job/farewell:HookSucceeded",
            &format!("Delete/Namespace/{ns}:Deleted"),
        ]
        .map(String::from)
    );
    assert!(support::try_kubectl(&["get", "namespace", &ns]).is_err());

    // The namespace is gone, and with it everything: the hook cannot run and is skipped.
    let again = delete(&ns, &file, &[]).exits(0);
    let t = again.tasks();
    assert_eq!(task(&t, "PostDelete", "farewell")["action"], "NotRun");
    assert_eq!(task(&t, "Delete", &ns)["action"], "AlreadyGone");
}

#[test]
fn a_user_who_may_not_delete_gets_exit_3_and_nothing_is_deleted() {
    let ns = support::create_namespace("delete-rbac");
    let dir = tempfile::tempdir().unwrap();
    let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n";
    let file = support::synced(dir.path(), &ns, yaml);
    support::grant_read(&ns, "configmaps");

    let run = delete(&ns, &file, &["--context", "norights"]).exits(3);
    run.stderr_says("forbidden");
    run.stderr_says("nothing was changed");
    assert!(exists(&ns, "configmap", "a") && exists(&ns, "configmap", "b"));
}
