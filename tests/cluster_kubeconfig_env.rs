//! `KUBECONFIG` (a colon-separated list, merged as kubectl merges it) and the
//! `~/.kube/config` fallback, against the real test control plane. In a file of its own
//! because it changes the process environment: this binary runs this one test only.

#[path = "integration/support/mod.rs"]
mod support;

use kubectl_hooks::cli::exit_code_of;
use kubectl_hooks::cluster::{Cluster, ClusterFlags, default_namespace_offline};
use serde_json::json;
use support::cluster::*;

fn set_env(key: &str, value: impl AsRef<std::ffi::OsStr>) {
    // SAFETY: this test binary holds a single test, and no request is in flight while
    // the environment changes, so nothing reads it concurrently.
    unsafe { std::env::set_var(key, value) }
}

fn unset_env(key: &str) {
    // SAFETY: as in `set_env`.
    unsafe { std::env::remove_var(key) }
}

#[tokio::test]
async fn kubeconfig_list_from_the_environment_and_home_fallback() {
    let real = test_kubeconfig();
    let kc = kubeconfig_json(&real);
    let (cluster_name, user) = context_of(&kc, "admin");
    let dir = tempfile::tempdir().unwrap();
    // A file holding only a context (and its own current-context); its cluster and
    // user come from the other file once merged.
    let extra = dir.path().join("team");
    write_json(
        &extra,
        &json!({
            "apiVersion": "v1", "kind": "Config", "current-context": "team",
            "contexts": [{"name": "team", "context": {
                "cluster": cluster_name, "user": user, "namespace": "team-ns"}}]
        }),
    );
    let missing = dir.path().join("missing");
    let no_flags = ClusterFlags::default();
    unset_env("KUBERNETES_SERVICE_HOST");

    // Missing files are skipped; the first file to set current-context wins.
    set_env(
        "KUBECONFIG",
        std::env::join_paths([&missing, &extra, &real]).unwrap(),
    );
    let team = Cluster::connect(&no_flags).await.unwrap();
    assert_eq!((team.context(), team.namespace()), ("team", "team-ns"));
    assert_eq!(default_namespace_offline(&no_flags), "team-ns");
    let configmaps = kind(&team, "v1", "ConfigMap").await;
    team.list(&configmaps, Some("default"), None).await.unwrap();

    set_env("KUBECONFIG", std::env::join_paths([&real, &extra]).unwrap());
    let admin = Cluster::connect(&no_flags).await.unwrap();
    assert_eq!((admin.context(), admin.namespace()), ("admin", "default"));
    let chosen = ClusterFlags {
        context: Some("team".into()),
        ..ClusterFlags::default()
    };
    assert_eq!(
        Cluster::connect(&chosen).await.unwrap().namespace(),
        "team-ns"
    );

    // --kubeconfig ignores KUBECONFIG: alone, the extra file lacks its cluster.
    let only_extra = ClusterFlags {
        kubeconfig: Some(extra.clone()),
        ..ClusterFlags::default()
    };
    // The kubeconfig gives no usable cluster: the cluster cannot be used (exit 3).
    let err = Cluster::connect(&only_extra).await.unwrap_err();
    assert_eq!(exit_code_of(err.class()), 3, "{err}");
    assert_eq!(default_namespace_offline(&only_extra), "team-ns");

    // KUBECONFIG naming only missing files: no kubeconfig at all.
    set_env("KUBECONFIG", &missing);
    let err = Cluster::connect(&no_flags).await.unwrap_err();
    assert_eq!(exit_code_of(err.class()), 3, "{err}");
    assert_eq!(default_namespace_offline(&no_flags), "default");

    // KUBECONFIG unset: ~/.kube/config.
    unset_env("KUBECONFIG");
    let home = dir.path().join("home");
    std::fs::create_dir_all(home.join(".kube")).unwrap();
    std::fs::copy(&real, home.join(".kube").join("config")).unwrap();
    set_env("HOME", &home);
    let from_home = Cluster::connect(&no_flags).await.unwrap();
    assert_eq!(from_home.context(), "admin");
    from_home
        .list(&configmaps, Some("default"), None)
        .await
        .unwrap();
}
