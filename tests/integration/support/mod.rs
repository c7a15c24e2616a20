//! Helpers shared by the tests that need the test control plane (`scripts/control-plane`).
//!
//! `scripts/test` starts a fresh control plane and sets `KUBECTL_HOOKS_TEST_KUBECONFIG`; to run
//! cluster tests by hand, run `scripts/control-plane up` and set that variable to the printed
//! kubeconfig. Each test works in its own namespace ([`create_namespace`]). Cluster tests
//! panic without a control plane: they never pass silently.
#![allow(dead_code)] // each test binary uses a different subset

pub mod cluster;

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// The environment variable naming the test control plane's kubeconfig.
pub const KUBECONFIG_ENV: &str = "KUBECTL_HOOKS_TEST_KUBECONFIG";

/// The kubeconfig of the test control plane: context `admin` (current, cluster admin) and
/// context `norights` (authenticated, no permissions).
pub fn test_kubeconfig() -> PathBuf {
    match std::env::var_os(KUBECONFIG_ENV) {
        Some(path) if !path.is_empty() => {
            let path = PathBuf::from(path);
            assert!(
                path.is_file(),
                "{KUBECONFIG_ENV}={} does not exist: is the test control plane up? \
                 (scripts/control-plane status)",
                path.display()
            );
            path
        }
        _ => panic!(
            "cluster tests need the test control plane: run scripts/test, or \
             scripts/control-plane up and set {KUBECONFIG_ENV}"
        ),
    }
}

/// A copy of the test kubeconfig (in `dir`) whose current context defaults to `namespace`, as
/// after `kubectl config set-context --current --namespace=NAMESPACE`. That is how a user
/// names the app namespace of an app whose objects span namespaces: an explicit `-n` refuses
/// objects of other namespaces, as kubectl does.
pub fn kubeconfig_in_namespace(dir: &std::path::Path, namespace: &str) -> PathBuf {
    let path = dir.join("kubeconfig");
    std::fs::copy(test_kubeconfig(), &path).expect("copy the test kubeconfig");
    let out = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(&path)
        .args(["config", "set-context", "--current"])
        .arg(format!("--namespace={namespace}"))
        .output()
        .expect("run kubectl config set-context");
    assert!(
        out.status.success(),
        "kubectl config set-context: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    path
}

/// A namespace name that no other test (or test run) uses: `PREFIX-xxxxxxxx`, DNS-1123 safe.
pub fn unique_namespace(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.write_u32(std::process::id());
    hasher.write_u128(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    let mut n = hasher.finish();
    let mut suffix = String::new();
    for _ in 0..8 {
        suffix.push(char::from_digit((n % 36) as u32, 36).unwrap());
        n /= 36;
    }
    let mut prefix: String = prefix
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .take(40)
        .collect();
    prefix = prefix.trim_matches('-').to_string();
    if prefix.is_empty() {
        prefix = "test".to_string();
    }
    format!("{prefix}-{suffix}")
}

/// Creates a fresh namespace (see [`unique_namespace`]) and returns its name.
pub fn create_namespace(prefix: &str) -> String {
    let namespace = unique_namespace(prefix);
    kubectl(&["create", "namespace", &namespace]);
    namespace
}

/// Runs `kubectl --kubeconfig TEST_KUBECONFIG ARGS...` (optionally feeding `stdin`).
/// Returns stdout on success and a message with stderr on failure.
pub fn try_kubectl_with_input(args: &[&str], stdin: Option<&str>) -> Result<String, String> {
    let kubeconfig = test_kubeconfig();
    let kubectl = std::env::var("KUBECTL").unwrap_or_else(|_| "kubectl".to_string());
    let mut child = Command::new(&kubectl)
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot run {kubectl}: {e} (scripts/control-plane install provides it)")
        });
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if output.status.success() {
        Ok(stdout)
    } else {
        Err(format!(
            "kubectl {} failed ({}):\n{}{}",
            args.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stderr),
            stdout
        ))
    }
}

/// Runs kubectl against the test control plane and returns stdout, or an error message.
pub fn try_kubectl(args: &[&str]) -> Result<String, String> {
    try_kubectl_with_input(args, None)
}

/// Runs kubectl against the test control plane and returns stdout; panics when it fails.
pub fn kubectl(args: &[&str]) -> String {
    try_kubectl(args).unwrap_or_else(|e| panic!("{e}"))
}

/// `kubectl create -n NAMESPACE -f -` with the given YAML or JSON manifest(s).
pub fn create(namespace: &str, manifest: &str) -> String {
    try_kubectl_with_input(&["create", "-n", namespace, "-f", "-"], Some(manifest))
        .unwrap_or_else(|e| panic!("{e}"))
}

/// What a run of the `kubectl-hooks` binary printed, and how it exited.
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// stdout as JSON (`-o json`); panics with both streams when it is not.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}\nstderr: {}", self.stdout, self.stderr))
    }

    /// Both streams, for assertion messages.
    pub fn output(&self) -> String {
        format!("stdout:\n{}\nstderr:\n{}", self.stdout, self.stderr)
    }
}

/// The `kubectl-hooks` binary about to run, as a user runs it from a script: no terminal on
/// stdin, no colour, never the developer's kubeconfig, in the project directory (fixture
/// paths are relative to it). Finish with [`HooksCommand::run`] or [`HooksCommand::output`].
pub struct HooksCommand {
    command: Command,
    stdin: Option<String>,
}

