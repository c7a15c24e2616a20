//! `cleanup`: finds the hook objects that syncs (and deletes) left behind, by the
//! `kubectl-hooks.io/hook=true` label every hook object carries, and removes those that their
//! own delete policies (read from the live object) say should go, judged by each hook's own
//! state: the operation that created it is over and its outcome is no longer known
//! (`policy::for_cleanup`). Objects without the label are never listed, so never touched.

use super::TaskRef;
use super::naming::{
    ANNOTATION_APP_NAMESPACE, ANNOTATION_GENERATE_NAME, LABEL_APP, LABEL_HOOK, LABEL_PHASE,
    LABEL_SYNC,
};
use super::policy::{self, Decision, HookState};
use super::remove::{self, Gone, Refusal, Target};
use super::{Cancel, Ending, Event, Summary};
use crate::cluster::{Cluster, ClusterError, ResolvedKind};
use crate::health::{self, HealthMode, HookOutcome};
use crate::model::{self, DeletePolicy, Phase, keys};
use serde_json::Value;
use std::time::Duration;
use tokio::time::Instant;

/// The kinds listed when no input says which: what hooks are made of in practice. Argo CD's
/// and Helm's documentation show hooks as Jobs, bare Pods and Argo Workflows; charts also make
/// the Job's helpers hooks (a ServiceAccount with its Role and RoleBinding, a ConfigMap or
/// Secret it reads), so they exist before the Job and go with it. Kinds the cluster does not
/// serve (Workflow without Argo Workflows) are skipped. Cluster-scoped kinds are not listed:
/// cleanup works in namespaces; `-f` finds hooks of any kind.
pub const DEFAULT_KINDS: &[(&str, &str)] = &[
    ("batch/v1", "Job"),
    ("v1", "Pod"),
    ("argoproj.io/v1alpha1", "Workflow"),
    ("v1", "ServiceAccount"),
    ("v1", "ConfigMap"),
    ("v1", "Secret"),
    ("rbac.authorization.k8s.io/v1", "Role"),
    ("rbac.authorization.k8s.io/v1", "RoleBinding"),
];

/// Which hooks to look at.
#[derive(Debug, Clone)]
pub struct Query {
    /// The namespace to look in; `None`: every namespace (`-A`).
    pub namespace: Option<String>,
    /// `-f`: only the hooks of this input.
    pub only: Option<Vec<Wanted>>,
    /// Delete every finished hook, whatever its policy.
    pub all: bool,
    /// With `all`: running hooks too.
    pub force: bool,
    /// Requests in flight at once (lists, dry-run deletes, deletions).
    pub concurrency: usize,
    /// `--app`: only this app's hooks (label `kubectl-hooks.io/app`).
    pub app: Option<String>,
}

/// A hook of the input, and how its live objects are named.
#[derive(Debug, Clone)]
pub struct Wanted {
    pub api_version: String,
    pub kind: String,
    /// Its own namespace, if it names one.
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub generate_name: Option<String>,
}

/// A hook object found in the cluster, and what cleanup does with it.
#[derive(Debug, Clone)]
pub struct Found {
    pub kind: ResolvedKind,
    pub namespace: Option<String>,
    pub name: String,
    /// The phase the hook ran in (from its label).
    pub phase: String,
    pub app: String,
    /// The app's namespace, where its lock lives (hooks made before it was recorded: none).
    pub app_namespace: Option<String>,
    pub sync_id: String,
    pub state: HookState,
    /// What its health says.
    pub message: String,
    pub policies: Vec<DeletePolicy>,
    pub decision: Decision,
    /// How its deletion went, once tried.
    pub result: Option<Result<Gone, String>>,
}

impl Found {
    pub fn target(&self) -> Target<'_> {
        Target {
            kind: &self.kind,
            namespace: self.namespace.as_deref().unwrap_or(""),
            name: &self.name,
        }
    }

    pub fn reference(&self) -> TaskRef {
        TaskRef {
            phase: phase_of_label(&self.phase).unwrap_or(Phase::Sync),
            wave: 0,
            kind: self.kind.kind.clone(),
            namespace: self.namespace.clone(),
            name: self.name.clone(),
            hook: true,
        }
    }
}

/// `presync` -> PreSync.
pub fn phase_of_label(label: &str) -> Option<Phase> {
    [
        Phase::PreSync,
        Phase::Sync,
        Phase::PostSync,
        Phase::SyncFail,
        Phase::PreDelete,
        Phase::PostDelete,
    ]
    .into_iter()
    .find(|p| p.as_str().eq_ignore_ascii_case(label))
}

