//! Watching objects: one object by name, or every object of a kind in a namespace
//! (optionally by label selector), so one watch can serve many objects.
//!
//! Built on `kube::runtime::watcher`, which lists, then watches from the list's
//! resourceVersion, resumes after disconnects and re-lists when the version is too old.
//! Each (re)list is followed by [`WatchEvent::Synced`]; objects that vanished while the
//! watch was down are reported as [`WatchEvent::Deleted`] with their last known state.

use std::collections::{HashMap, HashSet};

use futures::stream::{self, BoxStream, StreamExt};
use kube::api::{Api, DynamicObject};
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::Value;

use super::error::Ctx;
use super::{Cluster, ClusterError, ResolvedKind};

/// One change seen by a watch.
#[derive(Debug, Clone, PartialEq)]
pub enum WatchEvent {
    /// The object exists in this state (listed, added or modified).
    Applied(Value),
    /// The object is gone; this is its last state.
    Deleted(Value),
    /// The (re)list is complete: everything that exists now has been reported. For a
    /// single-object watch, `Synced` with no `Applied` before it means "does not exist".
    Synced,
}

/// Events until the caller drops the stream. Errors are yielded and the watch goes on
/// (with backoff); the caller decides whether to stop, e.g. on
/// [`ClusterError::is_access_error`].
pub type WatchStream = BoxStream<'static, Result<WatchEvent, ClusterError>>;

impl Cluster {
    /// Watch one object (`fieldSelector=metadata.name=<name>`). `namespace` is ignored
    /// for cluster-scoped kinds.
    pub fn watch_object(&self, kind: &ResolvedKind, namespace: &str, name: &str) -> WatchStream {
        let config = watcher::Config::default().fields(&format!("metadata.name={name}"));
        let what = super::ops::describe("watch", kind, namespace, name);
        self.watch(self.api(kind, namespace), kind, config, what)
    }

    /// Watch all objects of a kind in one namespace (`Some`) or in all namespaces
    /// (`None`; also for cluster-scoped kinds), optionally filtered by labels.
    pub fn watch_namespace(
        &self,
        kind: &ResolvedKind,
        namespace: Option<&str>,
        label_selector: Option<&str>,
    ) -> WatchStream {
        let mut config = watcher::Config::default();
        if let Some(selector) = label_selector {
            config = config.labels(selector);
        }
        let what = match namespace {
            Some(ns) if kind.namespaced => {
                format!("watch {} in namespace \"{ns}\"", kind.resource_name())
            }
            _ => format!("watch {}", kind.resource_name()),
        };
        self.watch(self.api_scope(kind, namespace), kind, config, what)
    }

    fn watch(
        &self,
        api: Api<DynamicObject>,
        kind: &ResolvedKind,
        config: watcher::Config,
        what: String,
    ) -> WatchStream {
        let ctx = self.ctx().clone();
        let tracker = Tracker {
            types: Some((kind.api_version.clone(), kind.kind.clone())),
            ..Tracker::default()
        };
        watcher(api, config)
            .default_backoff()
            .scan(tracker, move |tracker, event| {
                let out = match event {
                    Ok(event) => tracker.on_event(event),
                    Err(err) => map_error(&ctx, err, &what).map(Err).into_iter().collect(),
                };
                futures::future::ready(Some(stream::iter(out)))
            })
            .flatten()
            .boxed()
    }
}

/// Remembers the last state of every object seen, to report deletions a re-list reveals.
#[derive(Default)]
struct Tracker {
    last: HashMap<String, Value>,
    listing: Option<HashSet<String>>,
    /// apiVersion and kind of the watched kind: the items of a list answer (the watcher's
    /// first list, and every re-list after a reconnect) come without them, and whoever reads
    /// an object expects them.
    types: Option<(String, String)>,
}

impl Tracker {
    fn on_event(
        &mut self,
        event: watcher::Event<DynamicObject>,
    ) -> Vec<Result<WatchEvent, ClusterError>> {
        match event {
            watcher::Event::Init => {
                self.listing = Some(HashSet::new());
                Vec::new()
            }
            watcher::Event::InitApply(obj) => {
                let (key, value) = self.keyed(obj);
                if let Some(listing) = &mut self.listing {
                    listing.insert(key.clone());
                }
                self.last.insert(key, value.clone());
                vec![Ok(WatchEvent::Applied(value))]
            }
            watcher::Event::InitDone => {
                let listed = self.listing.take().unwrap_or_default();
                let gone: Vec<String> = self
                    .last
                    .keys()
                    .filter(|k| !listed.contains(*k))
                    .cloned()
                    .collect();
                let mut out: Vec<_> = gone
                    .iter()
                    .filter_map(|k| self.last.remove(k))
                    .map(|v| Ok(WatchEvent::Deleted(v)))
                    .collect();
                out.push(Ok(WatchEvent::Synced));
                out
            }
            watcher::Event::Apply(obj) => {
                let (key, value) = self.keyed(obj);
                self.last.insert(key, value.clone());
                vec![Ok(WatchEvent::Applied(value))]
            }
            watcher::Event::Delete(obj) => {
                let (key, value) = self.keyed(obj);
                self.last.remove(&key);
                vec![Ok(WatchEvent::Deleted(value))]
            }
        }
    }
}

