//! Rules about whole objects: duplicates, generateName on resources, hook Jobs.

use super::{Object, Sink, object_label, rules};
use crate::manifest::Manifest;
use crate::model::{DeletePolicy, Role, keys};
use crate::plan;

pub fn check(o: &Object, sink: &mut Sink) {
    generate_name_on_resource(o, sink);
    hook_job(o, sink);
}

/// `generate-name-on-resource`
fn generate_name_on_resource(o: &Object, sink: &mut Sink) {
    if o.spec.role != Role::Resource || o.m.name.is_some() || o.m.generate_name.is_none() {
        return;
    }
    sink.object(
        &rules::GENERATE_NAME_ON_RESOURCE,
        o,
        o.at(&["metadata", "generateName"]),
        "generateName on an object that is not a hook: Argo CD names only hooks, and applies this one without a name, which the API server rejects (\"resource name may not be empty\")".to_owned(),
        Some(format!(
            "give it metadata.name, or make it a hook (`{}: PreSync`, ...)",
            keys::HOOK
        )),
    );
}

fn is_job(m: &Manifest) -> bool {
    m.kind == "Job" && m.group() == "batch"
}

/// `hook-job-no-deadline`, `hook-job-ttl`, `job-hook-not-recreated`
fn hook_job(o: &Object, sink: &mut Sink) {
    if !is_job(o.m) || !o.spec.is_hook() {
        return;
    }
    let spec = o.m.root.get("spec");
    if spec.and_then(|s| s.get("activeDeadlineSeconds")).is_none() {
        sink.object(
            &rules::HOOK_JOB_NO_DEADLINE,
            o,
            o.at(&["spec"]),
            "hook Job without spec.activeDeadlineSeconds: Argo CD has no hook timeout, so a Job that hangs keeps the sync running forever".to_owned(),
            Some("set spec.activeDeadlineSeconds (e.g. 600); with this tool, --hook-timeout also bounds hooks".to_owned()),
        );
    }
    if let Some(ttl) = spec.and_then(|s| s.get("ttlSecondsAfterFinished")) {
        let seconds = match &ttl.value {
            crate::manifest::node::Value::Number(n) => format!("{n} s"),
            _ => "some time".to_owned(),
        };
        sink.object(
            &rules::HOOK_JOB_TTL,
            o,
            o.at(&["spec", "ttlSecondsAfterFinished"]),
            format!(
                "hook Job deletes itself {seconds} after it finishes: it can be gone before Argo CD sees the result (newer Argo CD then fails the sync), and the hook delete policy has nothing left to act on"
            ),
            Some("remove ttlSecondsAfterFinished and let the hook delete policy clean up (HookSucceeded, BeforeHookCreation)".to_owned()),
        );
    }
    let named = o.m.name.is_some();
    let policies = &o.spec.delete_policies;
    if o.spec.role == Role::Hook && named && !policies.contains(&DeletePolicy::BeforeHookCreation) {
        let (key, pos) = [keys::HOOK_DELETE_POLICY, keys::HELM_DELETE_POLICY]
            .iter()
            .find_map(|k| o.m.annotation(k).map(|(_, p)| (*k, p)))
            .unwrap_or((keys::HOOK_DELETE_POLICY, o.first_line()));
        let names: Vec<&str> = policies.iter().map(|p| p.as_str()).collect();
        let when = if policies.contains(&DeletePolicy::HookSucceeded) {
            "after a failed sync"
        } else {
            "after a successful sync"
        };
        let mut fixed = vec![DeletePolicy::BeforeHookCreation];
        fixed.extend(policies.iter().copied());
        sink.object(
            &rules::JOB_HOOK_NOT_RECREATED,
            o,
            pos,
            format!(
                "named hook Job with delete policies {} but not BeforeHookCreation: when the Job is still there at the next sync ({when}), Argo CD applies over the finished Job, which does not run again, and a changed pod template is rejected (a Job's template is immutable)",
                names.join(", ")
            ),
            Some(format!(
                "use `{key}: {}`, or name the Job with metadata.generateName",
                fixed
                    .iter()
                    .map(|p| if key == keys::HOOK_DELETE_POLICY {
                        p.as_str()
                    } else {
                        p.helm_str()
                    })
                    .collect::<Vec<_>>()
                    .join(",")
            )),
        );
    }
}

/// Shared with the ordering rules.
pub use crate::plan::effective_namespace;

/// `duplicate-object`: the same group, kind, namespace and name twice.
pub fn duplicates(manifests: &[Manifest], default_namespace: &str, sink: &mut Sink) {
    for (first, index) in plan::duplicates(manifests, default_namespace) {
        let m = &manifests[index];
        let first = &manifests[first];
        let spec = crate::model::SyncSpec::of(m);
        let o = Object {
            index,
            m,
            spec: &spec,
        };
        sink.object(
            &rules::DUPLICATE_OBJECT,
            &o,
            o.at(&["metadata", "name"]),
            format!(
                "{} is defined twice (first at {}): Argo CD applies only one of them and raises a RepeatedResourceWarning",
                object_label(m),
                first.source
            ),
            Some("remove one definition, or give them different names or namespaces".to_owned()),
        );
    }
}
