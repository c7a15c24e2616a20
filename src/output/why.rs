//! The "why" block under a report's table: for each failed task, its condition, its pods'
//! problems, its Warning events and the failed containers' last log lines; and the same as
//! JSON fields of the task.

use crate::diagnose::{LogExcerpt, Why};
use crate::engine::{TaskState, Work};
use serde::Serialize;

/// The reason a failed task's MESSAGE column shows: the first thing found wrong in its pods or
/// events, else its own message.
pub fn reason(w: &Work) -> Option<String> {
    let why = w.why.as_ref().filter(|_| w.state == TaskState::Failed)?;
    Some(why.reason())
}

fn log_heading(log: &LogExcerpt) -> String {
    format!(
        "pod/{} {}container {}{}",
        log.target.pod,
        if log.target.init { "init " } else { "" },
        log.target.container,
        if log.target.previous {
            " (previous instance)"
        } else {
            ""
        }
    )
}

/// The blocks of every failed task that has one, or nothing.
pub fn blocks(works: &[Work]) -> String {
    let mut out = String::new();
    for w in works.iter().filter(|w| w.state == TaskState::Failed) {
        let Some(why) = &w.why else { continue };
        let what = if w.task.hook {
            format!("{} hook", w.task.phase)
        } else {
            format!("{} wave {}", w.task.phase, w.task.wave)
        };
        out.push_str(&format!(
            "\nWhy {what} {}/{} failed:\n",
            w.task.kind, w.name
        ));
        out.push_str(&format!("  {}\n", why.condition.replace('\n', "\n  ")));
        for problem in &why.diagnosis.problems {
            out.push_str(&format!("  {problem}\n"));
        }
        if !why.diagnosis.events.is_empty() {
            out.push_str("  Warning events (newest first):\n");
            for event in &why.diagnosis.events {
                out.push_str(&format!("    {event}\n"));
            }
        }
        for log in &why.logs {
            match &log.error {
                Some(error) => out.push_str(&format!(
                    "  Logs of {}: could not be read: {error}\n",
                    log_heading(log)
                )),
                None if log.lines.is_empty() => {
                    out.push_str(&format!("  Logs of {}: empty\n", log_heading(log)))
                }
                None => {
                    let cut = if log.truncated {
                        ", older lines left out"
                    } else {
                        ""
                    };
                    out.push_str(&format!(
                        "  Logs of {} (last {} lines{cut}):\n",
                        log_heading(log),
                        log.lines.len()
                    ));
                    for line in &log.lines {
                        out.push_str(&format!("    {line}\n"));
                    }
                }
            }
        }
        for note in &why.notes {
            out.push_str(&format!("  {note}\n"));
        }
    }
    out
}

/// What `-o json` adds to a failed task: `reason`, `pods`, `events`, `logs`, `notes`.
#[derive(Serialize)]
pub struct WhyDoc<'a> {
    reason: String,
    pods: &'a [crate::diagnose::PodProblem],
    events: &'a [crate::diagnose::EventLine],
    logs: &'a [LogExcerpt],
    notes: &'a [String],
}

impl<'a> WhyDoc<'a> {
    pub fn of(w: &'a Work) -> Option<WhyDoc<'a>> {
        let why: &Why = w.why.as_ref()?;
        Some(WhyDoc {
            reason: why.reason(),
            pods: &why.diagnosis.problems,
            events: &why.diagnosis.events,
            logs: &why.logs,
            notes: &why.notes,
        })
    }
}
