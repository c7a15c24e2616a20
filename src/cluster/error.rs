//! Errors from talking to a cluster, phrased so a user can act on them, each of a class
//! ([`ErrorClass`]): bad input (kubeconfig, an object the cluster cannot even be asked
//! about), access (authentication, RBAC), unavailable (connection, TLS, request timeouts),
//! or rejected (the cluster answered and refused the work). `cli` maps classes to exit codes.

use std::time::Duration;

use kube::core::Status;

/// Everything that can go wrong in [`crate::cluster`].
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// The kubeconfig gives no usable cluster: none found, empty (`/dev/null`), no current
    /// context, unparsable. The cluster cannot be used, as when it cannot be reached.
    #[error("kubeconfig: {message}")]
    Kubeconfig { message: String },

    /// A flag names what is not there: a `--kubeconfig` file that does not exist, a
    /// `--context`, `--cluster` or `--user` the kubeconfig lacks. Bad usage.
    #[error("kubeconfig: {message}")]
    KubeconfigFlag { message: String },

    /// An object handed to the cluster module cannot be sent as it is (no name, not an
    /// object, ...).
    #[error("invalid object: {message}")]
    InvalidObject { message: String },

    /// No connection to the API server (refused, unreachable, DNS, connect timeout).
    #[error("cannot connect to the API server at {server} (context \"{context}\"): {cause}")]
    Connect {
        server: String,
        context: String,
        cause: String,
    },

    /// TLS failed: unknown certificate authority, wrong host name, bad client cert.
    #[error("TLS error talking to the API server at {server} (context \"{context}\"): {cause}")]
    Tls {
        server: String,
        context: String,
        cause: String,
    },

    /// 401, or credentials that could not be obtained (exec plugin, token file).
    #[error(
        "unauthorized: the API server at {server} did not accept the credentials of user \"{user}\" (context \"{context}\"): {message}"
    )]
    Unauthorized {
        server: String,
        context: String,
        user: String,
        message: String,
    },

    /// The kubeconfig user's exec credential plugin gave no credential (could not run, hung,
    /// failed, printed something else); the API server was not asked.
    #[error("no credentials for user \"{user}\" (context \"{context}\"): {cause}")]
    Credentials {
        context: String,
        user: String,
        cause: String,
    },

    /// 403: RBAC denied the request. `message` is the server's, which names the user,
    /// verb, resource and namespace.
    #[error("forbidden (context \"{context}\"): {message}")]
    Forbidden { context: String, message: String },

    /// A request took longer than `--request-timeout`.
    #[error("timed out after {} on {what} (API server {server})", fmt_duration(*after))]
    Timeout {
        what: String,
        after: Duration,
        server: String,
    },

    /// Waiting for something in the cluster (a deletion) took longer than allowed.
    #[error("gave up after {} waiting for {what}", fmt_duration(*after))]
    WaitTimeout { what: String, after: Duration },

    /// A server-side apply conflicted with fields owned by other field managers.
    #[error(
        "{what}: conflict with field manager(s) {}: {message}",
        fmt_managers(managers)
    )]
    Conflict {
        what: String,
        managers: Vec<String>,
        /// Each conflicting field and the manager that owns it (`.data.a`, `kubectl`).
        fields: Vec<(String, String)>,
        message: String,
    },

    /// Any other answer from the server that is not a success (400 BadRequest,
    /// 404 NotFound, 409 AlreadyExists, 422 Invalid, 5xx).
    #[error("{what}: {message} ({})", fmt_status(*code, reason))]
    Api {
        what: String,
        code: u16,
        reason: String,
        message: String,
    },

    /// Something unexpected (an answer that cannot be decoded, ...).
    #[error("{what}: {message}")]
    Other { what: String, message: String },
}

/// What kind of failure an error is, for the one place (`cli`) that turns failures into exit
/// codes, and for callers that treat access problems apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// The request could not even be made as given: a flag naming what the kubeconfig lacks,
    /// an object that cannot be sent.
    BadInput,
    /// The server is there but will not let this user in: 401, 403.
    Access,
    /// The server cannot be reached or used: a kubeconfig giving no usable cluster,
    /// connection, TLS, request timeouts.
    Unavailable,
    /// The server answered and said no (409, 422, ...), or the work did not finish in time.
    Rejected,
}

