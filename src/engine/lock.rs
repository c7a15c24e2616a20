//! One operation (sync, delete, cleanup) of an app at a time: a coordination.k8s.io Lease
//! named `kubectl-hooks-<app>` in the app's namespace, the namespace that also holds its
//! inventory. One rule for all three commands, that does not depend on which namespaces the
//! objects use or whether they exist yet: the app's namespace must exist before the lock is
//! taken (`sync --create-namespace` creates it first, as `helm install --create-namespace`
//! creates the release namespace before it stores the release there).
//!
//! The Lease is short and renewed, as client-go's leader election does it (15 s leases renewed
//! every 5 s by default in Kubernetes' own controllers): a holder that was killed stops
//! renewing, and the next operation takes the lease over seconds later. Renewals and takeovers
//! are conditional on the resourceVersion read, so two takers cannot both win.

use super::inventory::App;
use crate::cluster::{Cluster, ClusterError, ResolvedKind};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

/// How long a lease holds without renewal.
pub const LEASE_DURATION: Duration = Duration::from_secs(15);
/// How often the holder renews it.
pub const RENEW_EVERY: Duration = Duration::from_secs(5);

/// A held lock; renewed in the background until [`Lock::release`].
pub struct Lock {
    kind: ResolvedKind,
    pub namespace: String,
    pub name: String,
    renewer: tokio::task::JoinHandle<()>,
    lost: Arc<AtomicBool>,
}

#[derive(Debug)]
pub enum LockError {
    /// Another operation holds the lock.
    Held {
        holder: String,
        since: String,
        namespace: String,
        name: String,
    },
    /// The user may not manage leases in the app's namespace (or the cluster serves none).
    NoRights(String),
    /// The app's namespace does not exist.
    NoNamespace(String),
    Cluster(ClusterError),
}

impl From<ClusterError> for LockError {
    fn from(e: ClusterError) -> Self {
        LockError::Cluster(e)
    }
}

/// Who this process is, as the lease shows it.
pub fn holder_identity() -> String {
    let user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown-host".into());
    format!("kubectl-hooks {user}@{host} pid {}", std::process::id())
}

/// The lease's name for an app.
pub fn lease_name(app: &App) -> String {
    app.object_name()
}

/// Takes the lock of `app` in its namespace. A lease whose holder stopped renewing it
/// (crashed, killed) is taken over once it expired.
pub async fn acquire(cluster: &Cluster, app: &App) -> Result<Lock, LockError> {
    let Some(kind) = cluster.resolve("coordination.k8s.io/v1", "Lease").await? else {
        return Err(LockError::NoRights(
            "the cluster serves no coordination.k8s.io/v1 Lease".into(),
        ));
    };
    let name = lease_name(app);
    let namespace = app.namespace.clone();
    let identity = holder_identity();
    for _attempt in 0..5 {
        let now = SystemTime::now();
        let lease = json!({
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": name, "namespace": namespace,
                         "labels": {"app.kubernetes.io/managed-by": "kubectl-hooks"}},
            "spec": spec(&identity, now, now),
        });
        let taken = match cluster.create(&kind, &lease, false).await {
            Ok(created) => Some(created),
            Err(e) if e.is_already_exists() => {
                let Some(live) = cluster.get(&kind, &namespace, &name).await? else {
                    continue;
                };
                if !expired(&live, now) {
                    return Err(held(&live, &namespace, &name));
                }
                // Take the expired lease over, only if nobody else did since we read it.
                let patch = json!({
                    "metadata": {"resourceVersion": live["metadata"]["resourceVersion"]},
                    "spec": spec(&identity, now, now),
                });
                match cluster.merge_patch(&kind, &namespace, &name, &patch).await {
                    Ok(updated) => Some(updated),
                    Err(e) if e.status_code() == Some(409) || e.is_not_found() => None,
                    Err(e) => return Err(e.into()),
                }
            }
            Err(e) if e.is_not_found() => return Err(LockError::NoNamespace(namespace)),
            Err(e) if e.status_code() == Some(403) => {
                return Err(LockError::NoRights(e.to_string()));
            }
            Err(e) => return Err(e.into()),
        };
        if let Some(live) = taken {
            let lost = Arc::new(AtomicBool::new(false));
            let renewer = tokio::spawn(renew(
                cluster.clone(),
                kind.clone(),
                namespace.clone(),
                name.clone(),
                version_of(&live),
                lost.clone(),
            ));
            return Ok(Lock {
                kind,
                namespace,
                name,
                renewer,
                lost,
            });
        }
    }
    Err(LockError::Cluster(ClusterError::Other {
        what: format!("taking lease {namespace}/{name}"),
        message: "it kept changing hands; try again".into(),
    }))
}

