//! Applying a step, shared by `sync` and `delete` (whose hooks run as sync hooks do): open the
//! watches, re-create hooks that want it, apply kind by kind (waiting for kinds a CRD of this
//! step defines), and wait until the step is done.

use crate::cluster::{ApplyOptions, Cluster, ClusterError};
use crate::engine::options::{self, Written};
use crate::engine::prune::{self, StepPrunes};
use crate::engine::remove::{DELETE_WAIT, Gone};
use crate::engine::wait::{self, StepEnd, Watches};
use crate::engine::why;
use crate::engine::{Cancel, Event, Settings, TaskState, Work, policy};
use crate::model::SyncOption;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::SystemTime;
use tokio::time::Instant;

/// How long reading pods, events and logs of the step's failed tasks may take.
const WHY_GRACE: std::time::Duration = std::time::Duration::from_secs(15);

pub(crate) async fn create_namespaces(
    cluster: &Cluster,
    names: &[String],
    emit: &(dyn Fn(&Event) + Sync),
) -> Result<(), ClusterError> {
    if names.is_empty() {
        return Ok(());
    }
    let kind = cluster
        .resolve("v1", "Namespace")
        .await?
        .expect("prepare resolved v1 Namespace");
    for name in names {
        let object = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}});
        cluster
            .apply(&kind, &object, ApplyOptions::default())
            .await?;
        emit(&Event::NamespaceCreated(name.clone()));
    }
    Ok(())
}

/// The prunes that run first in a sync's step (Argo CD prunes first within a step, then
/// applies): indices into `prunes`, whose live objects carry the app's `part-of` label.
/// What one step runs: its tasks (indices into the works) and, in a sync, its prunes.
pub(crate) struct Step<'a> {
    pub tasks: &'a [usize],
    pub prunes: Option<StepPrunes<'a>>,
}

