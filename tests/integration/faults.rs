//! Faults a sync rides out, each on its OWN control plane (never the shared one), started
//! and stopped here with `scripts/control-plane up|apiserver|down --dir DIR`:
//! - the API server killed and restarted in the middle of a wave (watches dropped and
//!   opened again);
//! - the API server frozen (SIGSTOP) for 8 s in the middle of a hook, then thawed.
//!
//! Each sync must finish correctly: every step run, every task succeeded.

use crate::support;

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;

/// One fault test at a time: each runs a whole control plane on a shared machine.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// A control plane of this test's own, stopped (and its state removed) when dropped.
struct OwnControlPlane {
    dir: PathBuf,
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/control-plane")
}

impl OwnControlPlane {
    fn up(name: &str) -> OwnControlPlane {
        let dir = std::env::temp_dir().join(format!("kh-cp-faults-{name}-{}", std::process::id()));
        let plane = OwnControlPlane { dir };
        plane.run(&["up"]);
        plane
    }

    fn kubeconfig(&self) -> PathBuf {
        self.dir.join("kubeconfig")
    }

    fn run(&self, args: &[&str]) {
        let out = Command::new(script())
            .args(args)
            .arg("--dir")
            .arg(&self.dir)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "scripts/control-plane {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn kubectl(&self, args: &[&str]) -> String {
        let out = Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(self.kubeconfig())
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "kubectl {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for OwnControlPlane {
    fn drop(&mut self) {
        let _ = Command::new(script())
            .args(["down", "--dir"])
            .arg(&self.dir)
            .stdin(Stdio::null())
            .output();
    }
}

/// Starts a sync on `plane`, waits until its progress says `when`, runs `fault`, and waits
/// for the sync to end. Returns (exit code, report JSON, progress).
fn sync_with_fault(
    plane: &OwnControlPlane,
    yaml: &str,
    when: &str,
    fault: impl FnOnce(),
) -> (Option<i32>, serde_json::Value, String) {
    let ns = support::unique_namespace("fault");
    plane.kubectl(&["create", "namespace", &ns]);
    let dir = tempfile::tempdir().unwrap();
    let file = support::write_input(dir.path(), "app.yaml", yaml, &ns);
    let mut child = Command::new(env!("CARGO_BIN_EXE_kubectl-hooks"))
        .args([
            "sync",
            "-f",
            &file,
            "-n",
            &ns,
            "-o",
            "json",
            "--timeout",
            "4m",
        ])
        .arg("--kubeconfig")
        .arg(plane.kubeconfig())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut progress = String::new();
    loop {
        let mut line = String::new();
        let n = stderr.read_line(&mut line).unwrap();
        assert!(n > 0, "the sync ended before \"{when}\":\n{progress}");
        progress.push_str(&line);
        if line.contains(when) {
            break;
        }
    }
    fault();
    stderr.read_to_string(&mut progress).unwrap();
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    let code = child.wait().unwrap().code();
    let report =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}\n{progress}"));
    (code, report, progress)
}

fn outcomes(report: &serde_json::Value) -> Vec<String> {
    report["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            format!(
                "{} {} {}",
                t["phase"].as_str().unwrap(),
                t["name"].as_str().unwrap(),
                t["result"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn an_api_server_restart_in_the_middle_of_a_wave_is_ridden_out() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let plane = OwnControlPlane::up("restart");
    let yaml = r#"
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {a: "1"}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  annotations: {argocd.argoproj.io/sync-wave: "1"}
spec:
  replicas: 2
  selector: {matchLabels: {app: api}}
  template:
    metadata:
      labels: {app: api}
      annotations: {test.kubectl-hooks.io/delay: 3s}
    spec:
      containers: [{name: api, image: example/api}]
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: after
  annotations: {argocd.argoproj.io/sync-wave: "2"}
---
apiVersion: batch/v1
kind: Job
metadata:
  name: smoke
  annotations: {argocd.argoproj.io/hook: PostSync}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers: [{name: s, image: example/smoke}]
"#;
    // Wave 1 is being waited for (its watch is open) when the API server goes away.
    let (code, report, progress) = sync_with_fault(&plane, yaml, "Deployment/api applied", || {
        plane.run(&["apiserver", "restart"])
    });
    assert_eq!(code, Some(0), "{report:#}\n{progress}");
    assert_eq!(
        outcomes(&report),
        [
            "Sync settings Succeeded",
            "Sync api Succeeded",
            "Sync after Succeeded",
            "PostSync smoke Succeeded",
        ],
        "{progress}"
    );
}

#[test]
fn an_api_server_frozen_in_the_middle_of_a_hook_is_ridden_out() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let plane = OwnControlPlane::up("freeze");
    let yaml = r#"
apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
  annotations: {argocd.argoproj.io/hook: PreSync}
spec:
  backoffLimit: 0
  template:
    metadata:
      annotations: {test.kubectl-hooks.io/delay: 3s}
    spec:
      restartPolicy: Never
      containers: [{name: m, image: example/migrate}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
"#;
    let (code, report, progress) = sync_with_fault(&plane, yaml, "Job/migrate applied", || {
        plane.run(&["apiserver", "pause"]);
        // The outage: as long as the one seen on the test control plane.
        std::thread::sleep(std::time::Duration::from_secs(8));
        plane.run(&["apiserver", "resume"]);
    });
    assert_eq!(code, Some(0), "{report:#}\n{progress}");
    assert_eq!(
        outcomes(&report),
        ["PreSync migrate Succeeded", "Sync settings Succeeded"],
        "{progress}"
    );
}
