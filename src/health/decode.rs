//! Strict reading of the fields a built-in check needs.
//!
//! Argo decodes Deployments, Pods, Jobs and the other typed kinds into Kubernetes' Go structs
//! before judging them. That decode has two visible effects, reproduced here:
//! - absent and `null` fields are zero values (0, "", false, no list), while pointer fields
//!   (`spec.replicas`, `rollingUpdate`, `lastState.terminated`...) can be told apart as absent;
//! - a field of the wrong JSON type is an error, so the object is `Unknown`.
//!
//! Only the fields a check reads are decoded (all of them, before any rule runs), so a wrong
//! type elsewhere in the object is not noticed, where Go would notice it.

use std::fmt;

use serde_json::Value;

/// A field whose JSON type is not the one Kubernetes defines.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: expected {expected}, found {found}")]
pub struct DecodeError {
    path: String,
    expected: &'static str,
    found: &'static str,
}

/// Name of a JSON value's type, for messages.
pub(crate) fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Where a node sits, kept as a chain of borrowed steps so the path costs nothing unless it is
/// printed in an error.
#[derive(Clone, Copy)]
enum Place<'p> {
    Root,
    Key(&'p Place<'p>, &'p str),
    Index(&'p Place<'p>, usize),
}

impl fmt::Display for Place<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::Root => Ok(()),
            Place::Key(parent, key) => write!(f, "{parent}.{key}"),
            Place::Index(parent, i) => write!(f, "{parent}[{i}]"),
        }
    }
}

/// A position in the object: the value there (`None` when absent or `null`) and its path.
#[derive(Clone, Copy)]
pub(crate) struct Node<'v, 'p> {
    value: Option<&'v Value>,
    place: Place<'p>,
}

impl<'v> Node<'v, 'static> {
    pub fn root(value: &'v Value) -> Self {
        Node {
            value: present(Some(value)),
            place: Place::Root,
        }
    }
}

fn present(value: Option<&Value>) -> Option<&Value> {
    value.filter(|v| !v.is_null())
}

impl<'v, 'p> Node<'v, 'p> {
    fn error(&self, expected: &'static str, found: &Value) -> DecodeError {
        let path = self.place.to_string();
        DecodeError {
            path: if path.is_empty() { ".".into() } else { path },
            expected,
            found: json_type(found),
        }
    }

    fn object(&self) -> Result<Option<&'v serde_json::Map<String, Value>>, DecodeError> {
        match self.value {
            None => Ok(None),
            Some(Value::Object(map)) => Ok(Some(map)),
            Some(other) => Err(self.error("object", other)),
        }
    }

    /// The member `key` of this object. Errors if this node holds something other than an object.
    pub fn field<'s>(&'s self, key: &'s str) -> Result<Node<'v, 's>, DecodeError> {
        let value = self.object()?.and_then(|map| map.get(key));
        Ok(Node {
            value: present(value),
            place: Place::Key(&self.place, key),
        })
    }

    /// Like [`Node::field`], but falls back to a case-insensitive match, the way Go's
    /// `encoding/json` matches keys (used for JSON stored inside annotations).
    pub fn field_ci<'s>(&'s self, key: &'s str) -> Result<Node<'v, 's>, DecodeError> {
        let value = self.object()?.and_then(|map| {
            map.get(key).or_else(|| {
                map.iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(key))
                    .map(|(_, v)| v)
            })
        });
        Ok(Node {
            value: present(value),
            place: Place::Key(&self.place, key),
        })
    }

    /// Whether this object has the key `key`, even with a `null` value (Go's `_, ok := m[key]`).
    pub fn has(&self, key: &str) -> Result<bool, DecodeError> {
        Ok(self.object()?.is_some_and(|map| map.contains_key(key)))
    }

    /// Whether a pointer-to-struct field is set (Go's `!= nil`).
    pub fn is_set(&self) -> Result<bool, DecodeError> {
        Ok(self.object()?.is_some())
    }

    pub fn str(&self) -> Result<&'v str, DecodeError> {
        match self.value {
            None => Ok(""),
            Some(Value::String(s)) => Ok(s),
            Some(other) => Err(self.error("string", other)),
        }
    }

    pub fn bool(&self) -> Result<bool, DecodeError> {
        match self.value {
            None => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(other) => Err(self.error("boolean", other)),
        }
    }

    /// An `int64` field (generations); absent counts as 0.
    pub fn int64(&self) -> Result<i64, DecodeError> {
        Ok(self.number("integer", i64::MIN, i64::MAX)?.unwrap_or(0))
    }

    /// An `int32` field (replica counts, exit codes); absent counts as 0.
    pub fn int32(&self) -> Result<i64, DecodeError> {
        Ok(self.opt_int32()?.unwrap_or(0))
    }

    /// A pointer-to-`int32` field: `None` when absent. Out of range is a decode error, as in Go,
    /// which also keeps the differences the checks compute far from overflow.
    pub fn opt_int32(&self) -> Result<Option<i64>, DecodeError> {
        self.number("32-bit integer", i32::MIN.into(), i32::MAX.into())
    }

    /// A number written with a zero fraction (`3.0`) is accepted as that integer; any other
    /// fraction, or a value out of range, is a type error.
    fn number(
        &self,
        expected: &'static str,
        min: i64,
        max: i64,
    ) -> Result<Option<i64>, DecodeError> {
        let Some(value) = self.value else {
            return Ok(None);
        };
        let number = value.as_i64().or_else(|| {
            value
                .as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                .map(|f| f as i64)
        });
        match number {
            Some(n) if (min..=max).contains(&n) => Ok(Some(n)),
            _ => Err(self.error(expected, value)),
        }
    }

    /// The elements of a list field; absent is an empty list.
    pub fn items(&self) -> Result<impl Iterator<Item = Node<'v, '_>>, DecodeError> {
        let list: &'v [Value] = match self.value {
            None => &[],
            Some(Value::Array(list)) => list,
            Some(other) => return Err(self.error("array", other)),
        };
        Ok(list.iter().enumerate().map(|(i, value)| Node {
            value: present(Some(value)),
            place: Place::Index(&self.place, i),
        }))
    }

    /// Check that this is a map of strings (Kubernetes labels and annotations).
    pub fn check_string_map(&self) -> Result<(), DecodeError> {
        for (key, value) in self.object()?.into_iter().flatten() {
            let entry = self.field(key)?;
            if !value.is_null() && !value.is_string() {
                return Err(entry.error("string", value));
            }
        }
        Ok(())
    }
}

