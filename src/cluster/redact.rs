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
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(open) {
        let inside = &rest[start + open.len()..];
        let Some(end) = inside.find(close) else {
            break;
        };
        out.push_str(&rest[..start + open.len()]);
        out.push_str(REDACTED);
        rest = &inside[end..];
    }
    out.push_str(rest);
    out
}

/// After each `marker`, everything up to the `}` that closes the brace the marker opened.
fn balanced_after(text: &str, marker: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(marker) {
        out.push_str(&rest[..start + marker.len()]);
        let inside = &rest[start + marker.len()..];
        let mut depth = 1usize;
        let mut end = inside.len();
        for (i, c) in inside.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = i;
                        break;
                    }
                }
                _ => {}
            }
        }
        out.push_str(REDACTED);
        rest = &inside[end..];
    }
    out.push_str(rest);
    out
}

/// After each `marker`, a Go-quoted string (`"..."` with `\` escapes), or else the text up to
/// the next `: ` or `, `.
fn quoted_after(text: &str, marker: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(marker) {
        out.push_str(&rest[..start + marker.len()]);
        let value = &rest[start + marker.len()..];
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
        out.push_str(REDACTED);
        rest = &value[end..];
    }
    out.push_str(rest);
    out
}

/// After each `marker`, the text up to the next `,` or space.
fn word_after(text: &str, marker: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(marker) {
        out.push_str(&rest[..start + marker.len()]);
        let value = &rest[start + marker.len()..];
        let end = value.find([',', ' ']).unwrap_or(value.len());
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
    fn structured_merge_diff_values_are_removed() {
        let m = secret_message(
            "failed to create typed patch object: .stringData.DB_PIN: expected string, got &value.valueUnstructured{Value:90417733}",
        );
        assert_eq!(
            m,
            "failed to create typed patch object: .stringData.DB_PIN: expected string, got &value.valueUnstructured{Value:<redacted>}"
        );
        let nested = secret_message(
            r#".data.nested: expected string, got &value.valueUnstructured{Value:map[string]interface {}{"inner":"aHVudGVyMg=="}}"#,
        );
        assert!(!nested.contains("aHVudGVyMg"), "{nested}");
        assert!(
            nested.starts_with(".data.nested: expected string"),
            "{nested}"
        );
    }

    #[test]
    fn decoder_context_is_removed() {
        let m = secret_message(
            r#"Secret in version "v1" cannot be handled as a Secret: v1.Secret.StringData: ReadString: expects " or n, but found 9, error found in #10 byte of ...|a":{"pw":90417733}}|..., bigger context ...|3a"},"namespace":"x"},"stringData":{"pw":90417733}}|..."#,
        );
        assert!(!m.contains("9041") && !m.contains("found 9"), "{m}");
        assert!(m.contains("v1.Secret.StringData: ReadString"), "{m}");
        assert!(
            m.contains("...|<redacted>|..., bigger context ...|<redacted>|..."),
            "{m}"
        );
    }

    #[test]
    fn invalid_values_are_removed_fields_kept() {
        let m = secret_message(
            r#"Secret "s4" is invalid: data[bad key!]: Invalid value: "bad \"key!": a valid config key must consist of alphanumeric characters"#,
        );
        assert_eq!(
            m,
            r#"Secret "s4" is invalid: data[bad key!]: Invalid value: <redacted>: a valid config key must consist of alphanumeric characters"#
        );
        assert_eq!(
            secret_message("type: Invalid value: 12, other"),
            "type: Invalid value: <redacted>, other"
        );
    }
}
