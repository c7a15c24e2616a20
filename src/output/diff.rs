//! What `diff` shows: a unified diff per object that would change (live against merged, as
//! `kubectl diff` labels its sides), the hooks that would run, and the same as JSON; or, for
//! `KUBECTL_EXTERNAL_DIFF`, two directories of files as kubectl writes them.

use crate::engine::diff::{Change, HookRun, ObjectDiff};
use serde_json::{Value, json};
use similar::TextDiff;
use std::path::Path;

/// kubectl's file name for an object: `<group>.<version>.<Kind>.<namespace>.<name>`.
pub fn file_name(d: &ObjectDiff) -> String {
    format!(
        "{}.{}.{}.{}",
        d.api_version.replace('/', "."),
        d.kind,
        d.namespace.as_deref().unwrap_or(""),
        d.name
    )
}

fn yaml(side: &Option<Value>) -> String {
    side.as_ref().map(super::to_yaml).unwrap_or_default()
}

/// The unified diff of one object, with `live/` and `merged/` headers.
pub fn unified(d: &ObjectDiff) -> String {
    let (before, after) = (yaml(&d.live), yaml(&d.merged));
    let name = file_name(d);
    TextDiff::from_lines(&before, &after)
        .unified_diff()
        .context_radius(3)
        .header(&format!("live/{name}"), &format!("merged/{name}"))
        .to_string()
}

/// Every difference, then what left the input but stays, then the hooks that would run.
pub fn render(diffs: &[ObjectDiff], hooks: &[HookRun], color: bool) -> String {
    let mut out = String::new();
    for d in diffs.iter().filter(|d| d.change.is_difference()) {
        let title = format!(
            "# {} {}/{}{}: {}",
            d.api_version,
            d.kind,
            d.name,
            d.namespace
                .as_deref()
                .map(|ns| format!(" in namespace {ns}"))
                .unwrap_or_default(),
            d.change.word()
        );
        out.push_str(&paint(color, "1", &title));
        out.push('\n');
        for line in unified(d).lines() {
            let code = match line.chars().next() {
                _ if line.starts_with("+++") || line.starts_with("---") => "1",
                Some('+') => "32",
                Some('-') => "31",
                Some('@') => "36",
                _ => "",
            };
            out.push_str(&paint(color, code, line));
            out.push('\n');
        }
    }
    for d in diffs.iter().filter(|d| d.change == Change::KeptNoPrune) {
        out.push_str(&format!(
            "# {} {}/{}: {}\n",
            d.api_version,
            d.kind,
            d.name,
            d.change.word()
        ));
    }
    for h in hooks {
        out.push_str(&format!(
            "# hook {} {}/{} ({} wave {}): would run\n",
            h.phase, h.kind, h.name, h.phase, h.wave
        ));
    }
    out
}

fn paint(color: bool, code: &str, text: &str) -> String {
    if color && !code.is_empty() {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_owned()
    }
}

/// One line for stderr: how many objects change in which way.
pub fn summary(diffs: &[ObjectDiff], hooks: &[HookRun]) -> String {
    let count = |c: Change| diffs.iter().filter(|d| d.change == c).count();
    format!(
        "{} changed, {} to be created, {} to be pruned, {} unchanged; {} hook(s) would run",
        count(Change::Modified),
        count(Change::Added),
        count(Change::ToBePruned),
        count(Change::Unchanged) + count(Change::KeptNoPrune),
        hooks.len()
    )
}

pub fn json(diffs: &[ObjectDiff], hooks: &[HookRun]) -> String {
    let objects: Vec<Value> = diffs
        .iter()
        .map(|d| {
            json!({
                "apiVersion": d.api_version,
                "kind": d.kind,
                "namespace": d.namespace,
                "name": d.name,
                "source": d.source,
                "change": d.change,
                "diff": if d.change.is_difference() { Some(unified(d)) } else { None },
                "live": d.live,
                "merged": d.merged,
            })
        })
        .collect();
    super::to_json(&json!({
        "differences": diffs.iter().any(|d| d.change.is_difference()),
        "objects": objects,
        "hooks": hooks,
    }))
}

/// Writes each object's sides as kubectl does for `KUBECTL_EXTERNAL_DIFF`: one file per object
/// in `live` (objects that exist) and in `merged` (objects the input keeps).
pub fn write_sides(diffs: &[ObjectDiff], live: &Path, merged: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(live)?;
    std::fs::create_dir_all(merged)?;
    for d in diffs {
        let name = file_name(d);
        if d.live.is_some() {
            std::fs::write(live.join(&name), yaml(&d.live))?;
        }
        if d.merged.is_some() {
            std::fs::write(merged.join(&name), yaml(&d.merged))?;
        }
    }
    Ok(())
}
