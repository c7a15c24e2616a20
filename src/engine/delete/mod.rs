//! `delete`: takes an app down the way Argo CD deletes an Application (its "Resource Hooks"
//! documentation, PreDelete and PostDelete): its
//! PreDelete hooks, then its objects in the reverse of the sync order, each wave gone before
//! the next, then its PostDelete hooks. Like a sync it validates everything before it
//! changes anything: discovery of every kind, a server-side dry run of every hook, and a
//! dry-run delete of every object, so a missing permission stops it with nothing deleted.
//!
//! What it leaves alone, on purpose:
//! - the input's sync hooks (PreSync, Sync, PostSync, SyncFail): they are hooks, not the app's
//!   objects, and their objects are named per sync; `cleanup` removes what syncs left of them;
//! - `hook: Skip` objects: Argo CD never manages them, so it never deletes them either;
//! - objects with `Delete=false` (sync-options) or `helm.sh/resource-policy: keep`, which
//!   Argo CD keeps when it deletes an Application: they are reported as kept.
//!
//! Hooks run exactly as sync hooks do (same labels, BeforeHookCreation, waits, timeouts) and
//! their delete policies apply at the end of the operation, through the same policy engine.

mod run;

pub use run::execute;

use super::access;
use super::inventory::App;
use super::remove::{self, Gone, Target};
use super::validate;
use super::{Input, PrepareError, Settings, Summary, Work, naming};
use crate::cluster::Cluster;
use crate::manifest::Manifest;
use crate::model::{self, Phase, SyncOption, SyncSpec, keys};
use crate::plan::{self, Plan, PlanOptions, Task};
use serde::Serialize;
use std::collections::BTreeSet;

/// What a delete did, for the final table and `-o json`.
#[derive(Debug, Clone)]
pub struct Report {
    pub summary: Summary,
}

/// A validated delete, ready to run.
#[derive(Debug)]
pub struct Teardown {
    pub plan: Plan,
    /// Every task in run order: PreDelete hooks, the objects to delete (highest wave first),
    /// PostDelete hooks, and last the namespaces PostDelete hooks run in.
    pub works: Vec<Work>,
    /// What happens to each work's object, by index.
    pub fates: Vec<Fate>,
    pub stages: Vec<Stage>,
    pub app: App,
    /// The `kubectl-hooks.io/sync-id` label of the hooks this delete creates.
    pub sync_id: String,
    /// Things the user should know that do not stop the delete.
    pub notes: Vec<String>,
}

/// The three parts of a delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Part {
    PreDelete,
    Delete,
    PostDelete,
}

