//! Names and marks for the objects a sync creates: a deterministic name for `generateName`
//! hooks, and the labels that let `cleanup` find hooks later.

use crate::model::Phase;
use sha2::{Digest, Sha256};

/// Label on every hook object a sync creates.
pub const LABEL_HOOK: &str = "kubectl-hooks.io/hook";
/// Label: the phase the hook ran in (`presync`, ...).
pub const LABEL_PHASE: &str = "kubectl-hooks.io/phase";
/// Label: the sync that created the object.
pub const LABEL_SYNC: &str = "kubectl-hooks.io/sync-id";
/// Label: the input (app) the hook belongs to, a hash of its object identities.
pub const LABEL_APP: &str = "kubectl-hooks.io/app";
/// Annotation: where the hook came from (`file:line`).
pub const ANNOTATION_SOURCE: &str = "kubectl-hooks.io/source";
/// Annotation: the hook's generateName, so `cleanup -f` can match generated names.
pub const ANNOTATION_GENERATE_NAME: &str = "kubectl-hooks.io/generate-name";

/// A stable identity for an input: a hash of its objects' group, kind, namespace and name,
/// in sorted order (the order of files does not matter).
pub fn app_id(identities: &mut [String]) -> String {
    identities.sort();
    let mut hasher = Sha256::new();
    for id in identities.iter() {
        hasher.update(id.as_bytes());
        hasher.update(b"\n");
    }
    hex::encode(&hasher.finalize()[..5])
}

/// An id for one sync: its start time and the app, readable and valid as a label value.
pub fn sync_id(app: &str, started_unix: u64) -> String {
    format!("{started_unix}-{app}")
}

/// Argo CD names an unnamed hook `<generateName><revision[..7]>-<phase>-<start unix time>`
/// (gitops-engine's sync context, when it makes hook tasks). There is no git revision here, so the app id stands in for it: names are
/// deterministic within one sync and different across syncs. At most 63 characters, so the
/// name also fits Jobs' pod labels. A prefix cut to fit keeps a `-` before the suffix, so the
/// name still reads as `<prefix>-<app>-<phase>-<time>`.
pub fn generated_name(generate_name: &str, app: &str, phase: Phase, started_unix: u64) -> String {
    let short: String = app.chars().take(7).collect();
    let suffix = format!("{short}-{}-{started_unix}", phase.as_str()).to_lowercase();
    let room = 63usize.saturating_sub(suffix.len());
    if generate_name.chars().count() <= room {
        return format!("{generate_name}{suffix}");
    }
    let cut: String = generate_name.chars().take(room.saturating_sub(1)).collect();
    format!("{}-{suffix}", cut.trim_end_matches(['-', '.']))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_names_follow_argo_shape() {
        assert_eq!(
            generated_name(
                "schema-migrate-",
                "foobarbaz0",
                Phase::PreSync,
                1_700_000_000
            ),
            "schema-migrate-foobarb-presync-1700000000"
        );
        let long = "x".repeat(80);
        assert_eq!(generated_name(&long, "abc", Phase::PostSync, 1).len(), 63);
    }

    #[test]
    fn a_prefix_cut_to_fit_keeps_its_separator() {
        let prefix = format!("{}-", "y".repeat(60));
        let name = generated_name(&prefix, "b70feff0a1", Phase::PostSync, 1_700_000_000);
        assert_eq!(name.len(), 63);
        assert!(name.ends_with("y-b70feff-postsync-1700000000"), "{name}");
        // A cut that lands on a `-` does not double it.
        let dashes = format!("{}-{}", "a".repeat(35), "b".repeat(30));
        let name = generated_name(&dashes, "b70feff0a1", Phase::PreSync, 1_700_000_000);
        assert!(name.ends_with("a-b70feff-presync-1700000000"), "{name}");
        assert!(!name.contains("--"), "{name}");
    }

    #[test]
    fn app_id_ignores_order() {
        let mut a = vec!["b".to_string(), "a".to_string()];
        let mut b = vec!["a".to_string(), "b".to_string()];
        assert_eq!(app_id(&mut a), app_id(&mut b));
        assert_eq!(app_id(&mut a).len(), 10);
    }
}
