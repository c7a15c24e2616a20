//! The same object defined twice in one input. Argo CD keeps one and warns
//! (RepeatedResourceWarning); `sync` would apply both copies at once and the winner would be
//! whichever request came last, so the commands that act on the input refuse it and `lint`
//! reports it.

use super::offline_is_namespaced;
use crate::manifest::Manifest;
use std::collections::HashMap;
use std::collections::hash_map::Entry;

/// The namespace an object lands in, offline: its own, else the default; none for
/// cluster-scoped kinds.
pub fn effective_namespace<'a>(m: &'a Manifest, default_namespace: &'a str) -> &'a str {
    if offline_is_namespaced(m) {
        m.namespace.as_deref().unwrap_or(default_namespace)
    } else {
        ""
    }
}

/// Every later definition of an object already defined, as (first, again) indexes into
/// `manifests`: same group, kind, namespace and name. Objects named by `generateName` are
/// never duplicates (each gets its own name).
pub fn duplicates(manifests: &[Manifest], default_namespace: &str) -> Vec<(usize, usize)> {
    let mut seen: HashMap<(&str, &str, &str, &str), usize> =
        HashMap::with_capacity(manifests.len());
    let mut pairs = Vec::new();
    for (index, m) in manifests.iter().enumerate() {
        let Some(name) = m.name.as_deref() else {
            continue;
        };
        let key = (
            m.group(),
            m.kind.as_str(),
            effective_namespace(m, default_namespace),
            name,
        );
        match seen.entry(key) {
            Entry::Vacant(v) => {
                v.insert(index);
            }
            Entry::Occupied(first) => pairs.push((*first.get(), index)),
        }
    }
    pairs
}
