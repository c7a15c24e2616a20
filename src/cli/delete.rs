//! `kubectl hooks delete`: validate everything, ask, run PreDelete hooks, delete the objects
//! in reverse order, run PostDelete hooks, report. Prompt, lock, Ctrl-C and exit codes are
//! sync's.

use super::app;
use super::args::{DeleteArgs, ReportFormat};
use super::input::{read_input, refuse_errors};
use super::sync::{
    announce, cluster_failure, cluster_flags, confirm_unless, exit_for, on_interrupt,
    prepare_failure, runtime, settings, unix_now,
};
use super::{ClusterArgs, Outcome, print};
use crate::cluster::Cluster;
use crate::engine::Report;
use crate::engine::delete::{self, Fate, Part, Teardown};
use crate::manifest::Manifest;
use crate::model::SyncSpec;
use crate::output;

pub fn run(cluster_args: &ClusterArgs, args: &DeleteArgs) -> Outcome {
    let name = app::name(&args.app, &args.input)?;
    let loaded = read_input(&args.input)?;
    refuse_errors(&loaded)?;
    let specs: Vec<SyncSpec> = loaded.manifests.iter().map(SyncSpec::of).collect();
    runtime()?.block_on(delete(cluster_args, args, name, &loaded.manifests, &specs))
}

async fn delete(
    cluster_args: &ClusterArgs,
    args: &DeleteArgs,
    name: String,
    manifests: &[Manifest],
    specs: &[SyncSpec],
) -> Outcome {
    let cluster = Cluster::connect(&cluster_flags(cluster_args))
        .await
        .map_err(cluster_failure)?;
    let app = app::app(&cluster, name);
    let settings = settings(&args.run);
    let started_unix = unix_now();

    let mut teardown = delete::prepare(
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
    announce(&teardown.plan, manifests, &teardown.notes);
    let summary = summary_line(&cluster, &teardown);
    if args.run.dry_run {
        show(args.run.output, None, &teardown);
        eprintln!(
            "dry run: {summary}; every hook passed the server-side dry run and every deletion the dry-run delete; nothing was changed"
        );
        return Ok(());
    }
    confirm_unless(args.run.yes, &format!("Delete {summary}?"))?;

    let lock = app::lock(&cluster, &app, args.run.no_lock, true).await?;
    let (cancel, interrupts) = on_interrupt();
    let progress = output::sync::Progress::for_stderr();
    progress.note(&format!("deleting {summary}"));
    let wait = !args.no_wait;
    let report = delete::execute(
        &cluster,
        &mut teardown,
        &settings,
        wait,
        &|e| progress.on(e),
        cancel,
    )
    .await;
    interrupts.abort();
    // The app is gone: so is its inventory (after a failure it stays, to be run again).
    if report.result == crate::engine::SyncResult::Succeeded
        && let Err(e) = crate::engine::members::delete_parent(&cluster, &app).await
    {
        eprintln!("warning: could not delete the app's inventory: {e}");
    }
    app::release(lock, &cluster).await;

    show(args.run.output, Some(&report), &teardown);
    exit_for(report)
}

fn show(format: ReportFormat, report: Option<&Report>, teardown: &Teardown) {
    match format {
        ReportFormat::Table => print(&output::delete::render(report, teardown)),
        ReportFormat::Json => print(&output::delete::json(report, teardown)),
    }
}

fn summary_line(cluster: &Cluster, teardown: &Teardown) -> String {
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
    let app = &teardown.app.name;
    let plural = output::plan::plural;
    let (pre, objects, post) = (
        count(Part::PreDelete),
        count(Part::Delete),
        count(Part::PostDelete),
    );
    format!(
        "app \"{}\": {objects} {}, {pre} PreDelete and {post} PostDelete {} ({kept} left in place) in context \"{}\" ({}), namespace \"{}\"",
        app,
        plural(objects, "object", "objects"),
        plural(pre + post, "hook", "hooks"),
        cluster.context(),
        cluster.server(),
        cluster.namespace()
    )
}
