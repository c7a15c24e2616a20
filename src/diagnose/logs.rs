//! Which container logs explain a failure (failed containers, init containers too, the
//! previous instance of a crash-looping one, a Job's last failed pod), and how much of them to
//! show: the last lines, bounded in bytes, without terminal control characters and without the
//! literal `env` values of the pod's spec.

use super::str_at;
use serde::Serialize;
use serde_json::Value;

/// The most bytes of one container's log that are read and shown.
pub const LOG_BYTES_LIMIT: usize = 16 * 1024;
/// The most characters of one log line shown.
const LINE_CHARS_LIMIT: usize = 500;
/// The most container logs one task's report shows.
const MAX_TARGETS: usize = 3;
/// `env` values shorter than this are not hidden: "1" or "true" would hide everything.
const SHORTEST_HIDDEN_VALUE: usize = 4;
const HIDDEN: &str = "[hidden env value]";

/// A container log to read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogTarget {
    pub pod: String,
    pub container: String,
    #[serde(rename = "initContainer")]
    pub init: bool,
    /// The instance before the last restart (`kubectl logs --previous`).
    pub previous: bool,
}

/// What a report shows of one container's log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogExcerpt {
    #[serde(flatten)]
    pub target: LogTarget,
    pub lines: Vec<String>,
    /// Older lines were left out to stay within the byte limit.
    pub truncated: bool,
    /// Why the log could not be read (pod gone, no rights to `pods/log`, node unreachable).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The logs worth reading for the object's pods (newest first): for a Job, only its newest
/// failed pod once one failed. One per container name across replicas, at most three.
pub fn log_targets(object: &Value, pods: &[&Value]) -> Vec<LogTarget> {
    let is_job = str_at(object, "/kind") == Some("Job");
    let failed = pods
        .iter()
        .find(|p| str_at(p, "/status/phase") == Some("Failed"));
    let chosen: Vec<&Value> = match failed {
        Some(p) if is_job => vec![*p],
        _ => pods.to_vec(),
    };
    let mut out: Vec<LogTarget> = Vec::new();
    for pod in chosen {
        let name = str_at(pod, "/metadata/name").unwrap_or("?");
        for (pointer, init) in [
            ("/status/initContainerStatuses", true),
            ("/status/containerStatuses", false),
        ] {
            let statuses = pod.pointer(pointer).and_then(Value::as_array);
            for s in statuses.into_iter().flatten() {
                let Some(previous) = needs_log(s) else {
                    continue;
                };
                let container = str_at(s, "/name").unwrap_or("?");
                if out
                    .iter()
                    .any(|t| t.container == container && t.init == init)
                {
                    continue;
                }
                out.push(LogTarget {
                    pod: name.to_owned(),
                    container: container.to_owned(),
                    init,
                    previous,
                });
            }
        }
    }
    out.truncate(MAX_TARGETS);
    out
}

/// `Some(previous)` when a container's log explains a failure: it exited non-zero (its own
/// log), or it is waiting to restart after a failed run (the previous instance's log).
fn needs_log(s: &Value) -> Option<bool> {
    let exit = |p: &str| s.pointer(p).and_then(Value::as_i64).unwrap_or(0);
    if s.pointer("/state/terminated").is_some() {
        return (exit("/state/terminated/exitCode") != 0).then_some(false);
    }
    let restarts = s
        .pointer("/restartCount")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let crashed =
        s.pointer("/lastState/terminated").is_some() && exit("/lastState/terminated/exitCode") != 0;
    (s.pointer("/state/waiting").is_some() && restarts > 0 && crashed).then_some(true)
}

/// The literal `env` values of a pod's containers, to keep out of what is shown: a program
/// that prints its environment must not leak it through this tool. (Values from Secrets are
/// never read.)
pub fn env_values(pod: &Value) -> Vec<String> {
    let mut values = Vec::new();
    for list in ["/spec/containers", "/spec/initContainers"] {
        let containers = pod.pointer(list).and_then(Value::as_array);
        for c in containers.into_iter().flatten() {
            let env = c.pointer("/env").and_then(Value::as_array);
            for var in env.into_iter().flatten() {
                if let Some(v) = str_at(var, "/value")
                    && v.chars().count() >= SHORTEST_HIDDEN_VALUE
                {
                    values.push(v.to_owned());
                }
            }
        }
    }
    // Longest first, so that a value containing another is hidden whole.
    values.sort_by_key(|v| std::cmp::Reverse(v.len()));
    values.dedup();
    values
}

/// Drops terminal escape sequences (colours, cursor moves) and other control characters.
fn printable(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            // CSI: ESC [ parameters, then one final byte in @..~.
            '\x1b' if chars.peek() == Some(&'[') => {
                chars.next();
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            '\t' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// One log line as it may be shown: printable, `hidden` values replaced, at most 500
/// characters.
pub fn clean(line: &str, hidden: &[String]) -> String {
    let mut line = printable(line);
    for value in hidden {
        if line.contains(value.as_str()) {
            line = line.replace(value.as_str(), HIDDEN);
        }
    }
    if line.chars().count() > LINE_CHARS_LIMIT {
        line = format!(
            "{}…",
            line.chars().take(LINE_CHARS_LIMIT - 1).collect::<String>()
        );
    }
    line
}

/// The last `tail` lines of a log (or why it could not be read), cleaned and bounded to
/// [`LOG_BYTES_LIMIT`] bytes, older lines dropped first.
pub fn excerpt(
    target: LogTarget,
    log: Result<String, String>,
    tail: usize,
    hidden: &[String],
) -> LogExcerpt {
    let text = match log {
        Ok(text) => text,
        Err(error) => {
            return LogExcerpt {
                target,
                lines: Vec::new(),
                truncated: false,
                error: Some(error),
            };
        }
    };
    let all: Vec<&str> = text.lines().collect();
    let start = all.len().saturating_sub(tail);
    let mut lines: Vec<String> = all[start..].iter().map(|l| clean(l, hidden)).collect();
    let mut bytes: usize = lines.iter().map(|l| l.len() + 1).sum();
    let mut truncated = false;
    while bytes > LOG_BYTES_LIMIT && !lines.is_empty() {
        bytes -= lines.remove(0).len() + 1;
        truncated = true;
    }
    LogExcerpt {
        target,
        lines,
        truncated,
        error: None,
    }
}
