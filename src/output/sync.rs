//! What a sync shows: a live view on a terminal, one timestamped line per event otherwise
//! (CI logs), and at the end a table of every task (or the same as JSON).

use super::{render_table, table};
use crate::engine::sync::Report;
use crate::engine::{Ending, Event, Summary, TaskState, Work};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;
use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

/// Consumes engine events and shows them on stderr.
pub struct Progress {
    live: Option<Live>,
    color: bool,
}

struct Live {
    multi: MultiProgress,
    bars: Mutex<HashMap<String, (ProgressBar, Instant)>>,
}

impl Progress {
    /// A live view when stderr is a terminal, plain lines otherwise.
    pub fn for_stderr() -> Progress {
        let terminal = std::io::stderr().is_terminal();
        Progress {
            live: terminal.then(|| Live {
                multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
                bars: Mutex::new(HashMap::new()),
            }),
            color: super::stderr_color(),
        }
    }

    pub fn note(&self, line: &str) {
        match &self.live {
            Some(live) => {
                let _ = live.multi.println(line);
            }
            None => eprintln!("{} {line}", timestamp()),
        }
    }

    pub fn on(&self, event: &Event) {
        let paint = |code: &str, text: &str| {
            if self.color {
                format!("\x1b[{code}m{text}\x1b[0m")
            } else {
                text.to_owned()
            }
        };
        match event {
            Event::NamespaceCreated(ns) => self.note(&format!("namespace/{ns} created")),
            Event::StepStarted { phase, wave, tasks } => self.note(&paint(
                "1",
                &format!(
                    "{phase} wave {wave}: {tasks} {}",
                    if *tasks == 1 { "task" } else { "tasks" }
                ),
            )),
            Event::Replacing(t) => self.note(&format!(
                "  {t}: deleted the existing object (BeforeHookCreation)"
            )),
            Event::Applied(t) => self.started(t, "applied"),
            Event::Told(t, what) => self.note(&format!("  {t}: {what}")),
            Event::DeleteStepStarted { wave, objects } => self.note(&paint(
                "1",
                &format!(
                    "Delete wave {wave}: {objects} {}",
                    if *objects == 1 { "object" } else { "objects" }
                ),
            )),
            Event::Deleting(t) => self.started(t, "deleting"),
            Event::Kept(t, reason) => self.note(&format!("  - {t} kept: {reason}")),
            Event::Waiting(t, message) => match &self.live {
                Some(live) => {
                    if let Some((bar, _)) = live.bars.lock().expect("not poisoned").get(&key(t)) {
                        bar.set_message(format!("waiting: {message}"));
                    }
                }
                None => self.note(&format!("  {t} waiting: {message}")),
            },
            Event::Why(t, lines) => {
                for line in lines {
                    self.note(&format!("    {t} ↳ {line}"));
                }
            }
            Event::HookLog(t, source, line) => self.note(&format!("  {t} | {source} | {line}")),
            Event::Succeeded(t, message) => self.done(t, &paint("32", "✓"), message),
            Event::Failed(t, message) => self.done(t, &paint("31", "✗"), message),
            Event::StepFinished {
                took, completed, ..
            } => {
                let end = if *completed {
                    "done in"
                } else {
                    "stopped after"
                };
                self.note(&format!("  step {end} {}", seconds(*took)))
            }
            Event::SyncFailStarted { hooks } => self.note(&paint(
                "1;31",
                &format!("sync failed: running {hooks} SyncFail hook(s)"),
            )),
            Event::HookDeleted(t, reason) => {
                self.note(&format!("  {t} {}", deleted_by_policy(reason)))
            }
            Event::HookDeleteFailed(t, why) => self.note(&format!("  {t}: {why}")),
            // Said once, when the signal came (the report's verdict says it again at the end).
            Event::Interrupted => {}
        }
    }

    /// A task in flight: a spinner on a terminal, a line otherwise.
    fn started(&self, t: &crate::engine::TaskRef, what: &str) {
        match &self.live {
            Some(live) => {
                let bar = live.multi.add(ProgressBar::new_spinner());
                bar.set_style(
                    ProgressStyle::with_template("  {spinner} {prefix} {msg} {elapsed}")
                        .expect("valid template"),
                );
                bar.set_prefix(t.to_string());
                bar.set_message(what.to_owned());
                bar.enable_steady_tick(Duration::from_millis(120));
                live.bars
                    .lock()
                    .expect("not poisoned")
                    .insert(key(t), (bar, Instant::now()));
            }
            None => self.note(&format!("  {t} {what}")),
        }
    }

