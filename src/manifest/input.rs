//! Where manifests come from: files, directories (optionally recursive) and stdin, as
//! `kubectl apply -f` reads them.

use super::{InputError, InputErrorKind, InputNote, InputNoteKind, Loaded, parse_texts};
use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The most input read in one run. Kubernetes objects are at most 1.5 MiB each; this bounds
/// memory for a mistaken `-f /` rather than any real app.
pub const MAX_INPUT_BYTES: usize = 256 * 1024 * 1024;

/// Per-document limits: aliases, nodes, depth. Defaults stop alias bombs; the depth is raised
/// because CRD schemas nest deeply.
pub fn document_budget() -> serde_saphyr::Budget {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_depth = 128;
    budget.max_documents = 2;
    budget
}

/// What the user asked to read.
#[derive(Debug, Clone, Default)]
pub struct InputSpec {
    /// `-f` values; `-` is stdin.
    pub filenames: Vec<String>,
    pub recursive: bool,
}

fn is_manifest_file(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml" | "json")
    )
}

/// A directory's manifest files, in name order, as kubectl and Argo CD walk it: with Go's
/// `filepath.Walk`, which does not follow symlinked directories (files behind symlinks are
/// read). `visited` holds the real path of every directory walked, so no directory is read
/// twice whatever links point at it.
fn walk(
    dir: &Path,
    recursive: bool,
    visited: &mut HashSet<PathBuf>,
    files: &mut Vec<PathBuf>,
    notes: &mut Vec<InputNote>,
) -> std::io::Result<()> {
    if !visited.insert(std::fs::canonicalize(dir)?) {
        return Ok(());
    }
    let mut entries: Vec<(PathBuf, std::fs::FileType)> = std::fs::read_dir(dir)?
        .map(|e| e.and_then(|e| Ok((e.path(), e.file_type()?))))
        .collect::<Result<_, _>>()?;
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    for (path, file_type) in entries {
        if file_type.is_symlink() {
            if path.is_dir() {
                if recursive {
                    notes.push(InputNote {
                        file: Arc::from(path.to_string_lossy().as_ref()),
                        message: "symlinked directory not followed, as kubectl -R and Argo CD's \
                                  directory source do not follow them"
                            .into(),
                        kind: InputNoteKind::SymlinkedDirectory,
                    });
                }
            } else if is_manifest_file(&path) {
                files.push(path);
            }
        } else if file_type.is_dir() {
            if recursive {
                walk(&path, recursive, visited, files, notes)?;
            }
        } else if is_manifest_file(&path) {
            files.push(path);
        }
    }
    Ok(())
}

/// One input, as read: its text, or why it cannot be used.
enum Input {
    /// A text, and whether it is a file (a file that holds no Kubernetes objects is left out;
    /// stdin is not).
    Text(Arc<str>, String, bool),
    Unusable(InputError),
}

