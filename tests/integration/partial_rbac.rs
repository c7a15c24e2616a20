//! A ServiceAccount token with partial RBAC, as CI pipelines get them: ConfigMaps in full, Jobs
//! create and patch only. The dry run alone would pass (it needs only create and patch); the
//! sync must still refuse before writing anything, naming what is missing, with exit 3.

use crate::support;

use crate::support::{Run, Workload, create_namespace, exists, kubectl, write_input};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// A ServiceAccount in `namespace` allowed `rules` there, and a kubeconfig using its token.
fn service_account(namespace: &str, rules: Value, dir: &Path) -> PathBuf {
    let manifest = json!({"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "deployer"}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
         "metadata": {"name": "deployer"}, "rules": rules},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
         "metadata": {"name": "deployer"},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "deployer"},
         "subjects": [{"kind": "ServiceAccount", "name": "deployer", "namespace": namespace}]},
    ]});
    support::create(namespace, &manifest.to_string());
    // Kubernetes 1.20's token controller writes the account's token into a Secret.
    let token = (0..300)
        .find_map(|_| {
            let sa: Value = serde_json::from_str(&kubectl(&[
                "get",
                "serviceaccount",
                "deployer",
                "-n",
                namespace,
                "-o",
                "json",
            ]))
            .unwrap();
            let secret = sa["secrets"][0]["name"].as_str().map(str::to_owned);
            let token = secret.and_then(|name| {
                support::try_kubectl(&[
                    "get",
                    "secret",
                    &name,
                    "-n",
                    namespace,
                    "-o",
                    "jsonpath={.data.token}",
                ])
                .ok()
                .filter(|t| !t.is_empty())
            });
            if token.is_none() {
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            token
        })
        .expect("the token controller gave the ServiceAccount a token");
    let token = String::from_utf8(decode_base64(&token)).unwrap();
    let user = json!({ "token": token });
    support::kubeconfig_as(dir, "deployer", user, Some(namespace))
}

fn decode_base64(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::new();
    for c in text.trim().bytes().filter(|c| *c != b'=') {
        let value = ALPHABET.iter().position(|a| *a == c).expect("base64") as u32;
        bits = (bits << 6) | value;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
        }
    }
    out
}

fn run_as(kubeconfig: &Path, args: &[&str]) -> Run {
    support::hooks_command()
        .args(args)
        .kubeconfig(kubeconfig)
        .run()
}

/// A ConfigMap and a PostSync hook deleted once it succeeded.
fn app() -> String {
    let smoke = Workload::job("smoke")
        .annotations(
            "argocd.argoproj.io/hook: PostSync, argocd.argoproj.io/hook-delete-policy: HookSucceeded",
        )
        .default_retries()
        .containers("{name: smoke, image: busybox}")
        .yaml();
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  colour: blue\n---\n"
        .to_owned()
        + &smoke
}

#[test]
fn a_sync_missing_a_verb_refuses_before_writing() {
    let namespace = create_namespace("partial-rbac");
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = service_account(
        &namespace,
        json!([
            {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["*"]},
            {"apiGroups": ["batch"], "resources": ["jobs"], "verbs": ["create", "patch"]},
            {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["*"]},
            // The app's inventory is a Secret in its namespace.
            {"apiGroups": [""], "resources": ["secrets"], "verbs": ["*"]},
        ]),
        dir.path(),
    );
    let file = write_input(dir.path(), "app.yaml", &app(), &namespace);
    let run = run_as(
        &kubeconfig,
        &["sync", "-f", &file, "--yes", "--timeout", "60s"],
    )
    .exits(3);
    for verb in ["delete", "get", "list", "watch"] {
        assert!(
            run.stderr
                .contains(&format!("may not {verb} jobs.batch in namespace")),
            "{verb}: {}",
            run.output()
        );
    }
    run.stderr_says("Job/smoke");
    assert!(
        !run.stderr.contains("configmaps"),
        "ConfigMaps are allowed: {}",
        run.output()
    );
    assert!(
        !exists(&namespace, "configmap", "settings"),
        "nothing may be written"
    );

    // With the missing verbs granted, the same account syncs the same input.
    kubectl(&[
        "patch",
        "role",
        "deployer",
        "-n",
        &namespace,
        "--type",
        "json",
        "-p",
        r#"[{"op": "replace", "path": "/rules/1/verbs", "value": ["*"]},
            {"op": "add", "path": "/rules/-", "value": {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}}]"#,
    ]);
    run_as(
        &kubeconfig,
        &["sync", "-f", &file, "--yes", "--timeout", "60s"],
    )
    .exits(0);
    assert!(exists(&namespace, "configmap", "settings"));
}

#[test]
fn a_delete_missing_a_verb_refuses_before_deleting() {
    let namespace = create_namespace("partial-rbac-delete");
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = service_account(
        &namespace,
        json!([
            {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "delete"]},
            {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["*"]},
        ]),
        dir.path(),
    );
    support::create(
        &namespace,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n",
    );
    let file = write_input(dir.path(), "app.yaml", &app(), &namespace);
    let run = run_as(
        &kubeconfig,
        &["delete", "-f", &file, "--yes", "--timeout", "60s"],
    )
    .exits(3);
    run.stderr_says("may not watch configmaps in namespace");
    assert!(
        exists(&namespace, "configmap", "settings"),
        "nothing may be deleted"
    );
}
