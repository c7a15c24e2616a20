use super::*;
use serde_json::{Value, json};

fn deployment() -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
           "metadata": {"name": "web", "namespace": "ns", "uid": "d-1"}})
}

fn replica_set(uid: &str, owner: &str) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
           "metadata": {"name": format!("web-{uid}"), "uid": uid,
                        "ownerReferences": [{"uid": owner, "kind": "Deployment", "name": "web"}]}})
}

fn pod(name: &str, owner: &str, created: &str, status: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": name, "uid": format!("uid-{name}"), "creationTimestamp": created,
                        "ownerReferences": [{"uid": owner, "kind": "ReplicaSet", "name": "x"}]},
           "spec": {"containers": [{"name": "web", "env": [
               {"name": "DB_PASSWORD", "value": "hunter22"},
               {"name": "DEBUG", "value": "1"},
               {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]}]},
           "status": status})
}

fn waiting(container: &str, reason: &str, message: &str) -> Value {
    json!({"name": container, "ready": false, "restartCount": 0,
           "state": {"waiting": {"reason": reason, "message": message}}})
}

/// An event of type `kind_of` (`Warning`, `Normal`) about `object`, last seen `at`.
fn event(object: &Value, kind_of: &str, reason: &str, message: &str, at: &str) -> Value {
    let meta = &object["metadata"];
    json!({"type": kind_of, "reason": reason, "message": message, "count": 1,
           "lastTimestamp": at,
           "involvedObject": {"kind": object["kind"], "name": meta["name"], "uid": meta["uid"]}})
}

#[test]
fn image_pull_back_off_of_a_deployment_with_its_event() {
    let d = deployment();
    let between = [
        replica_set("rs-1", "d-1"),
        replica_set("rs-other", "d-other"),
    ];
    let pulling = |name: &str, created: &str| {
        let back_off = waiting(
            "web",
            "ImagePullBackOff",
            "Back-off pulling image \"nginx:nope\"",
        );
        let status = json!({"phase": "Pending", "containerStatuses": [back_off]});
        pod(name, "rs-1", created, status)
    };
    let pods = [
        pulling("web-a", "2026-01-01T00:00:01Z"),
        pulling("web-b", "2026-01-01T00:00:02Z"),
        // Another Deployment's pod, matched by the same selector: not ours.
        pod(
            "other",
            "rs-other",
            "2026-01-01T00:00:03Z",
            json!({"phase": "Pending",
            "containerStatuses": [waiting("web", "ErrImagePull", "elsewhere")]}),
        ),
    ];
    let pull_failed = "Failed to pull image \"nginx:nope\": not found";
    let events = [
        event(
            &pods[0],
            "Warning",
            "Failed",
            pull_failed,
            "2026-01-01T00:00:05Z",
        ),
        event(
            &pods[0],
            "Normal",
            "Pulling",
            "Pulling image",
            "2026-01-01T00:00:06Z",
        ),
        event(
            &pods[2],
            "Warning",
            "Failed",
            "elsewhere",
            "2026-01-01T00:00:07Z",
        ),
        event(
            &between[0],
            "Warning",
            "FailedCreate",
            "quota",
            "2026-01-01T00:00:08Z",
        ),
    ];
    let d = diagnose(&Evidence {
        object: &d,
        between: &between,
        pods: &pods,
        events: &events,
    });
    assert_eq!(d.problems.len(), 1, "{d:?}");
    assert_eq!(d.problems[0].pod, "web-b", "newest pod first");
    assert_eq!(d.problems[0].other_pods, 1);
    assert_eq!(
        d.headline().unwrap(),
        "pod/web-b container web: ImagePullBackOff: Back-off pulling image \"nginx:nope\" (and 1 more pod)"
    );
    let events: Vec<String> = d.events.iter().map(ToString::to_string).collect();
    assert_eq!(
        events,
        [
            "ReplicaSet/web-rs-1 FailedCreate: quota",
            "Pod/web-a Failed: Failed to pull image \"nginx:nope\": not found",
        ]
    );
}

#[test]
fn crash_loop_with_restart_count_and_previous_log() {
    let d = deployment();
    let between = [replica_set("rs-1", "d-1")];
    let pods = [pod(
        "web-a",
        "rs-1",
        "T",
        json!({"phase": "Running", "containerStatuses": [
        {"name": "web", "ready": false, "restartCount": 4,
         "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 40s restarting failed container=web pod=web-a"}},
         "lastState": {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}}]}),
    )];
    let diagnosis = diagnose(&Evidence {
        object: &d,
        between: &between,
        pods: &pods,
        events: &[],
    });
    assert_eq!(
        diagnosis.headline().unwrap(),
        "pod/web-a container web: CrashLoopBackOff, 4 restarts, last exit code 137 (OOMKilled)"
    );
    let owned = owned_pods(&d, &between, &pods);
    assert_eq!(
        log_targets(&d, &owned),
        [LogTarget {
            pod: "web-a".into(),
            container: "web".into(),
            init: false,
            previous: true
        }]
    );
}

