//! The requests an app's inventory and lock need beyond apply/get/list/delete: a merge patch
//! that fails when the object changed since it was read (optimistic concurrency, as
//! client-go's leader election renews a Lease), and the kind a recorded group-kind is served
//! as (an ApplySet parent names group-kinds, not versions).

use kube::api::{Patch, PatchParams};
use serde_json::Value;
use std::collections::HashMap;

use super::ops::{FIELD_MANAGER, describe};
use super::retry::Resend;
use super::{Cluster, ClusterError, ResolvedKind};

impl Cluster {
    /// A JSON merge patch of one object. When `patch` carries `metadata.resourceVersion`, the
    /// server refuses it with 409 Conflict if the object changed since that version.
    pub async fn merge_patch(
        &self,
        kind: &ResolvedKind,
        namespace: &str,
        name: &str,
        patch: &Value,
    ) -> Result<Value, ClusterError> {
        let api = self.api(kind, namespace);
        let params = PatchParams {
            field_manager: Some(FIELD_MANAGER.to_string()),
            ..PatchParams::default()
        };
        let what = || describe("patch", kind, namespace, name);
        let patch = Patch::Merge(patch);
        let patched = self
            .call(&what, Resend::IfNotReceived, || {
                api.patch(name, &params, &patch)
            })
            .await?;
        serde_json::to_value(patched).map_err(|e| ClusterError::Other {
            what: what(),
            message: format!("cannot encode the server's answer: {e}"),
        })
    }

    /// The kinds of `group_kinds` (group, kind) as the server serves them, in each group's
    /// preferred version: one request for the list of groups, then discovery of the versions
    /// needed. A group-kind the server no longer serves is left out.
    pub async fn resolve_group_kinds(
        &self,
        group_kinds: &[(String, String)],
    ) -> Result<HashMap<(String, String), ResolvedKind>, ClusterError> {
        let mut preferred: HashMap<String, String> = HashMap::new();
        preferred.insert(String::new(), "v1".into());
        if group_kinds.iter().any(|(g, _)| !g.is_empty()) {
            let client = self.client();
            let groups = self
                .call(
                    || "list API groups".into(),
                    Resend::Idempotent,
                    || client.list_api_groups(),
                )
                .await?;
            for g in groups.groups {
                let version = g
                    .preferred_version
                    .map(|v| v.group_version)
                    .or_else(|| g.versions.first().map(|v| v.group_version.clone()));
                if let Some(version) = version {
                    preferred.insert(g.name, version);
                }
            }
        }
        let mut out = HashMap::new();
        for (group, kind) in group_kinds {
            let Some(api_version) = preferred.get(group) else {
                continue;
            };
            if let Some(resolved) = self.resolve(api_version, kind).await? {
                out.insert((group.clone(), kind.clone()), resolved);
            }
        }
        Ok(out)
    }
}
