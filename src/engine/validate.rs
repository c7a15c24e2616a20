//! Everything an operation checks before it writes, shared by `sync` and `delete`: every kind
//! resolved by discovery, the namespaces it needs, hook names made final, and a server-side
//! dry run of every object. Any problem here stops the operation with nothing changed.

use super::inventory::{self, App};
use super::naming::{
    self, ANNOTATION_APP_NAMESPACE, ANNOTATION_GENERATE_NAME, ANNOTATION_SOURCE, LABEL_APP,
    LABEL_HOOK, LABEL_PHASE, LABEL_SYNC,
};
use super::options::{self, Checked};
use super::{Settings, TaskState, Work, policy};
use crate::cluster::{Cluster, ClusterError, ErrorClass, ResolvedKind};
use crate::manifest::{Manifest, split_api_version};
use crate::model::{SyncOption, SyncOptions, keys};
use crate::plan::{Task, UnknownHooks};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Why an operation stopped before it changed anything. Each problem of a list is one line
/// for the user (`problems`); the Display text is the summary that follows them.
#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    /// The input contradicts the command line (bad input): `file:line: problem` each.
    #[error("{} problem(s) in the input; nothing was changed", .0.len())]
    BadInput(Vec<String>),
    /// Kinds the cluster does not know (bad input).
    #[error("{} object(s) of kinds the cluster does not know; nothing was changed", .0.len())]
    UnknownKinds(Vec<String>),
    /// Hooks with no known type (bad input, unless dropped).
    #[error("{} object(s) whose hook annotation names no known hook type; nothing was changed", .0.0.len())]
    UnknownHooks(UnknownHooks),
    /// Missing namespaces, or objects the server rejected in the dry run; `access` when RBAC
    /// or authentication refused a request.
    #[error("{} problem(s) found before anything was applied; nothing was changed", problems.len())]
    Rejected { problems: Vec<String>, access: bool },
    #[error("{0}; nothing was changed")]
    Cluster(ClusterError),
    /// Objects of other namespaces than `-n` names (bad input).
    #[error(
        "{} object(s) in another namespace than -n names; nothing was changed\nnote: {}",
        .0.len(),
        crate::plan::SPANNING_NAMESPACES
    )]
    NamespaceConflicts(Vec<String>),
}

impl PrepareError {
    pub fn class(&self) -> ErrorClass {
        match self {
            PrepareError::BadInput(_)
            | PrepareError::UnknownKinds(_)
            | PrepareError::UnknownHooks(_)
            | PrepareError::NamespaceConflicts(_) => ErrorClass::BadInput,
            PrepareError::Rejected { access: true, .. } => ErrorClass::Access,
            PrepareError::Rejected { access: false, .. } => ErrorClass::Rejected,
            PrepareError::Cluster(e) => e.class(),
        }
    }

    /// The problems to list, one a line, before the summary.
    pub fn problems(&self) -> &[String] {
        match self {
            PrepareError::BadInput(problems)
            | PrepareError::UnknownKinds(problems)
            | PrepareError::NamespaceConflicts(problems)
            | PrepareError::Rejected { problems, .. } => problems,
            PrepareError::UnknownHooks(_) | PrepareError::Cluster(_) => &[],
        }
    }
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

/// `-n` against each object's own namespace, once the kinds are known.
pub(crate) fn refuse_namespace_conflicts(
    plan: &crate::plan::Plan,
    manifests: &[Manifest],
    settings: &Settings,
) -> Result<(), PrepareError> {
    let Some(flag) = &settings.namespace_flag else {
        return Ok(());
    };
    let problems = crate::plan::namespace_conflicts(plan, manifests, flag);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(PrepareError::NamespaceConflicts(problems))
    }
}

pub(crate) struct Kinds {
    resolved: Vec<Option<ResolvedKind>>,
    pending: HashMap<usize, PendingKind>,
}

impl Kinds {
    pub(crate) fn namespaced(&self, index: usize) -> bool {
        match &self.resolved[index] {
            Some(kind) => kind.namespaced,
            None => self.pending.get(&index).is_none_or(|p| p.namespaced),
        }
    }
    pub(crate) fn resolved(&self, index: usize) -> Option<ResolvedKind> {
        self.resolved[index].clone()
    }
}

