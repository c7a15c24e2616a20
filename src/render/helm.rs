//! Rendering a Helm chart as Argo CD does: `helm template` with hooks kept and CRDs included.
//!
//! Positions: `helm template` heads each document with `# Source: CHART/templates/x.yaml`.
//! Objects are named by that template file (in the chart directory the user gave), with lines
//! of the template itself: each rendered line is matched, in order, with the same line of the
//! template (within the same document); a line a directive produced (an `include`, a value
//! spread over several lines) gets the line of the template where the matching stopped, which
//! is the directive's line or the one just before it.

use super::{HelmOptions, Rendered, find_program, parse_yaml, run};
use crate::manifest::{self, Loaded, Node};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

/// The chart's name from its Chart.yaml (`helm template`'s default release name here), if it
/// can be read.
pub fn chart_name(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join("Chart.yaml")).ok()?;
    parse_yaml(&text)?.get("name")?.as_str().map(str::to_owned)
}

/// Renders the chart in `dir` (`shown` is how the user named it).
pub fn render(dir: &Path, shown: &str, options: &HelmOptions) -> Result<Rendered, String> {
    let Some(helm) = find_program("helm") else {
        return Err(format!(
            "{shown} is a Helm chart (it has Chart.yaml), but helm is not on PATH: install helm \
             (https://helm.sh/docs/intro/install/) to render it as Argo CD does"
        ));
    };
    let chart_text = std::fs::read_to_string(dir.join("Chart.yaml"))
        .map_err(|e| format!("{shown}/Chart.yaml: cannot read: {e}"))?;
    let chart =
        parse_yaml(&chart_text).ok_or_else(|| format!("{shown}/Chart.yaml: not valid YAML"))?;
    let name = chart
        .get("name")
        .and_then(Node::as_str)
        .ok_or_else(|| format!("{shown}/Chart.yaml: the chart has no name"))?;
    let missing = missing_dependencies(&chart, dir);
    if !missing.is_empty() {
        return Err(missing_dependencies_message(shown, &missing.join(", ")));
    }
    let release = options.release.clone().unwrap_or_else(|| name.to_owned());
    let mut command = Command::new(helm);
    command
        .arg("template")
        .arg(&release)
        .arg(dir)
        .arg("--include-crds")
        .arg("--namespace")
        .arg(&options.namespace);
    for (flag, values) in [
        ("--values", &options.values),
        ("--set", &options.set),
        ("--set-string", &options.set_string),
    ] {
        for value in values {
            command.arg(flag).arg(value);
        }
    }
    let output = run(command, "helm template").map_err(|message| {
        if message.contains("helm dependency build") || message.contains("missing in charts/") {
            missing_dependencies_message(shown, &message)
        } else {
            format!("{shown}: `helm template` failed: {message}")
        }
    })?;
    let mut loaded = Loaded::default();
    for (template, text) in by_template(&output) {
        let file: Arc<str> = Arc::from(template_path(shown, template.as_deref()).as_str());
        let mut part = Loaded::default();
        manifest::parse_text(&file, &text, &mut part);
        let source = template
            .as_deref()
            .and_then(|t| t.split_once('/'))
            .and_then(|(_, inside)| std::fs::read_to_string(dir.join(inside)).ok());
        match source {
            Some(source) => {
                let lines = template_lines(&text, &source);
                let map = |line: u32| lines.get(line as usize).copied().unwrap_or(line);
                for m in &mut part.manifests {
                    m.root.map_lines(&map);
                    m.source.line = map(m.source.line);
                    m.source.end_line = map(m.source.end_line);
                }
                for e in &mut part.errors {
                    if let Some(pos) = &mut e.pos {
                        pos.line = map(pos.line);
                    }
                }
                loaded.append(part);
                loaded.texts.push((file, source));
            }
            None => {
                loaded.append(part);
                loaded.texts.push((file, text));
            }
        }
    }
    Ok(Rendered {
        loaded,
        how: format!(
            "rendered with `helm template` (a Helm chart; release \"{release}\", namespace \"{}\")",
            options.namespace
        ),
    })
}

fn missing_dependencies_message(shown: &str, detail: &str) -> String {
    format!(
        "{shown}: the chart's dependencies are not in its charts/ directory ({detail}): run \
         `helm dependency build {shown}` first"
    )
}

/// The dependencies Chart.yaml lists that are in charts/ neither as a directory nor as an
/// archive (`NAME-VERSION.tgz`).
fn missing_dependencies(chart: &Node, dir: &Path) -> Vec<String> {
    let present: Vec<String> = std::fs::read_dir(dir.join("charts"))
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    chart
        .get("dependencies")
        .and_then(Node::as_seq)
        .unwrap_or(&[])
        .iter()
        .filter_map(|d| d.get("name").and_then(Node::as_str))
        .filter(|name| {
            !present
                .iter()
                .any(|p| p == name || (p.starts_with(&format!("{name}-")) && p.ends_with(".tgz")))
        })
        .map(str::to_owned)
        .collect()
}

