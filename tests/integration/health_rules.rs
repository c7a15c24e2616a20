//! Every health rule and message, one fixture per situation (`tests/fixtures/health/`), plus
//! the mapping of a hook's health to its outcome and kstatus mode.

use std::collections::BTreeSet;
use std::fs;
use std::path::PathBuf;

use kubectl_hooks::health::{
    Health, HealthMode, HealthStatus, HookOutcome, assess, hook_outcome, try_assess,
};
use serde_json::Value;

use HealthMode::{Argo, Kstatus};
use HealthStatus::*;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/health")
}

fn load(file: &str) -> Value {
    let text = fs::read_to_string(fixtures().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    serde_saphyr::from_str::<Value>(&text).unwrap_or_else(|e| panic!("{file}: {e}"))
}

type Case = (
    &'static str,
    HealthMode,
    Option<(HealthStatus, &'static str)>,
);

#[rustfmt::skip]
const CASES: &[Case] = &[
    // Deletion first, for every kind, unless the hook finalizer holds it.
    ("configmap.yaml", Argo, None),
    ("configmap-deleting.yaml", Argo, Some((Progressing, "Pending deletion"))),
    ("pod-deleting-other-finalizer.yaml", Argo, Some((Progressing, "Pending deletion"))),
    ("job-deleting-with-hook-finalizer.yaml", Argo, Some((Healthy, "Reached expected number of succeeded pods"))),
    // Dispatch by group and kind, version checked by the check.
    ("deployment-extensions-v1beta1.yaml", Argo, None),
    ("daemonset-extensions-v1beta1.yaml", Argo, None),
    ("rollout.yaml", Argo, None),
    ("deployment-apps-v1beta2.yaml", Argo, Some((Unknown, "unsupported Deployment GVK: apps/v1beta2, Kind=Deployment"))),
    ("pod-core-v2.yaml", Argo, Some((Unknown, "unsupported Pod GVK: /v2, Kind=Pod"))),
    ("job-batch-v1beta1.yaml", Argo, Some((Unknown, "unsupported Job GVK: batch/v1beta1, Kind=Job"))),
    ("hpa-autoscaling-v3.yaml", Argo, Some((Unknown, "unsupported HPA GVK: autoscaling/v3, Kind=HorizontalPodAutoscaler"))),
    ("apiservice-v1alpha1.yaml", Argo, Some((Unknown, "unsupported APIService GVK: apiregistration.k8s.io/v1alpha1, Kind=APIService"))),
    // Objects that do not decode are Unknown with the reason; untyped kinds shrug.
    ("not-an-object.yaml", Argo, Some((Unknown, "object is not a JSON object (found array)"))),
    ("missing-kind.yaml", Argo, Some((Unknown, "object has no kind"))),
    ("missing-apiversion.yaml", Argo, Some((Unknown, "object has no apiVersion"))),
    ("deployment-replicas-string.yaml", Argo, Some((Unknown, "failed to convert unstructured Deployment to typed: .spec.replicas: expected 32-bit integer, found string"))),
    ("deployment-paused-string.yaml", Argo, Some((Unknown, "failed to convert unstructured Deployment to typed: .spec.paused: expected boolean, found string"))),
    ("pod-containerstatuses-object.yaml", Argo, Some((Unknown, "failed to convert unstructured Pod to typed: .status.containerStatuses: expected array, found object"))),
    ("job-condition-type-number.yaml", Argo, Some((Unknown, "failed to convert unstructured Job to typed: .status.conditions[0].type: expected string, found number"))),
    ("hpa-v2-conditions-string.yaml", Argo, Some((Unknown, "failed to convert unstructured HPA to typed: .status.conditions: expected array, found string"))),
    ("hpa-v1-annotation-invalid-json.yaml", Argo, Some((Unknown, "failed to convert conditions annotation to typed: expected value at line 1 column 1"))),
    ("ingress-status-wrong-type.yaml", Argo, Some((Progressing, ""))),
    ("workflow-phase-number.yaml", Argo, Some((Progressing, ""))),
    // Deployment
    ("deployment-paused-generation-behind.yaml", Argo, Some((Suspended, "Deployment is paused"))),
    ("deployment-generation-behind.yaml", Argo, Some((Progressing, "Waiting for rollout to finish: observed deployment generation less than desired generation"))),
    ("deployment-progress-deadline-exceeded.yaml", Argo, Some((Degraded, "Deployment \"web\" exceeded its progress deadline"))),
    ("deployment-updating.yaml", Argo, Some((Progressing, "Waiting for rollout to finish: 1 out of 3 new replicas have been updated..."))),
    ("deployment-old-replicas-pending.yaml", Argo, Some((Progressing, "Waiting for rollout to finish: 1 old replicas are pending termination..."))),
    ("deployment-updated-not-available.yaml", Argo, Some((Progressing, "Waiting for rollout to finish: 2 of 3 updated replicas are available..."))),
    ("deployment-no-spec-replicas.yaml", Argo, Some((Healthy, ""))),
    ("deployment-healthy.yaml", Argo, Some((Healthy, ""))),
    // StatefulSet
    ("statefulset-never-observed.yaml", Argo, Some((Progressing, "Waiting for statefulset spec update to be observed..."))),
    ("statefulset-generation-behind.yaml", Argo, Some((Progressing, "Waiting for statefulset spec update to be observed..."))),
    ("statefulset-pods-not-ready.yaml", Argo, Some((Progressing, "Waiting for 2 pods to be ready..."))),
    ("statefulset-partition-rolling.yaml", Argo, Some((Progressing, "Waiting for partitioned roll out to finish: 1 out of 2 new pods have been updated..."))),
    ("statefulset-partition-complete.yaml", Argo, Some((Healthy, "partitioned roll out complete: 2 new pods have been updated..."))),
    ("statefulset-rollingupdate-without-partition.yaml", Argo, Some((Healthy, "partitioned roll out complete: 3 new pods have been updated..."))),
    ("statefulset-revision-pending.yaml", Argo, Some((Progressing, "waiting for statefulset rolling update to complete 1 pods at revision db-2..."))),
    ("statefulset-rolled-out.yaml", Argo, Some((Healthy, "statefulset rolling update complete 3 pods at revision db-2..."))),
    // DaemonSet
    ("daemonset-generation-behind.yaml", Argo, Some((Progressing, "Waiting for rollout to finish: observed daemon set generation less than desired generation"))),
    ("daemonset-ondelete-behind.yaml", Argo, Some((Healthy, "daemon set 1 out of 3 new pods have been updated"))),
    ("daemonset-updating.yaml", Argo, Some((Progressing, "Waiting for daemon set \"agent\" rollout to finish: 1 out of 3 new pods have been updated..."))),
    ("daemonset-updated-not-available.yaml", Argo, Some((Progressing, "Waiting for daemon set \"agent\" rollout to finish: 2 of 3 updated pods are available..."))),
    ("daemonset-healthy.yaml", Argo, Some((Healthy, ""))),
    // ReplicaSet
    ("replicaset-generation-behind.yaml", Argo, Some((Progressing, "Waiting for rollout to finish: observed replica set generation less than desired generation"))),
    ("replicaset-replica-failure.yaml", Argo, Some((Degraded, "pods \"web-5d8f-x2k\" is forbidden: exceeded quota: compute"))),
    ("replicaset-replica-failure-false.yaml", Argo, Some((Progressing, "Waiting for rollout to finish: 1 out of 2 new replicas are available..."))),
    ("replicaset-healthy.yaml", Argo, Some((Healthy, ""))),
    // Job
    ("job-complete-with-message.yaml", Argo, Some((Healthy, "Reached expected number of succeeded pods"))),
    ("job-failed-before-complete.yaml", Argo, Some((Degraded, "Job has reached the specified backoff limit"))),
    ("job-failed-condition-false.yaml", Argo, Some((Degraded, "not really"))),
    ("job-resumed.yaml", Argo, Some((Healthy, "Job resumed"))),
    ("job-suspended-with-message.yaml", Argo, Some((Suspended, ""))),
    ("job-failure-target-only.yaml", Argo, Some((Progressing, ""))),
    // Pod
    ("pod-always-waiting-errors.yaml", Argo, Some((Degraded, "pull access denied for private/app, "))),
    ("pod-always-init-container-backoff.yaml", Argo, Some((Progressing, ""))),
    ("pod-never-pending-imagepullbackoff.yaml", Argo, Some((Progressing, ""))),
    ("pod-never-running-ready.yaml", Argo, Some((Progressing, ""))),
    ("pod-always-running-restarted-not-ready.yaml", Argo, Some((Degraded, "readiness probe failing"))),
    ("pod-running-no-restart-policy.yaml", Argo, Some((Unknown, ""))),
    ("pod-phase-unknown.yaml", Argo, Some((Unknown, "node lost contact"))),
    ("pod-failed-with-message.yaml", Argo, Some((Degraded, "The node was low on resource: memory."))),
    ("pod-failed-init-oomkilled.yaml", Argo, Some((Degraded, "OOMKilled"))),
    ("pod-failed-termination-message.yaml", Argo, Some((Degraded, "migration failed: relation \"users\" already exists"))),
    ("pod-failed-init-exit-zero.yaml", Argo, Some((Degraded, "container \"main\" failed with exit code 2"))),
    ("pod-failed-without-details.yaml", Argo, Some((Degraded, ""))),
    // PVC
    ("pvc-lost.yaml", Argo, Some((Degraded, ""))),
    ("pvc-no-status.yaml", Argo, Some((Unknown, ""))),
    // Service
    ("svc-nodeport.yaml", Argo, Some((Healthy, ""))),
    ("svc-loadbalancer-empty-list.yaml", Argo, Some((Progressing, ""))),
    // Ingress
    ("ingress-extensions-v1beta1.yaml", Argo, Some((Healthy, ""))),
    ("ingress-empty-list.yaml", Argo, Some((Progressing, ""))),
    // APIService
    ("apiservice-no-conditions.yaml", Argo, Some((Progressing, "Waiting to be processed"))),
    ("apiservice-available-unknown.yaml", Argo, Some((Progressing, ": "))),
    // HPA
    ("hpa-v1-empty-conditions.yaml", Argo, Some((Progressing, "Waiting to Autoscale"))),
    ("hpa-v1-case-insensitive-keys.yaml", Argo, Some((Healthy, "recommended size matches current size"))),
    ("hpa-v2-scaling-limited.yaml", Argo, Some((Healthy, "the desired replica count is less than the minimum replica count"))),
    ("hpa-v2-invalid-selector.yaml", Argo, Some((Degraded, "the HPA target's scale is missing a selector"))),
    ("hpa-v2beta2-failed-update-scale.yaml", Argo, Some((Degraded, "the HPA controller was unable to update the target scale"))),
    // Workflow
    ("workflow-running.yaml", Argo, Some((Progressing, "step 2 of 3"))),
    ("workflow-succeeded.yaml", Argo, Some((Healthy, "all steps passed"))),
    ("workflow-no-status.yaml", Argo, Some((Progressing, ""))),
    ("workflow-failed.yaml", Argo, Some((Degraded, "child 'smoke-test-123' failed"))),
    ("workflow-error.yaml", Argo, Some((Degraded, "pod deleted"))),
    ("workflow-unknown-phase.yaml", Argo, Some((Unknown, ""))),
    // Custom resources have no check in Argo mode, whatever their status says.
    ("cr-ready-true.yaml", Argo, None),
    ("cr-stalled.yaml", Argo, None),
    ("crd-no-status.yaml", Argo, None),
    ("cr-deleting.yaml", Argo, Some((Progressing, "Pending deletion"))),
    // Kstatus mode: conventions for kinds Argo has no check for.
    ("configmap.yaml", Kstatus, None),
    ("cr-no-status.yaml", Kstatus, None),
    ("cr-generation-not-observed.yaml", Kstatus, Some((Progressing, "waiting for the controller to observe generation 3"))),
    ("cr-stalled.yaml", Kstatus, Some((Degraded, "path ./apps does not exist"))),
    ("cr-reconciling.yaml", Kstatus, Some((Progressing, "Reconciliation in progress"))),
    ("cr-ready-false-in-progress.yaml", Kstatus, Some((Progressing, "instance is being created"))),
    ("cr-ready-false-failed.yaml", Kstatus, Some((Degraded, "install retries exhausted"))),
    ("cr-ready-unknown.yaml", Kstatus, Some((Progressing, "Ready=Unknown"))),
    ("cr-ready-true.yaml", Kstatus, Some((Healthy, "Certificate is up to date and has not expired"))),
    ("cr-ready-true-reason-only.yaml", Kstatus, Some((Healthy, "Available"))),
    ("cr-unrelated-conditions.yaml", Kstatus, None),
    ("cr-conditions-not-a-list.yaml", Kstatus, None),
    ("cr-deleting.yaml", Kstatus, Some((Progressing, "Pending deletion"))),
    ("crd-established.yaml", Kstatus, Some((Healthy, "the initial names have been accepted"))),
    ("crd-not-established.yaml", Kstatus, Some((Progressing, "waiting for the CustomResourceDefinition to be established"))),
    ("crd-no-status.yaml", Kstatus, Some((Progressing, "waiting for the CustomResourceDefinition to be established"))),
    // Built-in kinds keep Argo's rules in kstatus mode.
    ("deployment-generation-behind.yaml", Kstatus, Some((Progressing, "Waiting for rollout to finish: observed deployment generation less than desired generation"))),
    ("pod-running-no-restart-policy.yaml", Kstatus, Some((Unknown, ""))),
    ("rollout.yaml", Kstatus, None),
];

#[test]
fn every_rule_gives_its_status_and_message() {
    let mut failures = Vec::new();
    for (file, mode, want) in CASES {
        let got = assess(&load(file), *mode);
        let want = want.map(|(status, message)| Health::new(status, message));
        if got != want {
            failures.push(format!("{file} ({mode:?}): expected {want:?}, got {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    println!("health rules: {} cases checked", CASES.len());
}

#[test]
fn every_fixture_is_used() {
    let used: BTreeSet<&str> = CASES
        .iter()
        .map(|(file, _, _)| *file)
        .chain(HOOKS.iter().map(|(file, _, _, _)| *file))
        .collect();
    let unused: Vec<String> = fs::read_dir(fixtures())
        .expect("fixtures folder")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|name| !used.contains(name.as_str()))
        .collect();
    assert!(unused.is_empty(), "fixtures no case uses: {unused:?}");
}

/// Kinds whose check decodes typed fields fail with an error (hook phase Error in Argo, Failed
/// here); an Unknown verdict without an error is a plain Failed.
#[test]
fn decode_failures_are_errors_unknown_verdicts_are_not() {
    assert!(try_assess(&load("deployment-replicas-string.yaml"), Argo).is_err());
    assert!(try_assess(&load("not-an-object.yaml"), Argo).is_err());
    let verdict = try_assess(&load("pod-phase-unknown.yaml"), Argo).expect("no error");
    assert_eq!(verdict.map(|h| h.status), Some(Unknown));
}

#[test]
fn no_input_panics() {
    let odd = [
        "null",
        "1",
        "\"x\"",
        "[]",
        "{}",
        r#"{"apiVersion": "v1", "kind": "Pod", "metadata": [], "spec": 1, "status": "x"}"#,
        r#"{"apiVersion": "apps/v1", "kind": "StatefulSet", "spec": {"updateStrategy": {"rollingUpdate": 3}}}"#,
        r#"{"apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler", "metadata": {"annotations": {"autoscaling.alpha.kubernetes.io/conditions": "{}"}}}"#,
        r#"{"apiVersion": "v1", "kind": "Pod", "metadata": {"deletionTimestamp": "x", "finalizers": "y"}}"#,
        r#"{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"generation": -9223372036854775808}, "status": {"replicas": 2147483647, "updatedReplicas": -2147483648}}"#,
        r#"{"apiVersion": "example.com/v1", "kind": "X", "metadata": {"generation": "2"}, "status": {"observedGeneration": [], "conditions": [1, null, {"type": 2}]}}"#,
    ];
    for text in odd {
        let obj: Value = serde_json::from_str(text).unwrap();
        for mode in [Argo, Kstatus] {
            let _ = assess(&obj, mode);
            let _ = hook_outcome(&obj, mode);
        }
    }
    let hpa: Value = serde_json::from_str(odd[7]).unwrap();
    let extreme: Value = serde_json::from_str(odd[9]).unwrap();
    assert_eq!(
        assess(&extreme, Argo).unwrap().message,
        "Waiting for rollout to finish: 4294967295 old replicas are pending termination..."
    );
    assert_eq!(
        assess(&hpa, Argo).unwrap().message,
        "failed to convert conditions annotation to typed: .: expected array, found object"
    );
}

type HookCase = (&'static str, HealthMode, HookOutcome, &'static str);

/// Health mapped to the hook's outcome.
#[rustfmt::skip]
const HOOKS: &[HookCase] = &[
    ("job-complete-with-message.yaml", Argo, HookOutcome::Succeeded, "Reached expected number of succeeded pods"),
    ("job-failed-before-complete.yaml", Argo, HookOutcome::Failed, "Job has reached the specified backoff limit"),
    ("job-failure-target-only.yaml", Argo, HookOutcome::Running, ""),
    ("job-suspended-with-message.yaml", Argo, HookOutcome::Running, ""),
    ("job-resumed.yaml", Argo, HookOutcome::Succeeded, "Job resumed"),
    ("job-deleting-with-hook-finalizer.yaml", Argo, HookOutcome::Succeeded, "Reached expected number of succeeded pods"),
    ("configmap.yaml", Argo, HookOutcome::Succeeded, "migration-config created"),
    ("configmap-deleting.yaml", Argo, HookOutcome::Running, "Pending deletion"),
    ("pod-never-pending-imagepullbackoff.yaml", Argo, HookOutcome::Running, ""),
    ("pod-never-running-ready.yaml", Argo, HookOutcome::Running, ""),
    ("pod-failed-termination-message.yaml", Argo, HookOutcome::Failed, "migration failed: relation \"users\" already exists"),
    ("pod-always-waiting-errors.yaml", Argo, HookOutcome::Failed, "pull access denied for private/app, "),
    ("pod-phase-unknown.yaml", Argo, HookOutcome::Failed, "node lost contact"),
    ("workflow-running.yaml", Argo, HookOutcome::Running, "step 2 of 3"),
    ("workflow-succeeded.yaml", Argo, HookOutcome::Succeeded, "all steps passed"),
    ("workflow-error.yaml", Argo, HookOutcome::Failed, "pod deleted"),
    ("workflow-unknown-phase.yaml", Argo, HookOutcome::Failed, ""),
    ("deployment-replicas-string.yaml", Argo, HookOutcome::Failed, "failed to get resource health: failed to convert unstructured Deployment to typed: .spec.replicas: expected 32-bit integer, found string"),
    ("not-an-object.yaml", Argo, HookOutcome::Failed, "failed to get resource health: object is not a JSON object (found array)"),
    ("cr-ready-false-failed.yaml", Argo, HookOutcome::Succeeded, "podinfo created"),
    ("cr-ready-false-failed.yaml", Kstatus, HookOutcome::Failed, "install retries exhausted"),
    ("cr-reconciling.yaml", Kstatus, HookOutcome::Running, "Reconciliation in progress"),
];

#[test]
fn hook_outcome_maps_health_to_hook_phase() {
    let mut failures = Vec::new();
    for (file, mode, outcome, message) in HOOKS {
        let got = hook_outcome(&load(file), *mode);
        if got != (*outcome, message.to_string()) {
            failures.push(format!(
                "{file} ({mode:?}): expected {outcome} {message:?}, got {got:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn hook_outcome_for_each_status() {
    let cases = [
        (Healthy, HookOutcome::Succeeded, "m"),
        (Suspended, HookOutcome::Running, "m"),
        (Progressing, HookOutcome::Running, "m"),
        (Degraded, HookOutcome::Failed, "m"),
        (Unknown, HookOutcome::Failed, "m"),
        // Only an override can say Missing; Argo falls through to "created".
        (Missing, HookOutcome::Succeeded, "hook created"),
    ];
    for (status, outcome, message) in cases {
        let health = Health::new(status, "m");
        assert_eq!(
            HookOutcome::from_health(Some(&health), "hook"),
            (outcome, message.to_string()),
            "{status}"
        );
    }
    assert_eq!(
        HookOutcome::from_health(None, "hook"),
        (HookOutcome::Succeeded, "hook created".to_string())
    );
    assert_eq!(HookOutcome::Running.to_string(), "Running");
}
