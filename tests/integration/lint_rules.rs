//! Every lint rule against its fixtures: `tests/fixtures/lint/<rule>.bad.yaml` gives exactly the
//! findings listed (rule, line, column), and `<rule>.good.yaml` gives none of that rule.

use kubectl_hooks::lint::{self, RULES, Report};
use kubectl_hooks::manifest::{self, InputSpec};

const DIR: &str = "tests/fixtures/lint";

fn lint_file(path: &str) -> Report {
    let loaded = manifest::load(
        &InputSpec {
            filenames: vec![path.to_owned()],
            recursive: false,
        },
        &mut std::io::empty(),
    );
    lint::check(
        &loaded,
        &lint::Options {
            default_namespace: "default",
            disabled: &[],
        },
    )
}

fn found(report: &Report) -> Vec<(&'static str, u32, u32)> {
    report
        .findings
        .iter()
        .map(|f| (f.rule.id, f.pos.line, f.pos.col))
        .collect()
}

type Expected = &'static [(&'static str, u32, u32)];

/// Per rule: every finding of its bad fixture, in order.
const BAD: &[(&str, Expected)] = &[
    (
        "yaml-syntax",
        &[("yaml-syntax", 5, 13), ("invalid-sync-wave", 12, 5)],
    ),
    (
        "invalid-object",
        &[
            ("invalid-object", 1, 1),
            ("invalid-object", 7, 9),
            ("invalid-object", 14, 5),
        ],
    ),
    (
        "missing-field",
        &[
            ("missing-field", 1, 1),
            ("missing-field", 5, 1),
            ("missing-field", 11, 1),
            ("missing-field", 14, 1),
        ],
    ),
    (
        "non-string-annotation",
        &[
            ("non-string-annotation", 6, 5),
            ("non-string-annotation", 8, 5),
            // The object is still linted.
            ("unknown-hook-type", 9, 5),
            ("non-string-annotation", 10, 5),
        ],
    ),
    (
        "unknown-hook-type",
        &[
            ("unknown-hook-type", 6, 5),
            ("unknown-hook-type", 13, 5),
            ("unknown-hook-type", 20, 5),
            ("unknown-hook-type", 27, 5),
            ("unknown-hook-type", 34, 5),
            ("helm-hook-ignored", 41, 5),
            ("unknown-hook-type", 48, 5),
        ],
    ),
    (
        "invalid-sync-wave",
        &[
            ("invalid-sync-wave", 6, 5),
            ("invalid-sync-wave", 13, 5),
            ("invalid-sync-wave", 20, 5),
            ("invalid-sync-wave", 27, 5),
        ],
    ),
    (
        "duplicate-object",
        &[("duplicate-object", 9, 3), ("duplicate-object", 20, 3)],
    ),
    (
        "misspelt-annotation-key",
        &[
            ("misspelt-annotation-key", 7, 5),
            ("misspelt-annotation-key", 8, 5),
            ("misspelt-annotation-key", 9, 5),
            ("misspelt-annotation-key", 10, 5),
            ("misspelt-annotation-key", 19, 5),
            ("misspelt-annotation-key", 20, 5),
            ("misspelt-annotation-key", 21, 5),
            ("misspelt-annotation-key", 22, 5),
            ("misspelt-annotation-key", 23, 5),
        ],
    ),
    (
        "unknown-delete-policy",
        &[
            ("unknown-delete-policy", 7, 5),
            ("unknown-delete-policy", 15, 5),
            ("unknown-delete-policy", 23, 5),
            ("unknown-delete-policy", 31, 5),
        ],
    ),
    ("skip-mixed", &[("skip-mixed", 6, 5)]),
    ("argo-and-helm-hook", &[("argo-and-helm-hook", 7, 5)]),
    (
        "helm-crd-install-in-list",
        &[("helm-crd-install-in-list", 6, 5)],
    ),
    (
        "ordering-dependency",
        &[
            ("ordering-dependency", 37, 7),
            ("ordering-dependency", 44, 17),
            ("ordering-dependency", 54, 11),
            ("ordering-dependency", 62, 19),
            ("ordering-dependency", 67, 13),
            ("delete-hook-not-synced", 74, 5),
            ("ordering-dependency", 76, 3),
            ("ordering-dependency", 106, 17),
        ],
    ),
    (
        "helm-hook-ignored",
        &[("helm-hook-ignored", 7, 5), ("helm-hook-ignored", 20, 5)],
    ),
    ("skipped-file", &[("skipped-file", 1, 1)]),
    (
        "job-hook-not-recreated",
        &[
            ("job-hook-not-recreated", 7, 5),
            ("job-hook-not-recreated", 17, 5),
        ],
    ),
    (
        "sync-fail-hook-succeeded",
        &[("sync-fail-hook-succeeded", 7, 5)],
    ),
    (
        "unknown-sync-option",
        &[
            ("unknown-sync-option", 6, 5),
            ("unknown-sync-option", 6, 5),
            ("unknown-sync-option", 6, 5),
        ],
    ),
    (
        "generate-name-on-resource",
        &[("generate-name-on-resource", 4, 3)],
    ),
    (
        "delete-policy-on-resource",
        &[
            ("delete-policy-on-resource", 6, 5),
            ("delete-policy-on-resource", 14, 5),
        ],
    ),
    ("unknown-lint-rule", &[("unknown-lint-rule", 7, 5)]),
    (
        "invalid-name",
        &[
            ("invalid-name", 4, 9),
            ("invalid-name", 10, 9),
            ("invalid-name", 20, 9),
            ("invalid-name", 25, 9),
            ("invalid-name", 31, 14),
        ],
    ),
    ("sync-fail-dependency", &[("sync-fail-dependency", 31, 15)]),
    ("hook-job-no-deadline", &[("hook-job-no-deadline", 7, 1)]),
    ("hook-job-ttl", &[("hook-job-ttl", 9, 3)]),
    (
        "helm-install-and-upgrade",
        &[
            ("helm-install-and-upgrade", 6, 5),
            ("helm-install-and-upgrade", 13, 5),
        ],
    ),
    (
        "delete-hook-not-synced",
        &[
            ("delete-hook-not-synced", 6, 5),
            ("delete-hook-not-synced", 13, 5),
            ("delete-hook-not-synced", 20, 5),
        ],
    ),
];

