//! Conformance cases of ordering (what order Argo CD applies tasks in), plus steps and
//! refusals.

use super::*;
use crate::manifest;
use crate::model::SyncSpec;

fn task(kind: &str, name: &str, phase: Phase, wave: i64) -> Task {
    Task {
        object: 0,
        phase,
        wave,
        hook: false,
        namespace: None,
        delete_policies: vec![],
        group: String::new(),
        kind: kind.into(),
        name: name.into(),
    }
}

#[test]
fn cc17_full_sort() {
    use Phase::*;
    let mut tasks = vec![
        task("Pod", "", Sync, 0),
        task("Service", "", Sync, 0),
        task("PersistentVolume", "", Sync, 0),
        task("", "", SyncFail, 0),
        task("", "", Sync, 1),
        task("", "b", Sync, 0),
        task("", "a", Sync, 0),
        task("", "", Sync, -1),
        task("", "", Sync, 0),
        task("", "", PreSync, 0),
        task("", "", PostSync, 0),
        task("ConfigMap", "", Sync, 0),
    ];
    order::sort(&mut tasks);
    let got: Vec<String> = tasks
        .iter()
        .map(|t| format!("{}/{}/{}/{}", t.phase, t.wave, t.kind, t.name))
        .collect();
    assert_eq!(
        got,
        [
            "PreSync/0//",
            "Sync/-1//",
            "Sync/0/ConfigMap/",
            "Sync/0/PersistentVolume/",
            "Sync/0/Service/",
            "Sync/0/Pod/",
            "Sync/0//",
            "Sync/0//a",
            "Sync/0//b",
            "Sync/1//",
            "PostSync/0//",
            "SyncFail/0//",
        ]
    );
}

fn plan_of(yaml: &str) -> (Vec<manifest::Manifest>, Plan) {
    let loaded = manifest::from_str("app.yaml", yaml);
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    let specs: Vec<SyncSpec> = loaded.manifests.iter().map(SyncSpec::of).collect();
    let plan = build(
        &loaded.manifests,
        &specs,
        &PlanOptions {
            default_namespace: "dest",
            is_namespaced: &|_, m| offline_is_namespaced(m),
            drop_unknown_hooks: false,
        },
    )
    .expect("plan");
    (loaded.manifests, plan)
}

fn order_of(plan: &Plan) -> Vec<String> {
    plan.tasks()
        .map(|t| format!("{}:{}:{}/{}", t.phase, t.wave, t.kind, t.name))
        .collect()
}

#[test]
fn cc18_namespace_before_unknown_kind() {
    let (_, plan) = plan_of(
        "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {name: wf}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: ns1}\n",
    );
    assert_eq!(
        order_of(&plan),
        ["Sync:0:Namespace/ns1", "Sync:0:Workflow/wf"]
    );
}

