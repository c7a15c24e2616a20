//! `kubectl hooks diff` and `kubectl hooks status` against the real test control plane: what a
//! sync would change (exit 1, then 0 once synced), Secret values masked on both sides in every
//! output, and the app's status after a healthy and after a failed sync.

use crate::support::{self, Run, hooks};
use base64::Engine;
use serde_json::Value;
use std::process::{Command, Stdio};

const SECRET_V1: &str = "pin-0417-first";
const SECRET_V2: &str = "pin-9933-second";

fn app_yaml(secret: &str, setting: &str, extra: &str) -> String {
    format!(
        "apiVersion: v1
kind: Secret
metadata: {{name: creds}}
stringData: {{pin: {secret}, same: unchanged-value-77}}
---
apiVersion: v1
kind: ConfigMap
metadata: {{name: settings}}
data: {{level: \"{setting}\"}}
---
apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
  annotations: {{argocd.argoproj.io/hook: PreSync, argocd.argoproj.io/hook-delete-policy: HookSucceeded}}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers: [{{name: m, image: example/migrate}}]
---
{extra}"
    )
}

/// No form of a Secret value (plain or base64) may appear in `text`.
fn assert_no_secret(text: &str) {
    for value in [SECRET_V1, SECRET_V2, "unchanged-value-77"] {
        let b64 = base64::engine::general_purpose::STANDARD.encode(value);
        assert!(!text.contains(value), "{value} leaked:\n{text}");
        assert!(!text.contains(&b64), "{value} leaked as base64:\n{text}");
        assert!(
            !text.contains(&b64[..12]),
            "{value} leaked as base64:\n{text}"
        );
    }
}

fn diff(ns: &str, file: &str, extra: &[&str]) -> Run {
    let mut args = vec!["diff", "-f", file, "-n", ns, "--app", "shop"];
    args.extend(extra);
    hooks(&args)
}

#[test]
fn diff_exits_1_then_0_with_secret_values_masked_on_both_sides() {
    let ns = support::create_namespace("diff");
    let dir = tempfile::tempdir().unwrap();
    let old = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: old}\n";
    let file = support::write_input(dir.path(), "v1.yaml", &app_yaml(SECRET_V1, "1", old), &ns);
    // Before the first sync, everything is to be created.
    let run = diff(&ns, &file, &[]).exits(1);
    run.stdout_says("Secret/creds in namespace");
    run.stdout_says("to be created");
    assert_no_secret(&run.output());
    support::on_input("sync", &ns, &file, &["--app", "shop"]).exits(0);
    let run = diff(&ns, &file, &[]);
    assert_eq!(
        run.code,
        Some(0),
        "synced: no differences\n{}",
        run.output()
    );
    assert!(
        !run.stdout.contains("\n+") && !run.stdout.contains("\n-"),
        "{}",
        run.stdout
    );

    // v2: the Secret's pin and a setting change, "old" left the input, "new" is added.
    let added = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: new}\n";
    let v2 = support::write_input(dir.path(), "v2.yaml", &app_yaml(SECRET_V2, "2", added), &ns);
    let run = diff(&ns, &v2, &[]).exits(1);
    let out = &run.stdout;
    run.stdout_says("-  pin: \"*** (before)\"");
    run.stdout_says("+  pin: \"*** (after)\"");
    assert!(
        out.contains("\n   same: \"***\""),
        "an unchanged value is context:\n{out}"
    );
    assert!(
        !out.contains("+  same") && !out.contains("-  same"),
        "{out}"
    );
    run.stdout_says("-  level: \"1\"")
        .stdout_says("+  level: \"2\"");
    run.stdout_says("ConfigMap/new in namespace")
        .stdout_says("to be created");
    run.stdout_says("ConfigMap/old in namespace")
        .stdout_says("to be pruned");
    run.stdout_says("Job/migrate").stdout_says("would run");
    for field in [
        "managedFields",
        "resourceVersion",
        "uid:",
        "creationTimestamp",
        "generation",
    ] {
        assert!(!out.contains(field), "{field} is the server's:\n{out}");
    }
    assert_no_secret(&run.output());

    let json = diff(&ns, &v2, &["-o", "json"]).exits(1);
    assert_no_secret(&json.output());
    let doc = json.json();
    assert_eq!(doc["differences"], true);
    let change = |name: &str| support::find(&doc["objects"], "name", name)["change"].clone();
    assert_eq!(change("creds"), "modified");
    assert_eq!(change("settings"), "modified");
    assert_eq!(change("new"), "added");
    assert_eq!(change("old"), "toBePruned");
    let creds = support::find(&doc["objects"], "name", "creds");
    assert_eq!(creds["live"]["data"]["pin"], "*** (before)");
    assert_eq!(creds["merged"]["data"]["pin"], "*** (after)");
    assert_eq!(creds["merged"]["data"]["same"], "***");

    // KUBECTL_EXTERNAL_DIFF gets two directories of files, and its exit code is diff's.
    let out = Command::new(env!("CARGO_BIN_EXE_kubectl-hooks"))
        .args(["diff", "-f", &v2, "-n", &ns, "--app", "shop"])
        .arg("--kubeconfig")
        .arg(support::test_kubeconfig())
        .env("KUBECTL_EXTERNAL_DIFF", "diff -r -u")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("LIVE/v1.Secret.") && stdout.contains("MERGED/v1.Secret."),
        "{stdout}"
    );
    assert!(stdout.contains("*** (after)"), "{stdout}");
    assert!(
        stdout.contains("Only in") && stdout.contains("v1.ConfigMap."),
        "{stdout}"
    );
    assert_no_secret(&format!("{stdout}{}", String::from_utf8_lossy(&out.stderr)));

    // Nothing was changed by any of it; after the sync of v2, no differences.
    let live: Value = serde_json::from_str(&support::kubectl(&[
        "get",
        "configmap",
        "settings",
        "-n",
        &ns,
        "-o",
        "json",
    ]))
    .unwrap();
    assert_eq!(live["data"]["level"], "1");
    support::on_input("sync", &ns, &v2, &["--app", "shop", "--prune"]).exits(0);
    diff(&ns, &v2, &[]).exits(0);
}

