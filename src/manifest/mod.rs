//! Reading manifests from files, directories and stdin into objects that remember where they
//! came from (file, document, lines), so every later message can name the exact place.

pub mod input;
mod names;
pub mod node;
mod split;

pub use input::{InputSpec, load};
pub use node::{Key, Node, Pos};

use rayon::prelude::*;
use std::fmt;
use std::sync::Arc;

/// Where an object came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The file as the user named it (`-` input is shown as `<stdin>`).
    pub file: Arc<str>,
    /// 0-based index of the document within the file.
    pub doc: usize,
    /// First and last line of the object's text.
    pub line: u32,
    pub end_line: u32,
    /// Other files some of the object's fields come from (a kustomize patch): a position
    /// whose line is `ELSEWHERE_LINES * (k + 1) + n` is line `n` of `elsewhere[k]`. Empty for
    /// objects read from one file.
    pub elsewhere: Vec<Arc<str>>,
}

/// The line numbers set aside for each file in `Source::elsewhere`: far more lines than any
/// manifest has, so positions of fields from another file cannot collide with the object's own.
pub const ELSEWHERE_LINES: u32 = 1 << 24;

impl Source {
    /// The file and position in it that `pos` (a position of one of the object's nodes) names.
    pub fn locate(&self, pos: Pos) -> (Arc<str>, Pos) {
        let k = (pos.line / ELSEWHERE_LINES) as usize;
        match k.checked_sub(1).and_then(|k| self.elsewhere.get(k)) {
            Some(file) => (
                file.clone(),
                Pos {
                    line: pos.line % ELSEWHERE_LINES,
                    col: pos.col,
                },
            ),
            None => (self.file.clone(), pos),
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// One Kubernetes object from the input, with its source positions.
#[derive(Debug, Clone)]
pub struct Manifest {
    pub root: Node,
    pub source: Source,
    pub api_version: String,
    pub kind: String,
    pub name: Option<String>,
    pub generate_name: Option<String>,
    pub namespace: Option<String>,
}

/// apiVersion as Kubernetes splits it (apimachinery's `schema.ParseGroupVersion`): `v1` is
/// version `v1` of the core group `""`, `apps/v1` version `v1` of group `apps`. The one place
/// that splits an apiVersion; a second `/` is left in the version, for callers to reject.
pub fn split_api_version(api_version: &str) -> (&str, &str) {
    api_version.split_once('/').unwrap_or(("", api_version))
}

impl Manifest {
    /// API group: the part of apiVersion before `/`, empty for the core group.
    pub fn group(&self) -> &str {
        split_api_version(&self.api_version).0
    }

    /// The name to show: `name`, or `prefix*` for generateName.
    pub fn display_name(&self) -> String {
        match (&self.name, &self.generate_name) {
            (Some(n), _) => n.clone(),
            (None, Some(g)) => format!("{g}*"),
            (None, None) => String::new(),
        }
    }

    /// The annotation entries (key with its position, value node).
    pub fn annotations(&self) -> impl Iterator<Item = (&Key, &Node)> {
        self.root
            .path(&["metadata", "annotations"])
            .and_then(Node::as_map)
            .unwrap_or(&[])
            .iter()
            .map(|(k, v)| (k, v))
    }

    /// The string value of an annotation and the position of its key.
    pub fn annotation(&self, key: &str) -> Option<(&str, Pos)> {
        let (k, v) = self.root.path(&["metadata", "annotations"])?.entry(key)?;
        Some((v.as_str()?, k.pos))
    }

    pub fn position_of(&self, path: &[&str]) -> Pos {
        let (last, parents) = match path.split_last() {
            Some(split) => split,
            None => return self.root.pos,
        };
        self.root
            .path(parents)
            .and_then(|parent| parent.entry(last))
            .map(|(k, _)| k.pos)
            .unwrap_or(Pos {
                line: self.source.line,
                col: 1,
            })
    }

    pub fn to_json(&self) -> serde_json::Value {
        self.root.to_json()
    }
}

/// A problem with the input: unreadable, unparsable, or not a Kubernetes object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    pub file: Arc<str>,
    /// None when the problem is with the file as a whole (cannot be read).
    pub pos: Option<Pos>,
    pub message: String,
    pub kind: InputErrorKind,
}

/// What kind of problem an input error is, for callers that treat them differently (lint
/// gives each its own rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputErrorKind {
    /// The file (or stdin) as a whole cannot be read, or is too large.
    Unreadable,
    /// Not valid YAML or JSON.
    Syntax,
    /// A document that is not a mapping, or a field of the wrong type.
    NotAnObject,
    /// apiVersion, kind, metadata, or both name and generateName are missing.
    MissingField,
    /// An annotation or label value that is not a string. The object is still loaded.
    NonStringValue,
    /// A name, generateName or namespace the API server would refuse (not a DNS subdomain or
    /// label, as the kind requires). The object is still loaded.
    InvalidName,
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.pos {
            Some(p) => write!(f, "{}:{}:{}: {}", self.file, p.line, p.col, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

/// Everything read from the input: the objects, and every problem found (not only the first).
#[derive(Debug, Default)]
pub struct Loaded {
    pub manifests: Vec<Manifest>,
    pub errors: Vec<InputError>,
    /// The text of every file read, in reading order, so diagnostics can quote it (stdin
    /// cannot be read twice).
    pub texts: Vec<(Arc<str>, String)>,
    /// Files read but left out, and why (not Kubernetes objects, symlinked directories):
    /// lint reports them as information, the other commands print them on stderr.
    pub notes: Vec<InputNote>,
}

/// A file left out of the input, as Argo CD and kubectl leave it out: not an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputNote {
    pub file: Arc<str>,
    pub message: String,
    pub kind: InputNoteKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputNoteKind {
    /// A file none of whose documents is meant to be an object.
    NotKubernetes,
    /// A symlinked directory under a directory read with -R.
    SymlinkedDirectory,
    /// A directory named again (or through a link) after it was read.
    AlreadyRead,
}

impl fmt::Display for InputNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.file, self.message)
    }
}

/// What one text held: its objects and problems, and whether it looked like Kubernetes
/// manifests at all.
pub(crate) struct Parsed {
    pub loaded: Loaded,
    /// True when the text has documents and none of them is meant to be an object (a Helm
    /// values file, Chart.yaml, a kustomization, a CI config, renovate.json).
    pub not_kubernetes: bool,
}

/// Turns the documents of one file's text into manifests, collecting problems.
pub fn parse_text(file: &Arc<str>, text: &str, out: &mut Loaded) {
    for parsed in parse_texts(&[(file.clone(), text)]) {
        out.absorb(parsed.loaded);
    }
}

/// Parses the documents of several texts, spread over the machine's cores: parsing YAML is
/// most of what `lint` and `plan` do, and documents parse independently. Returns, for each text
/// in order, its objects and problems in document order: the same as parsing one document
/// after the other. (The texts themselves are not copied into the result.)
pub(crate) fn parse_texts(texts: &[(Arc<str>, &str)]) -> Vec<Parsed> {
    let jobs: Vec<(usize, usize, split::Chunk<'_>)> = texts
        .iter()
        .enumerate()
        .flat_map(|(t, (_, text))| {
            split::documents(text)
                .enumerate()
                .map(move |(doc, chunk)| (t, doc, chunk))
        })
        .collect();
    let parse = |(t, doc, chunk): &(usize, usize, split::Chunk<'_>)| {
        let mut out = Loaded::default();
        let kind = parse_document(&texts[*t].0, *doc, chunk, &mut out);
        (out, kind)
    };
    let parsed: Vec<(Loaded, DocumentKind)> = match parallel_pool(jobs.len()) {
        Some(pool) => pool.install(|| jobs.par_iter().with_min_len(16).map(parse).collect()),
        None => jobs.iter().map(parse).collect(),
    };
    let mut by_text: Vec<Parsed> = texts
        .iter()
        .map(|_| Parsed {
            loaded: Loaded::default(),
            not_kubernetes: false,
        })
        .collect();
    let mut kinds: Vec<(usize, usize)> = vec![(0, 0); texts.len()];
    for ((t, _, _), (part, kind)) in jobs.iter().zip(parsed) {
        by_text[*t].loaded.absorb(part);
        match kind {
            DocumentKind::Empty => {}
            DocumentKind::Foreign => kinds[*t].0 += 1,
            DocumentKind::Kubernetes => kinds[*t].1 += 1,
        }
    }
    for (parsed, (foreign, kubernetes)) in by_text.iter_mut().zip(kinds) {
        parsed.not_kubernetes = foreign > 0 && kubernetes == 0;
    }
    by_text
}

/// A document that is not meant to be an object: neither a kind nor metadata (a values file,
/// Chart.yaml with its `apiVersion: v2`, a CI config), or kustomize's own configuration (a
/// kustomization left in a directory). A manifest that forgot one of its fields still has the
/// other, and is reported.
fn is_foreign(root: &Node) -> bool {
    let kustomize_config = root
        .get("apiVersion")
        .and_then(Node::as_str)
        .is_some_and(|v| v.starts_with("kustomize.config.k8s.io/"));
    kustomize_config || (root.get("kind").is_none() && root.get("metadata").is_none())
}

/// What a document looked like, for leaving out files that hold no Kubernetes objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DocumentKind {
    /// Nothing but comments.
    Empty,
    /// Parsed, but not meant to be an object (see `is_foreign`), or not a mapping at all.
    Foreign,
    /// An object (valid or not), or a document that does not parse.
    Kubernetes,
}

/// Threads for parsing, when there are enough documents to be worth them. Each gets the
/// main thread's usual stack, since deserializing YAML recurses once per nesting level (up to
/// the budget's `max_depth`).
fn parallel_pool(documents: usize) -> Option<rayon::ThreadPool> {
    if documents < 32 {
        return None;
    }
    rayon::ThreadPoolBuilder::new()
        .stack_size(8 * 1024 * 1024)
        .build()
        .ok()
}

impl Loaded {
    /// Appends the objects and problems of `other` (its texts are not kept).
    fn absorb(&mut self, other: Loaded) {
        self.manifests.extend(other.manifests);
        self.errors.extend(other.errors);
    }

