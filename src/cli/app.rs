//! The app a command works on: `--app NAME`, or a default that does not change when the
//! manifests are edited (the `-f` directory's name, a single file's stem), the app's namespace
//! (`-n`, else the context's), and the lock every changing command takes on it.

use super::args::{AppArgs, InputArgs};
use super::operation::cluster_failure;
use super::{Failure, exit};
use crate::cluster::{ApplyOptions, Cluster};
use crate::engine::inventory::{self, App};
use crate::engine::lock::{self, Lock, LockError};
use crate::render::{self, DirectoryKind};
use std::collections::BTreeSet;
use std::path::Path;

/// The app's name: `--app`, checked as a DNS label, else the default from the input.
pub fn name(args: &AppArgs, input: &InputArgs) -> Result<String, Failure> {
    if let Some(name) = &args.app {
        inventory::check_name(name).map_err(|e| Failure::bad_input(format!("--app: {e}")))?;
        return Ok(name.clone());
    }
    default_name(input)
}

/// The default name, made a DNS label: the kustomization directory's name for `-k DIR`; for
/// `-f`, a Helm chart's release name (`--release`, else the chart's name, as `helm template`
/// names it), else the directory's name or a file's stem. Every `-f` must give the same name.
pub fn default_name(input: &InputArgs) -> Result<String, Failure> {
    let from_kustomize;
    let filenames: &[String] = match &input.kustomize {
        Some(dir) => {
            from_kustomize = [dir.clone()];
            &from_kustomize
        }
        None => &input.filenames,
    };
    if filenames.is_empty() || filenames.iter().any(|f| f == "-") {
        return Err(Failure::bad_input(
            "the input is read from stdin, which gives the app no name: name it with --app NAME (the name keys its lock, labels and inventory)",
        ));
    }
    let mut names = BTreeSet::new();
    for file in filenames {
        let stem = release_of(Path::new(file), input)
            .or_else(|| stem_of(Path::new(file)))
            .ok_or_else(|| {
                Failure::bad_input(format!(
                    "cannot make an app name from \"{file}\": name the app with --app NAME"
                ))
            })?;
        let name = inventory::name_from(&stem).ok_or_else(|| {
            Failure::bad_input(format!(
                "\"{stem}\" (from \"{file}\") cannot be made a DNS label to name the app: name it with --app NAME"
            ))
        })?;
        names.insert(name);
    }
    if names.len() > 1 {
        let list: Vec<String> = names.into_iter().collect();
        return Err(Failure::bad_input(format!(
            "the inputs give different default app names ({}): name the app with --app NAME",
            list.join(", ")
        )));
    }
    Ok(names.into_iter().next().expect("one name"))
}

/// A Helm chart directory's release name: `--release`, else the chart's name.
fn release_of(path: &Path, input: &InputArgs) -> Option<String> {
    if input.kustomize.is_some()
        || !path.is_dir()
        || render::directory_kind(path) != DirectoryKind::HelmChart
    {
        return None;
    }
    input
        .helm
        .release
        .clone()
        .or_else(|| render::helm::chart_name(path))
}

/// A directory's own name (`.` and `dir/` resolved), or a file's name without extension.
fn stem_of(path: &Path) -> Option<String> {
    if path.is_dir() {
        let real = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        return real.file_name().map(|n| n.to_string_lossy().into_owned());
    }
    path.file_stem().map(|n| n.to_string_lossy().into_owned())
}

/// The app in the cluster's namespace (`-n`, else the context's).
pub fn app(cluster: &Cluster, name: String) -> App {
    App {
        name,
        namespace: cluster.namespace().to_owned(),
    }
}

/// The app's namespace holds its lock and inventory: it must exist before the lock is taken.
/// A missing one is created first when the input defines it (`from_input`, the Namespace as
/// the sync applies it) or with `create` (`sync --create-namespace`); otherwise the operation
/// stops with nothing changed.
pub async fn ensure_namespace(
    cluster: &Cluster,
    app: &App,
    create: bool,
    from_input: Option<&serde_json::Value>,
) -> Result<(), Failure> {
    let kind = cluster
        .resolve("v1", "Namespace")
        .await
        .map_err(cluster_failure)?
        .ok_or_else(|| Failure::new(exit::CLUSTER, "the cluster serves no v1 Namespace"))?;
    match cluster.get(&kind, "", &app.namespace).await {
        Ok(Some(_)) => Ok(()),
        Ok(None) if create || from_input.is_some() => {
            let bare = serde_json::json!({"apiVersion": "v1", "kind": "Namespace",
                                          "metadata": {"name": app.namespace}});
            cluster
                .apply(&kind, from_input.unwrap_or(&bare), ApplyOptions::default())
                .await
                .map_err(cluster_failure)?;
            eprintln!("namespace/{} created (the app's namespace)", app.namespace);
            Ok(())
        }
        Ok(None) => Err(no_namespace(app)),
        // May not read namespaces: taking the lease will tell.
        Err(e) if e.status_code() == Some(403) => Ok(()),
        Err(e) => Err(cluster_failure(e)),
    }
}

/// Whether the app's namespace can be made by this sync (the input defines it, or
/// `--create-namespace`), for `--dry-run`, which creates nothing.
pub async fn check_namespace(
    cluster: &Cluster,
    app: &App,
    will_create: bool,
) -> Result<(), Failure> {
    if will_create {
        return Ok(());
    }
    ensure_namespace(cluster, app, false, None).await
}

