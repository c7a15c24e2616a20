//! `argocd.argoproj.io/sync-options` (Argo CD's "Sync Options" documentation): the options a resource annotation can carry.

use super::csv;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncOption {
    PruneFalse,
    PruneConfirm,
    DeleteFalse,
    DeleteConfirm,
    ValidateFalse,
    SkipDryRunOnMissingResource,
    PruneLast,
    ReplaceTrue,
    ForceTrue,
    ServerSideApplyTrue,
    ServerSideApplyFalse,
}

impl SyncOption {
    pub const ALL: [(&'static str, SyncOption); 11] = [
        ("Prune=false", SyncOption::PruneFalse),
        ("Prune=confirm", SyncOption::PruneConfirm),
        ("Delete=false", SyncOption::DeleteFalse),
        ("Delete=confirm", SyncOption::DeleteConfirm),
        ("Validate=false", SyncOption::ValidateFalse),
        (
            "SkipDryRunOnMissingResource=true",
            SyncOption::SkipDryRunOnMissingResource,
        ),
        ("PruneLast=true", SyncOption::PruneLast),
        ("Replace=true", SyncOption::ReplaceTrue),
        ("Force=true", SyncOption::ForceTrue),
        ("ServerSideApply=true", SyncOption::ServerSideApplyTrue),
        ("ServerSideApply=false", SyncOption::ServerSideApplyFalse),
    ];

    pub fn parse(item: &str) -> Option<SyncOption> {
        Self::ALL
            .iter()
            .find(|(name, _)| *name == item)
            .map(|(_, o)| *o)
    }
}

/// Options that are only meaningful on an Application (`spec.syncPolicy.syncOptions`): on a
/// resource annotation Argo CD ignores them.
pub const APP_LEVEL_ONLY: &[&str] = &[
    "CreateNamespace=true",
    "ApplyOutOfSyncOnly=true",
    "PrunePropagationPolicy=foreground",
    "PrunePropagationPolicy=background",
    "PrunePropagationPolicy=orphan",
    "FailOnSharedResource=true",
    "RespectIgnoreDifferences=true",
    "ClientSideApplyMigration=false",
];

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncOptions {
    pub known: Vec<SyncOption>,
    /// Items Argo CD would ignore, kept for lint.
    pub unknown: Vec<String>,
}

impl SyncOptions {
    pub fn parse(value: Option<&str>) -> SyncOptions {
        let mut out = SyncOptions::default();
        for item in csv::items(value) {
            match SyncOption::parse(item) {
                Some(o) => out.known.push(o),
                None => out.unknown.push(item.to_owned()),
            }
        }
        out
    }

    pub fn has(&self, option: SyncOption) -> bool {
        self.known.contains(&option)
    }
}
