//! What happens to a pod: read from its annotations, turned into the `status` a kubelet would
//! write and the events it would record. Pure (no I/O), so every outcome is unit-tested.

use std::time::Duration;

use k8s_openapi::api::core::v1::{Container, Pod};
use kube::ResourceExt;
use serde_json::{Value, json};

pub const OUTCOME_ANNOTATION: &str = "test.kubectl-hooks.io/outcome";
pub const DELAY_ANNOTATION: &str = "test.kubectl-hooks.io/delay";
pub const CONTAINER_ANNOTATION: &str = "test.kubectl-hooks.io/container";
pub const RESTARTS_ANNOTATION: &str = "test.kubectl-hooks.io/restarts";
pub const EXIT_CODE_ANNOTATION: &str = "test.kubectl-hooks.io/exit-code";
pub const RUN_FOR_ANNOTATION: &str = "test.kubectl-hooks.io/run-for";
pub const DEFAULT_DELAY: Duration = Duration::from_millis(200);
const DEFAULT_RESTARTS: i32 = 3;
/// The exit code of a container the kernel's OOM killer ended (128 + SIGKILL).
const OOM_EXIT_CODE: i32 = 137;

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

/// The state this program gives one container.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Fate {
    /// `terminated` with this exit code and reason.
    Exited(i32, &'static str),
    Running {
        ready: bool,
    },
    /// `waiting` in `CrashLoopBackOff`, last terminated with this exit code and reason.
    CrashLoop(i32, &'static str),
    /// `waiting` with this reason and message; never started.
    Waiting(&'static str, String),
}

impl Fate {
    fn done_ok(&self) -> bool {
        matches!(self, Fate::Exited(0, _))
    }
}

/// An event this program records, as a kubelet (or the scheduler) would.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventSpec {
    pub warning: bool,
    pub reason: &'static str,
    pub message: String,
    /// `spec.containers{name}` or `spec.initContainers{name}`; `None`: the pod itself.
    pub field_path: Option<String>,
    pub count: i32,
    /// `kubelet` or `default-scheduler`.
    pub component: &'static str,
}

fn warning(reason: &'static str, message: String, field_path: &str) -> EventSpec {
    EventSpec {
        warning: true,
        reason,
        message,
        field_path: Some(field_path.to_string()),
        count: 1,
        component: "kubelet",
    }
}

/// What to do with a pod.
#[derive(Clone, Debug, PartialEq)]
pub enum Plan {
    /// Leave it alone (`Pending`, unbound).
    Untouched,
    /// Leave it unbound and say the scheduler found no node: the `status` merge patch and the
    /// scheduler's event.
    Unschedulable(Value, EventSpec),
    /// Bind it, then write this `status` merge patch and these events.
    Run {
        patch: Value,
        events: Vec<EventSpec>,
        summary: String,
    },
}

/// The name of the first Secret or ConfigMap a container's environment refers to, as
/// `secret "name"`, for a believable CreateContainerConfigError message.
fn referenced_config(c: &Container) -> String {
    for var in c.env.iter().flatten() {
        let Some(from) = &var.value_from else {
            continue;
        };
        if let Some(s) = &from.secret_key_ref {
            return format!("secret {:?}", s.name);
        }
        if let Some(m) = &from.config_map_key_ref {
            return format!("configmap {:?}", m.name);
        }
    }
    for from in c.env_from.iter().flatten() {
        if let Some(s) = &from.secret_ref {
            return format!("secret {:?}", s.name);
        }
        if let Some(m) = &from.config_map_ref {
            return format!("configmap {:?}", m.name);
        }
    }
    "configmap \"missing\"".to_string()
}

fn pull_error(image: &str) -> String {
    format!(
        "rpc error: code = NotFound desc = failed to pull and unpack image \"{image}\": \
         failed to resolve reference \"{image}\": not found"
    )
}

/// The fate of a container the outcome applies to, and the events that come with it.
fn targeted_fate(
    request: &Request,
    job_like: bool,
    c: &Container,
    field_path: &str,
) -> (Fate, Vec<EventSpec>) {
    let image = c.image.clone().unwrap_or_default();
    let crash_events = |count: i32| {
        let mut e = warning(
            "BackOff",
            "Back-off restarting failed container".to_string(),
            field_path,
        );
        e.count = count;
        vec![e]
    };
    match request.outcome {
        Outcome::Succeed | Outcome::Pending | Outcome::Unschedulable if job_like => {
            (Fate::Exited(0, "Completed"), vec![])
        }
        Outcome::Succeed | Outcome::Pending | Outcome::Unschedulable => {
            (Fate::Running { ready: true }, vec![])
        }
        Outcome::Fail if job_like => (Fate::Exited(request.exit_code, "Error"), vec![]),
        Outcome::OomKilled if job_like => (Fate::Exited(OOM_EXIT_CODE, "OOMKilled"), vec![]),
        Outcome::Fail | Outcome::CrashLoop => (
            Fate::CrashLoop(request.exit_code, "Error"),
            crash_events(request.restarts),
        ),
        Outcome::OomKilled => (
            Fate::CrashLoop(OOM_EXIT_CODE, "OOMKilled"),
            crash_events(request.restarts),
        ),
        Outcome::NeverReady => (Fate::Running { ready: false }, vec![]),
        Outcome::ImagePullBackOff => {
            let back_off = format!("Back-off pulling image {image:?}");
            let mut events = pull_failed_events(&image, field_path);
            events.push(EventSpec {
                warning: false,
                ..warning("BackOff", back_off.clone(), field_path)
            });
            events.push(warning(
                "Failed",
                "Error: ImagePullBackOff".to_string(),
                field_path,
            ));
            (Fate::Waiting("ImagePullBackOff", back_off), events)
        }
        Outcome::ErrImagePull => (
            Fate::Waiting("ErrImagePull", pull_error(&image)),
            pull_failed_events(&image, field_path),
        ),
        Outcome::CreateConfigError => {
            let message = format!("{} not found", referenced_config(c));
            let event = warning("Failed", format!("Error: {message}"), field_path);
            (
                Fate::Waiting("CreateContainerConfigError", message),
                vec![event],
            )
        }
    }
}

fn pull_failed_events(image: &str, field_path: &str) -> Vec<EventSpec> {
    vec![
        warning(
            "Failed",
            format!("Failed to pull image {image:?}: {}", pull_error(image)),
            field_path,
        ),
        warning("Failed", "Error: ErrImagePull".to_string(), field_path),
    ]
}

fn condition(
    kind: &str,
    ok: bool,
    reason: Option<&str>,
    message: Option<String>,
    now: &str,
) -> Value {
    let mut c = json!({
        "type": kind,
        "status": if ok { "True" } else { "False" },
        "lastProbeTime": null,
        "lastTransitionTime": now,
    });
    if let Some(reason) = reason {
        c["reason"] = json!(reason);
    }
    if let Some(message) = message {
        c["message"] = json!(message);
    }
    c
}

pub fn container_id(pod: &Pod, name: &str) -> String {
    format!("test-kubelet://{}/{name}", pod.uid().unwrap_or_default())
}

fn terminated(pod: &Pod, c: &Container, exit_code: i32, reason: &str, now: &str) -> Value {
    json!({"terminated": {
        "exitCode": exit_code,
        "reason": reason,
        "startedAt": now,
        "finishedAt": now,
        "containerID": container_id(pod, &c.name),
    }})
}

fn container_status(pod: &Pod, c: &Container, fate: &Fate, restarts: i32, now: &str) -> Value {
    let image = c.image.clone().unwrap_or_default();
    let (state, last_state, ready, restart_count) = match fate {
        Fate::Exited(code, reason) => (terminated(pod, c, *code, reason, now), json!({}), false, 0),
        Fate::Running { ready } => (json!({"running": {"startedAt": now}}), json!({}), *ready, 0),
        Fate::CrashLoop(code, reason) => (
            json!({"waiting": {
                "reason": "CrashLoopBackOff",
                "message": format!(
                    "back-off 5m0s restarting failed container={} pod={}",
                    c.name,
                    pod.name_any()
                ),
            }}),
            terminated(pod, c, *code, reason, now),
            false,
            restarts,
        ),
        Fate::Waiting(reason, message) => (
            json!({"waiting": {"reason": reason, "message": message}}),
            json!({}),
            false,
            0,
        ),
    };
    let mut s = json!({
        "name": c.name,
        "image": image,
        "imageID": "",
        "ready": ready,
        "started": matches!(fate, Fate::Running { .. }),
        "restartCount": restart_count,
        "state": state,
        "lastState": last_state,
    });
    // A container that never started has no container id, as with a real kubelet.
    if !matches!(fate, Fate::Waiting(..)) {
        s["imageID"] = json!(format!("test-kubelet://{image}"));
        s["containerID"] = json!(container_id(pod, &c.name));
    }
    s
}

/// Decides what happens to a pod and builds the status to write.
pub fn plan(pod: &Pod, request: &Request, pod_ip: &str, now: &str) -> Plan {
    let spec = pod.spec.clone().unwrap_or_default();
    match request.outcome {
        Outcome::Pending => return Plan::Untouched,
        Outcome::Unschedulable => {
            let message = "0/1 nodes are available: 1 Insufficient memory.".to_string();
            let patch = json!({
                "metadata": { "uid": pod.uid() },
                "status": {
                    "phase": "Pending",
                    "conditions": [condition(
                        "PodScheduled", false, Some("Unschedulable"), Some(message.clone()), now,
                    )],
                },
            });
            let event = EventSpec {
                warning: true,
                reason: "FailedScheduling",
                message,
                field_path: None,
                count: 1,
                component: "default-scheduler",
            };
            return Plan::Unschedulable(patch, event);
        }
        _ => {}
    }
    let job_like = runs_to_completion(pod);
    let targets = |name: &str, is_init: bool| match &request.container {
        Some(target) => target == name,
        None => !is_init,
    };
    let mut events = Vec::new();
    let mut statuses = |containers: &[Container], is_init: bool, blocked: &mut bool| {
        let mut out = Vec::new();
        for c in containers {
            let field_path = if is_init {
                format!("spec.initContainers{{{}}}", c.name)
            } else {
                format!("spec.containers{{{}}}", c.name)
            };
            let fate = if *blocked {
                Fate::Waiting("PodInitializing", String::new())
            } else if targets(&c.name, is_init) {
                let (fate, mut e) = targeted_fate(request, job_like, c, &field_path);
                events.append(&mut e);
                fate
            } else if is_init || job_like {
                Fate::Exited(0, "Completed")
            } else {
                Fate::Running { ready: true }
            };
            let fate = match fate {
                // An init container runs to completion: "ready" for it means it exited 0.
                Fate::Running { .. } if is_init => Fate::Exited(0, "Completed"),
                f => f,
            };
            if is_init && !fate.done_ok() {
                *blocked = true;
            }
            out.push(fate);
        }
        out
    };
    let mut init_blocked = false;
    let init_containers = spec.init_containers.clone().unwrap_or_default();
    let init_fates = statuses(&init_containers, true, &mut init_blocked);
    let mut app_blocked = init_blocked;
    let app_fates = statuses(&spec.containers, false, &mut app_blocked);

    let failed_init = init_containers
        .iter()
        .zip(&init_fates)
        .find(|(_, f)| !f.done_ok());
    let all_exited = app_fates.iter().all(|f| matches!(f, Fate::Exited(..)));
    let any_started = app_fates
        .iter()
        .any(|f| matches!(f, Fate::Running { .. } | Fate::CrashLoop(..)));
    let phase = match failed_init {
        Some((_, Fate::Exited(..))) if job_like => "Failed",
        Some(_) => "Pending",
        None if all_exited && app_fates.iter().all(Fate::done_ok) => "Succeeded",
        None if all_exited => "Failed",
        None if any_started => "Running",
        None => "Pending",
    };
    let ready = app_fates
        .iter()
        .all(|f| matches!(f, Fate::Running { ready: true }));
    let not_ready: Vec<&str> = spec
        .containers
        .iter()
        .zip(&app_fates)
        .filter(|(_, f)| !matches!(f, Fate::Running { ready: true }))
        .map(|(c, _)| c.name.as_str())
        .collect();
    let terminal = matches!(phase, "Succeeded" | "Failed");
    let (ready_reason, ready_message) = if ready {
        (None, None)
    } else if terminal {
        (Some("PodCompleted"), None)
    } else {
        (
            Some("ContainersNotReady"),
            Some(format!(
                "containers with unready status: [{}]",
                not_ready.join(" ")
            )),
        )
    };
    let initialized = match failed_init {
        Some((c, _)) => condition(
            "Initialized",
            false,
            Some("ContainersNotInitialized"),
            Some(format!("containers with incomplete status: [{}]", c.name)),
            now,
        ),
        None => condition(
            "Initialized",
            true,
            terminal.then_some("PodCompleted"),
            None,
            now,
        ),
    };
    let mut status = json!({
        "phase": phase,
        "conditions": [
            condition("PodScheduled", true, None, None, now),
            initialized,
            condition("ContainersReady", ready, ready_reason, ready_message.clone(), now),
            condition("Ready", ready, ready_reason, ready_message, now),
        ],
        "hostIP": "127.0.0.1",
        "podIP": pod_ip,
        "podIPs": [{"ip": pod_ip}],
        "startTime": now,
        "containerStatuses": spec.containers.iter().zip(&app_fates)
            .map(|(c, f)| container_status(pod, c, f, request.restarts, now))
            .collect::<Vec<_>>(),
    });
    if !init_containers.is_empty() {
        status["initContainerStatuses"] = json!(
            init_containers
                .iter()
                .zip(&init_fates)
                .map(|(c, f)| container_status(pod, c, f, request.restarts, now))
                .collect::<Vec<_>>()
        );
    }
    if app_fates
        .iter()
        .any(|f| matches!(f, Fate::Exited(OOM_EXIT_CODE, _)))
        && phase == "Failed"
    {
        status["reason"] = json!("OOMKilled");
    }
    let summary = describe(phase, ready, &init_fates, &app_fates);
    // The uid cannot change: a pod recreated under the same name rejects this patch.
    Plan::Run {
        patch: json!({ "metadata": { "uid": pod.uid() }, "status": status }),
        events,
        summary,
    }
}

/// One line for the log: the phase, and what the first unusual container does.
fn describe(phase: &str, ready: bool, init: &[Fate], app: &[Fate]) -> String {
    let unusual = init.iter().chain(app).find_map(|f| match f {
        Fate::Exited(0, _) | Fate::Running { ready: true } => None,
        Fate::Exited(code, reason) => Some(format!("{reason}, exit code {code}")),
        Fate::Running { .. } => Some("not ready".to_string()),
        Fate::CrashLoop(code, _) => Some(format!("CrashLoopBackOff, last exit code {code}")),
        Fate::Waiting("PodInitializing", _) => None,
        Fate::Waiting(reason, _) => Some(reason.to_string()),
    });
    let readiness = if phase == "Running" && ready {
        ", ready"
    } else {
        ""
    };
    match unusual {
        Some(u) => format!("{phase}{readiness} ({u})"),
        None => format!("{phase}{readiness}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(restart_policy: &str, annotations: &[(&str, &str)]) -> Pod {
        serde_json::from_value(json!({
            "metadata": {
                "name": "p",
                "namespace": "ns",
                "uid": "u-1",
                "annotations": annotations.iter().cloned().collect::<std::collections::BTreeMap<_, _>>(),
            },
            "spec": {
                "restartPolicy": restart_policy,
                "initContainers": [{"name": "init", "image": "busybox"}],
                "containers": [
                    {"name": "a", "image": "busybox", "env": [
                        {"name": "PLAIN", "value": "x"},
                        {"name": "PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "pw"}}},
                    ]},
                    {"name": "b", "image": "nginx"},
                ],
            },
        }))
        .unwrap()
    }

    fn run(p: &Pod) -> (Value, Vec<EventSpec>) {
        match plan(p, &requested(p).unwrap(), "10.244.0.1", "T") {
            Plan::Run { patch, events, .. } => (patch["status"].clone(), events),
            other => panic!("{other:?}"),
        }
    }

    fn reasons(events: &[EventSpec]) -> Vec<(&str, &str)> {
        events
            .iter()
            .map(|e| (e.reason, e.message.as_str()))
            .collect()
    }

    #[test]
    fn delays() {
        assert_eq!(parse_delay("300ms"), Some(Duration::from_millis(300)));
        assert_eq!(parse_delay("2s"), Some(Duration::from_secs(2)));
        assert_eq!(parse_delay("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_delay("1m"), Some(Duration::from_secs(60)));
        assert_eq!(parse_delay("250"), Some(Duration::from_millis(250)));
        assert_eq!(parse_delay("0s"), Some(Duration::ZERO));
        assert_eq!(parse_delay("soon"), None);
        assert_eq!(parse_delay("-1s"), None);
        assert_eq!(parse_delay("2h"), None);
    }

    #[test]
    fn requests_from_annotations() {
        let r = requested(&pod("Never", &[])).unwrap();
        assert_eq!(r.outcome, Outcome::Succeed);
        assert_eq!(r.delay, DEFAULT_DELAY);
        assert_eq!((r.restarts, r.exit_code, r.container), (3, 1, None));
        assert_eq!(r.run_for, Duration::ZERO);
        let p = pod(
            "Always",
            &[
                (OUTCOME_ANNOTATION, "never-ready"),
                (DELAY_ANNOTATION, "2s"),
                (RESTARTS_ANNOTATION, "7"),
                (CONTAINER_ANNOTATION, "init"),
            ],
        );
        let r = requested(&p).unwrap();
        assert_eq!(r.outcome, Outcome::NeverReady);
        assert_eq!(r.delay, Duration::from_secs(2));
        assert_eq!(r.restarts, 7);
        assert_eq!(r.container.as_deref(), Some("init"));
        for bad in [
            (OUTCOME_ANNOTATION, "explode"),
            (DELAY_ANNOTATION, "later"),
            (RESTARTS_ANNOTATION, "-1"),
            (EXIT_CODE_ANNOTATION, "0"),
            (CONTAINER_ANNOTATION, "nope"),
        ] {
            assert!(requested(&pod("Never", &[bad])).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn job_pod_succeeds() {
        let (s, events) = run(&pod("Never", &[]));
        assert_eq!(s["phase"], "Succeeded");
        assert_eq!(s["podIP"], "10.244.0.1");
        assert_eq!(s["startTime"], "T");
        for c in s["containerStatuses"].as_array().unwrap() {
            assert_eq!(c["state"]["terminated"]["exitCode"], 0);
            assert_eq!(c["state"]["terminated"]["reason"], "Completed");
        }
        assert_eq!(
            s["initContainerStatuses"][0]["state"]["terminated"]["exitCode"],
            0
        );
        assert!(events.is_empty());
    }

    #[test]
    fn job_pod_fails_with_the_asked_exit_code() {
        let (s, _) = run(&pod(
            "Never",
            &[(OUTCOME_ANNOTATION, "fail"), (EXIT_CODE_ANNOTATION, "3")],
        ));
        assert_eq!(s["phase"], "Failed");
        let c = &s["containerStatuses"][1];
        assert_eq!(c["state"]["terminated"]["exitCode"], 3);
        assert_eq!(c["state"]["terminated"]["reason"], "Error");
    }

    #[test]
    fn serving_pod_becomes_ready() {
        let (s, _) = run(&pod("Always", &[]));
        assert_eq!(s["phase"], "Running");
        for c in s["conditions"].as_array().unwrap() {
            assert_eq!(c["status"], "True", "{c}");
            assert_eq!(c["lastTransitionTime"], "T");
        }
        let c = &s["containerStatuses"][0];
        assert_eq!((&c["ready"], &c["started"]), (&json!(true), &json!(true)));
        assert_eq!(c["state"]["running"]["startedAt"], "T");
    }

    #[test]
    fn crash_loop_counts_restarts_and_warns() {
        let (s, events) = run(&pod(
            "Always",
            &[
                (OUTCOME_ANNOTATION, "crashloop"),
                (RESTARTS_ANNOTATION, "5"),
            ],
        ));
        assert_eq!(s["phase"], "Running");
        let ready = s["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["type"] == "Ready");
        assert_eq!(ready.unwrap()["status"], "False");
        let c = &s["containerStatuses"][0];
        assert_eq!(c["ready"], false);
        assert_eq!(c["restartCount"], 5);
        assert_eq!(c["state"]["waiting"]["reason"], "CrashLoopBackOff");
        assert_eq!(c["lastState"]["terminated"]["exitCode"], 1);
        assert_eq!(events.len(), 2, "one BackOff per container");
        assert_eq!(events[0].reason, "BackOff");
        assert_eq!(events[0].count, 5);
        assert_eq!(events[0].field_path.as_deref(), Some("spec.containers{a}"));
    }

    #[test]
    fn serving_pod_that_should_fail_crash_loops() {
        let (s, _) = run(&pod("Always", &[(OUTCOME_ANNOTATION, "fail")]));
        assert_eq!(
            s["containerStatuses"][0]["state"]["waiting"]["reason"],
            "CrashLoopBackOff"
        );
    }

    #[test]
    fn image_pull_back_off_waits_with_the_kubelet_events() {
        let p = pod(
            "Always",
            &[
                (OUTCOME_ANNOTATION, "image-pull-backoff"),
                (CONTAINER_ANNOTATION, "b"),
            ],
        );
        let (s, events) = run(&p);
        // One container runs, so the pod does.
        assert_eq!(s["phase"], "Running");
        let b = &s["containerStatuses"][1];
        assert_eq!(b["state"]["waiting"]["reason"], "ImagePullBackOff");
        assert_eq!(
            b["state"]["waiting"]["message"],
            "Back-off pulling image \"nginx\""
        );
        assert!(b.get("containerID").is_none());
        assert_eq!(s["containerStatuses"][0]["ready"], true);
        let r = reasons(&events);
        assert_eq!(r[0].0, "Failed");
        assert!(
            r[0].1.starts_with("Failed to pull image \"nginx\": "),
            "{r:?}"
        );
        assert_eq!(r[1], ("Failed", "Error: ErrImagePull"));
        assert_eq!(r[2], ("BackOff", "Back-off pulling image \"nginx\""));
        assert!(!events[2].warning);
        assert_eq!(r[3], ("Failed", "Error: ImagePullBackOff"));

        let (s, _) = run(&pod(
            "Always",
            &[(OUTCOME_ANNOTATION, "image-pull-backoff")],
        ));
        assert_eq!(s["phase"], "Pending");
    }

    #[test]
    fn create_config_error_names_the_missing_secret() {
        let p = pod(
            "Always",
            &[
                (OUTCOME_ANNOTATION, "create-config-error"),
                (CONTAINER_ANNOTATION, "a"),
            ],
        );
        let (s, events) = run(&p);
        let a = &s["containerStatuses"][0];
        assert_eq!(
            a["state"]["waiting"]["reason"],
            "CreateContainerConfigError"
        );
        assert_eq!(a["state"]["waiting"]["message"], "secret \"db\" not found");
        assert_eq!(
            reasons(&events),
            [("Failed", "Error: secret \"db\" not found")]
        );
    }

    #[test]
    fn oom_killed_job_pod_fails_with_137() {
        let (s, _) = run(&pod("Never", &[(OUTCOME_ANNOTATION, "oom-killed")]));
        assert_eq!(s["phase"], "Failed");
        let t = &s["containerStatuses"][0]["state"]["terminated"];
        assert_eq!(
            (&t["exitCode"], &t["reason"]),
            (&json!(137), &json!("OOMKilled"))
        );
    }

    #[test]
    fn failing_init_container_blocks_the_app_containers() {
        let p = pod(
            "Never",
            &[(OUTCOME_ANNOTATION, "fail"), (CONTAINER_ANNOTATION, "init")],
        );
        let (s, _) = run(&p);
        assert_eq!(s["phase"], "Failed");
        let init = &s["initContainerStatuses"][0];
        assert_eq!(init["state"]["terminated"]["exitCode"], 1);
        let a = &s["containerStatuses"][0];
        assert_eq!(a["state"]["waiting"]["reason"], "PodInitializing");
        let initialized = &s["conditions"][1];
        assert_eq!(initialized["status"], "False");
        assert_eq!(initialized["reason"], "ContainersNotInitialized");

        let p = pod(
            "Always",
            &[
                (OUTCOME_ANNOTATION, "crashloop"),
                (CONTAINER_ANNOTATION, "init"),
            ],
        );
        let (s, events) = run(&p);
        assert_eq!(s["phase"], "Pending");
        assert_eq!(
            s["initContainerStatuses"][0]["state"]["waiting"]["reason"],
            "CrashLoopBackOff"
        );
        assert_eq!(
            events[0].field_path.as_deref(),
            Some("spec.initContainers{init}")
        );
    }

    #[test]
    fn pending_and_unschedulable_pods_stay_unbound() {
        let p = pod("Never", &[(OUTCOME_ANNOTATION, "pending")]);
        assert_eq!(
            plan(&p, &requested(&p).unwrap(), "ip", "T"),
            Plan::Untouched
        );
        let p = pod("Never", &[(OUTCOME_ANNOTATION, "unschedulable")]);
        let Plan::Unschedulable(patch, event) = plan(&p, &requested(&p).unwrap(), "ip", "T") else {
            panic!()
        };
        assert_eq!(patch["status"]["conditions"][0]["reason"], "Unschedulable");
        assert_eq!(event.reason, "FailedScheduling");
        assert_eq!(event.component, "default-scheduler");
    }
}
