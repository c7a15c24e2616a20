//! Inputs as real repositories hold them: kustomize overlays (`-k`, or `-f` on a kustomization
//! directory), Helm charts (`-f` on a chart, rendered by a real helm), and directories mixing
//! manifests with values files, JSON streams and symlinked folders. Fixtures are in
//! tests/fixtures/inputs. The plan and lint tests need no cluster; the sync tests run against
//! the test control plane (see tests/support).
//!
//! Helm: the tests use the helm on PATH, else install one with scripts/install-helm (which
//! caches it, as scripts/test does).

use crate::support::{self, Run};
use serde_json::Value;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

const DIR: &str = "tests/fixtures/inputs";
const STAGING: &str = "tests/fixtures/inputs/kustomize/overlays/staging";
const PRODUCTION: &str = "tests/fixtures/inputs/kustomize/overlays/production";
const CHART: &str = "tests/fixtures/inputs/chart";
const DIRECTORY: &str = "tests/fixtures/inputs/directory/app";

/// PATH with a real helm in front.
fn path_with_helm() -> &'static str {
    static PATH: OnceLock<String> = OnceLock::new();
    PATH.get_or_init(|| {
        let path = std::env::var("PATH").unwrap_or_default();
        if std::env::split_paths(&path).any(|d| d.join("helm").is_file()) {
            return path;
        }
        let out = Command::new("scripts/install-helm")
            .stderr(Stdio::inherit())
            .output()
            .expect("scripts/install-helm runs");
        assert!(out.status.success(), "scripts/install-helm failed");
        let dir = String::from_utf8(out.stdout).unwrap().trim().to_owned();
        format!("{dir}:{path}")
    })
}

/// Runs the binary with no cluster (an empty kubeconfig: nothing reads one), with `path` as
/// PATH.
fn offline(args: &[&str], path: &str) -> Run {
    support::hooks_command()
        .args(args)
        .env("PATH", path)
        .env("KUBECONFIG", "/nonexistent/kubeconfig")
        .run()
}

fn ok(run: Run) -> Run {
    assert_eq!(run.code, Some(0), "{}", run.output());
    run
}

/// `phase wave kind/name source` for every task of a plan, in run order.
fn plan_rows(plan: &Value) -> Vec<String> {
    plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| {
            s["tasks"].as_array().unwrap().iter().map(move |t| {
                format!(
                    "{} {} {}/{} {}:{}",
                    s["phase"].as_str().unwrap(),
                    s["wave"],
                    t["kind"].as_str().unwrap(),
                    t["name"].as_str().unwrap(),
                    t["source"]["file"].as_str().unwrap(),
                    t["source"]["line"]
                )
            })
        })
        .collect()
}

/// `rule file:line:col` for every lint finding.
fn findings(lint: &Value) -> Vec<String> {
    support::rows(&lint["findings"], "{rule} {file}:{line}:{column}")
}

/// The 1-based line of `file` that holds `text`.
fn line_of(file: &str, text: &str) -> usize {
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .position(|l| l.contains(text))
        .unwrap_or_else(|| panic!("{text:?} not in {file}"))
        + 1
}

fn renderer_named(stderr: &str) -> bool {
    stderr.contains("rendered with `kubectl kustomize`")
        || stderr.contains("rendered with `kustomize build`")
}

