//! Sources that are rendered before they are read, as Argo CD renders them: a kustomization
//! (`kustomize build`, or `kubectl kustomize`) and a Helm chart (`helm template`). The
//! renderers are run as processes (this is not Kubernetes I/O); everything else here (finding
//! where each rendered object was written, stripping what the renderer added) is pure.

pub mod helm;
pub mod kustomize;
mod origin;
pub mod rebase;

use crate::manifest::{Loaded, Node};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The files whose presence makes a directory a kustomization, as kustomize and Argo CD
/// detect it.
pub const KUSTOMIZATION_FILES: [&str; 3] =
    ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// What a directory given with `-f` is, as Argo CD's source type detection sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirectoryKind {
    Kustomization,
    HelmChart,
    Plain,
}

pub fn directory_kind(dir: &Path) -> DirectoryKind {
    if kustomization_file(dir).is_some() {
        DirectoryKind::Kustomization
    } else if dir.join("Chart.yaml").is_file() {
        DirectoryKind::HelmChart
    } else {
        DirectoryKind::Plain
    }
}

/// The kustomization file of a directory, if it has one.
pub fn kustomization_file(dir: &Path) -> Option<PathBuf> {
    KUSTOMIZATION_FILES
        .iter()
        .map(|name| dir.join(name))
        .find(|path| path.is_file())
}

/// Helm's inputs, from the command line.
#[derive(Debug, Clone, Default)]
pub struct HelmOptions {
    /// `--release`; the chart's name when None.
    pub release: Option<String>,
    pub values: Vec<String>,
    pub set: Vec<String>,
    pub set_string: Vec<String>,
    /// Passed as `--namespace`.
    pub namespace: String,
}

/// A rendered source: its objects (positioned in the user's files), and how it was rendered,
/// for the note on stderr.
#[derive(Debug)]
pub struct Rendered {
    pub loaded: Loaded,
    pub how: String,
}

/// One YAML document (a kustomization, Chart.yaml, an origin annotation) as a tree with
/// positions, under the same limits as manifests; None when it does not parse.
fn parse_yaml(text: &str) -> Option<Node> {
    let mut options = serde_saphyr::Options::default();
    options.emit_comments = false;
    options.budget = Some(crate::manifest::input::document_budget());
    serde_saphyr::from_str_with_options::<Node>(text, options).ok()
}

/// A program on PATH, as a shell finds it.
pub fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Runs a renderer and returns its standard output, or its own message when it fails.
fn run(mut command: Command, what: &str) -> Result<String, String> {
    let output = command
        .output()
        .map_err(|e| format!("cannot run {what}: {e}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let message = renderer_message(&stderr);
        return Err(if message.is_empty() {
            format!("{what} failed ({})", output.status)
        } else {
            message
        });
    }
    String::from_utf8(output.stdout).map_err(|_| format!("{what} printed text that is not UTF-8"))
}

/// A renderer's error output without its decoration: `Error: ` prefixes, and kubectl's log
/// line around the message (`E1202 12:00:00.000 123 run.go:72] "command failed" err=<` ... `>`).
fn renderer_message(stderr: &str) -> String {
    let mut lines = Vec::new();
    for line in stderr.lines() {
        let bare = line.trim();
        if bare.is_empty() || bare == ">" {
            continue;
        }
        let line = match bare.split_once("\"command failed\" err=") {
            Some((_, "<")) => continue,
            Some((_, rest)) => rest.trim_matches('"'),
            None => bare,
        };
        lines.push(
            line.trim_start_matches("Error: ")
                .trim_start_matches("error: "),
        );
    }
    lines.join("\n")
}

/// How a file is named in messages: relative to the working directory when it is below it
/// (as the user most likely typed it), else in full.
fn shown_path(path: &Path) -> String {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| std::fs::canonicalize(cwd).ok())
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| path.to_path_buf())
        .to_string_lossy()
        .into_owned()
}

/// `a/b/../c` as `a/c`, without asking the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// The relative path from directory `from` to `to` (both absolute and canonical).
fn relative(from: &Path, to: &Path) -> PathBuf {
    let from: Vec<_> = from.components().collect();
    let to: Vec<_> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..from.len() {
        out.push("..");
    }
    for part in &to[common..] {
        out.push(part);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renderer_messages_lose_their_log_decoration() {
        let kubectl = "E1202 00:08:27.236375    3544 run.go:72] \"command failed\" err=<\n\taccumulating resources: missing.yaml\n\t: exit status 128\n >\n";
        assert_eq!(
            renderer_message(kubectl),
            "accumulating resources: missing.yaml\n: exit status 128"
        );
        assert_eq!(
            renderer_message("Error: template: x.yaml:1: nil pointer\n"),
            "template: x.yaml:1: nil pointer"
        );
    }

    #[test]
    fn directories_are_told_apart_as_argo_cd_does() {
        let dir = std::env::temp_dir().join(format!("kubectl-hooks-kind-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        assert_eq!(directory_kind(&dir), DirectoryKind::Plain);
        std::fs::write(dir.join("Chart.yaml"), "name: x\n").unwrap();
        assert_eq!(directory_kind(&dir), DirectoryKind::HelmChart);
        // A kustomization wins over a chart.
        for name in KUSTOMIZATION_FILES {
            std::fs::write(dir.join(name), "resources: []\n").unwrap();
            assert_eq!(directory_kind(&dir), DirectoryKind::Kustomization, "{name}");
            std::fs::remove_file(dir.join(name)).unwrap();
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn relative_and_normalized_paths() {
        assert_eq!(
            relative(Path::new("/tmp/x/w"), Path::new("/work/a/b")),
            Path::new("../../../work/a/b")
        );
        assert_eq!(
            normalize(Path::new("/tmp/x/w/../../../work/a/./b")),
            Path::new("/work/a/b")
        );
    }
}
