//! `test-kubelet` plays the kubelet for kubectl-hooks' test control plane.
//!
//! The test control plane (`scripts/control-plane`) has no scheduler and no kubelet: the real
//! controllers create pods, but nothing runs them. This program is the one node's kubelet
//! (and its scheduler):
//!
//! - it registers a Node (`--node-name`, InternalIP 127.0.0.1, with its kubelet port in
//!   `status.daemonEndpoints.kubeletEndpoint.Port`), Ready;
//! - it watches pods in all namespaces and binds each new `Pending` pod to that node (the
//!   `binding` subresource, as a scheduler does); after a short delay it writes the `status` a
//!   kubelet would write, once, and the events a kubelet would record (such as
//!   `Failed to pull image "…"` or `Back-off restarting failed container`). The controllers
//!   then do the rest (Jobs complete or fail, Deployments become available or not);
//! - it serves the kubelet API's `/containerLogs/{namespace}/{pod}/{container}` over HTTPS,
//!   which the API server proxies `kubectl logs` to (`tailLines`, `limitBytes`, `previous`,
//!   `follow`);
//! - it finishes the deletion of its pods: a pod bound to a node is deleted gracefully (the API
//!   server only marks it), and the kubelet removes it once its containers stopped. Here they
//!   stop at once, so a deleted pod disappears as promptly as an unbound one.
//!
//! # Choosing what happens to a pod
//!
//! Annotations on the pod (put them on a Job's or Deployment's pod template; pods inherit them):
//!
//! - `test.kubectl-hooks.io/outcome`:
//!   - `succeed` (default): pods with `restartPolicy` `Never` or `OnFailure` (Job-like) end
//!     `Succeeded`, every container `terminated` with exit code 0, reason `Completed`; other
//!     pods become `Running` and ready.
//!   - `fail`: Job-like pods end `Failed`, the containers `terminated` with exit code 1 (or
//!     `test.kubectl-hooks.io/exit-code`), reason `Error`. Other pods cannot fail (a kubelet
//!     would restart them), so they get `crashloop`.
//!   - `crashloop`: `Running` but not ready; containers `waiting` with reason
//!     `CrashLoopBackOff`, `restartCount` 3 (or `test.kubectl-hooks.io/restarts`), last state
//!     `terminated` with exit code 1; a Warning `BackOff` event per container.
//!   - `oom-killed`: as `fail`, with reason `OOMKilled` and exit code 137.
//!   - `never-ready`: `Running` but not ready (as if a readiness probe kept failing).
//!   - `image-pull-backoff`: `Pending`, containers `waiting` in `ImagePullBackOff`, with the
//!     kubelet's `Failed to pull image "…"` and `Back-off pulling image "…"` events.
//!   - `err-image-pull`: the same, waiting in `ErrImagePull`.
//!   - `create-config-error`: containers `waiting` in `CreateContainerConfigError`, naming the
//!     first Secret or ConfigMap their environment refers to as not found.
//!   - `pending`: the pod is never touched and stays `Pending` and unbound.
//!   - `unschedulable`: unbound, `PodScheduled` `False` with reason `Unschedulable`, and the
//!     scheduler's `FailedScheduling` event.
//! - `test.kubectl-hooks.io/container`: the one container (init or app) the outcome applies
//!   to; the others succeed. By default the outcome applies to every app container. A failing
//!   init container keeps the later ones `waiting` in `PodInitializing`.
//! - `test.kubectl-hooks.io/delay`: how long to wait before writing the status, such as
//!   `300ms`, `2s`, `1.5s` or `1m` (a bare number means milliseconds). Default `200ms`.
//! - `test.kubectl-hooks.io/run-for`: the containers first run (`Running`, not ready) for this
//!   long, then get the outcome's status: a hook that is seen running.
//! - `test.kubectl-hooks.io/logs`: the log text of every container;
//!   `test.kubectl-hooks.io/logs.<container>` that of one container;
//!   `test.kubectl-hooks.io/previous-logs` (and `.<container>`) that of the instance before
//!   the last restart (served with `previous=true` when the container restarted).
//!
//! An unknown outcome or delay is logged and the pod is left `Pending`, so a typo shows up in
//! the log instead of as a wrong result.
//!
//! Every pod gets `hostIP` 127.0.0.1, a unique `podIP` in 10.244.0.0/16 and a `startTime`.
//! Pods that are no longer `Pending` are left alone, so restarting this program does not
//! rewrite anything.
//!
//! # Usage
//!
//! `test-kubelet --tls-cert FILE --tls-key FILE --client-ca FILE [--kubeconfig PATH]
//! [--node-name NAME]` (kubeconfig default: `KUBECONFIG` or `~/.kube/config`). The log server
//! takes only clients with a certificate signed by `--client-ca` (the API server's). It needs rights to manage nodes,
//! pods, `pods/binding`, `pods/status` and events. One line per pod decision goes to stderr.

