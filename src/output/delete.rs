//! What `delete` shows at the end (or with `--dry-run`, before anything happens): every task
//! in run order with what was done to it, as a table or as JSON. While it runs, progress is
//! sync's view (`output::sync::Progress`) of the same engine events.

use super::sync::{Head, WorkDoc, add_policy_deletion, duration_of, one_line, seconds, verdict};
use super::{render_table, table};
use crate::engine::delete::{Fate, Part, Report, Teardown};
use crate::engine::remove::Gone;
use crate::engine::{TaskState, Work};
use serde::Serialize;

/// What happened to a task (or, before the run, what will).
fn action(w: &Work, fate: &Fate, ran: bool) -> &'static str {
    match (fate, w.state) {
        (Fate::Hook, TaskState::Pending) if ran => "NotRun",
        (Fate::Hook, TaskState::Pending) => "RunHook",
        (Fate::Hook, TaskState::Running) => "HookRunning",
        (Fate::Hook, TaskState::Succeeded) => "HookSucceeded",
        (Fate::Hook, TaskState::Failed) => "HookFailed",
        (Fate::Leave(_), _) if w.task.hook => "NotRun",
        (Fate::Leave(_), _) => "Kept",
        (Fate::Delete(_), TaskState::Failed) => "Failed",
        (Fate::Delete(Some(Gone::AlreadyGone)), _) => "AlreadyGone",
        (Fate::Delete(Some(Gone::Deleted)), _) => "Deleted",
        (Fate::Delete(Some(Gone::Requested)), _) => "DeleteRequested",
        (Fate::Delete(None), _) if ran => "NotStarted",
        (Fate::Delete(None), _) => "Delete",
    }
}

fn message(w: &Work, fate: &Fate) -> String {
    let mut m = match fate {
        Fate::Leave(reason) => reason.clone(),
        _ => w.message.clone(),
    };
    add_policy_deletion(&mut m, w);
    m
}

/// The part each task belongs to, by index.
fn parts(teardown: &Teardown) -> Vec<Part> {
    let mut parts = vec![Part::Delete; teardown.works.len()];
    for stage in &teardown.stages {
        for &i in &stage.tasks {
            parts[i] = stage.part;
        }
    }
    parts
}

fn part_name(part: Part) -> &'static str {
    match part {
        Part::PreDelete => "PreDelete",
        Part::Delete => "Delete",
        Part::PostDelete => "PostDelete",
    }
}

/// The table, in run order. `report` is `None` before the run (`--dry-run`).
pub fn render(report: Option<&Report>, teardown: &Teardown) -> String {
    let mut t = table(&[
        "STEP",
        "WAVE",
        "KIND",
        "NAMESPACE",
        "NAME",
        "ACTION",
        "MESSAGE",
        "DURATION",
    ]);
    let parts = parts(teardown);
    for (i, w) in teardown.works.iter().enumerate() {
        let fate = &teardown.fates[i];
        t.add_row(vec![
            part_name(parts[i]).to_owned(),
            w.task.wave.to_string(),
            w.task.kind.clone(),
            w.namespace.clone().unwrap_or_else(|| "-".into()),
            w.name.clone(),
            action(w, fate, report.is_some()).to_owned(),
            one_line(&super::why::reason(w).unwrap_or_else(|| message(w, fate))),
            duration_of(w).map(seconds).unwrap_or_else(|| "-".into()),
        ]);
    }
    let mut out = if teardown.works.is_empty() {
        "nothing to delete: the input holds no objects to delete and no delete hooks\n".to_owned()
    } else {
        render_table(&t)
    };
    if let Some(report) = report {
        out.push_str(&verdict("Delete", &report.summary));
    }
    out.push_str(&super::why::blocks(&teardown.works));
    out
}

#[derive(Serialize)]
struct ReportDoc<'a> {
    #[serde(flatten)]
    head: Head<'a>,
    tasks: Vec<TaskDoc<'a>>,
    notes: &'a [String],
    #[serde(rename = "apiRequests")]
    api_requests: u64,
}

#[derive(Serialize)]
struct TaskDoc<'a> {
    phase: Part,
    wave: i64,
    action: &'static str,
    message: String,
    #[serde(flatten)]
    work: WorkDoc<'a>,
    #[serde(flatten)]
    why: Option<super::why::WhyDoc<'a>>,
}

/// The same as JSON: `{"result", "message", "durationMs", "tasks": [...]}` as sync's report;
/// `result` is null before the run (`--dry-run`).
pub fn json(report: Option<&Report>, teardown: &Teardown) -> String {
    let parts = parts(teardown);
    let tasks = teardown
        .works
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let fate = &teardown.fates[i];
            TaskDoc {
                phase: parts[i],
                wave: w.task.wave,
                action: action(w, fate, report.is_some()),
                message: message(w, fate),
                work: WorkDoc::of(w),
                why: super::why::WhyDoc::of(w),
            }
        })
        .collect();
    let doc = ReportDoc {
        head: Head::of(report.map(|r| &r.summary)),
        tasks,
        notes: &teardown.notes,
        api_requests: report.map_or(0, |r| r.summary.requests),
    };
    super::to_json(&doc)
}
