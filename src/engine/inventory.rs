//! What an app owns, as a kubectl ApplySet (KEP-3659, "ApplySet: kubectl apply --prune
//! redesign"): a parent Secret in the app's namespace names the group-kinds (and namespaces)
//! of its members, and every member carries the label `applyset.kubernetes.io/part-of` with
//! the parent's id. So `kubectl get -l applyset.kubernetes.io/part-of=<id>` lists the app,
//! and listing members costs one labelled list per recorded group-kind and namespace, never a
//! scan of the cluster. Pure: the parent's text and the member sets; `cluster::inventory`
//! reads and writes them.

use base64::Engine;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};

/// Label on the parent: its id.
pub const LABEL_ID: &str = "applyset.kubernetes.io/id";
/// Label on every member: the id of the ApplySet it belongs to.
pub const LABEL_PART_OF: &str = "applyset.kubernetes.io/part-of";
/// Annotation on the parent: which tool manages it, `<tool>/<version>`.
pub const ANNOTATION_TOOLING: &str = "applyset.kubernetes.io/tooling";
/// Annotation on the parent: the members' group-kinds, sorted, comma-separated.
pub const ANNOTATION_GROUP_KINDS: &str = "applyset.kubernetes.io/contains-group-kinds";
/// Annotation on the parent: the namespaces members live in besides the parent's own.
pub const ANNOTATION_NAMESPACES: &str = "applyset.kubernetes.io/additional-namespaces";
/// Annotation on every member: the app (`namespace/name`) that owns it, so a refusal to take
/// it over can name that app (the ApplySet id is a one-way hash).
pub const ANNOTATION_APP: &str = "kubectl-hooks.io/app";
/// Annotations on the parent recording the last sync.
pub const LAST_SYNC_STARTED: &str = "kubectl-hooks.io/last-sync-started";
pub const LAST_SYNC_FINISHED: &str = "kubectl-hooks.io/last-sync-finished";
pub const LAST_SYNC_RESULT: &str = "kubectl-hooks.io/last-sync-result";
pub const LAST_SYNC_MESSAGE: &str = "kubectl-hooks.io/last-sync-message";
pub const LAST_SYNC_DIGEST: &str = "kubectl-hooks.io/last-sync-digest";
pub const LAST_SYNC_VERSION: &str = "kubectl-hooks.io/last-sync-version";

/// The value of the tooling annotation this build writes.
pub fn tooling() -> String {
    format!("kubectl-hooks/{}", env!("CARGO_PKG_VERSION"))
}

/// An app: its name, the namespace its lock and inventory live in, and its ApplySet id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct App {
    pub name: String,
    pub namespace: String,
}

impl App {
    /// The parent Secret's (and the Lease's) name.
    pub fn object_name(&self) -> String {
        format!("kubectl-hooks-{}", self.name)
    }

    /// The KEP's id of the parent Secret: `applyset-` + base64url (no padding) of
    /// sha256(`<name>.<namespace>.<kind>.<group>`) + `-v1`; the core group is empty.
    pub fn applyset_id(&self) -> String {
        applyset_id(&self.object_name(), &self.namespace, "Secret", "")
    }

    /// `namespace/name`, as the member annotation and messages show the app.
    pub fn reference(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

pub fn applyset_id(name: &str, namespace: &str, kind: &str, group: &str) -> String {
    let digest = Sha256::digest(format!("{name}.{namespace}.{kind}.{group}").as_bytes());
    format!(
        "applyset-{}-v1",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
    )
}

/// Checks an app name as Kubernetes checks a DNS label (RFC 1123): at most 63 characters,
/// lowercase letters, digits and `-`, starting and ending with a letter or digit. The name
/// goes into label values and object names, which need exactly that.
pub fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("an app name cannot be empty".into());
    }
    if name.len() > 63 {
        return Err(format!(
            "app name \"{name}\" is {} characters long; at most 63 are allowed (a DNS label)",
            name.len()
        ));
    }
    let valid = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
    if let Some(c) = name.chars().find(|&c| !valid(c)) {
        return Err(format!(
            "app name \"{name}\" contains {c:?}; a DNS label has only lowercase letters, digits and '-'"
        ));
    }
    if name.starts_with('-') || name.ends_with('-') {
        return Err(format!(
            "app name \"{name}\" must start and end with a letter or digit (a DNS label)"
        ));
    }
    Ok(())
}

/// A name made from a file or directory name: lowercased, every run of other characters
/// (`_`, `.`, spaces) turned into one `-`, trimmed to 63 characters. `None` when nothing
/// usable is left.
pub fn name_from(stem: &str) -> Option<String> {
    let mut out = String::new();
    for c in stem.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let out: String = out.trim_matches('-').chars().take(63).collect();
    let out = out.trim_end_matches('-').to_owned();
    check_name(&out).ok().map(|_| out)
}

/// A kind as the ApplySet annotation writes it: `Kind.group`, or `Kind` for the core group
/// (as Kubernetes' GroupKind prints).
pub fn group_kind(group: &str, kind: &str) -> String {
    if group.is_empty() {
        kind.to_owned()
    } else {
        format!("{kind}.{group}")
    }
}

