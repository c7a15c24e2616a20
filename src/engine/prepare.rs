//! Everything a sync checks before it writes: every kind resolved by discovery, the namespaces
//! it needs, hook names made final, and a server-side dry run of every object. Any problem
//! here stops the sync with nothing applied.

use super::inventory::{self, App};
use super::naming::{
    self, ANNOTATION_APP_NAMESPACE, ANNOTATION_GENERATE_NAME, ANNOTATION_SOURCE, LABEL_APP,
    LABEL_HOOK, LABEL_PHASE, LABEL_SYNC,
};
use super::{Settings, TaskState, Work, policy};
use crate::cluster::{ApplyOptions, Cluster, ClusterError, ResolvedKind};
use crate::manifest::Manifest;
use crate::model::{Phase, SyncSpec};
use crate::plan::{self, Plan, PlanOptions, Task, UnknownHooks};
use futures::StreamExt;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};

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
    pub prunes: Vec<super::prune::PruneWork>,
    /// With `Settings::keep_dry_run` (for `diff`): what the server would store for each
    /// object that is not a hook, by index into `works`.
    pub dry_run_results: HashMap<usize, Value>,
    /// Things the user should know that do not stop the sync.
    pub notes: Vec<String>,
}

#[derive(Debug)]
pub enum PrepareError {
    /// Kinds the cluster does not know (exit 2).
    UnknownKinds(Vec<String>),
    /// Hooks with no known type (exit 2, unless dropped).
    UnknownHooks(UnknownHooks),
    /// Missing namespaces, or objects the server rejected in the dry run (exit 1; exit 3 when
    /// `access` is set: RBAC or authentication refused a request).
    Rejected {
        problems: Vec<String>,
        access: bool,
    },
    Cluster(ClusterError),
}

impl From<ClusterError> for PrepareError {
    fn from(e: ClusterError) -> Self {
        PrepareError::Cluster(e)
    }
}

/// A kind defined by a CRD in the same input: unknown to the server until that CRD is applied.
struct PendingKind {
    namespaced: bool,
}

pub async fn prepare(
    cluster: &Cluster,
    manifests: &[Manifest],
    specs: &[SyncSpec],
    drop_unknown_hooks: bool,
    settings: &Settings,
    started_unix: u64,
    app: &App,
) -> Result<Prepared, PrepareError> {
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

    let sync_id = naming::sync_id(&app.name, started_unix);
    let mut works = Vec::new();
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

    let mut notes = Vec::new();
    let (namespaces_to_create, not_yet) =
        check_namespaces(cluster, manifests, &works, settings).await?;
    let mut dry_run_results = dry_run(cluster, &works, &not_yet, settings, &mut notes).await?;
    if !settings.keep_dry_run {
        dry_run_results.clear();
    }
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
    })
}

pub(super) struct Kinds {
    resolved: Vec<Option<ResolvedKind>>,
    pending: HashMap<usize, PendingKind>,
}

impl Kinds {
    pub(super) fn namespaced(&self, index: usize) -> bool {
        match &self.resolved[index] {
            Some(kind) => kind.namespaced,
            None => self.pending.get(&index).is_none_or(|p| p.namespaced),
        }
    }
    pub(super) fn resolved(&self, index: usize) -> Option<ResolvedKind> {
        self.resolved[index].clone()
    }
}

pub(super) async fn resolve_kinds(
    cluster: &Cluster,
    manifests: &[Manifest],
) -> Result<Kinds, PrepareError> {
    cluster
        .prefetch(manifests.iter().map(|m| m.api_version.as_str()))
        .await?;
    let crds = crds_in_input(manifests);
    let mut resolved = Vec::with_capacity(manifests.len());
    let mut pending = HashMap::new();
    let mut unknown = Vec::new();
    for (i, m) in manifests.iter().enumerate() {
        let found = cluster.resolve(&m.api_version, &m.kind).await?;
        if found.is_none() {
            let (group, version) = split_api_version(&m.api_version);
            match crds.get(&(group.to_owned(), m.kind.clone())) {
                Some(crd) if crd.versions.iter().any(|v| v == version) => {
                    pending.insert(i, PendingKind { namespaced: crd.namespaced });
                }
                _ => unknown.push(format!(
                    "{}: {}/{}: the cluster has no kind {} in {} (is its CustomResourceDefinition installed?)",
                    m.source,
                    m.kind,
                    m.display_name(),
                    m.kind,
                    m.api_version
                )),
            }
        }
        resolved.push(found);
    }
    if !unknown.is_empty() {
        return Err(PrepareError::UnknownKinds(unknown));
    }
    Ok(Kinds { resolved, pending })
}

