//! `diff`: what a sync would change, object by object: the live object against the result of
//! a server-side dry-run apply of the input's object, both without the fields the server sets
//! (`managedFields`, `resourceVersion`, `generation`, `uid`, `creationTimestamp`, `status`),
//! and with Secret values masked on both sides, as `kubectl diff` masks them: a value shows as
//! `***`, or as `*** (before)` / `*** (after)` where it changed. Objects that would be created
//! have no live side; members that left the input have no merged side ("to be pruned").

use super::Work;
use super::prune::PruneFate;
use super::sync::Prepared;
use crate::cluster::{ApplyOptions, Cluster, ClusterError};
use crate::model::Phase;
use serde::Serialize;
use serde_json::{Map, Value, json};

/// How an object would change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Change {
    Unchanged,
    Modified,
    /// It does not exist yet.
    Added,
    /// A member that left the input: `sync --prune` deletes it.
    ToBePruned,
    /// A member that left the input with `Prune=false`: kept.
    KeptNoPrune,
}

impl Change {
    pub fn is_difference(self) -> bool {
        !matches!(self, Change::Unchanged | Change::KeptNoPrune)
    }

    pub fn word(self) -> &'static str {
        match self {
            Change::Unchanged => "unchanged",
            Change::Modified => "changed",
            Change::Added => "to be created",
            Change::ToBePruned => "to be pruned",
            Change::KeptNoPrune => "left the input, kept (Prune=false)",
        }
    }
}

/// The live object (if any) and what the server would store.
type Sides = (Option<Value>, Value);

/// One object's two sides, cleaned and masked.
#[derive(Debug, Clone)]
pub struct ObjectDiff {
    pub api_version: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    /// `file:line` in the input (none for members that left it).
    pub source: Option<String>,
    pub change: Change,
    pub live: Option<Value>,
    pub merged: Option<Value>,
}

/// A hook the sync would run (hooks are not diffed: each sync creates them anew).
#[derive(Debug, Clone, Serialize)]
pub struct HookRun {
    pub phase: Phase,
    pub wave: i64,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    pub source: String,
}

/// The diff of every object of a prepared sync (after `prune::inspect` found the members
/// that left the input), and the hooks it would run.
pub async fn compute(
    cluster: &Cluster,
    prepared: &Prepared,
    force_conflicts: bool,
    concurrency: usize,
) -> Result<(Vec<ObjectDiff>, Vec<HookRun>), ClusterError> {
    let sides = prepared
        .works
        .iter()
        .enumerate()
        .filter(|(_, w)| !w.task.hook)
        .map(|(i, w)| {
            let dry_run = prepared.dry_run_results.get(&i);
            async move { (w, sides_of(cluster, w, dry_run, force_conflicts).await) }
        });
    let results: Vec<(&Work, Result<Sides, ClusterError>)> =
        super::concurrently(concurrency, sides).await;
    let mut diffs = Vec::new();
    for (w, result) in results {
        let (live, merged) = result?;
        diffs.push(judge(
            w.api_version.clone(),
            w.task.kind.clone(),
            w.namespace.clone(),
            w.name.clone(),
            Some(w.source.clone()),
            live,
            Some(merged),
        ));
    }
    for p in &prepared.prunes {
        let key = &p.member.key;
        let mut d = judge(
            p.member.kind.api_version.clone(),
            key.kind.clone(),
            (!key.namespace.is_empty()).then(|| key.namespace.clone()),
            key.name.clone(),
            None,
            Some(p.member.live.clone()),
            None,
        );
        if p.fate == PruneFate::NoPrune {
            d.change = Change::KeptNoPrune;
        }
        diffs.push(d);
    }
    let hooks = prepared
        .works
        .iter()
        .filter(|w| w.task.hook)
        .map(|w| HookRun {
            phase: w.task.phase,
            wave: w.task.wave,
            kind: w.task.kind.clone(),
            namespace: w.namespace.clone(),
            name: w.name.clone(),
            source: w.source.clone(),
        })
        .collect();
    Ok((diffs, hooks))
}

/// The live object (if any) and what the server would store: the preparation's dry-run
/// result when it kept one, else a dry run now. An object whose kind or namespace this same
/// sync creates cannot be dry-run: its merged side is the object as sent.
async fn sides_of(
    cluster: &Cluster,
    w: &Work,
    dry_run: Option<&Value>,
    force: bool,
) -> Result<Sides, ClusterError> {
    let Some(kind) = &w.kind else {
        return Ok((None, w.object.clone()));
    };
    let namespace = w.namespace.as_deref().unwrap_or("");
    let live = cluster.get(kind, namespace, &w.name).await?;
    if let Some(merged) = dry_run {
        return Ok((live, merged.clone()));
    }
    let options = ApplyOptions {
        force,
        dry_run: true,
        ignore_unknown_fields: w.options.has(crate::model::SyncOption::ValidateFalse),
    };
    match cluster.apply(kind, &w.object, options).await {
        Ok(merged) => Ok((live, merged)),
        Err(e) if e.is_not_found() && live.is_none() => Ok((None, w.object.clone())),
        Err(e) => Err(e),
    }
}

