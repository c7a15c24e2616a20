//! Names and marks for the objects a sync creates: a deterministic name for `generateName`
//! hooks, and the labels that let `cleanup` find hooks later.

use crate::model::Phase;

/// Label on every hook object a sync creates.
pub const LABEL_HOOK: &str = "kubectl-hooks.io/hook";
/// Label: the phase the hook ran in (`presync`, ...).
pub const LABEL_PHASE: &str = "kubectl-hooks.io/phase";
/// Label: the sync that created the object.
pub const LABEL_SYNC: &str = "kubectl-hooks.io/sync-id";
/// Label: the name of the app the hook belongs to (`--app`).
pub const LABEL_APP: &str = "kubectl-hooks.io/app";
/// Annotation: the app's namespace, where its lock lives (`cleanup` takes that lock).
pub const ANNOTATION_APP_NAMESPACE: &str = "kubectl-hooks.io/app-namespace";
/// Annotation: where the hook came from (`file:line`).
pub const ANNOTATION_SOURCE: &str = "kubectl-hooks.io/source";
/// Annotation: the hook's generateName, so `cleanup -f` can match generated names.
pub const ANNOTATION_GENERATE_NAME: &str = "kubectl-hooks.io/generate-name";

/// An id for one sync: its start time and the app, readable and valid as a label value (at
/// most 63 characters, ending with a letter or digit).
pub fn sync_id(app: &str, started_unix: u64) -> String {
    let id: String = format!("{started_unix}-{app}").chars().take(63).collect();
    id.trim_end_matches('-').to_owned()
}

/// Argo CD names an unnamed hook `<generateName><revision[..7]>-<phase>-<start unix time>`
/// (gitops-engine's sync context, when it makes hook tasks). There is no git revision here, so
/// the app name stands in for it: names are
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
    fn sync_ids_are_label_values() {
        assert_eq!(sync_id("shop", 1_700_000_000), "1700000000-shop");
        let long = format!("{}-b", "a".repeat(51));
        let id = sync_id(&long, 1_700_000_000);
        assert!(id.len() <= 63 && !id.ends_with('-'), "{id}");
    }
}
