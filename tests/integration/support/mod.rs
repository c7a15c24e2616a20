//! Helpers shared by the tests that need the test control plane (`scripts/control-plane`).
//!
//! `scripts/test` starts a fresh control plane and sets `KUBECTL_HOOKS_TEST_KUBECONFIG`; to run
//! cluster tests by hand, run `scripts/control-plane up` and set that variable to the printed
//! kubeconfig. Each test works in its own namespace ([`create_namespace`]). Cluster tests
//! panic without a control plane: they never pass silently.
#![allow(dead_code)] // each test binary uses a different subset

pub mod cluster;
pub mod plane;

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

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
    let flag = format!("--namespace={namespace}");
    kubectl_of(&path, &["config", "set-context", "--current", &flag], None)
        .unwrap_or_else(|e| panic!("{e}"));
    path
}

/// The test kubeconfig as `kubectl config view --raw -o json` shows it (credentials and all).
pub fn test_kubeconfig_view() -> serde_json::Value {
    serde_json::from_str(&kubectl(&["config", "view", "--raw", "-o", "json"]))
        .expect("kubectl config view")
}

/// A kubeconfig (`dir/kubeconfig`) for the test cluster whose one user, `name`, is `user` (a
/// kubeconfig `user` entry: `{"token": ...}`, `{"exec": ...}`), its context's namespace
/// `namespace` if given.
pub fn kubeconfig_as(
    dir: &std::path::Path,
    name: &str,
    user: serde_json::Value,
    namespace: Option<&str>,
) -> PathBuf {
    let config = test_kubeconfig_view();
    let cluster = &config["clusters"][0];
    let mut context = serde_json::json!({"cluster": cluster["name"], "user": name});
    if let Some(namespace) = namespace {
        context["namespace"] = namespace.into();
    }
    let kubeconfig = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [cluster],
        "users": [{"name": name, "user": user}],
        "contexts": [{"name": name, "context": context}],
        "current-context": name,
    });
    let path = dir.join("kubeconfig");
    std::fs::write(&path, kubeconfig.to_string()).unwrap();
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
    kubectl_of(&test_kubeconfig(), args, stdin)
}

