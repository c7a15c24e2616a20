//! `kubectl hooks lint`, run as a user runs it: stdout, stderr and the exit code, each checked.

use crate::support::hooks_command;
use serde_json::Value;
use std::path::Path;
use std::process::Output;

const DIR: &str = "tests/fixtures/lint";
const EXAMPLES: &str = "../shared/examples";

fn run_with(args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Output {
    let mut command = hooks_command().env_remove("NO_COLOR").args(args);
    for (k, v) in env {
        command = command.env(k, v);
    }
    match stdin {
        Some(text) => command.stdin(text).output(),
        None => command.output(),
    }
}

fn run(args: &[&str]) -> Output {
    run_with(args, None, &[("NO_COLOR", "1")])
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn fixture(name: &str) -> String {
    format!("{DIR}/{name}")
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out.stdout)))
}

#[test]
fn text_output_is_compiler_style() {
    let file = fixture("unknown-hook-type.bad.yaml");
    let out = run(&["lint", "-f", &file]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr), "");
    let stdout = text(&out.stdout);
    let expected = format!(
        "error[unknown-hook-type]: hook type \"presync\" is not one Argo CD knows (PreSync, Sync, PostSync, SyncFail, Skip; case matters): Argo CD would never apply this object
 --> {file}:6:5
  |
6 |     argocd.argoproj.io/hook: presync
  |     ^^^^^^^^^^^^^^^^^^^^^^^
  = object: Pod/wrong-case
  = help: use `argocd.argoproj.io/hook: PreSync`
"
    );
    assert!(stdout.starts_with(&expected), "{stdout}");
    assert!(
        stdout.ends_with(
            "note: see a rule's documentation with --explain RULE; silence it with --disable RULE, or for one object with the annotation kubectl-hooks.io/lint-disable: \"RULE\"\nlint: 6 errors, 1 info (7 objects in 1 file checked)\n"
        ),
        "{stdout}"
    );
    assert!(!stdout.contains('\x1b'));
}

#[test]
fn no_colour_when_not_a_terminal_even_without_no_color() {
    let out = run_with(
        &["lint", "-f", &fixture("unknown-hook-type.bad.yaml")],
        None,
        &[],
    );
    assert!(!text(&out.stdout).contains('\x1b'));
}

#[test]
fn a_clean_input_exits_0() {
    let out = run(&["lint", "-f", &fixture("clean.yaml")]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&out.stdout),
        "lint: no problems found (4 objects in 1 file checked)\n"
    );
    assert_eq!(text(&out.stderr), "");
}

#[test]
fn warnings_fail_only_when_asked() {
    let file = fixture("skip-mixed.bad.yaml");
    assert_eq!(run(&["lint", "-f", &file]).status.code(), Some(0));
    assert_eq!(
        run(&["lint", "--strict", "-f", &file]).status.code(),
        Some(1)
    );
    assert_eq!(
        run(&["lint", "--fail-on", "warning", "-f", &file])
            .status
            .code(),
        Some(1)
    );
    let info = fixture("hook-job-no-deadline.bad.yaml");
    assert_eq!(
        run(&["lint", "--strict", "-f", &info]).status.code(),
        Some(0)
    );
    assert_eq!(
        run(&["lint", "--fail-on", "info", "-f", &info])
            .status
            .code(),
        Some(1)
    );
    let errors = fixture("duplicate-object.bad.yaml");
    assert_eq!(run(&["lint", "-f", &errors]).status.code(), Some(1));
    assert_eq!(
        run(&["lint", "--fail-on", "never", "-f", &errors])
            .status
            .code(),
        Some(0)
    );
}

