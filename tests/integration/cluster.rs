//! The `cluster` module against the real test control plane (Kubernetes 1.20 built from
//! Debian's sources). Needs `KUBECTL_HOOKS_TEST_KUBECONFIG`; panics without it.
//! Each test works in its own namespace.

use std::time::{Duration, Instant};

use crate::support::cluster::*;
use kubectl_hooks::cli::exit_code_of;
use kubectl_hooks::cluster::{
    ApplyOptions, Cluster, ClusterError, ClusterFlags, Deleted, Propagation, WatchEvent,
    default_namespace_offline,
};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(60);

#[tokio::test]
async fn context_and_namespace_selection() {
    let dir = tempfile::tempdir().unwrap();
    let mut kc = kubeconfig_json(&test_kubeconfig());
    let (cluster_name, user) = context_of(&kc, "admin");
    kc["contexts"].as_array_mut().unwrap().push(json!({
        "name": "team",
        "context": {"cluster": cluster_name, "user": user, "namespace": "team-ns"}
    }));
    let path = dir.path().join("config");
    write_json(&path, &kc);
    let flags = ClusterFlags {
        kubeconfig: Some(path.clone()),
        ..ClusterFlags::default()
    };

    // The current context, with no namespace of its own.
    let admin = Cluster::connect(&flags).await.unwrap();
    assert_eq!(admin.context(), "admin");
    assert_eq!(admin.namespace(), "default");
    assert_eq!(default_namespace_offline(&flags), "default");
    assert!(
        admin.server().starts_with("https://127.0.0.1:"),
        "{}",
        admin.server()
    );

    // --context picks the context and its namespace; -n wins over both.
    let team_flags = ClusterFlags {
        context: Some("team".into()),
        ..flags.clone()
    };
    let team = Cluster::connect(&team_flags).await.unwrap();
    assert_eq!((team.context(), team.namespace()), ("team", "team-ns"));
    assert_eq!(default_namespace_offline(&team_flags), "team-ns");
    let given = ClusterFlags {
        namespace: Some("given".into()),
        ..team_flags.clone()
    };
    assert_eq!(Cluster::connect(&given).await.unwrap().namespace(), "given");
    assert_eq!(default_namespace_offline(&given), "given");

    // The chosen context really is used: it talks to the server, and counts requests.
    let before = team.requests_made();
    let configmaps = kind(&team, "v1", "ConfigMap").await;
    team.list(&configmaps, Some("kube-system"), None)
        .await
        .unwrap();
    assert!(team.requests_made() >= before + 2);

    // --user switches credentials within the context.
    let as_norights = ClusterFlags {
        user: Some("norights".into()),
        ..flags.clone()
    };
    let norights = Cluster::connect(&as_norights).await.unwrap();
    assert_eq!(norights.user(), "norights");
    let err = norights
        .list(&configmaps, Some("kube-system"), None)
        .await
        .unwrap_err();
    assert!(matches!(err, ClusterError::Forbidden { .. }), "{err}");

    // Input mistakes are exit code 2 and say what is available.
    let unknown = ClusterFlags {
        context: Some("nope".into()),
        ..flags.clone()
    };
    let err = Cluster::connect(&unknown).await.unwrap_err();
    assert_eq!(exit_code_of(err.class()), 2, "{err}");
    let text = err.to_string();
    assert!(text.contains("\"nope\"") && text.contains("team"), "{text}");
    let missing = ClusterFlags {
        kubeconfig: Some(dir.path().join("missing")),
        ..ClusterFlags::default()
    };
    let err = Cluster::connect(&missing).await.unwrap_err();
    assert_eq!(exit_code_of(err.class()), 2, "{err}");
    assert!(err.to_string().contains("missing"), "{err}");
    let bad_cluster = ClusterFlags {
        cluster: Some("nope".into()),
        ..flags.clone()
    };
    assert_eq!(
        exit_code_of(Cluster::connect(&bad_cluster).await.unwrap_err().class()),
        2
    );
}

