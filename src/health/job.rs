//! `batch/v1` Job: decided by its finishing conditions only (Failed, Complete, Suspended).
//! `spec.suspend`, the pod counters and the Failed/Complete condition status are not read.

use serde_json::Value;

use super::decode::{Condition, Node};
use super::{Gvk, Health, HealthError, HealthStatus};

pub(super) fn assess(obj: &Value, _: &Gvk<'_>) -> Result<Health, HealthError> {
    let root = Node::root(obj);
    let conditions = Condition::of_status(&root).map_err(HealthError::convert("Job"))?;
    Ok(judge(&conditions))
}

fn judge(conditions: &[Condition<'_>]) -> Health {
    use HealthStatus::*;
    let mut finished = false;
    let mut failed = false;
    let mut suspended = false;
    let mut fail_message = "";
    let mut message = "";
    for condition in conditions {
        match condition.kind {
            "Failed" => {
                failed = true;
                finished = true;
                fail_message = condition.message;
            }
            "Complete" => {
                finished = true;
                message = condition.message;
            }
            // Argo counts any Suspended condition as finished, so a Job resumed after a
            // suspension (Suspended=False, reason JobResumed) reads as Healthy.
            "Suspended" => {
                finished = true;
                message = condition.message;
                suspended |= condition.is_true();
            }
            _ => {}
        }
    }
    if !finished {
        Health::new(Progressing, message)
    } else if failed {
        Health::new(Degraded, fail_message)
    } else if suspended {
        // Argo returns the (necessarily empty) failure message here, not the Suspended one.
        Health::new(Suspended, fail_message)
    } else {
        Health::new(Healthy, message)
    }
}
