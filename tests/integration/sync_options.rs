//! Argo CD's per-resource sync options (`argocd.argoproj.io/sync-options`) as `kubectl hooks
//! sync` honours them, against the real test control plane (Kubernetes 1.20), each test in its
//! own namespace.
//!
//! How a write was made is read from the object's `metadata.managedFields`: the API server
//! records a server-side apply (an apply patch) as operation `Apply`, and a create (POST) or an
//! update (PUT) as operation `Update`, under the request's field manager. That is what an
//! audit log would show as verbs `patch` versus `create`/`update`, without reconfiguring the
//! shared API server for auditing.

use crate::support::{self, Run};
use serde_json::Value;

fn sync(namespace: &str, yaml: &str) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let file = support::write_input(dir.path(), "app.yaml", yaml, namespace);
    support::on_input("sync", namespace, &file, &[])
}

fn synced(namespace: &str, yaml: &str) -> Run {
    let run = sync(namespace, yaml);
    assert_eq!(run.code, Some(0), "sync failed:\n{}", run.output());
    run
}

fn get(namespace: &str, kind: &str, name: &str) -> Value {
    support::kubectl_json(&["get", kind, name, "-n", namespace, "--show-managed-fields"])
}

/// `(manager, operation)` of each managedFields entry.
fn writes(object: &Value) -> Vec<(String, String)> {
    object["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["manager"].as_str().unwrap().to_owned(),
                e["operation"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn by_us(operation: &str) -> Vec<(String, String)> {
    vec![("kubectl-hooks".to_owned(), operation.to_owned())]
}

fn config_map(options: &str, data: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  annotations: {{argocd.argoproj.io/sync-options: \"{options}\"}}\ndata: {data}\n"
    )
}

fn job(options: &str, image: &str) -> String {
    format!(
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate\n  annotations: {{argocd.argoproj.io/sync-options: \"{options}\"}}\nspec:\n  backoffLimit: 0\n  template:\n    spec:\n      restartPolicy: Never\n      containers: [{{name: c, image: {image}}}]\n"
    )
}

fn uid_and_image(namespace: &str) -> (String, String) {
    let live = get(namespace, "job", "migrate");
    (
        live["metadata"]["uid"].as_str().unwrap().to_owned(),
        live["spec"]["template"]["spec"]["containers"][0]["image"]
            .as_str()
            .unwrap()
            .to_owned(),
    )
}

#[test]
fn replace_creates_then_updates_and_never_applies() {
    let ns = support::create_namespace("opt-replace");
    synced(&ns, &config_map("Replace=true", "{a: \"1\", b: \"2\"}"));
    let created = get(&ns, "configmap", "settings");
    assert_eq!(writes(&created), by_us("Update"));

    synced(&ns, &config_map("Replace=true", "{a: \"3\"}"));
    let replaced = get(&ns, "configmap", "settings");
    // A full replace: the field left out of the manifest is gone, and still no apply patch.
    assert_eq!(replaced["data"], serde_json::json!({"a": "3"}));
    assert_eq!(writes(&replaced), by_us("Update"));
    assert_ne!(
        created["metadata"]["resourceVersion"],
        replaced["metadata"]["resourceVersion"]
    );
    assert_eq!(created["metadata"]["uid"], replaced["metadata"]["uid"]);

    // Without the option the same object is applied server-side.
    synced(&ns, &config_map("Prune=true", "{a: \"4\"}"));
    let applied = get(&ns, "configmap", "settings");
    assert!(
        writes(&applied).contains(&("kubectl-hooks".to_owned(), "Apply".to_owned())),
        "{:?}",
        writes(&applied)
    );
}

#[test]
fn force_and_replace_recreate_a_job_whose_template_changed() {
    let ns = support::create_namespace("opt-force-replace");
    synced(&ns, &job("Force=true,Replace=true", "example/one"));
    let (first_uid, image) = uid_and_image(&ns);
    assert_eq!(image, "example/one");

    // The dry run passes the immutable change (checked as a create), says what will happen,
    // and writes nothing.
    let dir = tempfile::tempdir().unwrap();
    let changed = job("Force=true,Replace=true", "example/two");
    let file = support::write_input(dir.path(), "app.yaml", &changed, &ns);
    let dry = support::on_input("sync", &ns, &file, &["--dry-run"]).exits(0);
    dry.stderr_says("Force=true,Replace=true: deleted (and waited for) and created again");
    assert_eq!(
        uid_and_image(&ns),
        (first_uid.clone(), "example/one".into())
    );

    let run = synced(&ns, &changed);
    let (second_uid, image) = uid_and_image(&ns);
    assert_ne!(first_uid, second_uid, "the Job was not re-created");
    assert_eq!(image, "example/two");
    run.stderr_says("deleted the live object and created it again");
    let report = run.json();
    assert_eq!(report["tasks"][0]["result"], "Succeeded", "{report}");
}

#[test]
fn force_alone_recreates_on_an_immutable_change_that_a_plain_apply_refuses() {
    let ns = support::create_namespace("opt-force");
    synced(&ns, &job("Force=true", "example/one"));
    let (first_uid, _) = uid_and_image(&ns);

    // Without Force the changed template is refused in the dry run, before anything is written.
    let refused = sync(&ns, &job("Prune=true", "example/two")).exits(1);
    refused.stderr_says("field is immutable");
    assert_eq!(
        uid_and_image(&ns),
        (first_uid.clone(), "example/one".into())
    );

    let run = synced(&ns, &job("Force=true", "example/two"));
    let (second_uid, image) = uid_and_image(&ns);
    assert_ne!(first_uid, second_uid, "the Job was not re-created");
    assert_eq!(image, "example/two");
    run.stderr_says("applied it again (Force=true)")
        .stderr_says("field is immutable");
    // Re-created by an apply: the new Job's fields are this tool's, applied server-side.
    assert!(
        writes(&get(&ns, "job", "migrate"))
            .contains(&("kubectl-hooks".to_owned(), "Apply".to_owned()))
    );
}

#[test]
fn a_missing_kind_is_waited_for_when_the_object_skips_its_dry_run() {
    let ns = support::create_namespace("opt-skip-dry-run");
    let group = format!("{ns}.example.com");
    let crd = support::crd(&group, "Gadget", true);
    let input = |options: &str| {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: first}}\n---\napiVersion: {group}/v1\nkind: Gadget\nmetadata:\n  name: g\n  annotations: {{argocd.argoproj.io/sync-wave: \"1\", argocd.argoproj.io/sync-options: \"{options}\"}}\nspec: {{size: 3}}\n"
        )
    };

    // Without the option an unknown kind is bad input, and nothing is written.
    let refused = sync(&ns, &input("Prune=true")).exits(2);
    refused.stderr_says("the cluster has no kind Gadget");
    assert!(!support::exists(&ns, "configmap", "first"));

    // An operator stand-in: installs the CRD once the sync has started (wave 0 applied).
    let operator = {
        let (ns, crd) = (ns.clone(), crd.clone());
        std::thread::spawn(move || {
            while !support::exists(&ns, "configmap", "first") {
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            support::try_kubectl_with_input(&["create", "-f", "-"], Some(&crd))
        })
    };
    let run = sync(&ns, &input("SkipDryRunOnMissingResource=true"));
    let installed = operator.join().unwrap();
    let live = support::try_kubectl(&[
        "get",
        &format!("gadgets.{group}"),
        "g",
        "-n",
        &ns,
        "-o",
        "json",
    ]);
    let _ = support::try_kubectl(&["delete", "crd", &format!("gadgets.{group}")]);
    installed.expect("the CRD was created");
    assert_eq!(run.code, Some(0), "{}", run.output());
    run.stderr_says("were not dry-run")
        .stderr_says("SkipDryRunOnMissingResource=true");
    let live: Value = serde_json::from_str(&live.expect("the Gadget exists")).unwrap();
    assert_eq!(live["spec"]["size"], 3);
}

#[test]
fn validate_false_drops_unknown_fields_with_a_warning() {
    let ns = support::create_namespace("opt-validate");
    let input = |options: &str| {
        support::Workload::deployment("api")
            .annotations(&format!("argocd.argoproj.io/sync-options: \"{options}\""))
            .pod_spec("notAField: true")
            .containers("{name: api, image: example/api, bogusField: 1}")
            .yaml()
    };

    // Without the option the unknown fields stop the sync in the dry run.
    let refused = sync(&ns, &input("Prune=true")).exits(1);
    refused.stderr_says("field not declared in schema");
    assert!(!support::exists(&ns, "deployment", "api"));

    let run = synced(&ns, &input("Validate=false"));
    run.stderr_says("Validate=false: unknown field(s) dropped")
        .stderr_says(".spec.template.spec.notAField")
        .stderr_says(".spec.template.spec.containers[name=\"api\"].bogusField");
    let live = get(&ns, "deployment", "api");
    assert_eq!(
        live["spec"]["template"]["spec"]["containers"][0]["image"],
        "example/api"
    );
    assert!(live["spec"]["template"]["spec"].get("notAField").is_none());
}

#[test]
fn validate_false_in_a_namespace_the_input_creates() {
    // Dry-run in a stand-in namespace, the fields are found and dropped all the same.
    let ns = support::unique_namespace("opt-validate-new");
    let input = format!(
        "apiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}}}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: {ns}\n  annotations: {{argocd.argoproj.io/sync-options: Validate=false}}\ndata: {{a: \"1\"}}\nextra: {{x: 1}}\n"
    );
    let run = sync(&ns, &input);
    let live = support::try_kubectl(&["get", "configmap", "settings", "-n", &ns, "-o", "json"]);
    let _ = support::try_kubectl(&["delete", "namespace", &ns, "--wait=false"]);
    assert_eq!(run.code, Some(0), "{}", run.output());
    run.stderr_says("ConfigMap/settings")
        .stderr_says("Validate=false: unknown field(s) dropped: .extra");
    let live: Value = serde_json::from_str(&live.unwrap()).unwrap();
    assert_eq!(live["data"], serde_json::json!({"a": "1"}));
}

#[test]
fn fields_of_a_kubectl_apply_are_taken_over_and_removed_with_the_manifest() {
    let ns = support::create_namespace("opt-takeover");
    // One object as `kubectl apply` leaves it, one as Argo CD's controller (a client-side
    // apply under its field manager) does.
    let before = |name: &str| {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  labels: {{team: a, legacy: \"yes\"}}\ndata: {{a: \"1\", b: \"2\"}}\n"
        )
    };
    let after = |name: &str| {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  labels: {{team: a}}\ndata: {{a: \"1\"}}\n"
        )
    };
    for (name, manager) in [
        ("by-kubectl", "kubectl-client-side-apply"),
        ("by-argocd", "argocd-controller"),
    ] {
        let mut args = vec!["apply", "-n", &ns, "-f", "-"];
        if manager == "argocd-controller" {
            args.extend(["--field-manager", manager]);
        }
        support::try_kubectl_with_input(&args, Some(&before(name))).unwrap();
        assert_eq!(
            writes(&get(&ns, "configmap", name)),
            [(manager.to_owned(), "Update".to_owned())]
        );
    }

    // The first sync of the same manifests takes the client-side fields over.
    let both =
        |yaml: &dyn Fn(&str) -> String| format!("{}---\n{}", yaml("by-kubectl"), yaml("by-argocd"));
    let run = synced(&ns, &both(&before));
    for manager in ["kubectl-client-side-apply", "argocd-controller"] {
        run.stderr_says(&format!(
            "took over the fields of client-side apply ({manager})"
        ));
    }
    for name in ["by-kubectl", "by-argocd"] {
        assert_eq!(writes(&get(&ns, "configmap", name)), by_us("Apply"));
    }

    // Now a field removed from the manifest is removed from the cluster.
    synced(&ns, &both(&after));
    for name in ["by-kubectl", "by-argocd"] {
        let live = get(&ns, "configmap", name);
        assert_eq!(live["data"], serde_json::json!({"a": "1"}), "{name}");
        // The removed label is gone; `team` stays, beside the app's inventory label.
        let mut labels = live["metadata"]["labels"].clone();
        labels
            .as_object_mut()
            .unwrap()
            .remove("applyset.kubernetes.io/part-of");
        assert_eq!(labels, serde_json::json!({"team": "a"}), "{name}");
    }
}

#[test]
fn server_side_apply_false_is_warned_about_and_applied_server_side() {
    let ns = support::create_namespace("opt-ssa-false");
    let run = synced(&ns, &config_map("ServerSideApply=false", "{a: \"1\"}"));
    run.stderr_says("warning: ConfigMap/settings")
        .stderr_says("ServerSideApply=false is not honoured");
    assert_eq!(writes(&get(&ns, "configmap", "settings")), by_us("Apply"));
}

#[test]
fn force_checks_an_unchanged_object_as_the_apply_it_gets() {
    // A fixed node port is taken by the live Service: a create of a second Service would be
    // refused, so the dry run must not check this one as a create while it can be applied.
    let ns = support::create_namespace("opt-force-port");
    let port = 30000 + ns.bytes().map(u32::from).sum::<u32>() * 7 % 2700;
    let service = format!(
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  annotations: {{argocd.argoproj.io/sync-options: Force=true}}\nspec:\n  type: NodePort\n  selector: {{app: web}}\n  ports: [{{port: 80, nodePort: {port}}}]\n"
    );
    synced(&ns, &service);
    let uid = get(&ns, "service", "web")["metadata"]["uid"].clone();
    synced(&ns, &service);
    let live = get(&ns, "service", "web");
    assert_eq!(
        live["metadata"]["uid"], uid,
        "applied in place, not re-created"
    );
    assert_eq!(live["spec"]["ports"][0]["nodePort"], port);
}