#[tokio::test]
async fn discovery_of_built_in_kinds() {
    let cluster = admin().await;
    cluster
        .prefetch([
            "v1",
            "apps/v1",
            "batch/v1",
            "rbac.authorization.k8s.io/v1",
            "v1",
        ])
        .await
        .unwrap();
    let after_prefetch = cluster.requests_made();
    assert_eq!(after_prefetch, 4, "one request per group-version");

    let cm = kind(&cluster, "v1", "ConfigMap").await;
    assert_eq!(
        (cm.plural.as_str(), cm.group.as_str(), cm.namespaced),
        ("configmaps", "", true)
    );
    let deploy = kind(&cluster, "apps/v1", "Deployment").await;
    assert_eq!(
        (deploy.plural.as_str(), deploy.group.as_str()),
        ("deployments", "apps")
    );
    assert!(deploy.namespaced && deploy.supports("patch") && deploy.supports("watch"));
    let job = kind(&cluster, "batch/v1", "Job").await;
    assert_eq!(job.plural, "jobs");
    let role = kind(&cluster, "rbac.authorization.k8s.io/v1", "ClusterRole").await;
    assert_eq!(role.plural, "clusterroles");
    assert!(!role.namespaced, "ClusterRole is cluster-scoped");
    assert_eq!(
        cluster.requests_made(),
        after_prefetch,
        "resolved from the cache"
    );

    // Unknown kinds, versions and groups are None, not errors.
    assert_eq!(cluster.resolve("v1", "NoSuchKind").await.unwrap(), None);
    assert_eq!(
        cluster.resolve("apps/v9", "Deployment").await.unwrap(),
        None
    );
    assert_eq!(
        cluster
            .resolve("nothing.example.com/v1", "Thing")
            .await
            .unwrap(),
        None
    );
    assert_eq!(cluster.resolve("a/b/c", "Thing").await.unwrap(), None);
}

#[tokio::test]
async fn discovery_sees_a_kind_once_its_crd_is_applied() {
    let (cluster, ns) = admin_in_new_namespace("crd").await;
    let group = format!("{}.example.com", unique_name("g"));
    let api_version = format!("{group}/v1");
    assert_eq!(cluster.resolve(&api_version, "Widget").await.unwrap(), None);

    let crd_kind = kind(
        &cluster,
        "apiextensions.k8s.io/v1",
        "CustomResourceDefinition",
    )
    .await;
    assert!(!crd_kind.namespaced);
    let crd = json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("widgets.{group}")},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
            "versions": [{
                "name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {
                    "type": "object",
                    "x-kubernetes-preserve-unknown-fields": true
                }}
            }]
        }
    });
    cluster
        .apply(&crd_kind, &crd, ApplyOptions::default())
        .await
        .unwrap();

    // The negative answer is cached until asked to look again.
    let widget = cluster
        .wait_for_kind(&api_version, "Widget", WAIT)
        .await
        .unwrap()
        .expect("Widget served after its CRD is applied");
    assert_eq!(
        (widget.plural.as_str(), widget.namespaced),
        ("widgets", true)
    );

    let obj = json!({
        "apiVersion": api_version, "kind": "Widget",
        "metadata": {"name": "w1", "namespace": ns}, "spec": {"size": 3}
    });
    let live = cluster
        .apply(&widget, &obj, ApplyOptions::default())
        .await
        .unwrap();
    assert_eq!(live["spec"]["size"], 3);

    let name = format!("widgets.{group}");
    cluster
        .delete(&crd_kind, "", &name, Propagation::Background)
        .await
        .unwrap();
    drop_namespace(&cluster, &ns).await;
}

