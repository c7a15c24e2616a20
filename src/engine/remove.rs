//! Removing objects: the one place where `sync` (BeforeHookCreation, delete policies),
//! `cleanup` and `delete` delete an object and wait until it is gone, and the permission
//! check (a server-side dry-run delete) they run before they delete anything.

use crate::cluster::{Cluster, ClusterError, Deleted, ErrorClass, Propagation, ResolvedKind};
use crate::engine::policy::{self, HookState, OperationResult};
use crate::engine::{Event, Settings, TaskState, Work};
use std::time::Duration;
use std::time::SystemTime;

/// How long to wait for a hook object to be gone after deleting it.
pub(crate) const DELETE_WAIT: Duration = Duration::from_secs(120);
/// How long the housekeeping at the end of an operation (delete policies) may take, whatever
/// the deadline: a cluster that stopped answering must not hold the exit for long.
const HOUSEKEEPING: Duration = Duration::from_secs(15);

/// Every deletion is Foreground, as Argo CD's prunes and hook deletions are: the object stays
/// until its dependents (a Job's pods, a Deployment's ReplicaSets) are gone, so "the object
/// is gone" means "and everything it owned".
pub const PROPAGATION: Propagation = Propagation::Foreground;

/// How a deletion ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gone {
    /// Deleted, and seen gone (finalizers and garbage collection done).
    Deleted,
    /// There was nothing to delete.
    AlreadyGone,
    /// The deletion was requested and not waited for.
    Requested,
}

/// One object to remove.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    pub kind: &'a ResolvedKind,
    /// `""` for cluster-scoped objects.
    pub namespace: &'a str,
    pub name: &'a str,
}

impl Target<'_> {
    /// Deletes the object and, with `wait`, waits at most that long until it is gone.
    pub async fn delete(
        &self,
        cluster: &Cluster,
        wait: Option<Duration>,
    ) -> Result<Gone, ClusterError> {
        match self.request(cluster).await? {
            Deleted::AlreadyGone => Ok(Gone::AlreadyGone),
            Deleted::Requested { uid } => match wait {
                None => Ok(Gone::Requested),
                Some(limit) => {
                    self.wait_gone(cluster, uid.as_deref(), limit).await?;
                    Ok(Gone::Deleted)
                }
            },
        }
    }

    /// Asks for the deletion, without waiting.
    pub async fn request(&self, cluster: &Cluster) -> Result<Deleted, ClusterError> {
        cluster
            .delete(self.kind, self.namespace, self.name, PROPAGATION)
            .await
    }

    /// Waits at most `limit` until the object (the one with `uid`, when given) is gone.
    pub async fn wait_gone(
        &self,
        cluster: &Cluster,
        uid: Option<&str>,
        limit: Duration,
    ) -> Result<(), ClusterError> {
        cluster
            .wait_deleted(self.kind, self.namespace, self.name, uid, limit)
            .await
    }
}

/// Deletions that may not go ahead: what the server said about each, and whether any of
/// them is an access problem (RBAC, authentication: exit 3).
#[derive(Debug)]
pub struct Refusal {
    pub problems: Vec<String>,
    pub access: bool,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} object(s) may not be deleted; nothing was deleted",
            self.problems.len()
        )
    }
}

impl Refusal {
    pub fn class(&self) -> ErrorClass {
        if self.access {
            ErrorClass::Access
        } else {
            ErrorClass::Rejected
        }
    }
}

