//! Exec credential plugins (a kubeconfig user's `exec:`), against the test control plane: a
//! working plugin's token is used; a hanging one is stopped at the request timeout; a
//! malformed or failing one is named as such, and what it printed is never shown.

use crate::support::{self, Run, create_namespace, exists, write_input};
use serde_json::json;
use std::path::{Path, PathBuf};

/// A kubeconfig (in the folder returned with it) for the test cluster whose only user gets its
/// credential from `plugin`, a shell script body. The admin token is in `token` next to it,
/// for the script to read.
fn kubeconfig_with_plugin(plugin: &str) -> (tempfile::TempDir, PathBuf) {
    let folder = tempfile::tempdir().unwrap();
    let dir = folder.path();
    let config = support::test_kubeconfig_view();
    let token = support::find(&config["users"], "name", "admin")["user"]["token"]
        .as_str()
        .expect("the admin user has a token")
        .to_owned();
    std::fs::write(dir.join("token"), &token).unwrap();
    let script = dir.join("plugin.sh");
    std::fs::write(&script, format!("#!/bin/sh\n{plugin}\n")).unwrap();
    let mut perms = std::fs::metadata(&script).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(&script, perms).unwrap();
    let exec = json!({
        "apiVersion": "client.authentication.k8s.io/v1beta1",
        "command": script,
        "interactiveMode": "Never",
    });
    let kubeconfig = support::kubeconfig_as(dir, "plugged", json!({ "exec": exec }), None);
    (folder, kubeconfig)
}

/// `kubectl-hooks sync -f FILE -n NAMESPACE --yes EXTRA... --kubeconfig KUBECONFIG`, FILE
/// the [`APP`] written next to the kubeconfig.
fn sync(kubeconfig: &Path, namespace: &str, extra: &[&str]) -> Run {
    let dir = kubeconfig.parent().expect("the kubeconfig's folder");
    let file = write_input(dir, "app.yaml", APP, namespace);
    support::hooks_command()
        .args(["sync", "-f", &file, "-n", namespace, "--yes"])
        .args(extra)
        .kubeconfig(kubeconfig)
        .run()
}

const APP: &str = "apiVersion: v1
kind: ConfigMap
metadata:
  name: plugged-in
data:
  k: v
";

#[test]
fn a_working_plugin_authenticates_the_sync() {
    let namespace = create_namespace("exec-ok");
    let (_dir, kubeconfig) = kubeconfig_with_plugin(
        r#"printf '{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"%s"}}' "$(cat "$(dirname "$0")/token")""#,
    );
    sync(&kubeconfig, &namespace, &[]).exits(0);
    assert!(exists(&namespace, "configmap", "plugged-in"));
}

#[test]
fn a_hanging_plugin_is_stopped_at_the_request_timeout() {
    let namespace = create_namespace("exec-hang");
    // `exec`, so the recorded pid is the sleeping process itself.
    let (dir, kubeconfig) =
        kubeconfig_with_plugin(r#"echo $$ > "$(dirname "$0")/pid"; exec sleep 600"#);
    let run = sync(
        &kubeconfig,
        &namespace,
        &["--timeout", "10s", "--request-timeout", "2s"],
    )
    .exits(3);
    run.stderr_says("credential plugin")
        .stderr_says("did not finish within 2s");
    let pid = std::fs::read_to_string(dir.path().join("pid")).unwrap();
    let proc = PathBuf::from(format!("/proc/{}/stat", pid.trim()));
    // Killed: gone, or a zombie waiting for init to reap it.
    let alive = std::fs::read_to_string(&proc)
        .map(|stat| !stat.contains(") Z "))
        .unwrap_or(false);
    assert!(!alive, "the plugin (pid {}) still runs", pid.trim());
    assert!(!exists(&namespace, "configmap", "plugged-in"));
}

#[test]
fn a_malformed_plugin_output_is_named_and_never_shown() {
    let namespace = create_namespace("exec-bad");
    let token_fragment = "tok-3f9a1c77";
    for (body, says) in [
        (
            format!(r#"printf '{{"kind":"ExecCredential","status":{{"token":"{token_fragment}'"#),
            "printed no valid ExecCredential",
        ),
        (
            format!(r#"echo "token={token_fragment}""#),
            "printed no valid ExecCredential",
        ),
        (
            format!(r#"echo "{token_fragment}" >&1; exit 7"#),
            "failed (exit status: 7)",
        ),
    ] {
        let (_dir, kubeconfig) = kubeconfig_with_plugin(&body);
        let run = sync(&kubeconfig, &namespace, &[]);
        assert_eq!(run.code, Some(3), "{body}: {}", run.output());
        assert!(run.stderr.contains(says), "{body}: {}", run.output());
        assert!(
            !run.stderr.contains(token_fragment) && !run.stdout.contains(token_fragment),
            "{body}: the plugin's output is shown: {}",
            run.output()
        );
        assert!(
            !run.stderr.contains("did not accept"),
            "{body}: the server was never asked: {}",
            run.output()
        );
    }
    assert!(!exists(&namespace, "configmap", "plugged-in"));
}
