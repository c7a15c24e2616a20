//! `sync --prune`: the app's members that left the input are deleted, as Argo CD prunes
//! (gitops-engine `sync_context.go`): a prune task takes its live object's wave, the prune
//! waves are mirrored (the first created goes last), `PruneLast` moves a prune after the last
//! Sync wave, `Prune=false` keeps the object ("ignored (no prune)"), and within a step prunes
//! run before the step's applies. Without `--prune`, every member that left the input is
//! reported as "ignored (requires pruning)". Only members (objects carrying the app's
//! `applyset.kubernetes.io/part-of` label, listed through its inventory) are ever candidates.

use super::inventory::{self, MemberKey, Recorded};
use super::members::{self, Member};
use super::remove::{self, Refusal, Target};
use super::sync::{Prepared, StepWork};
use super::{Event, TaskRef, TaskState};
use crate::cluster::{Cluster, ClusterError, Propagation, WatchEvent};
use crate::model::{Phase, SyncOption, SyncOptions, keys, wave};
use futures::StreamExt;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use tokio::time::Instant;

/// What a sync does with a member that left the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum PruneFate {
    /// Deleted in its (mirrored) wave.
    Prune,
    /// `Prune=false`: kept.
    NoPrune,
    /// The sync was run without `--prune`: kept.
    RequiresPruning,
}

/// A member that left the input.
#[derive(Debug, Clone)]
pub struct PruneWork {
    pub member: Member,
    /// The wave its prune runs in (mirrored, or after the last wave with PruneLast).
    pub wave: i64,
    /// `Prune=confirm`: pruned only with `--yes` or an answer at the prompt.
    pub confirm: bool,
    pub fate: PruneFate,
    pub state: TaskState,
    pub message: String,
}

impl PruneWork {
    pub fn reference(&self) -> TaskRef {
        let key = &self.member.key;
        TaskRef {
            phase: Phase::Sync,
            wave: self.wave,
            kind: key.kind.clone(),
            namespace: (!key.namespace.is_empty()).then(|| key.namespace.clone()),
            name: key.name.clone(),
            hook: false,
        }
    }

    /// The words Argo CD reports for it.
    pub fn result_word(&self) -> &'static str {
        match (self.fate, self.state) {
            (PruneFate::NoPrune, _) => "ignored (no prune)",
            (PruneFate::RequiresPruning, _) => "ignored (requires pruning)",
            (PruneFate::Prune, TaskState::Succeeded) => "pruned",
            (PruneFate::Prune, TaskState::Failed) => "prune failed",
            (PruneFate::Prune, _) => "to be pruned",
        }
    }
}

/// How a sync prunes.
#[derive(Debug, Clone, Copy)]
pub struct PruneOptions {
    /// `--prune`.
    pub enabled: bool,
    /// `--prune-last`: every prune after the last Sync wave.
    pub last: bool,
    /// `--force-adopt`: take over objects another app's inventory holds.
    pub force_adopt: bool,
    pub propagation: Propagation,
    pub concurrency: usize,
}

#[derive(Debug)]
pub enum InspectError {
    /// Objects of the input that other apps own (and `--force-adopt` was not given).
    OwnedByOthers(Vec<String>),
    /// The parent is managed by another tool.
    ForeignTooling {
        parent: String,
        tooling: String,
    },
    /// Prunes that the dry-run delete refused.
    Refused(Refusal),
    Cluster(ClusterError),
}

impl From<ClusterError> for InspectError {
    fn from(e: ClusterError) -> Self {
        InspectError::Cluster(e)
    }
}

