//! Annotation keys, as Argo CD and Helm spell them.

pub const ARGO_PREFIX: &str = "argocd.argoproj.io/";
pub const HELM_PREFIX: &str = "helm.sh/";

pub const HOOK: &str = "argocd.argoproj.io/hook";
pub const HOOK_DELETE_POLICY: &str = "argocd.argoproj.io/hook-delete-policy";
pub const SYNC_WAVE: &str = "argocd.argoproj.io/sync-wave";
pub const SYNC_OPTIONS: &str = "argocd.argoproj.io/sync-options";
/// Set by Argo CD on objects it tracks; harmless here, listed so lint knows it.
pub const TRACKING_ID: &str = "argocd.argoproj.io/tracking-id";
pub const COMPARE_OPTIONS: &str = "argocd.argoproj.io/compare-options";
pub const MANAGED_BY: &str = "argocd.argoproj.io/managed-by";
pub const REFRESH: &str = "argocd.argoproj.io/refresh";
/// The finalizer Argo CD puts on the hooks it creates. While it is present a hook being deleted
/// is judged on its real status instead of "Pending deletion", so a Job removed by its TTL
/// controller right after finishing still reports how it finished.
pub const HOOK_FINALIZER: &str = "argocd.argoproj.io/hook-finalizer";

pub const HELM_HOOK: &str = "helm.sh/hook";
pub const HELM_WEIGHT: &str = "helm.sh/hook-weight";
pub const HELM_DELETE_POLICY: &str = "helm.sh/hook-delete-policy";
pub const HELM_RESOURCE_POLICY: &str = "helm.sh/resource-policy";
pub const HELM_DELETE_TIMEOUT: &str = "helm.sh/hook-delete-timeout";
pub const HELM_CHART: &str = "helm.sh/chart";

/// Every key under the two prefixes that Argo CD or Helm reads: anything else under them is
/// probably a misspelling.
pub const KNOWN: &[&str] = &[
    HOOK,
    HOOK_DELETE_POLICY,
    SYNC_WAVE,
    SYNC_OPTIONS,
    TRACKING_ID,
    COMPARE_OPTIONS,
    MANAGED_BY,
    REFRESH,
    "argocd.argoproj.io/instance",
    "argocd.argoproj.io/manifest-generate-paths",
    "argocd.argoproj.io/deletion-approved",
    "argocd.argoproj.io/ignore-restart-policy",
    "argocd.argoproj.io/skip-reconcile",
    HELM_HOOK,
    HELM_WEIGHT,
    HELM_DELETE_POLICY,
    HELM_RESOURCE_POLICY,
    HELM_DELETE_TIMEOUT,
    HELM_CHART,
    "helm.sh/hook-output-log-policy",
];
