//! Keeping Secret values out of the text snippet.
//!
//! `-o text` quotes the source line of a finding. When that line belongs to a Secret, or sits
//! under a `data` or `stringData` key, its values are replaced by `*`, one per character, so
//! the line keeps its shape and the marker still points at the same column. Keys stay readable:
//! `kubectl describe secret` shows them too. The document's kind is found from the text, not
//! from a parsed object, because the finding may be a parse error.

/// One file's lines, and what masking has learnt about its documents: split and scanned once
/// however many findings the file has (a lint of 100,000 documents quotes 60,000 lines).
pub(super) struct SourceLines<'a> {
    lines: Vec<&'a str>,
    /// Indices of the `---` and `...` lines, ascending: document `d` runs from after marker
    /// `d - 1` (or the start) to before marker `d` (or the end).
    markers: Vec<usize>,
    /// Whether document `d` declares `kind: Secret`, once a finding in it asked.
    is_secret: Vec<Option<bool>>,
}

impl<'a> SourceLines<'a> {
    pub(super) fn new(text: &'a str) -> SourceLines<'a> {
        let lines: Vec<&str> = text.split('\n').collect();
        let markers: Vec<usize> = lines
            .iter()
            .enumerate()
            .filter(|(_, l)| is_marker(l))
            .map(|(i, _)| i)
            .collect();
        let is_secret = vec![None; markers.len() + 1];
        SourceLines {
            lines,
            markers,
            is_secret,
        }
    }

    /// Line `number` (1-based) as written, without a trailing `\r`.
    pub(super) fn line(&self, number: u32) -> Option<&'a str> {
        let l = self.lines.get((number as usize).checked_sub(1)?)?;
        Some(l.strip_suffix('\r').unwrap_or(l))
    }

    /// Line `number` as it may be printed: as written, or with its values masked when its
    /// document is a Secret or the line is under `data`/`stringData`.
    pub(super) fn printable(&mut self, number: u32) -> Option<String> {
        let line = self.line(number)?;
        let index = number as usize - 1;
        let doc = self.markers.partition_point(|&m| m <= index);
        let start = if doc == 0 {
            0
        } else {
            self.markers[doc - 1] + 1
        }
        .min(index);
        let end = self.markers.get(doc).copied().unwrap_or(self.lines.len());
        let lines = &self.lines;
        let secret = *self.is_secret[doc]
            .get_or_insert_with(|| lines[start..end].iter().any(|l| declares_secret_kind(l)));
        Some(if secret || under_data(&self.lines[start..=index]) {
            mask_values(line)
        } else {
            line.to_owned()
        })
    }
}

fn is_marker(line: &str) -> bool {
    line.starts_with("---") || line.starts_with("...")
}

/// `kind: Secret`, in YAML or JSON, quoted or not, anywhere on the line. Matching too much only
/// masks more.
fn declares_secret_kind(line: &str) -> bool {
    let squeezed: String = line
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '"' && *c != '\'')
        .collect();
    squeezed.match_indices("kind:Secret").any(|(at, m)| {
        let before = squeezed[..at].chars().next_back();
        let after = squeezed[at + m.len()..].chars().next();
        before.is_none_or(|c| matches!(c, '{' | ',' | '-'))
            && after.is_none_or(|c| matches!(c, ',' | '}' | '#'))
    })
}

/// True when the last line of `lines` is a `data`/`stringData` key, or nested under one by
/// indentation.
fn under_data(lines: &[&str]) -> bool {
    let Some((last, before)) = lines.split_last() else {
        return false;
    };
    if is_data_key(last) {
        return true;
    }
    let mut indent = indentation(last);
    if last.trim().is_empty() {
        return false;
    }
    for line in before.iter().rev() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let own = indentation(line);
        if own < indent {
            if is_data_key(line) {
                return true;
            }
            indent = own;
            if indent == 0 {
                break;
            }
        }
    }
    false
}

fn indentation(line: &str) -> usize {
    line.chars().take_while(|c| *c == ' ').count()
}

/// `data:` or `stringData:` (possibly a list item, possibly quoted) starting the line.
fn is_data_key(line: &str) -> bool {
    let rest = line.trim_start().trim_start_matches("- ").trim_start();
    ["data", "stringData"].iter().any(|key| {
        [
            format!("{key}:"),
            format!("\"{key}\":"),
            format!("'{key}':"),
        ]
        .iter()
        .any(|k| rest.starts_with(k.as_str()))
    })
}

/// Every value on the line replaced by `*`s of the same width; keys, punctuation, indentation
/// and comments kept. A line with no key at all (a continuation of a block scalar or of a
/// multi-line string, a list item) is masked whole after its indentation.
pub(super) fn mask_values(line: &str) -> String {
    let chars: Vec<char> = line.chars().collect();
    let mut out: Vec<char> = chars.clone();
    let mut i = chars.iter().take_while(|c| c.is_whitespace()).count();
    // Containers opened on this line: true for a mapping (keys expected), false for a sequence.
    let mut stack: Vec<bool> = Vec::new();
    let mut expect_value = !has_key(&chars[i..]);
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() || c == ',' {
            if c == ',' {
                expect_value = stack.last().is_some_and(|mapping| !mapping);
            }
            i += 1;
            continue;
        }
        if c == '-' && chars.get(i + 1).is_none_or(|n| *n == ' ') && stack.is_empty() {
            expect_value = !has_key(&chars[i + 1..]);
            i += 1;
            continue;
        }
        if c == '#' && (i == 0 || chars[i - 1].is_whitespace()) {
            break;
        }
        match c {
            '{' | '[' => {
                stack.push(c == '{');
                expect_value = c == '[';
                i += 1;
            }
            '}' | ']' => {
                stack.pop();
                expect_value = false;
                i += 1;
            }
            ':' => {
                expect_value = true;
                i += 1;
            }
            _ if expect_value => {
                i = mask_scalar(&chars, i, &mut out, !stack.is_empty());
                expect_value = false;
            }
            _ => i = skip_key(&chars, i),
        }
    }
    out.into_iter().collect()
}

