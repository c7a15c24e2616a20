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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::{Diagnosis, EventLine, LogTarget, PodProblem};
    use crate::model::Phase;
    use crate::plan::Task;

    fn failed_hook(why: Why) -> Work {
        Work {
            task: Task {
                object: 0,
                phase: Phase::PreSync,
                wave: 0,
                hook: true,
                namespace: Some("ns".into()),
                delete_policies: vec![],
                group: "batch".into(),
                kind: "Job".into(),
                name: "migrate".into(),
            },
            kind: None,
            api_version: "batch/v1".into(),
            name: "migrate".into(),
            namespace: Some("ns".into()),
            object: serde_json::json!({}),
            source: "app.yaml:1".into(),
            state: TaskState::Failed,
            message: why.condition.clone(),
            started: None,
            finished: None,
            deleted_by_policy: None,
            timed_out: false,
            took_over: None,
            why: Some(why),
            options: Default::default(),
            client_side: false,
        }
    }

    fn target(container: &str, init: bool, previous: bool) -> LogTarget {
        LogTarget {
            pod: "migrate-x".into(),
            container: container.into(),
            init,
            previous,
        }
    }

    #[test]
    fn the_block_tells_condition_pods_events_logs_and_notes() {
        let why = Why {
            condition: "Job has reached the specified backoff limit".into(),
            diagnosis: Diagnosis {
                problems: vec![PodProblem {
                    pod: "migrate-x".into(),
                    container: "migrate".into(),
                    init: false,
                    state: "terminated",
                    reason: "Error".into(),
                    message: None,
                    exit_code: Some(3),
                    last_reason: None,
                    restarts: 0,
                    other_pods: 0,
                }],
                events: vec![EventLine::once(
                    "Job/migrate",
                    "BackoffLimitExceeded",
                    "Job has reached the specified backoff limit",
                )],
            },
            logs: vec![
                LogExcerpt {
                    target: target("migrate", false, false),
                    lines: vec!["applying 0042".into(), "ERROR: no column".into()],
                    truncated: true,
                    error: None,
                },
                LogExcerpt {
                    target: target("wait", true, true),
                    lines: vec![],
                    truncated: false,
                    error: Some("forbidden".into()),
                },
            ],
            notes: vec!["a note".into()],
        };
        let w = failed_hook(why);
        assert_eq!(
            reason(&w).unwrap(),
            "pod/migrate-x container migrate: Error, exit code 3"
        );
        assert_eq!(
            blocks(std::slice::from_ref(&w)),
            "\nWhy PreSync hook Job/migrate failed:\n\
             \x20 Job has reached the specified backoff limit\n\
             \x20 pod/migrate-x container migrate: Error, exit code 3\n\
             \x20 Warning events (newest first):\n\
             \x20   Job/migrate BackoffLimitExceeded: Job has reached the specified backoff limit\n\
             \x20 Logs of pod/migrate-x container migrate (last 2 lines, older lines left out):\n\
             \x20   applying 0042\n\
             \x20   ERROR: no column\n\
             \x20 Logs of pod/migrate-x init container wait (previous instance): could not be read: forbidden\n\
             \x20 a note\n"
        );
    }

    #[test]
    fn tasks_that_did_not_fail_have_no_block() {
        let mut w = failed_hook(Why::default());
        w.state = TaskState::Succeeded;
        assert_eq!(blocks(&[w.clone()]), "");
        assert_eq!(reason(&w), None);
    }
}
