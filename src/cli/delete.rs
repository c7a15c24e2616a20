//! `kubectl hooks delete`: validate everything, ask, run PreDelete hooks, delete the objects
//! in reverse order, run PostDelete hooks, report. The story around it is `operation`'s.

use super::args::DeleteArgs;
use super::input::{read_input, refuse_errors};
use super::operation::{self, Flags, Operation, lock_input, show_as, unix_now};
use super::sync::{announce, prepare_failure, settings};
use super::{ClusterArgs, Failure, Outcome};
use crate::cluster::Cluster;
use crate::engine::delete::{self, Fate, Part, Report, Teardown};
use crate::engine::lock::Lock;
use crate::engine::{Cancel, Event, Settings, Summary};
use crate::manifest::Manifest;
use crate::model::SyncSpec;
use crate::output::{self, plural};

pub fn run(cluster_args: &ClusterArgs, args: &DeleteArgs) -> Outcome {
    let loaded = read_input(&args.input)?;
    refuse_errors(&loaded)?;
    let specs: Vec<SyncSpec> = loaded.manifests.iter().map(SyncSpec::of).collect();
    let delete = DeleteOperation {
        args,
        manifests: &loaded.manifests,
        specs: &specs,
        settings: settings(&args.run),
        started_unix: unix_now(),
    };
    let flags = Flags {
        dry_run: args.run.dry_run,
        yes: args.run.yes,
    };
    operation::run(&delete, cluster_args, flags)
}

struct DeleteOperation<'a> {
    args: &'a DeleteArgs,
    manifests: &'a [Manifest],
    specs: &'a [SyncSpec],
    settings: Settings,
    started_unix: u64,
}

impl Operation for DeleteOperation<'_> {
    type Prepared = Teardown;
    type Report = Report;
    const VERB: &'static str = "Delete";
    const DOING: &'static str = "deleting";

    async fn prepare(&self, cluster: &Cluster) -> Result<Teardown, Failure> {
        delete::prepare(
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

    fn announce(&self, teardown: &Teardown) {
        announce(&teardown.plan, self.manifests, &teardown.notes);
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
        lock_input(cluster, &teardown.app_id, self.settings.timeout).await
    }

    async fn execute(
        &self,
        cluster: &Cluster,
        teardown: &mut Teardown,
        emit: &(dyn Fn(&Event) + Sync),
        cancel: Cancel,
    ) -> Report {
        let wait = !self.args.no_wait;
        delete::execute(cluster, teardown, &self.settings, wait, emit, cancel).await
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
