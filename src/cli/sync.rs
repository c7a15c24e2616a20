//! `kubectl hooks sync`: validate everything, ask, run the plan against the cluster, report.

use super::args::{ReportFormat, RunArgs, SyncArgs};
use super::input::{read_input, refuse_duplicates, refuse_errors};
use super::plan::{report_unknown_hooks, warn_dropped};
use super::{ClusterArgs, Failure, Outcome, exit, print};
use crate::cluster::{Cluster, ClusterError};
use crate::engine::{self, Cancel, PrepareError, Prepared, Report, Settings, SyncResult, lock};
use crate::health::HealthMode;
use crate::manifest::Manifest;
use crate::model::SyncSpec;
use crate::output;
use crate::plan::Plan;
use std::io::IsTerminal;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub fn run(cluster_args: &ClusterArgs, args: &SyncArgs) -> Outcome {
    let loaded = read_input(&args.input)?;
    refuse_errors(&loaded)?;
    refuse_duplicates(&loaded, &super::offline_namespace(cluster_args))?;
    let specs: Vec<SyncSpec> = loaded.manifests.iter().map(SyncSpec::of).collect();
    runtime()?.block_on(sync(cluster_args, args, &loaded.manifests, &specs))
}

pub fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Failure::new(exit::FAILED, format!("cannot start the async runtime: {e}")))
}

pub fn cluster_flags(args: &ClusterArgs) -> crate::cluster::ClusterFlags {
    crate::cluster::ClusterFlags {
        kubeconfig: args.kubeconfig.clone(),
        context: args.context.clone(),
        cluster: args.cluster.clone(),
        user: args.user.clone(),
        namespace: args.namespace.clone(),
        request_timeout: args.request_timeout.filter(|d| !d.is_zero()),
    }
}

pub fn cluster_failure(e: ClusterError) -> Failure {
    Failure::new(
        u8::try_from(e.exit_code()).unwrap_or(exit::FAILED),
        e.to_string(),
    )
}

async fn sync(
    cluster_args: &ClusterArgs,
    args: &SyncArgs,
    manifests: &[Manifest],
    specs: &[SyncSpec],
) -> Outcome {
    let cluster = Cluster::connect(&cluster_flags(cluster_args))
        .await
        .map_err(cluster_failure)?;
    let settings = Settings {
        wave_delay: args.wave_delay,
        create_namespace: args.create_namespace,
        ..settings(&args.run)
    };
    let started_unix = unix_now();

    let mut prepared = engine::prepare(
        &cluster,
        manifests,
        specs,
        args.run.drop_unknown_hooks,
        &settings,
        started_unix,
    )
    .await
    .map_err(|e| prepare_failure(e, manifests))?;
    announce(&prepared.plan, manifests, &prepared.notes);
    let summary = summary_line(&cluster, &prepared);
    if args.run.dry_run {
        print(&output::plan::render(&prepared.plan, manifests, false));
        eprintln!(
            "dry run: {summary}; every object passed the server-side dry run; nothing was changed"
        );
        return Ok(());
    }
    confirm_unless(args.run.yes, &format!("Sync {summary}?"))?;

    let lock = lock_input(&cluster, &prepared.app_id, settings.timeout).await?;
    let (cancel, interrupts) = on_interrupt();
    let progress = output::sync::Progress::for_stderr();
    progress.note(&format!("syncing {summary}"));
    let report = engine::execute(
        &cluster,
        &mut prepared,
        &settings,
        &|e| progress.on(e),
        cancel,
    )
    .await;
    interrupts.abort();
    release(lock, &cluster).await;

    match args.run.output {
        ReportFormat::Table => print(&output::sync::render(&report, &prepared.works, args.stats)),
        ReportFormat::Json => print(&output::sync::json(&report, &prepared.works)),
    }
    exit_for(report)
}

/// The exit code of an operation's report: 0, 1 (failed) or 130 (interrupted).
pub(super) fn exit_for(report: Report) -> Outcome {
    match report.result {
        SyncResult::Succeeded => Ok(()),
        SyncResult::Failed => Err(Failure::new(exit::FAILED, report.message)),
        SyncResult::Interrupted => Err(Failure::new(exit::INTERRUPTED, report.message)),
    }
}

fn summary_line(cluster: &Cluster, prepared: &Prepared) -> String {
    let objects = prepared.works.len();
    let hooks = prepared.works.iter().filter(|w| w.task.hook).count();
    format!(
        "{objects} {} ({hooks} hook {}) in {} {} to context \"{}\" ({}), namespace \"{}\"",
        output::plan::plural(objects, "task", "tasks"),
        output::plan::plural(hooks, "task", "tasks"),
        prepared.steps.len(),
        output::plan::plural(prepared.steps.len(), "step", "steps"),
        cluster.context(),
        cluster.server(),
        cluster.namespace()
    )
}