/// The documents of helm's output grouped by the template that made them, in the order
/// helm printed them, each group's documents joined by `---` without helm's own header lines.
fn by_template(output: &str) -> Vec<(Option<String>, String)> {
    let mut groups: Vec<(Option<String>, String)> = Vec::new();
    let mut current: Option<usize> = None;
    let mut at_start = true;
    for line in output.split_inclusive('\n') {
        let bare = line.trim_end_matches(['\n', '\r']);
        if bare == "---" {
            current = None;
            at_start = true;
            continue;
        }
        if at_start && let Some(template) = bare.strip_prefix("# Source: ") {
            let template = Some(template.trim().to_owned());
            current = Some(match groups.iter().position(|(t, _)| *t == template) {
                Some(i) => {
                    groups[i].1.push_str("---\n");
                    i
                }
                None => {
                    groups.push((template, String::new()));
                    groups.len() - 1
                }
            });
            at_start = false;
            continue;
        }
        at_start = false;
        let i =
            *current.get_or_insert_with(|| match groups.iter().position(|(t, _)| t.is_none()) {
                Some(i) => {
                    groups[i].1.push_str("---\n");
                    i
                }
                None => {
                    groups.push((None, String::new()));
                    groups.len() - 1
                }
            });
        groups[i].1.push_str(line);
    }
    groups
}

/// For each line of a template's rendered text (1-based; index 0 unused), the template line
/// it came from: the next line of the same document that reads the same (trailing spaces
/// aside), else the line after the last one matched (where the directive that made it is).
fn template_lines(rendered: &str, template: &str) -> Vec<u32> {
    let template: Vec<&str> = template.lines().map(str::trim_end).collect();
    let is_separator = |line: &str| line == "---" || line.starts_with("--- ");
    let mut map = vec![0u32];
    // The template line (0-based) matching resumes at.
    let mut cursor = 0usize;
    for line in rendered.lines().map(str::trim_end) {
        let document_end = (cursor..template.len())
            .find(|&j| is_separator(template[j]))
            .unwrap_or(template.len());
        let found = if is_separator(line) {
            (document_end < template.len()).then_some(document_end)
        } else {
            (cursor..document_end).find(|&j| template[j] == line && !line.trim().is_empty())
        };
        match found {
            Some(j) => {
                map.push(j as u32 + 1);
                cursor = j + 1;
            }
            None => map.push((cursor + 1).min(template.len().max(1)) as u32),
        }
    }
    map
}

/// `CHART/templates/x.yaml` as the file in the chart directory the user named.
fn template_path(shown: &str, template: Option<&str>) -> String {
    match template.and_then(|t| t.split_once('/')) {
        Some((_, inside)) => Path::new(shown).join(inside).to_string_lossy().into_owned(),
        None => format!("{shown} (rendered by helm template)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_grouped_by_template_without_helm_headers() {
        let output = "---\n# Source: app/templates/a.yaml\nkind: A\n---\n# Source: app/templates/b.yaml\nkind: B\n---\n# Source: app/templates/a.yaml\nkind: A2\n";
        let groups = by_template(output);
        assert_eq!(
            groups,
            [
                (
                    Some("app/templates/a.yaml".to_owned()),
                    "kind: A\n---\nkind: A2\n".to_owned()
                ),
                (
                    Some("app/templates/b.yaml".to_owned()),
                    "kind: B\n".to_owned()
                ),
            ]
        );
        assert_eq!(
            template_path("charts/app", Some("app/templates/a.yaml")),
            "charts/app/templates/a.yaml"
        );
    }

    #[test]
    fn rendered_lines_are_told_in_the_template_s_lines() {
        let template = "{{- if .Values.on }}\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n  labels:\n    {{- include \"labels\" . | nindent 4 }}\n  annotations:\n    a: b\n{{- end }}\n---\nkind: B\n";
        let rendered = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n  labels:\n    x: 1\n    y: 2\n  annotations:\n    a: b\n---\nkind: B\n";
        let lines = template_lines(rendered, template);
        // apiVersion on line 2 (after the `if`), the name's line though its value was
        // rendered, the two label lines at the include's line 7, `a: b` on line 9, and the
        // second document in the second document.
        assert_eq!(&lines[1..], [2, 3, 4, 5, 6, 7, 7, 8, 9, 11, 12]);
    }
}
