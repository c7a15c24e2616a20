//! No Secret value in any output: lint's source snippets, and the cluster's messages about a
//! Secret it rejects, in every output mode.

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
