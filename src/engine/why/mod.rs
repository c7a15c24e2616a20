//! Saying why: while a step waits, what keeps its tasks from being healthy (`lookout`); when
//! a task failed, its pods' states, Warning events and the failed containers' last log lines
//! (`explain`); with `--logs`, hook pods' output as it comes (`lookout`). The reads are
//! `cluster::related`'s, the judgement `diagnose`'s; this module decides when to read and what
//! to emit.

mod explain;
mod lookout;

pub use explain::explain_failures;
pub use lookout::Lookout;

use super::Work;
use crate::cluster::{Cluster, ClusterError, Related};
use serde_json::Value;
use std::time::Duration;

/// Reads for one look or one failure report never take longer than this.
const READ_LIMIT: Duration = Duration::from_secs(10);

/// How much to say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WhySettings {
    /// Log lines per failed container in a report; 0: no logs.
    pub logs_tail: usize,
    /// Stream hook pods' output while they run (`--logs`).
    pub stream_logs: bool,
}

impl Default for WhySettings {
    fn default() -> Self {
        WhySettings {
            logs_tail: 20,
            stream_logs: false,
        }
    }
}

fn task_key(w: &Work) -> String {
    format!(
        "{}/{}/{}/{}",
        w.task.phase,
        w.task.kind,
        w.namespace.as_deref().unwrap_or(""),
        w.name
    )
}

fn pod_place(pod: &Value) -> (String, String) {
    let at = |p: &str| {
        pod.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    (at("/metadata/namespace"), at("/metadata/name"))
}

fn follow_key(pod: &Value, container: &str) -> Option<(String, String)> {
    let uid = pod.pointer("/metadata/uid").and_then(Value::as_str)?;
    Some((uid.to_owned(), container.to_owned()))
}

/// Containers (init ones first) that are running or ended: those that have a log.
fn started_containers(pod: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for pointer in ["/status/initContainerStatuses", "/status/containerStatuses"] {
        let statuses = pod.pointer(pointer).and_then(Value::as_array);
        for s in statuses.into_iter().flatten() {
            let started =
                s.pointer("/state/running").is_some() || s.pointer("/state/terminated").is_some();
            if started && let Some(name) = s.pointer("/name").and_then(Value::as_str) {
                out.push(name.to_owned());
            }
        }
    }
    out
}

/// The live object of a task and what is around it; `None` when it is gone.
async fn read(cluster: &Cluster, w: &Work) -> Result<Option<(Value, Related)>, ClusterError> {
    let Some(kind) = &w.kind else {
        return Ok(None);
    };
    let namespace = w.namespace.as_deref().unwrap_or("");
    let Some(live) = cluster.get(kind, namespace, &w.name).await? else {
        return Ok(None);
    };
    let related = cluster.related(&live).await?;
    Ok(Some((live, related)))
}