mod logs;
mod outcome;
mod serve;

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use futures::StreamExt;
use k8s_openapi::api::core::v1::{Event, Node, Pod};
use k8s_openapi::jiff::Timestamp;
use kube::api::{DeleteParams, Patch, PatchParams, PostParams, Preconditions};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client, Config, ResourceExt};
use serde_json::{Value, json};

use outcome::{EventSpec, OUTCOME_ANNOTATION, Plan, plan, requested};

const DEFAULT_NODE_NAME: &str = "test-kubelet";

fn now() -> String {
    Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

struct Kubelet {
    client: Client,
    node: String,
    /// UIDs of pods this program has decided about (and not seen deleted since).
    handled: Mutex<HashSet<String>>,
    /// UIDs of terminating pods whose removal is under way.
    removing: Mutex<HashSet<String>>,
    next_ip: AtomicU32,
}

impl Kubelet {
    fn pod_ip(&self) -> String {
        let n = self.next_ip.fetch_add(1, Ordering::Relaxed) % (256 * 254);
        format!("10.244.{}.{}", n / 254, n % 254 + 1)
    }

    /// Decides about a pod that was added or changed; spawns the work.
    fn on_pod(self: &Arc<Self>, pod: Pod) {
        let Some(uid) = pod.uid() else { return };
        let name = format!("{}/{}", pod.namespace().unwrap_or_default(), pod.name_any());
        let bound_here = pod.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some(&self.node);
        if pod.metadata.deletion_timestamp.is_some() {
            if bound_here && self.removing.lock().unwrap().insert(uid) {
                let this = Arc::clone(self);
                tokio::spawn(async move {
                    if let Err(e) = this.remove(&pod).await {
                        eprintln!("test-kubelet: {name}: removing the deleted pod failed: {e:#}");
                    }
                });
            }
            return;
        }
        let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
        if !matches!(phase, None | Some("Pending")) {
            return;
        }
        if !self.handled.lock().unwrap().insert(uid) {
            return;
        }
        let request = match requested(&pod) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("test-kubelet: {name}: {e}; left Pending");
                return;
            }
        };
        let this = Arc::clone(self);
        tokio::spawn(async move {
            let delay = request.delay;
            let ip = this.pod_ip();
            match plan(&pod, &request, &ip, &now()) {
                Plan::Untouched => {
                    eprintln!("test-kubelet: {name}: {OUTCOME_ANNOTATION} pending; left Pending");
                }
                Plan::Unschedulable(patch, event) => {
                    eprintln!("test-kubelet: {name}: unschedulable in {delay:?}");
                    tokio::time::sleep(delay).await;
                    if let Err(e) = this.write_status(&pod, &patch).await {
                        eprintln!("test-kubelet: {name}: writing status failed: {e:#}");
                    }
                    this.record(&pod, &[event]).await;
                }
                Plan::Run {
                    patch,
                    events,
                    summary,
                } => {
                    eprintln!("test-kubelet: {name}: {summary} in {delay:?}");
                    if !bound_here && let Err(e) = this.bind(&pod).await {
                        eprintln!("test-kubelet: {name}: binding failed: {e:#}");
                        return;
                    }
                    tokio::time::sleep(delay).await;
                    if !request.run_for.is_zero() {
                        let running = outcome::Request {
                            outcome: outcome::Outcome::NeverReady,
                            ..request.clone()
                        };
                        if let Plan::Run { patch, .. } = plan(&pod, &running, &ip, &now())
                            && let Err(e) = this.write_status(&pod, &patch).await
                        {
                            eprintln!("test-kubelet: {name}: writing status failed: {e:#}");
                        }
                        tokio::time::sleep(request.run_for).await;
                    }
                    match this.write_status(&pod, &patch).await {
                        Ok(()) => this.record(&pod, &events).await,
                        Err(e) => eprintln!("test-kubelet: {name}: writing status failed: {e:#}"),
                    }
                }
            }
        });
    }

    fn pods(&self, pod: &Pod) -> Api<Pod> {
        Api::namespaced(self.client.clone(), &pod.namespace().unwrap_or_default())
    }

    /// Binds the pod to this node, as the scheduler does.
    async fn bind(&self, pod: &Pod) -> Result<()> {
        let binding = json!({
            "apiVersion": "v1",
            "kind": "Binding",
            "metadata": { "name": pod.name_any(), "uid": pod.uid() },
            "target": { "apiVersion": "v1", "kind": "Node", "name": self.node },
        });
        let (api, name, params) = (self.pods(pod), pod.name_any(), PostParams::default());
        let result: kube::Result<Value> = retrying("binding", pod, || {
            api.create_subresource("binding", &name, &params, &binding)
        })
        .await;
        match result {
            Ok(_) => Ok(()),
            // Deleted meanwhile (404) or already bound (409): nothing to do.
            Err(kube::Error::Api(e)) if e.code == 404 || e.code == 409 => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Finishes the deletion of a terminating pod: its containers are "stopped" at once.
    async fn remove(&self, pod: &Pod) -> Result<()> {
        let params = DeleteParams {
            grace_period_seconds: Some(0),
            preconditions: Some(Preconditions {
                uid: pod.uid(),
                resource_version: None,
            }),
            ..DeleteParams::default()
        };
        let (api, name) = (self.pods(pod), pod.name_any());
        match retrying("removal", pod, || api.delete(&name, &params)).await {
            Ok(_) => Ok(()),
            // Gone already (404), or another pod under the same name now (409).
            Err(kube::Error::Api(e)) if e.code == 404 || e.code == 409 => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    async fn write_status(&self, pod: &Pod, patch: &Value) -> Result<()> {
        let (api, name, params) = (self.pods(pod), pod.name_any(), PatchParams::default());
        let patch = Patch::Merge(patch);
        let result = retrying("status", pod, || api.patch_status(&name, &params, &patch)).await;
        match result {
            Ok(_) => Ok(()),
            // Deleted meanwhile: nothing to do.
            Err(kube::Error::Api(e)) if e.code == 404 => Ok(()),
            // Replaced by a pod of the same name (another uid), or otherwise refused.
            Err(kube::Error::Api(e)) => bail!("the API server refused the status: {e}"),
            Err(e) => Err(e.into()),
        }
    }

    /// Records events about a pod, as the kubelet's (or scheduler's) event recorder does.
    async fn record(&self, pod: &Pod, events: &[EventSpec]) {
        let ns = pod.namespace().unwrap_or_default();
        let api: Api<Event> = Api::namespaced(self.client.clone(), &ns);
        let time = now();
        for e in events {
            let mut involved = json!({
                "apiVersion": "v1",
                "kind": "Pod",
                "namespace": ns,
                "name": pod.name_any(),
                "uid": pod.uid(),
            });
            if let Some(path) = &e.field_path {
                involved["fieldPath"] = json!(path);
            }
            let host = (e.component == "kubelet").then_some(self.node.as_str());
            let event: Event = match serde_json::from_value(json!({
                "metadata": { "generateName": format!("{}.", pod.name_any()), "namespace": ns },
                "involvedObject": involved,
                "reason": e.reason,
                "message": e.message,
                "type": if e.warning { "Warning" } else { "Normal" },
                "source": { "component": e.component, "host": host },
                "reportingComponent": e.component,
                "reportingInstance": host.unwrap_or(e.component),
                "firstTimestamp": time,
                "lastTimestamp": time,
                "count": e.count,
            })) {
                Ok(event) => event,
                Err(err) => {
                    eprintln!("test-kubelet: building an event failed: {err}");
                    continue;
                }
            };
            let params = PostParams::default();
            if let Err(err) = retrying("an event", pod, || api.create(&params, &event)).await {
                eprintln!(
                    "test-kubelet: {ns}/{}: recording event {} failed: {err}",
                    pod.name_any(),
                    e.reason
                );
            }
        }
    }

    /// Creates or refreshes this program's Node: Ready, at 127.0.0.1, kubelet on `port`.
    async fn register_node(&self, port: u16) -> Result<()> {
        let nodes: Api<Node> = Api::all(self.client.clone());
        let node: Node = serde_json::from_value(json!({
            "metadata": {
                "name": self.node,
                "labels": {
                    "kubernetes.io/hostname": self.node,
                    "kubernetes.io/os": "linux",
                    "kubernetes.io/arch": "amd64",
                },
            },
        }))?;
        match nodes.create(&PostParams::default(), &node).await {
            Ok(_) => {}
            Err(kube::Error::Api(e)) if e.code == 409 => {}
            Err(e) => return Err(e).context("creating the Node"),
        }
        let time = now();
        let condition = |kind: &str, status: &str, reason: &str, message: &str| {
            json!({
                "type": kind, "status": status, "reason": reason, "message": message,
                "lastHeartbeatTime": time, "lastTransitionTime": time,
            })
        };
        let resources = json!({ "cpu": "8", "memory": "16Gi", "pods": "500" });
        let status = json!({ "status": {
            "addresses": [{ "type": "InternalIP", "address": "127.0.0.1" }],
            "daemonEndpoints": { "kubeletEndpoint": { "Port": port } },
            "capacity": resources,
            "allocatable": resources,
            "conditions": [
                condition("MemoryPressure", "False", "KubeletHasSufficientMemory",
                    "kubelet has sufficient memory available"),
                condition("DiskPressure", "False", "KubeletHasNoDiskPressure",
                    "kubelet has no disk pressure"),
                condition("PIDPressure", "False", "KubeletHasSufficientPID",
                    "kubelet has sufficient PID available"),
                condition("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
            ],
            "nodeInfo": {
                "machineID": "", "systemUUID": "", "bootID": "",
                "kernelVersion": "", "osImage": "test-kubelet",
                "containerRuntimeVersion": "test-kubelet://0.1.0",
                "kubeletVersion": "v1.20.2", "kubeProxyVersion": "v1.20.2",
                "operatingSystem": "linux", "architecture": "amd64",
            },
        }});
        nodes
            .patch_status(&self.node, &PatchParams::default(), &Patch::Merge(&status))
            .await
            .context("writing the Node's status")?;
        Ok(())
    }
}

/// Runs one request about `pod` until it gets an answer, as a real kubelet or scheduler
/// would: while the API server is unreachable or answers 429 or 5xx (a restart takes tens of
/// seconds), it tries again with backoff, for up to about five minutes. A pod whose binding or
/// status is given up on too early stays `Pending` for good, since the pod is only decided
/// about once.
async fn retrying<T, F, Fut>(what: &str, pod: &Pod, mut request: F) -> kube::Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = kube::Result<T>>,
{
    let mut attempt: u64 = 0;
    loop {
        match request().await {
            Err(kube::Error::Api(e)) if (400..500).contains(&e.code) && e.code != 429 => {
                return Err(kube::Error::Api(e));
            }
            Err(e) if attempt < 150 => {
                attempt += 1;
                eprintln!("test-kubelet: retrying {what} of {}: {e}", pod.name_any());
                tokio::time::sleep(Duration::from_millis((200 * attempt).min(2000))).await;
            }
            result => return result,
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

struct Args {
    kubeconfig: Option<PathBuf>,
    node_name: String,
    tls_cert: PathBuf,
    tls_key: PathBuf,
    client_ca: PathBuf,
}

const USAGE: &str = "Usage: test-kubelet --tls-cert FILE --tls-key FILE --client-ca FILE \
    [--kubeconfig PATH] [--node-name NAME]\n\n\
    Plays the kubelet for kubectl-hooks' test control plane: registers a Node, binds new pods \
    to it, writes their status and events, and serves their logs over HTTPS on 127.0.0.1.\n\
    Pod annotations (test.kubectl-hooks.io/): outcome, container, delay, run-for, restarts, \
    exit-code, logs[.CONTAINER], previous-logs[.CONTAINER]. See the source's documentation.";

fn parse_args() -> Result<Args> {
    let (mut kubeconfig, mut node_name, mut tls_cert, mut tls_key, mut client_ca) =
        (None, None, None, None, None);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let slot = match flag.as_str() {
            "--kubeconfig" => &mut kubeconfig,
            "--node-name" => &mut node_name,
            "--tls-cert" => &mut tls_cert,
            "--tls-key" => &mut tls_key,
            "--client-ca" => &mut client_ca,
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => bail!("unknown argument {other:?} (see --help)"),
        };
        let value = match inline {
            Some(v) => v,
            None => args
                .next()
                .with_context(|| format!("{flag} needs a value"))?,
        };
        *slot = Some(value);
    }
    Ok(Args {
        kubeconfig: kubeconfig.map(PathBuf::from),
        node_name: node_name.unwrap_or_else(|| DEFAULT_NODE_NAME.to_string()),
        tls_cert: PathBuf::from(tls_cert.context("--tls-cert is required (see --help)")?),
        tls_key: PathBuf::from(tls_key.context("--tls-key is required (see --help)")?),
        client_ca: PathBuf::from(client_ca.context("--client-ca is required (see --help)")?),
    })
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = parse_args()?;
    let acceptor = serve::tls_acceptor(&args.tls_cert, &args.tls_key, &args.client_ca)?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .context("listening on 127.0.0.1")?;
    let port = listener.local_addr()?.port();
    let kubelet = Arc::new(Kubelet {
        client: client(args.kubeconfig).await?,
        node: args.node_name,
        handled: Mutex::new(HashSet::new()),
        removing: Mutex::new(HashSet::new()),
        next_ip: AtomicU32::new(0),
    });
    kubelet.register_node(port).await?;
    tokio::spawn(serve::serve(listener, acceptor, kubelet.client.clone()));
    eprintln!(
        "test-kubelet: node {} registered, kubelet API on https://127.0.0.1:{port}",
        kubelet.node
    );
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
                    kubelet.removing.lock().unwrap().remove(&uid);
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
