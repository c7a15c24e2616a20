//! Choosing a cluster the way kubectl does: kubeconfig files, flags, namespace.

use std::path::{Path, PathBuf};
use std::time::Duration;

use kube::config::{KubeConfigOptions, Kubeconfig};

use super::error::{ClusterError, chain};

/// kubectl's cluster flags, parsed by the CLI.
#[derive(Debug, Clone, Default)]
pub struct ClusterFlags {
    /// `--kubeconfig`: this one file, ignoring `KUBECONFIG`.
    pub kubeconfig: Option<PathBuf>,
    /// `--context`
    pub context: Option<String>,
    /// `--cluster`: override the context's cluster.
    pub cluster: Option<String>,
    /// `--user`: override the context's user.
    pub user: Option<String>,
    /// `-n/--namespace`
    pub namespace: Option<String>,
    /// `--request-timeout`; `None` waits as long as it takes (kubectl's "0").
    pub request_timeout: Option<Duration>,
}

/// Namespace for objects without one, WITHOUT connecting (used by offline `plan`):
/// `-n`, else the selected context's namespace when a kubeconfig is readable, else
/// `"default"`.
pub fn default_namespace_offline(flags: &ClusterFlags) -> String {
    if let Some(ns) = nonempty(flags.namespace.as_deref()) {
        return ns.to_string();
    }
    let from_kubeconfig = match load_kubeconfig(flags) {
        Ok(Some((kc, _))) => {
            let name = flags.context.clone().or(kc.current_context.clone());
            kc.contexts
                .iter()
                .find(|c| Some(&c.name) == name.as_ref())
                .and_then(|c| c.context.as_ref())
                .and_then(|c| nonempty(c.namespace.as_deref()).map(str::to_string))
        }
        Ok(None) if flags.kubeconfig.is_none() && in_cluster() => {
            std::fs::read_to_string(SERVICE_ACCOUNT_NAMESPACE)
                .ok()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
        }
        _ => None,
    };
    from_kubeconfig.unwrap_or_else(|| "default".to_string())
}

/// kubectl's duration flags: a plain integer is seconds, otherwise a Go duration such as
/// `30s`, `1m`, `1m30s`, `500ms`, `1.5h`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    match text.parse::<u64>() {
        Ok(secs) => Ok(Duration::from_secs(secs)),
        Err(_) => parse_go_duration(text).ok_or_else(|| {
            format!("invalid duration {text:?}: use a number of seconds or a duration like 30s, 1m, 1h30m")
        }),
    }
}

/// Parse kubectl's `--request-timeout`: as [`parse_duration`], and `0` means no timeout.
pub fn parse_request_timeout(text: &str) -> Result<Option<Duration>, String> {
    let duration = parse_duration(text)?;
    Ok((!duration.is_zero()).then_some(duration))
}

/// A Go `time.ParseDuration` string, without sign: one or more `<number><unit>`.
fn parse_go_duration(text: &str) -> Option<Duration> {
    if text.is_empty() {
        return None;
    }
    let mut rest = text;
    let mut total = 0f64;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number: f64 = rest[..num_len].parse().ok()?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let seconds_per_unit = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total += number * seconds_per_unit;
    }
    Duration::try_from_secs_f64(total).ok()
}

/// What was chosen from the kubeconfig and flags, before a client is built.
pub(crate) struct Selected {
    pub config: kube::Config,
    pub context: String,
    pub user: String,
    pub namespace: String,
}

/// How long to wait for a TCP connection before calling the server unreachable.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long one request may take when `--request-timeout` does not say (kube sets no read
/// timeout at all, so a server that stopped answering would hold a request forever).
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// How long an exec credential plugin may run when `--request-timeout` does not say.
pub(crate) const PLUGIN_TIMEOUT: Duration = Duration::from_secs(60);

const SERVICE_ACCOUNT_NAMESPACE: &str = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";

