//! The newest Warning events about an object, its pods and what lies between: FailedCreate,
//! FailedMount, FailedScheduling, BackOff, BackoffLimitExceeded and the like, as
//! `kubectl describe` lists them.

use super::pods::short;
use super::str_at;
use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventLine {
    /// `Kind/name` of the object the event is about.
    pub object: String,
    pub reason: String,
    pub message: String,
    pub count: i64,
    #[serde(rename = "lastSeen", skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<String>,
    /// Other objects of the same kind with the same event (a Deployment's other pods).
    #[serde(rename = "otherObjects")]
    pub other_objects: usize,
}

impl EventLine {
    /// An event seen once, about one object.
    #[cfg(test)]
    pub(crate) fn once(object: &str, reason: &str, message: &str) -> EventLine {
        EventLine {
            object: object.into(),
            reason: reason.into(),
            message: message.into(),
            count: 1,
            last_seen: None,
            other_objects: 0,
        }
    }

    /// Events that differ only in count, or only in which replica they are about, are the
    /// same news.
    pub(super) fn identity(&self) -> String {
        let kind = self.object.split('/').next().unwrap_or("");
        format!("{kind}/{}/{}", self.reason, self.message)
    }
}

impl std::fmt::Display for EventLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.object,
            self.reason,
            short(&self.message, 300)
        )?;
        if self.count > 1 {
            write!(f, " (x{})", self.count)?;
        }
        if self.other_objects > 0 {
            let kind = self.object.split('/').next().unwrap_or("").to_lowercase();
            let s = if self.other_objects == 1 { "" } else { "s" };
            write!(f, " (and {} more {kind}{s})", self.other_objects)?;
        }
        Ok(())
    }
}

/// When the event last happened: `lastTimestamp`, else `eventTime` (events.k8s.io writers),
/// else when it was recorded.
fn seen_at(e: &Value) -> &str {
    [
        "/lastTimestamp",
        "/eventTime",
        "/metadata/creationTimestamp",
    ]
    .iter()
    .find_map(|p| str_at(e, p))
    .unwrap_or("")
}

fn is_about(e: &Value, object: &Value) -> bool {
    match (
        str_at(e, "/involvedObject/uid"),
        str_at(object, "/metadata/uid"),
    ) {
        (Some(a), Some(b)) => a == b,
        _ => {
            str_at(e, "/involvedObject/kind") == str_at(object, "/kind")
                && str_at(e, "/involvedObject/name") == str_at(object, "/metadata/name")
        }
    }
}

/// The Warning events about any of `involved`, newest first, one per (object, reason,
/// message), at most `max`.
pub fn warning_events(involved: &[&Value], events: &[Value], max: usize) -> Vec<EventLine> {
    let mut warnings: Vec<&Value> = events
        .iter()
        .filter(|e| str_at(e, "/type") == Some("Warning"))
        .filter(|e| involved.iter().any(|o| is_about(e, o)))
        .collect();
    warnings.sort_by(|a, b| seen_at(b).cmp(seen_at(a)));
    let mut out: Vec<EventLine> = Vec::new();
    for e in warnings {
        let line = EventLine {
            object: format!(
                "{}/{}",
                str_at(e, "/involvedObject/kind").unwrap_or("?"),
                str_at(e, "/involvedObject/name").unwrap_or("?")
            ),
            reason: str_at(e, "/reason").unwrap_or("").to_owned(),
            message: str_at(e, "/message").unwrap_or("").trim().to_owned(),
            count: e.pointer("/count").and_then(Value::as_i64).unwrap_or(1),
            last_seen: Some(seen_at(e).to_owned()).filter(|s| !s.is_empty()),
            other_objects: 0,
        };
        if let Some(seen) = out.iter_mut().find(|o| o.identity() == line.identity()) {
            if seen.object != line.object {
                seen.other_objects += 1;
            }
            continue;
        }
        out.push(line);
    }
    out.truncate(max);
    out
}
