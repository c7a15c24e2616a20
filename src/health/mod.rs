//! Health of a live Kubernetes object, the way Argo CD's engine (gitops-engine `pkg/health`)
//! judges it, so that waves and hooks wait for exactly what Argo CD would wait for.
//!
//! Pure: JSON in, status and message out. The rules, kind by kind, follow gitops-engine's
//! `pkg/health/health_<kind>.go`; each kind lives in its own file, this one holds the vocabulary,
//! the global rules (deletion, decode failures) and the dispatch table.
//!
//! [`HealthMode::Kstatus`] is an opt-in beyond Argo CD: kinds Argo has no check for are judged
//! by the common status conventions (see `kstatus.rs`). Built-in kinds keep Argo's rules.
//!
//! Where this differs from Argo CD, on purpose:
//! - An object that is not a Kubernetes object at all (not a JSON object, no `apiVersion` or
//!   `kind`) is `Unknown` with the reason; Argo never sees such objects.
//! - Typed kinds are type-checked on the fields their check reads, not on every field.
//! - A hook whose health cannot be computed is [`HookOutcome::Failed`]; Argo calls that phase
//!   `Error` and its sync treats both the same way.

mod apiservice;
mod daemonset;
mod decode;
mod deployment;
mod hook;
mod hpa;
mod ingress;
mod job;
mod kstatus;
mod pod;
mod pvc;
mod replicaset;
mod service;
mod statefulset;
mod workflow;

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use decode::DecodeError;
pub use hook::{HookOutcome, hook_outcome};

use crate::model::keys::HOOK_FINALIZER;

/// Argo CD's health codes, spelt as Argo spells them (`Display`, serde).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum HealthStatus {
    Healthy,
    Suspended,
    Progressing,
    /// Never produced by a check: the caller says this when a desired object is not live.
    Missing,
    Degraded,
    /// The assessment failed; the message says why.
    Unknown,
}

impl HealthStatus {
    /// Position from best (0) to worst, the order Argo uses to aggregate health.
    pub fn rank(self) -> u8 {
        match self {
            HealthStatus::Healthy => 0,
            HealthStatus::Suspended => 1,
            HealthStatus::Progressing => 2,
            HealthStatus::Missing => 3,
            HealthStatus::Degraded => 4,
            HealthStatus::Unknown => 5,
        }
    }

    pub fn is_worse_than(self, other: HealthStatus) -> bool {
        self.rank() > other.rank()
    }

    pub fn as_str(self) -> &'static str {
        match self {
            HealthStatus::Healthy => "Healthy",
            HealthStatus::Suspended => "Suspended",
            HealthStatus::Progressing => "Progressing",
            HealthStatus::Missing => "Missing",
            HealthStatus::Degraded => "Degraded",
            HealthStatus::Unknown => "Unknown",
        }
    }
}

impl fmt::Display for HealthStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A verdict: the status and Argo's message for it (often empty).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    pub status: HealthStatus,
    pub message: String,
}

impl Health {
    pub fn new(status: HealthStatus, message: impl Into<String>) -> Self {
        Health {
            status,
            message: message.into(),
        }
    }
}

/// Which rules judge kinds that Argo CD has no built-in check for.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum HealthMode {
    /// Exactly Argo CD: no check means no health (which a sync counts as success).
    #[default]
    Argo,
    /// Also judge custom resources and CRDs by common status conventions.
    Kstatus,
}

