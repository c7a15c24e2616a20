//! Rules about one object's annotations: hook types, waves, keys, delete policies, sync options.

use super::suggest::{closest, key_similarity, quoted_list};
use super::{DISABLE_ANNOTATION, OWN_PREFIX, Object, Sink, rules};
use crate::model::{
    self, DeletePolicy, HookType, Phase, Role, SyncOption, csv, keys, options, wave,
};
use crate::text::plural;

pub fn check(o: &Object, sink: &mut Sink) {
    super::input::non_string_values(o, sink);
    argo_hook_types(o, sink);
    helm_hook_types(o, sink);
    waves(o, sink);
    misspelt_keys(o, sink);
    delete_policies(o, sink);
    skip_mixed(o, sink);
    argo_and_helm(o, sink);
    helm_crd_install_in_list(o, sink);
    sync_options(o, sink);
    delete_policy_on_resource(o, sink);
    lint_disable(o, sink);
    helm_install_and_upgrade(o, sink);
    delete_hooks(o, sink);
    sync_fail_hook_succeeded(o, sink);
}

const ARGO_TYPES: [&str; 7] = model::ARGO_HOOK_NAMES;
const HELM_TYPES: [&str; 6] = model::HELM_HOOK_NAMES;
/// Helm hook types that exist in Helm but that Argo CD does not run.
const HELM_NOT_RUN: [&str; 5] = [
    "pre-rollback",
    "post-rollback",
    "test",
    "test-success",
    "test-failure",
];
const CRD_INSTALL: &str = "crd-install";

/// A Helm hook type written in the Argo CD annotation, or the other way round.
fn argo_for_helm(value: &str) -> Option<&'static str> {
    model::helm_hook_phase(value).map(Phase::as_str)
}

fn argo_has_known_type(o: &Object) -> bool {
    o.m.annotation(keys::HOOK)
        .is_some_and(|(v, _)| csv::items(Some(v)).any(|i| i.parse::<HookType>().is_ok()))
}

