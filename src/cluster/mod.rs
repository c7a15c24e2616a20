//! The only module that talks to Kubernetes: a client chosen from kubeconfig and flags
//! as kubectl chooses it, discovery of kinds, server-side apply, create, get, list,
//! delete and watch. Objects go in and come out as JSON (`serde_json::Value`).
//!
//! Everything here works against Kubernetes 1.20 (the test control plane) as well as
//! current releases: non-aggregated discovery, `apps/v1`, `batch/v1`, server-side apply.

mod access;
mod config;
mod discovery;
mod error;
mod exec;
mod inventory;
mod normalize;
mod ops;
mod reach;
mod redact;
mod related;
mod replace;
mod requests;
mod retry;
mod watch;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub use config::{ClusterFlags, default_namespace_offline, parse_duration, parse_request_timeout};
pub use discovery::ResolvedKind;
pub use error::{ClusterError, ErrorClass};
pub use normalize::default_port_protocols;
pub use ops::{ApplyOptions, Deleted, FIELD_MANAGER, Propagation};
pub use related::{LogSource, Related};
pub use watch::{WatchEvent, WatchStream};

use error::Ctx;

/// A connection to one cluster as one user. Cheap to clone; every method takes `&self`.
#[derive(Clone)]
pub struct Cluster {
    inner: Arc<Inner>,
    /// When the operation this handle works for must be over: no request outlives it and
    /// no failure is retried past it. None: each request has its own limits only.
    deadline: Option<tokio::time::Instant>,
    /// A limit that cuts requests without stretching their retries: work before the
    /// operation proper (validation), which must end by the operation's time limit, but
    /// should give up on an unreachable server as quickly as without one.
    cut: Option<tokio::time::Instant>,
}

struct Inner {
    client: kube::Client,
    ctx: Ctx,
    namespace: String,
    request_timeout: Option<Duration>,
    requests: Arc<AtomicU64>,
    reachability: Arc<reach::Reachability>,
    discovery: discovery::Cache,
}

impl Cluster {
    /// Build a client from the kubeconfig and flags. Does not contact the server.
    pub async fn connect(flags: &ClusterFlags) -> Result<Cluster, ClusterError> {
        let selected = config::select(flags).await?;
        let ctx = Ctx {
            context: selected.context,
            user: selected.user,
            server: selected
                .config
                .cluster_url
                .to_string()
                .trim_end_matches('/')
                .to_string(),
        };
        tracing::info!(
            "context \"{}\", server {}, user \"{}\", namespace \"{}\"",
            ctx.context,
            ctx.server,
            ctx.user,
            selected.namespace
        );
        let requests = Arc::new(AtomicU64::new(0));
        let reachability = Arc::new(reach::Reachability::default());
        let mut config = selected.config;
        let token = match config.auth_info.exec.take() {
            Some(exec) => {
                let limit = flags.request_timeout.unwrap_or(config::PLUGIN_TIMEOUT);
                credentials_from_plugin(&mut config, exec::Plugin::new(exec, limit))
                    .await
                    .map_err(|e| ctx.credentials(&e))?
            }
            None => None,
        };
        let client = client(config, token, &requests, &reachability)
            .map_err(|e| ctx.map(e, "building the client"))?;
        Ok(Cluster {
            inner: Arc::new(Inner {
                client,
                ctx,
                namespace: selected.namespace,
                request_timeout: flags.request_timeout,
                requests,
                reachability,
                discovery: discovery::Cache::default(),
            }),
            deadline: None,
            cut: None,
        })
    }

    /// The same connection, for work that must be over by `deadline` (None: no deadline):
    /// every request is cut at it, and nothing is retried past it.
    pub fn until(&self, deadline: Option<tokio::time::Instant>) -> Cluster {
        Cluster {
            deadline,
            ..self.clone()
        }
    }

    /// The same connection, with every request cut at `cut` (None: not cut), and failures
    /// retried as they would be without it (see [`retry`]), only never past it.
    pub fn cut_at(&self, cut: Option<tokio::time::Instant>) -> Cluster {
        Cluster {
            cut,
            ..self.clone()
        }
    }

    /// The kubeconfig context in use (`in-cluster` inside a pod).
    pub fn context(&self) -> &str {
        &self.inner.ctx.context
    }

    /// The API server URL.
    pub fn server(&self) -> &str {
        &self.inner.ctx.server
    }

    /// The user name from the kubeconfig (may be empty).
    pub fn user(&self) -> &str {
        &self.inner.ctx.user
    }

    /// Namespace for objects without one: `-n`, else the context's, else `default`.
    pub fn namespace(&self) -> &str {
        &self.inner.namespace
    }

    /// How many HTTP requests were sent to the API server so far (watches count once
    /// per (re)connection).
    pub fn requests_made(&self) -> u64 {
        self.inner.requests.load(Ordering::Relaxed)
    }

    fn client(&self) -> kube::Client {
        self.inner.client.clone()
    }

