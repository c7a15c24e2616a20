//! Running a prepared delete: each stage in order (hooks: apply and wait, as in a sync;
//! deletions: request in reverse kind order, then wait until gone), then the hooks' delete
//! policies. The first failure stops everything after it.

use super::Report;
use super::{Fate, Part, Stage, Teardown};
use crate::cluster::{Cluster, ClusterError, Deleted};
use crate::engine::apply::{Step, kind_groups, run_step};
use crate::engine::policy::OperationResult;
use crate::engine::remove::Gone;
use crate::engine::remove::{apply_delete_policies, terminate_hooks};
use crate::engine::wait::{self, StepEnd};
use crate::engine::{
    Cancel, Ending, Event, Settings, Summary, TaskState, Work, interrupted_message,
};
use crate::model::Phase;
use std::collections::HashMap;
use std::time::SystemTime;
use tokio::time::Instant;

/// Deletions requested and not yet seen gone: work index -> uid.
type Requested = HashMap<usize, Option<String>>;

/// What a stage needs besides its tasks.
struct Ctx<'a> {
    cluster: &'a Cluster,
    settings: &'a Settings,
    deadline: Instant,
    /// Wait for each wave's objects to be gone before the next (`--wait`, the default).
    wait: bool,
    emit: &'a (dyn Fn(&Event) + Sync),
}

pub async fn execute(
    cluster: &Cluster,
    teardown: &mut Teardown,
    settings: &Settings,
    wait: bool,
    emit: &(dyn Fn(&Event) + Sync),
    mut cancel: Cancel,
) -> Report {
    let started = Instant::now();
    let ctx = Ctx {
        cluster,
        settings,
        deadline: settings.deadline_from(started),
        wait,
        emit,
    };
    let mut requested = Requested::new();
    let mut failure = None;
    for stage in teardown.stages.clone() {
        if cancel.is_cancelled() {
            break;
        }
        let end = run_stage(&ctx, teardown, &stage, &mut requested, &mut cancel).await;
        match end {
            StepEnd::Done => {}
            StepEnd::Interrupted => break,
            StepEnd::Failed(message) => {
                failure = Some(match stage.part {
                    Part::PreDelete => format!("{message}; nothing was deleted"),
                    Part::Delete => {
                        format!("{message}; later waves and PostDelete hooks did not run")
                    }
                    Part::PostDelete => format!("{message} (the app's objects were deleted)"),
                });
                break;
            }
        }
    }
    let report = |ending, message| Report {
        summary: Summary::new(cluster, ending, message, started.elapsed()),
    };
    if cancel.is_cancelled() {
        emit(&Event::Interrupted);
        terminate_hooks(cluster, &mut teardown.works, settings, true, emit).await;
        return report(Ending::Interrupted, interrupted_message(&teardown.works));
    }
    terminate_hooks(cluster, &mut teardown.works, settings, false, emit).await;
    let result = match failure {
        None => OperationResult::Succeeded,
        Some(_) => OperationResult::Failed,
    };
    apply_delete_policies(
        cluster,
        &mut teardown.works,
        result,
        settings.concurrency,
        emit,
    )
    .await;
    match failure {
        None => report(Ending::Succeeded, success_message(teardown)),
        Some(message) => report(Ending::Failed, message),
    }
}

async fn run_stage(
    ctx: &Ctx<'_>,
    teardown: &mut Teardown,
    stage: &Stage,
    requested: &mut Requested,
    cancel: &mut Cancel,
) -> StepEnd {
    let emit = ctx.emit;
    let say_kept = |teardown: &Teardown| {
        for &i in &stage.tasks {
            if let Fate::Leave(reason) = &teardown.fates[i] {
                emit(&Event::Kept(teardown.works[i].reference(), reason.clone()));
            }
        }
    };
    let active: Vec<usize> = stage
        .tasks
        .iter()
        .copied()
        .filter(|&i| !matches!(teardown.fates[i], Fate::Leave(_)))
        .collect();
    if active.is_empty() {
        say_kept(teardown);
        return StepEnd::Done;
    }
    let step_started = Instant::now();
    let phase = match stage.part {
        Part::PreDelete => Phase::PreDelete,
        Part::PostDelete => Phase::PostDelete,
        // The app's objects are the Sync phase's objects.
        Part::Delete => Phase::Sync,
    };
    let end = match stage.part {
        Part::PreDelete | Part::PostDelete => {
            if stage.part == Part::PostDelete {
                // PostDelete hooks run once everything is gone, even with --no-wait.
                let end = wait_gone(ctx, teardown, requested, cancel).await;
                if !matches!(end, StepEnd::Done) {
                    return end;
                }
            }
            emit(&Event::StepStarted {
                phase,
                wave: stage.wave,
                tasks: active.len(),
            });
            say_kept(teardown);
            run_step(
                ctx.cluster,
                &mut teardown.works,
                Step::tasks(&active),
                ctx.settings,
                ctx.deadline,
                emit,
                cancel,
            )
            .await
        }
        Part::Delete => {
            emit(&Event::DeleteStepStarted {
                wave: stage.wave,
                objects: active.len(),
            });
            say_kept(teardown);
            request_deletions(ctx, teardown, &active, requested, cancel).await;
            match first_failure(teardown, &active) {
                Some(message) => StepEnd::Failed(message),
                None if cancel.is_cancelled() => StepEnd::Interrupted,
                None if ctx.wait => wait_gone(ctx, teardown, requested, cancel).await,
                None => StepEnd::Done,
            }
        }
    };
    emit(&Event::StepFinished {
        phase,
        wave: stage.wave,
        took: step_started.elapsed(),
        completed: matches!(end, StepEnd::Done),
    });
    end
}

