//! Splitting a YAML stream into its documents at `---` lines, as kubectl does, so one broken
//! document does not hide the problems of the others and each keeps its line offset.

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
}
