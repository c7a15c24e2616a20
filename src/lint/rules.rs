//! The rules: stable ids, default severities, and the documentation `--explain` prints and
//! SARIF carries. What each says about Argo CD follows its "Resource Hooks", "Sync Phases and
//! Waves" and "Sync Options" documentation and gitops-engine's `pkg/sync`.

use super::Severity::{self, *};

#[derive(Debug, PartialEq, Eq)]
pub struct Rule {
    /// Stable, kebab-case; used by `--disable`, `--explain` and the lint-disable annotation.
    pub id: &'static str,
    pub severity: Severity,
    /// One line: what is wrong.
    pub summary: &'static str,
    /// What Argo CD (or the API server) does with it.
    pub argo: &'static str,
    /// A manifest fragment showing the mistake.
    pub example: &'static str,
    /// How to fix it.
    pub fix: &'static str,
}

impl Rule {
    /// The documentation `--explain` prints.
    pub fn explain(&self) -> String {
        let mut out = format!(
            "{} ({})\n\n{}\n\nWhat Argo CD does:\n{}\n\nExample:\n",
            self.id,
            self.severity,
            self.summary,
            indent(self.argo)
        );
        for line in self.example.lines() {
            out.push_str("    ");
            out.push_str(line);
            out.push('\n');
        }
        out.push_str(&format!(
            "\nFix:\n{}\n\nSilence it for one object with the annotation\n    {}: \"{}\"\nor for a run with --disable {}.\n",
            indent(self.fix),
            super::DISABLE_ANNOTATION,
            self.id,
            self.id
        ));
        out
    }
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn find(id: &str) -> Option<&'static Rule> {
    RULES.iter().copied().find(|r| r.id == id)
}

pub fn ids() -> impl Iterator<Item = &'static str> {
    RULES.iter().map(|r| r.id)
}

/// Every rule, errors first.
pub static RULES: &[&Rule] = &[
    &YAML_SYNTAX,
    &INVALID_OBJECT,
    &MISSING_FIELD,
    &INVALID_NAME,
    &NON_STRING_ANNOTATION,
    &UNKNOWN_HOOK_TYPE,
    &INVALID_SYNC_WAVE,
    &DUPLICATE_OBJECT,
    &MISSPELT_ANNOTATION_KEY,
    &UNKNOWN_DELETE_POLICY,
    &SKIP_MIXED,
    &ARGO_AND_HELM_HOOK,
    &HELM_CRD_INSTALL_IN_LIST,
    &ORDERING_DEPENDENCY,
    &JOB_HOOK_NOT_RECREATED,
    &SYNC_FAIL_HOOK_SUCCEEDED,
    &UNKNOWN_SYNC_OPTION,
    &GENERATE_NAME_ON_RESOURCE,
    &DELETE_POLICY_ON_RESOURCE,
    &UNKNOWN_LINT_RULE,
    &SYNC_FAIL_DEPENDENCY,
    &HOOK_JOB_NO_DEADLINE,
    &HOOK_JOB_TTL,
    &HELM_INSTALL_AND_UPGRADE,
    &DELETE_HOOK_NOT_SYNCED,
    &HELM_HOOK_IGNORED,
    &SKIPPED_FILE,
];

pub static YAML_SYNTAX: Rule = Rule {
    id: "yaml-syntax",
    severity: Error,
    summary: "A document is not valid YAML or JSON.",
    argo: "Argo CD cannot render the application: it shows a comparison error and no sync starts.\n\
           Lint reports the broken document and still checks the other documents of the file.",
    example: "metadata:\n  name: web\n   namespace: shop   # indented one space too far",
    fix: "Fix the syntax at the reported place.",
};

pub static INVALID_OBJECT: Rule = Rule {
    id: "invalid-object",
    severity: Error,
    summary: "A document is not a Kubernetes object (not a mapping), or a field of its metadata has the wrong type.",
    argo: "Argo CD cannot turn the document into an object (a comparison error), or the API server\n\
           rejects it when it is applied; either way the sync fails.",
    example: "- apiVersion: v1      # a list, not an object\n  kind: ConfigMap\n---\nmetadata:\n  name: 42             # a number, not a string",
    fix: "Make each document one mapping with apiVersion, kind and metadata, and give each field its\n\
          type (names, namespaces, annotations and labels are strings).",
};

pub static MISSING_FIELD: Rule = Rule {
    id: "missing-field",
    severity: Error,
    summary: "An object has no apiVersion, no kind, or neither metadata.name nor metadata.generateName.",
    argo: "Argo CD cannot identify the object, and the API server rejects it\n\
           (\"resource name may not be empty\", \"Object 'Kind' is missing\"): the sync fails.",
    example: "apiVersion: batch/v1\nkind: Job\nmetadata:\n  namespace: shop        # no name",
    fix: "Add the missing field. Hooks may use metadata.generateName instead of a name.",
};