#[test]
fn a_job_is_judged_by_its_last_failed_pod_init_containers_included() {
    let job = json!({"kind": "Job", "metadata": {"name": "migrate", "uid": "j-1"}});
    let failed = |name: &str, at: &str, code: i64| {
        let mut p = pod(
            name,
            "j-1",
            at,
            json!({"phase": "Failed",
            "initContainerStatuses": [{"name": "wait-db", "restartCount": 0,
                "state": {"terminated": {"exitCode": code, "reason": "Error"}}}],
            "containerStatuses": [waiting("main", "PodInitializing", "")]}),
        );
        p["metadata"]["ownerReferences"][0]["kind"] = json!("Job");
        p
    };
    let pods = [
        failed("migrate-old", "2026-01-01T00:00:01Z", 2),
        failed("migrate-new", "2026-01-01T00:00:09Z", 3),
    ];
    let events = [event(
        &job,
        "Warning",
        "BackoffLimitExceeded",
        "Job has reached the specified backoff limit",
        "T",
    )];
    let d = diagnose(&Evidence {
        object: &job,
        between: &[],
        pods: &pods,
        events: &events,
    });
    assert_eq!(d.problems.len(), 1);
    assert_eq!(
        d.problems[0].to_string(),
        "pod/migrate-new init container wait-db: Error, exit code 3"
    );
    assert_eq!(d.events[0].reason, "BackoffLimitExceeded");
    let owned = owned_pods(&job, &[], &pods);
    let targets = log_targets(&job, &owned);
    assert_eq!(targets.len(), 1);
    assert_eq!(
        (
            targets[0].pod.as_str(),
            targets[0].init,
            targets[0].previous
        ),
        ("migrate-new", true, false)
    );
}

#[test]
fn job_that_cannot_create_pods_shows_the_controller_event() {
    let job = json!({"kind": "Job", "metadata": {"name": "migrate", "uid": "j-1"}});
    let message = "Error creating: pods \"migrate-\" is forbidden: error looking up service account ns/orders-migrator: serviceaccount \"orders-migrator\" not found";
    let events = ["2026-01-01T00:00:01Z", "2026-01-01T00:00:03Z"]
        .map(|at| event(&job, "Warning", "FailedCreate", message, at));
    let d = diagnose(&Evidence {
        object: &job,
        between: &[],
        pods: &[],
        events: &events,
    });
    assert!(d.problems.is_empty());
    assert_eq!(d.events.len(), 1, "the same news once");
    assert_eq!(
        d.headline().unwrap(),
        format!("Job/migrate FailedCreate: {message}")
    );
}

#[test]
fn unschedulable_and_config_errors_and_quiet_states() {
    let d = deployment();
    let between = [replica_set("rs-1", "d-1")];
    let pods = [
        pod(
            "a",
            "rs-1",
            "3",
            json!({"phase": "Pending", "conditions": [
            {"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
             "message": "0/1 nodes are available: 1 Insufficient memory."}]}),
        ),
        pod(
            "b",
            "rs-1",
            "2",
            json!({"phase": "Pending", "containerStatuses": [
            waiting("web", "CreateContainerConfigError", "secret \"db\" not found")]}),
        ),
        pod(
            "c",
            "rs-1",
            "1",
            json!({"phase": "Pending", "containerStatuses": [
            waiting("web", "ContainerCreating", "")]}),
        ),
        pod(
            "d",
            "rs-1",
            "0",
            json!({"phase": "Running", "containerStatuses": [
            {"name": "web", "ready": false, "restartCount": 0, "state": {"running": {}}}]}),
        ),
    ];
    let lines: Vec<String> = diagnose(&Evidence {
        object: &d,
        between: &between,
        pods: &pods,
        events: &[],
    })
    .problems
    .iter()
    .map(ToString::to_string)
    .collect();
    assert_eq!(
        lines,
        [
            "pod/a: Unschedulable: 0/1 nodes are available: 1 Insufficient memory.",
            "pod/b container web: CreateContainerConfigError: secret \"db\" not found",
            "pod/d container web: NotReady (running, not ready)",
        ]
    );
}

#[test]
fn problems_and_events_are_bounded() {
    let d = deployment();
    let between = [replica_set("rs-1", "d-1")];
    let pods: Vec<Value> = (0..20)
        .map(|i| {
            let mut p = pod(
                &format!("p{i}"),
                "rs-1",
                &format!("{i:02}"),
                json!({"phase": "Pending",
                "containerStatuses": [waiting(&format!("c{i}"), "ErrImagePull", "x")]}),
            );
            p["spec"]["containers"][0]["name"] = json!(format!("c{i}"));
            p
        })
        .collect();
    let events: Vec<Value> = (0..20)
        .map(|i| {
            event(
                &pods[i],
                "Warning",
                "Failed",
                &format!("m{i}"),
                &format!("{i:02}"),
            )
        })
        .collect();
    let d = diagnose(&Evidence {
        object: &d,
        between: &between,
        pods: &pods,
        events: &events,
    });
    assert_eq!(d.problems.len(), MAX_PROBLEMS);
    assert_eq!(d.events.len(), MAX_EVENTS);
    assert_eq!(d.events[0].message, "m19", "newest first");
}

