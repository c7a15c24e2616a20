//! Reads that explain a workload's state (what `kubectl describe` and `kubectl logs` show):
//! its pods, found by its selector; what lies between (a Deployment's ReplicaSets); the
//! Warning events of its namespace; and container logs through the API server's `pods/log`
//! (tailLines, limitBytes, previous, follow). Which of them matter is `diagnose`'s business.

use futures::stream::{BoxStream, StreamExt};
use futures::{AsyncBufReadExt, TryStreamExt};
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::{Event, Pod};
use kube::api::{Api, ApiResource, DynamicObject, ListParams, LogParams, TypeMeta};
use serde_json::Value;

use super::retry::Resend;
use super::{Cluster, ClusterError};

/// Objects per page of a list.
const PAGE: u32 = 500;
/// The most objects of each sort one read returns. Lists come in name order, not by time, so
/// this is generous: a namespace's events live an hour.
const MOST: usize = 2000;

/// What the cluster holds around a workload.
#[derive(Debug, Clone, Default)]
pub struct Related {
    pub between: Vec<Value>,
    pub pods: Vec<Value>,
    pub events: Vec<Value>,
}

/// Where a container's log is.
#[derive(Debug, Clone, Copy)]
pub struct LogSource<'a> {
    pub namespace: &'a str,
    pub pod: &'a str,
    pub container: &'a str,
    pub previous: bool,
}

/// `spec.selector.matchLabels` as a label selector (`a=b,c=d`). Expressions are left out: the
/// list is then wider, and `diagnose` keeps only what the object owns.
fn match_labels(object: &Value) -> Option<String> {
    let labels = object
        .pointer("/spec/selector/matchLabels")
        .and_then(Value::as_object)?;
    let pairs: Vec<String> = labels
        .iter()
        .filter_map(|(k, v)| v.as_str().map(|v| format!("{k}={v}")))
        .collect();
    (!pairs.is_empty()).then(|| pairs.join(","))
}

impl Cluster {
    fn dynamic<K>(&self, namespace: &str) -> (Api<DynamicObject>, ApiResource)
    where
        K: kube::Resource<DynamicType = ()>,
    {
        let resource = ApiResource::erase::<K>(&());
        (
            Api::namespaced_with(self.client(), namespace, &resource),
            resource,
        )
    }

    async fn list_json<K>(
        &self,
        namespace: &str,
        params: ListParams,
        what: &str,
    ) -> Result<Vec<Value>, ClusterError>
    where
        K: kube::Resource<DynamicType = ()>,
    {
        let (api, resource) = self.dynamic::<K>(namespace);
        let what = || format!("list {what} in namespace \"{namespace}\"");
        let types = TypeMeta {
            api_version: resource.api_version,
            kind: resource.kind,
        };
        let items = self
            .list_pages(&api, params.limit(PAGE), &what, &types, MOST)
            .await?;
        Ok(items
            .into_iter()
            .filter_map(|o| serde_json::to_value(o).ok())
            .collect())
    }

    /// The pods (by the object's selector), a Deployment's ReplicaSets, and the Warning events
    /// of the object's namespace. A Pod brings only the events.
    pub async fn related(&self, object: &Value) -> Result<Related, ClusterError> {
        let namespace = object
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or_else(|| self.namespace());
        let kind = object
            .pointer("/kind")
            .and_then(Value::as_str)
            .unwrap_or("");
        let selector = match_labels(object).filter(|_| kind != "Pod");
        let by_selector = |s: &str| ListParams::default().labels(s);
        let pods = async {
            match &selector {
                Some(s) => {
                    self.list_json::<Pod>(namespace, by_selector(s), "pods")
                        .await
                }
                None => Ok(Vec::new()),
            }
        };
        let between = async {
            match &selector {
                Some(s) if kind == "Deployment" => {
                    self.list_json::<ReplicaSet>(namespace, by_selector(s), "replicasets")
                        .await
                }
                _ => Ok(Vec::new()),
            }
        };
        let events = self.list_json::<Event>(
            namespace,
            ListParams::default().fields("type=Warning"),
            "events",
        );
        let (pods, between, events) = futures::try_join!(pods, between, events)?;
        Ok(Related {
            between,
            pods,
            events,
        })
    }

    /// The last `tail` lines of a container's log, at most `limit_bytes` bytes, as
    /// `kubectl logs --tail --limit-bytes [--previous]` reads them.
    pub async fn container_log(
        &self,
        source: LogSource<'_>,
        tail: usize,
        limit_bytes: usize,
    ) -> Result<String, ClusterError> {
        let pods: Api<Pod> = Api::namespaced(self.client(), source.namespace);
        let params = LogParams {
            container: Some(source.container.to_owned()),
            previous: source.previous,
            tail_lines: Some(tail.try_into().unwrap_or(i64::MAX)),
            limit_bytes: Some(limit_bytes.try_into().unwrap_or(i64::MAX)),
            ..LogParams::default()
        };
        let what = || log_what(&source);
        self.call(&what, Resend::Idempotent, || pods.logs(source.pod, &params))
            .await
    }

    /// A container's log lines as they come (`kubectl logs -f`), until the container ends or
    /// the stream breaks; at most `limit_bytes` bytes in all.
    pub async fn follow_log(
        &self,
        source: LogSource<'_>,
        limit_bytes: usize,
    ) -> Result<BoxStream<'static, Result<String, ClusterError>>, ClusterError> {
        let pods: Api<Pod> = Api::namespaced(self.client(), source.namespace);
        let params = LogParams {
            container: Some(source.container.to_owned()),
            follow: true,
            limit_bytes: Some(limit_bytes.try_into().unwrap_or(i64::MAX)),
            ..LogParams::default()
        };
        let what = log_what(&source);
        let reader = self
            .call(
                || what.clone(),
                Resend::Idempotent,
                || pods.log_stream(source.pod, &params),
            )
            .await?;
        Ok(reader
            .lines()
            .map_err(move |e| ClusterError::Other {
                what: what.clone(),
                message: e.to_string(),
            })
            .boxed())
    }
}

fn log_what(source: &LogSource<'_>) -> String {
    format!(
        "read the {}log of container \"{}\" in pod \"{}\" in namespace \"{}\"",
        if source.previous { "previous " } else { "" },
        source.container,
        source.pod,
        source.namespace
    )
}
