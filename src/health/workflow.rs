//! Argo Workflow (`argoproj.io`, any version): its phase, read untyped, with its message.

use serde_json::Value;

use super::{Gvk, Health, HealthError, HealthStatus};

pub(super) fn assess(obj: &Value, _: &Gvk<'_>) -> Result<Health, HealthError> {
    let status = obj.get("status");
    let text = |key: &str| status.and_then(|s| s.get(key)).and_then(Value::as_str);
    let verdict = match text("phase").unwrap_or("") {
        "" | "Pending" | "Running" => HealthStatus::Progressing,
        "Succeeded" => HealthStatus::Healthy,
        "Failed" | "Error" => HealthStatus::Degraded,
        _ => HealthStatus::Unknown,
    };
    Ok(Health::new(verdict, text("message").unwrap_or("")))
}
