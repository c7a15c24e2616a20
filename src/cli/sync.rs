//! `kubectl hooks sync`: validate everything, ask, run the plan against the cluster, report.

use super::app;
use super::args::{PrunePropagation, ReportFormat, RunArgs, SyncArgs};
use super::input::{read_input, refuse_errors};
use super::plan::{report_unknown_hooks, warn_dropped};
use super::{ClusterArgs, Failure, Outcome, exit, print};
use crate::cluster::{Cluster, ClusterError, Propagation};
use crate::engine::inventory::{self, LastSync};
use crate::engine::prune::{self, InspectError, PruneFate, PruneOptions, PruneWork};
use crate::engine::{
    self, Cancel, PrepareError, Prepared, Report, Settings, SyncResult, lock, members,
};
use crate::health::HealthMode;
use crate::manifest::Manifest;
use crate::model::SyncSpec;
use crate::output;
use crate::plan::Plan;
use std::io::IsTerminal;
use std::time::{SystemTime, UNIX_EPOCH};

pub fn run(cluster_args: &ClusterArgs, args: &SyncArgs) -> Outcome {
    let name = app::name(&args.app, &args.input)?;
    let loaded = read_input(&args.input)?;
    refuse_errors(&loaded)?;
    let specs: Vec<SyncSpec> = loaded.manifests.iter().map(SyncSpec::of).collect();
    runtime()?.block_on(sync(cluster_args, args, name, &loaded.manifests, &specs))
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
    name: String,
    manifests: &[Manifest],
    specs: &[SyncSpec],
) -> Outcome {
    let cluster = Cluster::connect(&cluster_flags(cluster_args))
        .await
        .map_err(cluster_failure)?;
    let app = app::app(&cluster, name);
    let settings = Settings {
        wave_delay: args.wave_delay,
        create_namespace: args.create_namespace,
        prune_propagation: propagation(args.prune_propagation),
        ..settings(&args.run)
    };
    let started_unix = unix_now();
    let started_at = SystemTime::now();

    let mut prepared = engine::prepare(
        &cluster,
        manifests,
        specs,
        args.run.drop_unknown_hooks,
        &settings,
        started_unix,
        &app,
    )
    .await
    .map_err(|e| prepare_failure(e, manifests))?;
    let prune_options = PruneOptions {
        enabled: args.prune,
        last: args.prune_last,
        force_adopt: args.force_adopt,
        propagation: settings.prune_propagation,
        concurrency: settings.concurrency,
    };
    let before = prune::inspect(&cluster, &mut prepared, &prune_options)
        .await
        .map_err(inspect_failure)?;
    announce(&prepared.plan, manifests, &prepared.notes);
    let summary = summary_line(&cluster, &prepared);
    if args.run.dry_run {
        let will_create = args.create_namespace || app_namespace_in(&prepared).is_some();
        app::check_namespace(&cluster, &app, will_create).await?;
        print(&output::plan::render(&prepared.plan, manifests, false));
        print(&output::prune::render(&prepared.prunes));
        eprintln!(
            "dry run: {summary}; every object passed the server-side dry run{}; nothing was changed",
            if prepared.prunes.iter().any(|p| p.fate == PruneFate::Prune) {
                " and every prune the dry-run delete"
            } else {
                ""
            }
        );
        return Ok(());
    }
    confirm_unless(args.run.yes, &format!("Sync {summary}?"))?;
    confirm_prunes(args.run.yes, &prepared.prunes)?;

    app::ensure_namespace(
        &cluster,
        &app,
        args.create_namespace,
        app_namespace_in(&prepared),
    )
    .await?;
    let lock = app::lock(&cluster, &app, args.run.no_lock, false).await?;
    let mut last = LastSync {
        started: Some(lock::micro_time(started_at)),
        result: Some("Running".into()),
        digest: Some(inventory::digest(
            &manifests.iter().map(Manifest::to_json).collect::<Vec<_>>(),
        )),
        version: Some(env!("CARGO_PKG_VERSION").into()),
        ..LastSync::default()
    };
    // The parent names every kind and namespace of the old and the new members before any
    // object is applied, so a sync that dies midway leaves no member untracked.
    let (kinds, namespaces) = prune::recorded_sets(&prepared, before.as_ref());
    if let Err(e) = members::write_parent(&cluster, &app, &kinds, &namespaces, &last).await {
        app::release(lock, &cluster).await;
        let mut f = cluster_failure(e);
        f.message = format!(
            "writing the app's inventory: {}; nothing was changed",
            f.message
        );
        return Err(f);
    }
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
    last.finished = Some(lock::micro_time(SystemTime::now()));
    last.result = Some(format!("{:?}", report.result));
    last.message = Some(report.message.clone());
    let keep_old = report.result != SyncResult::Succeeded;
    let (kinds, namespaces) = prune::recorded_sets(&prepared, before.as_ref().filter(|_| keep_old));
    if let Err(e) = members::write_parent(&cluster, &app, &kinds, &namespaces, &last).await {
        eprintln!("warning: could not record the sync in the app's inventory: {e}");
    }
    app::release(lock, &cluster).await;

    match args.run.output {
        ReportFormat::Table => {
            print(&output::sync::render(&report, &prepared.works, args.stats));
            print(&output::prune::render(&prepared.prunes));
        }
        ReportFormat::Json => print(&output::prune::with_app(
            &output::sync::json(&report, &prepared.works),
            &app,
            &prepared.prunes,
        )),
    }
    let kept = prepared
        .prunes
        .iter()
        .filter(|p| p.fate == PruneFate::RequiresPruning)
        .count();
    if kept > 0 {
        eprintln!(
            "note: {kept} object(s) of app \"{}\" left the input and were kept: ignored (requires pruning); sync with --prune to delete them",
            app.name
        );
    }
    exit_for(report)
}