/// Sends the deletions of one wave: kinds in the order the stage lists them (the reverse of
/// the apply order), the objects of one kind at once. Does not wait for them to be gone.
async fn request_deletions(
    ctx: &Ctx<'_>,
    teardown: &mut Teardown,
    tasks: &[usize],
    requested: &mut Requested,
    cancel: &Cancel,
) {
    let works = &mut teardown.works;
    for group in kind_groups(works, tasks) {
        if cancel.is_cancelled() {
            break;
        }
        let now = SystemTime::now();
        let sends = group.iter().map(|&i| {
            let w = &works[i];
            let already = teardown.fates[i] == Fate::Delete(Some(Gone::AlreadyGone));
            async move {
                let result = match w.target() {
                    Some(target) if !already => {
                        (ctx.emit)(&Event::Deleting(w.reference()));
                        target.request(ctx.cluster).await
                    }
                    _ => Ok(Deleted::AlreadyGone),
                };
                (i, result)
            }
        });
        let results: Vec<(usize, Result<Deleted, ClusterError>)> =
            crate::engine::concurrently(ctx.settings.concurrency, sends).await;
        for (i, result) in results {
            let w = &mut works[i];
            w.started = Some(now);
            match result {
                Ok(Deleted::AlreadyGone) => {
                    teardown.fates[i] = Fate::Delete(Some(Gone::AlreadyGone));
                    wait::finish(w, TaskState::Succeeded, "already gone".into(), ctx.emit);
                }
                Ok(Deleted::Requested { uid }) => {
                    teardown.fates[i] = Fate::Delete(Some(Gone::Requested));
                    requested.insert(i, uid);
                    if ctx.wait {
                        w.state = TaskState::Running;
                        w.message = "deletion requested".into();
                    } else {
                        let message = "deletion requested (--no-wait)".into();
                        wait::finish(w, TaskState::Succeeded, message, ctx.emit);
                    }
                }
                Err(e) => wait::finish(w, TaskState::Failed, e.to_string(), ctx.emit),
            }
        }
    }
}

/// Waits until every requested deletion is done (finalizers run, dependents collected), the
/// time is up, or Ctrl-C.
async fn wait_gone(
    ctx: &Ctx<'_>,
    teardown: &mut Teardown,
    requested: &mut Requested,
    cancel: &mut Cancel,
) -> StepEnd {
    if requested.is_empty() {
        return StepEnd::Done;
    }
    let works = &teardown.works;
    let limit = ctx.deadline.saturating_duration_since(Instant::now());
    let waits = requested.iter().map(|(&i, uid)| {
        let target = works[i].target().expect("requested deletions have a kind");
        async move {
            (
                i,
                target.wait_gone(ctx.cluster, uid.as_deref(), limit).await,
            )
        }
    });
    let all = crate::engine::concurrently(ctx.settings.concurrency, waits);
    let results = tokio::select! {
        biased;
        _ = cancel.cancelled() => return StepEnd::Interrupted,
        results = all => results,
    };
    requested.clear();
    let mut first = None;
    for (i, result) in results {
        let w = &mut teardown.works[i];
        match result {
            Ok(()) => {
                teardown.fates[i] = Fate::Delete(Some(Gone::Deleted));
                wait::finish(w, TaskState::Succeeded, "deleted".into(), ctx.emit);
            }
            Err(e) => {
                let why = match e {
                    ClusterError::WaitTimeout { .. } => format!(
                        "still there at the end of --timeout {} (finalizers or dependents not done)",
                        wait::flag_duration(ctx.settings.timeout)
                    ),
                    e => e.to_string(),
                };
                wait::finish(w, TaskState::Failed, why, ctx.emit);
                first.get_or_insert(i);
            }
        }
    }
    match first {
        Some(i) => StepEnd::Failed(deletion_failure(&teardown.works[i])),
        None => StepEnd::Done,
    }
}

fn first_failure(teardown: &Teardown, tasks: &[usize]) -> Option<String> {
    tasks
        .iter()
        .map(|&i| &teardown.works[i])
        .find(|w| w.state == TaskState::Failed)
        .map(deletion_failure)
}

/// "deleting wave 1 failed: Deployment/api: <why>"
fn deletion_failure(w: &Work) -> String {
    format!(
        "deleting wave {} failed: {}/{}: {}",
        w.task.wave, w.task.kind, w.name, w.message
    )
}

fn success_message(teardown: &Teardown) -> String {
    let count = |gone| {
        teardown
            .fates
            .iter()
            .filter(|f| **f == Fate::Delete(Some(gone)))
            .count()
    };
    let kept = teardown.left_in_place();
    let mut parts = vec![
        format!("{} deleted", count(Gone::Deleted)),
        format!("{} already gone", count(Gone::AlreadyGone)),
    ];
    let requested = count(Gone::Requested);
    if requested > 0 {
        parts.push(format!("{requested} deletion(s) requested, not waited for"));
    }
    parts.push(format!("{kept} left in place"));
    format!("successfully deleted ({})", parts.join(", "))
}
