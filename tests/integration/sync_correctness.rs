//! What a user of `sync` notices when the engine is correct, against the real test control
//! plane: a CRD and its custom resource in one wave, a too-small `--timeout` that deletes
//! nothing, `--timeout 0`, hooks dry-run under their real names, `--dry-run -o json`,
//! namespaces in the prompt and against `-n`, and one step count.

use crate::support;

use crate::support::{Run, hooks, unique_namespace, write_input};
use serde_json::Value;

fn sync(namespace: &str, yaml: &str, extra: &[&str]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let file = write_input(dir.path(), "app.yaml", yaml, namespace);
    support::on_input("sync", namespace, &file, extra)
}

fn uid(namespace: &str, kind: &str, name: &str) -> String {
    let object = support::kubectl_json(&["get", kind, name, "-n", namespace]);
    support::text(&object["metadata"]["uid"]).to_owned()
}

#[test]
fn a_crd_and_its_custom_resource_sync_in_one_wave() {
    let ns = support::create_namespace("crd-wave");
    let group = format!("{ns}.example.com");
    let yaml = support::crd(&group, "Gadget", true)
        + &format!(
            "apiVersion: {group}/v1\nkind: Gadget\nmetadata: {{name: g1}}\nspec: {{size: 3}}\n---\n"
        )
        + "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {a: \"1\"}\n";
    let run = sync(&ns, &yaml, &["--timeout", "20s"]);
    let crd = format!("gadgets.{group}");
    let _ = support::try_kubectl(&["delete", "crd", &crd, "--wait=false"]);
    assert_eq!(run.code, Some(0), "{}", run.output());
    let report = run.json();
    let names: Vec<&str> = report["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["settings", crd.as_str(), "g1"]);
    assert!(
        report["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["result"] == "Succeeded"),
        "{report:#}"
    );
}

#[test]
fn a_custom_resource_whose_crd_never_comes_fails_within_the_timeout() {
    // The CRD's own kind is served, but its custom resource names a version it does not
    // serve: the kind never appears, and --timeout (not a fixed minute) ends the wait.
    let ns = support::create_namespace("crd-never");
    let group = format!("{ns}.example.com");
    let yaml = support::crd(&group, "Gizmo", false)
        + &format!("apiVersion: {group}/v1\nkind: Gizmo\nmetadata: {{name: g}}\n");
    let run = sync(&ns, &yaml, &["--timeout", "3s"]);
    let _ = support::try_kubectl(&["delete", "crd", &format!("gizmos.{group}"), "--wait=false"]);
    assert_eq!(run.code, Some(1), "{}", run.output());
    run.stderr_says("timed out (--timeout 3s) waiting for the cluster to serve Gizmo");
}

const HOOKED: &str = r#"
apiVersion: v1
kind: Secret
metadata:
  name: db-creds
  annotations: {argocd.argoproj.io/hook: PreSync}
stringData: {password: not-shown}
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: runner
  annotations: {argocd.argoproj.io/hook: PreSync}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {a: "1"}
"#;

#[test]
fn a_too_small_timeout_deletes_nothing_and_zero_means_no_limit() {
    let ns = support::create_namespace("tiny-timeout");
    sync(&ns, HOOKED, &[]).exits(0);
    let before = (
        uid(&ns, "secret", "db-creds"),
        uid(&ns, "serviceaccount", "runner"),
    );

    let tiny = sync(&ns, HOOKED, &["--timeout", "1ms"]).exits(1);
    tiny.stderr_says("timed out");
    // The BeforeHookCreation hooks a running app may use are still the same objects.
    assert_eq!(
        (
            uid(&ns, "secret", "db-creds"),
            uid(&ns, "serviceaccount", "runner")
        ),
        before,
        "{}",
        tiny.output()
    );

    sync(&ns, HOOKED, &["--timeout", "0"]).exits(0);
    // Re-created by this sync (BeforeHookCreation), so new objects.
    assert_ne!(uid(&ns, "secret", "db-creds"), before.0);
}

#[test]
fn a_hook_name_too_long_for_its_kind_is_refused_with_nothing_written() {
    let ns = support::create_namespace("long-hook");
    let long = "m".repeat(64);
    let yaml = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: settings}}\n---\n{}",
        support::job(
            &long,
            "argocd.argoproj.io/hook: Sync, argocd.argoproj.io/sync-wave: \"1\", argocd.argoproj.io/hook-delete-policy: BeforeHookCreation",
            ""
        )
    );
    // Refused as bad input, named as the API server names it, before wave 0's ConfigMap is
    // written (a name the input check passes is still dry-run under its real name).
    for extra in [&["--dry-run"][..], &[][..]] {
        let run = sync(&ns, &yaml, extra);
        assert_eq!(run.code, Some(2), "{extra:?}: {}", run.output());
        run.stderr_says("must be no more than 63 characters")
            .stderr_says("nothing was done");
    }
    assert!(!support::exists(&ns, "configmap", "settings"));
}

