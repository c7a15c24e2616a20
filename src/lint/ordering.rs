//! `ordering-dependency` and `sync-fail-dependency`: a pod spec that uses an object of the
//! input (ServiceAccount, ConfigMap, Secret, PersistentVolumeClaim) created in a later step.
//!
//! Decisions, from what Argo CD does:
//! - Steps are (phase, wave) pairs from `plan::build`; a step waits for the previous one to be
//!   healthy, so a use in an earlier step than the creation stalls a first sync.
//! - The same step is fine: within a step objects are applied in kind order without health
//!   waits, and ServiceAccounts, Secrets, ConfigMaps and claims sort before workloads.
//! - SyncFail hooks run when the sync fails, at any step: a use of anything not created in the
//!   first step is only a risk on a first sync that fails early (`sync-fail-dependency`, info).
//! - Delete hooks: PreDelete hooks run while the app's resources still exist; PostDelete hooks
//!   after they are all deleted, so a PostDelete hook that uses a plain resource is reported, as
//!   is a PreDelete hook that uses an object created only as a PostDelete hook.
//! - An object that is not in the input is not reported: it may exist already.
//! - References with `optional: true` are not dependencies: the pod starts without them.
//! - Only pods that run during the sync count: Pods, Jobs, and the pod templates of workloads
//!   whose health gates the step (Deployment, StatefulSet, DaemonSet, ReplicaSet). A CronJob
//!   starts no pod during a sync, and a ReplicationController's health does not gate it.
//! - An object that a plain workload uses too is never advised to become a hook: a hook with
//!   the default BeforeHookCreation policy is deleted and re-created on every sync, under the
//!   workload's feet. The advice is then to run the hook later.
//!
//! One pass over the objects with a map of providers: linear in the input.

use super::objects::effective_namespace;
use super::{Object, Sink, object_label, rules};
use crate::manifest::{Manifest, Node, Pos};
use crate::model::{DeleteHook, Phase, Role, SyncSpec, keys};
use crate::plan::{self, PlanOptions, Step};
use std::collections::HashMap;

/// A use of another object by name, in a pod spec.
struct Use<'a> {
    kind: &'static str,
    name: &'a str,
    /// The key that names it.
    pos: Pos,
    /// Where, in words: `serviceAccountName`, `volume "data"`, ...
    via: String,
}

const PROVIDED: [&str; 4] = [
    "ServiceAccount",
    "ConfigMap",
    "Secret",
    "PersistentVolumeClaim",
];

pub fn check(manifests: &[Manifest], specs: &[SyncSpec], default_namespace: &str, sink: &mut Sink) {
    let mut providers: HashMap<(&str, &str, &str), usize> = HashMap::new();
    for (i, m) in manifests.iter().enumerate() {
        if let Some(name) = m.name.as_deref()
            && m.group().is_empty()
            && PROVIDED.contains(&m.kind.as_str())
        {
            providers
                .entry((
                    m.kind.as_str(),
                    effective_namespace(m, default_namespace),
                    name,
                ))
                .or_insert(i);
        }
    }
    if providers.is_empty() {
        return;
    }
    let Ok(plan) = plan::build(
        manifests,
        specs,
        &PlanOptions {
            default_namespace,
            is_namespaced: &|_, m| plan::offline_is_namespaced(m),
            drop_unknown_hooks: true,
        },
    ) else {
        return;
    };
    // The first step (index into plan.steps) in which each object is created, SyncFail aside.
    let mut first_step: Vec<Option<usize>> = vec![None; manifests.len()];
    for (s, step) in plan.steps.iter().enumerate() {
        for task in step.tasks.iter().filter(|t| t.phase != Phase::SyncFail) {
            first_step[task.object].get_or_insert(s);
        }
    }

    // Providers that plain (non-hook) workloads use too.
    let mut shared: HashMap<usize, usize> = HashMap::new();
    for (i, (m, spec)) in manifests.iter().zip(specs).enumerate() {
        if spec.role != Role::Resource {
            continue;
        }
        let Some(pod) = pod_spec(m) else { continue };
        let namespace = effective_namespace(m, default_namespace);
        for u in uses(pod) {
            if let Some(&p) = providers.get(&(u.kind, namespace, u.name)) {
                shared.entry(p).or_insert(i);
            }
        }
    }

    for (i, (m, spec)) in manifests.iter().zip(specs).enumerate() {
        let Some(pod) = pod_spec(m) else { continue };
        let namespace = effective_namespace(m, default_namespace);
        let o = Object { index: i, m, spec };
        let mut reported: Vec<usize> = Vec::new();
        for u in uses(pod) {
            let Some(&p) = providers.get(&(u.kind, namespace, u.name)) else {
                continue;
            };
            if p == i || reported.contains(&p) {
                continue;
            }
            let dep = Dependency {
                user: &o,
                provider: &manifests[p],
                provider_spec: &specs[p],
                provider_step: first_step[p],
                use_: &u,
                steps: &plan.steps,
                shared_with: shared.get(&p).map(|&w| &manifests[w]),
            };
            let found = match spec.role {
                Role::Resource | Role::Hook => match first_step[i] {
                    Some(step) => dep.in_sync(step, sink),
                    None if spec.phases.contains(&Phase::SyncFail) => dep.in_sync_fail(sink),
                    None => false,
                },
                Role::DeleteHookOnly => dep.in_delete_hook(sink),
                Role::Skip | Role::Ignored | Role::IgnoredHelmHook => false,
            };
            if found {
                reported.push(p);
            }
        }
    }
}

