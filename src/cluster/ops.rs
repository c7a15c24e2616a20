//! One method per verb: apply (server-side, optionally dry-run), create, get, list,
//! delete, and waiting for a deletion to finish.

use std::time::Duration;

use futures::StreamExt;
use kube::api::{
    Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams,
    PropagationPolicy, TypeMeta, ValidationDirective,
};
use serde_json::Value;

use super::normalize::default_port_protocols;
use super::retry::Resend;
use super::{Cluster, ClusterError, ResolvedKind, WatchEvent};

/// The field manager of every write, as `kubectl apply --server-side --field-manager`.
pub const FIELD_MANAGER: &str = "kubectl-hooks";

/// How [`Cluster::apply`] applies.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ApplyOptions {
    /// Take ownership of fields other managers own (`--force-conflicts`).
    pub force: bool,
    /// Server-side dry run (`dryRun=All`): validated and admitted, not stored.
    pub dry_run: bool,
    /// `fieldValidation=Ignore` (Argo CD's `Validate=false`): servers since 1.25 drop unknown
    /// fields instead of refusing the object. Otherwise `Strict`, as kubectl sends. Older
    /// servers ignore the parameter; their server-side apply always refuses unknown fields.
    pub ignore_unknown_fields: bool,
}

/// What happens to an object's dependents when it is deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Propagation {
    /// Dependents first, then the object (the object stays until they are gone).
    Foreground,
    /// The object now, its dependents by the garbage collector afterwards.
    Background,
    /// The object only; dependents stay.
    Orphan,
}

/// The outcome of a delete request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deleted {
    /// The server accepted the deletion; the object may linger until its finalizers
    /// run. `uid` identifies it for [`Cluster::wait_deleted`].
    Requested { uid: Option<String> },
    /// There was nothing to delete (404).
    AlreadyGone,
}

impl Cluster {
    /// Server-side apply of `obj` with field manager `kubectl-hooks`. Ports lacking a
    /// protocol get `TCP` first (see [`default_port_protocols`]). Returns the object the
    /// server stored (or would store, on a dry run).
    pub async fn apply(
        &self,
        kind: &ResolvedKind,
        obj: &Value,
        options: ApplyOptions,
    ) -> Result<Value, ClusterError> {
        let (body, namespace, name) = self.prepare_named(kind, obj)?;
        let params = PatchParams {
            dry_run: options.dry_run,
            force: options.force,
            field_manager: Some(FIELD_MANAGER.to_string()),
            field_validation: Some(if options.ignore_unknown_fields {
                ValidationDirective::Ignore
            } else {
                ValidationDirective::Strict
            }),
        };
        let api = self.api(kind, &namespace);
        let verb = dry_run_or("apply", options.dry_run);
        let what = || describe(&verb, kind, &namespace, &name);
        let patch = Patch::Apply(&body);
        let stored = self
            .call(&what, Resend::Idempotent, || {
                api.patch(&name, &params, &patch)
            })
            .await
            .map_err(|e| e.for_kind(kind))?;
        self.to_json(stored, what)
    }

    /// Create `obj` (it may use `metadata.generateName`). Fails with `AlreadyExists`
    /// (see [`ClusterError::is_already_exists`]) when the name is taken.
    pub async fn create(
        &self,
        kind: &ResolvedKind,
        obj: &Value,
        dry_run: bool,
    ) -> Result<Value, ClusterError> {
        let (body, namespace) = self.prepare(kind, obj)?;
        let name = str_at(&body, "/metadata/name")
            .or_else(|| str_at(&body, "/metadata/generateName").map(|g| format!("{g}*")))
            .ok_or_else(|| invalid(kind, "has neither metadata.name nor metadata.generateName"))?;
        let object: DynamicObject = serde_json::from_value(body)
            .map_err(|e| invalid(kind, &format!("\"{name}\" is not a valid object: {e}")))?;
        let params = PostParams {
            dry_run,
            field_manager: Some(FIELD_MANAGER.to_string()),
        };
        let api = self.api(kind, &namespace);
        let what = || describe("create", kind, &namespace, &name);
        let created = self
            .call(&what, Resend::IfNotReceived, || {
                api.create(&params, &object)
            })
            .await
            .map_err(|e| e.for_kind(kind))?;
        self.to_json(created, what)
    }

    /// The live object, or `None` when it does not exist. `namespace` is ignored for
    /// cluster-scoped kinds.
    pub async fn get(
        &self,
        kind: &ResolvedKind,
        namespace: &str,
        name: &str,
    ) -> Result<Option<Value>, ClusterError> {
        let api = self.api(kind, namespace);
        let what = || describe("get", kind, namespace, name);
        match self
            .call(&what, Resend::Idempotent, || api.get_opt(name))
            .await?
        {
            Some(obj) => Ok(Some(self.to_json(obj, what)?)),
            None => Ok(None),
        }
    }