#[test]
fn a_missing_path_is_bad_input() {
    let out = run(&["lint", "-f", "no/such/file.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(text(&out.stdout), "");
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("no/such/file.yaml: no such file or directory"),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was linted"), "{stderr}");
}

#[test]
fn a_syntax_error_is_a_finding_and_the_rest_is_linted() {
    let out = run(&[
        "lint",
        "-o",
        "json",
        "-f",
        &fixture("yaml-syntax.bad.yaml"),
        "-f",
        &fixture("clean.yaml"),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let doc = json_of(&out);
    let rules: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["yaml-syntax", "invalid-sync-wave"]);
    assert_eq!(doc["summary"]["objects"], 5);
    assert_eq!(doc["summary"]["files"], 2);
}

#[test]
fn stdin_is_read_and_quoted() {
    let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  annotations:\n    argocd.argoproj.io/sync-wave: 3\n";
    let out = run_with(&["lint", "-f", "-"], Some(yaml), &[("NO_COLOR", "1")]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with("error[non-string-annotation]: annotation \"argocd.argoproj.io/sync-wave\" has a number value (3), not a string"),
        "{stdout}"
    );
    assert!(stdout.contains(" --> <stdin>:6:5\n"), "{stdout}");
    assert!(
        stdout.contains("6 |     argocd.argoproj.io/sync-wave: 3\n"),
        "{stdout}"
    );
    assert!(stdout.contains("help: quote the value: `argocd.argoproj.io/sync-wave: \"3\"`"));
}

#[test]
fn explain_prints_a_rule() {
    let out = run(&["lint", "--explain", "ordering-dependency"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stderr), "");
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with("ordering-dependency (warning)\n"),
        "{stdout}"
    );
    for part in [
        "What Argo CD does:",
        "Example:",
        "serviceAccountName: db-migrate",
        "Fix:",
        "kubectl-hooks.io/lint-disable: \"ordering-dependency\"",
    ] {
        assert!(stdout.contains(part), "{part}: {stdout}");
    }
}

#[test]
fn explain_an_unknown_rule_lists_the_rules() {
    let out = run(&["lint", "--explain", "no-such-rule"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(text(&out.stdout), "");
    let stderr = text(&out.stderr);
    assert!(stderr.contains("unknown lint rule \"no-such-rule\""));
    assert!(stderr.contains("  unknown-hook-type\n") && stderr.contains("  yaml-syntax\n"));
}

#[test]
fn disable_turns_a_rule_off_and_rejects_unknown_ids() {
    let file = fixture("duplicate-object.bad.yaml");
    let out = run(&["lint", "--disable", "duplicate-object", "-f", &file]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&out.stdout),
        "lint: no problems found (4 objects in 1 file checked, 2 silenced)\n"
    );
    let out = run(&["lint", "--disable", "duplicate-objects", "-f", &file]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("unknown lint rule \"duplicate-objects\""));
}

#[test]
fn json_output() {
    let file = fixture("misspelt-annotation-key.bad.yaml");
    let out = run(&["lint", "-o", "json", "-f", &file]);
    assert_eq!(out.status.code(), Some(0));
    let doc = json_of(&out);
    let first = &doc["findings"][0];
    assert_eq!(first["rule"], "misspelt-annotation-key");
    assert_eq!(first["severity"], "warning");
    assert_eq!(first["file"], file.as_str());
    assert_eq!(first["line"], 7);
    assert_eq!(first["column"], 5);
    assert_eq!(first["object"], "Job/migrate");
    assert!(
        first["message"]
            .as_str()
            .unwrap()
            .contains("hook-deletion-policy")
    );
    assert_eq!(
        first["suggestion"],
        "rename it to `argocd.argoproj.io/hook-delete-policy`"
    );
    assert_eq!(doc["summary"]["warnings"], 9);
    assert_eq!(doc["summary"]["errors"], 0);
    assert_eq!(doc["summary"]["objects"], 2);
}

#[test]
fn sarif_output_has_the_required_structure() {
    let file = fixture("ordering-dependency.bad.yaml");
    let out = run(&["lint", "-o", "sarif", "-f", &file]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let doc = json_of(&out);
    assert!(doc["$schema"].as_str().unwrap().contains("sarif-2.1.0"));
    assert_eq!(doc["version"], "2.1.0");
    let run = &doc["runs"][0];
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "kubectl-hooks");
    assert!(
        driver["informationUri"]
            .as_str()
            .unwrap()
            .starts_with("https://")
    );
    let rules = driver["rules"].as_array().unwrap();
    assert_eq!(rules.len(), kubectl_hooks::lint::RULES.len());
    for rule in rules {
        assert!(rule["id"].is_string());
        for field in ["shortDescription", "fullDescription", "help"] {
            assert!(
                !rule[field]["text"].as_str().unwrap().is_empty(),
                "{field} of {rule}"
            );
        }
        assert!(
            ["error", "warning", "note"]
                .contains(&rule["defaultConfiguration"]["level"].as_str().unwrap())
        );
    }
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 8);
    for result in results {
        let id = result["ruleId"].as_str().unwrap();
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], id);
        assert_eq!(
            result["level"],
            rules[index]["defaultConfiguration"]["level"]
        );
        assert!(!result["message"]["text"].as_str().unwrap().is_empty());
        let location = &result["locations"][0]["physicalLocation"];
        assert_eq!(location["artifactLocation"]["uri"], file.as_str());
        assert!(location["region"]["startLine"].as_u64().unwrap() >= 1);
        assert!(location["region"]["startColumn"].as_u64().unwrap() >= 1);
    }
    let first = &results[0];
    assert_eq!(first["ruleId"], "ordering-dependency");
    assert_eq!(first["level"], "warning");
    assert_eq!(
        first["locations"][0]["physicalLocation"]["region"]["startLine"],
        37
    );
    assert_eq!(
        first["locations"][0]["physicalLocation"]["region"]["startColumn"],
        7
    );
    let note = results
        .iter()
        .find(|r| r["ruleId"] == "delete-hook-not-synced")
        .unwrap();
    assert_eq!(note["level"], "note");
}

