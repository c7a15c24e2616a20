//! A YAML/JSON document as a tree whose every value and key remembers its line and column,
//! so diagnostics can point at the exact place in the user's file.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;
use std::fmt;

/// A position in a file: 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Pos {
    pub line: u32,
    pub col: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub pos: Pos,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    pub name: String,
    pub pos: Pos,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    Seq(Vec<Node>),
    Map(Vec<(Key, Node)>),
}

impl Node {
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&[(Key, Node)]> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(s) => Some(s),
            _ => None,
        }
    }

    /// The entry for `key` in a mapping (the last one wins, as in JSON decoding).
    pub fn entry(&self, key: &str) -> Option<(&Key, &Node)> {
        self.as_map()?
            .iter()
            .rev()
            .find(|(k, _)| k.name == key)
            .map(|(k, v)| (k, v))
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|(_, v)| v)
    }

    /// Follows a path of mapping keys.
    pub fn path(&self, keys: &[&str]) -> Option<&Node> {
        keys.iter().try_fold(self, |node, key| node.get(key))
    }

    /// A word for the kind of value, for messages: "a string", "a number", ...
    pub fn type_name(&self) -> &'static str {
        match self.value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    /// The largest line number anywhere in this node.
    pub fn last_line(&self) -> u32 {
        match &self.value {
            Value::Seq(items) => items.iter().map(Node::last_line).max().unwrap_or(0),
            Value::Map(entries) => entries
                .iter()
                .map(|(k, v)| k.pos.line.max(v.last_line()))
                .max()
                .unwrap_or(0),
            _ => 0,
        }
        .max(self.pos.line)
    }

    /// Shifts every position down by `lines`: documents are parsed one by one and their
    /// positions made relative to the whole file afterwards.
    pub fn shift_lines(&mut self, lines: u32) {
        self.pos.line += lines;
        match &mut self.value {
            Value::Seq(items) => items.iter_mut().for_each(|n| n.shift_lines(lines)),
            Value::Map(entries) => entries.iter_mut().for_each(|(k, v)| {
                k.pos.line += lines;
                v.shift_lines(lines);
            }),
            _ => {}
        }
    }

    /// Replaces every line number by `map(line)`: for text whose lines were moved (a
    /// rendered template's lines, told in the template's own).
    pub fn map_lines(&mut self, map: &dyn Fn(u32) -> u32) {
        self.pos.line = map(self.pos.line);
        match &mut self.value {
            Value::Seq(items) => items.iter_mut().for_each(|n| n.map_lines(map)),
            Value::Map(entries) => entries.iter_mut().for_each(|(k, v)| {
                k.pos.line = map(k.pos.line);
                v.map_lines(map);
            }),
            _ => {}
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        match &self.value {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Number(n) => serde_json::Value::Number(n.clone()),
            Value::String(s) => serde_json::Value::String(s.clone()),
            Value::Seq(items) => {
                serde_json::Value::Array(items.iter().map(Node::to_json).collect())
            }
            Value::Map(entries) => serde_json::Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.name.clone(), v.to_json()))
                    .collect(),
            ),
        }
    }
}

fn pos_of<T>(spanned: &Spanned<T>) -> Pos {
    Pos {
        line: spanned.referenced.line() as u32,
        col: spanned.referenced.column() as u32,
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<Value>::deserialize(deserializer)?;
        let pos = pos_of(&spanned);
        Ok(Node {
            value: spanned.value,
            pos,
        })
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

/// Map keys: Kubernetes objects only have string keys, but YAML allows `1: x` or `true: x`;
/// those are kept as their text so the object can still be reported on.
struct KeyText(String);

impl<'de> Deserialize<'de> for KeyText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::String(s) => Ok(KeyText(s)),
            Value::Number(n) => Ok(KeyText(n.to_string())),
            Value::Bool(b) => Ok(KeyText(b.to_string())),
            Value::Null => Ok(KeyText("null".to_string())),
            _ => Err(de::Error::custom("a mapping key must be a plain value")),
        }
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Value, E> {
        i64::try_from(v)
            .map(|v| Value::Number(v.into()))
            .or_else(|_| u64::try_from(v).map(|v| Value::Number(v.into())))
            .map_err(|_| E::custom("integer out of range"))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
        u64::try_from(v)
            .map(|v| Value::Number(v.into()))
            .map_err(|_| E::custom("integer out of range"))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        serde_json::Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| {
                E::custom("a number that is not finite (.nan or .inf) cannot be sent to Kubernetes")
            })
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Value, E> {
        String::from_utf8(v.to_vec())
            .map(Value::String)
            .map_err(|_| E::custom("binary values are not supported"))
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(Value::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0).min(1024));
        while let Some(key) = map.next_key::<Spanned<KeyText>>()? {
            let pos = pos_of(&key);
            let value = map.next_value::<Node>()?;
            entries.push((
                Key {
                    name: key.value.0,
                    pos,
                },
                value,
            ));
        }
        Ok(Value::Map(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_positions_of_keys_and_values() {
        let yaml = "a: 1\nb:\n  c: \"x\"\n  d: [1, 2]\n";
        let node: Node = serde_saphyr::from_str(yaml).unwrap();
        let (key, c) = node.get("b").unwrap().entry("c").unwrap();
        assert_eq!(key.pos, Pos { line: 3, col: 3 });
        assert_eq!(c.as_str(), Some("x"));
        assert_eq!(c.pos.line, 3);
        assert_eq!(node.get("a").unwrap().type_name(), "a number");
        assert_eq!(node.last_line(), 4);
    }

    #[test]
    fn quoted_numbers_stay_strings() {
        let node: Node = serde_saphyr::from_str("w: \"1\"\nx: 1\ny: 007\n").unwrap();
        assert_eq!(node.get("w").unwrap().as_str(), Some("1"));
        assert_eq!(node.get("x").unwrap().type_name(), "a number");
    }
}
