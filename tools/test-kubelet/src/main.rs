//! `test-kubelet` plays the kubelet for kubectl-hooks' test control plane.
//!
//! The test control plane (`scripts/control-plane`) has no scheduler and no kubelet: the real
//! controllers create pods, but nothing runs them. This program watches pods in all namespaces
//! and, for each new pod that is still `Pending`, writes the `status` a kubelet would write,
//! once, after a short delay. The controllers then do the rest (Jobs complete or fail,
//! Deployments become available or not).
//!
//! # Choosing what happens to a pod
//!
//! Annotations on the pod (put them on a Job's or Deployment's pod template; pods inherit them):
//!
//! - `test.kubectl-hooks.io/outcome`:
//!   - `succeed` (default): pods with `restartPolicy` `Never` or `OnFailure` (Job-like) end
//!     `Succeeded`, every container `terminated` with exit code 0, reason `Completed`; other
//!     pods become `Running` and ready (conditions `PodScheduled`, `Initialized`,
//!     `ContainersReady`, `Ready` all `True`, containers `running`, `ready`, `started`).
//!   - `fail`: Job-like pods end `Failed`, every container `terminated` with exit code 1,
//!     reason `Error`. Other pods cannot fail (a kubelet would restart them), so they get
//!     `crashloop`.
//!   - `crashloop`: `Running` but not ready; containers `waiting` with reason
//!     `CrashLoopBackOff`, `restartCount` 3, last state `terminated` with exit code 1.
//!   - `never-ready`: `Running` but not ready; containers `running` and `started` but not
//!     `ready` (as if a readiness probe kept failing).
//!   - `pending`: the pod is never touched and stays `Pending`.
//! - `test.kubectl-hooks.io/delay`: how long to wait before writing the status, such as
//!   `300ms`, `2s`, `1.5s` or `1m` (a bare number means milliseconds). Default `200ms`.
//!
//! An unknown outcome or delay is logged and the pod is left `Pending`, so a typo shows up in
//! the log instead of as a wrong result.
//!
//! Every pod gets `hostIP` 127.0.0.1, a unique `podIP` in 10.244.0.0/16 and a `startTime`.
//! Pods being deleted and pods that are no longer `Pending` are left alone, so restarting this
//! program does not rewrite anything.
//!
//! # Usage
//!
//! `test-kubelet [--kubeconfig PATH]` (default: `KUBECONFIG` or `~/.kube/config`). It needs
//! rights to watch pods in all namespaces and patch `pods/status`. One line per pod decision
//! goes to stderr.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use futures::StreamExt;
use k8s_openapi::api::core::v1::{Container, Pod};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Patch, PatchParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client, Config, ResourceExt};
use serde_json::{Value, json};

const OUTCOME_ANNOTATION: &str = "test.kubectl-hooks.io/outcome";
const DELAY_ANNOTATION: &str = "test.kubectl-hooks.io/delay";
const DEFAULT_DELAY: Duration = Duration::from_millis(200);

/// What the test asked to happen to a pod.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Succeed,
    Fail,
    CrashLoop,
    NeverReady,
    Pending,
}

impl Outcome {
    fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "succeed" => Some(Self::Succeed),
            "fail" => Some(Self::Fail),
            "crashloop" => Some(Self::CrashLoop),
            "never-ready" => Some(Self::NeverReady),
            "pending" => Some(Self::Pending),
            _ => None,
        }
    }
}

/// The status this program writes for a pod.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
    Succeeded,
    Failed,
    Ready,
    CrashLoop,
    NotReady,
}

impl Verdict {
    fn describe(self) -> &'static str {
        match self {
            Self::Succeeded => "Succeeded (exit code 0)",
            Self::Failed => "Failed (exit code 1)",
            Self::Ready => "Running, ready",
            Self::CrashLoop => "Running, not ready (CrashLoopBackOff)",
            Self::NotReady => "Running, not ready",
        }
    }
}

