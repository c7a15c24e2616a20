//! When a step failed: why each failed task failed, read before delete policies remove failed
//! hooks, kept on the task for the report.

use super::{READ_LIMIT, WhySettings, pod_place, read};
use crate::cluster::{Cluster, LogSource};
use crate::diagnose::{self, Evidence, LOG_BYTES_LIMIT, Why};
use crate::engine::{Settings, TaskState, Work};
use serde_json::Value;

/// For each failed task of `tasks` (applied, then waited for) not explained yet: why it failed,
/// kept on the task for the report. Called right when a step failed, before delete policies
/// remove failed hooks.
pub async fn explain_failures(
    cluster: &Cluster,
    works: &mut [Work],
    tasks: &[usize],
    settings: &Settings,
) {
    for &i in tasks {
        if works[i].state != TaskState::Failed || works[i].why.is_some() || works[i].kind.is_none()
        {
            continue;
        }
        let why = tokio::time::timeout(READ_LIMIT, explain(cluster, &works[i], settings.why))
            .await
            .unwrap_or_else(|_| Why {
                condition: works[i].message.clone(),
                notes: vec![format!(
                    "could not read why within {}s",
                    READ_LIMIT.as_secs()
                )],
                ..Why::default()
            });
        works[i].why = Some(why);
    }
}

async fn explain(cluster: &Cluster, w: &Work, settings: WhySettings) -> Why {
    let mut why = Why {
        condition: w.message.clone(),
        ..Why::default()
    };
    let (live, related) = match read(cluster, w).await {
        Ok(Some(found)) => found,
        Ok(None) => {
            why.notes.push(format!(
                "{}/{} is gone: nothing more to read",
                w.task.kind, w.name
            ));
            return why;
        }
        Err(e) => {
            why.notes
                .push(format!("could not read its pods and events: {e}"));
            return why;
        }
    };
    let evidence = Evidence {
        object: &live,
        between: &related.between,
        pods: &related.pods,
        events: &related.events,
    };
    why.diagnosis = diagnose::diagnose(&evidence);
    if settings.logs_tail == 0 {
        return why;
    }
    let pods = diagnose::owned_pods(&live, &related.between, &related.pods);
    let has_pods = live.pointer("/spec/selector").is_some() || w.task.kind == "Pod";
    if pods.is_empty() && has_pods {
        why.notes
            .push("no pods of it are left (or none was created): no logs to show".to_owned());
    }
    for target in diagnose::log_targets(&live, &pods) {
        let Some(pod) = pods.iter().find(|p| {
            p.pointer("/metadata/name").and_then(Value::as_str) == Some(target.pod.as_str())
        }) else {
            continue;
        };
        let (ns, _) = pod_place(pod);
        let source = LogSource {
            namespace: &ns,
            pod: &target.pod,
            container: &target.container,
            previous: target.previous,
        };
        let log = cluster
            .container_log(source, settings.logs_tail, LOG_BYTES_LIMIT)
            .await
            .map_err(|e| e.to_string());
        let hidden = diagnose::env_values(pod);
        why.logs
            .push(diagnose::excerpt(target, log, settings.logs_tail, &hidden));
    }
    why
}
