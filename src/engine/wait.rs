//! Waiting until the tasks of a step are done, through watches (never polling): resources
//! until healthy (or at once when their kind has no health check), hooks until they succeed
//! or fail. Watches are opened before the step's objects are applied, so no change between
//! the apply and the first watch event can be missed, not even a Job that deletes itself.

use super::{Event, Settings, TaskState, Work};
use crate::cluster::{Cluster, ClusterError, ResolvedKind, WatchEvent, WatchStream};
use crate::health::{self, HealthStatus, HookOutcome};
use futures::stream::{BoxStream, SelectAll, StreamExt};
use serde_json::Value;
use std::collections::HashMap;
use std::time::SystemTime;
use tokio::time::Instant;

/// What a live object says about its task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Running(String),
    Succeeded(String),
    Failed(String),
}

/// Resources: Healthy or no health check is success, Degraded is failure, anything else is
/// still running: a wave waits until its resources are healthy before the next starts (Argo
/// CD's "Sync Phases and Waves"). Hooks: by their own health, mapped to a hook outcome
/// (`health::hook_outcome`).
pub fn judge(work: &Work, live: &Value, settings: &Settings) -> Verdict {
    if work.task.hook {
        let (outcome, message) = health::hook_outcome(live, settings.health);
        return match outcome {
            HookOutcome::Running => Verdict::Running(message),
            HookOutcome::Succeeded => Verdict::Succeeded(message),
            HookOutcome::Failed => Verdict::Failed(message),
        };
    }
    match health::assess(live, settings.health) {
        None => Verdict::Succeeded(String::new()),
        Some(h) => match h.status {
            HealthStatus::Healthy => Verdict::Succeeded(h.message),
            HealthStatus::Degraded => Verdict::Failed(non_empty(h.message, "Degraded")),
            other => Verdict::Running(non_empty(h.message, other.as_str())),
        },
    }
}

fn non_empty(message: String, fallback: &str) -> String {
    if message.is_empty() {
        fallback.to_owned()
    } else {
        message
    }
}

/// Whether a task may need waiting after its apply: every hook, and resources whose kind has
/// a health check (judged on the manifest: a kind without a check has none on any object).
pub fn may_need_waiting(work: &Work, settings: &Settings) -> bool {
    work.task.hook || health::assess(&work.object, settings.health).is_some()
}

/// One watch: a kind in a namespace, and the tasks (by object name) it serves.
type WatchGroup = (ResolvedKind, Option<String>, HashMap<String, Vec<usize>>);

/// What a step's waiting needs besides the tasks: settings, the step's deadline, the event sink.
pub struct StepContext<'a> {
    pub cluster: &'a Cluster,
    pub settings: &'a Settings,
    pub deadline: Instant,
    pub emit: &'a (dyn Fn(&Event) + Sync),
}

/// The watches of one step: one per (kind, namespace); a single object is watched by name.
pub struct Watches {
    streams: SelectAll<BoxStream<'static, (usize, Result<WatchEvent, ClusterError>)>>,
    /// Per watch: object name -> tasks (indices into works).
    members: Vec<HashMap<String, Vec<usize>>>,
}

#[derive(Debug)]
pub enum StepEnd {
    Done,
    Failed(String),
    Interrupted,
}

impl Watches {
    /// Opens the watches of `tasks` and waits until each has listed what exists now; gives
    /// up at `deadline` (a list that keeps failing must not hold the sync beyond its timeout).
    pub async fn open(
        cluster: &Cluster,
        works: &[Work],
        tasks: &[usize],
        deadline: Instant,
    ) -> Result<Watches, ClusterError> {
        let mut watches = Watches {
            streams: SelectAll::new(),
            members: Vec::new(),
        };
        watches.add(cluster, works, tasks, deadline).await?;
        Ok(watches)
    }

    /// Opens watches for more tasks (a custom resource whose kind was served only after its
    /// CRD of this step was applied), before they are applied.
    pub async fn add(
        &mut self,
        cluster: &Cluster,
        works: &[Work],
        tasks: &[usize],
        deadline: Instant,
    ) -> Result<(), ClusterError> {
        let started = Instant::now();
        let mut groups: Vec<WatchGroup> = Vec::new();
        for &i in tasks {
            let w = &works[i];
            let Some(kind) = &w.kind else { continue };
            let slot = groups.iter_mut().find(|(k, ns, _)| {
                k.api_version == kind.api_version && k.kind == kind.kind && *ns == w.namespace
            });
            match slot {
                Some((_, _, members)) => members.entry(w.name.clone()).or_default().push(i),
                None => groups.push((
                    kind.clone(),
                    w.namespace.clone(),
                    HashMap::from([(w.name.clone(), vec![i])]),
                )),
            }
        }
        // Every watch of the step at once: the step waits for the slowest first list, not
        // for the sum of them.
        let opened = futures::future::try_join_all(groups.into_iter().map(
            |(kind, namespace, names)| async move {
                let stream = first_list(cluster, &kind, namespace.as_deref(), &names, deadline)
                    .await
                    .map_err(|last_error| ClusterError::WaitTimeout {
                        what: format!(
                            "the first list of {} to watch{}",
                            kind.resource_name(),
                            last_error
                                .map(|e| format!(" (last error: {e})"))
                                .unwrap_or_default()
                        ),
                        after: deadline.saturating_duration_since(started),
                    });
                match stream {
                    Ok(Ok(stream)) => Ok((stream, names)),
                    Ok(Err(e)) | Err(e) => Err(e),
                }
            },
        ))
        .await?;
        for (stream, names) in opened {
            let index = self.members.len();
            self.streams
                .push(stream.map(move |event| (index, event)).boxed());
            self.members.push(names);
        }
        Ok(())
    }