/// Pick the kubeconfig, context, cluster, user and namespace as kubectl would.
pub(crate) async fn select(flags: &ClusterFlags) -> Result<Selected, ClusterError> {
    let (mut config, context, user, context_ns) = match load_kubeconfig(flags)? {
        Some((kubeconfig, source)) => from_kubeconfig(kubeconfig, &source, flags).await?,
        None if flags.kubeconfig.is_none() && in_cluster() => {
            let config = kube::Config::incluster().map_err(|e| kubeconfig_error(chain(&e)))?;
            let ns = config.default_namespace.clone();
            (
                config,
                "in-cluster".to_string(),
                "service account".to_string(),
                Some(ns),
            )
        }
        None => {
            return Err(kubeconfig_error(
                "no kubeconfig found: pass --kubeconfig, set KUBECONFIG, or create ~/.kube/config"
                    .to_string(),
            ));
        }
    };
    let namespace = nonempty(flags.namespace.as_deref())
        .map(str::to_string)
        .or(context_ns)
        .unwrap_or_else(|| "default".to_string());
    config.default_namespace = namespace.clone();
    // Fail fast on an unreachable server; `--request-timeout` is enforced per request
    // on top of this (it covers connecting too).
    config.connect_timeout = Some(CONNECT_TIMEOUT);
    Ok(Selected {
        config,
        context,
        user,
        namespace,
    })
}

async fn from_kubeconfig(
    kubeconfig: Kubeconfig,
    source: &str,
    flags: &ClusterFlags,
) -> Result<(kube::Config, String, String, Option<String>), ClusterError> {
    let names = || {
        let names: Vec<&str> = kubeconfig
            .contexts
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        if names.is_empty() {
            "it has no contexts".to_string()
        } else {
            format!("available: {}", names.join(", "))
        }
    };
    let context_name = match nonempty(flags.context.as_deref())
        .or(nonempty(kubeconfig.current_context.as_deref()))
    {
        Some(name) => name.to_string(),
        None => {
            return Err(kubeconfig_error(format!(
                "{source} sets no current-context; pass --context ({})",
                names()
            )));
        }
    };
    let Some(context) = kubeconfig
        .contexts
        .iter()
        .find(|c| c.name == context_name)
        .and_then(|c| c.context.clone())
    else {
        let message = format!(
            "context \"{context_name}\" not found in {source} ({})",
            names()
        );
        return Err(if nonempty(flags.context.as_deref()).is_some() {
            flag_error(message)
        } else {
            kubeconfig_error(message)
        });
    };
    let cluster = nonempty(flags.cluster.as_deref()).unwrap_or(&context.cluster);
    if !kubeconfig.clusters.iter().any(|c| c.name == cluster) {
        let message =
            format!("cluster \"{cluster}\" (context \"{context_name}\") not found in {source}");
        return Err(if nonempty(flags.cluster.as_deref()).is_some() {
            flag_error(message)
        } else {
            kubeconfig_error(message)
        });
    }
    let user = nonempty(flags.user.as_deref())
        .or(context.user.as_deref())
        .unwrap_or("")
        .to_string();
    if let Some(name) = nonempty(flags.user.as_deref())
        && !kubeconfig.auth_infos.iter().any(|u| u.name == name)
    {
        return Err(flag_error(format!("user \"{name}\" not found in {source}")));
    }
    let options = KubeConfigOptions {
        context: Some(context_name.clone()),
        cluster: nonempty(flags.cluster.as_deref()).map(str::to_string),
        user: nonempty(flags.user.as_deref()).map(str::to_string),
    };
    let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .map_err(|e| kubeconfig_error(format!("{source}: {}", chain(&e))))?;
    let namespace = nonempty(context.namespace.as_deref()).map(str::to_string);
    Ok((config, context_name, user, namespace))
}

