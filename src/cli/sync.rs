//! `kubectl hooks sync`: validate everything, ask, run the plan against the cluster, report.
//! The story around it is `operation`'s.

use super::args::SyncArgs;
use super::operation::{self, Flags, Operation, announce, lock_input, prepare_failure, show_as};
use super::{ClusterArgs, Failure, Outcome};
use crate::cluster::Cluster;
use crate::engine::lock::Lock;
use crate::engine::sync::{self, Prepared, Report};
use crate::engine::{Cancel, Event, Input, Summary};
use crate::output::{self, plural};

pub fn run(cluster_args: &ClusterArgs, args: &SyncArgs) -> Outcome {
    let mut input = operation::read(&args.input, &args.run, cluster_args)?;
    input.settings.wave_delay = args.wave_delay;
    input.settings.create_namespace = args.create_namespace;
    input.settings.namespace_flag = cluster_args.namespace.clone();
    operation::run(
        &SyncOperation { args, input },
        cluster_args,
        Flags::of(&args.run),
    )
}

struct SyncOperation<'a> {
    args: &'a SyncArgs,
    input: Input,
}

impl Operation for SyncOperation<'_> {
    type Prepared = Prepared;
    type Report = Report;
    const VERB: &'static str = "Sync";
    const DOING: &'static str = "syncing";

    async fn prepare(&self, cluster: &Cluster) -> Result<Prepared, Failure> {
        sync::prepare(cluster, &self.input)
            .await
            .map_err(|e| prepare_failure(&self.input, e))
    }

    fn announce(&self, prepared: &Prepared) {
        announce(&self.input, &prepared.plan, &prepared.notes);
    }

    fn summary(&self, cluster: &Cluster, prepared: &Prepared) -> String {
        let objects = prepared.works.len();
        let hooks = prepared.works.iter().filter(|w| w.task.hook).count();
        format!(
            "{objects} {} ({hooks} hook {}) in {} to context \"{}\" ({}), {}",
            plural(objects, "task", "tasks"),
            plural(hooks, "task", "tasks"),
            output::plan::step_count(&prepared.plan),
            cluster.context(),
            cluster.server(),
            output::sync::destination(prepared.works.iter().map(|w| w.namespace.as_deref()))
        )
    }

    fn show_dry_run(&self, prepared: &Prepared, summary: &str) {
        show_as(
            self.args.run.output,
            || output::plan::render(&prepared.plan, &self.input.manifests, false),
            || output::sync::dry_run_json(prepared),
        );
        eprintln!(
            "dry run: {summary}; every object passed the server-side dry run; nothing was changed"
        );
    }

    async fn lock(&self, cluster: &Cluster, prepared: &mut Prepared) -> Result<Vec<Lock>, Failure> {
        lock_input(cluster, &prepared.app_id, self.input.settings.timeout).await
    }

    async fn execute(
        &self,
        cluster: &Cluster,
        prepared: &mut Prepared,
        emit: &(dyn Fn(&Event) + Sync),
        cancel: Cancel,
    ) -> Report {
        sync::execute(cluster, prepared, &self.input.settings, emit, cancel).await
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
