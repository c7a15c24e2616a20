//! The ordered steps of a sync: tasks sorted by phase, wave, kind and name, namespaces
//! and CRDs bubbled before their users, grouped into (phase, wave) steps. Pure.

mod duplicates;
pub mod kinds;
mod order;

/// Argo CD's task order (phase, wave, kind, name), for tasks made outside a plan (`delete`'s PreDelete and
/// PostDelete hooks).
pub use order::sort as sort_tasks;

pub use duplicates::{duplicates, effective_namespace};

use crate::manifest::Manifest;
use crate::model::{DeletePolicy, Phase, Role, SyncSpec};

/// One unit of work: one object in one phase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    /// Index of the object in the input.
    pub object: usize,
    pub phase: Phase,
    pub wave: i64,
    pub hook: bool,
    /// None for cluster-scoped objects.
    pub namespace: Option<String>,
    pub delete_policies: Vec<DeletePolicy>,
    // Sort keys, copied so ordering does not reach back into the input.
    pub group: String,
    pub kind: String,
    /// `metadata.name`, or `generateName` for hooks named at sync time.
    pub name: String,
}

/// A (phase, wave) pair and its tasks, in run order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub phase: Phase,
    pub wave: i64,
    pub tasks: Vec<Task>,
}

#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Steps in run order. A SyncFail step, if any, is last and runs only when the sync fails.
    pub steps: Vec<Step>,
    /// `hook: Skip` objects and Helm hooks Argo CD ignores: neither applied nor pruned.
    pub skipped: Vec<Task>,
    /// Hooks that only run when the app is deleted (PreDelete/PostDelete).
    pub delete_hooks: Vec<Task>,
    /// Objects Argo CD would drop without a word (no known hook type), when the caller
    /// accepted that.
    pub dropped: Vec<Task>,
}

impl Plan {
    pub fn tasks(&self) -> impl Iterator<Item = &Task> {
        self.steps.iter().flat_map(|s| s.tasks.iter())
    }

    /// The steps every sync runs: all but the SyncFail step. `plan`, `sync` and their
    /// summaries count steps with this one rule, and name the SyncFail step apart.
    pub fn run_steps(&self) -> usize {
        self.steps
            .iter()
            .filter(|s| s.phase != Phase::SyncFail)
            .count()
    }

    /// Whether there is a SyncFail step (run only when the sync fails).
    pub fn has_sync_fail(&self) -> bool {
        self.steps.iter().any(|s| s.phase == Phase::SyncFail)
    }
}

pub struct PlanOptions<'a> {
    /// Namespace for namespaced objects that name none.
    pub default_namespace: &'a str,
    /// Whether an object's kind is namespaced (discovery in `sync`, well-known kinds offline).
    pub is_namespaced: &'a dyn Fn(usize, &Manifest) -> bool,
    /// Accept Argo CD's behaviour for hooks with no known type: drop them, with a warning.
    pub drop_unknown_hooks: bool,
}

pub fn offline_is_namespaced(m: &Manifest) -> bool {
    !kinds::is_well_known_cluster_scoped(m.group(), &m.kind)
}

/// Objects whose hook annotation has no known type. Argo CD never applies them and says
/// nothing; this tool refuses to plan them unless told to drop them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownHooks(pub Vec<usize>);

pub fn build(
    manifests: &[Manifest],
    specs: &[SyncSpec],
    options: &PlanOptions,
) -> Result<Plan, UnknownHooks> {
    let ignored: Vec<usize> = specs
        .iter()
        .enumerate()
        .filter(|(_, s)| s.role == Role::Ignored)
        .map(|(i, _)| i)
        .collect();
    if !ignored.is_empty() && !options.drop_unknown_hooks {
        return Err(UnknownHooks(ignored));
    }

    let mut plan = Plan::default();
    let mut tasks = Vec::with_capacity(manifests.len());
    for (i, (m, spec)) in manifests.iter().zip(specs).enumerate() {
        let task = |phase| new_task(i, m, spec, phase, options);
        match spec.role {
            Role::Resource | Role::Hook => tasks.extend(spec.phases.iter().map(|p| task(*p))),
            Role::Skip | Role::IgnoredHelmHook => plan.skipped.push(task(Phase::Sync)),
            Role::DeleteHookOnly => plan.delete_hooks.push(task(Phase::Sync)),
            Role::Ignored => plan.dropped.push(task(Phase::Sync)),
        }
    }
    order::sort(&mut tasks);
    order::bubble_dependencies(&mut tasks, manifests, options.default_namespace);
    plan.steps = order::into_steps(tasks);
    Ok(plan)
}

/// Said after [`namespace_conflicts`]: how an app spanning namespaces is synced, as with
/// kubectl (whose `-n` refuses the same objects).
pub const SPANNING_NAMESPACES: &str = "an app whose objects span namespaces leaves out -n: \
objects without a namespace, the app's inventory and its lock then go to the context's namespace \
(kubectl config set-context --current --namespace=NS)";

/// Objects whose `metadata.namespace` is not the namespace given with `-n`: refused, as
/// kubectl refuses them (`apply`, `create`, `delete` with `--namespace`), in kubectl's words,
/// with the object's `file:line`. Only namespaced objects count: a cluster-scoped one has no
/// namespace to disagree with.
pub fn namespace_conflicts(plan: &Plan, manifests: &[Manifest], flag: &str) -> Vec<String> {
    let mut seen = std::collections::BTreeSet::new();
    let mut problems = Vec::new();
    for task in plan.tasks().chain(&plan.delete_hooks) {
        let m = &manifests[task.object];
        let (Some(_), Some(own)) = (&task.namespace, &m.namespace) else {
            continue;
        };
        if own != flag && seen.insert(task.object) {
            problems.push(format!(
                "{}: the namespace from the provided object \"{own}\" does not match the namespace \"{flag}\". You must pass '--namespace={own}' to perform this operation.",
                m.source
            ));
        }
    }
    problems
}

/// The task of one object in one phase (also for `delete`'s PreDelete/PostDelete hooks).
pub fn new_task(
    object: usize,
    m: &Manifest,
    spec: &SyncSpec,
    phase: Phase,
    options: &PlanOptions,
) -> Task {
    let namespace = (options.is_namespaced)(object, m).then(|| {
        m.namespace
            .clone()
            .unwrap_or_else(|| options.default_namespace.to_owned())
    });
    Task {
        object,
        phase,
        wave: spec.wave,
        hook: spec.is_hook(),
        namespace,
        delete_policies: spec.delete_policies.clone(),
        group: m.group().to_owned(),
        kind: m.kind.clone(),
        name: m
            .name
            .clone()
            .or_else(|| m.generate_name.clone())
            .unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests;
