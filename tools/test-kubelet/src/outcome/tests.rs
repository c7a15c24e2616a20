use super::*;
use serde_json::{Value, json};

fn pod(restart_policy: &str, annotations: &[(&str, &str)]) -> Pod {
    serde_json::from_value(json!({
        "metadata": {
            "name": "p",
            "namespace": "ns",
            "uid": "u-1",
            "annotations": annotations.iter().cloned().collect::<std::collections::BTreeMap<_, _>>(),
        },
        "spec": {
            "restartPolicy": restart_policy,
            "initContainers": [{"name": "init", "image": "busybox"}],
            "containers": [
                {"name": "a", "image": "busybox", "env": [
                    {"name": "PLAIN", "value": "x"},
                    {"name": "PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "pw"}}},
                ]},
                {"name": "b", "image": "nginx"},
            ],
        },
    }))
    .unwrap()
}

fn run(p: &Pod) -> (Value, Vec<EventSpec>) {
    match plan(p, &requested(p).unwrap(), "10.244.0.1", "T") {
        Plan::Run { patch, events, .. } => (patch["status"].clone(), events),
        other => panic!("{other:?}"),
    }
}

fn reasons(events: &[EventSpec]) -> Vec<(&str, &str)> {
    events
        .iter()
        .map(|e| (e.reason, e.message.as_str()))
        .collect()
}

#[test]
fn delays() {
    assert_eq!(parse_delay("300ms"), Some(Duration::from_millis(300)));
    assert_eq!(parse_delay("2s"), Some(Duration::from_secs(2)));
    assert_eq!(parse_delay("1.5s"), Some(Duration::from_millis(1500)));
    assert_eq!(parse_delay("1m"), Some(Duration::from_secs(60)));
    assert_eq!(parse_delay("250"), Some(Duration::from_millis(250)));
    assert_eq!(parse_delay("0s"), Some(Duration::ZERO));
    assert_eq!(parse_delay("soon"), None);
    assert_eq!(parse_delay("-1s"), None);
    assert_eq!(parse_delay("2h"), None);
}

#[test]
fn requests_from_annotations() {
    let r = requested(&pod("Never", &[])).unwrap();
    assert_eq!(r.outcome, Outcome::Succeed);
    assert_eq!(r.delay, DEFAULT_DELAY);
    assert_eq!((r.restarts, r.exit_code, r.container), (3, 1, None));
    assert_eq!(r.run_for, Duration::ZERO);
    let p = pod(
        "Always",
        &[
            (OUTCOME_ANNOTATION, "never-ready"),
            (DELAY_ANNOTATION, "2s"),
            (RESTARTS_ANNOTATION, "7"),
            (CONTAINER_ANNOTATION, "init"),
        ],
    );
    let r = requested(&p).unwrap();
    assert_eq!(r.outcome, Outcome::NeverReady);
    assert_eq!(r.delay, Duration::from_secs(2));
    assert_eq!(r.restarts, 7);
    assert_eq!(r.container.as_deref(), Some("init"));
    for bad in [
        (OUTCOME_ANNOTATION, "explode"),
        (DELAY_ANNOTATION, "later"),
        (RESTARTS_ANNOTATION, "-1"),
        (EXIT_CODE_ANNOTATION, "0"),
        (CONTAINER_ANNOTATION, "nope"),
    ] {
        assert!(requested(&pod("Never", &[bad])).is_err(), "{bad:?}");
    }
}

#[test]
fn job_pod_succeeds() {
    let (s, events) = run(&pod("Never", &[]));
    assert_eq!(s["phase"], "Succeeded");
    assert_eq!(s["podIP"], "10.244.0.1");
    assert_eq!(s["startTime"], "T");
    for c in s["containerStatuses"].as_array().unwrap() {
        assert_eq!(c["state"]["terminated"]["exitCode"], 0);
        assert_eq!(c["state"]["terminated"]["reason"], "Completed");
    }
    assert_eq!(
        s["initContainerStatuses"][0]["state"]["terminated"]["exitCode"],
        0
    );
    assert!(events.is_empty());
}

#[test]
fn job_pod_fails_with_the_asked_exit_code() {
    let (s, _) = run(&pod(
        "Never",
        &[(OUTCOME_ANNOTATION, "fail"), (EXIT_CODE_ANNOTATION, "3")],
    ));
    assert_eq!(s["phase"], "Failed");
    let c = &s["containerStatuses"][1];
    assert_eq!(c["state"]["terminated"]["exitCode"], 3);
    assert_eq!(c["state"]["terminated"]["reason"], "Error");
}

#[test]
fn serving_pod_becomes_ready() {
    let (s, _) = run(&pod("Always", &[]));
    assert_eq!(s["phase"], "Running");
    for c in s["conditions"].as_array().unwrap() {
        assert_eq!(c["status"], "True", "{c}");
        assert_eq!(c["lastTransitionTime"], "T");
    }
    let c = &s["containerStatuses"][0];
    assert_eq!((&c["ready"], &c["started"]), (&json!(true), &json!(true)));
    assert_eq!(c["state"]["running"]["startedAt"], "T");
}

#[test]
fn crash_loop_counts_restarts_and_warns() {
    let (s, events) = run(&pod(
        "Always",
        &[
            (OUTCOME_ANNOTATION, "crashloop"),
            (RESTARTS_ANNOTATION, "5"),
        ],
    ));
    assert_eq!(s["phase"], "Running");
    let ready = s["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "Ready");
    assert_eq!(ready.unwrap()["status"], "False");
    let c = &s["containerStatuses"][0];
    assert_eq!(c["ready"], false);
    assert_eq!(c["restartCount"], 5);
    assert_eq!(c["state"]["waiting"]["reason"], "CrashLoopBackOff");
    assert_eq!(c["lastState"]["terminated"]["exitCode"], 1);
    assert_eq!(events.len(), 2, "one BackOff per container");
    assert_eq!(events[0].reason, "BackOff");
    assert_eq!(events[0].count, 5);
    assert_eq!(events[0].field_path.as_deref(), Some("spec.containers{a}"));
}

#[test]
fn serving_pod_that_should_fail_crash_loops() {
    let (s, _) = run(&pod("Always", &[(OUTCOME_ANNOTATION, "fail")]));
    assert_eq!(
        s["containerStatuses"][0]["state"]["waiting"]["reason"],
        "CrashLoopBackOff"
    );
}

#[test]
fn image_pull_back_off_waits_with_the_kubelet_events() {
    let p = pod(
        "Always",
        &[
            (OUTCOME_ANNOTATION, "image-pull-backoff"),
            (CONTAINER_ANNOTATION, "b"),
        ],
    );
    let (s, events) = run(&p);
    // One container runs, so the pod does.
    assert_eq!(s["phase"], "Running");
    let b = &s["containerStatuses"][1];
    assert_eq!(b["state"]["waiting"]["reason"], "ImagePullBackOff");
    assert_eq!(
        b["state"]["waiting"]["message"],
        "Back-off pulling image \"nginx\""
    );
    assert!(b.get("containerID").is_none());
    assert_eq!(s["containerStatuses"][0]["ready"], true);
    let r = reasons(&events);
    assert_eq!(r[0].0, "Failed");
    assert!(
        r[0].1.starts_with("Failed to pull image \"nginx\": "),
        "{r:?}"
    );
    assert_eq!(r[1], ("Failed", "Error: ErrImagePull"));
    assert_eq!(r[2], ("BackOff", "Back-off pulling image \"nginx\""));
    assert!(!events[2].warning);
    assert_eq!(r[3], ("Failed", "Error: ImagePullBackOff"));

    let (s, _) = run(&pod(
        "Always",
        &[(OUTCOME_ANNOTATION, "image-pull-backoff")],
    ));
    assert_eq!(s["phase"], "Pending");
}

#[test]
fn create_config_error_names_the_missing_secret() {
    let p = pod(
        "Always",
        &[
            (OUTCOME_ANNOTATION, "create-config-error"),
            (CONTAINER_ANNOTATION, "a"),
        ],
    );
    let (s, events) = run(&p);
    let a = &s["containerStatuses"][0];
    assert_eq!(
        a["state"]["waiting"]["reason"],
        "CreateContainerConfigError"
    );
    assert_eq!(a["state"]["waiting"]["message"], "secret \"db\" not found");
    assert_eq!(
        reasons(&events),
        [("Failed", "Error: secret \"db\" not found")]
    );
}

#[test]
fn oom_killed_job_pod_fails_with_137() {
    let (s, _) = run(&pod("Never", &[(OUTCOME_ANNOTATION, "oom-killed")]));
    assert_eq!(s["phase"], "Failed");
    let t = &s["containerStatuses"][0]["state"]["terminated"];
    assert_eq!(
        (&t["exitCode"], &t["reason"]),
        (&json!(137), &json!("OOMKilled"))
    );
}

#[test]
fn failing_init_container_blocks_the_app_containers() {
    let p = pod(
        "Never",
        &[(OUTCOME_ANNOTATION, "fail"), (CONTAINER_ANNOTATION, "init")],
    );
    let (s, _) = run(&p);
    assert_eq!(s["phase"], "Failed");
    let init = &s["initContainerStatuses"][0];
    assert_eq!(init["state"]["terminated"]["exitCode"], 1);
    let a = &s["containerStatuses"][0];
    assert_eq!(a["state"]["waiting"]["reason"], "PodInitializing");
    let initialized = &s["conditions"][1];
    assert_eq!(initialized["status"], "False");
    assert_eq!(initialized["reason"], "ContainersNotInitialized");

    let p = pod(
        "Always",
        &[
            (OUTCOME_ANNOTATION, "crashloop"),
            (CONTAINER_ANNOTATION, "init"),
        ],
    );
    let (s, events) = run(&p);
    assert_eq!(s["phase"], "Pending");
    assert_eq!(
        s["initContainerStatuses"][0]["state"]["waiting"]["reason"],
        "CrashLoopBackOff"
    );
    assert_eq!(
        events[0].field_path.as_deref(),
        Some("spec.initContainers{init}")
    );
}

#[test]
fn pending_and_unschedulable_pods_stay_unbound() {
    let p = pod("Never", &[(OUTCOME_ANNOTATION, "pending")]);
    assert_eq!(
        plan(&p, &requested(&p).unwrap(), "ip", "T"),
        Plan::Untouched
    );
    let p = pod("Never", &[(OUTCOME_ANNOTATION, "unschedulable")]);
    let Plan::Unschedulable(patch, event) = plan(&p, &requested(&p).unwrap(), "ip", "T") else {
        panic!()
    };
    assert_eq!(patch["status"]["conditions"][0]["reason"], "Unschedulable");
    assert_eq!(event.reason, "FailedScheduling");
    assert_eq!(event.component, "default-scheduler");
}
