//! Everything a sync checks before it writes (see `validate`), and the steps it will run:
//! the plan's tasks made ready to send, SyncFail hooks set apart.

use crate::cluster::Cluster;
use crate::cluster::FIELD_MANAGER;
use crate::engine::inventory::App;
use crate::engine::prune::PruneWork;
use crate::engine::validate::{
    PrepareError, check_namespaces, dry_run, ready, refuse_namespace_conflicts, resolve_kinds,
};
use crate::engine::{Input, Work};
use crate::engine::{access, naming, options};
use crate::model::{Phase, SyncOption};
use crate::plan::{self, Plan, PlanOptions};
use serde_json::Value;
use std::collections::HashMap;

/// A step's tasks, as indices into `Prepared::works`.
#[derive(Debug, Clone)]
pub struct StepWork {
    pub phase: Phase,
    pub wave: i64,
    pub tasks: Vec<usize>,
    /// Prunes that run first in this step, as indices into `Prepared::prunes`.
    pub prunes: Vec<usize>,
}

/// A validated sync, ready to run.
#[derive(Debug)]
pub struct Prepared {
    pub plan: Plan,
    pub works: Vec<Work>,
    /// Steps in run order, without the SyncFail step.
    pub steps: Vec<StepWork>,
    /// All SyncFail hooks: run at once, only when the sync fails.
    pub sync_fail: Option<StepWork>,
    /// Missing namespaces to create first (`--create-namespace`).
    pub namespaces_to_create: Vec<String>,
    pub app: App,
    pub sync_id: String,
    /// What `--prune` deletes, and the members that left the input (filled by
    /// `prune::inspect` after this preparation).
    pub prunes: Vec<PruneWork>,
    /// With `Settings::keep_dry_run` (for `diff`): what the server would store for each
    /// object that is not a hook, by index into `works`.
    pub dry_run_results: HashMap<usize, Value>,
    /// Things the user should know that do not stop the sync.
    pub notes: Vec<String>,
    /// What the sync does other than the input says: unknown fields dropped (`Validate=false`),
    /// options this tool does not honour (`ServerSideApply=false`).
    pub warnings: Vec<String>,
}

pub async fn prepare(
    cluster: &Cluster,
    input: &Input,
    app: &App,
) -> Result<Prepared, PrepareError> {
    let (manifests, specs, settings) = (&input.manifests[..], &input.specs[..], &input.settings);
    let (drop_unknown_hooks, started_unix) = (input.drop_unknown_hooks, input.started_unix);
    let kinds = resolve_kinds(cluster, manifests).await?;
    let plan = plan::build(
        manifests,
        specs,
        &PlanOptions {
            default_namespace: cluster.namespace(),
            is_namespaced: &|i, _| kinds.namespaced(i),
            drop_unknown_hooks,
        },
    )
    .map_err(PrepareError::UnknownHooks)?;
    refuse_namespace_conflicts(&plan, manifests, settings)?;

    let sync_id = naming::sync_id(&app.name, started_unix);
    let mut works = Vec::with_capacity(plan.steps.iter().map(|s| s.tasks.len()).sum());
    let mut steps = Vec::new();
    let mut sync_fail = None;
    for step in &plan.steps {
        let mut indices = Vec::new();
        for task in &step.tasks {
            indices.push(works.len());
            works.push(ready(
                task,
                &manifests[task.object],
                kinds.resolved(task.object),
                app,
                &sync_id,
                started_unix,
            ));
        }
        let step_work = StepWork {
            phase: step.phase,
            wave: step.wave,
            tasks: indices,
            prunes: Vec::new(),
        };
        if step.phase == Phase::SyncFail {
            sync_fail = Some(step_work);
        } else {
            steps.push(step_work);
        }
    }

    let mut notes: Vec<String> = works.iter().filter_map(options::write_note).collect();
    let mut warnings = client_side_apply_warnings(&works);
    let (namespaces_to_create, not_yet) =
        check_namespaces(cluster, manifests, &works, settings).await?;
    // Empty unless `keep_dry_run`: the dry run keeps what the server would store only then.
    let dry_run_results = dry_run(
        cluster,
        &mut works,
        &not_yet,
        settings,
        &mut notes,
        &mut warnings,
    )
    .await?;
    let namespace_kind = cluster.resolve("v1", "Namespace").await?;
    let needs = access::for_sync(&works, namespace_kind.as_ref(), &namespaces_to_create);
    access::check(cluster, needs).await?;
    Ok(Prepared {
        plan,
        works,
        steps,
        sync_fail,
        namespaces_to_create,
        app: app.clone(),
        sync_id,
        prunes: Vec::new(),
        dry_run_results,
        notes,
        warnings,
    })
}

/// `ServerSideApply=false` asks Argo CD for a client-side apply; this tool applies server-side
/// always, so the object's fields end up owned by its field manager, not in
/// `last-applied-configuration`.
fn client_side_apply_warnings(works: &[Work]) -> Vec<String> {
    works
        .iter()
        .filter(|w| w.options.has(SyncOption::ServerSideApplyFalse))
        .map(|w| {
            format!(
                "{}/{} ({}): ServerSideApply=false is not honoured: kubectl-hooks always applies server-side (field manager \"{FIELD_MANAGER}\")",
                w.task.kind, w.name, w.source
            )
        })
        .collect()
}
