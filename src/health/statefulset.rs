//! `apps/v1` StatefulSet: observed generation, readiness, then the update strategy decides how
//! the rollout is judged. Never Degraded.

use serde_json::Value;

use super::decode::{DecodeError, Node};
use super::{Gvk, Health, HealthError, HealthStatus};

struct StatefulSet<'v> {
    generation: i64,
    replicas: Option<i64>,
    strategy: &'v str,
    rolling_update_set: bool,
    partition: Option<i64>,
    observed_generation: i64,
    ready_replicas: i64,
    updated_replicas: i64,
    current_replicas: i64,
    update_revision: &'v str,
    current_revision: &'v str,
}

impl<'v> StatefulSet<'v> {
    fn decode(obj: &'v Value) -> Result<Self, DecodeError> {
        let root = Node::root(obj);
        let meta = root.field("metadata")?;
        let spec = root.field("spec")?;
        let strategy = spec.field("updateStrategy")?;
        let rolling = strategy.field("rollingUpdate")?;
        let status = root.field("status")?;
        Ok(StatefulSet {
            generation: meta.field("generation")?.int64()?,
            replicas: spec.field("replicas")?.opt_int32()?,
            strategy: strategy.field("type")?.str()?,
            rolling_update_set: rolling.is_set()?,
            partition: rolling.field("partition")?.opt_int32()?,
            observed_generation: status.field("observedGeneration")?.int64()?,
            ready_replicas: status.field("readyReplicas")?.int32()?,
            updated_replicas: status.field("updatedReplicas")?.int32()?,
            current_replicas: status.field("currentReplicas")?.int32()?,
            update_revision: status.field("updateRevision")?.str()?,
            current_revision: status.field("currentRevision")?.str()?,
        })
    }

    fn health(&self) -> Health {
        use HealthStatus::*;
        // Unlike Deployments, a StatefulSet the controller has never observed is not done.
        if self.observed_generation == 0 || self.generation > self.observed_generation {
            return Health::new(
                Progressing,
                "Waiting for statefulset spec update to be observed...",
            );
        }
        if let Some(replicas) = self.replicas
            && self.ready_replicas < replicas
        {
            return Health::new(
                Progressing,
                format!(
                    "Waiting for {} pods to be ready...",
                    replicas - self.ready_replicas
                ),
            );
        }
        // With a rollingUpdate block the partition decides, and the revisions are never
        // compared, even when there is no partition.
        if self.strategy == "RollingUpdate" && self.rolling_update_set {
            if let (Some(replicas), Some(partition)) = (self.replicas, self.partition)
                && self.updated_replicas < replicas - partition
            {
                return Health::new(
                    Progressing,
                    format!(
                        "Waiting for partitioned roll out to finish: {} out of {} new pods have been updated...",
                        self.updated_replicas,
                        replicas - partition
                    ),
                );
            }
            return Health::new(
                Healthy,
                format!(
                    "partitioned roll out complete: {} new pods have been updated...",
                    self.updated_replicas
                ),
            );
        }
        // Pods are replaced only when someone deletes them: nothing to wait for.
        if self.strategy == "OnDelete" {
            return Health::new(
                Healthy,
                format!("statefulset has {} ready pods", self.ready_replicas),
            );
        }
        if self.update_revision != self.current_revision {
            return Health::new(
                Progressing,
                format!(
                    "waiting for statefulset rolling update to complete {} pods at revision {}...",
                    self.updated_replicas, self.update_revision
                ),
            );
        }
        Health::new(
            Healthy,
            format!(
                "statefulset rolling update complete {} pods at revision {}...",
                self.current_replicas, self.current_revision
            ),
        )
    }
}

pub(super) fn assess(obj: &Value, _: &Gvk<'_>) -> Result<Health, HealthError> {
    let sts = StatefulSet::decode(obj).map_err(HealthError::convert("StatefulSet"))?;
    Ok(sts.health())
}
