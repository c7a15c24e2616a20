//! Whether the API server answers. Every request's transport outcome is recorded here (the
//! innermost layer of the client, so only the connection speaks: not credentials, not the
//! server's answers), so that an operation that failed while the server was gone can say
//! since when it has not answered, and end with exit code 3 (the cluster could not be
//! reached) instead of 1 (the work itself failed): a CI job retries the one and reports the
//! other.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

/// How long the closing check of a failed operation waits for the server to answer.
pub(super) const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// The first of a run of failed attempts to reach the server, and the latest failure.
#[derive(Debug, Clone)]
pub(super) struct Silence {
    pub since: SystemTime,
    pub last_error: String,
}

/// Shared by the client's layer (which writes it) and the cluster handle (which reads it).
#[derive(Default)]
pub(super) struct Reachability(Mutex<Option<Silence>>);

impl Reachability {
    pub(super) fn silence(&self) -> Option<Silence> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn answered(&self) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    fn failed(&self, error: String) {
        let mut silence = self.0.lock().unwrap_or_else(|e| e.into_inner());
        match silence.as_mut() {
            Some(s) => s.last_error = error,
            None => {
                *silence = Some(Silence {
                    since: SystemTime::now(),
                    last_error: error,
                })
            }
        }
    }
}

/// Tower layer recording whether each request reached the server.
#[derive(Clone)]
pub(super) struct ReachLayer(Arc<Reachability>);

impl ReachLayer {
    pub(super) fn new(reachability: Arc<Reachability>) -> Self {
        ReachLayer(reachability)
    }
}

impl<S> tower::Layer<S> for ReachLayer {
    type Service = Reached<S>;
    fn layer(&self, inner: S) -> Reached<S> {
        Reached {
            inner,
            reachability: self.0.clone(),
        }
    }
}

#[derive(Clone)]
pub(super) struct Reached<S> {
    inner: S,
    reachability: Arc<Reachability>,
}

impl<S, B, R> tower::Service<http::Request<B>> for Reached<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<R>>,
    S::Future: Send + 'static,
    S::Error: std::error::Error,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let response = self.inner.call(request);
        let reachability = self.reachability.clone();
        Box::pin(async move {
            let result = response.await;
            match &result {
                // A gateway or a server still starting (502, 503, 504) is not the server
                // answering for itself.
                Ok(answer) if matches!(answer.status().as_u16(), 502..=504) => {
                    reachability.failed(format!("HTTP {}", answer.status()))
                }
                Ok(_) => reachability.answered(),
                Err(e) => reachability.failed(error_chain(e)),
            }
            result
        })
    }
}

/// An error and its causes on one line: hyper's own message ("client error (Connect)") says
/// little without them ("tcp connect error: Connection refused (os error 111)").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let said = c.to_string();
        if !text.contains(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
        cause = c.source();
    }
    text
}
