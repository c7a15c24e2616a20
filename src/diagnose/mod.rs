//! Why a task is stuck or failed, from live JSON: the states of its pods' containers (waiting
//! or terminated reasons, restart counts, exit codes), the newest Warning events of the object,
//! of its pods and of what lies between (ReplicaSets, Jobs), and bounded log excerpts. Pure: the
//! reads are in `cluster::related`, the showing in `output`.
//!
//! Argo CD shows a hook whose pod cannot start as "Progressing"; `kubectl describe` and
//! `kubectl logs` are where users then look. This module gathers what they would find there.

mod events;
mod logs;
mod pods;
mod track;

pub use events::{EventLine, warning_events};
pub use logs::{
    LOG_BYTES_LIMIT, LogExcerpt, LogTarget, clean as clean_log_line, env_values, excerpt,
    log_targets,
};
pub use pods::{PodProblem, owned_pods, pod_problems};
pub use track::Shown;

use serde::Serialize;
use serde_json::Value;

/// The most pod problems and events one diagnosis holds (and a "why" block shows).
pub const MAX_PROBLEMS: usize = 5;
pub const MAX_EVENTS: usize = 5;

/// What the cluster holds about one task's object.
#[derive(Debug, Clone, Copy)]
pub struct Evidence<'a> {
    /// The task's object, live.
    pub object: &'a Value,
    /// Objects between it and its pods that it owns (a Deployment's ReplicaSets).
    pub between: &'a [Value],
    /// Pods in its namespace matching its selector (owned or not: filtered here).
    pub pods: &'a [Value],
    /// Events of its namespace (any type: filtered here).
    pub events: &'a [Value],
}

/// Why a task is not healthy, as far as the cluster says.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Diagnosis {
    /// Containers not running as they should, one line per (container, reason).
    pub problems: Vec<PodProblem>,
    /// Newest Warning events first.
    pub events: Vec<EventLine>,
}

impl Diagnosis {
    pub fn is_empty(&self) -> bool {
        self.problems.is_empty() && self.events.is_empty()
    }

    /// One line for a table's MESSAGE column: the first container problem, else the newest
    /// Warning event.
    pub fn headline(&self) -> Option<String> {
        self.problems
            .first()
            .map(PodProblem::to_string)
            .or_else(|| self.events.first().map(EventLine::to_string))
    }

    /// (identity, text) of every line, for [`Shown`]: an identity is shown again only when
    /// its text changes (a restart count grows, a message changes).
    pub fn keyed_lines(&self) -> Vec<(String, String)> {
        let problems = self.problems.iter().map(|p| (p.identity(), p.to_string()));
        let events = self.events.iter().map(|e| (e.identity(), e.to_string()));
        problems.chain(events).collect()
    }
}

/// Reads the evidence: problems of the object's pods, and Warning events of the object, of
/// what lies between and of its pods.
pub fn diagnose(evidence: &Evidence<'_>) -> Diagnosis {
    let pods = owned_pods(evidence.object, evidence.between, evidence.pods);
    let problems = pod_problems(evidence.object, &pods, MAX_PROBLEMS);
    let mut involved: Vec<&Value> = vec![evidence.object];
    involved.extend(evidence.between.iter());
    involved.extend(pods.iter().copied());
    let events = warning_events(&involved, evidence.events, MAX_EVENTS);
    Diagnosis { problems, events }
}

/// Everything a report says about why one task failed.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Why {
    /// The task's own verdict (the condition and its reason, or what it timed out waiting for).
    pub condition: String,
    #[serde(flatten)]
    pub diagnosis: Diagnosis,
    pub logs: Vec<LogExcerpt>,
    /// What could not be read (the object gone, no rights), one line each.
    pub notes: Vec<String>,
}

impl Why {
    /// The one-line reason for a table: the first container problem or Warning event, else
    /// the task's own message.
    pub fn reason(&self) -> String {
        self.diagnosis
            .headline()
            .unwrap_or_else(|| self.condition.clone())
    }
}

pub(crate) fn str_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer).and_then(Value::as_str)
}

#[cfg(test)]
mod tests;
