//! Before an operation writes anything: may the user make every request it will make? The dry
//! run already proves that applies and hook creations are allowed (a dry-run request is
//! authorized as the real one); what it cannot prove are the verbs used later: get, list and
//! watch to wait for objects, delete for hook delete policies (BeforeHookCreation,
//! HookSucceeded, HookFailed) and for `delete`, create for namespaces `--create-namespace`
//! makes, and the applies of objects that could not be dry-run (their namespace does not exist
//! yet). Each is asked with a SelfSubjectAccessReview; a missing one stops the operation with
//! exit 3, naming the verb, the resource and why it is needed, before anything is written.

use super::{PrepareError, Work};
use crate::cluster::{Cluster, ResolvedKind};
use std::collections::BTreeMap;

/// One permission an operation needs.
pub(crate) struct Need<'a> {
    pub verb: &'static str,
    pub kind: &'a ResolvedKind,
    /// None: cluster-scoped, or all namespaces.
    pub namespace: Option<&'a str>,
    /// For whom, in the user's terms: "to wait for Job/migrate".
    pub reason: String,
}

/// What waiting for an object takes: watches list and watch its kind, removals get it.
const WAIT_VERBS: [&str; 3] = ["get", "list", "watch"];

/// What a command does to one object, for the permissions it needs.
#[derive(Clone, Copy)]
enum Done {
    /// Creates it as a hook, deleted by its delete policy.
    Hook,
    /// Applies it (create and patch, as server-side apply creates what is missing).
    Apply,
    /// Deletes it.
    Delete,
}

/// The permissions `done` to work `w` needs, and those of waiting for it.
fn add_needs<'a>(needs: &mut Vec<Need<'a>>, w: &'a Work, done: Done) {
    let Some(kind) = &w.kind else { return };
    let label = format!("{}/{}", kind.kind, w.name);
    let mut need = |verb, reason: String| {
        needs.push(Need {
            verb,
            kind,
            namespace: w.namespace.as_deref(),
            reason,
        });
    };
    match done {
        Done::Hook => {
            need("create", format!("to create the hook {label}"));
            need(
                "delete",
                format!("for the delete policy of the hook {label}"),
            );
        }
        Done::Apply => {
            need("create", format!("to apply {label}"));
            need("patch", format!("to apply {label}"));
        }
        Done::Delete => need("delete", format!("to delete {label}")),
    }
    for verb in WAIT_VERBS {
        need(verb, format!("to wait for {label}"));
    }
}

/// The permissions of a sync: applies (create and patch, as server-side apply creates what is
/// missing), waits, hook deletions, namespaces to create.
pub(crate) fn for_sync<'a>(
    works: &'a [Work],
    namespace_kind: Option<&'a ResolvedKind>,
    namespaces_to_create: &'a [String],
) -> Vec<Need<'a>> {
    let mut needs = Vec::new();
    for w in works {
        let done = if w.task.hook { Done::Hook } else { Done::Apply };
        add_needs(&mut needs, w, done);
    }
    if let Some(kind) = namespace_kind {
        for ns in namespaces_to_create {
            needs.push(Need {
                verb: "create",
                kind,
                namespace: None,
                reason: format!("to create the namespace {ns} (--create-namespace)"),
            });
        }
    }
    needs
}

/// The permissions of a delete: hooks as in a sync, and for the app's objects delete and the
/// verbs to wait until they are gone. `deletes(i)` says whether work `i` is deleted (rather
/// than run as a hook, or left alone).
pub(crate) fn for_delete<'a>(
    works: &'a [Work],
    hook: impl Fn(usize) -> bool,
    deleted: impl Fn(usize) -> bool,
) -> Vec<Need<'a>> {
    let mut needs = Vec::new();
    for (i, w) in works.iter().enumerate() {
        if hook(i) {
            add_needs(&mut needs, w, Done::Hook);
        } else if deleted(i) {
            add_needs(&mut needs, w, Done::Delete);
        }
    }
    needs
}

/// Asks the server about every distinct (verb, resource, namespace) of `needs`, all at once;
/// every one refused is reported.
pub(crate) async fn check(cluster: &Cluster, needs: Vec<Need<'_>>) -> Result<(), PrepareError> {
    let mut distinct: BTreeMap<(&str, &str, &str, Option<&str>), Vec<&Need>> = BTreeMap::new();
    for need in &needs {
        let key = (
            need.verb,
            need.kind.group.as_str(),
            need.kind.plural.as_str(),
            need.namespace.filter(|_| need.kind.namespaced),
        );
        distinct.entry(key).or_default().push(need);
    }
    let asks = distinct.iter().map(|(key, wanted)| async move {
        let first = wanted[0];
        let allowed = cluster.may(first.verb, first.kind, key.3).await;
        (key, wanted, allowed)
    });
    let mut problems = Vec::new();
    for (key, wanted, allowed) in futures::future::join_all(asks).await {
        match allowed {
            Ok(true) => {}
            Ok(false) => {
                let (verb, group, plural, namespace) = *key;
                let resource = if group.is_empty() {
                    plural.to_owned()
                } else {
                    format!("{plural}.{group}")
                };
                let scope = match namespace {
                    Some(ns) => format!(" in namespace {ns:?}"),
                    None => String::new(),
                };
                let more = match wanted.len() {
                    1 => String::new(),
                    n => format!(" (and {} more)", n - 1),
                };
                problems.push(format!(
                    "user {:?} may not {verb} {resource}{scope}, needed {}{more}",
                    cluster.user(),
                    wanted[0].reason
                ));
            }
            Err(e) => return Err(PrepareError::Cluster(e)),
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(PrepareError::Rejected {
            problems,
            access: true,
        })
    }
}
