//! Reading and writing an app's inventory in the cluster: the ApplySet parent Secret, its
//! members (one labelled list per recorded group-kind and namespace), and the objects of the
//! input that another ApplySet already owns.

use super::Work;
use super::inventory::{self, App, LABEL_PART_OF, LastSync, MemberKey, Recorded};
use crate::cluster::{ApplyOptions, Cluster, ClusterError, ResolvedKind};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};

type Listed = Result<Vec<Value>, ClusterError>;

/// A live member of the app.
#[derive(Debug, Clone)]
pub struct Member {
    pub kind: ResolvedKind,
    pub key: MemberKey,
    pub live: Value,
}

async fn secret_kind(cluster: &Cluster) -> Result<ResolvedKind, ClusterError> {
    cluster
        .resolve("v1", "Secret")
        .await?
        .ok_or_else(|| ClusterError::Other {
            what: "discovery of v1".into(),
            message: "the cluster serves no v1 Secret".into(),
        })
}

/// The parent as it is now, or `None` before the app's first sync.
pub async fn read_parent(cluster: &Cluster, app: &App) -> Result<Option<Recorded>, ClusterError> {
    let kind = secret_kind(cluster).await?;
    Ok(cluster
        .get(&kind, &app.namespace, &app.object_name())
        .await?
        .map(|live| Recorded::of(&live, &app.namespace)))
}

/// Writes the parent (server-side apply, taking its fields over).
pub async fn write_parent(
    cluster: &Cluster,
    app: &App,
    group_kinds: &BTreeSet<String>,
    namespaces: &BTreeSet<String>,
    last: &LastSync,
) -> Result<(), ClusterError> {
    let kind = secret_kind(cluster).await?;
    let parent = inventory::parent(app, group_kinds, namespaces, last);
    cluster
        .apply(
            &kind,
            &parent,
            ApplyOptions {
                force: true,
                dry_run: false,
                ignore_unknown_fields: false,
            },
        )
        .await
        .map(|_| ())
}

/// Deletes the parent (when the app is taken down).
pub async fn delete_parent(cluster: &Cluster, app: &App) -> Result<(), ClusterError> {
    let kind = secret_kind(cluster).await?;
    cluster
        .delete(
            &kind,
            &app.namespace,
            &app.object_name(),
            crate::cluster::Propagation::Background,
        )
        .await
        .map(|_| ())
}

/// Every live member: for each group-kind the parent records, one list with the app's
/// `part-of` label per recorded namespace (one cluster-wide list for cluster-scoped kinds).
pub async fn list(
    cluster: &Cluster,
    app: &App,
    recorded: &Recorded,
    concurrency: usize,
) -> Result<Vec<Member>, ClusterError> {
    let wanted: Vec<(String, String)> = recorded
        .group_kinds
        .iter()
        .map(|gk| inventory::split_group_kind(gk))
        .collect();
    let kinds = cluster.resolve_group_kinds(&wanted).await?;
    let selector = format!("{LABEL_PART_OF}={}", app.applyset_id());
    let mut lists = Vec::new();
    for kind in kinds.values() {
        if kind.namespaced {
            for ns in &recorded.namespaces {
                lists.push((kind, Some(ns.as_str())));
            }
        } else {
            lists.push((kind, None));
        }
    }
    let requests = lists.into_iter().map(|(kind, ns)| {
        let selector = selector.as_str();
        async move { (kind, cluster.list(kind, ns, Some(selector)).await) }
    });
    let results: Vec<(&ResolvedKind, Result<Vec<Value>, ClusterError>)> =
        super::concurrently(concurrency, requests).await;
    let mut members = Vec::new();
    for (kind, result) in results {
        for live in result? {
            members.push(Member {
                key: inventory::key_of(&live, &kind.group, &kind.kind),
                kind: kind.clone(),
                live,
            });
        }
    }
    members.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(members)
}

/// Objects of the input that are members of another ApplySet, with the owner as the object
/// names it (its `kubectl-hooks.io/app` annotation, else the ApplySet id). One list per kind
/// and namespace of the input, selecting only objects labelled for another ApplySet.
pub async fn owned_by_others(
    cluster: &Cluster,
    app: &App,
    works: &[Work],
    concurrency: usize,
) -> Result<Vec<(usize, String)>, ClusterError> {
    let id = app.applyset_id();
    let mut scopes: BTreeMap<(String, String, String), (ResolvedKind, Vec<usize>)> =
        BTreeMap::new();
    for (i, w) in works.iter().enumerate() {
        let (false, Some(kind)) = (w.task.hook, &w.kind) else {
            continue;
        };
        let ns = w.namespace.clone().unwrap_or_default();
        scopes
            .entry((kind.group.clone(), kind.kind.clone(), ns))
            .or_insert_with(|| (kind.clone(), Vec::new()))
            .1
            .push(i);
    }
    let selector = format!("{LABEL_PART_OF},{LABEL_PART_OF}!={id}");
    let requests = scopes.iter().map(|((_, _, ns), (kind, indices))| {
        let selector = selector.as_str();
        let ns = (!ns.is_empty()).then_some(ns.as_str());
        async move { (indices, cluster.list(kind, ns, Some(selector)).await) }
    });
    let results: Vec<(&Vec<usize>, Listed)> = super::concurrently(concurrency, requests).await;
    let mut out = Vec::new();
    for (indices, result) in results {
        let owners: HashMap<String, String> = result?
            .iter()
            .map(|live| {
                let name = live["metadata"]["name"].as_str().unwrap_or("").to_owned();
                let owner = live["metadata"]["annotations"][inventory::ANNOTATION_APP]
                    .as_str()
                    .map(|a| format!("app {a}"))
                    .unwrap_or_else(|| {
                        format!(
                            "ApplySet {}",
                            live["metadata"]["labels"][LABEL_PART_OF]
                                .as_str()
                                .unwrap_or("?")
                        )
                    });
                (name, owner)
            })
            .collect();
        for &i in indices {
            if let Some(owner) = owners.get(&works[i].name) {
                out.push((i, owner.clone()));
            }
        }
    }
    out.sort();
    Ok(out)
}
