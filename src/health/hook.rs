//! What a hook's live object says about the hook (as gitops-engine's sync context maps a
//! hook's health to its operation phase): the same health as any
//! object, mapped to the hook phases the sync engine waits on.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Health, HealthMode, HealthStatus, try_assess};

/// Phase of a hook judged from its live object, spelt as Argo spells hook phases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum HookOutcome {
    /// Not finished: the sync waits.
    Running,
    Succeeded,
    /// Failed, or its health could not be computed (Argo's `Error` phase, which the sync
    /// engine treats exactly like `Failed`: "completed unsuccessfully").
    Failed,
}

impl HookOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            HookOutcome::Running => "Running",
            HookOutcome::Succeeded => "Succeeded",
            HookOutcome::Failed => "Failed",
        }
    }

    /// Map a health verdict to a hook phase. `name` is the hook's `metadata.name`, for kinds with
    /// no health (a ConfigMap hook is done as soon as it exists).
    pub fn from_health(health: Option<&Health>, name: &str) -> (HookOutcome, String) {
        use HealthStatus::*;
        match health {
            Some(h) => match h.status {
                Healthy => (HookOutcome::Succeeded, h.message.clone()),
                Progressing | Suspended => (HookOutcome::Running, h.message.clone()),
                Degraded | Unknown => (HookOutcome::Failed, h.message.clone()),
                // No branch in Argo matches Missing, so it falls through to "created".
                Missing => (HookOutcome::Succeeded, format!("{name} created")),
            },
            None => (HookOutcome::Succeeded, format!("{name} created")),
        }
    }
}

impl fmt::Display for HookOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a hook's live object says about the hook.
pub fn hook_outcome(obj: &Value, mode: HealthMode) -> (HookOutcome, String) {
    match try_assess(obj, mode) {
        Ok(health) => HookOutcome::from_health(health.as_ref(), name(obj)),
        Err(err) => (
            HookOutcome::Failed,
            format!("failed to get resource health: {err}"),
        ),
    }
}

fn name(obj: &Value) -> &str {
    obj.get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("")
}
