//! kubectl-hooks as a kubectl plugin: installed on PATH as `kubectl-hooks` and run by the
//! real kubectl (`kubectl hooks ...`), as users run it. Help, version, completion, streams
//! and colour, and the exit codes that `--help` documents.
//!
//! Every test here needs a kubectl binary (KUBECTL, else `kubectl` on PATH, else
//! /usr/bin/kubectl or /usr/local/bin/kubectl); without one they say so and pass. The tests
//! of exit codes 1 and 130 need the test control plane (see tests/support), like every other
//! cluster test.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const VERSION: &str = env!("CARGO_PKG_VERSION");

fn kubectl_binary() -> Option<PathBuf> {
    if let Some(k) = std::env::var_os("KUBECTL").filter(|k| !k.is_empty()) {
        return Some(PathBuf::from(k));
    }
    let on_path: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join("kubectl"))
                .collect()
        })
        .unwrap_or_default();
    on_path
        .into_iter()
        .chain([
            PathBuf::from("/usr/bin/kubectl"),
            PathBuf::from("/usr/local/bin/kubectl"),
        ])
        .find(|p| p.is_file())
}

/// A PATH holding only the plugin (and, with `helper`, `kubectl_complete-hooks`), a HOME of
/// its own and no kubeconfig: the plugin as a user who installed it has it.
struct Plugin {
    kubectl: PathBuf,
    dir: tempfile::TempDir,
}

impl Plugin {
    fn install() -> Option<Plugin> {
        let Some(kubectl) = kubectl_binary() else {
            eprintln!("skipped: no kubectl binary (set KUBECTL, or put kubectl on PATH)");
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("bin")).unwrap();
        std::fs::create_dir(dir.path().join("home")).unwrap();
        std::fs::copy(
            env!("CARGO_BIN_EXE_kubectl-hooks"),
            dir.path().join("bin/kubectl-hooks"),
        )
        .unwrap();
        Some(Plugin { kubectl, dir })
    }

    fn bin(&self) -> PathBuf {
        self.dir.path().join("bin")
    }

