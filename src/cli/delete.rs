//! `kubectl hooks delete`: validate everything, ask, run PreDelete hooks, delete the objects
//! in reverse order, run PostDelete hooks, report. The story around it is `operation`'s.

use super::args::DeleteArgs;
use super::operation::{self, Flags, Operation, announce, lock_input, prepare_failure, show_as};
use super::{ClusterArgs, Failure, Outcome};
use crate::cluster::Cluster;
use crate::engine::delete::{self, Fate, Part, Report, Teardown};
use crate::engine::lock::Lock;
use crate::engine::{Cancel, Event, Input, Summary};
use crate::output::{self, plural};

pub fn run(cluster_args: &ClusterArgs, args: &DeleteArgs) -> Outcome {
    let mut input = operation::read(&args.input, &args.run, cluster_args)?;
    input.settings.namespace_flag = cluster_args.namespace.clone();
    operation::run(
        &DeleteOperation { args, input },
        cluster_args,
        Flags::of(&args.run),
    )
}

struct DeleteOperation<'a> {
    args: &'a DeleteArgs,
    input: Input,
}

impl Operation for DeleteOperation<'_> {
    type Prepared = Teardown;
    type Report = Report;
    const VERB: &'static str = "Delete";
    const DOING: &'static str = "deleting";

    async fn prepare(&self, cluster: &Cluster) -> Result<Teardown, Failure> {
        delete::prepare(cluster, &self.input)
            .await
            .map_err(|e| prepare_failure(&self.input, e))
    }

    fn announce(&self, prepared: &Teardown) {
        announce(&self.input, &prepared.plan, &prepared.notes);
    }

    fn summary(&self, cluster: &Cluster, teardown: &Teardown) -> String {
        let count = |part| {
            teardown
                .stages
                .iter()
                .filter(|s| s.part == part)
                .flat_map(|s| &s.tasks)
                .filter(|&&i| !matches!(teardown.fates[i], Fate::Leave(_)))
                .count()
        };
        let kept = teardown.left_in_place();
        let (pre, objects, post) = (
            count(Part::PreDelete),
            count(Part::Delete),
            count(Part::PostDelete),
        );
        format!(
            "{objects} {}, {pre} PreDelete and {post} PostDelete {} ({kept} left in place) in context \"{}\" ({}), namespace \"{}\"",
            plural(objects, "object", "objects"),
            plural(pre + post, "hook", "hooks"),
            cluster.context(),
            cluster.server(),
            cluster.namespace()
        )
    }

    fn show_dry_run(&self, teardown: &Teardown, summary: &str) {
        self.show(teardown, None);
        eprintln!(
            "dry run: {summary}; every hook passed the server-side dry run and every deletion the dry-run delete; nothing was changed"
        );
    }

    async fn lock(&self, cluster: &Cluster, teardown: &mut Teardown) -> Result<Vec<Lock>, Failure> {
        lock_input(cluster, &teardown.app_id, self.input.settings.timeout).await
    }

    async fn execute(
        &self,
        cluster: &Cluster,
        teardown: &mut Teardown,
        emit: &(dyn Fn(&Event) + Sync),
        cancel: Cancel,
    ) -> Report {
        let wait = !self.args.no_wait;
        delete::execute(cluster, teardown, &self.input.settings, wait, emit, cancel).await
    }

    fn show(&self, teardown: &Teardown, report: Option<&Report>) {
        show_as(
            self.args.run.output,
            || output::delete::render(report, teardown),
            || output::delete::json(report, teardown),
        );
    }

    fn summary_of(report: &Report) -> &Summary {
        &report.summary
    }
}
