//! Small rewrites that let old API servers accept what new ones accept.
//!
//! Before Kubernetes 1.20's successors fixed it, server-side apply rejected container and
//! service ports without `protocol` ("associative list with keys has an element that
//! omits key field protocol"), because `protocol` is part of the list's merge key. The
//! server defaults it to `TCP` anyway, so filling it in changes nothing for users.

use serde_json::{Map, Value};

/// Set `protocol: TCP` on every container port and Service port that lacks one, in Pods,
/// pod templates (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob,
/// ReplicationController, PodTemplate) and Services. Returns whether anything changed.
/// Objects of other kinds, or kinds with these names in other API groups, are left alone.
pub fn default_port_protocols(obj: &mut Value) -> bool {
    let group = obj
        .get("apiVersion")
        .and_then(Value::as_str)
        .map(|v| crate::manifest::split_api_version(v).0)
        .unwrap_or("")
        .to_string();
    let kind = obj
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let pod_spec_path: &[&str] = match (group.as_str(), kind.as_str()) {
        ("", "Pod") => &["spec"],
        ("", "PodTemplate") => &["template", "spec"],
        ("", "ReplicationController")
        | ("apps", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet")
        | ("batch", "Job") => &["spec", "template", "spec"],
        ("batch", "CronJob") => &["spec", "jobTemplate", "spec", "template", "spec"],
        ("", "Service") => {
            let ports = at(obj, &["spec", "ports"]);
            return ports.is_some_and(default_protocols);
        }
        _ => return false,
    };
    let Some(pod_spec) = at(obj, pod_spec_path) else {
        return false;
    };
    let mut changed = false;
    for list in ["containers", "initContainers", "ephemeralContainers"] {
        let containers = pod_spec.get_mut(list).and_then(Value::as_array_mut);
        for container in containers.into_iter().flatten() {
            if let Some(ports) = container.get_mut("ports") {
                changed |= default_protocols(ports);
            }
        }
    }
    changed
}

/// Fill in `protocol: TCP` on each port object of a list.
fn default_protocols(ports: &mut Value) -> bool {
    let mut changed = false;
    let items = ports.as_array_mut().into_iter().flatten();
    for port in items.filter_map(Value::as_object_mut) {
        if port.get("protocol").is_none_or(Value::is_null) {
            port.insert("protocol".to_string(), Value::String("TCP".to_string()));
            changed = true;
        }
    }
    changed
}

fn at<'a>(value: &'a mut Value, path: &[&str]) -> Option<&'a mut Value> {
    path.iter().try_fold(value, |v, key| {
        v.as_object_mut()
            .and_then(|m: &mut Map<String, Value>| m.get_mut(*key))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn containers_with_ports() -> Value {
        json!([{"name": "app", "ports": [
            {"containerPort": 80},
            {"containerPort": 53, "protocol": "UDP"},
            {"containerPort": 81, "protocol": null}
        ]}])
    }

    fn expected_ports() -> Value {
        json!([
            {"containerPort": 80, "protocol": "TCP"},
            {"containerPort": 53, "protocol": "UDP"},
            {"containerPort": 81, "protocol": "TCP"}
        ])
    }

    fn pod_spec() -> Value {
        json!({
            "containers": containers_with_ports(),
            "initContainers": containers_with_ports(),
            "ephemeralContainers": containers_with_ports()
        })
    }

    fn assert_pod_spec_fixed(spec: &Value) {
        for list in ["containers", "initContainers", "ephemeralContainers"] {
            assert_eq!(spec[list][0]["ports"], expected_ports(), "{list}");
        }
    }

    #[test]
    fn pod_templates_of_every_workload_kind() {
        let workload = json!({"template": {"spec": pod_spec()}});
        let mut cases = vec![
            ("v1", "Pod", json!({"spec": pod_spec()}), "/spec"),
            ("v1", "PodTemplate", workload.clone(), "/template/spec"),
            (
                "batch/v1",
                "CronJob",
                json!({"spec": {"jobTemplate": {"spec": workload}}}),
                "/spec/jobTemplate/spec/template/spec",
            ),
        ];
        // The kinds whose spec holds a pod template.
        for (api_version, kind) in [
            ("v1", "ReplicationController"),
            ("apps/v1", "Deployment"),
            ("apps/v1", "StatefulSet"),
            ("apps/v1", "DaemonSet"),
            ("apps/v1", "ReplicaSet"),
            ("batch/v1", "Job"),
        ] {
            let obj = json!({"spec": workload});
            cases.push((api_version, kind, obj, "/spec/template/spec"));
        }
        for (api_version, kind, mut obj, pod_spec_at) in cases {
            obj["apiVersion"] = json!(api_version);
            obj["kind"] = json!(kind);
            assert!(default_port_protocols(&mut obj), "{kind} unchanged");
            assert_pod_spec_fixed(obj.pointer(pod_spec_at).unwrap());
            assert!(!default_port_protocols(&mut obj), "{kind} changed twice");
        }
    }

    #[test]
    fn service_ports() {
        let mut svc = json!({"apiVersion": "v1", "kind": "Service", "spec": {"ports": [
            {"port": 80}, {"port": 53, "protocol": "UDP"}
        ]}});
        assert!(default_port_protocols(&mut svc));
        assert_eq!(
            svc["spec"]["ports"],
            json!([{"port": 80, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}])
        );
    }

    #[test]
    fn other_kinds_and_groups_are_untouched() {
        for (api_version, kind) in [
            ("v1", "ConfigMap"),
            ("example.com/v1", "Deployment"),
            ("example.com/v1", "Pod"),
        ] {
            let mut obj = json!({"apiVersion": api_version, "kind": kind, "spec": pod_spec()});
            let before = obj.clone();
            assert!(!default_port_protocols(&mut obj));
            assert_eq!(obj, before);
        }
    }

    #[test]
    fn malformed_shapes_do_not_panic() {
        for spec in [
            json!(null),
            json!("text"),
            json!({"template": 3}),
            json!({"template": {"spec": {"containers": "x"}}}),
            json!({"template": {"spec": {"containers": [3, {"ports": {"a": 1}}, {"ports": [7]}]}}}),
        ] {
            let mut obj = json!({"apiVersion": "apps/v1", "kind": "Deployment", "spec": spec});
            assert!(!default_port_protocols(&mut obj));
        }
        let mut not_object = json!([1, 2]);
        assert!(!default_port_protocols(&mut not_object));
    }
}
