//! `kubectl hooks lint`, run as a user runs it: stdout, stderr and the exit code, each checked.

use crate::support::{Run, hooks_command, text, write_input};
use serde_json::Value;
use std::path::Path;

const DIR: &str = "tests/fixtures/lint";
const EXAMPLES: &str = "../shared/examples";

/// `kubectl-hooks ARGS...` with `NO_COLOR=1`, as a script runs it.
fn run(args: &[&str]) -> Run {
    hooks_command().args(args).run()
}

fn fixture(name: &str) -> String {
    format!("{DIR}/{name}")
}

#[test]
fn text_output_is_compiler_style() {
    let file = fixture("unknown-hook-type.bad.yaml");
    let out = run(&["lint", "-f", &file]).exits(1);
    assert_eq!(out.stderr, "");
    let stdout = out.stdout;
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
    let out = hooks_command()
        .env_remove("NO_COLOR")
        .args(["lint", "-f", &fixture("unknown-hook-type.bad.yaml")])
        .run();
    assert!(!out.stdout.contains('\x1b'));
}

#[test]
fn a_clean_input_exits_0() {
    let out = run(&["lint", "-f", &fixture("clean.yaml")]).exits(0);
    assert_eq!(
        out.stdout,
        "lint: no problems found (4 objects in 1 file checked)\n"
    );
    assert_eq!(out.stderr, "");
}

#[test]
fn warnings_fail_only_when_asked() {
    for (fixture_name, options, code) in [
        ("skip-mixed.bad.yaml", &[][..], 0),
        ("skip-mixed.bad.yaml", &["--strict"], 1),
        ("skip-mixed.bad.yaml", &["--fail-on", "warning"], 1),
        ("hook-job-no-deadline.bad.yaml", &["--strict"], 0),
        ("hook-job-no-deadline.bad.yaml", &["--fail-on", "info"], 1),
        ("duplicate-object.bad.yaml", &[], 1),
        ("duplicate-object.bad.yaml", &["--fail-on", "never"], 0),
    ] {
        let file = fixture(fixture_name);
        let mut args = vec!["lint"];
        args.extend(options);
        args.extend(["-f", &file]);
        assert_eq!(run(&args).code, Some(code), "{args:?}");
    }
}

#[test]
fn a_missing_path_is_bad_input() {
    let out = run(&["lint", "-f", "no/such/file.yaml"]).exits(2);
    assert_eq!(out.stdout, "");
    out.stderr_says("no/such/file.yaml: no such file or directory");
    out.stderr_says("nothing was linted");
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
    ])
    .exits(1);
    let doc = out.json();
    let rules: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| text(&f["rule"]))
        .collect();
    assert_eq!(rules, ["yaml-syntax", "invalid-sync-wave"]);
    assert_eq!(doc["summary"]["objects"], 5);
    assert_eq!(doc["summary"]["files"], 2);
}

#[test]
fn stdin_is_read_and_quoted() {
    let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  annotations:\n    argocd.argoproj.io/sync-wave: 3\n";
    let out = hooks_command()
        .args(["lint", "-f", "-"])
        .stdin(yaml)
        .run()
        .exits(1);
    let stdout = &out.stdout;
    assert!(
        stdout.starts_with("error[non-string-annotation]: annotation \"argocd.argoproj.io/sync-wave\" has a number value (3), not a string"),
        "{stdout}"
    );
    out.stdout_says(" --> <stdin>:6:5\n");
    out.stdout_says("6 |     argocd.argoproj.io/sync-wave: 3\n");
    assert!(stdout.contains("help: quote the value: `argocd.argoproj.io/sync-wave: \"3\"`"));
}

#[test]
fn explain_prints_a_rule() {
    let out = run(&["lint", "--explain", "ordering-dependency"]).exits(0);
    assert_eq!(out.stderr, "");
    let stdout = out.stdout;
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
    let out = run(&["lint", "--explain", "no-such-rule"]).exits(2);
    assert_eq!(out.stdout, "");
    let stderr = out.stderr;
    assert!(stderr.contains("unknown lint rule \"no-such-rule\""));
    assert!(stderr.contains("  unknown-hook-type\n") && stderr.contains("  yaml-syntax\n"));
}

#[test]
fn disable_turns_a_rule_off_and_rejects_unknown_ids() {
    let file = fixture("duplicate-object.bad.yaml");
    let out = run(&["lint", "--disable", "duplicate-object", "-f", &file]).exits(0);
    assert_eq!(
        out.stdout,
        "lint: no problems found (4 objects in 1 file checked, 2 silenced)\n"
    );
    let out = run(&["lint", "--disable", "duplicate-objects", "-f", &file]).exits(2);
    out.stderr_says("unknown lint rule \"duplicate-objects\"");
}