#[test]
fn cc19_namespace_bubbles_into_presync() {
    // PreSync hooks in namespaces my-namespace1 and 2, which are created in waves 1 and 2.
    let hook = |n: u32| {
        format!(
            "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: my-sync-hook-job{n}\n  namespace: my-namespace{n}\n  annotations: {{argocd.argoproj.io/hook: PreSync}}\n---\n"
        )
    };
    let namespace = |n: u32| {
        format!(
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: my-namespace{n}\n  annotations: {{argocd.argoproj.io/sync-wave: \"{n}\"}}\n---\n"
        )
    };
    let yaml = [hook(1), hook(2), namespace(1), namespace(2)].concat();
    let (_, plan) = plan_of(&yaml);
    assert_eq!(
        order_of(&plan),
        [
            "PreSync:0:Namespace/my-namespace1",
            "PreSync:0:Job/my-sync-hook-job1",
            "PreSync:0:Namespace/my-namespace2",
            "PreSync:0:Job/my-sync-hook-job2",
        ]
    );
    assert_eq!(plan.steps.len(), 1);
}

#[test]
fn cc20_crd_before_its_custom_resources() {
    let yaml = r#"
apiVersion: argoproj.io/v1
kind: Workflow
metadata:
  name: wf
  annotations: {argocd.argoproj.io/hook: PreSync, argocd.argoproj.io/sync-wave: "3"}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: workflows.argoproj.io}
spec:
  group: argoproj.io
  names: {kind: Workflow, plural: workflows}
"#;
    let (_, plan) = plan_of(yaml);
    assert_eq!(
        order_of(&plan),
        [
            "PreSync:3:CustomResourceDefinition/workflows.argoproj.io",
            "PreSync:3:Workflow/wf"
        ]
    );
}

#[test]
fn hooks_interleave_with_resources_by_kind_and_multi_phase_hooks_get_a_task_per_phase() {
    let yaml = r#"
apiVersion: batch/v1
kind: Job
metadata: {name: a-job, annotations: {argocd.argoproj.io/hook: Sync}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: z-app}
---
apiVersion: v1
kind: Pod
metadata: {generateName: check-, annotations: {argocd.argoproj.io/hook: "PreSync,PostSync"}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: skipped, annotations: {argocd.argoproj.io/hook: Skip}}
---
apiVersion: batch/v1
kind: Job
metadata: {name: alert, annotations: {argocd.argoproj.io/hook: SyncFail, argocd.argoproj.io/sync-wave: "5"}}
---
apiVersion: batch/v1
kind: Job
metadata: {name: alert2, annotations: {argocd.argoproj.io/hook: SyncFail}}
---
apiVersion: batch/v1
kind: Job
metadata: {name: drain, annotations: {argocd.argoproj.io/hook: PreDelete}}
"#;
    let (_, plan) = plan_of(yaml);
    assert_eq!(
        order_of(&plan),
        [
            "PreSync:0:Pod/check-",
            "Sync:0:Deployment/z-app",
            "Sync:0:Job/a-job",
            "PostSync:0:Pod/check-",
            "SyncFail:0:Job/alert2",
            "SyncFail:5:Job/alert",
        ]
    );
    let steps: Vec<_> = plan
        .steps
        .iter()
        .map(|s| (s.phase, s.wave, s.tasks.len()))
        .collect();
    assert_eq!(
        steps,
        [
            (Phase::PreSync, 0, 1),
            (Phase::Sync, 0, 2),
            (Phase::PostSync, 0, 1),
            (Phase::SyncFail, 0, 2)
        ]
    );
    assert_eq!(plan.skipped.len(), 1);
    assert_eq!(plan.delete_hooks.len(), 1);
    let deployment = plan.tasks().find(|t| t.kind == "Deployment").unwrap();
    assert_eq!(deployment.namespace.as_deref(), Some("dest"));
    assert!(!deployment.hook);
}

#[test]
fn cluster_scoped_kinds_have_no_namespace_and_phase_dominates_wave() {
    let yaml = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: cr, annotations: {argocd.argoproj.io/sync-wave: "-100"}}
---
apiVersion: batch/v1
kind: Job
metadata: {name: j, namespace: ns1, annotations: {argocd.argoproj.io/hook: PreSync, argocd.argoproj.io/sync-wave: "100"}}
"#;
    let (_, plan) = plan_of(yaml);
    assert_eq!(
        order_of(&plan),
        ["PreSync:100:Job/j", "Sync:-100:ClusterRole/cr"]
    );
    assert_eq!(plan.steps[1].tasks[0].namespace, None);
}

#[test]
fn unknown_hook_types_are_refused_unless_dropped() {
    let loaded = manifest::from_str(
        "a.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p, annotations: {argocd.argoproj.io/hook: presync}}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: q}\n",
    );
    let specs: Vec<SyncSpec> = loaded.manifests.iter().map(SyncSpec::of).collect();
    let mut options = PlanOptions {
        default_namespace: "default",
        is_namespaced: &|_, m| offline_is_namespaced(m),
        drop_unknown_hooks: false,
    };
    assert_eq!(
        build(&loaded.manifests, &specs, &options).unwrap_err(),
        UnknownHooks(vec![0])
    );
    options.drop_unknown_hooks = true;
    let plan = build(&loaded.manifests, &specs, &options).unwrap();
    assert_eq!(plan.dropped.len(), 1);
    assert_eq!(plan.tasks().count(), 1);
}

#[test]
fn a_cluster_scoped_object_brings_the_sync_namespace_forward() {
    // gitops-engine enriches every target without a namespace with the sync's namespace, so
    // the CRD in wave -1 "lives" in `dest` and its Namespace moves into wave -1 before it.
    let yaml = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
  annotations: {argocd.argoproj.io/sync-wave: "-1"}
spec:
  group: example.com
  names: {kind: Widget, plural: widgets}
  scope: Namespaced
  versions: [{name: v1, served: true, storage: true}]
---
apiVersion: v1
kind: Namespace
metadata:
  name: dest
---
apiVersion: v1
kind: Namespace
metadata:
  name: elsewhere
---
apiVersion: v1
kind: ConfigMap
metadata: {name: c}
"#;
    let (_, plan) = plan_of(yaml);
    assert_eq!(
        order_of(&plan),
        [
            "Sync:-1:Namespace/dest",
            "Sync:-1:CustomResourceDefinition/widgets.example.com",
            "Sync:0:Namespace/elsewhere",
            "Sync:0:ConfigMap/c",
        ]
    );
}

#[test]
fn an_object_in_another_namespace_than_the_flag_is_refused_as_kubectl_words_it() {
    let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: other}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b, namespace: dest}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: r, namespace: ignored}\n";
    let (manifests, plan) = plan_of(yaml);
    assert_eq!(
        namespace_conflicts(&plan, &manifests, "dest"),
        [
            "app.yaml:1: the namespace from the provided object \"other\" does not match the namespace \"dest\". You must pass '--namespace=other' to perform this operation."
        ]
    );
    assert!(namespace_conflicts(&plan, &manifests, "other").len() == 1);
}