#[tokio::test]
async fn apply_dry_run_and_conflicts() {
    let (cluster, ns) = admin_in_new_namespace("apply").await;
    let cm = kind(&cluster, "v1", "ConfigMap").await;
    let obj = config_map(&ns, "settings", json!({"a": "1"}));

    // A dry run is validated by the server but stores nothing.
    let dry = ApplyOptions {
        dry_run: true,
        ..ApplyOptions::default()
    };
    let answer = cluster.apply(&cm, &obj, dry).await.unwrap();
    assert_eq!(answer["data"]["a"], "1");
    assert_eq!(cluster.get(&cm, &ns, "settings").await.unwrap(), None);
    assert!(
        cluster
            .list(&cm, Some(&ns), None)
            .await
            .unwrap()
            .iter()
            .all(|o| o["metadata"]["name"] != "settings")
    );

    // A dry run reports what the server would reject.
    let bad = config_map(&ns, "Not_A_Name", json!({}));
    let err = cluster.apply(&cm, &bad, dry).await.unwrap_err();
    assert_eq!(
        (exit_code_of(err.class()), err.status_code()),
        (1, Some(422)),
        "{err}"
    );

    // The real apply stores it, owned by our field manager.
    let live = cluster
        .apply(&cm, &obj, ApplyOptions::default())
        .await
        .unwrap();
    let managers: Vec<&str> = live["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["manager"].as_str())
        .collect();
    assert_eq!(managers, ["kubectl-hooks"]);
    let got = cluster.get(&cm, &ns, "settings").await.unwrap().unwrap();
    assert_eq!(got["data"]["a"], "1");

    // Another manager takes the field; our apply then conflicts and names it.
    let api: kube::Api<kube::api::DynamicObject> = kube::Api::namespaced_with(
        kube::Client::try_from(kube_config().await).unwrap(),
        &ns,
        &kube::discovery::ApiResource::erase::<k8s_openapi::api::core::v1::ConfigMap>(&()),
    );
    let other = kube::api::PatchParams::apply("someone-else").force();
    api.patch(
        "settings",
        &other,
        &kube::api::Patch::Apply(&config_map(&ns, "settings", json!({"a": "2"}))),
    )
    .await
    .unwrap();
    let err = cluster
        .apply(&cm, &obj, ApplyOptions::default())
        .await
        .unwrap_err();
    match &err {
        ClusterError::Conflict { managers, .. } => assert_eq!(managers, &["someone-else"]),
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(exit_code_of(err.class()), 1);
    let forced = ApplyOptions {
        force: true,
        ..ApplyOptions::default()
    };
    let live = cluster.apply(&cm, &obj, forced).await.unwrap();
    assert_eq!(live["data"]["a"], "1");

    // create: generateName, and AlreadyExists for a taken name.
    let generated = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"generateName": "gen-", "namespace": ns}});
    let made = cluster.create(&cm, &generated, false).await.unwrap();
    assert!(
        made["metadata"]["name"]
            .as_str()
            .unwrap()
            .starts_with("gen-")
    );
    let err = cluster.create(&cm, &obj, false).await.unwrap_err();
    assert!(err.is_already_exists(), "{err}");
    let err = cluster
        .apply(&cm, &generated, ApplyOptions::default())
        .await
        .unwrap_err();
    assert_eq!(exit_code_of(err.class()), 2, "{err}");

    // A label selector that matches nothing.
    let labelled = cluster
        .list(&cm, Some(&ns), Some("app=none"))
        .await
        .unwrap();
    assert!(labelled.is_empty());
    drop_namespace(&cluster, &ns).await;
}

async fn kube_config() -> kube::Config {
    let kc = kube::config::Kubeconfig::read_from(test_kubeconfig()).unwrap();
    kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .unwrap()
}

#[tokio::test]
async fn ports_without_protocol_are_accepted() {
    let (cluster, ns) = admin_in_new_namespace("ports").await;
    let deploy = kind(&cluster, "apps/v1", "Deployment").await;
    let labels = json!({"app": "web"});
    let obj = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": ns},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{
                    "name": "web", "image": "nginx",
                    "ports": [{"containerPort": 80}, {"containerPort": 443, "name": "https"}]
                }]}
            }
        }
    });
    let live = cluster
        .apply(&deploy, &obj, ApplyOptions::default())
        .await
        .unwrap();
    let ports = &live["spec"]["template"]["spec"]["containers"][0]["ports"];
    assert_eq!(ports[0]["protocol"], "TCP");

    let svc_kind = kind(&cluster, "v1", "Service").await;
    let svc = json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "web", "namespace": ns},
        "spec": {"selector": labels, "ports": [{"port": 80, "targetPort": 80}]}
    });
    let live = cluster
        .apply(&svc_kind, &svc, ApplyOptions::default())
        .await
        .unwrap();
    assert_eq!(live["spec"]["ports"][0]["protocol"], "TCP");
    drop_namespace(&cluster, &ns).await;
}

#[tokio::test]
async fn a_user_without_rights_gets_forbidden() {
    let (cluster, ns) = admin_in_new_namespace("rbac").await;
    let norights = Cluster::connect(&ClusterFlags {
        context: Some("norights".into()),
        ..flags()
    })
    .await
    .unwrap();
    let cm = kind(&norights, "v1", "ConfigMap").await;
    let obj = config_map(&ns, "x", json!({}));

    let err = norights.create(&cm, &obj, false).await.unwrap_err();
    assert!(matches!(err, ClusterError::Forbidden { .. }), "{err:?}");
    assert_eq!(exit_code_of(err.class()), 3);
    assert!(err.is_access_error());
    let text = err.to_string();
    for part in [
        "norights",
        "cannot create",
        "configmaps",
        &format!("namespace \"{ns}\""),
    ] {
        assert!(text.contains(part), "{part:?} missing in: {text}");
    }

    let err = norights
        .apply(&cm, &obj, ApplyOptions::default())
        .await
        .unwrap_err();
    assert_eq!(exit_code_of(err.class()), 3, "{err}");
    assert!(err.to_string().contains("cannot patch"), "{err}");
    drop_namespace(&cluster, &ns).await;
}