/// Runs `kubectl --kubeconfig KUBECONFIG ARGS...` (optionally feeding `stdin`), `KUBECTL` if
/// set. Returns stdout on success and a message with stderr on failure.
pub fn kubectl_of(
    kubeconfig: &std::path::Path,
    args: &[&str],
    stdin: Option<&str>,
) -> Result<String, String> {
    let kubectl = std::env::var("KUBECTL").unwrap_or_else(|_| "kubectl".to_string());
    let child = Command::new(&kubectl)
        .arg("--kubeconfig")
        .arg(kubeconfig)
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
    let output = match stdin {
        Some(input) => fed(child, input),
        None => child.wait_with_output().unwrap(),
    };
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

/// What `child` printed once `input` is written to its stdin (then closed) and it has ended.
pub fn fed(mut child: Child, input: &str) -> std::process::Output {
    child
        .stdin
        .take()
        .expect("a piped stdin")
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// Runs kubectl against the test control plane and returns stdout, or an error message.
pub fn try_kubectl(args: &[&str]) -> Result<String, String> {
    try_kubectl_with_input(args, None)
}

/// Runs kubectl against the test control plane and returns stdout; panics when it fails.
pub fn kubectl(args: &[&str]) -> String {
    try_kubectl(args).unwrap_or_else(|e| panic!("{e}"))
}

/// Runs kubectl against the test control plane with `-o json` and returns what it printed.
pub fn kubectl_json(args: &[&str]) -> serde_json::Value {
    let mut full = args.to_vec();
    full.extend(["-o", "json"]);
    serde_json::from_str(&kubectl(&full)).unwrap()
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

    /// The report (`-o json`), once its result is known to be `result`; panics with both
    /// streams when it is not.
    #[track_caller]
    pub fn report(&self, result: &str) -> serde_json::Value {
        let report = self.json();
        assert_eq!(report["result"], result, "{}", self.output());
        report
    }

    /// The run itself, once it is known to have exited `code`; panics with both streams when
    /// it did not.
    #[track_caller]
    pub fn exits(self, code: i32) -> Run {
        assert_eq!(self.code, Some(code), "{}", self.output());
        self
    }

    /// The run itself, once its stderr is known to hold `words`; panics with both streams when
    /// it does not.
    #[track_caller]
    pub fn stderr_says(&self, words: &str) -> &Run {
        self.says("stderr", &self.stderr, words)
    }

    /// The run itself, once its stdout is known to hold `words`; panics with both streams when
    /// it does not.
    #[track_caller]
    pub fn stdout_says(&self, words: &str) -> &Run {
        self.says("stdout", &self.stdout, words)
    }

    /// The first line of stderr that holds `words`; panics with both streams when none does.
    #[track_caller]
    pub fn stderr_line(&self, words: &str) -> &str {
        self.stderr
            .lines()
            .find(|l| l.contains(words))
            .unwrap_or_else(|| panic!("no line with {words:?} in stderr:\n{}", self.output()))
    }

    #[track_caller]
    fn says(&self, name: &str, stream: &str, words: &str) -> &Run {
        assert!(
            stream.contains(words),
            "{words:?} not in {name}:\n{}",
            self.output()
        );
        self
    }

    /// Both streams, for assertion messages.
    pub fn output(&self) -> String {
        format!("stdout:\n{}\nstderr:\n{}", self.stdout, self.stderr)
    }

    /// The tasks of the report (`-o json`); panics with both streams when there are none.
    pub fn tasks(&self) -> Vec<serde_json::Value> {
        self.list("tasks")
    }

    /// The list `key` of the report (`-o json`); panics with both streams when there is none.
    pub fn list(&self, key: &str) -> Vec<serde_json::Value> {
        self.json()[key]
            .as_array()
            .unwrap_or_else(|| panic!("no {key}:\n{}", self.output()))
            .clone()
    }

    /// The task of the report in `phase` whose name starts with `name` (see [`task`]).
    pub fn task(&self, phase: &str, name: &str) -> serde_json::Value {
        task(&self.tasks(), phase, name).clone()
    }
}

/// The text of a JSON string; panics naming the value when it is not one.
pub fn text(value: &serde_json::Value) -> &str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("not a string: {value}"))
}

/// The `kubectl-hooks` binary about to run, as a user runs it from a script: no terminal on
/// stdin, no colour, never the developer's kubeconfig, in the project directory (fixture
/// paths are relative to it). Finish with [`HooksCommand::run`] or [`HooksCommand::output`],
/// or start it in the background with [`HooksCommand::spawn`].
pub struct HooksCommand {
    command: Command,
    stdin: Option<String>,
    input: Option<tempfile::TempDir>,
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
        input: None,
    }
}

impl HooksCommand {
    pub fn args<S: AsRef<std::ffi::OsStr>>(mut self, args: impl IntoIterator<Item = S>) -> Self {
        self.command.args(args);
        self
    }

    /// `--kubeconfig` of the test control plane.
    pub fn test_cluster(self) -> Self {
        self.kubeconfig(&test_kubeconfig())
    }

