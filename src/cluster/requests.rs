//! Every request the client sends passes here, just above the connection: counted (for
//! `--stats` and `apiRequests`), recorded as reaching the server or not ([`super::reach`]),
//! and, with `-v`, traced the way kubectl's `-v=6` shows them: method, path, status, duration.
//! Only the request line is traced, never a header or a body (they may hold credentials).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Instant;

use super::reach::Reachability;

/// Tower layer counting, recording and tracing the requests that go through the client.
#[derive(Clone)]
pub(super) struct CountLayer {
    count: Arc<AtomicU64>,
    reachability: Arc<Reachability>,
}

impl CountLayer {
    pub(super) fn new(count: Arc<AtomicU64>, reachability: Arc<Reachability>) -> Self {
        CountLayer {
            count,
            reachability,
        }
    }
}

impl<S> tower::Layer<S> for CountLayer {
    type Service = Counted<S>;
    fn layer(&self, inner: S) -> Counted<S> {
        Counted {
            inner,
            count: self.count.clone(),
            reachability: self.reachability.clone(),
        }
    }
}

#[derive(Clone)]
pub(super) struct Counted<S> {
    inner: S,
    count: Arc<AtomicU64>,
    reachability: Arc<Reachability>,
}

impl<S, B, R> tower::Service<http::Request<B>> for Counted<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<R>>,
    S::Future: Send + 'static,
    S::Error: std::error::Error + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        self.count.fetch_add(1, Ordering::Relaxed);
        let method = request.method().clone();
        let path = request.uri().path_and_query().map_or_else(
            || request.uri().path().to_owned(),
            |p| p.as_str().to_owned(),
        );
        tracing::trace!("{method} {path}");
        let started = Instant::now();
        let response = self.inner.call(request);
        let reachability = self.reachability.clone();
        Box::pin(async move {
            let result = response.await;
            let took = started.elapsed().as_millis();
            match &result {
                Ok(answer) => {
                    let status = answer.status();
                    tracing::debug!("{method} {path} {status} in {took} ms");
                    reachability.answered(status);
                }
                Err(e) => {
                    tracing::debug!("{method} {path} failed after {took} ms: {e}");
                    reachability.failed(e);
                }
            }
            result
        })
    }
}
