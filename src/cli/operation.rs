//! The story every command that changes a cluster tells, told once: connect, prepare (validate
//! everything), announce, dry run, confirm, lock, catch Ctrl-C, show progress, execute,
//! release, show the report. `sync`, `delete` and `cleanup` implement [`Operation`] with what
//! differs; a later command (prune, ...) does the same.

use super::args::{ReportFormat, RunArgs};
use super::input::{read_input, refuse_duplicates, refuse_errors};
use super::plan::{report_unknown_hooks, warn_dropped};
use super::{ClusterArgs, Failure, InputArgs, Outcome, exit, exit_code_of};
use crate::cluster::{Cluster, ClusterError, ClusterFlags};
use crate::engine::lock::Lock;
use crate::engine::{Cancel, Ending, Event, Input, PrepareError, Settings, Summary};
use crate::health::HealthMode;
use crate::model::SyncSpec;
use crate::output;
use crate::plan::Plan;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

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
    /// `--timeout` (zero: none): validation ends by it too.
    pub timeout: std::time::Duration,
}

impl Flags {
    pub fn of(run: &RunArgs) -> Flags {
        Flags {
            dry_run: run.dry_run,
            yes: run.yes,
            timeout: run.timeout,
        }
    }
}

/// What `sync` and `delete` work from: the input, read and refused when broken (or when it
/// defines an object twice, objects without a namespace counting as in the namespace `-n` or the context gives),
/// each object's sync spec, the engine's settings from the flags they share, the start time.
pub(super) fn read(
    input: &InputArgs,
    run: &RunArgs,
    cluster: &ClusterArgs,
) -> Result<Input, Failure> {
    let loaded = read_input(input, cluster)?;
    let default_namespace = super::offline_namespace(cluster);
    refuse_errors(&loaded)?;
    refuse_duplicates(&loaded, &default_namespace)?;
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
        keep_running_hooks: run.keep_running_hooks,
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
    // Validation ends by --timeout too (the work then gets a --timeout of its own, from its
    // start, after the question): a server that stops answering during the dry run must not
    // hold the command for a request timeout per request.
    let validation_ends =
        (!flags.timeout.is_zero()).then(|| tokio::time::Instant::now() + flags.timeout);
    let mut prepared = match operation.prepare(&cluster.cut_at(validation_ends)).await {
        Ok(prepared) => prepared,
        Err(failure) => {
            return Err(validation_failure(&cluster, failure, validation_ends, &flags).await);
        }
    };
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
    let summary = O::summary_of(&report);
    // Work that failed because the server went away is a cluster failure (exit 3), told
    // apart by asking the server once more.
    if summary.ending == Ending::Failed
        && let Some(silence) = cluster.unreachable().await
    {
        return Err(Failure::new(
            exit::CLUSTER,
            format!("{}\n{silence}", summary.message),
        ));
    }
    exit_for(summary)
}

/// A validation cut short by `--timeout` is the cluster's failure (exit 3) only when the
/// server does not answer now either; a server that answers was just given too little time
/// (exit 1, as any timeout of the work).
async fn validation_failure(
    cluster: &Cluster,
    mut failure: Failure,
    ends: Option<tokio::time::Instant>,
    flags: &Flags,
) -> Failure {
    let cut_short = ends.is_some_and(|end| tokio::time::Instant::now() >= end);
    if !cut_short || failure.code != exit::CLUSTER {
        return failure;
    }
    match cluster.unreachable().await {
        Some(silence) => failure.message = format!("{}\n{silence}", failure.message),
        None => {
            failure.code = exit::FAILED;
            failure.message = format!(
                "--timeout {} ran out while validating: {}",
                humantime::format_duration(flags.timeout),
                failure.message
            );
        }
    }
    failure
}

pub(super) fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
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

/// The exit code of an operation's end: 0, 1 (failed), or 128 + the signal that interrupted
/// it (130 for Ctrl-C, 143 for SIGTERM), as shells report a signal's death. An interrupted
/// report has said all there is to say (its verdict, its table or JSON).
fn exit_for(summary: &Summary) -> Outcome {
    match summary.ending {
        Ending::Succeeded => Ok(()),
        Ending::Failed => Err(Failure::new(exit::FAILED, summary.message.clone())),
        Ending::Interrupted => Err(Failure::new(interrupted_exit_code(), "")),
    }
}

/// The signal that interrupted the operation (none yet: 0).
static INTERRUPTED_BY: AtomicI32 = AtomicI32::new(0);

