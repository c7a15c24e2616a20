//! `apps/v1` DaemonSet: observed generation, then scheduled and available pod counts.
//! Never Degraded.

use serde_json::Value;

use super::decode::{DecodeError, Node};
use super::{Gvk, Health, HealthError, HealthStatus, go_quote};

struct DaemonSet<'v> {
    name: &'v str,
    generation: i64,
    strategy: &'v str,
    observed_generation: i64,
    desired: i64,
    updated: i64,
    available: i64,
}

impl<'v> DaemonSet<'v> {
    fn decode(obj: &'v Value) -> Result<Self, DecodeError> {
        let root = Node::root(obj);
        let meta = root.field("metadata")?;
        let spec = root.field("spec")?;
        let status = root.field("status")?;
        Ok(DaemonSet {
            name: meta.field("name")?.str()?,
            generation: meta.field("generation")?.int64()?,
            strategy: spec.field("updateStrategy")?.field("type")?.str()?,
            observed_generation: status.field("observedGeneration")?.int64()?,
            desired: status.field("desiredNumberScheduled")?.int32()?,
            updated: status.field("updatedNumberScheduled")?.int32()?,
            available: status.field("numberAvailable")?.int32()?,
        })
    }

    fn health(&self) -> Health {
        use HealthStatus::*;
        if self.generation > self.observed_generation {
            return Health::new(
                Progressing,
                "Waiting for rollout to finish: observed daemon set generation less than desired generation",
            );
        }
        // Pods are replaced only when deleted: report the counts, do not wait on them.
        if self.strategy == "OnDelete" {
            return Health::new(
                Healthy,
                format!(
                    "daemon set {} out of {} new pods have been updated",
                    self.updated, self.desired
                ),
            );
        }
        if self.updated < self.desired {
            return Health::new(
                Progressing,
                format!(
                    "Waiting for daemon set {} rollout to finish: {} out of {} new pods have been updated...",
                    go_quote(self.name),
                    self.updated,
                    self.desired
                ),
            );
        }
        if self.available < self.desired {
            return Health::new(
                Progressing,
                format!(
                    "Waiting for daemon set {} rollout to finish: {} of {} updated pods are available...",
                    go_quote(self.name),
                    self.available,
                    self.desired
                ),
            );
        }
        Health::new(Healthy, "")
    }
}

pub(super) fn assess(obj: &Value, _: &Gvk<'_>) -> Result<Health, HealthError> {
    let ds = DaemonSet::decode(obj).map_err(HealthError::convert("DaemonSet"))?;
    Ok(ds.health())
}