    /// All objects of a kind in one namespace (`Some`) or in all namespaces (`None`, and
    /// for cluster-scoped kinds), optionally filtered by a label selector.
    pub async fn list(
        &self,
        kind: &ResolvedKind,
        namespace: Option<&str>,
        label_selector: Option<&str>,
    ) -> Result<Vec<Value>, ClusterError> {
        let api = self.api_scope(kind, namespace);
        let mut params = ListParams::default().limit(500);
        if let Some(selector) = label_selector {
            params = params.labels(selector);
        }
        let what = || match namespace {
            Some(ns) if kind.namespaced => {
                format!("list {} in namespace \"{ns}\"", kind.resource_name())
            }
            _ => format!("list {}", kind.resource_name()),
        };
        let types = TypeMeta {
            api_version: kind.api_version.clone(),
            kind: kind.kind.clone(),
        };
        let items = self
            .list_pages(&api, params, &what, &types, usize::MAX)
            .await?;
        items.into_iter().map(|o| self.to_json(o, what)).collect()
    }

    /// The items of a list, page after page until the last or until there are `most`.
    /// Items of a list carry no apiVersion and kind (health checks and `diagnose` read
    /// them): each gets `types`.
    pub(super) async fn list_pages(
        &self,
        api: &Api<DynamicObject>,
        mut params: ListParams,
        what: &impl Fn() -> String,
        types: &TypeMeta,
        most: usize,
    ) -> Result<Vec<DynamicObject>, ClusterError> {
        let mut items = Vec::new();
        loop {
            let page = self
                .call(what, Resend::Idempotent, || api.list(&params))
                .await?;
            for mut obj in page.items {
                obj.types.get_or_insert_with(|| types.clone());
                items.push(obj);
            }
            match page.metadata.continue_.filter(|c| !c.is_empty()) {
                Some(token) if items.len() < most => params.continue_token = Some(token),
                _ => return Ok(items),
            }
        }
    }

    /// Delete one object. A missing object is not an error: [`Deleted::AlreadyGone`].
    pub async fn delete(
        &self,
        kind: &ResolvedKind,
        namespace: &str,
        name: &str,
        propagation: Propagation,
    ) -> Result<Deleted, ClusterError> {
        self.delete_request(kind, namespace, name, propagation, false)
            .await
    }

    /// [`Cluster::delete`], or with `dry_run` a server-side dry run of it (`dryRun=All`):
    /// admission and RBAC judge the request and nothing is deleted, so `Forbidden` means the
    /// real delete would be refused and [`Deleted::AlreadyGone`] that there is nothing to delete.
    pub async fn delete_request(
        &self,
        kind: &ResolvedKind,
        namespace: &str,
        name: &str,
        propagation: Propagation,
        dry_run: bool,
    ) -> Result<Deleted, ClusterError> {
        let api = self.api(kind, namespace);
        let params = DeleteParams {
            dry_run,
            propagation_policy: Some(match propagation {
                Propagation::Foreground => PropagationPolicy::Foreground,
                Propagation::Background => PropagationPolicy::Background,
                Propagation::Orphan => PropagationPolicy::Orphan,
            }),
            ..DeleteParams::default()
        };
        let verb = dry_run_or("delete", dry_run);
        let what = || describe(&verb, kind, namespace, name);
        match self
            .call(&what, Resend::Idempotent, || api.delete(name, &params))
            .await
        {
            Ok(either) => {
                let uid = either
                    .map_left(|obj| obj.metadata.uid)
                    .map_right(|status| status.details.map(|d| d.uid).filter(|u| !u.is_empty()))
                    .into_inner();
                Ok(Deleted::Requested { uid })
            }
            Err(e) if e.is_not_found() => Ok(Deleted::AlreadyGone),
            Err(e) => Err(e),
        }
    }

    /// Wait until the object is gone (or replaced by one with another uid, when `uid`
    /// is given), watching it; [`ClusterError::WaitTimeout`] after `timeout`.
    pub async fn wait_deleted(
        &self,
        kind: &ResolvedKind,
        namespace: &str,
        name: &str,
        uid: Option<&str>,
        timeout: Duration,
    ) -> Result<(), ClusterError> {
        let mut events = self.watch_object(kind, namespace, name);
        let wait = async {
            let mut present = false;
            while let Some(event) = events.next().await {
                match event {
                    Ok(WatchEvent::Applied(obj)) => {
                        let live_uid = str_at(&obj, "/metadata/uid");
                        if uid.is_some_and(|u| live_uid.as_deref() != Some(u)) {
                            return Ok(());
                        }
                        present = true;
                    }
                    Ok(WatchEvent::Deleted(_)) => return Ok(()),
                    Ok(WatchEvent::Synced) if !present => return Ok(()),
                    Ok(WatchEvent::Synced) => {}
                    Err(e) if e.is_access_error() && !e.is_transient() => return Err(e),
                    Err(_) => {} // the watcher retries with backoff
                }
            }
            Ok(())
        };
        match tokio::time::timeout(timeout, wait).await {
            Ok(result) => result,
            Err(_) => Err(ClusterError::WaitTimeout {
                what: format!("deletion of {}", describe("", kind, namespace, name).trim()),
                after: timeout,
            }),
        }
    }