impl ClusterError {
    pub fn class(&self) -> ErrorClass {
        match self {
            Self::KubeconfigFlag { .. } | Self::InvalidObject { .. } => ErrorClass::BadInput,
            Self::Unauthorized { .. } | Self::Credentials { .. } | Self::Forbidden { .. } => {
                ErrorClass::Access
            }
            // A kubeconfig that gives no usable cluster: the cluster cannot be used.
            Self::Kubeconfig { .. }
            | Self::Connect { .. }
            | Self::Tls { .. }
            | Self::Timeout { .. } => ErrorClass::Unavailable,
            Self::WaitTimeout { .. }
            | Self::Conflict { .. }
            | Self::Api { .. }
            | Self::Other { .. } => ErrorClass::Rejected,
        }
    }

    /// True when the cluster cannot be reached or used at all (401, 403, connection,
    /// TLS, request timeout): retrying the same thing will not help.
    pub fn is_access_error(&self) -> bool {
        matches!(self.class(), ErrorClass::Access | ErrorClass::Unavailable)
    }

    /// The HTTP status code of a server answer, when there was one.
    pub fn status_code(&self) -> Option<u16> {
        match self {
            Self::Api { code, .. } => Some(*code),
            Self::Conflict { .. } => Some(409),
            Self::Forbidden { .. } => Some(403),
            _ => None,
        }
    }

    /// The server's reason (`NotFound`, `AlreadyExists`, `Invalid`, ...), when there was one.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Self::Api { reason, .. } => Some(reason),
            Self::Conflict { .. } => Some("Conflict"),
            Self::Forbidden { .. } => Some("Forbidden"),
            _ => None,
        }
    }

    /// The error of a request that sent an object of `kind`: about a Secret, the server's
    /// message loses the values it quotes (see [`super::redact`]).
    pub(crate) fn for_kind(self, kind: &super::ResolvedKind) -> Self {
        if !(kind.group.is_empty() && kind.kind == "Secret") {
            return self;
        }
        let redact = |m: String| super::redact::secret_message(&m);
        match self {
            Self::Api {
                what,
                code,
                reason,
                message,
            } => Self::Api {
                what,
                code,
                reason,
                message: redact(message),
            },
            Self::Conflict {
                what,
                managers,
                fields,
                message,
            } => Self::Conflict {
                what,
                managers,
                fields,
                message: redact(message),
            },
            Self::Forbidden { context, message } => Self::Forbidden {
                context,
                message: redact(message),
            },
            Self::Other { what, message } => Self::Other {
                what,
                message: redact(message),
            },
            other => other,
        }
    }

    pub fn is_not_found(&self) -> bool {
        self.status_code() == Some(404)
    }

    pub fn is_already_exists(&self) -> bool {
        self.reason() == Some("AlreadyExists")
    }
}

/// Who we are talking to, for error messages.
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    pub context: String,
    pub user: String,
    pub server: String,
}

impl Ctx {
    /// Turn a kube error into a [`ClusterError`]; `what` names the operation
    /// (`apply configmaps "x" in namespace "y"`).
    pub fn map(&self, err: kube::Error, what: &str) -> ClusterError {
        match err {
            kube::Error::Api(status) => self.map_status(&status, what),
            kube::Error::Auth(e) => ClusterError::Unauthorized {
                server: self.server.clone(),
                context: self.context.clone(),
                user: self.user.clone(),
                message: chain(&e),
            },
            kube::Error::RustlsTls(e) => self.tls(chain(&e)),
            kube::Error::HyperError(e) => self.transport(&e),
            kube::Error::Service(e) => match e.downcast_ref::<super::exec::PluginError>() {
                Some(plugin) => self.credentials(plugin),
                None => self.transport(e.as_ref()),
            },
            kube::Error::InferKubeconfig(e) => ClusterError::Kubeconfig { message: chain(&e) },
            other => ClusterError::Other {
                what: what.to_string(),
                message: chain(&other),
            },
        }
    }