fn phase_names(phases: &[Phase]) -> String {
    phases
        .iter()
        .map(|p| p.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// What Argo CD ends up doing with the object, for the tail of a message.
fn outcome(o: &Object) -> String {
    match o.spec.role {
        Role::Ignored => "Argo CD would never apply this object".to_owned(),
        Role::Hook => format!(
            "the object runs only as a {} hook",
            phase_names(&o.spec.phases)
        ),
        Role::DeleteHookOnly => {
            "the object is only a delete hook, run when the app is deleted".to_owned()
        }
        Role::Skip => "the object is skipped".to_owned(),
        Role::IgnoredHelmHook => "the object is neither applied nor run by a sync".to_owned(),
        Role::Resource => "the object is applied as a plain resource".to_owned(),
    }
}

/// Replaces each unknown item by its suggestion, dropping those without one.
fn corrected(items: &[&str], fix: impl Fn(&str) -> Option<String>, known: &[&str]) -> String {
    let mut out: Vec<String> = Vec::new();
    for item in items {
        let new = if known.contains(item) {
            Some((*item).to_owned())
        } else {
            fix(item)
        };
        if let Some(new) = new
            && !out.contains(&new)
        {
            out.push(new);
        }
    }
    out.join(",")
}

/// `unknown-hook-type` on `argocd.argoproj.io/hook`.
fn argo_hook_types(o: &Object, sink: &mut Sink) {
    let Some((value, pos)) = o.m.annotation(keys::HOOK) else {
        return;
    };
    let items: Vec<&str> = csv::items(Some(value)).collect();
    if items.is_empty() {
        sink.object(
            &rules::UNKNOWN_HOOK_TYPE,
            o,
            pos,
            format!(
                "the hook annotation is empty: the object counts as a hook with no type, so {}",
                outcome(o)
            ),
            Some(format!(
                "remove `{}` to make it a plain resource, or give a type: PreSync, Sync, PostSync, SyncFail or Skip",
                keys::HOOK
            )),
        );
        return;
    }
    let bad: Vec<&str> = items
        .iter()
        .copied()
        .filter(|i| !ARGO_TYPES.contains(i))
        .collect();
    if bad.is_empty() {
        return;
    }
    let fix = |item: &str| {
        argo_for_helm(item)
            .or_else(|| closest(item, &ARGO_TYPES))
            .map(str::to_owned)
    };
    let fallback = if !argo_has_known_type(o) && o.m.annotation(keys::HELM_HOOK).is_some() {
        "; Argo CD falls back to helm.sh/hook and "
    } else {
        ": "
    };
    let message = format!(
        "{} {} {} Argo CD knows (PreSync, Sync, PostSync, SyncFail, Skip; case matters){fallback}{}",
        plural(bad.len(), "hook type", "hook types"),
        quoted_list(&bad, "and"),
        plural(bad.len(), "is not one", "are not ones"),
        outcome(o)
    );
    let suggestion = if bad.iter().any(|b| fix(b).is_some()) {
        format!(
            "use `{}: {}`",
            keys::HOOK,
            corrected(&items, fix, &ARGO_TYPES)
        )
    } else {
        "use one of PreSync, Sync, PostSync, SyncFail or Skip (exactly so)".to_owned()
    };
    sink.object(&rules::UNKNOWN_HOOK_TYPE, o, pos, message, Some(suggestion));
}

/// `unknown-hook-type` on `helm.sh/hook`, which counts only when the Argo CD annotation has no
/// known type.
fn helm_hook_types(o: &Object, sink: &mut Sink) {
    let Some((value, pos)) = o.m.annotation(keys::HELM_HOOK) else {
        return;
    };
    if argo_has_known_type(o) {
        return;
    }
    let items: Vec<&str> = csv::items(Some(value)).collect();
    let bad: Vec<&str> = items
        .iter()
        .copied()
        .filter(|i| !HELM_TYPES.contains(i) && *i != CRD_INSTALL)
        .collect();
    if bad.is_empty() {
        return;
    }
    let (not_run, unknown): (Vec<&str>, Vec<&str>) =
        bad.iter().partition(|b| HELM_NOT_RUN.contains(b));
    let mut parts = Vec::new();
    if !unknown.is_empty() {
        parts.push(format!(
            "Helm hook {} {} {} Argo CD maps (pre-install, pre-upgrade, post-install, post-upgrade, pre-delete, post-delete)",
            plural(unknown.len(), "type", "types"),
            quoted_list(&unknown, "and"),
            plural(unknown.len(), "is not one", "are not ones"),
        ));
    }
    if !not_run.is_empty() {
        parts.push(format!(
            "Argo CD does not run Helm {} {}",
            plural(not_run.len(), "hook", "hooks"),
            quoted_list(&not_run, "and"),
        ));
    }
    if unknown.is_empty() && o.spec.role == Role::IgnoredHelmHook {
        sink.object(
            &rules::HELM_HOOK_IGNORED,
            o,
            pos,
            format!("{}: {}", parts.join("; "), outcome(o)),
            Some(
                "nothing to change if the object is meant for `helm test` or a rollback only; \
                 give it an Argo CD hook type (e.g. argocd.argoproj.io/hook: PostSync) to run it"
                    .to_owned(),
            ),
        );
        return;
    }
    let argo_type = |item: &str| item.parse::<HookType>().is_ok();
    let suggestion = if unknown.iter().any(|u| argo_type(u)) {
        format!(
            "{:?} is an Argo CD hook type: use `{}: {}`",
            unknown.iter().find(|u| argo_type(u)).copied().unwrap_or(""),
            keys::HOOK,
            unknown
                .iter()
                .copied()
                .filter(|u| argo_type(u))
                .collect::<Vec<_>>()
                .join(",")
        )
    } else if unknown.iter().any(|u| closest(u, &HELM_TYPES).is_some()) {
        format!(
            "use `{}: {}`",
            keys::HELM_HOOK,
            corrected(
                &items,
                |i| closest(i, &HELM_TYPES).map(str::to_owned),
                &HELM_TYPES
            )
        )
    } else if unknown.is_empty() {
        "nothing to change if the object is meant for Helm only; otherwise remove it from what Argo CD syncs, or give it an Argo CD hook type".to_owned()
    } else {
        "use pre-install, pre-upgrade, post-install or post-upgrade, or the Argo CD annotation"
            .to_owned()
    };
    sink.object(
        &rules::UNKNOWN_HOOK_TYPE,
        o,
        pos,
        format!("{}: {}", parts.join("; "), outcome(o)),
        Some(suggestion),
    );
}

/// `invalid-sync-wave` for both wave annotations.
fn waves(o: &Object, sink: &mut Sink) {
    let argo_ok =
        o.m.annotation(keys::SYNC_WAVE)
            .is_some_and(|(v, _)| wave::atoi(v).is_some());
    for key in [keys::SYNC_WAVE, keys::HELM_WEIGHT] {
        let Some((value, pos)) = o.m.annotation(key) else {
            continue;
        };
        if wave::atoi(value).is_some() {
            continue;
        }
        let why = wave_problem(value);
        let tail = if key == keys::HELM_WEIGHT && argo_ok {
            "Argo CD ignores it (the wave comes from argocd.argoproj.io/sync-wave)".to_owned()
        } else {
            format!(
                "Argo CD ignores it without a word and puts the object in wave {}",
                o.spec.wave
            )
        };
        sink.object(
            &rules::INVALID_SYNC_WAVE,
            o,
            pos,
            format!("{key} {value:?} is not an integer ({why}): {tail}"),
            Some(match wave_fix(value).as_slice() {
                [n] => format!("use `{key}: \"{n}\"`"),
                [a, b] => format!("use a whole number: `{key}: \"{a}\"` or `\"{b}\"`"),
                _ => format!("use a whole number in quotes, e.g. `{key}: \"1\"`"),
            }),
        );
    }
}

fn wave_problem(value: &str) -> &'static str {
    let trimmed = value.trim();
    if value.is_empty() {
        "it is empty"
    } else if trimmed != value {
        "spaces are not allowed"
    } else if trimmed.parse::<f64>().is_ok_and(f64::is_finite)
        && trimmed
            .trim_start_matches(['+', '-'])
            .bytes()
            .all(|b| b.is_ascii_digit())
    {
        "out of the 64-bit range"
    } else if trimmed.parse::<f64>().is_ok() {
        "decimals are not allowed"
    } else {
        "only an optional sign and digits are allowed"
    }
}

/// The integer the author probably meant (for a decimal, the one below and the one above).
fn wave_fix(value: &str) -> Vec<String> {
    let trimmed = value.trim();
    let no_separators: String = trimmed
        .chars()
        .filter(|c| !matches!(c, '_' | ','))
        .collect();
    if let Some(n) = wave::atoi(&no_separators) {
        return vec![n.to_string()];
    }
    if let Ok(f) = trimmed.parse::<f64>()
        && f.is_finite()
        && f.abs() < 1e15
    {
        let (floor, ceil) = (f.floor() as i64, f.ceil() as i64);
        let mut out = vec![floor.to_string()];
        if ceil != floor {
            out.push(ceil.to_string());
        }
        return out;
    }
    let (sign, word) = match trimmed.to_ascii_lowercase() {
        w if w.starts_with("minus ") => ("-", w["minus ".len()..].to_owned()),
        w if w.starts_with('-') => ("-", w[1..].to_owned()),
        w => ("", w),
    };
    const WORDS: [&str; 11] = [
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    ];
    WORDS
        .iter()
        .position(|w| *w == word)
        .map(|n| format!("{}{n}", if n == 0 { "" } else { sign }))
        .into_iter()
        .collect()
}

/// Annotation keys Argo CD reads besides those in `keys::KNOWN`; not reported as misspelt.
const OTHER_ARGO_KEYS: &[&str] = &[
    "argocd.argoproj.io/application-set-refresh",
    "argocd.argoproj.io/hydrate",
    "argocd.argoproj.io/compare-result",
    "argocd.argoproj.io/sync-options-override",
];

/// Names written under a prefix that mean another key: the Helm name under Argo CD's prefix and
/// the other way round, and common short forms.
const ALIASES: &[(&str, &str)] = &[
    ("argocd.argoproj.io/hook-weight", keys::SYNC_WAVE),
    ("argocd.argoproj.io/wave", keys::SYNC_WAVE),
    ("argocd.argoproj.io/weight", keys::SYNC_WAVE),
    ("argocd.argoproj.io/sync-weight", keys::SYNC_WAVE),
    ("argocd.argoproj.io/delete-policy", keys::HOOK_DELETE_POLICY),
    (
        "argocd.argoproj.io/deletion-policy",
        keys::HOOK_DELETE_POLICY,
    ),
    ("argocd.argoproj.io/hook-type", keys::HOOK),
    ("argocd.argoproj.io/options", keys::SYNC_OPTIONS),
    ("helm.sh/sync-wave", keys::HELM_WEIGHT),
    ("helm.sh/weight", keys::HELM_WEIGHT),
    ("helm.sh/hook-wave", keys::HELM_WEIGHT),
    ("helm.sh/delete-policy", keys::HELM_DELETE_POLICY),
    ("helm.sh/hook-deletion-policy", keys::HELM_DELETE_POLICY),
];

/// The keys this tool cares most about, for keys written without (or with a wrong) prefix.
const MAIN_KEYS: &[&str] = &[
    keys::HOOK,
    keys::HOOK_DELETE_POLICY,
    keys::SYNC_WAVE,
    keys::SYNC_OPTIONS,
    keys::HELM_WEIGHT,
];

fn is_known_key(key: &str) -> bool {
    keys::KNOWN.contains(&key) || OTHER_ARGO_KEYS.contains(&key) || key == DISABLE_ANNOTATION
}

/// The real key a misspelt one most likely means.
pub fn real_key(key: &str) -> Option<&'static str> {
    if is_known_key(key) {
        return None;
    }
    let lower = key.to_ascii_lowercase();
    if let Some((_, real)) = ALIASES.iter().find(|(alias, _)| *alias == lower) {
        return Some(real);
    }
    let own = [DISABLE_ANNOTATION];
    for (prefix, candidates) in [
        (keys::ARGO_PREFIX, keys::KNOWN),
        (keys::HELM_PREFIX, keys::KNOWN),
        (OWN_PREFIX, &own[..]),
    ] {
        if lower.starts_with(prefix) {
            let name = &key[prefix.len()..];
            return candidates
                .iter()
                .filter_map(|c| Some((*c, c.strip_prefix(prefix)?)))
                .map(|(c, cname)| (c, key_similarity(name, cname)))
                .filter(|(_, score)| *score >= 0.75)
                .max_by(|a, b| a.1.total_cmp(&b.1))
                .map(|(c, _)| c);
        }
    }
    // A wrong or missing prefix before an exact name: `argoproj.io/sync-wave`, `sync-wave`.
    let (prefix, name) = lower.rsplit_once('/').unwrap_or(("", &lower));
    MAIN_KEYS.iter().copied().find(|real| {
        let (real_prefix, real_name) = real.split_once('/').unwrap_or(("", real));
        if key_similarity(name, real_name) < 1.0 {
            return false;
        }
        if prefix.is_empty() {
            // A bare `hook` is too common a word to guess at.
            return real_name != "hook";
        }
        let family = if real_prefix.starts_with("argocd") {
            "argo"
        } else {
            "helm"
        };
        prefix.contains(family)
    })
}

