//! `-o json`: `{"findings": [...], "summary": {...}}`.

use crate::lint::{Report, Severity};
use serde_json::json;

pub fn json(report: &Report) -> String {
    let findings: Vec<serde_json::Value> = report
        .findings
        .iter()
        .map(|f| {
            json!({
                "rule": f.rule.id,
                "severity": f.severity(),
                "file": &*f.file,
                "line": f.pos.line,
                "column": f.pos.col,
                "object": f.object,
                "message": f.message,
                "suggestion": f.suggestion,
            })
        })
        .collect();
    let document = json!({
        "findings": findings,
        "summary": {
            "errors": report.count(Severity::Error),
            "warnings": report.count(Severity::Warning),
            "info": report.count(Severity::Info),
            "silenced": report.silenced,
            "objects": report.objects,
            "files": report.files,
        },
    });
    crate::output::to_json(&document)
}
