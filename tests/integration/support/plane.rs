//! A control plane of a test's own, for the tests that stop, restart or freeze its API server
//! (`scripts/control-plane up|apiserver|down --dir DIR`): never the shared one.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A control plane of this test's own, stopped (and its state removed) when dropped.
pub struct OwnControlPlane {
    dir: PathBuf,
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/control-plane")
}

impl OwnControlPlane {
    /// Starts one in a fresh directory named after `name` (and this process).
    pub fn up(name: &str) -> OwnControlPlane {
        let dir = std::env::temp_dir().join(format!("kh-cp-{name}-{}", std::process::id()));
        let plane = OwnControlPlane { dir };
        plane.run(&["up"]);
        plane
    }

    pub fn kubeconfig(&self) -> PathBuf {
        self.dir.join("kubeconfig")
    }

    /// `scripts/control-plane ARGS... --dir DIR`, such as `apiserver restart`; panics when
    /// it fails.
    pub fn run(&self, args: &[&str]) {
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

    /// `kubectl ARGS...` against this control plane; returns stdout, panics when it fails.
    pub fn kubectl(&self, args: &[&str]) -> String {
        super::kubectl_of(&self.kubeconfig(), args, None).unwrap_or_else(|e| panic!("{e}"))
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