/// Reads the app's inventory, refuses objects other apps own, finds the members that left
/// the input, schedules their prunes into the prepared steps, and dry-run deletes each prune.
/// Returns what the parent recorded before this sync (`None` on the first sync).
pub async fn inspect(
    cluster: &Cluster,
    prepared: &mut Prepared,
    options: &PruneOptions,
) -> Result<Option<Recorded>, InspectError> {
    let app = prepared.app.clone();
    let recorded = members::read_parent(cluster, &app).await?;
    if let Some(tooling) = recorded.as_ref().and_then(Recorded::foreign_tooling) {
        return Err(InspectError::ForeignTooling {
            parent: format!(
                "secret/{} in namespace \"{}\"",
                app.object_name(),
                app.namespace
            ),
            tooling: tooling.to_owned(),
        });
    }
    if !options.force_adopt {
        let others =
            members::owned_by_others(cluster, &app, &prepared.works, options.concurrency).await?;
        if !others.is_empty() {
            let problems = others
                .into_iter()
                .map(|(i, owner)| {
                    let w = &prepared.works[i];
                    format!(
                        "{}/{} ({}) belongs to {owner}; not taken over (pass --force-adopt to take it)",
                        w.task.kind, w.name, w.source
                    )
                })
                .collect();
            return Err(InspectError::OwnedByOthers(problems));
        }
    }
    let live = match &recorded {
        Some(r) => members::list(cluster, &app, r, options.concurrency).await?,
        None => Vec::new(),
    };
    let input = input_keys(prepared);
    let left: Vec<Member> = live
        .into_iter()
        .filter(|m| !input.contains(&m.key) && !is_hook(&m.live))
        .collect();
    prepared.prunes = candidates(left, options, &prepared.steps);
    // The app's own namespace holds its lock and inventory: pruning it would delete them
    // with everything else in it.
    for p in &mut prepared.prunes {
        let key = &p.member.key;
        let own = key.group.is_empty() && key.kind == "Namespace" && key.name == app.namespace;
        if own && p.fate == PruneFate::Prune {
            p.fate = PruneFate::NoPrune;
            p.message = "kept: the app's own namespace holds its lock and inventory".into();
        }
    }
    schedule(&mut prepared.steps, &prepared.prunes);

    let chosen: Vec<usize> = (0..prepared.prunes.len())
        .filter(|&i| prepared.prunes[i].fate == PruneFate::Prune)
        .collect();
    let targets: Vec<Target> = chosen
        .iter()
        .map(|&i| target(&prepared.prunes[i]))
        .collect();
    let labels: Vec<String> = chosen
        .iter()
        .map(|&i| format!("prune of {}", prepared.prunes[i].member.key))
        .collect();
    remove::check_deletable(cluster, &targets, &labels, options.concurrency)
        .await
        .map_err(InspectError::Refused)?;
    Ok(recorded)
}

fn target(p: &PruneWork) -> Target<'_> {
    Target {
        kind: &p.member.kind,
        namespace: &p.member.key.namespace,
        name: &p.member.key.name,
    }
}

/// The members the input names: every object it applies, and its `hook: Skip` objects
/// (never applied, never pruned).
fn input_keys(prepared: &Prepared) -> HashSet<MemberKey> {
    let applied = prepared
        .works
        .iter()
        .filter(|w| !w.task.hook)
        .map(|w| (&w.task.group, &w.task.kind, &w.namespace, &w.name));
    let skipped = prepared
        .plan
        .skipped
        .iter()
        .map(|t| (&t.group, &t.kind, &t.namespace, &t.name));
    applied
        .chain(skipped)
        .map(|(group, kind, namespace, name)| MemberKey {
            group: group.clone(),
            kind: kind.clone(),
            namespace: namespace.clone().unwrap_or_default(),
            name: name.clone(),
        })
        .collect()
}

fn annotation<'a>(live: &'a Value, key: &str) -> Option<&'a str> {
    live["metadata"]["annotations"][key].as_str()
}

/// Hooks are never pruned, and neither are `hook: Skip` objects.
fn is_hook(live: &Value) -> bool {
    annotation(live, keys::HOOK).is_some() || annotation(live, keys::HELM_HOOK).is_some()
}

/// The prune tasks of the members that left the input, with their fates and waves.
pub fn candidates(left: Vec<Member>, options: &PruneOptions, steps: &[StepWork]) -> Vec<PruneWork> {
    let mut prunes: Vec<PruneWork> = left
        .into_iter()
        .map(|member| {
            let live_options = SyncOptions::parse(annotation(&member.live, keys::SYNC_OPTIONS));
            let fate = if !options.enabled {
                PruneFate::RequiresPruning
            } else if live_options.has(SyncOption::PruneFalse) {
                PruneFate::NoPrune
            } else {
                PruneFate::Prune
            };
            PruneWork {
                wave: wave::effective(
                    annotation(&member.live, keys::SYNC_WAVE),
                    annotation(&member.live, keys::HELM_WEIGHT),
                ),
                confirm: live_options.has(SyncOption::PruneConfirm),
                fate,
                state: TaskState::Pending,
                message: String::new(),
                member,
            }
        })
        .collect();
    let live_waves: Vec<i64> = prunes.iter().map(|p| p.wave).collect();
    let mirrored = mirror_waves(&live_waves);
    for (p, w) in prunes.iter_mut().zip(mirrored) {
        p.wave = w;
    }
    let sync_waves = steps
        .iter()
        .filter(|s| s.phase == Phase::Sync && !s.tasks.is_empty())
        .map(|s| s.wave);
    let last_wave = sync_waves
        .chain(prunes.iter().map(|p| p.wave))
        .max()
        .unwrap_or(0)
        .max(0)
        + 1;
    for p in &mut prunes {
        let live_options = SyncOptions::parse(annotation(&p.member.live, keys::SYNC_OPTIONS));
        if options.last || live_options.has(SyncOption::PruneLast) {
            p.wave = last_wave;
        }
    }
    prunes
}