    fn done(&self, t: &crate::engine::TaskRef, mark: &str, message: &str) {
        let detail = if message.is_empty() {
            String::new()
        } else {
            format!(": {message}")
        };
        match &self.live {
            Some(live) => {
                let entry = live.bars.lock().expect("not poisoned").remove(&key(t));
                let took = entry
                    .as_ref()
                    .map(|(_, started)| format!(" ({})", seconds(started.elapsed())))
                    .unwrap_or_default();
                if let Some((bar, _)) = entry {
                    bar.finish_and_clear();
                    live.multi.remove(&bar);
                }
                let _ = live.multi.println(format!("  {mark} {t}{detail}{took}"));
            }
            None => self.note(&format!("  {mark} {t}{detail}")),
        }
    }
}

fn key(t: &crate::engine::TaskRef) -> String {
    format!(
        "{}/{}/{}/{}",
        t.phase,
        t.kind,
        t.namespace.as_deref().unwrap_or(""),
        t.name
    )
}

fn timestamp() -> String {
    humantime::format_rfc3339_millis(SystemTime::now()).to_string()
}

pub fn seconds(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{}ms", d.as_millis())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

fn state_word(w: &Work) -> &'static str {
    match w.state {
        TaskState::Pending => "Pending",
        TaskState::Running => "Running",
        TaskState::Succeeded => "Succeeded",
        TaskState::Failed => "Failed",
    }
}

fn message_of(w: &Work) -> String {
    let mut m = super::why::reason(w).unwrap_or_else(|| w.message.clone());
    if w.state == TaskState::Pending {
        m = if w.task.phase == crate::model::Phase::SyncFail {
            "not run: runs only when the sync fails".into()
        } else {
            "not started".into()
        };
    }
    if let Some(took) = &w.took_over {
        if !m.is_empty() {
            m.push_str("; ");
        }
        m.push_str(took);
    }
    add_policy_deletion(&mut m, w);
    m
}

/// "deleted (<reason>)": how a hook removed by its delete policy is told, everywhere.
pub(super) fn deleted_by_policy(reason: &str) -> String {
    format!("deleted ({reason})")
}

/// Appends to a task's message that its delete policy removed it, if it did.
pub(super) fn add_policy_deletion(message: &mut String, w: &Work) {
    if let Some(reason) = &w.deleted_by_policy {
        if !message.is_empty() {
            message.push_str("; ");
        }
        message.push_str(&deleted_by_policy(reason));
    }
}

pub(super) fn duration_of(w: &Work) -> Option<Duration> {
    w.finished?.duration_since(w.started?).ok()
}

/// The final table and summary, for stdout.
pub fn render(report: &Report, works: &[Work], stats: bool) -> String {
    let mut t = table(&[
        "PHASE",
        "WAVE",
        "KIND",
        "NAMESPACE",
        "NAME",
        "RESULT",
        "MESSAGE",
        "DURATION",
    ]);
    for w in works {
        t.add_row(vec![
            w.task.phase.to_string(),
            w.task.wave.to_string(),
            w.task.kind.clone(),
            w.namespace.clone().unwrap_or_else(|| "-".into()),
            w.name.clone(),
            state_word(w).into(),
            one_line(&message_of(w)),
            duration_of(w).map(seconds).unwrap_or_else(|| "-".into()),
        ]);
    }
    let mut out = render_table(&t);
    let verdict = match report.summary.ending {
        Ending::Succeeded => "Sync succeeded",
        Ending::Failed => "Sync FAILED",
        Ending::Interrupted => "Sync INTERRUPTED",
    };
    let steps: Vec<String> = report
        .step_durations
        .iter()
        .map(|(phase, wave, took)| format!("{phase} {wave}: {}", seconds(*took)))
        .collect();
    out.push_str(&format!(
        "\n{verdict} in {} ({})\n",
        seconds(report.summary.duration),
        steps.join(", ")
    ));
    if report.summary.ending != Ending::Succeeded {
        out.push_str(&format!("{}\n", report.summary.message));
    }
    out.push_str(&super::why::blocks(works));
    if stats {
        out.push_str(&format!("API requests: {}\n", report.summary.requests));
    }
    out
}

