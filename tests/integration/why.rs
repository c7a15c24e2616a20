//! Saying why a hook failed or a resource is stuck, against the real test control plane: the
//! test kubelet (tools/test-kubelet) binds pods to its node, records the kubelet's events and
//! serves container logs, which the API server proxies (`pods/log`), so what this tool shows
//! is what `kubectl describe` and `kubectl logs` show.

use crate::support::{self, Run, Workload, task, text};
use serde_json::Value;

/// `sync` of `yaml` into `namespace` (JSON report), which must fail: exit code 1.
fn failed_sync(namespace: &str, yaml: &str, extra: &[&str]) -> Run {
    support::on_yaml("sync", namespace, yaml, extra).exits(1)
}

/// `COMMAND` of `yaml` with the table report instead of JSON, which must fail: exit code 1.
fn failed_text(command: &str, namespace: &str, yaml: &str, extra: &[&str]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let file = support::write_input(dir.path(), "app.yaml", yaml, namespace);
    let mut args = vec![command, "-f", &file, "-n", namespace, "--timeout", "60s"];
    args.extend(extra);
    support::hooks(&args).exits(1)
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

/// A ConfigMap: the app beside the hooks.
const APP: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\n";

/// A PreSync migration that fails, printing the database password its environment holds, and
/// a SyncFail hook that fails too.
fn migration() -> String {
    [
        Workload::job("migrate")
            .annotations("argocd.argoproj.io/hook: PreSync")
            .pod_annotations("test.kubectl-hooks.io/outcome: fail")
            .pod_annotation("test.kubectl-hooks.io/exit-code", "3")
            .pod_annotation(
                "test.kubectl-hooks.io/logs",
                "connecting to postgres://app:hunter22@db/app\n\
                 applying 0042_agents\n\
                 ERROR: Cannot find column 'agent_id' in agents table\n",
            )
            .containers(
                "{name: migrate, image: example/migrate, env: [{name: DB_PASSWORD, value: hunter22}]}",
            )
            .yaml(),
        Workload::job("alert")
            .annotations("argocd.argoproj.io/hook: SyncFail")
            .pod_annotations("test.kubectl-hooks.io/outcome: fail")
            .pod_annotation("test.kubectl-hooks.io/logs", "webhook answered 500")
            .containers("{name: notify, image: example/notify}")
            .yaml(),
        APP.to_owned(),
    ]
    .concat()
}

#[test]
fn a_failed_migration_shows_its_pod_exit_code_events_and_log_lines() {
    let ns = support::create_namespace("why-migrate");
    let json = failed_sync(&ns, &migration(), &[]);
    let t = json.tasks();
    let migrate = task(&t, "PreSync", "migrate");
    assert_eq!(migrate["result"], "Failed");
    assert_eq!(
        strings(&migrate["logs"][0]["lines"]),
        [
            "connecting to postgres://app:[hidden env value]@db/app",
            "applying 0042_agents",
            "ERROR: Cannot find column 'agent_id' in agents table",
        ]
    );
    assert_eq!(migrate["logs"][0]["container"], "migrate");
    assert_eq!(migrate["pods"][0]["exitCode"], 3);
    assert!(text(&migrate["pods"][0]["pod"]).starts_with("migrate-"));
    assert_eq!(migrate["events"][0]["reason"], "BackoffLimitExceeded");
    assert_eq!(
        migrate["reason"],
        format!(
            "pod/{} container migrate: Error, exit code 3",
            migrate["pods"][0]["pod"].as_str().unwrap()
        )
    );
    // The failing SyncFail hook is explained the same way.
    let alert = task(&t, "SyncFail", "alert");
    assert_eq!(alert["result"], "Failed");
    assert_eq!(
        strings(&alert["logs"][0]["lines"]),
        ["webhook answered 500"]
    );
    assert!(!json.stdout.contains("hunter22"), "{}", json.stdout);

    let text = failed_text("sync", &ns, &migration(), &["--logs-tail", "2"]);
    let out = &text.stdout;
    text.stdout_says("Why PreSync hook Job/migrate failed:");
    text.stdout_says("Job has reached the specified backoff limit");
    text.stdout_says("container migrate: Error, exit code 3");
    text.stdout_says(
        "Job/migrate BackoffLimitExceeded: Job has reached the specified backoff limit",
    );
    text.stdout_says("(last 2 lines):\n    applying 0042_agents\n    ERROR: Cannot find column 'agent_id' in agents table\n");
    assert!(!out.contains("connecting to"), "--logs-tail 2: {out}");
    text.stdout_says("Why SyncFail hook Job/alert failed:");

    let quiet = failed_sync(&ns, &migration(), &["--logs-tail", "0"]);
    let migrate = quiet.task("PreSync", "migrate");
    assert_eq!(migrate["logs"], serde_json::json!([]), "{migrate}");
    assert_eq!(migrate["events"][0]["reason"], "BackoffLimitExceeded");
}

#[test]
fn a_failing_init_container_is_the_one_whose_log_is_shown() {
    let ns = support::create_namespace("why-init");
    let yaml = Workload::job("migrate")
        .annotations("argocd.argoproj.io/hook: PreSync")
        .pod_annotations(
            "test.kubectl-hooks.io/outcome: fail, test.kubectl-hooks.io/container: wait-for-db",
        )
        .pod_annotation(
            "test.kubectl-hooks.io/logs.wait-for-db",
            "db:5432 refused the connection",
        )
        .pod_spec("initContainers: [{name: wait-for-db, image: example/wait}]")
        .container("migrate")
        .yaml();
    let r = failed_sync(&ns, &yaml, &[]);
    let migrate = r.task("PreSync", "migrate");
    assert_eq!(migrate["pods"][0]["container"], "wait-for-db");
    assert_eq!(migrate["pods"][0]["initContainer"], true);
    assert_eq!(migrate["logs"].as_array().unwrap().len(), 1, "{migrate}");
    assert_eq!(migrate["logs"][0]["initContainer"], true);
    assert_eq!(
        strings(&migrate["logs"][0]["lines"]),
        ["db:5432 refused the connection"]
    );
}

#[test]
fn a_deployment_stuck_on_a_missing_image_says_so_while_waiting_and_at_the_timeout() {
    let ns = support::create_namespace("why-image");
    let yaml = Workload::deployment("web")
        .replicas(2)
        .pod_annotations("test.kubectl-hooks.io/outcome: image-pull-backoff")
        .containers(r#"{name: web, image: "registry.example/web:nope"}"#)
        .yaml();
    let r = failed_text("sync", &ns, &yaml, &["--timeout", "8s"]);
    let pull_failed = "Failed to pull image \"registry.example/web:nope\"";
    // While waiting: the pods' state and the kubelet's event, each once, before the timeout.
    let err = &r.stderr;
    let timed_out = err.find("✗ Deployment/web: timed out").expect(err);
    let waiting_state = err
        .find("Deployment/web ↳ pod/web-")
        .unwrap_or_else(|| panic!("{err}"));
    assert!(waiting_state < timed_out, "{err}");
    let state_line = err[waiting_state..].lines().next().unwrap();
    assert!(
        state_line.contains(
            "container web: ImagePullBackOff: Back-off pulling image \"registry.example/web:nope\" (and 1 more pod)"
        ),
        "{err}"
    );
    let event = err.find(pull_failed).unwrap_or_else(|| panic!("{err}"));
    assert!(event < timed_out, "{err}");
    assert_eq!(err.matches(pull_failed).count(), 1, "shown once: {err}");
    // At the timeout: the reason in the table, the why block under it.
    let out = &r.stdout;
    let row = out
        .lines()
        .find(|l| l.contains(" web ") && l.contains("Failed"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(row.contains("container web: ImagePullBackOff"), "{row}");
    r.stdout_says("Why Sync wave 0 Deployment/web failed:");
    r.stdout_says("timed out (--timeout 8s) waiting for:");
    r.stdout_says(pull_failed);
}

#[test]
fn a_job_whose_service_account_does_not_exist_shows_the_failed_create_event() {
    let ns = support::create_namespace("why-sa");
    let yaml = Workload::job("migrate")
        .annotations("argocd.argoproj.io/hook: PreSync")
        .pod_spec("serviceAccountName: orders-migrator")
        .container("migrate")
        .yaml();
    let r = failed_sync(&ns, &yaml, &["--timeout", "6s"]);
    let migrate = r.task("PreSync", "migrate");
    assert!(
        text(&migrate["message"]).starts_with("timed out (--timeout 6s)"),
        "{migrate}"
    );
    let event = &migrate["events"][0];
    assert_eq!(event["reason"], "FailedCreate", "{migrate}");
    assert_eq!(event["object"], "Job/migrate");
    assert!(
        text(&event["message"]).contains("serviceaccount \"orders-migrator\" not found"),
        "{event}"
    );
    assert!(
        text(&migrate["reason"]).contains("serviceaccount \"orders-migrator\" not found"),
        "{migrate}"
    );
    assert_eq!(migrate["logs"], serde_json::json!([]));
    assert!(
        strings(&migrate["notes"])[0].starts_with("no pods of it are left"),
        "{migrate}"
    );
    assert!(
        r.stderr
            .contains("Job/migrate ↳ Job/migrate FailedCreate: "),
        "shown while waiting: {}",
        r.stderr
    );
}

#[test]
fn a_crash_loop_shows_its_restart_count_and_the_previous_instance_log() {
    let ns = support::create_namespace("why-crash");
    let yaml = Workload::deployment("api")
        .pod_annotations("test.kubectl-hooks.io/outcome: crashloop")
        .pod_annotation("test.kubectl-hooks.io/restarts", "5")
        .pod_annotation(
            "test.kubectl-hooks.io/previous-logs",
            "starting api\npanic: DATABASE_URL is not set\n",
        )
        .yaml();
    let r = failed_sync(&ns, &yaml, &["--timeout", "5s"]);
    let api = r.task("Sync", "api");
    assert_eq!(api["pods"][0]["reason"], "CrashLoopBackOff", "{api}");
    assert_eq!(api["pods"][0]["restarts"], 5);
    assert!(
        text(&api["reason"])
            .ends_with("container api: CrashLoopBackOff, 5 restarts, last exit code 1 (Error)"),
        "{api}"
    );
    assert_eq!(api["logs"][0]["previous"], true);
    assert_eq!(
        strings(&api["logs"][0]["lines"]),
        ["starting api", "panic: DATABASE_URL is not set"]
    );
    assert_eq!(api["events"][0]["reason"], "BackOff");
    assert_eq!(api["events"][0]["count"], 5);
}

#[test]
fn logs_that_cannot_be_read_are_said_and_the_exit_code_stays_the_syncs() {
    let ns = support::create_namespace("why-norights");
    // `norights` may run this sync, but not read pods/log.
    support::grant(
        &ns,
        "runner",
        "*",
        "jobs.batch,configmaps,pods,events,leases.coordination.k8s.io,secrets",
    );
    // Exit 1: the sync's own failure, not one of reading its logs.
    let r = failed_sync(&ns, &migration(), &["--context", "norights"]);
    let migrate = r.task("PreSync", "migrate");
    let error = migrate["logs"][0]["error"]
        .as_str()
        .unwrap_or_else(|| panic!("{migrate}"));
    assert!(
        error.contains("cannot get resource \"pods/log\""),
        "{error}"
    );
    assert_eq!(migrate["events"][0]["reason"], "BackoffLimitExceeded");

    let text = failed_text("sync", &ns, &migration(), &["--context", "norights"]);
    text.stdout_says("container migrate: could not be read: forbidden");
}

#[test]
fn logs_streams_a_hooks_output_prefixed_with_its_name() {
    let ns = support::create_namespace("why-stream");
    let yaml = Workload::job("seed")
        .annotations("argocd.argoproj.io/hook: PostSync")
        .default_retries()
        .pod_annotations("test.kubectl-hooks.io/run-for: 3s")
        .pod_annotation("test.kubectl-hooks.io/logs", "seeding 3 rows\nseeded\n")
        .container("seed")
        .yaml()
        + APP;
    let r = support::on_yaml("sync", &ns, &yaml, &["--logs"]).exits(0);
    let err = &r.stderr;
    let first = err
        .find("Job/seed | seed-")
        .unwrap_or_else(|| panic!("{err}"));
    let lines: Vec<&str> = err[first..]
        .lines()
        .filter(|l| l.contains("Job/seed | "))
        .map(|l| l.rsplit(" | ").next().unwrap())
        .collect();
    assert_eq!(lines, ["seeding 3 rows", "seeded"], "{err}");
    let done = err.find("✓ Job/seed").unwrap_or_else(|| panic!("{err}"));
    assert!(first < done, "streamed while the hook ran: {err}");

    // Without --logs, nothing of the hook's output is shown.
    let quiet = support::on_yaml("sync", &ns, &yaml, &[]).exits(0);
    assert!(!quiet.stderr.contains("seeding"), "{}", quiet.stderr);
}

#[test]
fn a_failing_pre_delete_hook_is_explained_too() {
    let ns = support::create_namespace("why-delete");
    let yaml = Workload::job("backup")
        .annotations("argocd.argoproj.io/hook: PreDelete")
        .pod_annotations("test.kubectl-hooks.io/outcome: fail")
        .pod_annotation("test.kubectl-hooks.io/logs", "pg_dump: connection refused")
        .container("backup")
        .yaml()
        + APP;
    let r = failed_text("delete", &ns, &yaml, &[]);
    r.stdout_says("Why PreDelete hook Job/backup failed:");
    r.stdout_says("    pg_dump: connection refused\n");
}

#[test]
fn kubectl_logs_reads_the_test_kubelet_through_the_api_server() {
    let ns = support::create_namespace("why-kubectl-logs");
    support::create(
        &ns,
        r#"
apiVersion: v1
kind: Pod
metadata:
  name: crash
  annotations:
    test.kubectl-hooks.io/outcome: crashloop
    test.kubectl-hooks.io/logs: "one\ntwo\nthree\n"
    test.kubectl-hooks.io/previous-logs: "boom"
spec:
  containers: [{name: app, image: example/app}]
"#,
    );
    support::kubectl(&[
        "wait",
        "-n",
        &ns,
        "pod/crash",
        "--for=condition=PodScheduled",
        "--timeout=30s",
    ]);
    // The status comes after the binding; wait for the container's restart count.
    support::kubectl(&[
        "wait",
        "-n",
        &ns,
        "pod/crash",
        "--for=jsonpath={.status.containerStatuses[0].restartCount}=3",
        "--timeout=30s",
    ]);
    let logs = |extra: &[&str]| {
        let mut args = vec!["logs", "-n", &ns, "crash"];
        args.extend(extra);
        support::kubectl(&args)
    };
    assert_eq!(logs(&[]), "one\ntwo\nthree\n");
    assert_eq!(logs(&["--tail", "2"]), "two\nthree\n");
    assert_eq!(logs(&["--limit-bytes", "5"]), "one\nt");
    assert_eq!(logs(&["--previous"]), "boom\n");
    let node = support::kubectl(&[
        "get",
        "pod",
        "crash",
        "-n",
        &ns,
        "-o",
        "jsonpath={.spec.nodeName}",
    ]);
    assert_eq!(node, "test-kubelet");
    let events = support::kubectl(&[
        "get",
        "events",
        "-n",
        &ns,
        "--field-selector",
        "reason=BackOff",
        "-o",
        "jsonpath={.items[0].message}",
    ]);
    assert_eq!(events, "Back-off restarting failed container");
    // A bound pod is deleted gracefully; the kubelet finishes the deletion at once.
    support::kubectl(&[
        "delete",
        "pod",
        "crash",
        "-n",
        &ns,
        "--wait=true",
        "--timeout=30s",
    ]);
    assert!(!support::exists(&ns, "pod", "crash"));
}

#[test]
fn a_missing_secret_and_an_oom_kill_are_named() {
    let ns = support::create_namespace("why-config");
    let yaml = Workload::job("import")
        .annotations("argocd.argoproj.io/hook: PreSync")
        .pod_annotations("test.kubectl-hooks.io/outcome: oom-killed")
        .container("import")
        .yaml();
    let r = failed_sync(&ns, &yaml, &[]);
    let import = r.task("PreSync", "import");
    assert!(
        text(&import["reason"]).ends_with("container import: OOMKilled, exit code 137"),
        "{import}"
    );

    let yaml = Workload::deployment("api")
        .pod_annotations("test.kubectl-hooks.io/outcome: create-config-error")
        .containers(
            "{name: api, image: example/api, env: [{name: DB_PASSWORD, valueFrom: {secretKeyRef: {name: api-db, key: password}}}]}",
        )
        .yaml();
    let r = failed_sync(&ns, &yaml, &["--timeout", "5s"]);
    let api = r.task("Sync", "api");
    assert!(
        text(&api["reason"])
            .ends_with("container api: CreateContainerConfigError: secret \"api-db\" not found"),
        "{api}"
    );
    assert_eq!(
        api["events"][0]["message"],
        "Error: secret \"api-db\" not found"
    );
    assert!(
        r.stderr.contains("↳ pod/api-"),
        "shown while waiting: {}",
        r.stderr
    );
}