/// Cleans and masks both sides and says how they differ.
pub fn judge(
    api_version: String,
    kind: String,
    namespace: Option<String>,
    name: String,
    source: Option<String>,
    live: Option<Value>,
    merged: Option<Value>,
) -> ObjectDiff {
    let mut live = live.map(clean);
    let mut merged = merged.map(clean);
    if kind == "Secret" && api_version == "v1" {
        mask_secret(live.as_mut(), merged.as_mut());
    }
    let change = match (&live, &merged) {
        (None, _) => Change::Added,
        (Some(_), None) => Change::ToBePruned,
        (Some(a), Some(b)) if a == b => Change::Unchanged,
        _ => Change::Modified,
    };
    ObjectDiff {
        api_version,
        kind,
        namespace,
        name,
        source,
        change,
        live,
        merged,
    }
}

/// Without the fields the server sets.
pub fn clean(mut object: Value) -> Value {
    if let Some(map) = object.as_object_mut() {
        map.remove("status");
    }
    if let Some(meta) = object["metadata"].as_object_mut() {
        for field in [
            "managedFields",
            "resourceVersion",
            "generation",
            "uid",
            "creationTimestamp",
            "selfLink",
        ] {
            meta.remove(field);
        }
    }
    object
}

/// Replaces every value of `data` and `stringData` by a mask, on both sides, so no value (or
/// its base64) is ever shown. `stringData` is folded into `data` first, as the API server
/// stores it, so a value given as `stringData` compares with the stored one.
pub fn mask_secret(live: Option<&mut Value>, merged: Option<&mut Value>) {
    let values = |side: &Option<&mut Value>| -> Map<String, Value> {
        let Some(obj) = side else {
            return Map::new();
        };
        let mut out = obj["data"].as_object().cloned().unwrap_or_default();
        if let Some(plain) = obj["stringData"].as_object() {
            use base64::Engine;
            for (k, v) in plain {
                let text = v
                    .as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| v.to_string());
                out.insert(
                    k.clone(),
                    json!(base64::engine::general_purpose::STANDARD.encode(text)),
                );
            }
        }
        out
    };
    let (before, after) = (values(&live), values(&merged));
    let masked = |mine: &Map<String, Value>, theirs: &Map<String, Value>, word: &str| {
        let map: Map<String, Value> = mine
            .iter()
            .map(|(k, v)| {
                let mask = match theirs.get(k) {
                    Some(t) if t == v => "***".to_owned(),
                    Some(_) => format!("*** ({word})"),
                    None => "***".to_owned(),
                };
                (k.clone(), json!(mask))
            })
            .collect();
        map
    };
    for (side, mine, theirs, word) in [
        (live, &before, &after, "before"),
        (merged, &after, &before, "after"),
    ] {
        let Some(obj) = side else { continue };
        let Some(map) = obj.as_object_mut() else {
            continue;
        };
        map.remove("stringData");
        if mine.is_empty() {
            map.remove("data");
        } else {
            map.insert("data".into(), Value::Object(masked(mine, theirs, word)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(data: Value, string_data: Option<Value>) -> Value {
        let mut s = json!({"apiVersion": "v1", "kind": "Secret",
                           "metadata": {"name": "s", "uid": "u", "resourceVersion": "9",
                                        "managedFields": [{}], "creationTimestamp": "t"},
                           "data": data});
        if let Some(sd) = string_data {
            s["stringData"] = sd;
        }
        s
    }

    fn diff(live: Option<Value>, merged: Option<Value>) -> ObjectDiff {
        judge(
            "v1".into(),
            "Secret".into(),
            None,
            "s".into(),
            None,
            live,
            merged,
        )
    }

    #[test]
    fn secret_values_are_masked_and_a_change_still_shows() {
        // "aHVudGVyMg==" is base64 of "hunter2".
        let live = secret(json!({"a": "aHVudGVyMg==", "b": "eA=="}), None);
        let merged = secret(json!({"a": "bmV3", "b": "eA=="}), None);
        let d = diff(Some(live), Some(merged));
        assert_eq!(d.change, Change::Modified);
        let (l, m) = (d.live.unwrap(), d.merged.unwrap());
        assert_eq!(l["data"], json!({"a": "*** (before)", "b": "***"}));
        assert_eq!(m["data"], json!({"a": "*** (after)", "b": "***"}));
        for side in [l.to_string(), m.to_string()] {
            assert!(
                !side.contains("aHVudGVyMg") && !side.contains("bmV3") && !side.contains("eA==")
            );
        }
        assert!(l["metadata"].get("uid").is_none() && l["metadata"].get("managedFields").is_none());
    }

    #[test]
    fn string_data_compares_with_the_stored_data() {
        let live = secret(json!({"a": "aHVudGVyMg=="}), None);
        let merged = secret(json!({}), Some(json!({"a": "hunter2"})));
        let d = diff(Some(live), Some(merged));
        assert_eq!(d.change, Change::Unchanged);
        let m = d.merged.unwrap();
        assert!(m.get("stringData").is_none());
        assert!(!m.to_string().contains("hunter2"));
    }

    #[test]
    fn created_and_pruned_objects_have_one_side() {
        let obj = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "status": {"x": 1}});
        let added = judge(
            "v1".into(),
            "ConfigMap".into(),
            None,
            "c".into(),
            None,
            None,
            Some(obj.clone()),
        );
        assert_eq!(added.change, Change::Added);
        assert!(added.merged.unwrap().get("status").is_none());
        let gone = judge(
            "v1".into(),
            "ConfigMap".into(),
            None,
            "c".into(),
            None,
            Some(obj),
            None,
        );
        assert_eq!(gone.change, Change::ToBePruned);
        assert!(Change::ToBePruned.is_difference() && !Change::KeptNoPrune.is_difference());
    }
}
