//! API-server outages during a sync, on a control plane of this test's own (started and
//! stopped here with `scripts/control-plane up|apiserver|down --dir DIR`, never the shared
//! one):
//! - stopped and started again while a hook is being waited for (its watch drops and is
//!   refused until the server is back): the sync goes on and finishes every step;
//! - stopped between two waves, so the next wave's watches and applies meet a refused
//!   connection: they are retried until the server is back;
//! - frozen (SIGSTOP) for longer than `--timeout`: the sync ends by itself at its deadline
//!   instead of hanging on a request that never gets an answer, with exit 3;
//! - stopped while a wave is waited for, and not back by the deadline: exit 3, saying since
//!   when the server has not been reached;
//! - frozen before the sync starts: validation ends by `--timeout` (exit 3, nothing written).

use crate::support::plane::OwnControlPlane as Plane;
use crate::support::{self, Run, Running, job, task, unique_namespace};
use std::time::Duration;

/// Starts `sync -f YAML -n NAMESPACE -o json --yes EXTRA...` on `plane`, in a new namespace.
fn start(plane: &Plane, namespace: &str, yaml: &str, extra: &[&str]) -> Running {
    plane.kubectl(&["create", "namespace", namespace]);
    support::hooks_command()
        .args(["sync"])
        .input(yaml, namespace)
        .args(["-n", namespace, "-o", "json", "--yes"])
        .args(extra)
        .kubeconfig(&plane.kubeconfig())
        .spawn()
}

fn all_succeeded(report: &serde_json::Value, progress: &str) {
    let tasks = report["tasks"]
        .as_array()
        .unwrap_or_else(|| panic!("no report: {progress}"));
    for t in tasks {
        assert_eq!(t["result"], "Succeeded", "{t}\n{progress}");
    }
}

fn leases(plane: &Plane, namespace: &str) -> String {
    plane.kubectl(&["get", "leases", "-n", namespace, "-o", "name"])
}

fn config_map(name: &str, wave: i64) -> String {
    support::config_map(name, &format!("argocd.argoproj.io/sync-wave: \"{wave}\""))
}

