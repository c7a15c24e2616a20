//! `kubectl hooks plan`: the wave table and its JSON/YAML form.

use super::{plural, render_table, table};
use crate::manifest::Manifest;
use crate::model::{DeletePolicy, Phase, Role, SyncSpec};
use crate::plan::{Plan, Task};
use serde::Serialize;

#[derive(Serialize)]
pub struct PlanDoc<'a> {
    pub steps: Vec<StepDoc<'a>>,
    pub skipped: Vec<TaskDoc<'a>>,
    #[serde(rename = "deleteHooks")]
    pub delete_hooks: Vec<TaskDoc<'a>>,
    pub dropped: Vec<TaskDoc<'a>>,
}

#[derive(Serialize)]
pub struct StepDoc<'a> {
    pub phase: Phase,
    pub wave: i64,
    /// True for the SyncFail step: it runs only when the sync fails.
    #[serde(rename = "onFailureOnly")]
    pub on_failure_only: bool,
    pub tasks: Vec<TaskDoc<'a>>,
}

#[derive(Serialize)]
pub struct TaskDoc<'a> {
    #[serde(rename = "apiVersion")]
    pub api_version: &'a str,
    pub kind: &'a str,
    pub namespace: Option<&'a str>,
    pub name: Option<&'a str>,
    #[serde(rename = "generateName")]
    pub generate_name: Option<&'a str>,
    pub hook: bool,
    #[serde(rename = "deletePolicies")]
    pub delete_policies: &'a [DeletePolicy],
    pub wave: i64,
    pub source: SourceDoc<'a>,
    /// Why a skipped object is left out (`hook: Skip`, a Helm test hook).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
}

#[derive(Serialize)]
pub struct SourceDoc<'a> {
    pub file: &'a str,
    pub line: u32,
}

pub fn task_doc<'a>(task: &'a Task, m: &'a Manifest) -> TaskDoc<'a> {
    TaskDoc {
        api_version: &m.api_version,
        kind: &m.kind,
        namespace: task.namespace.as_deref(),
        name: m.name.as_deref(),
        generate_name: m.generate_name.as_deref(),
        hook: task.hook,
        delete_policies: &task.delete_policies,
        wave: task.wave,
        source: SourceDoc {
            file: &m.source.file,
            line: m.source.line,
        },
        reason: None,
    }
}

pub fn document<'a>(plan: &'a Plan, manifests: &'a [Manifest]) -> PlanDoc<'a> {
    let docs = |tasks: &'a [Task]| {
        tasks
            .iter()
            .map(|t| task_doc(t, &manifests[t.object]))
            .collect()
    };
    PlanDoc {
        steps: plan
            .steps
            .iter()
            .map(|s| StepDoc {
                phase: s.phase,
                wave: s.wave,
                on_failure_only: s.phase == Phase::SyncFail,
                tasks: docs(&s.tasks),
            })
            .collect(),
        skipped: plan
            .skipped
            .iter()
            .map(|t| {
                let m = &manifests[t.object];
                TaskDoc {
                    reason: SyncSpec::of(m).skip_reason(),
                    ..task_doc(t, m)
                }
            })
            .collect(),
        delete_hooks: docs(&plan.delete_hooks),
        dropped: docs(&plan.dropped),
    }
}

