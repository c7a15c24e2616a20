//! `kubectl hooks cleanup` against the real test control plane (scripts/test starts it), each
//! test in its own namespace. Hooks are made the realistic way, by running `kubectl-hooks
//! sync`; the test kubelet decides how their pods end (`test.kubectl-hooks.io/outcome`).

use crate::support;
use crate::support::{Run, exists, hooks, job, kubectl};

fn cleanup(ns: &str, extra: &[&str]) -> Run {
    let mut args = vec!["cleanup", "-n", ns, "-o", "json"];
    args.extend(extra);
    hooks(&args)
}

/// name -> (action, reason) from a cleanup report.
fn actions(run: &Run) -> Vec<(String, String, String)> {
    run.list("hooks")
        .iter()
        .map(|h| {
            let s = |k: &str| h[k].as_str().unwrap_or_default().to_owned();
            (s("name"), s("action"), s("reason"))
        })
        .collect()
}

fn action_of(run: &Run, name: &str) -> String {
    actions(run)
        .into_iter()
        .find(|(n, _, _)| n == name)
        .map(|(_, a, _)| a)
        .unwrap_or_else(|| panic!("no hook {name} in {}", run.output()))
}

fn pods_of_job(ns: &str, job: &str) -> usize {
    let out = kubectl(&[
        "get",
        "pods",
        "-n",
        ns,
        "-l",
        &format!("job-name={job}"),
        "-o",
        "name",
    ]);
    out.lines().count()
}

fn wait_for(ns: &str, what: &str, condition: &str) {
    kubectl(&[
        "wait",
        "-n",
        ns,
        what,
        &format!("--for=condition={condition}"),
        "--timeout=30s",
    ]);
}

const HOOK_SUCCEEDED: &str = "argocd.argoproj.io/hook-delete-policy: HookSucceeded";

/// A sync that fails: it leaves behind a succeeded HookSucceeded hook (the operation failed,
/// so HookSucceeded did not apply), a succeeded hook with the default policy, a failed
/// HookSucceeded hook (Helm's spelling) and a hook still running (its pod never starts).
fn failing() -> String {
    [
        job(
            "ok-hs",
            &format!("argocd.argoproj.io/hook: PreSync, {HOOK_SUCCEEDED}"),
            "",
        ),
        job("ok-default", "argocd.argoproj.io/hook: PreSync", ""),
        job(
            "bad-hs",
            "argocd.argoproj.io/hook: Sync, helm.sh/hook-delete-policy: hook-succeeded",
            "test.kubectl-hooks.io/outcome: fail, test.kubectl-hooks.io/delay: 300ms",
        ),
        job(
            "stuck",
            &format!("argocd.argoproj.io/hook: Sync, {HOOK_SUCCEEDED}"),
            "test.kubectl-hooks.io/outcome: pending",
        ),
    ]
    .concat()
}

/// A sync that succeeds: its PostSync hook (HookFailed) stays, and so does its plain resource.
fn succeeding() -> String {
    job(
        "ok-hf",
        "argocd.argoproj.io/hook: PostSync, argocd.argoproj.io/hook-delete-policy: HookFailed",
        "",
    ) + "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app-config}\n"
}

/// Syncs `failing()` and `succeeding()` into a fresh namespace and waits until every leftover hook
/// has its final state.
fn leftovers(prefix: &str) -> (String, tempfile::TempDir) {
    let ns = support::create_namespace(prefix);
    let dir = tempfile::tempdir().unwrap();
    let failing = support::write_input(dir.path(), "failing.yaml", &failing(), &ns);
    support::on_input("sync", &ns, &failing, &[]).exits(1);
    support::synced(dir.path(), &ns, &succeeding());
    wait_for(&ns, "job/bad-hs", "failed");
    // Not a hook: a Job of the same kind, without the label. Nothing may touch it.
    support::create(&ns, &job("not-a-hook", "", ""));
    wait_for(&ns, "job/not-a-hook", "complete");
    (ns, dir)
}

