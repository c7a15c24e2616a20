//! While a step waits: every few seconds, the tasks that have waited a while are looked at,
//! and what is new about why they wait is emitted; with `--logs`, hook pods' logs are followed.

use super::{READ_LIMIT, WhySettings, follow_key, pod_place, read, started_containers, task_key};
use crate::cluster::{Cluster, ClusterError, LogSource};
use crate::diagnose::{self, Evidence, LOG_BYTES_LIMIT, Shown};
use crate::engine::{Event, Settings, TaskRef, TaskState, Work};
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
/// How long the end of a step waits for followed logs to end.
const DRAIN_LIMIT: Duration = Duration::from_secs(5);

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

    /// The started containers of `pods` whose logs are not followed (or printed) yet.
    fn unfollowed<'p>(&self, pods: Vec<&'p Value>) -> Vec<Started<'p>> {
        let mut out = Vec::new();
        for pod in pods {
            for container in started_containers(pod) {
                let Some(key) = follow_key(pod, &container) else {
                    continue;
                };
                if !self.followed.contains(&key) {
                    let (namespace, name) = pod_place(pod);
                    out.push(Started {
                        key,
                        pod,
                        namespace,
                        name,
                        container,
                    });
                }
            }
        }
        out
    }

    /// Follows the logs of a hook's pods whose containers have started.
    async fn follow(&mut self, cluster: &Cluster, w: &Work, evidence: &Evidence<'_>) {
        let pods = diagnose::owned_pods(evidence.object, evidence.between, evidence.pods);
        for started in self.unfollowed(pods) {
            let Ok(stream) = cluster.follow_log(started.source(), LOG_BYTES_LIMIT).await else {
                // Not readable yet (or at all): a later look, or the report, says so.
                continue;
            };
            let (task, label) = (w.reference(), started.label());
            let hidden = diagnose::env_values(started.pod);
            self.followed.insert(started.key);
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
            for started in self.unfollowed(pods) {
                let label = started.label();
                let hidden = diagnose::env_values(started.pod);
                let target = diagnose::LogTarget {
                    pod: started.name.clone(),
                    container: started.container.clone(),
                    init: false,
                    previous: false,
                };
                let log = cluster
                    .container_log(started.source(), usize::MAX, LOG_BYTES_LIMIT)
                    .await
                    .map_err(|e| e.to_string());
                self.followed.insert(started.key);
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

/// A started container of a hook's pod, whose log is read with `--logs`.
struct Started<'p> {
    /// (pod uid, container), as in [`Lookout::followed`].
    key: (String, String),
    pod: &'p Value,
    namespace: String,
    name: String,
    container: String,
}

impl Started<'_> {
    fn source(&self) -> LogSource<'_> {
        LogSource {
            namespace: &self.namespace,
            pod: &self.name,
            container: &self.container,
            previous: false,
        }
    }

    /// `POD/CONTAINER`, as the log lines are prefixed.
    fn label(&self) -> String {
        format!("{}/{}", self.name, self.container)
    }
}

fn tick(settings: WhySettings) -> Duration {
    if settings.stream_logs {
        LOGS_TICK
    } else {
        TICK
    }
}