/// `misspelt-annotation-key`
fn misspelt_keys(o: &Object, sink: &mut Sink) {
    for (key, _) in o.m.annotations() {
        let Some(real) = real_key(&key.name) else {
            continue;
        };
        let present = o.m.annotation(real).is_some();
        let tail = if present {
            "it has no effect".to_owned()
        } else {
            match real {
                keys::HOOK if o.spec.role == Role::Resource => {
                    "the object is not a hook: it is applied as a plain resource in the Sync phase"
                        .to_owned()
                }
                keys::HOOK_DELETE_POLICY | keys::HELM_DELETE_POLICY if o.spec.is_hook() => {
                    format!("this hook's delete policies are {}", policy_outcome(o))
                }
                keys::SYNC_WAVE | keys::HELM_WEIGHT => {
                    format!("the object is in wave {}", o.spec.wave)
                }
                keys::SYNC_OPTIONS => "none of its options apply".to_owned(),
                keys::HELM_HOOK if o.spec.role == Role::Resource => {
                    "the object is not a hook".to_owned()
                }
                DISABLE_ANNOTATION => "no rule is silenced".to_owned(),
                _ => "it has no effect".to_owned(),
            }
        };
        sink.object(
            &rules::MISSPELT_ANNOTATION_KEY,
            o,
            key.pos,
            format!(
                "annotation key {:?} is not one Argo CD reads (did you mean {real:?}?): Argo CD ignores it, so {tail}",
                key.name
            ),
            Some(format!("rename it to `{real}`")),
        );
    }
}

