//! `kubectl hooks lint`: what Argo CD would silently do with each mistake in the manifests,
//! said out loud. Rules are small functions with a stable id, a default severity, a message
//! naming Argo CD's behaviour, the exact place, and a suggested fix (`rules.rs` documents each).
//! Pure: no cluster, no terminal; `render` turns a `Report` into text, JSON, SARIF or GitHub
//! workflow commands.

mod annotations;
mod input;
mod objects;
mod ordering;
pub mod render;
pub mod rules;
mod suggest;

pub use rules::{RULES, Rule};

use crate::manifest::{Loaded, Manifest, Pos};
use crate::model::SyncSpec;
use serde::Serialize;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

/// The annotation that silences rules for one object: `kubectl-hooks.io/lint-disable:
/// "rule-a,rule-b"`.
pub const DISABLE_ANNOTATION: &str = "kubectl-hooks.io/lint-disable";
/// This project's own annotation prefix.
pub const OWN_PREFIX: &str = "kubectl-hooks.io/";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem, at one place.
#[derive(Debug, Clone)]
pub struct Finding {
    pub rule: &'static Rule,
    /// The file as the user named it.
    pub file: Arc<str>,
    pub pos: Pos,
    /// `Kind/name`, or `namespace/Kind/name` when the object names its namespace; None for
    /// problems that belong to no object (a YAML syntax error).
    pub object: Option<String>,
    pub message: String,
    pub suggestion: Option<String>,
}

impl Finding {
    pub fn severity(&self) -> Severity {
        self.rule.severity
    }
}

/// Everything lint found.
#[derive(Debug, Default)]
pub struct Report {
    /// In input order: by file as read, then line, then column.
    pub findings: Vec<Finding>,
    /// Objects checked.
    pub objects: usize,
    /// Files (or stdin) read.
    pub files: usize,
    /// Findings silenced by `--disable` or the lint-disable annotation.
    pub silenced: usize,
}

impl Report {
    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity() == severity)
            .count()
    }

    /// Whether any finding is at `threshold` or worse.
    pub fn reaches(&self, threshold: Severity) -> bool {
        self.findings.iter().any(|f| f.severity() >= threshold)
    }
}

pub struct Options<'a> {
    /// Namespace of namespaced objects that name none (for duplicates and references).
    pub default_namespace: &'a str,
    /// Rule ids turned off for this run (`--disable`); must be known ids.
    pub disabled: &'a [String],
}

/// The label of an object in messages: `Kind/name`, with the namespace in front when the
/// object names one (and its kind has namespaces).
pub fn object_label(m: &Manifest) -> String {
    match &m.namespace {
        Some(ns) if crate::plan::offline_is_namespaced(m) => {
            format!("{ns}/{}/{}", m.kind, m.display_name())
        }
        _ => format!("{}/{}", m.kind, m.display_name()),
    }
}

/// One object and what its annotations mean, as the rules see it.
pub struct Object<'a> {
    pub index: usize,
    pub m: &'a Manifest,
    pub spec: &'a SyncSpec,
}

impl Object<'_> {
    /// Where a field is, or the object's first line when it is absent.
    pub fn at(&self, path: &[&str]) -> Pos {
        self.m.position_of(path)
    }
    pub fn first_line(&self) -> Pos {
        Pos {
            line: self.m.source.line,
            col: 1,
        }
    }
}

/// Collects findings, dropping those the run or the object silenced.
pub struct Sink<'a> {
    disabled: &'a [String],
    /// Per object: the rules its lint-disable annotation names.
    object_disabled: Vec<Vec<&'a str>>,
    findings: Vec<Finding>,
    silenced: usize,
}

impl<'a> Sink<'a> {
    fn new(disabled: &'a [String], manifests: &'a [Manifest]) -> Sink<'a> {
        let object_disabled = manifests
            .iter()
            .map(|m| {
                crate::model::csv::items(m.annotation(DISABLE_ANNOTATION).map(|(v, _)| v)).collect()
            })
            .collect();
        Sink {
            disabled,
            object_disabled,
            findings: Vec::new(),
            silenced: 0,
        }
    }

    fn is_silenced(&self, rule: &Rule, object: Option<usize>) -> bool {
        self.disabled.iter().any(|d| d == rule.id)
            || object.is_some_and(|i| self.object_disabled[i].contains(&rule.id))
    }

    /// A finding about an object.
    pub fn object(
        &mut self,
        rule: &'static Rule,
        o: &Object,
        pos: Pos,
        message: String,
        suggestion: Option<String>,
    ) {
        if self.is_silenced(rule, Some(o.index)) {
            self.silenced += 1;
            return;
        }
        // A field a kustomize patch set is in the patch's file, not the object's.
        let (file, pos) = o.m.source.locate(pos);
        self.findings.push(Finding {
            rule,
            file,
            pos,
            object: Some(object_label(o.m)),
            message,
            suggestion,
        });
    }

    /// A finding that belongs to no object (or to an object that failed to load).
    pub fn input(
        &mut self,
        rule: &'static Rule,
        file: &Arc<str>,
        pos: Pos,
        object: Option<usize>,
        message: String,
        suggestion: Option<String>,
    ) {
        if self.is_silenced(rule, object) {
            self.silenced += 1;
            return;
        }
        self.findings.push(Finding {
            rule,
            file: file.clone(),
            pos,
            object: None,
            message,
            suggestion,
        });
    }
}

/// Lints everything that was read. Input errors that are not fatal (syntax, missing fields,
/// non-string values) become findings; the objects that did load are checked in full.
pub fn check(loaded: &Loaded, options: &Options) -> Report {
    let manifests = &loaded.manifests;
    let specs: Vec<SyncSpec> = manifests.iter().map(SyncSpec::of).collect();
    let mut sink = Sink::new(options.disabled, manifests);

    input::check(loaded, &mut sink);
    for (index, (m, spec)) in manifests.iter().zip(&specs).enumerate() {
        let o = Object { index, m, spec };
        annotations::check(&o, &mut sink);
        objects::check(&o, &mut sink);
    }
    objects::duplicates(manifests, options.default_namespace, &mut sink);
    ordering::check(manifests, &specs, options.default_namespace, &mut sink);

    let mut findings = sink.findings;
    let file_order: HashMap<&str, usize> = loaded
        .texts
        .iter()
        .enumerate()
        .map(|(i, (file, _))| (&**file, i))
        .collect();
    findings.sort_by(|a, b| {
        let fa = file_order.get(&*a.file).copied().unwrap_or(usize::MAX);
        let fb = file_order.get(&*b.file).copied().unwrap_or(usize::MAX);
        (fa, &a.file, a.pos, a.rule.id).cmp(&(fb, &b.file, b.pos, b.rule.id))
    });
    Report {
        findings,
        objects: manifests.len(),
        files: loaded.texts.len(),
        silenced: sink.silenced,
    }
}

#[cfg(test)]
mod tests;