/// Tasks that run together: the hooks of one wave, or the deletions of one wave.
#[derive(Debug, Clone)]
pub struct Stage {
    pub part: Part,
    pub wave: i64,
    /// Indices into `Teardown::works`.
    pub tasks: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fate {
    /// A PreDelete or PostDelete hook: created, and waited for.
    Hook,
    /// One of the app's objects: deleted. `None` until it is known how that went.
    Delete(Option<Gone>),
    /// Left in place (kept objects, hooks that cannot run), and why.
    Leave(String),
}

pub async fn prepare(
    cluster: &Cluster,
    input: &Input,
    app: &App,
) -> Result<Teardown, PrepareError> {
    let (manifests, specs, settings) = (&input.manifests[..], &input.specs[..], &input.settings);
    let (drop_unknown_hooks, started_unix) = (input.drop_unknown_hooks, input.started_unix);
    let kinds = validate::resolve_kinds(cluster, manifests).await?;
    let options = PlanOptions {
        default_namespace: cluster.namespace(),
        is_namespaced: &|i, _| kinds.namespaced(i),
        drop_unknown_hooks,
    };
    let plan = plan::build(manifests, specs, &options).map_err(PrepareError::UnknownHooks)?;
    validate::refuse_namespace_conflicts(&plan, manifests, settings)?;
    // The same identity as a sync of this app: same lock, same `app` label on hooks.
    let sync_id = naming::sync_id(&app.name, started_unix);
    let ready = |task: &Task| {
        let m = &manifests[task.object];
        let kind = kinds.resolved(task.object);
        validate::ready(task, m, kind, app, &sync_id, started_unix)
    };

    let hooks = delete_hooks(manifests, specs, &options);
    let hook_works: Vec<Work> = hooks.iter().map(ready).collect();
    let (_, gone_namespaces) =
        validate::check_namespaces(cluster, manifests, &hook_works, settings).await?;
    let hook_fates: Vec<Fate> = hook_works
        .iter()
        .map(|w| hook_fate(w, &gone_namespaces))
        .collect();

    // The namespaces PostDelete hooks run in must outlive them: deleted after them.
    let post_namespaces: BTreeSet<String> = hook_works
        .iter()
        .zip(&hook_fates)
        .filter(|(w, f)| w.task.phase == Phase::PostDelete && **f == Fate::Hook)
        .filter_map(|(w, _)| w.namespace.clone())
        .collect();
    let mut removals: Vec<Task> = plan.tasks().filter(|t| !t.hook).cloned().collect();
    removals.reverse();
    let (last, removals): (Vec<Task>, Vec<Task>) = removals.into_iter().partition(|t| {
        t.group.is_empty() && t.kind == "Namespace" && post_namespaces.contains(&t.name)
    });
    let removal = |mut task: Task| {
        // Namespaces bubbled into PreSync for a sync are, like every resource, Sync objects.
        task.phase = Phase::Sync;
        let i = task.object;
        let fate = removal_fate(&manifests[i], &specs[i], kinds.resolved(i).is_some());
        (ready(&task), fate)
    };

    let notes = left_alone(&plan, manifests);
    let mut teardown = Teardown {
        plan,
        works: Vec::new(),
        fates: Vec::new(),
        stages: Vec::new(),
        app: app.clone(),
        sync_id: sync_id.clone(),
        notes,
    };
    let (pre, post): (Vec<_>, Vec<_>) = hook_works
        .into_iter()
        .zip(hook_fates)
        .partition(|(w, _)| w.task.phase == Phase::PreDelete);
    teardown.extend(Part::PreDelete, pre);
    teardown.extend(Part::Delete, removals.into_iter().map(removal));
    teardown.extend(Part::PostDelete, post);
    teardown.extend(Part::Delete, last.into_iter().map(removal));

    let mut runnable: Vec<Work> = teardown
        .hooks()
        .map(|i| teardown.works[i].clone())
        .collect();
    let mut warnings = Vec::new();
    validate::dry_run(
        cluster,
        &mut runnable,
        &BTreeSet::new(),
        settings,
        &mut teardown.notes,
        &mut warnings,
    )
    .await?;
    teardown.notes.append(&mut warnings);
    check_permissions(cluster, &mut teardown, settings).await?;
    let needs = access::for_delete(
        &teardown.works,
        |i| teardown.fates[i] == Fate::Hook,
        |i| teardown.fates[i] == Fate::Delete(None),
    );
    access::check(cluster, needs).await?;
    Ok(teardown)
}

impl Teardown {
    /// Appends tasks of one part: to the last stage when it is of the same part and wave,
    /// else as a new stage.
    fn extend(&mut self, part: Part, tasks: impl IntoIterator<Item = (Work, Fate)>) {
        for (work, fate) in tasks {
            let index = self.works.len();
            match self.stages.last_mut() {
                Some(stage) if stage.part == part && stage.wave == work.task.wave => {
                    stage.tasks.push(index)
                }
                _ => self.stages.push(Stage {
                    part,
                    wave: work.task.wave,
                    tasks: vec![index],
                }),
            }
            self.works.push(work);
            self.fates.push(fate);
        }
    }

    /// How many objects and hooks are left alone.
    pub fn left_in_place(&self) -> usize {
        self.fates
            .iter()
            .filter(|f| matches!(f, Fate::Leave(_)))
            .count()
    }

    /// Indices of the hooks that run.
    pub fn hooks(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.works.len()).filter(|&i| self.fates[i] == Fate::Hook)
    }
}