#[test]
fn diff_of_bad_input_exits_above_1() {
    let ns = support::create_namespace("diff-bad");
    let dir = tempfile::tempdir().unwrap();
    let bad = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {n: [1]}\n";
    let file = support::write_input(dir.path(), "bad.yaml", bad, &ns);
    diff(&ns, &file, &[]).exits(2);
}

const DEPLOYMENT: &str = "apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  replicas: 1
  selector: {matchLabels: {app: api}}
  template:
    metadata:
      labels: {app: api}
      annotations: {test.kubectl-hooks.io/outcome: OUTCOME}
    spec:
      containers: [{name: api, image: example/IMAGE}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {a: \"1\"}
";

fn status(ns: &str, extra: &[&str]) -> Run {
    let mut args = vec!["status", "--app", "shop", "-n", ns, "-o", "json"];
    args.extend(extra);
    hooks(&args)
}

fn member<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == name)
        .unwrap_or_else(|| panic!("{name} in {doc}"))
}

#[test]
fn status_after_a_healthy_and_after_a_failed_sync() {
    let ns = support::create_namespace("status");
    let dir = tempfile::tempdir().unwrap();
    let run = status(&ns, &[]);
    assert_eq!(run.code, Some(1), "never synced\n{}", run.output());
    assert_eq!(run.json()["recorded"], false);

    let healthy = DEPLOYMENT
        .replace("OUTCOME", "succeed")
        .replace("IMAGE", "v1");
    let file = support::write_input(dir.path(), "v1.yaml", &healthy, &ns);
    support::on_input("sync", &ns, &file, &["--app", "shop"]).exits(0);

    let run = status(&ns, &[]).exits(0);
    let doc = run.json();
    assert_eq!(doc["lastSync"]["result"], "Succeeded");
    assert!(doc["lastSync"]["finished"].is_string());
    assert_eq!(member(&doc, "api")["health"]["status"], "Healthy");
    assert_eq!(member(&doc, "api")["sync"], "Unknown");
    let run = status(&ns, &["-f", &file]).exits(0);
    let doc = run.json();
    assert_eq!(member(&doc, "api")["sync"], "Synced");
    assert_eq!(member(&doc, "settings")["sync"], "Synced");
    let table = hooks(&["status", "--app", "shop", "-n", &ns]).exits(0);
    table.stdout_says("last sync: Succeeded");
    table.stdout_says("Deployment   ").stdout_says("Healthy");

    // v2 never becomes ready: the sync fails, and status says so.
    let failing = DEPLOYMENT
        .replace("OUTCOME", "never-ready")
        .replace("IMAGE", "v2");
    let v2 = support::write_input(dir.path(), "v2.yaml", &failing, &ns);
    support::on_input("sync", &ns, &v2, &["--app", "shop", "--timeout", "5s"]).exits(1);
    let run = status(&ns, &[]).exits(1);
    let doc = run.json();
    assert_eq!(doc["lastSync"]["result"], "Failed");
    assert!(
        doc["lastSync"]["message"]
            .as_str()
            .unwrap()
            .contains("timed out"),
        "{doc}"
    );
    let api = member(&doc, "api");
    assert_ne!(api["health"]["status"], "Healthy", "{api}");
    // Against v1, the Deployment is out of sync (v2's image is live).
    let run = status(&ns, &["-f", &file]).exits(1);
    let doc = run.json();
    assert_eq!(member(&doc, "api")["sync"], "OutOfSync");
    assert_eq!(member(&doc, "settings")["sync"], "Synced");
}
