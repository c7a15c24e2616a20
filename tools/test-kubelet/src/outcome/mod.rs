//! What happens to a pod: read from its annotations, turned into the `status` a kubelet would
//! write and the events it would record. Pure (no I/O), so every outcome is unit-tested.

mod status;
#[cfg(test)]
mod tests;

pub use status::{EventSpec, Plan, plan};

use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use kube::ResourceExt;

pub const OUTCOME_ANNOTATION: &str = "test.kubectl-hooks.io/outcome";
pub const DELAY_ANNOTATION: &str = "test.kubectl-hooks.io/delay";
pub const CONTAINER_ANNOTATION: &str = "test.kubectl-hooks.io/container";
pub const RESTARTS_ANNOTATION: &str = "test.kubectl-hooks.io/restarts";
pub const EXIT_CODE_ANNOTATION: &str = "test.kubectl-hooks.io/exit-code";
pub const RUN_FOR_ANNOTATION: &str = "test.kubectl-hooks.io/run-for";
pub const DEFAULT_DELAY: Duration = Duration::from_millis(200);
const DEFAULT_RESTARTS: i32 = 3;

/// What the test asked to happen to a pod.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Succeed,
    Fail,
    CrashLoop,
    NeverReady,
    Pending,
    Unschedulable,
    ImagePullBackOff,
    ErrImagePull,
    CreateConfigError,
    OomKilled,
}

pub const OUTCOME_NAMES: &str = "succeed, fail, crashloop, never-ready, pending, unschedulable, \
    image-pull-backoff, err-image-pull, create-config-error or oom-killed";

impl Outcome {
    fn parse(s: &str) -> Option<Self> {
        Some(match s.trim() {
            "succeed" => Self::Succeed,
            "fail" => Self::Fail,
            "crashloop" => Self::CrashLoop,
            "never-ready" => Self::NeverReady,
            "pending" => Self::Pending,
            "unschedulable" => Self::Unschedulable,
            "image-pull-backoff" => Self::ImagePullBackOff,
            "err-image-pull" => Self::ErrImagePull,
            "create-config-error" => Self::CreateConfigError,
            "oom-killed" => Self::OomKilled,
            _ => return None,
        })
    }
}

/// Everything the annotations of a pod ask for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub outcome: Outcome,
    pub delay: Duration,
    /// The one container (init or app) the outcome applies to; `None`: every app container.
    pub container: Option<String>,
    pub restarts: i32,
    pub exit_code: i32,
    /// How long the containers run before the final status (`Running` meanwhile).
    pub run_for: Duration,
}

/// Parses `300ms`, `2s`, `1.5s`, `1m`, or a bare number of milliseconds.
pub fn parse_delay(s: &str) -> Option<Duration> {
    let s = s.trim();
    let (number, unit_ms) = if let Some(n) = s.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1000.0)
    } else if let Some(n) = s.strip_suffix('m') {
        (n, 60_000.0)
    } else {
        (s, 1.0)
    };
    let value: f64 = number.trim().parse().ok()?;
    if !value.is_finite() || value < 0.0 || value * unit_ms > 3_600_000.0 {
        return None;
    }
    Some(Duration::from_secs_f64(value * unit_ms / 1000.0))
}

/// Reads the annotations of a pod.
pub fn requested(pod: &Pod) -> Result<Request, String> {
    let annotations = pod.annotations();
    let outcome = match annotations.get(OUTCOME_ANNOTATION) {
        None => Outcome::Succeed,
        Some(s) => Outcome::parse(s)
            .ok_or_else(|| format!("unknown {OUTCOME_ANNOTATION} {s:?} (want {OUTCOME_NAMES})"))?,
    };
    let delay = match annotations.get(DELAY_ANNOTATION) {
        None => DEFAULT_DELAY,
        Some(s) => parse_delay(s)
            .ok_or_else(|| format!("invalid {DELAY_ANNOTATION} {s:?} (want e.g. 300ms, 2s, 1m)"))?,
    };
    let number = |key: &str, default: i32, range: std::ops::RangeInclusive<i32>| match annotations
        .get(key)
    {
        None => Ok(default),
        Some(s) => s
            .trim()
            .parse::<i32>()
            .ok()
            .filter(|n| range.contains(n))
            .ok_or_else(|| format!("invalid {key} {s:?} (want a number in {range:?})")),
    };
    let restarts = number(RESTARTS_ANNOTATION, DEFAULT_RESTARTS, 1..=10_000)?;
    let exit_code = number(EXIT_CODE_ANNOTATION, 1, 1..=255)?;
    let run_for = match annotations.get(RUN_FOR_ANNOTATION) {
        None => Duration::ZERO,
        Some(s) => parse_delay(s).ok_or_else(|| {
            format!("invalid {RUN_FOR_ANNOTATION} {s:?} (want e.g. 300ms, 2s, 1m)")
        })?,
    };
    let container = annotations.get(CONTAINER_ANNOTATION).cloned();
    if let Some(name) = &container {
        let spec = pod.spec.clone().unwrap_or_default();
        let known = spec
            .init_containers
            .iter()
            .flatten()
            .chain(&spec.containers)
            .any(|c| &c.name == name);
        if !known {
            return Err(format!(
                "{CONTAINER_ANNOTATION} {name:?} names no container of the pod"
            ));
        }
    }
    Ok(Request {
        outcome,
        delay,
        container,
        restarts,
        exit_code,
        run_for,
    })
}

/// Whether a pod runs to completion (`restartPolicy` `Never` or `OnFailure`, as Job pods do).
pub fn runs_to_completion(pod: &Pod) -> bool {
    let policy = pod.spec.as_ref().and_then(|s| s.restart_policy.as_deref());
    matches!(policy, Some("Never" | "OnFailure"))
}