#[test]
fn every_rule_has_cases() {
    for rule in RULES {
        assert!(
            BAD.iter().any(|(id, _)| *id == rule.id),
            "no bad case for {}",
            rule.id
        );
        for kind in ["bad", "good"] {
            let path = format!("{DIR}/{}.{kind}.yaml", rule.id);
            assert!(std::path::Path::new(&path).exists(), "missing {path}");
        }
    }
    assert_eq!(BAD.len(), RULES.len());
}

#[test]
fn bad_fixtures_give_exactly_these_findings() {
    for (rule, expected) in BAD {
        let report = lint_file(&format!("{DIR}/{rule}.bad.yaml"));
        assert_eq!(found(&report), *expected, "{rule}.bad.yaml");
        for f in &report.findings {
            assert!(!f.message.is_empty() && f.suggestion.is_some(), "{f:?}");
            assert_eq!(&*f.file, format!("{DIR}/{rule}.bad.yaml"));
        }
    }
}

#[test]
fn good_fixtures_give_none_of_their_rule() {
    for rule in RULES {
        let report = lint_file(&format!("{DIR}/{}.good.yaml", rule.id));
        let hits: Vec<_> = found(&report)
            .into_iter()
            .filter(|(id, _, _)| *id == rule.id)
            .collect();
        assert!(hits.is_empty(), "{}.good.yaml: {hits:?}", rule.id);
    }
}

#[test]
fn a_clean_set_has_no_findings() {
    let report = lint_file(&format!("{DIR}/clean.yaml"));
    assert!(report.findings.is_empty(), "{:?}", found(&report));
    assert_eq!(report.objects, 4);
}

fn messages(report: &Report, rule: &str) -> Vec<(String, Option<String>)> {
    report
        .findings
        .iter()
        .filter(|f| f.rule.id == rule)
        .map(|f| (f.message.clone(), f.suggestion.clone()))
        .collect()
}

