//! The API server quotes the values it rejects, and for a Secret those are the secret. Its
//! messages about Secrets are passed on with every quoted value replaced by `<redacted>`;
//! field paths and keys stay, so the message still says where the problem is. Argo CD treats
//! such a leak as a security bug (GHSA-2q5c-qw9c-fp2x: "Secret data ... exposed in error
//! messages").
//!
//! The forms the API server (1.20 to current) uses:
//! - structured-merge-diff: `.stringData.PIN: expected string, got &value.valueUnstructured{Value:1234}`
//! - field validation: `data[k]: Invalid value: "v": ...`
//! - json-iterator decoding: `... but found 9, error found in #10 byte of ...|"pw":1234}|...,
//!   bigger context ...|{"data":{"pw":1234}}|...`

const REDACTED: &str = "<redacted>";

/// `message` with the values it quotes removed.
pub(crate) fn secret_message(message: &str) -> String {
    let message = between(message, "...|", "|...");
    let message = balanced_after(&message, "{Value:");
    let message = quoted_after(&message, "Invalid value: ");
    word_after(&message, "but found ")
}

/// Every `OPEN...CLOSE` span's inside replaced.
fn between(text: &str, open: &str, close: &str) -> String {
    redact_after(text, open, |inside| inside.find(close))
}

/// After each `marker`, everything up to the `}` that closes the brace the marker opened.
fn balanced_after(text: &str, marker: &str) -> String {
    redact_after(text, marker, |inside| {
        let mut depth = 1usize;
        for (i, c) in inside.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(i);
                    }
                }
                _ => {}
            }
        }
        Some(inside.len())
    })
}

/// After each `marker`, a Go-quoted string (`"..."` with `\` escapes), or else the text up to
/// the next `: ` or `, `.
fn quoted_after(text: &str, marker: &str) -> String {
    redact_after(text, marker, |value| {
        let end = if value.starts_with('"') {
            let mut escaped = false;
            value
                .char_indices()
                .skip(1)
                .find(|&(_, c)| {
                    let closes = c == '"' && !escaped;
                    escaped = c == '\\' && !escaped;
                    closes
                })
                .map_or(value.len(), |(i, _)| i + 1)
        } else {
            [": ", ", "]
                .iter()
                .filter_map(|sep| value.find(sep))
                .min()
                .unwrap_or(value.len())
        };
        Some(end)
    })
}

/// After each `marker`, the text up to the next `,` or space.
fn word_after(text: &str, marker: &str) -> String {
    redact_after(text, marker, |value| {
        Some(value.find([',', ' ']).unwrap_or(value.len()))
    })
}

/// After each `marker`, the value there replaced: the text up to where `value_end` says it
/// ends. Where it says `None` (no end), that marker and the rest are left as they are.
fn redact_after(text: &str, marker: &str, value_end: impl Fn(&str) -> Option<usize>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(marker) {
        let value = &rest[start + marker.len()..];
        let Some(end) = value_end(value) else {
            break;
        };
        out.push_str(&rest[..start + marker.len()]);
        out.push_str(REDACTED);
        rest = &value[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::secret_message;

    #[test]
    fn quoted_values_are_removed_and_field_paths_kept() {
        for (message, passed_on) in [
            // structured-merge-diff
            (
                "failed to create typed patch object: .stringData.DB_PIN: expected string, got &value.valueUnstructured{Value:90417733}",
                "failed to create typed patch object: .stringData.DB_PIN: expected string, got &value.valueUnstructured{Value:<redacted>}",
            ),
            (
                r#".data.nested: expected string, got &value.valueUnstructured{Value:map[string]interface {}{"inner":"aHVudGVyMg=="}}"#,
                ".data.nested: expected string, got &value.valueUnstructured{Value:<redacted>}",
            ),
            // json-iterator decoding, with its context
            (
                r#"Secret in version "v1" cannot be handled as a Secret: v1.Secret.StringData: ReadString: expects " or n, but found 9, error found in #10 byte of ...|a":{"pw":90417733}}|..., bigger context ...|3a"},"namespace":"x"},"stringData":{"pw":90417733}}|..."#,
                r#"Secret in version "v1" cannot be handled as a Secret: v1.Secret.StringData: ReadString: expects " or n, but found <redacted>, error found in #10 byte of ...|<redacted>|..., bigger context ...|<redacted>|..."#,
            ),
            // field validation: a quoted value (with an escaped quote), or a bare one
            (
                r#"Secret "s4" is invalid: data[bad key!]: Invalid value: "bad \"key!": a valid config key must consist of alphanumeric characters"#,
                r#"Secret "s4" is invalid: data[bad key!]: Invalid value: <redacted>: a valid config key must consist of alphanumeric characters"#,
            ),
            (
                "type: Invalid value: 12, other",
                "type: Invalid value: <redacted>, other",
            ),
        ] {
            assert_eq!(secret_message(message), passed_on, "{message}");
        }
    }
}
