//! What Argo CD's (and Helm's) annotations mean for one object: is it a hook, in which phases,
//! with which delete policies, in which wave, with which sync options. Pure: every problem is a
//! value for lint to report, never a panic. Facts from Argo CD's "Resource Hooks", "Sync Phases
//! and Waves" and "Sync Options" documentation, and gitops-engine's `pkg/sync/hook`.

pub mod csv;
pub mod keys;
pub mod options;
mod types;
pub mod wave;

pub use options::{SyncOption, SyncOptions};
pub use types::{
    ARGO_HOOK_NAMES, DeleteHook, DeletePolicy, HELM_HOOK_NAMES, HELM_HOOK_TYPES, HookType, Phase,
    helm_hook_phase,
};

use crate::manifest::Manifest;

/// How a sync treats an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A plain resource: applied in the Sync phase.
    Resource,
    /// A hook with at least one sync phase.
    Hook,
    /// `hook: Skip` alone: neither applied nor pruned.
    Skip,
    /// A hook whose only types are PreDelete/PostDelete: run by `delete`, not by `sync`.
    DeleteHookOnly,
    /// A hook with no known type: Argo CD drops it from the sync without a word.
    Ignored,
    /// A Helm hook Argo CD knows and ignores (`helm test`, rollback hooks): left out of the
    /// sync like `Skip`, and not a mistake (every chart `helm create` makes has a test Pod).
    IgnoredHelmHook,
}

/// Helm hook values Argo CD ignores: a sync runs no `helm test` and no rollback.
pub const HELM_IGNORED_HOOKS: [&str; 5] = [
    "test",
    "test-success",
    "test-failure",
    "pre-rollback",
    "post-rollback",
];

/// The meaning of one object's annotations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncSpec {
    pub role: Role,
    /// Sync phases, in phase order, without duplicates. `[Sync]` for resources.
    pub phases: Vec<Phase>,
    /// PreDelete/PostDelete, from either annotation.
    pub delete_hooks: Vec<DeleteHook>,
    /// Effective delete policies (hooks only; empty for resources), in a fixed order.
    pub delete_policies: Vec<DeletePolicy>,
    pub wave: i64,
    pub options: SyncOptions,
    /// `helm.sh/resource-policy: keep`: left in place when the app is deleted.
    pub helm_keep: bool,
}

impl SyncSpec {
    pub fn of(m: &Manifest) -> SyncSpec {
        let ann = |key| m.annotation(key).map(|(v, _)| v);
        let argo_raw = ann(keys::HOOK);
        let helm_raw = ann(keys::HELM_HOOK);

        let argo_types: Vec<HookType> = csv::items(argo_raw)
            .filter_map(|s| s.parse().ok())
            .collect();
        let types: Vec<HookType> = if argo_types.is_empty() {
            csv::items(helm_raw)
                .filter_map(HookType::from_helm)
                .collect()
        } else {
            argo_types
        };
        let skip = !types.is_empty() && types.iter().all(|t| *t == HookType::Skip);
        let is_hook = match argo_raw {
            Some(_) => !skip,
            None => helm_raw.is_some_and(|v| v != "crd-install"),
        };
        let delete_hooks = delete_hooks_of(argo_raw, helm_raw);

        let mut phases: Vec<Phase> = if is_hook {
            types.iter().filter_map(|t| t.phase()).collect()
        } else if skip {
            Vec::new()
        } else {
            vec![Phase::Sync]
        };
        phases.sort();
        phases.dedup();

        let role = if skip {
            Role::Skip
        } else if !is_hook {
            Role::Resource
        } else if !phases.is_empty() {
            Role::Hook
        } else if !delete_hooks.is_empty() {
            Role::DeleteHookOnly
        } else if argo_raw.is_none()
            && csv::items(helm_raw).any(|v| HELM_IGNORED_HOOKS.contains(&v))
            && csv::items(helm_raw).all(|v| HELM_IGNORED_HOOKS.contains(&v) || v == "crd-install")
        {
            Role::IgnoredHelmHook
        } else {
            Role::Ignored
        };

        let delete_policies = if is_hook {
            effective_policies(ann(keys::HOOK_DELETE_POLICY), ann(keys::HELM_DELETE_POLICY))
        } else {
            Vec::new()
        };

        SyncSpec {
            role,
            phases,
            delete_hooks,
            delete_policies,
            wave: wave::effective(ann(keys::SYNC_WAVE), ann(keys::HELM_WEIGHT)),
            options: SyncOptions::parse(ann(keys::SYNC_OPTIONS)),
            helm_keep: ann(keys::HELM_RESOURCE_POLICY).is_some_and(|v| v.trim() == "keep"),
        }
    }

    /// Why a sync leaves the object out, for objects it leaves out on purpose.
    pub fn skip_reason(&self) -> Option<&'static str> {
        match self.role {
            Role::Skip => Some("hook: Skip"),
            Role::IgnoredHelmHook => Some("Helm test or rollback hook, which Argo CD ignores"),
            _ => None,
        }
    }

    pub fn is_hook(&self) -> bool {
        matches!(self.role, Role::Hook | Role::DeleteHookOnly)
    }
}

/// An object counts as a PreDelete/PostDelete hook if any item of either annotation
/// names one, whatever else it says.
fn delete_hooks_of(argo: Option<&str>, helm: Option<&str>) -> Vec<DeleteHook> {
    let mut found: Vec<DeleteHook> = csv::items(argo)
        .filter_map(|s| s.parse().ok())
        .chain(csv::items(helm).filter_map(DeleteHook::from_helm))
        .collect();
    found.sort();
    found.dedup();
    found
}

/// The union of Argo and Helm policies (gitops-engine's `hook.DeletePolicies`);
/// `BeforeHookCreation` when that union is empty, Argo CD's documented default.
pub fn effective_policies(argo: Option<&str>, helm: Option<&str>) -> Vec<DeletePolicy> {
    let mut policies: Vec<DeletePolicy> = csv::items(argo)
        .filter_map(|s| s.parse().ok())
        .chain(csv::items(helm).filter_map(DeletePolicy::from_helm))
        .collect();
    policies.sort();
    policies.dedup();
    if policies.is_empty() {
        policies.push(DeletePolicy::BeforeHookCreation);
    }
    policies
}

#[cfg(test)]
mod tests;