#[test]
fn messages_say_what_argo_does_and_how_to_fix_it() {
    let r = lint_file(&format!("{DIR}/unknown-hook-type.bad.yaml"));
    let m = messages(&r, "unknown-hook-type");
    assert!(m[0].0.contains("\"presync\""));
    assert!(m[0].0.contains("Argo CD would never apply this object"));
    assert_eq!(
        m[0].1.as_deref(),
        Some("use `argocd.argoproj.io/hook: PreSync`")
    );
    assert_eq!(
        m[1].1.as_deref(),
        Some("use `argocd.argoproj.io/hook: PreSync`")
    );
    assert!(m[3].0.contains("runs only as a PreSync hook"), "{}", m[3].0);
    assert_eq!(
        m[3].1.as_deref(),
        Some("use `argocd.argoproj.io/hook: PreSync,PostSync`")
    );
    assert_eq!(m[4].1.as_deref(), Some("use `helm.sh/hook: pre-install`"));

    let r = lint_file(&format!("{DIR}/invalid-sync-wave.bad.yaml"));
    let m = messages(&r, "invalid-sync-wave");
    assert!(m[0].0.contains("\"1.5\"") && m[0].0.contains("wave 0"));
    assert_eq!(
        m[0].1.as_deref(),
        Some("use a whole number: `argocd.argoproj.io/sync-wave: \"1\"` or `\"2\"`")
    );
    assert_eq!(
        m[1].1.as_deref(),
        Some("use `argocd.argoproj.io/sync-wave: \"1\"`")
    );
    assert_eq!(
        m[2].1.as_deref(),
        Some("use `argocd.argoproj.io/sync-wave: \"1\"`")
    );

    let r = lint_file(&format!("{DIR}/misspelt-annotation-key.bad.yaml"));
    let m = messages(&r, "misspelt-annotation-key");
    let suggestions: Vec<&str> = m.iter().filter_map(|(_, s)| s.as_deref()).collect();
    assert_eq!(
        suggestions,
        [
            "rename it to `argocd.argoproj.io/hook-delete-policy`",
            "rename it to `argocd.argoproj.io/sync-wave`",
            "rename it to `helm.sh/hook-weight`",
            "rename it to `kubectl-hooks.io/lint-disable`",
            "rename it to `argocd.argoproj.io/sync-wave`",
            "rename it to `argocd.argoproj.io/hook`",
            "rename it to `argocd.argoproj.io/sync-wave`",
            "rename it to `argocd.argoproj.io/sync-options`",
            "rename it to `argocd.argoproj.io/sync-wave`",
        ]
    );

    let r = lint_file(&format!("{DIR}/unknown-delete-policy.bad.yaml"));
    let m = messages(&r, "unknown-delete-policy");
    assert!(m[0].0.contains("legacy") && m[0].0.contains("BeforeHookCreation"));
    assert_eq!(
        m[0].1.as_deref(),
        Some("use `argocd.argoproj.io/hook-delete-policy: HookSucceeded`")
    );
    assert_eq!(
        m[1].1.as_deref(),
        Some("use `argocd.argoproj.io/hook-delete-policy: HookSucceeded,HookFailed`")
    );
    assert_eq!(
        m[3].1.as_deref(),
        Some("use `helm.sh/hook-delete-policy: hook-succeeded`")
    );

    let r = lint_file(&format!("{DIR}/ordering-dependency.bad.yaml"));
    let m = messages(&r, "ordering-dependency");
    assert!(m[0].0.contains("ServiceAccount \"migrator\""), "{}", m[0].0);
    assert!(m[0].0.contains("PreSync wave 0") && m[0].0.contains("Sync wave 0"));
    assert!(
        m[0].1
            .as_deref()
            .unwrap()
            .contains("PreSync hook in wave 0")
    );
    assert!(
        m[2].1
            .as_deref()
            .unwrap()
            .starts_with("lower Secret/registry's wave to 0")
    );
    assert!(m[4].0.contains("PostSync"), "{}", m[4].0);
    assert!(m[5].0.starts_with("PostDelete hook"), "{}", m[5].0);
    // Secret/db is used by a plain Deployment too: not advised to become a hook.
    let shared = m[6].1.as_deref().unwrap();
    assert!(m[6].0.contains("Secret \"db\""), "{}", m[6].0);
    assert!(
        shared
            .starts_with("keep Secret/db as it is: Deployment/api, a plain resource, uses it too")
            && shared.contains("as a Sync hook in Sync wave 1 or later, or as a PostSync hook")
            && !shared.contains("PreSync hook in wave"),
        "{shared}"
    );

    let r = lint_file(&format!("{DIR}/unknown-sync-option.bad.yaml"));
    let m = messages(&r, "unknown-sync-option");
    assert!(m[0].0.contains("CreateNamespace=true") && m[0].0.contains("Application"));
    assert!(m[1].1.as_deref().unwrap().contains("\"Prune=false\""));

    let r = lint_file(&format!("{DIR}/job-hook-not-recreated.bad.yaml"));
    let m = messages(&r, "job-hook-not-recreated");
    assert_eq!(
        m[0].1.as_deref(),
        Some(
            "use `argocd.argoproj.io/hook-delete-policy: BeforeHookCreation,HookSucceeded`, or name the Job with metadata.generateName"
        )
    );
    assert!(
        m[1].1
            .as_deref()
            .unwrap()
            .contains("before-hook-creation,hook-failed")
    );
}

#[test]
fn objects_are_labelled_with_their_namespace_when_they_name_one() {
    let r = lint_file(&format!("{DIR}/duplicate-object.bad.yaml"));
    let objects: Vec<_> = r.findings.iter().map(|f| f.object.clone()).collect();
    assert_eq!(
        objects,
        [
            Some("default/ConfigMap/settings".to_owned()),
            Some("Namespace/shop".to_owned())
        ]
    );
    let r = lint_file(&format!("{DIR}/yaml-syntax.bad.yaml"));
    assert_eq!(r.findings[0].object, None);
}

#[test]
fn the_lint_disable_annotation_silences_rules_per_object() {
    let r = lint_file(&format!("{DIR}/unknown-lint-rule.good.yaml"));
    assert!(r.findings.is_empty(), "{:?}", found(&r));
    assert_eq!(r.silenced, 2);
}

#[test]
fn disable_silences_rules_per_run() {
    let loaded = manifest::load(
        &InputSpec {
            filenames: vec![format!("{DIR}/ordering-dependency.bad.yaml")],
            recursive: false,
        },
        &mut std::io::empty(),
    );
    let report = lint::check(
        &loaded,
        &lint::Options {
            default_namespace: "default",
            disabled: &["ordering-dependency".to_owned()],
        },
    );
    assert_eq!(found(&report), [("delete-hook-not-synced", 74, 5)]);
    assert_eq!(report.silenced, 7);
}
