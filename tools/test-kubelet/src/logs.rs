//! The text of a container's log, as the kubelet API's `/containerLogs` serves it. The text
//! comes from pod annotations; tailLines, limitBytes and previous work as with a real kubelet.
//! Pure (no I/O).

use k8s_openapi::api::core::v1::{ContainerStatus, Pod};
use kube::ResourceExt;

/// The log of every container; `LOGS_ANNOTATION.<container>` sets one container's.
pub const LOGS_ANNOTATION: &str = "test.kubectl-hooks.io/logs";
/// The log of a container's previous instance (after a restart), same shape.
pub const PREVIOUS_LOGS_ANNOTATION: &str = "test.kubectl-hooks.io/previous-logs";

/// The query parameters of a `/containerLogs` request this program understands.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogQuery {
    pub tail_lines: Option<usize>,
    pub limit_bytes: Option<usize>,
    pub previous: bool,
    pub follow: bool,
}

impl LogQuery {
    /// Parses a URL query string such as `tailLines=20&previous=true`.
    pub fn parse(query: &str) -> Result<Self, String> {
        let mut q = LogQuery::default();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let number = || {
                value
                    .parse::<usize>()
                    .map_err(|_| format!("invalid {key} {value:?}"))
            };
            let flag = || value.is_empty() || value == "true" || value == "1";
            match key {
                "tailLines" => q.tail_lines = Some(number()?),
                "limitBytes" => q.limit_bytes = Some(number()?),
                "previous" => q.previous = flag(),
                "follow" => q.follow = flag(),
                _ => {}
            }
        }
        Ok(q)
    }
}

fn annotation(pod: &Pod, key: &str, container: &str) -> Option<String> {
    let annotations = pod.annotations();
    annotations
        .get(&format!("{key}.{container}"))
        .or_else(|| annotations.get(key))
        .cloned()
}

fn status<'a>(pod: &'a Pod, container: &str) -> Option<&'a ContainerStatus> {
    let status = pod.status.as_ref()?;
    status
        .container_statuses
        .iter()
        .flatten()
        .chain(status.init_container_statuses.iter().flatten())
        .find(|s| s.name == container)
}

/// The log text to send, or the HTTP status and message a kubelet answers with.
pub fn log_text(pod: &Pod, container: &str, query: &LogQuery) -> Result<String, (u16, String)> {
    let name = pod.name_any();
    let spec = pod.spec.clone().unwrap_or_default();
    let known = spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
        .any(|c| c.name == container);
    if !known {
        return Err((
            404,
            format!("container {container:?} in pod {name:?} is not valid"),
        ));
    }
    let state = status(pod, container);
    let text = if query.previous {
        let restarted = state.is_some_and(|s| {
            s.restart_count > 0
                || s.last_state
                    .as_ref()
                    .is_some_and(|l| l.terminated.is_some())
        });
        if !restarted {
            return Err((
                400,
                format!("previous terminated container {container:?} in pod {name:?} not found"),
            ));
        }
        annotation(pod, PREVIOUS_LOGS_ANNOTATION, container).unwrap_or_default()
    } else {
        let waiting = match state {
            None => Some("ContainerCreating".to_string()),
            Some(s) => s
                .state
                .as_ref()
                .and_then(|st| st.waiting.as_ref())
                // A crash-looping container has a log: that of its last run.
                .filter(|w| w.reason.as_deref() != Some("CrashLoopBackOff"))
                .map(|w| w.reason.clone().unwrap_or_default()),
        };
        if let Some(reason) = waiting {
            return Err((
                400,
                format!("container {container:?} in pod {name:?} is waiting to start: {reason}"),
            ));
        }
        annotation(pod, LOGS_ANNOTATION, container).unwrap_or_default()
    };
    Ok(select(&text, query))
}

/// Applies tailLines (the last N lines), then limitBytes (the first N bytes of what is left),
/// as the kubelet does. Every line ends with a newline, as container output does.
pub fn select(text: &str, query: &LogQuery) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let skip = query
        .tail_lines
        .map_or(0, |n| lines.len().saturating_sub(n));
    let mut out: String = lines[skip..].iter().map(|l| format!("{l}\n")).collect();
    if let Some(limit) = query.limit_bytes
        && out.len() > limit
    {
        let mut cut = limit;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(status: serde_json::Value) -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": "p", "annotations": {
                LOGS_ANNOTATION: "one\ntwo\nthree\n",
                format!("{LOGS_ANNOTATION}.side"): "side car",
                PREVIOUS_LOGS_ANNOTATION: "before the crash",
            }},
            "spec": {"containers": [{"name": "main"}, {"name": "side"}]},
            "status": status,
        }))
        .unwrap()
    }

    fn running() -> serde_json::Value {
        json!({"containerStatuses": [
            {"name": "main", "ready": true, "restartCount": 0, "image": "", "imageID": "",
             "state": {"running": {}}},
            {"name": "side", "ready": true, "restartCount": 2, "image": "", "imageID": "",
             "state": {"waiting": {"reason": "CrashLoopBackOff"}}},
        ]})
    }

    #[test]
    fn queries() {
        let q = LogQuery::parse("tailLines=20&limitBytes=100&previous=true&follow=false").unwrap();
        assert_eq!(
            q,
            LogQuery {
                tail_lines: Some(20),
                limit_bytes: Some(100),
                previous: true,
                follow: false
            }
        );
        assert!(LogQuery::parse("tailLines=many").is_err());
    }

    #[test]
    fn text_per_container_with_tail_and_limit() {
        let p = pod(running());
        let q = LogQuery::default();
        assert_eq!(log_text(&p, "main", &q).unwrap(), "one\ntwo\nthree\n");
        assert_eq!(log_text(&p, "side", &q).unwrap(), "side car\n");
        let tail = LogQuery {
            tail_lines: Some(2),
            ..q.clone()
        };
        assert_eq!(log_text(&p, "main", &tail).unwrap(), "two\nthree\n");
        let limited = LogQuery {
            limit_bytes: Some(5),
            ..tail
        };
        assert_eq!(log_text(&p, "main", &limited).unwrap(), "two\nt");
    }

    #[test]
    fn previous_needs_a_restart() {
        let p = pod(running());
        let q = LogQuery {
            previous: true,
            ..LogQuery::default()
        };
        assert_eq!(log_text(&p, "side", &q).unwrap(), "before the crash\n");
        let (code, message) = log_text(&p, "main", &q).unwrap_err();
        assert_eq!(code, 400);
        assert!(
            message.contains("previous terminated container"),
            "{message}"
        );
    }

    #[test]
    fn a_container_that_never_started_has_no_log() {
        let p = pod(json!({}));
        let (code, message) = log_text(&p, "main", &LogQuery::default()).unwrap_err();
        assert_eq!(code, 400);
        assert!(
            message.ends_with("is waiting to start: ContainerCreating"),
            "{message}"
        );
        assert_eq!(
            log_text(&p, "nope", &LogQuery::default()).unwrap_err().0,
            404
        );
    }

    #[test]
    fn limit_respects_characters() {
        let q = LogQuery {
            limit_bytes: Some(2),
            ..LogQuery::default()
        };
        assert_eq!(select("äb", &q), "ä");
    }
}