#[tokio::test]
async fn unreachable_and_unauthenticated_servers_are_access_errors() {
    let dir = tempfile::tempdir().unwrap();
    let mut kc = kubeconfig_json(&test_kubeconfig());
    let (cluster_name, _) = context_of(&kc, "admin");
    let real = kc["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == cluster_name.as_str())
        .unwrap()["cluster"]
        .clone();
    let server = real["server"].as_str().unwrap().to_string();
    kc["clusters"].as_array_mut().unwrap().extend([
        json!({"name": "closed", "cluster": {"server": "https://127.0.0.1:1", "insecure-skip-tls-verify": true}}),
        json!({"name": "untrusted", "cluster": {"server": server}}),
    ]);
    kc["users"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "stranger", "user": {"token": "not-a-token"}}));
    let path = dir.path().join("config");
    write_json(&path, &kc);
    let cm_kind = kind(&admin().await, "v1", "ConfigMap").await;
    let with = |cluster: Option<&str>, user: Option<&str>| ClusterFlags {
        kubeconfig: Some(path.clone()),
        cluster: cluster.map(str::to_string),
        user: user.map(str::to_string),
        ..ClusterFlags::default()
    };

    // Nothing listens on port 1: a connection error at once, naming server and context.
    let closed = Cluster::connect(&with(Some("closed"), None)).await.unwrap();
    let started = Instant::now();
    let err = closed.resolve("v1", "ConfigMap").await.unwrap_err();
    eprintln!(
        "unreachable server answered in {:?}: {err}",
        started.elapsed()
    );
    assert!(matches!(err, ClusterError::Connect { .. }), "{err:?}");
    assert_eq!(exit_code_of(err.class()), 3);
    assert!(
        err.to_string().contains("https://127.0.0.1:1") && err.to_string().contains("\"admin\""),
        "{err}"
    );

    // What listing ConfigMaps with these flags fails with (connecting does not fail).
    let list_error = async |flags: ClusterFlags| {
        let cluster = Cluster::connect(&flags).await.unwrap();
        cluster
            .list(&cm_kind, Some("default"), None)
            .await
            .unwrap_err()
    };

    // The server's certificate is self-signed: without the CA or skip-verify, TLS fails.
    let err = list_error(with(Some("untrusted"), None)).await;
    assert!(matches!(err, ClusterError::Tls { .. }), "{err:?}");
    assert_eq!(exit_code_of(err.class()), 3);

    // A token the server does not know: 401, naming user and context.
    let err = list_error(with(None, Some("stranger"))).await;
    assert!(matches!(err, ClusterError::Unauthorized { .. }), "{err:?}");
    assert!(err.is_access_error());
    assert!(err.to_string().contains("\"stranger\""), "{err}");
}

fn job(ns: &str, name: &str) -> Value {
    json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "backoffLimit": 0,
            "template": {"spec": {
                "restartPolicy": "Never",
                "containers": [{"name": "main", "image": "busybox", "command": ["true"]}]
            }}
        }
    })
}

#[tokio::test]
async fn deleting_a_job_in_the_background_removes_its_pods() {
    let (cluster, ns) = admin_in_new_namespace("del").await;
    let jobs = kind(&cluster, "batch/v1", "Job").await;
    let pods = kind(&cluster, "v1", "Pod").await;
    let mut pod_events = cluster.watch_namespace(&pods, Some(&ns), Some("job-name=migrate"));
    cluster
        .apply(&jobs, &job(&ns, "migrate"), ApplyOptions::default())
        .await
        .unwrap();

    // The Job controller creates the pod.
    let pod = next_applied(&mut pod_events, WAIT, "the job's pod", |_| true).await;
    let pod_name = pod["metadata"]["name"].as_str().unwrap().to_string();

    let deleted = cluster
        .delete(&jobs, &ns, "migrate", Propagation::Background)
        .await
        .unwrap();
    let Deleted::Requested { uid } = deleted else {
        panic!("expected the deletion to be accepted, got {deleted:?}")
    };
    cluster
        .wait_deleted(&jobs, &ns, "migrate", uid.as_deref(), WAIT)
        .await
        .unwrap();
    // The garbage collector removes the pod; the watch reports its last state.
    let gone = next_matching(
        &mut pod_events,
        WAIT,
        "the pod's deletion",
        |e| matches!(e, WatchEvent::Deleted(p) if p["metadata"]["name"] == pod_name.as_str()),
    )
    .await;
    assert!(matches!(gone, WatchEvent::Deleted(_)));
    cluster
        .wait_deleted(&pods, &ns, &pod_name, None, WAIT)
        .await
        .unwrap();
    assert!(
        cluster
            .list(&pods, Some(&ns), Some("job-name=migrate"))
            .await
            .unwrap()
            .is_empty()
    );

    let again = cluster
        .delete(&jobs, &ns, "migrate", Propagation::Background)
        .await
        .unwrap();
    assert_eq!(again, Deleted::AlreadyGone);
    drop_namespace(&cluster, &ns).await;
}

