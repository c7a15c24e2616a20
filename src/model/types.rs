//! The typed vocabulary: phases, hook types, delete hooks and delete policies.

use serde::Serialize;
use std::fmt;
use std::str::FromStr;

/// A phase, in run order. SyncFail runs only when the sync fails. PreDelete and PostDelete
/// are the phases of `delete` (hooks run before and after the app's objects are deleted); a
/// sync plan never holds them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Phase {
    PreSync,
    Sync,
    PostSync,
    SyncFail,
    PreDelete,
    PostDelete,
}

/// Values of `argocd.argoproj.io/hook` that the sync engine knows (exact, case-sensitive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HookType {
    PreSync,
    Sync,
    PostSync,
    SyncFail,
    Skip,
}

/// Hooks run when an app is deleted (Argo CD controller, not engine).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum DeleteHook {
    PreDelete,
    PostDelete,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum DeletePolicy {
    BeforeHookCreation,
    HookSucceeded,
    HookFailed,
}

impl Phase {
    /// The phases of a sync (the delete phases are not among them).
    pub const ALL: [Phase; 4] = [
        Phase::PreSync,
        Phase::Sync,
        Phase::PostSync,
        Phase::SyncFail,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Phase::PreSync => "PreSync",
            Phase::Sync => "Sync",
            Phase::PostSync => "PostSync",
            Phase::SyncFail => "SyncFail",
            Phase::PreDelete => "PreDelete",
            Phase::PostDelete => "PostDelete",
        }
    }
}

impl HookType {
    pub const ALL: [HookType; 5] = [
        HookType::PreSync,
        HookType::Sync,
        HookType::PostSync,
        HookType::SyncFail,
        HookType::Skip,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            HookType::Skip => "Skip",
            other => other.phase().map(Phase::as_str).unwrap_or_default(),
        }
    }

    pub fn phase(self) -> Option<Phase> {
        match self {
            HookType::PreSync => Some(Phase::PreSync),
            HookType::Sync => Some(Phase::Sync),
            HookType::PostSync => Some(Phase::PostSync),
            HookType::SyncFail => Some(Phase::SyncFail),
            HookType::Skip => None,
        }
    }

    /// §4.1: Helm hook values Argo CD maps; everything else (and `crd-install`) is unknown.
    pub fn from_helm(value: &str) -> Option<HookType> {
        match value {
            "pre-install" | "pre-upgrade" => Some(HookType::PreSync),
            "post-install" | "post-upgrade" => Some(HookType::PostSync),
            _ => None,
        }
    }
}

impl DeleteHook {
    /// The phase of `delete` this hook runs in.
    pub fn phase(self) -> Phase {
        match self {
            DeleteHook::PreDelete => Phase::PreDelete,
            DeleteHook::PostDelete => Phase::PostDelete,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DeleteHook::PreDelete => "PreDelete",
            DeleteHook::PostDelete => "PostDelete",
        }
    }

    pub fn from_helm(value: &str) -> Option<DeleteHook> {
        match value {
            "pre-delete" => Some(DeleteHook::PreDelete),
            "post-delete" => Some(DeleteHook::PostDelete),
            _ => None,
        }
    }
}

impl DeletePolicy {
    pub const ALL: [DeletePolicy; 3] = [
        DeletePolicy::BeforeHookCreation,
        DeletePolicy::HookSucceeded,
        DeletePolicy::HookFailed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeletePolicy::BeforeHookCreation => "BeforeHookCreation",
            DeletePolicy::HookSucceeded => "HookSucceeded",
            DeletePolicy::HookFailed => "HookFailed",
        }
    }

    /// §4.3
    pub fn from_helm(value: &str) -> Option<DeletePolicy> {
        match value {
            "before-hook-creation" => Some(DeletePolicy::BeforeHookCreation),
            "hook-succeeded" => Some(DeletePolicy::HookSucceeded),
            "hook-failed" => Some(DeletePolicy::HookFailed),
            _ => None,
        }
    }
}

macro_rules! exact_names {
    ($ty:ty, $($variant:ident),+) => {
        impl FromStr for $ty {
            type Err = ();
            fn from_str(s: &str) -> Result<Self, ()> {
                match s {
                    $(stringify!($variant) => Ok(<$ty>::$variant),)+
                    _ => Err(()),
                }
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

exact_names!(
    Phase, PreSync, Sync, PostSync, SyncFail, PreDelete, PostDelete
);
exact_names!(HookType, PreSync, Sync, PostSync, SyncFail, Skip);
exact_names!(DeleteHook, PreDelete, PostDelete);
exact_names!(DeletePolicy, BeforeHookCreation, HookSucceeded, HookFailed);
