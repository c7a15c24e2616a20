//! `kubectl hooks status`: the app's members with their health and sync state, and its last
//! sync, from the app's inventory; with `-f`, each member compared with the input as `diff`
//! compares it. `--watch` prints again whenever something changes.

use super::app;
use super::args::{StatusArgs, StatusFormat};
use super::input::{read_input, refuse_errors};
use super::operation::{cluster_failure, cluster_flags, runtime};
use super::{ClusterArgs, Failure, Outcome, exit, print};
use crate::cluster::Cluster;
use crate::engine::inventory::App;
use crate::engine::members;
use crate::engine::status::{self, AppStatus};
use crate::manifest::Manifest;
use crate::model::SyncSpec;
use crate::output;

pub fn run(cluster_args: &ClusterArgs, args: &StatusArgs) -> Outcome {
    let name = if args.app.app.is_none()
        && (args.input.filenames.is_empty() && args.input.kustomize.is_none())
    {
        return Err(Failure::bad_input(
            "which app? name it with --app NAME, or give its manifests with -f",
        ));
    } else {
        app::name(&args.app, &args.input)?
    };
    let manifests = if args.input.filenames.is_empty() && args.input.kustomize.is_none() {
        None
    } else {
        let loaded = read_input(&args.input, cluster_args)?;
        refuse_errors(&loaded)?;
        Some(loaded.manifests)
    };
    runtime()?.block_on(watch(cluster_args, args, name, manifests.as_deref()))
}

async fn watch(
    cluster_args: &ClusterArgs,
    args: &StatusArgs,
    name: String,
    manifests: Option<&[Manifest]>,
) -> Outcome {
    let cluster = Cluster::connect(&cluster_flags(cluster_args))
        .await
        .map_err(cluster_failure)?;
    let app = app::app(&cluster, name);
    let mut shown = String::new();
    loop {
        let status = read(&cluster, &app, manifests).await?;
        let text = match args.output {
            StatusFormat::Table => output::status::render(&status),
            StatusFormat::Json => output::status::json(&status),
        };
        if !args.watch {
            print(&text);
            return if status.all_good() {
                Ok(())
            } else {
                Err(Failure::new(exit::FAILED, ""))
            };
        }
        if text != shown {
            if !shown.is_empty() {
                print("\n");
            }
            print(&text);
            shown = text;
        }
        tokio::time::sleep(args.interval).await;
    }
}

async fn read(
    cluster: &Cluster,
    app: &App,
    manifests: Option<&[Manifest]>,
) -> Result<AppStatus, Failure> {
    let recorded = members::read_parent(cluster, app)
        .await
        .map_err(cluster_failure)?;
    let live = match &recorded {
        Some(r) => members::list(cluster, app, r, 16)
            .await
            .map_err(cluster_failure)?,
        None => Vec::new(),
    };
    let diffs = match manifests {
        Some(manifests) => {
            let specs: Vec<SyncSpec> = manifests.iter().map(SyncSpec::of).collect();
            let (diffs, _) =
                super::diff::compute(cluster, app, manifests, &specs, true, 16).await?;
            Some(diffs)
        }
        None => None,
    };
    Ok(status::assemble(
        app,
        recorded.as_ref(),
        &live,
        diffs.as_deref(),
    ))
}