#[test]
fn an_overlay_is_planned_in_wave_order_with_each_object_in_its_own_file() {
    let path = std::env::var("PATH").unwrap();
    let run = ok(offline(&["plan", "-k", STAGING, "-o", "json"], &path));
    assert!(renderer_named(&run.stderr), "{}", run.stderr);
    let base = format!("{DIR}/kustomize/base");
    assert_eq!(
        plan_rows(&run.json()),
        [
            // The overlay's patch moved the base's migration to wave -1.
            format!("PreSync -1 Job/staging-migrate {base}/migrate.yaml:2"),
            format!("PreSync 0 Job/staging-seed {STAGING}/seed.yaml:2"),
            format!("Sync 0 ConfigMap/staging-settings {base}/settings.yaml:1"),
            format!("Sync 1 Deployment/staging-api {base}/api.yaml:1"),
            format!("PostSync 0 Job/staging-smoke {base}/smoke.yaml:1"),
        ]
    );
    let plan = ok(offline(&["plan", "-k", STAGING, "-o", "yaml"], &path));
    assert!(
        !plan.stdout.contains("config.kubernetes.io"),
        "{}",
        plan.stdout
    );

    // -f on a kustomization directory renders it the same way; generated objects are placed
    // at their generator.
    let run = ok(offline(&["plan", "-f", PRODUCTION, "-o", "json"], &path));
    assert!(renderer_named(&run.stderr), "{}", run.stderr);
    let rows = plan_rows(&run.json());
    let generator = line_of(
        &format!("{PRODUCTION}/kustomization.yaml"),
        "- name: limits",
    );
    assert_eq!(
        rows[0],
        format!("PreSync -2 Job/prod-backup {PRODUCTION}/backup.yaml:1")
    );
    assert_eq!(
        rows[1],
        format!("PreSync 0 Job/prod-migrate {base}/migrate.yaml:2")
    );
    assert!(
        rows[2].starts_with("Sync 0 ConfigMap/prod-limits-")
            && rows[2].ends_with(&format!("{PRODUCTION}/kustomization.yaml:{generator}")),
        "{rows:?}"
    );
    assert_eq!(rows.len(), 6, "{rows:?}");
}

#[test]
fn lint_of_an_overlay_names_the_patch_and_overlay_lines() {
    let path = std::env::var("PATH").unwrap();
    let run = offline(&["lint", "-k", STAGING, "-o", "json"], &path).exits(0);
    let patch = format!("{STAGING}/migrate-patch.yaml");
    let policy = line_of(&patch, "hook-delete-policy: HookSucceeded");
    let seed = format!("{STAGING}/seed.yaml");
    assert_eq!(
        findings(&run.json()),
        [
            // The patch set HookSucceeded without BeforeHookCreation on a named Job.
            format!("job-hook-not-recreated {patch}:{policy}:5"),
            format!("hook-job-no-deadline {seed}:{}:1", line_of(&seed, "spec:")),
        ]
    );
    // The text output quotes the patch's own line.
    let text = offline(&["lint", "-k", STAGING], &path);
    text.stdout_says(&format!(
            " --> {patch}:{policy}:5\n  |\n{policy} |     argocd.argoproj.io/hook-delete-policy: HookSucceeded\n"
        ));
}

#[test]
fn a_kustomization_that_does_not_render_is_refused_with_the_renderers_message() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("kustomization.yaml"),
        "resources:\n  - missing.yaml\n",
    )
    .unwrap();
    let shown = dir.path().to_string_lossy().into_owned();
    let path = std::env::var("PATH").unwrap();
    for command in ["plan", "lint", "sync", "delete", "cleanup"] {
        let run = offline(&[command, "-k", &shown], &path);
        assert_eq!(run.code, Some(2), "{command}: {}", run.output());
        assert!(
            run.stderr.contains(&shown) && run.stderr.contains("missing.yaml"),
            "{command}: {}",
            run.stderr
        );
        assert!(run.stdout.is_empty(), "{command}: {}", run.stdout);
    }
    // A remote base that cannot be fetched is named.
    let remote = tempfile::tempdir().unwrap();
    let url = "https://github.com/example/kubectl-hooks-no-such-repo//base?ref=v1";
    std::fs::write(
        remote.path().join("kustomization.yaml"),
        format!("resources:\n  - {url}\n"),
    )
    .unwrap();
    let run = offline(&["plan", "-k", &remote.path().to_string_lossy()], &path).exits(2);
    run.stderr_says(url);
    assert!(!run.stderr.contains("command failed"), "{}", run.stderr);
    // -k needs a kustomization.
    let empty = tempfile::tempdir().unwrap();
    let run = offline(&["plan", "-k", &empty.path().to_string_lossy()], &path).exits(2);
    run.stderr_says("kustomization.yaml");
}

#[test]
fn without_a_renderer_on_path_rendering_is_refused() {
    let nothing = tempfile::tempdir().unwrap();
    let path = nothing.path().to_string_lossy().into_owned();
    let run = offline(&["plan", "-k", STAGING], &path).exits(2);
    run.stderr_says("neither kustomize nor kubectl is on PATH");
    let run = offline(&["plan", "-f", CHART], &path).exits(2);
    run.stderr_says("helm is not on PATH");
}