    /// `--kubeconfig PATH`: another cluster's, or the test cluster's as another user.
    pub fn kubeconfig(mut self, path: &std::path::Path) -> Self {
        self.command.arg("--kubeconfig").arg(path);
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

    /// `-f FILE`: `yaml` (every `NAMESPACE` replaced by `namespace`) in an `app.yaml` of its
    /// own, kept as long as the run.
    pub fn input(mut self, yaml: &str, namespace: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let file = write_input(dir.path(), "app.yaml", yaml, namespace);
        self.command.args(["-f", &file]);
        self.input = Some(dir);
        self
    }

    /// Text on stdin (`-f -`), instead of nothing.
    pub fn stdin(mut self, text: &str) -> Self {
        self.stdin = Some(text.to_owned());
        self
    }

    /// Starts it in the background (stdin stays empty): see [`Running`].
    pub fn spawn(mut self) -> Running {
        assert!(self.stdin.is_none(), "a background run reads no stdin");
        let mut child = self
            .command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run kubectl-hooks");
        Running {
            stdout: lines_of(child.stdout.take().expect("piped stdout")),
            stderr: lines_of(child.stderr.take().expect("piped stderr")),
            child,
            progress: String::new(),
            _input: self.input,
        }
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

/// A run of the binary in the background ([`HooksCommand::spawn`]): both streams are read
/// line by line as they come, stderr (its progress) with [`Running::wait_for`], stdout with
/// [`Running::stdout_line`]; [`Running::finish`] gives the rest.
pub struct Running {
    child: Child,
    stdout: mpsc::Receiver<String>,
    stderr: mpsc::Receiver<String>,
    progress: String,
    _input: Option<tempfile::TempDir>,
}

/// The lines of `stream`, read on a thread of their own (so that neither pipe fills up).
fn lines_of(stream: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (send, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            if send.send(line).is_err() {
                break;
            }
        }
    });
    lines
}

impl Running {
    /// Reads progress until a line contains `text`; panics if the run ends first.
    pub fn wait_for(&mut self, text: &str) {
        loop {
            match self.stderr.recv() {
                Ok(line) => {
                    self.progress.push_str(&line);
                    self.progress.push('\n');
                    if line.contains(text) {
                        return;
                    }
                }
                Err(_) => panic!("the run ended before {text:?}:\n{}", self.progress),
            }
        }
    }

    /// The next line of stdout, or `None` when there is none before `deadline`.
    pub fn stdout_line(&self, deadline: Instant) -> Option<String> {
        let left = deadline.saturating_duration_since(Instant::now());
        self.stdout.recv_timeout(left).ok()
    }

    /// Whether the run has ended, without waiting.
    pub fn ended(&mut self) -> bool {
        self.child.try_wait().unwrap().is_some()
    }

    /// Sends `signal` (`INT`, `TERM`, ...) to the process, as a terminal or CI runner would.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{signal}");
    }