/// A server-side dry-run delete of every target, at most `concurrency` at once, so that a
/// user who may not delete something learns it before anything is deleted. Returns, per
/// target, whether it exists now; or every refusal, each named by its `labels` entry.
pub async fn check_deletable(
    cluster: &Cluster,
    targets: &[Target<'_>],
    labels: &[String],
    concurrency: usize,
) -> Result<Vec<bool>, Refusal> {
    let checks = targets.iter().enumerate().map(|(i, t)| async move {
        let result = cluster
            .delete_request(t.kind, t.namespace, t.name, PROPAGATION, true)
            .await;
        (i, result)
    });
    let mut results: Vec<(usize, Result<Deleted, ClusterError>)> =
        crate::engine::concurrently(concurrency, checks).await;
    results.sort_by_key(|(i, _)| *i);
    let mut exists = Vec::with_capacity(targets.len());
    let mut refusal = Refusal {
        problems: Vec::new(),
        access: false,
    };
    for (i, result) in results {
        match result {
            Ok(deleted) => exists.push(deleted != Deleted::AlreadyGone),
            Err(e) => {
                refusal.access |= e.is_access_error();
                refusal.problems.push(format!("{}: {e}", labels[i]));
                exists.push(false);
            }
        }
    }
    if refusal.problems.is_empty() {
        Ok(exists)
    } else {
        Err(refusal)
    }
}

/// At the end of the operation (and before SyncFail hooks run): hooks of this sync whose
/// policy says so are deleted, with their dependents (a Job's pods).
pub(crate) async fn apply_delete_policies(
    cluster: &Cluster,
    works: &mut [Work],
    result: OperationResult,
    concurrency: usize,
    emit: &(dyn Fn(&Event) + Sync),
) {
    let cluster = &cluster.until(Some(tokio::time::Instant::now() + HOUSEKEEPING));
    let mut chosen = Vec::new();
    for (i, w) in works.iter().enumerate() {
        if !w.task.hook || w.kind.is_none() || w.deleted_by_policy.is_some() {
            continue;
        }
        let state = match w.state {
            TaskState::Pending => continue,
            TaskState::Running => HookState::Running,
            TaskState::Succeeded => HookState::Succeeded,
            TaskState::Failed => HookState::Failed,
        };
        if let policy::Decision::Delete(reason) =
            policy::at_operation_end(&w.task.delete_policies, state, result)
        {
            chosen.push((i, reason));
        }
    }
    // A hook with several phases is one object when it has a fixed name: delete it once.
    let mut seen = std::collections::HashSet::new();
    chosen.retain(|(i, _)| seen.insert((works[*i].task.object, works[*i].name.clone())));
    let deletions = chosen.iter().map(|(i, _)| {
        let target = works[*i].target().expect("filtered");
        async move { target.delete(cluster, Some(DELETE_WAIT)).await.map(|_| ()) }
    });
    let results: Vec<Result<(), ClusterError>> =
        crate::engine::concurrently(concurrency, deletions).await;
    for ((i, reason), result) in chosen.into_iter().zip(results) {
        let w = &mut works[i];
        match result {
            Ok(_) => {
                emit(&Event::HookDeleted(w.reference(), reason.clone()));
                w.deleted_by_policy = Some(reason);
            }
            Err(e) => emit(&Event::HookDeleteFailed(
                w.reference(),
                format!("failed to delete resource: {e}"),
            )),
        }
    }
}

/// How long to wait for a terminated hook, and what it owns, to be gone.
const TERMINATE_WAIT: Duration = Duration::from_secs(30);
/// The reason a terminated hook's report shows.
const TERMINATED: &str = "terminated";

impl Work {
    /// Deleted by this operation while it was still running.
    pub fn is_terminated(&self) -> bool {
        self.deleted_by_policy
            .as_deref()
            .is_some_and(|r| r.starts_with(TERMINATED))
    }
}

/// As Argo CD's Terminate: hooks still running when the operation is interrupted
/// (`interrupted`), and hooks whose wait a timeout ended, are deleted with what they own (a
/// Job's pods), so a timed-out migration does not go on after the operation gave up. A hook
/// still running when another task failed is left alone, as Argo CD leaves it. Not with
/// `--keep-running-hooks`.
pub(crate) async fn terminate_hooks(
    cluster: &Cluster,
    works: &mut [Work],
    settings: &Settings,
    interrupted: bool,
    emit: &(dyn Fn(&Event) + Sync),
) {
    if settings.keep_running_hooks {
        return;
    }
    let mut chosen: Vec<usize> = works
        .iter()
        .enumerate()
        .filter(|(_, w)| {
            w.task.hook
                && w.kind.is_some()
                && w.deleted_by_policy.is_none()
                && (w.timed_out || (interrupted && w.state == TaskState::Running))
        })
        .map(|(i, _)| i)
        .collect();
    let mut seen = std::collections::HashSet::new();
    chosen.retain(|&i| seen.insert((works[i].task.object, works[i].name.clone())));
    // The deletion and its wait together: a cluster that stopped answering must not hold the
    // exit for a request timeout on top.
    let cluster = &cluster.until(Some(tokio::time::Instant::now() + TERMINATE_WAIT));
    let deletions = chosen.iter().map(|&i| {
        let target = works[i].target().expect("filtered");
        async move { target.delete(cluster, Some(TERMINATE_WAIT)).await }
    });
    let results: Vec<Result<Gone, ClusterError>> =
        crate::engine::concurrently(settings.concurrency, deletions).await;
    for (i, result) in chosen.into_iter().zip(results) {
        let w = &mut works[i];
        let why = if w.timed_out {
            "its wait timed out"
        } else {
            "the operation was interrupted"
        };
        match result {
            Ok(_) => {
                let reason = if w.timed_out {
                    format!("{TERMINATED}: {why}")
                } else {
                    TERMINATED.to_owned()
                };
                if w.state == TaskState::Running {
                    w.state = TaskState::Failed;
                    w.message = "still running when the operation was stopped".into();
                    w.finished = Some(SystemTime::now());
                }
                emit(&Event::HookDeleted(w.reference(), reason.clone()));
                w.deleted_by_policy = Some(reason);
            }
            Err(e) => emit(&Event::HookDeleteFailed(
                w.reference(),
                format!("failed to terminate the hook ({why}): {e}"),
            )),
        }
    }
}
