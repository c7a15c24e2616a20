//! `apps/v1` ReplicaSet: observed generation, a ReplicaFailure condition, available replicas.

use serde_json::Value;

use super::decode::{Condition, DecodeError, Node, first};
use super::{Gvk, Health, HealthError, HealthStatus};

struct ReplicaSet<'v> {
    generation: i64,
    replicas: Option<i64>,
    observed_generation: i64,
    available_replicas: i64,
    conditions: Vec<Condition<'v>>,
}

impl<'v> ReplicaSet<'v> {
    fn decode(obj: &'v Value) -> Result<Self, DecodeError> {
        let root = Node::root(obj);
        let status = root.field("status")?;
        Ok(ReplicaSet {
            generation: root.field("metadata")?.field("generation")?.int64()?,
            replicas: root.field("spec")?.field("replicas")?.opt_int32()?,
            observed_generation: status.field("observedGeneration")?.int64()?,
            available_replicas: status.field("availableReplicas")?.int32()?,
            conditions: Condition::list(&status.field("conditions")?)?,
        })
    }

    fn health(&self) -> Health {
        use HealthStatus::*;
        if self.generation > self.observed_generation {
            return Health::new(
                Progressing,
                "Waiting for rollout to finish: observed replica set generation less than desired generation",
            );
        }
        // Pod creation is failing (quota, admission...): the controller says so in this condition.
        if let Some(failure) = first(&self.conditions, "ReplicaFailure")
            && failure.is_true()
        {
            return Health::new(Degraded, failure.message);
        }
        if let Some(replicas) = self.replicas
            && self.available_replicas < replicas
        {
            return Health::new(
                Progressing,
                format!(
                    "Waiting for rollout to finish: {} out of {replicas} new replicas are available...",
                    self.available_replicas
                ),
            );
        }
        Health::new(Healthy, "")
    }
}

pub(super) fn assess(obj: &Value, _: &Gvk<'_>) -> Result<Health, HealthError> {
    let rs = ReplicaSet::decode(obj).map_err(HealthError::convert("ReplicaSet"))?;
    Ok(rs.health())
}