/// Lists the hook objects the query covers and judges each. Without an input, kinds the
/// user may not list are skipped, each with a warning (the second value), unless every list
/// is refused.
pub async fn find(
    cluster: &Cluster,
    query: &Query,
) -> Result<(Vec<Found>, Vec<String>), ClusterError> {
    let lists = lists(cluster, query).await?;
    let selector = match &query.app {
        Some(app) => format!("{LABEL_HOOK}=true,{LABEL_APP}={app}"),
        None => format!("{LABEL_HOOK}=true"),
    };
    let requests = lists.iter().map(|(kind, namespace)| {
        let selector = selector.as_str();
        async move {
            let items = cluster
                .list(kind, namespace.as_deref(), Some(selector))
                .await;
            items.map(|items| (kind, items))
        }
    });
    let listed: Vec<Result<(&ResolvedKind, Vec<Value>), ClusterError>> =
        crate::engine::concurrently(query.concurrency, requests).await;
    let mut found = Vec::new();
    let mut skipped = Vec::new();
    let mut refused = None;
    let lists_made = listed.len();
    for result in listed {
        let (kind, items) = match result {
            Ok(listed) => listed,
            Err(e) if query.only.is_none() && e.status_code() == Some(403) => {
                skipped.push(format!("skipped: {e}"));
                refused = Some(e);
                continue;
            }
            Err(e) => return Err(e),
        };
        for live in items {
            if query
                .only
                .as_ref()
                .is_some_and(|only| !only.iter().any(|w| matches(w, kind, &live, query)))
            {
                continue;
            }
            found.push(judge(kind, &live, query.all, query.force));
        }
    }
    found.sort_by(|a, b| {
        (&a.namespace, &a.kind.kind, &a.name).cmp(&(&b.namespace, &b.kind.kind, &b.name))
    });
    found.dedup_by(|a, b| a.kind == b.kind && a.namespace == b.namespace && a.name == b.name);
    match refused {
        Some(e) if skipped.len() == lists_made => Err(e),
        _ => Ok((found, skipped)),
    }
}

/// The (kind, namespace) pairs to list: the input's hook kinds, or [`DEFAULT_KINDS`].
async fn lists(
    cluster: &Cluster,
    query: &Query,
) -> Result<Vec<(ResolvedKind, Option<String>)>, ClusterError> {
    let wanted: Vec<(&str, &str, Option<&str>)> = match &query.only {
        Some(only) => only
            .iter()
            .map(|w| {
                (
                    w.api_version.as_str(),
                    w.kind.as_str(),
                    w.namespace.as_deref(),
                )
            })
            .collect(),
        None => DEFAULT_KINDS.iter().map(|(v, k)| (*v, *k, None)).collect(),
    };
    cluster.prefetch(wanted.iter().map(|(v, _, _)| *v)).await?;
    let mut out: Vec<(ResolvedKind, Option<String>)> = Vec::new();
    for (api_version, kind, own_namespace) in wanted {
        // A kind the cluster does not serve has no objects to clean up.
        let Some(kind) = cluster.resolve(api_version, kind).await? else {
            continue;
        };
        if !kind.supports("list") || !kind.supports("delete") {
            continue;
        }
        let namespace = match &query.namespace {
            Some(default) if kind.namespaced => Some(own_namespace.unwrap_or(default).to_owned()),
            _ => None,
        };
        if !out.iter().any(|(k, ns)| *k == kind && *ns == namespace) {
            out.push((kind, namespace));
        }
    }
    Ok(out)
}

/// Whether a live hook object is (a copy of) the input's hook `w`: same group and kind, same
/// namespace (unless every namespace is searched), and its name, or for a `generateName`
/// hook the prefix the sync recorded on it.
fn matches(w: &Wanted, kind: &ResolvedKind, live: &Value, query: &Query) -> bool {
    let group = crate::manifest::split_api_version(&w.api_version).0;
    if group != kind.group || w.kind != kind.kind {
        return false;
    }
    if let Some(default) = query.namespace.as_deref().filter(|_| kind.namespaced) {
        let expected = w.namespace.as_deref().unwrap_or(default);
        if str_at(live, "/metadata/namespace") != Some(expected) {
            return false;
        }
    }
    let name = str_at(live, "/metadata/name");
    let prefix = live
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(ANNOTATION_GENERATE_NAME))
        .and_then(Value::as_str);
    match (&w.name, &w.generate_name) {
        (Some(wanted), _) => name == Some(wanted.as_str()),
        (None, Some(wanted)) => prefix == Some(wanted.as_str()),
        (None, None) => false,
    }
}

