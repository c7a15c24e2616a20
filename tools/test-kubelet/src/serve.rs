//! The part of the kubelet API the API server proxies to: `GET /containerLogs/{namespace}/{pod}/
//! {container}` over HTTPS (what `kubectl logs` reaches through `pods/log`). A tiny HTTP/1.1
//! server: one request per connection, answered and closed.
//!
//! As a real kubelet with `--client-ca-file`, it takes only callers with a client certificate
//! signed by the given CA (the API server's `--kubelet-client-certificate`). It listens on
//! 127.0.0.1 only.

use std::future::poll_fn;
use std::io;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use k8s_openapi::api::core::v1::Pod;
use kube::{Api, Client};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::server::WebPkiClientVerifier;
use tokio_rustls::rustls::{RootCertStore, ServerConfig};

use crate::logs::{LogQuery, log_text};

/// The most a request's head may take; log requests are a line and a few headers.
const MAX_REQUEST_HEAD: usize = 16 * 1024;
/// A followed log ends after this even if its container still runs.
const MAX_FOLLOW: Duration = Duration::from_secs(600);

/// Whether the container is running now.
fn running(pod: &Pod, container: &str) -> bool {
    let Some(status) = &pod.status else {
        return false;
    };
    status
        .container_statuses
        .iter()
        .flatten()
        .chain(status.init_container_statuses.iter().flatten())
        .any(|s| s.name == container && s.state.as_ref().is_some_and(|st| st.running.is_some()))
}

fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    CertificateDer::pem_file_iter(path)
        .with_context(|| format!("reading {}", path.display()))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("parsing {}", path.display()))
}

pub fn tls_acceptor(cert: &Path, key: &Path, client_ca: &Path) -> Result<TlsAcceptor> {
    let certs = certificates(cert)?;
    let key = PrivateKeyDer::from_pem_file(key)
        .with_context(|| format!("reading the private key {}", key.display()))?;
    let mut roots = RootCertStore::empty();
    for ca in certificates(client_ca)? {
        roots
            .add(ca)
            .with_context(|| format!("the client CA {}", client_ca.display()))?;
    }
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let clients = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .context("the client certificate verifier")?;
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_client_cert_verifier(clients)
        .with_single_cert(certs, key)
        .context("the kubelet's serving certificate")?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Serves log requests forever.
pub async fn serve(listener: TcpListener, acceptor: TlsAcceptor, client: Client) {
    loop {
        let (tcp, _) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                eprintln!("test-kubelet: accepting a connection failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let acceptor = acceptor.clone();
        let client = client.clone();
        tokio::spawn(async move {
            let result = async {
                let mut tls = acceptor.accept(tcp).await?;
                handle(&mut tls, client).await?;
                poll_fn(|cx| Pin::new(&mut tls).poll_shutdown(cx)).await
            }
            .await;
            if let Err(e) = result {
                eprintln!("test-kubelet: serving a log request failed: {e}");
            }
        });
    }
}

async fn read_some<S: AsyncRead + Unpin>(s: &mut S, buf: &mut [u8]) -> io::Result<usize> {
    let mut read = ReadBuf::new(buf);
    poll_fn(|cx| Pin::new(&mut *s).poll_read(cx, &mut read)).await?;
    Ok(read.filled().len())
}

async fn write_all<S: AsyncWrite + Unpin>(s: &mut S, mut data: &[u8]) -> io::Result<()> {
    while !data.is_empty() {
        let n = poll_fn(|cx| Pin::new(&mut *s).poll_write(cx, data)).await?;
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        data = &data[n..];
    }
    poll_fn(|cx| Pin::new(&mut *s).poll_flush(cx)).await
}

/// Reads the request line (headers are read and ignored).
async fn request_line<S: AsyncRead + Unpin>(s: &mut S) -> io::Result<String> {
    let mut head = Vec::new();
    let mut buf = [0u8; 2048];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = read_some(s, &mut buf).await?;
        if n == 0 || head.len() + n > MAX_REQUEST_HEAD {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "incomplete or oversized request head",
            ));
        }
        head.extend_from_slice(&buf[..n]);
    }
    let head = String::from_utf8_lossy(&head);
    Ok(head.lines().next().unwrap_or_default().to_string())
}

async fn respond<S: AsyncWrite + Unpin>(s: &mut S, code: u16, body: &str) -> io::Result<()> {
    let reason = match code {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "Internal Server Error",
    };
    let head = format!(
        "HTTP/1.1 {code} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    write_all(s, head.as_bytes()).await?;
    write_all(s, body.as_bytes()).await
}

/// Splits `/containerLogs/{ns}/{pod}/{container}?query`.
fn parse_target(target: &str) -> Option<(&str, &str, &str, &str)> {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut parts = path.strip_prefix("/containerLogs/")?.split('/');
    let (ns, pod, container) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || ns.is_empty() || pod.is_empty() || container.is_empty() {
        return None;
    }
    Some((ns, pod, container, query))
}

async fn handle<S: AsyncRead + AsyncWrite + Unpin>(s: &mut S, client: Client) -> io::Result<()> {
    let line = request_line(s).await?;
    let mut words = line.split_whitespace();
    let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    if method != "GET" {
        return respond(s, 405, "only GET is served\n").await;
    }
    let Some((ns, name, container, query)) = parse_target(target) else {
        return respond(s, 404, "this kubelet serves only /containerLogs\n").await;
    };
    let query = match LogQuery::parse(query) {
        Ok(q) => q,
        Err(e) => return respond(s, 400, &format!("{e}\n")).await,
    };
    let pods: Api<Pod> = Api::namespaced(client, ns);
    let pod = match pods.get(name).await {
        Ok(p) => p,
        Err(kube::Error::Api(e)) if e.code == 404 => {
            return respond(s, 404, &format!("pod {ns}/{name} not found\n")).await;
        }
        Err(e) => return respond(s, 500, &format!("reading pod {ns}/{name}: {e}\n")).await,
    };
    match log_text(&pod, container, &query) {
        Err((code, message)) => respond(s, code, &format!("{message}\n")).await,
        Ok(text) if !query.follow => respond(s, 200, &text).await,
        Ok(text) => {
            // Followed: the lines come one by one, as from a running process; the stream ends
            // when the container is no longer running (or the pod is gone).
            let head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n\
                        Connection: close\r\n\r\n";
            write_all(s, head.as_bytes()).await?;
            for line in text.split_inclusive('\n') {
                write_all(s, line.as_bytes()).await?;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            let until = tokio::time::Instant::now() + MAX_FOLLOW;
            while tokio::time::Instant::now() < until {
                match pods.get_opt(name).await {
                    Ok(Some(pod)) if running(&pod, container) => {}
                    _ => break,
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        assert_eq!(
            parse_target("/containerLogs/ns/p/c?tailLines=2"),
            Some(("ns", "p", "c", "tailLines=2"))
        );
        assert_eq!(
            parse_target("/containerLogs/ns/p/c"),
            Some(("ns", "p", "c", ""))
        );
        assert_eq!(parse_target("/containerLogs/ns/p"), None);
        assert_eq!(parse_target("/exec/ns/p/c"), None);
    }
}