    /// The namespace an object goes to: its own, else the default (`-n`, context).
    pub fn namespace_of(&self, kind: &ResolvedKind, obj: &Value) -> String {
        if !kind.namespaced {
            return String::new();
        }
        str_at(obj, "/metadata/namespace")
            .filter(|ns| !ns.is_empty())
            .unwrap_or_else(|| self.namespace().to_string())
    }

    /// A copy ready to send, and the namespace it goes to.
    pub(super) fn prepare(
        &self,
        kind: &ResolvedKind,
        obj: &Value,
    ) -> Result<(Value, String), ClusterError> {
        if !obj.is_object() {
            return Err(invalid(kind, "is not a JSON/YAML object"));
        }
        let mut body = obj.clone();
        default_port_protocols(&mut body);
        let namespace = self.namespace_of(kind, &body);
        if let Some(meta) = body.get_mut("metadata").and_then(Value::as_object_mut) {
            if kind.namespaced {
                meta.insert("namespace".into(), Value::String(namespace.clone()));
            } else {
                meta.remove("namespace");
            }
        }
        Ok((body, namespace))
    }

    /// [`Cluster::prepare`] for a write by name: also the name, which the object must have.
    pub(super) fn prepare_named(
        &self,
        kind: &ResolvedKind,
        obj: &Value,
    ) -> Result<(Value, String, String), ClusterError> {
        let (body, namespace) = self.prepare(kind, obj)?;
        let name = required_name(&body, kind)?;
        Ok((body, namespace, name))
    }

    pub(crate) fn api(&self, kind: &ResolvedKind, namespace: &str) -> Api<DynamicObject> {
        if kind.namespaced {
            Api::namespaced_with(self.client(), namespace, &kind.api_resource())
        } else {
            Api::all_with(self.client(), &kind.api_resource())
        }
    }

    pub(crate) fn api_scope(
        &self,
        kind: &ResolvedKind,
        namespace: Option<&str>,
    ) -> Api<DynamicObject> {
        match namespace {
            Some(ns) if kind.namespaced => self.api(kind, ns),
            _ => Api::all_with(self.client(), &kind.api_resource()),
        }
    }

    pub(super) fn to_json(
        &self,
        obj: DynamicObject,
        what: impl FnOnce() -> String,
    ) -> Result<Value, ClusterError> {
        serde_json::to_value(obj).map_err(|e| ClusterError::Other {
            what: what(),
            message: format!("cannot encode the server's answer: {e}"),
        })
    }
}

/// `apply configmaps "x" in namespace "y"`, `delete clusterroles "x"`.
pub(crate) fn describe(verb: &str, kind: &ResolvedKind, namespace: &str, name: &str) -> String {
    let resource = kind.resource_name();
    if kind.namespaced && !namespace.is_empty() {
        format!("{verb} {resource} \"{name}\" in namespace \"{namespace}\"")
    } else {
        format!("{verb} {resource} \"{name}\"")
    }
}

/// `VERB`, or `dry-run VERB` for a dry run, as [`describe`] words a request.
pub(super) fn dry_run_or(verb: &str, dry_run: bool) -> String {
    if dry_run {
        format!("dry-run {verb}")
    } else {
        verb.to_owned()
    }
}

fn required_name(obj: &Value, kind: &ResolvedKind) -> Result<String, ClusterError> {
    match str_at(obj, "/metadata/name").filter(|n| !n.is_empty()) {
        Some(name) => Ok(name),
        None if str_at(obj, "/metadata/generateName").is_some() => Err(invalid(
            kind,
            "uses metadata.generateName, which server-side apply cannot do; create it instead",
        )),
        None => Err(invalid(kind, "has no metadata.name")),
    }
}

fn invalid(kind: &ResolvedKind, problem: &str) -> ClusterError {
    ClusterError::InvalidObject {
        message: format!("{} {problem}", kind.kind),
    }
}

fn str_at(obj: &Value, pointer: &str) -> Option<String> {
    obj.pointer(pointer)
        .and_then(Value::as_str)
        .map(str::to_string)
}
