//! Saying why: while a step waits, what keeps its tasks from being healthy (read every few
//! seconds for tasks that have been waiting a while, shown once and again on change); when a
//! task failed, its pods' states, Warning events and the failed containers' last log lines;
//! with `--logs`, hook pods' output as it comes. The reads are `cluster::related`'s, the
//! judgement `diagnose`'s; this module decides when to read and what to emit.

use super::{Event, Settings, TaskRef, TaskState, Work};
use crate::cluster::{Cluster, ClusterError, LogSource};
use crate::diagnose::{self, Evidence, LOG_BYTES_LIMIT, Shown, Why};
use futures::stream::{BoxStream, SelectAll, StreamExt};
use serde_json::Value;
use std::collections::HashSet;
use std::time::Duration;
use tokio::time::Instant;

/// How often waiting tasks are looked at.
const TICK: Duration = Duration::from_secs(3);
/// With `--logs`, hook pods are looked for more often, to follow them while they run.
const LOGS_TICK: Duration = Duration::from_secs(1);
/// A task is looked at once it has waited this long: most become healthy sooner.
const PATIENCE: Duration = Duration::from_secs(3);
/// The most tasks looked at per tick (the others on later ticks).
const TASKS_PER_TICK: usize = 8;
/// Reads for one look or one failure report never take longer than this.
const READ_LIMIT: Duration = Duration::from_secs(10);
/// How long the end of a step waits for followed logs to end.
const DRAIN_LIMIT: Duration = Duration::from_secs(5);

/// How much to say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WhySettings {
    /// Log lines per failed container in a report; 0: no logs.
    pub logs_tail: usize,
    /// Stream hook pods' output while they run (`--logs`).
    pub stream_logs: bool,
}

impl Default for WhySettings {
    fn default() -> Self {
        WhySettings {
            logs_tail: 20,
            stream_logs: false,
        }
    }
}

type LogLines = BoxStream<'static, (TaskRef, String, Result<String, ClusterError>)>;

/// Watches over one step's waiting tasks.
pub struct Lookout {
    settings: WhySettings,
    /// When the step's waiting began: every task waits from then.
    began: Instant,
    next_tick: Instant,
    /// Round robin over tasks when there are many.
    turn: usize,
    shown: Shown,
    /// (pod uid, container) already followed or printed with `--logs`.
    followed: HashSet<(String, String)>,
    logs: SelectAll<LogLines>,
}

impl Lookout {
    pub fn new(settings: &Settings) -> Lookout {
        Lookout {
            settings: settings.why,
            began: Instant::now(),
            next_tick: Instant::now() + tick(settings.why),
            turn: 0,
            shown: Shown::default(),
            followed: HashSet::new(),
            logs: SelectAll::new(),
        }
    }

    /// When the next look is due.
    pub fn next_look(&self) -> Instant {
        self.next_tick
    }

    /// The next line of a followed log; never resolves while none is followed.
    pub async fn log_line(&mut self) -> Option<(TaskRef, String, Result<String, ClusterError>)> {
        if self.logs.is_empty() {
            std::future::pending::<()>().await;
        }
        self.logs.next().await
    }

    /// Emits one followed log line.
    pub fn show_log_line(
        item: (TaskRef, String, Result<String, ClusterError>),
        emit: &(dyn Fn(&Event) + Sync),
    ) {
        let (task, source, line) = item;
        match line {
            Ok(line) => emit(&Event::HookLog(task, source, line)),
            Err(e) => emit(&Event::HookLog(
                task,
                source,
                format!("(the log stream broke: {e})"),
            )),
        }
    }