#[tokio::test]
async fn wait_deleted_waits_for_finalizers_and_gives_up_in_time() {
    let (cluster, ns) = admin_in_new_namespace("fin").await;
    let cm = kind(&cluster, "v1", "ConfigMap").await;
    let mut held = config_map(&ns, "held", json!({}));
    held["metadata"]["finalizers"] = json!(["example.com/hold"]);
    cluster
        .apply(&cm, &held, ApplyOptions::default())
        .await
        .unwrap();

    let Deleted::Requested { uid } = cluster
        .delete(&cm, &ns, "held", Propagation::Foreground)
        .await
        .unwrap()
    else {
        panic!("expected the deletion to be accepted")
    };
    let err = cluster
        .wait_deleted(&cm, &ns, "held", uid.as_deref(), Duration::from_secs(1))
        .await
        .unwrap_err();
    assert!(matches!(err, ClusterError::WaitTimeout { .. }), "{err:?}");
    assert_eq!(exit_code_of(err.class()), 1);
    assert!(err.to_string().contains("configmaps \"held\""), "{err}");

    // Our manager owns the finalizer; applying without it releases the object.
    let waiter = {
        let cluster = cluster.clone();
        let (cm, ns) = (cm.clone(), ns.clone());
        tokio::spawn(async move { cluster.wait_deleted(&cm, &ns, "held", None, WAIT).await })
    };
    cluster
        .apply(
            &cm,
            &config_map(&ns, "held", json!({})),
            ApplyOptions::default(),
        )
        .await
        .unwrap();
    waiter.await.unwrap().unwrap();
    assert_eq!(cluster.get(&cm, &ns, "held").await.unwrap(), None);
    drop_namespace(&cluster, &ns).await;
}

#[tokio::test]
async fn a_watch_sees_status_changes_of_one_object_and_of_a_set() {
    let (cluster, ns) = admin_in_new_namespace("watch").await;
    let jobs = kind(&cluster, "batch/v1", "Job").await;

    // Before the object exists: Synced with nothing applied before it.
    let mut events = cluster.watch_object(&jobs, &ns, "hook");
    let first = next_matching(&mut events, WAIT, "the initial list", |_| true).await;
    assert_eq!(first, WatchEvent::Synced);

    cluster
        .apply(&jobs, &job(&ns, "hook"), ApplyOptions::default())
        .await
        .unwrap();
    // The Job controller records the pod it started (and the test kubelet, if running,
    // moves it on): a status written by the cluster, seen through the watch.
    let live = next_applied(&mut events, WAIT, "the job's status", |j| {
        j["status"]["startTime"].is_string() || j["status"]["active"].as_i64() > Some(0)
    })
    .await;
    assert_eq!(live["metadata"]["name"], "hook");

    // One watch for a set of objects by label.
    let cm = kind(&cluster, "v1", "ConfigMap").await;
    let mut set = cluster.watch_namespace(&cm, Some(&ns), Some("app=set"));
    next_matching(&mut set, WAIT, "the set's initial list", |e| {
        *e == WatchEvent::Synced
    })
    .await;
    for name in ["one", "two", "other"] {
        let mut obj = config_map(&ns, name, json!({"v": "1"}));
        if name != "other" {
            obj["metadata"]["labels"] = json!({"app": "set"});
        }
        cluster
            .apply(&cm, &obj, ApplyOptions::default())
            .await
            .unwrap();
    }
    let mut names = Vec::new();
    while names.len() < 2 {
        let e = next_matching(&mut set, WAIT, "the set's objects", |_| true).await;
        if let WatchEvent::Applied(o) = e {
            names.push(o["metadata"]["name"].as_str().unwrap().to_string());
        }
    }
    names.sort();
    assert_eq!(names, ["one", "two"]);
    cluster
        .delete(&cm, &ns, "two", Propagation::Background)
        .await
        .unwrap();
    let last = next_deleted(&mut set, WAIT, "the deletion of two").await;
    assert_eq!(last["metadata"]["name"], "two");
    assert_eq!(last["data"]["v"], "1");
    drop_namespace(&cluster, &ns).await;
}
