//! The one policy engine: which hook objects to delete, and why, per their delete policies
//! (Argo CD's "Hook Deletion Policies" documentation). `sync`, `delete` and `cleanup` all decide with this code.

use crate::model::DeletePolicy;
use serde::Serialize;

/// What a hook's live object says about the hook (from its health, `health::hook_outcome`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum HookState {
    Running,
    Succeeded,
    Failed,
}

/// How the whole operation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperationResult {
    Succeeded,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Delete(String),
    Keep(String),
}

impl Decision {
    pub fn deletes(&self) -> bool {
        matches!(self, Decision::Delete(_))
    }
    pub fn reason(&self) -> &str {
        match self {
            Decision::Delete(r) | Decision::Keep(r) => r,
        }
    }
}

/// At the end of a sync (or delete): Argo CD deletes every hook of the operation that is not
/// running and carries `HookSucceeded` when the operation succeeded, or `HookFailed` when it
/// failed — whatever the hook's own result: gitops-engine matches the policy against the
/// operation's phase, not the hook's, so a HookFailed hook that itself succeeded is deleted
/// when the sync fails.
pub fn at_operation_end(
    policies: &[DeletePolicy],
    state: HookState,
    result: OperationResult,
) -> Decision {
    if state == HookState::Running {
        return Decision::Keep("still running".into());
    }
    let (wanted, word) = match result {
        OperationResult::Succeeded => (DeletePolicy::HookSucceeded, "succeeded"),
        OperationResult::Failed => (DeletePolicy::HookFailed, "failed"),
    };
    if policies.contains(&wanted) {
        Decision::Delete(format!("{wanted}: the operation {word}"))
    } else {
        Decision::Keep(keep_reason(policies))
    }
}

/// `cleanup`, after the fact: the operation's outcome is not known any more, so each hook is
/// judged by its own state. `all` deletes every finished hook; `force` with it running ones too.
pub fn for_cleanup(
    policies: &[DeletePolicy],
    state: HookState,
    all: bool,
    force: bool,
) -> Decision {
    match state {
        HookState::Running if all && force => {
            Decision::Delete("--all --force: running hook".into())
        }
        HookState::Running => {
            Decision::Keep("still running (only --all --force deletes it)".into())
        }
        HookState::Succeeded if policies.contains(&DeletePolicy::HookSucceeded) => {
            Decision::Delete("HookSucceeded: the hook succeeded".into())
        }
        HookState::Failed if policies.contains(&DeletePolicy::HookFailed) => {
            Decision::Delete("HookFailed: the hook failed".into())
        }
        _ if all => Decision::Delete("--all: finished hook".into()),
        _ => Decision::Keep(keep_reason(policies)),
    }
}

fn keep_reason(policies: &[DeletePolicy]) -> String {
    if policies.contains(&DeletePolicy::BeforeHookCreation) {
        "BeforeHookCreation: replaced at the next sync".into()
    } else {
        let names: Vec<&str> = policies.iter().map(|p| p.as_str()).collect();
        format!("policy {} does not apply", names.join(","))
    }
}

/// Before a hook's step runs: an existing object of the same name is deleted first when the
/// hook has `BeforeHookCreation` (Argo CD's "Hook Deletion Policies"). Without it, the existing object is applied over.
pub fn delete_before_creation(policies: &[DeletePolicy]) -> bool {
    policies.contains(&DeletePolicy::BeforeHookCreation)
}

#[cfg(test)]
mod tests {
    use super::*;
    use DeletePolicy::*;
    use HookState::*;

    #[test]
    fn operation_end_follows_the_operation_not_the_hook() {
        let ok = OperationResult::Succeeded;
        let failed = OperationResult::Failed;
        assert!(at_operation_end(&[HookSucceeded], Succeeded, ok).deletes());
        assert!(!at_operation_end(&[HookSucceeded], Succeeded, failed).deletes());
        // HookFailed deletes hooks that themselves succeeded, when the operation failed.
        assert!(at_operation_end(&[HookFailed], Succeeded, failed).deletes());
        assert!(at_operation_end(&[HookFailed], Failed, failed).deletes());
        assert!(!at_operation_end(&[HookFailed], Failed, ok).deletes());
        assert!(!at_operation_end(&[HookSucceeded], Running, ok).deletes());
        let keep = at_operation_end(&[BeforeHookCreation], Succeeded, ok);
        assert_eq!(
            keep,
            Decision::Keep("BeforeHookCreation: replaced at the next sync".into())
        );
        assert!(at_operation_end(&[BeforeHookCreation, HookSucceeded], Succeeded, ok).deletes());
    }

    #[test]
    fn cleanup_judges_each_hook_by_its_state() {
        assert!(for_cleanup(&[HookSucceeded], Succeeded, false, false).deletes());
        assert!(!for_cleanup(&[HookSucceeded], Failed, false, false).deletes());
        assert!(for_cleanup(&[HookFailed], Failed, false, false).deletes());
        assert!(!for_cleanup(&[BeforeHookCreation], Succeeded, false, false).deletes());
        assert!(for_cleanup(&[BeforeHookCreation], Succeeded, true, false).deletes());
        assert!(!for_cleanup(&[HookSucceeded], Running, true, false).deletes());
        assert!(for_cleanup(&[HookSucceeded], Running, true, true).deletes());
    }

    #[test]
    fn before_hook_creation() {
        assert!(delete_before_creation(&[BeforeHookCreation, HookSucceeded]));
        assert!(!delete_before_creation(&[HookSucceeded]));
    }
}
