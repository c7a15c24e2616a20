//! Ingress (`extensions` and `networking.k8s.io`, any version): read untyped, so a field of the
//! wrong type is simply absent. Healthy once the load balancer reports any ingress entry.

use serde_json::Value;

use super::{Gvk, Health, HealthError, HealthStatus};

pub(super) fn assess(obj: &Value, _: &Gvk<'_>) -> Result<Health, HealthError> {
    let assigned = obj
        .get("status")
        .and_then(|s| s.get("loadBalancer"))
        .and_then(|lb| lb.get("ingress"))
        .and_then(Value::as_array)
        .is_some_and(|list| !list.is_empty());
    let status = if assigned {
        HealthStatus::Healthy
    } else {
        HealthStatus::Progressing
    };
    Ok(Health::new(status, ""))
}
