//! `-o text`: compiler-style diagnostics with the source line and a marker under the place.
//!
//! ```text
//! warning[misspelt-annotation-key]: annotation key "..." is not one Argo CD reads ...
//!  --> deploy/job.yaml:9:5
//!   |
//! 9 |     argocd.argoproj.io/hook-deletion-policy: HookSucceeded
//!   |     ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
//!   = object: agents/Job/db-migration
//!   = help: rename it to `argocd.argoproj.io/hook-delete-policy`
//! ```

use super::mask::SourceLines;
use crate::lint::{Finding, Report, Severity};
use std::collections::HashMap;
use std::fmt::Write;
use std::sync::Arc;

struct Style {
    color: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
    fn severity(&self, s: Severity, text: &str) -> String {
        let code = match s {
            Severity::Error => "1;31",
            Severity::Warning => "1;33",
            Severity::Info => "1;36",
        };
        self.paint(code, text)
    }
    fn gutter(&self, text: &str) -> String {
        self.paint("1;34", text)
    }
    fn bold(&self, text: &str) -> String {
        self.paint("1", text)
    }
}

/// Each file's lines, split when the first finding in it is printed.
struct Sources<'a> {
    texts: HashMap<&'a str, &'a str>,
    files: HashMap<&'a str, SourceLines<'a>>,
}

impl<'a> Sources<'a> {
    /// The line, with Secret values masked.
    fn printable(&mut self, file: &'a str, line: u32) -> Option<String> {
        let text = *self.texts.get(file)?;
        self.files
            .entry(file)
            .or_insert_with(|| SourceLines::new(text))
            .printable(line)
    }
}

/// How many characters the marker covers: a quoted token, or a key up to its colon, or a word.
fn token_width(rest: &str) -> usize {
    let mut chars = rest.chars();
    match chars.next() {
        None => 1,
        Some(q @ ('"' | '\'')) => rest[1..]
            .find(q)
            .map_or(rest.chars().count(), |end| rest[..end + 2].chars().count()),
        Some(_) => {
            let bytes = rest.as_bytes();
            let mut end = rest.len();
            for (i, c) in rest.char_indices() {
                let key_end = c == ':' && bytes.get(i + 1).is_none_or(|b| *b == b' ');
                if key_end || c.is_whitespace() || c == ',' || c == '}' || c == ']' {
                    end = i;
                    break;
                }
            }
            rest[..end].chars().count().max(1)
        }
    }
}

fn snippet(out: &mut String, style: &Style, f: &Finding, source: &str, pad: &str) {
    let number = f.pos.line.to_string();
    let start = (f.pos.col as usize).saturating_sub(1);
    // Keep tabs as tabs before the marker, so it lines up under the same characters.
    let prefix: String = source
        .chars()
        .take(start)
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    let rest: String = source.chars().skip(start).collect();
    let marker = "^".repeat(token_width(&rest));
    let bar = style.gutter("|");
    let _ = writeln!(out, "{pad} {bar}");
    let _ = writeln!(out, "{} {bar} {source}", style.gutter(&number));
    let _ = writeln!(
        out,
        "{pad} {bar} {prefix}{}",
        style.severity(f.severity(), &marker)
    );
}

pub fn text(report: &Report, texts: &[(Arc<str>, String)], color: bool) -> String {
    let style = Style { color };
    let mut sources = Sources {
        texts: texts.iter().map(|(f, t)| (&**f, t.as_str())).collect(),
        files: HashMap::new(),
    };
    let mut out = String::new();
    for f in &report.findings {
        let severity = f.severity();
        let _ = writeln!(
            out,
            "{}{} {}",
            style.severity(severity, &format!("{severity}[{}]", f.rule.id)),
            style.bold(":"),
            style.bold(&f.message)
        );
        let width = f.pos.line.to_string().len();
        let pad = " ".repeat(width);
        let _ = writeln!(
            out,
            "{pad}{} {}:{}:{}",
            style.gutter("-->"),
            f.file,
            f.pos.line,
            f.pos.col
        );
        if let Some(source) = sources.printable(&f.file, f.pos.line) {
            snippet(&mut out, &style, f, &source, &pad);
        }
        let eq = style.gutter("=");
        if let Some(object) = &f.object {
            let _ = writeln!(out, "{pad} {eq} object: {object}");
        }
        if let Some(help) = &f.suggestion {
            let _ = writeln!(out, "{pad} {eq} {} {help}", style.bold("help:"));
        }
        out.push('\n');
    }
    let checked = format!(
        "{} {} in {} {} checked",
        report.objects,
        if report.objects == 1 {
            "object"
        } else {
            "objects"
        },
        report.files,
        if report.files == 1 { "file" } else { "files" },
    );
    let silenced = match report.silenced {
        0 => String::new(),
        n => format!(", {n} silenced"),
    };
    if !report.findings.is_empty() {
        let _ = writeln!(
            out,
            "{} see a rule's documentation with --explain RULE; silence it with --disable RULE, or for one object with the annotation {}: \"RULE\"",
            style.bold("note:"),
            crate::lint::DISABLE_ANNOTATION
        );
    }
    let summary = match super::counts(report) {
        Some(counts) => {
            let worst = report
                .findings
                .iter()
                .map(|f| f.severity())
                .max()
                .unwrap_or(Severity::Info);
            format!(
                "{}: {counts} ({checked}{silenced})",
                style.severity(worst, "lint")
            )
        }
        None => format!("lint: no problems found ({checked}{silenced})"),
    };
    out.push_str(&summary);
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::token_width;

    #[test]
    fn marker_widths() {
        assert_eq!(token_width("argocd.argoproj.io/hook: PreSync"), 23);
        assert_eq!(token_width("\"a: b\": c"), 6);
        assert_eq!(token_width("name: x"), 4);
        assert_eq!(token_width("http://x: y"), 8);
        assert_eq!(token_width(""), 1);
    }
}
