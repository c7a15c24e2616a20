//! Exec credential plugins (a kubeconfig user's `exec:`, client-go's "client-go credential
//! plugins", KEP-541), run here rather than by kube. kube runs a plugin with a blocking
//! `std::process::Command::output()`, without a time limit, and quotes the plugin's stdout in
//! its parse error; stdout holds the token. Here a plugin runs under a time limit and is killed
//! when it passes it, and its output is never printed: a malformed one is described by where
//! and how it is wrong, not by what it says.
//!
//! A token is refreshed (the plugin run again) a minute before its `expirationTimestamp`, as
//! client-go does; client certificates are read once, when the client is built.

use super::error::chain;
use base64::Engine;
use kube::config::{ExecConfig, ExecInteractiveMode};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use std::io::IsTerminal;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Why a plugin gave no credential. Shown to the user as it is: it never holds plugin output.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    #[error("cannot run the credential plugin {command:?}: {cause}")]
    Start { command: String, cause: String },
    #[error(
        "the credential plugin {command:?} did not finish within {}; it was stopped",
        humantime::format_duration(*after)
    )]
    Hung { command: String, after: Duration },
    #[error("the credential plugin {command:?} failed ({status})")]
    Failed { command: String, status: String },
    #[error(
        "the credential plugin {command:?} printed no valid ExecCredential: {problem} (its output \
         is not shown: it may hold a credential)"
    )]
    Malformed { command: String, problem: String },
}

/// A credential a plugin printed.
pub(crate) struct Credential {
    pub token: Option<SecretString>,
    /// PEM certificate and key.
    pub certificate: Option<(String, SecretString)>,
    pub expires: Option<SystemTime>,
}

/// One kubeconfig user's plugin and the time it may take.
#[derive(Clone)]
pub(crate) struct Plugin {
    exec: Arc<ExecConfig>,
    limit: Duration,
}

impl Plugin {
    pub fn new(exec: ExecConfig, limit: Duration) -> Plugin {
        Plugin {
            exec: Arc::new(exec),
            limit,
        }
    }

    fn command(&self) -> String {
        self.exec.command.clone().unwrap_or_default()
    }

    /// Runs the plugin and reads its credential.
    pub async fn run(&self) -> Result<Credential, PluginError> {
        let command = self.command();
        if command.is_empty() {
            return Err(PluginError::Start {
                command,
                cause: "the kubeconfig's exec section names no command".into(),
            });
        }
        let mut cmd = tokio::process::Command::new(&command);
        cmd.args(self.exec.args.iter().flatten());
        for pair in self.exec.env.iter().flatten() {
            if let (Some(name), Some(value)) = (pair.get("name"), pair.get("value")) {
                cmd.env(name, value);
            }
        }
        for name in self.exec.drop_env.iter().flatten() {
            cmd.env_remove(name);
        }
        // As client-go: the plugin may prompt on the terminal unless its mode is Never; its
        // stderr is the user's to read (it says "run `aws sso login`" and the like).
        let interactive = self.exec.interactive_mode != Some(ExecInteractiveMode::Never)
            && std::io::stdin().is_terminal();
        cmd.env(
            "KUBERNETES_EXEC_INFO",
            self.exec_info(interactive).to_string(),
        )
        .stdin(if interactive {
            Stdio::inherit()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
        let child = cmd.spawn().map_err(|e| PluginError::Start {
            command: command.clone(),
            cause: match &self.exec.install_hint {
                Some(hint) if e.kind() == std::io::ErrorKind::NotFound => format!("{e}; {hint}"),
                _ => e.to_string(),
            },
        })?;
        // Dropping the child on timeout kills it (kill_on_drop).
        let output = match tokio::time::timeout(self.limit, child.wait_with_output()).await {
            Ok(output) => output.map_err(|e| PluginError::Start {
                command: command.clone(),
                cause: chain(&e),
            })?,
            Err(_) => {
                return Err(PluginError::Hung {
                    command,
                    after: self.limit,
                });
            }
        };
        if !output.status.success() {
            return Err(PluginError::Failed {
                command,
                status: output.status.to_string(),
            });
        }
        parse(&output.stdout).map_err(|problem| PluginError::Malformed { command, problem })
    }

    /// The `ExecCredential` request a plugin reads from `KUBERNETES_EXEC_INFO`.
    fn exec_info(&self, interactive: bool) -> Value {
        let mut spec = serde_json::json!({ "interactive": interactive });
        if self.exec.provide_cluster_info
            && let Some(cluster) = &self.exec.cluster
        {
            spec["cluster"] = serde_json::to_value(cluster).unwrap_or(Value::Null);
        }
        serde_json::json!({
            "apiVersion": self.exec.api_version.clone()
                .unwrap_or_else(|| "client.authentication.k8s.io/v1".into()),
            "kind": "ExecCredential",
            "spec": spec,
        })
    }
}

/// Reads an `ExecCredential` (JSON, or YAML as client-go also accepts). Every problem is said
/// without quoting the output.
fn parse(stdout: &[u8]) -> Result<Credential, String> {
    let document: Value = match serde_json::from_slice(stdout) {
        Ok(value) => value,
        Err(json) => {
            let yaml = std::str::from_utf8(stdout).ok().and_then(|text| {
                let mut options = serde_saphyr::Options::default();
                options.with_snippet = false;
                serde_saphyr::from_str_with_options::<Value>(text, options).ok()
            });
            match yaml {
                Some(value) if value.is_object() => value,
                _ if stdout.iter().all(u8::is_ascii_whitespace) => {
                    return Err("its output is empty".into());
                }
                _ => {
                    return Err(format!(
                        "its output is not JSON (line {}, column {}: {})",
                        json.line(),
                        json.column(),
                        match json.classify() {
                            serde_json::error::Category::Eof => "it ends too early",
                            _ => "a syntax error",
                        }
                    ));
                }
            }
        }
    };
    let Some(object) = document.as_object() else {
        return Err("its output is not a JSON object".into());
    };
    if object.get("kind").and_then(Value::as_str) != Some("ExecCredential") {
        return Err("its output is not of kind ExecCredential".into());
    }
    let Some(status) = object.get("status").and_then(Value::as_object) else {
        return Err("its output has no status object".into());
    };
    let text = |key: &str| -> Result<Option<String>, String> {
        match status.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(format!("status.{key} is not a string")),
        }
    };
    let token = text("token")?.map(SecretString::from);
    let certificate = match (text("clientCertificateData")?, text("clientKeyData")?) {
        (Some(cert), Some(key)) => Some((cert, SecretString::from(key))),
        (None, None) => None,
        _ => {
            return Err(
                "status has only one of clientCertificateData and clientKeyData".to_string(),
            );
        }
    };
    if token.is_none() && certificate.is_none() {
        return Err(
            "status has neither a token nor clientCertificateData and clientKeyData".into(),
        );
    }
    let expires = match text("expirationTimestamp")? {
        None => None,
        Some(stamp) => Some(
            humantime::parse_rfc3339_weak(&stamp)
                .map_err(|_| "status.expirationTimestamp is not an RFC 3339 time".to_string())?,
        ),
    };
    Ok(Credential {
        token,
        certificate,
        expires,
    })
}

/// kubeconfig's `client-certificate-data`/`client-key-data` are base64 of the PEM text.
pub(crate) fn base64_pem(pem: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(pem.as_bytes())
}

/// Adds `Authorization: Bearer` with the plugin's token to every request, running the plugin
/// again when the token is about to expire.
#[derive(Clone)]
pub(crate) struct TokenAuth {
    plugin: Plugin,
    state: Arc<tokio::sync::Mutex<(SecretString, Option<SystemTime>)>>,
}

impl TokenAuth {
    pub fn new(plugin: Plugin, token: SecretString, expires: Option<SystemTime>) -> TokenAuth {
        TokenAuth {
            plugin,
            state: Arc::new(tokio::sync::Mutex::new((token, expires))),
        }
    }

