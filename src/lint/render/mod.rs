//! The four ways to print a report: compiler-style text for people, JSON for programs, SARIF
//! for code-scanning upload, and GitHub workflow commands for annotations in a pull request.

mod github;
mod json;
mod mask;
mod sarif;
mod text;

pub use github::github;
pub use json::json;
pub use sarif::sarif;
pub use text::text;

use super::Severity;

/// "3 errors, 1 warning, 2 info" (only the severities present), or None when there is nothing.
pub fn counts(report: &super::Report) -> Option<String> {
    let parts: Vec<String> = [
        (Severity::Error, "error", "errors"),
        (Severity::Warning, "warning", "warnings"),
        (Severity::Info, "info", "info"),
    ]
    .iter()
    .filter_map(|(s, one, many)| match report.count(*s) {
        0 => None,
        1 => Some(format!("1 {one}")),
        n => Some(format!("{n} {many}")),
    })
    .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}
