//! Conformance cases of annotation parsing: what Argo CD makes of each hook, wave, delete
//! policy and sync-options value.

use super::*;
use crate::manifest;

fn pod(annotations: &[(&str, &str)]) -> SyncSpec {
    with_kind("Pod", annotations)
}

fn with_kind(kind: &str, annotations: &[(&str, &str)]) -> SyncSpec {
    let mut yaml = format!("apiVersion: v1\nkind: {kind}\nmetadata:\n  name: my-pod\n");
    if !annotations.is_empty() {
        yaml.push_str("  annotations:\n");
        for (k, v) in annotations {
            yaml.push_str(&format!("    {k}: {v:?}\n"));
        }
    }
    let loaded = manifest::from_str("t.yaml", &yaml);
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    SyncSpec::of(&loaded.manifests[0])
}

use Phase::*;

#[test]
fn cc01_single_hook_types() {
    for (value, phase) in [
        ("PreSync", PreSync),
        ("Sync", Sync),
        ("PostSync", PostSync),
        ("SyncFail", SyncFail),
    ] {
        let s = pod(&[(keys::HOOK, value)]);
        assert_eq!(s.role, Role::Hook);
        assert_eq!(s.phases, [phase]);
    }
}

#[test]
fn cc02_skip() {
    let s = pod(&[(keys::HOOK, "Skip")]);
    assert_eq!(s.role, Role::Skip);
    assert!(!s.is_hook());
    assert!(s.phases.is_empty());
}

#[test]
fn cc03_garbage_is_ignored() {
    for value in ["Garbage", "presync", "", "pre-sync"] {
        let s = pod(&[(keys::HOOK, value)]);
        assert_eq!(s.role, Role::Ignored, "{value:?}");
        assert!(s.phases.is_empty());
    }
}

#[test]
fn cc04_cc05_cc07_multi_phase_duplicates_partial_garbage() {
    assert_eq!(
        pod(&[(keys::HOOK, "PreSync,PostSync")]).phases,
        [PreSync, PostSync]
    );
    assert_eq!(
        pod(&[(keys::HOOK, "PostSync, PreSync")]).phases,
        [PreSync, PostSync]
    );
    assert_eq!(pod(&[(keys::HOOK, "Sync,Sync")]).phases, [Sync]);
    assert_eq!(pod(&[(keys::HOOK, "Sync,Garbage")]).phases, [Sync]);
}

#[test]
fn cc06_skip_mixed_is_ignored_skip() {
    let s = pod(&[(keys::HOOK, "Skip,PreSync,PostSync")]);
    assert_eq!(s.role, Role::Hook);
    assert_eq!(s.phases, [PreSync, PostSync]);
    assert_eq!(pod(&[(keys::HOOK, "Skip,Garbage")]).role, Role::Skip);
}

#[test]
fn cc08_cc09_cc10_helm() {
    let s = pod(&[(keys::HELM_HOOK, "pre-install")]);
    assert_eq!((s.role, s.phases.as_slice()), (Role::Hook, &[PreSync][..]));
    assert_eq!(pod(&[(keys::HELM_HOOK, "garbage")]).role, Role::Ignored);
    // Argo wins when it has a valid type; otherwise Helm is used.
    assert_eq!(
        pod(&[(keys::HOOK, "Sync"), (keys::HELM_HOOK, "pre-install")]).phases,
        [Sync]
    );
    assert_eq!(
        pod(&[(keys::HOOK, "Garbage"), (keys::HELM_HOOK, "pre-install")]).phases,
        [PreSync]
    );
    assert_eq!(pod(&[(keys::HELM_HOOK, "pre-upgrade")]).phases, [PreSync]);
    assert_eq!(pod(&[(keys::HELM_HOOK, "post-install")]).phases, [PostSync]);
    assert_eq!(pod(&[(keys::HELM_HOOK, "post-upgrade")]).phases, [PostSync]);
    assert_eq!(
        pod(&[(keys::HELM_HOOK, "pre-install,pre-upgrade")]).phases,
        [PreSync]
    );
    let crd = with_kind(
        "CustomResourceDefinition",
        &[(keys::HELM_HOOK, "crd-install")],
    );
    assert_eq!(crd.role, Role::Resource);
    assert_eq!(
        pod(&[(keys::HELM_HOOK, "crd-install,pre-install")]).phases,
        [PreSync]
    );
    for v in [
        "pre-rollback",
        "post-rollback",
        "test-success",
        "test-failure",
        "test",
    ] {
        assert_eq!(
            pod(&[(keys::HELM_HOOK, v)]).role,
            Role::IgnoredHelmHook,
            "{v}"
        );
    }
    assert_eq!(
        pod(&[(keys::HELM_HOOK, "test,crd-install")]).role,
        Role::IgnoredHelmHook
    );
    // A misspelt value next to a test hook, or an Argo CD annotation with no known type, is
    // still a mistake.
    assert_eq!(
        pod(&[(keys::HELM_HOOK, "test,garbage")]).role,
        Role::Ignored
    );
    assert_eq!(
        pod(&[(keys::HOOK, "Garbage"), (keys::HELM_HOOK, "test")]).role,
        Role::Ignored
    );
    assert_eq!(
        pod(&[(keys::HELM_HOOK, "test,post-install")]).phases,
        [PostSync]
    );
}