    /// Map an error answer of the server.
    pub fn map_status(&self, status: &Status, what: &str) -> ClusterError {
        let message = if status.message.is_empty() {
            status.reason.clone()
        } else {
            status.message.clone()
        };
        match status.code {
            401 => ClusterError::Unauthorized {
                server: self.server.clone(),
                context: self.context.clone(),
                user: self.user.clone(),
                message,
            },
            403 => ClusterError::Forbidden {
                context: self.context.clone(),
                message,
            },
            409 if status.reason == "Conflict" && !conflict_managers(status).is_empty() => {
                ClusterError::Conflict {
                    what: what.to_string(),
                    managers: conflict_managers(status),
                    fields: conflict_fields(status),
                    message,
                }
            }
            code => ClusterError::Api {
                what: what.to_string(),
                code,
                reason: status.reason.clone(),
                message,
            },
        }
    }

    /// The exec credential plugin failed; its error never holds the plugin's output.
    pub fn credentials(&self, err: &super::exec::PluginError) -> ClusterError {
        ClusterError::Credentials {
            context: self.context.clone(),
            user: self.user.clone(),
            cause: err.to_string(),
        }
    }

    pub fn timeout(&self, what: &str, after: Duration) -> ClusterError {
        ClusterError::Timeout {
            what: what.to_string(),
            after,
            server: self.server.clone(),
        }
    }

    fn tls(&self, cause: String) -> ClusterError {
        ClusterError::Tls {
            server: self.server.clone(),
            context: self.context.clone(),
            cause,
        }
    }