pub(super) fn one_line(s: &str) -> String {
    let line = s.replace('\n', " ");
    if line.chars().count() > 120 {
        format!("{}…", line.chars().take(119).collect::<String>())
    } else {
        line
    }
}

#[derive(Serialize)]
struct ReportDoc<'a> {
    result: Ending,
    message: &'a str,
    #[serde(rename = "durationMs")]
    duration_ms: u128,
    steps: Vec<StepDoc>,
    tasks: Vec<TaskDoc<'a>>,
    #[serde(rename = "apiRequests")]
    api_requests: u64,
}

#[derive(Serialize)]
struct StepDoc {
    phase: crate::model::Phase,
    wave: i64,
    #[serde(rename = "durationMs")]
    duration_ms: u128,
}

#[derive(Serialize)]
struct TaskDoc<'a> {
    phase: crate::model::Phase,
    wave: i64,
    result: TaskState,
    message: String,
    #[serde(flatten)]
    work: WorkDoc<'a>,
    #[serde(flatten)]
    why: Option<super::why::WhyDoc<'a>>,
}

/// Which object a task is about, in every report (sync, delete, sync --dry-run).
#[derive(Serialize)]
struct ObjectDoc<'a> {
    #[serde(rename = "apiVersion")]
    api_version: &'a str,
    kind: &'a str,
    namespace: Option<&'a str>,
    /// The name it has (a `generateName` hook's name is fixed for the sync).
    name: &'a str,
    hook: bool,
}

impl<'a> ObjectDoc<'a> {
    fn of(w: &'a Work) -> ObjectDoc<'a> {
        ObjectDoc {
            api_version: &w.api_version,
            kind: &w.task.kind,
            namespace: w.namespace.as_deref(),
            name: &w.name,
            hook: w.task.hook,
        }
    }
}

/// What every report (sync, delete) says about a task's object and timing.
#[derive(Serialize)]
pub(super) struct WorkDoc<'a> {
    #[serde(flatten)]
    object: ObjectDoc<'a>,
    #[serde(rename = "deletedByPolicy")]
    deleted_by_policy: Option<&'a str>,
    /// Fields the forced apply took from other field managers.
    #[serde(rename = "tookOver", skip_serializing_if = "Option::is_none")]
    took_over: Option<&'a str>,
    #[serde(rename = "startedAt")]
    started_at: Option<String>,
    #[serde(rename = "finishedAt")]
    finished_at: Option<String>,
    source: &'a str,
}

impl<'a> WorkDoc<'a> {
    pub(super) fn of(w: &'a Work) -> WorkDoc<'a> {
        let at = |t: Option<SystemTime>| t.map(|t| humantime::format_rfc3339_millis(t).to_string());
        WorkDoc {
            object: ObjectDoc::of(w),
            deleted_by_policy: w.deleted_by_policy.as_deref(),
            took_over: w.took_over.as_deref(),
            started_at: at(w.started),
            finished_at: at(w.finished),
            source: &w.source,
        }
    }
}

/// How `cleanup` and `delete` reports begin: the result (`null` before the run, with
/// `--dry-run`), the message, the time taken.
#[derive(Serialize)]
pub(super) struct Head<'a> {
    result: Option<Ending>,
    message: &'a str,
    #[serde(rename = "durationMs")]
    duration_ms: u128,
    #[serde(rename = "dryRun")]
    dry_run: bool,
}