    /// Looks at the tasks still waiting: emits what is new about why they wait, and starts
    /// following hook pods' logs with `--logs`.
    pub async fn look(
        &mut self,
        cluster: &Cluster,
        works: &[Work],
        waiting: &[usize],
        emit: &(dyn Fn(&Event) + Sync),
    ) {
        let now = Instant::now();
        self.next_tick = now + tick(self.settings);
        let mut due: Vec<usize> = waiting
            .iter()
            .copied()
            .filter(|i| {
                let follow = self.settings.stream_logs && works[*i].task.hook;
                follow || now.duration_since(self.began) >= PATIENCE
            })
            .collect();
        due.sort_unstable();
        if due.len() > TASKS_PER_TICK {
            let start = self.turn % due.len();
            due.rotate_left(start);
            due.truncate(TASKS_PER_TICK);
            self.turn += TASKS_PER_TICK;
        }
        for i in due {
            let w = &works[i];
            let Ok(Some((live, related))) = tokio::time::timeout(READ_LIMIT, read(cluster, w))
                .await
                .unwrap_or(Ok(None))
            else {
                // A failed read while waiting is not news: the next tick tries again.
                continue;
            };
            let evidence = Evidence {
                object: &live,
                between: &related.between,
                pods: &related.pods,
                events: &related.events,
            };
            if now.duration_since(self.began) >= PATIENCE {
                let diagnosis = diagnose::diagnose(&evidence);
                let news = self.shown.news(&task_key(w), &diagnosis.keyed_lines());
                if !news.is_empty() {
                    emit(&Event::Why(w.reference(), news));
                }
            }
            if self.settings.stream_logs && w.task.hook {
                self.follow(cluster, w, &evidence).await;
            }
        }
    }

    /// Follows the logs of a hook's pods whose containers have started.
    async fn follow(&mut self, cluster: &Cluster, w: &Work, evidence: &Evidence<'_>) {
        let pods = diagnose::owned_pods(evidence.object, evidence.between, evidence.pods);
        for pod in pods {
            for container in started_containers(pod) {
                let Some(key) = follow_key(pod, &container) else {
                    continue;
                };
                if self.followed.contains(&key) {
                    continue;
                }
                let (ns, name) = pod_place(pod);
                let source = LogSource {
                    namespace: &ns,
                    pod: &name,
                    container: &container,
                    previous: false,
                };
                let Ok(stream) = cluster.follow_log(source, LOG_BYTES_LIMIT).await else {
                    // Not readable yet (or at all): a later look, or the report, says so.
                    continue;
                };
                self.followed.insert(key);
                let (task, label) = (w.reference(), format!("{name}/{container}"));
                let hidden = diagnose::env_values(pod);
                self.logs.push(
                    stream
                        .map(move |line| {
                            let line = line.map(|l| diagnose::clean_log_line(&l, &hidden));
                            (task.clone(), label.clone(), line)
                        })
                        .boxed(),
                );
            }
        }
    }

    /// At the end of a step, with `--logs`: the rest of the followed logs, and the whole log
    /// of hook pods that ran too briefly to be followed.
    pub async fn finish(
        &mut self,
        cluster: &Cluster,
        works: &[Work],
        tasks: &[usize],
        emit: &(dyn Fn(&Event) + Sync),
    ) {
        if !self.settings.stream_logs {
            return;
        }
        let drained = tokio::time::timeout(DRAIN_LIMIT, async {
            while let Some(item) = self.logs.next().await {
                Self::show_log_line(item, emit);
            }
        });
        let _ = drained.await;
        self.logs = SelectAll::new();
        for &i in tasks {
            let w = &works[i];
            if !w.task.hook || w.state == TaskState::Pending {
                continue;
            }
            let Ok(Ok(Some((live, related)))) =
                tokio::time::timeout(READ_LIMIT, read(cluster, w)).await
            else {
                continue;
            };
            let pods = diagnose::owned_pods(&live, &related.between, &related.pods);
            for pod in pods {
                for container in started_containers(pod) {
                    let Some(key) = follow_key(pod, &container) else {
                        continue;
                    };
                    if !self.followed.insert(key) {
                        continue;
                    }
                    let (ns, name) = pod_place(pod);
                    let source = LogSource {
                        namespace: &ns,
                        pod: &name,
                        container: &container,
                        previous: false,
                    };
                    let label = format!("{name}/{container}");
                    let hidden = diagnose::env_values(pod);
                    let target = diagnose::LogTarget {
                        pod: name.clone(),
                        container: container.clone(),
                        init: false,
                        previous: false,
                    };
                    let log = cluster
                        .container_log(source, usize::MAX, LOG_BYTES_LIMIT)
                        .await
                        .map_err(|e| e.to_string());
                    let excerpt = diagnose::excerpt(target, log, usize::MAX, &hidden);
                    for line in excerpt.lines {
                        emit(&Event::HookLog(w.reference(), label.clone(), line));
                    }
                    if let Some(e) = excerpt.error {
                        emit(&Event::HookLog(
                            w.reference(),
                            label.clone(),
                            format!("(log not available: {e})"),
                        ));
                    }
                }
            }
        }
    }
}

fn tick(settings: WhySettings) -> Duration {
    if settings.stream_logs {
        LOGS_TICK
    } else {
        TICK
    }
}

