//! Riding out a short outage: a request that failed for a reason that may pass (the server
//! restarting: connection refused or reset; overloaded: 429, 502, 503, 504; not answering in
//! time) is sent again, with exponential backoff, as client-go's reflectors and rest client
//! do, until it succeeds, fails for a reason that will not pass (401, 403, 404, 409, 422, ...),
//! or runs out of time: the operation's deadline when there is one, else [`RETRY_BUDGET`].
//! A 500 is not retried: the API server also answers 500 for problems that never pass (a
//! server-side apply whose fields do not match the schema).

use super::ClusterError;
use std::time::Duration;

/// How long a request is retried when no operation deadline bounds it.
pub(crate) const RETRY_BUDGET: Duration = Duration::from_secs(10);

/// The first pause between two attempts; it doubles up to [`MAX_DELAY`].
const FIRST_DELAY: Duration = Duration::from_millis(200);
const MAX_DELAY: Duration = Duration::from_secs(5);

/// Whether a request may be sent again after it failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Resend {
    /// Sending it twice does what sending it once does (get, list, server-side apply, delete,
    /// reviews): any transient failure is retried.
    Idempotent,
    /// A create: retried only when the server cannot have received it (the connection was
    /// never made), since a create that got through would fail the second time.
    IfNotReceived,
}

impl ClusterError {
    /// A failure that may pass if the request is sent again a little later: no connection,
    /// the server answering that it is overloaded or restarting, or no answer in time.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Connect { .. } | Self::Timeout { .. } => true,
            Self::Api { code, .. } => matches!(code, 429 | 502 | 503 | 504),
            _ => false,
        }
    }

    /// Whether the request surely never reached the server (the TCP connection was refused
    /// or could not be made).
    fn never_received(&self) -> bool {
        match self {
            Self::Connect { cause, .. } => {
                let cause = cause.to_ascii_lowercase();
                cause.contains("connect error")
                    || cause.contains("connection refused")
                    || cause.contains("no connection within")
            }
            _ => false,
        }
    }
}

impl Resend {
    pub(crate) fn allows(self, err: &ClusterError) -> bool {
        match self {
            Resend::Idempotent => err.is_transient(),
            Resend::IfNotReceived => err.never_received(),
        }
    }
}

/// The pause after `attempt` failed attempts (1-based).
pub(crate) fn delay(attempt: u32) -> Duration {
    FIRST_DELAY
        .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)))
        .min(MAX_DELAY)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connect(cause: &str) -> ClusterError {
        ClusterError::Connect {
            server: "https://127.0.0.1:1".into(),
            context: "c".into(),
            cause: cause.into(),
        }
    }

    fn api(code: u16) -> ClusterError {
        ClusterError::Api {
            what: "apply".into(),
            code,
            reason: String::new(),
            message: String::new(),
        }
    }

    #[test]
    fn transient_failures_are_retried_rejections_are_not() {
        let refused = connect("tcp connect error: Connection refused (os error 111)");
        let reset = connect("connection reset by peer");
        for e in [&refused, &reset, &api(429), &api(503), &api(504)] {
            assert!(Resend::Idempotent.allows(e), "{e}");
        }
        for e in [api(400), api(404), api(409), api(422), api(500)] {
            assert!(!Resend::Idempotent.allows(&e), "{e}");
        }
        assert!(Resend::IfNotReceived.allows(&refused));
        assert!(!Resend::IfNotReceived.allows(&reset));
        assert!(!Resend::IfNotReceived.allows(&api(503)));
    }

    #[test]
    fn backoff_doubles_up_to_a_cap() {
        assert_eq!(delay(1), Duration::from_millis(200));
        assert_eq!(delay(2), Duration::from_millis(400));
        assert_eq!(delay(10), MAX_DELAY);
        assert_eq!(delay(100), MAX_DELAY);
    }
}
