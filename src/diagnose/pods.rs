//! Containers that do not run as they should: waiting reasons (ImagePullBackOff,
//! CreateContainerConfigError, CrashLoopBackOff with its restart count), terminated ones with
//! their exit codes (OOMKilled too), unschedulable pods.

use super::str_at;
use serde::Serialize;
use serde_json::Value;
use std::collections::HashSet;

/// Waiting reasons of a container that is merely on its way.
const ON_THE_WAY: [&str; 2] = ["ContainerCreating", "PodInitializing"];

/// One container (or pod) problem, from the newest pod that shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PodProblem {
    pub pod: String,
    /// Empty for a pod-level problem (Unschedulable).
    pub container: String,
    #[serde(rename = "initContainer")]
    pub init: bool,
    /// `waiting`, `terminated`, `running` or `scheduling`.
    pub state: &'static str,
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The exit code of the container, or of its last run when it is waiting to restart.
    #[serde(rename = "exitCode", skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i64>,
    #[serde(rename = "lastReason", skip_serializing_if = "Option::is_none")]
    pub last_reason: Option<String>,
    pub restarts: i64,
    /// Other pods of the object with the same problem.
    #[serde(rename = "otherPods")]
    pub other_pods: usize,
}

impl PodProblem {
    pub(super) fn identity(&self) -> String {
        format!("{}/{}/{}", self.init, self.container, self.reason)
    }
}

impl std::fmt::Display for PodProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "pod/{}", self.pod)?;
        if !self.container.is_empty() {
            let what = if self.init {
                "init container"
            } else {
                "container"
            };
            write!(f, " {what} {}", self.container)?;
        }
        write!(f, ": {}", self.reason)?;
        if self.state == "running" {
            write!(f, " (running, not ready)")?;
        }
        if self.restarts > 0 {
            let s = if self.restarts == 1 { "" } else { "s" };
            write!(f, ", {} restart{s}", self.restarts)?;
        }
        if let Some(code) = self.exit_code {
            let last = if self.state == "terminated" {
                ""
            } else {
                "last "
            };
            write!(f, ", {last}exit code {code}")?;
            if let Some(reason) = self.last_reason.as_deref().filter(|r| *r != self.reason) {
                write!(f, " ({reason})")?;
            }
        }
        if let Some(message) = self.message.as_deref().filter(|m| !m.is_empty()) {
            write!(f, ": {}", short(message, 200))?;
        }
        if self.other_pods > 0 {
            let s = if self.other_pods == 1 { "" } else { "s" };
            write!(f, " (and {} more pod{s})", self.other_pods)?;
        }
        Ok(())
    }
}

/// At most `max` characters, on one line.
pub(super) fn short(s: &str, max: usize) -> String {
    let line = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() > max {
        format!("{}…", line.chars().take(max - 1).collect::<String>())
    } else {
        line
    }
}

fn uid(v: &Value) -> Option<&str> {
    str_at(v, "/metadata/uid")
}

fn owned_by(v: &Value, owners: &HashSet<&str>) -> bool {
    v.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .is_some_and(|refs| {
            refs.iter()
                .any(|r| str_at(r, "/uid").is_some_and(|u| owners.contains(u)))
        })
}

/// The pods that belong to the object: owned by it, or by what lies between that it owns.
/// A Pod is its own pod. Newest first.
pub fn owned_pods<'a>(
    object: &'a Value,
    between: &'a [Value],
    pods: &'a [Value],
) -> Vec<&'a Value> {
    if str_at(object, "/kind") == Some("Pod") {
        return vec![object];
    }
    let mut owners: HashSet<&str> = uid(object).into_iter().collect();
    let direct = owners.clone();
    owners.extend(
        between
            .iter()
            .filter(|b| owned_by(b, &direct))
            .filter_map(uid),
    );
    let mut owned: Vec<&Value> = pods.iter().filter(|p| owned_by(p, &owners)).collect();
    // RFC 3339 timestamps of one server sort as text.
    owned.sort_by(|a, b| {
        let at = |p: &Value| {
            str_at(p, "/metadata/creationTimestamp")
                .unwrap_or("")
                .to_owned()
        };
        at(b)
            .cmp(&at(a))
            .then_with(|| str_at(a, "/metadata/name").cmp(&str_at(b, "/metadata/name")))
    });
    owned
}

/// The problems of the pods (newest pod first), one per (container, reason), at most `max`.
/// For a Job, only its newest failed pod counts once one failed: earlier attempts are history.
pub fn pod_problems(object: &Value, pods: &[&Value], max: usize) -> Vec<PodProblem> {
    let is_job = str_at(object, "/kind") == Some("Job");
    let failed = |p: &&&Value| str_at(p, "/status/phase") == Some("Failed");
    let chosen: Vec<&Value> = match pods.iter().find(failed) {
        Some(last_failed) if is_job => vec![*last_failed],
        _ => pods.to_vec(),
    };
    let mut out: Vec<PodProblem> = Vec::new();
    for pod in chosen {
        for problem in problems_of(pod) {
            match out.iter_mut().find(|p| p.identity() == problem.identity()) {
                Some(seen) => seen.other_pods += 1,
                None => out.push(problem),
            }
        }
    }
    out.truncate(max);
    out
}