pub fn hooks_command() -> HooksCommand {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kubectl-hooks"));
    command
        .env("KUBECONFIG", "/nonexistent")
        .env("NO_COLOR", "1")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::null());
    HooksCommand {
        command,
        stdin: None,
    }
}

impl HooksCommand {
    pub fn args<S: AsRef<std::ffi::OsStr>>(mut self, args: impl IntoIterator<Item = S>) -> Self {
        self.command.args(args);
        self
    }

    /// `--kubeconfig` of the test control plane.
    pub fn test_cluster(mut self) -> Self {
        self.command.arg("--kubeconfig").arg(test_kubeconfig());
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.command.env(key, value);
        self
    }

    pub fn env_remove(mut self, key: &str) -> Self {
        self.command.env_remove(key);
        self
    }

    /// Text on stdin (`-f -`), instead of nothing.
    pub fn stdin(mut self, text: &str) -> Self {
        self.stdin = Some(text.to_owned());
        self
    }

    /// The command itself, for tests that spawn it and stop it midway.
    pub fn command(self) -> Command {
        self.command
    }

    /// Runs it to the end: exit status and both streams.
    pub fn output(mut self) -> std::process::Output {
        self.command.stdout(Stdio::piped()).stderr(Stdio::piped());
        if self.stdin.is_some() {
            self.command.stdin(Stdio::piped());
        }
        let mut child = self.command.spawn().expect("run kubectl-hooks");
        if let Some(text) = &self.stdin {
            child
                .stdin
                .take()
                .expect("piped stdin")
                .write_all(text.as_bytes())
                .expect("write stdin");
        }
        child.wait_with_output().expect("wait for kubectl-hooks")
    }

    /// Runs it to the end: exit code and both streams as text.
    pub fn run(self) -> Run {
        let out = self.output();
        Run {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// Runs `kubectl-hooks ARGS... --kubeconfig TEST_KUBECONFIG`.
pub fn hooks(args: &[&str]) -> Run {
    hooks_command().args(args).test_cluster().run()
}

/// Runs `kubectl-hooks COMMAND -f FILE -n NAMESPACE -o json --timeout 60s EXTRA...`.
pub fn on_input(command: &str, namespace: &str, file: &str, extra: &[&str]) -> Run {
    let mut args = vec![
        command,
        "-f",
        file,
        "-n",
        namespace,
        "-o",
        "json",
        "--timeout",
        "60s",
    ];
    args.extend(extra);
    hooks(&args)
}

/// Writes `yaml` to `dir/app.yaml` and syncs it into `namespace`; panics unless the sync
/// succeeds. Returns the file, for later commands on the same input.
pub fn synced(dir: &std::path::Path, namespace: &str, yaml: &str) -> String {
    let file = write_input(dir, "app.yaml", yaml, namespace);
    let run = on_input("sync", namespace, &file, &[]);
    assert_eq!(run.code, Some(0), "sync failed:\n{}", run.output());
    file
}

/// A Job (no retries) as a YAML document. `annotations` and `pod_annotations` are the
/// insides of flow mappings, e.g. `argocd.argoproj.io/hook: PreSync` and
/// `test.kubectl-hooks.io/outcome: fail` (for the test kubelet).
pub fn job(name: &str, annotations: &str, pod_annotations: &str) -> String {
    [
        "apiVersion: batch/v1",
        "kind: Job",
        "metadata:",
        &format!("  name: {name}"),
        &format!("  annotations: {{{annotations}}}"),
        "spec:",
        "  backoffLimit: 0",
        "  template:",
        "    metadata:",
        &format!("      annotations: {{{pod_annotations}}}"),
        "    spec:",
        "      restartPolicy: Never",
        &format!("      containers: [{{name: c, image: example/{name}}}]"),
        "---\n",
    ]
    .join("\n")
}

/// The task of a report (`-o json`) in `phase` whose name starts with `name`.
pub fn task<'a>(tasks: &'a [serde_json::Value], phase: &str, name: &str) -> &'a serde_json::Value {
    tasks
        .iter()
        .find(|t| t["phase"] == phase && t["name"].as_str().unwrap().starts_with(name))
        .unwrap_or_else(|| panic!("no task {phase}/{name} in {tasks:#?}"))
}

/// A task's `startedAt` or `finishedAt`.
pub fn time(t: &serde_json::Value, field: &str) -> SystemTime {
    let text = t[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} in {t}"));
    humantime::parse_rfc3339_weak(text).unwrap()
}

/// Writes `yaml` (with every `NAMESPACE` replaced by `namespace`) to `dir/name` and returns
/// the path as a string, for `-f`.
pub fn write_input(dir: &std::path::Path, name: &str, yaml: &str, namespace: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, yaml.replace("NAMESPACE", namespace)).unwrap();
    path.to_string_lossy().into_owned()
}

/// Whether `kubectl get KIND NAME -n NAMESPACE` finds the object.
pub fn exists(namespace: &str, kind: &str, name: &str) -> bool {
    try_kubectl(&["get", kind, name, "-n", namespace]).is_ok()
}

/// Lets the `norights` user read (get, list, watch) `resources` in `namespace`, and nothing more.
pub fn grant_read(namespace: &str, resources: &str) {
    kubectl(&[
        "create",
        "role",
        "reader",
        "-n",
        namespace,
        "--verb=get,list,watch",
        &format!("--resource={resources}"),
    ]);
    kubectl(&[
        "create",
        "rolebinding",
        "reader",
        "-n",
        namespace,
        "--role=reader",
        "--user=norights",
    ]);
}
