//! Running a prepared sync: each step in order (replace hooks, apply, wait), then on failure
//! the SyncFail hooks, then the delete policies. Reads top to bottom like the story it tells.

use super::{Prepared, Report};
use crate::cluster::Cluster;
use crate::engine::apply::{Step, create_namespaces, run_step};
use crate::engine::inventory::LABEL_PART_OF;
use crate::engine::policy::OperationResult;
use crate::engine::prune::StepPrunes;
use crate::engine::remove::{apply_delete_policies, terminate_hooks};
use crate::engine::wait::StepEnd;
use crate::engine::{Cancel, Ending, Event, Settings, Summary, Work, interrupted_message};
use std::time::Duration;
use tokio::time::Instant;

/// How long SyncFail hooks may run when the sync's own time is already spent.
const SYNC_FAIL_GRACE: Duration = Duration::from_secs(120);

pub async fn execute(
    cluster: &Cluster,
    prepared: &mut Prepared,
    settings: &Settings,
    emit: &(dyn Fn(&Event) + Sync),
    mut cancel: Cancel,
) -> Report {
    let started = Instant::now();
    let deadline = settings.deadline_from(started);
    let mut step_durations = Vec::new();
    let report = |ending, message: String, step_durations| Report {
        summary: Summary::new(cluster, ending, message, started.elapsed()),
        step_durations,
    };

    // The hooks' delete policies, once the operation's result is known.
    let delete_policies = async |works: &mut [Work], result| {
        apply_delete_policies(cluster, works, result, settings.concurrency, emit).await
    };

    let bounded = cluster.until(Some(deadline));
    if let Err(e) = create_namespaces(&bounded, &prepared.namespaces_to_create, emit).await {
        return report(
            Ending::Failed,
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
        let prunes = StepPrunes {
            prunes: &mut prepared.prunes,
            indices: &step.prunes,
            members: format!("{}={}", LABEL_PART_OF, prepared.app.applyset_id()),
            propagation: settings.prune_propagation,
            concurrency: settings.concurrency,
        };
        let end = run_step(
            cluster,
            &mut prepared.works,
            Step {
                tasks: &step.tasks,
                prunes: Some(prunes),
            },
            settings,
            deadline,
            emit,
            &mut cancel,
        )
        .await;
        let took = step_started.elapsed();
        step_durations.push((step.phase, step.wave, took));
        emit(&Event::StepFinished {
            phase: step.phase,
            wave: step.wave,
            took,
            completed: matches!(end, StepEnd::Done),
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
        terminate_hooks(cluster, &mut prepared.works, settings, true, emit).await;
        let message = interrupted_message(&prepared.works);
        return report(Ending::Interrupted, message, step_durations);
    }
    // A hook a timeout ended stops before anything else runs (the SyncFail hooks among them).
    terminate_hooks(cluster, &mut prepared.works, settings, false, emit).await;

    match failure {
        None => {
            delete_policies(&mut prepared.works, OperationResult::Succeeded).await;
            report(
                Ending::Succeeded,
                "successfully synced (all tasks run)".into(),
                step_durations,
            )
        }
        Some(mut message) => {
            // Argo CD deletes HookFailed hooks before it starts the SyncFail hooks.
            delete_policies(&mut prepared.works, OperationResult::Failed).await;
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
                    Step::tasks(&sync_fail.tasks),
                    settings,
                    sync_fail_deadline,
                    emit,
                    &mut cancel,
                )
                .await;
                step_durations.push((sync_fail.phase, sync_fail.wave, step_started.elapsed()));
                let interrupted = cancel.is_cancelled();
                terminate_hooks(cluster, &mut prepared.works, settings, interrupted, emit).await;
                if let StepEnd::Failed(why) = end {
                    message.push_str(&format!("\none or more SyncFail hooks failed: {why}"));
                }
                delete_policies(&mut prepared.works, OperationResult::Failed).await;
            }
            if cancel.is_cancelled() {
                emit(&Event::Interrupted);
                return report(
                    Ending::Interrupted,
                    interrupted_message(&prepared.works),
                    step_durations,
                );
            }
            report(Ending::Failed, message, step_durations)
        }
    }
}