    /// SIGKILL: the process gets no chance to release or clean up anything.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Waits for the run to end: its exit code, the rest of stdout, and all its progress as
    /// stderr (each line ending in a newline).
    pub fn finish(mut self) -> Run {
        let status = self.child.wait().expect("wait for kubectl-hooks");
        let stdout = self.stdout.iter().map(|line| line + "\n").collect();
        for line in self.stderr.iter() {
            self.progress.push_str(&line);
            self.progress.push('\n');
        }
        Run {
            code: status.code(),
            stdout,
            stderr: self.progress,
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

/// Writes `yaml` to a fresh `app.yaml` and runs [`on_input`] with it.
pub fn on_yaml(command: &str, namespace: &str, yaml: &str, extra: &[&str]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let file = write_input(dir.path(), "app.yaml", yaml, namespace);
    on_input(command, namespace, &file, extra)
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
    Workload::job(name)
        .annotations(annotations)
        .pod_annotations(pod_annotations)
        .yaml()
}

/// A ConfigMap as a YAML document, `annotations` the insides of a flow mapping (as for [`job`]).
pub fn config_map(name: &str, annotations: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  annotations: {{{annotations}}}\ndata: {{v: \"1\"}}\n---\n"
    )
}

/// A namespaced CustomResourceDefinition of `kind` in `group` as a YAML document (plural:
/// the kind in lower case and an `s`), of one version v1, served when `served`, whose objects
/// keep any fields.
pub fn crd(group: &str, kind: &str, served: bool) -> String {
    let plural = format!("{}s", kind.to_lowercase());
    format!(
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {{name: {plural}.{group}}}\nspec:\n  group: {group}\n  scope: Namespaced\n  names: {{kind: {kind}, plural: {plural}}}\n  versions:\n  - name: v1\n    served: {served}\n    storage: true\n    schema: {{openAPIV3Schema: {{type: object, x-kubernetes-preserve-unknown-fields: true}}}}\n---\n"
    )
}

/// A Namespace as a YAML document.
pub fn namespace(name: &str) -> String {
    format!("apiVersion: v1\nkind: Namespace\nmetadata: {{name: {name}}}\n---\n")
}

/// A Job or a Deployment as a YAML document, for what [`job`] does not say. By default: a
/// Job without retries (`backoffLimit: 0`) of one container `{name: c, image: example/NAME}`,
/// or a Deployment of one replica whose pods are labelled `app: NAME`, of one container
/// `{name: NAME, image: example/NAME}`; no annotations.
pub struct Workload {
    kind: &'static str,
    name: String,
    metadata: Vec<String>,
    annotations: String,
    spec: Vec<String>,
    pod_metadata: Vec<String>,
    pod_annotations: String,
    pod_spec: Vec<String>,
    containers: String,
}

impl Workload {
    pub fn job(name: &str) -> Workload {
        Workload::new("Job", name)
            .spec("backoffLimit: 0")
            .pod_spec("restartPolicy: Never")
            .containers(&format!("{{name: c, image: example/{name}}}"))
    }

    pub fn deployment(name: &str) -> Workload {
        let mut deployment = Workload::new("Deployment", name)
            .replicas(1)
            .spec(&format!("selector: {{matchLabels: {{app: {name}}}}}"))
            .container(name);
        deployment
            .pod_metadata
            .push(format!("labels: {{app: {name}}}"));
        deployment
    }

    fn new(kind: &'static str, name: &str) -> Workload {
        Workload {
            kind,
            name: format!("name: {name}"),
            metadata: Vec::new(),
            annotations: String::new(),
            spec: Vec::new(),
            pod_metadata: Vec::new(),
            pod_annotations: String::new(),
            pod_spec: Vec::new(),
            containers: String::new(),
        }
    }

    /// A Deployment's `replicas`.
    pub fn replicas(self, replicas: u32) -> Self {
        self.spec(&format!("replicas: {replicas}"))
    }

    /// `generateName: NAME-` instead of `name: NAME`.
    pub fn generate_name(mut self) -> Self {
        self.name = self.name.replacen("name: ", "generateName: ", 1) + "-";
        self
    }

    /// `metadata.namespace` (`NAMESPACE` is the test's, see [`write_input`]).
    pub fn namespace(mut self, namespace: &str) -> Self {
        self.metadata.push(format!("namespace: {namespace}"));
        self
    }

    /// The object's annotations: the insides of a flow mapping, as for [`job`].
    pub fn annotations(mut self, annotations: &str) -> Self {
        self.annotations = annotations.to_owned();
        self
    }

    /// The pod template's annotations: the insides of a flow mapping, as for [`job`].
    pub fn pod_annotations(mut self, annotations: &str) -> Self {
        self.pod_annotations = annotations.to_owned();
        self
    }

    /// One more pod template annotation, its value quoted (it may span lines, as logs do).
    pub fn pod_annotation(mut self, key: &str, value: &str) -> Self {
        if !self.pod_annotations.is_empty() {
            self.pod_annotations.push_str(", ");
        }
        let quoted = serde_json::Value::from(value).to_string();
        self.pod_annotations.push_str(&format!("{key}: {quoted}"));
        self
    }

    /// A line of the object's spec, in place of the one of the same key if any (a Job's
    /// `backoffLimit: 0`, a Deployment's `replicas: 1`).
    pub fn spec(mut self, line: &str) -> Self {
        let key = |l: &str| l.split(':').next().unwrap_or_default().to_owned();
        match self.spec.iter().position(|l| key(l) == key(line)) {
            Some(at) => self.spec[at] = line.to_owned(),
            None => self.spec.push(line.to_owned()),
        }
        self
    }

    /// Without `backoffLimit`: a Job that the Job controller retries (six times by default).
    pub fn default_retries(mut self) -> Self {
        self.spec.retain(|l| !l.starts_with("backoffLimit:"));
        self
    }

    /// A line of the pod spec, such as `serviceAccountName: NAME` or `initContainers: [...]`.
    pub fn pod_spec(mut self, line: &str) -> Self {
        self.pod_spec.push(line.to_owned());
        self
    }

    /// One container `{name: NAME, image: example/NAME}`.
    pub fn container(self, name: &str) -> Self {
        self.containers(&format!("{{name: {name}, image: example/{name}}}"))
    }

    /// The containers: the insides of a flow sequence, such as `{name: api, image: example/api}`.
    pub fn containers(mut self, containers: &str) -> Self {
        self.containers = containers.to_owned();
        self
    }

    pub fn yaml(&self) -> String {
        let api_version = if self.kind == "Job" {
            "batch/v1"
        } else {
            "apps/v1"
        };
        let mut lines = vec![
            format!("apiVersion: {api_version}"),
            format!("kind: {}", self.kind),
            "metadata:".to_owned(),
            format!("  {}", self.name),
        ];
        lines.extend(self.metadata.iter().map(|l| format!("  {l}")));
        lines.push(format!("  annotations: {{{}}}", self.annotations));
        lines.push("spec:".to_owned());
        lines.extend(self.spec.iter().map(|l| format!("  {l}")));
        lines.extend(["  template:".to_owned(), "    metadata:".to_owned()]);
        lines.extend(self.pod_metadata.iter().map(|l| format!("      {l}")));
        lines.push(format!("      annotations: {{{}}}", self.pod_annotations));
        lines.push("    spec:".to_owned());
        lines.extend(self.pod_spec.iter().map(|l| format!("      {l}")));
        lines.push(format!("      containers: [{}]", self.containers));
        lines.push("---\n".to_owned());
        lines.join("\n")
    }
}

/// The first element of the JSON list `list` whose `key` is `value`; panics naming the list
/// when there is none.
pub fn find<'a>(list: &'a serde_json::Value, key: &str, value: &str) -> &'a serde_json::Value {
    list.as_array()
        .and_then(|items| items.iter().find(|item| item[key] == value))
        .unwrap_or_else(|| panic!("no {key} {value:?} in {list}"))
}

/// The task of a report (`-o json`) in `phase` whose name starts with `name`.
pub fn task<'a>(tasks: &'a [serde_json::Value], phase: &str, name: &str) -> &'a serde_json::Value {
    tasks
        .iter()
        .find(|t| t["phase"] == phase && t["name"].as_str().unwrap().starts_with(name))
        .unwrap_or_else(|| panic!("no task {phase}/{name} in {tasks:#?}"))
}