pub static INVALID_NAME: Rule = Rule {
    id: "invalid-name",
    severity: Error,
    summary: "A name, generateName or namespace is not one the API server accepts for its kind.",
    argo: "The API server validates names per kind: most are RFC 1123 subdomains (lower case,\n\
           digits, '-' and '.', at most 253 characters); Namespaces are RFC 1123 labels and Services\n\
           RFC 1035 labels (63 characters, no '.'); a Job's name is also its pods' job-name label,\n\
           so at most 63 characters. It rejects any other name (422 Invalid), so the sync fails at\n\
           that object, after the objects of earlier waves were applied.",
    example: "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: Migrate_Schema      # upper case and '_'",
    fix: "Rename the object: lower case letters, digits and '-' (and '.' where the kind allows it),\n\
          starting and ending with a letter or digit.",
};

pub static NON_STRING_ANNOTATION: Rule = Rule {
    id: "non-string-annotation",
    severity: Error,
    summary: "An annotation or label value is not a string (an unquoted number or boolean).",
    argo: "Annotation and label values must be strings: the API server rejects the object (and Argo CD\n\
           cannot even read its annotations), so the sync fails. YAML reads `3` and `true` as a number\n\
           and a boolean.",
    example: "metadata:\n  annotations:\n    argocd.argoproj.io/sync-wave: 3",
    fix: "Quote the value: argocd.argoproj.io/sync-wave: \"3\"",
};

pub static UNKNOWN_HOOK_TYPE: Rule = Rule {
    id: "unknown-hook-type",
    severity: Error,
    summary: "A hook annotation value that is not exactly a hook type Argo CD knows.",
    argo: "Argo CD knows PreSync, Sync, PostSync, SyncFail and Skip (and, at app deletion, PreDelete and\n\
           PostDelete), compared case-sensitively; for helm.sh/hook it maps pre-install, pre-upgrade,\n\
           post-install and post-upgrade. Unknown items are dropped without a word. An object whose hook\n\
           annotation is present but has no known type left is a hook with no phase: Argo CD never\n\
           applies it, never prunes it, and says nothing.",
    example: "metadata:\n  annotations:\n    argocd.argoproj.io/hook: pre-sync     # or presync, PreSynC",
    fix: "Use the exact name: argocd.argoproj.io/hook: PreSync",
};

pub static INVALID_SYNC_WAVE: Rule = Rule {
    id: "invalid-sync-wave",
    severity: Error,
    summary: "argocd.argoproj.io/sync-wave or helm.sh/hook-weight is not an integer string.",
    argo: "The wave is read with Go's strconv.Atoi: an optional sign and digits, nothing else (no spaces,\n\
           no decimals). Anything else is ignored without a word: the wave falls back to\n\
           helm.sh/hook-weight, then to 0, and the object runs in a step its author did not mean.",
    example: "metadata:\n  annotations:\n    argocd.argoproj.io/sync-wave: \"1.5\"    # or \" 1\", \"one\"",
    fix: "Use a whole number in quotes: argocd.argoproj.io/sync-wave: \"1\"",
};

pub static DUPLICATE_OBJECT: Rule = Rule {
    id: "duplicate-object",
    severity: Error,
    summary: "The same object (group, kind, namespace, name) is defined more than once in the input.",
    argo: "Argo CD keeps only one of them and raises a RepeatedResourceWarning; the content of the other\n\
           definitions is never applied.",
    example: "# a.yaml\nkind: ConfigMap\nmetadata: {name: settings}\n# b.yaml\nkind: ConfigMap\nmetadata: {name: settings}",
    fix: "Remove one definition, or give them different names or namespaces.",
};

pub static MISSPELT_ANNOTATION_KEY: Rule = Rule {
    id: "misspelt-annotation-key",
    severity: Warning,
    summary: "An annotation key that is close to, but not, one Argo CD or Helm reads.",
    argo: "Argo CD reads only the exact keys. A misspelt key is ignored without a word, so the object gets\n\
           the default for it: no hook, wave 0, delete policy BeforeHookCreation, no sync options.",
    example: "metadata:\n  annotations:\n    argocd.argoproj.io/hook-deletion-policy: HookSucceeded   # hook-delete-policy",
    fix: "Use the exact key, e.g. argocd.argoproj.io/hook-delete-policy.",
};

