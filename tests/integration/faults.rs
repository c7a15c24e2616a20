//! Faults a sync rides out, each on its OWN control plane (never the shared one), started
//! and stopped here with `scripts/control-plane up|apiserver|down --dir DIR`:
//! - the API server killed and restarted in the middle of a wave (watches dropped and
//!   opened again);
//! - the API server frozen (SIGSTOP) for 8 s in the middle of a hook, then thawed.
//!
//! Each sync must finish correctly: every step run, every task succeeded.

use crate::support::plane::OwnControlPlane;
use crate::support::{self, Run, Workload};

use std::sync::Mutex;

/// One fault test at a time: each runs a whole control plane on a shared machine.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Starts a sync on `plane`, waits until its progress says `when`, runs `fault`, and waits
/// for the sync to end.
fn sync_with_fault(plane: &OwnControlPlane, yaml: &str, when: &str, fault: impl FnOnce()) -> Run {
    let ns = support::unique_namespace("fault");
    plane.kubectl(&["create", "namespace", &ns]);
    let mut sync = support::hooks_command()
        .args(["sync"])
        .input(yaml, &ns)
        .args(["-n", &ns, "-o", "json", "--timeout", "4m"])
        .kubeconfig(&plane.kubeconfig())
        .spawn();
    sync.wait_for(when);
    fault();
    sync.finish()
}

fn outcomes(report: &serde_json::Value) -> Vec<String> {
    support::rows(&report["tasks"], "{phase} {name} {result}")
}

#[test]
fn an_api_server_restart_in_the_middle_of_a_wave_is_ridden_out() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let plane = OwnControlPlane::up("faults-restart");
    let yaml = [
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {a: \"1\"}\n---\n",
        &Workload::deployment("api")
            .annotations("argocd.argoproj.io/sync-wave: \"1\"")
            .replicas(2)
            .pod_annotations("test.kubectl-hooks.io/delay: 3s")
            .yaml(),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: after\n  annotations: {argocd.argoproj.io/sync-wave: \"2\"}\n---\n",
        &support::job("smoke", "argocd.argoproj.io/hook: PostSync", ""),
    ]
    .concat();
    // Wave 1 is being waited for (its watch is open) when the API server goes away.
    let run = sync_with_fault(&plane, &yaml, "Deployment/api applied", || {
        plane.run(&["apiserver", "restart"])
    });
    assert_eq!(run.code, Some(0), "{}", run.output());
    assert_eq!(
        outcomes(&run.json()),
        [
            "Sync settings Succeeded",
            "Sync api Succeeded",
            "Sync after Succeeded",
            "PostSync smoke Succeeded",
        ],
        "{}",
        run.stderr
    );
}

#[test]
fn an_api_server_frozen_in_the_middle_of_a_hook_is_ridden_out() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let plane = OwnControlPlane::up("faults-freeze");
    let yaml = support::job(
        "migrate",
        "argocd.argoproj.io/hook: PreSync",
        "test.kubectl-hooks.io/delay: 3s",
    ) + "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\n";
    let run = sync_with_fault(&plane, &yaml, "Job/migrate applied", || {
        plane.run(&["apiserver", "pause"]);
        // The outage: as long as the one seen on the test control plane.
        std::thread::sleep(std::time::Duration::from_secs(8));
        plane.run(&["apiserver", "resume"]);
    });
    assert_eq!(run.code, Some(0), "{}", run.output());
    assert_eq!(
        outcomes(&run.json()),
        ["PreSync migrate Succeeded", "Sync settings Succeeded"],
        "{}",
        run.stderr
    );
}
