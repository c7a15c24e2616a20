//! Reading the manifests a command was given, and refusing bad input before anything happens.
//! Kustomizations and Helm charts are rendered first, as Argo CD renders them.

use super::{ClusterArgs, Failure, InputArgs};
use crate::manifest::{self, InputSpec, Loaded};
use crate::render::{self, DirectoryKind, HelmOptions};
use std::io::IsTerminal;
use std::path::Path;

/// Reads `-f` inputs (rendering kustomizations and charts), or the `-k` kustomization, or
/// stdin when nothing is named and stdin is not a terminal. Input errors are returned inside
/// `Loaded` for the caller to report (lint reports them as findings; the other commands
/// refuse). A source that cannot be rendered is refused at once (exit 2).
pub fn read_input(args: &InputArgs, cluster: &ClusterArgs) -> Result<Loaded, Failure> {
    let mut loaded = Loaded::default();
    let mut charts = 0usize;
    if let Some(dir) = &args.kustomize {
        if !Path::new(dir).is_dir() || render::kustomization_file(Path::new(dir)).is_none() {
            return Err(Failure::bad_input(format!(
                "{dir}: -k needs a directory with a kustomization.yaml, kustomization.yml or Kustomization"
            )));
        }
        loaded.append(rendered(
            render::kustomize::render(Path::new(dir), dir),
            dir,
        )?);
    } else {
        let mut filenames = args.filenames.clone();
        if filenames.is_empty() {
            if std::io::stdin().is_terminal() {
                return Err(Failure::bad_input(
                    "no input: give manifests with -f PATH (a file, a directory, or - for stdin) or -k DIR, or pipe them in",
                ));
            }
            filenames.push("-".into());
        }
        // Plain inputs next to each other are read together (one stdin, one set of walked
        // directories); rendered ones in their place.
        let mut plain: Vec<String> = Vec::new();
        for name in filenames {
            let path = Path::new(&name);
            let kind = if name != "-" && path.is_dir() {
                render::directory_kind(path)
            } else {
                DirectoryKind::Plain
            };
            if kind == DirectoryKind::Plain {
                plain.push(name);
                continue;
            }
            read_plain(&mut plain, args.recursive, &mut loaded);
            let result = match kind {
                DirectoryKind::Kustomization => render::kustomize::render(path, &name),
                _ => {
                    charts += 1;
                    render::helm::render(path, &name, &helm_options(args, cluster))
                }
            };
            loaded.append(rendered(result, &name)?);
        }
        read_plain(&mut plain, args.recursive, &mut loaded);
    }
    if charts == 0 && args.helm.is_given() {
        return Err(Failure::bad_input(
            "--release, --values, --set and --set-string are for Helm charts: give a chart directory (one with Chart.yaml) with -f",
        ));
    }
    if loaded.manifests.is_empty() && loaded.errors.is_empty() && loaded.notes.is_empty() {
        return Err(Failure::bad_input("the input holds no Kubernetes objects"));
    }
    Ok(loaded)
}

fn read_plain(names: &mut Vec<String>, recursive: bool, loaded: &mut Loaded) {
    if names.is_empty() {
        return;
    }
    let spec = InputSpec {
        filenames: std::mem::take(names),
        recursive,
    };
    loaded.append(manifest::load(&spec, &mut std::io::stdin().lock()));
}

fn helm_options(args: &InputArgs, cluster: &ClusterArgs) -> HelmOptions {
    HelmOptions {
        release: args.helm.release.clone(),
        values: args.helm.values.clone(),
        set: args.helm.set.clone(),
        set_string: args.helm.set_string.clone(),
        namespace: super::offline_namespace(cluster),
    }
}

/// A rendered source, with a note on stderr saying how it was rendered; a render error is
/// bad input (exit 2), with the renderer's own message.
fn rendered(result: Result<render::Rendered, String>, name: &str) -> Result<Loaded, Failure> {
    match result {
        Ok(r) => {
            eprintln!("note: {name}: {}", r.how);
            Ok(r.loaded)
        }
        Err(message) => Err(Failure::bad_input(format!("{message}\nnothing was done"))),
    }
}

/// For commands that act on the input: files left out are noted, every error is printed, and
/// the command stops with exit code 2 before doing anything.
pub fn refuse_errors(loaded: &Loaded) -> Result<(), Failure> {
    for note in &loaded.notes {
        eprintln!("note: {note}");
    }
    if loaded.errors.is_empty() {
        if loaded.manifests.is_empty() {
            return Err(Failure::bad_input("the input holds no Kubernetes objects"));
        }
        return Ok(());
    }
    let n = loaded.errors.len();
    Err(Failure::bad_input(format!(
        "{n} {} in the input; nothing was done",
        if n == 1 { "problem" } else { "problems" }
    ))
    .with_details(loaded.errors.iter().map(ToString::to_string).collect()))
}

/// For commands that act on the input: an object defined twice is refused (exit 2), naming both
/// places. Applied together, the two copies would race and either could win. Objects without a
/// namespace count as in `default_namespace`, as they would be applied there.
pub fn refuse_duplicates(loaded: &Loaded, default_namespace: &str) -> Result<(), Failure> {
    let pairs = crate::plan::duplicates(&loaded.manifests, default_namespace);
    if pairs.is_empty() {
        return Ok(());
    }
    for (first, again) in &pairs {
        let (first, again) = (&loaded.manifests[*first], &loaded.manifests[*again]);
        let namespace = crate::plan::effective_namespace(again, default_namespace);
        let at = if namespace.is_empty() {
            String::new()
        } else {
            format!(" in namespace {namespace:?}")
        };
        eprintln!(
            "error: {}: {} {:?}{at} is defined twice: at {} and at {}",
            again.source,
            again.kind,
            again.display_name(),
            first.source,
            again.source
        );
    }
    let n = pairs.len();
    Err(Failure::bad_input(format!(
        "{n} {} defined twice in the input; nothing was done",
        if n == 1 { "object is" } else { "objects are" }
    )))
}
