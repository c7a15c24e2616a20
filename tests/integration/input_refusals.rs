//! Input the API server would refuse, or that cannot be applied as written, is refused by
//! every command that acts on it: exit 2, the file and line named, nothing sent. Run against
//! the test control plane, so "nothing written" is checked in a real cluster.

use crate::support;

use crate::support::{Workload, create_namespace, exists, hooks, write_input};

const FIRST: &str = "apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  colour: blue
";

const SECOND: &str = "# the same object again, from another file
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: NAMESPACE
data:
  colour: red
";

fn with_files(namespace: &str, command: &str, files: &[(&str, &str)]) -> support::Run {
    let dir = tempfile::tempdir().unwrap();
    let paths: Vec<String> = files
        .iter()
        .map(|(name, yaml)| write_input(dir.path(), name, yaml, namespace))
        .collect();
    let mut extra: Vec<&str> = Vec::new();
    for path in &paths[1..] {
        extra.extend(["-f", path.as_str()]);
    }
    if command != "plan" {
        extra.push("--yes");
    }
    on_input(command, namespace, &paths[0], &extra)
}

/// `kubectl-hooks COMMAND -f FILE -n NAMESPACE EXTRA...`.
fn on_input(command: &str, namespace: &str, file: &str, extra: &[&str]) -> support::Run {
    let mut args = vec![command, "-f", file, "-n", namespace];
    args.extend(extra);
    hooks(&args)
}

#[test]
fn one_object_in_two_inputs_is_refused_by_plan_sync_and_delete() {
    let namespace = create_namespace("dup-object");
    for command in ["plan", "sync", "delete"] {
        let run = with_files(
            &namespace,
            command,
            &[("a.yaml", FIRST), ("b.yaml", SECOND)],
        );
        assert_eq!(run.code, Some(2), "{command}: {}", run.output());
        let line = run.stderr_line("defined twice");
        assert!(
            line.contains("a.yaml:1") && line.contains("b.yaml:2"),
            "{command}: both places must be named: {line}"
        );
        assert!(run.stdout.is_empty(), "{command}: {}", run.output());
    }
    assert!(!exists(&namespace, "configmap", "settings"));
    // Each copy alone is fine: the refusal is about the pair.
    with_files(&namespace, "sync", &[("a.yaml", FIRST)]).exits(0);
}

/// A BeforeHookCreation hook's name used to be cut by bytes (a panic, exit 101, on a name
/// of CJK characters); now no such name gets past the input check.
#[test]
fn names_the_api_server_would_refuse_are_refused_at_input() {
    let namespace = create_namespace("bad-names");
    // A PreSync hook named `name`: the name at line 4, column 9.
    let hook = |name: &str| {
        Workload::job(name)
            .annotations(
                "argocd.argoproj.io/hook: PreSync, argocd.argoproj.io/hook-delete-policy: BeforeHookCreation",
            )
            .default_retries()
            .containers("{name: m, image: busybox}")
            .yaml()
    };
    let cjk = hook("数据库迁移任务数据库迁移任务数据库迁移任务");
    let long = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fine\n---\n{}",
        hook(&"a".repeat(64))
    );
    for (yaml, line, says) in [
        (cjk, "app.yaml:4:9", "RFC 1123 subdomain"),
        (long, "app.yaml:9:9", "no more than 63 characters"),
    ] {
        for (command, extra) in [
            ("plan", &[][..]),
            ("sync", &["--yes"][..]),
            ("sync", &["--dry-run"][..]),
            ("delete", &["--yes"][..]),
        ] {
            let dir = tempfile::tempdir().unwrap();
            let file = write_input(dir.path(), "app.yaml", &yaml, &namespace);
            let run = on_input(command, &namespace, &file, extra);
            assert_eq!(run.code, Some(2), "{command} {extra:?}: {}", run.output());
            assert!(
                run.stderr.contains(line) && run.stderr.contains(says),
                "{command} {extra:?}: {}",
                run.output()
            );
        }
    }
    assert!(!exists(&namespace, "configmap", "fine"));
}
