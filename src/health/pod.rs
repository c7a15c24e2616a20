//! `v1` Pod. The restart policy changes the verdict: a pod that restarts forever (`Always`) is
//! judged as a workload, one that runs to completion (`OnFailure`, `Never`, usually a hook) is
//! done only when it Succeeded or Failed.

use serde_json::Value;

use super::decode::{Condition, DecodeError, Node, first};
use super::{Gvk, Health, HealthError, HealthStatus, go_quote};

struct Pod<'v> {
    restart_policy: &'v str,
    phase: &'v str,
    message: &'v str,
    conditions: Vec<Condition<'v>>,
    init_containers: Vec<ContainerStatus<'v>>,
    containers: Vec<ContainerStatus<'v>>,
}

struct ContainerStatus<'v> {
    name: &'v str,
    /// `state.waiting`, when set: (reason, message).
    waiting: Option<(&'v str, &'v str)>,
    terminated: Option<Terminated<'v>>,
    /// `lastState.terminated` is set: the container has restarted before.
    restarted: bool,
}

struct Terminated<'v> {
    reason: &'v str,
    message: &'v str,
    exit_code: i64,
}

impl<'v> Pod<'v> {
    fn decode(obj: &'v Value) -> Result<Self, DecodeError> {
        let root = Node::root(obj);
        let status = root.field("status")?;
        Ok(Pod {
            restart_policy: root.field("spec")?.field("restartPolicy")?.str()?,
            phase: status.field("phase")?.str()?,
            message: status.field("message")?.str()?,
            conditions: Condition::list(&status.field("conditions")?)?,
            init_containers: ContainerStatus::list(&status.field("initContainerStatuses")?)?,
            containers: ContainerStatus::list(&status.field("containerStatuses")?)?,
        })
    }

    fn health(&self) -> Health {
        use HealthStatus::*;
        let always = self.restart_policy == "Always";
        // Step A. Only for `Always`: a hook pod on a transient image-pull back-off must not fail
        // its hook early (it would then run after the sync had finished).
        if always {
            let errors: Vec<&str> = self
                .containers
                .iter()
                .filter_map(|c| c.waiting)
                .filter(|(reason, _)| is_error_reason(reason))
                .map(|(_, message)| message)
                .collect();
            if !errors.is_empty() {
                return Health::new(Degraded, errors.join(", "));
            }
        }
        // Step B, by phase.
        let message = self.message;
        match self.phase {
            "Pending" => Health::new(Progressing, message),
            "Succeeded" => Health::new(Healthy, message),
            "Failed" => Health::new(Degraded, self.failure_message()),
            "Running" => match self.restart_policy {
                "Always" => {
                    let ready = first(&self.conditions, "Ready").is_some_and(|c| c.is_true());
                    if ready {
                        Health::new(Healthy, message)
                    } else if self.containers.iter().any(|c| c.restarted) {
                        Health::new(Degraded, message)
                    } else {
                        Health::new(Progressing, message)
                    }
                }
                // Runs to completion: still running, even when Ready.
                "OnFailure" | "Never" => Health::new(Progressing, message),
                // A hand-written manifest without the defaulted policy.
                _ => Health::new(Unknown, message),
            },
            _ => Health::new(Unknown, message),
        }
    }

    /// The pod's message, else the first container (init containers first) whose current
    /// termination says something.
    fn failure_message(&self) -> String {
        if !self.message.is_empty() {
            return self.message.to_string();
        }
        self.init_containers
            .iter()
            .chain(&self.containers)
            .find_map(ContainerStatus::failure)
            .unwrap_or_default()
    }
}

/// `ErrImagePull`, `CreateContainerConfigError`, `CrashLoopBackOff`, `ImagePullBackOff`...
fn is_error_reason(reason: &str) -> bool {
    reason.starts_with("Err") || reason.ends_with("Error") || reason.ends_with("BackOff")
}

impl<'v> ContainerStatus<'v> {
    fn list(node: &Node<'v, '_>) -> Result<Vec<Self>, DecodeError> {
        node.items()?.map(|item| Self::decode(&item)).collect()
    }

    fn decode(node: &Node<'v, '_>) -> Result<Self, DecodeError> {
        let state = node.field("state")?;
        let waiting = state.field("waiting")?;
        let terminated = state.field("terminated")?;
        let last_state = node.field("lastState")?;
        let last_terminated = last_state.field("terminated")?;
        Ok(ContainerStatus {
            name: node.field("name")?.str()?,
            waiting: if waiting.is_set()? {
                Some((
                    waiting.field("reason")?.str()?,
                    waiting.field("message")?.str()?,
                ))
            } else {
                None
            },
            terminated: if terminated.is_set()? {
                Some(Terminated {
                    reason: terminated.field("reason")?.str()?,
                    message: terminated.field("message")?.str()?,
                    exit_code: terminated.field("exitCode")?.int32()?,
                })
            } else {
                None
            },
            restarted: last_terminated.is_set()?,
        })
    }

    fn failure(&self) -> Option<String> {
        let terminated = self.terminated.as_ref()?;
        if !terminated.message.is_empty() {
            Some(terminated.message.to_string())
        } else if terminated.reason == "OOMKilled" {
            Some("OOMKilled".to_string())
        } else if terminated.exit_code != 0 {
            Some(format!(
                "container {} failed with exit code {}",
                go_quote(self.name),
                terminated.exit_code
            ))
        } else {
            None
        }
    }
}

pub(super) fn assess(obj: &Value, _: &Gvk<'_>) -> Result<Health, HealthError> {
    let pod = Pod::decode(obj).map_err(|source| HealthError::Convert {
        kind: "Pod",
        source,
    })?;
    Ok(pod.health())
}
