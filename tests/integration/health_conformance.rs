//! Argo CD's own health fixtures (`../shared/conformance/health/`, gitops-engine testdata):
//! every status `expected.tsv` lists, the kinds with no check, and the messages the spec reads
//! from the code. Skipped, loudly, when the folder is not there.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use kubectl_hooks::health::{HealthMode, assess};
use serde_json::Value;

/// Files the upstream test expects no health for: their kind has no built-in check.
const NO_CHECK: &[&str] = &[
    "knative-service.yaml",
    "application-healthy.yaml",
    "application-degraded.yaml",
];

/// Messages as gitops-engine's health checks word them (upstream tests assert only statuses).
#[rustfmt::skip]
const MESSAGES: &[(&str, &str)] = &[
    ("apiservice-v1-false.yaml", "MissingEndpoints: endpoints for service/cert-manager-webhook in \"external-dns\" have no addresses"),
    ("apiservice-v1-true.yaml", "Passed: all checks passed"),
    ("apiservice-v1beta1-false.yaml", "MissingEndpoints: endpoints for service/cert-manager-webhook in \"external-dns\" have no addresses"),
    ("apiservice-v1beta1-true.yaml", "Passed: all checks passed"),
    ("daemonset-ondelete.yaml", "daemon set 0 out of 1 new pods have been updated"),
    ("deployment-degraded.yaml", "Deployment \"guestbook-ui\" exceeded its progress deadline"),
    ("deployment-progressing.yaml", "Waiting for rollout to finish: 1 old replicas are pending termination..."),
    ("deployment-suspended.yaml", "Deployment is paused"),
    ("hpa-v1-degraded.yaml", "the HPA controller was unable to get the target's current scale"),
    ("hpa-v1-healthy-toofew.yaml", "recommended size matches current size"),
    ("hpa-v1-healthy.yaml", "the HPA controller was able to update the target scale to 1"),
    ("hpa-v1-progressing-with-no-annotations.yaml", "Waiting to Autoscale"),
    ("hpa-v1-progressing.yaml", "Waiting to Autoscale"),
    ("hpa-v2-degraded.yaml", "the HPA controller was unable to get the target's current scale: deployments/scale.apps \"sandbox-test-app-8\" not found"),
    ("hpa-v2-healthy.yaml", "recommended size matches current size"),
    ("hpa-v2-progressing.yaml", "Waiting to Autoscale"),
    ("hpa-v2beta1-healthy-disabled.yaml", "the HPA controller was able to get the target's current scale"),
    ("hpa-v2beta1-healthy.yaml", "recommended size matches current size"),
    ("hpa-v2beta2-healthy.yaml", "recommended size matches current size"),
    ("ingress-nonemptylist.yaml", ""),
    ("ingress-unassigned.yaml", ""),
    ("ingress.yaml", ""),
    ("job-failed.yaml", "Job has reached the specified backoff limit"),
    ("job-running.yaml", ""),
    ("job-succeeded.yaml", ""),
    ("job-suspended.yaml", ""),
    ("nginx.yaml", ""),
    ("pod-crashloop.yaml", "Back-off 40s restarting failed container=main pod=my-pod_argocd(63674389-f613-11e8-a057-fe5f49266390)"),
    ("pod-deletion.yaml", "Pending deletion"),
    ("pod-error.yaml", ""),
    ("pod-failed.yaml", "container \"main\" failed with exit code 1"),
    ("pod-imagepullbackoff.yaml", "Back-off pulling image \"gcr.io/heptio-images/ks-guestbook-demo:0.3\""),
    ("pod-pending.yaml", ""),
    ("pod-running-not-ready.yaml", ""),
    ("pod-running-restart-always.yaml", ""),
    ("pod-running-restart-never.yaml", ""),
    ("pod-running-restart-onfailure.yaml", ""),
    ("pod-succeeded.yaml", ""),
    ("pvc-bound.yaml", ""),
    ("pvc-pending.yaml", ""),
    ("statefulset-ondelete.yaml", "statefulset has 1 ready pods"),
    ("statefulset.yaml", "statefulset has 1 ready pods"),
    ("svc-clusterip.yaml", ""),
    ("svc-loadbalancer-nonemptylist.yaml", ""),
    ("svc-loadbalancer-unassigned.yaml", ""),
    ("svc-loadbalancer.yaml", ""),
];