pub(crate) async fn resolve_kinds(
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
                // Argo CD: the kind may come later (an operator installs its CRD in an
                // earlier wave); taken as namespaced until the cluster says otherwise.
                _ if skips_dry_run_on_missing(m) => {
                    pending.insert(i, PendingKind { namespaced: true });
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

fn skips_dry_run_on_missing(m: &Manifest) -> bool {
    SyncOptions::parse(m.annotation(keys::SYNC_OPTIONS).map(|(v, _)| v))
        .has(SyncOption::SkipDryRunOnMissingResource)
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

/// The object as it will be sent: final name and namespace, for hooks the labels and
/// annotations that mark them as this tool's, and for every other object the label that
/// makes it a member of the app's inventory.
pub(crate) fn ready(
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
        timed_out: false,
        why: None,
        took_over: None,
        options: SyncOptions::parse(m.annotation(keys::SYNC_OPTIONS).map(|(v, _)| v)),
        client_side: false,
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
pub(crate) async fn check_namespaces(
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
    let found: Vec<(&str, Result<Option<Value>, ClusterError>)> =
        crate::engine::concurrently(settings.concurrency, lookups).await;
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
/// objects will be sent, under their real names. Hooks that are re-created
/// (BeforeHookCreation) are dry-run as the create they will be: an existing object of that
/// name ("already exists") passed every check the create makes first (the API server
/// validates an object before it looks for an existing one), and is deleted before the real
/// create, so an existing object with an immutable spec does not fail a check the real run
/// would pass. Sync options change the check as they change the write (see
/// `options::dry_run`): unknown fields `Validate=false` drops are taken out of the works, with
/// a warning each, and fields of a client-side apply are marked for take-over.
///
/// Objects in a namespace this sync creates cannot be dry-run where they will live, and
/// nothing is written before the whole input is validated (not even that Namespace, so
/// `--dry-run` stays write-free). They are dry-run in a namespace that exists instead (the
/// `-n` or context namespace, else `default`), and only the server's verdict on the object
/// itself counts there: schema and validation errors. What depends on the stand-in namespace
/// (permissions, quotas, existing objects) is left to the real run.
pub(crate) async fn dry_run(
    cluster: &Cluster,
    works: &mut [Work],
    not_yet: &BTreeSet<String>,
    settings: &Settings,
    notes: &mut Vec<String>,
    warnings: &mut Vec<String>,
) -> Result<HashMap<usize, Value>, PrepareError> {
    let stand_in = if works.iter().any(|w| {
        w.namespace
            .as_deref()
            .is_some_and(|ns| not_yet.contains(ns))
    }) {
        stand_in_namespace(cluster, not_yet).await?
    } else {
        None
    };
    let mut skipped_for_namespace: BTreeMap<String, usize> = BTreeMap::new();
    let mut stood_in: BTreeMap<String, usize> = BTreeMap::new();
    let mut skipped_for_crd = 0usize;
    let mut skipped_for_option = Vec::new();
    // Which objects are dry-run, and whether in the stand-in namespace, decided (and the
    // skipped ones counted) before any request: the requests themselves are made lazily, at
    // most `--concurrency` at a time, each copying its object only when it starts. (10,000
    // futures made up front, each with its copy, were a third of a large sync's memory.)
    let mut targets: Vec<Option<(ResolvedKind, bool)>> = Vec::with_capacity(works.len());
    for w in works.iter() {
        let Some(kind) = w.kind.clone() else {
            if w.options.has(SyncOption::SkipDryRunOnMissingResource) {
                skipped_for_option.push(format!("{}/{} ({})", w.task.kind, w.name, w.source));
            } else {
                skipped_for_crd += 1;
            }
            targets.push(None);
            continue;
        };
        let mut in_stand_in = false;
        if let Some(ns) = w.namespace.as_deref().filter(|ns| not_yet.contains(*ns)) {
            if stand_in.is_none() {
                *skipped_for_namespace.entry(ns.to_owned()).or_default() += 1;
                targets.push(None);
                continue;
            }
            *stood_in.entry(ns.to_owned()).or_default() += 1;
            in_stand_in = true;
        }
        targets.push(Some((kind, in_stand_in)));
    }
    let stand_in_name = stand_in.as_deref();
    let checks = works
        .iter_mut()
        .zip(targets)
        .enumerate()
        .filter_map(|(i, (w, target))| {
            let (kind, in_stand_in) = target?;
            Some(async move {
                let mut object = w.object.clone();
                if in_stand_in {
                    object["metadata"]["namespace"] = json!(stand_in_name.unwrap_or_default());
                }
                let result =
                    if w.task.hook && policy::delete_before_creation(&w.task.delete_policies) {
                        match cluster.create(&kind, &object, true).await {
                            Err(e) if e.is_already_exists() => Ok(Checked::default()),
                            other => other.map(|_| Checked::default()),
                        }
                    } else {
                        options::dry_run(cluster, &kind, &object, &w.options, settings).await
                    };
                let mut result = match result {
                    Err(e) if in_stand_in && !is_about_the_object(&e) => Ok(Checked::default()),
                    other => other,
                };
                if let Ok(checked) = &mut result {
                    options::drop_fields(&mut w.object, &checked.dropped);
                    w.client_side = checked.client_side;
                    // What the server would store is kept only for `diff`, and only for objects
                    // dry-run in their own namespace: a large sync holds verdicts, not objects.
                    if !settings.keep_dry_run || w.task.hook || in_stand_in {
                        checked.stored = Value::Null;
                    }
                }
                (i, &*w, in_stand_in, result)
            })
        });
    let results: Vec<(usize, &Work, bool, Result<Checked, ClusterError>)> =
        crate::engine::concurrently(settings.concurrency, checks).await;
    let mut problems = Vec::new();
    let mut access = false;
    // What the server would store, for `diff`.
    let mut stored = HashMap::new();
    for (i, w, in_stand_in, result) in results {
        if let Ok(checked) = &result
            && !checked.dropped.is_empty()
        {
            warnings.push(options::dropped_warning(w, &checked.dropped));
        }
        match result {
            Err(e) => {
                access |= e.is_access_error();
                let mut problem = format!("{}/{} ({}): {e}", w.task.kind, w.name, w.source);
                if in_stand_in {
                    problem.push_str(&format!(
                    " [dry-run in namespace \"{}\", standing in for \"{}\", which this sync creates]",
                    stand_in.as_deref().unwrap_or_default(),
                    w.namespace.as_deref().unwrap_or_default()
                ));
                }
                problems.push(problem);
            }
            Ok(checked) => {
                if let Some(took) = &checked.took_over {
                    notes.push(format!(
                        "{}/{}: applying it {} (forced; --no-force-conflicts refuses instead)",
                        w.task.kind,
                        w.name,
                        took.replacen("took", "takes", 1)
                    ));
                }
                if !checked.stored.is_null() {
                    stored.insert(i, checked.stored);
                }
            }
        }
    }
    for (ns, count) in stood_in {
        notes.push(format!(
            "{count} object(s) in namespace \"{ns}\", which this sync creates, were dry-run in namespace \"{}\" for schema and validation errors",
            stand_in.as_deref().unwrap_or_default()
        ));
    }
    for (ns, count) in skipped_for_namespace {
        notes.push(format!(
            "{count} object(s) in namespace \"{ns}\" were not dry-run: the namespace does not exist yet and no existing namespace could stand in for it"
        ));
    }
    if !skipped_for_option.is_empty() {
        notes.push(format!(
            "{} object(s) were not dry-run: the cluster does not serve their kind yet, and they carry SkipDryRunOnMissingResource=true (applied in their wave once it does, within --timeout): {}",
            skipped_for_option.len(),
            skipped_for_option.join(", ")
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

/// A server answer about the object itself, the same in any namespace: its schema or its
/// validation (400, 422, and the 500 "failed to create typed patch object" server-side apply
/// gives for a wrong type). Not: what the stand-in namespace decides (403 permissions or
/// quota, 404, 409 an object already there), nor a lost connection.
fn is_about_the_object(e: &ClusterError) -> bool {
    e.status_code()
        .is_some_and(|code| !matches!(code, 401 | 403 | 404 | 409))
}

/// An existing namespace to dry-run in, for objects whose namespace this sync creates: the
/// `-n` or context namespace, else `default`, if it exists.
async fn stand_in_namespace(
    cluster: &Cluster,
    not_yet: &BTreeSet<String>,
) -> Result<Option<String>, PrepareError> {
    let Some(kind) = cluster.resolve("v1", "Namespace").await? else {
        return Ok(None);
    };
    for candidate in [cluster.namespace(), "default"] {
        if not_yet.contains(candidate) {
            continue;
        }
        match cluster.get(&kind, "", candidate).await {
            Ok(Some(_)) => return Ok(Some(candidate.to_owned())),
            Ok(None) => {}
            // Not allowed to read namespaces: the dry run there shows whether it exists.
            Err(e) if e.status_code() == Some(403) => return Ok(Some(candidate.to_owned())),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(None)
}