/// The effective delete policies, and what the default means.
fn policy_outcome(o: &Object) -> String {
    let names: Vec<&str> = o.spec.delete_policies.iter().map(|p| p.as_str()).collect();
    let explicit = o
        .m
        .annotation(keys::HOOK_DELETE_POLICY)
        .into_iter()
        .chain(o.m.annotation(keys::HELM_DELETE_POLICY))
        .any(|(v, _)| {
            csv::items(Some(v))
                .any(|i| i.parse::<DeletePolicy>().is_ok() || DeletePolicy::from_helm(i).is_some())
        });
    if explicit {
        names.join(", ")
    } else if o.m.name.is_none() {
        "the default, BeforeHookCreation, which never deletes a generateName hook: a new copy is left behind on every sync".to_owned()
    } else {
        "the default, BeforeHookCreation: the hook stays in the cluster after the sync, until the next one".to_owned()
    }
}

const ARGO_POLICIES: [&str; 3] = DeletePolicy::NAMES;
const HELM_POLICIES: [&str; 3] = DeletePolicy::HELM_NAMES;

/// `unknown-delete-policy`, for hooks (on other objects the annotation does nothing at all).
fn delete_policies(o: &Object, sink: &mut Sink) {
    if !o.spec.is_hook() && o.spec.role != Role::Ignored {
        return;
    }
    for (key, known, other) in [
        (keys::HOOK_DELETE_POLICY, ARGO_POLICIES, HELM_POLICIES),
        (keys::HELM_DELETE_POLICY, HELM_POLICIES, ARGO_POLICIES),
    ] {
        let Some((value, pos)) = o.m.annotation(key) else {
            continue;
        };
        let items: Vec<&str> = csv::items(Some(value)).collect();
        let bad: Vec<&str> = items
            .iter()
            .copied()
            .filter(|i| !known.contains(i))
            .collect();
        if bad.is_empty() {
            continue;
        }
        let fix = |item: &str| -> Option<String> {
            let legacy = match item {
                "OnSuccess" => Some(known[0]),
                "OnFailure" => Some(known[1]),
                _ => None,
            };
            legacy
                .or_else(|| other.iter().position(|p| *p == item).map(|i| known[i]))
                .or_else(|| closest(item, &known))
                .map(str::to_owned)
        };
        let legacy: Vec<&str> = bad
            .iter()
            .copied()
            .filter(|b| matches!(*b, "OnSuccess" | "OnFailure"))
            .collect();
        let legacy_note = if legacy.is_empty() {
            String::new()
        } else {
            format!(
                "; {} {} from the old hook documentation, which current Argo CD does not know (today: HookSucceeded, HookFailed)",
                quoted_list(&legacy, "and"),
                plural(legacy.len(), "is a legacy value", "are legacy values"),
            )
        };
        let suggestion = if bad.iter().any(|b| fix(b).is_some()) {
            format!("use `{key}: {}`", corrected(&items, fix, &known))
        } else {
            format!("use {}", known.join(", "))
        };
        sink.object(
            &rules::UNKNOWN_DELETE_POLICY,
            o,
            pos,
            format!(
                "delete {} {} {} not known to Argo CD ({}){legacy_note}: Argo CD drops {}, so this hook's delete policies are {}",
                plural(bad.len(), "policy", "policies"),
                quoted_list(&bad, "and"),
                plural(bad.len(), "is", "are"),
                known.join(", "),
                plural(bad.len(), "it", "them"),
                policy_outcome(o)
            ),
            Some(suggestion),
        );
    }
}