/// One control plane for the five outages, one after another: each needs the server to
/// itself, and starting a control plane is the slow part.
#[test]
fn api_server_outages_are_ridden_out_or_bounded_by_the_deadline() {
    let plane = Plane::up("outage");

    // 1. Stopped and started while a hook is waited for.
    let namespace = unique_namespace("outage-watch");
    let yaml = [
        job(
            "slow",
            "argocd.argoproj.io/hook: PreSync",
            "test.kubectl-hooks.io/delay: 4s",
        ),
        config_map("first", 0),
        config_map("second", 2),
        job(
            "after",
            "argocd.argoproj.io/hook: PostSync",
            "test.kubectl-hooks.io/delay: 1s",
        ),
    ]
    .concat();
    let mut sync = start(&plane, &namespace, &yaml, &["--timeout", "2m"]);
    sync.wait_for("Job/slow applied");
    plane.run(&["apiserver", "stop"]);
    std::thread::sleep(Duration::from_secs(3));
    plane.run(&["apiserver", "start"]);
    let run = sync.finish();
    assert_eq!(run.code, Some(0), "{}", run.output());
    let report = run.json();
    all_succeeded(&report, &run.stderr);
    assert_eq!(report["tasks"].as_array().unwrap().len(), 4, "{report}");
    task(report["tasks"].as_array().unwrap(), "PostSync", "after");
    assert_eq!(leases(&plane, &namespace), "", "the lock was not released");

    // 2. Stopped between two waves: the next wave's list and apply meet a refused connection.
    let namespace = unique_namespace("outage-apply");
    let yaml = [config_map("early", 0), config_map("late", 1)].concat();
    let mut sync = start(
        &plane,
        &namespace,
        &yaml,
        &["--timeout", "2m", "--wave-delay", "12s"],
    );
    sync.wait_for("ConfigMap/early");
    sync.wait_for("step done");
    plane.run(&["apiserver", "stop"]);
    // Wave 1 starts while the server is down: its watches and applies are refused.
    sync.wait_for("Sync wave 1");
    std::thread::sleep(Duration::from_secs(3));
    let gave_up = sync.ended();
    plane.run(&["apiserver", "start"]);
    let run = sync.finish();
    assert!(
        !gave_up,
        "the sync gave up during the outage (exit {:?}):\n{}",
        run.code, run.stderr
    );
    assert_eq!(run.code, Some(0), "{}", run.output());
    all_succeeded(&run.json(), &run.stderr);
    assert_eq!(
        plane.kubectl(&["get", "configmap", "late", "-n", &namespace, "-o", "name"]),
        "configmap/late\n"
    );

    // 3. Frozen past --timeout: the sync ends by itself, while the server is still frozen.
    let namespace = unique_namespace("outage-frozen");
    let yaml = [
        job(
            "stuck",
            "argocd.argoproj.io/hook: PreSync",
            "test.kubectl-hooks.io/delay: 30s",
        ),
        config_map("never", 0),
    ]
    .concat();
    let mut sync = start(&plane, &namespace, &yaml, &["--timeout", "10s"]);
    sync.wait_for("Job/stuck applied");
    plane.run(&["apiserver", "pause"]);
    // Not a timing threshold: a guard so that a hang fails the test instead of holding it.
    let mut ended = false;
    for _ in 0..1200 {
        if sync.ended() {
            ended = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    plane.run(&["apiserver", "resume"]);
    let Run {
        code,
        stderr: progress,
        ..
    } = sync.finish();
    assert!(
        ended,
        "the sync did not end while the API server was frozen:\n{progress}"
    );
    // The server never answered again before the end: the cluster's failure, not the work's.
    assert_eq!(code, Some(3), "{progress}");
    assert!(progress.contains("timed out"), "{progress}");
    assert!(
        progress.contains("https://127.0.0.1") && progress.contains("cannot be reached"),
        "{progress}"
    );

    // 4. Stopped while a wave is waited for, until after --timeout: exit 3, saying since when
    // the server has not been reached and how the last request failed.
    let namespace = unique_namespace("outage-gone");
    let yaml = format!(
        "{}apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: api}}\nspec:\n  replicas: 1\n  selector: {{matchLabels: {{app: api}}}}\n  template:\n    metadata:\n      labels: {{app: api}}\n      annotations: {{test.kubectl-hooks.io/delay: 30s}}\n    spec: {{containers: [{{name: api, image: example/api}}]}}\n",
        config_map("settings", 0)
    );
    let mut sync = start(&plane, &namespace, &yaml, &["--timeout", "8s"]);
    sync.wait_for("Deployment/api applied");
    plane.run(&["apiserver", "stop"]);
    let run = sync.finish();
    plane.run(&["apiserver", "start"]);
    run.exits(3)
        .stderr_says("timed out (--timeout 8s) waiting for")
        .stderr_says("cannot be reached: no request has reached it since")
        .stderr_says("Connection refused");

    // 5. Frozen before the sync starts: validation (discovery, the dry run) ends by --timeout,
    // not by a request timeout per request, and nothing is written.
    let namespace = unique_namespace("outage-validate");
    plane.kubectl(&["create", "namespace", &namespace]);
    plane.run(&["apiserver", "pause"]);
    let run = support::hooks_command()
        .args(["sync"])
        .input(&config_map("settings", 0), &namespace)
        .args(["-n", &namespace, "--yes", "--timeout", "4s"])
        .kubeconfig(&plane.kubeconfig())
        .run();
    plane.run(&["apiserver", "resume"]);
    run.exits(3).stderr_says("timed out after 4s");
    assert_eq!(
        plane
            .kubectl(&["get", "configmaps,leases", "-n", &namespace, "-o", "name"])
            .lines()
            .filter(|l| !l.contains("kube-root-ca"))
            .count(),
        0,
        "nothing was written"
    );
}