/// The inverse of [`group_kind`]: (group, kind).
pub fn split_group_kind(text: &str) -> (String, String) {
    match text.split_once('.') {
        Some((kind, group)) => (group.to_owned(), kind.to_owned()),
        None => (String::new(), text.to_owned()),
    }
}

/// One object of an app, as the inventory knows it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MemberKey {
    pub group: String,
    pub kind: String,
    /// `""` for cluster-scoped objects.
    pub namespace: String,
    pub name: String,
}

impl std::fmt::Display for MemberKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.namespace.is_empty() {
            write!(f, "{}/{}", group_kind(&self.group, &self.kind), self.name)
        } else {
            write!(
                f,
                "{}/{} in namespace \"{}\"",
                group_kind(&self.group, &self.kind),
                self.name,
                self.namespace
            )
        }
    }
}

/// What the parent says: its group-kinds and namespaces (its own included), the tool that
/// wrote it, and the last sync's annotations.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recorded {
    pub group_kinds: BTreeSet<String>,
    pub namespaces: BTreeSet<String>,
    pub tooling: Option<String>,
    pub annotations: BTreeMap<String, String>,
}

impl Recorded {
    /// Reads a live parent object.
    pub fn of(parent: &Value, own_namespace: &str) -> Recorded {
        let annotations: BTreeMap<String, String> = parent["metadata"]["annotations"]
            .as_object()
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                    .collect()
            })
            .unwrap_or_default();
        let list = |key: &str| -> BTreeSet<String> {
            annotations
                .get(key)
                .map(|v| {
                    v.split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default()
        };
        let mut namespaces = list(ANNOTATION_NAMESPACES);
        namespaces.insert(own_namespace.to_owned());
        Recorded {
            group_kinds: list(ANNOTATION_GROUP_KINDS),
            namespaces,
            tooling: annotations.get(ANNOTATION_TOOLING).cloned(),
            annotations,
        }
    }

    /// Whether another tool (kubectl itself, another version line is fine) manages it: the
    /// KEP asks tools not to operate on ApplySets of other tools.
    pub fn foreign_tooling(&self) -> Option<&str> {
        self.tooling
            .as_deref()
            .filter(|t| !t.starts_with("kubectl-hooks/"))
    }
}

/// The last sync, as the parent records it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LastSync {
    pub started: Option<String>,
    pub finished: Option<String>,
    pub result: Option<String>,
    pub message: Option<String>,
    pub digest: Option<String>,
    pub version: Option<String>,
}

impl LastSync {
    pub fn of(recorded: &Recorded) -> LastSync {
        let get = |k: &str| recorded.annotations.get(k).cloned();
        LastSync {
            started: get(LAST_SYNC_STARTED),
            finished: get(LAST_SYNC_FINISHED),
            result: get(LAST_SYNC_RESULT),
            message: get(LAST_SYNC_MESSAGE),
            digest: get(LAST_SYNC_DIGEST),
            version: get(LAST_SYNC_VERSION),
        }
    }

    fn annotate(&self, annotations: &mut serde_json::Map<String, Value>) {
        let pairs = [
            (LAST_SYNC_STARTED, &self.started),
            (LAST_SYNC_FINISHED, &self.finished),
            (LAST_SYNC_RESULT, &self.result),
            (LAST_SYNC_MESSAGE, &self.message),
            (LAST_SYNC_DIGEST, &self.digest),
            (LAST_SYNC_VERSION, &self.version),
        ];
        for (key, value) in pairs {
            if let Some(v) = value {
                annotations.insert(key.into(), json!(v));
            }
        }
    }
}

/// The parent Secret as it is applied: id label, tooling, group-kinds, the namespaces other
/// than its own, and the last sync.
pub fn parent(
    app: &App,
    group_kinds: &BTreeSet<String>,
    namespaces: &BTreeSet<String>,
    last: &LastSync,
) -> Value {
    let mut annotations = serde_json::Map::new();
    annotations.insert(ANNOTATION_TOOLING.into(), json!(tooling()));
    annotations.insert(
        ANNOTATION_GROUP_KINDS.into(),
        json!(group_kinds.iter().cloned().collect::<Vec<_>>().join(",")),
    );
    let others: Vec<&str> = namespaces
        .iter()
        .map(String::as_str)
        .filter(|ns| !ns.is_empty() && *ns != app.namespace)
        .collect();
    if !others.is_empty() {
        annotations.insert(ANNOTATION_NAMESPACES.into(), json!(others.join(",")));
    }
    last.annotate(&mut annotations);
    json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {
            "name": app.object_name(),
            "namespace": app.namespace,
            "labels": {
                LABEL_ID: app.applyset_id(),
                "app.kubernetes.io/managed-by": "kubectl-hooks",
            },
            "annotations": annotations,
        }
    })
}

