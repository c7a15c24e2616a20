//! Resolving (apiVersion, kind) to a resource: plural, scope, verbs.
//!
//! Only the group-versions the input needs are fetched, each once per run (one
//! `GET /api/v1` or `/apis/<group>/<version>`), concurrently, and cached. This is the
//! non-aggregated discovery every server since 1.0 serves. A group-version the server
//! does not serve (404) is cached as empty, so its kinds resolve to `None`; after a CRD
//! is applied, [`Cluster::invalidate`] or [`Cluster::wait_for_kind`] refresh it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::APIResourceList;
use kube::discovery::ApiResource;
use tokio::sync::OnceCell;

use super::retry::Resend;
use super::{Cluster, ClusterError};

/// A kind the server serves, as discovery describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedKind {
    /// `""` for the core group.
    pub group: String,
    pub version: String,
    /// `v1`, `apps/v1`, ...
    pub api_version: String,
    pub kind: String,
    /// The resource name in URLs: `configmaps`, `deployments`.
    pub plural: String,
    pub namespaced: bool,
    /// `create`, `get`, `list`, `watch`, `patch`, `delete`, ...
    pub verbs: Vec<String>,
}

impl ResolvedKind {
    /// Whether the server allows `verb` on this resource.
    pub fn supports(&self, verb: &str) -> bool {
        self.verbs.iter().any(|v| v == verb)
    }

