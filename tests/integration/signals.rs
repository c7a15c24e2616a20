//! Signals and running hooks, against the real test control plane: SIGTERM as Ctrl-C
//! (report, lock released, exit 143), running hooks terminated as Argo CD's Terminate does
//! (on interrupt and when a timeout ends them), `--keep-running-hooks`, and one "interrupted"
//! line.

use crate::support::{self, Run};

/// A PreSync hook that runs two minutes, then a ConfigMap.
fn slow_hook() -> String {
    support::job(
        "migrate",
        "argocd.argoproj.io/hook: PreSync",
        "test.kubectl-hooks.io/delay: 120s",
    ) + "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {a: \"1\"}\n---\n"
}

/// Starts a sync, waits until it says the slow hook was applied, sends `signal`, and waits
/// for the sync to end.
fn sync_then_signal(namespace: &str, signal: &str, extra: &[&str]) -> Run {
    let mut sync = support::hooks_command()
        .args(["sync"])
        .input(&slow_hook(), namespace)
        .args(["-n", namespace, "--timeout", "5m"])
        .args(extra)
        .test_cluster()
        .spawn();
    sync.wait_for("Job/migrate applied");
    sync.signal(signal);
    sync.finish()
}

fn names(namespace: &str, what: &str) -> String {
    support::kubectl(&["get", what, "-n", namespace, "-o", "name"])
        .trim()
        .to_owned()
}

#[test]
fn sigterm_reports_releases_the_lock_terminates_the_hook_and_exits_143() {
    let ns = support::create_namespace("sigterm");
    let run = sync_then_signal(&ns, "TERM", &["-o", "json"]);
    assert_eq!(run.code, Some(143), "{}\n{}", run.stdout, run.stderr);
    let report = run.report("Interrupted");
    let hook = &report["tasks"][0];
    assert_eq!(hook["name"], "migrate");
    assert_eq!(hook["deletedByPolicy"], "terminated", "{report:#}");
    assert_eq!(report["tasks"][1]["result"], "Pending");
    // The hook Job and its pods are gone, and so is the lock's Lease.
    assert_eq!(names(&ns, "jobs,pods"), "", "{}", run.stderr);
    assert_eq!(names(&ns, "leases"), "", "{}", run.stderr);
    assert!(!support::exists(&ns, "configmap", "settings"));
}

#[test]
fn ctrl_c_says_interrupted_once_and_the_step_is_not_done() {
    let ns = support::create_namespace("sigint");
    let run = sync_then_signal(&ns, "INT", &[]);
    assert_eq!(run.code, Some(130), "{}\n{}", run.stdout, run.stderr);
    let everything = format!("{}{}", run.stdout, run.stderr);
    let lines: Vec<&str> = everything
        .lines()
        .filter(|l| l.to_lowercase().contains("interrupted"))
        .collect();
    assert_eq!(lines.len(), 1, "{everything}");
    assert!(lines[0].contains("Sync INTERRUPTED"), "{everything}");
    run.stderr_says("step stopped after");
    assert!(!run.stderr.contains("step done"), "{}", run.stderr);
    run.stderr_says("Job/migrate deleted (terminated)");
    assert_eq!(names(&ns, "jobs,pods"), "");
}

#[test]
fn keep_running_hooks_leaves_an_interrupted_hook_running() {
    let ns = support::create_namespace("keep-hooks");
    let run = sync_then_signal(&ns, "INT", &["--keep-running-hooks"]);
    assert_eq!(run.code, Some(130), "{}\n{}", run.stdout, run.stderr);
    assert_eq!(names(&ns, "jobs"), "job.batch/migrate", "{}", run.stderr);
    run.stdout_says("Running");
}

#[test]
fn a_hook_timeout_terminates_the_hook_before_the_sync_fail_hooks_run() {
    let ns = support::create_namespace("hook-timeout");
    let dir = tempfile::tempdir().unwrap();
    let alert = support::job("alert", "argocd.argoproj.io/hook: SyncFail", "");
    let file = support::write_input(dir.path(), "app.yaml", &(slow_hook() + &alert), &ns);
    let run = support::on_input("sync", &ns, &file, &["--hook-timeout", "2s"]).exits(1);
    let terminated = run
        .stderr
        .find("Job/migrate deleted (terminated: its wait timed out)")
        .unwrap_or_else(|| panic!("{}", run.output()));
    let alert = run
        .stderr
        .find("running 1 SyncFail hook(s)")
        .unwrap_or_else(|| panic!("{}", run.output()));
    assert!(terminated < alert, "{}", run.output());
    assert_eq!(names(&ns, "jobs"), "job.batch/alert", "{}", run.output());
    let report = run.json();
    assert_eq!(report["tasks"][0]["result"], "Failed");
}
