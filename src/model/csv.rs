//! The comma-list format Argo CD uses for hook, delete-policy and sync-options annotations
//! (gitops-engine's `GetAnnotationCSVs`): split on `,`, trim, drop empties, de-duplicate keeping the first occurrence.

pub fn items(value: Option<&str>) -> impl Iterator<Item = &str> {
    let mut seen: Vec<&str> = Vec::new();
    value
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .filter(move |s| {
            if seen.contains(s) {
                false
            } else {
                seen.push(s);
                true
            }
        })
}

#[cfg(test)]
mod tests {
    use super::items;

    #[test]
    fn csv_like_argo() {
        fn got(v: Option<&str>) -> Vec<&str> {
            items(v).collect()
        }
        assert!(got(None).is_empty());
        assert!(got(Some("")).is_empty());
        assert_eq!(got(Some("bar")), ["bar"]);
        assert_eq!(got(Some("bar,bar")), ["bar"]);
        assert_eq!(got(Some("bar,baz")), ["bar", "baz"]);
        assert_eq!(got(Some("bar ")), ["bar"]);
        assert_eq!(got(Some(" a , ,b,a")), ["a", "b"]);
    }
}
