//! Rendering a Helm chart as Argo CD does: `helm template` with hooks kept and CRDs included.
//!
//! Positions: `helm template` heads each document with `# Source: CHART/templates/x.yaml`.
//! Objects are named by that template file (in the chart directory the user gave), and lines
//! count in the template's rendered text: the documents helm printed for it, joined by `---`,
//! without the lines helm added. Where the template has no directives that add or remove lines
//! above an object (most of `helm create`'s templates), these are the template's own lines;
//! elsewhere they are the lines of the rendered document, which is what lint quotes.

use super::{HelmOptions, Rendered, find_program, run};
use crate::manifest::{self, Loaded, Node};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

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
        manifest::parse_text(&file, &text, &mut loaded);
        loaded.texts.push((file, text));
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

fn parse_yaml(text: &str) -> Option<Node> {
    let mut options = serde_saphyr::Options::default();
    options.emit_comments = false;
    serde_saphyr::from_str_with_options::<Node>(text, options).ok()
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
}
