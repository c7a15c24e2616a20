//! `kubectl hooks sync`: validate everything, ask, run the plan against the cluster, report.
//! The story around it is `operation`'s; what an app adds (its inventory, `--prune`) is here.

use super::app;
use super::args::{PrunePropagation, SyncArgs};
use super::operation::{
    self, Flags, Operation, announce, cluster_failure, confirm_unless, prepare_failure, show_as,
};
use super::{ClusterArgs, Failure, Outcome, exit};
use crate::cluster::{Cluster, Propagation};
use crate::engine::inventory::{self, LastSync, Recorded};
use crate::engine::lock::{self, Lock};
use crate::engine::prune::{self, InspectError, PruneFate, PruneOptions, PruneWork};
use crate::engine::sync::{self, Prepared, Report};
use crate::engine::{Cancel, Ending, Event, Input, Summary, members};
use crate::manifest::Manifest;
use crate::output::{self, plural};
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::SystemTime;

pub fn run(cluster_args: &ClusterArgs, args: &SyncArgs) -> Outcome {
    let mut input = operation::read(&args.input, &args.run, cluster_args)?;
    // The input's own problems first, then the name the app gets from it.
    let name = app::name(&args.app, &args.input)?;
    input.settings.wave_delay = args.wave_delay;
    input.settings.create_namespace = args.create_namespace;
    input.settings.namespace_flag = cluster_args.namespace.clone();
    input.settings.prune_propagation = propagation(args.prune_propagation);
    operation::run(
        &SyncOperation {
            args,
            input,
            name,
            started_at: SystemTime::now(),
        },
        cluster_args,
        Flags::of(&args.run),
    )
}

struct SyncOperation<'a> {
    args: &'a SyncArgs,
    input: Input,
    name: String,
    started_at: SystemTime,
}

/// A validated sync of an app: the engine's preparation, what the app's inventory recorded
/// before it, and the last sync as the inventory will record it.
struct Staged {
    prepared: Prepared,
    before: Option<Recorded>,
    last: Mutex<LastSync>,
}