pub static UNKNOWN_DELETE_POLICY: Rule = Rule {
    id: "unknown-delete-policy",
    severity: Warning,
    summary: "A hook delete policy that Argo CD does not know.",
    argo: "Argo CD knows HookSucceeded, HookFailed and BeforeHookCreation (Helm: hook-succeeded,\n\
           hook-failed, before-hook-creation). Other values are dropped; with none left the hook gets the\n\
           default, BeforeHookCreation, so it stays in the cluster until the next sync.\n\
           OnSuccess and OnFailure are from the old hook documentation; current Argo CD does not know them.",
    example: "metadata:\n  annotations:\n    argocd.argoproj.io/hook-delete-policy: OnSuccess",
    fix: "Use HookSucceeded for OnSuccess and HookFailed for OnFailure.",
};

pub static SKIP_MIXED: Rule = Rule {
    id: "skip-mixed",
    severity: Warning,
    summary: "Skip is combined with other hook types.",
    argo: "Skip only takes effect when it is the only type. Mixed with others it is ignored and the object\n\
           runs as a hook in the other phases.",
    example: "metadata:\n  annotations:\n    argocd.argoproj.io/hook: Skip,PreSync",
    fix: "Use Skip alone to leave the object out of syncs, or remove Skip.",
};

pub static ARGO_AND_HELM_HOOK: Rule = Rule {
    id: "argo-and-helm-hook",
    severity: Warning,
    summary: "An object has both argocd.argoproj.io/hook and helm.sh/hook, and they disagree.",
    argo: "When argocd.argoproj.io/hook has a known type, helm.sh/hook is ignored for that object (delete\n\
           policies of both are still combined). A pair that agrees (PreSync with pre-install or\n\
           pre-upgrade; PostSync with post-install or post-upgrade), as charts written for both tools\n\
           carry, is not reported.",
    example: "metadata:\n  annotations:\n    argocd.argoproj.io/hook: PreSync\n    helm.sh/hook: post-install     # ignored",
    fix: "Remove one of them, or make them agree.",
};

pub static HELM_CRD_INSTALL_IN_LIST: Rule = Rule {
    id: "helm-crd-install-in-list",
    severity: Warning,
    summary: "helm.sh/hook lists crd-install together with other values.",
    argo: "crd-install makes an object a plain resource only when it is the whole value. In a list the\n\
           object is a hook, crd-install is dropped, and only the other values count (with no other\n\
           known value the object is never applied).",
    example: "metadata:\n  annotations:\n    helm.sh/hook: crd-install,pre-install",
    fix: "Use helm.sh/hook: crd-install alone, or remove the annotation: Argo CD applies a\n\
          CustomResourceDefinition before the custom resources of its kind anyway.",
};

pub static ORDERING_DEPENDENCY: Rule = Rule {
    id: "ordering-dependency",
    severity: Warning,
    summary: "A pod spec uses an object of the input that is created in a later step.",
    argo: "Argo CD runs the steps (phase, then wave) in order and waits for each to be healthy before the\n\
           next. A pod whose ServiceAccount does not exist yet cannot be created; one whose ConfigMap,\n\
           Secret or PersistentVolumeClaim does not exist yet cannot start. On a first sync the step\n\
           never becomes healthy and the step that would create the object never comes.\n\
           Looked at: serviceAccountName, env and envFrom ConfigMap/Secret references, volumes\n\
           (configMap, secret, persistentVolumeClaim, projected sources) and imagePullSecrets, in Pods\n\
           and in the pod templates of Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs,\n\
           CronJobs and ReplicationControllers. References marked optional: true are not dependencies.\n\
           Not reported: an object used in the same step (within a step objects are applied in kind\n\
           order without waiting for health, so a ServiceAccount is there before the Job that uses it);\n\
           an object that is not in the input (it may exist already, like a Namespace); uses in\n\
           SyncFail hooks (see sync-fail-dependency). PostDelete hooks run after every resource of the\n\
           app is deleted, so a PostDelete hook that uses a plain resource is reported, as is a\n\
           PreDelete hook that uses a PostDelete hook.",
    example: "# PreSync hook\nkind: Job\nmetadata:\n  annotations: {argocd.argoproj.io/hook: PreSync}\nspec:\n  template:\n    spec:\n      serviceAccountName: db-migrate   # a plain resource: created in Sync, after PreSync",
    fix: "Create the object in the same step or an earlier one: for a PreSync user make it a PreSync hook\n\
          in the same or a lower wave (with the default delete policy, BeforeHookCreation); in the same\n\
          phase, lower its sync-wave.",
};

