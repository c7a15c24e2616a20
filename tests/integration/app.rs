//! An app with a name, against the real test control plane: its ApplySet inventory read back
//! with kubectl, `sync --prune` of v1 then v2, objects of other apps and hand-made ones left
//! alone, and its lock (a concurrent sync refused, a killed sync's lease expiring).

use crate::support::{
    self, Run, Running, config_map, exists, hooks, kubectl, kubectl_json, wait_until,
};
use base64::Engine;
use sha2::{Digest, Sha256};
use std::process::Command;
use std::time::{Duration, Instant};

/// The KEP-3659 id of app `name`'s parent Secret in `namespace`, computed here on its own.
fn applyset_id(name: &str, namespace: &str) -> String {
    let digest = Sha256::digest(format!("kubectl-hooks-{name}.{namespace}.Secret.").as_bytes());
    format!(
        "applyset-{}-v1",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
    )
}

fn sync_app(dir: &std::path::Path, ns: &str, app: &str, yaml: &str, extra: &[&str]) -> Run {
    let file = support::write_input(dir, &format!("{app}.yaml"), yaml, ns);
    let mut args = vec!["--app", app];
    args.extend(extra);
    support::on_input("sync", ns, &file, &args)
}

fn prunes(run: &Run) -> Vec<(String, String, i64)> {
    run.list("prune")
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_owned(),
                p["result"].as_str().unwrap().to_owned(),
                p["wave"].as_i64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn v1_then_v2_prunes_in_argo_order_and_touches_nothing_it_does_not_own() {
    let ns = support::create_namespace("app-prune");
    let dir = tempfile::tempdir().unwrap();
    // Not the app's: one made by hand, one of another app in the same namespace.
    support::create(
        &ns,
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: by-hand}\n",
    );
    sync_app(dir.path(), &ns, "other", &config_map("theirs", ""), &[]).exits(0);

    let v1 = [
        config_map("early", ""),
        config_map("late", "argocd.argoproj.io/sync-wave: \"2\""),
        config_map(
            "kept",
            "argocd.argoproj.io/sync-options: Prune=false, argocd.argoproj.io/sync-wave: \"2\"",
        ),
        config_map("last", "argocd.argoproj.io/sync-options: PruneLast=true"),
        config_map("stays", ""),
    ]
    .concat();
    let run = sync_app(dir.path(), &ns, "shop", &v1, &[]).exits(0);
    assert!(prunes(&run).is_empty(), "a first sync prunes nothing");

    // v2 without --prune: what left the input is named, kept, and the sync still succeeds.
    let v2 = config_map("stays", "");
    let run = sync_app(dir.path(), &ns, "shop", &v2, &[]).exits(0);
    let mut left = prunes(&run);
    left.sort();
    let names: Vec<(&str, &str)> = left
        .iter()
        .map(|(n, r, _)| (n.as_str(), r.as_str()))
        .collect();
    assert_eq!(
        names,
        vec![
            ("early", "ignored (requires pruning)"),
            ("kept", "ignored (requires pruning)"),
            ("last", "ignored (requires pruning)"),
            ("late", "ignored (requires pruning)"),
        ]
    );
    run.stderr_says("--prune");
    for name in ["early", "late", "kept", "last"] {
        assert!(
            exists(&ns, "configmap", name),
            "{name} kept without --prune"
        );
    }

    // v2 with --prune: live waves {0, 2} mirrored (0 -> 2, 2 -> 0); PruneLast after the last
    // Sync wave (2) + 1; Prune=false kept.
    let run = sync_app(dir.path(), &ns, "shop", &v2, &["--prune"]).exits(0);
    let mut done = prunes(&run);
    done.sort();
    assert_eq!(
        done,
        vec![
            ("early".into(), "pruned".into(), 2),
            ("kept".into(), "ignored (no prune)".into(), 0),
            ("last".into(), "pruned".into(), 3),
            ("late".into(), "pruned".into(), 0),
        ]
    );
    // Steps ran in that order: prune wave 0 (with the apply of "stays"), 2, then 3.
    let steps: Vec<i64> = run.json()["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["wave"].as_i64().unwrap())
        .collect();
    assert_eq!(steps, vec![0, 2, 3]);
    for name in ["early", "late", "last"] {
        assert!(!exists(&ns, "configmap", name), "{name} pruned");
    }
    for name in ["kept", "stays", "by-hand", "theirs"] {
        assert!(exists(&ns, "configmap", name), "{name} untouched");
    }
    // The other app still owns its object.
    let theirs = kubectl_json(&["get", "configmap", "theirs", "-n", &ns]);
    assert_eq!(
        theirs["metadata"]["labels"]["applyset.kubernetes.io/part-of"],
        applyset_id("other", &ns).as_str()
    );
    // What kubectl lists as the app: the object of the input and the one kept.
    let listed = kubectl(&[
        "get",
        "configmaps",
        "-n",
        &ns,
        "-l",
        &format!(
            "applyset.kubernetes.io/part-of={}",
            applyset_id("shop", &ns)
        ),
        "-o",
        "name",
    ]);
    assert_eq!(listed.trim(), "configmap/kept\nconfigmap/stays");
}

#[test]
fn the_inventory_reads_back_with_kubectl_as_an_applyset() {
    let ns = support::create_namespace("app-applyset");
    let other_ns = support::create_namespace("app-applyset-other");
    let dir = tempfile::tempdir().unwrap();
    let yaml = format!(
        "{}{}{}{}",
        config_map("settings", ""),
        config_map("shared", "").replace(
            "name: shared\n",
            &format!("name: shared\n  namespace: {other_ns}\n")
        ),
        support::job("migrate", "argocd.argoproj.io/hook: PreSync", ""),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\nspec:\n  replicas: 0\n  selector: {matchLabels: {app: api}}\n  template:\n    metadata: {labels: {app: api}}\n    spec: {containers: [{name: api, image: example/api}]}\n",
    );
    // The default name: the -f directory's.
    let app_dir = dir.path().join("Web_Shop");
    std::fs::create_dir(&app_dir).unwrap();
    support::write_input(&app_dir, "all.yaml", &yaml, &ns);
    // The app namespace is the context's: `-n` would refuse the object of the other namespace.
    let kubeconfig = support::kubeconfig_in_namespace(dir.path(), &ns);
    let sync = || {
        support::hooks_command()
            .args(["sync", "-f", app_dir.to_str().unwrap(), "-o", "json"])
            .args(["--kubeconfig", kubeconfig.to_str().unwrap()])
            .run()
    };
    let run = sync();
    assert_eq!(run.code, Some(0), "{}", run.output());
    assert_eq!(run.json()["app"]["name"], "web-shop");
    let id = applyset_id("web-shop", &ns);
    assert_eq!(run.json()["app"]["applysetId"], id.as_str());

    let parent = kubectl_json(&["get", "secret", "kubectl-hooks-web-shop", "-n", &ns]);
    let meta = &parent["metadata"];
    assert_eq!(meta["labels"]["applyset.kubernetes.io/id"], id.as_str());
    let ann = &meta["annotations"];
    assert_eq!(
        ann["applyset.kubernetes.io/tooling"],
        format!("kubectl-hooks/{}", env!("CARGO_PKG_VERSION")).as_str()
    );
    assert_eq!(
        ann["applyset.kubernetes.io/contains-group-kinds"],
        "ConfigMap,Deployment.apps"
    );
    assert_eq!(
        ann["applyset.kubernetes.io/additional-namespaces"],
        other_ns.as_str()
    );
    assert_eq!(ann["kubectl-hooks.io/last-sync-result"], "Succeeded");
    assert_eq!(
        ann["kubectl-hooks.io/last-sync-version"],
        env!("CARGO_PKG_VERSION")
    );
    for key in ["started", "finished"] {
        let t = ann[format!("kubectl-hooks.io/last-sync-{key}")]
            .as_str()
            .unwrap();
        humantime::parse_rfc3339_weak(t).unwrap();
    }
    assert!(
        ann["kubectl-hooks.io/last-sync-digest"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );

    let members = kubectl(&[
        "get",
        "configmaps,deployments,jobs",
        "-A",
        "-l",
        &format!("applyset.kubernetes.io/part-of={id}"),
        "-o",
        "jsonpath={range .items[*]}{.kind}/{.metadata.namespace}/{.metadata.name} {end}",
    ]);
    let mut members: Vec<&str> = members.split_whitespace().collect();
    members.sort();
    let mut expected = vec![
        format!("ConfigMap/{ns}/settings"),
        format!("ConfigMap/{other_ns}/shared"),
        format!("Deployment/{ns}/api"),
    ];
    expected.sort();
    assert_eq!(members, expected, "members, and not the hook");

    // kubectl itself reads the parent as an ApplySet, and sees whose it is. (It wants `-n` for
    // a namespaced parent, and so objects of that namespace only.)
    let same_namespace = support::write_input(
        dir.path(),
        "settings.yaml",
        &config_map("settings", ""),
        &ns,
    );
    let kubectl_applyset = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .args([
            "apply",
            "--server-side",
            "--prune",
            "--dry-run=server",
            "-n",
            &ns,
        ])
        .args(["--applyset=kubectl-hooks-web-shop", "-f", &same_namespace])
        .env("KUBECTL_APPLYSET", "true")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&kubectl_applyset.stderr);
    assert!(
        said.contains("managed by tooling \"kubectl-hooks\""),
        "kubectl: {said}"
    );

    // The same input again changes nothing in the record but the times.
    let again = sync();
    assert_eq!(again.code, Some(0), "{}", again.output());
    let reread = kubectl_json(&["get", "secret", "kubectl-hooks-web-shop", "-n", &ns]);
    assert_eq!(
        reread["metadata"]["annotations"]["kubectl-hooks.io/last-sync-digest"],
        ann["kubectl-hooks.io/last-sync-digest"]
    );
}

#[test]
fn another_apps_object_is_refused_naming_that_app_unless_adopted() {
    let ns = support::create_namespace("app-adopt");
    let dir = tempfile::tempdir().unwrap();
    sync_app(dir.path(), &ns, "first", &config_map("shared", ""), &[]).exits(0);

    let second = [config_map("own", ""), config_map("shared", "")].concat();
    let run = sync_app(dir.path(), &ns, "second", &second, &[]).exits(1);
    run.stderr_says("ConfigMap/shared (")
        .stderr_says(&format!("belongs to app {ns}/first"));
    run.stderr_says("--force-adopt");
    assert!(!exists(&ns, "configmap", "own"), "nothing was applied");

    sync_app(dir.path(), &ns, "second", &second, &["--force-adopt"]).exits(0);
    let shared = kubectl_json(&["get", "configmap", "shared", "-n", &ns]);
    assert_eq!(
        shared["metadata"]["labels"]["applyset.kubernetes.io/part-of"],
        applyset_id("second", &ns).as_str()
    );
}

#[test]
fn app_names_are_checked_and_stdin_needs_one() {
    let piped = |args: &[&str]| {
        support::hooks_command()
            .args(args)
            .stdin("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: piped}\n")
            .test_cluster()
            .run()
    };
    let run = piped(&["sync", "-f", "-", "-n", "default"]).exits(2);
    run.stderr_says("--app");
    let run = piped(&["sync", "-f", "-", "--app", "Not_A_Label"]).exits(2);
    run.stderr_says("DNS label");
    piped(&["delete", "-f", "-", "-n", "default"]).exits(2);
}

/// Starts `sync` of `file` as app `app` in the background.
fn spawn_sync(file: &str, ns: &str, app: &str, extra: &[&str]) -> Running {
    support::hooks_command()
        .args([
            "sync",
            "-f",
            file,
            "--app",
            app,
            "--timeout",
            "90s",
            "-n",
            ns,
        ])
        .args(extra)
        .test_cluster()
        .spawn()
}

/// v1 of app "shop": a PreSync hook that runs for `delay`, then version 1 of its settings.
fn slow_v1(delay: &str) -> String {
    support::job(
        "slow",
        "argocd.argoproj.io/hook: PreSync",
        &format!("test.kubectl-hooks.io/delay: {delay}"),
    ) + "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {version: \"1\"}\n"
}

#[test]
fn a_concurrent_sync_of_another_version_of_the_same_app_is_refused() {
    let ns = support::create_namespace("app-lock");
    let dir = tempfile::tempdir().unwrap();
    let v1 = support::write_input(dir.path(), "v1.yaml", &slow_v1("4s"), &ns);
    let v2 = support::write_input(
        dir.path(),
        "v2.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {version: \"2\"}\n",
        &ns,
    );
    let first = spawn_sync(&v1, &ns, "shop", &[]);
    wait_until("the first sync's hook", || exists(&ns, "job", "slow"));
    let second = support::on_input("sync", &ns, &v2, &["--app", "shop"]).exits(1);
    second
        .stderr_says("another sync, delete or cleanup of app \"shop\" is running")
        .stderr_says("pid");
    first.finish().exits(0);
    let settings = kubectl_json(&["get", "configmap", "settings", "-n", &ns]);
    assert_eq!(
        settings["data"]["version"], "1",
        "the refused sync changed nothing"
    );
    // Another app in the same namespace has a lock of its own.
    support::on_input("sync", &ns, &v2, &["--app", "other", "--force-adopt"]).exits(0);
}

#[test]
fn a_killed_sync_blocks_the_next_only_until_its_short_lease_expires() {
    let ns = support::create_namespace("app-kill");
    let dir = tempfile::tempdir().unwrap();
    let v1 = support::write_input(dir.path(), "v1.yaml", &slow_v1("5m"), &ns);
    let killed = spawn_sync(&v1, &ns, "shop", &[]);
    wait_until("the hook", || exists(&ns, "job", "slow"));
    killed.kill(); // SIGKILL: no release, no cleanup

    let lease = kubectl_json(&["get", "lease", "kubectl-hooks-shop", "-n", &ns]);
    let holder = lease["spec"]["holderIdentity"].as_str().unwrap();
    assert!(holder.contains("pid") && holder.contains('@'), "{holder}");
    assert_eq!(lease["spec"]["leaseDurationSeconds"], 15);

    // Seconds later, nobody renews it any more: the next sync takes it over and succeeds.
    std::thread::sleep(Duration::from_secs(16));
    let v2 = support::write_input(
        dir.path(),
        "v2.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {version: \"2\"}\n",
        &ns,
    );
    support::on_input("sync", &ns, &v2, &["--app", "shop"]).exits(0);
    assert!(
        !exists(&ns, "lease", "kubectl-hooks-shop"),
        "released at the end"
    );
}

#[test]
fn a_long_sync_keeps_renewing_its_lease() {
    let ns = support::create_namespace("app-renew");
    let dir = tempfile::tempdir().unwrap();
    let v1 = support::write_input(dir.path(), "v1.yaml", &slow_v1("20s"), &ns);
    let first = spawn_sync(&v1, &ns, "shop", &[]);
    wait_until("the hook", || exists(&ns, "job", "slow"));
    // Longer than one lease duration into the sync, the lease is still held.
    std::thread::sleep(Duration::from_secs(17));
    let second = support::on_input("sync", &ns, &v1, &["--app", "shop"]).exits(1);
    second.stderr_says("is running");
    first.finish().exits(0);
}

#[test]
fn two_create_namespace_syncs_at_once_share_one_lock_in_the_new_namespace() {
    let ns = support::unique_namespace("app-newns");
    let dir = tempfile::tempdir().unwrap();
    let v1 = support::write_input(dir.path(), "v1.yaml", &slow_v1("3s"), &ns);
    let a = spawn_sync(&v1, &ns, "shop", &["--create-namespace"]);
    let b = spawn_sync(&v1, &ns, "shop", &["--create-namespace"]);
    let (a, b) = (a.finish(), b.finish());
    let mut codes = [a.code, b.code];
    codes.sort();
    assert_eq!(codes, [Some(0), Some(1)], "{}\n{}", a.output(), b.output());
    let refused = if a.code == Some(1) { &a } else { &b };
    refused.stderr_says("is running");
    kubectl(&["delete", "namespace", &ns, "--wait=false"]);
}

#[test]
fn without_rights_on_leases_a_sync_refuses_unless_no_lock() {
    let ns = support::create_namespace("app-norights");
    let dir = tempfile::tempdir().unwrap();
    support::grant(
        &ns,
        "writer",
        "get,list,watch,create,patch,update,delete",
        "configmaps,secrets",
    );
    let file = support::write_input(dir.path(), "shop.yaml", &config_map("settings", ""), &ns);
    let run = support::on_input("sync", &ns, &file, &["--context", "norights"]).exits(3);
    run.stderr_says("--no-lock")
        .stderr_says("nothing was changed");
    assert!(!exists(&ns, "configmap", "settings"));

    support::on_input("sync", &ns, &file, &["--context", "norights", "--no-lock"]).exits(0);
    assert!(exists(&ns, "configmap", "settings"));
}

#[test]
fn prune_confirm_needs_yes_and_orphan_propagation_keeps_what_the_pruned_owned() {
    let ns = support::create_namespace("app-confirm");
    let dir = tempfile::tempdir().unwrap();
    let v1 = config_map("careful", "argocd.argoproj.io/sync-options: Prune=confirm")
        + "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\nspec:\n  replicas: 1\n  selector: {matchLabels: {app: api}}\n  template:\n    metadata: {labels: {app: api}}\n    spec: {containers: [{name: api, image: example/api}]}\n";
    sync_app(dir.path(), &ns, "shop", &v1, &[]).exits(0);
    let v2 = config_map("other", "");

    // No terminal to ask on and no --yes: refused before anything changes.
    let run = sync_app(dir.path(), &ns, "shop", &v2, &["--prune"]).exits(1);
    run.stderr_says("Prune=confirm").stderr_says("--yes");
    assert!(exists(&ns, "configmap", "careful") && exists(&ns, "deployment", "api"));
    assert!(!exists(&ns, "configmap", "other"), "nothing was applied");

    sync_app(
        dir.path(),
        &ns,
        "shop",
        &v2,
        &["--prune", "--yes", "--prune-propagation", "orphan"],
    )
    .exits(0);
    assert!(!exists(&ns, "configmap", "careful") && !exists(&ns, "deployment", "api"));
    // Orphaned, not deleted: the Deployment's ReplicaSet stays.
    let left = kubectl(&[
        "get",
        "replicasets",
        "-n",
        &ns,
        "-l",
        "app=api",
        "-o",
        "name",
    ]);
    assert!(!left.trim().is_empty(), "the ReplicaSet was orphaned");
}

#[test]
fn status_watch_prints_again_when_something_changes() {
    let ns = support::create_namespace("app-watch");
    let dir = tempfile::tempdir().unwrap();
    let v1 = [config_map("a", ""), config_map("b", "")].concat();
    sync_app(dir.path(), &ns, "shop", &v1, &[]).exits(0);
    let watch = support::hooks_command()
        .args(["status", "--app", "shop", "-n", &ns])
        .args(["--watch", "--interval", "200ms"])
        .test_cluster()
        .spawn();
    let mut seen = Vec::new();
    let mut wait_for = |wanted: &dyn Fn(&[String]) -> bool| {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !wanted(&seen) {
            match watch.stdout_line(deadline) {
                Some(line) => seen.push(line),
                None => panic!("gave up; printed so far:\n{}", seen.join("\n")),
            }
        }
    };
    let headers = |lines: &[String]| {
        lines
            .iter()
            .filter(|l| l.starts_with("app \"shop\""))
            .count()
    };
    wait_for(&|lines| {
        headers(lines) == 1
            && lines
                .iter()
                .any(|l| l.starts_with("ConfigMap") && l.contains(" b "))
    });
    kubectl(&["delete", "configmap", "b", "-n", &ns]);
    wait_for(&|lines| headers(lines) == 2);
    // The second print comes after the change and lists only "a".
    wait_for(&|lines| {
        let second = lines
            .iter()
            .rposition(|l| l.starts_with("app \"shop\""))
            .unwrap();
        lines[second..]
            .iter()
            .any(|l| l.starts_with("ConfigMap") && l.contains(" a "))
    });
    let second = seen
        .iter()
        .rposition(|l| l.starts_with("app \"shop\""))
        .unwrap();
    assert!(
        !seen[second..].iter().any(|l| l.contains(" b ")),
        "{}",
        seen.join("\n")
    );
    watch.kill();
}

#[test]
fn cleanup_during_a_sync_keeps_its_hooks_in_other_namespaces_too() {
    let ns = support::create_namespace("app-cleanup");
    let hooks_ns = support::create_namespace("app-cleanup-hooks");
    let dir = tempfile::tempdir().unwrap();
    // A finished PreSync hook in another namespace, then a Sync hook that runs a while.
    let yaml = format!(
        "{}{}",
        support::job(
            "early",
            "argocd.argoproj.io/hook: PreSync, argocd.argoproj.io/hook-delete-policy: BeforeHookCreation",
            ""
        )
        .replace("  name: early", &format!("  name: early\n  namespace: {hooks_ns}")),
        support::job(
            "later",
            "argocd.argoproj.io/hook: Sync",
            "test.kubectl-hooks.io/delay: 5s"
        ),
    );
    let file = support::write_input(dir.path(), "v1.yaml", &yaml, &ns);
    // The app namespace is the context's: `-n` would refuse the hook of the other namespace.
    let kubeconfig = support::kubeconfig_in_namespace(dir.path(), &ns);
    let sync = support::hooks_command()
        .args(["sync", "-f", &file, "--app", "shop", "--timeout", "90s"])
        .kubeconfig(&kubeconfig)
        .spawn();
    wait_until("the Sync hook", || exists(&ns, "job", "later"));
    assert!(exists(&hooks_ns, "job", "early"));

    // The lease is looked for in the app's namespace, recorded on the hook: it is held.
    let run = hooks(&["cleanup", "-n", &hooks_ns, "--all", "--yes", "-o", "json"]);
    assert_eq!(run.code, Some(0), "{}", run.output());
    assert!(exists(&hooks_ns, "job", "early"), "{}", run.output());
    run.stdout_says("holds lease");

    let sync = sync.finish();
    assert_eq!(sync.code, Some(0), "{}", sync.output());
    let run = hooks(&[
        "cleanup", "-n", &hooks_ns, "--all", "--yes", "--app", "shop",
    ]);
    assert_eq!(run.code, Some(0), "{}", run.output());
    assert!(!exists(&hooks_ns, "job", "early"), "{}", run.output());
}

#[test]
fn delete_takes_the_inventory_down_with_the_app() {
    let ns = support::create_namespace("app-delete");
    let dir = tempfile::tempdir().unwrap();
    let file = support::write_input(dir.path(), "shop.yaml", &config_map("settings", ""), &ns);
    support::on_input("sync", &ns, &file, &[]).exits(0);
    assert!(exists(&ns, "secret", "kubectl-hooks-shop"));
    support::on_input("delete", &ns, &file, &["--yes"]).exits(0);
    assert!(!exists(&ns, "configmap", "settings"));
    assert!(
        !exists(&ns, "secret", "kubectl-hooks-shop"),
        "the parent went too"
    );
    assert!(
        !exists(&ns, "lease", "kubectl-hooks-shop"),
        "the lock was released"
    );
    let run = hooks(&["status", "--app", "shop", "-n", &ns]).exits(1);
    run.stdout_says("never synced");
}
