//! Engine events: values the progress view, the CI log and tests consume alike.

use crate::model::Phase;
use std::time::Duration;

/// Which object an event is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskRef {
    pub phase: Phase,
    pub wave: i64,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    pub hook: bool,
}

impl std::fmt::Display for TaskRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.kind, self.name)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    NamespaceCreated(String),
    StepStarted {
        phase: Phase,
        wave: i64,
        tasks: usize,
    },
    /// An existing hook object is deleted before the hook is created again.
    Replacing(TaskRef),
    Applied(TaskRef),
    /// What a running task waits for, when it changes ("1/2 replicas available").
    Waiting(TaskRef, String),
    /// Why a task still waits: lines not shown before (pod states, Warning events).
    Why(TaskRef, Vec<String>),
    /// `--logs`: a line of a hook pod's output; the middle is `pod/container`.
    HookLog(TaskRef, String, String),
    Succeeded(TaskRef, String),
    Failed(TaskRef, String),
    StepFinished {
        phase: Phase,
        wave: i64,
        took: Duration,
        /// False when the step failed or was interrupted: it is not "done".
        completed: bool,
    },
    /// The sync failed: SyncFail hooks start now.
    SyncFailStarted {
        hooks: usize,
    },
    /// `delete`: a step of deletions (one wave, in reverse order) starts.
    DeleteStepStarted {
        wave: i64,
        objects: usize,
    },
    /// `delete`, `cleanup`: an object's deletion was requested; `Succeeded` or `Failed` follows.
    Deleting(TaskRef),
    /// `delete`, `cleanup`: an object is left in place, and why.
    Kept(TaskRef, String),
    /// A delete policy removed a hook object.
    HookDeleted(TaskRef, String),
    /// A delete policy could not remove a hook object.
    HookDeleteFailed(TaskRef, String),
    Interrupted,
}