#[test]
fn github_output_is_workflow_commands() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a,b:c.yaml");
    std::fs::write(
        &path,
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations:\n    argocd.argoproj.io/hook: presync\n    argocd.argoproj.io/sync-options: Bogus\n---\napiVersion: batch/v1\nkind: Job\nmetadata:\n  generateName: j-\n  annotations:\n    argocd.argoproj.io/hook: PreSync\nspec:\n  activeDeadlineSeconds: 5\n  ttlSecondsAfterFinished: 1\n",
    )
    .unwrap();
    let shown = path.to_str().unwrap();
    let escaped = shown.replace(',', "%2C").replace(':', "%3A");
    let out = run(&["lint", "-o", "github", "-f", shown]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert!(
        lines[0].starts_with(&format!(
            "::error file={escaped},line=6,col=5,title=unknown-hook-type::Pod/p: hook type \"presync\""
        )),
        "{}",
        lines[0]
    );
    assert!(lines[0].contains("%0Ahelp: use `argocd.argoproj.io/hook: PreSync`"));
    assert!(lines[1].starts_with(&format!(
        "::warning file={escaped},line=7,col=5,title=unknown-sync-option::"
    )));
    assert!(lines[2].starts_with(&format!(
        "::notice file={escaped},line=17,col=3,title=hook-job-ttl::"
    )));
}

#[test]
fn the_lint_disable_annotation_is_honoured() {
    let out = run(&["lint", "-f", &fixture("unknown-lint-rule.good.yaml")]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("2 silenced"));
}

/// A finding as (rule, file name, line, column).
type Place = (String, String, u64, u64);

/// Findings of one example set, the JSON document, and the exit code.
fn example_findings(set: &str) -> Option<(Vec<Place>, Value, Option<i32>)> {
    let dir = format!("{EXAMPLES}/{set}");
    if !Path::new(&dir).is_dir() {
        eprintln!("skipped: {dir} does not exist");
        return None;
    }
    let out = run(&["lint", "-o", "json", "-f", &dir]);
    assert_eq!(text(&out.stderr), "");
    let doc = json_of(&out);
    let list = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let file = f["file"].as_str().unwrap();
            (
                f["rule"].as_str().unwrap().to_owned(),
                file.rsplit('/').next().unwrap().to_owned(),
                f["line"].as_u64().unwrap(),
                f["column"].as_u64().unwrap(),
            )
        })
        .collect();
    Some((list, doc, out.status.code()))
}

fn has(list: &[Place], rule: &str, file: &str, line: u64, col: u64) -> bool {
    list.iter()
        .any(|(r, f, l, c)| r == rule && f == file && *l == line && *c == col)
}

fn message_at(doc: &Value, rule: &str, line: u64) -> String {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == rule && f["line"] == line)
        .map(|f| format!("{} {}", f["message"], f["suggestion"]))
        .unwrap_or_default()
}

#[test]
fn example_agent_api() {
    let Some((list, _, code)) = example_findings("agent-api") else {
        return;
    };
    assert_eq!(code, Some(0), "warnings only: {list:?}");
    assert!(
        has(&list, "misspelt-annotation-key", "00-migration.yaml", 9, 5),
        "{list:?}"
    );
    assert!(
        has(
            &list,
            "misspelt-annotation-key",
            "30-smoke-tests.yaml",
            9,
            5
        ),
        "{list:?}"
    );
    assert!(
        !list.iter().any(|(r, ..)| r == "ordering-dependency"),
        "{list:?}"
    );
}

#[test]
fn example_db_migration() {
    let Some((list, doc, code)) = example_findings("db-migration") else {
        return;
    };
    assert_eq!(code, Some(0), "warnings only: {list:?}");
    assert!(
        has(
            &list,
            "misspelt-annotation-key",
            "migration-job.yaml",
            11,
            5
        ),
        "{list:?}"
    );
    assert!(
        has(&list, "misspelt-annotation-key", "notify.yaml", 19, 5),
        "{list:?}"
    );
    assert!(
        has(&list, "misspelt-annotation-key", "notify.yaml", 50, 5),
        "{list:?}"
    );
    assert!(
        has(&list, "ordering-dependency", "migration-job.yaml", 18, 7),
        "{list:?}"
    );
    let message = message_at(&doc, "ordering-dependency", 18);
    for part in [
        "ServiceAccount \\\"db-migrate\\\"",
        "PreSync wave -1",
        "Sync wave 0",
        "PreSync hook in wave -1",
    ] {
        assert!(message.contains(part), "{part}: {message}");
    }
    assert_eq!(
        list.iter()
            .filter(|(r, ..)| r == "ordering-dependency")
            .count(),
        1
    );
}

#[test]
fn example_schema_migrate() {
    let Some((list, doc, code)) = example_findings("schema-migrate") else {
        return;
    };
    assert_eq!(code, Some(0), "warnings only: {list:?}");
    assert!(
        has(&list, "unknown-delete-policy", "hooks.yaml", 21, 5),
        "{list:?}"
    );
    let message = message_at(&doc, "unknown-delete-policy", 21);
    assert!(
        message.contains("OnSuccess") && message.contains("HookSucceeded"),
        "{message}"
    );
    assert!(!list.iter().any(|(r, ..)| r == "generate-name-on-resource"));
}