fn no_namespace(app: &App) -> Failure {
    Failure::new(
        exit::FAILED,
        format!(
            "namespace \"{}\" does not exist; it is the app's namespace (-n, else the context's), which holds the app's lock and inventory: create it or pass --create-namespace; nothing was changed",
            app.namespace
        ),
    )
}

/// Takes the app's lock, or with `no_lock` goes on without one. Refuses when another
/// operation holds it, or when the user may not manage leases (exit 3). With
/// `missing_namespace_ok` (delete), an app whose namespace is gone runs unlocked: no other
/// operation of it can hold a lock there either.
pub async fn lock(
    cluster: &Cluster,
    app: &App,
    no_lock: bool,
    missing_namespace_ok: bool,
) -> Result<Option<Lock>, Failure> {
    if no_lock {
        return Ok(None);
    }
    match lock::acquire(cluster, app).await {
        Ok(lock) => Ok(Some(lock)),
        Err(LockError::NoNamespace(_)) if missing_namespace_ok => Ok(None),
        Err(e) => Err(lock_failure(e, app)),
    }
}

pub fn lock_failure(e: LockError, app: &App) -> Failure {
    match e {
        LockError::Held {
            holder,
            since,
            namespace,
            name,
        } => Failure::new(
            exit::FAILED,
            format!(
                "another sync, delete or cleanup of app \"{}\" is running: lease {namespace}/{name} is held by {holder} since {since}; nothing was changed",
                app.name
            ),
        ),
        LockError::NoRights(why) => Failure::new(
            exit::CLUSTER,
            format!(
                "cannot take the lock of app \"{}\" (a coordination.k8s.io Lease in namespace \"{}\"): {why}; pass --no-lock to run without it; nothing was changed",
                app.name, app.namespace
            ),
        ),
        LockError::NoNamespace(_) => no_namespace(app),
        LockError::Cluster(e) => {
            let mut f = cluster_failure(e);
            f.message.push_str("; nothing was changed");
            f
        }
    }
}

/// Releases the lock, saying so when it was lost meanwhile.
pub async fn release(lock: Option<Lock>, cluster: &Cluster) {
    let Some(lock) = lock else { return };
    if lock.was_lost() {
        eprintln!(
            "warning: the lock (lease {}/{}) was taken over by another operation while this one ran: its renewals failed for longer than the lease lasts",
            lock.namespace, lock.name
        );
    }
    if let Err(e) = lock.release(cluster).await {
        eprintln!("warning: could not release the lock: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(names: &[String]) -> InputArgs {
        InputArgs {
            filenames: names.to_vec(),
            ..InputArgs::default()
        }
    }

    #[test]
    fn kustomize_and_helm_name_the_app() {
        let dir = tempfile::tempdir().unwrap();
        let overlay = dir.path().join("v1");
        std::fs::create_dir(&overlay).unwrap();
        std::fs::write(overlay.join("kustomization.yaml"), "resources: []\n").unwrap();
        let chart = dir.path().join("chart-dir");
        std::fs::create_dir(&chart).unwrap();
        std::fs::write(
            chart.join("Chart.yaml"),
            "apiVersion: v2\nname: web\nversion: 1.0.0\n",
        )
        .unwrap();
        let s = |p: &Path| p.to_string_lossy().into_owned();
        let kustomize = InputArgs {
            kustomize: Some(s(&overlay)),
            ..InputArgs::default()
        };
        assert_eq!(default_name(&kustomize).unwrap(), "v1");
        // A kustomization given with -f is named the same way.
        assert_eq!(default_name(&files(&[s(&overlay)])).unwrap(), "v1");
        assert_eq!(default_name(&files(&[s(&chart)])).unwrap(), "web");
        let mut released = files(&[s(&chart)]);
        released.helm.release = Some("shop".into());
        assert_eq!(default_name(&released).unwrap(), "shop");
    }

    #[test]
    fn the_default_is_the_directory_or_the_file_stem() {
        let dir = tempfile::tempdir().unwrap();
        let app_dir = dir.path().join("Shop_Front");
        std::fs::create_dir(&app_dir).unwrap();
        let file = app_dir.join("deploy.yaml");
        std::fs::write(&file, "").unwrap();
        let s = |p: &Path| p.to_string_lossy().into_owned();
        assert_eq!(default_name(&files(&[s(&app_dir)])).unwrap(), "shop-front");
        assert_eq!(
            default_name(&files(&[format!("{}/", s(&app_dir))])).unwrap(),
            "shop-front"
        );
        assert_eq!(default_name(&files(&[s(&file)])).unwrap(), "deploy");
        let two = default_name(&files(&[s(&app_dir), s(&file)])).unwrap_err();
        assert_eq!(two.code, exit::BAD_INPUT);
        assert!(
            two.message.contains("deploy, shop-front"),
            "{}",
            two.message
        );
    }

    #[test]
    fn stdin_needs_a_name() {
        for input in [vec![], vec!["-".to_string()]] {
            let e = default_name(&files(&input)).unwrap_err();
            assert_eq!(e.code, exit::BAD_INPUT);
            assert!(e.message.contains("--app"), "{}", e.message);
        }
    }

    #[test]
    fn an_explicit_name_must_be_a_dns_label() {
        let args = |a: &str| AppArgs {
            app: Some(a.into()),
        };
        let input = InputArgs::default();
        assert_eq!(name(&args("shop"), &input).unwrap(), "shop");
        let e = name(&args("Shop_1"), &input).unwrap_err();
        assert_eq!(e.code, exit::BAD_INPUT);
    }
}