/// `skip-mixed`
fn skip_mixed(o: &Object, sink: &mut Sink) {
    let Some((value, pos)) = o.m.annotation(keys::HOOK) else {
        return;
    };
    let types: Vec<HookType> = csv::items(Some(value))
        .filter_map(|i| i.parse().ok())
        .collect();
    if !types.contains(&HookType::Skip) || types.iter().all(|t| *t == HookType::Skip) {
        return;
    }
    sink.object(
        &rules::SKIP_MIXED,
        o,
        pos,
        format!(
            "Skip is mixed with other hook types: Argo CD ignores Skip, and the object runs as a {} hook",
            phase_names(&o.spec.phases)
        ),
        Some(format!(
            "use `{}: Skip` alone to leave the object out of syncs, or remove Skip",
            keys::HOOK
        )),
    );
}

/// `argo-and-helm-hook`: reported only when the two disagree.
fn argo_and_helm(o: &Object, sink: &mut Sink) {
    let (Some((argo, _)), Some((helm, pos))) =
        (o.m.annotation(keys::HOOK), o.m.annotation(keys::HELM_HOOK))
    else {
        return;
    };
    let mut argo_types: Vec<HookType> = csv::items(Some(argo))
        .filter_map(|i| i.parse().ok())
        .collect();
    if argo_types.is_empty() {
        return;
    }
    let mut helm_types: Vec<HookType> = csv::items(Some(helm))
        .filter_map(HookType::from_helm)
        .collect();
    argo_types.sort();
    argo_types.dedup();
    helm_types.sort();
    helm_types.dedup();
    if argo_types == helm_types {
        return;
    }
    sink.object(
        &rules::ARGO_AND_HELM_HOOK,
        o,
        pos,
        format!(
            "Argo CD uses argocd.argoproj.io/hook ({argo:?}) and ignores helm.sh/hook ({helm:?}) on this object"
        ),
        Some(
            "remove helm.sh/hook, or make it agree (PreSync: pre-install/pre-upgrade; PostSync: post-install/post-upgrade)"
                .to_owned(),
        ),
    );
}

