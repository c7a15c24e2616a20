//! The engine of operations, one module each (`sync`, `delete`, `cleanup`), over the pieces
//! they share: `validate` (everything checked before a write), `apply` (a step of hooks or
//! resources: apply, then wait), `wait`, `remove` (deletions and delete policies), `policy`,
//! `lock`, `naming` and `events`. It knows nothing about terminals: `output` turns its events
//! and reports into what people read.

mod access;
mod apply;
pub mod cleanup;
pub mod delete;
pub mod diff;
mod events;
pub mod inventory;
pub mod lock;
pub mod members;
pub mod naming;
mod options;
pub mod policy;
pub mod prune;
pub mod remove;
pub mod status;
pub mod sync;
mod takeover;
mod validate;
mod wait;
mod why;

pub use events::{Event, TaskRef};
pub use validate::PrepareError;
pub use why::WhySettings;

use crate::cluster::{Cluster, ResolvedKind};
use crate::health::HealthMode;
use crate::manifest::Manifest;
use crate::model::{SyncOptions, SyncSpec};
use crate::plan::Task;
use serde::Serialize;
use std::time::{Duration, SystemTime};

/// What an operation on an input (`sync`, `delete`) works from: the objects, what their
/// annotations say, how to run, and when it started (the time names generateName hooks).
#[derive(Debug, Clone)]
pub struct Input {
    pub manifests: Vec<Manifest>,
    pub specs: Vec<SyncSpec>,
    pub settings: Settings,
    /// Leave out hooks with no known type, as Argo CD does, instead of refusing them.
    pub drop_unknown_hooks: bool,
    pub started_unix: u64,
}

/// How a sync or a delete runs (their hooks run alike).
#[derive(Debug, Clone)]
pub struct Settings {
    /// The whole sync must finish within this; zero: no limit (as `--request-timeout 0`).
    pub timeout: Duration,
    /// Each hook must finish within this after it was applied.
    pub hook_timeout: Option<Duration>,
    /// A pause after each step but the last (Argo CD waits 2 s; the default here is none).
    pub wave_delay: Option<Duration>,
    /// Take over fields other managers own (`--force-conflicts`), as Argo CD does with SSA.
    pub force_conflicts: bool,
    pub health: HealthMode,
    /// Applies in flight at once within a step.
    pub concurrency: usize,
    /// Create missing namespaces the objects need.
    pub create_namespace: bool,
    /// The namespace given with `-n`, if any: objects naming another one are refused.
    pub namespace_flag: Option<String>,
    /// Leave hooks running when the operation is interrupted or a timeout ends them, instead
    /// of terminating them (`--keep-running-hooks`).
    pub keep_running_hooks: bool,
    /// What to say about waiting and failed tasks (log lines, `--logs`).
    pub why: WhySettings,
    /// How prunes propagate to dependents (`--prune-propagation`).
    pub prune_propagation: crate::cluster::Propagation,
    /// Keep what the dry run returned for each object (`diff` compares it with the live one).
    pub keep_dry_run: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            timeout: Duration::from_secs(300),
            hook_timeout: None,
            wave_delay: None,
            force_conflicts: true,
            health: HealthMode::Argo,
            concurrency: 16,
            create_namespace: false,
            namespace_flag: None,
            keep_running_hooks: false,
            why: WhySettings::default(),
            prune_propagation: crate::cluster::Propagation::Foreground,
            keep_dry_run: false,
        }
    }
}

/// How far "no limit" lies: far enough never to be reached, near enough to add to an Instant.
const NO_LIMIT: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

impl Settings {
    /// When an operation started at `started` must end (`timeout` zero: never).
    pub fn deadline_from(&self, started: tokio::time::Instant) -> tokio::time::Instant {
        if self.timeout.is_zero() {
            started + NO_LIMIT
        } else {
            started + self.timeout
        }
    }
}

/// The state of one task, as the final report shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum TaskState {
    /// Not started (an earlier step failed, or the sync was interrupted).
    Pending,
    /// Applied, not finished when the sync ended.
    Running,
    Succeeded,
    Failed,
}