/// The input's Namespace object for the app's own namespace, as the sync applies it.
fn app_namespace_in(prepared: &Prepared) -> Option<&serde_json::Value> {
    prepared
        .works
        .iter()
        .find(|w| {
            !w.task.hook
                && w.task.group.is_empty()
                && w.task.kind == "Namespace"
                && w.name == prepared.app.namespace
        })
        .map(|w| &w.object)
}

fn propagation(p: PrunePropagation) -> Propagation {
    match p {
        PrunePropagation::Foreground => Propagation::Foreground,
        PrunePropagation::Background => Propagation::Background,
        PrunePropagation::Orphan => Propagation::Orphan,
    }
}

/// Prunes of objects marked `Prune=confirm` go ahead only with `--yes` or an answer at the
/// prompt; without a terminal to ask on, the sync stops before it changes anything.
fn confirm_prunes(yes: bool, prunes: &[PruneWork]) -> Outcome {
    let asked: Vec<String> = prunes
        .iter()
        .filter(|p| p.fate == PruneFate::Prune && p.confirm)
        .map(|p| p.member.key.to_string())
        .collect();
    if asked.is_empty() || yes {
        return Ok(());
    }
    let list = asked.join(", ");
    if std::io::stdin().is_terminal() {
        return confirm(&format!(
            "Prune {} object(s) marked Prune=confirm: {list}?",
            asked.len()
        ));
    }
    Err(Failure::new(
        exit::FAILED,
        format!(
            "pruning {list} needs confirmation (Prune=confirm): pass --yes, or run on a terminal to be asked; nothing was changed"
        ),
    ))
}

fn inspect_failure(e: InspectError) -> Failure {
    match e {
        InspectError::OwnedByOthers(problems) => {
            for p in &problems {
                eprintln!("error: {p}");
            }
            Failure::new(
                exit::FAILED,
                format!(
                    "{} object(s) of the input belong to another app; nothing was changed",
                    problems.len()
                ),
            )
        }
        InspectError::ForeignTooling { parent, tooling } => Failure::new(
            exit::FAILED,
            format!(
                "the app's inventory {parent} is managed by {tooling}, not kubectl-hooks; nothing was changed"
            ),
        ),
        InspectError::Refused(refusal) => {
            for p in &refusal.problems {
                eprintln!("error: {p}");
            }
            Failure::new(
                if refusal.access {
                    exit::CLUSTER
                } else {
                    exit::FAILED
                },
                format!(
                    "{} prune(s) refused by the dry-run delete; nothing was changed",
                    refusal.problems.len()
                ),
            )
        }
        InspectError::Cluster(e) => {
            let mut f = cluster_failure(e);
            f.message.push_str("; nothing was changed");
            f
        }
    }
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
    let prunes = prepared
        .prunes
        .iter()
        .filter(|p| p.fate == PruneFate::Prune)
        .count();
    let prunes = if prunes > 0 {
        format!(", {prunes} to prune")
    } else {
        String::new()
    };
    format!(
        "app \"{}\": {objects} {} ({hooks} hook {}{prunes}) in {} {} to context \"{}\" ({}), namespace \"{}\"",
        prepared.app.name,
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
