//! Splitting a YAML stream into its documents at `---` lines, as kubectl does, so one broken
//! document does not hide the problems of the others and each keeps its line offset. A JSON
//! stream of several objects one after the other (`{...}{...}` or one per line) is split into
//! those objects, as kubectl's YAML-or-JSON decoder reads it.

pub struct Chunk<'a> {
    pub text: &'a str,
    /// Number of lines in the file before this chunk.
    pub first_line: u32,
}

fn is_separator(line: &str) -> bool {
    let line = line.trim_end_matches(['\r', '\n']);
    line.strip_prefix("---")
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t']))
}

pub fn documents(text: &str) -> impl Iterator<Item = Chunk<'_>> {
    if let Some(objects) = json_objects(text) {
        return objects.into_iter();
    }
    let mut chunks = Vec::new();
    let mut start = 0usize;
    let mut start_line = 0u32;
    let mut offset = 0usize;
    for (line_no, line) in (0u32..).zip(text.split_inclusive('\n')) {
        if is_separator(line) && offset > start {
            chunks.push(Chunk {
                text: &text[start..offset],
                first_line: start_line,
            });
            start = offset;
            start_line = line_no;
        }
        offset += line.len();
    }
    if start < text.len() {
        chunks.push(Chunk {
            text: &text[start..],
            first_line: start_line,
        });
    }
    chunks.into_iter()
}

/// The objects of a stream of concatenated JSON objects, or None when the text is not one (it
/// does not start with `{`, holds a single value, or has anything but whitespace between its
/// objects: then it is read as YAML, which covers a single JSON document).
fn json_objects(text: &str) -> Option<Vec<Chunk<'_>>> {
    if !text.trim_start().starts_with('{') {
        return None;
    }
    let mut chunks = Vec::new();
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    let (mut start, mut line, mut start_line) = (None, 0u32, 0u32);
    for (i, c) in text.char_indices() {
        if c == '\n' {
            line += 1;
        }
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' if depth > 0 => in_string = true,
            '{' | '[' => {
                if depth == 0 {
                    if c == '[' {
                        return None;
                    }
                    start = Some(i);
                    start_line = line;
                }
                depth += 1;
            }
            '}' | ']' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    chunks.push(Chunk {
                        text: &text[start.take()?..=i],
                        first_line: start_line,
                    });
                }
            }
            c if depth == 0 && !c.is_whitespace() => return None,
            _ => {}
        }
    }
    (depth == 0 && chunks.len() > 1).then_some(chunks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_separator_lines_only() {
        let text = "a: 1\n---\nb: 2\n--- # c\nc: |\n  ---x\n---x: 1\n";
        let chunks: Vec<_> = documents(text).collect();
        assert_eq!(chunks.len(), 3);
        assert_eq!(chunks[0].first_line, 0);
        assert_eq!(chunks[1].first_line, 1);
        assert_eq!(chunks[1].text, "---\nb: 2\n");
        assert_eq!(chunks[2].first_line, 3);
    }

    #[test]
    fn concatenated_json_objects_are_split() {
        let text = "{\"kind\": \"A\", \"s\": \"}{\\\"\"}\n{\"kind\": \"B\"}{\"kind\": \"C\"}\n";
        let chunks: Vec<_> = documents(text).collect();
        let texts: Vec<&str> = chunks.iter().map(|c| c.text).collect();
        assert_eq!(
            texts,
            [
                "{\"kind\": \"A\", \"s\": \"}{\\\"\"}",
                "{\"kind\": \"B\"}",
                "{\"kind\": \"C\"}"
            ]
        );
        assert_eq!(chunks[1].first_line, 1);
        // One object, or YAML that merely starts with a flow mapping: read as before.
        assert_eq!(documents("{\"a\": 1}\n").count(), 1);
        assert_eq!(documents("{a: 1}\n---\n{b: 2}\n").count(), 2);
    }
}