fn spec(identity: &str, acquired: SystemTime, renewed: SystemTime) -> Value {
    json!({
        "holderIdentity": identity,
        "leaseDurationSeconds": LEASE_DURATION.as_secs(),
        "acquireTime": micro_time(acquired),
        "renewTime": micro_time(renewed),
    })
}

fn version_of(lease: &Value) -> String {
    lease["metadata"]["resourceVersion"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn held(live: &Value, namespace: &str, name: &str) -> LockError {
    LockError::Held {
        holder: live["spec"]["holderIdentity"]
            .as_str()
            .unwrap_or("someone")
            .to_owned(),
        since: live["spec"]["acquireTime"]
            .as_str()
            .unwrap_or("?")
            .to_owned(),
        namespace: namespace.to_owned(),
        name: name.to_owned(),
    }
}

/// Renews the lease every [`RENEW_EVERY`] until aborted. A failed renewal is retried at the
/// next tick (a short API outage must not lose the lock); a lease changed by someone else
/// (409) or gone means the lock is lost, which `lost` reports.
async fn renew(
    cluster: Cluster,
    kind: ResolvedKind,
    namespace: String,
    name: String,
    mut version: String,
    lost: Arc<AtomicBool>,
) {
    let mut tick = tokio::time::interval(RENEW_EVERY);
    tick.tick().await;
    loop {
        tick.tick().await;
        let patch = json!({
            "metadata": {"resourceVersion": version},
            "spec": {"renewTime": micro_time(SystemTime::now())},
        });
        match cluster.merge_patch(&kind, &namespace, &name, &patch).await {
            Ok(live) => version = version_of(&live),
            Err(e) if e.status_code() == Some(409) || e.is_not_found() => {
                lost.store(true, Ordering::Relaxed);
                return;
            }
            Err(_) => {}
        }
    }
}

impl Lock {
    /// Whether someone else took the lease while this lock was held (renewals failed for
    /// longer than the lease lasts and another operation took it over).
    pub fn was_lost(&self) -> bool {
        self.lost.load(Ordering::Relaxed)
    }

    /// Stops renewing and deletes the lease (unless it was lost to another holder).
    pub async fn release(self, cluster: &Cluster) -> Result<(), ClusterError> {
        self.renewer.abort();
        if self.was_lost() {
            return Ok(());
        }
        cluster
            .delete(
                &self.kind,
                &self.namespace,
                &self.name,
                crate::cluster::Propagation::Background,
            )
            .await
            .map(|_| ())
    }
}

fn expired(lease: &Value, now: SystemTime) -> bool {
    let seconds = lease["spec"]["leaseDurationSeconds"].as_u64().unwrap_or(0);
    let renewed = lease["spec"]["renewTime"]
        .as_str()
        .or_else(|| lease["spec"]["acquireTime"].as_str())
        .and_then(parse_time);
    match renewed {
        Some(t) => t + Duration::from_secs(seconds) < now,
        None => true,
    }
}

/// RFC 3339 with microseconds, UTC: the MicroTime format of Lease times.
pub fn micro_time(t: SystemTime) -> String {
    humantime::format_rfc3339_micros(t).to_string()
}

fn parse_time(s: &str) -> Option<SystemTime> {
    humantime::parse_rfc3339_weak(s).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    #[test]
    fn micro_time_round_trips() {
        let t = UNIX_EPOCH + Duration::from_micros(1_764_094_500_123_456);
        let s = micro_time(t);
        assert_eq!(s, "2025-11-25T18:15:00.123456Z");
        assert_eq!(parse_time(&s), Some(t));
        assert_eq!(micro_time(UNIX_EPOCH), "1970-01-01T00:00:00.000000Z");
    }

    #[test]
    fn a_lease_expires_after_its_duration() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000_000);
        let lease = |renew: SystemTime| json!({"spec": {"leaseDurationSeconds": 60, "renewTime": micro_time(renew)}});
        assert!(!expired(&lease(now - Duration::from_secs(30)), now));
        assert!(expired(&lease(now - Duration::from_secs(90)), now));
    }

    #[test]
    fn a_killed_holder_blocks_for_one_lease_duration_at_most() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000_000);
        let last_renewal = now - LEASE_DURATION - Duration::from_secs(1);
        let lease = json!({"spec": spec("x", last_renewal, last_renewal)});
        assert!(expired(&lease, now));
        assert!(RENEW_EVERY * 3 <= LEASE_DURATION, "renewals fit in a lease");
    }
}