impl Operation for SyncOperation<'_> {
    type Prepared = Staged;
    type Report = Report;
    const VERB: &'static str = "Sync";
    const DOING: &'static str = "syncing";

    async fn prepare(&self, cluster: &Cluster) -> Result<Staged, Failure> {
        let app = app::app(cluster, self.name.clone());
        let mut prepared = sync::prepare(cluster, &self.input, &app)
            .await
            .map_err(|e| prepare_failure(&self.input, e))?;
        let settings = &self.input.settings;
        let prune_options = PruneOptions {
            enabled: self.args.prune,
            last: self.args.prune_last,
            force_adopt: self.args.force_adopt,
            propagation: settings.prune_propagation,
            concurrency: settings.concurrency,
        };
        let before = prune::inspect(cluster, &mut prepared, &prune_options)
            .await
            .map_err(inspect_failure)?;
        let manifests = &self.input.manifests;
        let last = LastSync {
            started: Some(lock::micro_time(self.started_at)),
            result: Some("Running".into()),
            digest: Some(inventory::digest(
                &manifests.iter().map(Manifest::to_json).collect::<Vec<_>>(),
            )),
            version: Some(env!("CARGO_PKG_VERSION").into()),
            ..LastSync::default()
        };
        if self.args.run.dry_run {
            let will_create = self.args.create_namespace || app_namespace_in(&prepared).is_some();
            app::check_namespace(cluster, &prepared.app, will_create).await?;
        }
        Ok(Staged {
            prepared,
            before,
            last: Mutex::new(last),
        })
    }

    fn announce(&self, staged: &Staged) {
        announce(&self.input, &staged.prepared.plan, &staged.prepared.notes);
        for warning in &staged.prepared.warnings {
            eprintln!("warning: {warning}");
        }
    }

    fn summary(&self, cluster: &Cluster, staged: &Staged) -> String {
        let prepared = &staged.prepared;
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
            "app \"{}\": {objects} {} ({hooks} hook {}{prunes}) in {} to context \"{}\" ({}), {}",
            prepared.app.name,
            plural(objects, "task", "tasks"),
            plural(hooks, "task", "tasks"),
            output::plan::step_count(&prepared.plan),
            cluster.context(),
            cluster.server(),
            output::sync::destination(prepared.works.iter().map(|w| w.namespace.as_deref()))
        )
    }

    fn show_dry_run(&self, staged: &Staged, summary: &str) {
        let prepared = &staged.prepared;
        show_as(
            self.args.run.output,
            || {
                let mut text = output::plan::render(&prepared.plan, &self.input.manifests, false);
                text.push_str(&output::prune::render(&prepared.prunes));
                text
            },
            || {
                output::prune::with_app(
                    &output::sync::dry_run_json(prepared),
                    &prepared.app,
                    &prepared.prunes,
                )
            },
        );
        eprintln!(
            "dry run: {summary}; every object passed the server-side dry run{}; nothing was changed",
            if prepared.prunes.iter().any(|p| p.fate == PruneFate::Prune) {
                " and every prune the dry-run delete"
            } else {
                ""
            }
        );
    }

    /// After the question: prunes marked `Prune=confirm` are asked about, the app's namespace
    /// made when it may be, the app's lock taken, and the inventory's parent written before
    /// any object is applied, naming every kind and namespace of the old and the new members,
    /// so a sync that dies midway leaves no member untracked.
    async fn lock(&self, cluster: &Cluster, staged: &mut Staged) -> Result<Vec<Lock>, Failure> {
        confirm_prunes(self.args.run.yes, &staged.prepared.prunes)?;
        let app = staged.prepared.app.clone();
        app::ensure_namespace(
            cluster,
            &app,
            self.args.create_namespace,
            app_namespace_in(&staged.prepared),
        )
        .await?;
        let lock = app::lock(cluster, &app, self.args.run.no_lock, false).await?;
        let (kinds, namespaces) = prune::recorded_sets(&staged.prepared, staged.before.as_ref());
        let last = staged.last.lock().expect("not poisoned").clone();
        if let Err(e) = members::write_parent(cluster, &app, &kinds, &namespaces, &last).await {
            app::release(lock, cluster).await;
            let mut f = cluster_failure(e);
            f.message = format!(
                "writing the app's inventory: {}; nothing was changed",
                f.message
            );
            return Err(f);
        }
        Ok(lock.into_iter().collect())
    }

    async fn execute(
        &self,
        cluster: &Cluster,
        staged: &mut Staged,
        emit: &(dyn Fn(&Event) + Sync),
        cancel: Cancel,
    ) -> Report {
        let report = sync::execute(
            cluster,
            &mut staged.prepared,
            &self.input.settings,
            emit,
            cancel,
        )
        .await;
        // The inventory records the sync's end; members that left the input stay recorded
        // unless the sync succeeded (and so pruned or kept them as it should).
        let mut last = staged.last.lock().expect("not poisoned").clone();
        last.finished = Some(lock::micro_time(SystemTime::now()));
        last.result = Some(result_word(report.summary.ending).into());
        last.message = Some(report.summary.message.clone());
        let keep_old = report.summary.ending != Ending::Succeeded;
        let (kinds, namespaces) = prune::recorded_sets(
            &staged.prepared,
            staged.before.as_ref().filter(|_| keep_old),
        );
        let app = &staged.prepared.app;
        // Bounded (the warning below says when the record was not written).
        let cluster = &operation::closing(cluster);
        if let Err(e) = members::write_parent(cluster, app, &kinds, &namespaces, &last).await {
            eprintln!("warning: could not record the sync in the app's inventory: {e}");
        }
        report
    }

    fn show(&self, staged: &Staged, report: Option<&Report>) {
        let Some(report) = report else { return };
        let prepared = &staged.prepared;
        show_as(
            self.args.run.output,
            || {
                let mut text = output::sync::render(report, &prepared.works, self.args.stats);
                text.push_str(&output::prune::render(&prepared.prunes));
                text
            },
            || {
                output::prune::with_app(
                    &output::sync::json(report, &prepared.works),
                    &prepared.app,
                    &prepared.prunes,
                )
            },
        );
        let kept = prepared
            .prunes
            .iter()
            .filter(|p| p.fate == PruneFate::RequiresPruning)
            .count();
        if kept > 0 {
            eprintln!(
                "note: {kept} object(s) of app \"{}\" left the input and were kept: ignored (requires pruning); sync with --prune to delete them",
                prepared.app.name
            );
        }
    }

    fn summary_of(report: &Report) -> &Summary {
        &report.summary
    }
}

/// The last sync's result as the inventory records it (Argo CD's operation phases).
fn result_word(ending: Ending) -> &'static str {
    match ending {
        Ending::Succeeded => "Succeeded",
        Ending::Failed => "Failed",
        Ending::Interrupted => "Interrupted",
    }
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
        return confirm_unless(
            false,
            &format!(
                "Prune {} object(s) marked Prune=confirm: {list}?",
                asked.len()
            ),
        );
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
        InspectError::OwnedByOthers(problems) => Failure::new(
            exit::FAILED,
            format!(
                "{} object(s) of the input belong to another app; nothing was changed",
                problems.len()
            ),
        )
        .with_details(problems),
        InspectError::ForeignTooling { parent, tooling } => Failure::new(
            exit::FAILED,
            format!(
                "the app's inventory {parent} is managed by {tooling}, not kubectl-hooks; nothing was changed"
            ),
        ),
        InspectError::Refused(refusal) => Failure::new(
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
        .with_details(refusal.problems),
        InspectError::Cluster(e) => {
            let mut f = cluster_failure(e);
            f.message.push_str("; nothing was changed");
            f
        }
    }
}