impl<'a> Step<'a> {
    /// A step that prunes nothing (delete's, SyncFail's).
    pub fn tasks(tasks: &'a [usize]) -> Step<'a> {
        Step {
            tasks,
            prunes: None,
        }
    }
}

/// One step. Everything that can fail before a write comes first (opening the watches, the
/// deadline), so that nothing is deleted unless the step goes on to re-create it: then the
/// step's prunes (`--prune`), then the BeforeHookCreation deletions, then the applies kind by
/// kind. A kind defined by a CRD of this
/// step exists only once that CRD is applied and established: its objects wait for it, within
/// the step's deadline, after the kinds before them were applied.
pub(crate) async fn run_step(
    cluster: &Cluster,
    works: &mut [Work],
    step: Step<'_>,
    settings: &Settings,
    deadline: Instant,
    emit: &(dyn Fn(&Event) + Sync),
    cancel: &mut Cancel,
) -> StepEnd {
    let Step { tasks, prunes } = step;
    // Every request of the step ends by the deadline, and a server that went away is retried
    // until then, not past it. Saying why a task failed comes after it (a timeout), so it
    // gets a short time of its own.
    let unbounded = cluster;
    let cluster = &cluster.until(Some(deadline));
    let watched: Vec<usize> = tasks
        .iter()
        .copied()
        .filter(|&i| wait::may_need_waiting(&works[i], settings))
        .collect();
    let too_late = || {
        StepEnd::Failed(format!(
            "timed out (--timeout {}) before the step started; nothing of it was changed",
            wait::flag_duration(settings.timeout)
        ))
    };
    let mut watches = match Watches::open(cluster, works, &watched, deadline).await {
        Ok(w) => w,
        Err(_) if Instant::now() >= deadline => return too_late(),
        Err(e) => return StepEnd::Failed(e.to_string()),
    };
    if Instant::now() >= deadline {
        return too_late();
    }
    if cancel.is_cancelled() {
        return StepEnd::Interrupted;
    }
    if let Some(p) = prunes
        && let Err(message) = prune::run(cluster, p, deadline, emit).await
    {
        return StepEnd::Failed(message);
    }
    if let Err(message) = replace_existing_hooks(cluster, works, tasks, settings, emit).await {
        return StepEnd::Failed(message);
    }

    let mut applied = HashMap::new();
    // Once the step has started writing, neither Ctrl-C nor a failed apply stops the applies
    // of known kinds (they are quick, and a hook deleted above is always re-created); both
    // stop it before a wait for a new kind.
    for group in kind_groups(works, tasks) {
        let new_kinds: Vec<usize> = group
            .iter()
            .copied()
            .filter(|&i| works[i].kind.is_none())
            .collect();
        if !new_kinds.is_empty() {
            let failed = tasks.iter().any(|&i| works[i].state == TaskState::Failed);
            if cancel.is_cancelled() || failed {
                break;
            }
            if let Err(message) =
                resolve_new_kinds(cluster, works, &new_kinds, settings, deadline, emit, cancel)
                    .await
            {
                return StepEnd::Failed(message);
            }
            if cancel.is_cancelled() {
                break;
            }
            let newly_watched: Vec<usize> = new_kinds
                .iter()
                .copied()
                .filter(|&i| wait::may_need_waiting(&works[i], settings))
                .collect();
            if let Err(e) = watches.add(cluster, works, &newly_watched, deadline).await {
                return StepEnd::Failed(e.to_string());
            }
        }
        applied.extend(apply_group(cluster, works, &group, settings, emit).await);
    }
    if let Some(&i) = tasks.iter().find(|&&i| works[i].state == TaskState::Failed) {
        return StepEnd::Failed(wait::failure_message(&works[i]));
    }
    if cancel.is_cancelled() {
        return StepEnd::Interrupted;
    }
    let running: Vec<usize> = tasks
        .iter()
        .copied()
        .filter(|i| applied.contains_key(i))
        .collect();
    let waited = running.clone();
    let mut lookout = why::Lookout::new(settings);
    let ctx = wait::StepContext {
        cluster,
        settings,
        deadline,
        emit,
    };
    let end = watches
        .until_done(works, running, applied, &ctx, cancel, &mut lookout)
        .await;
    let explaining = unbounded.until(Some(Instant::now() + WHY_GRACE));
    lookout.finish(&explaining, works, tasks, emit).await;
    if matches!(end, StepEnd::Failed(_)) {
        why::explain_failures(&explaining, works, &waited, settings).await;
    }
    end
}

/// BeforeHookCreation: an existing object of a hook's name is deleted, and waited for, before
/// the hook is created again (Argo CD's "Hook Deletion Policies").
async fn replace_existing_hooks(
    cluster: &Cluster,
    works: &mut [Work],
    tasks: &[usize],
    settings: &Settings,
    emit: &(dyn Fn(&Event) + Sync),
) -> Result<(), String> {
    let targets: Vec<usize> = tasks
        .iter()
        .copied()
        .filter(|&i| {
            let w = &works[i];
            w.task.hook
                && w.kind.is_some()
                && policy::delete_before_creation(&w.task.delete_policies)
        })
        .collect();
    let deletions = targets.iter().map(|&i| {
        let target = works[i].target().expect("filtered");
        async move {
            let gone = target.delete(cluster, Some(DELETE_WAIT)).await;
            (i, gone.map(|g| g == Gone::Deleted))
        }
    });
    let results: Vec<(usize, Result<bool, ClusterError>)> =
        crate::engine::concurrently(settings.concurrency, deletions).await;
    let mut first_error = None;
    for (i, result) in results {
        match result {
            Ok(true) => emit(&Event::Replacing(works[i].reference())),
            Ok(false) => {}
            Err(e) => {
                let w = &mut works[i];
                wait::finish(
                    w,
                    TaskState::Failed,
                    format!("failed to delete the existing object: {e}"),
                    emit,
                );
                first_error.get_or_insert_with(|| wait::failure_message(w));
            }
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// Kinds defined by a CRD of this same sync exist only once that CRD is established (the
/// API server serves a CRD's kind from the moment its `Established` condition is true), so
/// discovery is asked again until it serves them, until the step's deadline. Kinds of
/// `SkipDryRunOnMissingResource=true` objects may come from elsewhere (an operator) and are
/// waited for alike.
async fn resolve_new_kinds(
    cluster: &Cluster,
    works: &mut [Work],
    tasks: &[usize],
    settings: &Settings,
    deadline: Instant,
    emit: &(dyn Fn(&Event) + Sync),
    cancel: &mut Cancel,
) -> Result<(), String> {
    for &i in tasks {
        if works[i].kind.is_some() {
            continue;
        }
        let (api_version, kind) = (works[i].api_version.clone(), works[i].task.kind.clone());
        let by_option = works[i]
            .options
            .has(SyncOption::SkipDryRunOnMissingResource);
        if by_option {
            emit(&Event::Told(
                works[i].reference(),
                format!(
                    "waiting for the cluster to serve {kind} in {api_version} (SkipDryRunOnMissingResource=true)"
                ),
            ));
        }
        cluster.invalidate(&api_version);
        let left = deadline.saturating_duration_since(Instant::now());
        let found = tokio::select! {
            found = cluster.wait_for_kind(&api_version, &kind, left) => found,
            _ = cancel.cancelled() => return Ok(()),
        };
        match found {
            Ok(Some(resolved)) => {
                let w = &mut works[i];
                if !resolved.namespaced {
                    // Taken as namespaced while the kind was unknown.
                    w.namespace = None;
                }
                w.kind = Some(resolved);
            }
            Ok(None) => {
                let w = &mut works[i];
                let why = if by_option {
                    "SkipDryRunOnMissingResource=true: is the operator that installs its CustomResourceDefinition running?"
                } else {
                    "its CustomResourceDefinition was applied, but is not established"
                };
                wait::finish(
                    w,
                    TaskState::Failed,
                    format!(
                        "timed out (--timeout {}) waiting for the cluster to serve {kind} in {api_version} ({why})",
                        wait::flag_duration(settings.timeout)
                    ),
                    emit,
                );
                return Err(wait::failure_message(w));
            }
            Err(e) => {
                let w = &mut works[i];
                wait::finish(w, TaskState::Failed, e.to_string(), emit);
                return Err(wait::failure_message(w));
            }
        }
    }
    Ok(())
}

/// Applies one group of objects of one kind at once (as Argo CD does, kinds one after
/// another, so a ServiceAccount exists before the Job that runs as it is created), with no
/// health wait between kinds. Returns what the server stored, per task.
async fn apply_group(
    cluster: &Cluster,
    works: &mut [Work],
    group: &[usize],
    settings: &Settings,
    emit: &(dyn Fn(&Event) + Sync),
) -> HashMap<usize, Value> {
    let mut applied = HashMap::new();
    let now = SystemTime::now();
    let requests = group.iter().map(|&i| {
        let w = &works[i];
        async move { (i, options::write(cluster, w, settings).await) }
    });
    let results: Vec<(usize, Result<Written, ClusterError>)> =
        crate::engine::concurrently(settings.concurrency, requests).await;
    for (i, result) in results {
        let w = &mut works[i];
        w.started = Some(now);
        match result {
            Ok(written) => {
                w.took_over = written.took_over;
                w.state = TaskState::Running;
                emit(&Event::Applied(w.reference()));
                for note in written.notes {
                    emit(&Event::Told(w.reference(), note));
                }
                applied.insert(i, written.live);
            }
            Err(e) => wait::finish(w, TaskState::Failed, e.to_string(), emit),
        }
    }
    applied
}

/// Consecutive tasks of one kind: sent at once, one group after another.
pub(crate) fn kind_groups(works: &[Work], tasks: &[usize]) -> Vec<Vec<usize>> {
    tasks
        .chunk_by(|&a, &b| works[a].task.kind == works[b].task.kind)
        .map(<[usize]>::to_vec)
        .collect()
}
