//! The rule registry, key guessing, and rendering details; the rules themselves are tested
//! against fixtures in `tests/lint_rules.rs`.

use super::annotations::real_key;
use super::*;
use crate::manifest;

#[test]
fn rule_ids_are_unique_kebab_case_and_documented() {
    let mut ids: Vec<&str> = rules::ids().collect();
    for rule in RULES {
        assert!(
            rule.id.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
            "{}",
            rule.id
        );
        for text in [rule.summary, rule.argo, rule.example, rule.fix] {
            assert!(!text.trim().is_empty(), "{}", rule.id);
        }
        let doc = rule.explain();
        assert!(doc.starts_with(&format!("{} ({})\n", rule.id, rule.severity)));
        assert!(doc.contains("What Argo CD does:") && doc.contains("Fix:"));
    }
    let n = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), n);
    // Errors first, then warnings, then info.
    let severities: Vec<Severity> = RULES.iter().map(|r| r.severity).collect();
    let mut sorted = severities.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(severities, sorted);
}

#[test]
fn misspelt_keys_and_what_they_mean() {
    for (written, real) in [
        (
            "argocd.argoproj.io/hook-deletion-policy",
            Some(model_keys::HOOK_DELETE_POLICY),
        ),
        ("argocd.argoproj.io/sync_wave", Some(model_keys::SYNC_WAVE)),
        ("argocd.argoproj.io/syncwave", Some(model_keys::SYNC_WAVE)),
        ("argocd.argoproj.io/Sync-Wave", Some(model_keys::SYNC_WAVE)),
        ("helm.sh/hook-weights", Some(model_keys::HELM_WEIGHT)),
        (
            "helm.sh/hook-delete-policies",
            Some(model_keys::HELM_DELETE_POLICY),
        ),
        (
            "argocd.argoproj.io/sync-option",
            Some(model_keys::SYNC_OPTIONS),
        ),
        (
            "argocd.argoproj.io/hook-weight",
            Some(model_keys::SYNC_WAVE),
        ),
        ("helm.sh/sync-wave", Some(model_keys::HELM_WEIGHT)),
        ("argoproj.io/hook", Some(model_keys::HOOK)),
        ("hook-delete-policy", Some(model_keys::HOOK_DELETE_POLICY)),
        ("kubectl-hooks.io/lint-disabled", Some(DISABLE_ANNOTATION)),
        // Real keys, and keys that are simply something else.
        ("argocd.argoproj.io/hook", None),
        ("argocd.argoproj.io/compare-options", None),
        ("argocd.argoproj.io/instance", None),
        ("helm.sh/chart", None),
        ("app.kubernetes.io/name", None),
        ("example.com/hook", None),
        ("hook", None),
        ("argocd.argoproj.io/something-else-entirely", None),
    ] {
        assert_eq!(real_key(written), real, "{written}");
    }
}

use crate::model::keys as model_keys;

fn report_of(yaml: &str) -> (Report, manifest::Loaded) {
    let loaded = manifest::from_str("t.yaml", yaml);
    let report = check(
        &loaded,
        &Options {
            default_namespace: "default",
            disabled: &[],
        },
    );
    (report, loaded)
}

#[test]
fn colour_only_when_asked() {
    let (report, loaded) = report_of(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations:\n    argocd.argoproj.io/hook: presync\n",
    );
    let plain = render::text(&report, &loaded.texts, false);
    let coloured = render::text(&report, &loaded.texts, true);
    assert!(!plain.contains('\x1b'));
    assert!(coloured.contains("\x1b[1;31merror[unknown-hook-type]\x1b[0m"));
}

#[test]
fn markers_cover_quoted_keys_in_flow_mappings() {
    let (report, loaded) = report_of(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  annotations: {\"argocd.argoproj.io/sync-wave\": \"x\"}\n",
    );
    let out = render::text(&report, &loaded.texts, false);
    assert!(
        out.contains(
            "5 |   annotations: {\"argocd.argoproj.io/sync-wave\": \"x\"}\n  |                 ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n"
        ),
        "{out}"
    );
}

#[test]
fn findings_are_sorted_by_file_then_place() {
    let (report, _) = report_of(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations:\n    argocd.argoproj.io/sync-wave: \"x\"\n    argocd.argoproj.io/hook: presync\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n",
    );
    let places: Vec<(u32, &str)> = report
        .findings
        .iter()
        .map(|f| (f.pos.line, f.rule.id))
        .collect();
    assert_eq!(
        places,
        [
            (6, "invalid-sync-wave"),
            (7, "unknown-hook-type"),
            (12, "duplicate-object")
        ]
    );
}
