//! `kubectl hooks delete`: validate everything, ask, run PreDelete hooks, delete the objects
//! in reverse order, run PostDelete hooks, report. The story around it is `operation`'s.

use super::app;
use super::args::DeleteArgs;
use super::operation::{self, Flags, Operation, announce, prepare_failure, show_as};
use super::{ClusterArgs, Failure, Outcome};
use crate::cluster::Cluster;
use crate::engine::delete::{self, Fate, Part, Report, Teardown};
use crate::engine::lock::Lock;
use crate::engine::{Cancel, Ending, Event, Input, Summary, members};
use crate::output::{self, plural};

pub fn run(cluster_args: &ClusterArgs, args: &DeleteArgs) -> Outcome {
    let mut input = operation::read(&args.input, &args.run, cluster_args)?;
    // The input's own problems first, then the name the app gets from it.
    let name = app::name(&args.app, &args.input)?;
    input.settings.namespace_flag = cluster_args.namespace.clone();
    operation::run(
        &DeleteOperation { args, input, name },
        cluster_args,
        Flags::of(&args.run),
    )
}

struct DeleteOperation<'a> {
    args: &'a DeleteArgs,
    input: Input,
    name: String,
}

impl Operation for DeleteOperation<'_> {
    type Prepared = Teardown;
    type Report = Report;
    const VERB: &'static str = "Delete";
    const DOING: &'static str = "deleting";

    async fn prepare(&self, cluster: &Cluster) -> Result<Teardown, Failure> {
        delete::prepare(cluster, &self.input, &app::app(cluster, self.name.clone()))
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
            "app \"{}\": {objects} {}, {pre} PreDelete and {post} PostDelete {} ({kept} left in place) in context \"{}\" ({}), namespace \"{}\"",
            teardown.app.name,
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
        // An app whose namespace is gone runs unlocked: no other operation of it can hold a
        // lock there either.
        let lock = app::lock(cluster, &teardown.app, self.args.run.no_lock, true).await?;
        Ok(lock.into_iter().collect())
    }

    async fn execute(
        &self,
        cluster: &Cluster,
        teardown: &mut Teardown,
        emit: &(dyn Fn(&Event) + Sync),
        cancel: Cancel,
    ) -> Report {
        let wait = !self.args.no_wait;
        let report =
            delete::execute(cluster, teardown, &self.input.settings, wait, emit, cancel).await;
        // The app is gone: so is its inventory (after a failure it stays, to be run again).
        if report.summary.ending == Ending::Succeeded
            && let Err(e) = members::delete_parent(cluster, &teardown.app).await
        {
            eprintln!("warning: could not delete the app's inventory: {e}");
        }
        report
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