/// One entry of a `status.conditions` list, as every typed kind here has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Condition<'v> {
    pub kind: &'v str,
    pub status: &'v str,
    pub reason: &'v str,
    pub message: &'v str,
}

impl<'v> Condition<'v> {
    pub fn decode(node: &Node<'v, '_>) -> Result<Self, DecodeError> {
        Ok(Condition {
            kind: node.field("type")?.str()?,
            status: node.field("status")?.str()?,
            reason: node.field("reason")?.str()?,
            message: node.field("message")?.str()?,
        })
    }

    /// `status.conditions` of an object, in list order.
    pub fn of_status(root: &Node<'v, '_>) -> Result<Vec<Self>, DecodeError> {
        Condition::list(&root.field("status")?.field("conditions")?)
    }

    /// Every condition of the list at `node`, in list order.
    pub fn list(node: &Node<'v, '_>) -> Result<Vec<Self>, DecodeError> {
        node.items()?.map(|item| Condition::decode(&item)).collect()
    }

    pub fn is_true(&self) -> bool {
        self.status == "True"
    }
}

/// The first condition of a given type, as Kubernetes' `GetCondition` helpers pick it.
pub(crate) fn first<'a, 'v>(
    conditions: &'a [Condition<'v>],
    kind: &str,
) -> Option<&'a Condition<'v>> {
    conditions.iter().find(|c| c.kind == kind)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn absent_and_null_are_zero_values() {
        let obj = json!({"spec": {"replicas": null}});
        let root = Node::root(&obj);
        let spec = root.field("spec").unwrap();
        assert_eq!(spec.field("replicas").unwrap().opt_int32().unwrap(), None);
        assert!(!spec.field("paused").unwrap().bool().unwrap());
        let status = root.field("status").unwrap();
        assert_eq!(status.field("phase").unwrap().str().unwrap(), "");
        assert_eq!(
            status.field("conditions").unwrap().items().unwrap().count(),
            0
        );
        assert!(!status.field("rollingUpdate").unwrap().is_set().unwrap());
    }

    #[test]
    fn wrong_types_name_the_path() {
        let obj = json!({"spec": {"replicas": "3"}, "status": {"conditions": [{"type": 1}]}});
        let root = Node::root(&obj);
        let spec = root.field("spec").unwrap();
        let err = spec.field("replicas").unwrap().int32().unwrap_err();
        assert_eq!(
            err.to_string(),
            ".spec.replicas: expected 32-bit integer, found string"
        );
        let status = root.field("status").unwrap();
        let err = Condition::list(&status.field("conditions").unwrap()).unwrap_err();
        assert_eq!(
            err.to_string(),
            ".status.conditions[0].type: expected string, found number"
        );
        let not_object = json!({"spec": []});
        let root = Node::root(&not_object);
        let err = root.field("spec").unwrap().field("x").err().unwrap();
        assert_eq!(err.to_string(), ".spec: expected object, found array");
    }

    #[test]
    fn integers_accept_whole_floats_in_range_only() {
        let obj = json!({"a": 3.0, "b": 2.5, "c": -1, "big": 4_294_967_296_i64});
        let root = Node::root(&obj);
        assert_eq!(root.field("a").unwrap().int32().unwrap(), 3);
        assert!(root.field("b").unwrap().int32().is_err());
        assert_eq!(root.field("c").unwrap().int32().unwrap(), -1);
        assert!(root.field("big").unwrap().int32().is_err());
        assert_eq!(root.field("big").unwrap().int64().unwrap(), 4_294_967_296);
    }

    #[test]
    fn case_insensitive_keys_prefer_exact_match() {
        let obj = json!({"Type": "A", "type": "B", "STATUS": "True"});
        let root = Node::root(&obj);
        assert_eq!(root.field_ci("type").unwrap().str().unwrap(), "B");
        assert_eq!(root.field_ci("status").unwrap().str().unwrap(), "True");
    }

    #[test]
    fn string_maps_reject_other_values() {
        let obj = json!({"metadata": {"annotations": {"a": "x", "b": 1}}});
        let root = Node::root(&obj);
        let meta = root.field("metadata").unwrap();
        let err = meta
            .field("annotations")
            .unwrap()
            .check_string_map()
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            ".metadata.annotations.b: expected string, found number"
        );
    }
}