    async fn header(&self) -> Result<http::HeaderValue, PluginError> {
        let mut state = self.state.lock().await;
        let stale = state
            .1
            .is_some_and(|at| SystemTime::now() + Duration::from_secs(60) >= at);
        if stale {
            let fresh = self.plugin.run().await?;
            let Some(token) = fresh.token else {
                return Err(PluginError::Malformed {
                    command: self.plugin.command(),
                    problem: "a refreshed credential has no token".into(),
                });
            };
            *state = (token, fresh.expires);
        }
        let mut value = http::HeaderValue::try_from(format!("Bearer {}", state.0.expose_secret()))
            .map_err(|_| PluginError::Malformed {
                command: self.plugin.command(),
                problem: "status.token is not valid in an HTTP header".into(),
            })?;
        value.set_sensitive(true);
        Ok(value)
    }
}

impl<B: Send + 'static> tower::filter::AsyncPredicate<http::Request<B>> for TokenAuth {
    type Future = futures::future::BoxFuture<'static, Result<http::Request<B>, tower::BoxError>>;
    type Request = http::Request<B>;

    fn check(&mut self, mut request: http::Request<B>) -> Self::Future {
        let auth = self.clone();
        Box::pin(async move {
            let value = auth.header().await?;
            request
                .headers_mut()
                .insert(http::header::AUTHORIZATION, value);
            Ok(request)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_reads_tokens_and_certificates() {
        let token = br#"{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"abc","expirationTimestamp":"2030-01-01T00:00:00Z"}}"#;
        let c = parse(token).unwrap();
        assert_eq!(c.token.unwrap().expose_secret(), "abc");
        assert!(c.expires.is_some());
        let yaml =
            b"kind: ExecCredential\nstatus:\n  clientCertificateData: C\n  clientKeyData: K\n";
        assert!(parse(yaml).unwrap().certificate.is_some());
    }

    #[test]
    fn malformed_output_is_described_never_quoted() {
        let secret = "s3cr3t-token-value";
        for output in [
            format!(r#"{{"kind":"ExecCredential","status":{{"token":"{secret}""#),
            format!("token={secret}"),
            format!(r#"{{"kind":"ExecCredential","status":{{"token":["{secret}"]}}}}"#),
            format!(r#"{{"kind":"Other","token":"{secret}"}}"#),
            format!(r#"{{"kind":"ExecCredential","status":"{secret}"}}"#),
            String::new(),
        ] {
            let problem = parse(output.as_bytes()).err().expect(&output);
            assert!(!problem.contains(secret), "{problem}");
            assert!(!problem.is_empty());
        }
    }
}
