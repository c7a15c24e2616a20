//! `kubectl hooks cleanup`: find the hook objects syncs left behind, show what goes and what
//! stays and why, check the deletions are allowed, ask, delete, report. The story around it
//! is `operation`'s.

use super::args::CleanupArgs;
use super::input::{read_input, refuse_errors};
use super::operation::{self, Flags, Operation, cluster_failure, release, show_as};
use super::{ClusterArgs, Failure, Outcome, exit_code_of};
use crate::cluster::Cluster;
use crate::engine::cleanup::{self, Found, Query, Report, Wanted};
use crate::engine::inventory::App;
use crate::engine::lock::{self, Lock, LockError};
use crate::engine::policy::Decision;
use crate::engine::{Cancel, Event, Summary};
use crate::model::SyncSpec;
use crate::output;
use std::collections::BTreeSet;
use tokio::time::Instant;

pub fn run(cluster_args: &ClusterArgs, args: &CleanupArgs) -> Outcome {
    if let Some(app) = &args.app {
        crate::engine::inventory::check_name(app)
            .map_err(|e| Failure::bad_input(format!("--app: {e}")))?;
    }
    // Without -f every hook is a candidate: stdin is not read.
    let only = if args.input.filenames.is_empty() && args.input.kustomize.is_none() {
        None
    } else {
        let loaded = read_input(&args.input, cluster_args)?;
        refuse_errors(&loaded)?;
        let wanted = hooks_of(&loaded.manifests);
        if wanted.is_empty() {
            eprintln!("the input holds no hooks: nothing to clean up");
            return Ok(());
        }
        Some(wanted)
    };
    let flags = Flags {
        dry_run: args.dry_run,
        yes: args.yes,
        timeout: args.timeout,
    };
    operation::run(&CleanupOperation { args, only }, cluster_args, flags)
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

struct CleanupOperation<'a> {
    args: &'a CleanupArgs,
    only: Option<Vec<Wanted>>,
}

/// The hook objects found, judged and checked, ready to delete.
struct Candidates {
    found: Vec<Found>,
    /// "in namespace "x" (context "y")"
    scope: String,
    started: Instant,
}

impl Candidates {
    fn chosen(&self) -> usize {
        self.found.iter().filter(|f| f.decision.deletes()).count()
    }
}

impl Operation for CleanupOperation<'_> {
    type Prepared = Candidates;
    type Report = Report;
    const VERB: &'static str = "Delete";
    const DOING: &'static str = "deleting";

    async fn prepare(&self, cluster: &Cluster) -> Result<Candidates, Failure> {
        let started = Instant::now();
        let query = Query {
            namespace: (!self.args.all_namespaces).then(|| cluster.namespace().to_owned()),
            only: self.only.clone(),
            all: self.args.all,
            force: self.args.force,
            concurrency: self.args.concurrency.max(1),
            app: self.args.app.clone(),
        };
        let scope = match &query.namespace {
            Some(ns) => format!("in namespace \"{ns}\" (context \"{}\")", cluster.context()),
            None => format!("in all namespaces (context \"{}\")", cluster.context()),
        };
        let (mut found, skipped) = cleanup::find(cluster, &query)
            .await
            .map_err(cluster_failure)?;
        for warning in skipped {
            eprintln!("warning: {warning}");
        }
        if let Err(refusal) = cleanup::check(cluster, &mut found, query.concurrency).await {
            let message = format!(
                "{} hook object(s) may not be deleted; nothing was deleted",
                refusal.problems.len()
            );
            return Err(
                Failure::new(exit_code_of(refusal.class()), message).with_details(refusal.problems)
            );
        }
        Ok(Candidates {
            found,
            scope,
            started,
        })
    }

    fn summary(&self, _cluster: &Cluster, candidates: &Candidates) -> String {
        format!(
            "{} hook object(s) {}",
            candidates.chosen(),
            candidates.scope
        )
    }

    fn show_dry_run(&self, candidates: &Candidates, _summary: &str) {
        self.show(candidates, None);
        eprintln!("dry run: every deletion passed the dry-run delete; nothing was changed");
    }

    fn nothing_to_do(&self, cluster: &Cluster, candidates: &Candidates) -> Option<Report> {
        (candidates.chosen() == 0).then(|| {
            cleanup::report(
                cluster,
                &candidates.found,
                false,
                candidates.started.elapsed(),
            )
        })
    }

    fn before_question(&self, candidates: &Candidates) {
        // The table of what will be deleted and kept, before the question.
        eprint!(
            "{}",
            output::cleanup::render(None, &candidates.found, &candidates.scope)
        );
    }

    async fn lock(
        &self,
        cluster: &Cluster,
        candidates: &mut Candidates,
    ) -> Result<Vec<Lock>, Failure> {
        if self.args.no_lock {
            return Ok(Vec::new());
        }
        lock_apps(cluster, &mut candidates.found).await
    }

    async fn execute(
        &self,
        cluster: &Cluster,
        candidates: &mut Candidates,
        emit: &(dyn Fn(&Event) + Sync),
        cancel: Cancel,
    ) -> Report {
        cleanup::remove(
            cluster,
            &mut candidates.found,
            self.args.timeout,
            self.args.concurrency.max(1),
            emit,
            &cancel,
        )
        .await;
        cleanup::report(
            cluster,
            &candidates.found,
            cancel.is_cancelled(),
            candidates.started.elapsed(),
        )
    }

    fn show(&self, candidates: &Candidates, report: Option<&Report>) {
        let (found, scope) = (&candidates.found, candidates.scope.as_str());
        show_as(
            self.args.output,
            || output::cleanup::render(report, found, scope),
            || output::cleanup::json(report, found),
        );
    }

    fn summary_of(report: &Report) -> &Summary {
        &report.summary
    }
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
                release(locks, cluster).await;
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
