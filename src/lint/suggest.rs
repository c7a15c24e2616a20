//! "Did you mean": the known value closest to what was written.

/// Lower case, without `-`, `_`, `.` and spaces: `pre-sync`, `Pre_Sync` and `presync` are alike.
fn normalize(s: &str) -> String {
    s.chars()
        .filter(|c| !matches!(c, '-' | '_' | ' ' | '.'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// The candidate closest to `value`: the same ignoring case and separators, else the most
/// similar one above a threshold.
pub fn closest<'a>(value: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let norm = normalize(value);
    if norm.is_empty() {
        return None;
    }
    if let Some(c) = candidates.iter().find(|c| normalize(c) == norm) {
        return Some(c);
    }
    candidates
        .iter()
        .map(|c| (c, strsim::jaro_winkler(&norm, &normalize(c))))
        .filter(|(_, score)| *score >= 0.85)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(c, _)| *c)
}

/// Similarity of two annotation key names (the part after the prefix), 0..1.
pub fn key_similarity(a: &str, b: &str) -> f64 {
    let (a, b) = (normalize(a), normalize(b));
    if a == b {
        return 1.0;
    }
    strsim::normalized_damerau_levenshtein(&a, &b)
}

/// `"a"`, `"a" or "b"`, `"a", "b" or "c"`.
pub fn quoted_list(items: &[&str], last_word: &str) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("{i:?}")).collect();
    match quoted.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} {last_word} {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_values() {
        let hooks = ["PreSync", "Sync", "PostSync", "SyncFail", "Skip"];
        assert_eq!(closest("presync", &hooks), Some("PreSync"));
        assert_eq!(closest("pre-sync", &hooks), Some("PreSync"));
        assert_eq!(closest("PostSnyc", &hooks), Some("PostSync"));
        assert_eq!(closest("SyncFailed", &hooks), Some("SyncFail"));
        assert_eq!(closest("Garbage", &hooks), None);
        assert_eq!(closest("", &hooks), None);
    }

    #[test]
    fn key_names() {
        assert!(key_similarity("hook-deletion-policy", "hook-delete-policy") > 0.8);
        assert!(key_similarity("sync_wave", "sync-wave") == 1.0);
        assert!(key_similarity("hook-weights", "hook-weight") > 0.9);
        assert!(key_similarity("instance", "hook") < 0.5);
    }

    #[test]
    fn lists() {
        assert_eq!(quoted_list(&["a"], "or"), "\"a\"");
        assert_eq!(quoted_list(&["a", "b", "c"], "or"), "\"a\", \"b\" or \"c\"");
    }
}
