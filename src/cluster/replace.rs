//! Writes other than server-side apply that Argo CD's sync options ask for: a full replace
//! (`PUT`, as `kubectl replace`), and rewriting an object's `metadata.managedFields` (the
//! client-side-apply to server-side-apply upgrade kubectl does).

use kube::api::{DynamicObject, Patch, PatchParams, PostParams};
use serde_json::{Value, json};

use super::ops::{FIELD_MANAGER, describe, dry_run_or};
use super::retry::Resend;
use super::{Cluster, ClusterError, ResolvedKind};

impl Cluster {
    /// Replace the whole object (`PUT`) with `obj`, which must carry the live
    /// `metadata.resourceVersion`: the server refuses it with 409 Conflict when the object
    /// changed since (see [`ClusterError::is_stale`]).
    pub async fn replace(
        &self,
        kind: &ResolvedKind,
        obj: &Value,
        dry_run: bool,
    ) -> Result<Value, ClusterError> {
        let (body, namespace, name) = self.prepare_named(kind, obj)?;
        let object: DynamicObject =
            serde_json::from_value(body).map_err(|e| ClusterError::InvalidObject {
                message: format!("{} \"{name}\" is not a valid object: {e}", kind.kind),
            })?;
        let params = PostParams {
            dry_run,
            field_manager: Some(FIELD_MANAGER.to_string()),
        };
        let api = self.api(kind, &namespace);
        let verb = dry_run_or("replace", dry_run);
        let what = || describe(&verb, kind, &namespace, &name);
        let stored = self
            .call(&what, Resend::Idempotent, || {
                api.replace(&name, &params, &object)
            })
            .await?;
        self.to_json(stored, what)
    }

    /// Set `metadata.managedFields` of the live object, only if it is still at
    /// `resource_version`. A merge patch carrying `metadata.resourceVersion` is refused with
    /// 409 Conflict when the object changed since, the same guard as the `test` operation of
    /// the JSON patch kubectl's upgrade sends; a merge patch replaces the whole list.
    pub async fn set_managed_fields(
        &self,
        kind: &ResolvedKind,
        namespace: &str,
        name: &str,
        resource_version: &str,
        managed_fields: &[Value],
    ) -> Result<Value, ClusterError> {
        let patch = json!({
            "metadata": {"resourceVersion": resource_version, "managedFields": managed_fields}
        });
        let params = PatchParams {
            field_manager: Some(FIELD_MANAGER.to_string()),
            ..PatchParams::default()
        };
        let api = self.api(kind, namespace);
        let merge = &Patch::Merge(&patch);
        let what = || describe("take over the fields of", kind, namespace, name);
        let stored = self
            .call(&what, Resend::Idempotent, || {
                api.patch(name, &params, merge)
            })
            .await?;
        self.to_json(stored, what)
    }
}

impl ClusterError {
    /// 409 Conflict on a write guarded by a resourceVersion: the object changed since it was
    /// read (not a field manager conflict of server-side apply).
    pub fn is_stale(&self) -> bool {
        matches!(self, ClusterError::Api { code: 409, reason, .. } if reason == "Conflict")
    }

    /// 422 Invalid: the server refused the object itself (an immutable field changed, a
    /// required one is missing).
    pub fn is_invalid(&self) -> bool {
        self.status_code() == Some(422)
    }
}