/// `pod/NAME` of each hook pod (labelled by this tool) in `namespace`, a line each.
fn hook_pods(namespace: &str) -> String {
    kubectl(&[
        "get",
        "pods",
        "-n",
        namespace,
        "-l",
        "kubectl-hooks.io/hook=true",
        "-o",
        "name",
    ])
}

#[test]
fn each_policy_and_state_decides_and_dry_run_deletes_nothing() {
    let (ns, _dir) = leftovers("cleanup-policies");
    assert!(pods_of_job(&ns, "ok-hs") > 0);

    let dry = cleanup(&ns, &["--dry-run"]).exits(0);
    let report = dry.json();
    assert_eq!(report["dryRun"], true);
    let mut seen = actions(&dry);
    seen.sort();
    assert_eq!(
        seen,
        [
            (
                "bad-hs".into(),
                "Keep".into(),
                "policy HookSucceeded does not apply".into()
            ),
            (
                "ok-default".into(),
                "Keep".into(),
                "BeforeHookCreation: replaced at the next sync".into()
            ),
            (
                "ok-hf".into(),
                "Keep".into(),
                "policy HookFailed does not apply".into()
            ),
            (
                "ok-hs".into(),
                "Delete".into(),
                "HookSucceeded: the hook succeeded".into()
            ),
            (
                "stuck".into(),
                "Keep".into(),
                "still running (only --all --force deletes it)".into()
            ),
        ] as [(String, String, String); 5]
    );
    let states = support::rows(&report["hooks"], "{name}: {state}");
    for state in ["bad-hs: Failed", "stuck: Running"] {
        assert!(states.iter().any(|s| s == state), "{states:?}");
    }
    dry.stderr_says("nothing was changed");
    assert!(exists(&ns, "job", "ok-hs"), "--dry-run deletes nothing");

    let run = cleanup(&ns, &[]).exits(0);
    assert_eq!(run.json()["result"], "Succeeded");
    assert_eq!(action_of(&run, "ok-hs"), "Deleted");
    assert_eq!(action_of(&run, "stuck"), "Kept");
    assert!(!exists(&ns, "job", "ok-hs"));
    assert_eq!(pods_of_job(&ns, "ok-hs"), 0, "the Job's pods went with it");
    for kept in ["ok-default", "bad-hs", "ok-hf", "stuck", "not-a-hook"] {
        assert!(exists(&ns, "job", kept), "{kept} must stay");
    }
    assert!(
        exists(&ns, "configmap", "app-config"),
        "resources are not hooks"
    );
}

#[test]
fn all_deletes_finished_hooks_and_force_running_ones_too() {
    let (ns, _dir) = leftovers("cleanup-all");
    let run = cleanup(&ns, &["--all", "--yes"]).exits(0);
    for gone in ["ok-hs", "ok-default", "bad-hs", "ok-hf"] {
        assert_eq!(action_of(&run, gone), "Deleted", "{gone}");
        assert!(!exists(&ns, "job", gone), "{gone}");
    }
    assert_eq!(action_of(&run, "stuck"), "Kept");
    assert!(exists(&ns, "job", "stuck"), "a running hook needs --force");

    let run = cleanup(&ns, &["--all", "--force"]).exits(0);
    assert_eq!(action_of(&run, "stuck"), "Deleted");
    assert!(!exists(&ns, "job", "stuck"));
    assert_eq!(pods_of_job(&ns, "stuck"), 0);
    assert!(
        exists(&ns, "job", "not-a-hook"),
        "objects without the label stay"
    );
    assert!(exists(&ns, "configmap", "app-config"));

    let table = hooks(&["cleanup", "-n", &ns, "--all", "--force"]).exits(0);
    table.stdout_says("no hook objects found");
}

