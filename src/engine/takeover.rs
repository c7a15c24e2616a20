//! Fields taken from other field managers. A forced server-side apply (the default, as
//! `kubectl apply --server-side --force-conflicts`) silently takes ownership of fields another
//! manager (kubectl, Helm, a controller) set; the next run of that manager may set them back.
//! So the apply is first sent unforced: a conflict names each field and its owner, and only
//! then is it sent again, forced, and the fields taken are reported.

use crate::cluster::{ApplyOptions, Cluster, ClusterError, ResolvedKind};
use serde_json::Value;
use std::collections::BTreeMap;

/// What an apply gave: the stored object, and the fields it took, described.
pub(super) type Applied = (Result<Value, ClusterError>, Option<String>);

/// Server-side apply of `object`; with `force`, also the fields it took from other managers,
/// described ("took .data.a, .data.b from \"kubectl\""), or None when it took none.
pub(super) async fn apply(
    cluster: &Cluster,
    kind: &ResolvedKind,
    object: &Value,
    options: ApplyOptions,
) -> Applied {
    if !options.force {
        return (cluster.apply(kind, object, options).await, None);
    }
    let gentle = ApplyOptions {
        force: false,
        ..options
    };
    match cluster.apply(kind, object, gentle).await {
        Err(ClusterError::Conflict { fields, .. }) if !fields.is_empty() => {
            let forced = cluster.apply(kind, object, options).await;
            (forced, Some(describe(&fields)))
        }
        other => (other, None),
    }
}

/// "took .data.a, .data.b from \"kubectl\"; .spec.replicas from \"hpa\"": fields grouped by
/// their previous manager.
fn describe(fields: &[(String, String)]) -> String {
    let mut by_manager: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (field, manager) in fields {
        by_manager.entry(manager).or_default().push(field);
    }
    let parts: Vec<String> = by_manager
        .iter()
        .map(|(manager, fields)| format!("{} from \"{manager}\"", fields.join(", ")))
        .collect();
    format!("took {}", parts.join("; "))
}

#[cfg(test)]
mod tests {
    use super::describe;

    #[test]
    fn fields_are_grouped_by_manager() {
        let fields = [
            (".data.a".to_owned(), "kubectl".to_owned()),
            (".spec.replicas".to_owned(), "hpa".to_owned()),
            (".data.b".to_owned(), "kubectl".to_owned()),
        ];
        assert_eq!(
            describe(&fields),
            "took .spec.replicas from \"hpa\"; .data.a, .data.b from \"kubectl\""
        );
    }
}
