//! `apps/v1` Deployment: paused, then the rollout counts, as `kubectl rollout status` reads them.

use serde_json::Value;

use super::decode::{Condition, DecodeError, Node, first};
use super::{Gvk, Health, HealthError, HealthStatus, go_quote};

struct Deployment<'v> {
    name: &'v str,
    generation: i64,
    paused: bool,
    /// Absent means "not set", not 1: Argo decodes without defaults.
    replicas: Option<i64>,
    observed_generation: i64,
    status_replicas: i64,
    updated_replicas: i64,
    available_replicas: i64,
    conditions: Vec<Condition<'v>>,
}

impl<'v> Deployment<'v> {
    fn decode(obj: &'v Value) -> Result<Self, DecodeError> {
        let root = Node::root(obj);
        let meta = root.field("metadata")?;
        let spec = root.field("spec")?;
        let status = root.field("status")?;
        Ok(Deployment {
            name: meta.field("name")?.str()?,
            generation: meta.field("generation")?.int64()?,
            paused: spec.field("paused")?.bool()?,
            replicas: spec.field("replicas")?.opt_int32()?,
            observed_generation: status.field("observedGeneration")?.int64()?,
            status_replicas: status.field("replicas")?.int32()?,
            updated_replicas: status.field("updatedReplicas")?.int32()?,
            available_replicas: status.field("availableReplicas")?.int32()?,
            conditions: Condition::list(&status.field("conditions")?)?,
        })
    }

    fn health(&self) -> Health {
        use HealthStatus::*;
        // A paused rollout will not move until someone resumes it, whatever the counts say.
        if self.paused {
            return Health::new(Suspended, "Deployment is paused");
        }
        if self.generation > self.observed_generation {
            return Health::new(
                Progressing,
                "Waiting for rollout to finish: observed deployment generation less than desired generation",
            );
        }
        // The controller gave up; the condition's status is not looked at, only its reason.
        if first(&self.conditions, "Progressing")
            .is_some_and(|c| c.reason == "ProgressDeadlineExceeded")
        {
            return Health::new(
                Degraded,
                format!(
                    "Deployment {} exceeded its progress deadline",
                    go_quote(self.name)
                ),
            );
        }
        if let Some(replicas) = self.replicas
            && self.updated_replicas < replicas
        {
            return Health::new(
                Progressing,
                format!(
                    "Waiting for rollout to finish: {} out of {replicas} new replicas have been updated...",
                    self.updated_replicas
                ),
            );
        }
        if self.status_replicas > self.updated_replicas {
            return Health::new(
                Progressing,
                format!(
                    "Waiting for rollout to finish: {} old replicas are pending termination...",
                    self.status_replicas - self.updated_replicas
                ),
            );
        }
        if self.available_replicas < self.updated_replicas {
            return Health::new(
                Progressing,
                format!(
                    "Waiting for rollout to finish: {} of {} updated replicas are available...",
                    self.available_replicas, self.updated_replicas
                ),
            );
        }
        Health::new(Healthy, "")
    }
}

pub(super) fn assess(obj: &Value, _: &Gvk<'_>) -> Result<Health, HealthError> {
    let deployment = Deployment::decode(obj).map_err(HealthError::convert("Deployment"))?;
    Ok(deployment.health())
}