/// Why an object could not be assessed. Its text is the `Unknown` message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HealthError {
    #[error("object is not a JSON object (found {found})")]
    NotAnObject { found: &'static str },
    #[error("object has no {field}")]
    MissingField { field: &'static str },
    #[error("object's {field} is not a string (found {found})")]
    FieldNotAString {
        field: &'static str,
        found: &'static str,
    },
    #[error("invalid apiVersion {0:?}: expected <group>/<version> or <version>")]
    InvalidApiVersion(String),
    #[error("unsupported {kind} GVK: {gvk}")]
    UnsupportedVersion { kind: &'static str, gvk: String },
    /// A built-in kind whose fields do not have the types Kubernetes defines.
    #[error("failed to convert unstructured {kind} to typed: {source}")]
    Convert {
        kind: &'static str,
        source: DecodeError,
    },
    /// An `autoscaling/v1` HPA whose conditions annotation is not the JSON it should be.
    #[error("failed to convert conditions annotation to typed: {0}")]
    HpaConditionsAnnotation(String),
}

impl HealthError {
    /// For `map_err`: a `kind` whose fields do not decode.
    pub(crate) fn convert(kind: &'static str) -> impl Fn(DecodeError) -> HealthError + Copy {
        move |source| HealthError::Convert { kind, source }
    }
}

/// Health of a live object (JSON as returned by the API server). `None` = Argo CD has no check
/// for this kind. An object that cannot be judged is `Unknown`, with the reason as message.
pub fn assess(obj: &Value, mode: HealthMode) -> Option<Health> {
    match try_assess(obj, mode) {
        Ok(health) => health,
        Err(err) => Some(Health::new(HealthStatus::Unknown, err.to_string())),
    }
}

/// Like [`assess`], but keeps a failed assessment apart from an `Unknown` verdict: Argo treats
/// them differently (a hook whose health errors is in phase Error, a non-hook stays as it is).
pub fn try_assess(obj: &Value, mode: HealthMode) -> Result<Option<Health>, HealthError> {
    let gvk = Gvk::of(obj)?;
    // First, for every kind, even those without a check: an object on its way out is not
    // healthy yet, unless it is an Argo hook still holding its finalizer.
    if pending_deletion(obj) {
        return Ok(Some(Health::new(
            HealthStatus::Progressing,
            "Pending deletion",
        )));
    }
    if let Some(check) = CHECKS
        .iter()
        .find(|c| c.group == gvk.group && c.kind == gvk.kind)
    {
        if !check.versions.allows(gvk.version) {
            return Err(HealthError::UnsupportedVersion {
                kind: check.label,
                gvk: gvk.to_string(),
            });
        }
        return (check.assess)(obj, &gvk).map(Some);
    }
    Ok(match mode {
        HealthMode::Argo => None,
        HealthMode::Kstatus => kstatus::assess(obj, &gvk),
    })
}

/// Group, version and kind of an object, read from `apiVersion` and `kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Gvk<'a> {
    pub group: &'a str,
    pub version: &'a str,
    pub kind: &'a str,
}

impl<'a> Gvk<'a> {
    fn of(obj: &'a Value) -> Result<Self, HealthError> {
        let map = obj.as_object().ok_or(HealthError::NotAnObject {
            found: decode::json_type(obj),
        })?;
        let text = |field: &'static str| match map.get(field) {
            None | Some(Value::Null) => Err(HealthError::MissingField { field }),
            Some(Value::String(s)) if s.is_empty() => Err(HealthError::MissingField { field }),
            Some(Value::String(s)) => Ok(s.as_str()),
            Some(other) => Err(HealthError::FieldNotAString {
                field,
                found: decode::json_type(other),
            }),
        };
        let api_version = text("apiVersion")?;
        let kind = text("kind")?;
        // Same split as Kubernetes: `v1` is the core group, `apps/v1` a named one.
        let (group, version) = crate::manifest::split_api_version(api_version);
        if version.contains('/') {
            return Err(HealthError::InvalidApiVersion(api_version.to_string()));
        }
        Ok(Gvk {
            group,
            version,
            kind,
        })
    }
}

/// Written the way Kubernetes prints a GVK in the "unsupported" errors: `apps/v1, Kind=Deployment`,
/// and `/v1, Kind=Pod` for the core group.
impl fmt::Display for Gvk<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}, Kind={}", self.group, self.version, self.kind)
    }
}

/// `metadata.deletionTimestamp` is set and the hook finalizer is absent. Read the way Kubernetes'
/// untyped accessors read them: a value of the wrong type counts as absent, and a finalizer list
/// with a non-string entry counts as no finalizers.
fn pending_deletion(obj: &Value) -> bool {
    let meta = obj.get("metadata");
    let deleting = meta
        .and_then(|m| m.get("deletionTimestamp"))
        .and_then(Value::as_str)
        .is_some_and(|ts| !ts.is_empty());
    if !deleting {
        return false;
    }
    let finalizers = meta
        .and_then(|m| m.get("finalizers"))
        .and_then(Value::as_array);
    let holds_hook_finalizer = finalizers.is_some_and(|list| {
        list.iter().all(Value::is_string) && list.iter().any(|f| f == HOOK_FINALIZER)
    });
    !holds_hook_finalizer
}

/// One row of the dispatch table: Argo picks a check by group and kind, and the check itself
/// refuses versions it does not know.
struct Check {
    group: &'static str,
    kind: &'static str,
    versions: Versions,
    /// The name used in "unsupported ... GVK" (Argo says "HPA" for autoscalers).
    label: &'static str,
    assess: fn(&Value, &Gvk<'_>) -> Result<Health, HealthError>,
}

enum Versions {
    Any,
    Only(&'static [&'static str]),
}

impl Versions {
    fn allows(&self, version: &str) -> bool {
        match self {
            Versions::Any => true,
            Versions::Only(list) => list.contains(&version),
        }
    }
}

const V1: Versions = Versions::Only(&["v1"]);

