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

/// `RULE LINE:COLUMN` of every finding, in order.
fn found(report: &Report) -> Vec<String> {
    report
        .findings
        .iter()
        .map(|f| format!("{} {}:{}", f.rule.id, f.pos.line, f.pos.col))
        .collect()
}

/// Every finding of the bad fixture of `rule`, in order, as `LINE:COLUMN` (of that rule) or
/// `RULE LINE:COLUMN` (of another), joined by ", ".
fn findings_of(report: &Report, rule: &str) -> String {
    let own = format!("{rule} ");
    let found = found(report);
    let said: Vec<&str> = found
        .iter()
        .map(|f| f.strip_prefix(&own).unwrap_or(f))
        .collect();
    said.join(", ")
}

/// Per rule: every finding of its bad fixture, in order, as [`findings_of`] says them.
const BAD: &[(&str, &str)] = &[
    ("yaml-syntax", "5:13, invalid-sync-wave 12:5"),
    ("invalid-object", "1:1, 7:9, 14:5"),
    ("missing-field", "1:1, 5:1, 11:1, 14:1"),
    // The object with a non-string annotation is still linted (unknown-hook-type 9:5).
    (
        "non-string-annotation",
        "6:5, 8:5, unknown-hook-type 9:5, 10:5",
    ),
    (
        "unknown-hook-type",
        "6:5, 13:5, 20:5, 27:5, 34:5, helm-hook-ignored 41:5, 48:5",
    ),
    ("invalid-sync-wave", "6:5, 13:5, 20:5, 27:5"),
    ("duplicate-object", "9:3, 20:3"),
    (
        "misspelt-annotation-key",
        "7:5, 8:5, 9:5, 10:5, 19:5, 20:5, 21:5, 22:5, 23:5",
    ),
    ("unknown-delete-policy", "7:5, 15:5, 23:5, 31:5"),
    ("skip-mixed", "6:5"),
    ("argo-and-helm-hook", "7:5"),
    ("helm-crd-install-in-list", "6:5"),
    (
        "ordering-dependency",
        "37:7, 44:17, 54:11, 62:19, 67:13, delete-hook-not-synced 74:5, 76:3, 106:17",
    ),
    ("helm-hook-ignored", "7:5, 20:5"),
    ("skipped-file", "1:1"),
    ("job-hook-not-recreated", "7:5, 17:5"),
    ("sync-fail-hook-succeeded", "7:5"),
    ("unknown-sync-option", "6:5, 6:5, 6:5"),
    ("sync-option-effect", "6:5, 6:5, 18:5, 18:5, 18:5"),
    ("generate-name-on-resource", "4:3"),
    ("delete-policy-on-resource", "6:5, 14:5"),
    ("unknown-lint-rule", "7:5"),
    ("invalid-name", "4:9, 10:9, 20:9, 25:9, 31:14"),
    ("sync-fail-dependency", "31:15"),
    ("hook-job-no-deadline", "7:1"),
    ("hook-job-ttl", "9:3"),
    ("helm-install-and-upgrade", "6:5, 13:5"),
    ("delete-hook-not-synced", "6:5, 13:5, 20:5"),
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
        assert_eq!(findings_of(&report, rule), *expected, "{rule}.bad.yaml");
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
            .filter(|f| f.split(' ').next() == Some(rule.id))
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

/// What one finding says: its message or its suggestion, checked one way.
enum Says {
    MessageHas(&'static str),
    MessageStarts(&'static str),
    SuggestionIs(&'static str),
    SuggestionHas(&'static str),
    SuggestionLacks(&'static str),
    SuggestionStarts(&'static str),
}
use Says::*;

/// Per rule: the Nth finding of that rule in its bad fixture, and what it says.
const SAID: &[(&str, usize, &[Says])] = &[
    (
        "unknown-hook-type",
        0,
        &[
            MessageHas("\"presync\""),
            MessageHas("Argo CD would never apply this object"),
            SuggestionIs("use `argocd.argoproj.io/hook: PreSync`"),
        ],
    ),
    (
        "unknown-hook-type",
        1,
        &[SuggestionIs("use `argocd.argoproj.io/hook: PreSync`")],
    ),
    (
        "unknown-hook-type",
        3,
        &[
            MessageHas("runs only as a PreSync hook"),
            SuggestionIs("use `argocd.argoproj.io/hook: PreSync,PostSync`"),
        ],
    ),
    (
        "unknown-hook-type",
        4,
        &[SuggestionIs("use `helm.sh/hook: pre-install`")],
    ),
    (
        "invalid-sync-wave",
        0,
        &[
            MessageHas("\"1.5\""),
            MessageHas("wave 0"),
            SuggestionIs("use a whole number: `argocd.argoproj.io/sync-wave: \"1\"` or `\"2\"`"),
        ],
    ),
    (
        "invalid-sync-wave",
        1,
        &[SuggestionIs("use `argocd.argoproj.io/sync-wave: \"1\"`")],
    ),
    (
        "invalid-sync-wave",
        2,
        &[SuggestionIs("use `argocd.argoproj.io/sync-wave: \"1\"`")],
    ),
    (
        "unknown-delete-policy",
        0,
        &[
            MessageHas("legacy"),
            MessageHas("BeforeHookCreation"),
            SuggestionIs("use `argocd.argoproj.io/hook-delete-policy: HookSucceeded`"),
        ],
    ),
    (
        "unknown-delete-policy",
        1,
        &[SuggestionIs(
            "use `argocd.argoproj.io/hook-delete-policy: HookSucceeded,HookFailed`",
        )],
    ),
    (
        "unknown-delete-policy",
        3,
        &[SuggestionIs(
            "use `helm.sh/hook-delete-policy: hook-succeeded`",
        )],
    ),
    (
        "ordering-dependency",
        0,
        &[
            MessageHas("ServiceAccount \"migrator\""),
            MessageHas("PreSync wave 0"),
            MessageHas("Sync wave 0"),
            SuggestionHas("PreSync hook in wave 0"),
        ],
    ),
    (
        "ordering-dependency",
        2,
        &[SuggestionStarts("lower Secret/registry's wave to 0")],
    ),
    ("ordering-dependency", 4, &[MessageHas("PostSync")]),
    (
        "ordering-dependency",
        5,
        &[MessageStarts("PostDelete hook")],
    ),
    // Secret/db is used by a plain Deployment too: not advised to become a hook.
    (
        "ordering-dependency",
        6,
        &[
            MessageHas("Secret \"db\""),
            SuggestionStarts(
                "keep Secret/db as it is: Deployment/api, a plain resource, uses it too",
            ),
            SuggestionHas("as a Sync hook in Sync wave 1 or later, or as a PostSync hook"),
            SuggestionLacks("PreSync hook in wave"),
        ],
    ),
    (
        "unknown-sync-option",
        0,
        &[
            MessageHas("CreateNamespace=true"),
            MessageHas("Application"),
        ],
    ),
    (
        "unknown-sync-option",
        1,
        &[SuggestionHas("\"Prune=false\"")],
    ),
    (
        "job-hook-not-recreated",
        0,
        &[SuggestionIs(
            "use `argocd.argoproj.io/hook-delete-policy: BeforeHookCreation,HookSucceeded`, or name the Job with metadata.generateName",
        )],
    ),
    (
        "job-hook-not-recreated",
        1,
        &[SuggestionHas("before-hook-creation,hook-failed")],
    ),
];

#[test]
fn messages_say_what_argo_does_and_how_to_fix_it() {
    for (rule, n, checks) in SAID {
        let r = lint_file(&format!("{DIR}/{rule}.bad.yaml"));
        let (message, suggestion) = &messages(&r, rule)[*n];
        let suggestion = suggestion.as_deref().unwrap_or_default();
        for says in *checks {
            let holds = match says {
                MessageHas(words) => message.contains(words),
                MessageStarts(words) => message.starts_with(words),
                SuggestionIs(words) => suggestion == *words,
                SuggestionHas(words) => suggestion.contains(words),
                SuggestionLacks(words) => !suggestion.contains(words),
                SuggestionStarts(words) => suggestion.starts_with(words),
            };
            assert!(
                holds,
                "{rule} finding {n}: {message:?}, suggestion {suggestion:?}"
            );
        }
    }

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

    let r = lint_file(&format!("{DIR}/sync-option-effect.bad.yaml"));
    let m: Vec<String> = messages(&r, "sync-option-effect")
        .into_iter()
        .map(|(message, _)| message)
        .collect();
    let about = |option: &str| {
        m.iter()
            .find(|text| text.starts_with(&format!("sync option {option}:")))
            .unwrap_or_else(|| panic!("{option} in {m:?}"))
    };
    assert!(about("Force=true").contains("deleted and created again"));
    assert!(about("Replace=true").contains("kubectl replace --force"));
    assert!(about("Validate=false").contains("dropped, with a warning naming each"));
    assert!(about("ServerSideApply=false").contains("not honoured"));
    assert!(about("Prune=false").contains("does not prune"));
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
    assert_eq!(found(&report), ["delete-hook-not-synced 74:5"]);
    assert_eq!(report.silenced, 7);
}
