//! Rendering a kustomization as `kubectl apply -k` does, and naming, for every object, the
//! file and line where it is written inside the overlay or its bases.
//!
//! The user's kustomization is rendered through a generated one around it that asks kustomize
//! for origin annotations (`buildMetadata: [originAnnotations]`): each object then says which
//! file it came from (`config.kubernetes.io/origin`, a path relative to the generated
//! kustomization), or which kustomization's generator made it (`configuredIn`). That file is
//! read, the object found in it by kind and name, and every field given the position it has
//! there, or in the patch that set it. The annotation is removed before anything else sees the
//! object.

use super::origin::{Files, patches_of, place};
use super::{Rendered, find_program, parse_yaml, relative, run};
use crate::manifest::{self, Loaded, Node, node::Value};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

const ORIGIN: &str = "config.kubernetes.io/origin";

/// Renders the kustomization in `dir` (`shown` is how the user named it).
pub fn render(dir: &Path, shown: &str) -> Result<Rendered, String> {
    let root = std::fs::canonicalize(dir).map_err(|e| format!("{shown}: cannot read: {e}"))?;
    let (mut command, how) = if let Some(kustomize) = find_program("kustomize") {
        let mut c = Command::new(kustomize);
        c.arg("build");
        (c, "kustomize build")
    } else if let Some(kubectl) = find_program("kubectl") {
        let mut c = Command::new(kubectl);
        c.arg("kustomize");
        (c, "kubectl kustomize")
    } else {
        return Err(format!(
            "{shown}: cannot render the kustomization: neither kustomize nor kubectl is on PATH"
        ));
    };
    let wrapper = Wrapper::create(&root)?;
    command.arg(&wrapper.dir);
    let output = run(command, how).map_err(|message| {
        let message = message
            .replace(&wrapper.resource, shown)
            .replace(&wrapper.dir.to_string_lossy().into_owned(), "<generated>");
        format!("{shown}: `{how}` failed: {message}")
    })?;
    let label: Arc<str> = Arc::from(format!("{shown} (rendered by {how})").as_str());
    let mut rendered = Loaded::default();
    manifest::parse_text(&label, &output, &mut rendered);
    let mut files = Files::default();
    let patches = patches_of(&root, &mut files);
    let mut loaded = Loaded {
        errors: rendered.errors,
        ..Loaded::default()
    };
    for mut m in rendered.manifests {
        let origin = take_annotation(&mut m.root, ORIGIN).and_then(|text| parse_yaml(&text));
        if let Some(origin) = origin {
            place(&mut m, &origin, &wrapper.dir, &patches, &mut files);
        }
        loaded.manifests.push(m);
    }
    // Problems in the output, or objects whose origin could not be found, are told in the
    // rendered text's lines: keep it to quote.
    if !loaded.errors.is_empty() || loaded.manifests.iter().any(|m| m.source.file == label) {
        loaded.texts.push((label.clone(), output.clone()));
    }
    loaded.texts.extend(files.used());
    Ok(Rendered {
        loaded,
        how: format!("rendered with `{how}` (a kustomization)"),
    })
}

/// The generated kustomization around the user's, in a directory of its own (removed when
/// dropped). Kustomize refuses absolute resource paths, so the user's directory is named
/// relative to it.
struct Wrapper {
    dir: PathBuf,
    resource: String,
}

impl Wrapper {
    fn create(root: &Path) -> Result<Wrapper, String> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let temp = std::fs::canonicalize(std::env::temp_dir())
            .map_err(|e| format!("cannot use the temporary directory: {e}"))?;
        let dir = temp.join(format!(
            "kubectl-hooks-kustomize-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let wrapper = Wrapper {
            resource: relative(&dir, root).to_string_lossy().into_owned(),
            dir,
        };
        let text = format!(
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- {}\nbuildMetadata: [originAnnotations]\n",
            serde_json::to_string(&wrapper.resource).unwrap_or_default()
        );
        std::fs::write(wrapper.dir.join("kustomization.yaml"), text)
            .map_err(|e| format!("cannot write {}: {e}", wrapper.dir.display()))?;
        Ok(wrapper)
    }
}

impl Drop for Wrapper {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Removes an annotation (and an `annotations` mapping left empty), returning its value.
fn take_annotation(root: &mut Node, key: &str) -> Option<String> {
    let Value::Map(top) = &mut root.value else {
        return None;
    };
    let (_, metadata) = top.iter_mut().find(|(k, _)| k.name == "metadata")?;
    let Value::Map(fields) = &mut metadata.value else {
        return None;
    };
    let at = fields.iter().position(|(k, _)| k.name == "annotations")?;
    let Value::Map(annotations) = &mut fields[at].1.value else {
        return None;
    };
    let i = annotations.iter().position(|(k, _)| k.name == key)?;
    let (_, value) = annotations.remove(i);
    if annotations.is_empty() {
        fields.remove(at);
    }
    value.as_str().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_origin_annotation_is_taken_out_and_an_emptied_mapping_with_it() {
        let mut m = manifest::from_str(
            "x.yaml",
            "apiVersion: v1\nkind: A\nmetadata:\n  name: a\n  annotations:\n    config.kubernetes.io/origin: |\n      path: base/a.yaml\n",
        )
        .manifests
        .remove(0);
        assert_eq!(
            take_annotation(&mut m.root, ORIGIN).as_deref(),
            Some("path: base/a.yaml\n")
        );
        assert!(m.root.path(&["metadata", "annotations"]).is_none());
        let mut kept = manifest::from_str(
            "x.yaml",
            "apiVersion: v1\nkind: A\nmetadata:\n  name: a\n  annotations:\n    a: b\n    config.kubernetes.io/origin: 'path: a.yaml'\n",
        )
        .manifests
        .remove(0);
        take_annotation(&mut kept.root, ORIGIN);
        let annotations = kept.root.path(&["metadata", "annotations"]).unwrap();
        assert_eq!(annotations.as_map().unwrap().len(), 1);
    }
}