/// Every kind Argo CD's engine has a built-in check for; anything else has no health.
#[rustfmt::skip]
const CHECKS: &[Check] = &[
    Check { group: "apps", kind: "Deployment", versions: V1, label: "Deployment", assess: deployment::assess },
    Check { group: "apps", kind: "StatefulSet", versions: V1, label: "StatefulSet", assess: statefulset::assess },
    Check { group: "apps", kind: "ReplicaSet", versions: V1, label: "ReplicaSet", assess: replicaset::assess },
    Check { group: "apps", kind: "DaemonSet", versions: V1, label: "DaemonSet", assess: daemonset::assess },
    Check { group: "extensions", kind: "Ingress", versions: Versions::Any, label: "Ingress", assess: ingress::assess },
    Check { group: "networking.k8s.io", kind: "Ingress", versions: Versions::Any, label: "Ingress", assess: ingress::assess },
    Check { group: "argoproj.io", kind: "Workflow", versions: Versions::Any, label: "Workflow", assess: workflow::assess },
    Check { group: "apiregistration.k8s.io", kind: "APIService", versions: Versions::Only(&["v1", "v1beta1"]), label: "APIService", assess: apiservice::assess },
    Check { group: "", kind: "Service", versions: V1, label: "Service", assess: service::assess },
    Check { group: "", kind: "PersistentVolumeClaim", versions: V1, label: "PersistentVolumeClaim", assess: pvc::assess },
    Check { group: "", kind: "Pod", versions: V1, label: "Pod", assess: pod::assess },
    Check { group: "batch", kind: "Job", versions: V1, label: "Job", assess: job::assess },
    Check { group: "autoscaling", kind: "HorizontalPodAutoscaler", versions: Versions::Only(&["v1", "v2beta1", "v2beta2", "v2"]), label: "HPA", assess: hpa::assess },
];

/// Quote a string the way Go's `%q` does, since Argo's messages embed names with it.
pub(crate) fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x0b' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\x7f' => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ranks_follow_argo_order() {
        use HealthStatus::*;
        let order = [Healthy, Suspended, Progressing, Missing, Degraded, Unknown];
        for pair in order.windows(2) {
            assert!(pair[1].is_worse_than(pair[0]), "{} vs {}", pair[1], pair[0]);
            assert!(!pair[0].is_worse_than(pair[1]));
        }
        assert!(!Healthy.is_worse_than(Healthy));
    }

    #[test]
    fn status_serializes_as_argo_spelling() {
        assert_eq!(
            serde_json::to_value(HealthStatus::Progressing).unwrap(),
            json!("Progressing")
        );
        assert_eq!(HealthStatus::Degraded.to_string(), "Degraded");
        let health: Health =
            serde_json::from_value(json!({"status": "Suspended", "message": "m"})).unwrap();
        assert_eq!(health, Health::new(HealthStatus::Suspended, "m"));
    }

    #[test]
    fn gvk_splits_core_and_named_groups() {
        let core = json!({"apiVersion": "v1", "kind": "Pod"});
        let gvk = Gvk::of(&core).unwrap();
        assert_eq!((gvk.group, gvk.version, gvk.kind), ("", "v1", "Pod"));
        assert_eq!(gvk.to_string(), "/v1, Kind=Pod");
        let apps = json!({"apiVersion": "apps/v1beta2", "kind": "Deployment"});
        assert_eq!(
            Gvk::of(&apps).unwrap().to_string(),
            "apps/v1beta2, Kind=Deployment"
        );
    }

    #[test]
    fn envelope_errors_are_reasons_not_panics() {
        let cases = [
            (json!([1, 2]), "object is not a JSON object (found array)"),
            (json!("Pod"), "object is not a JSON object (found string)"),
            (json!({"kind": "Pod"}), "object has no apiVersion"),
            (json!({"apiVersion": "v1"}), "object has no kind"),
            (
                json!({"apiVersion": "v1", "kind": ""}),
                "object has no kind",
            ),
            (
                json!({"apiVersion": 1, "kind": "Pod"}),
                "object's apiVersion is not a string (found number)",
            ),
            (
                json!({"apiVersion": "a/b/v1", "kind": "Pod"}),
                "invalid apiVersion \"a/b/v1\": expected <group>/<version> or <version>",
            ),
        ];
        for (obj, message) in cases {
            let health = assess(&obj, HealthMode::Argo).unwrap();
            assert_eq!(health, Health::new(HealthStatus::Unknown, message), "{obj}");
        }
    }

    #[test]
    fn deletion_reads_metadata_like_untyped_accessors() {
        let deleting = |finalizers: Value| {
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {
                "deletionTimestamp": "2024-01-01T00:00:00Z", "finalizers": finalizers}})
        };
        assert!(pending_deletion(&deleting(json!(null))));
        assert!(pending_deletion(&deleting(json!(["other"]))));
        assert!(!pending_deletion(&deleting(json!([HOOK_FINALIZER]))));
        // A list that is not all strings reads as no finalizers at all.
        assert!(pending_deletion(&deleting(json!([HOOK_FINALIZER, 3]))));
        let not_deleting = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"deletionTimestamp": 12}});
        assert!(!pending_deletion(&not_deleting));
    }

    #[test]
    fn go_quote_escapes_like_go() {
        assert_eq!(go_quote("web"), "\"web\"");
        assert_eq!(go_quote("a\"b\\c\n\u{1}"), "\"a\\\"b\\\\c\\n\\x01\"");
        assert_eq!(go_quote("été"), "\"été\"");
    }
}