fn policies(task: &Task) -> String {
    if !task.hook {
        return "-".into();
    }
    task.delete_policies
        .iter()
        .map(|p| p.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

fn row(
    task: &Task,
    m: &Manifest,
    phase: &str,
    wave: String,
    hook: &str,
    wide: bool,
) -> Vec<String> {
    let mut cells = vec![
        phase.to_owned(),
        wave,
        m.kind.clone(),
        task.namespace.clone().unwrap_or_else(|| "-".into()),
        m.display_name(),
        hook.to_owned(),
        policies(task),
    ];
    if wide {
        cells.push(m.api_version.clone());
        cells.push(m.source.to_string());
    }
    cells
}

fn headers(wide: bool) -> Vec<&'static str> {
    let mut h = vec![
        "PHASE",
        "WAVE",
        "KIND",
        "NAMESPACE",
        "NAME",
        "HOOK",
        "DELETE POLICY",
    ];
    if wide {
        h.extend(["API VERSION", "SOURCE"]);
    }
    h
}

/// The wave table, in run order, then what is not part of the sync, then a summary.
pub fn render(plan: &Plan, manifests: &[Manifest], wide: bool) -> String {
    let mut out = String::new();
    let mut t = table(&headers(wide));
    for step in &plan.steps {
        for task in &step.tasks {
            let m = &manifests[task.object];
            let hook = if task.hook { task.phase.as_str() } else { "-" };
            t.add_row(row(
                task,
                m,
                step.phase.as_str(),
                task.wave.to_string(),
                hook,
                wide,
            ));
        }
    }
    if plan.steps.is_empty() {
        out.push_str("Nothing to sync: no object is applied by a sync.\n");
    } else {
        out.push_str(&render_table(&t));
    }
    if plan.steps.iter().any(|s| s.phase == Phase::SyncFail) {
        out.push_str(
            "\nSyncFail hooks run only when the sync fails, all at once (their waves are ignored).\n",
        );
    }
    let mut section = |title: &str, label: &str, tasks: &[Task]| {
        if tasks.is_empty() {
            return;
        }
        out.push_str(&format!("\n{title}\n"));
        let mut t = table(&headers(wide));
        for task in tasks {
            let m = &manifests[task.object];
            let hook = m
                .annotation(crate::model::keys::HOOK)
                .or_else(|| m.annotation(crate::model::keys::HELM_HOOK))
                .map(|(v, _)| v)
                .unwrap_or("-");
            let label = match SyncSpec::of(m).role {
                Role::IgnoredHelmHook => "Ignored",
                _ => label,
            };
            t.add_row(row(task, m, label, "-".into(), hook, wide));
        }
        out.push_str(&render_table(&t));
    };
    section(
        "Not synced: run only by `kubectl hooks delete`:",
        "Delete",
        &plan.delete_hooks,
    );
    let helm_ignored = plan
        .skipped
        .iter()
        .any(|t| SyncSpec::of(&manifests[t.object]).role == Role::IgnoredHelmHook);
    section(
        if helm_ignored {
            "Skipped, neither applied nor pruned (Skip: hook: Skip; Ignored: a Helm test or rollback hook, which Argo CD ignores):"
        } else {
            "Skipped (hook: Skip): neither applied nor pruned:"
        },
        "Skip",
        &plan.skipped,
    );
    section(
        "Dropped: no known hook type, so Argo CD would never apply them:",
        "Dropped",
        &plan.dropped,
    );
    out.push('\n');
    out.push_str(&summary(plan));
    out
}

pub fn summary(plan: &Plan) -> String {
    let tasks: Vec<&Task> = plan.tasks().collect();
    let mut objects: Vec<usize> = tasks.iter().map(|t| t.object).collect();
    objects.sort_unstable();
    objects.dedup();
    let hooks = tasks.iter().filter(|t| t.hook).count();
    let mut s = format!(
        "{} {} in {}: {} {}, {} {}",
        objects.len(),
        plural(objects.len(), "object", "objects"),
        step_count(plan),
        hooks,
        plural(hooks, "hook task", "hook tasks"),
        tasks.len() - hooks,
        plural(tasks.len() - hooks, "resource", "resources"),
    );
    for (n, what) in [
        (plan.skipped.len(), "skipped"),
        (plan.delete_hooks.len(), "delete hooks not synced"),
        (plan.dropped.len(), "dropped"),
    ] {
        if n > 0 {
            s.push_str(&format!("; {n} {what}"));
        }
    }
    s.push('\n');
    s
}

/// "5 steps", or "5 steps (+ SyncFail on failure)": the one way every command counts steps.
pub fn step_count(plan: &Plan) -> String {
    let n = plan.run_steps();
    let mut s = format!("{n} {}", plural(n, "step", "steps"));
    if plan.has_sync_fail() {
        s.push_str(" (+ SyncFail on failure)");
    }
    s
}
