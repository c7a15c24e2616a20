//! Whether the API server answers. Every request's transport outcome is recorded here (by
//! the client's innermost layer, `requests`, so only the connection speaks: not credentials,
//! not the server's answers), so that an operation that failed while the server was gone can say
//! since when it has not answered, and end with exit code 3 (the cluster could not be
//! reached) instead of 1 (the work itself failed): a CI job retries the one and reports the
//! other.

use std::sync::Mutex;
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

    /// An HTTP answer. A gateway or a server still starting (502, 503, 504) is not the
    /// server answering for itself.
    pub(super) fn answered(&self, status: http::StatusCode) {
        if matches!(status.as_u16(), 502..=504) {
            self.silent(format!("HTTP {status}"));
        } else {
            *self.0.lock().unwrap_or_else(|e| e.into_inner()) = None;
        }
    }

    /// No answer: the connection failed. With its causes: hyper's own message ("client error
    /// (Connect)") says little without them ("tcp connect error: Connection refused").
    pub(super) fn failed(&self, error: &(dyn std::error::Error + 'static)) {
        self.silent(super::error::chain(error));
    }

    fn silent(&self, error: String) {
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
