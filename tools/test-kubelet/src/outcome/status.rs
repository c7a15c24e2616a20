//! The `status` a kubelet would write for a pod, and the events it would record, for a
//! requested outcome.

use k8s_openapi::api::core::v1::{Container, Pod};
use kube::ResourceExt;
use serde_json::{Value, json};

use super::{Outcome, Request, runs_to_completion};

/// The exit code of a container the kernel's OOM killer ended (128 + SIGKILL).
const OOM_EXIT_CODE: i32 = 137;

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