    /// Waits until every task in `running` is done, one fails, time runs out, or Ctrl-C.
    pub async fn until_done(
        &mut self,
        works: &mut [Work],
        running: Vec<usize>,
        applied: HashMap<usize, Value>,
        ctx: &StepContext<'_>,
        cancel: &mut super::Cancel,
        lookout: &mut super::why::Lookout,
    ) -> StepEnd {
        let mut pending: HashMap<usize, Applied> = HashMap::new();
        for i in running {
            let live = &applied[&i];
            let (settings, deadline) = (ctx.settings, ctx.deadline);
            let hook_deadline = settings
                .hook_timeout
                .filter(|_| works[i].task.hook)
                .map(|t| Instant::now() + t);
            pending.insert(
                i,
                Applied {
                    uid: str_at(live, "/metadata/uid"),
                    version: resource_version(live),
                    message: String::new(),
                    deadline: hook_deadline.map_or(deadline, |d| d.min(deadline)),
                },
            );
            if let Some(end) = self.update(works, &mut pending, i, live, false, ctx) {
                return end;
            }
        }
        loop {
            if pending.is_empty() {
                return StepEnd::Done;
            }
            let next_deadline = pending.values().map(|a| a.deadline).min().expect("pending");
            let next_look = lookout.next_look();
            tokio::select! {
                biased;
                _ = cancel.cancelled() => return StepEnd::Interrupted,
                _ = tokio::time::sleep_until(next_deadline) => {
                    return time_out(works, &pending, next_deadline, ctx);
                }
                Some(line) = lookout.log_line() => super::why::Lookout::show_log_line(line, ctx.emit),
                _ = tokio::time::sleep_until(next_look) => {
                    let waiting: Vec<usize> = pending.keys().copied().collect();
                    lookout.look(ctx.cluster, works, &waiting, ctx.emit).await;
                }
                item = self.streams.next() => match item {
                    None => return StepEnd::Failed("the watch on the cluster ended".into()),
                    Some((group, Ok(WatchEvent::Applied(obj)))) => {
                        if let Some(end) = self.on_change(group, &obj, false, works, &mut pending, ctx) {
                            return end;
                        }
                    }
                    Some((group, Ok(WatchEvent::Deleted(obj)))) => {
                        if let Some(end) = self.on_change(group, &obj, true, works, &mut pending, ctx) {
                            return end;
                        }
                    }
                    Some((_, Ok(WatchEvent::Synced))) => {}
                    Some((_, Err(e))) if e.is_access_error() && !e.is_transient() => {
                        return StepEnd::Failed(e.to_string());
                    }
                    // The watcher reconnects by itself, with backoff: a dropped watch or a
                    // restarting server is waited out, within the deadline.
                    Some((_, Err(_))) => {}
                },
            }
        }
    }

    fn on_change(
        &self,
        group: usize,
        obj: &Value,
        deleted: bool,
        works: &mut [Work],
        pending: &mut HashMap<usize, Applied>,
        ctx: &StepContext<'_>,
    ) -> Option<StepEnd> {
        let name = str_at(obj, "/metadata/name")?;
        let tasks = self.members[group].get(&name)?.clone();
        for i in tasks {
            let Some(applied) = pending.get(&i) else {
                continue;
            };
            // Only the object this sync applied, and only news newer than the apply.
            if applied.uid.is_some() && applied.uid != str_at(obj, "/metadata/uid") {
                continue;
            }
            if !deleted && resource_version(obj) < applied.version {
                continue;
            }
            if let Some(end) = self.update(works, pending, i, obj, deleted, ctx) {
                return Some(end);
            }
        }
        None
    }