struct Dependency<'a> {
    user: &'a Object<'a>,
    provider: &'a Manifest,
    provider_spec: &'a SyncSpec,
    provider_step: Option<usize>,
    use_: &'a Use<'a>,
    steps: &'a [Step],
    /// A plain workload that uses the provider too.
    shared_with: Option<&'a Manifest>,
}

fn step_label(step: &Step) -> String {
    format!("{} wave {}", step.phase.as_str(), step.wave)
}

impl Dependency<'_> {
    fn what(&self) -> String {
        format!(
            "{} uses {} {:?} ({})",
            self.user.m.kind, self.use_.kind, self.use_.name, self.use_.via
        )
    }

    fn consequence(&self) -> &'static str {
        if self.use_.kind == "ServiceAccount" {
            "its pods cannot be created"
        } else {
            "its pods cannot start"
        }
    }

    /// A user in a sync step `step`.
    fn in_sync(&self, step: usize, sink: &mut Sink) -> bool {
        let user_step = &self.steps[step];
        let created = match (self.provider_spec.role, self.provider_step) {
            (Role::Resource | Role::Hook, Some(p)) if p <= step => return false,
            (Role::Resource | Role::Hook, Some(p)) => {
                format!("in a later step, {}", step_label(&self.steps[p]))
            }
            (Role::Hook, None) => "only when the sync fails (a SyncFail hook)".to_owned(),
            (Role::DeleteHookOnly, _) => "only when the app is deleted (a delete hook)".to_owned(),
            _ => return false,
        };
        let label = object_label(self.provider);
        let wave = user_step.wave;
        let fix = match (user_step.phase, self.provider_spec.role, self.provider_step) {
            (phase, Role::Hook, Some(p)) if self.steps[p].phase == phase => format!(
                "lower {label}'s wave to {wave} or less (`{}: \"{wave}\"`)",
                keys::SYNC_WAVE
            ),
            (Phase::Sync, Role::Resource, _) => format!(
                "lower {label}'s wave to {wave} or less (`{}: \"{wave}\"`)",
                keys::SYNC_WAVE
            ),
            (Phase::PreSync, _, _) if self.shared_with.is_some() => {
                let workload = object_label(self.shared_with.expect("checked"));
                let after = match self.provider_step {
                    Some(p) => format!("{} or later", step_label(&self.steps[p])),
                    None => "a later wave".to_owned(),
                };
                format!(
                    "keep {label} as it is: {workload}, a plain resource, uses it too, and as a hook it would be deleted and re-created on every sync; run {} later instead: as a Sync hook in {after}, or as a PostSync hook",
                    object_label(self.user.m)
                )
            }
            (Phase::PreSync, _, _) => format!(
                "make {label} a PreSync hook in wave {wave} or lower (`{}: PreSync`, `{}: \"{wave}\"`), keeping the default delete policy BeforeHookCreation so it stays after the sync",
                keys::HOOK,
                keys::SYNC_WAVE
            ),
            (Phase::Sync, _, _) => format!(
                "make {label} a plain resource (remove its hook annotation) in wave {wave} or lower"
            ),
            (phase, _, _) => format!(
                "create {label} in step {} or earlier: a plain resource, or a {} hook in wave {wave} or lower",
                step_label(user_step),
                phase.as_str()
            ),
        };
        sink.object(
            &rules::ORDERING_DEPENDENCY,
            self.user,
            self.use_.pos,
            format!(
                "{} in step {}, but {label} is created {created}: Argo CD waits for each step to be healthy before the next, so on a first sync {} and the sync stalls",
                self.what(),
                step_label(user_step),
                self.consequence()
            ),
            Some(fix),
        );
        true
    }

    /// A SyncFail hook: fine when the object exists from the first step on.
    fn in_sync_fail(&self, sink: &mut Sink) -> bool {
        let Some(p) = self.provider_step else {
            return false;
        };
        if p == 0 || !matches!(self.provider_spec.role, Role::Resource | Role::Hook) {
            return false;
        }
        let label = object_label(self.provider);
        sink.object(
            &rules::SYNC_FAIL_DEPENDENCY,
            self.user,
            self.use_.pos,
            format!(
                "SyncFail hook {} and {label} is created in step {}: if a first sync fails before that step, {} and the failure hook does not run",
                self.what().split_once(' ').map_or("", |(_, rest)| rest),
                step_label(&self.steps[p]),
                self.consequence()
            ),
            Some(format!(
                "create {label} in the first step ({}), or accept that the hook needs one successful sync first",
                step_label(&self.steps[0])
            )),
        );
        true
    }

    /// A PreDelete or PostDelete hook.
    fn in_delete_hook(&self, sink: &mut Sink) -> bool {
        let hooks = &self.user.spec.delete_hooks;
        let label = object_label(self.provider);
        let problem = if hooks.contains(&DeleteHook::PostDelete)
            && self.provider_spec.role == Role::Resource
        {
            Some((
                "PostDelete",
                format!(
                    "{label} is a plain resource, and PostDelete hooks run after every resource of the app is deleted"
                ),
                format!(
                    "make {label} a PostDelete hook too (`{}: PostDelete`)",
                    keys::HOOK
                ),
            ))
        } else if hooks.contains(&DeleteHook::PreDelete)
            && self.provider_spec.role == Role::DeleteHookOnly
            && self.provider_spec.delete_hooks == [DeleteHook::PostDelete]
        {
            Some((
                "PreDelete",
                format!("{label} is created only as a PostDelete hook, after the PreDelete hooks"),
                format!("make {label} a plain resource or a PreDelete hook"),
            ))
        } else {
            None
        };
        let Some((phase, why, fix)) = problem else {
            return false;
        };
        sink.object(
            &rules::ORDERING_DEPENDENCY,
            self.user,
            self.use_.pos,
            format!(
                "{phase} hook {}, but {why}: {} when the app is deleted",
                self.what().split_once(' ').map_or("", |(_, rest)| rest),
                self.consequence()
            ),
            Some(fix),
        );
        true
    }
}

