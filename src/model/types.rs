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

    pub const fn as_str(self) -> &'static str {
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

    pub const fn as_str(self) -> &'static str {
        match self {
            HookType::PreSync => Phase::PreSync.as_str(),
            HookType::Sync => Phase::Sync.as_str(),
            HookType::PostSync => Phase::PostSync.as_str(),
            HookType::SyncFail => Phase::SyncFail.as_str(),
            HookType::Skip => "Skip",
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

    /// The sync hook a Helm hook value stands for (see [`HELM_HOOK_TYPES`]).
    pub fn from_helm(value: &str) -> Option<HookType> {
        match helm_hook_phase(value)? {
            Phase::PreSync => Some(HookType::PreSync),
            Phase::PostSync => Some(HookType::PostSync),
            _ => None,
        }
    }
}

impl DeleteHook {
    /// The phase of `delete` this hook runs in.
    pub const fn phase(self) -> Phase {
        match self {
            DeleteHook::PreDelete => Phase::PreDelete,
            DeleteHook::PostDelete => Phase::PostDelete,
        }
    }

    pub const fn as_str(self) -> &'static str {
        self.phase().as_str()
    }

    /// The delete hook a Helm hook value stands for (see [`HELM_HOOK_TYPES`]).
    pub fn from_helm(value: &str) -> Option<DeleteHook> {
        match helm_hook_phase(value)? {
            Phase::PreDelete => Some(DeleteHook::PreDelete),
            Phase::PostDelete => Some(DeleteHook::PostDelete),
            _ => None,
        }
    }
}

impl DeletePolicy {
    /// In the order Argo CD's documentation lists them.
    pub const ALL: [DeletePolicy; 3] = [
        DeletePolicy::HookSucceeded,
        DeletePolicy::HookFailed,
        DeletePolicy::BeforeHookCreation,
    ];
    /// The names of [`Self::ALL`], as `argocd.argoproj.io/hook-delete-policy` takes them.
    pub const NAMES: [&'static str; 3] = [
        Self::ALL[0].as_str(),
        Self::ALL[1].as_str(),
        Self::ALL[2].as_str(),
    ];
    /// The names of [`Self::ALL`], as `helm.sh/hook-delete-policy` takes them.
    pub const HELM_NAMES: [&'static str; 3] = [
        Self::ALL[0].helm_str(),
        Self::ALL[1].helm_str(),
        Self::ALL[2].helm_str(),
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            DeletePolicy::BeforeHookCreation => "BeforeHookCreation",
            DeletePolicy::HookSucceeded => "HookSucceeded",
            DeletePolicy::HookFailed => "HookFailed",
        }
    }

    /// Helm's name of the same policy, which Argo CD reads too.
    pub const fn helm_str(self) -> &'static str {
        match self {
            DeletePolicy::BeforeHookCreation => "before-hook-creation",
            DeletePolicy::HookSucceeded => "hook-succeeded",
            DeletePolicy::HookFailed => "hook-failed",
        }
    }

    pub fn from_helm(value: &str) -> Option<DeletePolicy> {
        Self::ALL.into_iter().find(|p| p.helm_str() == value)
    }
}

/// Every value of `argocd.argoproj.io/hook` Argo CD knows: the sync hook types, then the
/// delete hooks.
pub const ARGO_HOOK_NAMES: [&str; 7] = [
    HookType::PreSync.as_str(),
    HookType::Sync.as_str(),
    HookType::PostSync.as_str(),
    HookType::SyncFail.as_str(),
    HookType::Skip.as_str(),
    DeleteHook::PreDelete.as_str(),
    DeleteHook::PostDelete.as_str(),
];

/// The Helm hook types Argo CD runs, and the phase each runs in (Argo CD's "Helm hooks"
/// documentation); every other Helm hook type (`crd-install`, `test`, ...) is not run.
pub const HELM_HOOK_TYPES: [(&str, Phase); 6] = [
    ("pre-install", Phase::PreSync),
    ("pre-upgrade", Phase::PreSync),
    ("post-install", Phase::PostSync),
    ("post-upgrade", Phase::PostSync),
    ("pre-delete", Phase::PreDelete),
    ("post-delete", Phase::PostDelete),
];

/// The names of [`HELM_HOOK_TYPES`].
pub const HELM_HOOK_NAMES: [&str; 6] = {
    let mut names = [""; 6];
    let mut i = 0;
    while i < names.len() {
        names[i] = HELM_HOOK_TYPES[i].0;
        i += 1;
    }
    names
};

/// The phase a Helm hook value runs in, when Argo CD runs it at all.
pub fn helm_hook_phase(value: &str) -> Option<Phase> {
    HELM_HOOK_TYPES
        .iter()
        .find(|(name, _)| *name == value)
        .map(|(_, phase)| *phase)
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
