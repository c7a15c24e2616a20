//! `kubectl hooks cleanup`: find the hook objects syncs left behind, show what goes and what
//! stays and why, check the deletions are allowed, ask, delete, report. Prompt, progress,
//! Ctrl-C and exit codes are sync's.

use super::app::release;
use super::args::{CleanupArgs, ReportFormat};
use super::input::{read_input, refuse_errors};
use super::sync::{cluster_failure, cluster_flags, confirm_unless, on_interrupt, runtime};
use super::{ClusterArgs, Failure, Outcome, exit, print};
use crate::cluster::Cluster;
use crate::engine::cleanup::{self, Found, Query, Wanted};
use crate::engine::inventory::App;
use crate::engine::lock::{self, Lock, LockError};
use crate::engine::policy::Decision;
use crate::engine::{Report, SyncResult};
use crate::model::SyncSpec;
use crate::output;
use std::collections::BTreeSet;
use std::io::IsTerminal;
use std::time::Duration;
use tokio::time::Instant;

pub fn run(cluster_args: &ClusterArgs, args: &CleanupArgs) -> Outcome {
    if let Some(app) = &args.app {
        crate::engine::inventory::check_name(app)
            .map_err(|e| Failure::bad_input(format!("--app: {e}")))?;
    }
    // Without -f every hook is a candidate: stdin is not read.
    let only = if args.input.filenames.is_empty() {
        None
    } else {
        let loaded = read_input(&args.input)?;
        refuse_errors(&loaded)?;
        let wanted = hooks_of(&loaded.manifests);
        if wanted.is_empty() {
            eprintln!("the input holds no hooks: nothing to clean up");
            return Ok(());
        }
        Some(wanted)
    };
    runtime()?.block_on(clean(cluster_args, args, only))
}

/// The input's hooks (sync and delete hooks), as cleanup looks for them.
fn hooks_of(manifests: &[crate::manifest::Manifest]) -> Vec<Wanted> {
    manifests
        .iter()
        .filter(|m| {
            let spec = SyncSpec::of(m);
            spec.is_hook() || !spec.delete_hooks.is_empty()
        })
        .map(|m| Wanted {
            api_version: m.api_version.clone(),
            kind: m.kind.clone(),
            namespace: m.namespace.clone(),
            name: m.name.clone(),
            generate_name: m.generate_name.clone(),
        })
        .collect()
}

async fn clean(
    cluster_args: &ClusterArgs,
    args: &CleanupArgs,
    only: Option<Vec<Wanted>>,
) -> Outcome {
    let started = Instant::now();
    let cluster = Cluster::connect(&cluster_flags(cluster_args))
        .await
        .map_err(cluster_failure)?;
    let query = Query {
        namespace: (!args.all_namespaces).then(|| cluster.namespace().to_owned()),
        only,
        all: args.all,
        force: args.force,
        app: args.app.clone(),
    };
    let scope = match &query.namespace {
        Some(ns) => format!("in namespace \"{ns}\" (context \"{}\")", cluster.context()),
        None => format!("in all namespaces (context \"{}\")", cluster.context()),
    };
    let (mut found, skipped) = cleanup::find(&cluster, &query)
        .await
        .map_err(cluster_failure)?;
    for warning in skipped {
        eprintln!("warning: {warning}");
    }
    if let Err(refusal) = cleanup::check(&cluster, &mut found).await {
        for p in &refusal.problems {
            eprintln!("error: {p}");
        }
        return Err(Failure::new(
            if refusal.access {
                exit::CLUSTER
            } else {
                exit::FAILED
            },
            format!(
                "{} hook object(s) may not be deleted; nothing was deleted",
                refusal.problems.len()
            ),
        ));
    }
    let chosen = found.iter().filter(|f| f.decision.deletes()).count();
    if args.dry_run {
        show(args.output, None, &found, &scope);
        eprintln!("dry run: every deletion passed the dry-run delete; nothing was changed");
        return Ok(());
    }
    if chosen == 0 {
        show(
            args.output,
            Some(&report(&found, false, started.elapsed())),
            &found,
            &scope,
        );
        return Ok(());
    }
    if !args.yes && std::io::stdin().is_terminal() {
        // The table of what will be deleted and kept, before the question.
        eprint!("{}", output::cleanup::render(None, &found, &scope));
    }
    confirm_unless(
        args.yes,
        &format!("Delete {chosen} hook object(s) {scope}?"),
    )?;

    let locks = if args.no_lock {
        Vec::new()
    } else {
        lock_apps(&cluster, &mut found).await?
    };
    let (cancel, interrupts) = on_interrupt();
    let progress = output::sync::Progress::for_stderr();
    progress.note(&format!("deleting {chosen} hook object(s) {scope}"));
    cleanup::remove(
        &cluster,
        &mut found,
        args.timeout,
        &|e| progress.on(e),
        &cancel,
    )
    .await;
    interrupts.abort();
    for lock in locks {
        release(Some(lock), &cluster).await;
    }

    let report = report(&found, cancel.is_cancelled(), started.elapsed());
    show(args.output, Some(&report), &found, &scope);
    super::sync::exit_for(report)
}

