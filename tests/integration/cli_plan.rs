//! `kubectl hooks plan`, run as a user runs it.

use crate::support::hooks_command;
use std::path::Path;
use std::process::Output;

fn run(args: &[&str], stdin: Option<&str>) -> Output {
    let command = hooks_command().args(args);
    match stdin {
        Some(text) => command.stdin(text).output(),
        None => command.output(),
    }
}

/// The plan of `file` (`-` for `stdin`) as JSON; panics with stderr unless it exits 0.
fn plan_json(file: &str, stdin: Option<&str>) -> serde_json::Value {
    let out = run(&["plan", "-f", file, "-o", "json"], stdin);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn table_of_a_directory_in_run_order() {
    let out = run(&["plan", "-f", "examples/quickstart"], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with("app \"quickstart\", namespace \""),
        "the header names the app: {stdout}"
    );
    let rows: Vec<&str> = stdout
        .lines()
        .skip(2)
        .take_while(|l| !l.is_empty())
        .map(|l| l.split_whitespace().take(5).collect::<Vec<_>>().join(" "))
        .map(|s| Box::leak(s.into_boxed_str()) as &str)
        .collect();
    assert_eq!(
        rows,
        [
            "PreSync -2 Namespace - quickstart",
            "PreSync -2 ServiceAccount quickstart migrator",
            "PreSync -1 Job quickstart migrate-schema",
            "Sync 0 Secret quickstart shop-db",
            "Sync 0 ConfigMap quickstart shop-config",
            "Sync 1 Service quickstart shop-api",
            "Sync 1 Deployment quickstart shop-api",
            "PostSync 0 Job quickstart smoke-test-*",
            "SyncFail 0 Job quickstart page-on-call",
        ]
    );
    assert!(stdout.contains("SyncFail hooks run only when the sync fails"));
    assert!(
        stdout.contains("9 objects in 5 steps (+ SyncFail on failure): 4 hook tasks, 5 resources")
    );
    assert!(out.stderr.is_empty());
}

#[test]
fn json_has_the_documented_shape() {
    let doc = plan_json("examples/quickstart/10-migrate.yaml", None);
    let first = &doc["steps"][0];
    assert_eq!(first["phase"], "PreSync");
    assert_eq!(first["wave"], -2);
    let job = &doc["steps"][1]["tasks"][0];
    assert_eq!(job["apiVersion"], "batch/v1");
    assert_eq!(job["kind"], "Job");
    assert_eq!(job["namespace"], "quickstart");
    assert_eq!(job["name"], "migrate-schema");
    assert_eq!(job["generateName"], serde_json::Value::Null);
    assert_eq!(job["hook"], true);
    assert_eq!(
        job["deletePolicies"],
        serde_json::json!(["BeforeHookCreation", "HookSucceeded"])
    );
    assert_eq!(job["source"]["file"], "examples/quickstart/10-migrate.yaml");
    assert_eq!(job["source"]["line"], 15);
    assert_eq!(doc["skipped"], serde_json::json!([]));
}

#[test]
fn yaml_output_parses_to_the_same_document() {
    let json = run(&["plan", "-f", "examples/quickstart", "-o", "json"], None);
    let yaml = run(&["plan", "-f", "examples/quickstart", "-o", "yaml"], None);
    assert_eq!(yaml.status.code(), Some(0));
    let a: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let b: serde_json::Value = serde_saphyr::from_str(&text(&yaml.stdout)).unwrap();
    assert_eq!(a, b);
}

#[test]
fn reads_stdin_with_dash_and_when_piped_and_uses_the_namespace_flag() {
    let manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-stdin\n";
    for args in [
        &["plan", "-f", "-", "-n", "team-a"][..],
        &["plan", "-n", "team-a"][..],
    ] {
        let out = run(args, Some(manifest));
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let stdout = text(&out.stdout);
        assert!(
            stdout.contains("ConfigMap   team-a      from-stdin"),
            "{stdout}"
        );
    }
    let out = run(&["plan", "-f", "-", "-o", "wide"], Some(manifest));
    assert!(text(&out.stdout).contains("<stdin>:1"));
}

#[test]
fn no_input_is_a_usage_error() {
    let out = run(&["plan", "-f", "does/not/exist.yaml"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("does/not/exist.yaml: no such file or directory"));
    assert!(out.stdout.is_empty());
}

#[test]
fn broken_input_reports_every_problem_with_file_line_col_and_plans_nothing() {
    let out = run(&["plan", "-f", "tests/fixtures/plan/broken.yaml"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "no partial table");
    let stderr = text(&out.stderr);
    let file = "tests/fixtures/plan/broken.yaml";
    assert!(
        stderr.contains(&format!("{file}:9:9: invalid YAML: unclosed bracket")),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "{file}:15:5: value of annotation \"argocd.argoproj.io/sync-wave\" is a number"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("{file}:13:1:"))
            && stderr.contains("neither metadata.name nor metadata.generateName"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("{file}:17:1: document 4 is a list")),
        "{stderr}"
    );
    assert!(stderr.contains("problems in the input; nothing was done"));
}

#[test]
fn unknown_hook_type_is_refused_unless_dropped_like_argo() {
    let file = "tests/fixtures/plan/typo-hook.yaml";
    let out = run(&["plan", "-f", file], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("{file}:6:5: Job/migrate: hook value \"Presync\"")),
        "{stderr}"
    );
    assert!(stderr.contains("--drop-unknown-hooks"));

    let out = run(&["plan", "-f", file, "--drop-unknown-hooks"], None);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stderr).contains("warning:"));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("Dropped"));
    assert!(stdout.contains("1 object in 1 step"));
}