pub static JOB_HOOK_NOT_RECREATED: Rule = Rule {
    id: "job-hook-not-recreated",
    severity: Warning,
    summary: "A named hook Job whose delete policies do not include BeforeHookCreation.",
    argo: "Named hooks are deleted and re-created on each sync only with BeforeHookCreation. Without it, a\n\
           Job left from an earlier sync (HookSucceeded keeps it after a failed sync; HookFailed after a\n\
           successful one) is applied over: a finished Job does not run again, and a changed pod\n\
           template is rejected because a Job's template is immutable, which fails the sync.",
    example: "kind: Job\nmetadata:\n  name: db-migration\n  annotations:\n    argocd.argoproj.io/hook: PreSync\n    argocd.argoproj.io/hook-delete-policy: HookSucceeded",
    fix: "Add BeforeHookCreation: argocd.argoproj.io/hook-delete-policy: BeforeHookCreation,HookSucceeded\n\
          (or name the Job with metadata.generateName).",
};

pub static SYNC_FAIL_HOOK_SUCCEEDED: Rule = Rule {
    id: "sync-fail-hook-succeeded",
    severity: Warning,
    summary: "A SyncFail hook with the delete policy HookSucceeded.",
    argo: "HookSucceeded deletes hooks only when the whole sync succeeds. A SyncFail hook runs only when\n\
           the sync failed, so this policy never deletes it.",
    example: "metadata:\n  annotations:\n    argocd.argoproj.io/hook: SyncFail\n    argocd.argoproj.io/hook-delete-policy: HookSucceeded",
    fix: "Use BeforeHookCreation (the default), so the next failure replaces it, or HookFailed.",
};

pub static UNKNOWN_SYNC_OPTION: Rule = Rule {
    id: "unknown-sync-option",
    severity: Warning,
    summary: "A sync option Argo CD does not know, or one that only works on an Application.",
    argo: "Argo CD matches each item of argocd.argoproj.io/sync-options exactly (Prune=false,\n\
           Validate=false, ServerSideApply=true, ...) and ignores the rest without a word.\n\
           CreateNamespace, ApplyOutOfSyncOnly, PrunePropagationPolicy, FailOnSharedResource,\n\
           RespectIgnoreDifferences and ClientSideApplyMigration are read only from an Application's\n\
           spec.syncPolicy.syncOptions; on a resource they are ignored. Values that state the default\n\
           (Prune=true, Validate=true, ...) are not reported.",
    example: "metadata:\n  annotations:\n    argocd.argoproj.io/sync-options: CreateNamespace=true,Prune=False",
    fix: "Use the exact option (Prune=false); set Application-level options on the Application (with this\n\
          tool: kubectl hooks sync --create-namespace).",
};

pub static GENERATE_NAME_ON_RESOURCE: Rule = Rule {
    id: "generate-name-on-resource",
    severity: Warning,
    summary: "metadata.generateName without a name, on an object that is not a hook.",
    argo: "Argo CD names only hooks. A plain resource is applied as it is, and an apply needs a name:\n\
           the API server rejects it (\"resource name may not be empty\").",
    example: "kind: ConfigMap\nmetadata:\n  generateName: settings-",
    fix: "Give it metadata.name, or make it a hook (argocd.argoproj.io/hook: PreSync, ...).",
};

pub static DELETE_POLICY_ON_RESOURCE: Rule = Rule {
    id: "delete-policy-on-resource",
    severity: Warning,
    summary: "A hook delete policy on an object that is not a hook.",
    argo: "Delete policies apply only to hooks; on a plain resource (or a Skip object) the annotation is\n\
           ignored.",
    example: "kind: ConfigMap\nmetadata:\n  annotations:\n    argocd.argoproj.io/hook-delete-policy: HookSucceeded",
    fix: "Remove the annotation, or make the object a hook.",
};

pub static UNKNOWN_LINT_RULE: Rule = Rule {
    id: "unknown-lint-rule",
    severity: Warning,
    summary: "kubectl-hooks.io/lint-disable names a rule that does not exist.",
    argo: "Not an Argo CD matter: this tool's own annotation, which Argo CD ignores. A misspelt rule id\n\
           silences nothing.",
    example: "metadata:\n  annotations:\n    kubectl-hooks.io/lint-disable: hook-job-deadline",
    fix: "Use the rule ids that `kubectl hooks lint --explain ID` knows, comma-separated.",
};

