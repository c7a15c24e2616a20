//! `kubectl hooks diff`: what a sync of the input would change, object by object. Validates as
//! a sync does (discovery, server-side dry runs), changes nothing, and exits as `kubectl diff`
//! does: 0 no differences, 1 differences, above 1 an error.

use super::app;
use super::args::{DiffArgs, DiffFormat};
use super::input::{read_input, refuse_errors};
use super::operation::{cluster_failure, cluster_flags, prepare_failure, runtime, unix_now};
use super::{ClusterArgs, Failure, Outcome, exit, print};
use crate::cluster::{Cluster, Propagation};
use crate::engine::diff::{self, HookRun, ObjectDiff};
use crate::engine::prune::{self, InspectError, PruneOptions};
use crate::engine::{Input, Settings, sync};
use crate::manifest::Manifest;
use crate::model::SyncSpec;
use crate::output;
use std::process::Command;

pub fn run(cluster_args: &ClusterArgs, args: &DiffArgs) -> Outcome {
    let name = app::name(&args.app, &args.input)?;
    let loaded = read_input(&args.input, cluster_args)?;
    refuse_errors(&loaded)?;
    let specs: Vec<SyncSpec> = loaded.manifests.iter().map(SyncSpec::of).collect();
    runtime()?
        .block_on(diff(cluster_args, args, name, &loaded.manifests, &specs))
        .map_err(as_error)
}

/// Exit 1 means "differences" for diff: a failure that would exit 1 elsewhere (the server
/// rejected an object) exits 2 here, as `kubectl diff` exits above 1 on any error.
fn as_error(mut f: Failure) -> Failure {
    if f.code == exit::FAILED && !f.message.is_empty() {
        f.code = exit::BAD_INPUT;
    }
    f
}

/// The diff of the input against the cluster, for `diff` and `status`.
pub(super) async fn compute(
    cluster: &Cluster,
    app: &crate::engine::inventory::App,
    manifests: &[Manifest],
    specs: &[SyncSpec],
    force_conflicts: bool,
    concurrency: usize,
) -> Result<(Vec<ObjectDiff>, Vec<HookRun>), Failure> {
    let settings = Settings {
        force_conflicts,
        concurrency: concurrency.max(1),
        create_namespace: true,
        keep_dry_run: true,
        ..Settings::default()
    };
    let input = Input {
        manifests: manifests.to_vec(),
        specs: specs.to_vec(),
        settings,
        drop_unknown_hooks: false,
        started_unix: unix_now(),
    };
    let settings = &input.settings;
    let mut prepared = sync::prepare(cluster, &input, app)
        .await
        .map_err(|e| prepare_failure(&input, e))?;
    // What a `sync --prune` would prune; objects of other apps are shown as they would be
    // taken over only with --force-adopt, which a sync would refuse: diff shows the change.
    let options = PruneOptions {
        enabled: true,
        last: false,
        force_adopt: true,
        propagation: Propagation::Foreground,
        concurrency: settings.concurrency,
    };
    prune::inspect(cluster, &mut prepared, &options)
        .await
        .map_err(|e| match e {
            InspectError::Cluster(e) => cluster_failure(e),
            InspectError::ForeignTooling { parent, tooling } => Failure::bad_input(format!(
                "the app's inventory {parent} is managed by {tooling}, not kubectl-hooks"
            )),
            // Refused dry-run deletes: the diff can still say what would be pruned.
            InspectError::Refused(r) => Failure::new(exit::CLUSTER, r.problems.join("; ")),
            InspectError::OwnedByOthers(p) => Failure::bad_input(p.join("; ")),
        })?;
    diff::compute(cluster, &prepared, force_conflicts, settings.concurrency)
        .await
        .map_err(cluster_failure)
}

async fn diff(
    cluster_args: &ClusterArgs,
    args: &DiffArgs,
    name: String,
    manifests: &[Manifest],
    specs: &[SyncSpec],
) -> Outcome {
    let cluster = Cluster::connect(&cluster_flags(cluster_args))
        .await
        .map_err(cluster_failure)?;
    let app = app::app(&cluster, name);
    let (diffs, hooks) = compute(
        &cluster,
        &app,
        manifests,
        specs,
        !args.no_force_conflicts,
        args.concurrency,
    )
    .await?;
    let different = diffs.iter().any(|d| d.change.is_difference());
    match args.output {
        DiffFormat::Json => print(&output::diff::json(&diffs, &hooks)),
        DiffFormat::Text => {
            if let Some(command) = std::env::var("KUBECTL_EXTERNAL_DIFF")
                .ok()
                .filter(|c| !c.trim().is_empty())
            {
                return external(&command, &diffs);
            }
            print(&output::diff::render(
                &diffs,
                &hooks,
                output::stdout_color(),
            ));
        }
    }
    eprintln!(
        "app \"{}\": {}",
        app.name,
        output::diff::summary(&diffs, &hooks)
    );
    if different {
        Err(Failure::new(exit::FAILED, ""))
    } else {
        Ok(())
    }
}

/// As kubectl: the command (split on spaces, so it may carry flags) runs with the LIVE and
/// MERGED directories as its last two arguments, and its exit code is diff's.
fn external(command: &str, diffs: &[ObjectDiff]) -> Outcome {
    let base = std::env::temp_dir().join(format!(
        "kubectl-hooks-diff-{}-{}",
        std::process::id(),
        unix_now()
    ));
    let (live, merged) = (base.join("LIVE"), base.join("MERGED"));
    let written = output::diff::write_sides(diffs, &live, &merged);
    let result = written
        .map_err(|e| Failure::new(exit::BAD_INPUT, format!("cannot write the diff files: {e}")))
        .and_then(|()| {
            let mut words = command.split_whitespace();
            let program = words.next().expect("not blank");
            Command::new(program)
                .args(words)
                .arg(&live)
                .arg(&merged)
                .status()
                .map_err(|e| {
                    Failure::new(
                        exit::BAD_INPUT,
                        format!("cannot run KUBECTL_EXTERNAL_DIFF ({program}): {e}"),
                    )
                })
        });
    let _ = std::fs::remove_dir_all(&base);
    match result?.code() {
        Some(0) => Ok(()),
        Some(code) => Err(Failure::new(
            u8::try_from(code).unwrap_or(exit::BAD_INPUT),
            "",
        )),
        None => Err(Failure::new(
            exit::BAD_INPUT,
            "the external diff was killed",
        )),
    }
}