/// `helm-crd-install-in-list`
fn helm_crd_install_in_list(o: &Object, sink: &mut Sink) {
    let Some((value, pos)) = o.m.annotation(keys::HELM_HOOK) else {
        return;
    };
    if value == CRD_INSTALL || !csv::items(Some(value)).any(|i| i == CRD_INSTALL) {
        return;
    }
    let what = if csv::items(Some(value)).count() == 1 {
        "crd-install makes the object a plain resource only when it is exactly the whole value (no spaces)"
    } else {
        "crd-install in a list does not make the object a plain resource"
    };
    let tail = if argo_has_known_type(o) {
        "the object's type comes from argocd.argoproj.io/hook".to_owned()
    } else {
        outcome(o)
    };
    sink.object(
        &rules::HELM_CRD_INSTALL_IN_LIST,
        o,
        pos,
        format!("{what}: the object is a hook, crd-install is dropped, and {tail}"),
        Some(format!(
            "use `{}: crd-install` alone, or remove it (Argo CD applies a CRD before the custom resources of its kind anyway)",
            keys::HELM_HOOK
        )),
    );
}

/// Sync option values that only restate the default: harmless, not reported.
const DEFAULT_OPTIONS: &[&str] = &[
    "Prune=true",
    "Delete=true",
    "Validate=true",
    "SkipDryRunOnMissingResource=false",
    "PruneLast=false",
    "Replace=false",
    "Force=false",
];

