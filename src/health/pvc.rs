//! `v1` PersistentVolumeClaim: by phase alone.

use serde_json::Value;

use super::decode::Node;
use super::{Gvk, Health, HealthError, HealthStatus};

pub(super) fn assess(obj: &Value, _: &Gvk<'_>) -> Result<Health, HealthError> {
    let root = Node::root(obj);
    let phase = root
        .field("status")
        .and_then(|status| status.field("phase")?.str())
        .map_err(HealthError::convert("PersistentVolumeClaim"))?;
    let status = match phase {
        "Bound" => HealthStatus::Healthy,
        "Pending" => HealthStatus::Progressing,
        "Lost" => HealthStatus::Degraded,
        _ => HealthStatus::Unknown,
    };
    Ok(Health::new(status, ""))
}