/// Argo CD's prune order: the distinct waves of the prune tasks, sorted, swapped
/// symmetrically (the smallest with the largest, and so on), so what was created first is
/// pruned last. `{1,3,4,5}` becomes 1→5, 3→4, 4→3, 5→1.
pub fn mirror_waves(waves: &[i64]) -> Vec<i64> {
    let distinct: Vec<i64> = waves
        .iter()
        .copied()
        .collect::<BTreeSet<i64>>()
        .into_iter()
        .collect();
    let n = distinct.len();
    let swap: BTreeMap<i64, i64> = distinct
        .iter()
        .enumerate()
        .map(|(i, &w)| (w, distinct[n - 1 - i]))
        .collect();
    waves.iter().map(|w| swap[w]).collect()
}

/// Puts each prune that will run into the Sync step of its wave, adding a step for a wave
/// that has none, in run order.
pub fn schedule(steps: &mut Vec<StepWork>, prunes: &[PruneWork]) {
    for (i, p) in prunes.iter().enumerate() {
        if p.fate != PruneFate::Prune {
            continue;
        }
        if let Some(step) = steps
            .iter_mut()
            .find(|s| s.phase == Phase::Sync && s.wave == p.wave)
        {
            step.prunes.push(i);
            continue;
        }
        let at = steps
            .iter()
            .position(|s| (s.phase, s.wave) > (Phase::Sync, p.wave))
            .unwrap_or(steps.len());
        steps.insert(
            at,
            StepWork {
                phase: Phase::Sync,
                wave: p.wave,
                tasks: Vec::new(),
                prunes: vec![i],
            },
        );
    }
}

/// The prunes of one step, and how they are deleted.
pub(crate) struct StepPrunes<'a> {
    pub prunes: &'a mut [PruneWork],
    pub indices: &'a [usize],
    /// The label selector of the app's members (`applyset.kubernetes.io/part-of=<id>`).
    pub members: String,
    pub propagation: Propagation,
    /// `--concurrency`: deletions (and watches) in flight at once.
    pub concurrency: usize,
}

/// A delete request's outcome: `None` when there was nothing to delete, else the uid of the
/// object that is going (when the server said).
type Requested = Result<Option<Option<String>>, ClusterError>;
/// Prunes of one kind and namespace being waited for: (index, uid).
type Pending = Vec<(usize, Option<String>)>;