impl<'a> Head<'a> {
    pub(super) fn of(report: Option<&'a Summary>) -> Head<'a> {
        Head {
            result: report.map(|r| r.ending),
            message: report.map_or("dry run: nothing was changed", |r| r.message.as_str()),
            duration_ms: report.map_or(0, |r| r.duration.as_millis()),
            dry_run: report.is_none(),
        }
    }
}

/// "\nDelete succeeded in 1.2s: <message>\n"
pub(super) fn verdict(operation: &str, report: &Summary) -> String {
    let outcome = match report.ending {
        Ending::Succeeded => "succeeded",
        Ending::Failed => "FAILED",
        Ending::Interrupted => "INTERRUPTED",
    };
    format!(
        "\n{operation} {outcome} in {}: {}\n",
        seconds(report.duration),
        report.message
    )
}

pub fn json(report: &Report, works: &[Work]) -> String {
    let doc = ReportDoc {
        result: report.summary.ending,
        message: &report.summary.message,
        duration_ms: report.summary.duration.as_millis(),
        steps: report
            .step_durations
            .iter()
            .map(|(phase, wave, took)| StepDoc {
                phase: *phase,
                wave: *wave,
                duration_ms: took.as_millis(),
            })
            .collect(),
        tasks: works
            .iter()
            .map(|w| TaskDoc {
                phase: w.task.phase,
                wave: w.task.wave,
                result: w.state,
                message: w.message.clone(),
                work: WorkDoc::of(w),
                why: super::why::WhyDoc::of(w),
            })
            .collect(),
        api_requests: report.summary.requests,
    };
    super::to_json(&doc)
}

/// Where the objects go, for the prompt and the summary: `namespace "shop"`, `namespaces
/// "a", "b"`, or `cluster-scoped objects only`. (Not the context's namespace: `-n` or
/// `metadata.namespace` decide.)
pub fn destination<'a>(namespaces: impl Iterator<Item = Option<&'a str>>) -> String {
    let mut named = std::collections::BTreeSet::new();
    let mut cluster_scoped = false;
    for ns in namespaces {
        match ns {
            Some(ns) => {
                named.insert(ns);
            }
            None => cluster_scoped = true,
        }
    }
    let quoted: Vec<String> = named.iter().map(|ns| format!("\"{ns}\"")).collect();
    let mut s = match quoted.len() {
        0 => return "cluster-scoped objects only".into(),
        1 => format!("namespace {}", quoted[0]),
        _ => format!("namespaces {}", quoted.join(", ")),
    };
    if cluster_scoped {
        s.push_str(" and cluster-scoped objects");
    }
    s
}

#[cfg(test)]
mod destination_tests {
    use super::destination;

    #[test]
    fn names_where_the_objects_go() {
        assert_eq!(
            destination([Some("shop")].into_iter()),
            "namespace \"shop\""
        );
        assert_eq!(
            destination([Some("b"), None, Some("a"), Some("b")].into_iter()),
            "namespaces \"a\", \"b\" and cluster-scoped objects"
        );
        assert_eq!(
            destination([None].into_iter()),
            "cluster-scoped objects only"
        );
    }
}

#[derive(Serialize)]
struct DryRunDoc<'a> {
    #[serde(flatten)]
    head: Head<'a>,
    steps: Vec<DryRunStep<'a>>,
    notes: &'a [String],
}

#[derive(Serialize)]
struct DryRunStep<'a> {
    phase: crate::model::Phase,
    wave: i64,
    /// The SyncFail step: it runs only when the sync fails.
    #[serde(rename = "onFailureOnly")]
    on_failure_only: bool,
    tasks: Vec<DryRunTask<'a>>,
}

#[derive(Serialize)]
struct DryRunTask<'a> {
    phase: crate::model::Phase,
    wave: i64,
    #[serde(flatten)]
    object: ObjectDoc<'a>,
    #[serde(rename = "deletePolicies")]
    delete_policies: &'a [crate::model::DeletePolicy],
    source: &'a str,
}

/// `sync --dry-run -o json`: every task the sync would run, step by step, as it would send it.
pub fn dry_run_json(prepared: &crate::engine::sync::Prepared) -> String {
    let step = |s: &crate::engine::sync::StepWork| DryRunStep {
        phase: s.phase,
        wave: s.wave,
        on_failure_only: s.phase == crate::model::Phase::SyncFail,
        tasks: s
            .tasks
            .iter()
            .map(|&i| {
                let w = &prepared.works[i];
                DryRunTask {
                    phase: w.task.phase,
                    wave: w.task.wave,
                    object: ObjectDoc::of(w),
                    delete_policies: if w.task.hook {
                        &w.task.delete_policies
                    } else {
                        &[]
                    },
                    source: &w.source,
                }
            })
            .collect(),
    };
    let doc = DryRunDoc {
        head: Head::of(None),
        steps: prepared
            .steps
            .iter()
            .chain(&prepared.sync_fail)
            .map(step)
            .collect(),
        notes: &prepared.notes,
    };
    super::to_json(&doc)
}