/// One task of the plan, made ready to send: resolved kind, final name, final object.
#[derive(Debug, Clone)]
pub struct Work {
    pub task: Task,
    /// None until the kind exists: its CRD is applied by this same sync.
    pub kind: Option<ResolvedKind>,
    pub api_version: String,
    pub name: String,
    /// The namespace it lives in (None for cluster-scoped objects).
    pub namespace: Option<String>,
    pub object: serde_json::Value,
    /// `file:line` of the object in the input.
    pub source: String,
    pub state: TaskState,
    pub message: String,
    pub started: Option<SystemTime>,
    pub finished: Option<SystemTime>,
    /// Set when a delete policy removed the hook at the end (or it was terminated).
    pub deleted_by_policy: Option<String>,
    /// A timeout (`--timeout`, `--hook-timeout`) ended its wait: it may still be running.
    pub timed_out: bool,
    /// Why it failed: pods, events, logs (read when its step failed).
    pub why: Option<crate::diagnose::Why>,
    /// The fields its forced apply took from other field managers, said in words.
    pub took_over: Option<String>,
    /// Its `argocd.argoproj.io/sync-options`: how it is checked and written.
    pub options: SyncOptions,
    /// The dry run found fields a client-side apply manages: take them over before applying.
    pub client_side: bool,
}

impl Work {
    /// The object to delete, once its kind is known.
    pub fn target(&self) -> Option<remove::Target<'_>> {
        Some(remove::Target {
            kind: self.kind.as_ref()?,
            namespace: self.namespace.as_deref().unwrap_or(""),
            name: &self.name,
        })
    }

    pub fn reference(&self) -> TaskRef {
        TaskRef {
            phase: self.task.phase,
            wave: self.task.wave,
            kind: self.task.kind.clone(),
            namespace: self.namespace.clone(),
            name: self.name.clone(),
            hook: self.task.hook,
        }
    }
}

/// Runs `tasks` with at most `limit` in flight (`--concurrency`: every batch of requests the
/// engine sends goes through here), results in the order of `tasks`.
///
/// `buffer_unordered`, then sorted: a request that finishes frees its slot at once. With
/// `buffered`, results that arrive before an earlier, slower one keep their slots until it
/// returns, so one slow request holds back every request behind it.
pub(crate) async fn concurrently<F: std::future::Future>(
    limit: usize,
    tasks: impl IntoIterator<Item = F>,
) -> Vec<F::Output> {
    use futures::StreamExt;
    let mut results: Vec<(usize, F::Output)> = futures::stream::iter(tasks.into_iter().enumerate())
        .map(|(i, task)| async move { (i, task.await) })
        .buffer_unordered(limit.max(1))
        .collect()
        .await;
    results.sort_unstable_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, output)| output).collect()
}

/// How an operation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Ending {
    Succeeded,
    Failed,
    Interrupted,
}

/// What every operation's report says, whatever the operation.
#[derive(Debug, Clone)]
pub struct Summary {
    pub ending: Ending,
    pub message: String,
    pub duration: Duration,
    /// API requests the operation made, from connecting to this summary: discovery, namespace
    /// checks, dry runs, the lock and the work itself (for `--stats` and `-o json`). Counted
    /// the same way for every operation: by the client, which serves one operation.
    pub requests: u64,
}

impl Summary {
    pub fn new(cluster: &Cluster, ending: Ending, message: String, duration: Duration) -> Self {
        Summary {
            ending,
            message,
            duration,
            requests: cluster.requests_made(),
        }
    }
}

/// How the engine learns of Ctrl-C: stop starting new work.
#[derive(Clone)]
pub struct Cancel(tokio::sync::watch::Receiver<bool>);

impl Cancel {
    pub fn new() -> (tokio::sync::watch::Sender<bool>, Cancel) {
        let (tx, rx) = tokio::sync::watch::channel(false);
        (tx, Cancel(rx))
    }

    pub fn is_cancelled(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves once cancelled (never, if the sender is gone without cancelling).
    pub async fn cancelled(&mut self) {
        if self.0.wait_for(|c| *c).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// What an interrupted operation got to (its one "interrupted" line is the report's verdict).
pub(crate) fn interrupted_message(works: &[Work]) -> String {
    let count = |state| works.iter().filter(|w| w.state == state).count();
    let terminated = works.iter().filter(|w| w.is_terminated()).count();
    let mut message = format!(
        "{} task(s) finished, {} still running, {} not started",
        count(TaskState::Succeeded) + count(TaskState::Failed) - terminated,
        count(TaskState::Running),
        count(TaskState::Pending)
    );
    if terminated > 0 {
        message.push_str(&format!(", {terminated} hook(s) terminated"));
    }
    message
}
