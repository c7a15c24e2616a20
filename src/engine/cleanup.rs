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
use super::{Cancel, Event};
use crate::cluster::{Cluster, ClusterError, ResolvedKind};
use crate::health::{self, HealthMode, HookOutcome};
use crate::model::{self, DeletePolicy, Phase, keys};
use futures::StreamExt;
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
        futures::stream::iter(requests).buffered(8).collect().await;
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
    let group = w.api_version.rsplit_once('/').map_or("", |(g, _)| g);
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
/// and Helm), its state from its health (§6.9), the decision from the policy engine.
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
pub async fn check(cluster: &Cluster, found: &mut [Found]) -> Result<(), Refusal> {
    let chosen: Vec<usize> = (0..found.len())
        .filter(|&i| found[i].decision.deletes())
        .collect();
    let targets: Vec<Target> = chosen.iter().map(|&i| found[i].target()).collect();
    let labels: Vec<String> = chosen
        .iter()
        .map(|&i| format!("{}/{}", found[i].kind.kind, found[i].name))
        .collect();
    let exists = remove::check_deletable(cluster, &targets, &labels, 16).await?;
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
    let results: Vec<(usize, Option<Result<Gone, String>>)> = futures::stream::iter(deletions)
        .buffer_unordered(16)
        .collect()
        .await;
    for (i, result) in results {
        found[i].result = result;
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
mod tests {
    use super::*;
    use serde_json::json;

    fn job_kind() -> ResolvedKind {
        ResolvedKind {
            group: "batch".into(),
            version: "v1".into(),
            api_version: "batch/v1".into(),
            kind: "Job".into(),
            plural: "jobs".into(),
            namespaced: true,
            verbs: vec!["list".into(), "delete".into()],
        }
    }

    fn job(condition: Option<&str>, annotations: Value) -> Value {
        let conditions = match condition {
            Some(c) => json!([{"type": c, "status": "True", "message": c}]),
            None => json!([]),
        };
        json!({
            "apiVersion": "batch/v1", "kind": "Job",
            "metadata": {"name": "migrate", "namespace": "ns", "annotations": annotations,
                         "labels": {"kubectl-hooks.io/hook": "true", "kubectl-hooks.io/phase": "presync"}},
            "spec": {}, "status": {"conditions": conditions}
        })
    }

    #[test]
    fn each_policy_and_state() {
        let kind = job_kind();
        let argo = |p: &str| json!({"argocd.argoproj.io/hook-delete-policy": p});
        let cases = [
            (Some("Complete"), argo("HookSucceeded"), true),
            (Some("Failed"), argo("HookSucceeded"), false),
            (Some("Failed"), argo("HookFailed"), true),
            (Some("Complete"), argo("HookFailed"), false),
            (Some("Complete"), argo("BeforeHookCreation"), false),
            (Some("Complete"), json!({}), false),
            (None, argo("HookSucceeded"), false),
            // Helm's policies count as Argo's do.
            (
                Some("Complete"),
                json!({"helm.sh/hook-delete-policy": "hook-succeeded"}),
                true,
            ),
        ];
        for (condition, annotations, deletes) in cases {
            let found = judge(&kind, &job(condition, annotations.clone()), false, false);
            assert_eq!(
                found.decision.deletes(),
                deletes,
                "{condition:?} {annotations}: {:?}",
                found.decision
            );
        }
        let kept = judge(&kind, &job(Some("Complete"), json!({})), false, false);
        assert_eq!(
            kept.decision.reason(),
            "BeforeHookCreation: replaced at the next sync"
        );
        assert_eq!(kept.phase, "presync");
        assert_eq!(kept.reference().phase, Phase::PreSync);
    }

    #[test]
    fn all_and_force() {
        let kind = job_kind();
        let done = job(Some("Complete"), json!({}));
        let running = job(None, json!({}));
        assert!(judge(&kind, &done, true, false).decision.deletes());
        assert!(!judge(&kind, &running, true, false).decision.deletes());
        assert!(judge(&kind, &running, true, true).decision.deletes());
        let mut leaving = done.clone();
        leaving["metadata"]["deletionTimestamp"] = json!("2025-01-01T00:00:00Z");
        assert_eq!(
            judge(&kind, &leaving, true, true).decision,
            Decision::Keep("already being deleted".into())
        );
    }

    #[test]
    fn input_hooks_match_by_name_or_generate_name() {
        let kind = job_kind();
        let query = |ns: Option<&str>| Query {
            namespace: ns.map(str::to_owned),
            only: None,
            all: false,
            force: false,
            app: None,
        };
        let wanted = |name: Option<&str>, prefix: Option<&str>| Wanted {
            api_version: "batch/v1".into(),
            kind: "Job".into(),
            namespace: None,
            name: name.map(str::to_owned),
            generate_name: prefix.map(str::to_owned),
        };
        let mut live = job(None, json!({"kubectl-hooks.io/generate-name": "check-"}));
        assert!(matches(
            &wanted(Some("migrate"), None),
            &kind,
            &live,
            &query(Some("ns"))
        ));
        assert!(!matches(
            &wanted(Some("other"), None),
            &kind,
            &live,
            &query(Some("ns"))
        ));
        assert!(!matches(
            &wanted(Some("migrate"), None),
            &kind,
            &live,
            &query(Some("elsewhere"))
        ));
        assert!(matches(
            &wanted(Some("migrate"), None),
            &kind,
            &live,
            &query(None)
        ));
        live["metadata"]["name"] = json!("check-abc-presync-1");
        assert!(matches(
            &wanted(None, Some("check-")),
            &kind,
            &live,
            &query(Some("ns"))
        ));
        let mut pod = wanted(Some("check-abc-presync-1"), None);
        pod.api_version = "v1".into();
        assert!(!matches(&pod, &kind, &live, &query(Some("ns"))));
    }
}