    /// Appends everything of `other`, its texts and notes too (inputs read one after another).
    pub fn append(&mut self, other: Loaded) {
        self.manifests.extend(other.manifests);
        self.errors.extend(other.errors);
        self.texts.extend(other.texts);
        self.notes.extend(other.notes);
    }
}

fn parse_document(
    file: &Arc<str>,
    doc_index: usize,
    chunk: &split::Chunk<'_>,
    out: &mut Loaded,
) -> DocumentKind {
    let mut options = serde_saphyr::Options::default();
    options.with_snippet = false;
    options.budget = Some(input::document_budget());
    // Comments are not kept (nothing here prints YAML back), and emitting them makes the
    // parser buffer every comment while it looks ahead for a key's value: a key followed by
    // more comment lines than the buffer holds (a Deployment's commented-out env list) would
    // be refused though it is valid YAML.
    options.emit_comments = false;
    match serde_saphyr::from_str_with_options::<Option<Node>>(chunk.text, options) {
        Ok(None) => DocumentKind::Empty,
        Ok(Some(mut root)) => {
            root.shift_lines(chunk.first_line);
            if matches!(root.value, node::Value::Null) {
                return DocumentKind::Empty;
            }
            let kind = if is_foreign(&root) {
                DocumentKind::Foreign
            } else {
                DocumentKind::Kubernetes
            };
            objects_of(file, doc_index, root, out);
            kind
        }
        Err(e) => {
            let pos = e.location().map(|l| Pos {
                line: l.line() as u32 + chunk.first_line,
                col: l.column() as u32,
            });
            out.errors.push(InputError {
                file: file.clone(),
                pos: Some(pos.unwrap_or(Pos {
                    line: chunk.first_line + 1,
                    col: 1,
                })),
                message: yaml_problem(&e.to_string()),
                kind: InputErrorKind::Syntax,
            });
            // A file that does not parse is reported, never skipped.
            DocumentKind::Kubernetes
        }
    }
}

/// The parser's message without its own positions (relative to the document, and already
/// given as `file:line:col`), in the user's terms for a breached input budget.
fn yaml_problem(message: &str) -> String {
    let message = message.find(" at line ").map_or(message, |i| &message[..i]);
    if message.starts_with("budget breached") {
        format!(
            "document too large or too deeply nested once its aliases are expanded ({message}); \
             a YAML alias bomb?"
        )
    } else {
        format!("invalid YAML: {message}")
    }
}

/// A document is one object, or a `kind: List` whose items are objects.
fn objects_of(file: &Arc<str>, doc: usize, root: Node, out: &mut Loaded) {
    let is_list = root
        .get("kind")
        .and_then(Node::as_str)
        .is_some_and(|k| k.ends_with("List"))
        && root.get("items").and_then(Node::as_seq).is_some();
    if is_list {
        let node::Value::Map(entries) = root.value else {
            unreachable!("a List is a mapping")
        };
        for (key, value) in entries {
            if key.name == "items"
                && let node::Value::Seq(items) = value.value
            {
                for item in items {
                    push_object(file, doc, item, out);
                }
            }
        }
    } else {
        push_object(file, doc, root, out);
    }
}

fn push_object(file: &Arc<str>, doc: usize, root: Node, out: &mut Loaded) {
    let line = root.pos.line;
    let end_line = root.last_line();
    let at = |pos: Pos, message: String, kind| InputError {
        file: file.clone(),
        pos: Some(pos),
        message,
        kind,
    };
    if root.as_map().is_none() {
        out.errors.push(at(
            root.pos,
            format!(
                "document {} is {}, not a Kubernetes object (a mapping with apiVersion, kind and metadata)",
                doc + 1,
                root.type_name()
            ),
            InputErrorKind::NotAnObject,
        ));
        return;
    }
    let before = out.errors.len();
    let api_version = required_string(&root, "apiVersion", file, out);
    let kind = required_string(&root, "kind", file, out);
    let metadata = root.get("metadata");
    let mut name = None;
    let mut generate_name = None;
    let mut namespace = None;
    match metadata {
        None => out.errors.push(at(
            root.pos,
            "object has no metadata: it needs metadata.name or metadata.generateName".into(),
            InputErrorKind::MissingField,
        )),
        Some(m) if m.as_map().is_none() => out.errors.push(at(
            m.pos,
            format!("metadata is {}, expected a mapping", m.type_name()),
            InputErrorKind::NotAnObject,
        )),
        Some(m) => {
            let before_names = out.errors.len();
            name = optional_string(m, "name", "metadata.name", file, out);
            generate_name = optional_string(m, "generateName", "metadata.generateName", file, out);
            let names_invalid = out.errors.len() > before_names;
            namespace = optional_string(m, "namespace", "metadata.namespace", file, out);
            if name.is_none() && generate_name.is_none() && !names_invalid {
                // At the `metadata` key: the mapping itself starts on the line below it.
                let key = root.entry("metadata").map_or(m.pos, |(k, _)| k.pos);
                out.errors.push(at(
                    key,
                    "object has neither metadata.name nor metadata.generateName".into(),
                    InputErrorKind::MissingField,
                ));
            }
        }
    }
    let unusable = out.errors.len() > before;
    // A non-string annotation or label value is reported, but the object is kept, so that lint
    // can still judge the rest of it; commands that act on input refuse any error anyway.
    if let Some(m) = metadata.filter(|m| m.as_map().is_some()) {
        check_string_map(m, "annotations", file, out);
        check_string_map(m, "labels", file, out);
        if let (Some(api_version), Some(kind)) = (&api_version, &kind) {
            for problem in names::check(m, api_version, kind) {
                out.errors.push(at(
                    problem.pos,
                    problem.message,
                    InputErrorKind::InvalidName,
                ));
            }
        }
    }
    if unusable {
        return;
    }
    out.manifests.push(Manifest {
        source: Source {
            file: file.clone(),
            doc,
            line,
            end_line,
            elsewhere: Vec::new(),
        },
        api_version: api_version.unwrap_or_default(),
        kind: kind.unwrap_or_default(),
        name,
        generate_name,
        namespace,
        root,
    });
}

fn required_string(root: &Node, key: &str, file: &Arc<str>, out: &mut Loaded) -> Option<String> {
    match root.entry(key) {
        None => {
            out.errors.push(InputError {
                file: file.clone(),
                pos: Some(root.pos),
                message: format!("object has no {key}"),
                kind: InputErrorKind::MissingField,
            });
            None
        }
        Some((_, v)) => match v.as_str() {
            Some(s) if !s.is_empty() => Some(s.to_owned()),
            _ => {
                out.errors.push(InputError {
                    file: file.clone(),
                    pos: Some(v.pos),
                    message: format!("{key} must be a non-empty string, found {}", v.type_name()),
                    kind: if v.as_str().is_some() {
                        InputErrorKind::MissingField
                    } else {
                        InputErrorKind::NotAnObject
                    },
                });
                None
            }
        },
    }
}

fn optional_string(
    map: &Node,
    key: &str,
    what: &str,
    file: &Arc<str>,
    out: &mut Loaded,
) -> Option<String> {
    let (_, v) = map.entry(key)?;
    match v.as_str() {
        Some("") => None,
        Some(s) => Some(s.to_owned()),
        None if matches!(v.value, node::Value::Null) => None,
        None => {
            out.errors.push(InputError {
                file: file.clone(),
                pos: Some(v.pos),
                message: format!("{what} must be a string, found {}", v.type_name()),
                kind: InputErrorKind::NotAnObject,
            });
            None
        }
    }
}

/// Annotations and labels are maps of strings; the API server rejects anything else, and an
/// unquoted `sync-wave: 3` is the classic way to get there.
fn check_string_map(metadata: &Node, field: &str, file: &Arc<str>, out: &mut Loaded) {
    let Some(map) = metadata.get(field) else {
        return;
    };
    if matches!(map.value, node::Value::Null) {
        return;
    }
    let Some(entries) = map.as_map() else {
        out.errors.push(InputError {
            file: file.clone(),
            pos: Some(map.pos),
            message: format!(
                "metadata.{field} is {}, expected a mapping",
                map.type_name()
            ),
            kind: InputErrorKind::NotAnObject,
        });
        return;
    };
    for (key, value) in entries {
        if value.as_str().is_none() {
            let hint = match &value.value {
                node::Value::Number(n) => format!(": quote it, \"{n}\""),
                node::Value::Bool(b) => format!(": quote it, \"{b}\""),
                _ => String::new(),
            };
            out.errors.push(InputError {
                file: file.clone(),
                pos: Some(key.pos),
                message: format!(
                    "value of {} {:?} is {}, but must be a string{hint}",
                    if field == "annotations" {
                        "annotation"
                    } else {
                        "label"
                    },
                    key.name,
                    value.type_name()
                ),
                kind: InputErrorKind::NonStringValue,
            });
        }
    }
}

/// Parses text as if read from a file of that name (tests, and callers holding text).
pub fn from_str(file: &str, text: &str) -> Loaded {
    let mut out = Loaded::default();
    let file: Arc<str> = Arc::from(file);
    parse_text(&file, text, &mut out);
    out.texts.push((file, text.to_owned()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Many documents (so they are parsed on several threads), every seventh broken in one
    /// way or another: objects and problems come out in input order, with file-wide lines.
    #[test]
    fn documents_parsed_in_parallel_come_out_in_input_order() {
        let mut text = String::new();
        for i in 0..200 {
            text.push_str("---\n");
            match i % 7 {
                3 => text.push_str("apiVersion: v1\nkind: [unclosed\n"),
                5 => text.push_str("apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n"),
                _ => text.push_str(&format!(
                    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{i}\n"
                )),
            }
        }
        let loaded = from_str("many.yaml", &text);
        let names: Vec<String> = loaded
            .manifests
            .iter()
            .map(|m| m.name.clone().unwrap())
            .collect();
        let expected: Vec<String> = (0..200)
            .filter(|i| i % 7 != 3 && i % 7 != 5)
            .map(|i| format!("c{i}"))
            .collect();
        assert_eq!(names, expected);
        let docs: Vec<usize> = loaded.manifests.iter().map(|m| m.source.doc).collect();
        assert!(docs.windows(2).all(|w| w[0] < w[1]), "{docs:?}");
        let broken = (0..200).filter(|i| i % 7 == 3 || i % 7 == 5).count();
        assert_eq!(loaded.errors.len(), broken);
        let lines: Vec<u32> = loaded.errors.iter().map(|e| e.pos.unwrap().line).collect();
        assert!(lines.windows(2).all(|w| w[0] < w[1]), "{lines:?}");
        // Documents 0 to 2 take 5 lines each: document 3's `kind` is on line 18.
        assert_eq!(lines[0], 18);
        assert_eq!(loaded.texts.len(), 1);
    }
}