#[test]
fn a_chart_is_planned_with_its_hooks_weights_and_values() {
    let run = ok(offline(
        &["plan", "-f", CHART, "-o", "json"],
        path_with_helm(),
    ));
    run.stderr_says("rendered with `helm template` (a Helm chart; release \"shop\"");
    let t = format!("{CHART}/templates");
    let plan = run.json();
    assert_eq!(
        plan_rows(&plan),
        [
            format!("PreSync -5 Job/shop-migrate {t}/migrate.yaml:1"),
            format!("Sync 0 ConfigMap/shop-settings {t}/settings.yaml:1"),
            format!("Sync 0 Deployment/shop-api {t}/api.yaml:1"),
            format!("PostSync 1 Job/shop-smoke {t}/smoke.yaml:1"),
        ]
    );
    // The test hook is skipped with its reason, not refused.
    let skipped = plan["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert_eq!(skipped[0]["name"], "shop-test-connection");
    assert_eq!(
        skipped[0]["reason"],
        "Helm test or rollback hook, which Argo CD ignores"
    );
    assert_eq!(
        skipped[0]["source"]["file"],
        format!("{t}/tests/test-connection.yaml")
    );

    // --set toggles the seed Job (weight 5), --release names everything.
    let run = ok(offline(
        &[
            "plan",
            "-f",
            CHART,
            "--set",
            "seed.enabled=true",
            "--release",
            "web",
            "-o",
            "json",
        ],
        path_with_helm(),
    ));
    let rows = plan_rows(&run.json());
    // The seed template starts with `{{- if ... }}`: the object is on the template's line 2.
    assert_eq!(
        rows[..2],
        [
            format!("PreSync -5 Job/web-migrate {t}/migrate.yaml:1"),
            format!("PreSync 5 Job/web-seed {t}/seed.yaml:2"),
        ]
    );
    assert_eq!(rows.len(), 5, "{rows:?}");

    // The table says why the test Pod is left out.
    let table = ok(offline(&["plan", "-f", CHART], path_with_helm()));
    table
        .stdout_says("Ignored")
        .stdout_says("shop-test-connection");
}

#[test]
fn lint_of_a_chart_reports_the_test_hook_at_its_template_line() {
    let run = offline(&["lint", "-f", CHART, "-o", "json"], path_with_helm()).exits(0);
    let test = format!("{CHART}/templates/tests/test-connection.yaml");
    let found = findings(&run.json());
    assert!(
        found.contains(&format!(
            "helm-hook-ignored {test}:{}:5",
            line_of(&test, "\"helm.sh/hook\": test")
        )),
        "{found:?}"
    );
    let lint = run.json();
    let finding = support::find(&lint["findings"], "rule", "helm-hook-ignored");
    assert_eq!(finding["severity"], "info");
}

#[test]
fn chart_problems_are_refused_before_anything_is_done() {
    // Dependencies listed but not built.
    let dir = tempfile::tempdir().unwrap();
    let chart = dir.path().join("app");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: app\nversion: 0.1.0\ndependencies:\n  - name: redis\n    version: 1.0.0\n    repository: file://../redis\n",
    )
    .unwrap();
    let shown = chart.to_string_lossy().into_owned();
    let run = offline(&["plan", "-f", &shown], path_with_helm()).exits(2);
    run.stderr_says(&format!("run `helm dependency build {shown}`"))
        .stderr_says("redis");
    // A template helm cannot render: helm's message.
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: app\nversion: 0.1.0\n",
    )
    .unwrap();
    std::fs::write(
        chart.join("templates/bad.yaml"),
        "kind: {{ .Values.x.y.z }}\n",
    )
    .unwrap();
    let run = offline(&["plan", "-f", &shown], path_with_helm()).exits(2);
    run.stderr_says("`helm template` failed")
        .stderr_says("bad.yaml");
    // Helm flags without a chart.
    let run = offline(
        &["plan", "-f", STAGING, "--set", "a=b"],
        &std::env::var("PATH").unwrap(),
    )
    .exits(2);
    run.stderr_says("for Helm charts");
}

