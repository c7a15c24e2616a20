use super::*;
use serde_json::json;

fn job_kind() -> ResolvedKind {
    ResolvedKind {
        group: "batch".into(),
        version: "v1".into(),
        api_version: "batch/v1".into(),
        kind: "Job".into(),
        plural: "jobs".into(),
        namespaced: true,
        verbs: vec!["list".into(), "delete".into()],
    }
}

fn job(condition: Option<&str>, annotations: Value) -> Value {
    let conditions = match condition {
        Some(c) => json!([{"type": c, "status": "True", "message": c}]),
        None => json!([]),
    };
    json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": "migrate", "namespace": "ns", "annotations": annotations,
                     "labels": {"kubectl-hooks.io/hook": "true", "kubectl-hooks.io/phase": "presync"}},
        "spec": {}, "status": {"conditions": conditions}
    })
}

#[test]
fn each_policy_and_state() {
    let kind = job_kind();
    let argo = |p: &str| json!({"argocd.argoproj.io/hook-delete-policy": p});
    let cases = [
        (Some("Complete"), argo("HookSucceeded"), true),
        (Some("Failed"), argo("HookSucceeded"), false),
        (Some("Failed"), argo("HookFailed"), true),
        (Some("Complete"), argo("HookFailed"), false),
        (Some("Complete"), argo("BeforeHookCreation"), false),
        (Some("Complete"), json!({}), false),
        (None, argo("HookSucceeded"), false),
        // Helm's policies count as Argo's do.
        (
            Some("Complete"),
            json!({"helm.sh/hook-delete-policy": "hook-succeeded"}),
            true,
        ),
    ];
    for (condition, annotations, deletes) in cases {
        let found = judge(&kind, &job(condition, annotations.clone()), false, false);
        assert_eq!(
            found.decision.deletes(),
            deletes,
            "{condition:?} {annotations}: {:?}",
            found.decision
        );
    }
    let kept = judge(&kind, &job(Some("Complete"), json!({})), false, false);
    assert_eq!(
        kept.decision.reason(),
        "BeforeHookCreation: replaced at the next sync"
    );
    assert_eq!(kept.phase, "presync");
    assert_eq!(kept.reference().phase, Phase::PreSync);
}

#[test]
fn all_and_force() {
    let kind = job_kind();
    let done = job(Some("Complete"), json!({}));
    let running = job(None, json!({}));
    assert!(judge(&kind, &done, true, false).decision.deletes());
    assert!(!judge(&kind, &running, true, false).decision.deletes());
    assert!(judge(&kind, &running, true, true).decision.deletes());
    let mut leaving = done.clone();
    leaving["metadata"]["deletionTimestamp"] = json!("2025-01-01T00:00:00Z");
    assert_eq!(
        judge(&kind, &leaving, true, true).decision,
        Decision::Keep("already being deleted".into())
    );
}

#[test]
fn input_hooks_match_by_name_or_generate_name() {
    let kind = job_kind();
    let query = |ns: Option<&str>| Query {
        namespace: ns.map(str::to_owned),
        only: None,
        all: false,
        force: false,
        concurrency: 1,
        app: None,
    };
    let wanted = |name: Option<&str>, prefix: Option<&str>| Wanted {
        api_version: "batch/v1".into(),
        kind: "Job".into(),
        namespace: None,
        name: name.map(str::to_owned),
        generate_name: prefix.map(str::to_owned),
    };
    let mut live = job(None, json!({"kubectl-hooks.io/generate-name": "check-"}));
    assert!(matches(
        &wanted(Some("migrate"), None),
        &kind,
        &live,
        &query(Some("ns"))
    ));
    assert!(!matches(
        &wanted(Some("other"), None),
        &kind,
        &live,
        &query(Some("ns"))
    ));
    assert!(!matches(
        &wanted(Some("migrate"), None),
        &kind,
        &live,
        &query(Some("elsewhere"))
    ));
    assert!(matches(
        &wanted(Some("migrate"), None),
        &kind,
        &live,
        &query(None)
    ));
    live["metadata"]["name"] = json!("check-abc-presync-1");
    assert!(matches(
        &wanted(None, Some("check-")),
        &kind,
        &live,
        &query(Some("ns"))
    ));
    let mut pod = wanted(Some("check-abc-presync-1"), None);
    pod.api_version = "v1".into();
    assert!(!matches(&pod, &kind, &live, &query(Some("ns"))));
}