fn hook_fate(w: &Work, gone_namespaces: &BTreeSet<String>) -> Fate {
    if w.kind.is_none() {
        return Fate::Leave(format!(
            "not run: the cluster does not serve {} in {} (its CustomResourceDefinition is gone)",
            w.task.kind, w.api_version
        ));
    }
    match w
        .namespace
        .as_ref()
        .filter(|ns| gone_namespaces.contains(*ns))
    {
        Some(ns) => Fate::Leave(format!("not run: its namespace \"{ns}\" is already gone")),
        None => Fate::Hook,
    }
}

/// PreDelete and PostDelete hooks (any item of either annotation names one, whatever
/// else the object is), one task per phase, in Argo CD's task order.
fn delete_hooks(manifests: &[Manifest], specs: &[SyncSpec], options: &PlanOptions) -> Vec<Task> {
    let mut tasks = Vec::new();
    for (i, (m, spec)) in manifests.iter().zip(specs).enumerate() {
        let ann = |key| m.annotation(key).map(|(v, _)| v);
        for hook in &spec.delete_hooks {
            let mut task = plan::new_task(i, m, spec, hook.phase(), options);
            // A hook even when its sync types say otherwise (`Skip,PreDelete`).
            task.hook = true;
            task.delete_policies = model::effective_policies(
                ann(keys::HOOK_DELETE_POLICY),
                ann(keys::HELM_DELETE_POLICY),
            );
            tasks.push(task);
        }
    }
    plan::sort_tasks(&mut tasks);
    tasks
}

fn removal_fate(m: &Manifest, spec: &SyncSpec, kind_served: bool) -> Fate {
    if spec.options.has(SyncOption::DeleteFalse) {
        Fate::Leave("Delete=false: left in place".into())
    } else if spec.helm_keep {
        Fate::Leave("helm.sh/resource-policy: keep: left in place".into())
    } else if m.name.is_none() {
        Fate::Leave("no metadata.name: it cannot be found to be deleted".into())
    } else if !kind_served {
        // A kind whose CustomResourceDefinition is in the input but not served: none exist.
        Fate::Delete(Some(Gone::AlreadyGone))
    } else {
        Fate::Delete(None)
    }
}

/// A dry-run delete of every object to delete: a refusal (RBAC above all) stops the delete
/// before anything is deleted; objects found missing are marked already gone.
async fn check_permissions(
    cluster: &Cluster,
    teardown: &mut Teardown,
    settings: &Settings,
) -> Result<(), PrepareError> {
    let works = &teardown.works;
    let chosen: Vec<usize> = (0..works.len())
        .filter(|&i| teardown.fates[i] == Fate::Delete(None))
        .collect();
    let targets: Vec<Target> = chosen.iter().filter_map(|&i| works[i].target()).collect();
    let labels: Vec<String> = chosen
        .iter()
        .map(|&i| {
            format!(
                "{}/{} ({})",
                works[i].task.kind, works[i].name, works[i].source
            )
        })
        .collect();
    let exists = remove::check_deletable(cluster, &targets, &labels, settings.concurrency)
        .await
        .map_err(|refusal| PrepareError::Rejected {
            problems: refusal.problems,
            access: refusal.access,
        })?;
    for (&i, exists) in chosen.iter().zip(exists) {
        if !exists {
            teardown.fates[i] = Fate::Delete(Some(Gone::AlreadyGone));
        }
    }
    Ok(())
}

/// What the input holds that `delete` does not touch, said once.
fn left_alone(plan: &Plan, manifests: &[Manifest]) -> Vec<String> {
    let sync_hooks: BTreeSet<usize> = plan.tasks().filter(|t| t.hook).map(|t| t.object).collect();
    let mut notes = Vec::new();
    if !sync_hooks.is_empty() {
        let names: Vec<String> = sync_hooks
            .iter()
            .map(|&i| format!("{}/{}", manifests[i].kind, manifests[i].display_name()))
            .collect();
        notes.push(format!(
            "sync hooks are not deleted ({}): `kubectl hooks cleanup -f ...` removes what syncs left of them",
            names.join(", ")
        ));
    }
    if !plan.skipped.is_empty() {
        notes.push(format!(
            "{} object(s) marked `argocd.argoproj.io/hook: Skip` are not deleted: Argo CD never manages them",
            plan.skipped.len()
        ));
    }
    notes
}