/// Option names Argo CD reads only from an Application.
fn app_level_name(item: &str) -> bool {
    let name = item.split('=').next().unwrap_or(item);
    options::APP_LEVEL_ONLY
        .iter()
        .any(|o| o.split('=').next() == Some(name))
}

/// `unknown-sync-option`
fn sync_options(o: &Object, sink: &mut Sink) {
    let Some((value, pos)) = o.m.annotation(keys::SYNC_OPTIONS) else {
        return;
    };
    for item in csv::items(Some(value)) {
        if SyncOption::parse(item).is_some() || DEFAULT_OPTIONS.contains(&item) {
            continue;
        }
        let (message, suggestion) = if app_level_name(item) {
            (
                format!(
                    "sync option {item:?} is read only from an Application (spec.syncPolicy.syncOptions): Argo CD ignores it on a resource"
                ),
                if item.starts_with("CreateNamespace") {
                    "set it on the Application; with this tool, use `kubectl hooks sync --create-namespace`".to_owned()
                } else {
                    "set it on the Application's spec.syncPolicy.syncOptions, and remove it here"
                        .to_owned()
                },
            )
        } else {
            let names: Vec<&str> = SyncOption::ALL
                .iter()
                .map(|(n, _)| *n)
                .chain(DEFAULT_OPTIONS.iter().copied())
                .collect();
            (
                format!(
                    "sync option {item:?} is not one Argo CD knows: it is ignored without a word"
                ),
                match closest(item, &names) {
                    Some(real) => {
                        format!("did you mean {real:?}? Options match exactly, case included")
                    }
                    None => format!(
                        "use one of {}",
                        SyncOption::ALL
                            .iter()
                            .map(|(n, _)| *n)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                },
            )
        };
        sink.object(
            &rules::UNKNOWN_SYNC_OPTION,
            o,
            pos,
            message,
            Some(suggestion),
        );
    }
}

/// `delete-policy-on-resource`
fn delete_policy_on_resource(o: &Object, sink: &mut Sink) {
    if !matches!(o.spec.role, Role::Resource | Role::Skip) {
        return;
    }
    for key in [keys::HOOK_DELETE_POLICY, keys::HELM_DELETE_POLICY] {
        let Some((_, pos)) = o.m.annotation(key) else {
            continue;
        };
        sink.object(
            &rules::DELETE_POLICY_ON_RESOURCE,
            o,
            pos,
            format!(
                "{key} on an object that is not a hook: delete policies apply only to hooks, so Argo CD ignores it"
            ),
            Some(format!(
                "remove it, or make the object a hook (`{}: PreSync`, ...)",
                keys::HOOK
            )),
        );
    }
}

/// `unknown-lint-rule`
fn lint_disable(o: &Object, sink: &mut Sink) {
    let Some((value, pos)) = o.m.annotation(DISABLE_ANNOTATION) else {
        return;
    };
    let ids: Vec<&str> = rules::ids().collect();
    for item in csv::items(Some(value)) {
        if rules::find(item).is_some() {
            continue;
        }
        sink.object(
            &rules::UNKNOWN_LINT_RULE,
            o,
            pos,
            format!(
                "{DISABLE_ANNOTATION} names {item:?}, which is not a lint rule: it silences nothing"
            ),
            Some(match closest(item, &ids) {
                Some(id) => format!("did you mean {id:?}?"),
                None => "see `kubectl hooks lint --explain ID` for the rule ids".to_owned(),
            }),
        );
    }
}

/// `helm-install-and-upgrade`
fn helm_install_and_upgrade(o: &Object, sink: &mut Sink) {
    let Some((value, pos)) = o.m.annotation(keys::HELM_HOOK) else {
        return;
    };
    if argo_has_known_type(o) {
        return;
    }
    let items: Vec<&str> = csv::items(Some(value)).collect();
    for (install, upgrade, phase) in [
        ("pre-install", "pre-upgrade", "PreSync"),
        ("post-install", "post-upgrade", "PostSync"),
    ] {
        if items.contains(&install) && items.contains(&upgrade) {
            sink.object(
                &rules::HELM_INSTALL_AND_UPGRADE,
                o,
                pos,
                format!(
                    "Argo CD maps both {install} and {upgrade} to {phase}, with no install/upgrade distinction: this hook runs in every sync, not only on an install or an upgrade"
                ),
                Some(
                    "nothing to change if that is meant; otherwise make the hook safe to run every time"
                        .to_owned(),
                ),
            );
        }
    }
}

/// `delete-hook-not-synced`
fn delete_hooks(o: &Object, sink: &mut Sink) {
    if o.spec.delete_hooks.is_empty() {
        return;
    }
    let pos = [keys::HOOK, keys::HELM_HOOK]
        .iter()
        .filter_map(|k| o.m.annotation(k))
        .map(|(_, p)| p)
        .next()
        .unwrap_or_else(|| o.first_line());
    let names: Vec<&str> = o.spec.delete_hooks.iter().map(|d| d.as_str()).collect();
    let what = format!("a {} hook", names.join(" and "));
    let message = if o.spec.role == Role::Hook {
        format!(
            "{what} runs only when the app is deleted; the object is also a {} hook: Argo CD v3.3 leaves such objects out of syncs entirely, newer versions sync the {} part",
            phase_names(&o.spec.phases),
            phase_names(&o.spec.phases),
        )
    } else {
        format!(
            "{what} runs only when the app is deleted: `kubectl hooks sync` does not apply it, `kubectl hooks delete` runs it"
        )
    };
    sink.object(
        &rules::DELETE_HOOK_NOT_SYNCED,
        o,
        pos,
        message,
        Some(
            "nothing to change if it is meant for deletion; run it with `kubectl hooks delete`"
                .to_owned(),
        ),
    );
}

/// `sync-fail-hook-succeeded`
fn sync_fail_hook_succeeded(o: &Object, sink: &mut Sink) {
    if o.spec.role != Role::Hook
        || o.spec.phases != [Phase::SyncFail]
        || !o
            .spec
            .delete_policies
            .contains(&DeletePolicy::HookSucceeded)
    {
        return;
    }
    let pos = [
        (keys::HOOK_DELETE_POLICY, "HookSucceeded"),
        (keys::HELM_DELETE_POLICY, "hook-succeeded"),
    ]
    .iter()
    .filter_map(|(k, v)| {
        o.m.annotation(k)
            .filter(|(value, _)| csv::items(Some(value)).any(|i| i == *v))
    })
    .map(|(_, p)| p)
    .next()
    .unwrap_or_else(|| o.first_line());
    sink.object(
        &rules::SYNC_FAIL_HOOK_SUCCEEDED,
        o,
        pos,
        "a SyncFail hook with HookSucceeded: Argo CD deletes HookSucceeded hooks only when the sync succeeds, and a SyncFail hook runs only when it failed, so this policy never deletes it".to_owned(),
        Some(format!(
            "use `{}: BeforeHookCreation` (the default), so the next failure replaces it",
            keys::HOOK_DELETE_POLICY
        )),
    );
}

#[cfg(test)]
mod tests {
    use super::{wave_fix, wave_problem};

    #[test]
    fn wave_fixes() {
        assert_eq!(wave_fix(" 1"), ["1"]);
        assert_eq!(wave_fix("1.5"), ["1", "2"]);
        assert_eq!(wave_fix("-1.5"), ["-2", "-1"]);
        assert_eq!(wave_fix("2.0"), ["2"]);
        assert_eq!(wave_fix("one"), ["1"]);
        assert_eq!(wave_fix("minus two"), ["-2"]);
        assert_eq!(wave_fix("1_000"), ["1000"]);
        assert!(wave_fix("first").is_empty());
        assert_eq!(wave_problem(""), "it is empty");
        assert_eq!(
            wave_problem("99999999999999999999"),
            "out of the 64-bit range"
        );
        assert_eq!(wave_problem("1e3"), "decimals are not allowed");
    }
}