/// Each item of the JSON array `list` written as `template`, each `{KEY}` in it replaced by the
/// item's KEY: a string as it is, another value as JSON, nothing when there is none. For
/// example `rows(&report["tasks"], "{phase}/{name}")`: `["PreSync/migrate", "Sync/config"]`.
pub fn rows(list: &serde_json::Value, template: &str) -> Vec<String> {
    let items = list
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"));
    items
        .iter()
        .map(|item| {
            let mut row = String::new();
            let mut rest = template;
            while let Some(open) = rest.find('{') {
                let close = open + rest[open..].find('}').expect("{KEY} closed");
                row.push_str(&rest[..open]);
                match &item[&rest[open + 1..close]] {
                    serde_json::Value::String(s) => row.push_str(s),
                    serde_json::Value::Null => {}
                    other => row.push_str(&other.to_string()),
                }
                rest = &rest[close + 1..];
            }
            row.push_str(rest);
            row
        })
        .collect()
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
    grant(namespace, "reader", "get,list,watch", resources);
}

/// Lets the `norights` user do `verbs` on `resources` in `namespace` (role and binding `role`).
pub fn grant(namespace: &str, role: &str, verbs: &str, resources: &str) {
    kubectl(&[
        "create",
        "role",
        role,
        "-n",
        namespace,
        &format!("--verb={verbs}"),
        &format!("--resource={resources}"),
    ]);
    kubectl(&[
        "create",
        "rolebinding",
        role,
        "-n",
        namespace,
        &format!("--role={role}"),
        "--user=norights",
    ]);
}

/// Polls `done` every 100 ms; panics naming `what` after a minute (a guard against a hang,
/// not a timing threshold).
pub fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}
