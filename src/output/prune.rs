//! What a sync says about the app's members that left the input: pruned, kept and why.

use super::{render_table, table};
use crate::engine::inventory::App;
use crate::engine::prune::{PruneFate, PruneWork};
use serde_json::{Value, json};

/// The table of members that left the input; empty when there are none.
pub fn render(prunes: &[PruneWork]) -> String {
    if prunes.is_empty() {
        return String::new();
    }
    let mut t = table(&["WAVE", "KIND", "NAMESPACE", "NAME", "RESULT", "MESSAGE"]);
    for p in prunes {
        let key = &p.member.key;
        let wave = match p.fate {
            PruneFate::Prune => p.wave.to_string(),
            _ => "-".into(),
        };
        t.add_row(vec![
            wave,
            key.kind.clone(),
            if key.namespace.is_empty() {
                "-".into()
            } else {
                key.namespace.clone()
            },
            key.name.clone(),
            p.result_word().into(),
            super::sync::one_line(&p.message),
        ]);
    }
    format!(
        "\nNo longer in the input ({}):\n{}",
        prunes.len(),
        render_table(&t)
    )
}

/// The prunes as JSON.
pub fn docs(prunes: &[PruneWork]) -> Vec<Value> {
    prunes
        .iter()
        .map(|p| {
            let key = &p.member.key;
            json!({
                "apiVersion": p.member.kind.api_version,
                "kind": key.kind,
                "namespace": (!key.namespace.is_empty()).then_some(&key.namespace),
                "name": key.name,
                "wave": p.wave,
                "result": p.result_word(),
                "message": p.message,
            })
        })
        .collect()
}

/// A report's JSON with the app (name, namespace, ApplySet id) and its prunes added.
pub fn with_app(report: &str, app: &App, prunes: &[PruneWork]) -> String {
    let Ok(mut doc) = serde_json::from_str::<Value>(report) else {
        return report.to_owned();
    };
    if let Some(map) = doc.as_object_mut() {
        map.insert(
            "app".into(),
            json!({"name": app.name, "namespace": app.namespace, "applysetId": app.applyset_id()}),
        );
        map.insert("prune".into(), Value::Array(docs(prunes)));
    }
    super::to_json(&doc)
}
