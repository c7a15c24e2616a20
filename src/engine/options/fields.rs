//! `Validate=false`: finding the unknown fields a server names in its refusal, and taking them
//! out of the object. Servers since 1.25 drop them themselves (`fieldValidation=Ignore`);
//! older ones (1.20 among them) refuse a server-side apply with an unknown field outright, so
//! the fields they name are removed and the rest is applied, with a warning naming each.

use serde_json::Value;

/// The paths of the unknown fields a refusal names, as the server wrote them:
/// `.spec.template.spec.containers[name="c"].bogus` (server-side apply: "field not declared
/// in schema") or `spec.bogus` (strict decoding: `unknown field "spec.bogus"`).
pub(crate) fn unknown_fields(message: &str) -> Vec<String> {
    const NOT_DECLARED: &str = ": field not declared in schema";
    const UNKNOWN: &str = "unknown field \"";
    let mut out = Vec::new();
    for line in message.lines() {
        let mut rest = line;
        while let Some(at) = rest.find(NOT_DECLARED) {
            let before = &rest[..at];
            let start = before.rfind(": ").map_or(0, |i| i + 2);
            out.push(before[start..].trim().to_owned());
            rest = &rest[at + NOT_DECLARED.len()..];
        }
        let mut rest = line;
        while let Some(at) = rest.find(UNKNOWN) {
            rest = &rest[at + UNKNOWN.len()..];
            let Some(end) = rest.find('"') else { break };
            out.push(rest[..end].to_owned());
            rest = &rest[end..];
        }
    }
    out.retain(|p| !p.is_empty());
    out.dedup();
    out
}

/// One step of a field path.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Field(String),
    Index(usize),
    /// A list element picked by its keys: `[name="c"]`, `[containerPort=80,protocol="TCP"]`.
    Keys(Vec<(String, Value)>),
}

fn parse(path: &str) -> Option<Vec<Step>> {
    let mut steps = Vec::new();
    let chars: Vec<char> = path.trim_start_matches('.').chars().collect();
    let mut i = 0;
    let mut field = String::new();
    while i < chars.len() {
        match chars[i] {
            '.' => {
                if !field.is_empty() {
                    steps.push(Step::Field(std::mem::take(&mut field)));
                }
                i += 1;
            }
            '[' => {
                if !field.is_empty() {
                    steps.push(Step::Field(std::mem::take(&mut field)));
                }
                // Up to the closing bracket outside quotes.
                let mut j = i + 1;
                let mut quoted = false;
                while j < chars.len() && (quoted || chars[j] != ']') {
                    if chars[j] == '"' && chars[j - 1] != '\\' {
                        quoted = !quoted;
                    }
                    j += 1;
                }
                let inner: String = chars.get(i + 1..j)?.iter().collect();
                steps.push(selector(&inner)?);
                i = j + 1;
            }
            c => {
                field.push(c);
                i += 1;
            }
        }
    }
    if !field.is_empty() {
        steps.push(Step::Field(field));
    }
    Some(steps)
}

fn selector(inner: &str) -> Option<Step> {
    if let Ok(index) = inner.parse() {
        return Some(Step::Index(index));
    }
    let mut keys = Vec::new();
    // `k="v",k2=80`: split at commas outside quotes.
    let mut quoted = false;
    let mut start = 0;
    let bytes = inner.as_bytes();
    let mut parts = Vec::new();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'"' && (i == 0 || bytes[i - 1] != b'\\') {
            quoted = !quoted;
        } else if b == b',' && !quoted {
            parts.push(&inner[start..i]);
            start = i + 1;
        }
    }
    parts.push(&inner[start..]);
    for part in parts {
        let (key, value) = part.split_once('=')?;
        if key.is_empty() {
            return None; // a set element (`[="x"]`) has no fields to drop
        }
        keys.push((key.to_owned(), serde_json::from_str(value).ok()?));
    }
    Some(Step::Keys(keys))
}

/// Removes the field at `path` (as [`unknown_fields`] returns it) from `object`; false when
/// the path does not lead to a field of a mapping.
pub(crate) fn remove(object: &mut Value, path: &str) -> bool {
    let Some(mut steps) = parse(path) else {
        return false;
    };
    let Some(Step::Field(last)) = steps.pop() else {
        return false;
    };
    let mut at = object;
    for step in &steps {
        let next = match (step, at) {
            (Step::Field(name), Value::Object(map)) => map.get_mut(name),
            (Step::Index(i), Value::Array(items)) => items.get_mut(*i),
            (Step::Keys(keys), Value::Array(items)) => items
                .iter_mut()
                .find(|item| keys.iter().all(|(k, v)| item.get(k) == Some(v))),
            _ => None,
        };
        match next {
            Some(value) => at = value,
            None => return false,
        }
    }
    at.as_object_mut()
        .is_some_and(|map| map.remove(&last).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_from_a_1_20_server_side_apply_refusal() {
        let one = "apply configmaps \"p\": failed to create typed patch object: .extra: field not declared in schema (500 InternalError)";
        assert_eq!(unknown_fields(one), [".extra"]);
        // Servers since 1.25, with fieldValidation=Strict, name the object first.
        let named = "failed to create typed patch object (ns/api; apps/v1, Kind=Deployment): .spec.foo: field not declared in schema";
        assert_eq!(unknown_fields(named), [".spec.foo"]);
        let many = "failed to create typed patch object: errors:\n  .spec.template.spec.containers[name=\"c\"].bogusField: field not declared in schema\n  .spec.template.spec.notAField: field not declared in schema";
        assert_eq!(
            unknown_fields(many),
            [
                ".spec.template.spec.containers[name=\"c\"].bogusField",
                ".spec.template.spec.notAField"
            ]
        );
    }

    #[test]
    fn names_from_a_strict_decoding_refusal() {
        let message = "strict decoding error: unknown field \"spec.foo\", unknown field \"spec.template.spec.containers[0].bar\"";
        assert_eq!(
            unknown_fields(message),
            ["spec.foo", "spec.template.spec.containers[0].bar"]
        );
        assert!(unknown_fields("field is immutable").is_empty());
    }

    #[test]
    fn removes_fields_inside_lists_picked_by_key_or_index() {
        let mut object = json!({
            "extra": 1,
            "spec": {"ports": [{"port": 80, "protocol": "TCP", "x": 1}, {"port": 81, "protocol": "TCP", "x": 2}],
                     "containers": [{"name": "a"}, {"name": "c", "bogus": true}]}
        });
        assert!(remove(&mut object, ".extra"));
        assert!(remove(&mut object, ".spec.containers[name=\"c\"].bogus"));
        assert!(remove(
            &mut object,
            ".spec.ports[port=81,protocol=\"TCP\"].x"
        ));
        assert!(remove(&mut object, "spec.ports[0].x"));
        assert_eq!(
            object,
            json!({"spec": {"ports": [{"port": 80, "protocol": "TCP"}, {"port": 81, "protocol": "TCP"}],
                            "containers": [{"name": "a"}, {"name": "c"}]}})
        );
        assert!(!remove(&mut object, ".spec.missing"));
        assert!(!remove(&mut object, ".spec.containers[name=\"z\"].bogus"));
        assert!(!remove(&mut object, ".spec.containers[=\"a\"].x"));
    }
}
