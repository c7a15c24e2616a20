//! Helpers for tests that use the `cluster` module's client directly against the test
//! control plane.
#![allow(dead_code)] // each test binary uses a different subset

use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::StreamExt;
use kubectl_hooks::cluster::{
    ApplyOptions, Cluster, ClusterFlags, ResolvedKind, WatchEvent, WatchStream,
};
use serde_json::{Value, json};

pub use super::test_kubeconfig;

/// Flags selecting the test kubeconfig (and nothing else).
pub fn flags() -> ClusterFlags {
    ClusterFlags {
        kubeconfig: Some(test_kubeconfig()),
        ..ClusterFlags::default()
    }
}

/// A client as the admin (the kubeconfig's current context).
pub async fn admin() -> Cluster {
    Cluster::connect(&flags()).await.expect("connect as admin")
}

/// A DNS-label name no other test (or earlier run) uses.
pub fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{prefix}-{}-{n}-{:x}", std::process::id(), nanos)
}

pub async fn kind(cluster: &Cluster, api_version: &str, kind: &str) -> ResolvedKind {
    cluster
        .resolve(api_version, kind)
        .await
        .unwrap_or_else(|e| panic!("discovery of {api_version} {kind}: {e}"))
        .unwrap_or_else(|| panic!("the server does not serve {api_version} {kind}"))
}

/// A client as the admin, and a fresh namespace for one test (see [`new_namespace`]).
pub async fn admin_in_new_namespace(prefix: &str) -> (Cluster, String) {
    let cluster = admin().await;
    let namespace = new_namespace(&cluster, prefix).await;
    (cluster, namespace)
}

/// Create a fresh namespace for one test and return its name.
pub async fn new_namespace(cluster: &Cluster, prefix: &str) -> String {
    let name = unique_name(prefix);
    let ns = kind(cluster, "v1", "Namespace").await;
    let obj = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
    cluster
        .apply(&ns, &obj, ApplyOptions::default())
        .await
        .unwrap_or_else(|e| panic!("create namespace {name}: {e}"));
    name
}

pub fn config_map(namespace: &str, name: &str, data: Value) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace},
        "data": data,
    })
}

/// Read the next events until `pred` holds for one; panic naming `what` after `timeout`.
pub async fn next_matching(
    events: &mut WatchStream,
    timeout: Duration,
    what: &str,
    mut pred: impl FnMut(&WatchEvent) -> bool,
) -> WatchEvent {
    let wait = async {
        while let Some(event) = events.next().await {
            match event {
                Ok(event) if pred(&event) => return event,
                Ok(_) => {}
                Err(e) if e.is_access_error() => panic!("watch for {what} failed: {e}"),
                Err(e) => eprintln!("watch for {what}: {e} (retrying)"),
            }
        }
        panic!("watch for {what} ended")
    };
    tokio::time::timeout(timeout, wait)
        .await
        .unwrap_or_else(|_| panic!("no event for {what} within {timeout:?}"))
}

/// The object of the next `Applied` event for which `pred` holds (see [`next_matching`]).
pub async fn next_applied(
    events: &mut WatchStream,
    timeout: Duration,
    what: &str,
    mut pred: impl FnMut(&Value) -> bool,
) -> Value {
    let is = |e: &WatchEvent| matches!(e, WatchEvent::Applied(object) if pred(object));
    match next_matching(events, timeout, what, is).await {
        WatchEvent::Applied(object) => object,
        _ => unreachable!(),
    }
}

/// The last state of the object of the next `Deleted` event.
pub async fn next_deleted(events: &mut WatchStream, timeout: Duration, what: &str) -> Value {
    let is = |e: &WatchEvent| matches!(e, WatchEvent::Deleted(_));
    match next_matching(events, timeout, what, is).await {
        WatchEvent::Deleted(object) => object,
        _ => unreachable!(),
    }
}

/// The test kubeconfig as JSON (which is YAML too), to derive variants from.
pub fn kubeconfig_json(path: &Path) -> Value {
    let kc = kube::config::Kubeconfig::read_from(path).expect("read the test kubeconfig");
    serde_json::to_value(kc).expect("kubeconfig as JSON")
}

/// The cluster and user names of a context in a kubeconfig (as JSON).
pub fn context_of(kc: &Value, context: &str) -> (String, String) {
    let ctx = kc["contexts"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["name"] == context))
        .unwrap_or_else(|| panic!("context {context} in the test kubeconfig"));
    let cluster = ctx["context"]["cluster"].as_str().unwrap().to_string();
    let user = ctx["context"]["user"].as_str().unwrap_or("").to_string();
    (cluster, user)
}

pub fn write_json(path: &Path, value: &Value) {
    std::fs::write(path, serde_json::to_string_pretty(value).unwrap()).unwrap();
}

/// Delete a test namespace, without waiting (best effort).
pub async fn drop_namespace(cluster: &Cluster, name: &str) {
    let ns = kind(cluster, "v1", "Namespace").await;
    let _ = cluster
        .delete(
            &ns,
            "",
            name,
            kubectl_hooks::cluster::Propagation::Background,
        )
        .await;
}