#[test]
fn news_are_shown_once_and_again_on_change() {
    let mut shown = Shown::default();
    let line = |restarts: i64| {
        vec![(
            "web/CrashLoopBackOff".to_string(),
            format!("CrashLoopBackOff, {restarts} restarts"),
        )]
    };
    assert_eq!(
        shown.news("task", &line(3)),
        ["CrashLoopBackOff, 3 restarts"]
    );
    assert!(shown.news("task", &line(3)).is_empty());
    assert_eq!(
        shown.news("task", &line(4)),
        ["CrashLoopBackOff, 4 restarts"]
    );
    assert_eq!(shown.news("other", &line(4)).len(), 1, "per task");
}

#[test]
fn log_excerpts_are_tailed_cleaned_bounded_and_hide_env_values() {
    let p = pod("p", "x", "T", json!({}));
    let hidden = env_values(&p);
    assert_eq!(
        hidden,
        ["hunter22"],
        "short values and Secret references are not values"
    );
    let target = LogTarget {
        pod: "p".into(),
        container: "web".into(),
        init: false,
        previous: false,
    };
    let log = "one\ntwo\npassword=hunter22\n\x1b[31mred\x1b[0m\n".to_string();
    let e = excerpt(target.clone(), Ok(log), 3, &hidden);
    assert_eq!(e.lines, ["two", "password=[hidden env value]", "red"]);
    assert!(!e.truncated);

    let long: String = (0..1000)
        .map(|i| format!("line {i} {}\n", "x".repeat(100)))
        .collect();
    let e = excerpt(target.clone(), Ok(long), 1000, &[]);
    assert!(e.truncated);
    assert!(e.lines.iter().map(|l| l.len() + 1).sum::<usize>() <= LOG_BYTES_LIMIT);
    assert!(e.lines.last().unwrap().starts_with("line 999 "));

    let e = excerpt(target, Err("pods \"p\" not found".into()), 20, &[]);
    assert_eq!(e.error.as_deref(), Some("pods \"p\" not found"));
    assert!(e.lines.is_empty());
}

#[test]
fn the_same_event_of_several_replicas_is_one_line() {
    let d = deployment();
    let between = [replica_set("rs-1", "d-1")];
    let pods = [
        pod("web-a", "rs-1", "1", json!({"phase": "Pending"})),
        pod("web-b", "rs-1", "2", json!({"phase": "Pending"})),
    ];
    let message = "MountVolume.SetUp failed for volume \"config\" : configmap \"web\" not found";
    let events = [
        event(
            &pods[0],
            "Warning",
            "FailedMount",
            message,
            "2026-01-01T00:00:02Z",
        ),
        event(
            &pods[1],
            "Warning",
            "FailedMount",
            message,
            "2026-01-01T00:00:01Z",
        ),
    ];
    let d = diagnose(&Evidence {
        object: &d,
        between: &between,
        pods: &pods,
        events: &events,
    });
    assert_eq!(d.events.len(), 1);
    assert_eq!(
        d.events[0].to_string(),
        format!("Pod/web-a FailedMount: {message} (and 1 more pod)")
    );
}

#[test]
fn the_reason_falls_back_to_the_tasks_own_message() {
    let mut why = Why {
        condition: "Job has reached the specified backoff limit".into(),
        ..Why::default()
    };
    assert_eq!(why.reason(), "Job has reached the specified backoff limit");
    why.diagnosis.events.push(EventLine::once(
        "Job/migrate",
        "BackoffLimitExceeded",
        "Job has reached the specified backoff limit",
    ));
    assert_eq!(
        why.reason(),
        "Job/migrate BackoffLimitExceeded: Job has reached the specified backoff limit"
    );
}

#[test]
fn a_pod_no_scheduler_has_looked_at_says_so() {
    let d = deployment();
    let between = [replica_set("rs-1", "d-1")];
    let lines = |pods: &[Value]| -> Vec<String> {
        let evidence = Evidence {
            object: &d,
            between: &between,
            pods,
            events: &[],
        };
        diagnose(&evidence)
            .problems
            .iter()
            .map(ToString::to_string)
            .collect()
    };
    let waiting = pod("a", "rs-1", "2", json!({"phase": "Pending"}));
    assert_eq!(
        lines(&[waiting.clone(), waiting.clone()]),
        [
            "pod/a: NotScheduled: no node assigned, and no scheduler has said why (is one running?) (and 1 more pod)"
        ]
    );
    let mut custom = waiting.clone();
    custom["spec"]["schedulerName"] = json!("gpu-scheduler");
    assert_eq!(
        lines(&[custom]),
        [
            "pod/a: NotScheduled: no node assigned: no scheduler named \"gpu-scheduler\" has taken it"
        ]
    );
    let mut bound = waiting;
    bound["spec"]["nodeName"] = json!("node-1");
    assert!(
        lines(&[bound]).is_empty(),
        "a pod on a node waits for its kubelet, not a scheduler"
    );
}
