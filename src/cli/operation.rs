//! The story every command that changes a cluster tells, told once: connect, prepare (validate
//! everything), announce, dry run, confirm, lock, catch Ctrl-C, show progress, execute,
//! release, show the report. `sync`, `delete` and `cleanup` implement [`Operation`] with what
//! differs; a later command (prune, ...) does the same.

use super::args::{ReportFormat, RunArgs};
use super::input::{read_input, refuse_errors};
use super::plan::{report_unknown_hooks, warn_dropped};
use super::{ClusterArgs, Failure, InputArgs, Outcome, exit, exit_code_of};
use crate::cluster::{Cluster, ClusterError, ClusterFlags};
use crate::engine::lock::{self, Lock, LockError};
use crate::engine::{Cancel, Ending, Event, Input, PrepareError, Settings, Summary};
use crate::health::HealthMode;
use crate::model::SyncSpec;
use crate::output;
use crate::plan::Plan;
use std::io::IsTerminal;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// What one operation brings to the story.
pub(super) trait Operation {
    /// The validated work, ready to run.
    type Prepared;
    type Report;
    /// The verb of the question: "Sync", "Delete".
    const VERB: &'static str;
    /// The progress line's first word: "syncing", "deleting".
    const DOING: &'static str;

    /// Validates everything; nothing is changed yet.
    async fn prepare(&self, cluster: &Cluster) -> Result<Self::Prepared, Failure>;
    /// Warnings and notes said before anything happens.
    fn announce(&self, _prepared: &Self::Prepared) {}
    /// What the operation will do, where: ends the question and the progress line.
    fn summary(&self, cluster: &Cluster, prepared: &Self::Prepared) -> String;
    /// `--dry-run`: shows what would happen; nothing was changed.
    fn show_dry_run(&self, prepared: &Self::Prepared, summary: &str);
    /// A report when there is nothing to do (no question, no lock).
    fn nothing_to_do(
        &self,
        _cluster: &Cluster,
        _prepared: &Self::Prepared,
    ) -> Option<Self::Report> {
        None
    }
    /// Shown on the terminal before the question.
    fn before_question(&self, _prepared: &Self::Prepared) {}
    /// The locks this operation holds while it runs.
    async fn lock(
        &self,
        cluster: &Cluster,
        prepared: &mut Self::Prepared,
    ) -> Result<Vec<Lock>, Failure>;
    async fn execute(
        &self,
        cluster: &Cluster,
        prepared: &mut Self::Prepared,
        emit: &(dyn Fn(&Event) + Sync),
        cancel: Cancel,
    ) -> Self::Report;
    /// The report (`None`: before the run) on stdout.
    fn show(&self, prepared: &Self::Prepared, report: Option<&Self::Report>);
    fn summary_of(report: &Self::Report) -> &Summary;
}

/// What the story needs from the command line, whatever the operation.
pub(super) struct Flags {
    pub dry_run: bool,
    pub yes: bool,
}

impl Flags {
    pub fn of(run: &RunArgs) -> Flags {
        Flags {
            dry_run: run.dry_run,
            yes: run.yes,
        }
    }
}

/// What `sync` and `delete` work from: the input, read and refused when broken, each
/// object's sync spec, the engine's settings from the flags they share, the start time.
pub(super) fn read(
    input: &InputArgs,
    run: &RunArgs,
    cluster: &ClusterArgs,
) -> Result<Input, Failure> {
    let loaded = read_input(input, cluster)?;
    refuse_errors(&loaded)?;
    let specs = loaded.manifests.iter().map(SyncSpec::of).collect();
    Ok(Input {
        manifests: loaded.manifests,
        specs,
        settings: settings(run),
        drop_unknown_hooks: run.drop_unknown_hooks,
        started_unix: unix_now(),
    })
}

/// Before anything runs: hooks left out (`--drop-unknown-hooks`) and the engine's notes.
pub(super) fn announce(input: &Input, plan: &Plan, notes: &[String]) {
    warn_dropped(plan, &input.manifests);
    for note in notes {
        eprintln!("note: {note}");
    }
}

/// A failure before anything was changed, with each problem the engine found.
pub(super) fn prepare_failure(input: &Input, e: PrepareError) -> Failure {
    match e {
        PrepareError::UnknownHooks(unknown) => report_unknown_hooks(&input.manifests, &unknown),
        e => {
            Failure::new(exit_code_of(e.class()), e.to_string()).with_details(e.problems().to_vec())
        }
    }
}

/// The engine's settings from the flags `sync` and `delete` share.
fn settings(run: &RunArgs) -> Settings {
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
        why: crate::engine::WhySettings {
            logs_tail: run.logs_tail,
            stream_logs: run.logs,
        },
        ..Settings::default()
    }
}

/// Runs one operation on its own runtime: the whole story, and the exit code of its end.
pub(super) fn run<O: Operation>(
    operation: &O,
    cluster_args: &ClusterArgs,
    flags: Flags,
) -> Outcome {
    runtime()?.block_on(tell(operation, cluster_args, flags))
}