/// The engine's settings from the flags `sync` and `delete` share.
pub(super) fn settings(run: &RunArgs) -> Settings {
    Settings {
        timeout: run.timeout,
        hook_timeout: run.hook_timeout,
        force_conflicts: !run.no_force_conflicts,
        health: if run.kstatus {
            HealthMode::Kstatus
        } else {
            HealthMode::Argo
        },
        concurrency: run.concurrency.max(1),
        ..Settings::default()
    }
}

/// Seconds since the epoch: names generateName hooks and labels the operation.
pub(super) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Before anything runs: hooks left out (`--drop-unknown-hooks`) and the engine's notes.
pub(super) fn announce(plan: &Plan, manifests: &[Manifest], notes: &[String]) {
    warn_dropped(plan, manifests);
    for note in notes {
        eprintln!("note: {note}");
    }
}

/// One sync or delete of an input at a time: the Lease lock named after the input, held
/// for the operation's `timeout` and two minutes more (a crashed holder's lock expires).
/// `Ok(None)`: the user may not manage leases; the operation runs without the lock.
pub(super) async fn lock_input(
    cluster: &Cluster,
    app_id: &str,
    timeout: Duration,
) -> Result<Option<lock::Lock>, Failure> {
    let hold_for = timeout + Duration::from_secs(120);
    match lock::acquire(cluster, cluster.namespace(), app_id, hold_for).await {
        Ok(Some(lock)) => Ok(Some(lock)),
        Ok(None) => {
            eprintln!(
                "warning: cannot take the sync lock (no permission on coordination.k8s.io leases); going on without it"
            );
            Ok(None)
        }
        Err(lock::LockError::Held {
            holder,
            since,
            namespace,
            name,
        }) => Err(Failure::new(
            exit::FAILED,
            format!(
                "another sync or delete of this input is running: lease {namespace}/{name} is held by {holder} since {since}; nothing was changed"
            ),
        )),
        Err(lock::LockError::Cluster(e)) => Err(cluster_failure(e)),
    }
}

pub(super) async fn release(lock: Option<lock::Lock>, cluster: &Cluster) {
    if let Some(lock) = lock
        && let Err(e) = lock.release(cluster).await
    {
        eprintln!("warning: could not release the sync lock: {e}");
    }
}

/// Ctrl-C once: the engine starts nothing new and reports (exit 130); twice: exit at once.
/// Abort the returned task when the operation is over.
pub(super) fn on_interrupt() -> (Cancel, tokio::task::JoinHandle<()>) {
    let (cancel_tx, cancel) = Cancel::new();
    let handler = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("\ninterrupted: finishing nothing new; press Ctrl-C again to exit at once");
            let _ = cancel_tx.send(true);
            if tokio::signal::ctrl_c().await.is_ok() {
                std::process::exit(i32::from(exit::INTERRUPTED));
            }
        }
    });
    (cancel, handler)
}

/// The one prompt rule of every command that changes a cluster: ask when stdin is a terminal,
/// unless `--yes`; without a terminal (CI), go ahead.
pub(super) fn confirm_unless(yes: bool, question: &str) -> Outcome {
    if yes || !std::io::stdin().is_terminal() {
        return Ok(());
    }
    confirm(question)
}

/// Asks on the terminal; anything but yes stops with nothing changed.
fn confirm(question: &str) -> Outcome {
    let answer = dialoguer::Confirm::new()
        .with_prompt(question)
        .default(false)
        .interact()
        .map_err(|e| Failure::new(exit::FAILED, format!("cannot ask for confirmation: {e}")))?;
    if answer {
        Ok(())
    } else {
        Err(Failure::new(exit::FAILED, "aborted: nothing was changed"))
    }
}

pub(super) fn prepare_failure(e: PrepareError, manifests: &[Manifest]) -> Failure {
    match e {
        PrepareError::UnknownKinds(problems) => {
            for p in &problems {
                eprintln!("error: {p}");
            }
            Failure::bad_input(format!(
                "{} object(s) of kinds the cluster does not know; nothing was changed",
                problems.len()
            ))
        }
        PrepareError::UnknownHooks(unknown) => report_unknown_hooks(manifests, &unknown),
        PrepareError::Rejected { problems, access } => {
            for p in &problems {
                eprintln!("error: {p}");
            }
            Failure::new(
                if access { exit::CLUSTER } else { exit::FAILED },
                format!(
                    "{} problem(s) found before anything was applied; nothing was changed",
                    problems.len()
                ),
            )
        }
        PrepareError::Cluster(e) => {
            let mut f = cluster_failure(e);
            f.message.push_str("; nothing was changed");
            f
        }
    }
}