/// The pod spec of what starts pods during a sync: a Pod, a Job, or a workload whose health
/// the sync waits for.
fn pod_spec(m: &Manifest) -> Option<&Node> {
    let path: &[&str] = match (m.group(), m.kind.as_str()) {
        ("", "Pod") => &["spec"],
        ("apps", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet") | ("batch", "Job") => {
            &["spec", "template", "spec"]
        }
        _ => return None,
    };
    m.root.path(path)
}

/// The string value under `key` and the key's position.
fn named<'a>(node: &'a Node, key: &str) -> Option<(&'a str, Pos)> {
    let (k, v) = node.entry(key)?;
    Some((v.as_str()?, k.pos))
}

fn optional(node: &Node) -> bool {
    matches!(
        node.get("optional").map(|n| &n.value),
        Some(crate::manifest::node::Value::Bool(true))
    )
}

/// What a reference under `key` names in its field `name`, unless the reference is optional.
fn required<'a>(node: &'a Node, key: &str, name: &str) -> Option<(&'a str, Pos)> {
    node.get(key)
        .filter(|n| !optional(n))
        .and_then(|r| named(r, name))
}

fn items<'a>(node: &'a Node, key: &str) -> impl Iterator<Item = &'a Node> + use<'a> {
    node.get(key).and_then(Node::as_seq).unwrap_or(&[]).iter()
}

/// Every object a pod spec names.
fn uses<'a>(pod: &'a Node) -> Vec<Use<'a>> {
    let mut out = Vec::new();
    let mut add = |kind, found: Option<(&'a str, Pos)>, via: &dyn Fn() -> String| {
        if let Some((name, pos)) = found {
            out.push(Use {
                kind,
                name,
                pos,
                via: via(),
            });
        }
    };
    for key in ["serviceAccountName", "serviceAccount"] {
        add("ServiceAccount", named(pod, key), &|| key.to_owned());
    }
    for secret in items(pod, "imagePullSecrets") {
        add("Secret", named(secret, "name"), &|| {
            "imagePullSecrets".into()
        });
    }
    for volume in items(pod, "volumes") {
        let volume_name = volume.get("name").and_then(Node::as_str).unwrap_or("");
        let via = || format!("volume {volume_name:?}");
        add("ConfigMap", required(volume, "configMap", "name"), &via);
        add("Secret", required(volume, "secret", "secretName"), &via);
        if let Some(claim) = volume.get("persistentVolumeClaim") {
            add("PersistentVolumeClaim", named(claim, "claimName"), &via);
        }
        if let Some(projected) = volume.get("projected") {
            for source in items(projected, "sources") {
                add("ConfigMap", required(source, "configMap", "name"), &via);
                add("Secret", required(source, "secret", "name"), &via);
            }
        }
    }
    for list in ["initContainers", "containers", "ephemeralContainers"] {
        for container in items(pod, list) {
            let container_name = container.get("name").and_then(Node::as_str).unwrap_or("");
            for from in items(container, "envFrom") {
                let via = || format!("envFrom of container {container_name:?}");
                add("ConfigMap", required(from, "configMapRef", "name"), &via);
                add("Secret", required(from, "secretRef", "name"), &via);
            }
            for var in items(container, "env") {
                let Some(from) = var.get("valueFrom") else {
                    continue;
                };
                let var_name = var.get("name").and_then(Node::as_str).unwrap_or("");
                let via = || format!("env {var_name} of container {container_name:?}");
                add("ConfigMap", required(from, "configMapKeyRef", "name"), &via);
                add("Secret", required(from, "secretKeyRef", "name"), &via);
            }
        }
    }
    out
}
