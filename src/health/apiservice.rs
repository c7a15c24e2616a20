//! APIService (`apiregistration.k8s.io/v1` and `v1beta1`): its Available condition. A backend
//! that is down keeps it Progressing, never Degraded.

use serde_json::Value;

use super::decode::{Condition, Node, first};
use super::{Gvk, Health, HealthError, HealthStatus};

pub(super) fn assess(obj: &Value, _: &Gvk<'_>) -> Result<Health, HealthError> {
    let root = Node::root(obj);
    let conditions = Condition::of_status(&root).map_err(HealthError::convert("APIService"))?;
    Ok(match first(&conditions, "Available") {
        Some(available) => {
            let status = if available.is_true() {
                HealthStatus::Healthy
            } else {
                HealthStatus::Progressing
            };
            Health::new(
                status,
                format!("{}: {}", available.reason, available.message),
            )
        }
        None => Health::new(HealthStatus::Progressing, "Waiting to be processed"),
    })
}