#[test]
fn a_directory_is_read_as_argo_cd_reads_it() {
    let path = std::env::var("PATH").unwrap();
    let run = ok(offline(
        &["plan", "-R", "-f", DIRECTORY, "-o", "json"],
        &path,
    ));
    let rows = plan_rows(&run.json());
    assert_eq!(
        rows,
        [
            format!("PreSync 0 Job/migrate {DIRECTORY}/jobs/migrate.yaml:1"),
            // Two objects of one JSON stream, one per line.
            format!("Sync 0 ConfigMap/first {DIRECTORY}/extra.json:1"),
            format!("Sync 0 ConfigMap/second {DIRECTORY}/extra.json:2"),
            format!("Sync 0 ConfigMap/settings {DIRECTORY}/app.yaml:1"),
            format!("Sync 1 Deployment/web {DIRECTORY}/app.yaml:8"),
        ]
    );
    // One note per file left out; the symlinked folders (one of them the other's target, two
    // of them links to the directory itself) are not followed.
    for file in [
        "values.yaml",
        "renovate.json",
        "jobs/kustomization.yaml",
        "legacy-chart/Chart.yaml",
    ] {
        run.stderr_says(&format!(
                "note: {DIRECTORY}/{file}: no Kubernetes objects (not one document has a kind or metadata, or it is kustomize's configuration): skipped"
            ));
    }
    for link in ["shared", "loop-a", "loop-b"] {
        run.stderr_says(&format!(
            "note: {DIRECTORY}/{link}: symlinked directory not followed"
        ));
    }
    assert_eq!(run.stderr.lines().count(), 7, "{}", run.stderr);

    let lint = offline(&["lint", "-R", "-f", DIRECTORY, "-o", "json"], &path).exits(0);
    let lint = lint.json();
    let skipped: Vec<&str> = lint["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "skipped-file")
        .map(|f| f["severity"].as_str().unwrap())
        .collect();
    assert_eq!(skipped, ["info"; 7]);
}

#[test]
fn the_same_directory_named_twice_or_through_a_link_is_read_once() {
    let path = std::env::var("PATH").unwrap();
    let link = format!("{DIRECTORY}/loop-a");
    let run = ok(offline(
        &["plan", "-R", "-f", DIRECTORY, "-f", &link, "-o", "json"],
        &path,
    ));
    assert_eq!(plan_rows(&run.json()).len(), 5);
    run.stderr_says(&format!("note: {link}: directory already read"));
}

#[test]
fn a_thousand_comment_lines_between_a_key_and_its_value_parse() {
    let mut yaml = String::from(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          image: example/web:1\n          env:\n",
    );
    for i in 0..1000 {
        yaml.push_str(&format!(
            "            # - name: OLD_{i}\n            #   value: \"{i}\"\n"
        ));
    }
    yaml.push_str("            - name: LEVEL\n              value: info\n");
    let loaded = kubectl_hooks::manifest::from_str("web.yaml", &yaml);
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    let env = loaded.manifests[0]
        .root
        .path(&["spec", "template", "spec", "containers"])
        .and_then(|c| c.as_seq())
        .and_then(|c| c[0].get("env"))
        .and_then(|e| e.as_seq())
        .unwrap();
    assert_eq!(env.len(), 1);
    assert_eq!(env[0].pos.line, 11 + 2000 + 1);
}

// --- against the test control plane ---

/// Runs `kubectl-hooks ARGS -n NAMESPACE -o json --timeout 90s` against the control plane,
/// with helm on PATH.
fn on_cluster(args: &[&str], namespace: &str) -> Run {
    let mut all = args.to_vec();
    all.extend(["-n", namespace, "-o", "json", "--timeout", "90s"]);
    support::hooks_command()
        .args(&all)
        .test_cluster()
        .env("PATH", path_with_helm())
        .run()
}

/// `phase/name` of every task of a sync report, in run order.
fn synced_order(report: &Value) -> Vec<String> {
    support::rows(&report["tasks"], "{phase}/{name}")
}

fn annotations(namespace: &str, kind: &str, name: &str) -> Value {
    let json = support::kubectl(&["get", kind, name, "-n", namespace, "-o", "json"]);
    serde_json::from_str::<Value>(&json).unwrap()["metadata"]["annotations"].clone()
}

#[test]
fn an_overlay_syncs_in_order_without_kustomizes_annotations() {
    let ns = support::create_namespace("inputs-kustomize");
    let run = on_cluster(&["sync", "-k", STAGING, "-y"], &ns).exits(0);
    let report = run.report("Succeeded");
    assert_eq!(
        synced_order(&report),
        [
            "PreSync/staging-migrate",
            "PreSync/staging-seed",
            "Sync/staging-settings",
            "Sync/staging-api",
            "PostSync/staging-smoke",
        ]
    );
    // The patched policy: deleted once the sync succeeded.
    assert!(!support::exists(&ns, "job", "staging-migrate"));
    assert!(support::exists(&ns, "job", "staging-seed"));
    for (kind, name) in [
        ("configmap", "staging-settings"),
        ("deployment", "staging-api"),
    ] {
        let a = annotations(&ns, kind, name);
        let keys: Vec<&String> = a
            .as_object()
            .map(|m| m.keys().collect())
            .unwrap_or_default();
        assert!(
            keys.iter().all(|k| !k.starts_with("config.kubernetes.io/")),
            "{kind}/{name}: {keys:?}"
        );
    }

    // cleanup and delete read the same overlay: the seed hook (default policy) is cleaned up
    // only with --all; delete takes the app down.
    on_cluster(&["cleanup", "-k", STAGING, "--all", "-y"], &ns).exits(0);
    assert!(!support::exists(&ns, "job", "staging-seed"));
    on_cluster(&["delete", "-k", STAGING, "-y"], &ns).exits(0);
    assert!(!support::exists(&ns, "configmap", "staging-settings"));
    assert!(!support::exists(&ns, "deployment", "staging-api"));

    // The other overlay, with -f: its generated ConfigMap and its own hook.
    let ns = support::create_namespace("inputs-kustomize-prod");
    let run = on_cluster(&["sync", "-f", PRODUCTION, "-y"], &ns).exits(0);
    let order = synced_order(&run.json());
    assert_eq!(order[..2], ["PreSync/prod-backup", "PreSync/prod-migrate"]);
    let limits = support::kubectl(&[
        "get",
        "configmaps",
        "-n",
        &ns,
        "-l",
        "env=production",
        "-o",
        "name",
    ]);
    assert!(limits.contains("configmap/prod-limits-"), "{limits}");
}

#[test]
fn a_chart_syncs_its_hooks_by_weight_and_leaves_the_test_hook_out() {
    let ns = support::create_namespace("inputs-helm");
    let run = on_cluster(
        &["sync", "-f", CHART, "--set", "seed.enabled=true", "-y"],
        &ns,
    )
    .exits(0);
    run.stderr_says(&format!("namespace \"{ns}\""));
    let report = run.report("Succeeded");
    let order = synced_order(&report);
    assert_eq!(
        order,
        [
            "PreSync/shop-migrate",
            "PreSync/shop-seed",
            "Sync/shop-settings",
            "Sync/shop-api",
            "PostSync/shop-smoke",
        ]
    );
    assert!(!support::exists(&ns, "pod", "shop-test-connection"));
    assert!(support::exists(&ns, "job", "shop-seed"));
    // hook-succeeded: the smoke test is gone once the sync succeeded.
    assert!(!support::exists(&ns, "job", "shop-smoke"));
}

#[test]
fn a_directory_syncs_what_argo_cd_would_and_nothing_behind_links() {
    let ns = support::create_namespace("inputs-directory");
    let run = on_cluster(&["sync", "-R", "-f", DIRECTORY, "-y"], &ns).exits(0);
    assert_eq!(
        synced_order(&run.json()),
        [
            "PreSync/migrate",
            "Sync/first",
            "Sync/second",
            "Sync/settings",
            "Sync/web"
        ]
    );
    assert!(support::exists(&ns, "configmap", "second"));
    assert!(!support::exists(&ns, "configmap", "shared"));
}