/// What cleanup does with one live hook object: its policies from its own annotations (Argo
/// and Helm), its state from its health (`health::hook_outcome`), the decision from the policy engine.
pub fn judge(kind: &ResolvedKind, live: &Value, all: bool, force: bool) -> Found {
    let annotation = |key: &str| {
        live.pointer("/metadata/annotations")
            .and_then(|a| a.get(key))
            .and_then(Value::as_str)
    };
    let label = |key: &str| {
        live.pointer("/metadata/labels")
            .and_then(|l| l.get(key))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let policies = model::effective_policies(
        annotation(keys::HOOK_DELETE_POLICY),
        annotation(keys::HELM_DELETE_POLICY),
    );
    let (outcome, message) = health::hook_outcome(live, HealthMode::Argo);
    let state = match outcome {
        HookOutcome::Running => HookState::Running,
        HookOutcome::Succeeded => HookState::Succeeded,
        HookOutcome::Failed => HookState::Failed,
    };
    let decision = if live.pointer("/metadata/deletionTimestamp").is_some() {
        Decision::Keep("already being deleted".into())
    } else {
        policy::for_cleanup(&policies, state, all, force)
    };
    Found {
        kind: kind.clone(),
        namespace: str_at(live, "/metadata/namespace").map(str::to_owned),
        name: str_at(live, "/metadata/name")
            .unwrap_or_default()
            .to_owned(),
        phase: label(LABEL_PHASE),
        app: label(LABEL_APP),
        app_namespace: annotation(ANNOTATION_APP_NAMESPACE).map(str::to_owned),
        sync_id: label(LABEL_SYNC),
        state,
        message,
        policies,
        decision,
        result: None,
    }
}

/// A dry-run delete of every hook to delete: any refusal stops cleanup before it deletes
/// anything. Hooks found gone meanwhile are marked so.
pub async fn check(
    cluster: &Cluster,
    found: &mut [Found],
    concurrency: usize,
) -> Result<(), Refusal> {
    let chosen: Vec<usize> = (0..found.len())
        .filter(|&i| found[i].decision.deletes())
        .collect();
    let targets: Vec<Target> = chosen.iter().map(|&i| found[i].target()).collect();
    let labels: Vec<String> = chosen
        .iter()
        .map(|&i| format!("{}/{}", found[i].kind.kind, found[i].name))
        .collect();
    let exists = remove::check_deletable(cluster, &targets, &labels, concurrency).await?;
    for (&i, exists) in chosen.iter().zip(exists) {
        if !exists {
            found[i].result = Some(Ok(Gone::AlreadyGone));
        }
    }
    Ok(())
}

/// Deletes the chosen hooks (a Job with its pods) and waits until each is gone, within
/// `timeout`. Ctrl-C stops waiting; deletions not yet requested are not started.
pub async fn remove(
    cluster: &Cluster,
    found: &mut [Found],
    timeout: Duration,
    concurrency: usize,
    emit: &(dyn Fn(&Event) + Sync),
    cancel: &Cancel,
) {
    let deadline = Instant::now() + timeout;
    let chosen: Vec<usize> = (0..found.len())
        .filter(|&i| found[i].decision.deletes() && found[i].result.is_none())
        .collect();
    let deletions = chosen.iter().map(|&i| {
        let hook = &found[i];
        let mut cancel = cancel.clone();
        async move {
            if cancel.is_cancelled() {
                return (i, None);
            }
            emit(&Event::Deleting(hook.reference()));
            let limit = deadline.saturating_duration_since(Instant::now());
            let target = hook.target();
            let result = tokio::select! {
                result = target.delete(cluster, Some(limit)) => result,
                _ = cancel.cancelled() => Ok(Gone::Requested),
            };
            let result = result.map_err(|e| match e {
                ClusterError::WaitTimeout { .. } => format!(
                    "still there after --timeout {} (finalizers or dependents not done)",
                    super::wait::flag_duration(timeout)
                ),
                e => e.to_string(),
            });
            match &result {
                Ok(gone) => emit(&Event::Succeeded(hook.reference(), word(*gone).into())),
                Err(why) => emit(&Event::Failed(hook.reference(), why.clone())),
            }
            (i, Some(result))
        }
    });
    let results: Vec<(usize, Option<Result<Gone, String>>)> =
        crate::engine::concurrently(concurrency, deletions).await;
    for (i, result) in results {
        found[i].result = result;
    }
}

/// What a cleanup did, for the final table and `-o json`.
#[derive(Debug, Clone)]
pub struct Report {
    pub summary: Summary,
    pub deleted: usize,
    pub failed: usize,
    pub kept: usize,
}

/// The report of a cleanup that ran (or was interrupted): what was deleted, kept, or failed.
pub fn report(cluster: &Cluster, found: &[Found], interrupted: bool, duration: Duration) -> Report {
    let count = |pred: &dyn Fn(&Found) -> bool| found.iter().filter(|f| pred(f)).count();
    let deleted = count(&|f| matches!(f.result, Some(Ok(_))));
    let failed = count(&|f| matches!(f.result, Some(Err(_))));
    let kept = count(&|f| !f.decision.deletes());
    let (ending, message) = if interrupted {
        let not_started = count(&|f| f.decision.deletes() && f.result.is_none());
        (
            Ending::Interrupted,
            format!("interrupted: {deleted} deleted, {not_started} not started, {kept} kept"),
        )
    } else if failed > 0 {
        (
            Ending::Failed,
            format!(
                "{failed} hook object(s) could not be deleted ({deleted} deleted, {kept} kept)"
            ),
        )
    } else {
        (
            Ending::Succeeded,
            format!("{deleted} hook object(s) deleted, {kept} kept"),
        )
    };
    Report {
        summary: Summary::new(cluster, ending, message, duration),
        deleted,
        failed,
        kept,
    }
}

fn word(gone: Gone) -> &'static str {
    match gone {
        Gone::Deleted => "deleted",
        Gone::AlreadyGone => "already gone",
        Gone::Requested => "deletion requested (not waited for)",
    }
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer).and_then(Value::as_str)
}

#[cfg(test)]
mod tests;
