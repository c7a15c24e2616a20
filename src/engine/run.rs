//! Running a prepared sync: each step in order (replace hooks, apply, wait), then on failure
//! the SyncFail hooks, then the delete policies. Reads top to bottom like the story it tells.

use super::policy::{self, HookState, OperationResult};
use super::remove::Gone;
use super::wait::{self, StepEnd, Watches};
use super::{Event, Prepared, Report, Settings, SyncResult, TaskState, Work};
use crate::cluster::{ApplyOptions, Cluster, ClusterError};
use futures::StreamExt;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::{Duration, SystemTime};
use tokio::time::Instant;

/// How the engine learns of Ctrl-C: stop starting new work.
#[derive(Clone)]
pub struct Cancel(tokio::sync::watch::Receiver<bool>);

impl Cancel {
    pub fn new() -> (tokio::sync::watch::Sender<bool>, Cancel) {
        let (tx, rx) = tokio::sync::watch::channel(false);
        (tx, Cancel(rx))
    }

    pub fn is_cancelled(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves once cancelled (never, if the sender is gone without cancelling).
    pub async fn cancelled(&mut self) {
        if self.0.wait_for(|c| *c).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// How long SyncFail hooks may run when the sync's own time is already spent.
const SYNC_FAIL_GRACE: Duration = Duration::from_secs(120);
/// How long to wait for a hook object to be gone after deleting it.
pub(super) const DELETE_WAIT: Duration = Duration::from_secs(120);

pub async fn execute(
    cluster: &Cluster,
    prepared: &mut Prepared,
    settings: &Settings,
    emit: &(dyn Fn(&Event) + Sync),
    mut cancel: Cancel,
) -> Report {
    let started = Instant::now();
    let deadline = started + settings.timeout;
    let mut step_durations = Vec::new();
    let report = |result, message: String, step_durations| Report {
        result,
        message,
        duration: started.elapsed(),
        step_durations,
        // All of the sync's requests so far: discovery, dry run and lock too, not only steps.
        requests: cluster.requests_made(),
    };

    if let Err(e) = create_namespaces(cluster, &prepared.namespaces_to_create, emit).await {
        return report(
            SyncResult::Failed,
            format!("creating namespaces: {e}"),
            step_durations,
        );
    }

    let mut failure = None;
    let steps = prepared.steps.clone();
    for (n, step) in steps.iter().enumerate() {
        if cancel.is_cancelled() {
            break;
        }
        emit(&Event::StepStarted {
            phase: step.phase,
            wave: step.wave,
            tasks: step.tasks.len() + step.prunes.len(),
        });
        let step_started = Instant::now();
        // Argo CD prunes first within a step, then applies.
        let members = format!(
            "{}={}",
            super::inventory::LABEL_PART_OF,
            prepared.app.applyset_id()
        );
        let pruned = super::prune::run(
            cluster,
            &mut prepared.prunes,
            &step.prunes,
            &members,
            settings.prune_propagation,
            deadline,
            emit,
        )
        .await;
        let end = match pruned {
            Err(message) => StepEnd::Failed(message),
            Ok(()) => {
                run_step(
                    cluster,
                    &mut prepared.works,
                    &step.tasks,
                    settings,
                    deadline,
                    emit,
                    &mut cancel,
                )
                .await
            }
        };
        let took = step_started.elapsed();
        step_durations.push((step.phase, step.wave, took));
        emit(&Event::StepFinished {
            phase: step.phase,
            wave: step.wave,
            took,
        });
        match end {
            StepEnd::Done => {}
            StepEnd::Interrupted => break,
            StepEnd::Failed(message) => {
                failure = Some(message);
                break;
            }
        }
        if let Some(delay) = settings.wave_delay.filter(|_| n + 1 < steps.len()) {
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = cancel.cancelled() => {}
            }
        }
    }

    if cancel.is_cancelled() {
        emit(&Event::Interrupted);
        let message = interrupted_message(&prepared.works);
        return report(SyncResult::Interrupted, message, step_durations);
    }

    match failure {
        None => {
            apply_delete_policies(
                cluster,
                &mut prepared.works,
                OperationResult::Succeeded,
                emit,
            )
            .await;
            report(
                SyncResult::Succeeded,
                "successfully synced (all tasks run)".into(),
                step_durations,
            )
        }
        Some(mut message) => {
            // Argo CD deletes HookFailed hooks before it starts the SyncFail hooks.
            apply_delete_policies(cluster, &mut prepared.works, OperationResult::Failed, emit)
                .await;
            if let Some(sync_fail) = prepared.sync_fail.clone() {
                emit(&Event::SyncFailStarted {
                    hooks: sync_fail.tasks.len(),
                });
                let grace = settings.hook_timeout.unwrap_or(SYNC_FAIL_GRACE);
                let sync_fail_deadline = deadline.max(Instant::now() + grace);
                let step_started = Instant::now();
                let end = run_step(
                    cluster,
                    &mut prepared.works,
                    &sync_fail.tasks,
                    settings,
                    sync_fail_deadline,
                    emit,
                    &mut cancel,
                )
                .await;
                step_durations.push((sync_fail.phase, sync_fail.wave, step_started.elapsed()));
                if let StepEnd::Failed(why) = end {
                    message.push_str(&format!("\none or more SyncFail hooks failed: {why}"));
                }
                apply_delete_policies(cluster, &mut prepared.works, OperationResult::Failed, emit)
                    .await;
            }
            if cancel.is_cancelled() {
                emit(&Event::Interrupted);
                return report(
                    SyncResult::Interrupted,
                    interrupted_message(&prepared.works),
                    step_durations,
                );
            }
            report(SyncResult::Failed, message, step_durations)
        }
    }
}

pub(super) fn interrupted_message(works: &[Work]) -> String {
    let count = |state| works.iter().filter(|w| w.state == state).count();
    format!(
        "interrupted: {} task(s) finished, {} still running, {} not started",
        count(TaskState::Succeeded) + count(TaskState::Failed),
        count(TaskState::Running),
        count(TaskState::Pending)
    )
}

async fn create_namespaces(
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

/// One step: re-create hooks that want it, open the watches, apply, wait.
pub(super) async fn run_step(
    cluster: &Cluster,
    works: &mut [Work],
    tasks: &[usize],
    settings: &Settings,
    deadline: Instant,
    emit: &(dyn Fn(&Event) + Sync),
    cancel: &mut super::Cancel,
) -> StepEnd {
    if let Err(message) = replace_existing_hooks(cluster, works, tasks, emit).await {
        return StepEnd::Failed(message);
    }
    if let Err(message) = resolve_new_kinds(cluster, works, tasks, emit).await {
        return StepEnd::Failed(message);
    }
    let watched: Vec<usize> = tasks
        .iter()
        .copied()
        .filter(|&i| wait::may_need_waiting(&works[i], settings))
        .collect();
    let mut watches = match Watches::open(cluster, works, &watched, deadline).await {
        Ok(w) => w,
        Err(e) => return StepEnd::Failed(e.to_string()),
    };

    let applied = apply_all(cluster, works, tasks, settings, emit, cancel).await;
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
    watches
        .until_done(
            works,
            running,
            applied,
            &wait::StepContext {
                settings,
                deadline,
                emit,
            },
            cancel,
        )
        .await
}

/// BeforeHookCreation: an existing object of a hook's name is deleted, and waited for, before
/// the hook is created again (§6.13).
async fn replace_existing_hooks(
    cluster: &Cluster,
    works: &mut [Work],
    tasks: &[usize],
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
    let results: Vec<(usize, Result<bool, ClusterError>)> = futures::stream::iter(deletions)
        .buffer_unordered(16)
        .collect()
        .await;
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

/// Kinds defined by a CRD of this same sync exist only once that CRD is established.
async fn resolve_new_kinds(
    cluster: &Cluster,
    works: &mut [Work],
    tasks: &[usize],
    emit: &(dyn Fn(&Event) + Sync),
) -> Result<(), String> {
    for &i in tasks {
        if works[i].kind.is_some() {
            continue;
        }
        let (api_version, kind) = (works[i].api_version.clone(), works[i].task.kind.clone());
        cluster.invalidate(&api_version);
        match cluster
            .wait_for_kind(&api_version, &kind, Duration::from_secs(60))
            .await
        {
            Ok(Some(resolved)) => works[i].kind = Some(resolved),
            Ok(None) => {
                let w = &mut works[i];
                wait::finish(
                    w,
                    TaskState::Failed,
                    format!(
                        "the cluster does not serve {kind} in {api_version}, even after its CustomResourceDefinition was applied"
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

/// Applies the step's objects: consecutive objects of one kind at once, kinds one after
/// another (as Argo CD does, so a ServiceAccount exists before the Job that runs as it is
/// created), with no health wait between kinds. Returns what the server stored, per task.
async fn apply_all(
    cluster: &Cluster,
    works: &mut [Work],
    tasks: &[usize],
    settings: &Settings,
    emit: &(dyn Fn(&Event) + Sync),
    cancel: &super::Cancel,
) -> HashMap<usize, Value> {
    let mut applied = HashMap::new();
    let options = ApplyOptions {
        force: settings.force_conflicts,
        dry_run: false,
    };
    for group in kind_groups(works, tasks) {
        if cancel.is_cancelled() {
            break;
        }
        let now = SystemTime::now();
        let requests = group.iter().map(|&i| {
            let w = &works[i];
            async move {
                let kind = w.kind.as_ref().expect("kinds resolved before apply");
                (i, cluster.apply(kind, &w.object, options).await)
            }
        });
        let results: Vec<(usize, Result<Value, ClusterError>)> = futures::stream::iter(requests)
            .buffer_unordered(settings.concurrency.max(1))
            .collect()
            .await;
        for (i, result) in results {
            let w = &mut works[i];
            w.started = Some(now);
            match result {
                Ok(live) => {
                    w.state = TaskState::Running;
                    emit(&Event::Applied(w.reference()));
                    applied.insert(i, live);
                }
                Err(e) => wait::finish(w, TaskState::Failed, e.to_string(), emit),
            }
        }
    }
    applied
}

/// Consecutive tasks of one kind: sent at once, one group after another.
pub(super) fn kind_groups(works: &[Work], tasks: &[usize]) -> Vec<Vec<usize>> {
    tasks
        .chunk_by(|&a, &b| works[a].task.kind == works[b].task.kind)
        .map(<[usize]>::to_vec)
        .collect()
}

/// At the end of the operation (and before SyncFail hooks run): hooks of this sync whose
/// policy says so are deleted, with their dependents (a Job's pods).
pub(super) async fn apply_delete_policies(
    cluster: &Cluster,
    works: &mut [Work],
    result: OperationResult,
    emit: &(dyn Fn(&Event) + Sync),
) {
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
    let results: Vec<Result<(), ClusterError>> = futures::stream::iter(deletions)
        .buffered(16)
        .collect()
        .await;
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
