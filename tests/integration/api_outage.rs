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

use crate::support::{self, job, task, unique_namespace};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A control plane of this test's own; `down` when dropped.
struct Plane {
    dir: PathBuf,
}

impl Plane {
    fn up() -> Plane {
        let dir = std::env::temp_dir().join(format!("kh-cp-outage-{}", std::process::id()));
        let plane = Plane { dir };
        plane.script(&["up"]);
        plane
    }

    fn script(&self, args: &[&str]) {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/control-plane");
        let out = Command::new(script)
            .args(args)
            .arg("--dir")
            .arg(&self.dir)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "scripts/control-plane {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn kubeconfig(&self) -> PathBuf {
        self.dir.join("kubeconfig")
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
            "kubectl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Plane {
    fn drop(&mut self) {
        let _ = Command::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/control-plane"))
            .args(["down", "--dir"])
            .arg(&self.dir)
            .stdin(Stdio::null())
            .output();
    }
}

/// A running sync and its progress lines, read as they come.
struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: String,
    _input: tempfile::TempDir,
}

impl Running {
    fn start(plane: &Plane, namespace: &str, yaml: &str, extra: &[&str]) -> Running {
        plane.kubectl(&["create", "namespace", namespace]);
        let dir = tempfile::tempdir().unwrap();
        let file = support::write_input(dir.path(), "app.yaml", yaml, namespace);
        let mut child = Command::new(env!("CARGO_BIN_EXE_kubectl-hooks"))
            .args(["sync", "-f", &file, "-n", namespace, "-o", "json", "--yes"])
            .args(extra)
            .arg("--kubeconfig")
            .arg(plane.kubeconfig())
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        Running {
            child,
            lines,
            seen: String::new(),
            _input: dir,
        }
    }

    /// Reads progress until a line contains `text`; panics if the sync ends first.
    fn wait_for(&mut self, text: &str) {
        loop {
            match self.lines.recv() {
                Ok(line) => {
                    self.seen.push_str(&line);
                    self.seen.push('\n');
                    if line.contains(text) {
                        return;
                    }
                }
                Err(_) => panic!("the sync ended before {text:?}:\n{}", self.seen),
            }
        }
    }

    /// Waits for the sync to end; returns its exit code, report and progress.
    fn finish(self) -> (Option<i32>, serde_json::Value, String) {
        let Running {
            child,
            lines,
            mut seen,
            ..
        } = self;
        let out = child.wait_with_output().unwrap();
        while let Ok(line) = lines.recv() {
            seen.push_str(&line);
            seen.push('\n');
        }
        let report = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
        (out.status.code(), report, seen)
    }

    /// Whether the sync has ended, without waiting.
    fn ended(&mut self) -> bool {
        self.child.try_wait().unwrap().is_some()
    }
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
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  annotations: {{argocd.argoproj.io/sync-wave: \"{wave}\"}}\ndata: {{k: v}}\n---\n"
    )
}

/// One control plane for the three outages, one after another: each needs the server to
/// itself, and starting a control plane is the slow part.
#[test]
fn api_server_outages_are_ridden_out_or_bounded_by_the_deadline() {
    let plane = Plane::up();

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
    let mut sync = Running::start(&plane, &namespace, &yaml, &["--timeout", "2m"]);
    sync.wait_for("Job/slow applied");
    plane.script(&["apiserver", "stop"]);
    std::thread::sleep(Duration::from_secs(3));
    plane.script(&["apiserver", "start"]);
    let (code, report, progress) = sync.finish();
    assert_eq!(code, Some(0), "{progress}");
    all_succeeded(&report, &progress);
    assert_eq!(report["tasks"].as_array().unwrap().len(), 4, "{report}");
    task(report["tasks"].as_array().unwrap(), "PostSync", "after");
    assert_eq!(leases(&plane, &namespace), "", "the lock was not released");

    // 2. Stopped between two waves: the next wave's list and apply meet a refused connection.
    let namespace = unique_namespace("outage-apply");
    let yaml = [config_map("early", 0), config_map("late", 1)].concat();
    let mut sync = Running::start(
        &plane,
        &namespace,
        &yaml,
        &["--timeout", "2m", "--wave-delay", "12s"],
    );
    sync.wait_for("ConfigMap/early");
    sync.wait_for("step done");
    plane.script(&["apiserver", "stop"]);
    // Wave 1 starts while the server is down: its watches and applies are refused.
    sync.wait_for("Sync wave 1");
    std::thread::sleep(Duration::from_secs(3));
    let gave_up = sync.ended();
    plane.script(&["apiserver", "start"]);
    if gave_up {
        let (code, _, progress) = sync.finish();
        panic!("the sync gave up during the outage (exit {code:?}):\n{progress}");
    }
    let (code, report, progress) = sync.finish();
    assert_eq!(code, Some(0), "{progress}");
    all_succeeded(&report, &progress);
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
    let mut sync = Running::start(&plane, &namespace, &yaml, &["--timeout", "10s"]);
    sync.wait_for("Job/stuck applied");
    plane.script(&["apiserver", "pause"]);
    // Not a timing threshold: a guard so that a hang fails the test instead of holding it.
    let mut ended = false;
    for _ in 0..1200 {
        if sync.ended() {
            ended = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    plane.script(&["apiserver", "resume"]);
    let (code, _, progress) = sync.finish();
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
    let mut sync = Running::start(&plane, &namespace, &yaml, &["--timeout", "8s"]);
    sync.wait_for("Deployment/api applied");
    plane.script(&["apiserver", "stop"]);
    let (code, _, progress) = sync.finish();
    plane.script(&["apiserver", "start"]);
    assert_eq!(code, Some(3), "{progress}");
    assert!(
        progress.contains("timed out (--timeout 8s) waiting for"),
        "{progress}"
    );
    assert!(
        progress.contains("cannot be reached: no request has reached it since")
            && progress.contains("Connection refused"),
        "{progress}"
    );

    // 5. Frozen before the sync starts: validation (discovery, the dry run) ends by --timeout,
    // not by a request timeout per request, and nothing is written.
    let namespace = unique_namespace("outage-validate");
    plane.kubectl(&["create", "namespace", &namespace]);
    let dir = tempfile::tempdir().unwrap();
    let file = support::write_input(
        dir.path(),
        "app.yaml",
        &config_map("settings", 0),
        &namespace,
    );
    plane.script(&["apiserver", "pause"]);
    let out = Command::new(env!("CARGO_BIN_EXE_kubectl-hooks"))
        .args([
            "sync",
            "-f",
            &file,
            "-n",
            &namespace,
            "--yes",
            "--timeout",
            "4s",
        ])
        .arg("--kubeconfig")
        .arg(plane.kubeconfig())
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    plane.script(&["apiserver", "resume"]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{said}");
    assert!(said.contains("timed out after 4s"), "{said}");
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
