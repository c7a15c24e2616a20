//! `v1` Service: only a LoadBalancer has something to wait for, an ingress entry in its status.

use serde_json::Value;

use super::decode::{DecodeError, Node};
use super::{Gvk, Health, HealthError, HealthStatus};

pub(super) fn assess(obj: &Value, _: &Gvk<'_>) -> Result<Health, HealthError> {
    let (service_type, ingresses) = decode(obj).map_err(HealthError::convert("Service"))?;
    // Any entry counts, even `{}`: Argo checks the list is non-empty, not that it has an address.
    let status = if service_type == "LoadBalancer" && ingresses == 0 {
        HealthStatus::Progressing
    } else {
        HealthStatus::Healthy
    };
    Ok(Health::new(status, ""))
}

fn decode(obj: &Value) -> Result<(&str, usize), DecodeError> {
    let root = Node::root(obj);
    let service_type = root.field("spec")?.field("type")?.str()?;
    let status = root.field("status")?;
    let load_balancer = status.field("loadBalancer")?;
    let list = load_balancer.field("ingress")?;
    let mut count = 0;
    for entry in list.items()? {
        // Entries are structs: a `null` entry is an empty one, anything else must be an object.
        entry.is_set()?;
        count += 1;
    }
    Ok((service_type, count))
}