fn problems_of(pod: &Value) -> Vec<PodProblem> {
    let name = str_at(pod, "/metadata/name").unwrap_or("?").to_owned();
    let phase = str_at(pod, "/status/phase").unwrap_or("");
    // Readiness matters for serving pods only: a Job's running pod is doing its work.
    let readiness_matters = !matches!(phase, "Succeeded" | "Failed")
        && !matches!(
            str_at(pod, "/spec/restartPolicy"),
            Some("Never" | "OnFailure")
        );
    let mut out = Vec::new();
    let conditions = pod.pointer("/status/conditions").and_then(Value::as_array);
    let unscheduled = conditions.into_iter().flatten().find(|c| {
        str_at(c, "/type") == Some("PodScheduled") && str_at(c, "/status") == Some("False")
    });
    let scheduling = |reason: &str, message: Option<String>| PodProblem {
        pod: name.clone(),
        container: String::new(),
        init: false,
        state: "scheduling",
        reason: reason.to_owned(),
        message,
        exit_code: None,
        last_reason: None,
        restarts: 0,
        other_pods: 0,
    };
    if let Some(c) = unscheduled {
        out.push(scheduling(
            str_at(c, "/reason").unwrap_or("Unschedulable"),
            str_at(c, "/message").map(str::to_owned),
        ));
    } else if let Some(message) = never_scheduled(pod, phase) {
        out.push(scheduling("NotScheduled", Some(message)));
    }
    for (pointer, init) in [
        ("/status/initContainerStatuses", true),
        ("/status/containerStatuses", false),
    ] {
        let statuses = pod.pointer(pointer).and_then(Value::as_array);
        for s in statuses.into_iter().flatten() {
            if let Some(p) = container_problem(&name, s, init, readiness_matters) {
                out.push(p);
            }
        }
    }
    out
}

/// A pending pod that no scheduler has looked at: no node, no `PodScheduled` condition (a
/// scheduler sets it to False when it cannot place a pod), no container status. The default
/// scheduler binds a pod within moments, so by the time a task is explained this says that
/// none is running, or that the pod names a scheduler (`spec.schedulerName`) nobody runs.
fn never_scheduled(pod: &Value, phase: &str) -> Option<String> {
    let untouched = matches!(phase, "" | "Pending")
        && pod.pointer("/spec/nodeName").is_none()
        && pod.pointer("/metadata/deletionTimestamp").is_none()
        && pod.pointer("/status/containerStatuses").is_none()
        && pod.pointer("/status/initContainerStatuses").is_none();
    if !untouched {
        return None;
    }
    Some(match str_at(pod, "/spec/schedulerName") {
        Some(scheduler) if scheduler != "default-scheduler" => {
            format!("no node assigned: no scheduler named \"{scheduler}\" has taken it")
        }
        _ => "no node assigned, and no scheduler has said why (is one running?)".to_owned(),
    })
}

fn container_problem(
    pod: &str,
    s: &Value,
    init: bool,
    readiness_matters: bool,
) -> Option<PodProblem> {
    let last = s.pointer("/lastState/terminated");
    let restarts = s
        .pointer("/restartCount")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let mut problem = PodProblem {
        pod: pod.to_owned(),
        container: str_at(s, "/name").unwrap_or("?").to_owned(),
        init,
        state: "waiting",
        reason: String::new(),
        message: None,
        exit_code: last
            .and_then(|t| t.pointer("/exitCode"))
            .and_then(Value::as_i64),
        last_reason: last.and_then(|t| str_at(t, "/reason")).map(str::to_owned),
        restarts,
        other_pods: 0,
    };
    if let Some(waiting) = s.pointer("/state/waiting") {
        let reason = str_at(waiting, "/reason").unwrap_or("Waiting");
        if ON_THE_WAY.contains(&reason) {
            return None;
        }
        problem.reason = reason.to_owned();
        problem.message = str_at(waiting, "/message").map(str::to_owned);
        // The kubelet's back-off message repeats the container and pod names; the reason and
        // restart count say it all.
        if reason == "CrashLoopBackOff" {
            problem.message = None;
        }
        return Some(problem);
    }
    if let Some(t) = s.pointer("/state/terminated") {
        let code = t.pointer("/exitCode").and_then(Value::as_i64).unwrap_or(0);
        if code == 0 {
            return None;
        }
        problem.state = "terminated";
        problem.reason = str_at(t, "/reason").unwrap_or("Error").to_owned();
        problem.message = str_at(t, "/message").map(str::to_owned);
        problem.exit_code = Some(code);
        problem.last_reason = None;
        return Some(problem);
    }
    let ready = s
        .pointer("/ready")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if s.pointer("/state/running").is_some() && !ready && !init && readiness_matters {
        problem.state = "running";
        problem.reason = "NotReady".to_owned();
        return Some(problem);
    }
    None
}