/// Runs a step's prunes, all at once, and waits until each object is gone (with foreground
/// propagation: and what it owned), as Argo CD waits for pruned objects to disappear before
/// the next step: one watch per kind and namespace, on the app's `part-of` label (`selector`),
/// not one per object. An object already being deleted is not deleted again. Returns the
/// first failure.
pub(super) async fn run(
    cluster: &Cluster,
    step: StepPrunes<'_>,
    deadline: Instant,
    emit: &(dyn Fn(&Event) + Sync),
) -> Result<(), String> {
    let StepPrunes {
        prunes,
        indices,
        members: selector,
        propagation,
        concurrency,
    } = step;
    let selector = selector.as_str();
    let deletions = indices.iter().map(|&i| {
        let p = &prunes[i];
        emit(&Event::Deleting(p.reference()));
        async move {
            let t = target(p);
            if p.member.live["metadata"]["deletionTimestamp"].is_string() {
                let uid = p.member.live["metadata"]["uid"].as_str().map(str::to_owned);
                return (i, Ok(Some(uid)));
            }
            let result = cluster
                .delete(t.kind, t.namespace, t.name, propagation)
                .await
                .map(|deleted| match deleted {
                    crate::cluster::Deleted::Requested { uid } => Some(uid),
                    crate::cluster::Deleted::AlreadyGone => None,
                });
            (i, result)
        }
    });
    let requested: Vec<(usize, Requested)> = super::concurrently(concurrency, deletions).await;

    let mut results: Vec<(usize, Result<(), String>)> = Vec::new();
    let mut groups: BTreeMap<(String, String, String), Pending> = BTreeMap::new();
    for (i, result) in requested {
        match result {
            Ok(None) => results.push((i, Ok(()))),
            Ok(Some(uid)) => {
                let key = &prunes[i].member.key;
                groups
                    .entry((key.group.clone(), key.kind.clone(), key.namespace.clone()))
                    .or_default()
                    .push((i, uid));
            }
            Err(e) => results.push((i, Err(e.to_string()))),
        }
    }
    let prunes_ref = &*prunes;
    let waits = groups.into_values().map(|pending| async move {
        let first = &prunes_ref[pending[0].0].member;
        let names: HashMap<String, Option<String>> = pending
            .iter()
            .map(|(i, uid)| (prunes_ref[*i].member.key.name.clone(), uid.clone()))
            .collect();
        let outcome = wait_all_gone(cluster, first, names, selector, deadline).await;
        (pending, outcome)
    });
    let waited: Vec<(Pending, Result<(), ClusterError>)> =
        super::concurrently(concurrency, waits).await;
    for (pending, outcome) in waited {
        for (i, _) in pending {
            results.push((i, outcome.as_ref().map(|_| ()).map_err(|e| e.to_string())));
        }
    }

    let mut first_error = None;
    results.sort_by_key(|(i, _)| *i);
    for (i, result) in results {
        let p = &mut prunes[i];
        match result {
            Ok(()) => {
                p.state = TaskState::Succeeded;
                p.message = "pruned".into();
                emit(&Event::Succeeded(p.reference(), "pruned".into()));
            }
            Err(e) => {
                p.state = TaskState::Failed;
                p.message = format!("prune failed: {e}");
                emit(&Event::Failed(p.reference(), p.message.clone()));
                first_error.get_or_insert_with(|| format!("{}: {}", p.member.key, p.message));
            }
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// Waits until every named object (of `like`'s kind and namespace) is gone, or replaced by
/// one with another uid, watching the app's members of that kind and namespace.
async fn wait_all_gone(
    cluster: &Cluster,
    like: &Member,
    mut pending: HashMap<String, Option<String>>,
    selector: &str,
    deadline: Instant,
) -> Result<(), ClusterError> {
    let kind = &like.kind;
    let namespace = (!like.key.namespace.is_empty()).then_some(like.key.namespace.as_str());
    let mut events = cluster.watch_namespace(kind, namespace, Some(selector));
    // Names seen in the first listing: those not in it are gone already.
    let mut listing: Option<HashSet<String>> = Some(HashSet::new());
    let wait = async {
        while let Some(event) = events.next().await {
            match event {
                Ok(WatchEvent::Applied(obj)) => {
                    let name = obj["metadata"]["name"].as_str().unwrap_or_default();
                    let uid = obj["metadata"]["uid"].as_str();
                    if let Some(expected) = pending.get(name) {
                        if expected.is_some() && expected.as_deref() != uid {
                            pending.remove(name);
                        } else if let Some(seen) = &mut listing {
                            seen.insert(name.to_owned());
                        }
                    }
                }
                Ok(WatchEvent::Deleted(obj)) => {
                    pending.remove(obj["metadata"]["name"].as_str().unwrap_or_default());
                }
                Ok(WatchEvent::Synced) => {
                    if let Some(seen) = listing.take() {
                        pending.retain(|name, _| seen.contains(name));
                    }
                }
                Err(e) if e.is_access_error() => return Err(e),
                Err(_) => {} // the watcher retries with backoff
            }
            if listing.is_none() && pending.is_empty() {
                return Ok(());
            }
        }
        Ok(())
    };
    let limit = deadline.saturating_duration_since(Instant::now());
    let outcome = tokio::time::timeout(limit, wait).await;
    match outcome {
        Ok(result) => result,
        Err(_) => Err(ClusterError::WaitTimeout {
            what: format!(
                "deletion of pruned {} ({})",
                kind.resource_name(),
                pending.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
            after: limit,
        }),
    }
}

/// The group-kinds and namespaces the parent must record: the input's, the members kept
/// (not pruned), and, while a sync is under way or after it failed, everything recorded
/// before (so an interrupted sync never loses track of a member).
pub fn recorded_sets(
    prepared: &Prepared,
    before: Option<&Recorded>,
) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut kinds = BTreeSet::new();
    let mut namespaces = BTreeSet::new();
    for w in prepared.works.iter().filter(|w| !w.task.hook) {
        kinds.insert(inventory::group_kind(&w.task.group, &w.task.kind));
        if let Some(ns) = &w.namespace {
            namespaces.insert(ns.clone());
        }
    }
    for p in prepared
        .prunes
        .iter()
        .filter(|p| p.state != TaskState::Succeeded)
    {
        let key = &p.member.key;
        kinds.insert(inventory::group_kind(&key.group, &key.kind));
        if !key.namespace.is_empty() {
            namespaces.insert(key.namespace.clone());
        }
    }
    if let Some(before) = before {
        kinds.extend(before.group_kinds.iter().cloned());
        namespaces.extend(before.namespaces.iter().cloned());
    }
    namespaces.insert(prepared.app.namespace.clone());
    (kinds, namespaces)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prune_waves_are_mirrored_as_argo_cd_does() {
        assert_eq!(mirror_waves(&[1, 3, 4, 5]), vec![5, 4, 3, 1]);
        assert_eq!(mirror_waves(&[5, 1, 1, 3]), vec![1, 5, 5, 3]);
        assert_eq!(mirror_waves(&[2, 2]), vec![2, 2]);
        assert_eq!(mirror_waves(&[-1, 0, 7]), vec![7, 0, -1]);
        assert!(mirror_waves(&[]).is_empty());
    }

    /// A live ConfigMap member of the app, `annotations` as (key, value) pairs.
    fn member(name: &str, annotations: &[(&str, &str)]) -> Member {
        let annotations: serde_json::Map<String, Value> = annotations
            .iter()
            .map(|(k, v)| (k.to_string(), Value::from(*v)))
            .collect();
        let live = serde_json::json!({"metadata": {"name": name, "namespace": "ns", "annotations": annotations}});
        Member {
            kind: crate::cluster::ResolvedKind {
                group: String::new(),
                version: "v1".into(),
                api_version: "v1".into(),
                kind: "ConfigMap".into(),
                plural: "configmaps".into(),
                namespaced: true,
                verbs: vec![],
            },
            key: inventory::key_of(&live, "", "ConfigMap"),
            live,
        }
    }

    fn options(enabled: bool, last: bool) -> PruneOptions {
        PruneOptions {
            enabled,
            last,
            force_adopt: false,
            propagation: Propagation::Foreground,
            concurrency: 1,
        }
    }

    fn step(phase: Phase, wave: i64) -> StepWork {
        StepWork {
            phase,
            wave,
            tasks: vec![0],
            prunes: vec![],
        }
    }

    #[test]
    fn fates_and_waves_follow_the_live_objects() {
        let left = vec![
            member("a", &[("argocd.argoproj.io/sync-wave", "1")]),
            member("b", &[("argocd.argoproj.io/sync-wave", "3")]),
            member(
                "keep",
                &[("argocd.argoproj.io/sync-options", "Prune=false")],
            ),
            member(
                "late",
                &[("argocd.argoproj.io/sync-options", "PruneLast=true")],
            ),
        ];
        let steps = vec![
            step(Phase::PreSync, 0),
            step(Phase::Sync, 2),
            step(Phase::PostSync, 0),
        ];
        let prunes = candidates(left.clone(), &options(true, false), &steps);
        let fates: Vec<(&str, PruneFate, i64)> = prunes
            .iter()
            .map(|p| (p.member.key.name.as_str(), p.fate, p.wave))
            .collect();
        // Live waves {0,1,3}: 1→1, 3→0, 0→3; PruneLast goes after the last wave (3) + 1.
        assert_eq!(
            fates,
            vec![
                ("a", PruneFate::Prune, 1),
                ("b", PruneFate::Prune, 0),
                ("keep", PruneFate::NoPrune, 3),
                ("late", PruneFate::Prune, 4),
            ]
        );
        assert_eq!(prunes[2].result_word(), "ignored (no prune)");

        let off = candidates(left, &options(false, false), &steps);
        assert!(
            off.iter()
                .all(|p| p.result_word() == "ignored (requires pruning)")
        );
    }

    #[test]
    fn prunes_join_their_wave_or_get_a_step_of_their_own() {
        let left = vec![
            member("a", &[("argocd.argoproj.io/sync-wave", "2")]),
            member("b", &[]),
        ];
        let mut steps = vec![
            step(Phase::PreSync, 0),
            step(Phase::Sync, 2),
            step(Phase::PostSync, 0),
        ];
        let prunes = candidates(left, &options(true, true), &steps);
        assert!(prunes.iter().all(|p| p.wave == 3), "PruneLast for all");
        schedule(&mut steps, &prunes);
        let order: Vec<(Phase, i64, usize)> = steps
            .iter()
            .map(|s| (s.phase, s.wave, s.prunes.len()))
            .collect();
        assert_eq!(
            order,
            vec![
                (Phase::PreSync, 0, 0),
                (Phase::Sync, 2, 0),
                (Phase::Sync, 3, 2),
                (Phase::PostSync, 0, 0)
            ]
        );
    }
}
