//! Where a rendered object was written: the file kustomize's origin annotation names, the
//! document in it that became the object, and the patches of the kustomization tree that set
//! some of its fields. Reads the user's files; the placing itself is `rebase`.

use super::rebase::{Layer, rebase};
use super::{kustomization_file, normalize, parse_yaml, shown_path};
use crate::manifest::{self, ELSEWHERE_LINES, Loaded, Manifest, Node, Pos, Source};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Files read to place objects, each read and parsed once, kept in the order first used so
/// lint can quote them.
#[derive(Default)]
pub(super) struct Files {
    by_path: HashMap<PathBuf, usize>,
    read: Vec<(Arc<str>, String, Loaded, bool)>,
}

impl Files {
    fn get(&mut self, path: &Path) -> Option<usize> {
        if let Some(&i) = self.by_path.get(path) {
            return Some(i);
        }
        let text = std::fs::read_to_string(path).ok()?;
        let shown: Arc<str> = Arc::from(shown_path(path).as_str());
        let parsed = manifest::from_str(&shown, &text);
        self.read.push((shown, text, parsed, false));
        self.by_path.insert(path.to_path_buf(), self.read.len() - 1);
        Some(self.read.len() - 1)
    }

    fn mark_used(&mut self, i: usize) {
        self.read[i].3 = true;
    }

    pub(super) fn used(self) -> impl Iterator<Item = (Arc<str>, String)> {
        self.read
            .into_iter()
            .filter(|f| f.3)
            .map(|(shown, text, _, _)| (shown, text))
    }
}

/// One strategic merge patch document of the kustomization tree, and what it targets.
pub(super) struct Patch {
    file: usize,
    doc: usize,
    kind: String,
    name: String,
}

/// Every strategic merge patch in the kustomization at `root` and the kustomizations it
/// builds on (local ones; remote bases are not read).
pub(super) fn patches_of(root: &Path, files: &mut Files) -> Vec<Patch> {
    let mut patches = Vec::new();
    let mut seen = HashSet::new();
    collect_patches(root, files, &mut seen, &mut patches);
    patches
}

fn collect_patches(
    dir: &Path,
    files: &mut Files,
    seen: &mut HashSet<PathBuf>,
    patches: &mut Vec<Patch>,
) {
    if !seen.insert(dir.to_path_buf()) {
        return;
    }
    let Some(text) = kustomization_file(dir).and_then(|f| std::fs::read_to_string(f).ok()) else {
        return;
    };
    let Some(k) = parse_yaml(&text) else { return };
    for field in ["resources", "bases", "components"] {
        for entry in strings(&k, field) {
            let path = normalize(&dir.join(entry));
            if path.is_dir() {
                collect_patches(&path, files, seen, patches);
            }
        }
    }
    let mut add = |path: &str, target: Option<&Node>| {
        let Some(file) = files.get(&normalize(&dir.join(path))) else {
            return;
        };
        let target_of = |key: &str| {
            target
                .and_then(|t| t.get(key))
                .and_then(Node::as_str)
                .map(str::to_owned)
        };
        for (doc, m) in files.read[file].2.manifests.iter().enumerate() {
            patches.push(Patch {
                file,
                doc,
                kind: target_of("kind").unwrap_or_else(|| m.kind.clone()),
                name: target_of("name")
                    .or_else(|| m.name.clone())
                    .unwrap_or_default(),
            });
        }
    };
    for entry in k.get("patches").and_then(Node::as_seq).unwrap_or(&[]) {
        if let Some(path) = entry.get("path").and_then(Node::as_str) {
            add(path, entry.get("target"));
        }
    }
    for path in strings(&k, "patchesStrategicMerge") {
        if !path.contains('\n') {
            add(path, None);
        }
    }
}

fn strings<'a>(node: &'a Node, field: &str) -> impl Iterator<Item = &'a str> {
    node.get(field)
        .and_then(Node::as_seq)
        .unwrap_or(&[])
        .iter()
        .filter_map(Node::as_str)
}

