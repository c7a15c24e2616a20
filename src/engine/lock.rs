//! One sync of an input at a time per namespace: a coordination.k8s.io Lease named after the
//! input, held for the length of the sync and released at its end.

use crate::cluster::{Cluster, ClusterError, ResolvedKind};
use serde_json::{Value, json};
use std::time::{Duration, SystemTime};

pub struct Lock {
    kind: ResolvedKind,
    pub namespace: String,
    pub name: String,
}

/// How long a lease outlives the operation's own time limit, so that a crashed holder's
/// lock expires soon after the operation would have ended anyway.
pub const LEASE_SLACK: Duration = Duration::from_secs(120);

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another sync holds the lock.
    #[error("lease {namespace}/{name} is held by {holder} since {since}")]
    Held {
        holder: String,
        since: String,
        namespace: String,
        name: String,
    },
    #[error("{0}")]
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

/// Takes the lock for `app_id` in `namespace` (or in `default` when that namespace does not
/// exist yet). A lease whose holder stopped renewing it (crashed) is taken over once it
/// expires. `Ok(None)`: the user may not manage leases; the sync runs without a lock.
pub async fn acquire(
    cluster: &Cluster,
    namespace: &str,
    app_id: &str,
    hold_for: Duration,
) -> Result<Option<Lock>, LockError> {
    let Some(kind) = cluster.resolve("coordination.k8s.io/v1", "Lease").await? else {
        return Ok(None);
    };
    let name = format!("kubectl-hooks-{app_id}");
    let mut namespace = namespace.to_owned();
    for _attempt in 0..3 {
        let now = SystemTime::now();
        let lease = json!({
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": name, "namespace": namespace,
                         "labels": {"app.kubernetes.io/managed-by": "kubectl-hooks"}},
            "spec": {
                "holderIdentity": holder_identity(),
                "leaseDurationSeconds": hold_for.as_secs().clamp(1, i32::MAX as u64),
                "acquireTime": micro_time(now),
                "renewTime": micro_time(now),
            }
        });
        match cluster.create(&kind, &lease, false).await {
            Ok(_) => {
                return Ok(Some(Lock {
                    kind,
                    namespace,
                    name,
                }));
            }
            Err(e) if e.is_already_exists() => {
                let Some(live) = cluster.get(&kind, &namespace, &name).await? else {
                    continue;
                };
                if expired(&live, now) {
                    cluster
                        .delete(
                            &kind,
                            &namespace,
                            &name,
                            crate::cluster::Propagation::Background,
                        )
                        .await?;
                    continue;
                }
                return Err(LockError::Held {
                    holder: live["spec"]["holderIdentity"]
                        .as_str()
                        .unwrap_or("someone")
                        .to_owned(),
                    since: live["spec"]["acquireTime"]
                        .as_str()
                        .unwrap_or("?")
                        .to_owned(),
                    namespace,
                    name,
                });
            }
            Err(e) if e.is_not_found() && namespace != "default" => namespace = "default".into(),
            Err(e) if e.status_code() == Some(403) => return Ok(None),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(None)
}

impl Lock {
    pub async fn release(self, cluster: &Cluster) -> Result<(), ClusterError> {
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
}