struct CrdFacts {
    versions: Vec<String>,
    namespaced: bool,
}

/// CRDs in the input, by (group, kind): their objects can be synced in the same run, after
/// the CRD is applied (Argo CD skips their dry run, as SkipDryRunOnMissingResource).
fn crds_in_input(manifests: &[Manifest]) -> HashMap<(String, String), CrdFacts> {
    let mut out = HashMap::new();
    for m in manifests {
        if m.group() != "apiextensions.k8s.io" || m.kind != "CustomResourceDefinition" {
            continue;
        }
        let spec = m.to_json()["spec"].clone();
        let (Some(group), Some(kind)) = (spec["group"].as_str(), spec["names"]["kind"].as_str())
        else {
            continue;
        };
        let mut versions: Vec<String> = spec["versions"]
            .as_array()
            .map(|vs| {
                vs.iter()
                    .filter_map(|v| v["name"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        if let Some(v) = spec["version"].as_str() {
            versions.push(v.to_owned());
        }
        out.insert(
            (group.to_owned(), kind.to_owned()),
            CrdFacts {
                versions,
                namespaced: spec["scope"].as_str() != Some("Cluster"),
            },
        );
    }
    out
}

fn split_api_version(api_version: &str) -> (&str, &str) {
    api_version.rsplit_once('/').unwrap_or(("", api_version))
}

/// The object as it will be sent: final name and namespace, for hooks the labels and
/// annotations that mark them as this tool's, and for every other object the label that
/// makes it a member of the app's inventory.
pub(super) fn ready(
    task: &Task,
    m: &Manifest,
    kind: Option<ResolvedKind>,
    app: &App,
    sync_id: &str,
    started_unix: u64,
) -> Work {
    let name = match (&m.name, &m.generate_name) {
        (Some(name), _) => name.clone(),
        (None, Some(prefix)) => naming::generated_name(prefix, &app.name, task.phase, started_unix),
        (None, None) => String::new(),
    };
    let mut object = m.to_json();
    let metadata = object
        .as_object_mut()
        .expect("manifests are mappings")
        .entry("metadata")
        .or_insert_with(|| json!({}));
    if let Some(meta) = metadata.as_object_mut() {
        meta.remove("generateName");
        meta.insert("name".into(), json!(name));
        match &task.namespace {
            Some(ns) => {
                meta.insert("namespace".into(), json!(ns));
            }
            None => {
                meta.remove("namespace");
            }
        }
        if task.hook {
            let labels = map_entry(meta, "labels");
            labels.insert(LABEL_HOOK.into(), json!("true"));
            labels.insert(
                LABEL_PHASE.into(),
                json!(task.phase.as_str().to_lowercase()),
            );
            labels.insert(LABEL_SYNC.into(), json!(sync_id));
            labels.insert(LABEL_APP.into(), json!(app.name));
            let annotations = map_entry(meta, "annotations");
            annotations.insert(ANNOTATION_SOURCE.into(), json!(m.source.to_string()));
            annotations.insert(ANNOTATION_APP_NAMESPACE.into(), json!(app.namespace));
            if let Some(prefix) = &m.generate_name {
                annotations.insert(ANNOTATION_GENERATE_NAME.into(), json!(prefix));
            }
        }
    }
    if !task.hook {
        inventory::mark_member(&mut object, app);
    }
    Work {
        task: task.clone(),
        kind,
        api_version: m.api_version.clone(),
        name,
        namespace: task.namespace.clone(),
        object,
        source: m.source.to_string(),
        state: TaskState::Pending,
        message: String::new(),
        started: None,
        finished: None,
        deleted_by_policy: None,
    }
}

fn map_entry<'a>(meta: &'a mut Map<String, Value>, key: &str) -> &'a mut Map<String, Value> {
    let entry = meta.entry(key).or_insert_with(|| json!({}));
    if !entry.is_object() {
        *entry = json!({});
    }
    entry.as_object_mut().expect("just made an object")
}

/// Which namespaces exist, which this sync creates (from the input, or `--create-namespace`),
/// and which are missing. Returns the namespaces to create first and the set of namespaces
/// that do not exist yet (objects in them cannot be dry-run).
pub(super) async fn check_namespaces(
    cluster: &Cluster,
    manifests: &[Manifest],
    works: &[Work],
    settings: &Settings,
) -> Result<(Vec<String>, BTreeSet<String>), PrepareError> {
    let mut needed: BTreeMap<&str, &Work> = BTreeMap::new();
    for w in works {
        if let Some(ns) = &w.namespace {
            needed.entry(ns.as_str()).or_insert(w);
        }
    }
    let in_input: BTreeSet<&str> = manifests
        .iter()
        .filter(|m| m.group().is_empty() && m.kind == "Namespace")
        .filter_map(|m| m.name.as_deref())
        .collect();
    let namespace_kind = cluster.resolve("v1", "Namespace").await?.ok_or_else(|| {
        PrepareError::UnknownKinds(vec!["the cluster serves no v1 Namespace".into()])
    })?;
    let lookups = needed.keys().map(|ns| {
        let kind = &namespace_kind;
        async move { (*ns, cluster.get(kind, "", ns).await) }
    });
    let found: Vec<(&str, Result<Option<Value>, ClusterError>)> = futures::stream::iter(lookups)
        .buffer_unordered(settings.concurrency.max(1))
        .collect()
        .await;
    let mut to_create = Vec::new();
    let mut not_yet = BTreeSet::new();
    let mut problems = Vec::new();
    for (ns, result) in found {
        match result {
            Ok(Some(_)) => {}
            Ok(None) if in_input.contains(ns) => {
                not_yet.insert(ns.to_owned());
            }
            Ok(None) if settings.create_namespace => {
                to_create.push(ns.to_owned());
                not_yet.insert(ns.to_owned());
            }
            Ok(None) => {
                let w = needed[ns];
                problems.push(format!(
                    "namespace \"{ns}\" does not exist (needed by {}/{} at {}): create it, add it to the input, or pass --create-namespace",
                    w.task.kind, w.name, w.source
                ));
            }
            // A user who may not read namespaces can still sync into one: let the dry run judge.
            Err(e) if e.status_code() == Some(403) => {}
            Err(e) => return Err(e.into()),
        }
    }
    if !problems.is_empty() {
        problems.sort();
        return Err(PrepareError::Rejected {
            problems,
            access: false,
        });
    }
    to_create.sort();
    Ok((to_create, not_yet))
}

/// A server-side dry run of every object of every phase (SyncFail hooks included), as the
/// objects will be sent. Hooks that are re-created (BeforeHookCreation) are dry-run as a
/// create under a generated name, so an existing object with an immutable spec does not
/// fail a check the real run would pass.
pub(super) async fn dry_run(
    cluster: &Cluster,
    works: &[Work],
    not_yet: &BTreeSet<String>,
    settings: &Settings,
    notes: &mut Vec<String>,
) -> Result<HashMap<usize, Value>, PrepareError> {
    let mut skipped_for_namespace: BTreeMap<&str, usize> = BTreeMap::new();
    let mut skipped_for_crd = 0usize;
    let checks = works.iter().enumerate().filter_map(|(i, w)| {
        let Some(kind) = &w.kind else {
            skipped_for_crd += 1;
            return None;
        };
        if let Some(ns) = w.namespace.as_deref().filter(|ns| not_yet.contains(*ns)) {
            *skipped_for_namespace.entry(ns).or_default() += 1;
            return None;
        }
        Some(async move {
            let result = if w.task.hook && policy::delete_before_creation(&w.task.delete_policies) {
                let mut probe = w.object.clone();
                let generate = format!("{}-", &w.name[..w.name.len().min(56)]);
                if let Some(meta) = probe["metadata"].as_object_mut() {
                    meta.remove("name");
                    meta.insert("generateName".into(), json!(generate));
                }
                cluster.create(kind, &probe, true).await
            } else {
                cluster
                    .apply(
                        kind,
                        &w.object,
                        ApplyOptions {
                            force: settings.force_conflicts,
                            dry_run: true,
                        },
                    )
                    .await
            };
            (i, w, result)
        })
    });
    let results: Vec<(usize, &Work, Result<Value, ClusterError>)> =
        futures::stream::iter(checks.collect::<Vec<_>>())
            .buffer_unordered(settings.concurrency.max(1))
            .collect()
            .await;
    let mut problems = Vec::new();
    let mut access = false;
    let mut stored = HashMap::new();
    for (i, w, result) in results {
        match result {
            Err(e) => {
                access |= e.is_access_error();
                problems.push(format!("{}/{} ({}): {e}", w.task.kind, w.name, w.source));
            }
            Ok(value) if !w.task.hook => {
                stored.insert(i, value);
            }
            Ok(_) => {}
        }
    }
    for (ns, count) in skipped_for_namespace {
        notes.push(format!(
            "{count} object(s) in namespace \"{ns}\" were not dry-run: the namespace does not exist yet and this sync creates it"
        ));
    }
    if skipped_for_crd > 0 {
        notes.push(format!(
            "{skipped_for_crd} object(s) were not dry-run: their kind is defined by a CustomResourceDefinition in this input"
        ));
    }
    if problems.is_empty() {
        Ok(stored)
    } else {
        problems.sort();
        Err(PrepareError::Rejected { problems, access })
    }
}