fn interrupted_exit_code() -> u8 {
    match INTERRUPTED_BY.load(Ordering::SeqCst) {
        SIGTERM => 128 + SIGTERM as u8,
        _ => exit::INTERRUPTED,
    }
}

const SIGINT: i32 = 2;
const SIGTERM: i32 = 15;

/// Seconds since the epoch: names generateName hooks and labels the operation.
pub(super) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

pub(super) async fn release(locks: Vec<Lock>, cluster: &Cluster) {
    // An unreleased lease expires by itself.
    let cluster = &closing(cluster);
    for lock in locks {
        super::app::release(Some(lock), cluster).await;
    }
}

/// The connection for a piece of work after the operation (releasing the lock, recording the
/// sync in the inventory): bounded, so a cluster that stopped answering does not hold the exit.
pub(super) fn closing(cluster: &Cluster) -> Cluster {
    cluster.until(Some(tokio::time::Instant::now() + CLOSING_LIMIT))
}

/// How long each piece of work after the operation may take.
const CLOSING_LIMIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Ctrl-C or SIGTERM (a CI runner cancelling the job) once: the engine starts nothing new,
/// terminates running hooks (unless `--keep-running-hooks`), reports, and the lock is
/// released (exit 130 or 143); a second signal exits at once. Abort the returned task when the
/// operation is over.
fn on_interrupt() -> (Cancel, tokio::task::JoinHandle<()>) {
    let (cancel_tx, cancel) = Cancel::new();
    let handler = tokio::spawn(async move {
        let Some(signal) = next_signal().await else {
            return;
        };
        INTERRUPTED_BY.store(signal, Ordering::SeqCst);
        let (name, again) = if signal == SIGTERM {
            ("SIGTERM", "another signal")
        } else {
            ("Ctrl-C", "Ctrl-C again")
        };
        eprintln!("\n{name}: starting nothing new and stopping; {again} exits at once");
        let _ = cancel_tx.send(true);
        if let Some(second) = next_signal().await {
            std::process::exit(128 + second);
        }
    });
    (cancel, handler)
}

/// The next SIGINT or SIGTERM (None if they cannot be listened to).
async fn next_signal() -> Option<i32> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).ok()?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r.ok().map(|()| SIGINT),
            r = term.recv() => r.map(|()| SIGTERM),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await.ok().map(|()| SIGINT)
    }
}

/// The one prompt rule of every command that changes a cluster, unless `--yes`: ask on the
/// terminal. When stdin is not one (manifests piped in, `cat app.yaml | kubectl hooks sync`)
/// but a person watches stderr, ask on the controlling terminal, `/dev/tty`, as kapp does;
/// when there is none, say on stderr why it goes ahead. Without a terminal at all (CI), go
/// ahead.
pub(super) fn confirm_unless(yes: bool, question: &str) -> Outcome {
    if yes {
        return Ok(());
    }
    if std::io::stdin().is_terminal() {
        return confirm(question);
    }
    if !std::io::stderr().is_terminal() {
        return Ok(());
    }
    match std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
    {
        Ok(tty) => confirm_on_tty(tty, question),
        Err(_) => {
            eprintln!(
                "note: not asking before changing the cluster: stdin is not a terminal (it is the input) and there is no terminal to ask on; pass --yes to say so"
            );
            Ok(())
        }
    }
}

/// Asks on the controlling terminal, stdin being taken by the input.
fn confirm_on_tty(tty: std::fs::File, question: &str) -> Outcome {
    use std::io::{BufRead, Write};
    let mut writer = &tty;
    write!(
        writer,
        "{question} [y/N] (asked on /dev/tty: stdin is the input) "
    )
    .and_then(|()| writer.flush())
    .map_err(|e| Failure::new(exit::FAILED, format!("cannot ask for confirmation: {e}")))?;
    let mut answer = String::new();
    std::io::BufReader::new(&tty)
        .read_line(&mut answer)
        .map_err(|e| Failure::new(exit::FAILED, format!("cannot ask for confirmation: {e}")))?;
    if is_yes(&answer) {
        Ok(())
    } else {
        Err(Failure::new(exit::FAILED, "aborted: nothing was changed"))
    }
}

fn is_yes(answer: &str) -> bool {
    matches!(answer.trim().to_lowercase().as_str(), "y" | "yes")
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

#[cfg(test)]
mod tests {
    #[test]
    fn only_yes_is_yes() {
        assert!(super::is_yes("y\n"));
        assert!(super::is_yes(" YES \n"));
        assert!(!super::is_yes("\n"));
        assert!(!super::is_yes("no\n"));
        assert!(!super::is_yes("yep\n"));
    }
}