/// The fixtures' folder, or `None` (said on stderr: the test is skipped) when it is absent.
fn folder() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/conformance/health");
    if !dir.is_dir() {
        eprintln!("health conformance: skipped, ../shared/conformance/health/ not found");
        return None;
    }
    Some(dir)
}

/// Parse a fixture the way Go's lenient loader does: one file (`statefulset-ondelete.yaml`)
/// repeats a key, and the last value wins.
fn load(dir: &Path, file: &str) -> Value {
    let text = fs::read_to_string(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
    let options = serde_saphyr::options! {
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::LastWins,
    };
    serde_saphyr::from_str_with_options(&text, options).unwrap_or_else(|e| panic!("{file}: {e}"))
}

fn expected(dir: &Path) -> BTreeMap<String, String> {
    let tsv = fs::read_to_string(dir.join("expected.tsv")).expect("expected.tsv");
    let mut lines = tsv.lines();
    assert_eq!(lines.next(), Some("file\tstatus"), "expected.tsv header");
    lines
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let (file, status) = line.split_once('\t').expect("file<TAB>status");
            (file.to_string(), status.trim().to_string())
        })
        .collect()
}

#[test]
fn every_fixture_gets_the_status_argo_expects() {
    let Some(dir) = folder() else { return };
    let expected = expected(&dir);
    let mut failures = Vec::new();
    for (file, status) in &expected {
        let obj = load(&dir, file);
        match assess(&obj, HealthMode::Argo) {
            Some(h) if h.status.to_string() == *status => {}
            other => failures.push(format!("{file}: expected {status}, got {other:?}")),
        }
    }
    for file in NO_CHECK {
        let obj = load(&dir, file);
        if let Some(h) = assess(&obj, HealthMode::Argo) {
            failures.push(format!("{file}: expected no health, got {h:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    println!(
        "health conformance: {} fixtures checked ({} statuses, {} without a check)",
        expected.len() + NO_CHECK.len(),
        expected.len(),
        NO_CHECK.len()
    );
}

#[test]
fn every_fixture_in_the_folder_is_covered() {
    let Some(dir) = folder() else { return };
    let expected = expected(&dir);
    let uncovered: Vec<String> = fs::read_dir(&dir)
        .expect("read conformance folder")
        .map(|entry| {
            entry
                .expect("dir entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name.ends_with(".yaml"))
        .filter(|name| !expected.contains_key(name) && !NO_CHECK.contains(&name.as_str()))
        .collect();
    assert!(
        uncovered.is_empty(),
        "fixtures with no expectation: {uncovered:?}"
    );
}

#[test]
fn messages_match_the_spec_reading() {
    let Some(dir) = folder() else { return };
    let mut failures = Vec::new();
    for (file, message) in MESSAGES {
        let health = assess(&load(&dir, file), HealthMode::Argo).expect(file);
        if health.message != *message {
            failures.push(format!(
                "{file}: expected {message:?}, got {:?}",
                health.message
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    println!("health conformance: {} messages checked", MESSAGES.len());
}

#[test]
fn kstatus_mode_keeps_argo_verdicts_for_the_fixtures() {
    let Some(dir) = folder() else { return };
    // Built-in kinds keep Argo's rules; the Knative Service and Applications carry Ready
    // conditions or a health block, which kstatus may read, so they are left out here.
    for (file, _) in MESSAGES {
        let obj = load(&dir, file);
        assert_eq!(
            assess(&obj, HealthMode::Kstatus),
            assess(&obj, HealthMode::Argo),
            "{file}"
        );
    }
}