#[test]
fn json_output() {
    let file = fixture("misspelt-annotation-key.bad.yaml");
    let out = run(&["lint", "-o", "json", "-f", &file]).exits(0);
    let doc = out.json();
    let first = &doc["findings"][0];
    assert_eq!(first["rule"], "misspelt-annotation-key");
    assert_eq!(first["severity"], "warning");
    assert_eq!(first["file"], file.as_str());
    assert_eq!(first["line"], 7);
    assert_eq!(first["column"], 5);
    assert_eq!(first["object"], "Job/migrate");
    assert!(text(&first["message"]).contains("hook-deletion-policy"));
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
    let out = run(&["lint", "-o", "sarif", "-f", &file]).exits(0);
    let doc = out.json();
    assert!(doc["$schema"].as_str().unwrap().contains("sarif-2.1.0"));
    assert_eq!(doc["version"], "2.1.0");
    let run = &doc["runs"][0];
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "kubectl-hooks");
    assert!(text(&driver["informationUri"]).starts_with("https://"));
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
    let yaml = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations:\n    argocd.argoproj.io/hook: presync\n    argocd.argoproj.io/sync-options: Bogus\n---\napiVersion: batch/v1\nkind: Job\nmetadata:\n  generateName: j-\n  annotations:\n    argocd.argoproj.io/hook: PreSync\nspec:\n  activeDeadlineSeconds: 5\n  ttlSecondsAfterFinished: 1\n";
    let shown = &write_input(dir.path(), "a,b:c.yaml", yaml, "");
    let escaped = shown.replace(',', "%2C").replace(':', "%3A");
    let out = run(&["lint", "-o", "github", "-f", shown]).exits(1);
    let stdout = out.stdout;
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
    let out = run(&["lint", "-f", &fixture("unknown-lint-rule.good.yaml")]).exits(0);
    out.stdout_says("2 silenced");
}

/// The findings of one example set as `RULE FILE:LINE:COLUMN` (the file's name only), and the
/// JSON document; `None` when the set is not there. Each set has warnings only: exit code 0.
fn example_findings(set: &str) -> Option<(Vec<String>, Value)> {
    let dir = format!("{EXAMPLES}/{set}");
    if !Path::new(&dir).is_dir() {
        eprintln!("skipped: {dir} does not exist");
        return None;
    }
    let out = run(&["lint", "-o", "json", "-f", &dir]);
    assert_eq!(out.stderr, "");
    let doc = out.json();
    let list: Vec<String> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let file = text(&f["file"]).rsplit('/').next().unwrap();
            format!("{} {file}:{}:{}", text(&f["rule"]), f["line"], f["column"])
        })
        .collect();
    assert_eq!(out.code, Some(0), "warnings only: {list:?}");
    Some((list, doc))
}

/// How many findings of `rule` there are, with each of `places` (`RULE FILE:LINE:COLUMN`)
/// among them.
fn count_having(list: &[String], rule: &str, places: &[&str]) -> usize {
    for place in places {
        assert!(list.iter().any(|f| f == place), "{place} in {list:?}");
    }
    list.iter()
        .filter(|f| f.split(' ').next() == Some(rule))
        .count()
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
    let Some((list, _)) = example_findings("agent-api") else {
        return;
    };
    let misspelt = [
        "misspelt-annotation-key 00-migration.yaml:9:5",
        "misspelt-annotation-key 30-smoke-tests.yaml:9:5",
    ];
    count_having(&list, "misspelt-annotation-key", &misspelt);
    assert_eq!(
        count_having(&list, "ordering-dependency", &[]),
        0,
        "{list:?}"
    );
}

#[test]
fn example_db_migration() {
    let Some((list, doc)) = example_findings("db-migration") else {
        return;
    };
    let misspelt = [
        "misspelt-annotation-key migration-job.yaml:11:5",
        "misspelt-annotation-key notify.yaml:19:5",
        "misspelt-annotation-key notify.yaml:50:5",
    ];
    count_having(&list, "misspelt-annotation-key", &misspelt);
    let ordering = ["ordering-dependency migration-job.yaml:18:7"];
    assert_eq!(count_having(&list, "ordering-dependency", &ordering), 1);
    let message = message_at(&doc, "ordering-dependency", 18);
    for part in [
        "ServiceAccount \\\"db-migrate\\\"",
        "PreSync wave -1",
        "Sync wave 0",
        "PreSync hook in wave -1",
    ] {
        assert!(message.contains(part), "{part}: {message}");
    }
}

#[test]
fn example_schema_migrate() {
    let Some((list, doc)) = example_findings("schema-migrate") else {
        return;
    };
    let policy = ["unknown-delete-policy hooks.yaml:21:5"];
    count_having(&list, "unknown-delete-policy", &policy);
    let message = message_at(&doc, "unknown-delete-policy", 21);
    assert!(
        message.contains("OnSuccess") && message.contains("HookSucceeded"),
        "{message}"
    );
    assert_eq!(count_having(&list, "generate-name-on-resource", &[]), 0);
}