pub static SYNC_FAIL_DEPENDENCY: Rule = Rule {
    id: "sync-fail-dependency",
    severity: Info,
    summary: "A SyncFail hook uses an object of the input that is created after the first step.",
    argo: "SyncFail hooks run when the sync fails, which can be in any step. On a first sync that fails\n\
           before the step that creates the object, the SyncFail hook's pods cannot be created or started.\n\
           Later syncs find the object from the earlier sync.",
    example: "# SyncFail hook mounting the Secret slack-webhook, a plain resource (Sync phase);\n# a PreSync migration fails on the first sync: the alert cannot start.",
    fix: "Create the object in the first step (a PreSync hook in the lowest wave), or accept that the\n\
          alert needs one successful sync first.",
};

pub static HOOK_JOB_NO_DEADLINE: Rule = Rule {
    id: "hook-job-no-deadline",
    severity: Info,
    summary: "A hook Job without spec.activeDeadlineSeconds.",
    argo: "Argo CD has no hook timeout: a hook Job that hangs (a pod that never starts, a migration waiting\n\
           on a lock) keeps the sync running forever.",
    example: "kind: Job\nmetadata:\n  annotations: {argocd.argoproj.io/hook: PreSync}\nspec:\n  template: ...",
    fix: "Set spec.activeDeadlineSeconds (e.g. 600). With this tool, --hook-timeout also bounds hooks.",
};

pub static HOOK_JOB_TTL: Rule = Rule {
    id: "hook-job-ttl",
    severity: Info,
    summary: "A hook Job with spec.ttlSecondsAfterFinished.",
    argo: "The Job deletes itself after it finishes. With a short TTL it can be gone before Argo CD sees\n\
           the result (newer Argo CD then fails the sync: \"it might have been deleted\"), and the hook\n\
           delete policy has nothing left to act on. This tool judges such a Job from the last state\n\
           it saw.",
    example: "kind: Job\nspec:\n  ttlSecondsAfterFinished: 0",
    fix: "Leave the cleanup to the hook delete policy (HookSucceeded, BeforeHookCreation) and remove\n\
          ttlSecondsAfterFinished, or make it long enough for the sync to see the Job finish.",
};

pub static HELM_INSTALL_AND_UPGRADE: Rule = Rule {
    id: "helm-install-and-upgrade",
    severity: Info,
    summary: "helm.sh/hook lists both pre-install and pre-upgrade (or post-install and post-upgrade).",
    argo: "Argo CD has no install/upgrade distinction: both map to the same phase (PreSync, or PostSync),\n\
           so the hook runs on every sync, not only on an install or an upgrade.",
    example: "metadata:\n  annotations:\n    helm.sh/hook: pre-install,pre-upgrade",
    fix: "Nothing to change if running on every sync is meant; otherwise make the hook idempotent.",
};

pub static DELETE_HOOK_NOT_SYNCED: Rule = Rule {
    id: "delete-hook-not-synced",
    severity: Info,
    summary: "A PreDelete or PostDelete hook (argocd.argoproj.io/hook or helm.sh/hook pre-delete/post-delete).",
    argo: "Argo CD's sync engine does not know these types: they run only when the Application is\n\
           deleted (Argo CD v3.3 also leaves an object out of syncs when it carries one of them next to a\n\
           sync type). `kubectl hooks sync` does not run them; `kubectl hooks delete` does.",
    example: "metadata:\n  annotations:\n    argocd.argoproj.io/hook: PostDelete",
    fix: "Nothing to change if the hook is meant for deletion; run it with `kubectl hooks delete`.",
};

pub static HELM_HOOK_IGNORED: Rule = Rule {
    id: "helm-hook-ignored",
    severity: Info,
    summary: "A Helm hook Argo CD ignores: test, test-success, test-failure, pre-rollback, post-rollback.",
    argo: "Argo CD neither applies nor runs these objects (there is no `helm test` and no rollback in a\n\
           sync). Every chart made by `helm create` has such a test Pod. `plan` lists them as\n\
           skipped, and `sync` leaves them out.",
    example: "metadata:\n  annotations:\n    helm.sh/hook: test",
    fix: "Nothing, if the object is meant for `helm test` only. To run it in a sync, give it an Argo CD\n\
          hook type, e.g. argocd.argoproj.io/hook: PostSync.",
};

pub static SKIPPED_FILE: Rule = Rule {
    id: "skipped-file",
    severity: Info,
    summary: "A file of a directory was left out: it holds no Kubernetes objects, or it is a symlinked directory.",
    argo: "Argo CD's directory source skips YAML and JSON files that are not Kubernetes objects (values\n\
           files, Chart.yaml, CI configs, renovate.json), and, like kubectl -R, does not follow\n\
           symlinked directories.",
    example: "# values.yaml next to the manifests\nreplicas: 3",
    fix: "Nothing, if the file is not meant to be applied. Otherwise give its documents apiVersion and\n\
          kind, or point -f at the directory the link leads to.",
};
