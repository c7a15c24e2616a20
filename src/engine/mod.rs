//! The engine of operations (sync, delete, cleanup) over their shared pieces. A sync validates
//! everything, then walks the plan step by step against a cluster (apply, wait until healthy,
//! hooks and their delete policies), emitting events. It knows nothing about terminals:
//! `output` turns its events and report into what people read.

pub mod cleanup;
pub mod delete;
pub mod diff;
mod events;
pub mod inventory;
pub mod lock;
pub mod members;
pub mod naming;
pub mod policy;
mod prepare;
pub mod prune;
pub mod remove;
mod run;
pub mod status;
mod wait;

pub use events::{Event, TaskRef};
pub use prepare::{PrepareError, Prepared, StepWork, prepare};
pub use run::{Cancel, execute};

use crate::cluster::ResolvedKind;
use crate::health::HealthMode;
use crate::model::Phase;
use crate::plan::Task;
use serde::Serialize;
use std::time::{Duration, SystemTime};

/// How a sync runs.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The whole sync must finish within this.
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
            prune_propagation: crate::cluster::Propagation::Foreground,
            keep_dry_run: false,
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
    /// Set when a delete policy removed the hook at the end.
    pub deleted_by_policy: Option<String>,
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

/// How a sync ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum SyncResult {
    Succeeded,
    Failed,
    Interrupted,
}

/// What the sync did, for the final table and `-o json`.
#[derive(Debug, Clone)]
pub struct Report {
    pub result: SyncResult,
    pub message: String,
    pub duration: Duration,
    /// Time spent in each step, in run order.
    pub step_durations: Vec<(Phase, i64, Duration)>,
    /// API requests made by the client since it was created, up to this report: discovery,
    /// namespace checks, the dry run, the lock and every step (for `--stats` and `-o json`).
    pub requests: u64,
}