/// Whether a pod runs to completion (`restartPolicy` `Never` or `OnFailure`, as Job pods do).
fn runs_to_completion(pod: &Pod) -> bool {
    let policy = pod.spec.as_ref().and_then(|s| s.restart_policy.as_deref());
    matches!(policy, Some("Never" | "OnFailure"))
}

fn verdict(outcome: Outcome, job_like: bool) -> Option<Verdict> {
    Some(match (outcome, job_like) {
        (Outcome::Pending, _) => return None,
        (Outcome::Succeed, true) => Verdict::Succeeded,
        (Outcome::Succeed, false) => Verdict::Ready,
        (Outcome::Fail, true) => Verdict::Failed,
        (Outcome::Fail, false) | (Outcome::CrashLoop, _) => Verdict::CrashLoop,
        (Outcome::NeverReady, _) => Verdict::NotReady,
    })
}

/// Parses `300ms`, `2s`, `1.5s`, `1m`, or a bare number of milliseconds.
fn parse_delay(s: &str) -> Option<Duration> {
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

/// Reads the outcome and delay annotations of a pod.
fn requested(pod: &Pod) -> std::result::Result<(Outcome, Duration), String> {
    let annotations = pod.annotations();
    let outcome = match annotations.get(OUTCOME_ANNOTATION) {
        None => Outcome::Succeed,
        Some(s) => Outcome::parse(s).ok_or_else(|| {
            format!(
                "unknown {OUTCOME_ANNOTATION} {s:?} \
                 (want succeed, fail, crashloop, never-ready or pending)"
            )
        })?,
    };
    let delay = match annotations.get(DELAY_ANNOTATION) {
        None => DEFAULT_DELAY,
        Some(s) => parse_delay(s)
            .ok_or_else(|| format!("invalid {DELAY_ANNOTATION} {s:?} (want e.g. 300ms, 2s, 1m)"))?,
    };
    Ok((outcome, delay))
}

fn now() -> String {
    Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn condition(kind: &str, ready: bool, reason: Option<&str>, now: &str) -> Value {
    let mut c = json!({
        "type": kind,
        "status": if ready { "True" } else { "False" },
        "lastProbeTime": null,
        "lastTransitionTime": now,
    });
    if let Some(reason) = reason {
        c["reason"] = json!(reason);
    }
    c
}

fn container_id(pod: &Pod, c: &Container) -> String {
    format!(
        "test-kubelet://{}/{}",
        pod.uid().unwrap_or_default(),
        c.name
    )
}

fn container_status(pod: &Pod, c: &Container, state: Value, ready: bool) -> Value {
    let image = c.image.clone().unwrap_or_default();
    json!({
        "name": c.name,
        "image": image,
        "imageID": format!("test-kubelet://{image}"),
        "containerID": container_id(pod, c),
        "ready": ready,
        "started": state.get("running").is_some(),
        "restartCount": 0,
        "state": state,
        "lastState": {},
    })
}

fn terminated(pod: &Pod, c: &Container, exit_code: i32, now: &str) -> Value {
    json!({"terminated": {
        "exitCode": exit_code,
        "reason": if exit_code == 0 { "Completed" } else { "Error" },
        "startedAt": now,
        "finishedAt": now,
        "containerID": container_id(pod, c),
    }})
}

/// The `status` patch (a JSON merge patch) for a pod.
fn status_patch(pod: &Pod, verdict: Verdict, pod_ip: &str, now: &str) -> Value {
    let spec = pod.spec.clone().unwrap_or_default();
    let (phase, ready, reason) = match verdict {
        Verdict::Succeeded | Verdict::Failed => {
            let phase = if verdict == Verdict::Succeeded {
                "Succeeded"
            } else {
                "Failed"
            };
            (phase, false, Some("PodCompleted"))
        }
        Verdict::Ready => ("Running", true, None),
        Verdict::CrashLoop | Verdict::NotReady => ("Running", false, Some("ContainersNotReady")),
    };
    let running = json!({"running": {"startedAt": now}});
    let containers: Vec<Value> = spec
        .containers
        .iter()
        .map(|c| match verdict {
            Verdict::Succeeded => container_status(pod, c, terminated(pod, c, 0, now), false),
            Verdict::Failed => container_status(pod, c, terminated(pod, c, 1, now), false),
            Verdict::Ready => container_status(pod, c, running.clone(), true),
            Verdict::NotReady => container_status(pod, c, running.clone(), false),
            Verdict::CrashLoop => {
                let waiting = json!({"waiting": {
                    "reason": "CrashLoopBackOff",
                    "message": format!(
                        "back-off 40s restarting failed container={} pod={}",
                        c.name,
                        pod.name_any()
                    ),
                }});
                let mut s = container_status(pod, c, waiting, false);
                s["restartCount"] = json!(3);
                s["lastState"] = terminated(pod, c, 1, now);
                s
            }
        })
        .collect();
    let init_containers: Vec<Value> = spec
        .init_containers
        .unwrap_or_default()
        .iter()
        .map(|c| container_status(pod, c, terminated(pod, c, 0, now), true))
        .collect();
    let mut status = json!({
        "phase": phase,
        "conditions": [
            condition("PodScheduled", true, None, now),
            condition("Initialized", true, reason.filter(|r| *r == "PodCompleted"), now),
            condition("ContainersReady", ready, reason, now),
            condition("Ready", ready, reason, now),
        ],
        "hostIP": "127.0.0.1",
        "podIP": pod_ip,
        "podIPs": [{"ip": pod_ip}],
        "startTime": now,
        "containerStatuses": containers,
    });
    if !init_containers.is_empty() {
        status["initContainerStatuses"] = json!(init_containers);
    }
    // The uid cannot change: a pod recreated under the same name rejects this patch.
    json!({ "metadata": { "uid": pod.uid() }, "status": status })
}

struct Kubelet {
    client: Client,
    /// UIDs of pods this program has decided about (and not seen deleted since).
    handled: Mutex<HashSet<String>>,
    next_ip: AtomicU32,
}

impl Kubelet {
    fn pod_ip(&self) -> String {
        let n = self.next_ip.fetch_add(1, Ordering::Relaxed) % (256 * 254);
        format!("10.244.{}.{}", n / 254, n % 254 + 1)
    }

    /// Decides about a pod that was added or changed; spawns the status update.
    fn on_pod(self: &Arc<Self>, pod: Pod) {
        let Some(uid) = pod.uid() else { return };
        if pod.metadata.deletion_timestamp.is_some() {
            return;
        }
        let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
        if !matches!(phase, None | Some("Pending")) {
            return;
        }
        if !self.handled.lock().unwrap().insert(uid) {
            return;
        }
        let name = format!("{}/{}", pod.namespace().unwrap_or_default(), pod.name_any());
        let job_like = runs_to_completion(&pod);
        let (outcome, delay) = match requested(&pod) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("test-kubelet: {name}: {e}; left Pending");
                return;
            }
        };
        let Some(verdict) = verdict(outcome, job_like) else {
            eprintln!("test-kubelet: {name}: outcome pending; left Pending");
            return;
        };
        eprintln!("test-kubelet: {name}: {} in {delay:?}", verdict.describe());
        let this = Arc::clone(self);
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            if let Err(e) = this.write_status(&pod, verdict).await {
                eprintln!("test-kubelet: {name}: writing status failed: {e:#}");
            }
        });
    }

    async fn write_status(&self, pod: &Pod, verdict: Verdict) -> Result<()> {
        let api: Api<Pod> =
            Api::namespaced(self.client.clone(), &pod.namespace().unwrap_or_default());
        let patch = status_patch(pod, verdict, &self.pod_ip(), &now());
        let mut attempt = 0;
        loop {
            match api
                .patch_status(
                    &pod.name_any(),
                    &PatchParams::default(),
                    &Patch::Merge(&patch),
                )
                .await
            {
                Ok(_) => return Ok(()),
                // Deleted meanwhile: nothing to do.
                Err(kube::Error::Api(e)) if e.code == 404 => return Ok(()),
                // Replaced by a pod of the same name (another uid), or otherwise refused.
                Err(kube::Error::Api(e)) if (400..500).contains(&e.code) && e.code != 429 => {
                    bail!("the API server refused the status: {e}")
                }
                // Unreachable, 429 or 5xx: as a real kubelet, keep trying (an API server
                // restart takes tens of seconds), with backoff, for up to ~5 minutes.
                Err(e) if attempt < 150 => {
                    attempt += 1;
                    eprintln!("test-kubelet: retrying status of {}: {e}", pod.name_any());
                    tokio::time::sleep(Duration::from_millis((200 * attempt).min(2000))).await;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
}

async fn client(kubeconfig: Option<PathBuf>) -> Result<Client> {
    let config = match kubeconfig {
        Some(path) => {
            let kubeconfig = Kubeconfig::read_from(&path)
                .with_context(|| format!("reading kubeconfig {}", path.display()))?;
            Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
                .await
                .with_context(|| format!("loading kubeconfig {}", path.display()))?
        }
        None => Config::infer().await.context("finding a kubeconfig")?,
    };
    Client::try_from(config).context("creating the Kubernetes client")
}

fn parse_args() -> Result<Option<PathBuf>> {
    let mut kubeconfig = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--kubeconfig" => {
                kubeconfig = Some(PathBuf::from(
                    args.next().context("--kubeconfig needs a path")?,
                ));
            }
            s if s.starts_with("--kubeconfig=") => {
                kubeconfig = Some(PathBuf::from(&s["--kubeconfig=".len()..]));
            }
            "-h" | "--help" => {
                println!(
                    "Usage: test-kubelet [--kubeconfig PATH]\n\n\
                     Plays the kubelet for kubectl-hooks' test control plane: writes the status \
                     of new pods.\nAnnotations: {OUTCOME_ANNOTATION}: \
                     succeed|fail|crashloop|never-ready|pending, {DELAY_ANNOTATION}: e.g. 300ms."
                );
                std::process::exit(0);
            }
            other => bail!("unknown argument {other:?} (see --help)"),
        }
    }
    Ok(kubeconfig)
}

