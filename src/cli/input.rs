//! Reading the manifests a command was given, and refusing bad input before anything happens.

use super::{Failure, InputArgs};
use crate::manifest::{self, InputSpec, Loaded};
use std::io::IsTerminal;

/// Reads `-f` inputs, or stdin when nothing is named and stdin is not a terminal.
/// Input errors are returned inside `Loaded` for the caller to report (lint reports them as
/// findings; the other commands refuse).
pub fn read_input(args: &InputArgs) -> Result<Loaded, Failure> {
    let mut filenames = args.filenames.clone();
    if filenames.is_empty() {
        if std::io::stdin().is_terminal() {
            return Err(Failure::bad_input(
                "no input: give manifests with -f PATH (a file, a directory, or - for stdin), or pipe them in",
            ));
        }
        filenames.push("-".into());
    }
    let spec = InputSpec {
        filenames,
        recursive: args.recursive,
    };
    let loaded = manifest::load(&spec, &mut std::io::stdin().lock());
    if loaded.manifests.is_empty() && loaded.errors.is_empty() {
        return Err(Failure::bad_input("the input holds no Kubernetes objects"));
    }
    Ok(loaded)
}

/// For commands that act on the input: every error is printed, and the command stops with
/// exit code 2 before doing anything.
pub fn refuse_errors(loaded: &Loaded) -> Result<(), Failure> {
    if loaded.errors.is_empty() {
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