#[test]
fn a_killed_sync_leaves_a_failed_hook_that_hook_failed_removes() {
    let ns = support::create_namespace("cleanup-killed");
    let dir = tempfile::tempdir().unwrap();
    let yaml = job(
        "doomed",
        "argocd.argoproj.io/hook: PreSync, argocd.argoproj.io/hook-delete-policy: HookFailed",
        "test.kubectl-hooks.io/outcome: fail, test.kubectl-hooks.io/delay: 2s",
    );
    let file = support::write_input(dir.path(), "app.yaml", &yaml, &ns);
    // The sync is killed (a CI job cancelled) while it waits: it never applies the policy.
    let sync = support::hooks_command()
        .args(["sync", "-f", &file, "-n", &ns])
        .test_cluster()
        .spawn();
    support::wait_until("the hook", || exists(&ns, "job", "doomed"));
    sync.kill();
    wait_for(&ns, "job/doomed", "failed");

    // The killed sync still holds its lock: its hooks are kept, and the report says why.
    let run = cleanup(&ns, &[]).exits(0);
    let (_, action, reason) = actions(&run).remove(0);
    assert_eq!(action, "Kept");
    assert!(
        reason.contains("holds lease") && reason.contains("delete the lease"),
        "{reason}"
    );
    assert!(exists(&ns, "job", "doomed"));

    // Deleting the dead run's lease, as the message says, lets cleanup do its job.
    kubectl(&["delete", "leases", "--all", "-n", &ns]);
    let run = cleanup(&ns, &[]).exits(0);
    let (_, action, reason) = actions(&run).remove(0);
    assert_eq!(
        (action.as_str(), reason.as_str()),
        ("Deleted", "HookFailed: the hook failed")
    );
    assert!(!exists(&ns, "job", "doomed"));
    let leases = kubectl(&["get", "leases", "-n", &ns, "-o", "name"]);
    assert_eq!(leases.trim(), "", "cleanup released its own lock");
}

#[test]
fn filenames_narrow_cleanup_to_the_hooks_of_that_input() {
    let ns = support::create_namespace("cleanup-only");
    let dir = tempfile::tempdir().unwrap();
    let mine = job("mine", "argocd.argoproj.io/hook: PreSync", "")
        + "apiVersion: v1\nkind: Pod\nmetadata:\n  generateName: check-\n  annotations: {argocd.argoproj.io/hook: PostSync}\nspec:\n  restartPolicy: Never\n  containers: [{name: c, image: example/c}]\n";
    let theirs = job("theirs", "argocd.argoproj.io/hook: PreSync", "");
    let mine = support::write_input(dir.path(), "mine.yaml", &mine, &ns);
    let theirs = support::write_input(dir.path(), "theirs.yaml", &theirs, &ns);
    for file in [&mine, &theirs] {
        support::on_input("sync", &ns, file, &[]).exits(0);
    }
    let pods = hook_pods(&ns);
    assert_eq!(pods.lines().count(), 1, "{pods}");

    let run = cleanup(&ns, &["-f", &mine, "--all"]).exits(0);
    let mut names: Vec<String> = actions(&run).into_iter().map(|(n, _, _)| n).collect();
    names.sort();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(
        names[0].starts_with("check-") && names[0].contains("-postsync-"),
        "{names:?}"
    );
    assert_eq!(names[1], "mine");
    assert!(!exists(&ns, "job", "mine"));
    let pods = hook_pods(&ns);
    assert_eq!(
        pods.trim(),
        "",
        "the generateName hook matched by its prefix"
    );
    assert!(
        exists(&ns, "job", "theirs"),
        "another input's hook is not touched"
    );
}

#[test]
fn a_user_who_may_not_delete_gets_exit_3_and_nothing_is_deleted() {
    let (ns, _dir) = leftovers("cleanup-rbac");
    // No rights at all: even listing is refused.
    let run = cleanup(&ns, &["--context", "norights", "--all"]).exits(3);
    run.stderr_says("forbidden");

    // Reading is allowed, deleting is not: the dry-run delete finds out before anything goes.
    // Kinds it may not even list (Secrets, Roles, ...) are skipped with a warning.
    support::grant_read(&ns, "jobs.batch,pods");
    let run = cleanup(&ns, &["--context", "norights", "--all", "--force"]).exits(3);
    run.stderr_says("nothing was deleted");
    run.stderr_says("forbidden");
    for kept in ["ok-hs", "ok-default", "bad-hs", "ok-hf", "stuck"] {
        assert!(exists(&ns, "job", kept), "{kept} must stay");
    }
    run.stderr_says("warning: skipped");
}