#[tokio::main]
async fn main() -> Result<()> {
    let kubeconfig = parse_args()?;
    let kubelet = Arc::new(Kubelet {
        client: client(kubeconfig).await?,
        handled: Mutex::new(HashSet::new()),
        next_ip: AtomicU32::new(0),
    });
    let pods: Api<Pod> = Api::all(kubelet.client.clone());
    let mut events = watcher(pods, watcher::Config::default())
        .default_backoff()
        .boxed();
    let mut announced = false;
    while let Some(event) = events.next().await {
        match event {
            Ok(watcher::Event::Apply(pod) | watcher::Event::InitApply(pod)) => kubelet.on_pod(pod),
            Ok(watcher::Event::Delete(pod)) => {
                if let Some(uid) = pod.uid() {
                    kubelet.handled.lock().unwrap().remove(&uid);
                }
            }
            Ok(watcher::Event::InitDone) if !announced => {
                announced = true;
                eprintln!("test-kubelet: watching pods in all namespaces");
            }
            Ok(watcher::Event::Init | watcher::Event::InitDone) => {}
            Err(e) => eprintln!("test-kubelet: watch error (retrying): {e}"),
        }
    }
    bail!("the pod watch ended")
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
                "containers": [{"name": "a", "image": "busybox"}, {"name": "b", "image": "nginx"}],
            },
        }))
        .unwrap()
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
    fn outcomes_from_annotations() {
        assert_eq!(
            requested(&pod("Never", &[])),
            Ok((Outcome::Succeed, DEFAULT_DELAY))
        );
        let p = pod(
            "Always",
            &[
                (OUTCOME_ANNOTATION, "never-ready"),
                (DELAY_ANNOTATION, "2s"),
            ],
        );
        assert_eq!(
            requested(&p),
            Ok((Outcome::NeverReady, Duration::from_secs(2)))
        );
        assert!(requested(&pod("Never", &[(OUTCOME_ANNOTATION, "explode")])).is_err());
        assert!(requested(&pod("Never", &[(DELAY_ANNOTATION, "later")])).is_err());
    }

    #[test]
    fn verdicts() {
        assert!(runs_to_completion(&pod("Never", &[])));
        assert!(runs_to_completion(&pod("OnFailure", &[])));
        assert!(!runs_to_completion(&pod("Always", &[])));
        assert_eq!(verdict(Outcome::Succeed, true), Some(Verdict::Succeeded));
        assert_eq!(verdict(Outcome::Succeed, false), Some(Verdict::Ready));
        assert_eq!(verdict(Outcome::Fail, true), Some(Verdict::Failed));
        assert_eq!(verdict(Outcome::Fail, false), Some(Verdict::CrashLoop));
        assert_eq!(verdict(Outcome::CrashLoop, true), Some(Verdict::CrashLoop));
        assert_eq!(verdict(Outcome::NeverReady, false), Some(Verdict::NotReady));
        assert_eq!(verdict(Outcome::Pending, false), None);
    }

    #[test]
    fn succeeded_patch() {
        let p = status_patch(&pod("Never", &[]), Verdict::Succeeded, "10.244.0.1", "T");
        let s = &p["status"];
        assert_eq!(s["phase"], "Succeeded");
        assert_eq!(s["podIP"], "10.244.0.1");
        assert_eq!(s["startTime"], "T");
        let containers = s["containerStatuses"].as_array().unwrap();
        assert_eq!(containers.len(), 2);
        for c in containers {
            assert_eq!(c["state"]["terminated"]["exitCode"], 0);
            assert_eq!(c["state"]["terminated"]["reason"], "Completed");
        }
        assert_eq!(
            s["initContainerStatuses"][0]["state"]["terminated"]["exitCode"],
            0
        );
    }

    #[test]
    fn failed_patch() {
        let p = status_patch(&pod("Never", &[]), Verdict::Failed, "ip", "T");
        assert_eq!(p["status"]["phase"], "Failed");
        let c = &p["status"]["containerStatuses"][1];
        assert_eq!(c["state"]["terminated"]["exitCode"], 1);
        assert_eq!(c["state"]["terminated"]["reason"], "Error");
    }

    #[test]
    fn ready_patch() {
        let p = status_patch(&pod("Always", &[]), Verdict::Ready, "ip", "T");
        let s = &p["status"];
        assert_eq!(s["phase"], "Running");
        for c in s["conditions"].as_array().unwrap() {
            assert_eq!(c["status"], "True", "{c}");
            assert_eq!(c["lastTransitionTime"], "T");
        }
        let c = &s["containerStatuses"][0];
        assert_eq!(c["ready"], true);
        assert_eq!(c["started"], true);
        assert_eq!(c["state"]["running"]["startedAt"], "T");
    }

    #[test]
    fn crashloop_patch() {
        let p = status_patch(&pod("Always", &[]), Verdict::CrashLoop, "ip", "T");
        let s = &p["status"];
        assert_eq!(s["phase"], "Running");
        let ready = s["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["type"] == "Ready");
        assert_eq!(ready.unwrap()["status"], "False");
        let c = &s["containerStatuses"][0];
        assert_eq!(c["ready"], false);
        assert_eq!(c["restartCount"], 3);
        assert_eq!(c["state"]["waiting"]["reason"], "CrashLoopBackOff");
    }
}