    /// `configmaps`, `deployments.apps`: how kubectl and RBAC messages name it.
    pub fn resource_name(&self) -> String {
        if self.group.is_empty() {
            self.plural.clone()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    pub(crate) fn api_resource(&self) -> ApiResource {
        ApiResource {
            group: self.group.clone(),
            version: self.version.clone(),
            api_version: self.api_version.clone(),
            kind: self.kind.clone(),
            plural: self.plural.clone(),
        }
    }
}

/// Kinds of one group-version; empty when the server does not serve it.
type Kinds = Arc<Vec<ResolvedKind>>;

/// Per group-version cells: concurrent resolves of one group-version share one request.
#[derive(Default)]
pub(crate) struct Cache {
    cells: Mutex<HashMap<String, Arc<OnceCell<Kinds>>>>,
}

impl Cache {
    fn cell(&self, api_version: &str) -> Arc<OnceCell<Kinds>> {
        let mut cells = self.cells.lock().unwrap_or_else(|e| e.into_inner());
        cells.entry(api_version.to_string()).or_default().clone()
    }

    fn forget(&self, api_version: &str) {
        let mut cells = self.cells.lock().unwrap_or_else(|e| e.into_inner());
        cells.remove(api_version);
    }
}

impl Cluster {
    /// Resolve `apiVersion` + `kind`; `Ok(None)` when the server has no such kind (or
    /// the apiVersion is malformed).
    pub async fn resolve(
        &self,
        api_version: &str,
        kind: &str,
    ) -> Result<Option<ResolvedKind>, ClusterError> {
        let Some(api_version) = normalize_api_version(api_version) else {
            return Ok(None);
        };
        let kinds = self.group_version(&api_version).await?;
        Ok(kinds.iter().find(|k| k.kind == kind).cloned())
    }

    /// Fetch the given group-versions concurrently, so that later `resolve` calls are
    /// answered from the cache. Duplicates are fetched once.
    pub async fn prefetch<'a>(
        &self,
        api_versions: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), ClusterError> {
        let mut wanted: Vec<String> = api_versions
            .into_iter()
            .filter_map(normalize_api_version)
            .collect();
        wanted.sort();
        wanted.dedup();
        let fetches = wanted.iter().map(|gv| self.group_version(gv));
        futures::future::try_join_all(fetches).await?;
        Ok(())
    }

    /// Forget what discovery said about one group-version (`example.com/v1`), e.g.
    /// after applying the CRD that defines its kinds.
    pub fn invalidate(&self, api_version: &str) {
        if let Some(gv) = normalize_api_version(api_version) {
            self.inner.discovery.forget(&gv);
        }
    }

    /// Resolve a kind that may appear soon (a CRD was just applied and is not yet
    /// established): re-read discovery (a cached answer first, then fresh ones) until the kind is
    /// served or `timeout` passes, then `Ok(None)`.
    pub async fn wait_for_kind(
        &self,
        api_version: &str,
        kind: &str,
        timeout: Duration,
    ) -> Result<Option<ResolvedKind>, ClusterError> {
        let deadline = Instant::now() + timeout;
        if let Some(found) = self.resolve(api_version, kind).await? {
            return Ok(Some(found));
        }
        let mut pause = Duration::from_millis(100);
        loop {
            // Checked before each look: a client bounded by this same deadline cannot ask past
            // it, and "not served in time" is the answer then, not a request's timeout.
            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            tokio::time::sleep(pause.min(deadline - now)).await;
            pause = (pause * 2).min(Duration::from_secs(1));
            if Instant::now() >= deadline {
                return Ok(None);
            }
            self.invalidate(api_version);
            if let Some(found) = self.resolve(api_version, kind).await? {
                return Ok(Some(found));
            }
        }
    }

    async fn group_version(&self, api_version: &str) -> Result<Kinds, ClusterError> {
        let cell = self.inner.discovery.cell(api_version);
        let kinds = cell
            .get_or_try_init(|| self.fetch_group_version(api_version))
            .await?;
        Ok(kinds.clone())
    }

    async fn fetch_group_version(&self, api_version: &str) -> Result<Kinds, ClusterError> {
        let client = self.client();
        let what = || format!("discovery of {api_version}");
        let answer = if api_version.contains('/') {
            self.call(what, Resend::Idempotent, || {
                client.list_api_group_resources(api_version)
            })
            .await
        } else {
            self.call(what, Resend::Idempotent, || {
                client.list_core_api_resources(api_version)
            })
            .await
        };
        match answer {
            Ok(list) => Ok(Arc::new(kinds_of(&list, api_version))),
            Err(e) if e.is_not_found() => Ok(Arc::new(Vec::new())),
            Err(e) => Err(e),
        }
    }
}

/// `v1` and `group/version` are valid; anything else is not an apiVersion.
fn normalize_api_version(api_version: &str) -> Option<String> {
    let api_version = api_version.trim();
    let valid_part = |s: &str| !s.is_empty() && !s.contains(char::is_whitespace);
    match api_version.split_once('/') {
        None if valid_part(api_version) => Some(api_version.to_string()),
        Some((g, v)) if valid_part(g) && valid_part(v) && !v.contains('/') => {
            Some(api_version.to_string())
        }
        _ => None,
    }
}

/// The top-level resources of a list (subresources such as `pods/status` skipped).
fn kinds_of(list: &APIResourceList, api_version: &str) -> Vec<ResolvedKind> {
    let (group, version) = crate::manifest::split_api_version(api_version);
    list.resources
        .iter()
        .filter(|r| !r.name.contains('/'))
        .map(|r| ResolvedKind {
            group: group.to_string(),
            version: version.to_string(),
            api_version: api_version.to_string(),
            kind: r.kind.clone(),
            plural: r.name.clone(),
            namespaced: r.namespaced,
            verbs: r.verbs.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::APIResource;

    #[test]
    fn api_versions() {
        assert_eq!(normalize_api_version("v1").as_deref(), Some("v1"));
        assert_eq!(normalize_api_version("apps/v1").as_deref(), Some("apps/v1"));
        for bad in ["", "/", "apps/", "/v1", "a/b/c", "a b/v1"] {
            assert_eq!(normalize_api_version(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn subresources_are_not_kinds() {
        let resource = |name: &str, kind: &str, namespaced| APIResource {
            name: name.into(),
            kind: kind.into(),
            namespaced,
            verbs: vec!["get".into()],
            ..APIResource::default()
        };
        let list = APIResourceList {
            group_version: "batch/v1".into(),
            resources: vec![
                resource("jobs", "Job", true),
                resource("jobs/status", "Job", true),
            ],
        };
        let kinds = kinds_of(&list, "batch/v1");
        assert_eq!(kinds.len(), 1);
        assert_eq!(kinds[0].plural, "jobs");
        assert_eq!(kinds[0].group, "batch");
        assert_eq!(kinds[0].resource_name(), "jobs.batch");
        assert!(kinds[0].supports("get"));
        assert!(!kinds[0].supports("delete"));
    }
}
