//! No Secret value in any output: lint's source snippets, and the cluster's messages about a
//! Secret it rejects, in every output mode.

use crate::support;

use std::path::Path;
use std::process::{Command, Output, Stdio};

/// The values planted in the inputs below; none may be printed.
const VALUES: [&str; 3] = ["hunter2-s3cret", "aHVudGVyMi1zM2NyZXQ=", "90417733"];

fn lint(file: &Path, format: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kubectl-hooks"))
        .args(["lint", "-o", format, "-f"])
        .arg(file)
        .env("KUBECONFIG", "/nonexistent")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn assert_no_value(what: &str, text: &str) {
    for value in VALUES {
        assert!(!text.contains(value), "{what} prints {value:?}:\n{text}");
    }
}

/// Lints `text` in every format; returns the text output, after checking that no format prints
/// a value and that each reports the finding (exit 1).
fn lint_everywhere(name: &str, text: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(name);
    std::fs::write(&file, text).unwrap();
    let mut shown = String::new();
    for format in ["text", "json", "sarif", "github"] {
        let out = lint(&file, format);
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(1), "-o {format}: {stdout}{stderr}");
        assert_no_value(&format!("lint -o {format}"), &format!("{stdout}{stderr}"));
        if format == "text" {
            shown = stdout;
        }
    }
    shown
}

#[test]
fn lint_masks_a_one_line_json_secret_but_keeps_the_marker() {
    let line = r#"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"db","annotations":{"argocd.argoproj.io/hook":"Presync"}},"data":{"password":"aHVudGVyMi1zM2NyZXQ="},"stringData":{"pin":"hunter2-s3cret"}}"#;
    let shown = lint_everywhere("secret.json", &format!("{line}\n"));
    let snippet = shown
        .lines()
        .find(|l| l.starts_with("1 | "))
        .unwrap_or_else(|| panic!("no source line in:\n{shown}"));
    let marker = shown
        .lines()
        .find(|l| l.trim_start().starts_with("| ") && l.contains('^'))
        .unwrap_or_else(|| panic!("no marker in:\n{shown}"));
    // Same shape as the input: the keys stay, each masked value keeps its width, and the marker
    // sits under the annotation key, where the finding is.
    assert_eq!(
        snippet.chars().count(),
        "1 | ".chars().count() + line.chars().count()
    );
    assert!(snippet.contains(r#""stringData":{"pin":"#), "{snippet}");
    let column = marker.find('^').unwrap() - "  | ".len();
    let key = line.find(r#""argocd.argoproj.io/hook""#).unwrap();
    assert_eq!(column, key, "{shown}");
    assert!(shown.contains("secret.json:1:"), "{shown}");
}

#[test]
fn lint_masks_an_unclosed_quote_under_string_data() {
    let yaml = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  user: admin\n  password: \"hunter2-s3cret\n";
    let shown = lint_everywhere("secret.yaml", yaml);
    assert!(shown.contains("secret.yaml:7:13"), "{shown}");
    assert!(
        shown.contains("7 |   password: \"**************"),
        "{shown}"
    );
    assert!(shown.contains("  |             ^"), "{shown}");
}

#[test]
fn lint_masks_data_lines_of_any_kind_and_leaves_other_lines_alone() {
    let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n  annotations:\n    argocd.argoproj.io/hook: Presync\ndata:\n  token: \"hunter2-s3cret\n";
    let shown = lint_everywhere("config.yaml", yaml);
    assert!(shown.contains("8 |   token: \"**************"), "{shown}");
    // A ConfigMap's line outside `data` is printed as it is.
    let hook = "argocd.argoproj.io/hook: Presync\n";
    let clean = lint_everywhere(
        "hook.yaml",
        &format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n  annotations:\n    {hook}"
        ),
    );
    assert!(
        clean.contains(&format!("6 |     {}", hook.trim_end())),
        "{clean}"
    );
}

/// Secrets the API server rejects, each quoting its value in a different way: a number under
/// stringData (structured-merge-diff's "got &value.valueUnstructured{Value:...}"), a map under
/// data, and a hook created with POST (the JSON decoder's "error found in ... bigger context").
const REJECTED: &[(&str, &str)] = &[
    (
        "number",
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: pin\nstringData:\n  DB_PIN: 90417733\n",
    ),
    (
        "map",
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: nested\ndata:\n  nested:\n    inner: aHVudGVyMi1zM2NyZXQ=\n",
    ),
    (
        "hook",
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: hook\n  annotations:\n    argocd.argoproj.io/hook: PreSync\nstringData:\n  pw: 90417733\n",
    ),
];

#[test]
fn a_rejected_secret_value_is_in_no_output_mode() {
    let namespace = support::create_namespace("secret-rejected");
    for (case, yaml) in REJECTED {
        let dir = tempfile::tempdir().unwrap();
        let file = support::write_input(dir.path(), "secret.yaml", yaml, &namespace);
        for extra in [
            &["--yes"][..],
            &["--yes", "-o", "json"][..],
            &["--dry-run"][..],
            &["--dry-run", "-o", "json"][..],
        ] {
            let mut args = vec!["sync", "-f", &file, "-n", &namespace];
            args.extend(extra);
            let run = support::hooks(&args);
            assert_eq!(run.code, Some(1), "{case} {extra:?}: {}", run.output());
            // The refusal is still explained: where, and what kind of problem.
            assert!(
                run.stderr.contains("secret.yaml:1") && run.stderr.contains("<redacted>"),
                "{case} {extra:?}: {}",
                run.output()
            );
            assert_no_value(&format!("{case} sync {extra:?}"), &run.output());
        }
    }
}

/// Objects in a namespace the input creates are dry-run in an existing namespace standing in
/// for it, so this Secret is refused before anything is written (the Namespace included), in
/// both report formats, with the server's message redacted.
#[test]
fn a_secret_in_a_namespace_the_input_creates_is_refused_redacted_before_writing() {
    for format in ["table", "json"] {
        let namespace = support::unique_namespace("secret-mid-sync");
        let yaml = format!(
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {namespace}\n---\n\
             apiVersion: v1\nkind: Secret\nmetadata:\n  name: pin\n  namespace: {namespace}\n  \
             annotations: {{argocd.argoproj.io/sync-wave: \"1\"}}\nstringData:\n  DB_PIN: 90417733\n"
        );
        let dir = tempfile::tempdir().unwrap();
        let file = support::write_input(dir.path(), "app.yaml", &yaml, &namespace);
        let run = support::hooks(&["sync", "-f", &file, "--yes", "-o", format]);
        let _ = support::try_kubectl(&["delete", "namespace", &namespace, "--wait=false"]);
        assert_eq!(run.code, Some(1), "{format}: {}", run.output());
        assert!(
            run.stderr.contains("stringData.DB_PIN")
                && run.stderr.contains("<redacted>")
                && run.stderr.contains("nothing was changed"),
            "{format}: the refusal must still say what was wrong: {}",
            run.output()
        );
        assert_no_value(&format!("sync -o {format}"), &run.output());
    }
}
