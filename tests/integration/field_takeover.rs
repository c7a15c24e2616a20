//! A forced server-side apply takes fields other field managers own; the user is told which
//! fields and from whom, in `--dry-run` and in the report.

use crate::support;

use crate::support::{create_namespace, kubectl, on_input, task, write_input};

const APP: &str = "apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  colour: blue
  size: large
";

/// The live ConfigMap `settings`' `data.colour`.
fn colour(namespace: &str) -> String {
    kubectl(&[
        "get",
        "configmap",
        "settings",
        "-n",
        namespace,
        "-o",
        "jsonpath={.data.colour}",
    ])
}

#[test]
fn fields_taken_from_another_manager_are_named_with_it() {
    let namespace = create_namespace("takeover");
    // Owned by kubectl ("kubectl-create"), with values the input changes.
    kubectl(&[
        "create",
        "configmap",
        "settings",
        "-n",
        &namespace,
        "--from-literal=colour=red",
        "--from-literal=size=large",
    ]);
    let dir = tempfile::tempdir().unwrap();
    let file = write_input(dir.path(), "app.yaml", APP, &namespace);

    let dry = on_input("sync", &namespace, &file, &["--dry-run"]).exits(0);
    let note = dry.stderr_line("ConfigMap/settings");
    assert!(
        note.contains(".data.colour") && note.contains("\"kubectl-create\""),
        "{note}"
    );
    // Same values are no conflict: only the changed field is named.
    assert!(!note.contains(".data.size"), "{note}");
    assert!(colour(&namespace) == "red");

    // The table names them in the task's message.
    let table = support::hooks(&["sync", "-f", &file, "-n", &namespace, "--yes"]).exits(0);
    table.stdout_says("took .data.colour from \"kubectl-create\"");
    assert_eq!(colour(&namespace), "blue");

    // Someone else changes it again; the JSON report names the new owner.
    kubectl(&[
        "patch",
        "configmap",
        "settings",
        "-n",
        &namespace,
        "--field-manager",
        "ops-team",
        "-p",
        r#"{"data": {"colour": "green"}}"#,
    ]);
    let run = on_input("sync", &namespace, &file, &["--yes"]).exits(0);
    let report = run.json();
    let tasks = report["tasks"].as_array().unwrap();
    let applied = task(tasks, "Sync", "settings");
    let took = applied["tookOver"]
        .as_str()
        .unwrap_or_else(|| panic!("{applied}"));
    assert_eq!(took, "took .data.colour from \"ops-team\"");

    // Now the fields are ours: the next sync takes nothing.
    let again = on_input("sync", &namespace, &file, &["--yes"]).exits(0);
    let tasks = again.json()["tasks"].as_array().unwrap().clone();
    assert!(
        task(&tasks, "Sync", "settings").get("tookOver").is_none(),
        "{}",
        again.output()
    );
}