    /// Puts the completion helper on PATH, as `kubectl hooks completion kubectl` makes it.
    fn install_completion_helper(&self) {
        let out = self.kubectl(&["hooks", "completion", "kubectl"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let helper = self.bin().join("kubectl_complete-hooks");
        std::fs::write(&helper, &out.stdout).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    fn command(&self, program: &Path) -> Command {
        let mut c = Command::new(program);
        c.env_clear()
            .env("PATH", self.bin())
            .env("HOME", self.dir.path().join("home"))
            .env("KUBECONFIG", self.dir.path().join("no-kubeconfig"))
            .env("NO_COLOR", "1")
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdin(Stdio::null());
        c
    }

    fn kubectl_command(&self, args: &[&str]) -> Command {
        let mut c = self.command(&self.kubectl);
        c.args(args);
        c
    }

    fn kubectl(&self, args: &[&str]) -> Output {
        self.kubectl_command(args).output().expect("run kubectl")
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Runs `kubectl hooks ARGS` and checks the exit code; returns (stdout, stderr).
fn hooks(p: &Plugin, args: &[&str], code: i32) -> (String, String) {
    let mut all = vec!["hooks"];
    all.extend_from_slice(args);
    let out = p.kubectl(&all);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(
        out.status.code(),
        Some(code),
        "kubectl hooks {args:?}\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    (stdout, stderr)
}

/// Subcommands that `--help` and kubectl's completion must know.
const SUBCOMMANDS: [&str; 7] = [
    "lint",
    "plan",
    "sync",
    "cleanup",
    "delete",
    "version",
    "completion",
];

#[test]
fn kubectl_plugin_list_shows_it() {
    let Some(p) = Plugin::install() else { return };
    let out = p.kubectl(&["plugin", "list"]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let path = p.bin().join("kubectl-hooks");
    assert!(
        stdout.lines().any(|l| l.trim() == path.to_str().unwrap()),
        "{stdout}"
    );
    assert!(!stderr.contains("warning"), "{stderr}");
    // Only plugins are listed: the completion helper is not one.
    p.install_completion_helper();
    let out = p.kubectl(&["plugin", "list"]);
    assert!(
        !text(&out.stdout).contains("kubectl_complete"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn version_through_kubectl() {
    let Some(p) = Plugin::install() else { return };
    let (stdout, stderr) = hooks(&p, &["version"], 0);
    assert_eq!(stdout, format!("kubectl-hooks {VERSION}\n"));
    assert_eq!(stderr, "");
    let (stdout, _) = hooks(&p, &["--version"], 0);
    assert!(stdout.trim_end().ends_with(VERSION), "{stdout}");
    let (stdout, _) = hooks(&p, &["version", "-o", "json"], 0);
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["version"], VERSION);
    let (stdout, _) = hooks(&p, &["version", "--output=yaml"], 0);
    let yaml: serde_json::Value = serde_saphyr::from_str(&stdout).unwrap();
    assert_eq!(yaml["version"], VERSION);
    let (stdout, stderr) = hooks(&p, &["version", "-o", "xml"], 2);
    assert_eq!(stdout, "");
    assert!(stderr.contains("invalid value 'xml'"), "{stderr}");
}

#[test]
fn help_everywhere_shows_kubectl_hooks() {
    let Some(p) = Plugin::install() else { return };
    for flag in ["--help", "-h"] {
        let (stdout, stderr) = hooks(&p, &[flag], 0);
        assert!(
            stdout.contains("Usage: kubectl hooks [OPTIONS] <COMMAND>"),
            "{stdout}"
        );
        assert!(!stdout.contains("kubectl-hooks"), "{stdout}");
        assert_eq!(stderr, "");
    }
    let (stdout, _) = hooks(&p, &["--help"], 0);
    assert!(
        stdout.contains(kubectl_hooks::cli::args::EXIT_CODES),
        "--help documents the exit codes:\n{stdout}"
    );
    for sub in SUBCOMMANDS {
        for flag in ["--help", "-h"] {
            let (stdout, stderr) = hooks(&p, &[sub, flag], 0);
            assert!(
                stdout.contains(&format!("Usage: kubectl hooks {sub} ")),
                "{sub} {flag}:\n{stdout}"
            );
            assert_eq!(stderr, "", "{sub} {flag}");
        }
    }
    // No subcommand: usage on stderr, exit 2.
    let (stdout, stderr) = hooks(&p, &[], 2);
    assert_eq!(stdout, "");
    assert!(stderr.contains("Usage: kubectl hooks"), "{stderr}");
}

#[test]
fn no_color_is_honoured() {
    let Some(p) = Plugin::install() else { return };
    let plugin = p.bin().join("kubectl-hooks");
    let run = |no_color: bool, args: &[&str]| {
        let mut c = p.command(&plugin);
        c.args(args).env("CLICOLOR_FORCE", "1");
        if !no_color {
            c.env_remove("NO_COLOR");
        }
        let out = c.output().unwrap();
        format!("{}{}", text(&out.stdout), text(&out.stderr))
    };
    // CLICOLOR_FORCE asks for colour even off a terminal; NO_COLOR wins over it.
    assert!(run(false, &["--help"]).contains('\x1b'), "colour is forced");
    assert!(!run(true, &["--help"]).contains('\x1b'));
    assert!(run(false, &["--nope"]).contains('\x1b'));
    assert!(!run(true, &["--nope"]).contains('\x1b'));
}

#[test]
fn kubectl_completes_the_plugin_through_its_helper() {
    let Some(p) = Plugin::install() else { return };
    // Without the helper, kubectl has nothing to offer for the plugin's arguments.
    let out = p.kubectl(&["__complete", "hooks", "sy"]);
    assert!(!text(&out.stdout).lines().any(|l| l.starts_with("sync")));

    p.install_completion_helper();
    let complete = |words: &[&str]| -> Vec<String> {
        let mut args = vec!["__complete", "hooks"];
        args.extend_from_slice(words);
        let out = p.kubectl(&args);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        text(&out.stdout).lines().map(str::to_string).collect()
    };
    let lines = complete(&["sy"]);
    assert!(lines[0].starts_with("sync\t"), "{lines:?}");
    assert_eq!(lines.last().unwrap(), ":4", "{lines:?}");
    let lines = complete(&[""]);
    for sub in SUBCOMMANDS {
        assert!(
            lines.iter().any(|l| l.split('\t').next() == Some(sub)),
            "{sub}: {lines:?}"
        );
    }
    let lines = complete(&["plan", "-o", ""]);
    let values: Vec<&str> = lines
        .iter()
        .map(|l| l.split('\t').next().unwrap())
        .collect();
    assert_eq!(values, ["table", "wide", "json", "yaml", ":4"]);
    let lines = complete(&["sync", "--dry"]);
    assert!(lines[0].starts_with("--dry-run\t"), "{lines:?}");
    // -f completes file names: no candidates, the default directive.
    assert_eq!(complete(&["plan", "-f", ""]), [":0"]);
}

#[test]
fn shell_completion_scripts_complete_kubectl_hooks() {
    let Some(p) = Plugin::install() else { return };
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let (stdout, stderr) = hooks(&p, &["completion", shell], 0);
        assert!(stdout.contains("kubectl-hooks"), "{shell}:\n{stdout}");
        assert_eq!(stderr, "");
    }
    let (stdout, _) = hooks(&p, &["completion", "kubectl"], 0);
    assert!(stdout.starts_with("#!/bin/sh\n"), "{stdout}");
    assert!(
        stdout.contains("exec kubectl-hooks __complete \"$@\""),
        "{stdout}"
    );

    // The bash script, loaded into bash, completes `kubectl-hooks sy` to `sync`.
    let Ok(bash) = which("bash") else {
        eprintln!("skipped the bash check: no bash");
        return;
    };
    let script = p.dir.path().join("kubectl-hooks.bash");
    std::fs::write(&script, hooks(&p, &["completion", "bash"], 0).0).unwrap();
    let check = format!(
        "source {script}\n\
         COMP_WORDS=(kubectl-hooks sy); COMP_CWORD=1; COMP_LINE='kubectl-hooks sy'; COMP_POINT=16\n\
         spec=$(complete -p kubectl-hooks); fn=${{spec#*-F }}; fn=${{fn%% *}}\n\
         \"$fn\" kubectl-hooks sy kubectl-hooks\n\
         printf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        script = script.display()
    );
    let out = p
        .command(&bash)
        .args(["--norc", "-c", &check])
        .output()
        .unwrap();
    assert_eq!(text(&out.stdout).trim(), "sync", "{}", text(&out.stderr));
    for (shell, flag) in [("zsh", "-n"), ("fish", "--no-execute")] {
        if let Ok(program) = which(shell) {
            let file = p.dir.path().join(format!("completion.{shell}"));
            std::fs::write(&file, hooks(&p, &["completion", shell], 0).0).unwrap();
            let out = p.command(&program).arg(flag).arg(&file).output().unwrap();
            assert!(out.status.success(), "{shell}: {}", text(&out.stderr));
        }
    }
}

fn which(program: &str) -> Result<PathBuf, ()> {
    ["/bin", "/usr/bin", "/usr/local/bin"]
        .iter()
        .map(|d| Path::new(d).join(program))
        .find(|p| p.is_file())
        .ok_or(())
}

#[test]
fn exit_code_2_for_bad_usage_and_bad_input_with_nothing_on_stdout() {
    let Some(p) = Plugin::install() else { return };
    let dir = p.dir.path();
    std::fs::write(dir.join("broken.yaml"), "kind: ConfigMap\nmetadata: [\n").unwrap();
    let broken = dir.join("broken.yaml");
    let broken = broken.to_str().unwrap();
    let cases: [&[&str]; 6] = [
        &["frobnicate"],
        &["plan", "--nope"],
        &["plan", "-o", "xml", "-f", "examples/quickstart"],
        &["sync", "--timeout", "soon", "-f", "examples/quickstart"],
        &["plan", "-f", "/nonexistent/app.yaml"],
        &["plan", "-f", broken],
    ];
    for args in cases {
        let (stdout, stderr) = hooks(&p, args, 2);
        assert_eq!(stdout, "", "{args:?}: results only, and there are none");
        assert!(stderr.contains("error"), "{args:?}: {stderr}");
    }
}

#[test]
fn exit_code_0_with_results_on_stdout_and_messages_on_stderr() {
    let Some(p) = Plugin::install() else { return };
    let (stdout, _) = hooks(&p, &["plan", "-f", "examples/quickstart", "-o", "json"], 0);
    let plan: serde_json::Value =
        serde_json::from_str(&stdout).expect("stdout is the result alone");
    assert!(plan.is_object() || plan.is_array());
}

#[test]
fn exit_code_3_when_the_cluster_cannot_be_reached() {
    let Some(p) = Plugin::install() else { return };
    // A port that nothing listens on.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let kubeconfig = p.dir.path().join("unreachable.kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: c\n\
             clusters: [{{name: c, cluster: {{server: 'https://127.0.0.1:{port}'}}}}]\n\
             users: [{{name: u, user: {{token: t}}}}]\n\
             contexts: [{{name: c, context: {{cluster: c, user: u}}}}]\n"
        ),
    )
    .unwrap();
    let (stdout, stderr) = hooks(
        &p,
        &[
            "sync",
            "-y",
            "-f",
            "examples/quickstart",
            "--kubeconfig",
            kubeconfig.to_str().unwrap(),
            "--request-timeout",
            "5s",
        ],
        3,
    );
    assert_eq!(stdout, "");
    assert!(stderr.contains("error"), "{stderr}");
}

/// A Deployment the test kubelet never makes ready: the sync waits on it.
const NEVER_READY: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: stuck}
spec:
  replicas: 1
  selector: {matchLabels: {app: stuck}}
  template:
    metadata:
      labels: {app: stuck}
      annotations: {test.kubectl-hooks.io/outcome: never-ready}
    spec:
      containers: [{name: s, image: example/s}]
"#;

fn cluster_sync(p: &Plugin, ns: &str, extra: &[&str]) -> Command {
    let app = p.dir.path().join("stuck.yaml");
    std::fs::write(&app, NEVER_READY).unwrap();
    let kubeconfig = crate::support::test_kubeconfig();
    let mut args = vec![
        "hooks".to_string(),
        "sync".into(),
        "-y".into(),
        "-o".into(),
        "json".into(),
        "-f".into(),
        app.display().to_string(),
        "-n".into(),
        ns.into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let mut c = p.command(&p.kubectl);
    c.args(&args).env("KUBECONFIG", kubeconfig);
    c
}

#[test]
fn exit_code_1_when_the_sync_fails() {
    let Some(p) = Plugin::install() else { return };
    let ns = crate::support::create_namespace("plugin-fail");
    let out = cluster_sync(&p, &ns, &["--timeout", "3s"])
        .output()
        .unwrap();
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("the report on stdout");
    assert_eq!(report["result"], "Failed");
    assert!(stderr.contains("error:"), "{stderr}");
}

#[test]
fn exit_code_130_when_interrupted() {
    let Some(p) = Plugin::install() else { return };
    let ns = crate::support::create_namespace("plugin-int");
    let mut child = cluster_sync(&p, &ns, &["--timeout", "2m"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // kubectl runs the plugin in its own process (exec): the signal reaches the plugin.
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut seen = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("syncing") {
                let _ = tx.send(());
            }
            seen.push_str(&line);
            seen.push('\n');
        }
        seen
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if rx.recv_timeout(Duration::from_millis(200)).is_ok() {
            break;
        }
        assert!(Instant::now() < deadline, "the sync never started");
        assert!(child.try_wait().unwrap().is_none(), "the sync ended early");
    }
    std::thread::sleep(Duration::from_millis(500));
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", text(&out.stdout));
    let report: serde_json::Value = serde_json::from_str(&text(&out.stdout)).unwrap();
    assert_eq!(report["result"], "Interrupted");
}
