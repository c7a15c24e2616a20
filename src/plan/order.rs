//! The sort (gitops-engine's `syncTasks` order: phase, wave, kind, name), dependency bubbling
//! (a Namespace or CRD moves to the earliest step that needs it) and grouping into steps.

use super::{Step, Task, kinds};
use crate::manifest::Manifest;
use crate::model::Phase;
use std::cmp::Ordering;
use std::collections::HashMap;

/// Argo's key is phase, wave, kind rank, name; its order among equal keys is undefined, so a
/// deterministic tie-break follows: group, then namespace, then input order.
fn compare(a: &Task, b: &Task) -> Ordering {
    a.phase
        .cmp(&b.phase)
        .then(a.wave.cmp(&b.wave))
        .then(kinds::rank(&a.kind).cmp(&kinds::rank(&b.kind)))
        .then(a.name.as_bytes().cmp(b.name.as_bytes()))
        .then(a.group.cmp(&b.group))
        .then(a.namespace.cmp(&b.namespace))
        .then(a.object.cmp(&b.object))
}

pub fn sort(tasks: &mut [Task]) {
    tasks.sort_by(compare);
}

/// Namespaces first, then CRDs: a dependency that sorts after a task that needs it moves to
/// just before that task, taking its phase and wave.
///
/// A task without a namespace (a cluster-scoped object) counts as one in `sync_namespace`:
/// gitops-engine's `getSyncTasks` gives every target without a namespace the sync's namespace
/// ("enrich target objects with the namespace") before it bubbles, so a CRD or ClusterRole in
/// an earlier wave brings the sync namespace's Namespace object forward with it.
pub fn bubble_dependencies(tasks: &mut Vec<Task>, manifests: &[Manifest], sync_namespace: &str) {
    bubble(
        tasks,
        |t| (t.group.is_empty() && t.kind == "Namespace").then(|| t.name.clone()),
        |t| {
            Some(
                t.namespace
                    .clone()
                    .unwrap_or_else(|| sync_namespace.to_owned()),
            )
        },
    );
    bubble(
        tasks,
        |t| {
            if t.group != "apiextensions.k8s.io" || t.kind != "CustomResourceDefinition" {
                return None;
            }
            let spec = manifests[t.object].root.get("spec")?;
            let group = spec.get("group")?.as_str()?;
            let kind = spec.path(&["names", "kind"])?.as_str()?;
            Some(format!("{group}/{kind}"))
        },
        |t| Some(format!("{}/{}", t.group, t.kind)),
    );
}

fn bubble(
    tasks: &mut Vec<Task>,
    provides: impl Fn(&Task) -> Option<String>,
    needs: impl Fn(&Task) -> Option<String>,
) {
    let mut first_user: HashMap<String, usize> = HashMap::new();
    for i in 0..tasks.len() {
        match provides(&tasks[i]) {
            Some(key) => {
                let Some(&at) = first_user.get(&key) else {
                    continue;
                };
                let mut dependency = tasks.remove(i);
                dependency.phase = tasks[at].phase;
                dependency.wave = tasks[at].wave;
                tasks.insert(at, dependency);
                for index in first_user.values_mut() {
                    if *index >= at && *index < i {
                        *index += 1;
                    }
                }
            }
            None => {
                if let Some(key) = needs(&tasks[i]) {
                    first_user.entry(key).or_insert(i);
                }
            }
        }
    }
}

/// Consecutive tasks of one (phase, wave) form a step. SyncFail hooks all run at once when a
/// sync fails, whatever their waves, so they form one step (shown at their lowest wave).
pub fn into_steps(tasks: Vec<Task>) -> Vec<Step> {
    let mut steps: Vec<Step> = Vec::new();
    for task in tasks {
        match steps.last_mut() {
            Some(step)
                if step.phase == task.phase
                    && (step.wave == task.wave || task.phase == Phase::SyncFail) =>
            {
                step.tasks.push(task)
            }
            _ => steps.push(Step {
                phase: task.phase,
                wave: task.wave,
                tasks: vec![task],
            }),
        }
    }
    steps
}