/// Marks an object as a member of `app`.
pub fn mark_member(object: &mut Value, app: &App) {
    let Some(meta) = object["metadata"].as_object_mut() else {
        return;
    };
    let labels = meta.entry("labels").or_insert_with(|| json!({}));
    if !labels.is_object() {
        *labels = json!({});
    }
    labels[LABEL_PART_OF] = json!(app.applyset_id());
    let annotations = meta.entry("annotations").or_insert_with(|| json!({}));
    if !annotations.is_object() {
        *annotations = json!({});
    }
    annotations[ANNOTATION_APP] = json!(app.reference());
}

/// A live member's key.
pub fn key_of(live: &Value, group: &str, kind: &str) -> MemberKey {
    let text = |p: &str| live.pointer(p).and_then(Value::as_str).unwrap_or("");
    MemberKey {
        group: group.to_owned(),
        kind: kind.to_owned(),
        namespace: text("/metadata/namespace").to_owned(),
        name: text("/metadata/name").to_owned(),
    }
}

/// A digest of the input, for the record of the last sync: sha256 over every object's JSON
/// in a fixed order, so editing anything changes it and reordering files does not.
pub fn digest(objects: &[Value]) -> String {
    let mut texts: Vec<String> = objects.iter().map(Value::to_string).collect();
    texts.sort();
    let mut hasher = Sha256::new();
    for t in &texts {
        hasher.update(t.as_bytes());
        hasher.update(b"\n");
    }
    format!("sha256:{}", hex::encode(hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_id_is_the_keps_hash_of_the_parent() {
        // KEP-3659's example: a Secret "mysecret" in namespace "myns" (core group).
        let digest = Sha256::digest(b"mysecret.myns.Secret.");
        let expected = format!(
            "applyset-{}-v1",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
        );
        assert_eq!(applyset_id("mysecret", "myns", "Secret", ""), expected);
        let app = App {
            name: "shop".into(),
            namespace: "prod".into(),
        };
        let id = app.applyset_id();
        assert!(id.starts_with("applyset-") && id.ends_with("-v1"), "{id}");
        assert!(id.len() <= 63, "a label value: {id}");
        assert!(!id.contains('=') && !id.contains('+') && !id.contains('/'));
        assert_eq!(id, applyset_id("kubectl-hooks-shop", "prod", "Secret", ""));
    }

    #[test]
    fn names_are_dns_labels() {
        for good in ["a", "shop", "my-app-2", &"x".repeat(63)] {
            assert_eq!(check_name(good), Ok(()), "{good}");
        }
        for bad in ["", "My-App", "my_app", "-a", "a-", "a.b", &"x".repeat(64)] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn default_names_come_from_file_names() {
        assert_eq!(name_from("deploy").as_deref(), Some("deploy"));
        assert_eq!(name_from("My_App.v2").as_deref(), Some("my-app-v2"));
        assert_eq!(name_from("__").as_deref(), None);
        assert_eq!(name_from(&"a".repeat(80)).unwrap().len(), 63);
    }

    #[test]
    fn group_kinds_print_as_kubernetes_does() {
        assert_eq!(group_kind("", "ConfigMap"), "ConfigMap");
        assert_eq!(group_kind("apps", "Deployment"), "Deployment.apps");
        assert_eq!(
            split_group_kind("Deployment.apps"),
            ("apps".into(), "Deployment".into())
        );
        assert_eq!(
            split_group_kind("Foo.example.com"),
            ("example.com".into(), "Foo".into())
        );
        assert_eq!(split_group_kind("Secret"), ("".into(), "Secret".into()));
    }

    #[test]
    fn the_parent_records_kinds_namespaces_and_the_last_sync() {
        let app = App {
            name: "shop".into(),
            namespace: "prod".into(),
        };
        let kinds: BTreeSet<String> = ["Deployment.apps", "ConfigMap"].map(String::from).into();
        let spaces: BTreeSet<String> = ["prod", "other", ""].map(String::from).into();
        let last = LastSync {
            result: Some("Succeeded".into()),
            ..LastSync::default()
        };
        let p = parent(&app, &kinds, &spaces, &last);
        let ann = &p["metadata"]["annotations"];
        assert_eq!(ann[ANNOTATION_GROUP_KINDS], "ConfigMap,Deployment.apps");
        assert_eq!(ann[ANNOTATION_NAMESPACES], "other");
        assert_eq!(ann[ANNOTATION_TOOLING], tooling());
        assert_eq!(ann[LAST_SYNC_RESULT], "Succeeded");
        assert_eq!(p["metadata"]["labels"][LABEL_ID], app.applyset_id());

        let read = Recorded::of(&p, "prod");
        assert_eq!(read.group_kinds, kinds);
        assert_eq!(read.namespaces, ["other", "prod"].map(String::from).into());
        assert_eq!(read.foreign_tooling(), None);
        assert_eq!(LastSync::of(&read), last);
    }

    #[test]
    fn the_digest_ignores_order_and_sees_edits() {
        let a = json!({"kind": "A"});
        let b = json!({"kind": "B"});
        assert_eq!(
            digest(&[a.clone(), b.clone()]),
            digest(&[b.clone(), a.clone()])
        );
        assert_ne!(
            digest(std::slice::from_ref(&a)),
            digest(&[json!({"kind": "A2"})])
        );
    }
}