    /// Whether the API server answers now, asked once (`GET /version`, for at most a few
    /// seconds): `None` when it answers, whatever it says; otherwise what is known of its
    /// silence: since when requests have failed to reach it, and how the last one failed.
    /// Asked when an operation failed, to tell "the cluster is gone" (exit 3) from "the work
    /// failed" (exit 1).
    pub async fn unreachable(&self) -> Option<String> {
        let probe =
            tokio::time::timeout(reach::PROBE_TIMEOUT, self.client().apiserver_version()).await;
        let failure = match probe {
            Ok(Ok(_)) => return None,
            Ok(Err(e)) => {
                let e = self.ctx().map(e, "GET /version");
                if e.class() != ErrorClass::Unavailable {
                    return None;
                }
                e.to_string()
            }
            Err(_) => format!(
                "no answer to GET /version within {}",
                humantime::format_duration(reach::PROBE_TIMEOUT)
            ),
        };
        let server = self.server();
        Some(match self.inner.reachability.silence() {
            Some(silence) => {
                let quiet = silence.since.elapsed().unwrap_or_default();
                format!(
                    "the API server {server} cannot be reached: no request has reached it since {} ({} ago); the last failed with: {}",
                    humantime::format_rfc3339_seconds(silence.since),
                    humantime::format_duration(Duration::from_secs(quiet.as_secs())),
                    silence.last_error
                )
            }
            None => format!("the API server {server} cannot be reached: {failure}"),
        })
    }

    fn ctx(&self) -> &Ctx {
        &self.inner.ctx
    }

    /// Run one request, mapping its error. Each attempt is bounded by `--request-timeout`
    /// (else [`config::REQUEST_TIMEOUT`]) and by the deadline; transient failures are retried
    /// as [`retry`] says, when `resend` allows it.
    async fn call<T, F>(
        &self,
        what: impl Fn() -> String,
        resend: retry::Resend,
        request: impl Fn() -> F,
    ) -> Result<T, ClusterError>
    where
        F: Future<Output = Result<T, kube::Error>>,
    {
        use tokio::time::Instant;
        let limit = self
            .inner
            .request_timeout
            .unwrap_or(config::REQUEST_TIMEOUT);
        let end = self.deadline.into_iter().chain(self.cut).min();
        let give_up = self
            .deadline
            .unwrap_or_else(|| Instant::now() + retry::RETRY_BUDGET);
        let give_up = self.cut.map_or(give_up, |c| give_up.min(c));
        let mut attempt = 0;
        loop {
            attempt += 1;
            let now = Instant::now();
            let cut = end.map_or(limit, |d| limit.min(d.saturating_duration_since(now)));
            let result = match tokio::time::timeout(cut, request()).await {
                Ok(result) => result.map_err(|e| self.ctx().map(e, &what())),
                Err(_) => Err(self.ctx().timeout(&what(), cut)),
            };
            let err = match result {
                Ok(value) => return Ok(value),
                Err(err) => err,
            };
            // Without a deadline, a request that timed out is not sent again: the user's
            // --request-timeout (or the default) is the limit they chose.
            let timed_out = matches!(err, ClusterError::Timeout { .. });
            let pause = retry::delay(attempt);
            let retry = resend.allows(&err)
                && !(timed_out && self.deadline.is_none())
                && Instant::now() + pause < give_up;
            if !retry {
                return Err(err);
            }
            tokio::time::sleep(pause).await;
        }
    }
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("context", &self.context())
            .field("server", &self.server())
            .field("namespace", &self.namespace())
            .finish_non_exhaustive()
    }
}

/// Runs the user's exec credential plugin (bounded, see [`exec`]) and puts what it printed
/// where kube expects it: a client certificate into the kubeconfig user, a token into the
/// returned auth layer, which runs the plugin again when the token expires.
async fn credentials_from_plugin(
    config: &mut kube::Config,
    plugin: exec::Plugin,
) -> Result<Option<exec::TokenAuth>, exec::PluginError> {
    let credential = plugin.run().await?;
    if let Some((certificate, key)) = credential.certificate {
        use secrecy::ExposeSecret;
        config.auth_info.client_certificate_data = Some(exec::base64_pem(&certificate));
        config.auth_info.client_key_data = Some(exec::base64_pem(key.expose_secret()).into());
    }
    Ok(credential
        .token
        .map(|token| exec::TokenAuth::new(plugin, token, credential.expires)))
}

