//! Where manifests come from: files, directories (optionally recursive) and stdin, as
//! `kubectl apply -f` reads them.

use super::{InputError, InputErrorKind, Loaded, parse_texts};
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

fn walk(dir: &Path, recursive: bool, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    entries.sort();
    for path in entries {
        if path.is_dir() {
            if recursive {
                walk(&path, recursive, files)?;
            }
        } else if is_manifest_file(&path) {
            files.push(path);
        }
    }
    Ok(())
}

/// One input, as read: its text, or why it cannot be used.
enum Input {
    Text(Arc<str>, String),
    Unusable(InputError),
}

/// Reads every input, with `stdin` used when a `-` is given. Errors do not stop reading: every
/// problem in every file is reported. Everything is read first, then parsed (in parallel),
/// and reported in the order it was read.
pub fn load(spec: &InputSpec, stdin: &mut dyn Read) -> Loaded {
    let mut read = Vec::new();
    let mut total = 0usize;
    let mut stdin_used = false;
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
                Ok(_) => read_text(&file, text, &mut total, &mut read),
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
                if let Err(e) = walk(path, spec.recursive, &mut files) {
                    read.push(Input::Unusable(error(format!(
                        "cannot read directory: {e}"
                    ))));
                    continue;
                }
                if files.is_empty() {
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
                    Ok(text) => read_text(&shown, text, &mut total, &mut read),
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
    parse_all(read)
}

/// Parses every text read, and lists objects and problems in the order the inputs were read.
fn parse_all(read: Vec<Input>) -> Loaded {
    let texts: Vec<(Arc<str>, &str)> = read
        .iter()
        .filter_map(|input| match input {
            Input::Text(file, text) => Some((file.clone(), text.as_str())),
            Input::Unusable(_) => None,
        })
        .collect();
    let mut parsed = parse_texts(&texts).into_iter();
    drop(texts);
    let mut out = Loaded::default();
    for input in read {
        match input {
            Input::Text(file, text) => {
                out.absorb(parsed.next().expect("one result per text"));
                out.texts.push((file, text));
            }
            Input::Unusable(error) => out.errors.push(error),
        }
    }
    out
}

fn read_text(file: &Arc<str>, text: String, total: &mut usize, read: &mut Vec<Input>) {
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
    read.push(Input::Text(file.clone(), text));
}
