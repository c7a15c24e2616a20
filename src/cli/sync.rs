//! `kubectl hooks sync`: validate everything, ask, run the plan against the cluster, report.

use super::args::{RunArgs, SyncArgs};
use super::input::{read_input, refuse_errors};
use super::operation::{self, Flags, Operation, lock_input, show_as, unix_now};
use super::plan::{report_unknown_hooks, warn_dropped};
use super::{ClusterArgs, Failure, Outcome, exit_code_of, print};
use crate::cluster::Cluster;
use crate::engine::lock::Lock;
use crate::engine::sync::{self, Prepared, Report};
use crate::engine::{Cancel, Event, PrepareError, Settings, Summary};
use crate::health::HealthMode;
use crate::manifest::Manifest;
use crate::model::SyncSpec;
use crate::output::{self, plural};
use crate::plan::Plan;

pub fn run(cluster_args: &ClusterArgs, args: &SyncArgs) -> Outcome {
    let loaded = read_input(&args.input)?;
    refuse_errors(&loaded)?;
    let specs: Vec<SyncSpec> = loaded.manifests.iter().map(SyncSpec::of).collect();
    let settings = Settings {
        wave_delay: args.wave_delay,
        create_namespace: args.create_namespace,
        ..settings(&args.run)
    };
    let sync = SyncOperation {
        args,
        manifests: &loaded.manifests,
        specs: &specs,
        settings,
        started_unix: unix_now(),
    };
    let flags = Flags {
        dry_run: args.run.dry_run,
        yes: args.run.yes,
    };
    operation::run(&sync, cluster_args, flags)
}

struct SyncOperation<'a> {
    args: &'a SyncArgs,
    manifests: &'a [Manifest],
    specs: &'a [SyncSpec],
    settings: Settings,
    started_unix: u64,
}

impl Operation for SyncOperation<'_> {
    type Prepared = Prepared;
    type Report = Report;
    const VERB: &'static str = "Sync";
    const DOING: &'static str = "syncing";

    async fn prepare(&self, cluster: &Cluster) -> Result<Prepared, Failure> {
        sync::prepare(
            cluster,
            self.manifests,
            self.specs,
            self.args.run.drop_unknown_hooks,
            &self.settings,
            self.started_unix,
        )
        .await
        .map_err(|e| prepare_failure(e, self.manifests))
    }

    fn announce(&self, prepared: &Prepared) {
        announce(&prepared.plan, self.manifests, &prepared.notes);
    }

    fn summary(&self, cluster: &Cluster, prepared: &Prepared) -> String {
        let objects = prepared.works.len();
        let hooks = prepared.works.iter().filter(|w| w.task.hook).count();
        format!(
            "{objects} {} ({hooks} hook {}) in {} {} to context \"{}\" ({}), namespace \"{}\"",
            plural(objects, "task", "tasks"),
            plural(hooks, "task", "tasks"),
            prepared.steps.len(),
            plural(prepared.steps.len(), "step", "steps"),
            cluster.context(),
            cluster.server(),
            cluster.namespace()
        )
    }

    fn show_dry_run(&self, prepared: &Prepared, summary: &str) {
        print(&output::plan::render(&prepared.plan, self.manifests, false));
        eprintln!(
            "dry run: {summary}; every object passed the server-side dry run; nothing was changed"
        );
    }

    async fn lock(&self, cluster: &Cluster, prepared: &mut Prepared) -> Result<Vec<Lock>, Failure> {
        lock_input(cluster, &prepared.app_id, self.settings.timeout).await
    }

    async fn execute(
        &self,
        cluster: &Cluster,
        prepared: &mut Prepared,
        emit: &(dyn Fn(&Event) + Sync),
        cancel: Cancel,
    ) -> Report {
        sync::execute(cluster, prepared, &self.settings, emit, cancel).await
    }

    fn show(&self, prepared: &Prepared, report: Option<&Report>) {
        let Some(report) = report else { return };
        show_as(
            self.args.run.output,
            || output::sync::render(report, &prepared.works, self.args.stats),
            || output::sync::json(report, &prepared.works),
        );
    }

    fn summary_of(report: &Report) -> &Summary {
        &report.summary
    }
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

/// Before anything runs: hooks left out (`--drop-unknown-hooks`) and the engine's notes.
pub(super) fn announce(plan: &Plan, manifests: &[Manifest], notes: &[String]) {
    warn_dropped(plan, manifests);
    for note in notes {
        eprintln!("note: {note}");
    }
}

/// A failure before anything was changed, with each problem the engine found.
pub(super) fn prepare_failure(e: PrepareError, manifests: &[Manifest]) -> Failure {
    match e {
        PrepareError::UnknownHooks(unknown) => report_unknown_hooks(manifests, &unknown),
        e => {
            Failure::new(exit_code_of(e.class()), e.to_string()).with_details(e.problems().to_vec())
        }
    }
}