/// Reads every input, with `stdin` used when a `-` is given. Errors do not stop reading: every
/// problem in every file is reported. Everything is read first, then parsed (in parallel),
/// and reported in the order it was read.
pub fn load(spec: &InputSpec, stdin: &mut dyn Read) -> Loaded {
    let mut read = Vec::new();
    let mut total = 0usize;
    let mut stdin_used = false;
    let mut visited = HashSet::new();
    let mut notes = Vec::new();
    for name in &spec.filenames {
        let mut files = Vec::new();
        if name == "-" {
            if stdin_used {
                continue;
            }
            stdin_used = true;
            let file: Arc<str> = Arc::from("<stdin>");
            let mut text = String::new();
            match stdin
                .take((MAX_INPUT_BYTES - total + 1) as u64)
                .read_to_string(&mut text)
            {
                Ok(_) => read_text(&file, text, false, &mut total, &mut read),
                Err(e) => read.push(Input::Unusable(InputError {
                    file,
                    pos: None,
                    message: format!("cannot read stdin: {e}"),
                    kind: InputErrorKind::Unreadable,
                })),
            }
            continue;
        }
        let path = Path::new(name);
        let error = |message: String| InputError {
            file: Arc::from(name.as_str()),
            pos: None,
            message,
            kind: InputErrorKind::Unreadable,
        };
        match std::fs::metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                read.push(Input::Unusable(error("no such file or directory".into())));
                continue;
            }
            Err(e) => {
                read.push(Input::Unusable(error(format!("cannot read: {e}"))));
                continue;
            }
            Ok(m) if m.is_dir() => {
                let walked_before = visited.len();
                if let Err(e) = walk(path, spec.recursive, &mut visited, &mut files, &mut notes) {
                    read.push(Input::Unusable(error(format!(
                        "cannot read directory: {e}"
                    ))));
                    continue;
                }
                if visited.len() == walked_before {
                    notes.push(InputNote {
                        file: Arc::from(name.as_str()),
                        message: "directory already read; not read again".into(),
                        kind: InputNoteKind::AlreadyRead,
                    });
                } else if files.is_empty() {
                    read.push(Input::Unusable(error(format!(
                        "directory has no .yaml, .yml or .json files{}",
                        if spec.recursive {
                            ""
                        } else {
                            " (use -R to read subdirectories)"
                        }
                    ))));
                }
            }
            Ok(_) => files.push(path.to_path_buf()),
        }
        for file in files {
            let shown: Arc<str> = Arc::from(file.to_string_lossy().as_ref());
            match std::fs::read(&file) {
                Ok(bytes) => match String::from_utf8(bytes) {
                    Ok(text) => read_text(&shown, text, true, &mut total, &mut read),
                    Err(_) => read.push(Input::Unusable(InputError {
                        file: shown,
                        pos: None,
                        message: "not UTF-8 text".into(),
                        kind: InputErrorKind::Unreadable,
                    })),
                },
                Err(e) => read.push(Input::Unusable(InputError {
                    file: shown,
                    pos: None,
                    message: format!("cannot read: {e}"),
                    kind: InputErrorKind::Unreadable,
                })),
            }
        }
    }
    let mut loaded = parse_all(read);
    loaded.notes.splice(0..0, notes);
    loaded
}

/// Parses every text read, and lists objects and problems in the order the inputs were read.
fn parse_all(read: Vec<Input>) -> Loaded {
    let texts: Vec<(Arc<str>, &str)> = read
        .iter()
        .filter_map(|input| match input {
            Input::Text(file, text, _) => Some((file.clone(), text.as_str())),
            Input::Unusable(_) => None,
        })
        .collect();
    let mut parsed = parse_texts(&texts).into_iter();
    drop(texts);
    let mut out = Loaded::default();
    for input in read {
        match input {
            Input::Text(file, text, is_file) => {
                let parsed = parsed.next().expect("one result per text");
                if is_file && parsed.not_kubernetes {
                    // As Argo CD's directory source: values files, Chart.yaml, CI configs
                    // and the like sit next to manifests and are not an error.
                    out.notes.push(InputNote {
                        file,
                        message: "no Kubernetes objects (not one document has a kind or \
                                  metadata, or it is kustomize's configuration): skipped, as \
                                  Argo CD's directory source skips it"
                            .into(),
                        kind: InputNoteKind::NotKubernetes,
                    });
                    continue;
                }
                out.absorb(parsed.loaded);
                out.texts.push((file, text));
            }
            Input::Unusable(error) => out.errors.push(error),
        }
    }
    out
}

fn read_text(
    file: &Arc<str>,
    text: String,
    is_file: bool,
    total: &mut usize,
    read: &mut Vec<Input>,
) {
    *total += text.len();
    if *total > MAX_INPUT_BYTES {
        read.push(Input::Unusable(InputError {
            file: file.clone(),
            pos: None,
            message: format!(
                "input is larger than {} MiB in all; split it into several runs",
                MAX_INPUT_BYTES / (1024 * 1024)
            ),
            kind: InputErrorKind::Unreadable,
        }));
        return;
    }
    read.push(Input::Text(file.clone(), text, is_file));
}