fn task_key(w: &Work) -> String {
    format!(
        "{}/{}/{}/{}",
        w.task.phase,
        w.task.kind,
        w.namespace.as_deref().unwrap_or(""),
        w.name
    )
}

fn pod_place(pod: &Value) -> (String, String) {
    let at = |p: &str| {
        pod.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    (at("/metadata/namespace"), at("/metadata/name"))
}

fn follow_key(pod: &Value, container: &str) -> Option<(String, String)> {
    let uid = pod.pointer("/metadata/uid").and_then(Value::as_str)?;
    Some((uid.to_owned(), container.to_owned()))
}

/// Containers (init ones first) that are running or ended: those that have a log.
fn started_containers(pod: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for pointer in ["/status/initContainerStatuses", "/status/containerStatuses"] {
        let statuses = pod.pointer(pointer).and_then(Value::as_array);
        for s in statuses.into_iter().flatten() {
            let started =
                s.pointer("/state/running").is_some() || s.pointer("/state/terminated").is_some();
            if started && let Some(name) = s.pointer("/name").and_then(Value::as_str) {
                out.push(name.to_owned());
            }
        }
    }
    out
}

/// The live object of a task and what is around it; `None` when it is gone.
async fn read(
    cluster: &Cluster,
    w: &Work,
) -> Result<Option<(Value, crate::cluster::Related)>, ClusterError> {
    let Some(kind) = &w.kind else {
        return Ok(None);
    };
    let namespace = w.namespace.as_deref().unwrap_or("");
    let Some(live) = cluster.get(kind, namespace, &w.name).await? else {
        return Ok(None);
    };
    let related = cluster.related(&live).await?;
    Ok(Some((live, related)))
}

/// For each failed task of `tasks` (applied, then waited for) not explained yet: why it failed,
/// kept on the task for the report. Called right when a step failed, before delete policies
/// remove failed hooks.
pub async fn explain_failures(
    cluster: &Cluster,
    works: &mut [Work],
    tasks: &[usize],
    settings: &Settings,
) {
    for &i in tasks {
        if works[i].state != TaskState::Failed || works[i].why.is_some() || works[i].kind.is_none()
        {
            continue;
        }
        let why = tokio::time::timeout(READ_LIMIT, explain(cluster, &works[i], settings.why))
            .await
            .unwrap_or_else(|_| Why {
                condition: works[i].message.clone(),
                notes: vec![format!(
                    "could not read why within {}s",
                    READ_LIMIT.as_secs()
                )],
                ..Why::default()
            });
        works[i].why = Some(why);
    }
}

async fn explain(cluster: &Cluster, w: &Work, settings: WhySettings) -> Why {
    let mut why = Why {
        condition: w.message.clone(),
        ..Why::default()
    };
    let (live, related) = match read(cluster, w).await {
        Ok(Some(found)) => found,
        Ok(None) => {
            why.notes.push(format!(
                "{}/{} is gone: nothing more to read",
                w.task.kind, w.name
            ));
            return why;
        }
        Err(e) => {
            why.notes
                .push(format!("could not read its pods and events: {e}"));
            return why;
        }
    };
    let evidence = Evidence {
        object: &live,
        between: &related.between,
        pods: &related.pods,
        events: &related.events,
    };
    why.diagnosis = diagnose::diagnose(&evidence);
    if settings.logs_tail == 0 {
        return why;
    }
    let pods = diagnose::owned_pods(&live, &related.between, &related.pods);
    let has_pods = live.pointer("/spec/selector").is_some() || w.task.kind == "Pod";
    if pods.is_empty() && has_pods {
        why.notes
            .push("no pods of it are left (or none was created): no logs to show".to_owned());
    }
    for target in diagnose::log_targets(&live, &pods) {
        let Some(pod) = pods.iter().find(|p| {
            p.pointer("/metadata/name").and_then(Value::as_str) == Some(target.pod.as_str())
        }) else {
            continue;
        };
        let (ns, _) = pod_place(pod);
        let source = LogSource {
            namespace: &ns,
            pod: &target.pod,
            container: &target.container,
            previous: target.previous,
        };
        let log = cluster
            .container_log(source, settings.logs_tail, LOG_BYTES_LIMIT)
            .await
            .map_err(|e| e.to_string());
        let hidden = diagnose::env_values(pod);
        why.logs
            .push(diagnose::excerpt(target, log, settings.logs_tail, &hidden));
    }
    why
}