/// Gives a rendered object the source and positions of where it is written.
pub(super) fn place(
    m: &mut Manifest,
    origin: &Node,
    wrapper: &Path,
    patches: &[Patch],
    files: &mut Files,
) {
    let text = |key| origin.get(key).and_then(Node::as_str);
    if let Some(repo) = text("repo") {
        // A remote base: its files are not on this machine to point into.
        let file = format!(
            "{repo}//{}{}",
            text("path").unwrap_or_default(),
            text("ref").map(|r| format!("?ref={r}")).unwrap_or_default()
        );
        set_source(m, Arc::from(file.as_str()), 0, Pos { line: 1, col: 1 }, 1);
        rebase(&mut m.root, None, &[], Pos { line: 1, col: 1 });
        return;
    }
    if let Some(path) = text("path") {
        let Some(file) = files.get(&normalize(&wrapper.join(path))) else {
            return;
        };
        files.mark_used(file);
        let Some(doc) = written(&files.read[file].2.manifests, &m.kind, m.name.as_deref()) else {
            return;
        };
        let mut elsewhere: Vec<Arc<str>> = Vec::new();
        let mut layers = Vec::new();
        let mut used = Vec::new();
        for p in patches.iter().filter(|p| applies(p, m)) {
            let shown = files.read[p.file].0.clone();
            let k = match elsewhere.iter().position(|f| *f == shown) {
                Some(k) => k,
                None => {
                    elsewhere.push(shown);
                    elsewhere.len() - 1
                }
            };
            used.push(p.file);
            layers.push((p.file, p.doc, ELSEWHERE_LINES * (k as u32 + 1)));
        }
        let source = &files.read[file].2.manifests[doc];
        let layers: Vec<Layer<'_>> = layers
            .iter()
            .map(|&(f, d, line_offset)| Layer {
                node: &files.read[f].2.manifests[d].root,
                line_offset,
            })
            .collect();
        let start = Pos {
            line: source.source.line,
            col: 1,
        };
        rebase(&mut m.root, Some(&source.root), &layers, start);
        m.source = Source {
            elsewhere,
            ..source.source.clone()
        };
        for f in used {
            files.mark_used(f);
        }
        return;
    }
    if let Some(kustomization) = text("configuredIn") {
        // Made by a generator (configMapGenerator, secretGenerator): point at its entry.
        let Some(file) = files.get(&normalize(&wrapper.join(kustomization))) else {
            return;
        };
        files.mark_used(file);
        let (shown, text) = (files.read[file].0.clone(), &files.read[file].1);
        let pos = parse_yaml(text)
            .and_then(|k| generator_entry(&k, m.name.as_deref().unwrap_or_default()))
            .unwrap_or(Pos { line: 1, col: 1 });
        set_source(m, shown, 0, pos, pos.line);
        rebase(&mut m.root, None, &[], pos);
    }
}

fn set_source(m: &mut Manifest, file: Arc<str>, doc: usize, start: Pos, end_line: u32) {
    m.source = Source {
        file,
        doc,
        line: start.line,
        end_line,
        elsewhere: Vec::new(),
    };
}

/// The object of a file that became `kind`/`name` (kustomize may have added a prefix or a
/// suffix to the name): the same name, else the longest name inside it, else the only object
/// of that kind.
fn written(manifests: &[Manifest], kind: &str, name: Option<&str>) -> Option<usize> {
    let rendered = name.unwrap_or_default();
    let of_kind: Vec<usize> = (0..manifests.len())
        .filter(|&i| manifests[i].kind == kind)
        .collect();
    of_kind
        .iter()
        .copied()
        .find(|&i| manifests[i].name.as_deref() == Some(rendered))
        .or_else(|| {
            of_kind
                .iter()
                .copied()
                .filter(|&i| {
                    manifests[i]
                        .name
                        .as_deref()
                        .is_some_and(|n| !n.is_empty() && rendered.contains(n))
                })
                .max_by_key(|&i| manifests[i].name.as_ref().map_or(0, String::len))
        })
        .or_else(|| (of_kind.len() == 1).then(|| of_kind[0]))
}

fn applies(patch: &Patch, m: &Manifest) -> bool {
    patch.kind == m.kind
        && !patch.name.is_empty()
        && m.name.as_deref().is_some_and(|n| n.contains(&patch.name))
}

/// The `name:` of the generator entry that made the object `name` (generated names carry
/// the overlay's prefix and a content hash).
fn generator_entry(kustomization: &Node, name: &str) -> Option<Pos> {
    ["configMapGenerator", "secretGenerator"]
        .iter()
        .filter_map(|field| kustomization.get(field).and_then(Node::as_seq))
        .flatten()
        .filter_map(|entry| entry.entry("name"))
        .filter(|(_, v)| {
            v.as_str()
                .is_some_and(|n| !n.is_empty() && name.contains(n))
        })
        .max_by_key(|(_, v)| v.as_str().map_or(0, str::len))
        .map(|(k, _)| k.pos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_are_found_in_their_file_under_a_prefixed_or_suffixed_name() {
        let file = manifest::from_str(
            "base.yaml",
            "apiVersion: batch/v1\nkind: Job\nmetadata: {name: migrate}\n---\napiVersion: batch/v1\nkind: Job\nmetadata: {name: migrate-data}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\n",
        );
        let m = &file.manifests;
        assert_eq!(written(m, "Job", Some("migrate")), Some(0));
        assert_eq!(written(m, "Job", Some("staging-migrate-data-v2")), Some(1));
        assert_eq!(written(m, "Job", Some("staging-migrate")), Some(0));
        // The only ConfigMap, whatever a generator or transformer named it.
        assert_eq!(written(m, "ConfigMap", Some("other")), Some(2));
        assert_eq!(written(m, "Secret", Some("settings")), None);
    }

    #[test]
    fn generated_objects_point_at_their_generator_entry() {
        let k = parse_yaml(
            "configMapGenerator:\n  - name: limits\n    literals: [a=1]\n  - name: limits-extra\n    literals: [b=2]\n",
        )
        .unwrap();
        assert_eq!(
            generator_entry(&k, "prod-limits-extra-5f8k2"),
            Some(Pos { line: 4, col: 5 })
        );
        assert_eq!(
            generator_entry(&k, "prod-limits-gb2hggb9f2"),
            Some(Pos { line: 2, col: 5 })
        );
    }
}
