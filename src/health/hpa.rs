//! HorizontalPodAutoscaler (`autoscaling/v1`, `v2beta1`, `v2beta2`, `v2`): the first condition
//! that says "broken" or "able to scale" decides, in list order.

use serde_json::Value;

use super::decode::{Condition, DecodeError, Node};
use super::{Gvk, Health, HealthError, HealthStatus};

/// Where `autoscaling/v1` keeps the conditions it has no field for.
const CONDITIONS_ANNOTATION: &str = "autoscaling.alpha.kubernetes.io/conditions";

/// (type, reason) pairs that mean the autoscaler cannot do its job, whatever the status says.
const FAILURES: &[(&str, &str)] = &[
    ("AbleToScale", "FailedGetScale"),
    ("AbleToScale", "FailedUpdateScale"),
    ("ScalingActive", "FailedGetResourceMetric"),
    ("ScalingActive", "InvalidSelector"),
];

pub(super) fn assess(obj: &Value, gvk: &Gvk<'_>) -> Result<Health, HealthError> {
    let convert = HealthError::convert("HPA");
    let root = Node::root(obj);
    if gvk.version != "v1" {
        let conditions = Condition::of_status(&root).map_err(convert)?;
        return Ok(judge(&conditions));
    }
    let annotation = v1_annotation(&root).map_err(convert)?;
    let Some(raw) = annotation else {
        return Ok(waiting());
    };
    let parsed: Value = serde_json::from_str(raw)
        .map_err(|e| HealthError::HpaConditionsAnnotation(e.to_string()))?;
    let conditions = annotation_conditions(&parsed)
        .map_err(|e| HealthError::HpaConditionsAnnotation(e.to_string()))?;
    Ok(judge(&conditions))
}

fn v1_annotation<'v>(root: &Node<'v, '_>) -> Result<Option<&'v str>, DecodeError> {
    let meta = root.field("metadata")?;
    let annotations = meta.field("annotations")?;
    annotations.check_string_map()?;
    // Present with an empty value is still present: it then fails to parse, as in Argo.
    if !annotations.has(CONDITIONS_ANNOTATION)? {
        return Ok(None);
    }
    Ok(Some(annotations.field(CONDITIONS_ANNOTATION)?.str()?))
}

/// The annotation's JSON, matched the way Go's `encoding/json` matches keys: case-insensitively.
fn annotation_conditions(parsed: &Value) -> Result<Vec<Condition<'_>>, DecodeError> {
    let root = Node::root(parsed);
    root.items()?
        .map(|item| {
            Ok(Condition {
                kind: item.field_ci("type")?.str()?,
                status: item.field_ci("status")?.str()?,
                reason: item.field_ci("reason")?.str()?,
                message: item.field_ci("message")?.str()?,
            })
        })
        .collect()
}

fn judge(conditions: &[Condition<'_>]) -> Health {
    for condition in conditions {
        if FAILURES.contains(&(condition.kind, condition.reason)) {
            return Health::new(HealthStatus::Degraded, condition.message);
        }
        if matches!(condition.kind, "AbleToScale" | "ScalingLimited") && condition.is_true() {
            return Health::new(HealthStatus::Healthy, condition.message);
        }
    }
    waiting()
}

fn waiting() -> Health {
    Health::new(HealthStatus::Progressing, "Waiting to Autoscale")
}