impl Tracker {
    fn keyed(&self, obj: DynamicObject) -> (String, Value) {
        let (key, mut value) = keyed(obj);
        if let (Some((api_version, kind)), Some(map)) = (&self.types, value.as_object_mut()) {
            for (field, value) in [("apiVersion", api_version), ("kind", kind)] {
                if map.get(field).and_then(Value::as_str).is_none() {
                    map.insert(field.to_owned(), Value::String(value.clone()));
                }
            }
        }
        (key, value)
    }
}

fn keyed(obj: DynamicObject) -> (String, Value) {
    let key = format!(
        "{}/{}",
        obj.metadata.namespace.as_deref().unwrap_or(""),
        obj.metadata.name.as_deref().unwrap_or("")
    );
    // A DynamicObject is a JSON object with typed metadata; encoding it cannot fail.
    let value = serde_json::to_value(obj).unwrap_or(Value::Null);
    (key, value)
}

/// `None` for errors the watcher recovers from by itself (410 Gone: it re-lists).
fn map_error(ctx: &Ctx, err: watcher::Error, what: &str) -> Option<ClusterError> {
    let err = match err {
        watcher::Error::InitialListFailed(e)
        | watcher::Error::WatchStartFailed(e)
        | watcher::Error::WatchFailed(e) => match e {
            kube::Error::Api(status) if status.code == 410 => return None,
            e => ctx.map(e, what),
        },
        watcher::Error::WatchError(status) if status.code == 410 => return None,
        watcher::Error::WatchError(status) => ctx.map_status(&status, what),
        other => ClusterError::Other {
            what: what.to_string(),
            message: other.to_string(),
        },
    };
    Some(err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::api::ObjectMeta;

    fn obj(name: &str, rv: &str) -> DynamicObject {
        DynamicObject {
            types: None,
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some("ns".into()),
                resource_version: Some(rv.into()),
                ..ObjectMeta::default()
            },
            data: serde_json::json!({}),
        }
    }

    fn names(events: &[Result<WatchEvent, ClusterError>]) -> Vec<String> {
        events
            .iter()
            .map(|e| match e {
                Ok(WatchEvent::Applied(v)) => {
                    format!("+{}", v["metadata"]["name"].as_str().unwrap())
                }
                Ok(WatchEvent::Deleted(v)) => {
                    format!("-{}", v["metadata"]["name"].as_str().unwrap())
                }
                Ok(WatchEvent::Synced) => "synced".into(),
                Err(e) => format!("error {e}"),
            })
            .collect()
    }

    /// What one tracker passes on for `events`, in order.
    fn track(
        events: impl IntoIterator<Item = watcher::Event<DynamicObject>>,
    ) -> Vec<Result<WatchEvent, ClusterError>> {
        let mut t = Tracker::default();
        events.into_iter().flat_map(|e| t.on_event(e)).collect()
    }

    #[test]
    fn a_relist_reports_objects_that_vanished_with_their_last_state() {
        use watcher::Event::*;
        let seen = track([
            Init,
            InitApply(obj("a", "1")),
            InitApply(obj("b", "1")),
            InitDone,
            Apply(obj("b", "2")),
            Init,
            InitApply(obj("a", "3")),
            InitDone,
        ]);
        assert_eq!(
            names(&seen),
            ["+a", "+b", "synced", "+b", "+a", "-b", "synced"]
        );
        let Ok(WatchEvent::Deleted(b)) = &seen[5] else {
            panic!("expected b deleted")
        };
        assert_eq!(b["metadata"]["resourceVersion"], "2");
    }

    #[test]
    fn deletes_are_passed_on_and_forgotten() {
        use watcher::Event::*;
        let seen = track([
            Init,
            InitDone,
            Apply(obj("a", "1")),
            Delete(obj("a", "2")),
            Init,
            InitDone,
        ]);
        assert_eq!(names(&seen), ["synced", "+a", "-a", "synced"]);
    }
}

#[cfg(test)]
mod type_meta_tests {
    use super::*;

    #[test]
    fn listed_items_get_the_watched_kind_s_api_version_and_kind() {
        // A list's items come without apiVersion and kind, as the API server sends them.
        let item: DynamicObject = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "api", "namespace": "shop", "resourceVersion": "7"},
            "status": {"availableReplicas": 2}
        }))
        .unwrap();
        let tracker = Tracker {
            types: Some(("apps/v1".into(), "Deployment".into())),
            ..Tracker::default()
        };
        let (key, value) = tracker.keyed(item);
        assert_eq!(key, "shop/api");
        assert_eq!(value["apiVersion"], "apps/v1");
        assert_eq!(value["kind"], "Deployment");
        assert_eq!(value["status"]["availableReplicas"], 2);
    }
}