/// The merged kubeconfig and a description of where it came from, or `None` when there
/// is none at all. As kubectl: `--kubeconfig` must exist; files in `KUBECONFIG` that do
/// not exist are skipped; `~/.kube/config` is used only when `KUBECONFIG` is unset.
fn load_kubeconfig(flags: &ClusterFlags) -> Result<Option<(Kubeconfig, String)>, ClusterError> {
    if let Some(path) = &flags.kubeconfig {
        if !path.exists() {
            return Err(flag_error(format!(
                "cannot read {}: no such file (--kubeconfig)",
                path.display()
            )));
        }
        let kc = read(path)?;
        return Ok(Some((kc, format!("kubeconfig {}", path.display()))));
    }
    if let Some(value) = std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) {
        let paths: Vec<PathBuf> = std::env::split_paths(&value)
            .filter(|p| !p.as_os_str().is_empty() && p.exists())
            .collect();
        let mut merged: Option<Kubeconfig> = None;
        for path in &paths {
            let next = read(path)?;
            merged = Some(match merged {
                None => next,
                Some(m) => m.merge(next).map_err(|e| {
                    kubeconfig_error(format!("merging {}: {}", path.display(), chain(&e)))
                })?,
            });
        }
        let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        return Ok(merged.map(|kc| (kc, format!("KUBECONFIG ({})", shown.join(":")))));
    }
    let Some(home) = home_dir() else {
        return Ok(None);
    };
    let path = home.join(".kube").join("config");
    if !path.exists() {
        return Ok(None);
    }
    let kc = read(&path)?;
    Ok(Some((kc, format!("kubeconfig {}", path.display()))))
}

fn read(path: &Path) -> Result<Kubeconfig, ClusterError> {
    Kubeconfig::read_from(path).map_err(|e| match e {
        kube::config::KubeconfigError::ReadConfig(io, _) => {
            kubeconfig_error(format!("cannot read {}: {io}", path.display()))
        }
        other => kubeconfig_error(format!("{}: {}", path.display(), chain(&other))),
    })
}

fn home_dir() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .or_else(|| std::env::var_os("USERPROFILE"))
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
}

fn in_cluster() -> bool {
    std::env::var_os("KUBERNETES_SERVICE_HOST").is_some()
        && Path::new(SERVICE_ACCOUNT_NAMESPACE).exists()
}

fn nonempty(s: Option<&str>) -> Option<&str> {
    s.filter(|s| !s.is_empty())
}

fn kubeconfig_error(message: String) -> ClusterError {
    ClusterError::Kubeconfig { message }
}

fn flag_error(message: String) -> ClusterError {
    ClusterError::KubeconfigFlag { message }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_timeout_follows_kubectl() {
        let secs = |s| Some(Duration::from_secs(s));
        assert_eq!(parse_request_timeout("0"), Ok(None));
        assert_eq!(parse_request_timeout("0s"), Ok(None));
        assert_eq!(parse_request_timeout("30"), Ok(secs(30)));
        assert_eq!(parse_request_timeout("30s"), Ok(secs(30)));
        assert_eq!(parse_request_timeout("1m"), Ok(secs(60)));
        assert_eq!(parse_request_timeout("1h30m"), Ok(secs(5400)));
        assert_eq!(parse_request_timeout("1.5m"), Ok(secs(90)));
        assert_eq!(
            parse_request_timeout("250ms"),
            Ok(Some(Duration::from_millis(250)))
        );
        for bad in ["", "abc", "10x", "-1", "s", "1m-2s"] {
            assert!(parse_request_timeout(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn offline_namespace_prefers_flag_then_context() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        std::fs::write(
            &path,
            r#"apiVersion: v1
kind: Config
current-context: a
clusters:
- name: c
  cluster: {server: "https://127.0.0.1:1"}
users:
- name: u
  user: {token: t}
contexts:
- name: a
  context: {cluster: c, user: u, namespace: team-a}
- name: b
  context: {cluster: c, user: u}
"#,
        )
        .unwrap();
        let mut flags = ClusterFlags {
            kubeconfig: Some(path),
            ..ClusterFlags::default()
        };
        assert_eq!(default_namespace_offline(&flags), "team-a");
        flags.context = Some("b".into());
        assert_eq!(default_namespace_offline(&flags), "default");
        flags.namespace = Some("given".into());
        assert_eq!(default_namespace_offline(&flags), "given");
        flags.kubeconfig = Some(dir.path().join("missing"));
        flags.namespace = None;
        assert_eq!(default_namespace_offline(&flags), "default");
    }
}