    /// A failure below HTTP: TLS when a TLS error is among its causes, otherwise a
    /// connection problem.
    fn transport(&self, err: &(dyn std::error::Error + 'static)) -> ClusterError {
        let cause = chain(err);
        if is_tls(err) {
            return self.tls(cause);
        }
        let timed_out = causes(err).any(|e| e.is::<tokio::time::error::Elapsed>());
        let cause = if timed_out || cause.contains("deadline has elapsed") {
            let secs = super::config::CONNECT_TIMEOUT.as_secs();
            format!("no connection within {secs}s ({cause})")
        } else {
            cause
        };
        ClusterError::Connect {
            server: self.server.clone(),
            context: self.context.clone(),
            cause,
        }
    }
}

/// An error and each of its sources, outermost first; an `io::Error` is looked into, since
/// TLS streams report rustls errors wrapped in one.
fn causes<'a>(
    err: &'a (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'a (dyn std::error::Error + 'static)> {
    std::iter::successors(Some(err), |e| {
        e.downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .map(|inner| inner as &(dyn std::error::Error + 'static))
            .or_else(|| e.source())
    })
}

/// Whether rustls (the handshake, a certificate check) is among the causes.
fn is_tls(err: &(dyn std::error::Error + 'static)) -> bool {
    causes(err).any(|e| e.is::<rustls::Error>())
}

/// The field managers named in an apply conflict: the server lists one cause per
/// conflicting field, each `conflict with "manager" ...`.
fn conflict_managers(status: &Status) -> Vec<String> {
    let mut managers: Vec<String> = Vec::new();
    let causes = status.details.iter().flat_map(|d| d.causes.iter());
    let messages = causes
        .map(|c| c.message.as_str())
        .chain(std::iter::once(status.message.as_str()));
    for msg in messages {
        for part in msg.split("conflict with \"").skip(1) {
            if let Some(end) = part.find('"') {
                let name = &part[..end];
                if !managers.iter().any(|m| m == name) {
                    managers.push(name.to_string());
                }
            }
        }
    }
    managers
}

/// Each conflicting field of an apply conflict with its manager: one cause per field, its
/// message `conflict with "manager" ...` and its field the path (`.data.a`).
fn conflict_fields(status: &Status) -> Vec<(String, String)> {
    let causes = status.details.iter().flat_map(|d| d.causes.iter());
    causes
        .filter_map(|c| {
            let rest = c.message.split_once("conflict with \"")?.1;
            let manager = rest.split_once('"')?.0;
            Some((c.field.clone(), manager.to_owned()))
        })
        .collect()
}

/// An error and its sources, joined with ": ", without repeating a source that its
/// parent already printed.
pub(crate) fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

/// `30s`, `2m`, `1m 30s`: a limit as the user would write it.
/// To a tenth of a second: a request cut at a deadline 4 s away is "4s", not
/// "3s 999ms 652us 328ns".
fn fmt_duration(d: Duration) -> String {
    let tenths = (d.as_millis() as u64 + 50) / 100;
    humantime::format_duration(Duration::from_millis(tenths * 100)).to_string()
}

fn fmt_status(code: u16, reason: &str) -> String {
    if reason.is_empty() {
        format!("HTTP {code}")
    } else {
        format!("{code} {reason}")
    }
}

fn fmt_managers(managers: &[String]) -> String {
    let quoted: Vec<String> = managers.iter().map(|m| format!("\"{m}\"")).collect();
    quoted.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::core::response::{StatusCause, StatusDetails};

    fn ctx() -> Ctx {
        Ctx {
            context: "admin".into(),
            user: "alice".into(),
            server: "https://127.0.0.1:6443".into(),
        }
    }

    fn status(code: u16, reason: &str, message: &str) -> Status {
        let mut s = Status::failure(message, reason);
        s.code = code;
        s
    }

    #[test]
    fn forbidden_keeps_the_server_message_and_is_an_access_error() {
        let msg = r#"configmaps is forbidden: User "norights" cannot create resource "configmaps" in API group "" in the namespace "x""#;
        let err = ctx().map_status(&status(403, "Forbidden", msg), "apply");
        assert_eq!(err.class(), ErrorClass::Access);
        assert!(err.is_access_error());
        assert!(err.to_string().contains(msg), "{err}");
    }

    #[test]
    fn unauthorized_names_user_context_and_server() {
        let err = ctx().map_status(&status(401, "Unauthorized", "Unauthorized"), "get");
        let text = err.to_string();
        assert_eq!(err.class(), ErrorClass::Access);
        for part in ["alice", "admin", "https://127.0.0.1:6443"] {
            assert!(text.contains(part), "{text}");
        }
    }

    #[test]
    fn apply_conflict_lists_managers() {
        let mut s = status(
            409,
            "Conflict",
            r#"Apply failed with 2 conflicts: conflict with "kubectl" using v1: .data.a"#,
        );
        s.details = Some(StatusDetails {
            causes: vec![
                StatusCause {
                    reason: "FieldManagerConflict".into(),
                    message: r#"conflict with "kubectl" using v1"#.into(),
                    field: ".data.a".into(),
                },
                StatusCause {
                    reason: "FieldManagerConflict".into(),
                    message: r#"conflict with "helm" using v1"#.into(),
                    field: ".data.b".into(),
                },
            ],
            name: String::new(),
            group: String::new(),
            kind: String::new(),
            uid: String::new(),
            retry_after_seconds: 0,
        });
        let err = ctx().map_status(&s, "apply configmaps \"x\"");
        match &err {
            ClusterError::Conflict {
                managers, fields, ..
            } => {
                assert_eq!(managers, &["kubectl", "helm"]);
                let fields: Vec<(&str, &str)> = fields
                    .iter()
                    .map(|(f, m)| (f.as_str(), m.as_str()))
                    .collect();
                assert_eq!(fields, [(".data.a", "kubectl"), (".data.b", "helm")]);
            }
            other => panic!("expected a conflict, got {other:?}"),
        }
        assert_eq!(err.class(), ErrorClass::Rejected);
        assert!(err.to_string().contains("\"kubectl\", \"helm\""), "{err}");
    }

    #[test]
    fn already_exists_and_invalid_are_rejections() {
        let exists = ctx().map_status(&status(409, "AlreadyExists", "exists"), "create");
        assert!(exists.is_already_exists());
        assert_eq!(exists.class(), ErrorClass::Rejected);
        let invalid = ctx().map_status(&status(422, "Invalid", "bad spec"), "apply");
        assert_eq!(invalid.class(), ErrorClass::Rejected);
        assert!(!invalid.is_access_error());
        assert!(invalid.to_string().contains("bad spec"));
    }

    #[test]
    fn transport_errors_split_into_tls_and_connect() {
        // As a TLS stream reports it: the rustls error inside an io::Error.
        let rustls_error =
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        let wrapped = std::io::Error::new(std::io::ErrorKind::InvalidData, rustls_error);
        let tls = ctx().transport(&wrapped);
        assert!(matches!(tls, ClusterError::Tls { .. }), "{tls:?}");
        let refused =
            std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "tcp connect error");
        let conn = ctx().transport(&refused);
        assert!(matches!(conn, ClusterError::Connect { .. }));
        assert!(conn.to_string().contains("https://127.0.0.1:6443"));
        assert!(conn.to_string().contains("\"admin\""));
        assert_eq!(conn.class(), ErrorClass::Unavailable);
    }
}
