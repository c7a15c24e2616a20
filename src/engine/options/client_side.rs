//! The fields a client-side apply owns (`kubectl apply` without `--server-side`, Argo CD's
//! default apply), taken over as kubectl's client-side-to-server-side upgrade does (kubectl
//! `csaupgrade.UpgradeManagedFields`): the managedFields entries of the client-side managers
//! become one `Apply` entry of this tool's manager, so a field later removed from the
//! manifest is removed from the cluster instead of staying, owned by a manager nobody runs
//! any more. (Fields a forced server-side apply takes from other managers are
//! `engine::takeover`'s.)

use serde_json::{Map, Value};

/// Managers whose `Update` entries are client-side applies: `kubectl apply` (since kubectl
/// 1.22; `kubectl.kubernetes.io/last-applied-configuration`) and Argo CD's controller, whose
/// default is a client-side apply.
const CLIENT_SIDE_MANAGERS: [&str; 2] = ["kubectl-client-side-apply", "argocd-controller"];

fn is_client_side(entry: &Value) -> bool {
    let manager = entry["manager"].as_str().unwrap_or_default();
    CLIENT_SIDE_MANAGERS.contains(&manager)
        && entry["operation"] == "Update"
        && entry
            .get("subresource")
            .is_none_or(|s| s.as_str() == Some(""))
}

/// The client-side managers that own fields of the object, each once.
pub(crate) fn client_side_managers(object: &Value) -> Vec<String> {
    let mut out: Vec<String> = object["metadata"]["managedFields"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| is_client_side(e))
        .filter_map(|e| e["manager"].as_str().map(str::to_owned))
        .collect();
    out.dedup();
    out
}

/// Whether the object carries fields a client-side apply manages.
pub(crate) fn has_client_side_fields(object: &Value) -> bool {
    object["metadata"]["managedFields"]
        .as_array()
        .is_some_and(|entries| entries.iter().any(is_client_side))
}

/// The managedFields after the take-over, or `None` when no client-side manager owns anything.
/// The client-side entries are merged into `manager`'s `Apply` entry (made where the first
/// client-side entry was, when there is none).
pub(crate) fn taken_over(object: &Value, manager: &str) -> Option<Vec<Value>> {
    let entries = object["metadata"]["managedFields"].as_array()?;
    if !entries.iter().any(is_client_side) {
        return None;
    }
    let is_ours = |e: &Value| {
        e["manager"] == manager
            && e["operation"] == "Apply"
            && e.get("subresource").is_none_or(|s| s.as_str() == Some(""))
    };
    let mut fields = entries
        .iter()
        .find(|e| is_ours(e))
        .map(|e| e["fieldsV1"].clone())
        .unwrap_or_else(|| Value::Object(Map::new()));
    let mut template = None;
    for entry in entries.iter().filter(|e| is_client_side(e)) {
        union(&mut fields, &entry["fieldsV1"]);
        template.get_or_insert_with(|| entry.clone());
    }
    let mut out = Vec::new();
    let mut placed = false;
    for entry in entries {
        if is_ours(entry) || is_client_side(entry) {
            if !placed {
                let mut ours = entries
                    .iter()
                    .find(|e| is_ours(e))
                    .or(template.as_ref())
                    .cloned()
                    .expect("a client-side entry exists");
                ours["manager"] = Value::from(manager);
                ours["operation"] = Value::from("Apply");
                ours["fieldsType"] = Value::from("FieldsV1");
                ours["fieldsV1"] = fields.clone();
                out.push(ours);
                placed = true;
            }
        } else {
            out.push(entry.clone());
        }
    }
    Some(out)
}

/// Adds every field of the field set `more` to `into` (field sets are nested mappings).
fn union(into: &mut Value, more: &Value) {
    let (Some(into), Some(more)) = (into.as_object_mut(), more.as_object()) else {
        return;
    };
    for (key, value) in more {
        match into.get_mut(key) {
            Some(existing) => union(existing, value),
            None => {
                into.insert(key.clone(), value.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(manager: &str, operation: &str, fields: Value) -> Value {
        json!({"manager": manager, "operation": operation, "apiVersion": "v1",
               "time": "2026-01-01T00:00:00Z", "fieldsType": "FieldsV1", "fieldsV1": fields})
    }

    #[test]
    fn client_side_entries_become_one_apply_entry_of_ours() {
        let object = json!({"metadata": {"managedFields": [
            entry("kubectl-client-side-apply", "Update", json!({"f:data": {".": {}, "f:a": {}, "f:b": {}}})),
            entry("kube-controller-manager", "Update", json!({"f:status": {}})),
            entry("kubectl-hooks", "Apply", json!({"f:data": {"f:a": {}}, "f:metadata": {}})),
            entry("argocd-controller", "Update", json!({"f:data": {"f:c": {}}})),
        ]}});
        assert!(has_client_side_fields(&object));
        let out = taken_over(&object, "kubectl-hooks").unwrap();
        assert_eq!(out.len(), 2);
        assert_eq!(out[0]["manager"], "kubectl-hooks");
        assert_eq!(out[0]["operation"], "Apply");
        assert_eq!(
            out[0]["fieldsV1"],
            json!({"f:data": {".": {}, "f:a": {}, "f:b": {}, "f:c": {}}, "f:metadata": {}})
        );
        assert_eq!(out[1]["manager"], "kube-controller-manager");
    }

    #[test]
    fn without_an_entry_of_ours_the_client_side_one_is_renamed() {
        let object = json!({"metadata": {"managedFields": [
            entry("kubectl-client-side-apply", "Update", json!({"f:data": {"f:b": {}}})),
        ]}});
        let out = taken_over(&object, "kubectl-hooks").unwrap();
        assert_eq!(
            out,
            [entry(
                "kubectl-hooks",
                "Apply",
                json!({"f:data": {"f:b": {}}})
            )]
        );
    }

    #[test]
    fn other_updates_and_status_writes_are_left_alone() {
        let mut status = entry("argocd-controller", "Update", json!({"f:status": {}}));
        status["subresource"] = json!("status");
        let object = json!({"metadata": {"managedFields": [
            entry("kubectl-edit", "Update", json!({"f:data": {}})),
            entry("kubectl-client-side-apply", "Apply", json!({"f:data": {}})),
            status,
        ]}});
        assert!(!has_client_side_fields(&object));
        assert_eq!(taken_over(&object, "kubectl-hooks"), None);
        assert_eq!(taken_over(&json!({"metadata": {}}), "kubectl-hooks"), None);
    }
}