#[test]
fn delete_hooks_recognised_from_both_annotations() {
    let s = pod(&[(keys::HOOK, "PreDelete")]);
    assert_eq!(s.role, Role::DeleteHookOnly);
    assert_eq!(s.delete_hooks, [DeleteHook::PreDelete]);
    let s = pod(&[(keys::HELM_HOOK, "post-delete")]);
    assert_eq!(s.role, Role::DeleteHookOnly);
    assert_eq!(s.delete_hooks, [DeleteHook::PostDelete]);
    let s = pod(&[(keys::HOOK, "PreSync,PostDelete")]);
    assert_eq!(s.role, Role::Hook);
    assert_eq!(s.phases, [PreSync]);
    assert_eq!(s.delete_hooks, [DeleteHook::PostDelete]);
}

#[test]
fn cc11_cc12_delete_policies() {
    use DeletePolicy::*;
    let hook = |extra: &[(&str, &str)]| {
        let mut a = vec![(keys::HOOK, "Sync")];
        a.extend_from_slice(extra);
        pod(&a).delete_policies
    };
    let (argo, helm) = (keys::HOOK_DELETE_POLICY, keys::HELM_DELETE_POLICY);
    type Extra<'a> = &'a [(&'a str, &'a str)];
    let cases: [(Extra<'_>, &[DeletePolicy]); 8] = [
        (&[], &[BeforeHookCreation]),
        (&[(argo, "garbage")], &[BeforeHookCreation]),
        (&[(argo, "HookSucceeded")], &[HookSucceeded]),
        (&[(argo, "HookFailed")], &[HookFailed]),
        (&[(helm, "hook-succeeded")], &[HookSucceeded]),
        (
            &[(helm, "before-hook-creation,hook-failed")],
            &[BeforeHookCreation, HookFailed],
        ),
        // Argo and Helm are unioned, unlike hook types.
        (
            &[(argo, "HookSucceeded"), (helm, "hook-failed")],
            &[HookSucceeded, HookFailed],
        ),
        // Not implied once another policy is given.
        (&[(argo, "HookSucceeded,OnSuccess")], &[HookSucceeded]),
    ];
    for (extra, policies) in cases {
        assert_eq!(hook(extra), policies, "{extra:?}");
    }
    // A resource has no policy at all.
    assert!(
        pod(&[(keys::HOOK_DELETE_POLICY, "HookSucceeded")])
            .delete_policies
            .is_empty()
    );
}

#[test]
fn cc13_waves() {
    assert_eq!(pod(&[]).wave, 0);
    assert_eq!(pod(&[(keys::SYNC_WAVE, "1")]).wave, 1);
    assert_eq!(pod(&[(keys::HELM_WEIGHT, "1")]).wave, 1);
    assert_eq!(
        pod(&[(keys::SYNC_WAVE, "1.5"), (keys::HELM_WEIGHT, "-2")]).wave,
        -2
    );
    assert_eq!(pod(&[(keys::SYNC_WAVE, " 1")]).wave, 0);
}

#[test]
fn cc15_plain_resources() {
    let s = pod(&[]);
    assert_eq!((s.role, s.phases.as_slice()), (Role::Resource, &[Sync][..]));
}

#[test]
fn sync_options_known_and_unknown() {
    let s = pod(&[(
        keys::SYNC_OPTIONS,
        "Prune=false, Validate=false,Bogus=1,CreateNamespace=true",
    )]);
    assert!(s.options.has(SyncOption::PruneFalse));
    assert!(s.options.has(SyncOption::ValidateFalse));
    assert_eq!(s.options.unknown, ["Bogus=1", "CreateNamespace=true"]);
    assert!(pod(&[(keys::HELM_RESOURCE_POLICY, "keep")]).helm_keep);
}