#[test]
fn dry_run_json_lists_every_task_with_phase_wave_and_policy() {
    let ns = support::create_namespace("dry-json");
    let yaml = format!(
        "{}{}apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  annotations: {{argocd.argoproj.io/sync-wave: \"2\"}}\n",
        support::job(
            "migrate",
            "argocd.argoproj.io/hook: PreSync, argocd.argoproj.io/hook-delete-policy: HookSucceeded",
            ""
        ),
        support::job("page", "argocd.argoproj.io/hook: SyncFail", "")
    );
    let run = sync(&ns, &yaml, &["--dry-run"]).exits(0);
    let doc: Value = run.json();
    assert_eq!(doc["dryRun"], true);
    let rows: Vec<String> = doc["steps"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["tasks"].as_array().unwrap().clone())
        .map(|t| {
            format!(
                "{} {} {}/{} {}",
                t["phase"].as_str().unwrap(),
                t["wave"],
                t["kind"].as_str().unwrap(),
                t["name"].as_str().unwrap(),
                t["deletePolicies"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| p.as_str().unwrap())
                    .collect::<Vec<_>>()
                    .join(",")
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            "PreSync 0 Job/migrate HookSucceeded",
            "Sync 2 ConfigMap/settings ",
            "SyncFail 0 Job/page BeforeHookCreation",
        ]
    );
    assert_eq!(doc["steps"][2]["onFailureOnly"], true);
    assert!(!support::exists(&ns, "configmap", "settings"));
}

#[test]
fn the_summary_names_where_objects_go_and_counts_steps_as_plan_does() {
    let ns = support::create_namespace("summary-ns");
    let dir = tempfile::tempdir().unwrap();
    // Objects name their namespace; no -n: the context's "default" is not where they go.
    let yaml = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: settings, namespace: NAMESPACE}}\n---\n{}",
        support::job("page", "argocd.argoproj.io/hook: SyncFail", "")
            .replace("  name: page", "  name: page\n  namespace: NAMESPACE")
    );
    let file = write_input(dir.path(), "app.yaml", &yaml, &ns);
    let run = hooks(&["sync", "-f", &file, "--dry-run"]).exits(0);
    run.stderr_says("in 1 step (+ SyncFail on failure) to context \"admin\"")
        .stderr_says(&format!("namespace \"{ns}\""));
    assert!(
        !run.stderr.contains("namespace \"default\""),
        "{}",
        run.output()
    );
    let plan = hooks(&["plan", "-f", &file]);
    plan.stdout_says("2 objects in 1 step (+ SyncFail on failure)");
}