    fn update(
        &self,
        works: &mut [Work],
        pending: &mut HashMap<usize, Applied>,
        i: usize,
        live: &Value,
        deleted: bool,
        ctx: &StepContext<'_>,
    ) -> Option<StepEnd> {
        let verdict = judge(&works[i], live, ctx.settings);
        let emit = ctx.emit;
        let w = &mut works[i];
        match verdict {
            Verdict::Running(message) if deleted => {
                pending.remove(&i);
                finish(
                    w,
                    TaskState::Failed,
                    format!("deleted before it finished (last seen: {message})"),
                    emit,
                );
                Some(StepEnd::Failed(failure_message(w)))
            }
            Verdict::Running(message) => {
                let applied = pending.get_mut(&i)?;
                if applied.message != message {
                    applied.message = message.clone();
                    w.message = message.clone();
                    emit(&Event::Waiting(w.reference(), message));
                }
                None
            }
            Verdict::Succeeded(message) => {
                pending.remove(&i);
                finish(w, TaskState::Succeeded, message, emit);
                None
            }
            Verdict::Failed(message) => {
                pending.remove(&i);
                finish(w, TaskState::Failed, message, emit);
                Some(StepEnd::Failed(failure_message(w)))
            }
        }
    }
}

/// Opens one watch (by name when it serves a single object) and waits for its first list,
/// which tells the current state: changes after it are what the step waits for. An access
/// error ends it at once (`Ok(Err)`); at `deadline` it gives up with the last list error the
/// watcher retried past (`Err`).
async fn first_list(
    cluster: &Cluster,
    kind: &ResolvedKind,
    namespace: Option<&str>,
    names: &HashMap<String, Vec<usize>>,
    deadline: Instant,
) -> Result<Result<WatchStream, ClusterError>, Option<String>> {
    let mut stream: WatchStream = if names.len() == 1 {
        let name = names.keys().next().expect("one name");
        cluster.watch_object(kind, namespace.unwrap_or(""), name)
    } else {
        cluster.watch_namespace(kind, namespace, None)
    };
    let mut last_error: Option<ClusterError> = None;
    let listed = tokio::time::timeout_at(deadline, async {
        loop {
            match stream.next().await {
                Some(Ok(WatchEvent::Synced)) | None => return Ok(()),
                Some(Ok(_)) => {}
                Some(Err(e)) if e.is_access_error() && !e.is_transient() => return Err(e),
                // The watcher retries with backoff: the server may be restarting.
                Some(Err(e)) => last_error = Some(e),
            }
        }
    })
    .await;
    match listed {
        Ok(Ok(())) => Ok(Ok(stream)),
        Ok(Err(e)) => Ok(Err(e)),
        // Unreachable until the end: that is the failure (exit 3), not a timeout.
        Err(_) => match last_error {
            Some(e) if e.is_transient() && e.is_access_error() => Ok(Err(e)),
            other => Err(other.map(|e| e.to_string())),
        },
    }
}

struct Applied {
    uid: Option<String>,
    version: u64,
    message: String,
    deadline: Instant,
}

fn time_out(
    works: &mut [Work],
    pending: &HashMap<usize, Applied>,
    now: Instant,
    ctx: &StepContext<'_>,
) -> StepEnd {
    let (settings, emit) = (ctx.settings, ctx.emit);
    let mut first = None;
    for (&i, applied) in pending {
        if applied.deadline > now {
            continue;
        }
        let w = &mut works[i];
        let limit = match settings.hook_timeout {
            Some(t) if w.task.hook && (settings.timeout.is_zero() || t < settings.timeout) => {
                format!("--hook-timeout {}", flag_duration(t))
            }
            _ => format!("--timeout {}", flag_duration(settings.timeout)),
        };
        let waiting = if applied.message.is_empty() {
            "completion".to_owned()
        } else {
            applied.message.clone()
        };
        w.timed_out = true;
        finish(
            w,
            TaskState::Failed,
            format!("timed out ({limit}) waiting for: {waiting}"),
            emit,
        );
        first.get_or_insert_with(|| failure_message(w));
    }
    StepEnd::Failed(first.unwrap_or_else(|| "timed out".into()))
}

/// A duration as a flag would take it: `4s`, `5m`, `1m 30s`.
pub fn flag_duration(d: std::time::Duration) -> String {
    humantime::format_duration(d).to_string()
}

pub fn finish(w: &mut Work, state: TaskState, message: String, emit: &(dyn Fn(&Event) + Sync)) {
    w.state = state;
    w.message = message.clone();
    w.finished = Some(SystemTime::now());
    match state {
        TaskState::Succeeded => emit(&Event::Succeeded(w.reference(), message)),
        TaskState::Failed => emit(&Event::Failed(w.reference(), message)),
        _ => {}
    }
}

/// "PreSync hook Job/migrate failed: <why>"
pub fn failure_message(w: &Work) -> String {
    let what = if w.task.hook {
        format!("{} hook", w.task.phase)
    } else {
        format!("{} wave {}", w.task.phase, w.task.wave)
    };
    format!("{what} {}/{} failed: {}", w.task.kind, w.name, w.message)
}

fn str_at(v: &Value, pointer: &str) -> Option<String> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .map(str::to_owned)
}

/// resourceVersion is opaque, but on every real server it is etcd's revision: a number that
/// only grows. A value that is not a number compares as 0, so it is never taken as stale.
fn resource_version(v: &Value) -> u64 {
    v.pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}