#[test]
fn kind_list_is_flattened_and_empty_documents_skipped() {
    let list = "---\n---\napiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: one}\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: two}\n---\n# only a comment\n";
    let doc = plan_json("-", Some(list));
    let tasks = doc["steps"][0]["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 2);
    assert_eq!(tasks[1]["source"]["line"], 9);
}

#[test]
fn json_input_and_yaml_aliases_work_and_alias_bombs_are_stopped() {
    let json = r#"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "j"}}"#;
    let out = run(&["plan", "-f", "-"], Some(json));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    let anchors = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  labels: &l {app: x}\n  annotations: *l\n";
    let out = run(&["plan", "-f", "-"], Some(anchors));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    let mut bomb = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    for i in 1..12 {
        let prev = (b'a' + i - 1) as char;
        let cur = (b'a' + i) as char;
        bomb.push_str(&format!("{cur}: &{cur} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"));
    }
    let started = std::time::Instant::now();
    let out = run(&["plan", "-f", "-"], Some(&bomb));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("<stdin>:"),
        "{}",
        text(&out.stderr)
    );
    // Not a timing assertion on speed: a bomb that were expanded would never finish at all.
    assert!(started.elapsed().as_secs() < 60);
}

#[test]
fn shared_examples_plan_when_present() {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/examples");
    if !shared.exists() {
        eprintln!("../shared/examples not present: skipped");
        return;
    }
    let doc = plan_json("../shared/examples/db-migration", None);
    assert_eq!(
        crate::support::rows(&doc["steps"], "{phase} {wave}"),
        ["PreSync -1", "Sync 0", "PostSync 2", "SyncFail 3"]
    );
    // The misspelt key is not read: the default policy applies.
    assert_eq!(
        doc["steps"][0]["tasks"][0]["deletePolicies"],
        serde_json::json!(["BeforeHookCreation"])
    );

    let out = run(&["plan", "-f", "../shared/examples/schema-migrate"], None);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("schema-migrate-*"));
    // Two of the examples define the same Job (agents/db-migration): read together they are
    // one input with an object defined twice, which is refused with both places named.
    let out = run(&["plan", "-R", "-f", "../shared/examples"], None);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("agent-api/00-migration.yaml:2")
            && stderr.contains("db-migration/migration-job.yaml:2"),
        "{stderr}"
    );
}