#[test]
fn an_object_in_another_namespace_than_dash_n_is_refused_with_nothing_applied() {
    let ns = support::create_namespace("ns-mismatch");
    let other = unique_namespace("elsewhere");
    let yaml = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: ok}}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: stray\n  namespace: {other}\n"
    );
    let run = sync(&ns, &yaml, &[]).exits(2);
    run.stderr_says(&format!(
            "app.yaml:5: the namespace from the provided object \"{other}\" does not match the namespace \"{ns}\""
        ));
    assert!(!support::exists(&ns, "configmap", "ok"));
    // And it says how an app spanning namespaces is synced instead.
    let hint = "note: an app whose objects span namespaces leaves out -n";
    run.stderr_says(hint);
    let dir = tempfile::tempdir().unwrap();
    let file = write_input(dir.path(), "app.yaml", &yaml, &ns);
    hooks(&["plan", "-f", &file, "-n", &ns])
        .exits(2)
        .stderr_says(hint);
}

const IN_NEW_NAMESPACE: &str = r#"
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: NAMESPACE}
data: {a: "1"}
---
apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
  namespace: NAMESPACE
  annotations: {argocd.argoproj.io/hook: PreSync}
spec:
  backoffLimit: BACKOFF
  template:
    spec:
      restartPolicy: Never
      containers: [{name: c, image: example/migrate}]
"#;

#[test]
fn a_first_sync_into_a_namespace_it_creates_is_validated_before_writing() {
    // The namespace does not exist: the input creates it.
    let ns = unique_namespace("first-sync");
    let dir = tempfile::tempdir().unwrap();
    let bad = write_input(
        dir.path(),
        "bad.yaml",
        &(support::namespace("NAMESPACE") + &IN_NEW_NAMESPACE.replace("BACKOFF", "-1")),
        &ns,
    );
    let run = hooks(&["sync", "-f", &bad, "-o", "json"]).exits(1);
    run.stderr_says("spec.backoffLimit")
        .stderr_says("standing in for")
        .stderr_says("nothing was changed");
    assert!(
        support::try_kubectl(&["get", "namespace", &ns]).is_err(),
        "the namespace was created: {}",
        run.output()
    );

    let good = write_input(
        dir.path(),
        "good.yaml",
        &(support::namespace("NAMESPACE") + &IN_NEW_NAMESPACE.replace("BACKOFF", "0")),
        &ns,
    );
    let run = hooks(&["sync", "-f", &good, "-o", "json"]);
    let _ = support::try_kubectl(&["delete", "namespace", &ns, "--wait=false"]);
    assert_eq!(run.code, Some(0), "{}", run.output());
    run.stderr_says(&format!(
        "2 object(s) in namespace \"{ns}\", which this sync creates, were dry-run in namespace"
    ));
}

/// Runs `cat FILE | kubectl-hooks ARGS` on a pseudo-terminal (util-linux `script`), as a
/// person at a terminal piping manifests would, typing `answer` when asked.
fn piped_on_a_terminal(file: &str, args: &str, answer: &str) -> Run {
    let command = format!(
        "cat {file} | {} {args} --kubeconfig {}",
        env!("CARGO_BIN_EXE_kubectl-hooks"),
        support::test_kubeconfig().display()
    );
    let child = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("this test needs util-linux `script`: {e}"));
    let out = support::fed(child, answer);
    Run {
        code: out.status.code(),
        // On a terminal, stdout and stderr are one stream.
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn piped_input_on_a_terminal_is_asked_for_on_dev_tty() {
    let ns = support::create_namespace("tty-ask");
    let dir = tempfile::tempdir().unwrap();
    let file = write_input(
        dir.path(),
        "app.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\n",
        &ns,
    );
    // Piped manifests give the app no name: --app names it.
    let args = format!("sync --app tty-ask -n {ns}");
    let no = piped_on_a_terminal(&file, &args, "n\n").exits(1);
    no.stdout_says(&format!("namespace \"{ns}\"? [y/N]"))
        .stdout_says("aborted: nothing was changed");
    assert!(!support::exists(&ns, "configmap", "settings"));

    piped_on_a_terminal(&file, &args, "y\n").exits(0);
    assert!(support::exists(&ns, "configmap", "settings"));

    // --yes asks nothing.
    let quiet = piped_on_a_terminal(&file, &format!("{args} --yes"), "").exits(0);
    assert!(!quiet.stdout.contains("[y/N]"), "{}", quiet.output());
}