/// kube's default client stack (`ClientBuilder::try_from(Config)`, kube 5.0, with this crate's
/// features: no proxies, no gzip), plus the request counter, with one difference: sockets get
/// TCP_NODELAY. kube leaves Nagle's algorithm on (kube-rs/kube#2056), so the first request
/// on every new connection waits for the server's delayed ACK of the TLS handshake: 40 ms on
/// Linux, paid once per burst of new connections (discovery, the dry run, watches).
fn client(
    config: kube::Config,
    token: Option<exec::TokenAuth>,
    requests: &Arc<AtomicU64>,
    reachability: &Arc<reach::Reachability>,
) -> Result<kube::Client, kube::Error> {
    use kube::client::ConfigExt;
    use tower::ServiceBuilder;
    // As kube without its proxy features: a kubeconfig proxy-url is refused, not ignored.
    if let Some(proxy_url) = &config.proxy_url {
        let proxy_url = Box::new(proxy_url.clone());
        return Err(match proxy_url.scheme_str() {
            Some("socks5") => kube::Error::ProxyProtocolDisabled {
                proxy_url,
                protocol_feature: "kube/socks5",
            },
            Some("http" | "https") => kube::Error::ProxyProtocolDisabled {
                proxy_url,
                protocol_feature: "kube/http-proxy",
            },
            _ => kube::Error::ProxyProtocolUnsupported { proxy_url },
        });
    }
    let mut http = hyper_util::client::legacy::connect::HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    let https = config.rustls_https_connector_with_connector(http)?;
    let mut connector = hyper_timeout::TimeoutConnector::new(https);
    connector.set_connect_timeout(config.connect_timeout);
    connector.set_read_timeout(config.read_timeout);
    connector.set_write_timeout(config.write_timeout);
    connector.set_reset_reader_on_write(config.reset_reader_on_write);
    let hyper = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build(connector);
    let service = ServiceBuilder::new()
        .layer(config.base_uri_layer())
        .option_layer(config.default_retry.then(|| {
            tower::retry::RetryLayer::new(kube::client::retry::RetryPolicy::server_retry())
        }))
        .option_layer(match token {
            Some(_) => None,
            None => config.auth_layer()?,
        })
        .option_layer(token.map(tower::filter::AsyncFilterLayer::new))
        .layer(config.extra_headers_layer()?)
        .map_err(tower::BoxError::from)
        .layer(requests::CountLayer::new(
            requests.clone(),
            reachability.clone(),
        ))
        .service(hyper);
    Ok(kube::Client::new(service, config.default_namespace))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A kubeconfig for one server with a token user, written to `dir`.
    fn kubeconfig(dir: &std::path::Path, server: &str) -> std::path::PathBuf {
        let path = dir.join("config");
        let text = format!(
            r#"{{"apiVersion": "v1", "kind": "Config", "current-context": "c",
            "clusters": [{{"name": "c", "cluster": {{"server": "{server}", "insecure-skip-tls-verify": true}}}}],
            "users": [{{"name": "u", "user": {{"token": "t"}}}}],
            "contexts": [{{"name": "c", "context": {{"cluster": "c", "user": "u"}}}}]}}"#
        );
        std::fs::write(&path, text).unwrap();
        path
    }

    /// A cluster of one kubeconfig (kept in the returned folder) for `server`.
    async fn connect_to(
        server: &str,
        request_timeout: Option<Duration>,
    ) -> (Cluster, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let flags = ClusterFlags {
            kubeconfig: Some(kubeconfig(dir.path(), server)),
            request_timeout,
            ..ClusterFlags::default()
        };
        (Cluster::connect(&flags).await.unwrap(), dir)
    }

    #[tokio::test]
    async fn connecting_contacts_nobody_and_counts_nothing() {
        let (cluster, _dir) = connect_to("https://127.0.0.1:1", None).await;
        assert_eq!(cluster.server(), "https://127.0.0.1:1");
        assert_eq!((cluster.context(), cluster.user()), ("c", "u"));
        assert_eq!(cluster.namespace(), "default");
        assert_eq!(cluster.requests_made(), 0);
    }

    #[tokio::test]
    async fn a_server_that_never_answers_times_out() {
        // Accepts connections and never speaks: the TLS handshake hangs until the
        // request timeout ends it.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let hold = tokio::spawn(async move {
            let mut open = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                open.push(socket);
            }
        });
        let (cluster, _dir) =
            connect_to(&format!("https://{addr}"), Some(Duration::from_secs(1))).await;
        let err = cluster.resolve("v1", "ConfigMap").await.unwrap_err();
        assert!(matches!(err, ClusterError::Timeout { .. }), "{err:?}");
        assert_eq!(err.class(), crate::cluster::ErrorClass::Unavailable);
        assert!(err.to_string().contains("discovery of v1"), "{err}");
        assert_eq!(cluster.requests_made(), 1);
        hold.abort();
    }

    #[tokio::test]
    async fn a_refused_connection_is_told_with_since_when_and_how() {
        // Bound and closed again: nothing listens on the port.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let (cluster, _dir) = connect_to(&format!("https://127.0.0.1:{port}"), None).await;
        let said = cluster.unreachable().await.expect("unreachable");
        assert!(
            said.starts_with(&format!("the API server https://127.0.0.1:{port} cannot be reached: no request has reached it since ")),
            "{said}"
        );
        assert!(said.contains("Connection refused"), "{said}");
    }

    #[tokio::test]
    async fn a_server_that_answers_anything_is_reachable() {
        // Any HTTP answer, even an error, is the server speaking.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            use std::io::{Read, Write};
            for mut socket in listener.incoming().map_while(Result::ok) {
                let mut buf = [0u8; 4096];
                let _ = socket.read(&mut buf);
                let body = r#"{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Forbidden","code":403}"#;
                let answer = format!(
                    "HTTP/1.1 403 Forbidden\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(answer.as_bytes());
            }
        });
        let (cluster, _dir) = connect_to(&format!("http://{addr}"), None).await;
        assert_eq!(cluster.unreachable().await, None);
    }
}
