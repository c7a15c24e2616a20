//! `-o sarif`: SARIF 2.1.0, as GitHub code scanning takes it
//! (https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html).

use crate::lint::{RULES, Report, Severity};
use serde_json::json;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
const FALLBACK_URI: &str = "https://github.com/kubectl-hooks/kubectl-hooks";

fn information_uri() -> &'static str {
    match env!("CARGO_PKG_REPOSITORY") {
        "" => FALLBACK_URI,
        uri => uri,
    }
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// A file as the user named it, as a URI reference: relative paths stay relative (GitHub
/// resolves them against the repository), with `/` separators and reserved bytes escaped.
pub fn uri(file: &str) -> String {
    if file == "<stdin>" {
        return "stdin".to_owned();
    }
    let path = file.replace('\\', "/");
    let path = path.trim_start_matches("./");
    let mut out = String::with_capacity(path.len());
    if path.starts_with('/') {
        out.push_str("file://");
    }
    for b in path.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

pub fn sarif(report: &Report) -> String {
    let rules: Vec<serde_json::Value> = RULES
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "name": r.id,
                "shortDescription": { "text": r.summary },
                "fullDescription": { "text": r.argo.replace('\n', " ") },
                "help": {
                    "text": r.explain(),
                    "markdown": format!(
                        "{}\n\n**What Argo CD does:** {}\n\n```yaml\n{}\n```\n\n**Fix:** {}",
                        r.summary,
                        r.argo.replace('\n', " "),
                        r.example,
                        r.fix.replace('\n', " ")
                    ),
                },
                "defaultConfiguration": { "level": level(r.severity) },
                "properties": { "tags": ["argo-cd", "kubernetes"] },
            })
        })
        .collect();
    let results: Vec<serde_json::Value> = report
        .findings
        .iter()
        .map(|f| {
            let mut text = f.message.clone();
            if let Some(help) = &f.suggestion {
                text.push_str("\nhelp: ");
                text.push_str(help);
            }
            let mut result = json!({
                "ruleId": f.rule.id,
                "ruleIndex": RULES.iter().position(|r| r.id == f.rule.id),
                "level": level(f.severity()),
                "message": { "text": text },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": uri(&f.file) },
                        "region": { "startLine": f.pos.line, "startColumn": f.pos.col },
                    },
                }],
            });
            if let Some(object) = &f.object {
                result["locations"][0]["logicalLocations"] =
                    json!([{ "fullyQualifiedName": object, "kind": "resource" }]);
            }
            result
        })
        .collect();
    let document = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "kubectl-hooks",
                    "version": env!("CARGO_PKG_VERSION"),
                    "informationUri": information_uri(),
                    "rules": rules,
                },
            },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    });
    crate::output::to_json(&document)
}

#[cfg(test)]
mod tests {
    use super::uri;

    #[test]
    fn uris() {
        assert_eq!(uri("./deploy/app.yaml"), "deploy/app.yaml");
        assert_eq!(uri("my dir/a.yaml"), "my%20dir/a.yaml");
        assert_eq!(uri("/abs/a.yaml"), "file:///abs/a.yaml");
        assert_eq!(uri("../shared/x.yaml"), "../shared/x.yaml");
        assert_eq!(uri("<stdin>"), "stdin");
    }
}