/// Takes the lock of each app whose hooks are to be deleted, in the app's namespace (as sync
/// and delete take it), so no sync or delete of that app runs meanwhile; the hooks of an app
/// whose lock is held are kept. Hooks made before the app's namespace was recorded on them
/// are locked in their own namespace.
async fn lock_apps(cluster: &Cluster, found: &mut [Found]) -> Result<Vec<Lock>, Failure> {
    let apps: BTreeSet<App> = found
        .iter()
        .filter(|f| f.decision.deletes() && !f.app.is_empty())
        .filter_map(|f| app_of(cluster, f))
        .collect();
    let mut locks = Vec::new();
    for app in apps {
        match lock::acquire(cluster, &app).await {
            Ok(lock) => locks.push(lock),
            // The app's namespace is gone: no operation of the app can hold its lock.
            Err(LockError::NoNamespace(_)) => {}
            Err(LockError::Held {
                holder,
                since,
                namespace: lease_namespace,
                name,
            }) => {
                let reason = format!(
                    "a sync or delete of app \"{}\" holds lease {lease_namespace}/{name} ({holder}, since {since}); if that run was killed, the lease expires {}s after its last renewal (or delete the lease)",
                    app.name,
                    lock::LEASE_DURATION.as_secs()
                );
                for f in found.iter_mut() {
                    if app_of(cluster, f).as_ref() == Some(&app) {
                        f.decision = Decision::Keep(reason.clone());
                    }
                }
            }
            Err(e) => {
                for lock in locks {
                    release(Some(lock), cluster).await;
                }
                return Err(super::app::lock_failure(e, &app));
            }
        }
    }
    Ok(locks)
}

fn app_of(cluster: &Cluster, f: &Found) -> Option<App> {
    if f.app.is_empty() {
        return None;
    }
    let namespace = f
        .app_namespace
        .clone()
        .or_else(|| f.namespace.clone())
        .unwrap_or_else(|| cluster.namespace().to_owned());
    Some(App {
        name: f.app.clone(),
        namespace,
    })
}

fn report(found: &[Found], interrupted: bool, duration: Duration) -> Report {
    let count = |pred: &dyn Fn(&Found) -> bool| found.iter().filter(|f| pred(f)).count();
    let deleted = count(&|f| matches!(f.result, Some(Ok(_))));
    let failed = count(&|f| matches!(f.result, Some(Err(_))));
    let kept = count(&|f| !f.decision.deletes());
    let (result, message) = if interrupted {
        let not_started = count(&|f| f.decision.deletes() && f.result.is_none());
        (
            SyncResult::Interrupted,
            format!("interrupted: {deleted} deleted, {not_started} not started, {kept} kept"),
        )
    } else if failed > 0 {
        (
            SyncResult::Failed,
            format!(
                "{failed} hook object(s) could not be deleted ({deleted} deleted, {kept} kept)"
            ),
        )
    } else {
        (
            SyncResult::Succeeded,
            format!("{deleted} hook object(s) deleted, {kept} kept"),
        )
    };
    Report {
        result,
        message,
        duration,
        step_durations: Vec::new(),
        requests: 0,
    }
}

fn show(format: ReportFormat, report: Option<&Report>, found: &[Found], scope: &str) {
    match format {
        ReportFormat::Table => print(&output::cleanup::render(report, found, scope)),
        ReportFormat::Json => print(&output::cleanup::json(report, found)),
    }
}
