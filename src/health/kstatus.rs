//! Opt-in judgement of kinds Argo CD has no check for ([`HealthMode::Kstatus`]), by the status
//! conventions most controllers follow (Kubernetes API conventions, kstatus, Flux, Crossplane):
//!
//! 1. `status.observedGeneration` present and behind `metadata.generation`: Progressing, the
//!    controller has not looked at the latest spec, so its conditions are stale.
//! 2. `Stalled=True`: Degraded, the controller gave up.
//! 3. `Reconciling=True`: Progressing.
//! 4. `Ready`: `True` is Healthy. `False` is Degraded when its reason names a failure (contains
//!    `Fail` or `Error`, as in `ReconciliationFailed` or `InstallError`), Progressing otherwise,
//!    since many controllers report `Ready=False` while still creating things. Any other status
//!    (`Unknown`) is Progressing.
//! 5. Nothing of the above (no status, no such conditions): no opinion, as in Argo mode.
//!
//! A CustomResourceDefinition is Healthy once `Established=True` and Progressing until then, so
//! a wave that creates a CRD waits before the next wave creates its custom resources.
//!
//! Status is read leniently, like any untyped object: a field of an unexpected shape is absent.
//!
//! [`HealthMode::Kstatus`]: super::HealthMode::Kstatus

use serde_json::Value;

use super::{Gvk, Health, HealthStatus};

/// A condition read leniently: missing or non-string fields are empty.
struct Condition<'v> {
    kind: &'v str,
    status: &'v str,
    reason: &'v str,
    message: &'v str,
}

impl<'v> Condition<'v> {
    fn read(value: &'v Value) -> Option<Self> {
        let text = |key| value.get(key).and_then(Value::as_str).unwrap_or("");
        value.as_object()?;
        Some(Condition {
            kind: text("type"),
            status: text("status"),
            reason: text("reason"),
            message: text("message"),
        })
    }

    /// The condition's own words: its message, else its reason, else its type and status.
    fn describe(&self) -> String {
        if !self.message.is_empty() {
            self.message.to_string()
        } else if !self.reason.is_empty() {
            self.reason.to_string()
        } else {
            format!("{}={}", self.kind, self.status)
        }
    }

    fn names_failure(&self) -> bool {
        let reason = self.reason.to_ascii_lowercase();
        reason.contains("fail") || reason.contains("error")
    }
}

fn conditions(status: Option<&Value>) -> Vec<Condition<'_>> {
    status
        .and_then(|s| s.get("conditions"))
        .and_then(Value::as_array)
        .map(|list| list.iter().filter_map(Condition::read).collect())
        .unwrap_or_default()
}

fn find<'a, 'v>(conditions: &'a [Condition<'v>], kind: &str) -> Option<&'a Condition<'v>> {
    conditions.iter().find(|c| c.kind == kind)
}

pub(super) fn assess(obj: &Value, gvk: &Gvk<'_>) -> Option<Health> {
    use HealthStatus::*;
    let status = obj.get("status").filter(|s| s.is_object());
    if gvk.group == "apiextensions.k8s.io" && gvk.kind == "CustomResourceDefinition" {
        return Some(crd(&conditions(status)));
    }
    let status = status?;
    let generation = obj
        .get("metadata")
        .and_then(|m| m.get("generation"))
        .and_then(Value::as_i64)
        .unwrap_or(0);
    if let Some(observed) = status.get("observedGeneration").and_then(Value::as_i64)
        && observed < generation
    {
        return Some(Health::new(
            Progressing,
            format!("waiting for the controller to observe generation {generation}"),
        ));
    }
    let conditions = conditions(Some(status));
    let is_true = |kind| find(&conditions, kind).filter(|c| c.status == "True");
    if let Some(stalled) = is_true("Stalled") {
        return Some(Health::new(Degraded, stalled.describe()));
    }
    if let Some(reconciling) = is_true("Reconciling") {
        return Some(Health::new(Progressing, reconciling.describe()));
    }
    let ready = find(&conditions, "Ready")?;
    let verdict = match ready.status {
        "True" => Healthy,
        "False" if ready.names_failure() => Degraded,
        _ => Progressing,
    };
    Some(Health::new(verdict, ready.describe()))
}

fn crd(conditions: &[Condition<'_>]) -> Health {
    match find(conditions, "Established").filter(|c| c.status == "True") {
        Some(established) => Health::new(HealthStatus::Healthy, established.message),
        None => Health::new(
            HealthStatus::Progressing,
            "waiting for the CustomResourceDefinition to be established",
        ),
    }
}