async fn tell<O: Operation>(operation: &O, cluster_args: &ClusterArgs, flags: Flags) -> Outcome {
    let cluster = connect(cluster_args).await?;
    let mut prepared = operation.prepare(&cluster).await?;
    operation.announce(&prepared);
    let summary = operation.summary(&cluster, &prepared);
    if flags.dry_run {
        operation.show_dry_run(&prepared, &summary);
        return Ok(());
    }
    if let Some(report) = operation.nothing_to_do(&cluster, &prepared) {
        operation.show(&prepared, Some(&report));
        return Ok(());
    }
    if !flags.yes && std::io::stdin().is_terminal() {
        operation.before_question(&prepared);
    }
    confirm_unless(flags.yes, &format!("{} {summary}?", O::VERB))?;

    let locks = operation.lock(&cluster, &mut prepared).await?;
    let (cancel, interrupts) = on_interrupt();
    let progress = output::sync::Progress::for_stderr();
    progress.note(&format!("{} {summary}", O::DOING));
    let report = operation
        .execute(&cluster, &mut prepared, &|e| progress.on(e), cancel)
        .await;
    interrupts.abort();
    release(locks, &cluster).await;

    operation.show(&prepared, Some(&report));
    exit_for(O::summary_of(&report))
}

fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Failure::new(exit::FAILED, format!("cannot start the async runtime: {e}")))
}

pub(super) fn cluster_flags(args: &ClusterArgs) -> ClusterFlags {
    ClusterFlags {
        kubeconfig: args.kubeconfig.clone(),
        context: args.context.clone(),
        cluster: args.cluster.clone(),
        user: args.user.clone(),
        namespace: args.namespace.clone(),
        request_timeout: args.request_timeout.filter(|d| !d.is_zero()),
    }
}

async fn connect(args: &ClusterArgs) -> Result<Cluster, Failure> {
    Cluster::connect(&cluster_flags(args))
        .await
        .map_err(cluster_failure)
}

pub(super) fn cluster_failure(e: ClusterError) -> Failure {
    Failure::new(super::exit_code_of(e.class()), e.to_string())
}

/// The exit code of an operation's end: 0, 1 (failed) or 130 (interrupted).
fn exit_for(summary: &Summary) -> Outcome {
    match summary.ending {
        Ending::Succeeded => Ok(()),
        Ending::Failed => Err(Failure::new(exit::FAILED, summary.message.clone())),
        Ending::Interrupted => Err(Failure::new(exit::INTERRUPTED, summary.message.clone())),
    }
}

/// Seconds since the epoch: names generateName hooks and labels the operation.
fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Takes the Lease lock of one input (`app_id`) in `namespace`, held for the operation's
/// `timeout` and a slack more (a crashed holder's lock expires). `Ok(None)`: the user may not
/// manage leases; the operation runs without the lock, after a warning.
pub(super) async fn take_lock(
    cluster: &Cluster,
    namespace: &str,
    app_id: &str,
    timeout: Duration,
) -> Result<Option<Lock>, LockError> {
    let lock = lock::acquire(cluster, namespace, app_id, timeout + lock::LEASE_SLACK).await?;
    if lock.is_none() {
        eprintln!(
            "warning: cannot take the sync lock (no permission on coordination.k8s.io leases); going on without it"
        );
    }
    Ok(lock)
}

/// One sync or delete of an input at a time: the lock named after the input.
pub(super) async fn lock_input(
    cluster: &Cluster,
    app_id: &str,
    timeout: Duration,
) -> Result<Vec<Lock>, Failure> {
    match take_lock(cluster, cluster.namespace(), app_id, timeout).await {
        Ok(lock) => Ok(lock.into_iter().collect()),
        Err(held @ LockError::Held { .. }) => Err(Failure::new(
            exit::FAILED,
            format!("another sync or delete of this input is running: {held}; nothing was changed"),
        )),
        Err(LockError::Cluster(e)) => Err(cluster_failure(e)),
    }
}

pub(super) async fn release(locks: Vec<Lock>, cluster: &Cluster) {
    for lock in locks {
        if let Err(e) = lock.release(cluster).await {
            eprintln!("warning: could not release the sync lock: {e}");
        }
    }
}

/// Ctrl-C once: the engine starts nothing new and reports (exit 130); twice: exit at once.
/// Abort the returned task when the operation is over.
fn on_interrupt() -> (Cancel, tokio::task::JoinHandle<()>) {
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
fn confirm_unless(yes: bool, question: &str) -> Outcome {
    if yes || !std::io::stdin().is_terminal() {
        return Ok(());
    }
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

/// Prints a report in the chosen format.
pub(super) fn show_as(
    format: ReportFormat,
    table: impl FnOnce() -> String,
    json: impl FnOnce() -> String,
) {
    match format {
        ReportFormat::Table => super::print(&table()),
        ReportFormat::Json => super::print(&json()),
    }
}