/// Whether `rest` holds a `key:` (a colon followed by a space or the end, or a JSON `":`)
/// outside quotes, before any flow container.
fn has_key(rest: &[char]) -> bool {
    let mut quote: Option<char> = None;
    for (i, c) in rest.iter().enumerate() {
        match quote {
            Some(q) if *c == q => quote = None,
            Some(_) => {}
            None => match c {
                '"' | '\'' => quote = Some(*c),
                '{' | '[' => return false,
                ':' => {
                    return rest
                        .get(i + 1)
                        .is_none_or(|n| n.is_whitespace() || *n == '{');
                }
                _ => {}
            },
        }
    }
    false
}

/// Past a key starting at `i`: a quoted key to its closing quote, else up to the colon.
fn skip_key(chars: &[char], i: usize) -> usize {
    if let q @ ('"' | '\'') = chars[i] {
        return chars[i + 1..]
            .iter()
            .position(|c| *c == q)
            .map_or(chars.len(), |end| i + end + 2);
    }
    let mut j = i;
    while j < chars.len() {
        let next_space = chars.get(j + 1).is_none_or(|n| n.is_whitespace());
        if chars[j] == ':' && next_space {
            break;
        }
        if matches!(chars[j], ',' | '}' | ']' | '{' | '[') {
            break;
        }
        j += 1;
    }
    j.max(i + 1)
}

/// Mask the scalar starting at `i`; returns where it ends. A quoted scalar keeps its quotes
/// (an unclosed one is masked to the end of the line); a plain one ends at the end of the line
/// or, inside a flow container, at `,`, `}` or `]`.
fn mask_scalar(chars: &[char], i: usize, out: &mut [char], in_flow: bool) -> usize {
    let mut j = i;
    if let q @ ('"' | '\'') = chars[i] {
        j += 1;
        while j < chars.len() && chars[j] != q {
            if chars[j] == '\\' && q == '"' && j + 1 < chars.len() {
                out[j] = '*';
                j += 1;
            }
            out[j] = '*';
            j += 1;
        }
        return (j + 1).min(chars.len());
    }
    while j < chars.len() {
        let c = chars[j];
        if in_flow && matches!(c, ',' | '}' | ']') {
            break;
        }
        if c == '#' && chars[j - 1].is_whitespace() {
            break;
        }
        if !c.is_whitespace() {
            out[j] = '*';
        }
        j += 1;
    }
    j
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_values_are_masked_keys_kept() {
        assert_eq!(
            mask_values("  password: \"hunter2-x"),
            "  password: \"*********"
        );
        assert_eq!(mask_values("  pin: 1234 # a"), "  pin: **** # a");
        assert_eq!(mask_values("    hunter2"), "    *******");
        assert_eq!(mask_values("  - item"), "  - ****");
        assert_eq!(mask_values("data:"), "data:");
    }

    #[test]
    fn flow_and_json_values_are_masked() {
        let line =
            r#"{"kind": "Secret", "metadata": {"name": "db"}, "stringData": {"pin": "9041"}}"#;
        let masked = mask_values(line);
        assert_eq!(masked.chars().count(), line.chars().count());
        assert!(
            !masked.contains("9041") && !masked.contains("\"db\""),
            "{masked}"
        );
        assert!(
            masked.contains("\"stringData\"") && masked.contains("\"pin\""),
            "{masked}"
        );
        assert_eq!(
            mask_values("data: {a: b, c: [d, e]}"),
            "data: {a: *, c: [*, *]}"
        );
    }

    #[test]
    fn only_secrets_and_data_lines_are_masked() {
        let text = "kind: ConfigMap\ndata:\n  key: value\n  nested:\n    deep: v\nother: x\n---\nkind: Secret\nfoo: bar\n";
        let mut source = SourceLines::new(text);
        let mut printable = |n: u32| source.printable(n).unwrap();
        assert_eq!(printable(1), "kind: ConfigMap");
        assert_eq!(printable(3), "  key: *****");
        assert_eq!(printable(5), "    deep: *");
        assert_eq!(printable(6), "other: x");
        assert_eq!(printable(9), "foo: ***");
        assert_eq!(printable(8), "kind: ******");
    }

    #[test]
    fn secret_kind_is_recognised_in_yaml_and_json() {
        assert!(declares_secret_kind("kind: Secret"));
        assert!(declares_secret_kind("kind: \"Secret\" # x"));
        assert!(declares_secret_kind(
            r#"{"apiVersion":"v1","kind":"Secret","data":{}}"#
        ));
        assert!(!declares_secret_kind("kind: SecretStore"));
        assert!(!declares_secret_kind("  secretKind: Secret"));
    }
}
