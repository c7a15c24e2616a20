//! What `cleanup` shows: every hook object found, what it is, and what cleanup does with it
//! and why (a table, or the same as JSON).

use super::sync::{Head, one_line, verdict};
use super::{render_table, table};
use crate::engine::cleanup::{Found, Report, phase_of_label};
use crate::engine::policy::HookState;
use crate::engine::remove::Gone;
use serde::Serialize;

/// What happened to a hook object (or, before the run, what will).
fn action(f: &Found, ran: bool) -> &'static str {
    if !f.decision.deletes() {
        return if ran { "Kept" } else { "Keep" };
    }
    match &f.result {
        None if ran => "NotStarted",
        None => "Delete",
        Some(Ok(Gone::Deleted)) => "Deleted",
        Some(Ok(Gone::AlreadyGone)) => "AlreadyGone",
        Some(Ok(Gone::Requested)) => "DeleteRequested",
        Some(Err(_)) => "Failed",
    }
}

fn reason(f: &Found) -> String {
    match &f.result {
        Some(Err(why)) => format!("{}; delete failed: {why}", f.decision.reason()),
        _ => f.decision.reason().to_owned(),
    }
}

fn phase(f: &Found) -> String {
    phase_of_label(&f.phase)
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| f.phase.clone())
}

fn state(s: HookState) -> &'static str {
    match s {
        HookState::Running => "Running",
        HookState::Succeeded => "Succeeded",
        HookState::Failed => "Failed",
    }
}

fn policies(f: &Found) -> String {
    let names: Vec<&str> = f.policies.iter().map(|p| p.as_str()).collect();
    names.join(",")
}

/// The table and a summary. `report` is `None` before the run (`--dry-run`, the prompt).
pub fn render(report: Option<&Report>, found: &[Found], scope: &str) -> String {
    if found.is_empty() {
        return format!("no hook objects found {scope}\n");
    }
    let mut t = table(&[
        "KIND",
        "NAMESPACE",
        "NAME",
        "PHASE",
        "STATE",
        "POLICY",
        "ACTION",
        "REASON",
    ]);
    for f in found {
        t.add_row(vec![
            f.kind.kind.clone(),
            f.namespace.clone().unwrap_or_else(|| "-".into()),
            f.name.clone(),
            phase(f),
            state(f.state).to_owned(),
            policies(f),
            action(f, report.is_some()).to_owned(),
            one_line(&reason(f)),
        ]);
    }
    let mut out = render_table(&t);
    let chosen = found.iter().filter(|f| f.decision.deletes()).count();
    match report {
        None => out.push_str(&format!(
            "\n{chosen} of {} hook object(s) {scope} to delete, {} to keep\n",
            found.len(),
            found.len() - chosen
        )),
        Some(report) => out.push_str(&verdict("Cleanup", &report.summary)),
    }
    out
}

#[derive(Serialize)]
struct ReportDoc<'a> {
    #[serde(flatten)]
    head: Head<'a>,
    hooks: Vec<HookDoc<'a>>,
}

#[derive(Serialize)]
struct HookDoc<'a> {
    #[serde(rename = "apiVersion")]
    api_version: &'a str,
    kind: &'a str,
    namespace: Option<&'a str>,
    name: &'a str,
    phase: String,
    state: &'static str,
    #[serde(rename = "stateMessage")]
    state_message: &'a str,
    policies: Vec<&'static str>,
    action: &'static str,
    reason: String,
    app: &'a str,
    #[serde(rename = "syncId")]
    sync_id: &'a str,
}

/// The same as JSON: `{"result", "message", "durationMs", "dryRun", "hooks": [...]}`;
/// `result` is null before the run (`--dry-run`).
pub fn json(report: Option<&Report>, found: &[Found]) -> String {
    let doc = ReportDoc {
        head: Head::of(report.map(|r| &r.summary)),
        hooks: found
            .iter()
            .map(|f| HookDoc {
                api_version: &f.kind.api_version,
                kind: &f.kind.kind,
                namespace: f.namespace.as_deref(),
                name: &f.name,
                phase: phase(f),
                state: state(f.state),
                state_message: &f.message,
                policies: f.policies.iter().map(|p| p.as_str()).collect(),
                action: action(f, report.is_some()),
                reason: reason(f),
                app: &f.app,
                sync_id: &f.sync_id,
            })
            .collect(),
    };
    super::to_json(&doc)
}
